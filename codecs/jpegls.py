"""JPEG-LS lossless and near-lossless (1.2.840.10008.1.2.4.80/81) through CharLS 2.

A thin ctypes binding to the system's CharLS (Debian's ``libcharls2``): ctypes releases the GIL
for every call, so frames decode in parallel (pyjpegls holds the GIL); the sample precision
written is BitsStored, as DICOM asks (imagecodecs always writes 16 for 16-bit containers).
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._frames import as_unsigned

INTERLEAVE = {"none": 0, "line": 1, "sample": 2}

BY_PIXEL = True     # colour is encoded interleaved: Planar Configuration 0 after encoding


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
        "charls_jpegls_decoder_create": (p, []),
        "charls_jpegls_decoder_destroy": (None, [p]),
        "charls_jpegls_decoder_set_source_buffer": (i32, [p, p, size]),
        "charls_jpegls_decoder_read_header": (i32, [p]),
        "charls_jpegls_decoder_get_frame_info": (i32, [p, ctypes.POINTER(_FrameInfo)]),
        "charls_jpegls_decoder_get_interleave_mode": (i32, [p, ctypes.POINTER(i32)]),
        "charls_jpegls_decoder_get_destination_size": (i32, [p, ctypes.c_uint32,
                                                            ctypes.POINTER(size)]),
        "charls_jpegls_decoder_decode_to_buffer": (i32, [p, p, size, ctypes.c_uint32]),
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
    src = bytes(data)
    dec = _lib.charls_jpegls_decoder_create()
    try:
        _check(_lib.charls_jpegls_decoder_set_source_buffer(dec, src, len(src)), "read")
        _check(_lib.charls_jpegls_decoder_read_header(dec), "read the header")
        frame = _FrameInfo()
        _check(_lib.charls_jpegls_decoder_get_frame_info(dec, ctypes.byref(frame)),
               "read the header")
        _check_frame(frame, info)
        mode = ctypes.c_int32()
        _check(_lib.charls_jpegls_decoder_get_interleave_mode(dec, ctypes.byref(mode)),
               "read the header")
        dtype = np.uint8 if frame.bits_per_sample <= 8 else np.uint16
        out = np.empty(info.rows * info.columns * info.samples, dtype)
        _check(_lib.charls_jpegls_decoder_decode_to_buffer(dec, out.ctypes.data, out.nbytes, 0),
               "decode the frame")
    finally:
        _lib.charls_jpegls_decoder_destroy(dec)
    if info.samples > 1 and mode.value == INTERLEAVE["none"]:
        arr = out.reshape(info.samples, info.rows, info.columns).transpose(1, 2, 0)
    else:
        arr = out.reshape(info.frame_shape())
    return np.ascontiguousarray(arr).astype(f"<u{info.bytes_per_sample}", copy=False).view(
        info.dtype)


def _check_frame(frame: _FrameInfo, info: PixelInfo) -> None:
    if (frame.height, frame.width, frame.component_count) != (info.rows, info.columns,
                                                              info.samples):
        raise PixelDataError(f"JPEG-LS: the codestream holds {frame.height} x {frame.width} x "
                             f"{frame.component_count}, the data set declares {info.rows} x "
                             f"{info.columns} x {info.samples}")
    if frame.bits_per_sample > 8 * info.bytes_per_sample:
        raise PixelDataError(f"JPEG-LS: {frame.bits_per_sample}-bit samples do not fit "
                             f"BitsAllocated {info.bits_allocated}")


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
