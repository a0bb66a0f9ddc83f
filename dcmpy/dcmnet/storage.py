"""Receiving objects into files: a sink that streams a data set to a temporary file behind a
freshly written meta header as its PDVs arrive, and the naming rules of DCMTK's storescp.

Memory stays near one PDU whatever the object's size; the file gets its final name only once
complete (an aborted transfer leaves nothing); every name built from received values (UIDs,
patient names) is reduced to safe characters and can never leave the output directory.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass

from .dimse import Message

TEMP_PREFIX = ".dcmpy-"
TEMP_SUFFIX = ".part"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_component(text: str, empty: str = "_") -> str:
    """``text`` as one harmless path component: only ``A-Za-z0-9._-`` (others become ``_``),
    never empty, never ``.``/``..`` nor hidden (a leading dot becomes ``_``)."""
    name = _UNSAFE.sub("_", text)
    if not name:
        return empty
    if name[0] == ".":
        name = "_" + name[1:]
    return name


def modality_prefix(sop_class: str) -> str:
    """The file name prefix DCMTK's storescp uses for a SOP class (``CT``, ``MR``, ... or
    ``UNKNOWN``)."""
    from ._storage_table import STORAGE_PREFIXES
    return STORAGE_PREFIXES.get(sop_class, "UNKNOWN")


def storage_sop_classes() -> list[str]:
    """The storage SOP classes DCMTK's storescp accepts by default."""
    from ._storage_table import STORAGE_PREFIXES
    return list(STORAGE_PREFIXES)


def meta_header_bytes(sop_class: str, sop_instance: str, transfer_syntax: str,
                      source_ae: str | None) -> bytes:
    """Preamble, 'DICM' and the File Meta Information (PS3.10 7.1) for a received object."""
    from ..dcmdata.dataset import Dataset, FileDataset
    from ..dcmdata.writer import WriteOptions, _meta_chunks
    meta = Dataset()
    meta.add_new(0x00020002, "UI", sop_class)
    meta.add_new(0x00020003, "UI", sop_instance)
    if source_ae:
        meta.add_new(0x00020016, "AE", source_ae)
    ds = FileDataset(file_meta=meta)
    return b"".join(bytes(c) for c in _meta_chunks(ds, transfer_syntax, WriteOptions()))


@dataclass
class ReceivedFile:
    """A complete object in its temporary file; ``move_to`` gives it its name."""
    temp_path: str
    data_offset: int           # where the data set starts (0 without meta header)
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    size: int

    def read_head(self, stop_after: int = 0x0020000D):
        """The file's elements up to ``stop_after`` (a header scan: reads little)."""
        from ..dcmdata.reader import ReadOptions, dcmread
        opts = ReadOptions(stop_after=stop_after, transfer_syntax=None if self.data_offset
                           else self.transfer_syntax)
        return dcmread(self.temp_path, opts)

    def move_to(self, path: str) -> bool:
        """Rename into place; True if a file of that name was replaced."""
        existed = os.path.exists(path)
        os.replace(self.temp_path, path)
        self.temp_path = ""
        return existed

    def cleanup(self) -> None:
        """Remove the temporary file unless it was moved."""
        if self.temp_path:
            try:
                os.unlink(self.temp_path)
            except OSError:
                pass
            self.temp_path = ""


class FailedSink:
    """A data set that could not be written (no file, disk full): the rest of it is read and
    dropped so that the association goes on, and the handler answers with a failure status."""

    def __init__(self, error: OSError) -> None:
        self.error = error.strerror or str(error)

    def write(self, data: memoryview) -> None:
        pass

    def close(self) -> FailedSink:
        return self

    def discard(self) -> None:
        pass

    def cleanup(self) -> None:
        pass


class FileSink:
    """Streams one incoming data set to ``<directory>/.dcmpy-XXXX.part``; a write error turns it
    into a :class:`FailedSink` (the temporary file removed)."""

    __slots__ = ("_f", "_path", "_offset", "_msg", "_ts", "_size", "_error", "on_write")

    def __init__(self, directory: str, msg: Message, transfer_syntax: str,
                 source_ae: str | None = None, write_meta: bool = True) -> None:
        fd, self._path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        self._f = os.fdopen(fd, "wb", buffering=1 << 16)   # larger PDVs go straight through
        self._msg, self._ts = msg, transfer_syntax
        self.on_write = None
        self._error: OSError | None = None
        try:
            head = meta_header_bytes(msg.AffectedSOPClassUID, msg.AffectedSOPInstanceUID,
                                     transfer_syntax, source_ae) if write_meta else b""
            self._f.write(head)
        except BaseException:
            self.discard()
            raise
        self._offset = self._size = len(head)

    def write(self, data: memoryview) -> None:
        if self._error is not None:
            return
        try:
            self._f.write(data)
        except OSError as exc:
            self._error = exc
            self.discard()
            return
        self._size += len(data)
        if self.on_write is not None:
            self.on_write(self._size)

    def close(self) -> ReceivedFile | FailedSink:
        try:
            if self._error is None:
                self._f.close()
        except OSError as exc:
            self._error = exc
            self.discard()
        if self._error is not None:
            return FailedSink(self._error)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._path, 0o666 & ~umask)
        return ReceivedFile(self._path, self._offset, self._msg.AffectedSOPClassUID,
                            self._msg.AffectedSOPInstanceUID, self._ts, self._size)

    def discard(self) -> None:
        try:
            self._f.close()
        except OSError:
            pass
        try:
            os.unlink(self._path)
        except OSError:
            pass


class NullSink:
    """Receives a data set and keeps nothing (storescp --ignore)."""

    __slots__ = ()

    def write(self, data: memoryview) -> None:
        pass

    def close(self) -> None:
        return None

    def discard(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# storescp's naming


def timestamp(now: float | None = None) -> tuple[str, str]:
    """(``YYYYMMDD``, ``HHMMSSmmm``) of now, local time."""
    now = time.time() if now is None else now
    t = time.localtime(now)
    millis = int((now - int(now)) * 1000)
    return time.strftime("%Y%m%d", t), time.strftime("%H%M%S", t) + f"{millis:03d}"


def file_name(naming: str, sop_class: str, sop_instance: str, extension: str = "",
              directory: str = ".") -> str:
    """The name storescp gives an object: 'default' ``<MOD>.<SOP Instance UID>``, 'unique'
    ``<MOD>.X.<new UID>``, 'time' ``<YYYYMMDDHHMMSSmmm>[_NNNN].<MOD>``; plus ``extension``."""
    prefix = modality_prefix(sop_class)
    if naming == "unique":
        from ..dcmdata.uid import generate_uid
        return safe_component(f"{prefix}.X.{generate_uid()}{extension}")
    if naming == "time":
        day, clock = timestamp()
        base = f"{day}{clock}"
        name = safe_component(f"{base}.{prefix}{extension}")
        n = 0
        while os.path.exists(os.path.join(directory, name)):
            n += 1
            name = safe_component(f"{base}_{n:04d}.{prefix}{extension}")
        return name
    return safe_component(f"{prefix}.{sop_instance}{extension}")


def patient_component(name: str | None) -> str:
    """storescp -sp: the Patient's Name as a directory name (``ANONYMOUS`` when empty)."""
    text = (name or "").strip()
    return safe_component(text) if text else "ANONYMOUS"


def inside(directory: str, name: str) -> str:
    """``directory/name`` after checking that it stays inside ``directory``."""
    root = os.path.realpath(directory)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root:
        raise ValueError(f"refusing file name {name!r}: outside {directory}")
    return os.path.join(directory, name)
