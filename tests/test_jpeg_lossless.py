"""JPEG Lossless (Process 14, .57 and .70 SV1): our Cython codec against DCMTK, GDCM and
libjpeg-turbo 3 / liblj92 (imagecodecs), in both directions, and hostile codestreams.

Images are made here with NumPy (8/12/16 bits, signed and unsigned, mono and RGB, multi-frame,
with the extreme values and jumps of 2^(P-1) that need difference category 16) and encoded by
DCMTK's dcmcjpeg (every predictor, point transform), GDCM's gdcmconv, libjpeg-turbo and ours.
Every decoder must give the source pixels exactly; our dcmdjpeg must write the data set DCMTK's
writes, byte for byte. Broken codestreams fail with one line naming frame and cause.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
from codec_cases import dataset_bytes, files_in, names
from conftest import dcmtk_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy._ext import ljpeg
from dcmpy.apps import dcmdjpeg
from dcmpy.codecs import jpeg_lossless, supported
from dcmpy.dcmdata.element import Element
from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo, frame_bytes, native_pixels, pixel_array
from dcmpy.dcmdata.transcode import compress, decompress, encapsulate

LOSSLESS = "1.2.840.10008.1.2.4.57"
SV1 = "1.2.840.10008.1.2.4.70"
ROWS, COLUMNS = 24, 33

# name: (BitsAllocated, BitsStored, signed, SamplesPerPixel, frames)
IMAGES = {
    "8u": (8, 8, False, 1, 1), "6u": (8, 6, False, 1, 1), "8u-rgb": (8, 8, False, 3, 1),
    "12u": (16, 12, False, 1, 1), "12s": (16, 12, True, 1, 1), "16u": (16, 16, False, 1, 1),
    "16s": (16, 16, True, 1, 1), "16u-rgb": (16, 16, False, 3, 1),
    "8u-3frames": (8, 8, False, 1, 3),
    "12s-2frames": (16, 12, True, 1, 2),
}


def _pixels(bits: int, stored: int, signed: bool, samples: int, frames: int,
            rows: int = ROWS, columns: int = COLUMNS, seed: int = 0) -> np.ndarray:
    """Gradients and noise over the whole range, the extremes, and a jump of 2^(stored-1)."""
    rng = np.random.default_rng(seed)
    lo = -(1 << (stored - 1)) if signed else 0
    span = 1 << stored
    y, x = np.mgrid[0:rows, 0:columns]
    base = (x * 97 + y * 31)[None, :, :, None] + rng.integers(-40, 40, (frames, rows, columns,
                                                                         samples))
    img = lo + (base + 7 * np.arange(samples)) % span
    img[:, 0, :4] = np.array([lo, lo + span // 2, lo + span - 1, lo])[:, None]
    return img.astype(f"<{'i' if signed else 'u'}{bits // 8}")


def _write(path: Path, img: np.ndarray, bits: int, stored: int, signed: bool) -> None:
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    frames, rows, columns, samples = img.shape
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
    ds.PixelRepresentation = int(signed)
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = str(frames)
    ds[0x7FE00010] = Element(0x7FE00010, "OB" if bits == 8 else "OW", img.tobytes())
    dcmwrite(path, ds)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, tuple[Path, np.ndarray]]:
    """Each image as an uncompressed file, and its pixel array."""
    folder = tmp_path_factory.mktemp("ljpeg-sources")
    made = {}
    for name, (bits, stored, signed, samples, frames) in IMAGES.items():
        path = folder / f"{name}.dcm"
        _write(path, _pixels(bits, stored, signed, samples, frames), bits, stored, signed)
        made[name] = (path, pixel_array(dcmread(path)))
    return made


def _native_frames(path: Path) -> np.ndarray:
    """The stored sample bit patterns, (frames, rows, columns, samples), unsigned."""
    ds = dcmread(path)
    info = PixelInfo.of(ds)
    raw = np.frombuffer(bytes(native_pixels(ds, info)), f"<u{info.bytes_per_sample}")
    return raw.reshape(info.frames, info.rows, info.columns, info.samples)


def _dcmdjpeg_both(src: Path, tmp_path: Path, options: tuple = ()) -> Path:
    """DCMTK's dcmdjpeg and ours on ``src``: the data sets must be identical; DCMTK's file."""
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmdjpeg", [*options, src, theirs]))
    assert ref.rc == 0, ref.stderr
    assert dcmdjpeg.main([*options, str(src), str(ours)]) == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)
    return theirs


# -- decoding what the peers wrote -----------------------------------------------------------
CORPUS = [p for p in files_in(LOSSLESS, SV1) if 0x7FE00010 in dcmread(p)]


@pytest.mark.parametrize("src", CORPUS, ids=names(CORPUS))
@pytest.mark.parametrize("options", [(), ("+pl",), ("+te",)], ids=" ".join)
def test_corpus_files_match_dcmtk(src: Path, options: tuple, tmp_path: Path) -> None:
    theirs = _dcmdjpeg_both(src, tmp_path, options)
    np.testing.assert_array_equal(pixel_array(dcmread(src)), pixel_array(dcmread(theirs)))


DCMCJPEG = [("+e1",), *(("+el", "+sv", str(k)) for k in range(1, 8)), ("+el", "+pt", "3"),
            ("+e1", "+pt", "1")]


@pytest.mark.parametrize("options", DCMCJPEG, ids=" ".join)
@pytest.mark.parametrize("image", IMAGES)
def test_dcmtk_encodings(image: str, options: tuple, sources, tmp_path: Path) -> None:
    src, expected = sources[image]
    encoded = tmp_path / "enc.dcm"
    result = run(dcmtk_cmd("dcmcjpeg", [*options, src, encoded]))
    assert result.rc == 0, result.stderr
    theirs = _dcmdjpeg_both(encoded, tmp_path)
    ours = pixel_array(dcmread(encoded))
    np.testing.assert_array_equal(ours, pixel_array(dcmread(theirs)))
    if "+pt" not in options:        # a point transform drops low bits: not lossless
        np.testing.assert_array_equal(ours, expected)
    # our encoder writes DCMTK's codestreams, byte for byte (same Huffman tables, layout)
    dcmtk = dcmread(encoded)
    predictor = int(options[options.index("+sv") + 1]) if "+sv" in options else (
        1 if "+e1" in options else 6)
    point_transform = int(options[options.index("+pt") + 1]) if "+pt" in options else 0
    again = compress(dcmread(src), dcmtk.transfer_syntax.uid, predictor=predictor,
                     point_transform=point_transform)
    for i in range(PixelInfo.of(again).frames):
        assert bytes(frame_bytes(again, i)) == bytes(frame_bytes(dcmtk, i))


@pytest.mark.parametrize("image", IMAGES)
def test_gdcm_encodings(image: str, sources, tmp_path: Path) -> None:
    src, expected = sources[image]
    encoded = tmp_path / "enc.dcm"
    result = run(["gdcmconv", "--jpeg", str(src), str(encoded)])
    assert result.rc == 0, result.stderr
    assert dcmread(encoded).transfer_syntax.uid == SV1
    _dcmdjpeg_both(encoded, tmp_path)
    np.testing.assert_array_equal(pixel_array(dcmread(encoded)), expected)


@pytest.mark.parametrize("precision", [2, 5, 8, 9, 12, 15, 16])
@pytest.mark.parametrize("samples", [1, 3])
def test_libjpeg_turbo_encodings(precision: int, samples: int) -> None:
    """libjpeg-turbo 3's lossless encoder (every predictor) and liblj92's (mono)."""
    rng = np.random.default_rng(precision)
    shape = (19, 23, samples) if samples > 1 else (19, 23)
    img = rng.integers(0, 1 << precision, shape).astype(np.uint8 if precision <= 8 else np.uint16)
    streams = [imagecodecs.jpeg8_encode(img, lossless=True, predictor=k, bitspersample=precision,
                                        **({"colorspace": "RGB", "outcolorspace": "RGB"}
                                           if samples > 1 else {})) for k in range(1, 8)]
    if samples == 1:
        streams.append(imagecodecs.ljpeg_encode(img, bitspersample=precision))
    for stream in streams:
        out, _ = ljpeg.decode(np.frombuffer(stream, np.uint8), 19, 23, samples, 16)
        np.testing.assert_array_equal(out.reshape(shape), img)


# -- what we write, decoded by the peers -----------------------------------------------------
ENCODINGS = [{}, *({"predictor": k} for k in range(2, 8)), {"restart_rows": 1},
             {"predictor": 6, "restart_rows": 5}, {"point_transform": 2}]


def _encoding_id(options: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items()) or "sv1"


@pytest.mark.parametrize("options", ENCODINGS, ids=_encoding_id)
@pytest.mark.parametrize("image", IMAGES)
def test_peers_decode_our_encodings(image: str, options: dict, sources, tmp_path: Path) -> None:
    src, expected = sources[image]
    ds = dcmread(src)
    syntax = LOSSLESS if options.get("predictor", 1) != 1 else SV1
    compress(ds, syntax, **options)
    encoded = tmp_path / "enc.dcm"
    dcmwrite(encoded, ds)
    ours = pixel_array(dcmread(encoded))
    if options.get("point_transform"):     # the two low bits are dropped, the rest kept
        decoded = decompress(dcmread(encoded))
        kept = _native_frames(src) >> 2 << 2
        assert bytes(native_pixels(decoded, PixelInfo.of(decoded))) == kept.tobytes()
    else:
        np.testing.assert_array_equal(ours, expected)
    theirs = _dcmdjpeg_both(encoded, tmp_path)
    np.testing.assert_array_equal(pixel_array(dcmread(theirs)), ours)
    _gdcm_decodes(encoded, src, ours, tmp_path)
    native = _native_frames(theirs)
    decoded = dcmread(encoded)
    for i in range(native.shape[0]):
        stream = bytes(frame_bytes(decoded, i))
        turbo = imagecodecs.jpeg8_decode(stream)
        np.testing.assert_array_equal(turbo.reshape(native.shape[1:]), native[i])
        if not (options.get("restart_rows") or options.get("point_transform")):
            # liblj92 knows neither restart markers nor the point transform
            lj92 = imagecodecs.ljpeg_decode(stream)
            np.testing.assert_array_equal(lj92.reshape(native.shape[1:]), native[i])


def test_planar_source_matches_dcmtk(sources, tmp_path: Path) -> None:
    """Colour stored by plane is encoded interleaved, as DCMTK does, to the same codestream."""
    _, expected = sources["8u-rgb"]
    ds = dcmread(sources["8u-rgb"][0])
    ds.PlanarConfiguration = 1
    ds[0x7FE00010] = Element(0x7FE00010, "OB", expected.transpose(2, 0, 1).tobytes())
    src = tmp_path / "planar.dcm"
    dcmwrite(src, ds)
    np.testing.assert_array_equal(pixel_array(dcmread(src)), expected)
    theirs = tmp_path / "theirs.dcm"
    assert run(dcmtk_cmd("dcmcjpeg", ["+e1", src, theirs])).rc == 0
    ours = compress(dcmread(src), SV1)
    assert bytes(frame_bytes(ours, 0)) == bytes(frame_bytes(dcmread(theirs), 0))
    np.testing.assert_array_equal(pixel_array(ours), expected)


def _gdcm_decodes(encoded: Path, src: Path, expected: np.ndarray, tmp_path: Path) -> None:
    """gdcmconv --raw gives ``expected``, or fails exactly as on its own encoding of the
    source (GDCM 3.0.21 aborts on 8-bit lossless JPEG whose BitsStored is below 8, whoever
    encoded it)."""
    gdcm = tmp_path / "gdcm.dcm"
    result = run(["gdcmconv", "--raw", str(encoded), str(gdcm)])
    if result.rc != 0:
        own = tmp_path / "gdcm-own.dcm"
        assert run(["gdcmconv", "--jpeg", str(src), str(own)]).rc == 0
        again = run(["gdcmconv", "--raw", str(own), str(gdcm)])
        assert (again.rc, again.stderr) == (result.rc, result.stderr)
        return
    np.testing.assert_array_equal(pixel_array(dcmread(gdcm)), expected)


def _split(stream: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The marker segments up to and including SOS, and the rest."""
    segments, pos = [], 2
    while True:
        code, length = stream[pos + 1], int.from_bytes(stream[pos + 2:pos + 4], "big")
        segments.append((code, stream[pos + 4:pos + 2 + length]))
        pos += 2 + length
        if code == 0xDA:
            return segments, stream[pos:]


