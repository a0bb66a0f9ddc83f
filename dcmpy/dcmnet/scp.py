"""The service-class provider side: an application entity that listens, negotiates each
association in a thread of its own, and hands each request to the handler of its service.

    ae = AE("STORESCP")
    ae.policy.add(VERIFICATION, [IMPLICIT_LE])
    ae.on("C-ECHO", lambda req: 0x0000)
    port = ae.start(0)              # a thread; ae.serve(port) blocks instead
    ...
    ae.shutdown()

A handler takes a :class:`Request` and returns a status (int), a :class:`Response`, or an
iterator of them for services with pending responses (C-FIND, C-GET, C-MOVE): each pending one
is sent as it is produced, and a C-CANCEL-RQ that arrives meanwhile closes the iterator and
ends the operation with status Cancel. ``on(service, handler, sink=factory)`` chooses where the
request's data set goes while it arrives (a C-STORE SCP streams it to a file).
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .association import (AcceptedContext, Association, AssociationError, ConnectionLost,
                          AssociationRejected, Released, Timeouts)
from .dimse import Message, Sink
from .negotiation import RJ_LOCAL_LIMIT, AcceptorPolicy
from .netlog import NULL
from . import pdu as P
from .transport import listen, peer_name, tune

CANCEL = 0xFE00
_PENDING = (0xFF00, 0xFF01)
_EXTRA_REJECTORS = 4       # connections over the limit answered with A-ASSOCIATE-RJ at once


@dataclass
class Response:
    """A response: status, optional data set (a Dataset or bytes already encoded in the
    context's transfer syntax) and extra command fields (ErrorComment, NumberOf...)."""
    status: int
    dataset: Any = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    """What a handler receives."""
    assoc: Association
    message: Message
    context: AcceptedContext

    @property
    def dataset(self) -> Any:
        """The data set as the sink made it (bytes by default)."""
        return self.message.dataset

    @property
    def calling_ae(self) -> str:
        return self.assoc.rq.calling_ae

    @property
    def called_ae(self) -> str:
        return self.assoc.rq.called_ae

    @property
    def peer_address(self) -> str:
        return self.assoc.peer_address


Handler = Callable[[Request], Any]
SinkFor = Callable[[Message, Association], Sink]
Hook = Callable[..., None]


class AE:
    """An SCP application entity: policy, handlers, hooks and the listening loop."""

    def __init__(self, ae_title: str = "ANY-SCP", policy: AcceptorPolicy | None = None, *,
                 max_associations: int | None = None, timeouts: Timeouts | None = None,
                 max_pdu: int = 16384, log: Any = NULL, tls: Any = None) -> None:
        self.tls = tls               # an ssl.SSLContext: every connection is TLS (dcmnet.tls)
        self.policy = policy or AcceptorPolicy(ae_title=ae_title, max_pdu=max_pdu)
        self.policy.ae_title = ae_title
        self.policy.max_pdu = max_pdu
        self.max_associations = max_associations
        self.timeouts = timeouts or Timeouts()
        self.log = log
        self.handlers: dict[str, Handler] = {}
        self.sinks: dict[str, SinkFor] = {}
        self.hooks: dict[str, list[Hook]] = {}
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max_associations) if max_associations else None
        self._rejectors = threading.BoundedSemaphore(_EXTRA_REJECTORS)
        self._active: set[threading.Thread] = set()
        self._lock = threading.Lock()

    # -- configuration ----------------------------------------------------------------------------
    def on(self, service: str, handler: Handler, *, sink: SinkFor | None = None) -> None:
        """Handle ``service`` ('C-ECHO', 'C-STORE', 'C-FIND', 'N-GET', ...)."""
        self.handlers[service] = handler
        if sink is not None:
            self.sinks[service] = sink

    def hook(self, event: str, fn: Hook) -> None:
        """Call ``fn`` on 'received' (the A-ASSOCIATE-RQ), 'received-from' (the A-ASSOCIATE-RQ,
        the peer's address), 'accepted' (assoc), 'rejected' (None,
        the A-ASSOCIATE-RJ), 'failed' (error while negotiating), 'released' (assoc), 'aborted'
        (assoc, error) and 'closed' (assoc)."""
        self.hooks.setdefault(event, []).append(fn)

    def _emit(self, event: str, *args: Any) -> None:
        for fn in self.hooks.get(event, ()):
            fn(*args)

    # -- serving --------------------------------------------------------------------------------------
    def bind(self, port: int, host: str | None = None) -> int:
        """Open the listening socket; returns the port (useful with port 0)."""
        self._sock = listen(port, host)
        return self._sock.getsockname()[1]

    def serve(self, port: int | None = None, host: str | None = None) -> None:
        """Accept associations until :meth:`shutdown` (each one in a thread of its own)."""
        if self._sock is None:
            self.bind(port or 0, host)
        sock = self._sock
        sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                conn, addr = sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                if self._stop.is_set():
                    break
                raise
            self._dispatch(conn)

    def start(self, port: int = 0, host: str | None = None) -> int:
        """Serve in a background thread; returns the port."""
        bound = self.bind(port, host)
        self._thread = threading.Thread(target=self.serve, name="dcmpy-scp", daemon=True)
        self._thread.start()
        return bound

    def shutdown(self, wait: float = 10.0) -> None:
        """Stop accepting, wait for the running associations (up to ``wait`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait)
        if self._sock is not None:
            self._sock.close()
        for thread in list(self._active):
            thread.join(wait)

    @property
    def active_associations(self) -> int:
        return len(self._active)

    def _dispatch(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        tune(conn)
        if self._slots is not None and not self._slots.acquire(blocking=False):
            if not self._rejectors.acquire(blocking=False):
                conn.close()             # far over the limit: not even a rejection
                return
            self._spawn(self._reject_busy, conn)
            return
        self._spawn(self._run, conn)

    def _spawn(self, target: Callable[[socket.socket], None], conn: socket.socket) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, conn), daemon=True)
        with self._lock:
            self._active.add(thread)
        thread.start()

    def _guarded(self, target: Callable[[socket.socket], None], conn: socket.socket) -> None:
        try:
            target(conn)
        finally:
            with self._lock:
                self._active.discard(threading.current_thread())

    def _reject_busy(self, conn: socket.socket) -> None:
        try:
            def busy(rq: P.AssociateRQ) -> P.AssociateRJ:
                return P.AssociateRJ(*RJ_LOCAL_LIMIT)
            self.log.warn("too many associations (%d), rejecting one", self.max_associations)
            conn = self._secure(conn)
            if conn is not None:
                self._associate(conn, busy)
        finally:
            self._rejectors.release()

    def _run(self, conn: socket.socket) -> None:
        try:
            conn = self._secure(conn)
            assoc = self._associate(conn, self.policy.negotiate) if conn is not None else None
            if assoc is not None:
                self._serve_association(assoc)
        finally:
            if self._slots is not None:
                self._slots.release()

    def handle(self, conn: socket.socket) -> None:
        """Run one association on an accepted connection in this thread (e.g. inetd mode)."""
        tune(conn)
        conn = self._secure(conn)
        assoc = self._associate(conn, self.policy.negotiate) if conn is not None else None
        if assoc is not None:
            self._serve_association(assoc)

    def _secure(self, conn: socket.socket) -> socket.socket | None:
        """The connection after the TLS handshake (``self.tls``), None if it failed ('failed'
        hook; a port probe that closes at once is not reported)."""
        if self.tls is None:
            return conn
        from .tls import TLSError, secure_server
        try:
            return secure_server(conn, self.tls, self.timeouts.acse, self.log)
        except TLSError as exc:
            if not exc.probe:
                self._emit("failed", exc)
            return None

    def _associate(self, conn: socket.socket, negotiate: Callable) -> Association | None:
        def decide(rq: P.AssociateRQ) -> P.AssociateAC | P.AssociateRJ:
            self._emit("received", rq)
            self._emit("received-from", rq, peer_name(conn))
            return negotiate(rq)
        try:
            assoc = Association.accept(conn, decide, timeouts=self.timeouts,
                                       max_pdu=self.policy.max_pdu, log=self.log)
        except AssociationRejected as exc:
            self._emit("rejected", None, exc.rj)
            return None
        except ConnectionLost:           # connected and closed without a word: a probe
            conn.close()
            return None
        except (AssociationError, OSError) as exc:
            self._emit("failed", exc)
            conn.close()
            return None
        except Exception:
            conn.close()
            raise
        self._emit("accepted", assoc)
        return assoc

    # -- one association -------------------------------------------------------------------------------
    def _serve_association(self, assoc: Association) -> None:
        assoc.sink_factory = lambda msg: self._sink(msg, assoc)
        try:
            while True:
                try:
                    self._handle(assoc, assoc.receive())
                except Released:
                    self._emit("released", assoc)
                    return
                except (AssociationError, OSError) as exc:
                    self._emit("aborted", assoc, exc)
                    return
                except Exception as exc:       # a handler's bug: log it, abort this one only
                    self.log.error("internal error, aborting association: %s: %s",
                                   type(exc).__name__, exc)
                    assoc.abort()
                    self._emit("aborted", assoc, exc)
                    return
        finally:
            assoc.close()
            self._emit("closed", assoc)

    def _sink(self, msg: Message, assoc: Association) -> Sink:
        factory = self.sinks.get(msg.service)
        if factory is None:
            from .dimse import BytesSink
            return BytesSink()
        return factory(msg, assoc)

    def _handle(self, assoc: Association, msg: Message) -> None:
        if msg.is_response or msg.name == "C-CANCEL-RQ":
            self.log.warn("unexpected %s ignored", msg.name)
            return
        ctx = assoc.contexts[msg.context_id]
        handler = self.handlers.get(msg.service)
        if handler is None:
            self._respond(assoc, msg, Response(0x0211, fields={"ErrorComment": "operation not supported"}))
            return
        try:
            result = handler(Request(assoc, msg, ctx))
        finally:
            cleanup = getattr(msg.dataset, "cleanup", None)
            if cleanup is not None:
                cleanup()
        if isinstance(result, Iterator):
            self._respond_all(assoc, msg, result)
        elif result is not None:
            self._respond(assoc, msg, result)

    def _respond_all(self, assoc: Association, msg: Message, results: Iterator[Any]) -> None:
        """Pending responses as the handler yields them; C-CANCEL ends the operation."""
        final: Any = 0x0000
        for item in results:
            status = item.status if isinstance(item, Response) else (item[0] if isinstance(item, tuple) else item)
            if status not in _PENDING:
                final = item
                break
            if self._cancelled(assoc, msg):
                results.close()
                final = CANCEL
                break
            self._respond(assoc, msg, item)
        self._respond(assoc, msg, final)

    def _cancelled(self, assoc: Association, msg: Message) -> bool:
        if not assoc.transport.data_waiting():
            return False
        incoming = assoc.receive()
        if incoming.name == "C-CANCEL-RQ" and incoming.MessageIDBeingRespondedTo == msg.MessageID:
            return True
        self.log.warn("%s during %s ignored", incoming.name, msg.name)
        return False

    def _respond(self, assoc: Association, msg: Message, result: Any) -> None:
        if isinstance(result, tuple):
            result = Response(*result)
        elif not isinstance(result, Response):
            result = Response(int(result))
        fields = {"MessageIDBeingRespondedTo": msg.MessageID, "Status": result.status}
        if msg.AffectedSOPClassUID is not None:
            fields["AffectedSOPClassUID"] = msg.AffectedSOPClassUID
        if msg.AffectedSOPInstanceUID is not None:
            fields["AffectedSOPInstanceUID"] = msg.AffectedSOPInstanceUID
        fields.update(result.fields)
        data = result.dataset
        if data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
            data = encode_dataset(data, assoc.contexts[msg.context_id].transfer_syntax)
        assoc.send(Message(msg.service + "-RSP", msg.context_id, **fields), data)


def encode_dataset(ds: Any, transfer_syntax: str) -> bytes:
    """A Dataset encoded as a bare data set in ``transfer_syntax``."""
    from ..dcmdata.writer import WriteOptions, encode_file
    chunks = encode_file(ds, WriteOptions(transfer_syntax=transfer_syntax, write_meta=False))
    return b"".join(bytes(c) for c in chunks)
