"""TCP transport for associations: sockets tuned for DICOM, and a PDU reader.

Every association socket gets ``TCP_NODELAY`` (without it Nagle and delayed ACKs cap a
request/response protocol at a few dozen messages per second) and large buffers. The reader
takes the 6-byte PDU header, checks the type and length, then reads exactly the body into a
buffer it reuses: a P-DATA-TF body larger than our maximum PDU (plus a little slack for peers
that count differently) or any other PDU larger than ``MAX_ASSOCIATE_PDU`` is refused before a
byte of it is stored.
"""
from __future__ import annotations

import socket
import time

from .pdu import HEADER, P_DATA_TF, PDU_NAMES, PDUError

SOCKET_BUFFER = 4 << 20           # asked of the kernel; it caps at net.core.*mem_max
MAX_ASSOCIATE_PDU = 1 << 20       # A-ASSOCIATE-RQ/AC: 128 contexts + identity fit many times
PDATA_SLACK = 64                  # tolerated excess over our max PDU length
READ_AHEAD = 1 << 18              # the read buffer (it grows only for a larger PDU)


class TransportClosed(Exception):
    """The peer closed the connection (or it broke)."""


class TransportTimeout(Exception):
    """Nothing arrived within the time allowed."""


def tune(sock: socket.socket) -> None:
    """TCP_NODELAY and large send/receive buffers."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        except OSError:
            pass


def connect(host: str, port: int, timeout: float | None = None) -> socket.socket:
    """A tuned TCP connection to ``host`` (name, IPv4 or IPv6 address), trying each address."""
    last: OSError | None = None
    for family, kind, proto, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            tune(sock)
            sock.settimeout(timeout)
            sock.connect(addr)
            sock.settimeout(None)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"cannot resolve {host}")


def listen(port: int, host: str | None = None, backlog: int = 64) -> socket.socket:
    """A listening socket on ``port`` for IPv6 and IPv4 where the system allows (dual stack)."""
    if host is None and socket.has_dualstack_ipv6():
        sock = socket.create_server(("", port), family=socket.AF_INET6, backlog=backlog,
                                    reuse_port=False, dualstack_ipv6=True)
    else:
        sock = socket.create_server((host or "", port), backlog=backlog)
    return sock


def peer_name(sock: socket.socket) -> str:
    """The peer's address as text (IPv4-mapped IPv6 addresses shown as IPv4)."""
    try:
        addr = sock.getpeername()[0]
    except OSError:
        return ""
    return addr[7:] if addr.startswith("::ffff:") else addr


class Transport:
    """One association's connection: timed reads of whole PDUs, gathered writes.

    Reads go through a read-ahead buffer (one system call brings in several PDUs when they
    are there); it grows only to hold a PDU larger than itself, within the limits above.
    """

    __slots__ = ("sock", "socket_timeout", "_buf", "_view", "_start", "_end", "closed", "_gather")

    def __init__(self, sock: socket.socket, socket_timeout: float | None = 60.0) -> None:
        self.sock = sock
        self._gather = type(sock) is socket.socket     # a TLS socket has no sendmsg
        self.socket_timeout = socket_timeout
        self._buf = bytearray(READ_AHEAD)
        self._view = memoryview(self._buf)
        self._start = self._end = 0
        self.closed = False

    # -- reading -------------------------------------------------------------------------------
    def _recv(self, view: memoryview, deadline: float | None) -> int:
        """One read into ``view`` (0: the peer closed), within the socket timeout and
        ``deadline``."""
        timeout = self.socket_timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransportTimeout()
            timeout = left if timeout is None else min(timeout, left)
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv_into(view)
        except (socket.timeout, TimeoutError):
            raise TransportTimeout() from None
        except OSError as exc:
            raise TransportClosed(str(exc)) from None

    def _fill(self, need: int, deadline: float | None) -> bool:
        """At least ``need`` bytes buffered from ``_start``; False if the peer closed first."""
        while self._end - self._start < need:
            if len(self._buf) - self._start < need:      # move the partial PDU to the front
                pending = self._end - self._start
                if need > len(self._buf):
                    grown = bytearray(need)
                    grown[:pending] = self._view[self._start:self._end]
                    self._buf, self._view = grown, memoryview(grown)
                else:
                    self._buf[:pending] = self._buf[self._start:self._end]
                self._start, self._end = 0, pending
            n = self._recv(self._view[self._end:], deadline)
            if n == 0:
                return False
            self._end += n
        return True

    def read_pdu(self, max_pdata: int, timeout: float | None = None) -> tuple[int, memoryview]:
        """(type, body) of the next PDU; the body is valid until the next call.

        Raises TransportTimeout if the PDU has not begun to arrive within ``timeout`` seconds
        (a PDU that started arriving has the socket timeout per read), TransportClosed when the
        peer closes, PDUError for an unknown type or a length we refuse.
        """
        if self._start == self._end:
            self._start = self._end = 0
            deadline = None if timeout is None else time.monotonic() + timeout
            if not self._fill(1, deadline):
                raise TransportClosed("connection closed by peer")
        if not self._fill(6, None):
            raise TransportClosed("connection closed inside a PDU header")
        kind, length = HEADER.unpack_from(self._buf, self._start)
        name = PDU_NAMES.get(kind)
        if name is None:
            raise PDUError(f"unknown PDU type 0x{kind:02X} (offset 0)")
        limit = max_pdata + PDATA_SLACK if kind == P_DATA_TF and max_pdata else MAX_ASSOCIATE_PDU
        if length > limit:
            raise PDUError(f"{name}: length {length} exceeds the maximum {limit} (offset 2)")
        if not self._fill(6 + length, None):
            raise TransportClosed(f"connection closed inside a {name} PDU")
        body = self._view[self._start + 6:self._start + 6 + length]
        self._start += 6 + length
        return kind, body

    def drain(self, timeout: float | None) -> bool:
        """Finish sending (FIN), then read and drop whatever comes until the peer closes (True)
        or ``timeout`` expires (False). Sta13: the association is over, its bytes mean nothing."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        scratch = self._view[:65536]
        while True:
            try:
                if self._recv(scratch, deadline) == 0:
                    return True
            except TransportTimeout:
                return False
            except TransportClosed:
                return True

    def data_waiting(self) -> bool:
        """True if bytes (or a close) are waiting to be read, without blocking."""
        if self._end > self._start:
            return True
        pending = getattr(self.sock, "pending", None)     # TLS: decrypted bytes in OpenSSL
        if pending is not None and pending():
            return True
        import select
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    # -- writing -------------------------------------------------------------------------------
    def send(self, *chunks: bytes | memoryview) -> None:
        """Send the chunks in order (one system call where possible, no joining copy)."""
        sock = self.sock
        sock.settimeout(self.socket_timeout)
        try:
            if len(chunks) == 1 or not self._gather:
                sock.sendall(chunks[0] if len(chunks) == 1 else b"".join(chunks))
                return
            sent = sock.sendmsg(chunks)
            for chunk in chunks:            # after a partial write, the rest one by one
                if sent >= len(chunk):
                    sent -= len(chunk)
                    continue
                sock.sendall(memoryview(chunk)[sent:])
                sent = 0
        except (socket.timeout, TimeoutError):
            raise TransportTimeout() from None
        except OSError as exc:
            raise TransportClosed(str(exc)) from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        unwrap = getattr(self.sock, "unwrap", None)
        if unwrap is not None:                            # TLS: send close_notify, do not wait
            try:
                self.sock.settimeout(0)
                unwrap()
            except (OSError, ValueError):
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
