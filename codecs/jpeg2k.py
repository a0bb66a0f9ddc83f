"""JPEG 2000 (1.2.840.10008.1.2.4.90-93) and HTJ2K decoding (.201-.203) through OpenJPEG 2.5.

A thin binding to the libopenjp2 that glymur loads (``glymur.lib.openjp2``), using its ctypes
structures but its own function prototypes and memory streams: a frame is decoded from and
encoded to memory, never through a temporary file. ctypes releases the GIL for every library
call, so frames decode in parallel. OpenJPEG's messages go to a per-call list (never to the
console) and end up in the error raised.

Before OpenJPEG sees a codestream, its SIZ marker is checked against the data set (size,
components, precision, tiles), so a hostile codestream cannot make the library allocate more
than the data set declares; the decoder runs in strict mode, so a truncated codestream is an
error, not a partly grey image.

Colour: a codestream with a multiple component transform (YBR_RCT, YBR_ICT) decodes to RGB, as
GDCM does; encoding RGB applies the reversible (lossless: YBR_RCT) or irreversible (lossy:
YBR_ICT) transform unless ``mct=False``.
"""
from __future__ import annotations

import ctypes
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dcmdata.pixels import PixelDataError, PixelInfo
from ._frames import as_unsigned

try:
    from glymur.lib import openjp2 as _glymur
except ImportError as exc:     # pragma: no cover - glymur is a dependency
    raise ImportError("glymur with OpenJPEG 2.5 (Debian package libopenjp2-7)") from exc

NAME = "JPEG 2000"
METHOD = "ISO_15444_1"          # Lossy Image Compression Method (PS3.3 C.7.6.1.1.5)

_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_SOC_SIZ = b"\xff\x4f\xff\x51"
_CODEC_J2K, _CODEC_JP2 = 0, 2
_CLRSPC = {1: 2, 3: 1, 4: 0}    # samples -> OPJ_CLRSPC_GRAY, OPJ_CLRSPC_SRGB, unspecified
_PROGRESSIONS = {"LRCP": 0, "RLCP": 1, "RPCL": 2, "PCRL": 3, "CPRL": 4}
_MAX_TILES = 65535              # Isot is 16 bits (ISO 15444-1 A.4.2)
_PARAMETER_SLACK = 1024         # bytes after the parameter structures, should the library's grow


def _load() -> ctypes.CDLL:
    """A private handle on glymur's libopenjp2, so that our prototypes never race glymur's."""
    shared = _glymur.OPENJP2
    if shared is None:
        raise ImportError("libopenjp2 (Debian package libopenjp2-7)")
    lib = ctypes.CDLL(shared._name, handle=shared._handle)
    p, b, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
    image = ctypes.POINTER(_glymur.ImageType)
    signatures = {
        "opj_stream_create": (p, [size, b]),
        "opj_stream_destroy": (None, [p]),
        "opj_stream_set_read_function": (None, [p, p]),
        "opj_stream_set_write_function": (None, [p, p]),
        "opj_stream_set_skip_function": (None, [p, p]),
        "opj_stream_set_seek_function": (None, [p, p]),
        "opj_stream_set_user_data": (None, [p, p, p]),
        "opj_stream_set_user_data_length": (None, [p, ctypes.c_uint64]),
        "opj_create_decompress": (p, [ctypes.c_int]),
        "opj_create_compress": (p, [ctypes.c_int]),
        "opj_destroy_codec": (None, [p]),
        "opj_set_info_handler": (b, [p, p, p]),
        "opj_set_warning_handler": (b, [p, p, p]),
        "opj_set_error_handler": (b, [p, p, p]),
        "opj_set_default_decoder_parameters": (None, [p]),
        "opj_setup_decoder": (b, [p, p]),
        "opj_decoder_set_strict_mode": (b, [p, b]),
        "opj_read_header": (b, [p, p, ctypes.POINTER(image)]),
        "opj_decode": (b, [p, p, image]),
        "opj_end_decompress": (b, [p, p]),
        "opj_set_default_encoder_parameters": (None, [p]),
        "opj_setup_encoder": (b, [p, p, image]),
        "opj_encoder_set_extra_options": (b, [p, ctypes.POINTER(ctypes.c_char_p)]),
        "opj_image_create": (image, [ctypes.c_uint32, p, ctypes.c_int]),
        "opj_image_destroy": (None, [image]),
        "opj_start_compress": (b, [p, image, p]),
        "opj_encode": (b, [p, p]),
        "opj_end_compress": (b, [p, p]),
    }
    for fname, (restype, argtypes) in signatures.items():
        func = getattr(lib, fname)
        func.restype, func.argtypes = restype, argtypes
    if not hasattr(lib, "opj_decoder_set_strict_mode"):     # pragma: no cover - OpenJPEG < 2.5
        raise ImportError("OpenJPEG 2.5 or later")
    return lib


