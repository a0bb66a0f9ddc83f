"""Reading DICOM XML (DCMTK's dcm2xml format and PS3.19's Native DICOM Model) safely.

expat builds the data set as it streams (no tree, no recursion: nesting is bounded by memory).
Entity declarations are refused outright (internal ones could expand without bound, external
ones would be fetched), parameter entities and external DTDs are never loaded; a DOCTYPE
without entities (DCMTK's ``+Xd``/``+Xe``) is fine. Every error names line and column.
"""
from __future__ import annotations

import binascii
import re
from typing import Any
from xml.parsers import expat

from .dataset import Dataset, FileDataset, Sequence
from .element import Element, EncodedElement, Fragments
from .jsonmodel import JsonModelError, PN_GROUPS, element_from_bytes
from .tag import SPECIFIC_CHARACTER_SET, tag_str
from .vr import ALL_VRS, NUMERIC_VRS, STRING_VRS, TEXT_VRS
from .xmlmodel import XmlModelError
from .xmlnative import PN_COMPONENTS

_DCMTK_TAG = re.compile(r"\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*")
_NATIVE_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_AT_DCMTK = re.compile(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)")
_ARRAY_CODES = {"OW": "<u2", "OF": "<f4", "OD": "<f8", "OL": "<u4", "OV": "<u8"}


class _Fail(Exception):
    """A problem found by a handler (the position is added where expat stopped)."""


def _warn(message: str) -> None:
    from .._diag import warn
    warn(__name__, "%s", message)


