"""Upper-layer PDUs and their items (PS3.8 section 9.3), encoded and decoded.

Every length read from the wire is checked against the bytes that are there before it is used;
a bad PDU raises :class:`PDUError` naming the PDU, the item and the offset (from the start of the
PDU, header included). Decoding never allocates more than the PDU it was given.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = range(1, 8)
PDU_NAMES = {ASSOCIATE_RQ: "A-ASSOCIATE-RQ", ASSOCIATE_AC: "A-ASSOCIATE-AC",
             ASSOCIATE_RJ: "A-ASSOCIATE-RJ", P_DATA_TF: "P-DATA-TF", RELEASE_RQ: "A-RELEASE-RQ",
             RELEASE_RP: "A-RELEASE-RP", ABORT: "A-ABORT"}

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
# presentation context results (PS3.8 9.3.3.2)
ACCEPTANCE, USER_REJECTION, NO_REASON, ABSTRACT_SYNTAX_NOT_SUPPORTED, \
    TRANSFER_SYNTAXES_NOT_SUPPORTED = range(5)
RESULT_TEXT = {0: "Accepted", 1: "User Rejection", 2: "Provider Rejection",
               3: "Abstract Syntax Not Supported", 4: "Transfer Syntaxes Not Supported"}

_HEAD = struct.Struct(">BxI")
_ITEM = struct.Struct(">BxH")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class PDUError(Exception):
    """A PDU that cannot be decoded: says which PDU, which item and where."""


# ---------------------------------------------------------------------------------------------
# Items


@dataclass
class PresentationContextRQ:
    id: int
    abstract_syntax: str
    transfer_syntaxes: list[str]


@dataclass
class PresentationContextAC:
    id: int
    result: int
    transfer_syntax: str = ""


@dataclass
class RoleSelection:
    sop_class: str
    scu: bool
    scp: bool


@dataclass
class ExtendedNegotiation:
    sop_class: str
    info: bytes


@dataclass
class CommonExtendedNegotiation:
    sop_class: str
    service_class: str
    related: list[str] = field(default_factory=list)


@dataclass
class UserIdentity:
    """User Identity negotiation (PS3.7 D.3.3.7): 1 user name, 2 user name + passcode,
    3 Kerberos, 4 SAML, 5 JWT."""
    type: int
    primary: bytes
    secondary: bytes = b""
    positive_response_requested: bool = False


@dataclass
class UserInformation:
    max_length: int | None = 16384
    implementation_class_uid: str = ""
    implementation_version_name: str | None = None
    async_ops: tuple[int, int] | None = None
    roles: list[RoleSelection] = field(default_factory=list)
    extended: list[ExtendedNegotiation] = field(default_factory=list)
    common_extended: list[CommonExtendedNegotiation] = field(default_factory=list)
    user_identity: UserIdentity | None = None
    user_identity_response: bytes | None = None
    unknown: list[tuple[int, bytes]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# PDUs


@dataclass
class AssociateRQ:
    called_ae: str
    calling_ae: str
    contexts: list[PresentationContextRQ]
    user: UserInformation = field(default_factory=UserInformation)
    application_context: str = APPLICATION_CONTEXT
    protocol_version: int = 1
    type = ASSOCIATE_RQ


@dataclass
class AssociateAC:
    called_ae: str
    calling_ae: str
    contexts: list[PresentationContextAC]
    user: UserInformation = field(default_factory=UserInformation)
    application_context: str = APPLICATION_CONTEXT
    protocol_version: int = 1
    type = ASSOCIATE_AC


@dataclass
class AssociateRJ:
    result: int      # 1 permanent, 2 transient
    source: int      # 1 service-user, 2 provider (ACSE), 3 provider (presentation)
    reason: int
    type = ASSOCIATE_RJ


@dataclass
class PDataTF:
    """P-DATA-TF: PDVs as (context id, message control header, data); the data are views of
    the received buffer, valid until the next PDU is read."""
    pdvs: list[tuple[int, int, memoryview | bytes]]
    type = P_DATA_TF


@dataclass
class ReleaseRQ:
    type = RELEASE_RQ


@dataclass
class ReleaseRP:
    type = RELEASE_RP


@dataclass
class Abort:
    source: int = 0   # 0 service-user, 2 service-provider
    reason: int = 0
    type = ABORT


PDU = AssociateRQ | AssociateAC | AssociateRJ | PDataTF | ReleaseRQ | ReleaseRP | Abort

# ---------------------------------------------------------------------------------------------
# Encoding


def _item(kind: int, payload: bytes) -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError(f"item 0x{kind:02X} too long ({len(payload)} bytes)")
    return _ITEM.pack(kind, len(payload)) + payload


def _uid(uid: str) -> bytes:
    return uid.encode("ascii")


def _ae(title: str) -> bytes:
    raw = title.encode("ascii")
    if len(raw) > 16:
        raise ValueError(f"AE title longer than 16 characters: {title!r}")
    return raw.ljust(16, b" ")


def _with_length(data: bytes) -> bytes:
    return _U16.pack(len(data)) + data


def _encode_user(user: UserInformation, accept: bool) -> bytes:
    """Sub-items in the order DCMTK and pynetdicom write them: 51, 52, 55, 53, 54, 56, 57, 58/59."""
    out = []
    if user.max_length is not None:
        out.append(_item(0x51, _U32.pack(user.max_length)))
    out.append(_item(0x52, _uid(user.implementation_class_uid)))
    if user.implementation_version_name:
        out.append(_item(0x55, user.implementation_version_name.encode("ascii")))
    if user.async_ops is not None:
        out.append(_item(0x53, struct.pack(">HH", *user.async_ops)))
    for role in user.roles:
        out.append(_item(0x54, _with_length(_uid(role.sop_class)) + bytes([role.scu, role.scp])))
    for ext in user.extended:
        out.append(_item(0x56, _with_length(_uid(ext.sop_class)) + ext.info))
    if not accept:
        for common in user.common_extended:
            related = b"".join(_with_length(_uid(u)) for u in common.related)
            out.append(_item(0x57, _with_length(_uid(common.sop_class))
                             + _with_length(_uid(common.service_class)) + _with_length(related)))
        ident = user.user_identity
        if ident is not None:
            out.append(_item(0x58, bytes([ident.type, ident.positive_response_requested])
                             + _with_length(ident.primary) + _with_length(ident.secondary)))
    elif user.user_identity_response is not None:
        out.append(_item(0x59, _with_length(user.user_identity_response)))
    for kind, payload in user.unknown:
        out.append(_item(kind, payload))
    return _item(0x50, b"".join(out))


def _associate(pdu: AssociateRQ | AssociateAC) -> bytes:
    accept = isinstance(pdu, AssociateAC)
    parts = [_U16.pack(pdu.protocol_version), b"\0\0", _ae(pdu.called_ae), _ae(pdu.calling_ae),
             bytes(32), _item(0x10, _uid(pdu.application_context))]
    for pc in pdu.contexts:
        if accept:
            body = bytes([pc.id, 0, pc.result, 0]) + _item(0x40, _uid(pc.transfer_syntax))
            parts.append(_item(0x21, body))
        else:
            body = bytes([pc.id, 0, 0, 0]) + _item(0x30, _uid(pc.abstract_syntax))
            body += b"".join(_item(0x40, _uid(ts)) for ts in pc.transfer_syntaxes)
            parts.append(_item(0x20, body))
    parts.append(_encode_user(pdu.user, accept))
    return b"".join(parts)


def encode(pdu: PDU) -> bytes:
    """The bytes of a whole PDU, header included (P-DATA-TF: see :func:`pdata_header`)."""
    if isinstance(pdu, (AssociateRQ, AssociateAC)):
        body = _associate(pdu)
    elif isinstance(pdu, AssociateRJ):
        body = bytes([0, pdu.result, pdu.source, pdu.reason])
    elif isinstance(pdu, PDataTF):
        body = b"".join(_U32.pack(len(d) + 2) + bytes([cid, mch]) + bytes(d)
                        for cid, mch, d in pdu.pdvs)
    elif isinstance(pdu, Abort):
        body = bytes([0, 0, pdu.source, pdu.reason])
    else:
        body = bytes(4)
    return _HEAD.pack(pdu.type, len(body)) + body


_PDATA_HEAD = struct.Struct(">BxIIBB")


def pdata_header(context_id: int, control: int, size: int) -> bytes:
    """PDU header + PDV header of a P-DATA-TF carrying one PDV of ``size`` data bytes."""
    return _PDATA_HEAD.pack(P_DATA_TF, size + 6, size + 2, context_id, control)


# ---------------------------------------------------------------------------------------------
# Decoding


class _Reader:
    """A cursor over one PDU body; offsets in errors count from the PDU's first byte."""

    __slots__ = ("buf", "pos", "end", "what")

    def __init__(self, buf: memoryview, pos: int, end: int, what: str) -> None:
        self.buf, self.pos, self.end, self.what = buf, pos, end, what

    def fail(self, message: str, at: int | None = None) -> PDUError:
        where = (self.pos if at is None else at) + 6     # the body follows the 6-byte header
        return PDUError(f"{self.what}: {message} (offset {where})")

    def sub(self, n: int, name: str) -> _Reader:
        """A reader over the next ``n`` bytes (checked), advancing past them."""
        start = self.pos
        self.take(n, name)
        return _Reader(self.buf, start, start + n, self.what)

    def take(self, n: int, name: str) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise self.fail(f"{name} needs {n} bytes, {self.end - self.pos} left")
        view = self.buf[self.pos:self.pos + n]
        self.pos += n
        return view

    def u8(self, name: str) -> int:
        return self.take(1, name)[0]

    def u16(self, name: str) -> int:
        return _U16.unpack(self.take(2, name))[0]

    def sized(self, name: str) -> bytes:
        """A field preceded by its own 16-bit length."""
        return bytes(self.take(self.u16(name + " length"), name))

    def items(self, short: bool = True):
        """(type, offset, sub-reader) for each item up to the end, checking each length."""
        while self.pos < self.end:
            start = self.pos
            if self.end - self.pos < 4:
                raise self.fail("truncated item header")
            kind = self.buf[self.pos]
            length = _U16.unpack(self.buf[self.pos + 2:self.pos + 4])[0]
            self.pos += 4
            if self.pos + length > self.end:
                raise self.fail(f"item 0x{kind:02X} length {length} runs past the end of its "
                                f"container ({self.end - self.pos} bytes left)", start)
            yield kind, start, _Reader(self.buf, self.pos, self.pos + length, self.what)
            self.pos += length


