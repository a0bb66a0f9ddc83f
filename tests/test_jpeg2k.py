"""JPEG 2000 (OpenJPEG through glymur's libopenjp2) and HTJ2K (OpenJPH encode) against GDCM,
pydicom (pylibjpeg-openjpeg) and OpenJPH's own decoder.

Every corpus J2K file decodes to what GDCM's ``gdcmconv --raw`` and pydicom give; what we
encode, losslessly, decodes to the source pixels in GDCM (J2K; GDCM 3.0 has no HTJ2K), pydicom
and OpenJPH; lossy encodes stay within a stated PSNR and are recorded as PS3.3 asks. DCMTK 3.6.7
has no JPEG 2000 codec: it only has to read the files (dcmdump, no warnings). Broken and hostile
codestreams fail with one PixelDataError naming the frame, print nothing, and never crash.
"""
from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import corpus
from codec_cases import files_in, names
from conftest import dcmtk_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy.codecs import htj2k, jpeg2k
from dcmpy.dcmdata.element import Element
from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo, frame_bytes, pixel_array
from dcmpy.dcmdata.transcode import (compress, compression_ratio, decompress, encapsulate,
                                     mark_lossy)
from dcmpy.dcmdata.writer import WriteOptions

J2K_LOSSLESS, J2K = "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS, HTJ2K_RPCL, HTJ2K = (f"1.2.840.10008.1.2.4.{n}" for n in (201, 202, 203))
CORPUS_J2K = files_in(J2K_LOSSLESS, J2K, "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93")
PIXEL_DATA = 0x7FE00010


def _gdcm_raw(src: Path, tmp_path: Path):
    """GDCM's decode of ``src`` as a data set, or None when GDCM refuses it."""
    out = tmp_path / "gdcm_raw.dcm"
    result = run(["/usr/bin/gdcmconv", "--raw", str(src), str(out)])
    return dcmread(out) if result.rc == 0 else None


def _dcmtk_reads(path: Path) -> str:
    """DCMTK's dcmdump of a file we wrote: it must parse without a warning."""
    result = run(dcmtk_cmd("dcmdump", [path]))
    assert result.rc == 0 and not result.stderr, result.stderr
    return result.stdout.decode("latin-1")


# -- decoding the corpus ----------------------------------------------------------------------
@pytest.mark.parametrize("src", CORPUS_J2K, ids=names(CORPUS_J2K))
def test_corpus_decode_equals_gdcm_and_pydicom(src: Path, tmp_path: Path) -> None:
    reference = _gdcm_raw(src, tmp_path)
    if reference is None:
        # GDCM refuses it (a SIZ marker overwritten by a sequence delimiter): so do we, cleanly
        with pytest.raises(PixelDataError, match=r"^frame 1: JPEG 2000: the codestream holds"):
            pixel_array(dcmread(src))
        return
    ours = pixel_array(dcmread(src))
    np.testing.assert_array_equal(ours, pixel_array(reference))
    np.testing.assert_array_equal(ours, pydicom.dcmread(src).pixel_array)


@pytest.mark.parametrize("src", CORPUS_J2K, ids=names(CORPUS_J2K))
def test_decompress_matches_gdcm_photometric(src: Path, tmp_path: Path) -> None:
    """After decompression a YBR_RCT/YBR_ICT image is RGB, as GDCM writes it; DCMTK reads it."""
    reference = _gdcm_raw(src, tmp_path)
    if reference is None:
        return      # covered by the test above
    ds = decompress(dcmread(src))
    out = tmp_path / "ours.dcm"
    dcmwrite(out, ds)
    for keyword in ("PhotometricInterpretation", "SamplesPerPixel", "PlanarConfiguration"):
        assert getattr(ds, keyword, None) == getattr(reference, keyword, None), keyword
    np.testing.assert_array_equal(pixel_array(dcmread(out)), pixel_array(reference))
    assert "Little Endian Explicit" in _dcmtk_reads(out)


