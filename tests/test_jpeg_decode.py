"""dcmdjpeg and dcmdjpls against DCMTK's: lossy JPEG (libjpeg-turbo 3) and JPEG-LS (CharLS 2).

Every corpus file in those syntaxes, with each colour and planar option: the data sets we
write equal DCMTK's byte for byte (pixels, Photometric Interpretation, Planar Configuration,
Lossy Image Compression). Broken codestreams fail with one line naming the frame.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus
from codec_cases import dataset_bytes, dump, files_in, names, without_uids
from conftest import dcmtk_cmd, our_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy.apps import dcmdjpeg, dcmdjpls
from dcmpy.dcmdata.element import Element
from dcmpy.dcmdata.pixels import PixelDataError, pixel_array
from dcmpy.dcmdata.transcode import encapsulate

JPEG_LOSSY = files_in("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
JPEG_LS = files_in("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
DJPEG_OPTIONS = [[], ["+cn"], ["+ca"], ["+cg"], ["+cl"], ["+cgl"], ["+px"], ["+pl"],
                 ["+cn", "+pl"], ["+te"], ["+ti"], ["+tb"], ["-F"], ["+g"], ["-e"]]
DJPLS_OPTIONS = [[], ["+pa"], ["+px"], ["+pl"], ["+io"], ["+ti"], ["+tb"], ["-F"]]


def _compare(tool: str, module, src: Path, options: list[str], tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd(tool, [*options, src, theirs]))
    rc = module.main([*options, str(src), str(ours)])
    if ref.rc != 0:
        assert rc != 0 and not ours.exists(), ref.stderr
        return
    assert rc == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)


@pytest.mark.parametrize("options", DJPEG_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("src", JPEG_LOSSY, ids=names(JPEG_LOSSY))
def test_dcmdjpeg_matches_dcmtk(src: Path, options: list[str], tmp_path: Path) -> None:
    _compare("dcmdjpeg", dcmdjpeg, src, options, tmp_path)


@pytest.mark.parametrize("options", DJPLS_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("src", JPEG_LS, ids=names(JPEG_LS))
def test_dcmdjpls_matches_dcmtk(src: Path, options: list[str], tmp_path: Path) -> None:
    _compare("dcmdjpls", dcmdjpls, src, options, tmp_path)


@pytest.mark.parametrize("tool,module,src", [
    ("dcmdjpeg", dcmdjpeg, "pd__SC_rgb_jpeg_dcmtk.dcm"),
    ("dcmdjpls", dcmdjpls, "pd__SC_rgb_jls_lossy_line.dcm")])
def test_new_uid_records_the_predecessor(tool, module, src, tmp_path: Path) -> None:
    path = corpus.ensure_corpus() / src
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    assert run(dcmtk_cmd(tool, ["+ua", path, theirs])).rc == 0
    assert module.main(["+ua", str(path), str(ours)]) == 0
    assert without_uids(dump(ours)) == without_uids(dump(theirs))


@pytest.mark.parametrize("src", JPEG_LOSSY + JPEG_LS, ids=names(JPEG_LOSSY + JPEG_LS))
def test_pixel_array_equals_dcmtk_decode(src: Path, tmp_path: Path) -> None:
    """``pixel_array`` gives what DCMTK's decoder writes (RGB for YBR, as its default)."""
    tool = "dcmdjpls" if src in JPEG_LS else "dcmdjpeg"
    out = tmp_path / "ref.dcm"
    if run(dcmtk_cmd(tool, ["+px", src, out])).rc != 0:
        with pytest.raises(PixelDataError):     # what DCMTK cannot decode, nor do we
            pixel_array(dcmread(src))
        return
    np.testing.assert_array_equal(pixel_array(dcmread(src)), pixel_array(dcmread(out)))


def test_help_matches_dcmtk() -> None:
    for tool in ("dcmdjpeg", "dcmdjpls"):
        theirs = run(dcmtk_cmd(tool, ["--help"])).stdout.decode().splitlines()[1:]
        assert run(our_cmd(tool, ["--help"])).stdout.decode().splitlines()[1:] == theirs


# -- broken codestreams ---------------------------------------------------------------------
def _with_frame(tmp_path: Path, src: str, mutate) -> Path:
    ds = dcmread(corpus.ensure_corpus() / src)
    frame = bytes(list(ds.PixelData)[1])
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate([mutate(frame)]))
    path = tmp_path / "bad.dcm"
    dcmwrite(path, ds)
    return path


BROKEN = {
    "jpeg-truncated": ("cmp__CT_small__jpeg_baseline_nobot.dcm", lambda f: f[:len(f) // 3],
                       dcmdjpeg, "JPEG:"),
    "jpeg-garbage": ("cmp__CT_small__jpeg_baseline_nobot.dcm", lambda f: b"\xff\xd8" + bytes(300),
                     dcmdjpeg, "JPEG:"),
    "jpeg-not-jpeg": ("cmp__rgb__jpeg_baseline.dcm", lambda f: b"hello world!", dcmdjpeg,
                      "JPEG:"),
    "jpls-truncated": ("cmp__CT_small__jpls.dcm", lambda f: f[:40], dcmdjpls, "JPEG-LS:"),
    "jpls-garbage": ("cmp__CT_small__jpls.dcm", lambda f: b"\xff\xd8\xff\xf7" + bytes(60),
                     dcmdjpls, "JPEG-LS:"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_codestream_fails_cleanly(case: str, tmp_path: Path, capsys) -> None:
    src, mutate, module, prefix = BROKEN[case]
    path = _with_frame(tmp_path, src, mutate)
    with pytest.raises(PixelDataError, match=f"frame 1: {prefix}"):
        pixel_array(dcmread(path))
    out = tmp_path / "out.dcm"
    assert module.main([str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"F: frame 1: {prefix}") and err.count("\n") == 1, err
    assert not out.exists() and not list(tmp_path.glob(".dcmpy-*"))


def test_incomplete_workaround(tmp_path: Path) -> None:
    """+wi decodes a codestream cut short (libjpeg fills the rest), as DCMTK's does."""
    path = _with_frame(tmp_path, "cmp__CT_small__jpeg_baseline_nobot.dcm",
                       lambda f: f[:len(f) // 3])
    out = tmp_path / "out.dcm"
    assert dcmdjpeg.main(["+wi", str(path), str(out)]) == 0
    assert pixel_array(dcmread(out)).shape == (128, 128)


def test_codestream_larger_than_declared(tmp_path: Path) -> None:
    """The data set says 64 x 64 but the codestream holds 128 x 128: refused, not truncated."""
    path = _with_frame(tmp_path, "cmp__CT_small__jpls.dcm", lambda f: f)
    ds = dcmread(path)
    ds.Rows = ds.Columns = 64
    with pytest.raises(PixelDataError, match="codestream holds 128 x 128 x 1, the data set "
                                             "declares 64 x 64 x 1"):
        pixel_array(ds)
