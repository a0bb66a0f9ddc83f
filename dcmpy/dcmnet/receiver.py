"""Receiving objects into a directory as DCMTK's storescp does: naming, sorting into study
folders, optional re-encoding, and commands run on reception or at the end of a study.

    scp = StoreSCP(ReceiveOptions(output_dir="/data"), log)
    scp.serve(104)

Each object streams into a temporary file in its target folder while it arrives
(:class:`~dcmpy.dcmnet.storage.FileSink`) and is renamed once complete and checked.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import storage as S
from .association import Association, Timeouts
from .dimse import Message
from .execcmd import Runner, parse_template, substitute
from .negotiation import VERIFICATION, AcceptorPolicy
from .netlog import DEBUG, NULL
from .scp import AE, Request, Response
from .status import CANNOT_UNDERSTAND, DATASET_DOES_NOT_MATCH, OUT_OF_RESOURCES, SUCCESS

EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"


@dataclass
class ReceiveOptions:
    """storescp's options as a library object."""
    ae_title: str = "STORESCP"
    output_dir: str = "."
    transfer_syntaxes: list[str] = field(default_factory=lambda: [EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE])
    promiscuous: bool = False
    profile: Any = None                  # assocprofile.Profile (-xf)
    max_pdu: int = 16384
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_associations: int | None = None
    refuse: bool = False
    reject_without_implementation_uid: bool = False
    ignore: bool = False                 # receive, store nothing
    write_meta: bool = True              # -F clears it
    write_options: Any = None            # a WriteOptions: re-encode the received object
    naming: str = "default"              # 'default', 'unique', 'time'
    extension: str = ""
    sort: str | None = None              # 'timestamp' (-ss), 'study' (-su), 'patient' (-sp)
    sort_prefix: str = ""
    exec_on_reception: str | None = None
    exec_on_eostudy: str | None = None
    exec_sync: bool = False
    rename_on_eostudy: bool = False
    eostudy_timeout: float | None = None
    sleep_after: float = 0
    sleep_during: float = 0
    abort_after: bool = False
    abort_during: bool = False
    tls: Any = None                      # an ssl.SSLContext (dcmnet.tls.create_context)


class _Study:
    """The study being received (for -ss/-sp folders, -xcs, -rns)."""

    def __init__(self) -> None:
        self.uid: str | None = None
        self.folder = ""
        self.last = 0.0


