"""Storing the objects that C-MOVE and C-GET sub-operations bring, as DCMTK's movescu and getscu
store them: ``<MOD>.<SOP Instance UID>`` in the output directory (getscu ``+B``: the UID alone).

Each data set streams into a temporary file in the output directory while it arrives (memory
stays near one PDU) and gets its name once complete and checked; an association that breaks
off leaves no file behind. Names built from received UIDs are reduced to safe characters and
never leave the output directory (DCMTK's CVE-2022-2120 and CVE-2026-50003).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, TextIO

from . import storage as S
from .dimse import Message, Sink
from .netlog import NULL
from .status import CANNOT_UNDERSTAND, OUT_OF_RESOURCES, SUCCESS

DATASET_MISMATCH = 0xB007     # Warning: Data Set does not match SOP Class


@dataclass
class StoreOptions:
    """Where and how retrieved objects are written."""
    output_dir: str = "."
    ignore: bool = False          # --ignore: receive, store nothing
    write_meta: bool = True       # -F clears it: data set only
    write_options: Any = None     # a WriteOptions: re-encode (movescu +t?, +g, +e, -p, -u)
    uid_names: bool = False       # name files by the SOP Instance UID alone (getscu +B)


class RetrieveStore:
    """Sinks for incoming C-STORE data sets and the handling of each complete one."""

    def __init__(self, options: StoreOptions | None = None, log: Any = NULL,
                 progress: TextIO | None = None) -> None:
        self.opts = options or StoreOptions()
        self.log = log
        self.progress = progress          # movescu's RECV dots (stdout in verbose mode)
        self.stored: list[str] = []
        self._lock = threading.Lock()

    def sink(self, msg: Message, transfer_syntax: str, source_ae: str | None) -> Sink:
        """Where the data set of the C-STORE-RQ ``msg`` goes while it arrives."""
        if self.opts.ignore:
            return S.NullSink()
        try:
            sink = S.FileSink(self.opts.output_dir, msg, transfer_syntax, source_ae,
                              self.opts.write_meta)
        except OSError as exc:
            return S.FailedSink(exc)
        if self.progress is not None:
            self.progress.write("RECV: ")
            sink.on_write = lambda size: self.progress.write(".")
        return sink

    def store(self, msg: Message) -> int:
        """Name (or re-encode) the complete object of ``msg``; the C-STORE-RSP status."""
        if self.progress is not None and not self.opts.ignore:
            self.progress.write("\n")
            self.progress.flush()
        received = msg.dataset
        if received is None:                      # --ignore
            return SUCCESS
        if isinstance(received, S.FailedSink):
            self.log.error("cannot create file in %s: %s", self.opts.output_dir, received.error)
            return OUT_OF_RESOURCES
        try:
            return self._keep(received)
        finally:
            received.cleanup()

    def _keep(self, received: S.ReceivedFile) -> int:
        try:
            head = received.read_head(0x00080018)
        except Exception as exc:      # whatever the data set holds, the peer gets an answer
            self.log.error("cannot understand received data set: %s", exc)
            return CANNOT_UNDERSTAND
        status = SUCCESS
        if _value(head, 0x00080016) != received.sop_class or \
                _value(head, 0x00080018) != received.sop_instance:
            self.log.warn("data set does not match SOP class and instance of the C-STORE-RQ")
            status = DATASET_MISMATCH
        name = S.safe_component(received.sop_instance) if self.opts.uid_names else \
            S.file_name("default", received.sop_class, received.sop_instance)
        directory = self.opts.output_dir
        try:
            path = S.inside(directory, name)
            shown = name if directory in ("", ".") else path
            with self._lock:
                if os.path.exists(path):
                    self.log.warn("DICOM file already exists, overwriting: %s", shown)
                self._write(received, path)
                self.stored.append(path)
        except (OSError, ValueError) as exc:
            self.log.error("cannot store received object: %s", exc)
            return OUT_OF_RESOURCES
        return status

    def _write(self, received: S.ReceivedFile, path: str) -> None:
        if self.opts.write_options is None:
            received.move_to(path)
            return
        from ..dcmdata.reader import dcmread
        from ..dcmdata.writer import dcmwrite
        dcmwrite(path, dcmread(received.temp_path), self.opts.write_options)


def _value(ds: Any, tag: int) -> str:
    elem = ds.get(tag)
    value = elem.value if elem is not None else None
    return value.strip("\0 ") if isinstance(value, str) else ""
