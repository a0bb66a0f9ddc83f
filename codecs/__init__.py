"""The codec registry: transfer syntax UID -> decoder and encoder, and what this machine has.

A codec module has ``decode(data, info, **options)``, which takes one frame's codestream and the
``PixelInfo`` and returns the frame as a NumPy array of shape (rows, columns[, samples]), and
``encode(frame, info, **options)``, which takes such an array (or native little-endian bytes)
and returns the codestream; ``decoded_photometric``/``encoded_photometric`` say what colour
model comes out when it is not the one that went in, ``lossy_method(**options)`` what an encode
with those options loses (None: nothing). Each codec lives in its own module, imported
only when first used, and names the library it needs when that library is missing.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from ..dcmdata.pixels import PixelDataError, PixelInfo


class CodecUnavailable(PixelDataError):
    """No codec for a transfer syntax on this machine (names the missing library)."""


@dataclass(frozen=True, slots=True)
class CodecEntry:
    module: str          # module in dcmpy.codecs
    library: str         # what it needs, for messages ("built in" when nothing)
    encodes: bool


_RLE = CodecEntry("rle", "built in (dcmpy._ext.rle)", True)
_NATIVE = CodecEntry("native", "built in", True)
_JPEG = CodecEntry("jpeg", "libjpeg-turbo 3 (imagecodecs)", True)
_JPEG_DECODE_ONLY = CodecEntry("jpeg", "libjpeg-turbo 3 (imagecodecs)", False)
_JPEGLS = CodecEntry("jpegls", "CharLS 2 (Debian package libcharls2)", True)
_OPENJPEG = "OpenJPEG 2.5 (glymur, Debian package libopenjp2-7)"
REGISTRY: dict[str, CodecEntry] = {
    "1.2.840.10008.1.2.5": _RLE,
    "1.2.840.10008.1.2.1.98": _NATIVE,
    "1.2.840.10008.1.2.4.50": _JPEG,
    "1.2.840.10008.1.2.4.51": _JPEG,
    # the retired processes (lossy 12-bit variants, spectral selection, progressive): decode only
    **{f"1.2.840.10008.1.2.4.{n}": _JPEG_DECODE_ONLY for n in range(52, 57)},
    "1.2.840.10008.1.2.4.57": CodecEntry("jpeg_lossless", "built in (dcmpy._ext.ljpeg)", True),
    "1.2.840.10008.1.2.4.70": CodecEntry("jpeg_lossless", "built in (dcmpy._ext.ljpeg)", True),
    "1.2.840.10008.1.2.4.80": _JPEGLS,
    "1.2.840.10008.1.2.4.81": _JPEGLS,
    # JPEG 2000 and HTJ2K decode through OpenJPEG (glymur's libopenjp2); HTJ2K encodes
    # through OpenJPH (imagecodecs); Part 2 multi-component: decode only
    "1.2.840.10008.1.2.4.90": CodecEntry("jpeg2k", _OPENJPEG, True),
    "1.2.840.10008.1.2.4.91": CodecEntry("jpeg2k", _OPENJPEG, True),
    "1.2.840.10008.1.2.4.92": CodecEntry("jpeg2k", _OPENJPEG, False),
    "1.2.840.10008.1.2.4.93": CodecEntry("jpeg2k", _OPENJPEG, False),
    **{f"1.2.840.10008.1.2.4.{n}": CodecEntry("htj2k", f"{_OPENJPEG}, OpenJPH (imagecodecs)",
                                              True) for n in (201, 202, 203)},
    # JPEG XL through libjxl (imagecodecs); JPEG recompression (.111) from a JPEG codestream
    # with dcmpy.codecs.jpegxl.recompress_jpeg, not from pixels
    "1.2.840.10008.1.2.4.110": CodecEntry("jpegxl", "libjxl (imagecodecs)", True),
    "1.2.840.10008.1.2.4.111": CodecEntry("jpegxl", "libjxl (imagecodecs)", False),
    "1.2.840.10008.1.2.4.112": CodecEntry("jpegxl", "libjxl (imagecodecs)", True),
}


# MPEG-2, H.264 and HEVC: kept, sent and received as they are, never decoded here
VIDEO = frozenset(f"1.2.840.10008.1.2.4.{n}" for n in range(100, 109))


def _entry(ts_uid: str) -> CodecEntry:
    entry = REGISTRY.get(ts_uid)
    if entry is None:
        from ..dcmdata.xfer import lookup
        ts = lookup(ts_uid)
        name = ts.name if ts else ts_uid
        if ts_uid in VIDEO:
            raise CodecUnavailable(f"{name} ({ts_uid}) is video: dcmpy stores, sends and "
                                   f"receives it as it is; decode it with a video library")
        raise CodecUnavailable(f"no codec for transfer syntax {name} ({ts_uid})")
    return entry


def _module(ts_uid: str, entry: CodecEntry):
    try:
        return importlib.import_module(f"{__name__}.{entry.module}")
    except ImportError as exc:
        raise CodecUnavailable(f"the codec for {ts_uid} needs {entry.library}: {exc}") from None


def decoder(ts_uid: str) -> Callable:
    """The frame decoder for ``ts_uid``; raises CodecUnavailable."""
    entry = _entry(ts_uid)
    return _module(ts_uid, entry).decode


def encoder(ts_uid: str) -> Callable:
    """The frame encoder for ``ts_uid``; raises CodecUnavailable."""
    entry = _entry(ts_uid)
    if not entry.encodes:
        raise CodecUnavailable(f"{entry.library} cannot encode {ts_uid}")
    return _module(ts_uid, entry).encode


def decoded_photometric(ts_uid: str, info: PixelInfo, data: Any, **options: Any) -> str:
    """The Photometric Interpretation of what ``decoder(ts_uid)`` returns for the frame
    ``data`` of an image described by ``info``."""
    func = getattr(_module(ts_uid, _entry(ts_uid)), "decoded_photometric", None)
    return func(info, data, **options) if func else info.photometric


def encoded_photometric(ts_uid: str, info: PixelInfo, **options: Any) -> str:
    """The Photometric Interpretation of what ``encoder(ts_uid)`` writes for ``info``."""
    func = getattr(_module(ts_uid, _entry(ts_uid)), "encoded_photometric", None)
    return func(info, **options) if func else info.photometric


def supported() -> dict[str, tuple[bool, bool, str]]:
    """For every registered syntax: (decode available, encode available, library or reason)."""
    out = {}
    for uid, entry in REGISTRY.items():
        try:
            _module(uid, entry)
            out[uid] = (True, entry.encodes, entry.library)
        except CodecUnavailable as exc:
            out[uid] = (False, False, str(exc))
    return out


def lossy_method(ts_uid: str, **options: Any) -> str | None:
    """The Lossy Image Compression Method (PS3.3 C.7.6.1.1.5.1) an encode into ``ts_uid`` with
    these options calls for, or None when it keeps every value."""
    func = getattr(_module(ts_uid, _entry(ts_uid)), "lossy_method", None)
    return func(**options) if func else None
