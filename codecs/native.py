"""Encapsulated Uncompressed Explicit VR Little Endian (1.2.840.10008.1.2.1.98): each frame's
native little-endian pixels in fragments."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo


def decode(data: Any, info: PixelInfo) -> np.ndarray:
    if len(data) < info.frame_size:
        raise PixelDataError(f"frame has {len(data)} bytes, {info.frame_size} needed")
    flat = np.frombuffer(data, info.dtype, info.rows * info.columns * info.samples).copy()
    if info.samples > 1 and info.planar:
        return np.ascontiguousarray(flat.reshape(info.samples, info.rows, info.columns)
                                    .transpose(1, 2, 0))
    return flat.reshape(info.frame_shape())


def encode(frame: Any, info: PixelInfo) -> bytes:
    if isinstance(frame, np.ndarray):
        return np.ascontiguousarray(frame, dtype=info.dtype).tobytes()
    return bytes(frame)
