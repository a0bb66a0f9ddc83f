"""JPEG Baseline, Extended and the retired progressive/spectral processes (PS3.5 A.4.1)
through libjpeg-turbo 3 (as bundled by imagecodecs: Debian 12's libjpeg-turbo 2.1.5 cannot
do 12 bits through its TurboJPEG API).

Colour follows DCMTK's ``dcmdjpeg``: by default (``+cp``) a YBR photometric interpretation is
converted to RGB while decoding and an RGB one is taken as stored; ``conversion`` selects the
other rules (``+cl +cg +cgl +ca +cn``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._frames import as_unsigned, checked
from ._imagecodecs import call, imagecodecs


CONVERSIONS = ("photometric", "lossy", "guess", "guess-lossy", "always", "never")


def _colour(data: bytes, info: PixelInfo, conversion: str) -> tuple[str | None, str | None]:
    """libjpeg's input and output colour spaces for DCMTK's ``+cp +cl +cg +cgl +ca +cn``
    (every process here is lossy, so ``lossy`` is ``always`` and ``guess-lossy`` is
    ``guess``)."""
    if info.samples == 1:
        return None, None
    if conversion == "photometric":
        ycbcr = info.photometric.startswith("YBR")
    elif conversion in ("guess", "guess-lossy"):
        ycbcr = _library_guesses_ycbcr(data)
    elif conversion in ("always", "lossy"):
        ycbcr = True
    elif conversion == "never":
        return ("YCbCr", "YCbCr") if info.photometric.startswith("YBR") else ("RGB", "RGB")
    else:
        raise ValueError(f"unknown colour conversion {conversion!r}")
    return ("YCbCr", "RGB") if ycbcr else ("RGB", "RGB")


def _library_guesses_ycbcr(data: bytes) -> bool:
    """libjpeg's rule for three components: JFIF says YCbCr, an Adobe marker's transform flag
    decides, component IDs 'R','G','B' say RGB, anything else is taken as YCbCr."""
    pos, n = 2, len(data)
    while pos + 4 <= n and data[pos] == 0xFF:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2:pos + 4], "big")
        body = data[pos + 4:pos + 2 + length]
        if marker == 0xE0 and body.startswith(b"JFIF\0"):
            return True
        if marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            return body[11] != 0
        if marker in (0xC0, 0xC1, 0xC2, 0xC3) and len(body) >= 12:
            ids = (body[6], body[9], body[12]) if len(body) >= 13 else ()
            return ids != (ord("R"), ord("G"), ord("B"))
        if marker == 0xDA:
            break
        pos += 2 + length
    return True


def decode(data: Any, info: PixelInfo, conversion: str = "photometric",
           incomplete: bool = False) -> np.ndarray:
    """Decode one frame; a codestream cut short is an error unless ``incomplete`` (``+wi``:
    libjpeg then fills in what is missing)."""
    data = bytes(data)
    if not incomplete and b"\xff\xd9" not in data[-16:]:    # EOI, maybe followed by padding
        raise PixelDataError("JPEG: the codestream ends without its EOI marker (truncated?)")
    colorspace, out = _colour(data, info, conversion)
    frame = call("JPEG", "decode the frame", imagecodecs.jpeg8_decode, data,
                 colorspace=colorspace, outcolorspace=out)
    return checked(frame, info, "JPEG")


def decoded_photometric(info: PixelInfo, data: Any, conversion: str = "photometric",
                        **_decoder_options: Any) -> str:
    """The colour model ``decode`` returns for a frame like ``data``."""
    if info.samples == 1:
        return info.photometric
    if conversion == "never":
        return "YBR_FULL" if info.photometric.startswith("YBR") else info.photometric
    if conversion in ("guess", "guess-lossy"):
        return "RGB" if _library_guesses_ycbcr(bytes(data)) else info.photometric
    if conversion in ("always", "lossy") or info.photometric.startswith("YBR"):
        return "RGB"
    return info.photometric


def encode(frame: Any, info: PixelInfo, quality: int = 90, subsampling: str = "422",
           optimize: bool = True, smoothing: int = 0, colour: str = "ybr",
           extended: bool = False) -> bytes:
    """Lossy JPEG (8 bits: Baseline, 12: Extended); colour is written as YCbCr, or as RGB
    (``colour="rgb"``: Adobe marker, no transform, no subsampling, DCMTK's ``+cr``).
    ``extended`` marks an 8-bit frame Extended (SOF1) as DCMTK's ``+ee`` does."""
    if info.bits_stored > 12 or info.bits_allocated not in (8, 16):
        raise PixelDataError(f"JPEG: lossy JPEG holds 8 or 12 bits, not BitsStored "
                             f"{info.bits_stored}")
    arr = as_unsigned(frame, info)
    bits = 8 if info.bits_stored <= 8 else 12
    if bits == 8:
        arr = arr.astype(np.uint8)
    colour = {} if info.samples == 1 else {"colorspace": "RGB", "outcolorspace": "RGB"} if (
        colour == "rgb") else {"colorspace": "RGB", "outcolorspace": "YCbCr",
                               "subsampling": subsampling}
    data = bytes(call("JPEG", "encode the frame", imagecodecs.jpeg8_encode, arr, level=quality,
                      optimize=optimize, smoothing=smoothing or None, bitspersample=bits,
                      **colour))
    if extended and bits == 8:
        data = _as_extended(data)
    if len(data) % 2 and data.endswith(b"\xff\xd9"):
        data = data[:-2] + b"\xff\xff\xd9"     # even length with a fill byte, as DCMTK pads
    return data


def _as_extended(data: bytes) -> bytes:
    """The codestream with its SOF0 (Baseline) marker made SOF1 (Extended sequential)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        if data[pos + 1] == 0xC0:
            return data[:pos + 1] + b"\xc1" + data[pos + 2:]
        if data[pos + 1] == 0xDA:
            break
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return data


def encoded_photometric(info: PixelInfo, subsampling: str = "422", colour: str = "ybr",
                        **_options: Any) -> str:
    if info.samples == 1 or colour == "rgb":
        return info.photometric
    return "YBR_FULL_422" if subsampling == "422" else "YBR_FULL"


def lossy_method(**_options: Any) -> str:
    """Every process encoded here is lossy (ISO/IEC 10918-1)."""
    return "ISO_10918_1"
