"""Storage areas: where received objects live, named as DCMTK names them, written crash-safely.

A received object becomes ``<area>/<MOD>_<16 hex digits>.dcm`` (DCMTK's ``CT_6b0244567cd7d9c4.dcm``:
a time stamp and a random number; ``XX`` when the modality is unknown). The name is built only
from ``[A-Z0-9]`` and hex digits, so no UID, AE title or attribute value ever reaches a path.

Writing: the data goes to a temporary file in the area (``.incoming-*``), is flushed to disk
(fsync), renamed into place and the directory entry flushed, and only then indexed. After a
crash, :func:`reconcile` makes index and files agree: leftover temporary files are deleted, rows
whose file is gone are dropped, and files of ours that no row names are indexed.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field

__all__ = ["StorageArea", "ReconcileReport", "reconcile", "STORED_NAME"]

STORED_NAME = re.compile(r"[A-Za-z0-9]{1,16}_[0-9a-f]{16}\.dcm\Z")
_TEMP_PREFIX = ".incoming-"
_MODALITY = re.compile(r"[A-Z0-9]{1,16}\Z")


class StorageArea:
    """A storage area directory (which must exist)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def check(self) -> None:
        """Raise OSError unless the area is a writable directory."""
        if not os.path.isdir(self.root):
            raise FileNotFoundError(2, "storage area directory does not exist", self.root)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(13, "storage area directory is not writable", self.root)

    def new_path(self, modality: object) -> str:
        """A fresh file name for an object of ``modality`` (sanitised: 'XX' if unusable)."""
        mod = str(modality or "").strip().upper()
        if not _MODALITY.match(mod):
            mod = "XX"
        while True:
            stamp = f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.randbits(32):08x}"
            path = os.path.join(self.root, f"{mod}_{stamp}.dcm")
            if not os.path.exists(path):
                return path

    def temp_file(self) -> tuple[int, str]:
        """An open temporary file in the area for incoming data: (fd, path)."""
        return tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=self.root)

    def place(self, source: str, target: str, *, move: bool) -> None:
        """Put ``source`` at ``target`` durably: fsync, rename, fsync the directory.

        ``move`` renames a file already in the area (or moves it from elsewhere); otherwise the
        source is copied to a temporary file first and left alone.
        """
        same_fs = move and os.path.dirname(os.path.abspath(source)) == self.root
        if same_fs:
            _fsync_file(source)
            os.replace(source, target)
        else:
            fd, tmp = self.temp_file()
            try:
                with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                _remove(tmp)
                raise
            if move:
                _remove(source)
        _fsync_dir(self.root)

    def unlink(self, paths: list[str]) -> None:
        """Remove files (missing ones are fine) and flush the directory entries."""
        for path in paths:
            _remove(path)
        if paths:
            _fsync_dir(self.root)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    if os.name != "posix":          # Windows cannot open a directory; NTFS journals renames
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class ReconcileReport:
    temp_removed: list[str] = field(default_factory=list)
    rows_dropped: list[str] = field(default_factory=list)
    files_indexed: list[str] = field(default_factory=list)
    files_unreadable: list[str] = field(default_factory=list)
    files_refused: list[str] = field(default_factory=list)


def reconcile(area: StorageArea, index, *, quota=None, policy: str = "delete",
              min_age: float = 0.0) -> ReconcileReport:
    """Make the index of ``area`` and its files agree after a crash (see module docstring).

    Files indexed again go through the area's ``quota`` (the store that was interrupted would
    have); one the quota refuses is removed. ``min_age`` spares temporary files younger than
    that many seconds (stores in progress in another process sharing the area).
    """
    from .index import QuotaExceeded
    from .record import RecordError
    from dcmpy.dcmdata.reader import DicomError
    report = ReconcileReport()
    now = time.time()
    names = os.listdir(area.root)
    for name in names:
        path = os.path.join(area.root, name)
        if name.startswith((_TEMP_PREFIX, ".dcmpy-")) and now - _mtime(path) >= min_age:
            _remove(path)
            report.temp_removed.append(path)
    indexed = index.paths()
    gone = [p for p in indexed if not os.path.exists(p)]
    if gone:
        index.remove_paths(gone)
        report.rows_dropped = gone
    for name in sorted(names):
        path = os.path.join(area.root, name)
        if STORED_NAME.match(name) and path not in indexed and os.path.isfile(path):
            try:
                index.store(path, quota=quota, policy=policy, unlink=area.unlink)
                report.files_indexed.append(path)
            except QuotaExceeded:
                area.unlink([path])
                report.files_refused.append(path)
            except (DicomError, RecordError, OSError):
                report.files_unreadable.append(path)
    return report


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
