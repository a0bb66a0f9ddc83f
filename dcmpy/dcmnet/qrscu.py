"""Query/Retrieve service-class users (PS3.4 Annex C and K): C-FIND, C-MOVE and C-GET as
DCMTK's findscu, movescu and getscu perform them.

    from dcmpy.dcmnet.qrscu import FindOptions, FindSCU, build_query
    query = build_query(["QueryRetrieveLevel=STUDY", "PatientName=Doe*", "StudyInstanceUID"])
    code = FindSCU("pacs", 104, FindOptions(model="study", called_ae="PACS")).run([query])

The services (:func:`c_find`, :func:`c_move`, :func:`c_get`) work on any association and yield
the responses; the classes add DCMTK's log lines, response files, the storage of retrieved
objects (:mod:`.qrstore`) and exit codes.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TextIO

from .association import (Association, AssociationAborted, AssociationError, ConnectionLost,
                          NetworkTimeout, Timeouts, describe_failure)
from .dimse import Message
from .netlog import DEBUG, NULL
from .qrstore import RetrieveStore, StoreOptions
from .status import category

EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
LOCAL_EXPLICIT = EXPLICIT_LE if sys.byteorder == "little" else EXPLICIT_BE
UNCOMPRESSED = [LOCAL_EXPLICIT, EXPLICIT_BE if LOCAL_EXPLICIT == EXPLICIT_LE else EXPLICIT_LE,
                IMPLICIT_LE]

_QR = "1.2.840.10008.5.1.4.1.2."
MODELS: dict[str, tuple[str, str | None, str | None]] = {
    # information model -> its (FIND, MOVE, GET) SOP classes
    "worklist": ("1.2.840.10008.5.1.4.31", None, None),
    "patient": (_QR + "1.1", _QR + "1.2", _QR + "1.3"),
    "study": (_QR + "2.1", _QR + "2.2", _QR + "2.3"),
    "psonly": (_QR + "3.1", _QR + "3.2", _QR + "3.3"),
}
PENDING = (0xFF00, 0xFF01)
# what DCMTK's findscu -X writes into the meta header of a response file (it has no SOP class)
RESPONSE_FILE_SOP_CLASS = "1.2.276.0.7230010.3.1.0.1"

# DCMTK's names for response statuses (DU_cfindStatusString & co., measured on 3.6.7)
_STATUS_TEXT = {
    "C-FIND": {0xFF00: "Pending", 0xFF01: "Pending: WarningUnsupportedOptionalKeys",
               0xFE00: "Cancel: MatchingTerminatedDueToCancelRequest",
               0xA700: "Refused: OutOfResources"},
    "C-MOVE": {0xFF00: "Pending", 0xFE00: "Cancel: SubOperationsTerminatedDueToCancelIndication",
               0xA701: "Refused: OutOfResourcesNumberOfMatches",
               0xA702: "Refused: OutOfResourcesSubOperations",
               0xA801: "Refused: MoveDestinationUnknown",
               0xB000: "Warning: SubOperationsCompleteOneOrMoreFailures"},
    "C-GET": {0xFF00: "Pending", 0xFE00: "Cancel: SubOperationsTerminatedDueToCancelIndication",
              0xA701: "Refused: OutOfResourcesNumberOfMatches",
              0xA702: "Refused: OutOfResourcesSubOperations",
              0xB000: "Warning: SubOperationsCompleteOneOrMoreFailures"},
}
_COMMON_TEXT = {0x0000: "Success", 0xA900: "Error: DataSetDoesNotMatchSOPClass",
                0x0122: "Refused: SOPClassNotSupported"}


def status_text(code: int, service: str) -> str:
    """The words DCMTK's SCUs print for a C-FIND/C-MOVE/C-GET response status."""
    text = _STATUS_TEXT.get(service, {}).get(code) or _COMMON_TEXT.get(code)
    if text is None and code & 0xF000 == 0xC000:
        text = "Failed: UnableToProcess"
    return text or f"Unknown Status: 0x{code:x}"


# ---------------------------------------------------------------------------------------------
# identifiers


class QueryError(ValueError):
    """A query key or query file that cannot be used; the message names it."""