class _Builder:
    """expat handlers for both formats; ``self.stack`` holds the open containers."""

    def __init__(self, bulk_resolver) -> None:
        self.bulk = bulk_resolver
        self.meta = Dataset()
        self.ds = FileDataset()
        self.xfer: str | None = None
        self.root: str | None = None
        self.stack: list[Any] = []      # Datasets, Sequence elements, pixel sequences
        self.text: list[str] | None = None
        self.attrs: dict = {}
        self.values: list[str] = []     # native: texts of <Value>, <PersonName>...
        self.person: dict = {}
        self.group: dict | None = None
        self.binary: bytes | None = None
        self.open_attrs: list[dict] = []    # native: the DicomAttributes open around us

    # -- dispatch ---------------------------------------------------------------------------
    def start(self, name: str, attrs: dict) -> None:
        if self.root is None:
            if name not in ("file-format", "data-set", "NativeDicomModel"):
                raise _Fail(f"document of the wrong type: root element <{name}> (expected "
                            f"<file-format> or <NativeDicomModel>)")
            self.root = name
            if name != "file-format":
                self._start_dataset(name, attrs)
            return
        handler = getattr(self, "s_" + name.replace("-", "_"), None)
        if handler is None:
            raise _Fail(f"unexpected element <{name}>")
        handler(attrs)

    def end(self, name: str) -> None:
        handler = getattr(self, "e_" + name.replace("-", "_"), None)
        if handler is not None:
            handler()

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _start_dataset(self, name: str, attrs: dict) -> None:
        if name == "meta-header":
            self.stack = [self.meta]
        else:
            self.stack = [self.ds]
            self.xfer = attrs.get("xfer") or None

    def _dataset(self) -> Dataset:
        top = self.stack[-1] if self.stack else None
        if not isinstance(top, Dataset):
            raise _Fail("element outside a data set or item")
        return top

    def _charsets(self) -> list[str]:
        """The Specific Character Set in force (the innermost non-empty one)."""
        for ds in reversed([s for s in self.stack if isinstance(s, Dataset)]):
            elem = ds.get(SPECIFIC_CHARACTER_SET)
            if elem is not None:
                terms = [t.strip(" \0") for t in bytes(elem.raw).decode("latin-1").split("\\")]
                if any(terms):
                    return terms
        return []

    # -- DCMTK format -------------------------------------------------------------------------
    def s_meta_header(self, attrs: dict) -> None:
        self._start_dataset("meta-header", attrs)

    def s_data_set(self, attrs: dict) -> None:
        self._start_dataset("data-set", attrs)

    def s_element(self, attrs: dict) -> None:
        self._dataset()
        self.attrs = attrs
        self.text = []

    def e_element(self) -> None:
        tag, vr = _dcmtk_tag(self.attrs), _vr(self.attrs)
        text = "".join(self.text or [])
        self.text = None
        binary = self.attrs.get("binary")
        if binary == "no":              # the DTD's default (an embedded DTD supplies it)
            binary = None
        where = tag_str(tag)
        if binary is not None or vr in ("OB", "OW", "UN"):
            data = self._dcmtk_binary(binary, text, vr, where)
            elem = element_from_bytes(tag, vr, data, where) if data else Element(tag, vr, None)
        else:
            elem = self._from_texts(tag, vr, text.split("\\") if text else [], where,
                                    dcmtk=True)
        self._dataset()[tag] = elem

    def _dcmtk_binary(self, binary: str | None, text: str, vr: str, where: str) -> bytes:
        if binary in (None, "hidden") or self.attrs.get("loaded") == "no":
            if self.attrs.get("len", "0") not in ("0", ""):
                _warn(f"content of node {where} is '{binary or 'hidden'}', empty element inserted")
            return b""
        if binary == "base64":
            data = _base64(text, where)
            return _swap16(data) if vr == "OW" else data    # DCMTK writes OW words big endian
        if binary != "yes":
            raise _Fail(f"{where}: unknown binary attribute '{binary}'")
        words = [w for w in text.split("\\") if w.strip()]
        try:
            if vr == "OW":
                return b"".join(int(w, 16).to_bytes(2, "little") for w in words)
            return bytes(int(w, 16) for w in words)
        except (ValueError, OverflowError):
            raise _Fail(f"{where}: invalid hex value in binary data") from None

    def s_sequence(self, attrs: dict) -> None:
        ds = self._dataset()
        tag, vr = _dcmtk_tag(attrs), _vr(attrs)
        if vr == "SQ":
            elem = Element(tag, "SQ", Sequence())
        else:
            elem = Element(tag, "OB", Fragments())
        ds[tag] = elem
        self.stack.append(elem)

    def e_sequence(self) -> None:
        self.stack.pop()

    def s_item(self, attrs: dict) -> None:
        self._open_item()

    def _open_item(self) -> None:
        top = self.stack[-1] if self.stack else None
        if not isinstance(top, Element) or top.vr != "SQ":
            raise _Fail("item outside a sequence")
        item = Dataset(parent=self._parent_dataset())
        top.value.append(item)
        self.stack.append(item)

    def _parent_dataset(self) -> Dataset | None:
        for s in reversed(self.stack):
            if isinstance(s, Dataset):
                return s
        return None

    def e_item(self) -> None:
        self.stack.pop()

    def s_pixel_item(self, attrs: dict) -> None:
        top = self.stack[-1] if self.stack else None
        if not isinstance(top, Element) or top.vr == "SQ":
            raise _Fail("pixel-item outside a pixel sequence")
        self.attrs = attrs
        self.text = []

    def e_pixel_item(self) -> None:
        text = "".join(self.text or [])
        self.text = None
        where = "pixel-item"
        data = self._dcmtk_binary(self.attrs.get("binary"), text, "OB", where)
        self.stack[-1].value.append(data)

    # -- Native DICOM Model ---------------------------------------------------------------------
    def s_DicomAttribute(self, attrs: dict) -> None:
        self._dataset()
        self.values, self.binary = [], None
        tag, vr = self._native_tag(attrs), _vr(attrs)
        self.attrs = {**attrs, "_tag": tag}
        self.open_attrs.append(self.attrs)
        if vr == "SQ":
            elem = Element(tag, "SQ", Sequence())
            self._dataset()[tag] = elem
            self.stack.append(elem)

    def _native_tag(self, attrs: dict) -> int:
        text = attrs.get("tag", "")
        if not _NATIVE_TAG.fullmatch(text):
            raise _Fail(f"missing or invalid tag attribute '{text}' (8 hex digits expected)")
        tag = int(text, 16)
        creator = attrs.get("privateCreator")
        if creator is None:
            return tag
        if not (tag >> 16) & 1 or tag & 0xFF00:
            raise _Fail(f"privateCreator on the non-private tag {text}")
        return self._private_block(tag, creator)

    def _private_block(self, tag: int, creator: str) -> int:
        """The tag within the block reserved for ``creator`` (reserving one if needed)."""
        ds = self._dataset()
        group = tag & 0xFFFF0000
        for block in range(0x10, 0x100):
            elem = ds.get(group | block)
            if elem is None:
                ds[group | block] = EncodedElement(group | block, "LO", _pad(creator.encode()))
                return group | (block << 8) | (tag & 0xFF)
            if bytes(elem.raw).decode("latin-1").strip(" \0") == creator:
                return group | (block << 8) | (tag & 0xFF)
        raise _Fail(f"no private block left in group {group >> 16:04x}")

    def e_DicomAttribute(self) -> None:
        self.attrs = self.open_attrs.pop()
        tag, vr = self.attrs["_tag"], _vr(self.attrs)
        if vr == "SQ":
            self.stack.pop()
            return
        where = tag_str(tag)
        if self.binary is not None:
            elem = element_from_bytes(tag, vr, self.binary, where)
        else:
            elem = self._from_texts(tag, vr, self.values, where, dcmtk=False)
        self._dataset()[tag] = elem

    def s_Value(self, attrs: dict) -> None:
        self.text = []

    def e_Value(self) -> None:
        self.values.append("".join(self.text or []))
        self.text = None

    def s_Item(self, attrs: dict) -> None:
        self._open_item()

    def e_Item(self) -> None:
        self.stack.pop()

    def s_PersonName(self, attrs: dict) -> None:
        self.person = {}

    def e_PersonName(self) -> None:
        groups = ["^".join(self.person.get(g, {}).get(c, "") for c in PN_COMPONENTS).rstrip("^")
                  for g in PN_GROUPS]
        self.values.append("=".join(groups).rstrip("="))

    def _start_group(self, attrs: dict) -> None:
        self.group = {}

    def _component(self, attrs: dict) -> None:
        self.text = []

    def _end_component(self, name: str) -> None:
        if self.group is not None:
            self.group[name] = "".join(self.text or [])
        self.text = None

    def s_InlineBinary(self, attrs: dict) -> None:
        self.text = []

    def e_InlineBinary(self) -> None:
        self.binary = _base64("".join(self.text or []), tag_str(self.attrs["_tag"]))
        self.text = None

    def s_BulkData(self, attrs: dict) -> None:
        where = tag_str(self.attrs["_tag"])
        uri = attrs.get("uri")
        if uri is None:
            _warn(f"{where}: BulkData uuid '{attrs.get('uuid', '')}' cannot be resolved, "
                  f"empty element inserted")
            self.binary = b""
            return
        if self.bulk is None:
            raise _Fail(f"{where}: BulkData uri '{uri}' given but bulk data reading is not enabled")
        try:
            self.binary = self.bulk.read(uri)
        except ValueError as exc:
            raise _Fail(f"{where}: {exc}") from None

    # -- values -----------------------------------------------------------------------------
    def _from_texts(self, tag: int, vr: str, texts: list[str], where: str, dcmtk: bool) -> Element:
        if not texts:
            return EncodedElement(tag, vr, b"") if vr in STRING_VRS else Element(tag, vr, None)
        if vr in STRING_VRS:
            return EncodedElement(tag, vr, self._encode("\\".join(texts), vr, where))
        try:
            if vr == "AT":
                tags = [_at(t, dcmtk) for t in texts]
                return Element(tag, vr, tags[0] if len(tags) == 1 else tags)
            if vr in ("FL", "FD", "OF", "OD"):
                numbers: list = [float(t) for t in texts]
            else:
                numbers = [int(t) for t in texts]
        except ValueError:
            shown = "\\".join(texts)[:40]
            raise _Fail(f"{where}: invalid {vr} value '{shown}'") from None
        if vr in _ARRAY_CODES:
            import numpy as np
            try:
                return Element(tag, vr, np.array(numbers, dtype=_ARRAY_CODES[vr]))
            except OverflowError:
                raise _Fail(f"{where}: value out of range for {vr}") from None
        if vr in NUMERIC_VRS:
            _check_range(numbers, vr, where)
        return Element(tag, vr, numbers[0] if len(numbers) == 1 else numbers)

    def _encode(self, text: str, vr: str, where: str) -> bytes:
        charsets = self._charsets() if vr in TEXT_VRS else []
        try:
            if charsets:
                from .charset import encode
                data = encode(text, charsets, vr)
            else:
                data = text.encode("utf-8" if vr in TEXT_VRS else "latin-1")
        except (ValueError, UnicodeEncodeError) as exc:
            raise _Fail(f"{where}: value cannot be encoded in the Specific Character Set: "
                        f"{exc}") from None
        return _pad(data, b"\0" if vr == "UI" else b" ")


