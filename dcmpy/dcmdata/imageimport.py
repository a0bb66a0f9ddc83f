"""Images from outside DICOM: JPEG (kept as it is, never recompressed), BMP and PNG.

``read_image(data, fmt)`` checks the file's structure and returns an :class:`ImportedImage`: the
Image Pixel module values plus the bytes to store (one JPEG stream for an encapsulated transfer
syntax, or native little-endian pixels). Nothing is decoded that need not be: a JPEG is walked
marker by marker (SOF for the process, size, precision and components; JFIF and Adobe markers
for the colour model), never decompressed. Every length is checked against the end of the data,
and declared sizes against what is there, before anything is allocated.

What we decide where DCMTK 3.6.7's img2dcm (``I2DJpegSource``, ``I2DBmpSource``) differs:

* lossless JPEG (SOF3) is accepted: 1.2.840.10008.1.2.4.70 for predictor 1, ``.57`` otherwise
  (DCMTK refuses SOF3);
* a colour JPEG whose Adobe marker says "no transform" is RGB and keeps that marker (DCMTK calls
  it YBR_FULL_422 and drops the marker, so every decoder then converts the colours wrongly);
  other lossy colour JPEGs are YBR_FULL_422 as in DCMTK (dciodvfy refuses YBR_FULL for them even
  without chroma subsampling), lossless ones YBR_FULL when JFIF or Adobe say YCbCr, else RGB;
* JFIF densities become Pixel Aspect Ratio as vertical\\horizontal size (DCMTK swaps them);
* PNG (DCMTK 3.6.7 has no PNG reader): grey 1-16 bits, RGB 8/16 bits, palette images expanded
  like a BMP's (MONOCHROME2 when every palette entry is grey, RGB otherwise); an alpha channel
  is dropped with a warning when it is not fully opaque; ``tRNS`` is ignored.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .._diag import warn

__all__ = ["ImageImportError", "ImportedImage", "JpegOptions", "read_image", "read_jpeg",
           "read_bmp", "read_png", "FORMATS"]

FORMATS = ("JPEG", "BMP", "PNG")
EXPLICIT_LE = "1.2.840.10008.1.2.1"
_MAX_DIMENSION = 0xFFFF                 # Rows and Columns are US
MAX_NATIVE = 0xFFFFFFFE                # the largest even 32-bit value length


class ImageImportError(ValueError):
    """The input is not a well-formed image of the expected kind: says what and where."""


@dataclass
class ImportedImage:
    """One frame: the Image Pixel module values and the bytes to store."""
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    photometric: str
    data: bytes                          # a JPEG stream, or native little-endian pixels
    transfer_syntax: str = EXPLICIT_LE
    lossy: bool = False                  # JPEG lossy processes
    pixel_aspect: tuple[int, int] | None = None  # vertical, horizontal

    @property
    def encapsulated(self) -> bool:
        return self.transfer_syntax != EXPLICIT_LE

    @property
    def compression_ratio(self) -> float:
        """Uncompressed size (samples of Bits Stored bits) over stored size."""
        raw = self.rows * self.columns * self.samples * self.bits_stored / 8
        return raw / max(len(self.data), 1)


@dataclass(frozen=True)
class JpegOptions:
    """img2dcm's JPEG options (-dp, -de, -jf, -ka, -rc)."""
    progressive: bool = True
    extended: bool = True
    insist_on_jfif: bool = False
    keep_appn: bool = False
    remove_com: bool = False


def read_image(data: bytes, fmt: str = "JPEG", jpeg: JpegOptions | None = None) -> ImportedImage:
    """Read an image of format ``fmt`` (``JPEG``, ``BMP`` or ``PNG``) from its bytes."""
    fmt = fmt.upper()
    if not data:
        raise ImageImportError("file is empty")
    if fmt == "JPEG":
        return read_jpeg(data, jpeg or JpegOptions())
    if fmt == "BMP":
        return read_bmp(data)
    if fmt == "PNG":
        return read_png(data)
    raise ImageImportError(f"unknown input format {fmt!r} (supported: {', '.join(FORMATS)})")


def _check_size(rows: int, columns: int, what: str) -> None:
    if not (0 < rows <= _MAX_DIMENSION and 0 < columns <= _MAX_DIMENSION):
        raise ImageImportError(f"{what} size {columns}x{rows} is outside 1..{_MAX_DIMENSION} "
                               "(DICOM Rows and Columns)")


# ---------------------------------------------------------------------------------------------
# JPEG (ISO 10918-1 Annex B): marker walk

