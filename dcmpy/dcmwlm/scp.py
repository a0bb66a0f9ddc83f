"""The worklist SCP (wlmscpfs) as a library class: Verification, Modality Worklist C-FIND over the
worklist files, and optionally Modality Performed Procedure Step N-CREATE / N-SET.

    scp = WorklistSCP(WorklistOptions(data_path="/srv/worklists", mpps_dir="/srv/mpps"), log)
    port = scp.start(0)            # or scp.serve(104)
    ...
    scp.shutdown()

The called AE title selects the worklist folder; an association calling a title that is not a
safe, existing folder is rejected ("Called AE Title Not Recognized"). Worklist files are read
anew for every query, under a shared lock on the folder's ``lockfile``. Each association runs
in a thread of its own; a C-CANCEL stops the pending responses.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..dcmnet.association import Association, Timeouts
from ..dcmnet.netlog import DEBUG, INFO, NULL
from ..dcmnet.negotiation import RJ_CALLED_AE, RJ_NO_REASON, VERIFICATION, AcceptorPolicy
from ..dcmnet.scp import AE, Request, Response
from ..dcmnet.transport import peer_name
from . import mpps as M
from .query import WorklistQuery, describe_status, keyword
from .requestfile import write_request_file
from .store import LockError, WorklistStore

WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
PENDING, PENDING_WARNING, SUCCESS = 0xFF00, 0xFF01, 0x0000
DOES_NOT_MATCH, OUT_OF_RESOURCES, UNABLE_TO_PROCESS = 0xA900, 0xA700, 0xC000
SECTION, RESPONSE_RULE, ASSOCIATION_RULE = "=" * 29, "-" * 29, "+" * 29


@dataclass
class WorklistOptions:
    """wlmscpfs's options as a library object."""
    data_path: str = "."
    reject_incomplete: bool = True                 # -efr (default) / -dfr
    charset: str = "none"                          # 'none' (-cs0), 'latin1' (-cs1), 'keep' (-csk)
    expand_sequences: bool = True                  # -nse clears it
    no_fail: bool = False                          # --no-fail
    request_path: str | None = None                # -rfp
    request_format: str = "#t.dump"                # -rff
    sleep_before: float = 0
    sleep_after: float = 0
    sleep_during: float = 0
    transfer_syntaxes: list[str] = field(default_factory=lambda: [EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE])
    compression_level: int = 6                     # +cl, with +xd
    max_pdu: int = 16384
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_associations: int | None = 50
    refuse: bool = False
    reject_without_implementation_uid: bool = False
    host_lookup: bool = True                       # -dhl clears it
    mpps_dir: str | None = None                    # --mpps-dir: serve MPPS N-CREATE/N-SET