def _join(segments: list[tuple[int, bytes]], rest: bytes) -> bytes:
    return b"\xff\xd8" + b"".join(bytes([0xFF, code]) + (len(body) + 2).to_bytes(2, "big") + body
                                  for code, body in segments) + rest


def _non_interleaved(img: np.ndarray, precision: int, predictors: list[int]) -> bytes:
    """One scan per component (each with its own table and predictor), a COM and an APP
    segment between scans: spliced from single-component codestreams."""
    rows, columns, samples = img.shape
    parts = []
    for c in range(samples):
        segments, rest = _split(ljpeg.encode(np.ascontiguousarray(img[:, :, c:c + 1]),
                                             precision, predictors[c]))
        sof, dht, sos = (dict(segments)[code] for code in (0xC3, 0xC4, 0xDA))
        if c == 0:
            frame = sof[:5] + bytes([samples]) + b"".join(bytes([k + 1, 0x11, 0])
                                                          for k in range(samples))
            parts.append(_join([(0xC3, frame)], b""))
        scan = bytes([1, c + 1]) + sos[2:]
        parts.append(_join([(0xFE, b"next scan"), (0xE5, b"app"), (0xC4, dht), (0xDA, scan)],
                           rest.removesuffix(b"\xff\xd9").removesuffix(b"\xff"))[2:])
    return b"".join(parts) + b"\xff\xd9"


