"""The worklist files: DCMTK's layout of one folder per called AE title under the data path,
each with a ``lockfile`` and one ``*.wl`` file per worklist item.

    store = WorklistStore("/srv/worklists", log=log)
    area = store.area("OFFIS")                 # None: not a served AE title
    with store.locked(area):                   # LockError: no lockfile / lock not obtained
        for record in store.records(area):     # read anew on every query
            ...

An AE title becomes a folder name only if it is one plain name (no ``/``, ``\\``, control
characters, leading dot): it can never reach outside the data path (DCMTK CVE-2026-52868).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from ..dcmdata.dataset import Dataset, Sequence
from ..dcmdata.element import Element
from ..dcmnet.netlog import NULL
from . import keys as K

LOCKFILE = "lockfile"
EXTENSION = ".wl"
LOCK_WAIT = 10.0          # seconds to wait for a writer's lock before refusing the query


class LockError(Exception):
    """The area's lockfile is missing or stays locked by a writer."""


@dataclass
class Record:
    """One worklist file and its data set."""
    path: str
    dataset: Dataset


def safe_ae_folder(title: str) -> str | None:
    """The folder name for a called AE title, or None if it cannot be one safely."""
    name = title.strip(" ")
    if not name or name.startswith(".") or len(name) > 64:
        return None
    if any(c in name for c in "/\\:") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return None
    return name


class WorklistStore:
    """The worklist data path (-dfp) and its per-AE areas."""

    def __init__(self, root: str = ".", *, reject_incomplete: bool = True, log: Any = NULL) -> None:
        self.root = root
        self.reject_incomplete = reject_incomplete
        self.log = log

    def area(self, called_ae: str) -> str | None:
        """The folder serving ``called_ae`` (a direct child of the root), or None."""
        name = safe_ae_folder(called_ae)
        if name is None:
            return None
        path = os.path.join(self.root, name)
        if os.path.dirname(os.path.normpath(path)) != os.path.normpath(self.root):
            return None
        return path if os.path.isdir(path) else None

    @contextmanager
    def locked(self, area: str) -> Iterator[None]:
        """A shared (read) lock on the area's lockfile while the records are read."""
        path = os.path.join(area, LOCKFILE)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise LockError(f"Cannot open file {path} (return code: {exc.strerror})") from None
        try:
            _lock_shared(fd, path)
            yield
        finally:
            os.close(fd)                      # closing releases the lock

    def records(self, area: str) -> Iterator[Record]:
        """The area's complete records (all readable ones with -dfr), in file name order."""
        try:
            names = sorted(n for n in os.listdir(area) if n.endswith(EXTENSION))
        except OSError as exc:
            self.log.error("Cannot read worklist folder %s: %s", area, exc.strerror)
            return
        for name in names:
            path = os.path.join(area, name)
            record = self._read(path)
            if record is not None:
                yield record

    def _read(self, path: str) -> Record | None:
        from ..dcmdata.reader import DicomError, dcmread
        try:
            if not os.path.isfile(path):
                raise IsADirectoryError("not a regular file")
            ds = dcmread(path)
        except (DicomError, OSError, ValueError) as exc:
            self.log.warn('Could not read worklist file "%s", file will be ignored: %s', path,
                          getattr(exc, "strerror", None) or exc)
            return None
        if self.reject_incomplete:
            self.log.info('Checking whether worklist file "%s" is complete', path)
            if not is_complete(ds):
                self.log.warn('Worklist file "%s" is incomplete, file will be ignored', path)
                return None
        for tag in K.TYPE2_SEQUENCES:
            if tag not in ds:
                self.log.warn("Added missing type 2 sequence attribute (%04x,%04x) to the current "
                              "record", tag >> 16, tag & 0xFFFF)
                ds[tag] = Element(tag, "SQ", Sequence())
        return Record(path, ds)


def _lock_shared(fd: int, path: str) -> None:
    try:
        import fcntl
    except ImportError:                       # no POSIX locks (Windows): nothing to honour
        return
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise LockError(f"Cannot lock file {path}: still locked after {LOCK_WAIT:g} s") from None
            time.sleep(0.05)


# -- completeness (-efr) ----------------------------------------------------------------------------

def _has_value(ds: Dataset, tag: int) -> bool:
    elem = ds.get(tag)
    return elem is not None and elem.vr != "SQ" and bool(bytes(elem.raw).strip(b" \0"))


def _items(ds: Dataset, tag: int) -> list[Dataset]:
    elem = ds.get(tag)
    return list(elem.value) if elem is not None and elem.vr == "SQ" else []


def _described(ds: Dataset, pairs: tuple[tuple[int, int], ...]) -> bool:
    """A description with a value or, without a description, a complete code sequence."""
    for text_tag, code_tag in pairs:
        if text_tag in ds:
            if not _has_value(ds, text_tag):
                return False
            continue
        codes = _items(ds, code_tag)
        if not codes or not all(all(_has_value(c, t) for t in K.CODE_REQUIRED) for c in codes):
            return False
    return True


def is_complete(ds: Dataset) -> bool:
    """Does a record hold every attribute wlmscpfs -efr requires (one SPS item included)?"""
    if not all(_has_value(ds, tag) for tag in K.REQUIRED) or not _described(ds, K.DESCRIBED):
        return False
    steps = _items(ds, K.SPS_SEQUENCE)
    if len(steps) != 1:
        return False
    step = steps[0]
    return all(_has_value(step, tag) for tag in K.REQUIRED_SPS) and _described(step, K.DESCRIBED_SPS)
