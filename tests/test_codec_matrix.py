"""The codec interop matrix: every (source kind, encoder) cell, in both directions.

Sources are NumPy images written by our writer: 8/12/16-bit, signed and unsigned,
monochrome, RGB, YBR_FULL, palette colour, multi-frame. Encoders are DCMTK (dcmcjpeg +e1 +el
+eb +ee, dcmcjpls, dcmcrle), GDCM (gdcmconv --jpeg --jpegls --rle --j2k) and ours (every
syntax we encode). Checks:

* a peer's lossless encoding decodes (by us) to the source pixels exactly;
* a peer's lossy encoding decodes (by us) to what DCMTK's dcmdjpeg decodes, within LOSSY_BOUND;
* our encoding is decoded by a peer (DCMTK, GDCM, or imagecodecs for HTJ2K) to the source
  pixels exactly (lossless), or within LOSSY_BOUND of our own decode (lossy).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import dcmtk_cmd, run
from dcmpy import dcmread, dcmwrite
from dcmpy.dcmdata.dataset import Dataset
from dcmpy.dcmdata.element import Element
from dcmpy.dcmdata.pixels import frame_bytes, pixel_array
from dcmpy.dcmdata.transcode import compress

LOSSY_BOUND = 1    # libjpeg-turbo and DCMTK's IJG code share the islow IDCT and upsampling
ROWS, COLUMNS = 30, 41
# name: (BitsAllocated, BitsStored, signed, samples, frames, photometric)
KINDS = {
    "8u": (8, 8, False, 1, 1, "MONOCHROME2"), "8u-3frames": (8, 8, False, 1, 3, "MONOCHROME2"),
    "12u": (16, 12, False, 1, 1, "MONOCHROME2"), "12s": (16, 12, True, 1, 1, "MONOCHROME1"),
    "16u": (16, 16, False, 1, 1, "MONOCHROME2"), "16s-2frames": (16, 16, True, 1, 2,
                                                                 "MONOCHROME2"),
    "rgb": (8, 8, False, 3, 1, "RGB"), "rgb-2frames": (8, 8, False, 3, 2, "RGB"),
    "ybr": (8, 8, False, 3, 1, "YBR_FULL"), "palette": (8, 8, False, 1, 1, "PALETTE COLOR"),
}
PEER_ENCODERS = {
    "dcmcjpeg+e1": (["dcmcjpeg", "+e1"], True), "dcmcjpeg+el": (["dcmcjpeg", "+el"], True),
    "dcmcjpeg+eb": (["dcmcjpeg", "+eb"], False), "dcmcjpeg+ee": (["dcmcjpeg", "+ee"], False),
    "dcmcjpls": (["dcmcjpls"], True), "dcmcrle": (["dcmcrle"], True),
    "gdcm--jpeg": (["gdcmconv", "--jpeg"], True), "gdcm--jpegls": (["gdcmconv", "--jpegls"], True),
    "gdcm--rle": (["gdcmconv", "--rle"], True), "gdcm--j2k": (["gdcmconv", "--j2k"], True),
}
# our encoder (transfer syntax) -> the peer that decodes it
OUR_ENCODERS = {
    "1.2.840.10008.1.2.4.70": "dcmdjpeg", "1.2.840.10008.1.2.4.57": "dcmdjpeg",
    "1.2.840.10008.1.2.4.80": "dcmdjpls", "1.2.840.10008.1.2.5": "dcmdrle",
    "1.2.840.10008.1.2.4.90": "gdcmconv", "1.2.840.10008.1.2.4.201": "imagecodecs",
    "1.2.840.10008.1.2.4.50": "dcmdjpeg",
}
LOSSY = {"1.2.840.10008.1.2.4.50"}


def _pixels(bits: int, stored: int, signed: bool, samples: int, frames: int) -> np.ndarray:
    rng = np.random.default_rng(bits + stored + samples + frames)
    lo = -(1 << (stored - 1)) if signed else 0
    hi = lo + (1 << stored) - 1
    y, x = np.mgrid[0:ROWS, 0:COLUMNS]
    base = (np.sin(x / 6.0) + np.cos(y / 5.0) + 2) / 4
    img = lo + base[None, :, :, None] * (hi - lo) + rng.normal(0, (hi - lo) / 60,
                                                               (frames, ROWS, COLUMNS, samples))
    img = np.clip(np.round(img + 11 * np.arange(samples)), lo, hi)
    img[:, 0, 0], img[:, 0, 1] = lo, hi
    return img.astype(f"<{'i' if signed else 'u'}{bits // 8}")


def _write(path: Path, kind: str) -> None:
    bits, stored, signed, samples, frames, photometric = KINDS[kind]
    img = _pixels(bits, stored, signed, samples, frames)
    ds = Dataset()
    # GDCM refuses multi-frame images of the single-frame Secondary Capture class
    sop_class = ("1.2.840.10008.5.1.4.1.1.7" if frames == 1 else "1.2.840.10008.5.1.4.1.1.7.4"
                 if samples == 3 else f"1.2.840.10008.5.1.4.1.1.7.{2 if bits == 8 else 3}")
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, f"2.25.{4242 + len(kind)}"
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "Matrix^Codec", kind
    ds.Rows, ds.Columns, ds.SamplesPerPixel = ROWS, COLUMNS, samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
    ds.PixelRepresentation, ds.PhotometricInterpretation = int(signed), photometric
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = str(frames)
    if photometric == "PALETTE COLOR":
        ramp = (np.arange(256, dtype="<u2") * 257)
        for n, (desc, data) in enumerate(((0x00281101, 0x00281201), (0x00281102, 0x00281202),
                                          (0x00281103, 0x00281203))):
            ds[desc] = Element(desc, "US", [256, 0, 16])
            ds[data] = Element(data, "OW", np.roll(ramp, 40 * n).tobytes())
    ds[0x7FE00010] = Element(0x7FE00010, "OB" if bits == 8 else "OW", img.tobytes())
    dcmwrite(path, ds)


@pytest.fixture(scope="session")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("matrix")
    for kind in KINDS:
        _write(folder / f"{kind}.dcm", kind)
    return {kind: folder / f"{kind}.dcm" for kind in KINDS}


def _dcmtk_decoded(path: Path, tmp_path: Path) -> np.ndarray:
    tool = {"1.2.840.10008.1.2.4.80": "dcmdjpls", "1.2.840.10008.1.2.4.81": "dcmdjpls",
            "1.2.840.10008.1.2.5": "dcmdrle"}.get(dcmread(path).transfer_syntax.uid, "dcmdjpeg")
    out = tmp_path / "dcmtk-decoded.dcm"
    result = run(dcmtk_cmd(tool, [path, out]))
    assert result.rc == 0, result.stderr
    return pixel_array(dcmread(out))


@pytest.mark.parametrize("encoder", PEER_ENCODERS)
@pytest.mark.parametrize("kind", KINDS)
def test_peer_encoding_decodes_here(kind: str, encoder: str, sources, tmp_path: Path) -> None:
    args, lossless = PEER_ENCODERS[encoder]
    tool, *options = args
    encoded = tmp_path / "enc.dcm"
    cmd = dcmtk_cmd(tool, [*options, sources[kind], encoded]) if tool.startswith("dcm") else (
        [tool, *options, str(sources[kind]), str(encoded)])
    result = run(cmd)
    assert result.rc == 0, result.stderr
    ds = dcmread(encoded)
    assert ds.transfer_syntax.encapsulated
    ours = pixel_array(ds)
    if lossless:
        np.testing.assert_array_equal(ours, pixel_array(dcmread(sources[kind])))
    else:
        theirs = _dcmtk_decoded(encoded, tmp_path)
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= LOSSY_BOUND


def _our_cells() -> list[tuple[str, str]]:
    cells = []
    for kind, (bits, stored, signed, samples, frames, photometric) in KINDS.items():
        for ts in OUR_ENCODERS:
            if ts in LOSSY and (bits != 8 or photometric not in ("MONOCHROME2", "RGB")):
                continue    # lossy JPEG here takes 8-bit monochrome and RGB samples
            cells.append((kind, ts))
    return cells


def _peer_decoded(path: Path, decoder: str, tmp_path: Path, lossy: bool) -> np.ndarray:
    if decoder == "imagecodecs":
        import imagecodecs
        ds = dcmread(path)
        frames = [imagecodecs.jpeg2k_decode(bytes(frame_bytes(ds, i)))
                  for i in range(int(getattr(ds, "NumberOfFrames", 1) or 1))]
        return np.stack(frames) if len(frames) > 1 else frames[0]
    out = tmp_path / "peer-decoded.dcm"
    # lossless JPEG keeps the stored colour model: dcmdjpeg must not convert YBR to RGB
    options = ["+cn"] if decoder == "dcmdjpeg" and not lossy else []
    cmd = (["gdcmconv", "--raw", str(path), str(out)] if decoder == "gdcmconv"
           else dcmtk_cmd(decoder, [*options, path, out]))
    result = run(cmd)
    assert result.rc == 0, result.stderr
    return pixel_array(dcmread(out))


@pytest.mark.parametrize("kind,ts", _our_cells())
def test_our_encoding_decodes_in_peers(kind: str, ts: str, sources, tmp_path: Path) -> None:
    src = dcmread(sources[kind])
    expected = pixel_array(src)
    encoded = tmp_path / "ours.dcm"
    dcmwrite(encoded, compress(src, ts))
    theirs = _peer_decoded(encoded, OUR_ENCODERS[ts], tmp_path, ts in LOSSY)
    if ts in LOSSY:
        ours = pixel_array(dcmread(encoded))
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= LOSSY_BOUND
        assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 40
    else:
        np.testing.assert_array_equal(theirs.astype(expected.dtype).reshape(expected.shape),
                                      expected)
