"""The DICOM JSON Model (PS3.18 Annex F), both directions, as DCMTK's dcm2json writes it.

``to_json(ds)`` gives DCMTK 3.6.7's text (two-space indentation, or compact), ``from_json(text)``
gives a data set again. Deliberate differences from DCMTK 3.6.7, each standard-conforming:

* DS values that are not valid JSON numbers even after DCMTK's normalisation (``5.``) or that
  overflow a double (``1e400``) are written as strings; DCMTK writes ``5.`` and ``1e400``.
* A multi-valued string whose values are all empty (``\\``) is written as ``[null, null]``;
  DCMTK drops the Value.
* FL/FD values whose DCMTK digits do not parse back to the same number are written with the
  shortest digits that do (DCMTK's text loses the last bit, and DBL_MAX becomes infinity).
  Negative zero is written ``0``, as DCMTK writes it (the one value that does not survive).
* Encapsulated pixel data is written (InlineBinary of the encapsulated value field: items and
  sequence delimiter); DCMTK stops with an error and half an output.
* Items with their own Specific Character Set are converted from it (as ``charconv`` does);
  DCMTK converts them from the top-level one and emits invalid UTF-8.

The reader keeps DS/IS number literals as written, accepts DS/IS/SV/UV as strings (CP 1861),
InlineBinary (strict base64) and BulkDataURI (local files only, inside the allowed folder), and
reports malformed input as :class:`JsonModelError` naming the line/column or the tag path.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from .dataset import Dataset, FileDataset, Sequence
from .dump import _run_steps
from .element import Element, EncodedElement, Fragments
from .numfmt import format_g
from .tag import ITEM, PIXEL_DATA, SEQUENCE_DELIMITATION, SPECIFIC_CHARACTER_SET, tag_str
from .vr import ALL_VRS, NUMERIC_VRS, OTHER_VRS, SINGLE_VALUED, STRING_VRS, TEXT_VRS, swap_width

__all__ = ["JsonOptions", "JsonModelError", "NonFiniteError", "BulkDataStore", "BulkDataResolver",
           "to_json", "from_json", "prepare_charset", "binary_le", "json_vr", "element_from_bytes"]

PN_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")
MAX_DEPTH = 200          # sequence nesting the reader accepts (json.loads itself recurses)
_SAFE_INT = 1 << 53      # SV/UV beyond this are strings (not exact in a double)
_INT32 = (-(1 << 31), (1 << 31) - 1)
_DS_RE = re.compile(r"([+-]?)([0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?")
_IS_RE = re.compile(r"([+-]?)([0-9]+)")
_TAG_KEY = re.compile(r"[0-9A-Fa-f]{8}")
_INTERNAL_VRS = {"xs": "US", "ox": "OW", "lt": "OW", "up": "UL", "px": "OW", "na": "UN", "??": "UN"}


class JsonModelError(ValueError):
    """Malformed DICOM JSON: ``str(err)`` names the line/column or the attribute."""


class NonFiniteError(ValueError):
    """An FL/FD value is NaN or infinite and the options do not permit it (dcm2json -es)."""


@dataclass(frozen=True, slots=True)
class JsonOptions:
    """dcm2json's output options (the reader takes ``read_meta`` and ``bulk_resolver``)."""
    meta: bool = False               # +m: the meta header's elements too
    compact: bool = False            # -fc
    nonfinite: bool = False          # -ee: write nan/inf as DCMTK does (not valid JSON)
    numbers_as_strings: bool = False  # --is-ds-string: DS/IS always as strings (lossless)
    bulk_store: "BulkDataStore | None" = None   # binary values above bulk_threshold go there
    bulk_threshold: int = 1024
    read_meta: bool = True           # reader: group 0002 becomes the meta header
    bulk_resolver: "BulkDataResolver | None" = None   # reader: where BulkDataURIs may point


# ---------------------------------------------------------------------------------------------
# bulk data


class BulkDataStore:
    """Writes bulk data values as files ``<prefix><n>.bin`` in ``folder``.

    The URIs are relative references from ``base`` (the folder of the JSON/XML document).
    """

    def __init__(self, folder: str, base: str = ".", prefix: str = "bulk") -> None:
        self.folder = folder
        self.base = base
        self.prefix = prefix
        self.count = 0

    def write(self, data: bytes) -> str:
        from pathlib import Path
        from urllib.parse import quote
        from .writer import _write_atomic
        self.count += 1
        path = os.path.join(self.folder, f"{self.prefix}{self.count:04d}.bin")
        _write_atomic(path, [data])
        return quote(Path(os.path.relpath(path, self.base)).as_posix())