@dataclass
class Query:
    """An identifier; ``keyed`` holds the ids of the elements set from keys (DCMTK holds those
    in memory unpadded, which shows in its log), ``sent_syntax`` the transfer syntax it was last
    sent in (DCMTK logs a repeated query as it was sent: padded, in that syntax)."""
    dataset: Any
    keyed: set[int] = field(default_factory=set)
    source: str | None = None
    sent_syntax: str | None = None


def build_query(keys: list[str], base: Any = None, source: str | None = None) -> Query:
    """Apply DCMTK's ``-k`` keys (``path[=value]``, tag paths into sequences allowed) to ``base``
    (default: a new data set); raises QueryError naming the key."""
    from ..dcmdata import modify, xfer
    from ..dcmdata.dataset import FileDataset
    from ..dcmdata.tagpath import TagPath, TagPathError, split_assignment
    ds = base if base is not None else FileDataset(transfer_syntax=xfer.EXPLICIT_LE)
    keyed: set[int] = set()
    for key in keys:
        path, value = split_assignment(key)
        try:
            modify.insert(ds, path, value)
        except (TagPathError, modify.ModifyError) as exc:
            raise QueryError(f"Bad override key/path: {key}: {exc}") from None
        keyed.update(id(m.element) for m in TagPath.parse(path).resolve(ds) if m.item is None)
    return Query(ds, keyed, source)


def read_query_file(path: str, keys: list[str] = ()) -> Query:
    """A query file (a DICOM file or data set) with ``keys`` applied."""
    from ..dcmdata.reader import DicomError, dcmread
    try:
        ds = dcmread(path)
        if ds.read_error is not None:
            raise DicomError(str(ds.read_error))
    except (DicomError, OSError) as exc:
        raise QueryError(f"Bad DICOM file: {path}: {exc}") from None
    return build_query(list(keys), ds, path)


def encode_identifier(ds: Any, transfer_syntax: str, options: Any = None) -> bytes:
    """``ds`` as a bare data set in ``transfer_syntax`` (``options``: a WriteOptions for -u, +cl)."""
    from dataclasses import replace
    from ..dcmdata.writer import WriteOptions, encode_file
    opts = replace(options or WriteOptions(), transfer_syntax=transfer_syntax, write_meta=False)
    return b"".join(bytes(c) for c in encode_file(ds, opts))


def decode_identifier(data: bytes, transfer_syntax: str) -> Any:
    """A received identifier as a data set; raises DicomError naming offset and tag."""
    from ..dcmdata.reader import DicomError, ReadOptions, dcmread
    ds = dcmread(bytes(data), ReadOptions(read_mode="dataset", transfer_syntax=transfer_syntax))
    if ds.read_error is not None:
        raise DicomError(str(ds.read_error))
    return ds


def dump_identifier(ds: Any, keyed: set[int] = frozenset(), correct: bool = False,
                    syntax: str | None = None) -> str:
    """The identifier as DCMTK's SCUs log it: a blank line, dcmdump's data set text (long values
    in full) and a blank line. Values show as received (no data correction unless ``correct``),
    their bytes above 0x7F as surrogates (write with ``errors="surrogateescape"``)."""
    from ..dcmdata.dump import Dumper, DumpOptions
    from ..dcmdata.vr import STRING_VRS

    class _Received(Dumper):
        """Received values show as they came, padding included; values set from keys as DCMTK
        holds them in memory, unpadded."""

        def _value_text(self, elem, raw, vr, parent):
            if vr in STRING_VRS and id(elem) in keyed and not correct:
                data = bytes(raw).rstrip(b"\0 ") if vr == "UI" else bytes(raw).rstrip(b" ")
                return self._string_text(data, vr, parent)
            return super()._value_text(elem, raw, vr, parent)

    lines = list(_Received(DumpOptions(print_all=True), correct=correct).file_lines(ds, dataset_only=True))
    if syntax is not None:
        from ..dcmdata.xfer import lookup
        lines[2] = f"# Used TransferSyntax: {lookup(syntax).name}"
    text = "\n".join(lines) + "\n"
    # the values' bytes as they are (DCMTK prints them unconverted): bytes above 0x7F become
    # the surrogates of Python's "surrogateescape" convention
    return text.encode("latin-1", "replace").decode("ascii", "surrogateescape")


