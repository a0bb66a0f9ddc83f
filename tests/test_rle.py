"""RLE Lossless: our codec and dcmcrle/dcmdrle against DCMTK's, pydicom's decoder, and hostile frames.

DCMTK and ours convert the same corpus files; the data sets (everything after the meta header,
whose implementation UID and version differ by design) must be byte-identical, encoder choices
included. Decoding must equal pydicom's and the source pixels exactly.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
from codec_cases import before_padding, dataset_bytes, dump, files_in, names, without_uids
from conftest import dcmtk_cmd, our_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy._ext.rle import RLEError, decode_frame, encode_frame
from dcmpy.apps import dcmcrle, dcmdrle
from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo, native_pixels, pixel_array
from dcmpy.dcmdata.transcode import compress, decompress

RLE = "1.2.840.10008.1.2.5"


def _uncompressed_pixel_files() -> list[Path]:
    files = []
    for path in corpus.corpus_files():
        try:
            ds = dcmread(path)
            if 0x7FE00010 not in ds or ds.transfer_syntax.encapsulated:
                continue
            PixelInfo.of(ds)
        except Exception:
            continue
        files.append(path)
    return files


UNCOMPRESSED = _uncompressed_pixel_files()
RLE_FILES = files_in(RLE)


@pytest.mark.parametrize("src", UNCOMPRESSED, ids=names(UNCOMPRESSED))
def test_dcmcrle_matches_dcmtk(src: Path, tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmcrle", [src, theirs]))
    rc = dcmcrle.main([str(src), str(ours)])
    if ref.rc != 0:
        # what DCMTK refuses (1-bit pixels, a pixel module missing attributes, pixel data
        # shorter than declared), we refuse too, with an error and no file
        assert rc == 1 and not ours.exists(), ref.stderr
        return
    assert rc == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)


@pytest.mark.parametrize("src", UNCOMPRESSED, ids=names(UNCOMPRESSED))
def test_round_trip_is_lossless(src: Path) -> None:
    ds = dcmread(src)
    try:
        info = PixelInfo.of(ds, strict=True)
        before = bytes(native_pixels(ds, info))
    except PixelDataError:
        with pytest.raises(PixelDataError):     # incomplete module or short pixel data
            compress(ds, RLE)
        return
    if info.bits_allocated == 1:
        with pytest.raises(PixelDataError):
            compress(ds, RLE)
        return
    expected = pixel_array(ds)
    compress(ds, RLE)
    again = dcmread(dcmwrite(None, ds))
    decompress(again)
    if not info.planar:
        assert bytes(native_pixels(again, PixelInfo.of(again))) == before
    np.testing.assert_array_equal(pixel_array(again), expected)


@pytest.mark.parametrize("src", RLE_FILES, ids=names(RLE_FILES))
def test_dcmdrle_matches_dcmtk(src: Path, tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmdrle", [src, theirs]))
    assert ref.rc == 0, ref.stderr
    assert dcmdrle.main([str(src), str(ours)]) == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)


@pytest.mark.parametrize("src", RLE_FILES, ids=names(RLE_FILES))
def test_decode_matches_pydicom(src: Path) -> None:
    import pydicom
    expected = pydicom.dcmread(src).pixel_array
    ours = pixel_array(dcmread(src))
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


# -- options, against DCMTK ---------------------------------------------------------------
CRLE_OPTIONS = [["+fs", "1"], ["-ot"], ["+cs"], ["+ua"], ["-e"], ["+g"], ["-g"], ["-u"],
                ["+p", "64", "32"], ["-td"]]
SOURCES = ["pd__CT_small.dcm", "pd__examples_rgb_color.dcm", "pd__rtdose.dcm", "pd__examples_overlay.dcm",
           "pd__MR_small_bigendian.dcm"]


@pytest.mark.parametrize("options", CRLE_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", SOURCES)
def test_dcmcrle_options(name: str, options: list[str], tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / name
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmcrle", [*options, src, theirs]))
    assert ref.rc == 0, ref.stderr
    assert dcmcrle.main([*options, str(src), str(ours)]) == 0
    if "+cs" in options or "+ua" in options:
        assert without_uids(dump(ours)) == without_uids(dump(theirs))
        old, new = dcmread(src).SOPInstanceUID, dcmread(ours).SOPInstanceUID
        assert new != old and dcmread(ours).SourceImageSequence[0].ReferencedSOPInstanceUID == old
    elif "+p" in options:
        # our meta header is longer (implementation UID), so the padding is shorter: the files
        # have the same size and the same data set up to the padding element
        assert ours.stat().st_size % 64 == 0
        assert before_padding(dataset_bytes(ours)) == before_padding(dataset_bytes(theirs))
    else:
        assert dataset_bytes(ours) == dataset_bytes(theirs)


DRLE_OPTIONS = [["+tb"], ["+ti"], ["-F"], ["-F", "-p"], ["-e"], ["+g"], ["+ua"],
                ["+p", "64", "32"]]


@pytest.mark.parametrize("options", DRLE_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", ["cmp__CT_small__rle.dcm", "pd__SC_rgb_rle_16bit_2frame.dcm",
                                  "cmp__rgb__rle.dcm"])
def test_dcmdrle_options(name: str, options: list[str], tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / name
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmdrle", [*options, src, theirs]))
    assert ref.rc == 0, ref.stderr
    assert dcmdrle.main([*options, str(src), str(ours)]) == 0
    if "+ua" in options:
        assert without_uids(dump(ours)) == without_uids(dump(theirs))
    elif "+p" in options:
        assert ours.stat().st_size % 64 == 0
        assert before_padding(dataset_bytes(ours)) == before_padding(dataset_bytes(theirs))
    else:
        assert dataset_bytes(ours) == dataset_bytes(theirs)


def test_reverse_byte_order_segments(tmp_path: Path) -> None:
    """+br reads segments least significant byte first (what some old encoders wrote)."""
    src = corpus.ensure_corpus() / "pd__CT_small.dcm"
    ds = dcmread(src)
    info = PixelInfo.of(ds)
    frame = np.frombuffer(bytes(native_pixels(ds, info)), "<u2").reshape(info.rows, info.columns)
    swapped = encode_frame(np.frombuffer(frame.byteswap().tobytes(), np.uint8), info.rows,
                           info.columns, 1, 2)
    out = np.empty(info.frame_size, np.uint8)
    decode_frame(np.frombuffer(swapped, np.uint8), info.rows, info.columns, 1, 2, out, False)
    assert out.tobytes() == frame.tobytes()


def test_help_matches_dcmtk() -> None:
    for tool in ("dcmcrle", "dcmdrle"):
        theirs = run(dcmtk_cmd(tool, ["--help"])).stdout.decode().splitlines()[1:]
        ours = run(our_cmd(tool, ["--help"])).stdout.decode()
        assert ours.splitlines()[1:] == theirs


# -- hostile frames --------------------------------------------------------------------------
def _rle_file(tmp_path: Path, frame: bytes, rows=4, columns=4, samples=1, bits=8,
              frames=1, extra: list[bytes] | None = None) -> Path:
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    compress(ds, RLE)
    from dcmpy.dcmdata.element import Element
    from dcmpy.dcmdata.transcode import encapsulate
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.NumberOfFrames = str(frames)
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate([frame, *(extra or [])]))
    path = tmp_path / "bad.dcm"
    dcmwrite(path, ds)
    return path


def _header(*offsets: int, count: int | None = None) -> bytes:
    values = list(offsets) + [0] * (15 - len(offsets))
    return struct.pack("<16I", len(offsets) if count is None else count, *values)


BAD_FRAMES = {
    "short-header": (b"\x01\x00\x00\x00", "shorter than the 64-byte RLE header"),
    "segment-count": (_header(64, count=3) + b"\x00\x00", "declares 3 segments"),
    "offset-past-end": (_header(4096) + b"\x00\x00", "outside the frame"),
    "offset-in-header": (_header(8) + b"\x00\x00", "outside the frame"),
    "cut-literal": (_header(64) + b"\x7f\x01\x02", "ends inside a literal run"),
    "too-few-bytes": (_header(64) + b"\xfe\x05", "decodes to 3 bytes"),
    "zero-segments": (_header(count=0), "declares 0 segments"),
}


@pytest.mark.parametrize("case", BAD_FRAMES, ids=list(BAD_FRAMES))
def test_bad_frames_fail_cleanly(case: str, tmp_path: Path, capsys) -> None:
    frame, message = BAD_FRAMES[case]
    path = _rle_file(tmp_path, frame)
    with pytest.raises(PixelDataError, match=message):
        pixel_array(dcmread(path))
    out = tmp_path / "out.dcm"
    assert dcmdrle.main([str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("F: frame 1: RLE:") and message in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".dcmpy-*"))


def test_declared_size_beyond_what_the_frame_can_hold(tmp_path: Path) -> None:
    """65535 x 65535 declared over a few bytes: refused before anything is allocated."""
    path = _rle_file(tmp_path, _header(64) + b"\x81\x00", rows=65535, columns=65535)
    with pytest.raises(PixelDataError, match="cannot hold"):
        pixel_array(dcmread(path))


def test_fragments_and_frames_disagree(tmp_path: Path) -> None:
    frame = encode_frame(np.zeros(16, np.uint8), 4, 4, 1, 1)
    path = _rle_file(tmp_path, frame, frames=3, extra=[frame])
    with pytest.raises(PixelDataError, match="Basic Offset Table has 2 entries for 3 frames"):
        pixel_array(dcmread(path))


@pytest.mark.parametrize("attr,value,message", [
    ("BitsAllocated", 12, "BitsAllocated 12"), ("Rows", 0, "image size 0 x"),
    ("SamplesPerPixel", 2, "SamplesPerPixel 2"), ("BitsStored", 17, "BitsStored 17"),
])
def test_absurd_pixel_module(attr: str, value: int, message: str) -> None:
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    setattr(ds, attr, value)
    with pytest.raises(PixelDataError, match=message):
        pixel_array(ds)


def test_native_pixel_data_shorter_than_declared() -> None:
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    ds.NumberOfFrames = "1000000"
    with pytest.raises(PixelDataError, match="1000000 frame"):
        pixel_array(ds)
    with pytest.raises(PixelDataError, match="1000000 frame"):
        compress(ds, RLE)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=400), st.integers(1, 3), st.sampled_from([1, 2, 4]))
def test_random_frames_never_crash(data: bytes, samples: int, width: int) -> None:
    out = np.empty(8 * 8 * samples * width, np.uint8)
    try:
        decode_frame(np.frombuffer(data, np.uint8), 8, 8, samples, width, out)
    except RLEError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 300), st.sampled_from([1, 3]),
       st.sampled_from([1, 2, 4]), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_random_images_round_trip(rows, columns, samples, width, seed, levels) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, levels, rows * columns * samples * width, dtype=np.uint8)
    image = np.repeat(image, rng.integers(1, 4))[:rows * columns * samples * width]
    if image.size < rows * columns * samples * width:
        image = np.resize(image, rows * columns * samples * width)
    encoded = encode_frame(image, rows, columns, samples, width)
    out = np.empty_like(image)
    decode_frame(np.frombuffer(encoded, np.uint8), rows, columns, samples, width, out)
    assert out.tobytes() == image.tobytes()
