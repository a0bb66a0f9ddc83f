"""Value representations (PS3.5 6.2): what each VR's bytes mean."""
from __future__ import annotations

# VRs whose explicit header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2)
LONG_VRS = frozenset({"OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "SV", "UV", "UC", "UR"})

ALL_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB",
                     "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM",
                     "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"})

# character string VRs; the value is split on backslash unless listed in SINGLE_VALUED
STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST",
                        "TM", "UC", "UI", "UR", "UT"})
SINGLE_VALUED = frozenset({"LT", "ST", "UT", "UR"})
# string VRs whose bytes depend on the Specific Character Set
TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})

# binary numbers: numpy dtype (little endian) and size
NUMERIC_VRS = {
    "US": ("<u2", 2), "SS": ("<i2", 2), "UL": ("<u4", 4), "SL": ("<i4", 4),
    "UV": ("<u8", 8), "SV": ("<i8", 8), "FL": ("<f4", 4), "FD": ("<f8", 8),
}
# "other" binary VRs: word size for byte swapping
OTHER_VRS = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def value_width(vr: str) -> int:
    """Size of one binary value in bytes (1 for strings and OB/UN); AT is 4 (two 16-bit halves)."""
    if vr in NUMERIC_VRS:
        return NUMERIC_VRS[vr][1]
    if vr == "AT":
        return 4
    return OTHER_VRS.get(vr, 1)


def swap_width(vr: str) -> int:
    """The unit in which big-endian values are byte swapped (AT swaps its two halves as 2)."""
    return 2 if vr == "AT" else value_width(vr)


def pad_byte(vr: str) -> bytes:
    """Padding for odd-length values: NUL for UI and binary, space for other strings."""
    return b" " if vr in STRING_VRS and vr != "UI" else b"\0"


def code(vr: str) -> int:
    """Two ASCII letters as the scanner's 16-bit code."""
    return (ord(vr[0]) << 8) | ord(vr[1])


def name(code_: int) -> str:
    return chr(code_ >> 8) + chr(code_ & 0xFF)
