"""Associations: the upper-layer state machine driven over a transport, for both the requestor
and the acceptor, plus sending and receiving DIMSE messages on them.

One thread drives one association: reads happen when the protocol expects something, with the
ARTIM timer in Sta2/Sta13, the ACSE timeout while negotiating or releasing and the DIMSE timeout
while waiting for a message. A malformed PDU, a PDV that breaks the rules or a command set that
cannot be understood aborts the association (A-ABORT to the peer) and raises
:class:`ProtocolError`; nothing of the association outlives it.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from . import pdu as P
from .dimse import Assembler, DimseError, Message, SinkFactory, encode_command, summary
from .fsm import PDU_EVENTS, StateMachine
from .netlog import DEBUG, NULL
from .transport import Transport, TransportClosed, TransportTimeout, connect, peer_name

DEFAULT_MAX_PDU = 16384
UNLIMITED_PDU_SEND = 1 << 20     # what we send when the peer sets no limit (max length 0)


@dataclass
class Timeouts:
    """DCMTK's -to, -ts, -ta, -td (seconds, None for unlimited)."""
    connect: float | None = None
    socket: float | None = 60.0
    acse: float | None = 30.0
    dimse: float | None = None


@dataclass
class AcceptedContext:
    id: int
    abstract_syntax: str
    transfer_syntax: str
    scu_role: bool = True     # the requestor acts as SCU
    scp_role: bool = False    # the requestor acts as SCP


class AssociationError(Exception):
    """The association could not be established or ended abnormally."""


class AssociationRejected(AssociationError):
    def __init__(self, rj: P.AssociateRJ) -> None:
        from .negotiation import describe_rejection
        super().__init__("Association Rejected:\n" + describe_rejection(rj))
        self.rj = rj


class AssociationAborted(AssociationError):
    def __init__(self, source: int, reason: int) -> None:
        super().__init__(f"Association Aborted (source {source}, reason {reason})")
        self.source, self.reason = source, reason


class ConnectionLost(AssociationError):
    """The peer closed the connection without releasing or aborting."""


class NetworkTimeout(AssociationError):
    """The peer did not answer in time; the association was aborted."""


class ProtocolError(AssociationError):
    """The peer broke the protocol; the association was aborted."""


class Released(Exception):
    """The peer released the association while we waited for a message."""


def describe_failure(exc: BaseException, host: str) -> str:
    """DCMTK's wording of a failed association request (its ``F:`` line)."""
    if isinstance(exc, AssociationRejected):
        return str(exc)
    if getattr(exc, "tls_condition", False):        # tls.TLSError: DCMTK's dcmtls text
        return "Association Request Failed: " + str(exc)
    if isinstance(exc, ConnectionLost):
        text = str(exc) if str(exc).startswith("0006:") else \
            "0006:0317 Peer aborted Association (or never connected)"
    elif isinstance(exc, socket.gaierror):
        text = f"0006:0320 Attempt to connect to unknown host: {host}"
    elif isinstance(exc, ConnectionRefusedError):
        text = "0006:031c TCP Initialization Error: Connection refused"
    elif isinstance(exc, (TimeoutError, socket.timeout, NetworkTimeout)):
        text = "0006:031c TCP Initialization Error: Operation timed out"
    elif isinstance(exc, OSError):
        text = f"0006:031c TCP Initialization Error: {exc.strerror or exc}"
    else:
        text = str(exc)
    return "Association Request Failed: " + text