def test_jp2_file_in_a_frame_decodes() -> None:
    """Some writers store a JP2 file instead of a raw codestream: it decodes the same."""
    ds = dcmread(corpus.ensure_corpus() / "pd__GDCMJ2K_TextGBR.dcm")
    data = bytes(frame_bytes(ds, 0))
    assert data.startswith(b"\x00\x00\x00\x0cjP  ") and jpeg2k.read_header(data).jp2
    raw, _ = jpeg2k.codestream(data)
    info = PixelInfo.of(ds)
    np.testing.assert_array_equal(jpeg2k.decode(raw, info), jpeg2k.decode(data, info))


# -- encoding ----------------------------------------------------------------------------------
def _source(name: str):
    """A native data set: a corpus file, or one derived from one (12-bit signed, multi-frame)."""
    if name == "signed12":
        ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
        pixels = np.clip(pixel_array(ds).astype(int) - 1024, -2048, 2047).astype("<i2")
        ds.BitsStored, ds.HighBit = 12, 11
        ds[PIXEL_DATA] = Element(PIXEL_DATA, "OW", pixels)
        return ds
    if name == "overlay_without_icon":      # its icon is PALETTE COLOR: no lossy coding
        ds = dcmread(corpus.ensure_corpus() / "pd__examples_overlay.dcm")
        del ds[0x00880200]
        return ds
    if name == "mono_3frames":
        ds = dcmread(corpus.ensure_corpus() / "pd__MR_small.dcm")
        frame = pixel_array(ds)
        ds.NumberOfFrames = 3
        ds[PIXEL_DATA] = Element(PIXEL_DATA, "OW", np.stack([frame, frame[::-1], frame.T]))
        return ds
    return dcmread(corpus.ensure_corpus() / name)


ENCODE_SOURCES = ["cs__chrArab.dcm",                  # 8-bit unsigned, 32 x 32
                  "pd__examples_overlay.dcm",         # 12 in 16 bits, unsigned
                  "dd__77654033_CR1_6154",            # 12 bits, MONOCHROME1
                  "pd__CT_small.dcm",                 # 16-bit signed
                  "signed12",                         # 12 bits signed
                  "pd__examples_palette.dcm",         # PALETTE COLOR
                  "pd__examples_rgb_color.dcm",       # RGB -> YBR_RCT
                  "pd__ExplVR_BigEnd.dcm",            # RGB by plane, big endian
                  "pd__SC_rgb_small_odd.dcm",         # 3 x 3 RGB
                  "pd__SC_rgb_rle_2frame.dcm",        # multi-frame RGB (from RLE)
                  "pd__SC_rgb_rle_16bit_2frame.dcm",  # multi-frame 16-bit RGB (from RLE)
                  "mono_3frames"]


def _encode(name: str, ts_uid: str, tmp_path: Path, **options):
    ds = _source(name)
    expected = pixel_array(ds)
    photometric = str(ds.PhotometricInterpretation)
    compress(ds, ts_uid, **options)
    out = tmp_path / "ours.dcm"
    dcmwrite(out, ds)
    return out, expected, photometric


@pytest.mark.parametrize("name", ENCODE_SOURCES)
def test_lossless_j2k_decodes_exactly_in_gdcm_and_pydicom(name: str, tmp_path: Path) -> None:
    out, expected, photometric = _encode(name, J2K_LOSSLESS, tmp_path)
    ours = dcmread(out)
    assert ours.PhotometricInterpretation == ("YBR_RCT" if photometric == "RGB" else photometric)
    if int(ours.SamplesPerPixel) == 3:
        assert ours.PlanarConfiguration == 0
    np.testing.assert_array_equal(pixel_array(ours), expected)
    reference = _gdcm_raw(out, tmp_path)
    if reference is None:       # GDCM 3.0 cannot convert 16-bit RGB at all, not even the source
        assert name == "pd__SC_rgb_rle_16bit_2frame.dcm"
        assert _gdcm_raw(corpus.ensure_corpus() / name, tmp_path) is None
    else:
        np.testing.assert_array_equal(pixel_array(reference), expected)
        assert reference.PhotometricInterpretation == photometric
    np.testing.assert_array_equal(pydicom.dcmread(out).pixel_array, expected)
    text = _dcmtk_reads(out)
    assert "=JPEG2000LosslessOnly" in text and "PixelSequence" in text


