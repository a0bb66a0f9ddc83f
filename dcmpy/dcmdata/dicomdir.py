"""Reading a DICOMDIR (PS3.10 8, PS3.3 F) as a tree of directory records.

A DICOMDIR's records form linked lists by byte offsets from the start of the file:
(0004,1200) points at the first record of the root directory, each record's (0004,1400) at its
next sibling and (0004,1420) at the first record of the level below. ``read_dicomdir`` follows
those offsets, refusing offsets that point at no record and loops, and returns a
:class:`DicomDir`::

    d = read_dicomdir("DICOMDIR")
    for patient in d.patients:
        for study in patient.studies:
            for series in study.series:
                for inst in series.instances:
                    print(patient.PatientID, inst.record_type, inst.path)

Building and writing DICOMDIRs is in :mod:`dcmpy.dcmdata.dicomdir_build`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

from .dataset import Dataset, FileDataset
from .tag import tag_str

__all__ = ["DicomDir", "DicomDirError", "Record", "read_dicomdir", "MEDIA_STORAGE_DIRECTORY"]

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
DIRECTORY_RECORD_SEQUENCE = 0x00041220
FIRST_ROOT_RECORD = 0x00041200
LAST_ROOT_RECORD = 0x00041202
NEXT_RECORD = 0x00041400
IN_USE = 0x00041410
LOWER_RECORD = 0x00041420
RECORD_TYPE = 0x00041430
REFERENCED_FILE_ID = 0x00041500
REFERENCED_SOP_CLASS = 0x00041510
REFERENCED_SOP_INSTANCE = 0x00041511
REFERENCED_TRANSFER_SYNTAX = 0x00041512
FILE_SET_ID = 0x00041130

_CONTAINER_TYPES = frozenset({"PATIENT", "STUDY", "SERIES"})


class DicomDirError(Exception):
    """A DICOMDIR whose structure is broken: ``str(err)`` names the record offset and element."""


def _text(ds: Dataset, tag: int) -> str | None:
    """A string element's stored value without padding, read as Latin-1 (None if absent)."""
    elem = ds.get(tag)
    if elem is None:
        return None
    return bytes(elem.raw).decode("latin-1").strip(" \0")


def _number(ds: Dataset, tag: int) -> int | None:
    elem = ds.get(tag)
    if elem is None or elem.vr == "SQ":
        return None
    value = elem.value
    return value if isinstance(value, int) else None


class Record:
    """One directory record: its data set, its offset in the file and the records below it.

    Keyword access reads the record's keys (``record.PatientID``); ``get`` does the same with a
    default. ``children`` are the records of the level below, in the file's order.
    """

    __slots__ = ("dataset", "offset", "children", "parent", "_root")

    def __init__(self, dataset: Dataset, offset: int, root: Path | None,
                 parent: Record | None = None) -> None:
        self.dataset = dataset
        self.offset = offset
        self.children: list[Record] = []
        self.parent = parent
        self._root = root

    @property
    def record_type(self) -> str:
        """Directory Record Type (0004,1430), e.g. ``'PATIENT'``, ``'IMAGE'``, ``'SR DOCUMENT'``."""
        return _text(self.dataset, RECORD_TYPE) or ""

    @property
    def in_use(self) -> bool:
        """False if the Record In-use Flag (0004,1410) says the record is inactive (0)."""
        return _number(self.dataset, IN_USE) != 0

    @property
    def file_id(self) -> tuple[str, ...] | None:
        """The Referenced File ID (0004,1500) components, or None if the record references no file."""
        text = _text(self.dataset, REFERENCED_FILE_ID)
        if not text:
            return None
        return tuple(part.strip(" ") for part in text.split("\\"))

    @property
    def path(self) -> Path | None:
        """The referenced file's path (beside the DICOMDIR), or None.

        Raises :class:`DicomDirError` for a file ID that would lead out of the file-set
        (``..``, empty components, path separators or NUL inside a component).
        """
        parts = self.file_id
        if parts is None or self._root is None:
            return None
        for part in parts:
            if part in ("", ".", "..") or any(c in part for c in "/\\:\0"):
                shown = "\\".join(parts)
                raise DicomDirError(f"unsafe file ID {shown!r} in the record at offset {self.offset}")
        return self._root.joinpath(*parts)

    @property
    def sop_class_uid(self) -> str | None:
        return _text(self.dataset, REFERENCED_SOP_CLASS)

    @property
    def sop_instance_uid(self) -> str | None:
        return _text(self.dataset, REFERENCED_SOP_INSTANCE)

    @property
    def transfer_syntax_uid(self) -> str | None:
        return _text(self.dataset, REFERENCED_TRANSFER_SYNTAX)

    def get(self, keyword: str, default: Any = None) -> Any:
        """The value of a key by keyword (``'PatientID'``), or ``default``."""
        try:
            return getattr(self.dataset, keyword)
        except AttributeError:
            return default

    def __getattr__(self, name: str) -> Any:
        if name[:1].isupper():
            return getattr(self.dataset, name)
        raise AttributeError(name)

    # -- the levels below -----------------------------------------------------------------------
    def _of_type(self, kind: str) -> list[Record]:
        return [r for r in self.children if r.record_type == kind]

    @property
    def studies(self) -> list[Record]:
        """The STUDY records below a PATIENT record."""
        return self._of_type("STUDY")

    @property
    def series(self) -> list[Record]:
        """The SERIES records below a STUDY record."""
        return self._of_type("SERIES")

    @property
    def instances(self) -> list[Record]:
        """The records below a SERIES record that are not themselves containers (IMAGE, SR
        DOCUMENT, PRESENTATION, ...)."""
        return [r for r in self.children if r.record_type not in _CONTAINER_TYPES]

    def walk(self) -> Iterator[Record]:
        """This record and every record below it, depth first."""
        stack = [self]
        while stack:
            record = stack.pop()
            yield record
            stack.extend(reversed(record.children))

    def __repr__(self) -> str:
        return f"<Record {self.record_type} at offset {self.offset}>"


