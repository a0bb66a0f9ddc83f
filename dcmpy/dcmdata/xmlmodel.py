"""DICOM as XML: DCMTK's own dcm2xml format and the Native DICOM Model (PS3.19 Annex A).

``to_xml(ds, XmlOptions(...))`` writes what DCMTK 3.6.7's dcm2xml writes (``native=True``:
``-nat``, in :mod:`xmlnative`); ``from_xml(data)`` reads either format back. The parser is
expat with every entity declaration refused and no external DTD or entity ever loaded (no
"billion laughs", no XXE); a document type declaration without entities (DCMTK's ``+Xd``/``+Xe``)
is accepted. Errors are :class:`XmlModelError` naming the line and column.

Deliberate differences from DCMTK 3.6.7 (the Native Model's own are in :mod:`xmlnative`):

* A Specific Character Set without one XML encoding (ISO 2022 code extensions, GB18030):
  values are decoded and the document is UTF-8. DCMTK declares no encoding and quotes the
  bytes, writing ESC as ``&#27;``, which XML 1.0 forbids: its document is not well-formed.
* Items with their own Specific Character Set are decoded with it (DCMTK writes their bytes
  into the document unconverted, which is then not valid in its declared encoding).
* FL/FD digits that do not parse back to the stored value: exact ones (as in :mod:`jsonmodel`).
* ``binary="base64"`` values are read back (DCMTK's xml2dcm refuses its own ``+Eb`` output);
  OW words in base64 are big endian, as DCMTK writes them in its own format.
"""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Iterator

from .dataset import Dataset, FileDataset
from .dictionary import get_dictionary
from .dump import _run_steps
from .element import Element
from .jsonmodel import BulkDataStore, binary_le, float_text, json_vr
from .numfmt import format_g
from .tag import SPECIFIC_CHARACTER_SET
from .vr import NUMERIC_VRS, STRING_VRS, TEXT_VRS

__all__ = ["XmlOptions", "XmlModelError", "to_xml", "from_xml", "xml_encoding", "DTD_FILE"]

DTD_FILE = "/usr/share/dcmtk/dcm2xml.dtd"
DCMTK_NAMESPACE = "http://dicom.offis.de/dcmtk"
UNKNOWN_NAME = "Unknown Tag & Data"
_BINARY_VRS = frozenset({"OB", "OW", "UN"})
_DIRECTORY_RECORDS = 0x00041220
# the XML encodings DCMTK declares for the Specific Character Set (single terms only)
_ENCODINGS = {
    "": "UTF-8", "ISO_IR 6": "UTF-8", "ISO_IR 192": "UTF-8", "ISO_IR 100": "ISO-8859-1",
    "ISO_IR 101": "ISO-8859-2", "ISO_IR 109": "ISO-8859-3", "ISO_IR 110": "ISO-8859-4",
    "ISO_IR 144": "ISO-8859-5", "ISO_IR 127": "ISO-8859-6", "ISO_IR 126": "ISO-8859-7",
    "ISO_IR 138": "ISO-8859-8", "ISO_IR 148": "ISO-8859-9", "ISO_IR 203": "ISO-8859-15",
    "ISO_IR 166": "TIS-620",
}
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;",
            "\r": "&#13;", "\n": "&#10;"}


class XmlModelError(ValueError):
    """Malformed or hostile XML, or XML that is no DICOM data set: names line and column."""


@dataclass(frozen=True, slots=True)
class XmlOptions:
    """dcm2xml's output options."""
    native: bool = False             # -nat (else DCMTK's format, -dtk)
    namespace: bool = False          # +Xn
    dtd: str | None = None           # None, 'reference' (+Xd) or 'embed' (+Xe)
    dtd_file: str = DTD_FILE         # +Xf
    element_names: bool = True       # +Wn / -Wn
    write_binary: bool = False       # +Wb
    binary_encoding: str | None = None   # 'hex' (+Eh), 'uuid' (+Eu), 'base64' (+Eb); None: default
    load_limit: int | None = 4096    # -M / +R: longer binary values are "not loaded"; None: +M
    bulk_store: BulkDataStore | None = None   # native: BulkData files instead of UUIDs


