"""Rendered frames to picture files: PGM/PPM (binary and ASCII), PNG, BMP, TIFF and JPEG.

Each encoder takes a frame as a NumPy array (rows, columns) for grey or (rows, columns, 3) for
RGB, of 8 bits (uint8) or more (uint16/uint32, ``maxval`` gives the range), and returns the
file's bytes. ``write_file`` puts them in place atomically (temporary file + rename).
"""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def pnm(frame: np.ndarray, maxval: int = 255, ascii: bool = False) -> bytes:
    """PGM/PPM: binary P5/P6 (up to 16 bits, big-endian words above 8) or ASCII P2/P3
    (DCMTK's layout: every value followed by one space, on one line)."""
    import numpy as np
    colour = frame.ndim == 3
    magic = ("P3" if colour else "P2") if ascii else ("P6" if colour else "P5")
    rows, columns = frame.shape[:2]
    head = f"{magic}\n{columns} {rows}\n{maxval}\n".encode()
    if ascii:
        flat = frame.reshape(-1)
        return head + (" ".join(map(str, flat.tolist())) + " ").encode() if flat.size else head
    dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
    return head + np.ascontiguousarray(frame, dtype).tobytes()


# -- PNG ----------------------------------------------------------------------------------------
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2),
          (1, 0, 2, 1))   # (row start, column start, row step, column step) per pass


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(frame: np.ndarray, bits: int = 8, interlace: bool = False, meta: bool = True) -> bytes:
    """PNG, 8 or 16 bits per sample, grey or RGB, optionally Adam7-interlaced; ``meta`` adds
    the tEXt chunks (title and software)."""
    import numpy as np
    rows, columns = frame.shape[:2]
    colour_type = 2 if frame.ndim == 3 else 0
    data = np.ascontiguousarray(frame, np.uint8 if bits <= 8 else ">u2")
    raw = bytearray()
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    for r0, c0, rs, cs in passes:
        sub = data[r0::rs, c0::cs]
        if sub.size == 0:
            continue
        lines = np.ascontiguousarray(sub).reshape(sub.shape[0], -1).view(np.uint8)
        filtered = np.zeros((lines.shape[0], lines.shape[1] + 1), np.uint8)   # filter 0: none
        filtered[:, 1:] = lines
        raw += filtered.tobytes()
    header = struct.pack(">IIBBBBB", columns, rows, 8 if bits <= 8 else 16, colour_type, 0, 0,
                         1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    if meta:
        out += _chunk(b"tEXt", b"Title\0Converted DICOM Image")
        out += _chunk(b"tEXt", b"Software\0dcmpy")
    return out + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + _chunk(b"IEND", b"")


# -- BMP ----------------------------------------------------------------------------------------
def bmp(frame: np.ndarray, bits: int = 0) -> bytes:
    """Windows bitmap, bottom-up: 8-bit with a grey palette (monochrome only), 24 or 32 bits;
    ``bits`` 0 picks 8 for grey and 24 for colour. Frames must be 8-bit."""
    import numpy as np
    rows, columns = frame.shape[:2]
    colour = frame.ndim == 3
    bits = bits or (24 if colour else 8)
    if bits == 8 and colour:
        raise ValueError("an 8-bit palette BMP needs a monochrome image")
    if bits == 8:
        pixels = frame
        palette = np.repeat(np.arange(256, dtype=np.uint8), 4).reshape(256, 4)
        palette[:, 3] = 0
        palette_bytes = palette.tobytes()
    else:
        rgb = frame if colour else np.repeat(frame[:, :, None], 3, axis=2)
        bgr = rgb[:, :, ::-1]
        if bits == 32:
            bgr = np.concatenate([bgr, np.zeros((rows, columns, 1), np.uint8)], axis=2)
        pixels = bgr.reshape(rows, -1)
        palette_bytes = b""
    stride = (pixels.shape[1] + 3) // 4 * 4
    body = np.zeros((rows, stride), np.uint8)
    body[:, :pixels.shape[1]] = pixels
    body = body[::-1].tobytes()
    offset = 14 + 40 + len(palette_bytes)
    file_header = b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, columns, rows, 1, bits, 0, 0, 0, 0,
                       256 if bits == 8 else 0, 0)
    return file_header + info + palette_bytes + body