@pytest.mark.parametrize("name", ENCODE_SOURCES)
def test_lossless_htj2k_decodes_exactly_in_pydicom_and_openjph(name: str,
                                                              tmp_path: Path) -> None:
    """Our OpenJPH encode decodes exactly in OpenJPEG (ours, pydicom's) and in OpenJPH."""
    out, expected, photometric = _encode(name, HTJ2K_LOSSLESS, tmp_path)
    ours = dcmread(out)
    assert ours.PhotometricInterpretation == ("YBR_RCT" if photometric == "RGB" else photometric)
    np.testing.assert_array_equal(pixel_array(ours), expected)
    np.testing.assert_array_equal(pydicom.dcmread(out).pixel_array, expected)
    info = PixelInfo.of(ours)
    first = expected[0] if info.frames > 1 else expected
    openjph = imagecodecs.htj2k_decode(bytes(frame_bytes(ours, 0, info)))
    np.testing.assert_array_equal(openjph.view(first.dtype) if openjph.dtype.itemsize ==
                                  first.dtype.itemsize else openjph.astype(first.dtype), first)
    text = _dcmtk_reads(out)        # DCMTK 3.6.7 does not know the HTJ2K syntaxes by name
    assert f"[{HTJ2K_LOSSLESS}]" in text and "PixelSequence" in text


PRECISIONS = [(8, 1, False), (8, 2, True), (8, 7, False), (8, 8, True), (16, 9, False),
              (16, 12, True), (16, 15, False), (16, 16, False), (16, 16, True)]


@pytest.mark.parametrize("samples,photometric", [(1, "MONOCHROME2"), (3, "RGB"), (4, "CMYK")])
@pytest.mark.parametrize("allocated,stored,signed", PRECISIONS)
def test_every_precision_round_trips(allocated: int, stored: int, signed: bool, samples: int,
                                     photometric: str) -> None:
    """1 to 16 bits, signed or not, 1/3/4 components: exact through our OpenJPEG binding and
    through imagecodecs' own OpenJPEG 2.5.4 build, for J2K and for HTJ2K; the SIZ marker
    carries BitsStored (J2K) and the sign."""
    info = PixelInfo(23, 31, samples, allocated, stored, stored - 1, signed, False,
                     photometric, 1)
    low, high = (-(1 << (stored - 1)), 1 << (stored - 1)) if signed else (0, 1 << stored)
    frame = np.random.default_rng(stored).integers(low, high, info.frame_shape()).astype(
        info.dtype)
    for module in (jpeg2k, htj2k):
        data = module.encode(frame, info)
        header = jpeg2k.read_header(data)
        assert header.signed == (signed,) * samples
        assert header.mct == (samples == 3)
        if module is jpeg2k:
            assert header.precisions == (stored,) * samples
        np.testing.assert_array_equal(jpeg2k.decode(data, info), frame)
        other = imagecodecs.jpeg2k_decode(data)
        np.testing.assert_array_equal(other.astype(np.int64), frame.astype(np.int64))


@pytest.mark.parametrize("progression", ["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"])
def test_j2k_options_are_written(progression: str, tmp_path: Path) -> None:
    ds = _source("pd__CT_small.dcm")
    expected = pixel_array(ds)
    compress(ds, J2K_LOSSLESS, progression=progression, tlm=True, resolutions=3)
    data = bytes(frame_bytes(ds, 0))
    cod = _markers(data)[0x52]
    assert (cod[1], cod[5]) == (["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"].index(progression), 2)
    assert 0x55 in _markers(data)                           # TLM
    out = tmp_path / "ours.dcm"
    dcmwrite(out, ds)
    np.testing.assert_array_equal(pixel_array(_gdcm_raw(out, tmp_path)), expected)
    with pytest.raises(PixelDataError, match="unknown progression order 'XYZW'"):
        jpeg2k.encode(expected, PixelInfo.of(dcmread(out)), progression="XYZW")


