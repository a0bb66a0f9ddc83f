"""dcmcjpls against DCMTK's: JPEG-LS encoding through CharLS 2.

Lossless output is byte-identical to DCMTK's (same coding parameters, same raw-mode precision,
same odd-length padding); near-lossless output is identical but for the new UIDs, and decodes
within NEAR. Where DCMTK 3.6.7 is wrong, the test says what it does and what we do.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus
from codec_cases import dataset_bytes, dump, files_in, names, without_uids
from conftest import dcmtk_cmd, our_cmd, run
from dcmpy import dcmread
from dcmpy.apps import dcmcjpls
from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo, pixel_array

UNCOMPRESSED = files_in("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2")
OPTION_SOURCES = ["pd__CT_small.dcm", "pd__MR_small_bigendian.dcm", "pd__examples_rgb_color.dcm",
                  "pd__examples_palette.dcm", "pd__examples_overlay.dcm", "pd__SC_rgb_small_odd.dcm",
                  "pd__SC_rgb_small_odd_big_endian.dcm"]
LOSSLESS_OPTIONS = [["+is"], ["+in"], ["+iv"], ["+pz"], ["+t1", "5", "+t2", "10", "+t3", "30"],
                    ["+rs", "32"], ["+fs", "1"], ["-ot"], ["-e"], ["+g"]]


def _run_both(src: Path, options: list[str], tmp_path: Path):
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmcjpls", [*options, src, theirs]))
    rc = dcmcjpls.main([*options, str(src), str(ours)])
    return ref, rc, theirs, ours


@pytest.mark.parametrize("src", UNCOMPRESSED, ids=names(UNCOMPRESSED))
def test_lossless_matches_dcmtk(src: Path, tmp_path: Path, capsys) -> None:
    ref, rc, theirs, ours = _run_both(src, [], tmp_path)
    if ref.rc != 0:
        # what DCMTK refuses (32-bit samples, pixel data shorter than declared), we refuse too
        assert rc == 1 and not ours.exists(), ref.stderr
        assert capsys.readouterr().err.splitlines()[-1].startswith("F: ")
        return
    assert rc == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)


@pytest.mark.parametrize("options", LOSSLESS_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", OPTION_SOURCES)
def test_lossless_options_match_dcmtk(name: str, options: list[str], tmp_path: Path) -> None:
    ref, rc, theirs, ours = _run_both(corpus.ensure_corpus() / name, options, tmp_path)
    assert ref.rc == 0 and rc == 0, ref.stderr
    assert dataset_bytes(ours) == dataset_bytes(theirs)


@pytest.mark.parametrize("name", OPTION_SOURCES)
def test_lossless_round_trip_through_dcmtk(name: str, tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / name
    ours, back = tmp_path / "ours.dcm", tmp_path / "back.dcm"
    assert dcmcjpls.main([str(src), str(ours)]) == 0
    assert run(dcmtk_cmd("dcmdjpls", [ours, back])).rc == 0
    np.testing.assert_array_equal(pixel_array(dcmread(back)), pixel_array(dcmread(src)))
    np.testing.assert_array_equal(pixel_array(dcmread(ours)), pixel_array(dcmread(src)))


@pytest.mark.parametrize("options", [["+en"], ["+en", "+md", "3"], ["+en", "+un"], ["+ua"],
                                     ["+cs"], ["+en", "+cs"]], ids=" ".join)
def test_new_instance_and_lossy_attributes_match_dcmtk(options: list[str], tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / "pd__examples_rgb_color.dcm"
    ref, rc, theirs, ours = _run_both(src, options, tmp_path)
    assert ref.rc == 0 and rc == 0, ref.stderr
    assert without_uids(dump(ours)) == without_uids(dump(theirs))
    if "+en" in options:
        near = int(options[options.index("+md") + 1]) if "+md" in options else 2
        error = np.abs(pixel_array(dcmread(ours)).astype(int) - pixel_array(dcmread(src)))
        assert error.max() <= near


def test_lossy_recompression_appends_ratio_and_method(tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / "pd__examples_rgb_color.dcm"
    once, plain, twice_ours, twice_theirs = (tmp_path / n for n in ("1.dcm", "p.dcm", "o.dcm",
                                                                    "t.dcm"))
    assert run(dcmtk_cmd("dcmcjpls", ["+en", src, once])).rc == 0
    assert run(dcmtk_cmd("dcmdjpls", [once, plain])).rc == 0
    assert run(dcmtk_cmd("dcmcjpls", ["+en", plain, twice_theirs])).rc == 0
    assert dcmcjpls.main(["+en", str(plain), str(twice_ours)]) == 0
    assert without_uids(dump(twice_ours)) == without_uids(dump(twice_theirs))
    assert dcmread(twice_ours).LossyImageCompressionMethod == ["ISO_14495_1", "ISO_14495_1"]


@pytest.mark.parametrize("name,options,message", [
    ("pd__CT_small.dcm", ["+en"], "Unsupported pixel representation for near-lossless"),
    ("pd__examples_palette.dcm", ["+en"], "Unsupported photometric interpretation"),
    ("pd__rtdose.dcm", [], "Unsupported bit depth in JPEG-LS transfer syntax"),
])
def test_refusals_match_dcmtk(name: str, options: list[str], message: str, tmp_path: Path,
                              capsys) -> None:
    ref, rc, theirs, ours = _run_both(corpus.ensure_corpus() / name, options, tmp_path)
    assert ref.rc == rc == 1 and not ours.exists() and not theirs.exists()
    ours_err = capsys.readouterr().err
    assert message in ref.stderr.decode() and message in ours_err
    assert ours_err.splitlines()[-1] == ref.stderr.decode().splitlines()[-1]


def test_cooked_mode_pads_the_standard_way(tmp_path: Path) -> None:
    """Difference: DCMTK's cooked mode (+pc) pads an odd codestream with a zero byte after
    EOI, the form its own help calls non-standard, whatever +ps says. We pad with an extra
    0xFF before EOI (T.81 B.1.1.2 fill byte) as +ps asks; the codestreams otherwise agree."""
    src = corpus.ensure_corpus() / "pd__SC_rgb_small_odd.dcm"
    ref, rc, theirs, ours = _run_both(src, ["+pc"], tmp_path)
    assert ref.rc == rc == 0
    a = bytes(list(dcmread(theirs).PixelData)[1])
    b = bytes(list(dcmread(ours).PixelData)[1])
    assert a.endswith(b"\xff\xd9\x00") and b.endswith(b"\xff\xff\xd9")
    assert a[:-3] == b[:-3]
    np.testing.assert_array_equal(pixel_array(dcmread(ours)), pixel_array(dcmread(src)))


def test_near_lossless_compresses_the_icon_too(tmp_path: Path) -> None:
    """Difference: in near-lossless mode DCMTK leaves the Icon Image Sequence's pixel data
    native inside a JPEG-LS data set (in lossless mode it compresses it); we encode every
    pixel data element of the data set in its transfer syntax, as in lossless mode. The rest
    of the data set is DCMTK's, the ratio included."""
    src = corpus.ensure_corpus() / "pd__examples_overlay.dcm"
    ref, rc, theirs, ours = _run_both(src, ["+en"], tmp_path)
    assert ref.rc == rc == 0
    assert dcmread(theirs).IconImageSequence[0][0x7FE00010].vr == "OW"
    icon = dcmread(ours).IconImageSequence[0]
    assert icon[0x7FE00010].vr == "OB" and len(list(icon.PixelData)) == 2
    def top_level(path: Path) -> list[str]:
        return [line for line in without_uids(dump(path)).splitlines()
                if line.startswith("(") and "IconImageSequence" not in line]
    assert top_level(ours) == top_level(theirs)


