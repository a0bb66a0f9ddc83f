"""Worklist matching: query values checked and compared as DCMTK's wlmscpfs does.

This is not :mod:`dcmpy.dcmqrdb.matching` (whose normalisers it reuses) because wlmscpfs has
rules of its own, measured against DCMTK 3.6.7 and kept here so that a modality sees the same
worklist from either server:

* query values are checked first (:func:`invalid_value`): CS keys take ``A-Z 0-9 _ space *
  ?`` only, other text keys printable ASCII, DA/TM keys valid dates/times or ranges of them;
* text keys compare case-sensitively after trimming spaces, a value of only ``*`` matches
  anything (even an absent attribute), several query values (``\\``) match if any does, and a
  record value with several values matches if any of them does;
* a date key and its time key, both given, match as one date-time for the three range forms
  of PS3.4 C.2.2.2.5.1 (``d1-d2`` + a time range, ``d1-`` + ``t1-``, ``-d2`` + ``-t2``), and
  separately otherwise; only their first values count, and a record without a time counts as
  midnight.

One deliberate difference: for ``d1-d2`` with an open-ended time range ``t1-`` DCMTK ends the
range at the start of ``d2`` (so nothing on the last day matches); we end it at the end of
that day, as the standard's example reads.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..dcmqrdb.matching import normalize_date, normalize_time

_DATE = r"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3])(?:[0-5]\d(?:[0-5]\d(?:\.\d{1,6})?)?)?"
_VALID = {
    "DA": re.compile(rf"(?:{_DATE}(?:-(?:{_DATE})?)?|-(?:{_DATE})?)\Z"),
    "TM": re.compile(rf"(?:{_TIME}(?:-(?:{_TIME})?)?|-(?:{_TIME})?)\Z"),
}
_CS_CHARS = re.compile(r"[A-Z0-9 _*?]*\Z")
_PRINTABLE = re.compile(r"[\x20-\x7e]*\Z")
MIDNIGHT, END_OF_DAY = "000000.000000", "235959.999999"
_NORMALIZE = {"DA": normalize_date, "TM": normalize_time}


def invalid_value(vr: str, text: str) -> str | None:
    """DCMTK's error comment for a matching key value it refuses, or None if it is valid."""
    if vr in _VALID:
        values = text.split("\\")
        for value in values:
            value = value.strip(" ")
            if not value or not _VALID[vr].match(value) or (value == "-" and len(values) > 1):
                return f"Invalid value for an attribute with VR={vr}"
        return None
    allowed = _CS_CHARS if vr == "CS" else _PRINTABLE
    if not allowed.match(text):
        return f"Invalid Character Repertoire for datatype {vr}"
    return None


def is_universal(text: str) -> bool:
    """An empty value or one made of ``*`` only: every record matches."""
    value = text.strip(" ")
    return not value or not value.strip("*")


@lru_cache(maxsize=256)
def _pattern(value: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in value), re.DOTALL)


def text_matches(kind: str, query: str, candidate: str | None) -> bool:
    """A text key (kind 'wildcard' or 'single') against a record value."""
    if any(not v.strip(" ").strip("*") for v in query.split("\\")):
        return True
    if candidate is None:
        return False
    values = [v.strip(" ") for v in candidate.split("\\")]
    wanted = [v.strip(" ") for v in query.split("\\")]
    if kind != "wildcard":
        return any(w in values for w in wanted)
    return any(_pattern(w).fullmatch(v) for w in wanted for v in values)


def _bounds(vr: str, value: str) -> tuple[str | None, str | None] | None:
    """(low, high) normalised; a single value gives (v, v); None if unreadable."""
    norm = _NORMALIZE[vr]
    if "-" not in value:
        single = norm(value) if value[:1] != " " else None
        return None if single is None else (single, single)
    low, _, high = value.partition("-")
    bounds = []
    for part in (low, high):
        if not part:
            bounds.append(None)
            continue
        found = norm(part) if part[:1] != " " and "-" not in part else None
        if found is None:
            return None
        bounds.append(found)
    return bounds[0], bounds[1]


def _within(value: str, bounds: tuple[str | None, str | None] | None) -> bool:
    if bounds is None:
        return False
    low, high = bounds
    return (low is None or low <= value) and (high is None or value <= high)


def range_matches(vr: str, query: str, candidate: str | None) -> bool:
    """A DA or TM key alone: any query value (single or range) holds the record's value."""
    if not query.strip(" "):
        return True
    found = _NORMALIZE[vr](candidate.strip(" ")) if candidate else None
    if found is None:
        return False
    return any(_within(found, _bounds(vr, v.rstrip(" "))) for v in query.split("\\"))


def date_time_matches(date_query: str, time_query: str, date: str | None,
                      time: str | None) -> bool:
    """A date key and its time key, both with values, against a record's date and time."""
    dq = date_query.split("\\")[0].rstrip(" ")
    tq = time_query.split("\\")[0].rstrip(" ")
    day = normalize_date(date.strip(" ")) if date else None
    if day is None:
        return False
    clock = (normalize_time(time.strip(" ")) if time and time.strip(" ") else None) or MIDNIGHT
    dates, times = _bounds("DA", dq), _bounds("TM", tq)
    if dates is None or times is None:
        return False
    (dlo, dhi), (tlo, thi) = dates, times
    if "-" in dq and "-" in tq:
        stamp = day + clock
        if dlo and dhi:
            return dlo + (tlo or MIDNIGHT) <= stamp <= dhi + (thi or END_OF_DAY)
        if dlo and not dhi and tlo and not thi:
            return dlo + tlo <= stamp
        if dhi and not dlo and thi and not tlo:
            return stamp <= dhi + thi
    return _within(day, dates) and _within(clock, times)