@pytest.mark.parametrize("ts_uid", ["1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93"])
def test_part2_syntaxes_decode_and_do_not_encode(ts_uid: str, tmp_path: Path) -> None:
    from dcmpy.codecs import CodecUnavailable, decoder, encoder
    ds = _source("pd__examples_rgb_color.dcm")
    expected = pixel_array(ds)
    compress(ds, J2K_LOSSLESS)
    path = tmp_path / "part2.dcm"
    dcmwrite(path, ds, WriteOptions(transfer_syntax=ts_uid))
    np.testing.assert_array_equal(pixel_array(dcmread(path)), expected)
    assert decoder(ts_uid) is jpeg2k.decode
    with pytest.raises(CodecUnavailable, match="cannot encode"):
        encoder(ts_uid)


def _markers(codestream: bytes) -> dict[int, bytes]:
    """The main header's marker segments (marker -> body) up to the first SOT."""
    found, pos = {}, 2
    while pos + 4 <= len(codestream) and codestream[pos + 1] != 0x90:
        marker, length = codestream[pos + 1], struct.unpack_from(">H", codestream, pos + 2)[0]
        found[marker] = codestream[pos + 4:pos + 2 + length]
        pos += 2 + length
    return found


@pytest.mark.parametrize("size", [(3, 3), (64, 64), (300, 484), (100, 5000)])
def test_htj2k_codestream_meets_the_rpcl_syntax(size: tuple[int, int]) -> None:
    """PS3.5 for .202: RPCL progression, TLM markers, lowest resolution at most 64 x 64;
    and the HT capability (CAP marker, Rsiz bit 14)."""
    rows, columns = size
    info = PixelInfo(rows, columns, 1, 16, 16, 15, False, False, "MONOCHROME2", 1)
    frame = np.random.default_rng(rows).integers(0, 65535, size, np.uint16)
    data = htj2k.encode(frame, info)
    markers = _markers(data)
    cod = markers[0x52]
    decompositions = cod[5]
    assert cod[1] == 2                                      # RPCL
    assert 0x55 in markers and 0x50 in markers              # TLM, CAP
    assert max(rows, columns) / 2 ** decompositions <= 64
    assert jpeg2k.read_header(data).high_throughput
    np.testing.assert_array_equal(jpeg2k.decode(data, info), frame)


@pytest.mark.parametrize("ts_uid", [HTJ2K_LOSSLESS, HTJ2K_RPCL, HTJ2K])
def test_openjph_made_htj2k_files_decode_like_pydicom(ts_uid: str, tmp_path: Path) -> None:
    """HTJ2K files made straight with imagecodecs/OpenJPH (not through our encoder)."""
    ds = dcmread(corpus.ensure_corpus() / "pd__examples_rgb_color.dcm")
    rgb = pixel_array(ds)
    lossy = ts_uid == HTJ2K
    data = imagecodecs.htj2k_encode(rgb, 0.005 if lossy else None, reversible=not lossy,
                                    rgb=True)
    ds[PIXEL_DATA] = Element(PIXEL_DATA, "OB", encapsulate([data]))
    ds.PhotometricInterpretation = "YBR_ICT" if lossy else "YBR_RCT"
    path = tmp_path / "openjph.dcm"
    dcmwrite(path, ds, WriteOptions(transfer_syntax=ts_uid))
    ours = pixel_array(dcmread(path))
    np.testing.assert_array_equal(ours, pydicom.dcmread(path).pixel_array)
    np.testing.assert_array_equal(ours, imagecodecs.jpeg2k_decode(data))   # OpenJPEG 2.5.4
    if lossy:
        # OpenJPH's own decoder wraps saturated samples (255 + e -> small values) on the
        # irreversible path; OpenJPEG clips them: so compare with the source instead
        assert np.abs(ours.astype(int) - rgb).max() <= 8
    else:
        np.testing.assert_array_equal(ours, imagecodecs.htj2k_decode(data))
        np.testing.assert_array_equal(ours, rgb)
    assert decompress(dcmread(path)).PhotometricInterpretation == "RGB"


# -- lossy ---------------------------------------------------------------------------------
def _psnr(a: np.ndarray, b: np.ndarray, bits: int) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(((1 << bits) - 1) ** 2 / mse)


