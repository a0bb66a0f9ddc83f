"""Writing the Native DICOM Model (PS3.19 Annex A), as DCMTK 3.6.7's ``dcm2xml -nat``.

Deliberate differences from DCMTK 3.6.7, each PS3.19's form:

* An empty value of a multi-valued PN is an empty ``<PersonName>`` (DCMTK repeats the previous
  name), and a group is written only when it has components (DCMTK repeats the Alphabetic
  group as Ideographic for ``A==P`` and writes an empty ``<Alphabetic>`` for ``=I``).
* A multi-valued string whose values are all empty keeps its empty ``<Value>`` elements.
* A private element without a private creator keeps its full tag (DCMTK writes ``gggg00ee``
  and loses the block).
* Encapsulated pixel data is written (BulkData, or InlineBinary of the encapsulated value
  field with ``+Eb``); DCMTK fails.
"""
from __future__ import annotations

import base64
import uuid
from typing import Iterator

from .dataset import Dataset
from .dictionary import get_dictionary
from .element import Element
from .jsonmodel import PN_GROUPS, binary_le, fragments_field, json_vr, split_values
from .tag import is_private
from .vr import OTHER_VRS, STRING_VRS, TEXT_VRS

NATIVE_NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
_ILLEGAL_GROUPS = frozenset({0x0001, 0x0003, 0x0005, 0x0007})
PN_COMPONENTS = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")


class NativeWriter:
    """Formats data sets in the Native DICOM Model."""

    def __init__(self, opts, charsets: list[str], utf8: bool) -> None:
        self.opts = opts
        self.charsets = charsets
        self.utf8 = utf8
        self.encoding = opts.binary_encoding or "uuid"
        self.dictionary = get_dictionary()

    def document(self, ds: Dataset) -> Iterator:
        from .xmlmodel import escape
        self.escape = escape
        ns = f' xmlns="{NATIVE_NAMESPACE}"' if self.opts.namespace else ""
        yield f'<NativeDicomModel xml:space="preserve"{ns}>\n'
        yield self._dataset(ds)
        yield "</NativeDicomModel>\n"

    def _dataset(self, ds: Dataset) -> Iterator:
        for elem in ds:
            # group lengths are not part of the model (DCMTK keeps those of illegal groups)
            if elem.tag & 0xFFFF or elem.tag >> 16 in _ILLEGAL_GROUPS:
                yield self._element(elem, ds)

    def _open(self, elem: Element, ds: Dataset, vr: str) -> str:
        tag = elem.tag
        attrs = f'tag="{tag:08X}" vr="{vr}"'
        if is_private(tag) and tag >> 16 > 0x0008:
            creator = ds.private_creator(tag)
            if creator is not None and (tag & 0xFFFF) >= 0x1000:
                attrs = f'tag="{tag & 0xFFFF00FF:08X}" vr="{vr}" ' \
                        f'privateCreator="{self.escape(creator)}"'
        else:
            entry = self.dictionary.find(tag)
            if entry is not None and not entry.retired and entry.version != "GENERIC":
                attrs += f' keyword="{entry.name}"'
        return f"<DicomAttribute {attrs}>\n"

    def _element(self, elem: Element, ds: Dataset) -> Iterator:
        vr = json_vr(elem)
        if elem.is_raw and elem.undefined_length and vr != "SQ":
            vr = "OB"                       # encapsulated pixel data
        yield self._open(elem, ds, vr)
        if vr == "SQ":
            for number, item in enumerate(elem.value or [], 1):
                yield f'<Item number="{number}">\n'
                yield self._dataset(item)
                yield "</Item>\n"
        elif elem.is_raw and elem.undefined_length:
            yield self._binary(fragments_field(elem.value))
        elif vr in OTHER_VRS:
            data = binary_le(elem, vr)
            if data:
                yield self._binary(data)
        else:
            yield "".join(self._values(elem, vr))
        yield "</DicomAttribute>\n"

    def _binary(self, data: bytes) -> str:
        if self.encoding == "base64":
            return f"<InlineBinary>{base64.b64encode(data).decode()}</InlineBinary>\n"
        store = self.opts.bulk_store
        if store is not None:
            return f'<BulkData uri="{self.escape(store.write(data))}"/>\n'
        return f'<BulkData uuid="{uuid.uuid1()}"/>\n'

    def _values(self, elem: Element, vr: str) -> Iterator[str]:
        raw = elem.raw
        if not len(raw):
            return
        if vr in STRING_VRS:
            parts = split_values(raw, vr, self.charsets if vr in TEXT_VRS else None)
            if vr in ("DS", "IS"):
                parts = [p.strip(" ") for p in parts]
            if len(parts) == 1 and not (parts[0].strip("^= ") if vr == "PN" else parts[0]):
                return
            for number, text in enumerate(parts, 1):
                if vr == "PN":
                    yield self._person(number, text)
                else:
                    yield f'<Value number="{number}">{self.escape(text)}</Value>\n'
            return
        from .xmlmodel import number_texts
        for number, text in enumerate(number_texts(elem, vr, raw, dcmtk_format=False), 1):
            yield f'<Value number="{number}">{text}</Value>\n'

    def _person(self, number: int, value: str) -> str:
        out = [f'<PersonName number="{number}">\n']
        for name, group in zip(PN_GROUPS, value.split("=")):
            parts = group.split("^")
            if not any(parts):
                continue
            out.append(f"<{name}>\n")
            for component, text in zip(PN_COMPONENTS, parts):
                if text:
                    out.append(f"<{component}>{self.escape(text)}</{component}>\n")
            out.append(f"</{name}>\n")
        out.append("</PersonName>\n")
        return "".join(out)