class StoreSCP:
    """storescp as a library class."""

    def __init__(self, options: ReceiveOptions | None = None, log: Any = NULL, progress: Any = None) -> None:
        self.opts = opts = options or ReceiveOptions()
        self.log = log
        self.progress = progress
        self.runner = Runner(log, opts.exec_sync)
        self._reception = parse_template(opts.exec_on_reception) if opts.exec_on_reception else None
        self._eostudy = parse_template(opts.exec_on_eostudy) if opts.exec_on_eostudy else None
        self._study = _Study()
        self._lock = threading.Lock()
        self.ae = AE(opts.ae_title, self._policy(), max_associations=opts.max_associations,
                     timeouts=opts.timeouts, max_pdu=opts.max_pdu, log=log, tls=opts.tls)
        self.ae.on("C-ECHO", self._echo)
        self.ae.on("C-STORE", self._store, sink=self._sink)
        self.ae.hook("received", lambda rq: log.info("Association Received"))
        self.ae.hook("failed", lambda exc: log.error("Receiving Association failed: %s", exc))
        self.ae.hook("accepted", self._accepted)
        self.ae.hook("rejected", lambda assoc, rj: log.info("Association Rejected"))
        self.ae.hook("released", lambda assoc: log.info("Association Release"))
        self.ae.hook("aborted", self._aborted)
        self._watch: threading.Thread | None = None

    def _policy(self) -> AcceptorPolicy:
        opts = self.opts
        policy = AcceptorPolicy(refuse=opts.refuse,
                                require_implementation_uid=opts.reject_without_implementation_uid)
        if opts.profile is not None:
            for pc in opts.profile.contexts:
                role = opts.profile.role_for(pc.abstract_syntax)
                policy.add(pc.abstract_syntax, list(pc.transfer_syntaxes),
                           scu_role=role.scu if role else True, scp_role=role.scp if role else False)
            return policy
        policy.add(VERIFICATION, list(opts.transfer_syntaxes))
        for sop in S.storage_sop_classes():
            policy.add(sop, list(opts.transfer_syntaxes))
        if opts.promiscuous:
            policy.promiscuous_transfer_syntaxes = list(opts.transfer_syntaxes)
        return policy

    # -- serving -------------------------------------------------------------------------------------
    def serve(self, port: int, host: str | None = None) -> None:
        """Listen and serve until interrupted."""
        self._start_watch()
        try:
            self.ae.serve(port, host)
        finally:
            self.runner.wait(5)

    def start(self, port: int = 0, host: str | None = None) -> int:
        """Serve in a background thread; returns the port."""
        self._start_watch()
        return self.ae.start(port, host)

    def shutdown(self) -> None:
        self.ae.shutdown()
        self.runner.wait(5)

    def _start_watch(self) -> None:
        if self.opts.eostudy_timeout and self._watch is None:
            self._watch = threading.Thread(target=self._watch_studies, daemon=True)
            self._watch.start()

    def _watch_studies(self) -> None:
        while True:
            time.sleep(min(0.5, self.opts.eostudy_timeout))
            with self._lock:
                study = self._study
                if study.uid is not None and time.monotonic() - study.last >= self.opts.eostudy_timeout:
                    self._end_of_study()

    # -- hooks and handlers ---------------------------------------------------------------------------
    def _accepted(self, assoc: Association) -> None:
        self.log.info("Association Acknowledged (Max Send PDV: %d)", assoc.max_send_pdv)
        if self.log.enabled(DEBUG):
            from .describe import describe
            self.log.debug("%s", describe(assoc.rq, assoc.ac, ours_requestor=False))

    def _aborted(self, assoc: Any, exc: BaseException) -> None:
        from .association import AssociationAborted
        if isinstance(exc, AssociationAborted):
            self.log.info("Association Aborted")
        else:
            self.log.error("%s", exc)

    def _echo(self, req: Request) -> int:
        self.log.info("Received Echo Request (MsgID %d)", req.message.MessageID)
        return SUCCESS

    def _sink(self, msg: Message, assoc: Association):
        prefix = S.modality_prefix(msg.AffectedSOPClassUID)
        self.log.info("Received Store Request (MsgID %d, %s)", msg.MessageID, prefix)
        if self.opts.abort_during:
            return _AbortingSink(assoc)
        if self.opts.ignore:
            return S.NullSink()
        ctx = assoc.contexts[msg.context_id]
        try:
            sink = S.FileSink(self.opts.output_dir, msg, ctx.transfer_syntax, assoc.rq.calling_ae,
                              self.opts.write_meta)
        except OSError as exc:
            return S.FailedSink(exc)
        if self.opts.sleep_during:
            sink.on_write = lambda size: time.sleep(self.opts.sleep_during)
        elif self.progress is not None:
            self.progress.write("RECV: ")
            sink.on_write = lambda size: self.progress.write(".")
        return sink

    def _store(self, req: Request) -> Any:
        if self.progress is not None and not self.opts.ignore:
            self.progress.write("\n")
            self.progress.flush()
        received = req.dataset
        if self.opts.abort_after:
            req.assoc.abort()
            return None
        status = SUCCESS if received is None else self._keep(req, received)
        if self.opts.sleep_after:
            time.sleep(self.opts.sleep_after)
        return status

    def _keep(self, req: Request, received: Any) -> Any:
        """Check, name, move (or re-encode) one received file; the response status."""
        if isinstance(received, S.FailedSink):
            self.log.error("cannot create file in %s: %s", self.opts.output_dir, received.error)
            return Response(OUT_OF_RESOURCES, fields={"ErrorComment": "cannot write file"})
        try:
            head = received.read_head()
        except Exception as exc:      # whatever the data set holds, the peer gets an answer
            self.log.error("cannot understand received data set: %s", exc)
            return Response(CANNOT_UNDERSTAND, fields={"ErrorComment": "cannot parse data set"})
        sop_class, sop_inst = head.get(0x00080016), head.get(0x00080018)
        status = SUCCESS
        if sop_class is None or sop_inst is None or str(sop_class.value) != received.sop_class \
                or str(sop_inst.value) != received.sop_instance:
            self.log.warn("data set does not match SOP class and instance of the C-STORE-RQ")
            status = DATASET_DOES_NOT_MATCH
        with self._lock:
            try:
                path = self._place(received, head)
            except (OSError, ValueError) as exc:
                self.log.error("cannot store received object: %s", exc)
                return Response(OUT_OF_RESOURCES, fields={"ErrorComment": "cannot write file"})
            self._after_reception(req, path)
        return status

    def _place(self, received: S.ReceivedFile, head: Any) -> str:
        folder = self._folder(head)
        directory = os.path.join(self.opts.output_dir, folder) if folder else self.opts.output_dir
        name = S.file_name(self.opts.naming, received.sop_class, received.sop_instance,
                           self.opts.extension, directory)
        path = S.inside(directory, name)
        if os.path.exists(path):
            self.log.warn("DICOM file already exists, overwriting: %s", path)
        self.log.info("storing DICOM file: %s", path)
        if self.opts.write_options is not None:
            from ..dcmdata.reader import dcmread
            from ..dcmdata.writer import dcmwrite
            dcmwrite(path, dcmread(received.temp_path), self.opts.write_options)
            received.cleanup()
        else:
            received.move_to(path)
        return path

    def _folder(self, head: Any) -> str:
        """The study sub-folder (created if needed), '' without sorting. Called under the lock."""
        sort = self.opts.sort
        if sort is None:
            return ""
        study_elem = head.get(0x0020000D)
        study_uid = str(study_elem.value) if study_elem is not None else ""
        prefix = self.opts.sort_prefix
        study = self._study
        if sort == "study":
            name = S.safe_component(f"{prefix}_{study_uid}" if prefix else study_uid or "UNKNOWN")
        elif study.uid == study_uid and study.folder:
            name = study.folder
        else:
            day, clock = S.timestamp()
            if sort == "patient":
                pn = head.get(0x00100010)
                base = S.patient_component(str(pn.value) if pn is not None and pn.value else "")
            else:
                base = prefix
            name = S.safe_component(f"{base}_{day}_{clock}" if base else f"{day}_{clock}")
        if study.uid is not None and study.uid != study_uid:
            self._end_of_study()
        study.uid, study.folder, study.last = study_uid, name, time.monotonic()
        S.inside(self.opts.output_dir, name)
        os.makedirs(os.path.join(self.opts.output_dir, name), exist_ok=True)
        return name

    def _after_reception(self, req: Request, path: str) -> None:
        if self._reception is None:
            return
        values = {"p": os.path.dirname(path), "f": os.path.basename(path), "a": req.calling_ae,
                  "c": req.called_ae, "r": req.peer_address}
        self.runner.run(substitute(self._reception, values))

    def _end_of_study(self) -> None:
        """The current study is complete: -rns renames its files, -xcs runs. Under the lock."""
        study = self._study
        folder = os.path.join(self.opts.output_dir, study.folder)
        if self.opts.rename_on_eostudy and study.folder:
            _rename_study(folder, self.log)
        if self._eostudy is not None and study.folder:
            self.runner.run(substitute(self._eostudy, {"p": folder, "a": "", "c": "", "r": ""}))
        study.uid, study.folder = None, ""


def _rename_study(folder: str, log: Any) -> None:
    """-rns: the study's files become <first two letters of their name><six-digit counter>."""
    names = sorted(n for n in os.listdir(folder) if not n.startswith(S.TEMP_PREFIX))
    for n, name in enumerate(names, 1):
        target = os.path.join(folder, f"{name[:2]}{n:06d}")
        try:
            os.replace(os.path.join(folder, name), target)
        except OSError as exc:
            log.error("cannot rename %s: %s", name, exc.strerror)


class _AbortingSink:
    """--abort-during: aborts the association at the first fragment of the data set."""

    def __init__(self, assoc: Association) -> None:
        self.assoc = assoc

    def write(self, data: memoryview) -> None:
        from .association import AssociationAborted
        self.assoc.abort()
        raise AssociationAborted(0, 0)

    def close(self) -> None:
        return None

    def discard(self) -> None:
        pass
