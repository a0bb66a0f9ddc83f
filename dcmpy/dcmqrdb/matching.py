"""C-FIND attribute matching (PS3.4 C.2.2.2) in Python, and its translation to SQL.

A query key becomes a :class:`Condition`: universal (empty value, or ``*``), single value,
wildcard (``*`` any run, ``?`` one character) for the text VRs, range (``a-b``, ``-b``, ``a-``)
for DA, TM and DT, list of UIDs (``\\``-separated) for UI, sequence matching (any stored item
matches every key of the query item) for SQ, and, when asked for, combined date-time matching of
a date key with its time key (StudyDate + StudyTime as one DT range).

Values are compared as Unicode text (each side decoded with its own Specific Character Set),
with leading and trailing spaces removed, case-sensitively, as DCMTK does. An attribute whose
dictionary VM allows several values matches if any value does; a query with several values
(other than a UID list) matches if any of them does.

``Condition.sql(column)`` gives a condition on an indexed column that every matching row
satisfies (LIKE for wildcards, ranges on the normalised date/time columns, IN for UID lists);
the exact test is ``Condition.matches`` on the rows SQL returns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Condition", "SequenceCondition", "CombinedDateTime", "parse_condition",
           "normalize_date", "normalize_time", "normalize_datetime", "like_pattern",
           "WILDCARD_VRS", "COMBINED_PAIRS"]

WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})
# date key -> time key whose values combine into one date-time (PS3.4 C.2.2.2.5.1)
COMBINED_PAIRS = {0x00080020: 0x00080030, 0x00080021: 0x00080031, 0x00080022: 0x00080032,
                  0x00080023: 0x00080033, 0x00100030: 0x00100032, 0x00400244: 0x00400245}

_DT_RE = re.compile(r"(\d{4,14})(\.\d{1,6})?([+-]\d{4})?\Z")
_DT_PART = r"\d{4,14}(?:\.\d{1,6})?(?:[+-]\d{4})?"
_DT_RANGE = re.compile(rf"({_DT_PART})?-({_DT_PART})?\Z")


# -- normalised forms: strings that compare in time order ------------------------------------

def normalize_date(text: str) -> str | None:
    """'20110131' (or the old '2011.01.31') -> '20110131'; None if not a date."""
    t = text.strip()
    if len(t) == 10 and t[4] == "." and t[7] == ".":
        t = t.replace(".", "")
    return t if len(t) == 8 and t.isdigit() else None


def normalize_time(text: str) -> str | None:
    """'10', '1030', '103015', '103015.5' (or '10:30:15') -> 'HHMMSS.ffffff' padded with zeros."""
    t = text.strip().replace(":", "")
    whole, _, frac = t.partition(".")
    if not whole.isdigit() or len(whole) not in (2, 4, 6) or (frac and not frac.isdigit()) \
            or len(frac) > 6 or (frac and len(whole) != 6):
        return None
    return whole.ljust(6, "0") + "." + frac.ljust(6, "0")


def normalize_datetime(text: str) -> str | None:
    """A DT value (timezone offset ignored) -> 'YYYYMMDDHHMMSS.ffffff'; None if not a DT."""
    m = _DT_RE.match(text.strip())
    if m is None or len(m.group(1)) % 2:
        return None
    digits = m.group(1)
    digits += "0101"[len(digits) - 4:] if len(digits) < 8 else ""
    frac = (m.group(2) or ".")[1:]
    if frac and len(digits) != 14:
        return None
    return digits.ljust(14, "0") + "." + frac.ljust(6, "0")


_NORMALIZE = {"DA": normalize_date, "TM": normalize_time, "DT": normalize_datetime}


def like_pattern(query: str) -> str:
    """A DICOM wildcard value as an SQL LIKE pattern with '\\' as the escape character."""
    out = []
    for ch in query:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _wildcard_regex(query: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in query),
                      re.DOTALL)


# -- conditions ----------------------------------------------------------------------------

@dataclass
class Condition:
    """One key of an identifier, parsed for matching."""
    tag: int
    vr: str
    kind: str                    # universal, single, wildcard, range, uids, invalid
    values: list[Any] = field(default_factory=list)   # strings, patterns, or (lo, hi) bounds
    multi: bool = False          # the attribute may hold several values
    regexes: list[re.Pattern] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "wildcard":
            self.regexes = [_wildcard_regex(v) for v in self.values]

    def matches(self, candidate: str | None) -> bool:
        """Does a stored value (text, several values joined by '\\'; None if absent) match?"""
        if self.kind == "universal":
            return True
        if self.kind == "invalid":
            return False
        text = candidate or ""
        parts = text.split("\\") if self.multi else [text]
        return any(self._one(p.strip(" ")) for p in parts)

    def _one(self, value: str) -> bool:
        kind = self.kind
        if kind in ("single", "uids"):
            if self.vr in RANGE_VRS:
                value = _NORMALIZE[self.vr](value) or ""
            return value in self.values
        if kind == "wildcard":
            return any(rx.fullmatch(value) for rx in self.regexes)
        norm = _NORMALIZE[self.vr](value)
        return norm is not None and any((lo is None or lo <= norm) and (hi is None or norm <= hi)
                                        for lo, hi in self.values)

    def sql(self, column: str) -> tuple[str, list] | None:
        """A necessary condition on ``column`` (the normalised value), or None."""
        kind, values = self.kind, self.values
        if kind == "universal":
            return None
        if kind == "invalid":
            return "1 = 0", []
        if self.multi:
            if kind == "single" and len(values) == 1:
                return f"{column} LIKE ? ESCAPE '\\'", ["%" + like_pattern(values[0]) + "%"]
            return None
        if kind in ("single", "uids"):
            if len(values) == 1:
                return f"{column} = ?", list(values)
            if len(values) <= 1000:
                return f"{column} IN ({', '.join('?' * len(values))})", list(values)
            return None
        if kind == "wildcard":
            if len(values) != 1:
                return None
            return f"{column} LIKE ? ESCAPE '\\'", [like_pattern(values[0])]
        if len(values) != 1:
            return None
        lo, hi = values[0]
        parts, params = [f"{column} <> ''"], []
        if lo is not None:
            parts.append(f"{column} >= ?")
            params.append(lo)
        if hi is not None:
            parts.append(f"{column} <= ?")
            params.append(hi)
        return " AND ".join(parts), params


@dataclass
class SequenceCondition:
    """A sequence key: matches if some stored item matches every key of the query item."""
    tag: int
    items: list[list[Condition | SequenceCondition]]     # one query item at most
    vr: str = "SQ"

    @property
    def kind(self) -> str:
        return "universal" if not self.items or not any(self.items[0]) else "sequence"

    def matches(self, candidate: list[dict] | None) -> bool:
        if self.kind == "universal":
            return True
        keys = self.items[0]
        return any(all(k.matches(_item_value(item, k.tag)) for k in keys)
                   for item in candidate or ())

    def sql(self, column: str) -> None:
        return None


def _item_value(item: dict, tag: int) -> Any:
    entry = item.get(f"{tag:08X}")
    return entry[1] if entry else None


@dataclass
class CombinedDateTime:
    """A date key and its time key matched as one date-time range (PS3.4 C.2.2.2.5.1)."""
    date: Condition
    time: Condition

    @property
    def tag(self) -> int:
        return self.date.tag

    def matches(self, date: str | None, time: str | None) -> bool:
        d = normalize_date(date or "")
        if d is None:
            return False
        t = normalize_time(time or "") or "000000.000000"
        value = d + t
        for (dlo, dhi), (tlo, thi) in zip(_ranges(self.date), _ranges(self.time)):
            lo = None if dlo is None else dlo + (tlo or "000000.000000")
            hi = None if dhi is None else dhi + (thi or "235959.999999")
            if (lo is None or lo <= value) and (hi is None or value <= hi):
                return True
        return False


def _ranges(cond: Condition) -> list[tuple[str | None, str | None]]:
    if cond.kind == "universal":
        return [(None, None)]
    if cond.kind == "single":
        return [(v, v) for v in cond.values]
    return list(cond.values) if cond.kind == "range" else [("~", "~")]


# -- parsing a query value -------------------------------------------------------------------

def parse_condition(tag: int, vr: str, query: str, multi: bool = False) -> Condition:
    """The condition for key ``tag`` (VR ``vr``) with query value ``query`` (values joined by '\\').

    A value that cannot be a valid DA/TM/DT (or range of them) matches nothing.
    """
    if vr == "UI":
        uids = [u.strip(" \0") for u in query.split("\\")]
        uids = [u for u in uids if u]
        return Condition(tag, vr, "uids" if uids else "universal", uids, multi)
    values = [v.strip(" ") for v in query.split("\\")] if query.strip(" ") else []
    if not values or (vr in WILDCARD_VRS and any(v == "*" for v in values)):
        return Condition(tag, vr, "universal", [], multi)
    if vr in WILDCARD_VRS and any("*" in v or "?" in v for v in values):
        return Condition(tag, vr, "wildcard", values, multi)
    if vr in RANGE_VRS:
        return _range_condition(tag, vr, values, multi)
    return Condition(tag, vr, "single", values, multi)


def _range_condition(tag: int, vr: str, values: list[str], multi: bool) -> Condition:
    norm = _NORMALIZE[vr]
    singles, ranges = [], []
    for value in values:
        single = norm(value)
        if single is not None:
            singles.append(single)
            continue
        bounds = _split_range(vr, value)
        if bounds is None:
            return Condition(tag, vr, "invalid", [], multi)
        ranges.append(bounds)
    if ranges:
        return Condition(tag, vr, "range", ranges + [(s, s) for s in singles], multi)
    return Condition(tag, vr, "single", singles, multi)


def _split_range(vr: str, value: str) -> tuple[str | None, str | None] | None:
    if vr == "DT":
        m = _DT_RANGE.match(value)
        if m is None or not (m.group(1) or m.group(2)):
            return None
        texts = [m.group(1), m.group(2)]
    else:
        if value.count("-") != 1 or value.strip() == "-":
            return None
        texts = [t.strip() or None for t in value.split("-")]
    out = []
    for text in texts:
        if text is None:
            out.append(None)
            continue
        norm = _NORMALIZE[vr](text)
        if norm is None:
            return None
        out.append(norm)
    return out[0], out[1]