class Association:
    """An association, established by :meth:`request` or :meth:`accept`.

    After establishment: ``contexts`` (id -> AcceptedContext), ``peer_max_pdu``, ``rq`` and
    ``ac`` (the negotiation PDUs), ``send(msg)``, ``receive()``, ``release()``, ``abort()``.
    """

    def __enter__(self) -> Association:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None and self.fsm.state == "Sta6":
            self.release()
        else:
            self.abort()

    def __init__(self, requestor: bool, timeouts: Timeouts | None = None,
                 max_pdu: int = DEFAULT_MAX_PDU, log: Any = NULL) -> None:
        self.requestor = requestor
        self.timeouts = timeouts or Timeouts()
        self.max_pdu = max_pdu
        self.log = log
        self.fsm = StateMachine(self, self.timeouts.acse or 30.0)
        self.transport: Transport | None = None
        self.rq: P.AssociateRQ | None = None
        self.ac: P.AssociateAC | None = None
        self.rj: P.AssociateRJ | None = None
        self.contexts: dict[int, AcceptedContext] = {}
        self.peer_max_pdu = 0
        self.peer_address = ""
        self.abort_info: tuple[int, int] | None = None
        self.sink_factory: SinkFactory | None = None
        self._assembler: Assembler | None = None
        self._next_id = 1
        self.tls: Any = None          # an ssl.SSLContext: the requestor secures its connection

    # -- establishment ---------------------------------------------------------------------------
    @classmethod
    def request(cls, host: str, port: int, rq: P.AssociateRQ, *, timeouts: Timeouts | None = None,
                log: Any = NULL, tls: Any = None) -> Association:
        """Connect (over TLS with an ssl.SSLContext ``tls``) and negotiate; raises
        AssociationRejected/-Aborted, ConnectionLost, NetworkTimeout, ProtocolError, or OSError
        when the connection cannot be made (tls.TLSError when the handshake fails)."""
        assoc = cls(True, timeouts, rq.user.max_length or DEFAULT_MAX_PDU, log)
        assoc.rq = rq
        assoc.tls = tls
        if log.enabled(DEBUG):
            from .describe import describe
            log.debug("Request Parameters:\n%s", describe(rq))
        try:
            assoc.fsm.event("Evt1", host, port)
        except OSError:
            assoc.fsm.state = "Sta4"
            assoc.fsm.event("Evt17")
            raise
        try:
            assoc.fsm.event("Evt2")
        except (TransportClosed, TransportTimeout) as exc:   # e.g. a TLS peer refused our certificate
            assoc.close()
            raise ConnectionLost(f"0006:031d TCP I/O Error ({exc or 'timeout'}) occurred in routine: "
                                 "sendAssociationRQTCP") from None
        assoc._await(("Evt3",), assoc.timeouts.acse)
        if log.enabled(DEBUG):
            from .describe import describe
            log.debug("Association Parameters Negotiated:\n%s", describe(rq, assoc.ac))
        return assoc

    @classmethod
    def accept(cls, sock: socket.socket, negotiate: Callable[[P.AssociateRQ], P.AssociateAC | P.AssociateRJ],
               *, timeouts: Timeouts | None = None, max_pdu: int = DEFAULT_MAX_PDU,
               log: Any = NULL) -> Association:
        """Take a new connection through negotiation. Returns the association once established;
        raises AssociationRejected when we rejected it (after the RJ went out and the peer
        closed), or the errors of :meth:`request`."""
        assoc = cls(False, timeouts, max_pdu, log)
        assoc.fsm.event("Evt5", sock)
        assoc._await(("Evt6",), None)
        if assoc.fsm.state == "Sta13":          # refused by the provider (AE-6)
            assoc._close_wait()
            raise AssociationRejected(assoc.rj)
        answer = negotiate(assoc.rq)
        if isinstance(answer, P.AssociateRJ):
            assoc.fsm.event("Evt8", answer)
            assoc._close_wait()
            raise AssociationRejected(answer)
        assoc.fsm.event("Evt7", answer)
        return assoc

    def _set_negotiated(self, rq: P.AssociateRQ, ac: P.AssociateAC) -> None:
        self.ac = ac
        self.peer_max_pdu = (ac.user.max_length if self.requestor else rq.user.max_length) or 0
        roles = {r.sop_class: r for r in ac.user.roles}
        proposed = {pc.id: pc for pc in rq.contexts}
        for pc in ac.contexts:
            prop = proposed.get(pc.id)
            if pc.result != 0 or prop is None:
                continue
            role = roles.get(prop.abstract_syntax)
            scu, scp = (role.scu, role.scp) if role else (True, False)
            self.contexts[pc.id] = AcceptedContext(pc.id, prop.abstract_syntax, pc.transfer_syntax,
                                                   scu, scp)

    @property
    def max_send_pdv(self) -> int:
        """Largest PDV payload we send (DCMTK's 'Max Send PDV': peer max PDU - 12)."""
        return (self.peer_max_pdu or UNLIMITED_PDU_SEND) - 12

    @property
    def established(self) -> bool:
        return self.fsm.state == "Sta6"

    # -- reading PDUs and turning them into events -------------------------------------------------
    def _read_event(self, timeout: float | None) -> tuple[str, Any]:
        """The next event from the wire: (event, PDU or None)."""
        artim = self.fsm.artim_remaining()
        if artim is not None:
            timeout = artim
        limit = self.max_pdu or 0
        try:
            kind, body = self.transport.read_pdu(limit, timeout)
            pdu = P.decode(kind, body)
        except TransportTimeout:
            return ("Evt18" if artim is not None else "timeout"), None
        except TransportClosed:
            return "Evt17", None
        except P.PDUError as exc:
            self.log.error("%s", exc)
            return "Evt19", exc
        return PDU_EVENTS[pdu.type], pdu

    def _await(self, wanted: tuple[str, ...], timeout: float | None) -> Any:
        """Read events until one of ``wanted``; anything else runs its action and raises."""
        while True:
            event, pdu = self._read_event(timeout)
            if event == "timeout":
                self.fsm.event("Evt15")          # our side gives up: A-ABORT
                self._close_wait()
                raise NetworkTimeout("no response from peer within the timeout")
            result = self.fsm.event(event, pdu)
            if event in wanted:
                return result
            self._raise_for(event, pdu)

    def _raise_for(self, event: str, pdu: Any) -> None:
        """After an unwanted event's action ran: abort if the association is still up, wait for
        the close, then raise the matching error."""
        if self.fsm.state not in ("Sta1", "Sta13") and self.fsm.allows("Evt15"):
            self.fsm.event("Evt15")
        if self.fsm.state == "Sta13":
            self._close_wait()
        if event == "Evt4":
            raise AssociationRejected(pdu)
        if event == "Evt16":
            raise AssociationAborted(pdu.source, pdu.reason)
        if event == "Evt17":
            raise ConnectionLost("peer closed the connection")
        if event == "Evt18":
            raise NetworkTimeout("ARTIM timer expired")
        if event == "Evt19":
            raise ProtocolError(str(pdu))
        raise ProtocolError(f"unexpected {P.PDU_NAMES.get(pdu.type, 'PDU') if pdu else event}")

    def _close_wait(self) -> None:
        """Sta13: wait for the peer to close (Evt17, AR-5) or for ARTIM (Evt18, AA-2). What
        arrives meanwhile is dropped unread: in Sta13 the table ignores PDUs (AA-6) or answers
        with one more A-ABORT (AA-7), which the peer already has."""
        if self.fsm.state == "Sta13":
            artim = self.fsm.artim_remaining()
            closed = self.transport.drain(artim if artim is not None else self.fsm.artim_timeout)
            self.fsm.event("Evt17" if closed else "Evt18")
        self._drop()

    def _drop(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if self._assembler is not None:
            self._assembler.discard()

    # -- the state machine's actions (PS3.8 Tables 9-6 to 9-9) ----------------------------------
    def AE_1(self, host: str, port: int) -> None:
        sock = connect(host, port, self.timeouts.connect)
        if self.tls is not None:
            from .tls import secure_client
            sock = secure_client(sock, self.tls, self.timeouts.acse, self.log)
        self.transport = Transport(sock, self.timeouts.socket)
        self.peer_address = peer_name(sock)

    def AE_2(self) -> None:
        self.transport.send(P.encode(self.rq))

    def AE_3(self, ac: P.AssociateAC) -> None:
        self._set_negotiated(self.rq, ac)

    def AE_4(self, rj: P.AssociateRJ) -> None:
        self.rj = rj
        self._drop()

    def AE_5(self, sock: socket.socket) -> None:
        self.transport = Transport(sock, self.timeouts.socket)
        self.peer_address = peer_name(sock)
        self.fsm.start_artim()

    def AE_6(self, rq: P.AssociateRQ) -> str:
        self.fsm.stop_artim()
        self.rq = rq
        if not rq.protocol_version & 1:
            from .negotiation import RJ_PROTOCOL_VERSION
            self.rj = P.AssociateRJ(*RJ_PROTOCOL_VERSION)
            self.transport.send(P.encode(self.rj))
            self.fsm.start_artim()
            return "Sta13"
        return "Sta3"

    def AE_7(self, ac: P.AssociateAC) -> None:
        self._set_negotiated(self.rq, ac)
        self.transport.send(P.encode(ac))

    def AE_8(self, rj: P.AssociateRJ) -> None:
        self.rj = rj
        self.transport.send(P.encode(rj))
        self.fsm.start_artim()

    def DT_1(self, *chunks: bytes | memoryview) -> None:
        self.transport.send(*chunks)

    def DT_2(self, pdu: P.PDataTF) -> P.PDataTF:
        return pdu

    def AR_1(self) -> None:
        self.transport.send(P.encode(P.ReleaseRQ()))

    def AR_2(self, pdu: Any = None) -> None:
        pass

    def AR_3(self, pdu: Any = None) -> None:
        self._drop()

    def AR_4(self) -> None:
        self.transport.send(P.encode(P.ReleaseRP()))
        self.fsm.start_artim()

    def AR_5(self, pdu: Any = None) -> None:
        self.fsm.stop_artim()
        self._drop()

    def AR_6(self, pdu: P.PDataTF) -> P.PDataTF:
        return pdu

    def AR_7(self, *chunks: bytes | memoryview) -> None:
        self.transport.send(*chunks)

    def AR_8(self, pdu: Any = None) -> str:
        return "Sta9" if self.requestor else "Sta10"

    def AR_9(self) -> None:
        self.transport.send(P.encode(P.ReleaseRP()))

    def AR_10(self, pdu: Any = None) -> None:
        pass

    def AA_1(self, pdu: Any = None) -> None:
        self._send_quietly(P.Abort(0, 0))
        self.fsm.start_artim()

    def AA_2(self, pdu: Any = None) -> None:
        self.fsm.stop_artim()
        self._drop()

    def AA_3(self, pdu: P.Abort) -> None:
        self.abort_info = (pdu.source, pdu.reason)
        self._drop()

    def AA_4(self, pdu: Any = None) -> None:
        self._drop()

    def AA_5(self, pdu: Any = None) -> None:
        self.fsm.stop_artim()
        self._drop()

    def AA_6(self, pdu: Any = None) -> None:
        pass

    def AA_7(self, pdu: Any = None) -> None:
        self._send_quietly(P.Abort(2, 0))

    def AA_8(self, pdu: Any = None) -> None:
        # reason: 2 unexpected PDU when a valid one came at the wrong time, 6 invalid parameter
        reason = 6 if isinstance(pdu, (P.PDUError, DimseError)) else 2
        self._send_quietly(P.Abort(2, reason))
        self.fsm.start_artim()

    def _send_quietly(self, pdu: P.PDU) -> None:
        try:
            self.transport.send(P.encode(pdu))
        except (TransportClosed, TransportTimeout):
            pass

    # -- DIMSE -------------------------------------------------------------------------------------
    def next_message_id(self) -> int:
        """A fresh Message ID (1, 2, ... wrapping at 65535)."""
        mid = self._next_id
        self._next_id = mid % 0xFFFF + 1
        return mid

    def send(self, msg: Message, dataset: bytes | memoryview | None = None,
             progress: Callable[[int], None] | None = None) -> None:
        """Send a message on ``msg.context_id``: its command set, then ``dataset`` (already
        encoded in the context's transfer syntax), cut into PDVs that fit the peer's limit."""
        if not self.established:
            raise AssociationError("association is not established")
        if self.log.enabled(DEBUG):
            self.log.debug("%s", summary(msg, False, dataset is not None))
        cid = msg.context_id
        step = self.max_send_pdv
        event = "Evt9"
        command = encode_command(msg, dataset is not None)
        self._send_fragments(cid, command, 1, step, event, None)
        if dataset is not None:
            self._send_fragments(cid, memoryview(dataset).cast("B"), 0, step, event, progress)

    def _send_fragments(self, cid: int, data: Any, command: int, step: int, event: str,
                        progress: Callable[[int], None] | None) -> None:
        size = len(data)
        pos = 0
        while True:
            chunk = data[pos:pos + step]
            pos += len(chunk)
            last = pos >= size
            self.fsm.event(event, P.pdata_header(cid, command | (2 if last else 0), len(chunk)), chunk)
            if progress is not None:
                progress(pos)
            if last:
                return

    def receive(self, timeout: float | None = -1.0) -> Message:
        """The next complete message (data set through ``sink_factory``, bytes by default).

        ``timeout`` defaults to the DIMSE timeout. Raises Released when the peer releases (we
        have answered and the connection is closed), NetworkTimeout, AssociationAborted,
        ConnectionLost or ProtocolError.
        """
        if self.fsm.state not in ("Sta6", "Sta7"):
            raise AssociationAborted(0, 0) if self.abort_info is None else AssociationAborted(*self.abort_info)
        if timeout == -1.0:
            timeout = self.timeouts.dimse
        if self._assembler is None:
            self._assembler = Assembler(self.contexts, self.sink_factory)
        assembler = self._assembler
        assembler.sink_factory = self.sink_factory
        while True:
            event, pdu = self._read_event(None if assembler.busy else timeout)
            if event == "timeout":
                self.fsm.event("Evt15")
                self._close_wait()
                raise NetworkTimeout("no DIMSE message within the timeout")
            if event == "Evt12" and self.fsm.state == "Sta6" and not assembler.busy:
                self.fsm.event("Evt12", pdu)     # AR-2: indication; we answer right away
                self.fsm.event("Evt14")          # AR-4: A-RELEASE-RP, ARTIM
                self._close_wait()
                raise Released()
            result = self.fsm.event(event, pdu)
            if event != "Evt10" or self.fsm.state not in ("Sta6", "Sta7"):
                self._raise_for(event, pdu)
            for cid, control, data in result.pdvs:
                try:
                    msg = assembler.feed(cid, control, data)
                except DimseError as exc:
                    self.log.error("DIMSE: %s", exc)
                    self.fsm.event("Evt15")
                    self._close_wait()
                    raise ProtocolError(str(exc)) from None
                if msg is not None:
                    if self.log.enabled(DEBUG):
                        self.log.debug("%s", summary(msg, True))
                    return msg

    def responses(self, request_id: int, timeout: float | None = -1.0,
                  on_request: Callable[[Message], None] | None = None) -> Iterator[Message]:
        """Responses to request ``request_id`` until the final (non-pending) one. Requests
        that arrive meanwhile (C-STORE on a C-GET association) go to ``on_request``."""
        while True:
            msg = self.receive(timeout)
            if not msg.is_response and on_request is not None:
                on_request(msg)
                continue
            if not msg.is_response or msg.MessageIDBeingRespondedTo != request_id:
                self.log.warn("unexpected %s ignored", msg.name)
                continue
            yield msg
            if msg.Status not in (0xFF00, 0xFF01):
                return

    # the services (implemented in scu.py)
    def send_c_echo(self, message_id: int | None = None) -> Message:
        """C-ECHO; returns the response (``.Status``)."""
        from .scu import c_echo
        return c_echo(self, message_id)

    def send_c_store(self, obj: Any, context_id: int | None = None, **options: Any) -> Message:
        """C-STORE of a file path or :class:`~dcmpy.dcmnet.scu.StoreObject`; returns the response."""
        from .scu import c_store, open_for_store
        if not hasattr(obj, "sop_class"):
            obj = open_for_store(obj)
        if context_id is None:
            ctx = self.context_for(obj.sop_class, obj.transfer_syntax)
            if ctx is None:
                raise LookupError(f"no accepted presentation context for {obj.sop_class}")
            context_id = ctx.id
        return c_store(self, obj, context_id, **options)

    def send_request(self, msg: Message, dataset: Any = None,
                     on_request: Callable[[Message], None] | None = None) -> Iterator[Message]:
        """Any request; yields the responses up to the final one (C-FIND, C-MOVE, C-GET, N-*)."""
        from .scu import request
        return request(self, msg, dataset, on_request)

    def context_for(self, abstract_syntax: str, transfer_syntax: str | None = None,
                    scu: bool = True) -> AcceptedContext | None:
        """An accepted context for the abstract syntax, preferring ``transfer_syntax``."""
        found = None
        for ctx in self.contexts.values():
            if ctx.abstract_syntax != abstract_syntax or (scu and not ctx.scu_role):
                continue
            if transfer_syntax is None or ctx.transfer_syntax == transfer_syntax:
                return ctx
            found = found or ctx
        return found

    # -- ending --------------------------------------------------------------------------------------
    def release(self) -> None:
        """A-RELEASE: request it and wait for the answer (ACSE timeout)."""
        if self.fsm.state != "Sta6":
            return
        self.fsm.event("Evt11")
        while self.fsm.state != "Sta1":
            event, pdu = self._read_event(self.timeouts.acse)
            if event == "timeout":
                self.fsm.event("Evt15")
                self._close_wait()
                raise NetworkTimeout("no A-RELEASE-RP within the timeout")
            if event not in ("Evt10", "Evt12", "Evt13"):
                self.fsm.event(event, pdu)
                self._raise_for(event, pdu)
            self.fsm.event(event, pdu)
            if self.fsm.state in ("Sta9", "Sta12"):   # release collision: answer it
                self.fsm.event("Evt14")
            if self.fsm.state == "Sta13":
                self._close_wait()

    def abort(self) -> None:
        """A-ABORT (service-user); waits briefly for the peer to close."""
        if self.fsm.state in ("Sta1", "Sta13"):
            self._drop()
            return
        if self.fsm.allows("Evt15"):
            self.fsm.event("Evt15")
        self._close_wait()

    def close(self) -> None:
        """Drop the connection whatever the state (used on errors and by servers)."""
        self.fsm.state = "Sta1"
        self.fsm.stop_artim()
        self._drop()
