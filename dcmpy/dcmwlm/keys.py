"""The Modality Worklist keys as DCMTK's wlmscpfs supports them (PS3.4 K.6-1).

``RETURN_KEYS`` is the tree of supported return keys: a tag maps to None (a plain attribute) or
to the dict of keys supported inside the items of that sequence. ``MATCHING`` says how each
matching key is compared (measured against DCMTK 3.6.7's wlmscpfs):

* ``wildcard``: ``*`` and ``?`` wildcards, several values (``\\``) match if any does;
* ``single``: exact values only (``*`` alone still means "any"), several values allowed;
* ``date`` / ``time``: single values, ranges and lists; a date key and its time key given
  together are matched as one date-time (see :mod:`dcmpy.dcmwlm.matching`).
"""
from __future__ import annotations

SPECIFIC_CHARACTER_SET = 0x00080005
SPS_SEQUENCE = 0x00400100
PROTOCOL_CODE_SEQUENCE = 0x00400008
PROCEDURE_CODE_SEQUENCE = 0x00321064
REFERENCED_STUDY_SEQUENCE = 0x00081110
REFERENCED_PATIENT_SEQUENCE = 0x00081120

_CODE = {0x00080100: None, 0x00080102: None, 0x00080103: None, 0x00080104: None}
_REFERENCE = {0x00081150: None, 0x00081155: None}

SPS_KEYS: dict[int, dict | None] = {
    0x00080060: None, 0x00321070: None, 0x00400001: None, 0x00400002: None, 0x00400003: None,
    0x00400004: None, 0x00400005: None, 0x00400006: None, 0x00400007: None,
    PROTOCOL_CODE_SEQUENCE: _CODE, 0x00400009: None, 0x00400010: None, 0x00400011: None,
    0x00400012: None, 0x00400020: None, 0x00400400: None,
}

RETURN_KEYS: dict[int, dict | None] = {
    0x00080020: None, 0x00080030: None, 0x00080050: None, 0x00080080: None, 0x00080081: None,
    0x00080090: None, 0x00081080: None, REFERENCED_STUDY_SEQUENCE: _REFERENCE,
    REFERENCED_PATIENT_SEQUENCE: _REFERENCE,
    0x00100010: None, 0x00100020: None, 0x00100021: None, 0x00100030: None, 0x00100040: None,
    0x00101000: None, 0x00101001: None, 0x00101020: None, 0x00101030: None, 0x00101040: None,
    0x00101080: None, 0x00102000: None, 0x00102110: None, 0x00102160: None, 0x001021A0: None,
    0x001021B0: None, 0x001021C0: None, 0x001021D0: None, 0x00102297: None, 0x00102298: None,
    0x00104000: None, 0x0020000D: None, 0x00321032: None, 0x00321033: None, 0x00321060: None,
    PROCEDURE_CODE_SEQUENCE: _CODE, 0x00380010: None, 0x00380011: None, 0x00380050: None,
    0x00380300: None, 0x00380500: None, SPS_SEQUENCE: SPS_KEYS,
    0x00401001: None, 0x00401002: None, 0x00401003: None, 0x00401004: None, 0x00401005: None,
    0x00401008: None, 0x00401009: None, 0x00401010: None, 0x00401400: None, 0x00402001: None,
    0x00402004: None, 0x00402005: None, 0x00402008: None, 0x00402009: None, 0x00402010: None,
    0x00402016: None, 0x00402017: None, 0x00402400: None, 0x00403001: None,
}

# Type 2 sequences added (empty) to a record that lacks them, as DCMTK does
TYPE2_SEQUENCES = (REFERENCED_STUDY_SEQUENCE, REFERENCED_PATIENT_SEQUENCE)

# matching key -> kind; SPS_MATCHING applies inside the Scheduled Procedure Step Sequence item
MATCHING: dict[int, str] = {
    0x00080020: "date", 0x00080030: "time", 0x00080050: "wildcard", 0x00080090: "wildcard",
    0x00100010: "wildcard", 0x00100020: "single", 0x00100021: "wildcard", 0x00100030: "date",
    0x00100040: "wildcard", 0x00102297: "wildcard", 0x00102298: "wildcard",
    0x00321032: "wildcard", 0x00380010: "wildcard", 0x00401001: "wildcard",
    0x00401003: "wildcard",
}
SPS_MATCHING: dict[int, str] = {
    0x00080060: "single", 0x00400001: "single", 0x00400002: "date", 0x00400003: "time",
    0x00400006: "wildcard",
}
# date key -> its time key (combined date-time matching)
DATE_TIME_PAIRS = {0x00080020: 0x00080030, 0x00400002: 0x00400003}

# -efr: a record must have these with a value (DCMTK's reading of K.6-1's Type 1 return keys);
# a description or, when it is absent, a code sequence whose items have value and scheme
REQUIRED = (0x00100010, 0x00100020, 0x0020000D, 0x00401001)
REQUIRED_SPS = (0x00080060, 0x00400001, 0x00400002, 0x00400003, 0x00400009)
DESCRIBED = ((0x00321060, PROCEDURE_CODE_SEQUENCE),)
DESCRIBED_SPS = ((0x00400007, PROTOCOL_CODE_SEQUENCE),)
CODE_REQUIRED = (0x00080100, 0x00080102)
