"""JPEG Lossless, Non-Hierarchical (Process 14): 1.2.840.10008.1.2.4.57 (any predictor) and
.70 (first-order prediction, predictor 1), through our Cython codec ``dcmpy._ext.ljpeg``.

Samples are stored as they are: no colour transform in either direction (DCMTK's ``+tl``
codec does the same), so the Photometric Interpretation does not change. The encoder cannot
tell which of the two syntaxes it writes for: ``predictor`` must stay 1 for .70.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .._ext import ljpeg
from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._frames import as_unsigned, checked

NAME = "JPEG Lossless"


def decode(data: Any, info: PixelInfo, workaround_pred6: bool = False,
           workaround_cornell: bool = False) -> np.ndarray:
    """One frame as an array of shape (rows, columns[, samples]); the workarounds are
    DCMTK's ``dcmdjpeg +w6`` and ``+wc`` (see ``dcmpy._ext.ljpeg``)."""
    if info.bits_allocated not in (8, 16, 32):
        raise PixelDataError(f"{NAME}: BitsAllocated {info.bits_allocated} cannot hold "
                             f"JPEG Lossless samples")
    try:
        frame, _precision = ljpeg.decode(np.frombuffer(data, np.uint8), info.rows,
                                         info.columns, info.samples,
                                         min(16, info.bits_allocated), workaround_pred6,
                                         workaround_cornell)
    except ljpeg.LJPEGError as exc:
        raise PixelDataError(f"{NAME}: {exc}") from None
    return checked(frame, info, NAME)


def encode(frame: Any, info: PixelInfo, predictor: int = 1, point_transform: int = 0,
           restart_rows: int = 0) -> bytes:
    """Encode one frame, an array (rows, columns[, samples]) or native little-endian bytes.

    The sample precision is BitsAllocated (8 or 16), as DCMTK and GDCM write it, so every
    bit of the stored samples is kept, those above HighBit too. ``predictor`` 1-7 (1 for the
    .70 syntax), ``point_transform`` (not 0 makes it lossy) and a restart marker every
    ``restart_rows`` rows are DCMTK's ``+sv``, ``+pt`` and a restart option.
    """
    if info.bits_allocated not in (8, 16):
        raise PixelDataError(f"{NAME}: BitsAllocated {info.bits_allocated} is not 8 or 16")
    precision = info.bits_allocated
    samples = as_unsigned(frame, replace(info, bits_stored=precision, high_bit=precision - 1))
    samples = samples.reshape(info.rows, info.columns, info.samples).astype(np.uint16, copy=False)
    try:
        return ljpeg.encode(samples, precision, predictor, point_transform, restart_rows)
    except ljpeg.LJPEGError as exc:
        raise PixelDataError(f"{NAME}: {exc}") from None
