"""The fields of a dump line (dcmdump's text format): VR names, value fields, numbers, hex
bytes and words, tags. Helpers of ``dumpparse``; each raises LineError for its line's problem.
"""
from __future__ import annotations

import re
from typing import Any

from .vr import ALL_VRS, NUMERIC_VRS

# DCMTK's internal VR names that a dump may show: they mean "the dictionary's VR"
INTERNAL_VRS = frozenset({"na", "ox", "xs", "up", "lt", "px", "??"})
PIXEL_ITEM_VR = "pi"
WS = " \t\r\n\v\f"
# what may follow a VR name on the line
_AFTER_VR = frozenset(WS + "[(=#<")
TAG = re.compile(r"\(\s*([0-9A-Fa-f]{1,4})\s*,\s*([0-9A-Fa-f]{1,4})\s*\)")
# binary VRs written as decimal numbers, with their NumPy type (OF/OD/OL/OV are arrays)
_NUMBER_ARRAYS = {"OF": "<f4", "OD": "<f8", "OL": "<u4", "OV": "<u8"}
_INT_RANGES = {"US": (0, 0xFFFF), "SS": (-0x8000, 0x7FFF), "UL": (0, 0xFFFFFFFF),
               "SL": (-0x80000000, 0x7FFFFFFF), "UV": (0, 2 ** 64 - 1),
               "SV": (-2 ** 63, 2 ** 63 - 1), "OL": (0, 0xFFFFFFFF), "OV": (0, 2 ** 64 - 1)}
_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)\Z",
                    re.IGNORECASE)
_HEX = re.compile(r"[0-9A-Fa-f]+\Z")
# dcmdump's own hex layout, read in one go
_HEX_BYTES = re.compile(r"[0-9A-Fa-f]{2}(?:\\[0-9A-Fa-f]{2})*\Z")
_HEX_WORDS = re.compile(r"[0-9A-Fa-f]{4}(?:\\[0-9A-Fa-f]{4})*\Z")


class LineError(Exception):
    """One line's problem (becomes an entry of DumpError.errors)."""


def split_vr(rest: str) -> tuple[str | None, str]:
    """The VR named at the start of ``rest`` (None if none) and the text after it."""
    two, after = rest[:2], rest[2:3]
    if len(two) < 2 or (after and after not in _AFTER_VR):
        return None, rest
    if two in ALL_VRS or two in INTERNAL_VRS or two == PIXEL_ITEM_VR:
        return two, rest[2:].lstrip(WS)
    if two.isascii() and two.isalpha() and two.isupper():
        raise LineError(f"unknown VR {q(two)}")
    return None, rest


def value_text(rest: str) -> tuple[str, str]:
    """(kind, text) of a value field: 'empty', 'bracket' (up to the last ']'), 'paren'
    (a description such as '(no value available)') or 'plain' (up to '#').

    Trailing white space in brackets goes, as in DCMTK; but a value that dcmdump printed over
    several lines keeps its line breaks (only spaces and tabs go).
    """
    rest = rest.lstrip(WS)
    if not rest or rest.startswith("#"):
        return "empty", ""
    if rest.startswith("["):
        end = rest.rfind("]")
        if end < 0:
            raise LineError("value has no closing ']'" + _shortened_hint(rest))
        text = rest[1:end]
        return "bracket", text.rstrip(" \t" if "\n" in text else WS)
    if rest.startswith("("):
        return "paren", rest.split("#", 1)[0].strip(WS)
    if rest.startswith("<"):
        raise LineError("a value cannot start with '<' (write text in [...], a file as =name)")
    return "plain", rest.split("#", 1)[0].strip(WS)


def q(text: str, limit: int = 40) -> str:
    """User text quoted for a one-line message: clipped, line breaks shown as escapes."""
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return "'" + text.replace("\r", "\\r").replace("\n", "\\n") + "'"


def _shortened_hint(text: str) -> str:
    return ": dcmdump shortened it (dump with +L)" if text.rstrip(WS).endswith("...") else ""


def _parts(text: str, what: str) -> list[str]:
    parts = [p.strip(WS) for p in text.split("\\")]
    for p in parts:
        if not p:
            raise LineError(f"empty {what} in {q(text)}")
    return parts


def _integers(text: str, vr: str) -> list[int]:
    lo, hi = _INT_RANGES[vr]
    out = []
    for p in _parts(text, "number"):
        if not _INT.match(p):
            raise LineError(f"{q(p)} is not an integer for {vr}" + _shortened_hint(p))
        n = int(p)
        if not lo <= n <= hi:
            raise LineError(f"{q(p)[1:-1]} is out of range for {vr} ({lo}..{hi})")
        out.append(n)
    return out


def _floats(text: str, vr: str) -> list[float]:
    out = []
    for p in _parts(text, "number"):
        if not _FLOAT.match(p):
            raise LineError(f"{q(p)} is not a number for {vr}" + _shortened_hint(p))
        out.append(float(p))
    return out


def _hex_units(text: str, digits: int, vr: str) -> list[int]:
    out = []
    for p in _parts(text, "hex value"):
        if len(p) > digits or not _HEX.match(p):
            raise LineError(f"{q(p)} is not a {digits}-digit hex value for {vr}"
                             + _shortened_hint(p))
        out.append(int(p, 16))
    return out


def hex_bytes(text: str, vr: str) -> bytes:
    if _HEX_BYTES.match(text):
        return bytes.fromhex(text.replace("\\", ""))
    return bytes(_hex_units(text, 2, vr))


def _hex_words(text: str) -> Any:
    import numpy as np
    if _HEX_WORDS.match(text):
        return np.frombuffer(bytes.fromhex(text.replace("\\", "")), dtype=">u2")
    return np.array(_hex_units(text, 4, "OW"), dtype="<u2")


def _attribute_tags(text: str) -> list[int]:
    tags = []
    for p in _parts(text, "tag"):
        m = TAG.fullmatch(p)
        if m is None:
            raise LineError(f"{q(p)} is not a tag (gggg,eeee) for AT" + _shortened_hint(p))
        tags.append((int(m.group(1), 16) << 16) | int(m.group(2), 16))
    return tags


def ow_array(data: bytes, big_endian: bool) -> Any:
    import numpy as np
    if len(data) % 2:
        data += b"\0"
    return np.frombuffer(data, dtype=">u2" if big_endian else "<u2")


def binary_value(vr: str, text: str) -> Any:
    """The value of a binary VR from its text (numbers, hex bytes or words, tags)."""
    if vr in ("OB", "UN"):
        return hex_bytes(text, vr)
    if vr == "OW":
        return _hex_words(text)
    if vr == "AT":
        tags = _attribute_tags(text)
        return tags[0] if len(tags) == 1 else tags
    if vr in NUMERIC_VRS or vr in _NUMBER_ARRAYS:
        nums = _floats(text, vr) if vr in ("FL", "FD", "OF", "OD") else _integers(text, vr)
        if vr in _NUMBER_ARRAYS:
            import numpy as np
            return np.array(nums, dtype=_NUMBER_ARRAYS[vr])
        return nums[0] if len(nums) == 1 else nums
    raise LineError(f"VR {vr} cannot be written in a dump")
