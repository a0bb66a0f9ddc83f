"""dcmconv +tu: transcoding between every syntax this machine encodes, checked by DCMTK.

Lossless targets keep every stored value (DCMTK's decoder gives back the source pixels); a lossy
target records itself (Lossy Image Compression 01, ratio, method, DERIVED, a new instance naming
its source) and decodes within a stated bound; compressed input to an uncompressed syntax is
decompressed (DCMTK's dcmconv refuses).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus
from conftest import dcmtk_cmd, run
from dcmpy import dcmread
from dcmpy.apps import dcmconv
from dcmpy.dcmdata.pixels import pixel_array

SOURCES = ["pd__CT_small.dcm", "pd__MR_small_bigendian.dcm", "pd__examples_rgb_color.dcm",
           "pd__examples_palette.dcm", "pd__examples_overlay.dcm", "pd__rtdose.dcm"]
# target syntax, DCMTK decoder of it (None: none in DCMTK 3.6.7; ours decodes)
LOSSLESS = [("RLELossless", "dcmdrle"), ("JPEGLSLossless", "dcmdjpls"),
            ("1.2.840.10008.1.2.1.98", None)]


@pytest.mark.parametrize("target,decoder", LOSSLESS, ids=[t for t, _ in LOSSLESS])
@pytest.mark.parametrize("name", SOURCES)
def test_lossless_targets_keep_every_value(name: str, target: str, decoder: str | None,
                                           tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / name
    out, back = tmp_path / "out.dcm", tmp_path / "back.dcm"
    rc = dcmconv.main(["+tu", target, str(src), str(out)])
    if target == "JPEGLSLossless" and dcmread(src).BitsAllocated > 16:
        assert rc == 1 and not out.exists()        # JPEG-LS holds at most 16 bits
        return
    assert rc == 0
    expected = pixel_array(dcmread(src))
    if decoder:
        assert run(dcmtk_cmd(decoder, [out, back])).rc == 0
        np.testing.assert_array_equal(pixel_array(dcmread(back)), expected)
    np.testing.assert_array_equal(pixel_array(dcmread(out)), expected)
    assert dcmread(out).get(0x00282110) == dcmread(src).get(0x00282110)   # not marked lossy


def test_lossless_to_lossless_keeps_the_stored_bytes(tmp_path: Path) -> None:
    """RLE in, JPEG-LS out: decoded and re-encoded, every stored value kept."""
    src = corpus.ensure_corpus() / "cmp__CT_small__rle.dcm"
    out, back = tmp_path / "out.dcm", tmp_path / "back.dcm"
    assert dcmconv.main(["+tu", "JPEGLSLossless", str(src), str(out)]) == 0
    assert dcmread(out).transfer_syntax.uid == "1.2.840.10008.1.2.4.80"
    assert run(dcmtk_cmd("dcmdjpls", [out, back])).rc == 0
    np.testing.assert_array_equal(pixel_array(dcmread(back)), pixel_array(dcmread(src)))


@pytest.mark.parametrize("name", ["cmp__CT_small__jpls.dcm", "cmp__rgb__rle.dcm",
                                  "pd__SC_rgb_jpeg_dcmtk.dcm", "pd__MR_small_jpeg_ls_lossless.dcm"])
def test_compressed_to_uncompressed(name: str, tmp_path: Path) -> None:
    """DCMTK's dcmconv refuses to write compressed input uncompressed; ours decodes it."""
    src = corpus.ensure_corpus() / name
    ours, theirs = tmp_path / "ours.dcm", tmp_path / "theirs.dcm"
    assert run(dcmtk_cmd("dcmconv", ["+te", src, theirs])).rc != 0
    assert dcmconv.main(["+te", str(src), str(ours)]) == 0
    out = dcmread(ours)
    assert out.transfer_syntax.uid == "1.2.840.10008.1.2.1" and not out.transfer_syntax.encapsulated
    np.testing.assert_array_equal(pixel_array(out), pixel_array(dcmread(src)))


def test_lossy_target_records_itself(tmp_path: Path) -> None:
    src = corpus.ensure_corpus() / "pd__examples_rgb_color.dcm"
    out, back = tmp_path / "out.dcm", tmp_path / "back.dcm"
    assert dcmconv.main(["+tu", "JPEGBaseline", str(src), str(out)]) == 0
    ds, before = dcmread(out), dcmread(src)
    assert ds.LossyImageCompression == "01" and ds.LossyImageCompressionMethod == "ISO_10918_1"
    assert float(ds.LossyImageCompressionRatio) > 1
    assert ds.ImageType[0] == "DERIVED" and ds.SOPInstanceUID != before.SOPInstanceUID
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == before.SOPInstanceUID
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    # the codestream is DCMTK's dcmcjpeg +eb output byte for byte (libjpeg-turbo's islow DCT
    # is IJG's; the same quantisation, Huffman optimisation and fill-byte padding)
    theirs = tmp_path / "theirs.dcm"
    assert run(dcmtk_cmd("dcmcjpeg", ["+eb", src, theirs])).rc == 0
    assert list(ds.PixelData)[1] == list(dcmread(theirs).PixelData)[1]
    assert run(dcmtk_cmd("dcmdjpeg", [out, back])).rc == 0
    error = np.abs(pixel_array(dcmread(back)).astype(int) - pixel_array(before).astype(int))
    assert error.mean() < 3.0       # quality 90


@pytest.mark.parametrize("target", ["Bogus", "1.2.3.4", "JPEGBaseline"])
def test_refused_targets(target: str, tmp_path: Path, capsys) -> None:
    """Unknown syntaxes, and lossy 8-bit JPEG of 16-bit CT: one line, exit 1, no file."""
    src = corpus.ensure_corpus() / "pd__CT_small.dcm"
    out = tmp_path / "out.dcm"
    assert dcmconv.main(["+tu", target, str(src), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("F: ") and err.count("\n") == 1 and not out.exists()