_SOF = {
    0xC0: "SOF0: Baseline DCT", 0xC1: "SOF1: Extended sequential DCT",
    0xC2: "SOF2: Progressive DCT", 0xC3: "SOF3: Lossless (sequential)",
    0xC5: "SOF5: Differential sequential DCT", 0xC6: "SOF6: Differential progressive DCT",
    0xC7: "SOF7: Differential lossless (sequential)", 0xC9: "SOF9: Extended sequential DCT",
    0xCA: "SOF10: Progressive DCT", 0xCB: "SOF11: Lossless (sequential)",
    0xCD: "SOF13: Differential sequential DCT", 0xCE: "SOF14: Differential progressive DCT",
    0xCF: "SOF15: Differential lossless (sequential)",
}
_LOSSY_TS = {0xC0: "1.2.840.10008.1.2.4.50", 0xC1: "1.2.840.10008.1.2.4.51",
             0xC2: "1.2.840.10008.1.2.4.55"}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})   # TEM and RSTn carry no length
_SOI, _EOI, _SOS, _COM, _APP0, _APP14 = 0xD8, 0xD9, 0xDA, 0xFE, 0xE0, 0xEE


@dataclass
class _JpegScan:
    sof: int = 0
    precision: int = 0
    rows: int = 0
    columns: int = 0
    components: tuple = ()               # (id, h, v) per component
    predictor: int = 0                   # first SOS's Ss (the lossless predictor)
    jfif: tuple | None = None            # (units, x density, y density)
    adobe_transform: int | None = None


def read_jpeg(data: bytes, options: JpegOptions | None = None) -> ImportedImage:
    """Check a JPEG file's markers and keep its bytes (without JFIF, other APPn unless
    ``keep_appn``, COM if ``remove_com``) for encapsulation."""
    opts = options or JpegOptions()
    scan, kept = _walk_jpeg(memoryview(bytes(data)), opts)
    if not scan.sof:
        raise ImageImportError("no SOF marker before the first scan: not a JPEG image")
    _check_process(scan, opts)
    if opts.insist_on_jfif and scan.jfif is None:
        raise ImageImportError("no JFIF marker (APP0) found (--insist-on-jfif)")
    _check_size(scan.rows, scan.columns, "JPEG image")
    ncomp = len(scan.components)
    if ncomp not in (1, 3):
        raise ImageImportError(f"JPEG image with {ncomp} components is not supported "
                               "(only 1 or 3)")
    photometric = "MONOCHROME2" if ncomp == 1 else _jpeg_colour_model(scan)
    lossy = scan.sof != 0xC3
    ts = _LOSSY_TS.get(scan.sof) or ("1.2.840.10008.1.2.4.70" if scan.predictor == 1
                                     else "1.2.840.10008.1.2.4.57")
    return ImportedImage(scan.rows, scan.columns, ncomp, 8 if scan.precision <= 8 else 16,
                         scan.precision, photometric, b"".join(kept), ts, lossy,
                         _aspect(scan.jfif))


def _check_process(scan: _JpegScan, opts: JpegOptions) -> None:
    sof, name = scan.sof, _SOF.get(scan.sof, f"SOF marker {scan.sof:#04x}")
    if sof not in (0xC0, 0xC1, 0xC2, 0xC3) or (sof == 0xC2 and not opts.progressive) \
            or (sof == 0xC1 and not opts.extended):
        raise ImageImportError(f"JPEG data with encoding: '{name}' not supported")
    valid = {0xC0: (8,), 0xC1: (8, 12), 0xC2: (8, 12), 0xC3: tuple(range(2, 17))}[sof]
    if scan.precision not in valid:
        raise ImageImportError(f"JPEG data precision {scan.precision} is invalid for '{name}'")


def _jpeg_colour_model(scan: _JpegScan) -> str:
    ids = bytes(c[0] for c in scan.components)
    if scan.adobe_transform == 0 or (scan.adobe_transform is None and ids == b"RGB"):
        return "RGB"
    if scan.sof == 0xC3:
        return "RGB" if scan.adobe_transform is None and scan.jfif is None else "YBR_FULL"
    return "YBR_FULL_422"


def _aspect(jfif: tuple | None) -> tuple[int, int] | None:
    """Pixel Aspect Ratio (vertical size, horizontal size) from JFIF pixel densities."""
    if jfif is None:
        return None
    _, xdensity, ydensity = jfif
    if xdensity == ydensity or not xdensity or not ydensity:
        return None
    return xdensity, ydensity        # a pixel is 1/xdensity wide and 1/ydensity high