_lib = _load()
_MESSAGE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)
_READ = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
_SKIP = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
_SEEK = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p)
_END = ctypes.c_size_t(-1).value     # (OPJ_SIZE_T)-1: end of stream


# -- memory streams and codec sessions ------------------------------------------------------
class _Session:
    """One OpenJPEG codec with a memory stream and the messages it reported; closed on exit.

    The stream reads ``source`` (decoding) or appends to ``self.output`` (encoding). The
    callbacks are closures over this object (no shared state between threads) and never raise.
    """

    def __init__(self, codec_format: int, source: bytes | None = None) -> None:
        self.messages: list[str] = []
        self.source, self.pos = source, 0
        self.output = bytearray()
        self.image = None
        self._callbacks = self._make_callbacks()
        decoding = source is not None
        create = _lib.opj_create_decompress if decoding else _lib.opj_create_compress
        self.codec = create(codec_format)
        size = len(source) if decoding else 1 << 20
        self.stream = _lib.opj_stream_create(max(size, 1), int(decoding))
        if not self.codec or not self.stream:
            self.close()
            raise PixelDataError(f"{NAME}: OpenJPEG cannot create a codec")
        info, warning, error, read, write, skip, seek = self._callbacks
        _lib.opj_set_info_handler(self.codec, ctypes.cast(info, ctypes.c_void_p), None)
        _lib.opj_set_warning_handler(self.codec, ctypes.cast(warning, ctypes.c_void_p), None)
        _lib.opj_set_error_handler(self.codec, ctypes.cast(error, ctypes.c_void_p), None)
        io = read if decoding else write
        setter = (_lib.opj_stream_set_read_function if decoding
                  else _lib.opj_stream_set_write_function)
        setter(self.stream, ctypes.cast(io, ctypes.c_void_p))
        _lib.opj_stream_set_skip_function(self.stream, ctypes.cast(skip, ctypes.c_void_p))
        _lib.opj_stream_set_seek_function(self.stream, ctypes.cast(seek, ctypes.c_void_p))
        _lib.opj_stream_set_user_data(self.stream, None, None)
        if decoding:
            _lib.opj_stream_set_user_data_length(self.stream, len(source))

    def _make_callbacks(self) -> tuple:
        def message(prefix: str):
            def note(text: bytes, _user: Any) -> None:
                self.messages.append(prefix + text.decode("latin-1").strip())
            return _MESSAGE(note)

        def read(buffer: int, count: int, _user: Any) -> int:
            left = len(self.source) - self.pos
            if left <= 0:
                return _END
            count = min(count, left)
            ctypes.memmove(buffer, self.source[self.pos:self.pos + count], count)
            self.pos += count
            return count

        def write(buffer: int, count: int, _user: Any) -> int:
            self.output[self.pos:self.pos + count] = ctypes.string_at(buffer, count)
            self.pos += count
            return count

        def limit() -> int:
            return len(self.source) if self.source is not None else len(self.output)

        def skip(count: int, _user: Any) -> int:
            if not 0 <= self.pos + count <= limit():
                return -1
            self.pos += count
            return count

        def seek(position: int, _user: Any) -> int:
            if not 0 <= position <= limit():
                return 0
            self.pos = position
            return 1

        return (_MESSAGE(lambda _text, _user: None), message("warning: "), message(""),
                _READ(read), _READ(write), _SKIP(skip), _SEEK(seek))

    def check(self, ok: int, what: str) -> None:
        if not ok:
            raise PixelDataError(f"{NAME}: cannot {what}: {self.reason()}")

    def reason(self) -> str:
        errors = [m for m in self.messages if not m.startswith("warning: ")]
        return "; ".join(errors or self.messages or ["OpenJPEG gave no reason"])

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.stream:
            _lib.opj_stream_destroy(self.stream)
        if self.codec:
            _lib.opj_destroy_codec(self.codec)
        if self.image:
            _lib.opj_image_destroy(self.image)
        self.stream = self.codec = self.image = None


def _parameters(struct_type: type) -> ctypes.Array:
    """A zeroed buffer for an OpenJPEG parameter structure, with slack at the end."""
    return ctypes.create_string_buffer(ctypes.sizeof(struct_type) + _PARAMETER_SLACK)


