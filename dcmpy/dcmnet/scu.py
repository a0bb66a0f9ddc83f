"""The service-class user side: open an association, then C-ECHO, C-STORE and the generic
request/response loop that C-FIND, C-MOVE and C-GET build on.

    with associate("pacs", 104, contexts=[(VERIFICATION, [IMPLICIT_LE])]) as assoc:
        status = assoc.send_c_echo()

A data set to store is sent as the bytes of the file it comes from (memory-mapped, cut into
PDVs without copying) whenever the accepted transfer syntax is the file's own.
"""
from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

from . import pdu as P
from .association import Association, Timeouts
from .dimse import Message
from .netlog import NULL
from ..dcmdata.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

ContextSpec = tuple[str, Sequence[str]]


def build_request(calling_ae: str, called_ae: str, contexts: Sequence[ContextSpec | P.PresentationContextRQ],
                  *, max_pdu: int = 16384, roles: Sequence[P.RoleSelection] = (),
                  extended: Sequence[P.ExtendedNegotiation] = (),
                  common_extended: Sequence[P.CommonExtendedNegotiation] = (),
                  user_identity: P.UserIdentity | None = None,
                  async_ops: tuple[int, int] | None = None,
                  implementation_class_uid: str = IMPLEMENTATION_CLASS_UID,
                  implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME) -> P.AssociateRQ:
    """An A-ASSOCIATE-RQ; ``contexts`` as (abstract syntax, transfer syntaxes) pairs get the
    odd ids 1, 3, 5, ... in order."""
    pcs = []
    for n, spec in enumerate(contexts):
        if isinstance(spec, P.PresentationContextRQ):
            pcs.append(spec)
        else:
            pcs.append(P.PresentationContextRQ(2 * n + 1, spec[0], list(spec[1])))
    if len(pcs) > 128:
        raise ValueError(f"{len(pcs)} presentation contexts: at most 128 can be proposed")
    user = P.UserInformation(max_length=max_pdu, implementation_class_uid=implementation_class_uid,
                             implementation_version_name=implementation_version_name,
                             async_ops=async_ops, roles=list(roles), extended=list(extended),
                             common_extended=list(common_extended), user_identity=user_identity)
    return P.AssociateRQ(called_ae, calling_ae, pcs, user)


def associate(host: str, port: int, contexts: Sequence[ContextSpec | P.PresentationContextRQ], *,
              calling_ae: str = "DCMPY", called_ae: str = "ANY-SCP",
              timeouts: Timeouts | None = None, log: Any = NULL, tls: Any = None,
              **request: Any) -> Association:
    """Open an association (see :func:`build_request` for the negotiation options), over TLS
    when ``tls`` is an ssl.SSLContext (see :mod:`dcmpy.dcmnet.tls`)."""
    rq = build_request(calling_ae, called_ae, contexts, **request)
    return Association.request(host, port, rq, timeouts=timeouts, log=log, tls=tls)


# ---------------------------------------------------------------------------------------------
# C-ECHO


def c_echo(assoc: Association, message_id: int | None = None) -> Message:
    """Send a C-ECHO-RQ on an accepted Verification context; returns the response."""
    ctx = assoc.context_for("1.2.840.10008.1.1")
    if ctx is None:
        raise LookupError("no accepted presentation context for the Verification SOP Class")
    mid = message_id or assoc.next_message_id()
    assoc.send(Message("C-ECHO-RQ", ctx.id, MessageID=mid, AffectedSOPClassUID=ctx.abstract_syntax))
    return next(assoc.responses(mid))


# ---------------------------------------------------------------------------------------------
# C-STORE


@dataclass
class StoreObject:
    """What C-STORE needs from an object: its UIDs, transfer syntax and encoded data set."""
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    data: Any                     # bytes-like: the data set in ``transfer_syntax``
    path: str | None = None
    _keep: Any = None             # the mmap behind ``data``

    def close(self) -> None:
        self.data = b""
        if isinstance(self._keep, mmap.mmap):
            try:
                self._keep.close()
            except BufferError:      # a view is still alive somewhere: the GC will do it
                pass
        self._keep = None


class StoreError(Exception):
    """An object cannot be sent as it is (no UIDs, no conversion to the accepted syntax)."""


