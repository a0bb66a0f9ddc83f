"""Frames of encapsulated pixel data: found by the Extended or Basic Offset Table, one fragment
per frame, or the codestream markers; one frame decoded without the others, into a caller's
buffer; frames decoded in parallel threads give what one thread gives."""
from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import corpus
from dcmpy import dcmread, dcmwrite
from dcmpy.dcmdata.element import Element, Fragments
from dcmpy.dcmdata.pixels import (PixelDataError, PixelInfo, decode_frame, frame_fragments,
                                  pixel_array)
from dcmpy.dcmdata.transcode import compress, encapsulate

SYNTAXES = {"rle": "1.2.840.10008.1.2.5", "jpegls": "1.2.840.10008.1.2.4.80"}


def _multiframe(syntax: str, frames: int = 6, fragment_size: int | None = None,
                offset_table: bool = True):
    ds = dcmread(corpus.ensure_corpus() / "pd__CT_small.dcm")
    rng = np.random.default_rng(1)
    pixels = (rng.integers(0, 2000, (frames, 128, 128)) + np.arange(128)).astype("<i2")
    ds.NumberOfFrames = str(frames)
    ds[0x7FE00010] = Element(0x7FE00010, "OW", pixels.reshape(-1).view("<u2"))
    compress(ds, SYNTAXES[syntax], fragment_size=fragment_size, offset_table=offset_table)
    return dcmread(dcmwrite(None, ds)), pixels


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("fragment_size,offset_table", [(None, True), (None, False),
                                                          (1024, True), (1024, False)])
def test_every_way_of_finding_frames(syntax: str, fragment_size, offset_table) -> None:
    ds, pixels = _multiframe(syntax, fragment_size=fragment_size, offset_table=offset_table)
    for i in (5, 0, 3):
        np.testing.assert_array_equal(decode_frame(ds, i), pixels[i])
    np.testing.assert_array_equal(pixel_array(ds), pixels)


def test_extended_offset_table() -> None:
    """Frames located through (7FE0,0001)/(7FE0,0002) when the Basic Offset Table is empty."""
    ds, pixels = _multiframe("jpegls", fragment_size=1024, offset_table=False)
    frags = list(ds.PixelData)[1:]
    frames = frame_fragments(ds)
    offsets, pos = [], 0
    for group in frames:
        offsets.append(pos)
        pos += sum(8 + len(f) for f in group)
    ds[0x7FE00001] = Element(0x7FE00001, "OV", np.array(offsets, "<u8"))
    ds[0x7FE00002] = Element(0x7FE00002, "OV",
                             np.array([sum(len(f) for f in g) for g in frames], "<u8"))
    assert len(frags) > len(frames)
    np.testing.assert_array_equal(decode_frame(dcmread(dcmwrite(None, ds)), 4), pixels[4])


def test_one_frame_touches_only_its_fragments() -> None:
    """Decoding frame 2 reads its own codestream: corrupting frame 4 does not matter."""
    ds, pixels = _multiframe("rle")
    frags = [bytes(f) for f in list(ds.PixelData)[1:]]
    frags[4] = b"\x00" * len(frags[4])
    ds[0x7FE00010] = Element(0x7FE00010, "OB", encapsulate(frags))
    np.testing.assert_array_equal(decode_frame(ds, 2), pixels[2])
    with pytest.raises(PixelDataError, match="frame 5: RLE"):
        decode_frame(ds, 4)


def test_decode_into_callers_buffer() -> None:
    ds, pixels = _multiframe("jpegls")
    out = np.zeros((128, 128), np.int16)
    result = decode_frame(ds, 3, out=out)
    assert result is out
    np.testing.assert_array_equal(out, pixels[3])


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_thread_pool_gives_the_same_frames(syntax: str) -> None:
    ds, pixels = _multiframe(syntax, frames=12)
    with ThreadPoolExecutor(4) as pool:
        frames = list(pool.map(lambda i: decode_frame(ds, i), range(12)))
    np.testing.assert_array_equal(np.stack(frames), pixels)


@pytest.mark.parametrize("bot,message", [
    (struct.pack("<6I", 0, 5, 10, 15, 20, 25),
     re.escape("entry for frame 2 (offset 5) does not point at a fragment")),
    (struct.pack("<5I", 0, 0, 0, 0, 0), "Basic Offset Table has 5 entries for 6 frames"),
    (b"\x00\x00\x00", "not a multiple of 4"),
])
def test_lying_offset_tables(bot: bytes, message: str) -> None:
    ds, _ = _multiframe("rle")
    frags = list(ds.PixelData)
    ds[0x7FE00010] = Element(0x7FE00010, "OB", Fragments([bot, *frags[1:]]))
    with pytest.raises(PixelDataError, match=message):
        decode_frame(ds, 1)


def test_frame_index_out_of_range() -> None:
    ds, _ = _multiframe("rle")
    with pytest.raises(PixelDataError, match="frame 7 requested, the image has 6"):
        decode_frame(ds, 6)


def test_native_frames_and_planar_colour(tmp_path: Path) -> None:
    ds = dcmread(corpus.ensure_corpus() / "pd__ExplVR_BigEnd.dcm")     # RGB by plane, BE
    info = PixelInfo.of(ds)
    assert info.planar and info.samples == 3
    frame = decode_frame(ds, 0)
    assert frame.shape == (info.rows, info.columns, 3)
    import pydicom
    np.testing.assert_array_equal(frame, pydicom.dcmread(ds.filename).pixel_array)