class BulkDataResolver:
    """Reads BulkDataURIs: relative references (from ``base``) and ``file:`` URIs.

    Only files inside ``allowed`` (default: ``base``) are read: remote schemes are refused
    (nothing is ever fetched), and so is any path that leaves the folder (``..``, absolute
    paths elsewhere, symbolic links out of it).
    """

    def __init__(self, base: str, allowed: str | None = None) -> None:
        self.base = os.path.realpath(base)
        self.allowed = os.path.realpath(allowed or base)

    def read(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        if parts.scheme not in ("", "file") or (parts.netloc not in ("", "localhost")):
            raise ValueError(f"BulkDataURI '{uri}' is not a local file (only file: URIs and "
                             f"relative references are read)")
        path = unquote(parts.path)
        if not path:
            raise ValueError("empty BulkDataURI")
        full = os.path.realpath(os.path.join(self.base, path))
        if os.path.commonpath([full, self.allowed]) != self.allowed:
            raise ValueError(f"BulkDataURI '{uri}' points outside {self.allowed}")
        try:
            with open(full, "rb") as f:
                return f.read()
        except OSError as exc:
            raise ValueError(f"cannot read BulkDataURI '{uri}': {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------
# shared helpers (also used by the XML models)


def json_vr(elem: Element) -> str:
    """The VR written for an element: DCMTK's internal ones resolved ('xs' -> US, '??' -> UN)."""
    return _INTERNAL_VRS.get(elem.vr, elem.vr)


def binary_le(elem: Element, vr: str) -> bytes:
    """The value bytes in little endian order (swapped if read big endian), odd ones padded."""
    raw = bytes(elem.raw)
    if len(raw) % 2 and vr != "OW":
        raw += b"\0"               # as DCMTK loads an odd value (not OW)
    width = swap_width(vr)
    if elem.little_endian or width == 1 or not elem.is_raw:
        return raw
    from array import array
    codes = {2: "H", 4: "I", 8: "Q"}
    whole = len(raw) - len(raw) % width
    words = array(codes[width], raw[:whole])
    words.byteswap()
    return words.tobytes() + raw[whole:]


def fragments_field(frags: list) -> bytes:
    """The value field of encapsulated pixel data: each fragment as an item, then the delimiter."""
    out = bytearray()
    for frag in frags:
        data = bytes(frag)
        if len(data) % 2:
            data += b"\0"
        out += struct.pack("<HHI", 0xFFFE, 0xE000, len(data)) + data
    return bytes(out + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))


def parse_fragments(data: bytes) -> Fragments | None:
    """The fragments of an encapsulated value field, or None if ``data`` is not one."""
    frags, pos = Fragments(), 0
    while pos + 8 <= len(data):
        group, elem, length = struct.unpack_from("<HHI", data, pos)
        tag = (group << 16) | elem
        pos += 8
        if tag == SEQUENCE_DELIMITATION:
            return frags if pos == len(data) and length == 0 else None
        if tag != ITEM or pos + length > len(data):
            return None
        frags.append(data[pos:pos + length])
        pos += length
    return None


def float_text(value: float, vr: str) -> str:
    """FL/FD digits as DCMTK prints them (9/17 digits), or the shortest that round-trip."""
    text = format_g(value, 9 if vr in ("FL", "OF") else 17)
    if math.isfinite(value) and _parsed(text, vr) != value:
        text = _shortest_float32(value) if vr in ("FL", "OF") else repr(value)
    return text


def _parsed(text: str, vr: str) -> float:
    value = float(text)
    if vr in ("FL", "OF"):
        return struct.unpack("<f", struct.pack("<f", value))[0]
    return value


def _shortest_float32(value: float) -> str:
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if _parsed(text, "FL") == value:
            return text
    return f"{value:.9g}"


def split_values(raw: bytes, vr: str, charsets: list[str] | None = None) -> list[str]:
    """A string value's values as DCMTK holds them: an odd value NUL-padded, split at
    backslashes (not LT/ST/UT/UR), trailing spaces removed (UI: trailing NULs)."""
    data = bytes(raw)
    if len(data) % 2:
        data += b"\0"
    if vr in TEXT_VRS and charsets is not None:
        from .charset import decode
        text = decode(data, charsets, vr) if data else ""
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    parts = [text] if vr in SINGLE_VALUED else text.split("\\")
    if vr == "UI":
        return [p.rstrip("\0 ") for p in parts]
    return [p.rstrip(" ") for p in parts]


# ---------------------------------------------------------------------------------------------
# writing


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def ds_number(text: str) -> str | None:
    """A DS value as a JSON number, normalised as DCMTK does; None if it cannot be one."""
    m = _DS_RE.fullmatch(text)
    if not m or len(text) > 16 or not (m.group(2) or (m.group(3) or "")[1:]):
        return None
    sign, whole, frac, exp = m.groups()
    whole = whole.lstrip("0") or "0"
    frac = frac or ""
    if frac == ".":
        frac = ".0"
    out = ("-" if sign == "-" else "") + whole + frac + (exp or "").replace("+", "")
    return out if math.isfinite(float(out)) else None


def is_number(text: str) -> str | None:
    """An IS value as a JSON number (within 32 bits, as DCMTK); None if it cannot be one."""
    m = _IS_RE.fullmatch(text)
    if not m or not _INT32[0] <= int(text) <= _INT32[1]:
        return None
    return ("-" if m.group(1) == "-" else "") + (m.group(2).lstrip("0") or "0")


def _members(ds: Dataset) -> list[Element]:
    """The elements written: all but group lengths (PS3.18 F.2.1)."""
    return [e for e in ds if e.tag & 0xFFFF]


class _Writer:
    """Formats data sets as DCMTK's dcm2json does."""

    def __init__(self, opts: JsonOptions) -> None:
        self.opts = opts
        self.colon = ":" if opts.compact else ": "
        self.level = 0      # of the element being written (PN objects need it)

    def nl(self, level: int) -> str:
        return "" if self.opts.compact else "\n" + "  " * level

    def document(self, ds: Dataset, meta: Dataset | None) -> Iterator:
        yield from self._object([e for part in (meta, ds) if part is not None
                                 for e in _members(part)], 0)

    def _object(self, elems: list[Element], level: int) -> Iterator:
        if not elems:
            yield "{}"
            return
        yield "{"
        for i, elem in enumerate(elems):
            yield ("," if i else "") + self.nl(level + 1)
            yield self._member(elem, level + 1)
        yield self.nl(level) + "}"

    def _member(self, elem: Element, level: int) -> Iterator:
        vr = json_vr(elem)
        inner = self.nl(level + 1)
        yield f'"{elem.tag:08X}"{self.colon}{{{inner}"vr"{self.colon}"{vr}"'
        if vr == "SQ":
            items = elem.value or []
            if items:
                yield f",{inner}\"Value\"{self.colon}["
                for i, item in enumerate(items):
                    yield ("," if i else "") + self.nl(level + 2)
                    yield self._object(_members(item), level + 2)
                yield inner + "]"
        else:
            yield self._value(elem, vr, level + 1)
        yield self.nl(level) + "}"

    def _value(self, elem: Element, vr: str, level: int) -> str:
        self.level = level
        inner = self.nl(level)
        if elem.is_raw and elem.undefined_length:
            data = fragments_field(elem.value)
            return self._binary(data, inner)
        if vr in OTHER_VRS:
            data = binary_le(elem, vr)
            return self._binary(data, inner) if data else ""
        values = self._values(elem, vr)
        if not values:
            return ""
        sep = "," + self.nl(level + 1)
        return (f",{inner}\"Value\"{self.colon}[" + self.nl(level + 1) + sep.join(values)
                + inner + "]")

    def _binary(self, data: bytes, inner: str) -> str:
        store = self.opts.bulk_store
        if store is not None and len(data) > self.opts.bulk_threshold:
            return f",{inner}\"BulkDataURI\"{self.colon}{_string(store.write(data))}"
        return f",{inner}\"InlineBinary\"{self.colon}\"{base64.b64encode(data).decode()}\""

    def _values(self, elem: Element, vr: str) -> list[str]:
        raw = elem.raw
        if not len(raw):
            return []
        if len(raw) % 2:
            raw = bytes(raw) + b"\0"
        if vr in NUMERIC_VRS:
            from .values import numbers
            nums = numbers(raw, vr, elem.little_endian)
            if vr in ("FL", "FD"):
                return [self._float(v, vr) for v in nums]
            if vr in ("SV", "UV"):
                return [str(v) if -_SAFE_INT < v < _SAFE_INT else f'"{v}"' for v in nums]
            return [str(v) for v in nums]
        if vr == "AT":
            from .values import numbers
            words = numbers(raw, "US", elem.little_endian)
            return [f'"{words[i]:04X}{words[i + 1]:04X}"' for i in range(0, len(words) - 1, 2)]
        parts = split_values(raw, vr)
        if vr == "PN":
            texts = [self._person(p) for p in parts]
        elif vr in ("DS", "IS"):
            texts = [self._number(p.strip(" "), vr) for p in parts]
        else:
            texts = [_string(p) if p else "null" for p in parts]
        return [] if texts == ["null"] else texts

    def _float(self, value: float, vr: str) -> str:
        if not math.isfinite(value):
            if not self.opts.nonfinite:
                raise NonFiniteError("Cannot write 'nan' or 'inf' as JSON number")
            return format_g(value, 9)
        return float_text(value, vr).replace("+", "")

    def _number(self, text: str, vr: str) -> str:
        if not text:
            return "null"
        number = None if self.opts.numbers_as_strings else (
            ds_number(text) if vr == "DS" else is_number(text))
        return number if number is not None else _string(text)

    def _person(self, value: str) -> str:
        groups = [g.rstrip("^ ") for g in value.split("=")]
        members = [f'"{name}"{self.colon}{_string(g)}'
                   for name, g in zip(PN_GROUPS, groups) if g]
        if not members:
            return "null"
        level = self.level + 1          # the object sits in the Value array
        return ("{" + self.nl(level + 1) + ("," + self.nl(level + 1)).join(members)
                + self.nl(level) + "}")


def to_json(ds: Dataset, options: JsonOptions | None = None) -> str:
    """``ds`` (and with ``meta`` its meta header) as DICOM JSON text, as DCMTK's dcm2json.

    The caller converts the character set first (:func:`prepare_charset`); text values are
    taken as UTF-8. Raises :class:`NonFiniteError` for NaN/infinite FL/FD values unless
    ``options.nonfinite``.
    """
    opts = options or JsonOptions()
    writer = _Writer(opts)
    meta = getattr(ds, "file_meta", None) if opts.meta else None
    text = "".join(_run_steps(writer.document(ds, meta)))
    return text if opts.compact else text + "\n"


def prepare_charset(ds: Dataset) -> None:
    """Convert ``ds`` to UTF-8 in place as dcm2json does: if it declares a Specific Character Set;
    without one, extended characters are an error (:class:`charconv.CharsetConversionError`)."""
    from .charconv import CharsetConversionError, convert_to_utf8
    if ds.get(SPECIFIC_CHARACTER_SET) is not None:
        convert_to_utf8(ds)
        return
    if _has_extended(ds):
        raise CharsetConversionError(
            "dataset contains extended characters but no SpecificCharacterSet (0008,0005)")


def _has_extended(ds: Dataset) -> bool:
    stack = [iter(ds)]
    while stack:
        elem = next(stack[-1], None)
        if elem is None:
            stack.pop()
        elif elem.vr == "SQ":
            if elem.value:
                stack.extend(iter(item) for item in elem.value)
        elif elem.vr in TEXT_VRS and not (elem.is_raw and elem.undefined_length) \
                and not bytes(elem.raw).isascii():
            return True
    return False


# ---------------------------------------------------------------------------------------------
# reading


def element_from_bytes(tag: int, vr: str, data: bytes, path: str) -> Element:
    """An element from little-endian value bytes (InlineBinary, BulkDataURI, XML binary);
    encapsulated pixel data is recognised by its item structure."""
    if tag == PIXEL_DATA and vr in ("OB", "OW"):
        frags = parse_fragments(data)
        if frags is not None:
            return Element(tag, "OB", frags)
    if vr in STRING_VRS:
        return EncodedElement(tag, vr, data + (b" " if len(data) % 2 else b""))
    if vr == "OW" and len(data) % 2:
        return Element(tag, vr, data)          # an odd OW value, as DCMTK writes it
    if vr == "AT" or vr in NUMERIC_VRS or vr in OTHER_VRS and vr not in ("OB", "UN"):
        import numpy as np
        width = 2 if vr == "AT" else swap_width(vr)
        if len(data) % width:
            raise JsonModelError(f"{path}: {len(data)} bytes is not a whole number of "
                                 f"{vr} values")
        if vr == "AT":
            words = np.frombuffer(data, "<u2")
            return Element(tag, vr, [(int(words[i]) << 16) | int(words[i + 1])
                                     for i in range(0, len(words), 2)])
        code = NUMERIC_VRS[vr][0] if vr in NUMERIC_VRS else \
            {"OW": "<u2", "OF": "<f4", "OD": "<f8", "OL": "<u4", "OV": "<u8"}[vr]
        return Element(tag, vr, np.frombuffer(data, code))
    return Element(tag, vr, data)


class _Number(str):
    """A JSON number as its literal text (DS/IS keep it exactly)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise JsonModelError(f"duplicate key '{key}'")
        out[key] = value
    return out


_BARE = re.compile(r'"(?:[^"\\]|\\.)*"|(-?)\b(nan|inf)\b')


def _bare_constants(text: str) -> str:
    """DCMTK's -ee output (bare nan, inf, -inf) in Python's spelling (NaN, Infinity)."""
    def repl(m: re.Match) -> str:
        if not m.group(2):
            return m.group(0)
        return m.group(1) + ("NaN" if m.group(2) == "nan" else "Infinity")
    return _BARE.sub(repl, text)


def parse_json(text: str) -> Any:
    """Parse JSON text keeping number literals; :class:`JsonModelError` with line/column."""
    def load(src: str) -> Any:
        return json.loads(src, parse_float=_Number, parse_int=_Number,
                          parse_constant=_Number, object_pairs_hook=_pairs)
    try:
        return load(text)
    except json.JSONDecodeError as first:
        if "nan" in text or "inf" in text:
            try:
                return load(_bare_constants(text))
            except (json.JSONDecodeError, RecursionError):
                pass
        raise JsonModelError(f"invalid JSON: {first.msg} (line {first.lineno}, column "
                             f"{first.colno}, offset {first.pos})") from None
    except RecursionError:
        raise JsonModelError("invalid JSON: nested too deeply") from None


class _Reader:
    """Builds data sets from parsed DICOM JSON."""

    def __init__(self, opts: JsonOptions) -> None:
        self.opts = opts

    def dataset(self, obj: Any, where: str, charsets: list[str], depth: int,
                parent: Dataset | None = None) -> Dataset:
        if not isinstance(obj, dict):
            raise JsonModelError(f"{where or 'document'}: expected an object of attributes, got "
                                 f"{_kind(obj)}")
        if depth > MAX_DEPTH:
            raise JsonModelError(f"{where}: sequences nested deeper than {MAX_DEPTH} levels")
        ds = Dataset(parent=parent)
        entries = []
        for key, attr in obj.items():
            if not _TAG_KEY.fullmatch(key):
                raise JsonModelError(f"{where}{'.' if where else ''}'{key}': not a tag "
                                     f"(8 hexadecimal digits expected)")
            entries.append((int(key, 16), attr))
        entries.sort(key=lambda e: e[0])
        own = dict(entries).get(SPECIFIC_CHARACTER_SET)
        if own is not None:
            terms = self._charset(own, where)
            if terms:
                charsets = terms
        for tag, attr in entries:
            path = f"{where}{'.' if where else ''}{tag_str(tag)}"
            ds[tag] = self.element(tag, attr, path, charsets, depth, ds)
        return ds

    def _charset(self, attr: Any, where: str) -> list[str]:
        values = attr.get("Value") if isinstance(attr, dict) else None
        if not isinstance(values, list):
            return []
        return [v.strip() if isinstance(v, str) else "" for v in values]

    def element(self, tag: int, attr: Any, path: str, charsets: list[str], depth: int,
                parent: Dataset) -> Element:
        if not isinstance(attr, dict):
            raise JsonModelError(f"{path}: expected an object with \"vr\", got {_kind(attr)}")
        vr = attr.get("vr")
        if not isinstance(vr, str) or vr not in ALL_VRS:
            raise JsonModelError(f"{path}: missing or unknown \"vr\": {vr!r}")
        known = {"vr", "Value", "InlineBinary", "BulkDataURI"}
        extra = [k for k in attr if k not in known]
        if extra:
            raise JsonModelError(f"{path}: unexpected member \"{extra[0]}\"")
        given = [k for k in ("Value", "InlineBinary", "BulkDataURI") if k in attr]
        if len(given) > 1:
            raise JsonModelError(f"{path}: more than one of \"Value\", \"InlineBinary\", "
                                 f"\"BulkDataURI\"")
        if not given:
            return self._empty(tag, vr)
        kind = given[0]
        if kind == "Value":
            values = attr["Value"]
            if not isinstance(values, list):
                raise JsonModelError(f"{path}: \"Value\" must be an array, got {_kind(values)}")
            return self._values(tag, vr, values, path, charsets, depth, parent)
        if vr == "SQ":
            raise JsonModelError(f"{path}: a sequence cannot have \"{kind}\"")
        data = self._binary(attr[kind], kind, path)
        return element_from_bytes(tag, vr, data, path)

    def _empty(self, tag: int, vr: str) -> Element:
        if vr == "SQ":
            return Element(tag, vr, Sequence())
        return EncodedElement(tag, vr, b"") if vr in STRING_VRS else Element(tag, vr, None)

    def _binary(self, value: Any, kind: str, path: str) -> bytes:
        if not isinstance(value, str):
            raise JsonModelError(f"{path}: \"{kind}\" must be a string, got {_kind(value)}")
        if kind == "InlineBinary":
            try:
                return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
            except (binascii.Error, UnicodeEncodeError) as exc:
                raise JsonModelError(f"{path}: invalid base64 in \"InlineBinary\": {exc}") from None
        resolver = self.opts.bulk_resolver
        if resolver is None:
            raise JsonModelError(f"{path}: BulkDataURI '{value}' given but bulk data reading "
                                 f"is not enabled")
        try:
            return resolver.read(value)
        except ValueError as exc:
            raise JsonModelError(f"{path}: {exc}") from None

    def _values(self, tag: int, vr: str, values: list, path: str, charsets: list[str],
                depth: int, parent: Dataset) -> Element:
        if vr == "SQ":
            items = Sequence()
            for i, item in enumerate(values):
                items.append(self.dataset(item, f"{path}[{i}]", charsets, depth + 1, parent))
            return Element(tag, vr, items)
        if vr in OTHER_VRS:
            raise JsonModelError(f"{path}: {vr} takes \"InlineBinary\" or \"BulkDataURI\", "
                                 f"not \"Value\"")
        if vr in STRING_VRS:
            texts = [self._text(v, vr, f"{path}.Value[{i}]") for i, v in enumerate(values)]
            text = "\\".join(texts)
            try:
                if vr in TEXT_VRS and charsets:
                    from .charset import encode
                    data = encode(text, charsets, vr)
                else:
                    data = text.encode("utf-8" if vr in TEXT_VRS else "latin-1")
            except (ValueError, UnicodeEncodeError) as exc:
                raise JsonModelError(f"{path}: value cannot be encoded in the Specific "
                                     f"Character Set: {exc}") from None
            if len(data) % 2:
                data += b"\0" if vr == "UI" else b" "
            return EncodedElement(tag, vr, data, charsets)
        if vr == "AT":
            numbers = [self._tag(v, f"{path}.Value[{i}]") for i, v in enumerate(values)]
        else:
            numbers = [self._binary_number(v, vr, f"{path}.Value[{i}]")
                       for i, v in enumerate(values)]
        return Element(tag, vr, numbers[0] if len(numbers) == 1 else numbers)

    def _text(self, value: Any, vr: str, path: str) -> str:
        if value is None:
            return ""
        if vr == "PN":
            return self._person(value, path)
        if vr in ("DS", "IS") and isinstance(value, _Number):
            return self._decimal(value, vr, path)
        if isinstance(value, str) and not isinstance(value, _Number):
            if "\\" in value and vr not in SINGLE_VALUED:
                raise JsonModelError(f"{path}: a {vr} value cannot contain a backslash")
            return value
        want = "a number, a string or null" if vr in ("DS", "IS") else "a string or null"
        raise JsonModelError(f"{path}: expected {want} for {vr}, got {_kind(value)}")

    def _decimal(self, literal: str, vr: str, path: str) -> str:
        if literal in ("NaN", "Infinity", "-Infinity"):
            raise JsonModelError(f"{path}: {literal} is not a {vr} value")
        if vr == "IS":
            if not _IS_RE.fullmatch(literal):
                value = float(literal)
                if not value.is_integer():
                    raise JsonModelError(f"{path}: {literal} is not an integer (IS)")
                return str(int(value))
        return literal

    def _person(self, value: Any, path: str) -> str:
        if not isinstance(value, dict) or isinstance(value, _Number):
            raise JsonModelError(f"{path}: expected a person name object or null, got "
                                 f"{_kind(value)}")
        groups = []
        for key, text in value.items():
            if key not in PN_GROUPS:
                raise JsonModelError(f"{path}: unknown person name group \"{key}\"")
            if not isinstance(text, str) or isinstance(text, _Number):
                raise JsonModelError(f"{path}.{key}: expected a string, got {_kind(text)}")
            if any(c in text for c in "=\\"):
                raise JsonModelError(f"{path}.{key}: '=' and '\\' are not allowed in a name")
        for name in PN_GROUPS:
            groups.append(value.get(name, ""))
        return "=".join(groups).rstrip("=")

    def _tag(self, value: Any, path: str) -> int:
        if not isinstance(value, str) or isinstance(value, _Number) or not _TAG_KEY.fullmatch(value):
            raise JsonModelError(f"{path}: expected a tag string like \"00100010\", got "
                                 f"{value!r}")
        return int(value, 16)

    def _binary_number(self, value: Any, vr: str, path: str) -> Any:
        if isinstance(value, _Number):
            text = str(value)
        elif isinstance(value, str) and vr in ("SV", "UV"):
            text = value.strip()
        else:
            raise JsonModelError(f"{path}: expected a number for {vr}, got {_kind(value)}")
        if vr in ("FL", "FD"):
            number = float(text)
            if vr == "FL":
                try:
                    struct.pack("<f", number)
                except OverflowError:
                    raise JsonModelError(f"{path}: {text} does not fit in FL") from None
            return number
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                as_float = math.nan
            if not as_float.is_integer():
                raise JsonModelError(f"{path}: {text} is not an integer ({vr})") from None
            number = int(as_float)
        bits = NUMERIC_VRS[vr][1] * 8
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if vr in ("SS", "SL", "SV") \
            else (0, (1 << bits) - 1)
        if not lo <= number <= hi:
            raise JsonModelError(f"{path}: {text} is out of range for {vr}")
        return number


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, _Number):
        return f"the number {value}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def from_json(text: str | bytes, options: JsonOptions | None = None) -> FileDataset:
    """A data set from DICOM JSON text (one object, or an array holding one object).

    Group 0002 elements become the meta header (``options.read_meta``; dropped otherwise) and
    its Transfer Syntax UID the data set's syntax (explicit VR little endian if absent).
    Raises :class:`JsonModelError` naming the line/column or the attribute path.
    """
    from . import xfer
    opts = options or JsonOptions()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonModelError(f"invalid JSON: not UTF-8 (offset {exc.start})") from None
    doc = parse_json(text)
    if isinstance(doc, list):
        if len(doc) != 1:
            raise JsonModelError(f"document: an array of {len(doc)} data sets (one expected)")
        doc = doc[0]
    reader = _Reader(opts)
    try:
        parsed = reader.dataset(doc, "", [], 0)
    except RecursionError:
        raise JsonModelError("document: nested too deeply") from None
    ds = FileDataset()
    meta = ds.file_meta
    for elem in parsed:
        if elem.tag >> 16 == 0x0002:
            if opts.read_meta:
                meta[elem.tag] = elem
        else:
            ds[elem.tag] = elem
    ts_elem = meta.get(0x00020010)
    uid = bytes(ts_elem.raw).decode("latin-1").strip("\0 ") if ts_elem is not None else ""
    syntax = xfer.lookup(uid) if uid else None
    ds.__dict__["transfer_syntax"] = syntax or xfer.EXPLICIT_LE
    ds.__dict__["has_meta"] = len(meta) > 0
    return ds