def _text(raw: bytes | memoryview) -> str:
    return bytes(raw).decode("latin-1").strip("\0 ")


def _decode_user(r: _Reader, accept: bool) -> UserInformation:
    user = UserInformation(max_length=None)
    for kind, at, sub in r.items():
        if kind == 0x51:
            user.max_length = _U32.unpack(sub.take(4, "maximum length"))[0]
        elif kind == 0x52:
            user.implementation_class_uid = _text(sub.take(sub.end - sub.pos, "UID"))
        elif kind == 0x53:
            user.async_ops = (sub.u16("max operations invoked"), sub.u16("max operations performed"))
        elif kind == 0x54:
            uid = _text(sub.sized("SOP class UID"))
            user.roles.append(RoleSelection(uid, bool(sub.u8("SCU role")), bool(sub.u8("SCP role"))))
        elif kind == 0x55:
            user.implementation_version_name = _text(sub.take(sub.end - sub.pos, "version name"))
        elif kind == 0x56:
            uid = _text(sub.sized("SOP class UID"))
            user.extended.append(ExtendedNegotiation(uid, bytes(sub.take(sub.end - sub.pos, "info"))))
        elif kind == 0x57 and not accept:
            uid = _text(sub.sized("SOP class UID"))
            service = _text(sub.sized("service class UID"))
            rel = sub.sub(sub.u16("related SOP classes length"), "related SOP classes")
            related = []
            while rel.pos < rel.end:
                related.append(_text(rel.sized("related SOP class UID")))
            user.common_extended.append(CommonExtendedNegotiation(uid, service, related))
        elif kind == 0x58 and not accept:
            ident_type, positive = sub.u8("identity type"), sub.u8("positive response requested")
            primary = sub.sized("primary field")
            secondary = sub.sized("secondary field")
            user.user_identity = UserIdentity(ident_type, primary, secondary, bool(positive))
        elif kind == 0x59 and accept:
            user.user_identity_response = sub.sized("server response")
        else:
            user.unknown.append((kind, bytes(sub.take(sub.end - sub.pos, "item"))))
    if user.max_length is None:
        raise r.fail("user information without maximum length sub-item")
    return user