def test_non_interleaved_scans(sources, tmp_path: Path) -> None:
    """A frame of three scans decodes the same in ours, DCMTK, GDCM and libjpeg-turbo."""
    src, expected = sources["16u-rgb"]
    native = _native_frames(src)[0]
    stream = _non_interleaved(native, 16, [1, 6, 7])
    out, precision = ljpeg.decode(np.frombuffer(stream, np.uint8), ROWS, COLUMNS, 3, 16)
    assert precision == 16
    np.testing.assert_array_equal(out, native)
    np.testing.assert_array_equal(imagecodecs.jpeg8_decode(stream), native)
    ds = compress(dcmread(src), LOSSLESS)
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate([stream]))
    encoded = tmp_path / "scans.dcm"
    dcmwrite(encoded, ds)
    theirs = _dcmdjpeg_both(encoded, tmp_path)
    np.testing.assert_array_equal(pixel_array(dcmread(theirs)), expected)
    gdcm = tmp_path / "gdcm.dcm"
    assert run(["gdcmconv", "--raw", str(encoded), str(gdcm)]).rc == 0
    np.testing.assert_array_equal(pixel_array(dcmread(gdcm)), expected)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3]), st.integers(2, 16),
       st.integers(1, 7), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_random_images_round_trip(rows, columns, samples, precision, predictor, restart,
                                  seed) -> None:
    """Ours and libjpeg-turbo decode our codestream to the source, whatever its content."""
    rng = np.random.default_rng(seed)
    kind = seed % 3
    if kind == 0:       # noise over the whole range: every category, 16 included
        img = rng.integers(0, 1 << precision, (rows, columns, samples))
    elif kind == 1:     # flat: one category only
        img = np.full((rows, columns, samples), rng.integers(0, 1 << precision))
    else:               # a smooth ramp
        img = (np.add.outer(np.arange(rows), np.arange(columns))[:, :, None] * (seed % 97)
               + np.arange(samples)) % (1 << precision)
    img = img.astype(np.uint16)
    stream = ljpeg.encode(img, precision, predictor, 0, restart)
    out, got = ljpeg.decode(np.frombuffer(stream, np.uint8), rows, columns, samples, 16)
    assert got == precision
    np.testing.assert_array_equal(out, img)
    np.testing.assert_array_equal(imagecodecs.jpeg8_decode(stream).reshape(img.shape), img)