LOSSY = [("pd__CT_small.dcm", J2K, {"lossy": True, "ratio": 10}, 45, "MONOCHROME2"),
         ("overlay_without_icon", J2K, {"lossy": True, "psnr": 50}, 48, "MONOCHROME2"),
         ("pd__examples_rgb_color.dcm", J2K, {"lossy": True, "ratio": 8}, 30, "YBR_ICT"),
         ("pd__CT_small.dcm", HTJ2K, {"lossy": True, "qstep": 0.002}, 45, "MONOCHROME2"),
         ("pd__examples_rgb_color.dcm", HTJ2K, {"lossy": True, "qstep": 0.01}, 30, "YBR_ICT")]


@pytest.mark.parametrize("name,ts_uid,options,bound,photometric", LOSSY,
                         ids=[f"{c[0]}-{c[1][-3:]}-{sorted(c[2].items())}" for c in LOSSY])
def test_lossy_encode_stays_within_psnr_and_is_recorded(name, ts_uid, options, bound,
                                                        photometric, tmp_path: Path) -> None:
    ds = _source(name)
    expected = pixel_array(ds)
    bits = int(ds.BitsStored)
    compress(ds, ts_uid, **options)
    module = jpeg2k if ts_uid == J2K else htj2k
    method = module.lossy_method(**options)
    mark_lossy(ds, compression_ratio(ds), method)
    out = tmp_path / "lossy.dcm"
    dcmwrite(out, ds)
    ours = dcmread(out)
    assert ours.PhotometricInterpretation == photometric
    assert (ours.LossyImageCompression, ours.LossyImageCompressionMethod) == (
        "01", "ISO_15444_1" if ts_uid == J2K else "ISO_15444_15")
    assert float(ours.LossyImageCompressionRatio) > 1
    decoded = pixel_array(ours)
    assert not np.array_equal(decoded, expected)
    assert _psnr(decoded, expected, bits) >= bound
    np.testing.assert_array_equal(decoded, pydicom.dcmread(out).pixel_array)
    if ts_uid == J2K:
        np.testing.assert_array_equal(decoded, pixel_array(_gdcm_raw(out, tmp_path)))


def test_lossless_options_refuse_a_rate() -> None:
    info = PixelInfo(8, 8, 1, 8, 8, 7, False, False, "MONOCHROME2", 1)
    frame = np.zeros((8, 8), np.uint8)
    with pytest.raises(PixelDataError, match="needs lossy encoding"):
        jpeg2k.encode(frame, info, ratio=10)
    with pytest.raises(PixelDataError, match="needs lossy encoding"):
        htj2k.encode(frame, info, qstep=0.1)
    assert jpeg2k.lossy_method() is None and htj2k.lossy_method() is None


@pytest.mark.parametrize("photometric,bits,lossy,message", [
    ("YBR_FULL_422", 8, False, "YBR_FULL_422 cannot be encoded"),
    ("YBR_RCT", 8, False, "YBR_RCT cannot be encoded"),
    ("MONOCHROME2", 32, False, "BitsAllocated 32"),
    ("PALETTE COLOR", 8, True, "PALETTE COLOR cannot be encoded lossily"),
])
def test_unencodable_pixels_are_refused(photometric: str, bits: int, lossy: bool,
                                        message: str) -> None:
    samples = 3 if photometric.startswith("YBR") else 1
    info = PixelInfo(4, 4, samples, bits, bits, bits - 1, False, False, photometric, 1)
    frame = np.zeros(info.frame_shape(), info.dtype)
    for module in (jpeg2k, htj2k):
        with pytest.raises(PixelDataError, match=message):
            module.encode(frame, info, lossy=lossy)


