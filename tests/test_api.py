"""The Python API of dcmdata: reading from paths, bytes and file objects, keyword access,
elements, zero-copy values, editing and saving."""
from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

import dcmpy
from dcmpy import Dataset, DicomError, Element, ReadOptions, WriteOptions, dcmread, dcmwrite

CT = get_testdata_file("CT_small.dcm", download=False)
MR_BE = get_testdata_file("MR_small_bigendian.dcm", download=False)


def test_read_from_path_bytes_and_file_objects():
    from_path = dcmread(CT)
    data = open(CT, "rb").read()
    with open(CT, "rb") as f:
        from_file = dcmread(f)
    for ds in (from_path, dcmread(data), dcmread(io.BytesIO(data)), from_file):
        assert ds.PatientName == "CompressedSamples^CT1"
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert ds.Rows == 128 and ds.Columns == 128
    assert from_path.filename == CT


def test_values_match_pydicom():
    ours, theirs = dcmread(CT), pydicom.dcmread(CT)
    for elem in theirs:
        if elem.VR in ("SQ", "OB", "OW", "UN") or elem.tag.is_private:
            continue
        value = ours[int(elem.tag)].value
        expected = elem.value
        if elem.VR in ("DS", "IS"):
            expected = [float(v) for v in expected] if elem.VM > 1 else (
                float(expected) if expected != "" else None)
            value = [float(v) for v in value] if isinstance(value, list) else (
                None if value is None else float(value))
        elif elem.VR == "PN":
            expected = str(expected)
        elif hasattr(expected, "__len__") and not isinstance(expected, str) and elem.VM > 1:
            expected, value = list(expected), list(value)
        assert value == expected, (elem.tag, elem.VR, value, expected)


def test_element_exposes_tag_vr_vm_offset_and_raw():
    ds = dcmread(CT)
    elem = ds[0x00100010]
    assert isinstance(elem, Element)
    assert (elem.tag, elem.vr, elem.vm) == (0x00100010, "PN", 1)
    assert elem.keyword == "PatientName"
    raw = open(CT, "rb").read()
    assert raw[elem.offset:elem.offset + elem.stored_length] == bytes(elem.raw)
    assert ds[0x00280030].vm == 2          # PixelSpacing


def test_pixel_data_and_numbers_are_views_not_copies():
    ds = dcmread(CT)
    pixels = ds.PixelData                   # OW: a NumPy view over the mapped file
    assert isinstance(pixels, np.ndarray) and pixels.dtype == np.dtype("<u2")
    assert pixels.size == 128 * 128 and not pixels.flags.owndata
    ref = pydicom.dcmread(CT).pixel_array.reshape(-1).astype("<u2")
    assert np.array_equal(pixels.view("<i2").astype("<u2"), ref)
    big = dcmread(MR_BE)
    assert big.PixelData.dtype.byteorder == ">"   # big endian, still no copy
    assert np.array_equal(big.PixelData.astype("<i2"),
                          pydicom.dcmread(MR_BE).pixel_array.reshape(-1).astype("<i2"))


def test_iteration_in_tag_order_and_sequences():
    ds = dcmread(get_testdata_file("rtplan.dcm", download=False))
    tags = [e.tag for e in ds]
    assert tags == sorted(tags)
    beams = ds.BeamSequence
    assert len(beams) >= 1 and isinstance(beams[0], Dataset)
    assert beams[0].BeamName


def test_stop_before_pixels_and_at_any_tag():
    ds = dcmread(CT, stop_before_pixels=True)
    assert 0x7FE00010 not in ds and 0x00280010 in ds
    ds = dcmread(CT, ReadOptions(stop_after=0x00100020))
    assert 0x00100020 in ds and 0x00200010 not in ds


def test_edit_and_save_to_path_file_object_and_bytes(tmp_path):
    ds = dcmread(CT)
    ds.PatientName = "Doe^Jane"
    ds.PatientAge = "042Y"                  # a new element: VR from the dictionary
    del ds.PatientID
    out = tmp_path / "out.dcm"
    dcmwrite(out, ds)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2"))
    data = dcmwrite(None, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.2"))
    for source in (out, buffer.getvalue(), data):
        again = dcmread(source)
        assert again.PatientName == "Doe^Jane" and again.PatientAge == "042Y"
        assert 0x00100020 not in again
        assert np.array_equal(again.PixelData.astype("<u2"), ds.PixelData.astype("<u2"))
        check = pydicom.dcmread(io.BytesIO(source) if isinstance(source, bytes) else source)
        assert check.PatientName == "Doe^Jane"


def test_new_dataset_from_scratch(tmp_path):
    ds = dcmpy.FileDataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "2.25.1234"
    ds.PatientName = "Test^Patient"
    ds.Rows = 2
    ds.Columns = 2
    ds.PixelData = np.arange(4, dtype="<u2")
    path = tmp_path / "new.dcm"
    dcmwrite(path, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1"))
    check = pydicom.dcmread(path)
    assert check.PatientName == "Test^Patient" and check.Rows == 2
    assert check.file_meta.MediaStorageSOPInstanceUID == "2.25.1234"
    assert list(check.PixelData) == [0, 0, 1, 0, 2, 0, 3, 0]


def test_errors_name_offset_and_tag():
    data = open(CT, "rb").read()[:2000]
    with pytest.raises(DicomError) as info:
        dcmread(data)
    assert info.value.offset is not None and info.value.tag is not None
    assert "offset" in str(info.value) and "tag" in str(info.value)
    assert info.value.partial is not None and info.value.partial.PatientName


def test_failed_write_leaves_no_file(tmp_path):
    ds = dcmread(get_testdata_file("JPEG2000.dcm", download=False))   # encapsulated pixels
    out = tmp_path / "out.dcm"
    with pytest.raises(Exception):
        dcmwrite(out, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2"))
    assert list(tmp_path.iterdir()) == []


def test_header_scan_reads_only_the_head_when_it_can(tmp_path):
    """A header scan parses the first bytes alone when the stop tag lies within them, and the
    whole file when it does not (a large element before the stop tag): same values either way."""
    ds = dcmread(CT)
    ds.add_new(0x00091010, "OB", b"\0" * 40000)       # pushes (0010,0020) past the first 16 kB
    ds.add_new(0x00090010, "LO", "PADDING CREATOR")
    far = tmp_path / "far.dcm"
    dcmwrite(far, ds)
    for path in (CT, far):
        head = dcmread(path, ReadOptions(stop_after=0x0020000D))
        full = dcmread(path)
        for tag in (0x00100020, 0x0020000D, 0x00080018):
            assert head[tag].value == full[tag].value
        assert 0x7FE00010 not in head
    assert len(dcmread(CT, ReadOptions(stop_after=0x0020000D)).source.buf) == 16384
    assert len(dcmread(far, ReadOptions(stop_after=0x0020000D)).source.buf) == far.stat().st_size
