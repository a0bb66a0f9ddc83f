"""Generated benchmark data, cached in benchmarks/.data/ (made on first use, reused after).

Each maker writes to a temporary name and renames it into place, so an interrupted run never
leaves a half-made data set behind to be mistaken for a cached one.
"""
from __future__ import annotations

import io
import os
import shutil
import struct
from pathlib import Path

import numpy as np

from _util import DATA

# pydicom's example UID root: fine for synthetic data
ROOT_UID = "1.2.826.0.1.3680043.8.498"
WRITER_NOTES: list[str] = []   # what was used to write the data (reported under the tables)


def ct_small() -> Path:
    from pydicom.data import get_testdata_file
    return Path(get_testdata_file("CT_small.dcm", download=False))


def ct_ids(i: int) -> tuple[str, str, str]:
    """(PatientID, StudyInstanceUID, SOPInstanceUID) of header-scan file ``i``."""
    return f"PAT{i:06d}", f"{ROOT_UID}.1.{i + 1}", f"{ROOT_UID}.2.{i + 1}.1"


def _write_ct_ours(template: Path, out: Path, n: int) -> None:
    import dcmpy
    from dcmpy.dcmdata.writer import dcmwrite
    for i in range(n):
        ds = dcmpy.dcmread(template)
        ds.PatientID, ds.StudyInstanceUID, ds.SOPInstanceUID = ct_ids(i)
        dcmwrite(out / f"ct{i:05d}.dcm", ds)


def _write_ct_pydicom(template: Path, out: Path, n: int) -> None:
    import pydicom
    ds = pydicom.dcmread(template)
    for i in range(n):
        ds.PatientID, ds.StudyInstanceUID, ds.SOPInstanceUID = ct_ids(i)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(out / f"ct{i:05d}.dcm", enforce_file_format=True)


def ct_files(n: int) -> list[Path]:
    """``n`` copies of CT_small.dcm with distinct patient, study and instance IDs."""
    folder = DATA / f"ct-{n}"
    if not (folder / ".complete").exists():
        tmp = DATA / f".ct-{n}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            _write_ct_ours(ct_small(), tmp, n)
            how = "dcmpy's writer"
        except Exception as exc:   # our writer broken or missing: say so, use pydicom
            WRITER_NOTES.append(f"header-scan data: dcmpy writer failed "
                                f"({type(exc).__name__}: {exc}); wrote it with pydicom")
            for f in tmp.iterdir():
                f.unlink()
            _write_ct_pydicom(ct_small(), tmp, n)
            how = "pydicom"
        (tmp / ".complete").write_text(how + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    WRITER_NOTES.append(f"header-scan data written by {(folder / '.complete').read_text().strip()}")
    return sorted(folder.glob("ct*.dcm"))


def _meta(sop_class: str, sop_inst: str):
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_inst
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def _leaf_item(i: int, n_leaves: int):
    """A data set of ``n_leaves`` (<= 10) elements of assorted VRs."""
    from pydicom.dataset import Dataset
    item = Dataset()
    values = [
        ("CodeValue", f"C{i % 9973}"), ("CodingSchemeDesignator", "DCM"),
        ("CodeMeaning", f"measurement number {i}"), ("ReferencedSOPInstanceUID",
                                                     f"{ROOT_UID}.3.{i}"),
        ("SliceThickness", f"{(i % 50) / 10:.1f}"), ("InstanceNumber", i),
        ("Rows", i % 65536), ("TextValue", f"free text value {i} " * 3),
        ("NumericValue", [i * 0.5, i * 0.25, 1.5]), ("GraphicData", [float(i), 2.0, 3.0, 4.0]),
    ]
    for key, value in values[:n_leaves]:
        setattr(item, key, value)
    return item


def nested(n_elements: int) -> Path:
    """A data set of ``n_elements`` elements inside two levels of sequences.

    Level 1: n/1000 items of 9 elements plus a sequence; level 2: 99 items of 10 elements each
    below every level-1 item (so 10 + 990 elements per level-1 item). Every other level-2
    sequence and every third level-2 item have undefined length. Written with pydicom (mixed
    defined and undefined lengths per sequence are not an option of dcmpy's writer).
    """
    path = DATA / f"nested-{n_elements}.dcm"
    if path.exists():
        return path
    from pydicom import dcmwrite
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    sop = f"{ROOT_UID}.4.{n_elements}"
    ds = Dataset()
    ds.file_meta = _meta("1.2.840.10008.5.1.4.1.1.88.33", sop)
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.33", sop
    ds.PatientID, ds.PatientName, ds.Modality = "NESTED", "Nested^Test", "SR"
    outer = []
    k = 0
    for a in range(max(1, n_elements // 1000)):
        item = _leaf_item(k, 9)
        k += 1
        inner = []
        for b in range(99):
            leaf = _leaf_item(k, 10)
            leaf.is_undefined_length_sequence_item = (b % 3 == 0)
            inner.append(leaf)
            k += 1
        item.ContentSequence = Sequence(inner)
        item["ContentSequence"].is_undefined_length = (a % 2 == 0)
        outer.append(item)
    ds.ContentSequence = Sequence(outer)
    tmp = path.with_suffix(".tmp")
    DATA.mkdir(parents=True, exist_ok=True)
    dcmwrite(tmp, ds, enforce_file_format=True)
    tmp.rename(path)
    return path


FRAME = (512, 512)


def multiframe(frames: int) -> Path:
    """A ``frames`` x 512 x 512 x 16-bit file (explicit VR LE), streamed one frame at a time.

    The header comes from pydicom; the Pixel Data element header and the frames are appended
    by hand, so the whole pixel payload is never in memory.
    """
    path = DATA / f"multiframe-{frames}.dcm"
    if path.exists():
        return path
    from pydicom import dcmwrite
    from pydicom.dataset import Dataset
    sop_class = "1.2.840.10008.5.1.4.1.1.7.3"   # multi-frame grayscale word SC
    sop = f"{ROOT_UID}.5.{frames}"
    ds = Dataset()
    ds.file_meta = _meta(sop_class, sop)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop
    ds.PatientID, ds.PatientName, ds.Modality = "BIG", "Big^Multiframe", "OT"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.NumberOfFrames, (ds.Rows, ds.Columns) = frames, FRAME
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    head = io.BytesIO()
    dcmwrite(head, ds, enforce_file_format=True)
    nbytes = frames * FRAME[0] * FRAME[1] * 2
    ramp = (np.arange(FRAME[0] * FRAME[1], dtype=np.uint32) % 4096).astype("<u2")
    tmp = path.with_suffix(".tmp")
    DATA.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        f.write(head.getvalue())
        f.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, nbytes))
        for i in range(frames):
            f.write((ramp + i).tobytes())
        f.flush()
        os.fsync(f.fileno())
    tmp.rename(path)
    return path