# -- DCMTK's workarounds -----------------------------------------------------------------------
def test_workaround_pred6_matches_dcmtk(tmp_path: Path) -> None:
    """+w6 computes predictors 4-7 on int16 neighbours: applied to codestreams of 16-bit
    noise it changes the result (5-7) exactly as DCMTK's dcmdjpeg +w6 does."""
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    noise = np.random.default_rng(6).integers(0, 65536, (ds.Rows, ds.Columns)).astype("<u2")
    ds.PixelRepresentation = 0
    ds[0x7FE00010] = Element(0x7FE00010, "OW", noise.tobytes())
    for predictor in (4, 5, 6, 7):
        encoded = tmp_path / f"sv{predictor}.dcm"
        dcmwrite(encoded, compress(dcmread(dcmwrite(None, ds)), LOSSLESS, predictor=predictor))
        theirs = tmp_path / "theirs.dcm"
        assert run(dcmtk_cmd("dcmdjpeg", ["+w6", encoded, theirs])).rc == 0
        changed = pixel_array(decompress(dcmread(encoded), workaround_pred6=True))
        np.testing.assert_array_equal(changed, pixel_array(dcmread(theirs)))
        assert np.array_equal(changed, noise) == (predictor == 4)
        np.testing.assert_array_equal(pixel_array(dcmread(encoded)), noise)