def test_tiny_near_lossless_image_dcmtk_cannot_read_back(tmp_path: Path) -> None:
    """Difference: for a 3 x 3 RGB image DCMTK's near-lossless encoder writes FF 00 where the
    SOF55 marker belongs, and its own dcmdjpls refuses the result; ours decodes (by DCMTK
    too) within NEAR."""
    src = corpus.ensure_corpus() / "pd__SC_rgb_small_odd.dcm"
    ref, rc, theirs, ours = _run_both(src, ["+en"], tmp_path)
    assert ref.rc == rc == 0
    assert bytes(list(dcmread(theirs).PixelData)[1])[2:4] == b"\xff\x00"
    assert run(dcmtk_cmd("dcmdjpls", [theirs, tmp_path / "t.dcm"])).rc == 1
    back = tmp_path / "back.dcm"
    assert run(dcmtk_cmd("dcmdjpls", [ours, back])).rc == 0
    error = np.abs(pixel_array(dcmread(back)).astype(int) - pixel_array(dcmread(src)))
    assert error.max() <= 2


def test_library_encoder_checks_precision() -> None:
    from dcmpy.codecs.jpegls import encode
    ds = dcmread(corpus.ensure_corpus() / "pd__rtdose.dcm")
    with pytest.raises(PixelDataError, match="32-bit samples are outside 2..16"):
        encode(np.zeros((10, 10), np.uint32), PixelInfo.of(ds))


def test_help_matches_dcmtk() -> None:
    theirs = run(dcmtk_cmd("dcmcjpls", ["--help"])).stdout.decode().splitlines()[1:]
    assert run(our_cmd("dcmcjpls", ["--help"])).stdout.decode().splitlines()[1:] == theirs