def escape(text: str) -> str:
    """XML text as DCMTK writes it: markup characters and CR/LF as references, other control
    characters (not representable in XML 1.0) dropped as DCMTK drops them."""
    out = []
    for ch in text:
        rep = _ESCAPES.get(ch)
        if rep is not None:
            out.append(rep)
        elif ch >= " " and ch != "\x7f" or ch == "\t":
            out.append(ch)
    return "".join(out)


def item_charsets(item: Dataset, inherited: list[str]) -> list[str]:
    """The character sets of an item: its own (0008,0005) if it has a non-empty one."""
    own = item.get(SPECIFIC_CHARACTER_SET)
    if own is None:
        return inherited
    terms = [t.strip(" \0") for t in bytes(own.raw).decode("latin-1").split("\\")]
    return terms if any(terms) else inherited


def xml_encoding(ds: Dataset) -> str | None:
    """The encoding DCMTK declares for a data set: from (0008,0005), UTF-8 without one; None for
    a value without a single XML encoding (ISO 2022, several terms, GB18030, empty)."""
    elem = ds.get(SPECIFIC_CHARACTER_SET)
    if elem is None:
        return "UTF-8"
    terms = [t.strip(" \0") for t in bytes(elem.raw).decode("latin-1").split("\\")]
    if len(terms) != 1 or not terms[0]:
        return None
    return _ENCODINGS.get(terms[0])


def _header(encoding: str | None) -> str:
    declared = f' encoding="{encoding}"' if encoding else ""
    return f'<?xml version="1.0"{declared}?>\n'