def open_for_store(path: str | os.PathLike, read_options: Any = None) -> StoreObject:
    """The UIDs and data set bytes of a DICOM file, without parsing more than its head."""
    from ..dcmdata.reader import ReadOptions, dcmread
    from .._ext.scan import C_HDR
    name = os.fspath(path)
    opts = read_options or ReadOptions()
    head = dcmread(name, replace(opts, stop_after=0x00080018))
    sop_class = _uid_of(head, 0x00080016, 0x00020002)
    sop_instance = _uid_of(head, 0x00080018, 0x00020003)
    if not sop_class or not sop_instance:
        raise StoreError("missing SOP class (or instance) UID in file")
    ts_info = head.transfer_syntax
    ts, src = ts_info.uid, head.source
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
    if mm is not None and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_SEQUENTIAL)      # read once, front to back
    if ts_info.deflated or src is None or not len(head):
        start = _dataset_start(head, size)     # the table's offsets are not the file's then
    else:
        start = int(src.rows[0, C_HDR])
    data = memoryview(mm)[start:] if mm is not None else memoryview(b"")
    return StoreObject(sop_class, sop_instance, ts, data, name, mm)


def _dataset_start(head: Any, size: int) -> int:
    """Where the data set begins when the table cannot say (deflated or empty data set)."""
    if not getattr(head, "has_meta", False):
        return 0
    meta = head.file_meta
    length = meta.get(0x00020000)
    if length is not None and isinstance(length.value, int):
        return min(size, 132 + 12 + length.value)
    return size


def _uid_of(ds: Any, tag: int, meta_tag: int) -> str:
    elem = ds.get(tag)
    if elem is None:
        elem = ds.file_meta.get(meta_tag) if hasattr(ds, "file_meta") else None
    value = elem.value if elem is not None else None
    return value.strip("\0 ") if isinstance(value, str) else ""


def convert_for_store(obj: StoreObject, target_ts: str) -> Any:
    """The data set of ``obj`` re-encoded in ``target_ts`` (uncompressed syntaxes only)."""
    from ..dcmdata import xfer
    from ..dcmdata.reader import dcmread
    from ..dcmdata.writer import WriteOptions, encode_file
    src, dst = xfer.lookup(obj.transfer_syntax), xfer.lookup(target_ts)
    if src is None or dst is None or src.encapsulated or dst.encapsulated:
        raise StoreError(f"unable to convert dataset from '{_ts_name(obj.transfer_syntax)}' "
                         f"transfer syntax to '{_ts_name(target_ts)}'")
    ds = dcmread(obj.path)
    chunks = encode_file(ds, WriteOptions(transfer_syntax=target_ts, write_meta=False))
    return b"".join(bytes(c) for c in chunks)


def _ts_name(uid: str) -> str:
    from ..dcmdata.xfer import lookup
    ts = lookup(uid)
    return ts.name if ts else uid


def c_store(assoc: Association, obj: StoreObject, context_id: int, *, message_id: int | None = None,
            priority: int = 0, move_originator: tuple[str, int] | None = None,
            progress: Callable[[int], None] | None = None, data: Any = None) -> Message:
    """Send ``obj`` (or ``data`` already converted for the context) and return the C-STORE-RSP."""
    mid = message_id or assoc.next_message_id()
    fields = dict(MessageID=mid, AffectedSOPClassUID=obj.sop_class, Priority=priority,
                  AffectedSOPInstanceUID=obj.sop_instance)
    if move_originator is not None:
        fields["MoveOriginatorApplicationEntityTitle"] = move_originator[0]
        fields["MoveOriginatorMessageID"] = move_originator[1]
    payload = obj.data if data is None else data
    if len(payload) % 2:             # a deflated stream of odd length gets its pad byte (PS3.5 A.5)
        payload = bytes(payload) + b"\0"
    assoc.send(Message("C-STORE-RQ", context_id, **fields), payload, progress)
    return next(assoc.responses(mid))


# ---------------------------------------------------------------------------------------------
# the generic request loop (C-FIND, C-MOVE, C-GET and the N- services build on it)


def request(assoc: Association, msg: Message, dataset: Any = None,
            on_request: Callable[[Message], None] | None = None) -> Iterator[Message]:
    """Send ``msg`` (a new MessageID is set if it has none) and yield every response until the
    final one; requests arriving meanwhile (C-STORE during C-GET) go to ``on_request``."""
    if msg.MessageID is None:
        msg.fields["MessageID"] = assoc.next_message_id()
    assoc.send(msg, dataset)
    yield from assoc.responses(msg.MessageID, on_request=on_request)


def c_cancel(assoc: Association, context_id: int, message_id: int) -> None:
    """C-CANCEL-RQ for the operation ``message_id`` (its responses keep coming until the final)."""
    assoc.send(Message("C-CANCEL-RQ", context_id, MessageIDBeingRespondedTo=message_id))