def test_lossy_compress_refuses_a_palette_icon() -> None:
    """Compressing converts nested pixel data too (as DCMTK's codecs do): a PALETTE COLOR icon
    is not coded lossily behind the user's back."""
    ds = dcmread(corpus.ensure_corpus() / "pd__examples_overlay.dcm")
    with pytest.raises(PixelDataError, match="PALETTE COLOR cannot be encoded lossily"):
        compress(ds, J2K, lossy=True)
    ds = dcmread(corpus.ensure_corpus() / "pd__examples_overlay.dcm")
    compress(ds, J2K_LOSSLESS)
    icon = ds.IconImageSequence[0]
    assert icon.PhotometricInterpretation == "PALETTE COLOR"
    assert bytes(frame_bytes(icon, 0)).startswith(b"\xff\x4f\xff\x51")


# -- threads ---------------------------------------------------------------------------------
def test_threaded_decode_gives_identical_frames() -> None:
    """Frames decode in parallel (ctypes releases the GIL; each call has its own streams and
    message lists) and give what a sequential decode gives."""
    ds = _source("pd__examples_rgb_color.dcm")
    info = PixelInfo.of(ds)
    frames = [np.roll(pixel_array(ds), shift, axis=1) for shift in range(8)]
    streams = [jpeg2k.encode(f, info) for f in frames[:4]] + [
        htj2k.encode(f, info) for f in frames[4:]]
    sequential = [jpeg2k.decode(s, info) for s in streams]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda s: jpeg2k.decode(s, info), streams * 3))
    for i, frame in enumerate(parallel):
        np.testing.assert_array_equal(frame, sequential[i % 8])
        np.testing.assert_array_equal(frame, frames[i % 8])


# -- broken and hostile codestreams ---------------------------------------------------------
_MONO = PixelInfo(64, 48, 1, 16, 12, 11, False, False, "MONOCHROME2", 1)
_FRAME = np.random.default_rng(7).integers(0, 4096, (64, 48), np.uint16)
_STREAMS = {"j2k": jpeg2k.encode(_FRAME, _MONO), "htj2k": htj2k.encode(_FRAME, _MONO)}


@pytest.mark.parametrize("kind", list(_STREAMS))
def test_truncated_codestreams_fail_cleanly(kind: str, capfd) -> None:
    """Cut anywhere, a codestream is an error naming the cause (strict mode: no grey fill),
    and OpenJPEG's messages go into that error, not to the console."""
    data = _STREAMS[kind]
    for cut in range(0, len(data) - 1, max(1, len(data) // 150)):
        with pytest.raises(PixelDataError, match=r"^JPEG 2000: ") as caught:
            jpeg2k.decode(data[:cut], _MONO)
        assert "\n" not in str(caught.value)
    assert capfd.readouterr() == ("", "")


def _with_frame(tmp_path: Path, data: bytes, size: tuple[int, int] = (128, 128)) -> Path:
    ds = dcmread(corpus.ensure_corpus() / "cmp__CT_small__j2k.dcm")
    ds.Rows, ds.Columns = size
    ds[PIXEL_DATA] = Element(PIXEL_DATA, "OB", encapsulate([data]))
    path = tmp_path / "bad.dcm"
    dcmwrite(path, ds)
    return path


def _siz(width: int, height: int, tile: int = 0, components: int = 1, ssiz: int = 15) -> bytes:
    """A main header whose SIZ declares the given image (and nothing else worth decoding)."""
    tile = tile or max(width, height)
    body = struct.pack(">H8IH", 0, width, height, 0, 0, tile, tile, 0, 0, components)
    body += bytes([ssiz, 1, 1]) * components
    return b"\xff\x4f\xff\x51" + struct.pack(">H", len(body) + 2) + body + b"\xff\xd9"


HOSTILE = {
    "huge-size": (_siz(0xFFFFFFF0, 0xFFFFFFF0), "the codestream holds 4294967280 x 4294967280"),
    "too-many-tiles": (_siz(300, 300, tile=1), "declares 90000 tiles (at most 65535)"),
    "16383-components": (_siz(128, 128, components=16383), "128 x 128 x 16383"),
    "38-bit-samples": (_siz(128, 128, ssiz=37), "38-bit samples do not fit BitsAllocated 16"),
    "zero-tile": (b"\xff\x4f\xff\x51" + struct.pack(">HH8IH3B", 41, 0, 128, 128, 0, 0, 0, 0,
                                                     0, 0, 1, 15, 1, 1), "invalid image or tile"),
    "subsampled": (_siz(128, 128)[:-5] + bytes([15, 2, 1]) + b"\xff\xd9",
                   "subsampled components"),
    "siz-length": (b"\xff\x4f\xff\x51\x00\x30" + bytes(60), "does not match its 0 components"),
    "empty": (b"", "not a JPEG 2000 codestream"),
    "jpeg-instead": (b"\xff\xd8\xff\xe0" + bytes(40), "not a JPEG 2000 codestream"),
    "jp2-without-codestream": (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x08free",
                               "no codestream box"),
    "jp2-bad-box": (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x04jp2c",
                    "box at offset 12 has length 4"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_headers_are_refused_before_decoding(case: str, tmp_path: Path,
                                                     capfd) -> None:
    data, message = HOSTILE[case]
    path = _with_frame(tmp_path, data, (300, 300) if case == "too-many-tiles" else (128, 128))
    pattern = r"^frame 1: JPEG 2000: .*" + re.escape(message)
    with pytest.raises(PixelDataError, match=pattern) as caught:
        pixel_array(dcmread(path))
    assert "\n" not in str(caught.value)
    with pytest.raises(PixelDataError, match="^frame 1: JPEG 2000: "):
        decompress(dcmread(path))
    assert capfd.readouterr() == ("", "")


def test_valid_header_without_tile_data_is_an_error() -> None:
    info = PixelInfo(128, 128, 1, 16, 16, 15, False, False, "MONOCHROME2", 1)
    with pytest.raises(PixelDataError, match="^JPEG 2000: cannot read the header: "):
        jpeg2k.decode(_siz(128, 128), info)


def test_htj2k_errors_name_htj2k() -> None:
    with pytest.raises(PixelDataError, match="^HTJ2K: cannot decode the frame: "):
        htj2k.decode(_STREAMS["htj2k"][:-40], _MONO)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(_STREAMS)),
       edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1,
                      max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 5000)))
