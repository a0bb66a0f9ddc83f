"""JPEG XL (1.2.840.10008.1.2.4.110-112) through libjxl as bundled by imagecodecs (which
releases the GIL while libjxl works).

Lossless (.110) and lossy (.112) frames are bare JPEG XL codestreams at precision BitsStored;
JPEG XL holds unsigned samples only, so signed pixel data is refused; palette indices are
encoded losslessly only. JPEG recompression
(.111) is not made from pixels: ``recompress_jpeg`` turns the frames of a JPEG Baseline data set
into JPEG XL (with the reconstruction data, in a container) and ``reconstruct_jpeg`` gives the
original JPEG codestreams back byte for byte.

Before libjxl allocates anything, the image size in the codestream's SizeHeader is checked
against the data set, so a hostile frame cannot ask for more memory than the data set declares.
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ..dcmdata.dataset import Dataset
from ..dcmdata.pixels import (EXTENDED_OFFSET_TABLE, EXTENDED_OFFSET_TABLE_LENGTHS, PixelDataError,
                              PixelInfo, frame_bytes, transfer_syntax_of)
from ._frames import as_unsigned, checked
from ._imagecodecs import call, imagecodecs

NAME = "JPEG XL"
METHOD = "ISO_18181_1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
RECOMPRESSION = "1.2.840.10008.1.2.4.111"
_SIGNATURE = b"\xff\x0a"
_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_ENCODABLE = ("MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR")
# SizeHeader (ISO 18181-1 D.2): the aspect ratios a width may be given by
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


class _Bits:
    """Reads a JPEG XL bit stream: least significant bit first."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, count: int) -> int:
        value = 0
        for i in range(count):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise PixelDataError(f"{NAME}: the codestream ends inside its size header")
            value |= ((self.data[byte] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return value

    def size(self) -> int:
        return self.read((9, 13, 18, 30)[self.read(2)]) + 1


def _codestream(data: bytes) -> bytes:
    """The first bytes of the codestream in ``data`` (bare, or in a jxlc/jxlp box)."""
    if data.startswith(_SIGNATURE):
        return data
    if not data.startswith(_CONTAINER):
        raise PixelDataError(f"{NAME}: not a JPEG XL codestream (starts with "
                             f"{data[:4].hex(' ') or 'nothing'})")
    pos = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if length == 1 and pos + 16 <= len(data):
            length, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif length == 0:
            length = len(data) - pos
        if length < header:
            raise PixelDataError(f"{NAME}: box at offset {pos} has length {length}")
        if kind == b"jxlc":
            return data[pos + header:pos + length]
        if kind == b"jxlp":
            return data[pos + header + 4:pos + length]
        pos += length
    raise PixelDataError(f"{NAME}: the container has no codestream box")


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the SizeHeader of a JPEG XL codestream or container."""
    stream = _codestream(data)
    if not stream.startswith(_SIGNATURE):
        raise PixelDataError(f"{NAME}: the codestream box does not start with FF 0A")
    bits = _Bits(stream[2:2 + 16])
    small = bits.read(1)
    height = 8 * (bits.read(5) + 1) if small else bits.size()
    ratio = bits.read(3)
    if ratio:
        num, den = _RATIOS[ratio]
        width = height * num // den
    else:
        width = 8 * (bits.read(5) + 1) if small else bits.size()
    return width, height


# -- decoding -------------------------------------------------------------------------------
def decode(data: Any, info: PixelInfo) -> np.ndarray:
    """One frame; colour comes back as RGB (a recompressed JPEG's YCbCr included)."""
    data = bytes(data)
    width, height = image_size(data)
    if (height, width) != (info.rows, info.columns):
        raise PixelDataError(f"{NAME}: the codestream holds {height} x {width}, the data set "
                             f"declares {info.rows} x {info.columns}")
    frame = call(NAME, "decode the frame", imagecodecs.jpegxl_decode, data, numthreads=1)
    if frame.dtype.kind == "f":
        raise PixelDataError(f"{NAME}: floating-point samples cannot be stored in Pixel Data")
    return checked(frame, info, NAME)


def decoded_photometric(info: PixelInfo, data: Any, **_options: Any) -> str:
    """RGB for colour stored as YCbCr (a recompressed JPEG): libjxl converts it."""
    if info.samples == 3 and info.photometric.startswith("YBR"):
        return "RGB"
    return info.photometric


# -- encoding -------------------------------------------------------------------------------
def encode(frame: Any, info: PixelInfo, lossy: bool = False, distance: float = 1.0,
           effort: int | None = None) -> bytes:
    """One frame as a bare JPEG XL codestream at precision BitsStored: lossless unless
    ``lossy``, then at Butteraugli ``distance`` (1.0 is visually lossless; larger is smaller
    and worse). ``effort`` 1..10 trades speed for size (libjxl's default 7)."""
    if lossy and info.photometric == "PALETTE COLOR":
        raise PixelDataError(f"{NAME}: PALETTE COLOR cannot be encoded lossily (the indices "
                             f"would change)")
    if info.photometric not in _ENCODABLE:
        raise PixelDataError(f"{NAME}: Photometric Interpretation {info.photometric} cannot be "
                             f"encoded (one of {', '.join(_ENCODABLE)})")
    if info.signed:
        raise PixelDataError(f"{NAME}: signed samples (Pixel Representation 1) cannot be "
                             f"encoded: JPEG XL holds unsigned samples only")
    if info.bits_allocated not in (8, 16) or info.bits_stored > 16:
        raise PixelDataError(f"{NAME}: BitsAllocated {info.bits_allocated} / BitsStored "
                             f"{info.bits_stored} cannot be encoded (8 or 16, at most 16 bits)")
    if lossy and not 0 < distance <= 25:
        raise PixelDataError(f"{NAME}: distance {distance} is outside (0, 25]")
    arr = as_unsigned(frame, info)
    arr = arr.astype(np.uint8 if info.bits_stored <= 8 else np.uint16, copy=False)
    return bytes(call(NAME, "encode the frame", imagecodecs.jpegxl_encode, arr,
                      lossless=not lossy, distance=distance if lossy else None, effort=effort,
                      bitspersample=info.bits_stored, usecontainer=False, numthreads=1))


def lossy_method(lossy: bool = False, **_options: Any) -> str | None:
    """The Lossy Image Compression Method to record for an encode with these options."""
    return METHOD if lossy else None


# -- JPEG recompression (.111) --------------------------------------------------------------
def recompress_jpeg(ds: Dataset) -> Dataset:
    """A JPEG Baseline data set (.50) changed in place to JPEG XL JPEG Recompression (.111):
    each frame's JPEG codestream becomes JPEG XL, losslessly and reversibly."""
    info = PixelInfo.of(ds)
    if info.samples == 3:
        _check_colour_model(ds, info)
    return _convert(ds, JPEG_BASELINE, RECOMPRESSION, "recompress the JPEG frame",
                    imagecodecs.jpegxl_encode_jpeg)


def reconstruct_jpeg(ds: Dataset) -> Dataset:
    """The reverse of ``recompress_jpeg``: the original JPEG Baseline frames, byte for byte."""
    return _convert(ds, RECOMPRESSION, JPEG_BASELINE, "reconstruct the JPEG frame",
                    imagecodecs.jpegxl_decode_jpeg)


def _check_colour_model(ds: Dataset, info: PixelInfo) -> None:
    """libjxl reads a JPEG's colour model from the codestream (JFIF, Adobe marker, component
    IDs), as libjpeg does; refuse frames where that disagrees with the Photometric
    Interpretation (RGB stored without an Adobe marker), which would decode to wrong colours."""
    from .jpeg import _library_guesses_ycbcr
    ycbcr = info.photometric.startswith("YBR")
    for i in range(info.frames):
        if _library_guesses_ycbcr(bytes(frame_bytes(ds, i, info))) != ycbcr:
            raise PixelDataError(f"frame {i + 1}: {NAME}: the JPEG codestream does not mark "
                                 f"its colour model as {info.photometric} (no Adobe marker?); "
                                 f"libjxl would decode it as "
                                 f"{'RGB' if ycbcr else 'YCbCr'}")


def _convert(ds: Dataset, source: str, target: str, what: str, func: Any) -> Dataset:
    from ..dcmdata import xfer
    from ..dcmdata.element import Element
    from ..dcmdata.tag import PIXEL_DATA
    from ..dcmdata.transcode import _set_syntax, encapsulate
    if transfer_syntax_of(ds).uid != source:
        raise PixelDataError(f"{NAME}: the data set is not in {xfer.lookup(source).name}")
    info = PixelInfo.of(ds)
    frames = []
    for i in range(info.frames):
        data = bytes(frame_bytes(ds, i, info))
        try:
            frames.append(bytes(call(NAME, what, func, data, numthreads=1)))
        except PixelDataError as exc:
            raise PixelDataError(f"frame {i + 1}: {exc}") from None
    table = len(list(ds[PIXEL_DATA].value)[0]) > 0
    ds[PIXEL_DATA] = Element(PIXEL_DATA, "OB", encapsulate(frames, table))
    for tag in (EXTENDED_OFFSET_TABLE, EXTENDED_OFFSET_TABLE_LENGTHS):     # now stale
        if tag in ds:
            del ds[tag]
    _set_syntax(ds, xfer.lookup(target))
    return ds