def _walk_jpeg(buf: memoryview, opts: JpegOptions) -> tuple[_JpegScan, list]:
    """Walk the markers up to EOI; return what they say and the byte ranges to keep."""
    end = len(buf)
    if end < 4 or buf[0] != 0xFF or buf[1] != _SOI:
        raise ImageImportError("no SOI marker at offset 0: not a JPEG file")
    scan = _JpegScan()
    kept: list = [bytes(buf[0:2])]
    pos = 2
    while True:
        start = pos
        if pos >= end:
            raise ImageImportError(f"JPEG data truncated at offset {pos}: no EOI marker")
        if buf[pos] != 0xFF:
            raise ImageImportError(f"JPEG marker expected at offset {pos}, "
                                   f"found byte {buf[pos]:#04x}")
        while pos < end and buf[pos] == 0xFF:     # fill bytes
            pos += 1
        if pos >= end:
            raise ImageImportError(f"JPEG data truncated at offset {pos}: no EOI marker")
        marker = buf[pos]
        pos += 1
        if marker == _EOI:
            kept.append(bytes(buf[start:pos]))
            return scan, kept
        if marker in _STANDALONE or marker == _SOI:
            if marker == _SOI:
                raise ImageImportError(f"second SOI marker at offset {pos - 2}")
            kept.append(bytes(buf[start:pos]))
            continue
        if pos + 2 > end:
            raise ImageImportError(f"JPEG segment length truncated at offset {pos}")
        length = (buf[pos] << 8) | buf[pos + 1]
        if length < 2 or pos + length > end:
            raise ImageImportError(f"JPEG marker 0xff{marker:02x} at offset {start} has length "
                                   f"{length}, beyond the end of the data ({end} bytes)")
        body = buf[pos + 2:pos + length]
        pos += length
        if _segment(scan, marker, body, start, opts):
            kept.append(bytes(buf[start:pos]))
        if marker == _SOS:
            stop = _entropy_end(buf, pos)
            kept.append(bytes(buf[pos:stop]))
            pos = stop


def _segment(scan: _JpegScan, marker: int, body: memoryview, offset: int,
             opts: JpegOptions) -> bool:
    """Read one marker segment into ``scan``; True if it is to be kept."""
    if marker in _SOF:
        if scan.sof:
            raise ImageImportError(f"second SOF marker at offset {offset}")
        _read_sof(scan, marker, body, offset)
    elif marker == _SOS:
        if not scan.sof:
            raise ImageImportError(f"scan (SOS) at offset {offset} before any SOF marker")
        if len(body) < 4 or len(body) != 4 + 2 * body[0]:
            raise ImageImportError(f"malformed SOS segment at offset {offset}")
        if scan.predictor == 0:
            scan.predictor = body[1 + 2 * body[0]]
    elif marker == _APP0 and bytes(body[:5]) == b"JFIF\0":
        if len(body) < 14:
            raise ImageImportError(f"JFIF segment at offset {offset} is too short")
        scan.jfif = (body[7], (body[8] << 8) | body[9], (body[10] << 8) | body[11])
        return opts.keep_appn           # DCMTK's -ka keeps JFIF too, despite its help text
    elif marker == _APP14 and bytes(body[:5]) == b"Adobe" and len(body) >= 12:
        scan.adobe_transform = body[11]
        return opts.keep_appn or body[11] == 0
    elif 0xE0 <= marker <= 0xEF:
        return opts.keep_appn
    elif marker == _COM:
        return not opts.remove_com
    return True


def _read_sof(scan: _JpegScan, marker: int, body: memoryview, offset: int) -> None:
    if len(body) < 6 or len(body) != 6 + 3 * body[5]:
        raise ImageImportError(f"malformed SOF segment at offset {offset}")
    scan.sof = marker
    scan.precision = body[0]
    scan.rows = (body[1] << 8) | body[2]
    scan.columns = (body[3] << 8) | body[4]
    comps = []
    for i in range(body[5]):
        cid, hv = body[6 + 3 * i], body[7 + 3 * i]
        comps.append((cid, hv >> 4, hv & 15))
    scan.components = tuple(comps)
    if scan.rows == 0:
        raise ImageImportError(f"JPEG image height 0 (defined by a DNL marker) at offset "
                               f"{offset} is not supported")