def _bits_to_bytes(bits: str) -> bytes:
    bits += "1" * (-len(bits) % 8)
    out = bytearray()
    for i in range(0, len(bits), 8):
        out.append(int(bits[i:i + 8], 2))
        if out[-1] == 0xFF:
            out.append(0)
    return bytes(out)


def _cornell_stream(img: np.ndarray) -> bytes:
    """16 bits, predictor 1, the table of a 'Cornell' encoder: no code for category 16, so
    a difference of 32768 is written as 17 one-bits and then 16 extra bits (0x8000)."""
    rows, columns = img.shape
    flat = [int(v) for v in img.ravel()]
    bits = []
    for i, value in enumerate(flat):
        row, col = divmod(i, columns)
        predicted = 32768 if i == 0 else flat[i - 1] if col else flat[i - columns]
        diff = ((value - predicted + 32768) & 0xFFFF) - 32768
        if diff == -32768:
            bits.append("1" * 17 + format(0x8000, "016b"))
            continue
        size = abs(diff).bit_length()
        bits.append("1" * size + "0")               # category s: s one-bits and a zero
        if size:
            bits.append(format(diff if diff > 0 else diff - 1 + (1 << size), f"0{size}b"))
    sof = bytes([16]) + rows.to_bytes(2, "big") + columns.to_bytes(2, "big") + b"\x01\x01\x11\x00"
    dht = b"\x00" + bytes([1] * 16) + bytes(range(16))
    return _join([(0xC3, sof), (0xC4, dht), (0xDA, b"\x01\x01\x00\x01\x00\x00")],
                 _bits_to_bytes("".join(bits)) + b"\xff\xd9")


def test_workaround_cornell() -> None:
    """+wc decodes the Cornell encoder's overflowed codes; without it they are an error."""
    img = np.array([[5, 5, 6, 6, 32774, 32774, 6, 6]] * 4, np.uint16)
    img[2, 3] = 32774
    stream = np.frombuffer(_cornell_stream(img), np.uint8)
    with pytest.raises(ljpeg.LJPEGError, match="no code of its Huffman table"):
        ljpeg.decode(stream, 4, 8, 1, 16)
    out, _ = ljpeg.decode(stream, 4, 8, 1, 16, False, True)
    np.testing.assert_array_equal(out[:, :, 0], img)


def test_workaround_cornell_leaves_standard_streams_alone(sources, tmp_path: Path) -> None:
    """On a standard 16-bit codestream +wc changes nothing, for DCMTK as for us."""
    src, expected = sources["16u"]
    encoded = tmp_path / "enc.dcm"
    dcmwrite(encoded, compress(dcmread(src), SV1))
    theirs = tmp_path / "theirs.dcm"
    assert run(dcmtk_cmd("dcmdjpeg", ["+wc", encoded, theirs])).rc == 0
    info = PixelInfo.of(dcmread(encoded))
    ours = jpeg_lossless.decode(frame_bytes(dcmread(encoded), 0), info, workaround_cornell=True)
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(pixel_array(dcmread(theirs)), expected)


# -- API, registry, threads ------------------------------------------------------------------
def test_registry_and_frame_header(sources) -> None:
    for uid in (LOSSLESS, SV1):
        assert supported()[uid] == (True, True, "built in (dcmpy._ext.ljpeg)")
    ds = compress(dcmread(sources["12s"][0]), SV1)
    assert ljpeg.frame_header(bytes(frame_bytes(ds, 0))) == (16, ROWS, COLUMNS, 1)


def test_threads_decode_frames_in_parallel(tmp_path: Path) -> None:
    """Frames decoded by a thread pool (the GIL is released in the loops) equal those
    decoded one after the other."""
    img = _pixels(16, 16, False, 1, 8, rows=256, columns=256)
    path = tmp_path / "frames.dcm"
    _write(path, img, 16, 16, False)
    ds = compress(dcmread(path), SV1)
    info = PixelInfo.of(ds)
    streams = [bytes(frame_bytes(ds, i)) for i in range(info.frames)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda s: jpeg_lossless.decode(s, info), streams * 4))
    for i, frame in enumerate(results):
        np.testing.assert_array_equal(frame, img[i % info.frames, :, :, 0])