# the Person Name groups and components share three handlers each
for _g in PN_GROUPS:
    setattr(_Builder, "s_" + _g, _Builder._start_group)
    setattr(_Builder, "e_" + _g, lambda self, _g=_g: self.person.__setitem__(_g, self.group or {}))
for _c in PN_COMPONENTS:
    setattr(_Builder, "s_" + _c, _Builder._component)
    setattr(_Builder, "e_" + _c, lambda self, _c=_c: self._end_component(_c))


def _check_range(numbers: list, vr: str, where: str) -> None:
    if vr in ("FL", "FD"):
        return
    bits = NUMERIC_VRS[vr][1] * 8
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if vr in ("SS", "SL", "SV") \
        else (0, (1 << bits) - 1)
    for n in numbers:
        if not lo <= n <= hi:
            raise _Fail(f"{where}: {n} is out of range for {vr}")


def _pad(data: bytes, pad: bytes = b" ") -> bytes:
    return data + pad if len(data) % 2 else data


def _swap16(data: bytes) -> bytes:
    from .xmlmodel import _swap16 as swap
    return swap(data)


def _base64(text: str, where: str) -> bytes:
    try:
        return binascii.a2b_base64("".join(text.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise _Fail(f"{where}: invalid base64 data: {exc}") from None


def _at(text: str, dcmtk: bool) -> int:
    text = text.strip()
    m = _AT_DCMTK.fullmatch(text) if dcmtk else None
    if m:
        return (int(m.group(1), 16) << 16) | int(m.group(2), 16)
    if _NATIVE_TAG.fullmatch(text):
        return int(text, 16)
    raise ValueError(text)


def _dcmtk_tag(attrs: dict) -> int:
    m = _DCMTK_TAG.fullmatch(attrs.get("tag", ""))
    if not m:
        raise _Fail(f"missing or invalid tag attribute '{attrs.get('tag', '')}' "
                    f"(\"gggg,eeee\" expected)")
    return (int(m.group(1), 16) << 16) | int(m.group(2), 16)


def _vr(attrs: dict) -> str:
    vr = attrs.get("vr")
    if vr not in ALL_VRS:
        raise _Fail(f"missing or unknown vr attribute '{vr}'" if vr else "missing vr attribute")
    return vr


def _refuse_entity(*args) -> None:
    raise _Fail("entity declarations are not allowed (entity expansion and external entities "
                "are refused)")


def _refuse_external(*args) -> int:
    raise _Fail("external entities are not loaded")


def parse(data: bytes, *, read_meta: bool = True, bulk_resolver=None) -> FileDataset:
    """A data set from XML bytes; :class:`XmlModelError` with line and column on any problem."""
    from . import xfer
    builder = _Builder(bulk_resolver)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.chars
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlModelError(f"XML not well-formed: {expat.ErrorString(exc.code)} "
                            f"(line {exc.lineno}, column {exc.offset + 1})") from None
    except (_Fail, JsonModelError) as exc:
        raise XmlModelError(f"{exc} (line {parser.CurrentLineNumber}, column "
                            f"{parser.CurrentColumnNumber + 1})") from None
    if builder.root is None:
        raise XmlModelError("no document element")
    ds = builder.ds
    if read_meta:
        for elem in builder.meta:
            ds.file_meta[elem.tag] = elem
    ts_elem = ds.file_meta.get(0x00020010)
    uid = bytes(ts_elem.raw).decode("latin-1").strip("\0 ") if ts_elem is not None \
        else builder.xfer or ""
    ds.__dict__["transfer_syntax"] = xfer.lookup(uid) if uid else None
    if ds.transfer_syntax is None:
        ds.__dict__["transfer_syntax"] = xfer.EXPLICIT_LE
    ds.__dict__["has_meta"] = len(ds.file_meta) > 0
    return ds
