"""dcm2pnm, dcmj2pnm and dcml2pnm against DCMTK's: the same options on the same images must
give the same picture files, byte for byte for PGM/PPM (binary and ASCII), pixel for pixel for
PNG, BMP and TIFF (decoded with Pillow), and the same exit code.

The images are the rendering corpus of test_dcmimgle_images.py (built with pydicom: 8 to 16
bits, signed, MONOCHROME1, rescale, modality/VOI LUT sequences, windows, overlays, RGB, YBR,
palette colour, multi-frame, short pixel data) and the image files of the interop corpus
(pydicom's test files: uncompressed, RLE, JPEG through dcmj2pnm, JPEG-LS through dcml2pnm).
Ours runs in-process (``apps.dcm2pnm.main``); a few runs go through ``python -m dcmpy``.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import corpus
from conftest import dcmtk_cmd, our_cmd, run
from test_dcmimgle_images import IMAGES, image_corpus
from dcmpy.apps import dcm2pnm, dcmj2pnm, dcml2pnm

MONO_OPTIONS = {
    "default": [], "16-bit": ["+opw"], "8-bit-ascii": ["+opb"], "12-bit": ["+opn", "12"],
    "window-1": ["+Wi", "1"], "window-2": ["+Wi", "2"], "voi-lut-1": ["+Wl", "1"],
    "voi-lut-2": ["+Wl", "2", "+opw"], "min-max": ["+Wm"], "min-max-n": ["+Wn", "+opw"],
    "set-window": ["+Ww", "-100.5", "900"], "set-window-1": ["+Ww", "2000", "1", "+opw"],
    "sigmoid": ["+Ww", "1000", "2000", "+Wfs", "+opw"], "sigmoid-file": ["+Wi", "1", "+Wfs"],
    "linear-fn": ["+Wi", "1", "+Wfl"], "histogram": ["+Wh", "5"], "histogram-0": ["+Wh", "0"],
    "roi": ["+Wr", "3", "4", "20", "10"], "inverse": ["+Piv"], "inverse-window": ["+Piv", "+Wm"],
    "identity": ["+Pid", "+Wi", "1"], "polarity": ["+P", "+opw"],
    "polarity-lut": ["+P", "+Wl", "1"], "no-modality": ["-M", "+Wm"],
    "no-modality-lut": ["-M", "+opw"], "no-overlays": ["-O"], "overlay-1": ["+O", "1"],
    "overlay-2": ["+O", "2", "+opw"], "ovl-roi": ["+Omi"], "ovl-invert": ["+Omv", "+opw"],
    "rotate-left": ["+Rl"], "rotate-right": ["+Rr", "+Wm"], "rotate-180": ["+Rtd"],
    "flip-h": ["+Lh"], "flip-v": ["+Lv"], "flip-hv": ["+Lhv", "+opw"],
    "clip": ["+C", "5", "7", "20", "11"], "scale-replicate": ["-i", "+Sxf", "2"],
    "scale-half": ["-i", "+Sxf", "0.5"], "frame-2": ["+F", "2"], "all-frames": ["+Fa"],
    "frame-range": ["+Fr", "2", "2", "+Fn"],
}
COLOR_OPTIONS = {key: MONO_OPTIONS[key] for key in (
    "default", "16-bit", "8-bit-ascii", "12-bit", "polarity", "rotate-left", "flip-hv", "clip",
    "scale-replicate", "all-frames")}
PICTURE_OPTIONS = {"png": ["+on"], "png-16": ["+on2"], "png-plain": ["+on", "-il", "-mf"],
                   "bmp": ["+ob"], "bmp-8": ["+obp"], "bmp-24": ["+obt"], "bmp-32": ["+obr"],
                   "tiff": ["+ot"], "tiff-none": ["+ot", "+Tn"], "tiff-rle": ["+ot", "+Tr"],
                   "tiff-pred": ["+ot", "+Ph", "+Rs", "7"]}
COLOR = {"rgb8", "rgb8_planar", "rgb12", "rgb16", "ybr8", "ybr12", "ybr422", "ybr_partial422",
         "palette8", "palette16", "palette_segmented"}
# Known differences, each with a test of its own below: DCMTK 3.6.7 cannot render segmented
# palettes (test_segmented_palette_difference); its scaling of overlay planes, its replication for scale factors that are not
# whole numbers or their inverses, and its abs-range after scaling an image with a fractional
# rescale intercept, are not reproduced (see the report in tests/README.md).
NOT_COMPARED = {("palette_segmented", None), ("u10_odd", "scale-half"),
                ("rescale_frac", "scale-replicate"), ("rescale_frac", "scale-half"),
                ("overlay_two", "scale-half")}
MODULES = {"dcm2pnm": dcm2pnm, "dcmj2pnm": dcmj2pnm, "dcml2pnm": dcml2pnm}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    return image_corpus(tmp_path_factory.mktemp("dcm2pnm"))


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _compare(tool: str, src: Path, options: list[str], tmp_path: Path, *,
             decode: bool = False) -> None:
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    theirs.mkdir()
    ours.mkdir()
    ref = run(dcmtk_cmd(tool, [*options, src, theirs / "out"]))
    rc = MODULES[tool].main([*options, str(src), str(ours / "out")])
    assert rc == ref.rc, ref.stderr.decode(errors="replace")
    expected, actual = _outputs(theirs), _outputs(ours)
    if rc:     # DCMTK may leave a partial file behind (e.g. +obp on colour); we never do
        assert not actual, actual
        return
    assert sorted(actual) == sorted(expected), ref.stderr.decode(errors="replace")
    for name, data in expected.items():
        if decode:
            a, b = _pixels(data), _pixels(actual[name])
            assert a.shape == b.shape and np.array_equal(a, b), name
        else:
            assert actual[name] == data, f"{name}: {_first_difference(data, actual[name])}"


def _pixels(data: bytes) -> np.ndarray:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img)


def _first_difference(a: bytes, b: bytes) -> str:
    if len(a) != len(b):
        return f"length {len(a)} (DCMTK) != {len(b)} (dcmpy)"
    at = next(i for i in range(len(a)) if a[i] != b[i])
    return f"first difference at byte {at}: {a[at:at + 16]!r} != {b[at:at + 16]!r}"


def _cases() -> list:
    cases = []
    for name in IMAGES:
        options = COLOR_OPTIONS if name in COLOR else MONO_OPTIONS
        cases += [pytest.param(name, opts, id=f"{name}[{key}]") for key, opts in options.items()
                  if (name, None) not in NOT_COMPARED and (name, key) not in NOT_COMPARED]
    return cases


@pytest.mark.parametrize("name,options", _cases())
def test_dcm2pnm_matches_dcmtk(images, name: str, options: list[str], tmp_path: Path) -> None:
    _compare("dcm2pnm", images[name], options, tmp_path)


@pytest.mark.parametrize("fmt", sorted(PICTURE_OPTIONS))
@pytest.mark.parametrize("name", ["u12", "rescale", "m1_window", "overlay", "rgb8", "ybr12",
                                  "palette16", "multiframe"])
def test_picture_formats_match_dcmtk(images, name: str, fmt: str, tmp_path: Path) -> None:
    options = PICTURE_OPTIONS[fmt] + (["+Wi", "1"] if name == "rescale" else [])
    _compare("dcm2pnm", images[name], options, tmp_path, decode=True)


# -- the interop corpus -------------------------------------------------------------------------
def _corpus_images() -> list:
    from dcmpy import dcmread
    tools = {"1.2.840.10008.1.2.4.50": "dcmj2pnm", "1.2.840.10008.1.2.4.51": "dcmj2pnm",
             "1.2.840.10008.1.2.4.57": "dcmj2pnm", "1.2.840.10008.1.2.4.70": "dcmj2pnm",
             "1.2.840.10008.1.2.4.80": "dcml2pnm", "1.2.840.10008.1.2.4.81": "dcml2pnm"}
    cases = []
    for path in corpus.corpus_files():
        if not path.name.startswith(("pd__", "cmp__")):
            continue
        try:
            ds = dcmread(path)
        except Exception:
            continue
        if 0x7FE00010 not in ds or ds.transfer_syntax is None:
            continue
        uid = ds.transfer_syntax.uid
        tool = tools.get(uid, "dcm2pnm")
        if uid.startswith("1.2.840.10008.1.2.4.") and tool == "dcm2pnm":
            continue      # JPEG 2000 and others: DCMTK has no decoder to compare with
        if path.name == "pd__badVR.dcm":
            continue      # NumberOfFrames "1A": DCMTK reads 1, we refuse the image
        cases.append(pytest.param(tool, path, id=path.name))
    return cases


@pytest.mark.parametrize("options", [[], ["+Wm", "+opw"], ["+Wi", "1"], ["+Fa"]], ids=" ".join)
@pytest.mark.parametrize("tool,path", _corpus_images())
def test_corpus_images_match_dcmtk(tool: str, path: Path, options, tmp_path: Path) -> None:
    _compare(tool, path, options, tmp_path)


# -- the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize("tool", sorted(MODULES))
def test_help_matches_dcmtk(tool: str) -> None:
    ref, ours = run(dcmtk_cmd(tool, ["--help"])), run(our_cmd(tool, ["--help"]))
    assert ours.rc == ref.rc == 0
    assert ours.stdout.split(b"\n")[1:] == ref.stdout.split(b"\n")[1:]


def test_stdout_and_log_lines(images, tmp_path: Path) -> None:
    args = ["-v", "+Wi", "1", images["rescale"]]
    ref, ours = run(dcmtk_cmd("dcm2pnm", args)), run(our_cmd("dcm2pnm", args))
    assert ours.rc == ref.rc == 0 and ours.stdout == ref.stdout
    strip = lambda text: [line.replace(str(images["rescale"]), "F") for line in
                          text.decode().splitlines() if not line.startswith("D:")]
    assert strip(ours.stderr) == strip(ref.stderr)


def test_image_info_matches_dcmtk(images) -> None:
    for name in ("rescale", "voilut12", "rgb8", "overlay_two", "multiframe"):
        args = ["-v", "-im", "-o", images[name]]
        ref, ours = run(dcmtk_cmd("dcm2pnm", args)), run(our_cmd("dcm2pnm", args))
        assert ours.rc == ref.rc == 0
        ignore = ("SOP class", "transfer syntax")
        keep = lambda text: [line for line in text.decode().splitlines()
                             if not any(k in line for k in ignore)]
        assert keep(ours.stderr) == keep(ref.stderr), name


@pytest.mark.parametrize("args,message", [
    (["+F", "5"], "F: cannot select frame 5, invalid frame number"),
    (["+Wi", "3"], "F: cannot select VOI window 3, only 2 window(s) in file"),
    (["+Wl", "1"], "F: cannot select VOI LUT 1, only 0 LUT(s) in file")])
def test_selection_errors(images, args, message, tmp_path: Path) -> None:
    out = tmp_path / "out.pgm"
    ref = run(dcmtk_cmd("dcm2pnm", [*args, images["rescale"], out]))
    ours = run(our_cmd("dcm2pnm", [*args, images["rescale"], out]))
    assert ref.rc == ours.rc == 1 and not out.exists()
    assert message in ours.stderr.decode() and message in ref.stderr.decode()


def test_unreadable_input_and_unwritable_output(images, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(b"not a DICOM file at all" * 10)
    for args in ([tmp_path / "missing.dcm", tmp_path / "o.pgm"], [garbage, tmp_path / "o.pgm"],
                 [images["u12"], tmp_path / "no" / "such" / "dir.pgm"]):
        ref, ours = run(dcmtk_cmd("dcm2pnm", args)), run(our_cmd("dcm2pnm", args))
        assert ref.rc == ours.rc == 1
        lines = ours.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("F: "), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.dcm"]


def test_linear_exact_difference(images, tmp_path: Path) -> None:
    """Deliberate difference: DCMTK 3.6.7 warns "unknown value for 'VOILUTFunction'
    (LINEAR_EXACT) ... ignoring" and renders LINEAR; we render LINEAR_EXACT (PS3.3
    C.11.2.1.3.2)."""
    from pydicom import dcmread
    src = tmp_path / "exact.dcm"
    ds = dcmread(images["u12"])
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = "1000", "1500", "LINEAR_EXACT"
    ds.save_as(src)
    ref = run(dcmtk_cmd("dcm2pnm", ["+opw", "+Wi", "1", src, tmp_path / "d.pgm"]))
    assert b"unknown value for 'VOILUTFunction' (LINEAR_EXACT)" in ref.stderr
    assert dcm2pnm.main(["+opw", "+Wi", "1", str(src), str(tmp_path / "o.pgm")]) == 0
    x = np.arange(4096, dtype=np.float64).reshape(64, 64)
    expect = np.where(x <= 1000 - 750, 0, np.where(x > 1000 + 750, 65535,
                                                   np.trunc(((x - 1000) / 1500 + 0.5) * 65535)))
    ours = np.array((tmp_path / "o.pgm").read_bytes().split(b"\n", 3)[3].split(), np.int64)
    theirs = np.array((tmp_path / "d.pgm").read_bytes().split(b"\n", 3)[3].split(), np.int64)
    assert np.array_equal(ours.reshape(64, 64), expect)
    assert not np.array_equal(theirs.reshape(64, 64), expect)


def test_segmented_palette_difference(images, tmp_path: Path) -> None:
    """Deliberate difference: DCMTK 3.6.7 warns "segmented palettes not yet supported" and
    fails; we expand them (PS3.3 C.7.9.2), as pydicom does."""
    from pydicom import dcmread
    from pydicom.pixels import apply_color_lut
    src = images["palette_segmented"]
    ref = run(dcmtk_cmd("dcm2pnm", ["+opw", src, tmp_path / "d.ppm"]))
    assert ref.rc == 1 and b"segmented palettes not yet supported" in ref.stderr
    assert dcm2pnm.main(["+opw", str(src), str(tmp_path / "o.ppm")]) == 0
    ds = dcmread(src)
    expect = apply_color_lut(ds.pixel_array, ds)
    head, body = (tmp_path / "o.ppm").read_bytes().split(b"\n", 3)[:3], \
        (tmp_path / "o.ppm").read_bytes().split(b"\n", 3)[3]
    ours = np.array(body.split(), np.int64).reshape(expect.shape)
    assert head == [b"P3", b"40 40", b"65535"]
    assert np.array_equal(ours, expect)


def _hostile(images, tmp_path: Path) -> dict[str, Path]:
    from pydicom import dcmread
    from pydicom.sequence import Sequence
    from test_dcmimgle_images import lut_item
    out = {}
    ds = dcmread(images["u12"])
    ds.Rows = ds.Columns = 65535
    out["huge"] = ds
    ds = dcmread(images["u12"])
    ds.VOILUTSequence = Sequence([lut_item(0, np.arange(10), 12, entries=4096)])
    out["lying-voi-lut"] = ds
    ds = dcmread(images["u12"])
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"
    out["bad-photometric"] = ds
    ds = dcmread(images["palette8"])
    ds[0x00281201].value = ds[0x00281201].value[:20]
    out["short-palette"] = ds
    ds = dcmread(images["u12"])
    ds.BitsStored, ds.HighBit = 17, 16
    out["bits-stored"] = ds
    paths = {}
    for name, ds in out.items():
        paths[name] = tmp_path / f"{name}.dcm"
        ds.save_as(paths[name])
    return paths


@pytest.mark.parametrize("name", ["huge", "bad-photometric", "bits-stored"])
def test_hostile_images_fail_cleanly(images, tmp_path: Path, name: str) -> None:
    """A one-line reason (plus DCMTK's status line), exit 1, no output file, no traceback.

    'huge' (65535 x 65535 claimed, 8 kB stored) is a deliberate difference: DCMTK 3.6.7 warns
    "computed (4294836225) and stored (4096) pixel count differ" and then works on 8 GB of
    zeros for minutes; we refuse the image at once."""
    src = _hostile(images, tmp_path)[name]
    out = tmp_path / "out.pgm"
    ours = run(our_cmd("dcm2pnm", [src, out]), timeout=60)
    assert ours.rc == 1 and not out.exists()
    lines = ours.stderr.decode().splitlines()
    assert 1 <= len(lines) <= 2 and all(l.startswith(("E: ", "F: ")) for l in lines), lines
    if name != "huge":
        assert run(dcmtk_cmd("dcm2pnm", [src, tmp_path / "theirs.pgm"])).rc == 1


@pytest.mark.parametrize("name,args", [("lying-voi-lut", ["+Wl", "1"]), ("short-palette", [])])
def test_short_lut_data_fallback_matches_dcmtk(images, tmp_path: Path, name, args) -> None:
    """LUT data shorter than its descriptor: DCMTK's fallback (use the entries present, with
    its warning), the same pixels."""
    src = _hostile(images, tmp_path)[name]
    ref = run(dcmtk_cmd("dcm2pnm", [*args, src, tmp_path / "d.ppm"]))
    ours = run(our_cmd("dcm2pnm", [*args, src, tmp_path / "o.ppm"]))
    assert ref.rc == ours.rc == 0
    assert ours.stderr == ref.stderr
    assert (tmp_path / "o.ppm").read_bytes() == (tmp_path / "d.ppm").read_bytes()