@pytest.mark.parametrize("call,message", [
    (lambda: ljpeg.encode(np.full((2, 2, 1), 300, np.uint16), 8), "300 does not fit precision 8"),
    (lambda: ljpeg.encode(np.zeros((2, 2, 1), np.uint16), 8, 0), "predictor 0"),
    (lambda: ljpeg.encode(np.zeros((2, 2, 1), np.uint16), 1), "precision 1"),
    (lambda: ljpeg.encode(np.zeros((2, 2, 1), np.uint16), 17), "precision 17"),
    (lambda: ljpeg.encode(np.zeros((2, 2, 5), np.uint16), 8), "5 components"),
    (lambda: ljpeg.encode(np.zeros((2, 2, 1), np.uint16), 8, 1, 8), "point transform 8"),
    (lambda: ljpeg.encode(np.zeros((4, 300, 1), np.uint16), 8, 1, 0, 300), "exceeds 65535"),
])
def test_encoder_refuses(call, message: str) -> None:
    with pytest.raises(ljpeg.LJPEGError, match=message):
        call()


def test_encoder_refuses_32_bit_samples(sources) -> None:
    info = PixelInfo.of(dcmread(sources["16u"][0]))
    info32 = PixelInfo(info.rows, info.columns, 1, 32, 32, 31, False, False, "MONOCHROME2", 1)
    with pytest.raises(PixelDataError, match="JPEG Lossless: BitsAllocated 32"):
        jpeg_lossless.encode(np.zeros((info.rows, info.columns), np.uint32), info32)


# -- hostile codestreams -----------------------------------------------------------------------
def _small_stream(restart_rows: int = 2) -> tuple[bytes, np.ndarray]:
    """6 x 5 x 3 samples of 16 bits, predictor 4, restart markers every 2 rows."""
    img = _pixels(16, 16, False, 3, 1, rows=6, columns=5)[0]
    return ljpeg.encode(img.astype(np.uint16), 16, 4, 0, restart_rows), img


@pytest.mark.parametrize("restart_rows", [0, 2])
def test_truncation_at_every_offset(restart_rows: int) -> None:
    """Cut anywhere, a codestream fails with LJPEGError, except when only its EOI marker
    (and the fill byte before it) is missing: then every sample is there, exactly."""
    stream, img = _small_stream(restart_rows)
    complete = set()
    for end in range(len(stream)):
        try:
            out, _ = ljpeg.decode(np.frombuffer(stream[:end], np.uint8), 6, 5, 3, 16)
        except ljpeg.LJPEGError:
            continue
        np.testing.assert_array_equal(out, img)
        complete.add(end)
    tail = 3 if stream.endswith(b"\xff\xff\xd9") else 2
    assert complete == set(range(len(stream) - tail, len(stream)))


IDS = (0, 1, 2)       # the component identifiers we (and DCMTK) write for three components


def _sof(precision=16, rows=6, columns=5, components=IDS, sampling=0x11) -> bytes:
    return (bytes([precision]) + rows.to_bytes(2, "big") + columns.to_bytes(2, "big")
            + bytes([len(components)]) + b"".join(bytes([c, sampling, 0]) for c in components))


def _edit(code: int, body: bytes | None):
    """Replace the segment ``code`` of the small stream (None: remove it)."""
    def change(segments, rest):
        out = [(c, body if c == code else b) for c, b in segments if c != code or body is not None]
        return out, rest
    return change


def _insert(before: int, code: int, body: bytes):
    def change(segments, rest):
        i = [c for c, _ in segments].index(before)
        return segments[:i] + [(code, body)] + segments[i:], rest
    return change


def _sos(components=IDS, table=0, ss=4, se=0, ahal=0) -> bytes:
    return (bytes([len(components)]) + b"".join(bytes([c, table << 4]) for c in components)
            + bytes([ss, se, ahal]))


