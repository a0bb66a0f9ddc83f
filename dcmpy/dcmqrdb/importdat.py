"""DCMTK's ``index.dat`` (dcmqrscp/dcmqridx storage area index): read it, import it.

The file (format "QRDB05", DCMTK 3.6.1 and later) is a 6-byte header, 500 study descriptors of
88 bytes, then one 8032-byte record per instance: a binary copy of DCMTK's ``IdxRecord``. A
record whose file name is empty is a deleted slot. Importing indexes the files the records name
(their attributes are read from the files, which hold more than the record); records whose file
is missing or unreadable are reported, not imported. Relative file names are taken relative to
the storage area directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["DcmtkRecord", "IndexDatError", "ImportReport", "read_index_dat", "import_index_dat"]

MAGIC = b"QRDB"
VERSION = b"05"
HEADER_SIZE = 6
STUDY_DESCRIPTORS = 500
STUDY_DESCRIPTOR_SIZE = 88
RECORD_SIZE = 8032
_RECORDS_START = HEADER_SIZE + STUDY_DESCRIPTORS * STUDY_DESCRIPTOR_SIZE
# offsets of the fields we read inside a record (x86-64 layout of IdxRecord)
_FIELDS = {"filename": (0, 257), "sop_class": (257, 65), "sop_instance": (5300, 65),
           "study_uid": (4137, 65), "series_uid": (5009, 65), "patient_id": (1419, 257),
           "modality": (5074, 129)}
_IMAGE_SIZE = 336
_HSTAT = 6877


class IndexDatError(ValueError):
    """An ``index.dat`` that cannot be read: names the file and the offset."""


@dataclass(frozen=True, slots=True)
class DcmtkRecord:
    """One live record of an index.dat."""
    number: int
    filename: str
    sop_class: str
    sop_instance: str
    study_uid: str
    series_uid: str
    patient_id: str
    modality: str
    image_size: int
    is_new: bool


def _text(record: bytes, name: str) -> str:
    start, size = _FIELDS[name]
    return record[start:start + size].split(b"\0", 1)[0].decode("latin-1")


def read_index_dat(path: str) -> list[DcmtkRecord]:
    """The live records of a DCMTK index.dat, in file order."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise IndexDatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if data[:4] != MAGIC:
        raise IndexDatError(f"{path}: not a DCMTK index file (offset 0: {data[:6]!r}, "
                            f"expected {MAGIC + VERSION!r})")
    if data[4:6] != VERSION:
        raise IndexDatError(f"{path}: index file format {data[4:6]!r} (offset 4) is not the one "
                            f"DCMTK writes since 2013 ({VERSION!r}); rebuild it with dcmqridx")
    body = len(data) - _RECORDS_START
    if body < 0 or body % RECORD_SIZE:
        raise IndexDatError(f"{path}: truncated index file: {len(data)} bytes is not {_RECORDS_START} "
                            f"+ a multiple of {RECORD_SIZE} (offset {len(data)})")
    records = []
    for n in range(body // RECORD_SIZE):
        offset = _RECORDS_START + n * RECORD_SIZE
        rec = data[offset:offset + RECORD_SIZE]
        if rec[0] == 0:
            continue
        if b"\0" not in rec[:_FIELDS["filename"][1]]:
            raise IndexDatError(f"{path}: record {n} (offset {offset}): file name not terminated")
        records.append(DcmtkRecord(
            n, _text(rec, "filename"), _text(rec, "sop_class"), _text(rec, "sop_instance"),
            _text(rec, "study_uid"), _text(rec, "series_uid"), _text(rec, "patient_id"),
            _text(rec, "modality"), int.from_bytes(rec[_IMAGE_SIZE:_IMAGE_SIZE + 4], "little"),
            rec[_HSTAT] == 1))
    return records


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_index_dat(path: str, index) -> ImportReport:
    """Index every file an index.dat names into ``index`` (an :class:`~.index.Index`)."""
    from dcmpy.dcmdata.reader import DicomError
    from .record import RecordError
    report = ImportReport()
    area = os.path.dirname(os.path.abspath(path))
    for rec in read_index_dat(path):
        name = rec.filename if os.path.isabs(rec.filename) else os.path.join(area, rec.filename)
        if not os.path.isfile(name):
            report.missing.append(name)
            continue
        try:
            result = index.store(name)
        except (DicomError, RecordError, OSError) as exc:
            report.failed.append((name, str(exc)))
            continue
        if result.sop_instance != rec.sop_instance:
            report.warnings.append(f"{name}: the file holds SOP Instance UID "
                                   f"{result.sop_instance}, index.dat record {rec.number} says "
                                   f"{rec.sop_instance}")
        report.imported.append(name)
    return report