# ---------------------------------------------------------------------------------------------
# the services


def _operation(assoc: Association, name: str, sop_class: str, identifier: Any, *,
               priority: int = 0, cancel_after: int | None = None,
               on_cancel: Callable[[int, int], None] | None = None,
               on_request: Callable[[Message], None] | None = None,
               message_id: int | None = None, **fields: Any) -> Iterator[Message]:
    ctx = assoc.context_for(sop_class)
    if ctx is None:
        raise LookupError(f"no accepted presentation context for {sop_class}")
    data = identifier
    if not isinstance(identifier, (bytes, bytearray, memoryview)):
        data = encode_identifier(identifier, ctx.transfer_syntax)
    mid = message_id or assoc.next_message_id()
    msg = Message(name, ctx.id, MessageID=mid, AffectedSOPClassUID=sop_class, Priority=priority,
                  **fields)
    for count, rsp in enumerate(assoc.send_request(msg, data, on_request), 1):
        yield rsp
        if count == cancel_after and rsp.Status in PENDING:
            if on_cancel is not None:
                on_cancel(mid, ctx.id)
            from .scu import c_cancel
            c_cancel(assoc, ctx.id, mid)


def c_find(assoc: Association, identifier: Any, sop_class: str, **options: Any) -> Iterator[Message]:
    """C-FIND: yields every response up to the final one (``cancel_after=n`` sends a C-CANCEL
    after the n-th). ``identifier`` is a data set or bytes already in the context's syntax."""
    return _operation(assoc, "C-FIND-RQ", sop_class, identifier, **options)


def c_move(assoc: Association, identifier: Any, sop_class: str, destination: str,
           **options: Any) -> Iterator[Message]:
    """C-MOVE to the AE ``destination``: yields the responses up to the final one."""
    return _operation(assoc, "C-MOVE-RQ", sop_class, identifier, MoveDestination=destination,
                      **options)


def c_get(assoc: Association, identifier: Any, sop_class: str,
          on_store: Callable[[Message], int], **options: Any) -> Iterator[Message]:
    """C-GET: yields the responses; each C-STORE-RQ arriving meanwhile goes to ``on_store``
    (its data set is what ``assoc.sink_factory`` made of it) and is answered with the status
    it returns."""
    def answer(msg: Message) -> None:
        if msg.name != "C-STORE-RQ":
            assoc.log.warn("unexpected %s during C-GET ignored", msg.name)
            return
        status = on_store(msg)
        assoc.send(Message("C-STORE-RSP", msg.context_id, MessageIDBeingRespondedTo=msg.MessageID,
                           AffectedSOPClassUID=msg.AffectedSOPClassUID,
                           AffectedSOPInstanceUID=msg.AffectedSOPInstanceUID, Status=status))
    return _operation(assoc, "C-GET-RQ", sop_class, identifier, on_request=answer, **options)


# ---------------------------------------------------------------------------------------------
# DCMTK's findscu, movescu and getscu


@dataclass
class QueryOptions:
    """What findscu, movescu and getscu share."""
    model: str = "study"                  # -W worklist, -P patient, -S study, -O psonly
    calling_ae: str = "FINDSCU"
    called_ae: str = "ANY-SCP"
    transfer_syntaxes: list[str] = field(default_factory=lambda: list(UNCOMPRESSED))
    max_pdu: int = 16384
    timeouts: Timeouts = field(default_factory=Timeouts)
    repeat: int = 1
    abort: bool = False
    cancel_after: int | None = None
    write_options: Any = None             # WriteOptions for encoding identifiers (-u, +cl)
    correct: bool = False                 # +dc: log values as DCMTK's data correction shows them


@dataclass
class FindOptions(QueryOptions):
    extract: str | None = None            # 'dicom' (-X) or 'xml' (-Xx): one file per response
    extract_single: str | None = None     # -Xs: all responses into one XML file
    extract_limit: int | None = None      # -Xlo
    output_dir: str = "."