HOSTILE = {
    "no-soi": (lambda s, r: (s, r), "does not start with an SOI", lambda b: b[2:]),
    "baseline": (_edit(0xC3, None), "baseline JPEG (SOF0)",
                 lambda b: b.replace(b"\xff\xc4", b"\xff\xc0\x00\x0b" + bytes(9) + b"\xff\xc4", 1)),
    "arithmetic": (_edit(0xC3, None), "lossless, arithmetic JPEG (SOF11)",
                   lambda b: b.replace(b"\xff\xc4", b"\xff\xcb\x00\x02\xff\xc4", 1)),
    "no-sof": (_edit(0xC3, None), "comes before the frame header", None),
    "no-sos": (lambda s, r: (s[:-1], b"\xff\xd9"), "before the first scan (SOS)", None),
    "no-table": (_edit(0xC4, None), "uses Huffman table 0, which is not defined", None),
    "undefined-table": (_edit(0xDA, _sos(table=2)), "Huffman table 2, which is not defined", None),
    "table-number": (_insert(0xDA, 0xC4, b"\x05" + bytes(16)), "number 5", None),
    "oversubscribed": (_insert(0xDA, 0xC4, b"\x00\x03" + bytes(15) + b"\x00\x01\x02"),
                       "over-subscribe", None),
    "table-overrun": (_insert(0xDA, 0xC4, b"\x00" + bytes([0, 200]) + bytes(14) + b"\x00"),
                      "declares 200 codes", None),
    "precision-1": (_edit(0xC3, _sof(precision=1)), "precision 1 is outside 2-16", None),
    "precision-17": (_edit(0xC3, _sof(precision=17)), "precision 17 is outside 2-16", None),
    "dnl": (_edit(0xC3, _sof(rows=0)), "DNL", None),
    "zero-width": (_edit(0xC3, _sof(columns=0)), "0 samples per line", None),
    "dimensions": (_edit(0xC3, _sof(rows=7)), "declares 7 x 5 x 3, the data set 6 x 5 x 3", None),
    "components": (_edit(0xC3, _sof(components=IDS[:2])), "declares 6 x 5 x 2", None),
    "same-id": (_edit(0xC3, _sof(components=(1, 1, 3))), "identifier 1 appears twice", None),
    "subsampled": (_edit(0xC3, _sof()[:6] + bytes([0, 0x21, 0, 1, 0x11, 0, 2, 0x11, 0])),
                   "different sampling factors", None),
    "interleaved-2x2": (_edit(0xC3, _sof(sampling=0x22)), "sampling factors 2x2 is not", None),
    "sof-length": (_edit(0xC3, _sof() + b"\x00"), "has length 18, 3 components need 17", None),
    "second-sof": (_insert(0xC4, 0xC3, _sof()), "a second frame header", None),
    "predictor-0": (_edit(0xDA, _sos(ss=0)), "predictor 0 (1-7 allowed)", None),
    "predictor-8": (_edit(0xDA, _sos(ss=8)), "predictor 8 (1-7 allowed)", None),
    "se": (_edit(0xDA, _sos(se=3)), "Se 3 and Ah 0", None),
    "ah": (_edit(0xDA, _sos(ahal=0x10)), "Se 0 and Ah 1", None),
    "point-transform": (lambda s, r: _edit(0xDA, _sos(ahal=5))(
        *_edit(0xC3, _sof(precision=4))(s, r)),
                        "point transform 5 leaves nothing of precision 4", None),
    "unknown-component": (_edit(0xDA, _sos(components=(0, 1, 9))), "names component 9", None),
    "twice-in-scan": (_edit(0xDA, _sos(components=(0, 0, 1))), "component 0 appears in more",
                      None),
    "sos-length": (_edit(0xDA, _sos() + b"\x00"), "SOS segment at offset", None),
    "restart-not-rows": (_edit(0xDD, b"\x00\x07"), "restart interval 7 is not a multiple", None),
    "dri-length": (_edit(0xDD, b"\x00\x0a\x00"), "DRI segment at offset", None),
    "wrong-rst": (lambda s, r: (s, r.replace(b"\xff\xd0", b"\xff\xd3", 1)),
                  "expected a restart marker at offset", None),
    "segment-overrun": (lambda s, r: (s, r), "declares 65535 bytes",
                        lambda b: b.replace(b"\xff\xdd\x00\x04", b"\xff\xdd\xff\xff", 1)),
    "dac": (_insert(0xDA, 0xCC, b"\x00\x00"), "arithmetic coding (DAC)", None),
    "hierarchical": (_insert(0xC3, 0xDE, _sof()), "hierarchical JPEG", None),
    "second-soi": (lambda s, r: (s, r), "a second SOI", lambda b: b[:2] + b"\xff\xd8" + b[2:]),
    "category-17": (_insert(0xDA, 0xC4, b"\x00\x02" + bytes(15) + b"\x11\x11"),
                    "difference category 17", None),
    "no-data": (lambda s, r: (s, b"\xff\xd9"), "line 1 of 6: the entropy-coded data ends early",
                None),
}