class _PeerAE(AE):
    """An AE that remembers each connection's peer address for the 'Association Received' line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peer = threading.local()

    def _run(self, conn: socket.socket) -> None:
        self.peer.address = peer_name(conn)
        super()._run(conn)


class WorklistSCP:
    """wlmscpfs as a library class."""

    def __init__(self, options: WorklistOptions | None = None, log: Any = NULL) -> None:
        self.opts = opts = options or WorklistOptions()
        self.log = log
        self.store = WorklistStore(opts.data_path, reject_incomplete=opts.reject_incomplete, log=log)
        self.mpps = M.MPPSStore(opts.mpps_dir) if opts.mpps_dir else None
        self.ae = _PeerAE("WLMSCPFS", self._policy(), max_associations=opts.max_associations,
                          timeouts=opts.timeouts, max_pdu=opts.max_pdu, log=log)
        self.ae.on("C-ECHO", self._echo)
        self.ae.on("C-FIND", self._find)
        if self.mpps is not None:
            self.ae.on("N-CREATE", self._n_create)
            self.ae.on("N-SET", self._n_set)
        self.ae.hook("received", self._received)
        self.ae.hook("accepted", self._accepted)
        self.ae.hook("failed", lambda exc: log.error("Receiving Association failed: %s", exc))
        self.ae.hook("released", lambda assoc: log.info("Association Release"))
        self.ae.hook("aborted", self._aborted)
        self.ae.hook("closed", lambda assoc: log.info("%s", ASSOCIATION_RULE))

    def _policy(self) -> AcceptorPolicy:
        opts = self.opts
        policy = AcceptorPolicy(refuse=opts.refuse, accept=self._check_association,
                                require_implementation_uid=opts.reject_without_implementation_uid)
        policy.add(VERIFICATION, list(opts.transfer_syntaxes))
        policy.add(WORKLIST_FIND, list(opts.transfer_syntaxes))
        if self.mpps is not None:
            policy.add(M.MPPS_SOP_CLASS, list(opts.transfer_syntaxes))
        return policy

    # -- serving --------------------------------------------------------------------------------------
    def start(self, port: int = 0, host: str | None = None) -> int:
        """Serve in a background thread; returns the port."""
        return self.ae.start(port, host)

    def serve(self, port: int, host: str | None = None) -> None:
        """Listen and serve until interrupted."""
        self.ae.serve(port, host)

    def shutdown(self) -> None:
        self.ae.shutdown()

    # -- association events -----------------------------------------------------------------------------
    def _peer_name(self) -> str:
        address = getattr(self.ae.peer, "address", "")
        if self.opts.host_lookup and address:
            try:
                return socket.gethostbyaddr(address)[0]
            except OSError:
                pass
        return address

    def _received(self, rq: Any) -> None:
        if self.log.enabled(INFO):
            self.log.info("Association Received (%s:%s -> %s)", self._peer_name(), rq.calling_ae,
                          rq.called_ae)

    def _check_association(self, rq: Any) -> tuple[int, int, int] | None:
        if self.store.area(rq.called_ae) is None:
            self.log.info("Refusing Association (bad application entity service)")
            return RJ_CALLED_AE
        if not any(pc.abstract_syntax in self.ae.policy.contexts for pc in rq.contexts):
            self.log.info("No Acceptable Presentation Contexts")
            self.log.info("Refusing Association (no acceptable presentation contexts)")
            return RJ_NO_REASON
        return None

    def _accepted(self, assoc: Association) -> None:
        self.log.info("Association Acknowledged (Max Send PDV: %d)", assoc.max_send_pdv)
        if self.log.enabled(DEBUG):
            from ..dcmnet.describe import describe
            self.log.debug("%s", describe(assoc.rq, assoc.ac, ours_requestor=False))

    def _aborted(self, assoc: Any, exc: BaseException) -> None:
        from ..dcmnet.association import AssociationAborted
        if isinstance(exc, AssociationAborted):
            self.log.info("Association Aborted")
        else:
            self.log.error("%s", exc)

    def _echo(self, req: Request) -> int:
        self.log.info("Received Echo Request")
        return SUCCESS

    # -- worklist C-FIND ----------------------------------------------------------------------------------
    def _find(self, req: Request) -> Any:
        log = self.log
        ctx = req.context
        if log.enabled(INFO):
            from ..dcmnet.dimse import summary
            log.info("%s", summary(req.message, True))
        try:
            identifier = _read_identifier(req.dataset, ctx.transfer_syntax)
        except ValueError as exc:
            log.error("Find SCP: cannot read the request identifier: %s", exc)
            return Response(UNABLE_TO_PROCESS, fields={"ErrorComment": "cannot read identifier"[:64]})
        ts_name = identifier.transfer_syntax.name
        log.info("Find SCP Request Identifiers:\n%s", dump_text(identifier, ts_name))
        if self.opts.request_path is not None:
            write_request_file(self.opts.request_path, self.opts.request_format, identifier, ts_name,
                               req.calling_ae, req.called_ae, log)
        query = self.check(identifier)
        if query.errors and not self.opts.no_fail:
            return self._final(1, Response(DOES_NOT_MATCH, fields={
                "OffendingElement": query.errors, "ErrorComment": query.error_comment}))
        if self.opts.sleep_before:
            time.sleep(self.opts.sleep_before)
        try:
            matches = self.search(req.called_ae, query)
        except LockError as exc:
            log.error("%s", exc)
            log.info("%s", SECTION)
            return self._final(1, Response(OUT_OF_RESOURCES))
        return self._responses(query, matches, ctx.transfer_syntax, ts_name)

    def check(self, identifier: Any) -> WorklistQuery:
        """Parse and check an identifier, logging as DCMTK does."""
        log = self.log
        log.info("%s\nChecking the search mask", SECTION)
        query = WorklistQuery.parse(identifier, self.opts.expand_sequences)
        for tag, is_sequence in query.unsupported:
            kind = "sequence" if is_sequence else "non-sequence"
            log.info("  - Unsupported (%s) attribute (%s) encountered in the search mask.\n"
                     "    This attribute will not be existent in any result dataset.", kind, keyword(tag))
        for tag in query.invalid_keys:
            log.warn("Matching key attribute (%s) with invalid value encountered in the search mask",
                     keyword(tag))
        log.info("Expanded Find SCP Request Identifiers:\n%s", dump_text(query.keys, identifier.transfer_syntax.name))
        return query

    def search(self, called_ae: str, query: WorklistQuery) -> list[Any]:
        """The records of the called AE's folder that match (LockError without a lockfile)."""
        log = self.log
        area = self.store.area(called_ae)
        if area is None:
            raise LockError(f"called AE title {called_ae!r} has no worklist folder")
        log.info("%s\nDetermining matching records from worklist files", SECTION)
        found = []
        with self.store.locked(area):
            for record in self.store.records(area):
                ok = query.matches(record.dataset)
                log.info('Information from worklist file "%s" %s query', record.path,
                         "matches" if ok else "does not match")
                if ok:
                    found.append(query.response(record.dataset, self.opts.charset))
        log.info("Matching results: %d matching records found in worklist files", len(found))
        log.info("%s", SECTION)
        return found

    def _responses(self, query: WorklistQuery, matches: list[Any], ts: str, ts_name: str) -> Iterator[Any]:
        status = PENDING_WARNING if query.unsupported else PENDING
        for n, ds in enumerate(matches, 1):
            if self.log.enabled(INFO):
                self.log.info("Worklist Find SCP Response %d (%s)\n%s\n%s", n, describe_status(status),
                              dump_text(ds, ts_name), RESPONSE_RULE)
            yield Response(status, encode_response(ds, ts, self.opts.compression_level))
            if self.opts.sleep_during:
                time.sleep(self.opts.sleep_during)
        yield self._final(len(matches) + 1, Response(SUCCESS))
        if self.opts.sleep_after:
            time.sleep(self.opts.sleep_after)

    def _final(self, n: int, response: Response) -> Response:
        self.log.info("Worklist Find SCP Response %d (%s)", n, describe_status(response.status))
        return response

    # -- MPPS ----------------------------------------------------------------------------------------------
    def _n_create(self, req: Request) -> Response:
        msg = req.message
        try:
            ds = _read_identifier(req.dataset or b"", req.context.transfer_syntax)
        except ValueError as exc:
            return Response(M.PROCESSING_FAILURE, fields={"ErrorComment": str(exc)[:64]})
        outcome = self.mpps.create(msg.AffectedSOPInstanceUID, ds)
        self.log.info("MPPS N-CREATE %s: %s", outcome.uid or "-", _status_text(outcome))
        fields = dict(outcome.fields)
        if outcome.uid:
            fields["AffectedSOPInstanceUID"] = outcome.uid
        return Response(outcome.status, fields=fields)

    def _n_set(self, req: Request) -> Response:
        msg = req.message
        uid = msg.RequestedSOPInstanceUID or ""
        fields = {"AffectedSOPClassUID": msg.RequestedSOPClassUID, "AffectedSOPInstanceUID": uid}
        if msg.RequestedSOPClassUID != M.MPPS_SOP_CLASS:
            return Response(0x0119, fields={**fields, "ErrorComment": "Class-Instance conflict"})
        try:
            ds = _read_identifier(req.dataset, req.context.transfer_syntax)
        except ValueError as exc:
            return Response(M.PROCESSING_FAILURE, fields={**fields, "ErrorComment": str(exc)[:64]})
        outcome = self.mpps.update(uid, ds)
        self.log.info("MPPS N-SET %s: %s", uid, _status_text(outcome))
        return Response(outcome.status, fields={**fields, **outcome.fields})