@dataclass
class MoveOptions(QueryOptions):
    calling_ae: str = "MOVESCU"
    model: str = "patient"
    destination: str = "MOVESCU"          # -aem
    port: int | None = None               # +P: our storage SCP for the sub-operations
    accept_syntaxes: list[str] = field(default_factory=lambda: list(UNCOMPRESSED))   # +x?
    store: StoreOptions = field(default_factory=StoreOptions)


@dataclass
class GetOptions(QueryOptions):
    calling_ae: str = "GETSCU"
    model: str = "patient"
    storage_syntaxes: list[str] = field(default_factory=lambda: list(UNCOMPRESSED))  # +x?
    store: StoreOptions = field(default_factory=StoreOptions)


class Failed(Exception):
    """Ends a run with an exit code (the reason is logged already)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def failure_text(exc: BaseException) -> str:
    """DCMTK's wording of an association that broke during an operation."""
    if isinstance(exc, (AssociationAborted, ConnectionLost)):
        return "0006:0317 Peer aborted Association (or never connected)"
    if isinstance(exc, NetworkTimeout):
        return "0006:0207 DIMSE No data available (timeout in non-blocking mode)"
    return str(exc)


class _QRSCU:
    """Association handling and the run loop the three SCUs share."""

    service = ""
    # exit codes: association failed, no presentation context, association broken off
    exit_codes = {"associate": 1, "context": 1, "aborted": 1}

    def __init__(self, host: str, port: int, options: QueryOptions, log: Any = NULL) -> None:
        self.host, self.port, self.opts, self.log = host, port, options, log
        self.assoc: Association | None = None
        self.code = 0

    def contexts(self) -> list:
        raise NotImplementedError

    def roles(self) -> list:
        return []

    def run(self, queries: list[Query]) -> int:
        """Associate, run every query ``repeat`` times, release; DCMTK's exit code."""
        from .scu import associate
        opts = self.opts
        self.log.info("Requesting Association")
        try:
            self.assoc = associate(self.host, self.port, self.contexts(), calling_ae=opts.calling_ae,
                                   called_ae=opts.called_ae, max_pdu=opts.max_pdu,
                                   timeouts=opts.timeouts, log=self.log, roles=self.roles())
        except (AssociationError, OSError) as exc:
            self.association_failed(exc)
            return self.exit_codes["associate"]
        try:
            return self._run(queries)
        finally:
            self.assoc.close()

    def _run(self, queries: list[Query]) -> int:
        assoc = self.assoc
        if not self.usable(assoc):
            return self.exit_codes["context"]
        self.log.info("Association Accepted (Max Send PDV: %d)", assoc.max_send_pdv)
        try:
            self.started()
            for query in queries:
                for _ in range(self.opts.repeat):
                    self.perform(query)
            self.finished()
        except Failed as exc:
            return exc.code
        except (AssociationError, OSError) as exc:
            self.operation_failed(exc)
            if isinstance(exc, (AssociationAborted, ConnectionLost)) and self.service != "Get":
                self.log.info("Peer Aborted Association")
            return self.exit_codes["aborted"]
        try:
            if self.opts.abort:
                self.log.info("Aborting Association")
                assoc.abort()
            else:
                self.log.info("Releasing Association")
                assoc.release()
        except (AssociationError, OSError) as exc:
            self.log.fatal("Association Release Failed: %s", failure_text(exc))
            return 67
        return self.code

    def usable(self, assoc: Association) -> bool:
        if assoc.contexts:
            return True
        self.log.error("No Acceptable Presentation Contexts")
        assoc.abort()
        return False

    def association_failed(self, exc: BaseException) -> None:
        self.log.error("%s", describe_failure(exc, self.host))

    def operation_failed(self, exc: BaseException) -> None:
        self.log.error("%s SCU Failed: %s", self.service, failure_text(exc))

    def started(self) -> None:
        pass

    def finished(self) -> None:
        pass

    def perform(self, query: Query) -> None:
        raise NotImplementedError

    def sop_class(self, index: int) -> str:
        return MODELS[self.opts.model][index]

    def log_request(self, name: str, mid: int, query: Query) -> None:
        if self.log.enabled(DEBUG):
            self.log.info("Sending %s Request", name)
        else:
            self.log.info("Sending %s Request (MsgID %d)", name, mid)
        self.log.info("Request Identifiers:\n%s", dump_identifier(
            query.dataset, query.keyed, self.opts.correct, query.sent_syntax))

    def identifier(self, query: Query, index: int) -> bytes:
        ctx = self.assoc.context_for(self.sop_class(index))
        data = encode_identifier(query.dataset, ctx.transfer_syntax, self.opts.write_options)
        query.keyed, query.sent_syntax = set(), ctx.transfer_syntax
        return data