def _decode_associate(kind: int, r: _Reader) -> AssociateRQ | AssociateAC:
    accept = kind == ASSOCIATE_AC
    version = r.u16("protocol version")
    r.take(2, "reserved")
    called, calling = _text(r.take(16, "called AE title")), _text(r.take(16, "calling AE title"))
    r.take(32, "reserved")
    app_context, user, contexts = None, None, []
    for item, at, sub in r.items():
        if item == 0x10:
            app_context = _text(sub.take(sub.end - sub.pos, "application context"))
        elif item == 0x20 and not accept:
            contexts.append(_decode_context_rq(sub, at))
        elif item == 0x21 and accept:
            pc_id, result = sub.u8("context ID"), (sub.take(3, "result")[1])
            ts = ""
            for sk, sat, ssub in sub.items():
                if sk == 0x40:
                    ts = _text(ssub.take(ssub.end - ssub.pos, "transfer syntax"))
            contexts.append(PresentationContextAC(pc_id, result, ts))
        elif item == 0x50:
            if user is not None:
                raise r.fail("second user information item", at)
            user = _decode_user(sub, accept)
        else:
            raise r.fail(f"unexpected item type 0x{item:02X}", at)
    if app_context is None:
        raise r.fail("no application context item")
    if user is None:
        raise r.fail("no user information item")
    cls = AssociateAC if accept else AssociateRQ
    return cls(called, calling, contexts, user, app_context, version)


