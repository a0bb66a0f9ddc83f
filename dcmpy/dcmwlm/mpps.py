"""Modality Performed Procedure Step instances (PS3.4 F.7): N-CREATE and N-SET kept as DICOM
files, one per SOP Instance UID, in one folder.

    store = MPPSStore("/srv/mpps")
    status, uid = store.create(uid_or_None, dataset)     # IN PROGRESS only
    status = store.update(uid, modifications)            # until COMPLETED or DISCONTINUED

Each file is written to a temporary name and renamed, and a lock per instance makes the
read-modify-write of an N-SET atomic within the process. A SOP Instance UID becomes a file
name only if it is a valid UID, so it can never name a path outside the folder.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from ..dcmdata.dataset import Dataset
from ..dcmdata.element import Element
from ..dcmdata.uid import generate_uid, is_valid_uid

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
STATUS = 0x00400252
SOP_CLASS_UID, SOP_INSTANCE_UID = 0x00080016, 0x00080018
IN_PROGRESS, COMPLETED, DISCONTINUED = "IN PROGRESS", "COMPLETED", "DISCONTINUED"
FINAL = (COMPLETED, DISCONTINUED)

# N-CREATE: Type 1 for the SCU (PS3.4 Table F.7.2-1)
CREATE_REQUIRED = {0x00400270: "Scheduled Step Attributes Sequence",
                   0x00400241: "Performed Station AE Title", 0x00400244: "Performed Procedure Step Start Date",
                   0x00400245: "Performed Procedure Step Start Time", STATUS: "Performed Procedure Step Status",
                   0x00400253: "Performed Procedure Step ID", 0x00080060: "Modality"}
# N-SET may not change these ("Not allowed" in Table F.7.2-1)
SET_FORBIDDEN = {0x00400270, 0x00400241, 0x00400242, 0x00400243, 0x00400244, 0x00400245,
                 0x00400253, 0x00080060, 0x00200010, 0x00100010, 0x00100020, 0x00100030,
                 0x00100040, 0x00081120, SOP_CLASS_UID, SOP_INSTANCE_UID}
# what a COMPLETED or DISCONTINUED instance must hold (Final State column, Type 1)
FINAL_REQUIRED = {0x00400250: "Performed Procedure Step End Date",
                  0x00400251: "Performed Procedure Step End Time"}

SUCCESS = 0x0000
NO_SUCH_ATTRIBUTE = 0x0105
INVALID_ATTRIBUTE_VALUE = 0x0106
PROCESSING_FAILURE = 0x0110
DUPLICATE_INSTANCE = 0x0111
NO_SUCH_INSTANCE = 0x0112
INVALID_INSTANCE = 0x0117
MISSING_ATTRIBUTE = 0x0120
MISSING_VALUE = 0x0121
NO_LONGER_UPDATABLE = 0xA710       # Error ID with 0110: the instance may no longer be updated


@dataclass
class Outcome:
    """An N-CREATE / N-SET result: status, the instance UID, and the response's extra fields."""
    status: int
    uid: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, status: int, comment: str, uid: str = "", **extra: Any) -> Outcome:
        return cls(status, uid, {"ErrorComment": comment[:64], **extra})


def _text(ds: Dataset, tag: int) -> str:
    elem = ds.get(tag)
    if elem is None or elem.vr == "SQ":
        return ""
    return bytes(elem.raw).decode("latin-1").strip(" \0")


def _present(ds: Dataset, tag: int) -> bool:
    elem = ds.get(tag)
    if elem is None:
        return False
    return bool(elem.value) if elem.vr == "SQ" else bool(_text(ds, tag))


class MPPSStore:
    """The MPPS folder (wlmscpfs --mpps-dir)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, uid: str) -> str:
        return os.path.join(self.folder, uid + ".dcm")

    def _lock(self, uid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(uid, threading.Lock())

    def read(self, uid: str) -> Dataset:
        from ..dcmdata.reader import dcmread
        return dcmread(self.path(uid))

    def create(self, uid: str | None, ds: Dataset) -> Outcome:
        """N-CREATE: a new instance IN PROGRESS (``uid`` None: the SCP chooses one)."""
        if uid is None:
            uid = generate_uid()
        elif not is_valid_uid(uid) or len(uid) > 64:
            return Outcome.failure(INVALID_INSTANCE, "invalid SOP Instance UID")
        missing = [tag for tag in CREATE_REQUIRED if tag not in ds]
        if missing:
            return Outcome.failure(MISSING_ATTRIBUTE, f"missing {CREATE_REQUIRED[missing[0]]}", uid)
        status = _text(ds, STATUS)
        if status != IN_PROGRESS:
            return Outcome.failure(INVALID_ATTRIBUTE_VALUE, f"N-CREATE with status '{status}', "
                                   "must be IN PROGRESS", uid, OffendingElement=[STATUS])
        with self._lock(uid):
            if os.path.exists(self.path(uid)):
                return Outcome.failure(DUPLICATE_INSTANCE, "SOP Instance already exists", uid)
            ds[SOP_CLASS_UID] = Element(SOP_CLASS_UID, "UI", MPPS_SOP_CLASS)
            ds[SOP_INSTANCE_UID] = Element(SOP_INSTANCE_UID, "UI", uid)
            self._write(uid, ds)
        return Outcome(SUCCESS, uid)

    def update(self, uid: str, changes: Dataset) -> Outcome:
        """N-SET: apply ``changes`` (PS3.4 F.7.2.2) unless the step is already final."""
        if not is_valid_uid(uid) or len(uid) > 64:
            return Outcome.failure(INVALID_INSTANCE, "invalid SOP Instance UID")
        forbidden = [e.tag for e in changes if e.tag in SET_FORBIDDEN]
        if forbidden:
            return Outcome.failure(INVALID_ATTRIBUTE_VALUE, "attribute may not be changed by "
                                   "N-SET", uid, OffendingElement=forbidden)
        with self._lock(uid):
            if not os.path.exists(self.path(uid)):
                return Outcome.failure(NO_SUCH_INSTANCE, "no such MPPS instance", uid)
            current = self.read(uid)
            if _text(current, STATUS) in FINAL:
                return Outcome.failure(PROCESSING_FAILURE, "Performed Procedure Step may no longer "
                                       "be updated", uid, ErrorID=NO_LONGER_UPDATABLE)
            new_status = _text(changes, STATUS) if STATUS in changes else _text(current, STATUS)
            if new_status not in (IN_PROGRESS, *FINAL):
                return Outcome.failure(INVALID_ATTRIBUTE_VALUE, f"invalid status '{new_status}'", uid,
                                       OffendingElement=[STATUS])
            for elem in changes:
                current[elem.tag] = elem
            if new_status in FINAL:
                missing = [t for t in FINAL_REQUIRED if not _present(current, t)]
                if missing:
                    return Outcome.failure(MISSING_VALUE, f"{new_status} without "
                                           f"{FINAL_REQUIRED[missing[0]]}", uid,
                                           OffendingElement=missing)
            self._write(uid, current)
        return Outcome(SUCCESS, uid)

    def _write(self, uid: str, ds: Dataset) -> None:
        from ..dcmdata.dataset import FileDataset
        from ..dcmdata.writer import WriteOptions, dcmwrite
        out = FileDataset()                   # the meta header takes the SOP UIDs from it
        for elem in ds:
            out[elem.tag] = elem
        dcmwrite(self.path(uid), out, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1"))