class _DcmtkWriter:
    """DCMTK's own format (dcm2xml.dtd)."""

    def __init__(self, opts: XmlOptions, charsets: list[str], utf8: bool) -> None:
        self.opts = opts
        self.charsets = charsets
        self.utf8 = utf8
        self.encoding = opts.binary_encoding or "hex"
        self.dictionary = get_dictionary()

    def document(self, ds: FileDataset, loaded: bool) -> Iterator:
        self.all_loaded = loaded
        ns = f' xmlns="{DCMTK_NAMESPACE}"' if self.opts.namespace else ""
        yield f"<file-format{ns}>\n"
        meta = getattr(ds, "file_meta", None)
        has_meta = meta is not None and len(meta) > 0
        xfer_meta = ('xfer="1.2.840.10008.1.2.1" name="Little Endian Explicit"' if has_meta
                     else 'xfer="" name="Unknown Transfer Syntax"')
        yield f"<meta-header {xfer_meta}>\n"
        if has_meta:
            yield self._dataset(meta, [])
        yield "</meta-header>\n"
        ts = ds.transfer_syntax
        yield f'<data-set xfer="{ts.uid}" name="{escape(ts.name)}">\n'
        yield self._dataset(ds, self.charsets)
        yield "</data-set>\n</file-format>\n"

    def _dataset(self, ds: Dataset, charsets: list[str]) -> Iterator:
        for elem in ds:
            yield self._element(elem, ds, charsets)

    def _name(self, tag: int, ds: Dataset) -> str:
        if not self.opts.element_names:
            return ""
        entry = self.dictionary.find(tag, ds.private_creator(tag))
        return f' name="{escape(entry.name if entry is not None else UNKNOWN_NAME)}"'

    def _loaded(self, length: int) -> bool:
        limit = self.opts.load_limit
        return self.all_loaded or limit is None or length <= limit

    def _element(self, elem: Element, ds: Dataset, charsets: list[str]) -> Iterator:
        tag = elem.tag
        vr = json_vr(elem)
        head = f'tag="{tag >> 16:04x},{tag & 0xFFFF:04x}" vr="{vr}"'
        name = self._name(tag, ds)
        if vr == "SQ":
            items = elem.value or []
            length = "" if elem.is_raw and elem.undefined_length else f' len="{_sq_length(elem)}"'
            yield f'<sequence {head} card="{len(items)}"{length}{name}>\n'
            for item in items:
                ilen = item.item_length() if item.source is not None else -1
                ilen_text = "" if ilen == 0xFFFFFFFF else f' len="{max(ilen, 0)}"'
                if tag == _DIRECTORY_RECORDS and item.source is not None:
                    ilen_text += f' offset="{item.source.rows[item.item_row, 2]}"'
                yield f'<item card="{len(item)}"{ilen_text}>\n'
                yield self._dataset(item, item_charsets(item, charsets))
                yield "</item>\n"
            yield "</sequence>\n"
            return
        if elem.is_raw and elem.undefined_length:
            yield f'<sequence tag="{tag >> 16:04x},{tag & 0xFFFF:04x}" vr="OB" ' \
                  f'card="{len(elem.value)}"{name}>\n'
            for frag in elem.value:
                yield f'<pixel-item len="{len(frag)}"' + self._binary_attrs(bytes(frag), "OB",
                                                                            len(frag)) \
                    + "</pixel-item>\n"
            yield "</sequence>\n"
            return
        raw = elem.raw
        length = elem.stored_length if elem.is_raw else len(raw)
        if length % 2 and vr != "OW":
            length += 1                     # as DCMTK loads an odd value (not OW)
        vm = self._vm(elem, vr, raw)
        start = f'<element {head} vm="{vm}" len="{length}"{name}'
        if vr in _BINARY_VRS:
            yield start + self._binary_attrs(binary_le(elem, vr), vr, length) + "</element>\n"
            return
        yield start + ">" + escape(self._text(elem, vr, raw, charsets)) + "</element>\n"

    def _vm(self, elem: Element, vr: str, raw) -> int:
        if vr in _BINARY_VRS or vr in ("OF", "OD", "OL", "OV"):
            return 1
        if len(raw) % 2 and vr in NUMERIC_VRS:
            raw = bytes(raw) + b"\0"
        if vr in STRING_VRS and not bytes(raw).strip(b" \0"):
            return 0
        from .values import value_multiplicity
        return value_multiplicity(raw, vr)

    def _binary_attrs(self, data: bytes, vr: str, length: int) -> str:
        loaded = self._loaded(length)
        attrs = "" if loaded else ' loaded="no"'
        if not self.opts.write_binary:
            return attrs + ' binary="hidden">'
        if self.encoding == "base64":
            if vr == "OW":       # DCMTK writes OW words big endian in base64
                data = _swap16(data)
            return attrs + ' binary="base64">' + (base64.b64encode(data).decode() if loaded else "")
        if not loaded:
            return attrs + ' binary="yes">'
        if vr == "OW":
            words = struct.unpack(f"<{len(data) // 2}H", data[:len(data) // 2 * 2])
            return attrs + ' binary="yes">' + "\\".join(f"{w:04x}" for w in words)
        return attrs + ' binary="yes">' + "\\".join(f"{b:02x}" for b in data)

    def _text(self, elem: Element, vr: str, raw, charsets: list[str]) -> str:
        if not len(raw):
            return ""
        if vr in STRING_VRS:
            data = bytes(raw) + (b"\0" if len(raw) % 2 else b"")
            if vr in TEXT_VRS and charsets:
                from .charset import decode
                text = decode(data, charsets, vr)
            else:
                text = _decode_plain(data, self.utf8)
            if vr in ("CS", "IS"):        # DCMTK trims each value of these
                return "\\".join(v.strip(" ") for v in text.split("\\"))
            return text.rstrip("\0 ") if vr == "UI" else text.rstrip(" ")
        return "\\".join(number_texts(elem, vr, raw, dcmtk_format=True))


def _decode_plain(data: bytes, utf8: bool) -> str:
    """A value of a VR that the character set does not affect (or of any VR without one)."""
    if utf8:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _sq_length(elem: Element) -> int:
    return max(elem.stored_length, 0) if elem.is_raw else 0


def _swap16(data: bytes) -> bytes:
    from array import array
    words = array("H", data[:len(data) // 2 * 2])
    words.byteswap()
    return words.tobytes() + data[len(data) // 2 * 2:]


def number_texts(elem: Element, vr: str, raw, dcmtk_format: bool) -> list[str]:
    """Binary numbers, AT and OF/OD/OL/OV values as DCMTK's XML writers print them."""
    from .values import numbers
    little = elem.little_endian
    if len(raw) % 2:
        raw = bytes(raw) + b"\0"
    if vr == "AT":
        words = numbers(raw, "US", little)
        if dcmtk_format:
            return [f"({words[i]:04x},{words[i + 1]:04x})" for i in range(0, len(words) - 1, 2)]
        return [f"{words[i]:04X}{words[i + 1]:04X}" for i in range(0, len(words) - 1, 2)]
    nums = numbers(raw, vr, little)
    if vr in ("FL", "FD"):
        return [float_text(v, vr) if _finite(v) else format_g(v, 9) for v in nums]
    if vr == "OF":
        return [f"{v:.8g}" for v in nums]
    if vr == "OD":
        return [f"{v:.17g}" for v in nums]
    return [str(v) for v in nums]


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def to_xml(ds: FileDataset, options: XmlOptions | None = None, *,
           charsets: list[str] | None = None) -> bytes:
    """``ds`` as XML in DCMTK's format or the Native DICOM Model, encoded as declared.

    ``charsets`` is the Specific Character Set to decode text values with (default: the data
    set's own). Characters the declared encoding cannot hold become character references.
    """
    opts = options or XmlOptions()
    encoding = xml_encoding(ds)
    if charsets is None:
        charsets = ds.character_sets
    elif ds.get(SPECIFIC_CHARACTER_SET) is None:      # +Ca: an assumed character set
        encoding = _ENCODINGS.get(charsets[0]) if len(charsets) == 1 else None
    declared = encoding
    if encoding is None:        # ISO 2022, GB18030...: decoded, written as UTF-8
        encoding = "UTF-8"
        # an empty (0008,0005): DCMTK declares nothing (UTF-8 implied)
        declared = "UTF-8" if any(charsets) else None
    loaded = bool(ds.transfer_syntax is not None and ds.transfer_syntax.deflated)
    utf8 = encoding == "UTF-8"
    if opts.native:
        from .xmlnative import NativeWriter
        steps = NativeWriter(opts, charsets, utf8).document(ds)
        prolog = _header(declared)
    else:
        steps = _DcmtkWriter(opts, charsets, utf8).document(ds, loaded)
        prolog = _header(declared) + _doctype(opts)
    text = prolog + "".join(_run_steps(steps))
    return text.encode(_python_codec(encoding), "xmlcharrefreplace")


def _python_codec(encoding: str) -> str:
    return {"TIS-620": "tis_620"}.get(encoding, encoding)


def _doctype(opts: XmlOptions) -> str:
    if opts.dtd == "reference":
        return '<!DOCTYPE file-format SYSTEM "dcm2xml.dtd">\n'
    if opts.dtd == "embed":
        with open(opts.dtd_file, encoding="latin-1") as f:
            content = f.read()
        return "<!DOCTYPE file-format [\n" + content + ("" if content.endswith("\n") else "\n") \
            + "]>\n"
    return ""


def from_xml(data: bytes, *, read_meta: bool = True, bulk_resolver=None) -> FileDataset:
    """A data set from XML in DCMTK's format or the Native DICOM Model (detected by the root).

    Raises :class:`XmlModelError` naming the line and column of the first problem.
    """
    from .xmlread import parse
    return parse(data, read_meta=read_meta, bulk_resolver=bulk_resolver)
