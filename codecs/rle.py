"""RLE Lossless (1.2.840.10008.1.2.5) through our Cython codec, ``dcmpy._ext.rle``."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._ext.rle import RLEError, decode_frame, encode_frame
from ..dcmdata.pixels import PixelDataError, PixelInfo


def decode(data: Any, info: PixelInfo, msb_first: bool = True) -> np.ndarray:
    """One RLE frame as an array of shape (rows, columns[, samples])."""
    if info.bits_allocated == 1:
        raise PixelDataError("RLE of 1-bit pixel data is not supported")
    size = info.rows * info.columns * info.samples * info.bytes_per_sample
    # an RLE segment expands at most 64-fold (a 2-byte run gives 128 bytes): refuse a frame
    # whose declared size that codestream cannot hold before allocating it
    if size > 64 * len(data) + 64 * 15:
        raise PixelDataError(f"an RLE frame of {len(data)} bytes cannot hold {info.rows} x "
                             f"{info.columns} x {info.samples} samples")
    out = np.empty(size, np.uint8)
    try:
        decode_frame(np.frombuffer(data, np.uint8), info.rows, info.columns, info.samples,
                     info.bytes_per_sample, out, msb_first)
    except RLEError as exc:
        raise PixelDataError(f"RLE: {exc}") from None
    return out.view(info.dtype).reshape(info.frame_shape())


def encode(frame: Any, info: PixelInfo) -> bytes:
    """Encode one frame: an array (rows, columns[, samples]) or native little-endian bytes in
    the planar configuration ``info`` gives."""
    if info.bits_allocated == 1:
        raise PixelDataError("RLE of 1-bit pixel data is not supported")
    planar = info.planar
    if isinstance(frame, np.ndarray):
        frame = np.ascontiguousarray(frame, dtype=info.dtype)
        planar = False
    data = np.frombuffer(frame, np.uint8)
    try:
        return encode_frame(data, info.rows, info.columns, info.samples, info.bytes_per_sample,
                            planar)
    except RLEError as exc:
        raise PixelDataError(f"RLE: {exc}") from None