# -- codestream header -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Header:
    """What the SIZ and COD markers of a JPEG 2000 codestream declare."""
    width: int
    height: int
    precisions: tuple[int, ...]
    signed: tuple[bool, ...]
    tiles: int
    mct: bool
    reversible: bool
    high_throughput: bool
    jp2: bool

    @property
    def components(self) -> int:
        return len(self.precisions)


def codestream(data: bytes) -> tuple[bytes, bool]:
    """The J2K codestream in ``data`` (a raw codestream or a JP2 file) and whether it was
    wrapped in JP2."""
    if data.startswith(_SOC_SIZ):
        return data, False
    if data.startswith(_JP2_SIGNATURE):
        pos = 0
        while pos + 8 <= len(data):
            length, kind = struct.unpack_from(">I4s", data, pos)
            header = 8
            if length == 1:
                if pos + 16 > len(data):
                    break
                length, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
            elif length == 0:
                length = len(data) - pos
            if length < header:
                raise PixelDataError(f"{NAME}: JP2 box at offset {pos} has length {length}")
            if kind == b"jp2c":
                return data[pos + header:pos + length], True
            pos += length
        raise PixelDataError(f"{NAME}: the JP2 file has no codestream box")
    raise PixelDataError(f"{NAME}: not a JPEG 2000 codestream (starts with "
                         f"{data[:4].hex(' ') or 'nothing'})")


def read_header(data: bytes) -> Header:
    """The main header of a codestream (J2K or JP2), checked for consistency."""
    stream, jp2 = codestream(data)
    if len(stream) < 6:
        raise PixelDataError(f"{NAME}: the codestream ends inside its SIZ marker")
    (lsiz,) = struct.unpack_from(">H", stream, 4)
    if len(stream) < 4 + lsiz or lsiz < 41:
        raise PixelDataError(f"{NAME}: the codestream ends inside its SIZ marker "
                             f"(length {lsiz}, {len(stream) - 4} bytes left)")
    rsiz, xsiz, ysiz, xo, yo, xt, yt, xto, yto, csiz = struct.unpack_from(">H8IH", stream, 6)
    if lsiz != 38 + 3 * csiz or csiz == 0:
        raise PixelDataError(f"{NAME}: SIZ marker length {lsiz} does not match its {csiz} "
                             f"components")
    if not (xo < xsiz and yo < ysiz and xt and yt and xto <= xo and yto <= yo
            and xto + xt > xo and yto + yt > yo):
        raise PixelDataError(f"{NAME}: SIZ marker declares an invalid image or tile grid "
                             f"({xsiz} x {ysiz} at {xo},{yo}; tiles {xt} x {yt} at {xto},{yto})")
    tiles = math.ceil((xsiz - xto) / xt) * math.ceil((ysiz - yto) / yt)
    comps = [struct.unpack_from(">3B", stream, 42 + 3 * i) for i in range(csiz)]
    if any(dx != 1 or dy != 1 for _s, dx, dy in comps):
        raise PixelDataError(f"{NAME}: subsampled components are not supported in DICOM")
    mct, reversible = _coding_style(stream, 4 + lsiz)
    return Header(width=xsiz - xo, height=ysiz - yo,
                  precisions=tuple((s & 0x7F) + 1 for s, _dx, _dy in comps),
                  signed=tuple(bool(s & 0x80) for s, _dx, _dy in comps), tiles=tiles,
                  mct=mct, reversible=reversible, high_throughput=bool(rsiz & 0x4000), jp2=jp2)


def _coding_style(stream: bytes, pos: int) -> tuple[bool, bool]:
    """(multiple component transform used, reversible wavelet) from the main header's COD
    marker; (False, True) when it cannot be found."""
    while pos + 4 <= len(stream) and stream[pos] == 0xFF:
        marker, length = stream[pos + 1], struct.unpack_from(">H", stream, pos + 2)[0]
        if marker == 0x52 and pos + 14 <= len(stream):     # COD: Scod SGcod(4) SPcod(5..)
            return bool(stream[pos + 8]), stream[pos + 13] == 1
        if marker == 0x90 or length < 2:                    # SOT: end of the main header
            break
        pos += 2 + length
    return False, True