def _hostile(case: str) -> bytes:
    change, _, raw = HOSTILE[case]
    stream, _ = _small_stream()
    segments, rest = _split(stream)
    data = _join(*change(segments, rest))
    return raw(data) if raw else data


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_codestreams(case: str, tmp_path: Path, capsys) -> None:
    """Each fails with PixelDataError naming frame and cause: through pixel_array and
    through dcmdjpeg (one fatal line, exit code 1, no output file)."""
    message = HOSTILE[case][1]
    data = _hostile(case)
    with pytest.raises(ljpeg.LJPEGError, match=re.escape(message)):
        ljpeg.decode(np.frombuffer(data, np.uint8), 6, 5, 3, 16)
    ds = compress(dcmread(_three_sample_source(tmp_path)), LOSSLESS)
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate([data]))
    path = tmp_path / "bad.dcm"
    dcmwrite(path, ds)
    with pytest.raises(PixelDataError, match=f"^frame 1: JPEG Lossless: .*{re.escape(message)}"):
        pixel_array(dcmread(path))
    out = tmp_path / "out.dcm"
    assert dcmdjpeg.main([str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("F: frame 1: JPEG Lossless: ") and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".dcmpy-*"))


def _three_sample_source(tmp_path: Path) -> Path:
    path = tmp_path / "small.dcm"
    _write(path, _pixels(16, 16, False, 3, 1, rows=6, columns=5), 16, 16, False)
    return path


def test_declared_size_beyond_what_the_codestream_can_hold(tmp_path: Path) -> None:
    """65535 x 65535 x 4 over a few hundred bytes: refused before anything is allocated."""
    stream, _ = _small_stream()
    segments, rest = _split(stream)
    huge = _join([(c, _sof(rows=65535, columns=65535, components=(1, 2, 3, 4)) if c == 0xC3
                   else b) for c, b in segments], rest)
    with pytest.raises(ljpeg.LJPEGError, match="cannot hold 65535 x 65535 x 4 samples"):
        ljpeg.decode(np.frombuffer(huge, np.uint8), 65535, 65535, 4, 16)


def test_precision_beyond_bits_allocated(sources) -> None:
    ds = compress(dcmread(sources["16u"][0]), SV1)
    info = PixelInfo.of(ds)
    narrow = PixelInfo(info.rows, info.columns, 1, 8, 8, 7, False, False, "MONOCHROME2", 1)
    with pytest.raises(PixelDataError, match="precision 16 does not fit BitsAllocated 8"):
        jpeg_lossless.decode(frame_bytes(ds, 0), narrow)


def test_dcmtk_refuses_a_missing_eoi_we_do_not(sources, tmp_path: Path) -> None:
    """Deliberate difference: a codestream cut just before its EOI still holds every sample;
    DCMTK's dcmdjpeg (and GDCM) refuse the file, we decode it exactly."""
    src, expected = sources["12s"]
    ds = compress(dcmread(src), SV1)
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate([bytes(frame_bytes(ds, 0))[:-2]]))
    path = tmp_path / "no-eoi.dcm"
    dcmwrite(path, ds)
    assert run(dcmtk_cmd("dcmdjpeg", [path, tmp_path / "theirs.dcm"])).rc == 1
    np.testing.assert_array_equal(pixel_array(dcmread(path)), expected)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from(
    ["set", "insert", "delete"])), min_size=1, max_size=6))
def test_mutated_codestreams_never_crash(mutations) -> None:
    """Random byte changes: an LJPEGError or a frame of the declared shape, nothing else."""
    stream, _ = _small_stream()
    data = bytearray(stream)
    for pos, value, how in mutations:
        pos %= len(data) + 1
        if how == "insert":
            data[pos:pos] = bytes([value])
        elif pos < len(data):
            if how == "set":
                data[pos] = value
            else:
                del data[pos]
    for workarounds in ((False, False), (True, True)):
        try:
            out, _ = ljpeg.decode(np.frombuffer(bytes(data), np.uint8), 6, 5, 3, 16,
                                  *workarounds)
        except ljpeg.LJPEGError:
            continue
        assert out.shape == (6, 5, 3) and out.dtype == np.uint16
