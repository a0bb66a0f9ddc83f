"""DIMSE messages (PS3.7): command sets, fragmentation into PDVs and reassembly.

A command set is always Implicit VR Little Endian (PS3.7 6.3.1); the data set that may follow is
encoded in the presentation context's transfer syntax and travels untouched here: outgoing as
a bytes-like object cut into PDVs without copying, incoming into a *sink* chosen when the
command has arrived (bytes in memory by default; a C-STORE SCP streams it to a file).
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Protocol

# keyword -> (tag, VR) of every command element (PS3.7 E.1, E.2)
ELEMENTS: dict[str, tuple[int, str]] = {
    "CommandGroupLength": (0x00000000, "UL"),
    "AffectedSOPClassUID": (0x00000002, "UI"),
    "RequestedSOPClassUID": (0x00000003, "UI"),
    "CommandField": (0x00000100, "US"),
    "MessageID": (0x00000110, "US"),
    "MessageIDBeingRespondedTo": (0x00000120, "US"),
    "MoveDestination": (0x00000600, "AE"),
    "Priority": (0x00000700, "US"),
    "CommandDataSetType": (0x00000800, "US"),
    "Status": (0x00000900, "US"),
    "OffendingElement": (0x00000901, "AT"),
    "ErrorComment": (0x00000902, "LO"),
    "ErrorID": (0x00000903, "US"),
    "AffectedSOPInstanceUID": (0x00001000, "UI"),
    "RequestedSOPInstanceUID": (0x00001001, "UI"),
    "EventTypeID": (0x00001002, "US"),
    "AttributeIdentifierList": (0x00001005, "AT"),
    "ActionTypeID": (0x00001008, "US"),
    "NumberOfRemainingSuboperations": (0x00001020, "US"),
    "NumberOfCompletedSuboperations": (0x00001021, "US"),
    "NumberOfFailedSuboperations": (0x00001022, "US"),
    "NumberOfWarningSuboperations": (0x00001023, "US"),
    "MoveOriginatorApplicationEntityTitle": (0x00001030, "AE"),
    "MoveOriginatorMessageID": (0x00001031, "US"),
}
_BY_TAG = {tag: (kw, vr) for kw, (tag, vr) in ELEMENTS.items()}

NO_DATASET = 0x0101
DATASET_PRESENT = 0x0000
PRIORITY_MEDIUM, PRIORITY_HIGH, PRIORITY_LOW = 0, 1, 2

_RQ = ("MessageID",)
_RSP = ("MessageIDBeingRespondedTo", "Status")
# command field -> (name, required fields, data set: 'required' | 'none' | 'optional')
COMMANDS: dict[int, tuple[str, tuple[str, ...], str]] = {
    0x0001: ("C-STORE-RQ", _RQ + ("AffectedSOPClassUID", "Priority", "AffectedSOPInstanceUID"),
             "required"),
    0x8001: ("C-STORE-RSP", _RSP, "none"),
    0x0020: ("C-FIND-RQ", _RQ + ("AffectedSOPClassUID", "Priority"), "required"),
    0x8020: ("C-FIND-RSP", _RSP, "optional"),
    0x0010: ("C-GET-RQ", _RQ + ("AffectedSOPClassUID", "Priority"), "required"),
    0x8010: ("C-GET-RSP", _RSP, "optional"),
    0x0021: ("C-MOVE-RQ", _RQ + ("AffectedSOPClassUID", "Priority", "MoveDestination"),
             "required"),
    0x8021: ("C-MOVE-RSP", _RSP, "optional"),
    0x0030: ("C-ECHO-RQ", _RQ + ("AffectedSOPClassUID",), "none"),
    0x8030: ("C-ECHO-RSP", _RSP, "none"),
    0x0FFF: ("C-CANCEL-RQ", ("MessageIDBeingRespondedTo",), "none"),
    0x0100: ("N-EVENT-REPORT-RQ", _RQ + ("AffectedSOPClassUID", "AffectedSOPInstanceUID",
                                         "EventTypeID"), "optional"),
    0x8100: ("N-EVENT-REPORT-RSP", _RSP, "optional"),
    0x0110: ("N-GET-RQ", _RQ + ("RequestedSOPClassUID", "RequestedSOPInstanceUID"), "none"),
    0x8110: ("N-GET-RSP", _RSP, "optional"),
    0x0120: ("N-SET-RQ", _RQ + ("RequestedSOPClassUID", "RequestedSOPInstanceUID"), "required"),
    0x8120: ("N-SET-RSP", _RSP, "optional"),
    0x0130: ("N-ACTION-RQ", _RQ + ("RequestedSOPClassUID", "RequestedSOPInstanceUID",
                                   "ActionTypeID"), "optional"),
    0x8130: ("N-ACTION-RSP", _RSP, "optional"),
    0x0140: ("N-CREATE-RQ", _RQ + ("AffectedSOPClassUID",), "optional"),
    0x8140: ("N-CREATE-RSP", _RSP, "optional"),
    0x0150: ("N-DELETE-RQ", _RQ + ("RequestedSOPClassUID", "RequestedSOPInstanceUID"), "none"),
    0x8150: ("N-DELETE-RSP", _RSP, "none"),
}
COMMAND_FIELDS = {name: code for code, (name, _, _) in COMMANDS.items()}

MAX_COMMAND_SET = 1 << 16     # a command set is a few hundred bytes; refuse absurd ones


class DimseError(Exception):
    """A message that breaks PS3.7 (bad command set, PDV out of order, ...)."""


class Message:
    """One DIMSE message: its command fields by keyword, its presentation context, and its data
    set (bytes-like in the context's transfer syntax, or what a sink made of it).

    ``Message("C-STORE-RQ", MessageID=1, ...)``; fields read as attributes (``msg.MessageID``).
    """

    __slots__ = ("name", "fields", "context_id", "dataset")

    def __init__(self, name: str, context_id: int = 0, dataset: Any = None, **fields: Any) -> None:
        if name not in COMMAND_FIELDS:
            raise ValueError(f"unknown DIMSE message {name!r}")
        unknown = set(fields) - set(ELEMENTS)
        if unknown:
            raise ValueError(f"unknown command elements: {sorted(unknown)}")
        self.name, self.context_id, self.dataset, self.fields = name, context_id, dataset, fields

    def __getattr__(self, keyword: str) -> Any:
        if keyword in ELEMENTS:
            return self.fields.get(keyword)
        raise AttributeError(keyword)

    def __repr__(self) -> str:
        return f"Message({self.name!r}, context_id={self.context_id}, {self.fields})"

    @property
    def command_field(self) -> int:
        return COMMAND_FIELDS[self.name]

    @property
    def is_response(self) -> bool:
        return self.name.endswith("-RSP")

    @property
    def service(self) -> str:
        """'C-STORE', 'N-GET', ... (without -RQ/-RSP)."""
        return self.name.rsplit("-", 1)[0]

    @property
    def has_dataset(self) -> bool:
        return self.fields.get("CommandDataSetType", NO_DATASET) != NO_DATASET


# ---------------------------------------------------------------------------------------------
# command sets


def _encode_value(value: Any, vr: str) -> bytes:
    if vr == "US":
        return struct.pack("<H", value)
    if vr == "UL":
        return struct.pack("<I", value)
    if vr == "AT":
        tags = value if isinstance(value, (list, tuple)) else [value]
        return b"".join(struct.pack("<HH", t >> 16, t & 0xFFFF) for t in tags)
    raw = str(value).encode("ascii", "replace")
    if len(raw) % 2:
        raw += b"\0" if vr == "UI" else b" "
    return raw


def encode_command(msg: Message, has_dataset: bool) -> bytes:
    """The command set of ``msg`` in Implicit VR Little Endian, group length first."""
    fields = dict(msg.fields)
    fields["CommandField"] = msg.command_field
    fields["CommandDataSetType"] = DATASET_PRESENT if has_dataset else NO_DATASET
    body = []
    for kw in sorted(fields, key=lambda k: ELEMENTS[k][0]):
        value = fields[kw]
        if kw == "CommandGroupLength" or value is None:
            continue
        tag, vr = ELEMENTS[kw]
        raw = _encode_value(value, vr)
        body.append(struct.pack("<HHI", 0, tag & 0xFFFF, len(raw)) + raw)
    data = b"".join(body)
    return struct.pack("<HHII", 0, 0, 4, len(data)) + data


def _decode_value(raw: bytes, vr: str, keyword: str) -> Any:
    if vr in ("US", "UL"):
        size = 2 if vr == "US" else 4
        if len(raw) != size:
            raise DimseError(f"command element {keyword} has length {len(raw)}, expected {size}")
        return int.from_bytes(raw, "little")
    if vr == "AT":
        if len(raw) % 4:
            raise DimseError(f"command element {keyword} has length {len(raw)}, not a multiple of 4")
        tags = [(int.from_bytes(raw[i:i + 2], "little") << 16) | int.from_bytes(raw[i + 2:i + 4], "little")
                for i in range(0, len(raw), 4)]
        return tags
    text = raw.decode("latin-1")
    return text.rstrip("\0 ") if vr == "UI" else text.strip(" \0")


def decode_command(data: bytes, context_id: int = 0) -> Message:
    """Parse a command set; raises DimseError naming the element and offset of any problem,
    or the required field that is missing (PS3.7 9.3 / 10.3)."""
    fields: dict[str, Any] = {}
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 8:
            raise DimseError(f"command set: truncated element header (offset {pos})")
        group, elem, length = struct.unpack_from("<HHI", data, pos)
        if group != 0:
            raise DimseError(f"command set: element ({group:04x},{elem:04x}) outside group 0000 "
                             f"(offset {pos})")
        if length > end - pos - 8:
            raise DimseError(f"command set: element (0000,{elem:04x}) length {length} runs past "
                             f"the end ({end - pos - 8} bytes left, offset {pos})")
        known = _BY_TAG.get(elem)
        if known is not None:
            fields[known[0]] = _decode_value(data[pos + 8:pos + 8 + length], known[1], known[0])
        pos += 8 + length
    code = fields.pop("CommandField", None)
    if code is None:
        raise DimseError("command set without Command Field (0000,0100)")
    spec = COMMANDS.get(code)
    if spec is None:
        raise DimseError(f"unknown Command Field 0x{code:04x}")
    name, required, data_rule = spec
    missing = [kw for kw in required if kw not in fields]
    if missing:
        raise DimseError(f"{name} without required {', '.join(f'{k} {_tag(k)}' for k in missing)}")
    dataset_type = fields.get("CommandDataSetType")
    if dataset_type is None:
        raise DimseError(f"{name} without Command Data Set Type (0000,0800)")
    if data_rule == "required" and dataset_type == NO_DATASET:
        raise DimseError(f"{name} without the data set it requires")
    fields.pop("CommandGroupLength", None)
    msg = Message(name, context_id)
    msg.fields = fields
    return msg


def _tag(keyword: str) -> str:
    tag = ELEMENTS[keyword][0]
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x})"


# ---------------------------------------------------------------------------------------------
# reassembly


class Sink(Protocol):
    """Where an incoming data set goes, fragment by fragment."""

    def write(self, data: memoryview) -> None: ...
    def close(self) -> Any: ...          # the data set complete: returns what Message.dataset gets
    def discard(self) -> None: ...       # the transfer failed: drop everything


class BytesSink:
    """Collects a data set in memory."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: memoryview) -> None:
        self._buf += data

    def close(self) -> bytes:
        return bytes(self._buf)

    def discard(self) -> None:
        self._buf = bytearray()


SinkFactory = Callable[[Message], Sink]


class Assembler:
    """Puts PDVs back together into messages, checking PS3.8 Annex E's rules on the way:
    one context per message, command before data set, last-fragment flags in order."""

    __slots__ = ("contexts", "sink_factory", "_command", "_msg", "_sink")

    def __init__(self, contexts: dict, sink_factory: SinkFactory | None = None) -> None:
        self.contexts = contexts
        self.sink_factory = sink_factory
        self._command = bytearray()
        self._msg: Message | None = None
        self._sink: Sink | None = None

    @property
    def busy(self) -> bool:
        """True while a message is partly received."""
        return bool(self._command) or self._msg is not None

    def feed(self, context_id: int, control: int, data: memoryview) -> Message | None:
        """One PDV; returns the message it completes, if any."""
        if context_id not in self.contexts:
            raise DimseError(f"PDV for presentation context {context_id}, which was not accepted")
        if control & 0xFC:
            raise DimseError(f"PDV message control header 0x{control:02x} has reserved bits set")
        is_command, last = control & 1, control & 2
        if is_command:
            if self._msg is not None:
                raise DimseError("command fragment while a data set was expected")
            if len(self._command) + len(data) > MAX_COMMAND_SET:
                raise DimseError(f"command set larger than {MAX_COMMAND_SET} bytes")
            self._command += data
            if not last:
                return None
            msg = decode_command(bytes(self._command), context_id)
            self._command = bytearray()
            if not msg.has_dataset:
                return msg
            self._msg = msg
            self._sink = (self.sink_factory or _bytes_sink)(msg)
            return None
        msg = self._msg
        if msg is None:
            raise DimseError("data set fragment before its command set")
        if context_id != msg.context_id:
            raise DimseError(f"data set fragment on context {context_id}, its command came on "
                             f"context {msg.context_id}")
        self._sink.write(data)
        if not last:
            return None
        msg.dataset = self._sink.close()
        self._msg = self._sink = None
        return msg

    def discard(self) -> None:
        """Drop a partly received message (the association ended)."""
        if self._sink is not None:
            self._sink.discard()
        self._command = bytearray()
        self._msg = self._sink = None


def _bytes_sink(msg: Message) -> Sink:
    return BytesSink()


# ---------------------------------------------------------------------------------------------
# DCMTK-style debug summaries


_PRIORITY = {0: "medium", 1: "high", 2: "low"}


def summary(msg: Message, incoming: bool, has_dataset: bool | None = None) -> str:
    """The block DCMTK's -d prints for each DIMSE message."""
    from ..dcmdata.uid import dcmtk_name
    lines = [f"===================== {'INCOMING' if incoming else 'OUTGOING'} DIMSE MESSAGE "
             "====================",
             f"{'Message Type':30s}: {msg.service} {'RSP' if msg.is_response else 'RQ'}"]
    if incoming:
        lines.append(f"{'Presentation Context ID':30s}: {msg.context_id}")
    labels = [("MessageID", "Message ID"), ("MessageIDBeingRespondedTo", "Message ID Being Responded To"),
              ("AffectedSOPClassUID", "Affected SOP Class UID"),
              ("RequestedSOPClassUID", "Requested SOP Class UID"),
              ("AffectedSOPInstanceUID", "Affected SOP Instance UID"),
              ("RequestedSOPInstanceUID", "Requested SOP Instance UID"),
              ("MoveDestination", "Move Destination")]
    for kw, label in labels:
        value = msg.fields.get(kw)
        if value is not None:
            text = (dcmtk_name(value) or value) if kw.endswith("ClassUID") else value
            lines.append(f"{label:30s}: {text}")
    present = msg.has_dataset if has_dataset is None else has_dataset
    lines.append(f"{'Data Set':30s}: {'present' if present else 'none'}")
    if "Priority" in msg.fields:
        lines.append(f"{'Priority':30s}: {_PRIORITY.get(msg.Priority, msg.Priority)}")
    if "Status" in msg.fields:
        from .status import meaning
        lines.append(f"{'DIMSE Status':30s}: 0x{msg.Status:04x}: {meaning(msg.Status, msg.service)}")
    lines.append("======================= END DIMSE MESSAGE =======================")
    return "\n".join(lines)