def _entropy_end(buf: memoryview, pos: int) -> int:
    """Offset of the first marker after entropy-coded data (not a stuffed 0xFF00 nor RSTn)."""
    data = buf.obj
    end = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= end:
            raise ImageImportError(f"JPEG data truncated in the entropy-coded data: no marker "
                                   f"after offset {end if pos < 0 else pos}")
        nxt = data[pos + 1]
        if nxt == 0 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
            pos += 1 if nxt == 0xFF else 2
            continue
        return pos


# ---------------------------------------------------------------------------------------------
# BMP (Windows bitmap)

_BMP_HEADERS = (12, 40, 52, 56, 108, 124)


def read_bmp(data: bytes) -> ImportedImage:
    """An uncompressed (or bit-field) BMP of 1, 4, 8, 16, 24 or 32 bits per pixel."""
    if len(data) < 26 or data[:2] != b"BM":
        raise ImageImportError("no 'BM' signature at offset 0: not a BMP file")
    offset, hsize = struct.unpack_from("<II", data, 10)
    if hsize not in _BMP_HEADERS or 14 + hsize > len(data):
        raise ImageImportError(f"BMP info header size {hsize} at offset 14 is invalid or "
                               f"beyond the end of the file ({len(data)} bytes)")
    if hsize == 12:
        width, height, planes, bpp = struct.unpack_from("<HhHH", data, 18)
        compression, ncolours, entry = 0, 0, 3
    else:
        width, height, planes, bpp, compression = struct.unpack_from("<iiHHI", data, 18)
        ncolours, entry = struct.unpack_from("<I", data, 46)[0], 4
    top_down = height < 0
    height = abs(height)
    if planes != 1 or bpp not in (1, 4, 8, 16, 24, 32):
        raise ImageImportError(f"BMP with {planes} planes and {bpp} bits per pixel is not "
                               "supported")
    _check_size(height, width, "BMP image")
    masks = _bmp_masks(data, hsize, bpp, compression)
    stride = (width * bpp + 31) // 32 * 4
    if offset < 14 + hsize or offset + stride * height > len(data):
        raise ImageImportError(f"BMP pixel data ({stride * height} bytes at offset {offset}) "
                               f"lies outside the file ({len(data)} bytes)")
    import numpy as np
    raw = np.frombuffer(data, np.uint8, stride * height, offset).reshape(height, stride)
    if not top_down:
        raw = raw[::-1]
    if bpp <= 8:
        palette = _bmp_palette(data, 14 + hsize, offset, ncolours or 1 << bpp, entry, bpp)
        return _from_palette(_unpack_indices(raw, width, bpp), palette, "BMP")
    if bpp == 16 or masks is not None:
        words = raw[:, :width * bpp // 8].copy().view("<u2" if bpp == 16 else "<u4")
        rgb = _bitfields(words, masks or (0x7C00, 0x03E0, 0x001F))
    else:       # B, G, R (, X) bytes
        rgb = raw[:, :width * bpp // 8].reshape(height, width, bpp // 8)[:, :, 2::-1]
    return _native(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB", 8)


def _bmp_masks(data: bytes, hsize: int, bpp: int, compression: int) -> tuple | None:
    if compression == 0:
        return None
    if compression == 3 and bpp in (16, 32):
        if 54 + 12 > len(data):    # after a 40-byte header, or inside a longer one
            raise ImageImportError("BMP bit-field masks at offset 54 lie beyond the end of the "
                                   "file")
        return struct.unpack_from("<III", data, 54)
    names = {1: "RLE8", 2: "RLE4", 4: "JPEG", 5: "PNG"}
    raise ImageImportError(f"BMP compression {names.get(compression, compression)} is not "
                           "supported (only uncompressed and bit-field BMP)")


def _bmp_palette(data: bytes, start: int, limit: int, count: int, entry: int, bpp: int):
    import numpy as np
    if count > 1 << bpp or start + count * entry > limit:
        raise ImageImportError(f"BMP colour table of {count} entries at offset {start} does not "
                               f"fit before the pixel data (offset {limit}) or exceeds "
                               f"{1 << bpp} entries")
    table = np.frombuffer(data, np.uint8, count * entry, start).reshape(count, entry)
    return table[:, 2::-1]          # BGR(X) -> RGB


def _unpack_indices(raw, width: int, bpp: int):
    import numpy as np
    if bpp == 8:
        return raw[:, :width]
    bits = np.unpackbits(raw, axis=1)
    per = bits.reshape(raw.shape[0], -1, bpp)
    weights = (1 << np.arange(bpp - 1, -1, -1)).astype(np.uint8)
    return (per * weights).sum(axis=2, dtype=np.uint8)[:, :width]


def _bitfields(words, masks: tuple):
    """Scale each masked field to 8 bits (a shorter field shifted up, as DCMTK does)."""
    import numpy as np
    out = np.empty(words.shape + (3,), np.uint8)
    for i, mask in enumerate(masks):
        if mask == 0:
            out[..., i] = 0
            continue
        shift = (mask & -mask).bit_length() - 1
        bits = (mask >> shift).bit_length()
        field = (words & mask) >> shift
        out[..., i] = (field << (8 - bits)) if bits <= 8 else (field >> (bits - 8))
    return out


def _from_palette(indices, palette, what: str) -> ImportedImage:
    """Expand palette indices: grey levels if every entry is grey, RGB otherwise."""
    import numpy as np
    top = int(indices.max())
    if top >= len(palette):
        row = int(np.argwhere(indices == top)[0][0])
        raise ImageImportError(f"{what} pixel value {top} in row {row} is beyond the "
                               f"{len(palette)} colour table entries")
    grey = bool((palette[:, 0] == palette[:, 1]).all() and (palette[:, 1] == palette[:, 2]).all())
    if grey:
        return _native(np.ascontiguousarray(palette[:, 0][indices]), "MONOCHROME2", 8)
    return _native(np.ascontiguousarray(palette[indices]), "RGB", 8)


def _native(pixels, photometric: str, bits: int) -> ImportedImage:
    rows, columns = pixels.shape[:2]
    samples = 1 if pixels.ndim == 2 else pixels.shape[2]
    data = pixels.astype("<u2" if bits > 8 else "u1", copy=False).tobytes()
    if len(data) > MAX_NATIVE:
        raise ImageImportError(f"image of {len(data)} bytes is too large for one DICOM value")
    return ImportedImage(rows, columns, samples, 8 if bits <= 8 else 16, bits, photometric, data)


# ---------------------------------------------------------------------------------------------
# PNG (ISO/IEC 15948)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# Adam7 passes: (x start, y start, x step, y step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


def read_png(data: bytes) -> ImportedImage:
    """A PNG image, its CRCs and zlib stream checked, unfiltered and de-interlaced."""
    if data[:8] != _PNG_SIGNATURE:
        raise ImageImportError("no PNG signature at offset 0: not a PNG file")
    header, palette, idat = _png_chunks(data)
    width, height, depth, colour, interlace = header
    channels = _PNG_CHANNELS[colour]
    import numpy as np
    raw = _inflate(idat, _png_size(width, height, depth * channels, interlace))
    if interlace:
        pixels = _adam7(raw, width, height, depth, channels)
    else:
        pixels = _unfilter_pass(raw, width, height, depth, channels)
    if colour == 3:
        if palette is None:
            raise ImageImportError("palette PNG without a PLTE chunk")
        return _from_palette(pixels[..., 0], palette, "PNG")
    if colour in (4, 6):
        alpha = pixels[..., -1]
        if int(alpha.min()) != (1 << depth) - 1:
            warn(__name__, "PNG alpha channel is not opaque: transparency is discarded")
        pixels = pixels[..., :-1]
    if depth < 8:
        pixels = (pixels.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
        depth = 8
    if channels in (1, 2):
        pixels = pixels[..., 0]
    return _native(np.ascontiguousarray(pixels), "MONOCHROME2" if colour in (0, 4) else "RGB",
                   depth)


def _png_chunks(data: bytes) -> tuple:
    pos, end = 8, len(data)
    header = palette = None
    idat: list[bytes] = []
    while True:
        if pos + 12 > end:
            raise ImageImportError(f"PNG data truncated at offset {pos}: no IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        name = kind.decode("latin-1")
        if length > end - pos - 12:
            raise ImageImportError(f"PNG chunk {name!r} at offset {pos} has length {length}, "
                                   f"beyond the end of the data ({end} bytes)")
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack_from(">I", data, pos + 8 + length)[0]
        if zlib.crc32(kind + body) != crc:
            raise ImageImportError(f"PNG chunk {name!r} at offset {pos} has a bad CRC")
        if header is None and kind != b"IHDR":
            raise ImageImportError(f"PNG chunk {name!r} at offset {pos} comes before IHDR")
        if kind == b"IHDR":
            header = _png_header(body, pos)
        elif kind == b"PLTE":
            palette = _png_palette(body, pos)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        elif not kind[0] & 0x20:
            raise ImageImportError(f"unknown critical PNG chunk {name!r} at offset {pos}")
        pos += 12 + length
    if not idat:
        raise ImageImportError("PNG file without image data (IDAT)")
    return header, palette, b"".join(idat)


def _png_header(body: bytes, pos: int) -> tuple:
    if len(body) != 13:
        raise ImageImportError(f"PNG IHDR chunk at offset {pos} has length {len(body)}, not 13")
    width, height, depth, colour, method, filt, interlace = struct.unpack(">IIBBBBB", body)
    if colour not in _PNG_DEPTHS or depth not in _PNG_DEPTHS[colour]:
        raise ImageImportError(f"PNG colour type {colour} with bit depth {depth} is invalid")
    if method or filt or interlace > 1:
        raise ImageImportError(f"PNG compression/filter/interlace method {method}/{filt}/"
                               f"{interlace} is invalid")
    _check_size(height, width, "PNG image")
    return width, height, depth, colour, interlace


def _png_palette(body: bytes, pos: int):
    import numpy as np
    if not body or len(body) % 3 or len(body) > 768:
        raise ImageImportError(f"PNG PLTE chunk at offset {pos} has invalid length {len(body)}")
    return np.frombuffer(body, np.uint8).reshape(-1, 3)


def _png_size(width: int, height: int, bits: int, interlace: int) -> int:
    """Bytes of filtered image data: one filter byte per row of each (non-empty) pass."""
    if not interlace:
        return height * (1 + (width * bits + 7) // 8)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            total += h * (1 + (w * bits + 7) // 8)
    return total


def _inflate(stream: bytes, size: int) -> bytes:
    """Inflate at most ``size`` bytes; refuse a stream that is short, long or corrupt."""
    if size > MAX_NATIVE:
        raise ImageImportError(f"PNG image of {size} bytes is too large for one DICOM value")
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(stream, size)
        extra = inflater.decompress(inflater.unconsumed_tail, 1) if inflater.unconsumed_tail \
            else b""
    except zlib.error as exc:
        raise ImageImportError(f"PNG zlib stream is corrupt: {exc}") from None
    if extra:
        raise ImageImportError(f"PNG zlib stream holds more than the {size} bytes the image "
                               "needs")
    if len(out) < size or not inflater.eof:
        raise ImageImportError(f"PNG zlib stream is truncated after {len(out)} of {size} bytes")
    return out


def _unfilter_pass(raw: bytes, width: int, height: int, depth: int, channels: int,
                   start: int = 0):
    """Undo the row filters of one pass and return (height, width, channels) samples."""
    import numpy as np
    bits = depth * channels
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    rows = np.frombuffer(raw, np.uint8, height * (stride + 1), start).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prior = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:]
        if kind > 4:
            raise ImageImportError(f"PNG row {y} has unknown filter type {kind}")
        out[y] = _unfilter_row(kind, line, prior, bpp)
        prior = out[y]
    if depth < 8:
        samples = np.unpackbits(out, axis=1).reshape(height, -1, depth)
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        values = (samples * weights).sum(axis=2, dtype=np.uint8)[:, :width * channels]
        return values.reshape(height, width, channels)
    if depth == 16:
        return out.view(">u2").reshape(height, width, channels)
    return out.reshape(height, width, channels)


def _unfilter_row(kind: int, line, prior, bpp: int):
    import numpy as np
    if kind == 0:
        return line
    if kind == 2:
        return line + prior
    if kind == 1:
        lanes = np.zeros(((len(line) + bpp - 1) // bpp) * bpp, np.uint8)
        lanes[:len(line)] = line
        summed = np.cumsum(lanes.reshape(-1, bpp), axis=0, dtype=np.uint64) & 0xFF
        return summed.astype(np.uint8).reshape(-1)[:len(line)]
    cur = bytearray(line.tobytes())
    up = prior.tobytes()
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if kind == 3:
            cur[i] = (cur[i] + ((a + b) >> 1)) & 0xFF
            continue
        c = up[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return np.frombuffer(bytes(cur), np.uint8)


def _adam7(raw: bytes, width: int, height: int, depth: int, channels: int):
    import numpy as np
    dtype = ">u2" if depth == 16 else np.uint8
    image = np.zeros((height, width, channels), dtype)
    pos = 0
    for x0, y0, dx, dy in _ADAM7:
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w <= 0 or h <= 0:
            continue
        image[y0::dy, x0::dx] = _unfilter_pass(raw, w, h, depth, channels, pos)
        pos += h * (1 + (w * depth * channels + 7) // 8)
    return image