class DicomDir:
    """A DICOMDIR read from a file: its data set and the tree of its directory records."""

    def __init__(self, dataset: FileDataset, roots: list[Record], path: Path | None) -> None:
        self.dataset = dataset
        self.roots = roots
        self.path = path

    @property
    def fileset_id(self) -> str:
        return _text(self.dataset, FILE_SET_ID) or ""

    @property
    def patients(self) -> list[Record]:
        """The PATIENT records of the root directory."""
        return [r for r in self.roots if r.record_type == "PATIENT"]

    def __iter__(self) -> Iterator[Record]:
        """Every record, depth first in the order of the directory."""
        for root in self.roots:
            yield from root.walk()

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def instances(self) -> list[Record]:
        """Every record that references a file."""
        return [r for r in self if r.file_id is not None]

    def __repr__(self) -> str:
        return f"<DicomDir {self.fileset_id!r} with {len(self.roots)} root records>"


def read_dicomdir(path: str | os.PathLike, dataset: FileDataset | None = None) -> DicomDir:
    """Read a DICOMDIR file into a :class:`DicomDir` (``dataset``: one already read from ``path``).

    Raises ``DicomError`` if the file cannot be parsed and :class:`DicomDirError` if it is not a
    DICOMDIR or its record offsets point at no record or loop.
    """
    if dataset is None:
        from .reader import dcmread
        dataset = dcmread(path)
    sop_class = _text(dataset.file_meta, 0x00020002)
    if sop_class is not None and sop_class != MEDIA_STORAGE_DIRECTORY:
        raise DicomDirError(f"not a DICOMDIR: Media Storage SOP Class UID is {sop_class}")
    root = Path(path).parent
    return DicomDir(dataset, link_records(dataset, root), Path(path))


def _item_offsets(dataset: Dataset) -> dict[int, Dataset]:
    """The directory records by the offset of their item tag in the file."""
    seq = dataset.get(DIRECTORY_RECORD_SEQUENCE)
    if seq is None or seq.vr != "SQ":
        raise DicomDirError("not a DICOMDIR: no Directory Record Sequence (0004,1220)")
    if dataset.transfer_syntax is not None and dataset.transfer_syntax.deflated:
        raise DicomDirError("a deflated DICOMDIR has no record offsets in the file")
    records: dict[int, Dataset] = {}
    for item in seq.value:
        if item.source is None or item.item_row < 0:
            raise DicomDirError("directory records must be read from a file to be linked")
        records[int(item.source.rows[item.item_row, 2])] = item
    return records


def link_records(dataset: Dataset, root: Path | None) -> list[Record]:
    """Follow the record offsets of a DICOMDIR data set and return the root records."""
    records = _item_offsets(dataset)
    seen: set[int] = set()
    first = _number(dataset, FIRST_ROOT_RECORD)
    roots: list[Record] = []
    # (offset, where it was found, the list to append to, the parent record)
    pending = [(first or 0, "(0004,1200) of the data set", roots, None)]
    while pending:
        offset, where, siblings, parent = pending.pop()
        chain: list[Record] = []
        while offset:
            item = records.get(offset)
            if item is None:
                raise DicomDirError(f"offset {offset} in {where} points to no directory record")
            if offset in seen:
                raise DicomDirError(f"offset {offset} in {where} points to a record already linked "
                                    f"(a loop in the directory)")
            seen.add(offset)
            record = Record(item, offset, root, parent)
            chain.append(record)
            lower = _number(item, LOWER_RECORD)
            if lower:
                pending.append((lower, f"{tag_str(LOWER_RECORD)} of the record at offset {offset}",
                                record.children, record))
            where = f"{tag_str(NEXT_RECORD)} of the record at offset {offset}"
            offset = _number(item, NEXT_RECORD) or 0
        siblings.extend(chain)
    if first is None and records:
        raise DicomDirError("no offset of the first root record (0004,1200)")
    return roots
