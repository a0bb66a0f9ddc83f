"""Helpers every codec binding shares: checking a decoded frame against the data set, and
turning a frame to encode into unsigned samples of BitsStored bits."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo


def checked(frame: np.ndarray, info: PixelInfo, name: str) -> np.ndarray:
    """The decoded frame, checked against the data set's size and typed as its pixels."""
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.shape != info.frame_shape():
        raise PixelDataError(f"{name}: the codestream holds {_shape_text(frame.shape)}, the "
                             f"data set declares {_shape_text(info.frame_shape())}")
    if frame.dtype.itemsize != info.bytes_per_sample:
        if frame.dtype.itemsize > info.bytes_per_sample and int(frame.max(initial=0)) >> (
                8 * info.bytes_per_sample):
            raise PixelDataError(f"{name}: decoded samples do not fit BitsAllocated "
                                 f"{info.bits_allocated}")
        frame = frame.astype(f"<u{info.bytes_per_sample}")
    return np.ascontiguousarray(frame).view(info.dtype)


def _shape_text(shape: tuple) -> str:
    rows, cols = shape[:2]
    samples = shape[2] if len(shape) > 2 else 1
    return f"{rows} x {cols} x {samples}"


def as_unsigned(frame: Any, info: PixelInfo, bits: int | None = None) -> np.ndarray:
    """A frame to encode, as an unsigned array of shape (rows, columns[, samples]) keeping
    only the low ``bits`` bits (default BitsStored; encoders store bit patterns, the sign is
    the data set's business)."""
    if info.bits_allocated == 1:
        raise PixelDataError("1-bit pixel data cannot be encoded with this codec")
    if isinstance(frame, np.ndarray):
        arr = np.ascontiguousarray(frame, dtype=info.dtype)
    else:
        count = info.rows * info.columns * info.samples
        arr = np.frombuffer(frame, info.dtype, count)
        if info.samples > 1 and info.planar:
            arr = arr.reshape(info.samples, info.rows, info.columns).transpose(1, 2, 0)
    arr = arr.reshape(info.frame_shape()).view(f"<u{info.bytes_per_sample}")
    bits = info.bits_stored if bits is None else bits
    if bits < 8 * info.bytes_per_sample:
        arr = arr & ((1 << bits) - 1)
    return np.ascontiguousarray(arr)