class FindSCU(_QRSCU):
    """findscu as a library class; ``run(queries)`` returns DCMTK's exit code (2 when the
    association fails)."""

    service = "Find"
    exit_codes = {"associate": 2, "context": 2, "aborted": 2}

    def __init__(self, host: str, port: int, options: FindOptions | None = None, log: Any = NULL,
                 responses: Any = None) -> None:
        super().__init__(host, port, options or FindOptions(), log)
        self.responses = responses        # where DCMTK's response logger writes (None: nowhere)
        self.count = 0                    # responses so far (DCMTK numbers files by it)
        self.written = 0
        self._xml: list[bytes] = []

    def contexts(self) -> list:
        return [(self.sop_class(0), self.opts.transfer_syntaxes)]

    def started(self) -> None:
        if self.opts.extract_single:
            self.log.info("Writing all response datasets to file: %s", self.opts.extract_single)

    def finished(self) -> None:
        path = self.opts.extract_single
        if path:
            head = b'<?xml version="1.0" encoding="UTF-8"?>\n<responses type="C-FIND">\n'
            try:
                _write_atomic(path, head + b"".join(self._xml) + b"</responses>\n")
            except OSError as exc:
                self.log.error("cannot write response file %s: %s", path, exc.strerror or exc)
                raise Failed(1) from None

    def perform(self, query: Query) -> None:
        assoc = self.assoc
        mid = assoc.next_message_id()
        self.log_request("Find", mid, query)
        for rsp in c_find(assoc, self.identifier(query, 0), self.sop_class(0), message_id=mid,
                          cancel_after=self.opts.cancel_after, on_cancel=self._cancelled):
            self.count += 1
            if rsp.Status in PENDING:
                self._pending(rsp)
            elif self.log.enabled(DEBUG):
                self.log.info("Received Final Find Response")
            else:
                self.log.info("Received Final Find Response (%s)", status_text(rsp.Status, "C-FIND"))

    def _cancelled(self, mid: int, cid: int) -> None:
        self.log.info("Sending Cancel Request (MsgID %d, PresID %d)", mid, cid)

    def _pending(self, rsp: Message) -> None:
        n = self.count
        ds = self.response_dataset(rsp, n)
        text = status_text(rsp.Status, "C-FIND")
        if self.log.enabled(DEBUG):
            self.log.info("Received Find Response %d", n)
            if ds is not None:
                self.log.debug("Response Identifiers:\n%s", dump_identifier(ds, correct=self.opts.correct))
        elif self.responses is not None and ds is not None:
            self.responses.info("---------------------------\nFind Response: %d (%s)\n%s", n, text,
                                dump_identifier(ds, correct=self.opts.correct))
        else:
            self.log.info("Received Find Response %d (%s)", n, text)
        if ds is not None:
            self._extract(ds, n)

    def response_dataset(self, rsp: Message, number: int) -> Any:
        """The identifier of a response (None without one, or if it cannot be read)."""
        if rsp.dataset is None:
            return None
        from ..dcmdata.reader import DicomError
        ts = self.assoc.contexts[rsp.context_id].transfer_syntax
        try:
            return decode_identifier(rsp.dataset, ts)
        except DicomError as exc:
            self.log.error("%s Response %d: cannot read identifier: %s", self.service, number, exc)
            self.code = 2
            return None

    def _extract(self, ds: Any, n: int) -> None:
        opts = self.opts
        if not (opts.extract or opts.extract_single):
            return
        if opts.extract_limit is not None and self.written >= opts.extract_limit:
            if self.written == opts.extract_limit:
                self.log.info("Maximum number of responses already written to file ... not "
                              "writing this and all following responses to file")
                self.written += 1
            return
        self.written += 1
        if opts.extract_single:
            self._xml.append(_xml_dataset(self._in_utf8(ds, n))[1])
            return
        name = f"rsp{n:04d}.{'xml' if opts.extract == 'xml' else 'dcm'}"
        path = name if opts.output_dir in ("", ".") else os.path.join(opts.output_dir, name)
        self.log.info("Writing response dataset to file: %s", path)
        try:
            if opts.extract == "xml":
                head, body = _xml_dataset(ds)
                _write_atomic(path, head + body)
            else:
                _write_response_file(path, ds)
        except OSError as exc:
            self.log.error("cannot write response file %s: %s", path, exc.strerror or exc)
            raise Failed(1) from None

    def _in_utf8(self, ds: Any, n: int) -> Any:
        """-Xs: DCMTK converts each response with a Specific Character Set to UTF-8 first."""
        from ..dcmdata.charconv import CharsetConversionError, convert_to_utf8
        if ds.get(0x00080005) is not None:
            try:
                convert_to_utf8(ds)
            except CharsetConversionError as exc:
                self.log.warn("Find Response %d: cannot convert to UTF-8: %s", n, exc)
        return ds


