"""The archive a Q/R SCP serves: configuration, storage areas and their indexes in one object.

::

    archive = Archive.open("/etc/dcmtk/dcmqrscp.cfg")          # reconciles every area
    if archive.can_access("STORE", "MODALITY1", "10.0.0.7", write=True):
        status = archive.accept_store("STORE", "MODALITY1", "10.0.0.7", "/tmp/incoming.dcm")
    for rsp in archive.find("STORE", "study", "STUDY", identifier): ...
    refs = archive.locate("STORE", "study", "SERIES", identifier)

Each AE title of the AETable serves its storage area; AE titles sharing a directory share its
index. The index is SQLite in ``<area>/index.sqlite`` unless the configuration (``IndexDatabase``)
or the caller names a PostgreSQL database, which several archive processes on several machines
may then share together with the storage directories (mounted at the same path everywhere).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Iterator

from .config import AEEntry, ArchiveConfig, Peer
from .index import Index, QuotaExceeded
from .keys import QueryError
from .record import RecordError, extract
from .storage import StorageArea, reconcile

__all__ = ["Archive", "ArchiveError", "StoreStatus", "STATUS_SUCCESS", "STATUS_OUT_OF_RESOURCES",
           "STATUS_NOT_AUTHORIZED", "STATUS_DATASET_MISMATCH", "STATUS_CANNOT_UNDERSTAND", "QueryError"]

STATUS_SUCCESS = 0x0000
STATUS_NOT_AUTHORIZED = 0x0124        # Refused: Not Authorized
STATUS_OUT_OF_RESOURCES = 0xA700      # Refused: Out of Resources (quota)
STATUS_DATASET_MISMATCH = 0xA900      # Error: Data Set does not match SOP Class
STATUS_CANNOT_UNDERSTAND = 0xC000     # Error: Cannot understand


class ArchiveError(Exception):
    """An archive that cannot start (names the AE title and its storage area)."""


@dataclass
class StoreStatus:
    """The outcome of a C-STORE: the DIMSE status, a message and where the object went."""
    status: int
    message: str = ""
    path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS


class Archive:
    """Configuration + storage areas + indexes: what the Q/R SCP calls."""

    def __init__(self, config: ArchiveConfig, database: str | None = None, *,
                 check_areas: bool = True, recover: bool = True) -> None:
        self.config = config
        self.database = database or config.index_database
        self._indexes: dict[str, Index] = {}
        self._lock = threading.Lock()
        if check_areas:
            for entry in config.aes.values():
                self._area(entry)
        if recover:
            self.reconcile()

    @classmethod
    def open(cls, config_path: str, database: str | None = None, **kwargs: Any) -> Archive:
        return cls(ArchiveConfig.load(config_path), database, **kwargs)

    def close(self) -> None:
        with self._lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- areas ---------------------------------------------------------------------------------
    def _area(self, entry: AEEntry) -> tuple[StorageArea, Index]:
        area = StorageArea(entry.storage_area)
        with self._lock:
            index = self._indexes.get(area.root)
            if index is None:
                try:
                    area.check()
                except OSError as exc:
                    raise ArchiveError(f"{self.config.file}, line {entry.line}: storage area of "
                                       f"{entry.aetitle}: {exc.strerror}: {area.root}") from None
                index = Index.open(self.database or area.root, root=area.root)
                self._indexes[area.root] = index
        return area, index

    def entry(self, called_ae: str) -> AEEntry:
        entry = self.config.ae(called_ae)
        if entry is None:
            raise ArchiveError(f"called AE title {called_ae!r} is not in the AETable")
        return entry

    def index(self, called_ae: str) -> Index:
        """The index serving ``called_ae``."""
        return self._area(self.entry(called_ae))[1]

    def reconcile(self) -> dict[str, Any]:
        """Make every area's files and index agree (after a crash); reports per area."""
        reports = {}
        for entry in self.config.aes.values():
            area, index = self._area(entry)
            if area.root not in reports:
                reports[area.root] = reconcile(area, index, quota=entry.quota,
                                               policy=self.config.quota_policy,
                                               min_age=60.0 if self.database else 0.0)
        return reports

    # -- access --------------------------------------------------------------------------------
    def knows(self, called_ae: str) -> bool:
        return self.config.ae(called_ae) is not None

    def can_access(self, called_ae: str, calling_ae: str, peer_host: str, *,
                   write: bool = False, read: bool = False) -> bool:
        """May the peer associate with ``called_ae`` (and store into it / query it)?"""
        entry = self.config.ae(called_ae)
        if entry is None or not self.config.peer_allowed(called_ae, calling_ae, peer_host):
            return False
        return (not write or entry.writable) and (not read or entry.readable)

    def move_destination(self, aetitle: str) -> Peer | None:
        return self.config.move_destination(aetitle)

    # -- services ------------------------------------------------------------------------------
    def accept_store(self, called_ae: str, calling_ae: str, peer_host: str, dataset_file: str,
                     *, move: bool = True) -> StoreStatus:
        """Store a received object (a Part 10 file) into the called AE's area and index it.

        ``move`` takes the file over (renamed if it lies in the area, as from
        ``incoming_file``); otherwise it is copied. The file never stays behind on failure.
        """
        from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
        if not self.can_access(called_ae, calling_ae, peer_host, write=True):
            self._discard(dataset_file, move)
            return StoreStatus(STATUS_NOT_AUTHORIZED, f"{calling_ae} may not store into {called_ae}")
        entry = self.entry(called_ae)
        area, index = self._area(entry)
        try:
            ds = dcmread(dataset_file, ReadOptions(stop_before=0x7FE00010))
            ts = getattr(getattr(ds, "transfer_syntax", None), "uid", "")
            record = extract(ds, ts)
        except (DicomError, OSError) as exc:
            self._discard(dataset_file, move)
            return StoreStatus(STATUS_CANNOT_UNDERSTAND, f"cannot read object: {exc}")
        except RecordError as exc:
            self._discard(dataset_file, move)
            return StoreStatus(STATUS_DATASET_MISMATCH, str(exc))
        target = area.new_path(record.value(2, 0x00080060))
        size = os.path.getsize(dataset_file)
        area.place(dataset_file, target, move=move)
        try:
            index.store(target, record=record, size=size, quota=entry.quota,
                        policy=self.config.quota_policy, unlink=area.unlink)
        except QuotaExceeded as exc:
            area.unlink([target])
            return StoreStatus(STATUS_OUT_OF_RESOURCES, str(exc))
        except BaseException:
            area.unlink([target])
            raise
        return StoreStatus(STATUS_SUCCESS, "", target)

    def incoming_file(self, called_ae: str) -> tuple[int, str]:
        """(fd, path) of a temporary file in the called AE's area to receive an object into."""
        return self._area(self.entry(called_ae))[0].temp_file()

    def find(self, called_ae: str, model, level, identifier, **kwargs: Any) -> Iterator[Any]:
        """C-FIND on the called AE's area (responses carry it as Retrieve AE Title)."""
        kwargs.setdefault("retrieve_ae", called_ae)
        kwargs.setdefault("fallback_charset", self.config.charset.charset or "")
        kwargs.setdefault("override_charset", self.config.charset.override)
        return self.index(called_ae).find(model, level, identifier, **kwargs)

    def locate(self, called_ae: str, model, level, identifier, **kwargs: Any) -> list:
        """C-MOVE / C-GET on the called AE's area: the instances to send."""
        return self.index(called_ae).locate(model, level, identifier, **kwargs)

    @staticmethod
    def _discard(path: str, move: bool) -> None:
        if move:
            try:
                os.unlink(path)
            except OSError:
                pass

