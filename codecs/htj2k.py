"""High-Throughput JPEG 2000 (1.2.840.10008.1.2.4.201-203): decoded by OpenJPEG 2.5 (see
``jpeg2k``), encoded by OpenJPH through imagecodecs (which releases the GIL).

Every codestream written satisfies the strictest of the three syntaxes (.202, PS3.5 A.4.x):
RPCL progression, TLM markers, and enough wavelet decompositions for the lowest resolution to
be at most 64 samples wide and high; so one encoder serves all three. OpenJPH writes the
sample precision of the container (8 or 16 bits), not BitsStored: ``qstep`` is scaled so that
it is relative to the BitsStored range whatever the container.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._imagecodecs import call, imagecodecs
from . import jpeg2k
from .jpeg2k import check_encodable, decoded_photometric, sample_values, uses_mct

__all__ = ["decode", "decoded_photometric", "encode", "encoded_photometric", "lossy_method"]

NAME = "HTJ2K"
METHOD = "ISO_15444_15"
_BASE_RESOLUTION = 64      # PS3.5: the lowest resolution of .202 is at most 64 x 64
_MIN_DECOMPOSITIONS = 5    # OpenJPH's default


def decode(data: Any, info: PixelInfo) -> np.ndarray:
    """One frame, decoded by OpenJPEG (which reads plain JPEG 2000 codestreams too)."""
    try:
        return jpeg2k.decode(data, info)
    except PixelDataError as exc:
        raise PixelDataError(f"{NAME}: {str(exc).removeprefix(jpeg2k.NAME + ': ')}") from None


def decompositions_for(width: int, height: int) -> int:
    """OpenJPH's default, or more when the lowest resolution would exceed 64 samples."""
    needed = math.ceil(math.log2(max(width, height) / _BASE_RESOLUTION)) if max(
        width, height) > _BASE_RESOLUTION else 0
    return max(_MIN_DECOMPOSITIONS, needed)


def encode(frame: Any, info: PixelInfo, lossy: bool = False, qstep: float | None = None,
           mct: bool = True) -> bytes:
    """One frame as an HTJ2K codestream: reversible (lossless) unless ``lossy``; then the
    irreversible path with quantization step ``qstep`` relative to the BitsStored range
    (OpenJPH's default when None; smaller is better). RGB gets the RCT or ICT unless
    ``mct=False``."""
    check_encodable(info, NAME, lossy)
    if qstep is not None and not lossy:
        raise PixelDataError(f"{NAME}: a quantization step needs lossy encoding")
    if qstep is not None and not 0 < qstep <= 1:
        raise PixelDataError(f"{NAME}: quantization step {qstep} is outside (0, 1]")
    values = sample_values(frame, info)
    container = 8 if info.bits_stored <= 8 else 16
    kind = "i" if info.signed else "u"
    arr = values.astype(f"{kind}{container // 8}")
    level = qstep * 2.0 ** (info.bits_stored - container) if qstep is not None else None
    return bytes(call(NAME, "encode the frame", imagecodecs.htj2k_encode, arr, level,
                      reversible=not lossy, rgb=uses_mct(info, mct),
                      resolutions=decompositions_for(info.columns, info.rows), tlm=True))


def encoded_photometric(info: PixelInfo, lossy: bool = False, mct: bool = True,
                        **_options: Any) -> str:
    if not uses_mct(info, mct):
        return info.photometric
    return "YBR_ICT" if lossy else "YBR_RCT"


def lossy_method(lossy: bool = False, **_options: Any) -> str | None:
    """The Lossy Image Compression Method to record for an encode with these options."""
    return METHOD if lossy else None

