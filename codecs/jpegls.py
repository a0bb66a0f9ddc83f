"""JPEG-LS lossless and near-lossless (1.2.840.10008.1.2.4.80/81) through CharLS 2.

Decoding goes through imagecodecs' CharLS (it releases the GIL; pyjpegls holds it) and runs
twice as fast as Debian's build. Encoding is a thin ctypes binding to the system's CharLS
(Debian's ``libcharls2``; ctypes releases the GIL too), because only the C API lets us write
the sample precision DICOM asks for (BitsStored, or BitsAllocated in DCMTK's raw mode) and the
coding parameters: imagecodecs always writes 16 bits for 16-bit containers.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._frames import as_unsigned, checked

INTERLEAVE = {"none": 0, "line": 1, "sample": 2}


class _FrameInfo(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("bits_per_sample", ctypes.c_int32), ("component_count", ctypes.c_int32)]


class _PresetParameters(ctypes.Structure):
    _fields_ = [("maximum_sample_value", ctypes.c_int32), ("threshold1", ctypes.c_int32),
                ("threshold2", ctypes.c_int32), ("threshold3", ctypes.c_int32),
                ("reset_value", ctypes.c_int32)]


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("charls")
    if name is None:
        raise ImportError("CharLS 2 (Debian package libcharls2)")
    lib = ctypes.CDLL(name)
    p, i32, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
    signatures = {
        "charls_jpegls_encoder_create": (p, []),
        "charls_jpegls_encoder_destroy": (None, [p]),
        "charls_jpegls_encoder_set_frame_info": (i32, [p, ctypes.POINTER(_FrameInfo)]),
        "charls_jpegls_encoder_set_near_lossless": (i32, [p, i32]),
        "charls_jpegls_encoder_set_interleave_mode": (i32, [p, i32]),
        "charls_jpegls_encoder_set_preset_coding_parameters": (
            i32, [p, ctypes.POINTER(_PresetParameters)]),
        "charls_jpegls_encoder_get_estimated_destination_size": (i32, [p, ctypes.POINTER(size)]),
        "charls_jpegls_encoder_set_destination_buffer": (i32, [p, p, size]),
        "charls_jpegls_encoder_encode_from_buffer": (i32, [p, p, size, ctypes.c_uint32]),
        "charls_jpegls_encoder_get_bytes_written": (i32, [p, ctypes.POINTER(size)]),
        "charls_get_error_message": (ctypes.c_char_p, [i32]),
    }
    for fname, (restype, argtypes) in signatures.items():
        func = getattr(lib, fname)
        func.restype, func.argtypes = restype, argtypes
    return lib


_lib = _load()


def _check(code: int, what: str) -> None:
    if code:
        message = _lib.charls_get_error_message(code).decode("ascii", "replace")
        raise PixelDataError(f"JPEG-LS: cannot {what}: {message}")


def decode(data: Any, info: PixelInfo) -> np.ndarray:
    """Decode one frame (through imagecodecs' CharLS build, twice as fast as Debian's)."""
    from ._imagecodecs import call, imagecodecs
    frame = call("JPEG-LS", "decode the frame", imagecodecs.jpegls_decode, bytes(data))
    return checked(frame, info, "JPEG-LS")


def encode(frame: Any, info: PixelInfo, near: int = 0, interleave: str = "line",
           thresholds: tuple[int, int, int] | None = None, reset: int | None = None,
           pad: str = "eoi", raw: bool = False) -> bytes:
    """One frame as a JPEG-LS codestream; ``near`` 0 is lossless.

    The sample precision is BitsStored, or BitsAllocated with ``raw`` (DCMTK's raw mode,
    ``+pr``: bits above BitsStored survive too).
    ``thresholds`` (T1, T2, T3) and ``reset`` override the default coding parameters; an
    odd-length codestream is made even with an extra 0xFF before its EOI marker (``pad="eoi"``,
    DCMTK's default) or left for a zero byte after it (``pad="zero"``).
    """
    bits = max(8, info.bits_allocated) if raw else info.bits_stored
    if not 2 <= bits <= 16:
        raise PixelDataError(f"JPEG-LS: {bits}-bit samples are outside 2..16")
    arr = as_unsigned(frame, info, bits)
    arr = arr.astype(np.uint8 if bits <= 8 else np.uint16, copy=False)
    mode = INTERLEAVE[interleave] if info.samples > 1 else 0
    if mode == 0 and info.samples > 1:
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    enc = _lib.charls_jpegls_encoder_create()
    try:
        fi = _FrameInfo(info.columns, info.rows, bits, info.samples)
        _check(_lib.charls_jpegls_encoder_set_frame_info(enc, ctypes.byref(fi)), "encode")
        _check(_lib.charls_jpegls_encoder_set_near_lossless(enc, near), "encode")
        _check(_lib.charls_jpegls_encoder_set_interleave_mode(enc, mode), "encode")
        if thresholds is not None or reset is not None:
            t1, t2, t3 = thresholds or (0, 0, 0)
            preset = _PresetParameters(0, t1, t2, t3, reset or 0)
            _check(_lib.charls_jpegls_encoder_set_preset_coding_parameters(
                enc, ctypes.byref(preset)), "use those coding parameters")
        size = ctypes.c_size_t()
        _check(_lib.charls_jpegls_encoder_get_estimated_destination_size(enc, ctypes.byref(size)),
               "encode")
        out = ctypes.create_string_buffer(size.value)
        _check(_lib.charls_jpegls_encoder_set_destination_buffer(enc, out, size.value), "encode")
        _check(_lib.charls_jpegls_encoder_encode_from_buffer(enc, arr.ctypes.data, arr.nbytes, 0),
               "encode the frame")
        _check(_lib.charls_jpegls_encoder_get_bytes_written(enc, ctypes.byref(size)), "encode")
        data = out.raw[:size.value]
    finally:
        _lib.charls_jpegls_encoder_destroy(enc)
    if len(data) % 2 and pad == "eoi" and data.endswith(b"\xff\xd9"):
        data = data[:-2] + b"\xff\xff\xd9"
    return data


def lossy_method(near: int = 0, **_options: Any) -> str | None:
    """Near-lossless (NEAR > 0) loses up to NEAR per sample (ISO/IEC 14495-1)."""
    return "ISO_14495_1" if near else None