def _check_header(header: Header, info: PixelInfo) -> None:
    if (header.height, header.width, header.components) != (info.rows, info.columns,
                                                            info.samples):
        raise PixelDataError(f"{NAME}: the codestream holds {header.height} x {header.width} x "
                             f"{header.components}, the data set declares {info.rows} x "
                             f"{info.columns} x {info.samples}")
    if header.tiles > _MAX_TILES:
        raise PixelDataError(f"{NAME}: the codestream declares {header.tiles} tiles "
                             f"(at most {_MAX_TILES})")
    deepest = max(header.precisions)
    if deepest > min(8 * info.bytes_per_sample, 31):
        raise PixelDataError(f"{NAME}: {deepest}-bit samples do not fit BitsAllocated "
                             f"{info.bits_allocated}")


# -- decoding -------------------------------------------------------------------------------
def decode(data: Any, info: PixelInfo) -> np.ndarray:
    """One frame (a J2K or HTJ2K codestream, or a JP2 file) as an array of the data set's
    shape and type; colour comes back interleaved, as RGB when the codestream used an MCT."""
    data = bytes(data)
    header = read_header(data)
    _check_header(header, info)
    with _Session(_CODEC_JP2 if header.jp2 else _CODEC_J2K, data) as session:
        params = _parameters(_glymur.DecompressionParametersType)
        _lib.opj_set_default_decoder_parameters(params)
        session.check(_lib.opj_setup_decoder(session.codec, params), "set up the decoder")
        _lib.opj_decoder_set_strict_mode(session.codec, 1)
        image = ctypes.POINTER(_glymur.ImageType)()
        ok = _lib.opj_read_header(session.stream, session.codec, ctypes.byref(image))
        session.image = image if image else None
        session.check(ok, "read the header")
        try:
            session.check(_lib.opj_decode(session.codec, session.stream, image),
                          "decode the frame")
            session.check(_lib.opj_end_decompress(session.codec, session.stream),
                          "decode the frame")
            return _gather(image.contents, info)
        except MemoryError:
            raise PixelDataError(f"{NAME}: not enough memory to decode the frame") from None


def _gather(image: Any, info: PixelInfo) -> np.ndarray:
    """The decoded components, checked again (OpenJPEG's own view) and interleaved."""
    if image.numcomps != info.samples:
        raise PixelDataError(f"{NAME}: OpenJPEG decoded {image.numcomps} components, the data "
                             f"set declares {info.samples}")
    out = np.empty((info.rows, info.columns, info.samples), info.dtype)
    for i in range(info.samples):
        comp = image.comps[i]
        if (comp.h, comp.w, comp.dx, comp.dy) != (info.rows, info.columns, 1, 1) or (
                not comp.data):
            raise PixelDataError(f"{NAME}: component {i} was decoded as {comp.h} x {comp.w} "
                                 f"(sampling {comp.dx} x {comp.dy}), the data set declares "
                                 f"{info.rows} x {info.columns}")
        plane = np.ctypeslib.as_array(comp.data, shape=(info.rows, info.columns))
        np.copyto(out[:, :, i], plane, casting="unsafe")
    return out[:, :, 0] if info.samples == 1 else out


def decoded_photometric(info: PixelInfo, data: Any, **_options: Any) -> str:
    """RGB for colour stored with a component transform (YBR_RCT, YBR_ICT, or an MCT flag in
    the codestream): OpenJPEG undoes it while decoding."""
    if info.samples < 3:
        return info.photometric
    if info.photometric in ("YBR_RCT", "YBR_ICT"):
        return "RGB"
    try:
        mct = read_header(bytes(data)).mct
    except PixelDataError:
        return info.photometric     # decode() will name the problem
    return "RGB" if mct else info.photometric


# -- encoding -------------------------------------------------------------------------------
def check_encodable(info: PixelInfo, name: str, lossy: bool) -> None:
    """Refuse what a JPEG 2000 family codec cannot store in DICOM: subsampled or already
    transformed colour, palette indices coded lossily, more than 16 bits, a High Bit not at
    Bits Stored - 1."""
    if lossy and info.photometric == "PALETTE COLOR":
        raise PixelDataError(f"{name}: PALETTE COLOR cannot be encoded lossily (the indices "
                             f"would change)")
    if info.photometric in ("YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_RCT",
                            "YBR_ICT"):
        raise PixelDataError(f"{name}: Photometric Interpretation {info.photometric} cannot "
                             f"be encoded (convert the pixels to RGB first)")
    if info.bits_allocated not in (8, 16):
        raise PixelDataError(f"{name}: BitsAllocated {info.bits_allocated} cannot be encoded "
                             f"(8 or 16)")
    if info.high_bit != info.bits_stored - 1:
        raise PixelDataError(f"{name}: HighBit {info.high_bit} is not BitsStored - 1")


