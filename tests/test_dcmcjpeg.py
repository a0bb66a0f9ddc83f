"""dcmcjpeg against DCMTK's: JPEG Lossless (our Cython codec) and lossy Baseline/Extended
(libjpeg-turbo 3), every option DCMTK documents.

Lossless output is byte-identical to DCMTK's data set; lossy output too but for the new
UIDs (its codestreams, ratios, derivation description and lossy attributes are DCMTK's).
What dcmpy does not reproduce (DCMTK's DicomImage rendering of monochrome images that do not
fit 8 bits, VOI windows, +cm, +pl, the retired progressive processes) is refused with one
line and no output file; where DCMTK 3.6.7 is wrong, the test says what it does and what we do.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus
from codec_cases import dataset_bytes, dump, without_uids
from conftest import dcmtk_cmd, our_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy.apps import dcmcjpeg
from dcmpy.dcmdata.element import Element
from dcmpy.dcmdata.pixels import frame_bytes, pixel_array

CORPUS_LOSSLESS = ["pd__CT_small.dcm", "pd__MR_small.dcm", "pd__MR_small_bigendian.dcm",
                   "pd__examples_rgb_color.dcm", "pd__SC_rgb_small_odd.dcm",
                   "cmp__CT_small__jpeg_lossless_frag.dcm"]
# name: (BitsAllocated, BitsStored, signed, SamplesPerPixel, frames)
SYNTHETIC = {"8u": (8, 8, False, 1, 1), "12u": (16, 12, False, 1, 1), "12s": (16, 12, True, 1, 1),
             "16s-2frames": (16, 16, True, 1, 2), "rgb": (8, 8, False, 3, 1),
             "rgb-3frames": (8, 8, False, 3, 3)}
LOSSLESS_OPTIONS = [[], ["+el"], ["+el", "+sv", "3"], ["+el", "+sv", "7", "+pt", "2"],
                    ["+e1", "+fs", "1"], ["-ot"], ["+g", "-e"]]
LOSSY_OPTIONS = [["+eb"], ["+ee"], ["+eb", "+q", "50", "+sm", "20"], ["+eb", "+cr"],
                 ["+eb", "+s4"], ["+eb", "+n2"], ["+eb", "+n1"], ["+ee", "+np"], ["+eb", "-ho"],
                 ["+eb", "+cs"], ["+ee", "+fs", "1", "-ot"], ["+eb", "+ua", "+q", "0"]]


def _image(bits: int, stored: int, signed: bool, samples: int, frames: int,
           rows: int = 37, columns: int = 45) -> np.ndarray:
    """Smooth shapes and noise over the whole range, with both extremes."""
    rng = np.random.default_rng(bits * 7 + stored + samples)
    lo = -(1 << (stored - 1)) if signed else 0
    hi = lo + (1 << stored) - 1
    y, x = np.mgrid[0:rows, 0:columns]
    base = (np.sin(x / 5.0) + np.cos(y / 7.0) + 2) / 4
    img = lo + base[None, :, :, None] * (hi - lo) + rng.normal(0, (hi - lo) / 40,
                                                               (frames, rows, columns, samples))
    img = np.clip(np.round(img + 9 * np.arange(samples)), lo, hi)
    img[:, 0, 0], img[:, 0, 1] = lo, hi
    return img.astype(f"<{'i' if signed else 'u'}{bits // 8}")


def write_image(path: Path, img: np.ndarray, stored: int, signed: bool,
                photometric: str | None = None) -> Path:
    """``img`` (frames, rows, columns, samples) as a Secondary Capture file."""
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    frames, rows, columns, samples = img.shape
    for tag in (0x00280120, 0x00281050, 0x00281051, 0x00281052, 0x00281053):
        # padding, window, rescale: DCMTK renders images that have them (see below)
        if tag in ds:
            del ds[tag]
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8 * img.itemsize, stored, stored - 1
    ds.PixelRepresentation = int(signed)
    ds.PhotometricInterpretation = photometric or ("RGB" if samples == 3 else "MONOCHROME2")
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = str(frames)
    ds[0x7FE00010] = Element(0x7FE00010, "OB" if img.itemsize == 1 else "OW", img.tobytes())
    dcmwrite(path, ds)
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dcmcjpeg")
    return {name: write_image(folder / f"{name}.dcm", _image(*spec), spec[1], spec[2])
            for name, spec in SYNTHETIC.items()}


def _run_both(src: Path, options: list[str], tmp_path: Path):
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    ref = run(dcmtk_cmd("dcmcjpeg", [*options, src, theirs]))
    rc = dcmcjpeg.main([*options, str(src), str(ours)])
    return ref, rc, theirs, ours


def _source(name: str, synthetic: dict[str, Path]) -> Path:
    return synthetic[name] if name in synthetic else corpus.ensure_corpus() / name


@pytest.mark.parametrize("options", LOSSLESS_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", CORPUS_LOSSLESS + ["8u", "12u", "12s", "16s-2frames", "rgb"])
def test_lossless_matches_dcmtk(name: str, options: list[str], synthetic, tmp_path: Path) -> None:
    src = _source(name, synthetic)
    ref, rc, theirs, ours = _run_both(src, options, tmp_path)
    assert ref.rc == 0 and rc == 0, ref.stderr
    assert dataset_bytes(ours) == dataset_bytes(theirs)
    if "+pt" not in options:
        np.testing.assert_array_equal(pixel_array(dcmread(ours)), pixel_array(dcmread(src)))


@pytest.mark.parametrize("options", LOSSY_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", ["pd__examples_rgb_color.dcm", "rgb", "rgb-3frames", "8u"])
def test_lossy_matches_dcmtk(name: str, options: list[str], synthetic, tmp_path: Path) -> None:
    ref, rc, theirs, ours = _run_both(_source(name, synthetic), options, tmp_path)
    assert ref.rc == 0 and rc == 0, ref.stderr
    assert without_uids(dump(ours)) == without_uids(dump(theirs))
    a, b = dcmread(theirs), dcmread(ours)
    for i in range(int(getattr(a, "NumberOfFrames", 1) or 1)):
        assert bytes(frame_bytes(b, i)) == bytes(frame_bytes(a, i))
    renewed = "+un" not in options
    assert (b.SOPInstanceUID != dcmread(_source(name, synthetic)).SOPInstanceUID) == renewed


def test_lossy_without_new_uid_is_byte_identical(tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / "pd__examples_rgb_color.dcm"
    ref, rc, theirs, ours = _run_both(src, ["+eb", "+un"], tmp_path)
    assert ref.rc == rc == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)


def test_new_uid_for_lossless_matches_dcmtk(tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / "pd__CT_small.dcm"
    for options in (["+ua"], ["+cs"], ["+el", "+ua", "+un"]):
        ref, rc, theirs, ours = _run_both(src, options, tmp_path)
        assert ref.rc == rc == 0
        assert without_uids(dump(ours)) == without_uids(dump(theirs)), options


def test_no_pixel_data_changes_only_the_syntax(tmp_path: Path, capsys) -> None:
    ref, rc, theirs, ours = _run_both(corpus.ensure_corpus() / "pd__rtplan.dcm", [], tmp_path)
    assert ref.rc == rc == 0
    assert dataset_bytes(ours) == dataset_bytes(theirs)
    assert dcmread(ours).transfer_syntax.uid == "1.2.840.10008.1.2.4.70"
    assert "No pixel data present, nothing to compress" in capsys.readouterr().err


@pytest.mark.parametrize("options", [
    ["+e1", "+sv", "3"], ["+sv", "8"], ["+el", "+sv", "8"], ["+el", "+sv", "0"],
    ["+eb", "+bt"], ["+eb", "+bs"], ["+ee", "+bs"], ["+ep", "+bs"], ["+eb", "+pt", "2"],
    ["+el", "+q", "50"], ["+eb", "+q", "101"], ["+eb", "+sm", "101"], ["+e1", "+sm", "3"],
    ["+e1", "+be"], ["+e1", "+cr"], ["+e1", "+cm"], ["+e1", "+ca"], ["+e1", "+s2"],
    ["+e1", "+s4"], ["+e1", "+Wi", "1"], ["+e1", "+Ww", "1", "2"], ["+el", "+pt", "16"],
    ["+fs", "0"], ["+eb", "+Wh", "101"], ["+eb", "+Wi", "0"]], ids=" ".join)
def test_option_errors_match_dcmtk(options: list[str], synthetic, tmp_path: Path) -> None:
    src = synthetic["12u"]
    theirs = run(dcmtk_cmd("dcmcjpeg", [*options, src, tmp_path / "t.dcm"]))
    ours = run(our_cmd("dcmcjpeg", [*options, src, tmp_path / "o.dcm"]))
    assert theirs.rc == ours.rc == 1
    assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1]
    assert not (tmp_path / "o.dcm").exists()


@pytest.mark.parametrize("name,options", [
    ("dd__DICOMDIR", []), ("pd__rtdose.dcm", []), ("pd__liver_1frame.dcm", ["+el"])])
def test_refusals_match_dcmtk(name: str, options: list[str], tmp_path: Path, capsys) -> None:
    ref, rc, theirs, ours = _run_both(corpus.ensure_corpus() / name, options, tmp_path)
    assert ref.rc == rc == 1 and not ours.exists() and not theirs.exists()
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("F: ") and "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("options,message", [
    (["+eb"], "lossy JPEG (8 bit) of signed monochrome pixel data needs DCMTK's "
              "DicomImage rendering"),
    (["+ee"], "needs DCMTK's DicomImage rendering"),
    (["+es"], "no encoder for the retired JPEG spectral selection"),
    (["+ep"], "no encoder for the retired JPEG spectral selection"),
    (["+pl"], "--pseudo-lossless"),
    (["+eb", "+Wm"], "--min-max-window: VOI windowing"),
    (["+eb", "+Ww", "40", "400"], "--set-window: VOI windowing")], ids=str)
def test_what_dcmpy_does_not_reproduce_is_refused(options: list[str], message: str,
                                                  tmp_path: Path) -> None:
    """DCMTK renders 16-bit CT into 8/12-bit lossy JPEG through DicomImage (CT_small +eb:
    Rescale Slope 16.05882, Intercept -1919) and writes the retired processes; dcmpy refuses
    with one line, exit code 1 and no output file."""
    src = corpus.ensure_corpus() / "pd__CT_small.dcm"
    assert run(dcmtk_cmd("dcmcjpeg", [*options, src, tmp_path / "t.dcm"])).rc == 0
    ours = run(our_cmd("dcmcjpeg", [*options, src, tmp_path / "o.dcm"]))
    lines = ours.stderr.decode().splitlines()
    assert ours.rc == 1 and len(lines) == 1 and lines[0].startswith("F: ")
    assert message in lines[0] and not (tmp_path / "o.dcm").exists()


def test_rescaled_8bit_image_is_refused(synthetic, tmp_path: Path) -> None:
    """An 8-bit image with a Rescale Intercept: DCMTK renders it (it writes Rescale
    Intercept 0 and Rescale Type US); dcmpy refuses it."""
    ds = dcmread(synthetic["8u"])
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    src = tmp_path / "rescaled.dcm"
    dcmwrite(src, ds)
    ref, rc, theirs, ours = _run_both(src, ["+eb"], tmp_path)
    assert ref.rc == 0 and str(dcmread(theirs).RescaleIntercept) in ("0", "0.0")
    assert rc == 1 and not ours.exists()


def test_rle_input_is_decoded_first(tmp_path: Path) -> None:
    """Difference: DCMTK's dcmcjpeg has only its JPEG decoders and refuses RLE input ('no
    conversion from compressed original to uncompressed transfer syntax possible'); we
    decode any syntax we read, then encode: the result is DCMTK's encoding of the plain file."""
    src = corpus.ensure_corpus() / "pd__MR_small_RLE.dcm"
    ref, rc, theirs, ours = _run_both(src, [], tmp_path)
    assert ref.rc == 1 and b"no conversion from compressed original" in ref.stderr
    assert rc == 0
    plain, again = tmp_path / "plain.dcm", tmp_path / "again.dcm"
    assert run(dcmtk_cmd("dcmdrle", [src, plain])).rc == 0
    assert run(dcmtk_cmd("dcmcjpeg", [plain, again])).rc == 0
    assert bytes(frame_bytes(dcmread(ours), 0)) == bytes(frame_bytes(dcmread(again), 0))
    np.testing.assert_array_equal(pixel_array(dcmread(ours)), pixel_array(dcmread(src)))


def test_ratio_text_is_dcmtk_s() -> None:
    """DCMTK writes 5 significant digits, not counting the zeros right after the point
    (ratios taken from its output in test_lossy_matches_dcmtk and by hand)."""
    cases = {230400 / 16370: "14.0745", 262144 / 1186: "221.032", 230400 / 11950: "19.28",
             4096 / 4608: "0.88889", 230400 / 116866: "1.9715", 230400 / 2842: "81.0697"}
    assert [dcmcjpeg.ratio_text(ratio) for ratio in cases] == list(cases.values())


def test_help_matches_dcmtk() -> None:
    theirs = run(dcmtk_cmd("dcmcjpeg", ["--help"])).stdout.decode().splitlines()[1:]
    assert run(our_cmd("dcmcjpeg", ["--help"])).stdout.decode().splitlines()[1:] == theirs