# -- TIFF ---------------------------------------------------------------------------------------
TIFF_NONE, TIFF_LZW, TIFF_PACKBITS = 1, 5, 32773


def tiff(frame: np.ndarray, compression: int = TIFF_LZW, predictor: int = 0,
         rows_per_strip: int = 0) -> bytes:
    """Baseline TIFF (little endian), 8 or 16 bits per sample, grey or RGB, uncompressed, LZW
    (``predictor`` 2: horizontal differencing) or PackBits; ``rows_per_strip`` 0 makes strips
    of about 8 kB."""
    import numpy as np
    rows, columns = frame.shape[:2]
    samples = 3 if frame.ndim == 3 else 1
    bits = 8 if frame.dtype.itemsize == 1 else 16
    data = np.ascontiguousarray(frame, np.uint8 if bits == 8 else "<u2").reshape(rows, -1)
    row_bytes = data.shape[1] * data.itemsize
    per_strip = rows_per_strip or max(1, 8192 // max(row_bytes, 1))
    per_strip = min(per_strip, rows)
    strips = []
    for start in range(0, rows, per_strip):
        block = data[start:start + per_strip]
        if compression == TIFF_LZW and predictor == 2:
            block = _difference(block, samples)
        strips.append(_compress_strip(block.tobytes(), compression))
    entries = [(256, 4, [columns]), (257, 4, [rows]), (258, 3, [bits] * samples),
               (259, 3, [compression]), (262, 3, [2 if samples == 3 else 1]),
               (273, 4, None), (277, 3, [samples]), (278, 4, [per_strip]),
               (279, 4, [len(s) for s in strips]), (284, 3, [1])]
    if compression == TIFF_LZW and predictor:
        entries.append((317, 3, [predictor]))
    return _tiff_file(entries, strips)


def _difference(block: np.ndarray, samples: int) -> np.ndarray:
    import numpy as np
    values = block.reshape(block.shape[0], -1, samples)
    out = values.copy()
    out[:, 1:] = values[:, 1:] - values[:, :-1]       # wraps modulo the sample size
    return np.ascontiguousarray(out.reshape(block.shape))


def _compress_strip(data: bytes, compression: int) -> bytes:
    if compression == TIFF_NONE:
        return data
    import imagecodecs
    if compression == TIFF_LZW:
        return imagecodecs.lzw_encode(data)
    return imagecodecs.packbits_encode(data)


def _tiff_file(entries: list, strips: list[bytes]) -> bytes:
    count = len(entries)
    ifd_size = 2 + 12 * count + 4
    extra_at = 8 + ifd_size
    extra = bytearray()
    data_at = extra_at
    # values that do not fit in 4 bytes go after the IFD; strips after them
    sizes = {3: 2, 4: 4}
    for tag, kind, values in entries:
        n = len(strips) if values is None else len(values)
        if sizes[kind] * n > 4:
            data_at += sizes[kind] * n
    offsets, pos = [], data_at
    for strip in strips:
        offsets.append(pos)
        pos += len(strip)
    ifd = bytearray(struct.pack("<H", count))
    for tag, kind, values in sorted(entries):
        values = offsets if values is None else values
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(packed) <= 4:
            ifd += struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0")
        else:
            ifd += struct.pack("<HHII", tag, kind, len(values), extra_at + len(extra))
            extra += packed
    ifd += b"\0\0\0\0"
    return b"II*\0" + struct.pack("<I", 8) + bytes(ifd) + bytes(extra) + b"".join(strips)


# -- JPEG ---------------------------------------------------------------------------------------
def jpeg(frame: np.ndarray, quality: int = 90, subsampling: str = "422") -> bytes:
    """Baseline 8-bit JPEG (libjpeg-turbo through imagecodecs); ``subsampling`` '444', '422'
    or '411' (DCMTK's +Js4 +Js2 +Js1; 4:1:1 there means both directions halved: 4:2:0)."""
    import imagecodecs
    mode = {"444": "444", "422": "422", "411": "420"}[subsampling]
    kwargs = {"subsampling": mode} if frame.ndim == 3 else {}
    return bytes(imagecodecs.jpeg8_encode(frame, level=quality, **kwargs))


# -- writing ------------------------------------------------------------------------------------
def write_file(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dcmpy-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