def test_mutated_codestreams_never_crash(kind: str, edits, cut) -> None:
    """Random byte changes (mostly in the headers) and cuts: a frame of the declared shape,
    or a PixelDataError; never a crash, another exception or console output."""
    data = bytearray(_STREAMS[kind])
    for pos, value in edits:
        if pos < len(data):
            data[pos] = value
    if cut is not None:
        data = data[:cut]
    try:
        frame = jpeg2k.decode(bytes(data), _MONO)
    except PixelDataError as exc:
        assert str(exc).startswith("JPEG 2000: ") and "\n" not in str(exc)
    else:
        assert frame.shape == (64, 48) and frame.dtype == np.uint16


# -- the IOD after encoding --------------------------------------------------------------------
def _dciodvfy(path: Path) -> set[str]:
    result = run(["/usr/bin/dciodvfy", str(path)])
    return {line for line in result.stderr.decode("latin-1").splitlines()
            if line.startswith(("Error", "Warning"))}


@pytest.mark.parametrize("ts_uid,options", [(J2K_LOSSLESS, {}), (J2K, {"lossy": True, "ratio": 8})],
                         ids=["lossless", "lossy"])
@pytest.mark.parametrize("name", ["pd__examples_rgb_color.dcm", "pd__CT_small.dcm"])
def test_dciodvfy_finds_nothing_new(name: str, ts_uid: str, options: dict,
                                    tmp_path: Path) -> None:
    """dciodvfy checks the Photometric Interpretation against the transfer syntax (RGB is
    wrong for irreversible J2K colour) and the lossy attributes: our J2K output adds no
    message (this dciodvfy does not know the HTJ2K syntaxes)."""
    src = corpus.ensure_corpus() / name
    ds = dcmread(src)
    compress(ds, ts_uid, **options)
    if options:
        mark_lossy(ds, compression_ratio(ds), jpeg2k.lossy_method(**options))
    out = tmp_path / "ours.dcm"
    dcmwrite(out, ds)
    assert _dciodvfy(out) <= _dciodvfy(src)
    assert _dciodvfy(src)       # the comparison means something: it does report things
