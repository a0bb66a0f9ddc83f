"""Byte builders for hand-made DICOM streams (elements, items, sequences, meta headers)."""
from __future__ import annotations

import struct

UNDEF = 0xFFFFFFFF
LONG_VRS = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"OV", b"SV", b"UV", b"UC", b"UR"}
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
RLE = "1.2.840.10008.1.2.5"
CONTENT_SEQ = 0x0040A730      # (0040,a730) Content Sequence: SQ in the dictionary
REF_IMAGE_SEQ = 0x00081140    # (0008,1140) Referenced Image Sequence
PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020
PIXEL_DATA = 0x7FE00010


def tag_bytes(tag: int, big: bool = False) -> bytes:
    return struct.pack(">HH" if big else "<HH", tag >> 16, tag & 0xFFFF)


def el(tag: int, vr: bytes | str, value: bytes = b"", *, length: int | None = None,
       implicit: bool = False, big: bool = False) -> bytes:
    """One element; ``length`` overrides the length field (the value bytes stay as given)."""
    vr = vr.encode() if isinstance(vr, str) else vr
    n = len(value) if length is None else length
    e = ">" if big else "<"
    if implicit:
        return tag_bytes(tag) + struct.pack("<I", n) + value
    if vr in LONG_VRS:
        return tag_bytes(tag, big) + vr + b"\0\0" + struct.pack(e + "I", n) + value
    return tag_bytes(tag, big) + vr + struct.pack(e + "H", n & 0xFFFF) + value


def item(content: bytes = b"", *, undefined: bool = False, length: int | None = None,
         big: bool = False) -> bytes:
    e = ">I" if big else "<I"
    if undefined:
        return tag_bytes(0xFFFEE000, big) + struct.pack(e, UNDEF) + content + delim(0xFFFEE00D, big)
    n = len(content) if length is None else length
    return tag_bytes(0xFFFEE000, big) + struct.pack(e, n) + content


def delim(tag: int, big: bool = False) -> bytes:
    return tag_bytes(tag, big) + b"\0\0\0\0"


def seq(tag: int, items: list[bytes], *, undefined: bool = False, implicit: bool = False,
        length: int | None = None, big: bool = False) -> bytes:
    body = b"".join(items)
    if undefined:
        return el(tag, b"SQ", body + delim(0xFFFEE0DD, big), length=UNDEF, implicit=implicit, big=big)
    return el(tag, b"SQ", body, length=length, implicit=implicit, big=big)


def ui(uid: str) -> bytes:
    b = uid.encode()
    return b + b"\0" * (len(b) % 2)


def meta(ts: str | bytes = EXPLICIT_LE, *, group_length: int | None = None,
         ts_element: bytes | None = None) -> bytes:
    """Preamble, 'DICM' and a file meta header (group length computed unless given)."""
    ts_value = ts if isinstance(ts, bytes) else ui(ts)
    body = (el(0x00020001, b"OB", b"\0\1")
            + el(0x00020002, b"UI", ui("1.2.840.10008.5.1.4.1.1.7"))
            + el(0x00020003, b"UI", ui("1.2.3.4.5.6.7.8.9"))
            + (ts_element if ts_element is not None else el(0x00020010, b"UI", ts_value))
            + el(0x00020012, b"UI", ui("1.2.3.4")))
    gl = len(body) if group_length is None else group_length
    return b"\0" * 128 + b"DICM" + el(0x00020000, b"UL", struct.pack("<I", gl)) + body


def part10(dataset: bytes, ts: str = EXPLICIT_LE, **kw) -> bytes:
    return meta(ts, **kw) + dataset