def sample_values(frame: Any, info: PixelInfo) -> np.ndarray:
    """The frame's samples as int32 values of BitsStored bits (sign-extended when signed),
    shape (rows, columns[, samples])."""
    arr = as_unsigned(frame, info).astype(np.int32)
    if info.signed:
        sign = 1 << (info.bits_stored - 1)
        arr = (arr ^ sign) - sign
    return arr


def uses_mct(info: PixelInfo, mct: bool = True) -> bool:
    return mct and info.samples == 3 and info.photometric == "RGB"


def resolutions_for(width: int, height: int, wanted: int = 6) -> int:
    """At most ``wanted`` resolution levels, fewer for images too small for them."""
    return max(1, min(wanted, int(math.log2(min(width, height))) + 1))


def encode(frame: Any, info: PixelInfo, lossy: bool = False, ratio: float | None = None,
           psnr: float | None = None, mct: bool = True, resolutions: int = 6,
           progression: str = "LRCP", tlm: bool = False) -> bytes:
    """One frame as a JPEG 2000 codestream at precision BitsStored.

    Lossless (5/3 wavelet, RCT for RGB) unless ``lossy``: then the 9/7 wavelet and ICT, at
    compression ``ratio`` (e.g. 10 for 10:1) or ``psnr`` dB when given, else at the highest
    quality the irreversible path keeps. ``progression`` is LRCP RLCP RPCL PCRL or CPRL.
    """
    check_encodable(info, NAME, lossy)
    if not lossy and (ratio or psnr):
        raise PixelDataError(f"{NAME}: a ratio or PSNR needs lossy encoding")
    if progression not in _PROGRESSIONS:
        raise PixelDataError(f"{NAME}: unknown progression order {progression!r}")
    values = sample_values(frame, info).reshape(info.rows, info.columns, info.samples)
    with _Session(_CODEC_J2K) as session:
        session.image = _image(values, info)
        params = _parameters(_glymur.CompressionParametersType)
        _lib.opj_set_default_encoder_parameters(params)
        p = _glymur.CompressionParametersType.from_buffer(params)
        p.tcp_numlayers, p.tcp_rates[0], p.cp_disto_alloc = 1, 0.0, 1
        if lossy:
            p.irreversible = 1
            if psnr:
                p.cp_disto_alloc, p.cp_fixed_quality, p.tcp_distoratio[0] = 0, 1, psnr
            elif ratio:
                p.tcp_rates[0] = ratio
        p.numresolution = resolutions_for(info.columns, info.rows, resolutions)
        p.prog_order = _PROGRESSIONS[progression]
        p.tcp_mct = int(uses_mct(info, mct))
        session.check(_lib.opj_setup_encoder(session.codec, params, session.image),
                      "set up the encoder")
        if tlm:
            options = (ctypes.c_char_p * 2)(b"TLM=YES", None)
            session.check(_lib.opj_encoder_set_extra_options(session.codec, options),
                          "write TLM markers")
        session.check(_lib.opj_start_compress(session.codec, session.image, session.stream),
                      "encode the frame")
        session.check(_lib.opj_encode(session.codec, session.stream), "encode the frame")
        session.check(_lib.opj_end_compress(session.codec, session.stream), "encode the frame")
        return bytes(session.output)


def _image(values: np.ndarray, info: PixelInfo) -> Any:
    """An OpenJPEG image holding ``values`` (rows, columns, samples)."""
    params = (_glymur.ImageComptParmType * info.samples)()
    for p in params:
        p.dx = p.dy = 1
        p.w, p.h, p.x0, p.y0 = info.columns, info.rows, 0, 0
        p.prec = p.bpp = info.bits_stored
        p.sgnd = int(info.signed)
    image = _lib.opj_image_create(info.samples, params, _CLRSPC[info.samples])
    if not image:
        raise PixelDataError(f"{NAME}: OpenJPEG cannot allocate a {info.rows} x "
                             f"{info.columns} image")
    img = image.contents
    img.x0, img.y0, img.x1, img.y1 = 0, 0, info.columns, info.rows
    for i in range(info.samples):
        plane = np.ctypeslib.as_array(img.comps[i].data, shape=(info.rows, info.columns))
        plane[...] = values[:, :, i]
    return image


def encoded_photometric(info: PixelInfo, lossy: bool = False, mct: bool = True,
                        **_options: Any) -> str:
    if not uses_mct(info, mct):
        return info.photometric
    return "YBR_ICT" if lossy else "YBR_RCT"


def lossy_method(lossy: bool = False, **_options: Any) -> str | None:
    """The Lossy Image Compression Method to record for an encode with these options."""
    return METHOD if lossy else None