def _xml_dataset(ds: Any) -> tuple[bytes, bytes]:
    """(XML declaration, ``<data-set>`` element) of ``ds`` in DCMTK's format, encoded as the
    declaration says (every encoding used is ASCII-compatible)."""
    from ..dcmdata.xmlmodel import to_xml
    text = to_xml(ds)
    head = text[:text.index(b"<file-format")] if ds.get(0x00080005) is not None else \
        b'<?xml version="1.0"?>\n'        # findscu declares no encoding then (dcm2xml: UTF-8)
    body = text[text.index(b"<data-set "):text.index(b"</data-set>") + len(b"</data-set>\n")]
    return head, body


def _write_response_file(path: str, ds: Any) -> None:
    """A response as DCMTK's findscu -X writes it: a file in the transfer syntax it came in,
    sequences and items with undefined length (DCMTK's default when saving a file)."""
    from ..dcmdata.dataset import Dataset
    from ..dcmdata.uid import generate_uid
    from ..dcmdata.writer import WriteOptions, dcmwrite
    meta = Dataset()
    meta.add_new(0x00020002, "UI", RESPONSE_FILE_SOP_CLASS)
    meta.add_new(0x00020003, "UI", generate_uid())
    ds.file_meta = meta
    dcmwrite(path, ds, WriteOptions(explicit_lengths=False))


def _write_atomic(path: str, data: bytes) -> None:
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dcmpy-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class MoveSCU(_QRSCU):
    """movescu as a library class, with its own storage SCP on ``options.port`` (+P)."""

    service = "Move"
    exit_codes = {"associate": 61, "context": 66, "aborted": 70}

    def __init__(self, host: str, port: int, options: MoveOptions | None = None, log: Any = NULL,
                 progress: TextIO | None = None) -> None:
        super().__init__(host, port, options or MoveOptions(), log)
        self.progress = progress
        self.scp: Any = None

    def contexts(self) -> list:
        ts = self.opts.transfer_syntaxes
        return [(self.sop_class(0), ts), (self.sop_class(1), ts)]

    def run(self, queries: list[Query]) -> int:
        if self.opts.port is not None:
            try:
                self.scp = _storage_scp(self.opts, self.log, self.progress)
                self.scp.bind(self.opts.port)
            except OSError as exc:
                self.log.fatal("cannot create network: 0006:031c TCP Initialization Error: %s",
                               os.strerror(exc.errno) if exc.errno else exc)
                return 60
            import threading
            threading.Thread(target=self.scp.serve, name="movescu-scp", daemon=True).start()
        try:
            return super().run(queries)
        finally:
            if self.scp is not None:
                self.scp.shutdown()

    def usable(self, assoc: Association) -> bool:
        if assoc.context_for(self.sop_class(1)) is not None:
            return True
        self.log.fatal("No Acceptable Presentation Contexts")
        assoc.abort()
        return False

    def association_failed(self, exc: BaseException) -> None:
        self.log.fatal("%s", describe_failure(exc, self.host).replace("Failed: ", "Failed:\n", 1))

    def operation_failed(self, exc: BaseException) -> None:
        self.log.error("Move Request Failed: %s", failure_text(exc))

    def perform(self, query: Query) -> None:
        mid = self.assoc.next_message_id()
        self.log_request("Move", mid, query)
        count = 0
        for rsp in c_move(self.assoc, self.identifier(query, 1), self.sop_class(1),
                          self.opts.destination, message_id=mid, cancel_after=self.opts.cancel_after,
                          on_cancel=self._cancelled):
            count += 1
            text = status_text(rsp.Status, "C-MOVE")
            if rsp.Status in PENDING:
                self.log.info("Received Move Response %d (%s)", count, text)
                continue
            kind = category(rsp.Status)
            if rsp.Status == 0xB000:
                self.log.warn("Move response with warning status (%s)", text)
                self.code = max(self.code, 68)
            elif kind not in ("Success", "Cancel"):
                self.log.warn("Move response with error status (%s)", text)
                self.code = 69
            self.log.info("Received Final Move Response (%s)", text)

    def _cancelled(self, mid: int, cid: int) -> None:
        self.log.info("Sending Cancel Request (MsgID %d, PresID %d)", mid, cid)


