"""Reading the numbers the rendering pipeline needs from a data set, leniently and safely.

Decimal strings are parsed value by value (a bad value is skipped with a warning naming the
attribute, as DCMTK does); binary values are read from the stored bytes, so a VR the data set
gets wrong (US vs SS vs OW) cannot confuse the type of what comes back.
"""
from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from .. import _diag

if TYPE_CHECKING:
    from ..dcmdata.dataset import Dataset


def text(ds: Dataset, tag: int) -> str:
    """A string attribute's value, stripped ('' when absent)."""
    elem = ds.get(tag)
    if elem is None or elem.vr == "SQ":
        return ""
    return bytes(elem.raw).decode("latin-1").strip(" \0")


def texts(ds: Dataset, tag: int) -> list[str]:
    """The values of a multi-valued string attribute."""
    value = text(ds, tag)
    return [v.strip(" \0") for v in value.split("\\")] if value else []


def decimals(ds: Dataset, tag: int, name: str) -> list[float]:
    """The finite values of a DS (or IS) attribute; unreadable ones are skipped."""
    out = []
    for value in texts(ds, tag):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            out.append(number)
        else:
            _diag.warn(__name__, f"invalid value for '{name}' ({value}) ... ignoring")
    return out


def decimal(ds: Dataset, tag: int, name: str) -> float | None:
    values = decimals(ds, tag, name)
    return values[0] if values else None


def words(ds: Dataset, tag: int, signed: bool = False) -> list[int]:
    """A US/SS/OW attribute as 16-bit words, in the data set's byte order."""
    elem = ds.get(tag)
    if elem is None or elem.vr == "SQ":
        return []
    raw = bytes(elem.raw)
    order = "<" if elem.little_endian else ">"
    count = len(raw) // 2
    return list(struct.unpack(f"{order}{count}{'h' if signed else 'H'}", raw[:count * 2]))


def sequence(ds: Dataset, tag: int) -> list:
    elem = ds.get(tag)
    if elem is None or elem.vr != "SQ":
        return []
    return list(elem.value or ())