def _decode_context_rq(r: _Reader, at: int) -> PresentationContextRQ:
    pc_id = r.u8("context ID")
    r.take(3, "reserved")
    abstract, syntaxes = None, []
    for kind, sat, sub in r.items():
        value = _text(sub.take(sub.end - sub.pos, "UID"))
        if kind == 0x30 and abstract is None:
            abstract = value
        elif kind == 0x40:
            syntaxes.append(value)
        else:
            raise r.fail(f"unexpected sub-item 0x{kind:02X} in presentation context {pc_id}", sat)
    if abstract is None or not syntaxes:
        raise r.fail(f"presentation context {pc_id} without abstract or transfer syntax", at)
    return PresentationContextRQ(pc_id, abstract, syntaxes)


def decode_pdata(body: memoryview) -> PDataTF:
    """The PDVs of a P-DATA-TF body (views into ``body``)."""
    pdvs = []
    pos, end = 0, len(body)
    while pos < end:
        if end - pos < 6:
            raise PDUError(f"P-DATA-TF: truncated PDV item header (offset {pos + 6})")
        length = _U32.unpack(body[pos:pos + 4])[0]
        if length < 2:
            raise PDUError(f"P-DATA-TF: PDV item length {length} is less than 2 (offset {pos + 6})")
        if length > end - pos - 4:
            raise PDUError(f"P-DATA-TF: PDV item length {length} runs past the end of the PDU "
                           f"({end - pos - 4} bytes left, offset {pos + 6})")
        pdvs.append((body[pos + 4], body[pos + 5], body[pos + 6:pos + 4 + length]))
        pos += 4 + length
    if not pdvs:
        raise PDUError("P-DATA-TF: no PDV item (offset 6)")
    return PDataTF(pdvs)


def decode(kind: int, body: memoryview | bytes) -> PDU:
    """Decode the body of a PDU of type ``kind`` (the 6-byte header already read)."""
    body = memoryview(body)
    name = PDU_NAMES.get(kind)
    if name is None:
        raise PDUError(f"unknown PDU type 0x{kind:02X} (offset 0)")
    if kind == P_DATA_TF:
        return decode_pdata(body)
    if kind in (ASSOCIATE_RQ, ASSOCIATE_AC):
        return _decode_associate(kind, _Reader(body, 0, len(body), name))
    if len(body) != 4:
        raise PDUError(f"{name}: body length {len(body)}, expected 4 (offset 2)")
    if kind == ASSOCIATE_RJ:
        return AssociateRJ(body[1], body[2], body[3])
    if kind == ABORT:
        return Abort(body[2], body[3])
    return ReleaseRQ() if kind == RELEASE_RQ else ReleaseRP()


def decode_pdu(data: bytes | memoryview) -> PDU:
    """Decode a whole PDU, header included."""
    data = memoryview(data)
    if len(data) < 6:
        raise PDUError(f"truncated PDU header ({len(data)} bytes, offset 0)")
    kind, length = _HEAD.unpack(data[:6])
    if length != len(data) - 6:
        raise PDUError(f"{PDU_NAMES.get(kind, 'PDU')}: length {length} does not match the "
                       f"{len(data) - 6} bytes that follow the header (offset 2)")
    return decode(kind, data[6:])


HEADER = _HEAD