def _status_text(outcome: M.Outcome) -> str:
    comment = outcome.fields.get("ErrorComment")
    return f"0x{outcome.status:04x}" + (f" ({comment})" if comment else "")


def _read_identifier(data: Any, transfer_syntax: str) -> Any:
    """A received data set as a Dataset (ValueError naming the problem)."""
    from ..dcmdata.reader import DicomError, ReadOptions, dcmread
    try:
        return dcmread(bytes(data or b""), ReadOptions(read_mode="dataset", transfer_syntax=transfer_syntax))
    except DicomError as exc:
        raise ValueError(str(exc)) from None


def dump_text(ds: Any, ts_name: str) -> str:
    """A data set as DCMTK's logs and request files show it (blank line, headings, elements)."""
    from ..dcmdata.dump import Dumper
    lines = ["", "# Dicom-Data-Set", f"# Used TransferSyntax: {ts_name}"]
    lines += Dumper().dataset_lines(ds, 0, None)
    return "\n".join(lines) + "\n"


def encode_response(ds: Any, transfer_syntax: str, compression_level: int = 6) -> bytes:
    """A response identifier as DCMTK sends it (sequences and items of undefined length)."""
    from ..dcmdata.writer import WriteOptions, encode_file
    opts = WriteOptions(transfer_syntax=transfer_syntax, write_meta=False, explicit_lengths=False,
                        compression_level=compression_level)
    return b"".join(bytes(c) for c in encode_file(ds, opts))


__all__ = ["WorklistSCP", "WorklistOptions", "WORKLIST_FIND", "dump_text", "encode_response"]
