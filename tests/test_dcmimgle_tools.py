"""dcmicmp, dcmdspfn and dcm2img against DCMTK: metrics text, curve files, exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmimgle_images import image_corpus
from dcmpy.apps import dcm2img, dcmdspfn, dcmicmp
from dcmpy.dcmimgle.gsdf import DisplayCurve, jnd_index, luminance


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    return image_corpus(tmp_path_factory.mktemp("tools"))


PAIRS = ["u12 rescale", "overlay rescale_neg", "rgb8 ybr8", "u12 u12",
         "s16_rand signed_rescale", "u12 rgb8", "u12 multiframe", "multiframe multiframe",
         "m1 u12", "voilut12 voilut8"]
ICMP_OPTIONS = [[], ["+Wm"], ["+Wr"], ["+Ww", "100", "1000"], ["+ce", "3", "+cm", "1"],
                ["+cr", "1"], ["+cp", "50"], ["+cs", "10"], ["+Wi", "1"], ["+Wl", "1"],
                ["+Piv"], ["-M"], ["+Wm", "+Wfs"]]


@pytest.mark.parametrize("options", ICMP_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("pair", PAIRS)
def test_dcmicmp_matches_dcmtk(images, pair: str, options, capsys) -> None:
    ref_name, test_name = pair.split()
    args = [*options, str(images[ref_name]), str(images[test_name])]
    ref = run(dcmtk_cmd("dcmicmp", args))
    rc = dcmicmp.main(args)
    out, err = capsys.readouterr()
    assert rc == ref.rc
    assert out == ref.stdout.decode()
    assert err == ref.stderr.decode()


def test_dcmicmp_missing_file(images, tmp_path: Path) -> None:
    args = [images["u12"], tmp_path / "missing.dcm"]
    ref, ours = run(dcmtk_cmd("dcmicmp", args)), run(our_cmd("dcmicmp", args))
    assert ref.rc == ours.rc == 22
    assert ours.stderr.splitlines()[-1] == ref.stderr.splitlines()[-1]


@pytest.mark.parametrize("args", [
    ["+Il", "0.5", "300"], ["+Il", "1", "100", "+Ca", "10", "+Cd", "17"],
    ["+Io", "0.2", "3.0", "+Ci", "2000", "+Cd", "5"], ["+Il", "1", "300", "+Cf", "3"],
    ["+Il", "0.2", "3000", "+Cd", "1024"], ["+Io", "0.1", "2.5", "+Ci", "3000", "+Ca", "5"]],
    ids=" ".join)
def test_dcmdspfn_matches_dcmtk(args, tmp_path: Path) -> None:
    theirs = [tmp_path / "d-gsdf.txt", tmp_path / "d-lab.txt"]
    ours = [tmp_path / "o-gsdf.txt", tmp_path / "o-lab.txt"]
    ref = run(dcmtk_cmd("dcmdspfn", [*args, "+Og", theirs[0], "+Oc", theirs[1]]))
    rc = dcmdspfn.main([*args, "+Og", str(ours[0]), "+Oc", str(ours[1])])
    assert rc == ref.rc == 0
    for mine, dcmtk in zip(ours, theirs):
        _same_curve(mine.read_text(), dcmtk.read_text())


def _same_curve(ours: str, theirs: str) -> None:
    """Headers byte for byte; values equal to 1e-7 relative plus one unit in the sixth decimal
    (DCMTK interpolates the GSDF from a table, we evaluate PS3.14's formula directly)."""
    a, b = ours.splitlines(), theirs.splitlines()
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if not x[:1].isdigit():
            assert x == y
            continue
        (i, u), (j, v) = x.split("\t"), y.split("\t")
        assert i == j and abs(float(u) - float(v)) <= 1e-7 * float(v) + 1.5e-6, (x, y)


def test_dcmdspfn_bad_range(tmp_path: Path) -> None:
    args = ["+Il", "0.01", "300"]
    ref = run(dcmtk_cmd("dcmdspfn", [*args, "+Og", tmp_path / "d.txt"]))
    ours = run(our_cmd("dcmdspfn", [*args, "+Og", tmp_path / "o.txt"]))
    assert ref.rc == ours.rc == 1
    assert ours.stderr == ref.stderr and not (tmp_path / "o.txt").exists()


def test_dcmdspfn_refuses_luminance_beyond_ps3_14(tmp_path: Path) -> None:
    """Deliberate difference: DCMTK extrapolates past 4000 cd/m^2 (PS3.14's upper end) and
    writes a curve that is not even monotonic; we refuse the range."""
    ref = run(dcmtk_cmd("dcmdspfn", ["+Il", "1", "5000", "+Og", tmp_path / "d.txt"]))
    values = [float(line.split()[1]) for line in (tmp_path / "d.txt").read_text().splitlines()
              if line[:1].isdigit()]
    assert ref.rc == 0 and values[-1] < values[-2]
    ours = run(our_cmd("dcmdspfn", ["+Il", "1", "5000", "+Og", tmp_path / "o.txt"]))
    assert ours.rc == 1 and not (tmp_path / "o.txt").exists()
    assert ours.stderr.startswith(b"E: invalid DISPLAY values")


@pytest.mark.parametrize("tool", ["dcmdspfn", "dcmicmp"])
def test_help_matches_dcmtk(tool: str) -> None:
    ref, ours = run(dcmtk_cmd(tool, ["--help"])), run(our_cmd(tool, ["--help"]))
    assert ours.rc == ref.rc == 0
    assert ours.stdout.split(b"\n")[1:] == ref.stdout.split(b"\n")[1:]


def test_gsdf_round_trip() -> None:
    """PS3.14: j(L(j)) is the identity to within the standard's approximation."""
    for j in (1, 10, 100, 500, 1023):
        assert abs(jnd_index(luminance(j)) - j) < 0.5
    curve = DisplayCurve(0.5, 300, 256)
    values = curve.gsdf()
    assert all(a < b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".bmp", b"BM"), (".tif", b"II*\0"),
                                       (".jpg", b"\xff\xd8"), (".pgm", b"P5")])
def test_dcm2img_picks_the_format_from_the_extension(images, ext, magic, tmp_path) -> None:
    out = tmp_path / f"out{ext}"
    assert dcm2img.main(["+Wi", "1", str(images["rescale"]), str(out)]) == 0
    assert out.read_bytes().startswith(magic)
    same = tmp_path / f"same{ext}"
    option = {".png": "+on", ".bmp": "+ob", ".tif": "+ot", ".jpg": "+oj", ".pgm": "+op"}[ext]
    from dcmpy.apps import dcmj2pnm
    assert dcmj2pnm.main([option, "+Wi", "1", str(images["rescale"]), str(same)]) == 0
    if ext != ".jpg":
        assert out.read_bytes() == same.read_bytes()


def test_dcm2img_format_option_wins(images, tmp_path) -> None:
    out = tmp_path / "out.png"
    assert dcm2img.main(["+opb", str(images["u12"]), str(out)]) == 0
    assert out.read_bytes().startswith(b"P2\n")