def _storage_scp(opts: MoveOptions, log: Any, progress: TextIO | None) -> Any:
    """movescu's storage SCP: every storage SOP class and Verification, +x? syntaxes."""
    from .negotiation import VERIFICATION
    from .scp import AE
    from .storage import modality_prefix, storage_sop_classes
    store = RetrieveStore(opts.store, log, progress)
    ae = AE(opts.calling_ae, max_pdu=opts.max_pdu, timeouts=opts.timeouts, log=log)
    for sop in [VERIFICATION, *storage_sop_classes()]:
        ae.policy.add(sop, list(opts.accept_syntaxes))
    ae.on("C-ECHO", lambda req: 0x0000)
    def sink(msg: Message, assoc: Association) -> Any:
        log.info("Received Store Request (MsgID %d, %s)", msg.MessageID,
                 modality_prefix(msg.AffectedSOPClassUID))
        return store.sink(msg, assoc.contexts[msg.context_id].transfer_syntax, assoc.rq.calling_ae)

    ae.on("C-STORE", lambda req: store.store(req.message), sink=sink)
    ae.hook("received", lambda rq: log.info("Sub-Association Received"))
    ae.hook("accepted", lambda assoc: log.info("Sub-Association Acknowledged (Max Send PDV: %d)",
                                                assoc.max_send_pdv))
    ae.hook("failed", lambda exc: log.error("Receiving Sub-Association failed: %s", exc))
    ae.hook("aborted", lambda assoc, exc: log.error("Sub-Association ended: %s", failure_text(exc)))
    return ae


