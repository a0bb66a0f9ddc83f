"""What the index keeps of an instance: its attributes by level, as JSON-able text.

Each level's attributes become ``{"GGGGEEEE": [vr, value]}``: text values decoded to Unicode
with the data set's Specific Character Set (several values joined by ``\\``), binary numbers
as their decimal text, AT as ``GGGGEEEE`` hex, sequences as lists of such dicts. Bulk binary
values (OB, OW, UN, ...), private tags, group lengths and group 0002 are left out, as is
anything beyond a budget per instance (so that a huge RT structure set stays a small row).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .keys import IMAGE, PATIENT, SERIES, STUDY, level_of
from .matching import normalize_date, normalize_time

__all__ = ["InstanceRecord", "extract", "dumps", "loads", "text_value", "RecordError",
           "LEVEL_COLUMNS"]

_BINARY_NUMBERS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "xs"})
_MAX_ELEMENTS = 4000            # per instance, sequence items included
_MAX_TEXT = 65536               # characters of one value
_MAX_DEPTH = 8                  # sequence nesting kept

# indexed columns per level: column -> (tag, normaliser name)
LEVEL_COLUMNS = {
    PATIENT: {"patient_id": (0x00100020, ""), "patient_name": (0x00100010, ""),
              "birth_date": (0x00100030, "DA"), "sex": (0x00100040, "")},
    STUDY: {"study_uid": (0x0020000D, ""), "study_date": (0x00080020, "DA"),
            "study_time": (0x00080030, "TM"), "accession": (0x00080050, ""),
            "study_id": (0x00200010, ""), "ref_physician": (0x00080090, ""),
            "description": (0x00081030, "")},
    SERIES: {"series_uid": (0x0020000E, ""), "modality": (0x00080060, ""),
             "series_number": (0x00200011, ""), "series_date": (0x00080021, "DA")},
    IMAGE: {"sop_uid": (0x00080018, ""), "sop_class": (0x00080016, ""),
            "instance_number": (0x00200013, "")},
}


class RecordError(ValueError):
    """A data set the archive cannot index (a missing or invalid unique key)."""


@dataclass
class InstanceRecord:
    """An instance as the index stores it."""
    levels: tuple[dict, dict, dict, dict]
    charset: str
    transfer_syntax: str

    def value(self, level: int, tag: int) -> Any:
        entry = self.levels[level].get(f"{tag:08X}")
        return entry[1] if entry else None

    def columns(self, level: int) -> dict[str, str]:
        """The indexed column values of a level (normalised, '' when absent)."""
        return columns_of(level, self.levels[level])

    def uid(self, level: int) -> str:
        key = {PATIENT: "patient_id", STUDY: "study_uid", SERIES: "series_uid", IMAGE: "sop_uid"}
        return self.columns(level)[key[level]]


def columns_of(level: int, attrs: dict) -> dict[str, str]:
    """The indexed column values of a level's attributes (normalised, '' when absent)."""
    out = {}
    for column, (tag, norm) in LEVEL_COLUMNS[level].items():
        entry = attrs.get(f"{tag:08X}")
        out[column] = column_value(entry[1] if entry else None, norm)
    return out


def column_value(value: Any, norm: str) -> str:
    """A stored value as its indexed column holds it."""
    text = value.strip(" ") if isinstance(value, str) else ""
    if norm == "DA":
        return normalize_date(text) or text
    if norm == "TM":
        return normalize_time(text) or text
    return text


def text_value(elem, charsets: list[str]) -> Any:
    """The JSON-able value of an element (None if the index does not keep it)."""
    vr = elem.vr
    if vr == "SQ":
        return None
    from dcmpy.dcmdata.vr import STRING_VRS, TEXT_VRS
    if vr in STRING_VRS:
        raw = bytes(elem.raw)
        if vr in TEXT_VRS and charsets and (not raw.isascii() or b"\x1b" in raw):
            from dcmpy.dcmdata.charset import decode
            text = decode(raw, charsets, vr)
        else:
            text = raw.decode("latin-1")
        text = text.rstrip("\0 ")
        return text if len(text) <= _MAX_TEXT else None
    if vr in _BINARY_NUMBERS:
        value = elem.value
        if hasattr(value, "tolist"):
            value = value.tolist()
        values = value if isinstance(value, (list, tuple)) else [value]
        return "\\".join(str(v) for v in values if v is not None)
    if vr == "AT":
        value = elem.value
        values = value if isinstance(value, list) else [value]
        return "\\".join(f"{v:08X}" for v in values)
    return None


class _Budget:
    def __init__(self) -> None:
        self.left = _MAX_ELEMENTS


def _item_dict(ds, charsets: list[str], budget: _Budget, depth: int) -> dict:
    out: dict[str, list] = {}
    local = ds.character_sets if 0x00080005 in ds else charsets
    for elem in ds:
        tag = elem.tag
        if (tag >> 16) & 1 or not tag & 0xFFFF or (tag >> 16) in (0x0002, 0xFFFC, 0xFFFE):
            continue
        entry = _element_entry(elem, local, budget, depth)
        if entry is not None:
            out[f"{tag:08X}"] = entry
    return out


def _element_entry(elem, charsets: list[str], budget: _Budget, depth: int) -> list | None:
    if budget.left <= 0:
        return None
    budget.left -= 1
    if elem.vr == "SQ":
        if depth >= _MAX_DEPTH:
            return None
        items = [_item_dict(item, charsets, budget, depth + 1) for item in elem.value]
        return ["SQ", items] if budget.left > 0 else None
    value = text_value(elem, charsets)
    return None if value is None else [elem.vr, value]


def extract(ds, transfer_syntax: str = "") -> InstanceRecord:
    """The index record of a data set (read with or without its pixel data)."""
    charsets = ds.character_sets
    budget = _Budget()
    levels: tuple[dict, dict, dict, dict] = ({}, {}, {}, {})
    for elem in ds:
        tag = elem.tag
        if (tag >> 16) & 1 or not tag & 0xFFFF or tag == 0x00080005 \
                or (tag >> 16) in (0x0002, 0xFFFC, 0xFFFE):
            continue
        entry = _element_entry(elem, charsets, budget, 0)
        if entry is not None:
            levels[level_of(tag)][f"{tag:08X}"] = entry
    record = InstanceRecord(levels, "\\".join(charsets), transfer_syntax)
    _check_uids(record)
    return record


def _check_uids(record: InstanceRecord) -> None:
    from dcmpy.dcmdata.uid import is_valid_uid
    for level, tag, name in ((STUDY, 0x0020000D, "Study Instance UID"),
                             (SERIES, 0x0020000E, "Series Instance UID"),
                             (IMAGE, 0x00080018, "SOP Instance UID"),
                             (IMAGE, 0x00080016, "SOP Class UID")):
        value = record.value(level, tag)
        if not isinstance(value, str) or not value.strip():
            raise RecordError(f"missing {name} {_tag_text(tag)}")
        if not is_valid_uid(value.strip()):
            raise RecordError(f"invalid {name} {_tag_text(tag)}: {value[:80]!r}")
    if len(record.uid(PATIENT)) > 64:
        raise RecordError("Patient ID (0010,0020) longer than 64 characters")


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def dumps(attrs: dict) -> str:
    return json.dumps(attrs, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> dict:
    return json.loads(text) if text else {}