class GetSCU(_QRSCU):
    """getscu as a library class: C-GET with the storage SOP classes proposed in the SCP role,
    objects stored into ``options.store.output_dir`` from the same association."""

    service = "Get"

    def __init__(self, host: str, port: int, options: GetOptions | None = None, log: Any = NULL) -> None:
        super().__init__(host, port, options or GetOptions(), log)
        self.store = RetrieveStore(self.opts.store, log)

    def contexts(self) -> list:
        return [(self.sop_class(2), self.opts.transfer_syntaxes)] + \
            [(sop, self.opts.storage_syntaxes) for sop in GETSCU_STORAGE_CLASSES]

    def roles(self) -> list:
        from .pdu import RoleSelection
        return [RoleSelection(sop, False, True) for sop in GETSCU_STORAGE_CLASSES]

    def usable(self, assoc: Association) -> bool:
        if assoc.context_for(self.sop_class(2)) is not None:
            assoc.sink_factory = self._sink
            return True
        self.log.fatal("No adequate Presentation Contexts for sending C-GET")
        assoc.abort()
        return False

    def association_failed(self, exc: BaseException) -> None:
        from .association import AssociationRejected
        text = describe_failure(exc, self.host).split(": ", 1)[-1]
        if isinstance(exc, AssociationRejected):
            text = "DUL Association Rejected"
        elif text.startswith("0006:"):
            text = text.split(" ", 1)[1]
        self.log.fatal("Could not negotiate association: %s", text)

    def operation_failed(self, exc: BaseException) -> None:
        self.log.error("Failed receiving DIMSE command: %s", failure_text(exc))

    def _sink(self, msg: Message) -> Any:
        if msg.name != "C-STORE-RQ":
            from .dimse import BytesSink
            return BytesSink()
        ctx = self.assoc.contexts[msg.context_id]
        return self.store.sink(msg, ctx.transfer_syntax, self.assoc.rq.called_ae)

    def _on_store(self, msg: Message) -> int:
        self.log.info("Received C-STORE Request (MsgID %d)", msg.MessageID)
        status = self.store.store(msg)
        from .status import dcmtk_text
        self.log.info("Sending C-STORE Response (%s)", dcmtk_text(status, "C-STORE"))
        return status

    def perform(self, query: Query) -> None:
        mid = self.assoc.next_message_id()
        self.log.info("Sending C-GET Request (MsgID %d)", mid)
        last = None
        for rsp in c_get(self.assoc, self.identifier(query, 2), self.sop_class(2), self._on_store,
                         message_id=mid, cancel_after=self.opts.cancel_after):
            last = rsp
            self.log.info("Received C-GET Response (%s)", status_text(rsp.Status, "C-GET"))
        kind = category(last.Status)
        if kind in ("Failure", "Cancel"):
            self.log.error("DIMSE status is: %s", status_text(last.Status, "C-GET"))
        elif kind == "Warning":
            self.log.warn("DIMSE status is: %s", status_text(last.Status, "C-GET"))
        counts = [(label, getattr(last, f"NumberOf{label}Suboperations") or 0)
                  for label in ("Remaining", "Completed", "Failed", "Warning")]
        self.log.info("Final status report from last C-GET message:\n%s",
                      "\n".join(f"  Number of {label + ' Suboperations':24s}: {n}" for label, n in counts))


# the storage SOP classes DCMTK 3.6.7's getscu proposes in the SCP role, in its order
# (read from its -d log; 1.2.840.10008.5.1.4.1.1. omitted where a value does not start with '=')
_GETSCU_SUFFIXES = (
    '9.1.3', '9.5.1', '78.2', '131', '88.11', '9.4.1', '11.4', '13.1.3', '9.3.1', '88.65',
    '88.69', '11.2', '88.34', '88.33', '1', '2', '66.3', '1.3', '1.3.1', '1.2', '1.2.1', '1.1',
    '1.1.1', '104.2', '104.1', '2.1', '4.3', '4.1', '130', '88.22', '6.2', '12.1.1', '12.2.1',
    '9.4.2', '9.1.2', '11.1', '9.2.1', '88.70', '78.8', '14.1', '14.2', '78.3', '88.59', '2.2',
    '4.4', '128.1', '78.1', '79.1', '88.50', '4', '4.2', '7.2', '7.3', '7.1', '7.4', '20', '78.7',
    '77.1.5.2', '77.1.5.1', '81.1', '77.1.5.4', '80.1', '128', '88.40', '11.3', '66', '67',
    '9.6.1', '=1.2.840.10008.5.1.4.34.7', '481.4', '481.6', '481.2', '481.1', '481.9', '481.8',
    '481.5', '481.3', '481.7', '7', '66.4', '66.2', '66.1', '78.6', '77.1.5.3', '78.4', '68.1',
    '68.2', '66.5', '9.1.1', '6.1', '3.1', '77.1.1.1', '77.1.2.1', '77.1.4.1', '78.5', '77.1.1',
    '77.1.2', '77.1.4', '77.1.3', '77.1.6', '11.5', '13.1.1', '13.1.2', '12.1', '88.67', '12.2',
    '=1.2.840.10008.5.1.1.30', '=1.2.840.10008.5.1.1.29', '5', '9', '10', '8', '129', '11',
    '=1.2.840.10008.5.1.1.27', '6', '3', '77.1', '77.2', '12.3',
)
GETSCU_STORAGE_CLASSES = tuple(s[1:] if s[0] == "=" else "1.2.840.10008.5.1.4.1.1." + s
                               for s in _GETSCU_SUFFIXES)
