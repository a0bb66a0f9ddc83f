"""DIMSE status codes and their meanings (PS3.7 Annex C and the service annexes of PS3.4)."""
from __future__ import annotations

SUCCESS = 0x0000
PENDING = 0xFF00
PENDING_WARNING = 0xFF01
CANCEL = 0xFE00
WARNING = 0x0001
SOP_CLASS_NOT_SUPPORTED = 0x0122
PROCESSING_FAILURE = 0x0110
OUT_OF_RESOURCES = 0xA700
DATASET_DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
COERCION = 0xB000
ELEMENTS_DISCARDED = 0xB006
DATASET_DOES_NOT_MATCH_WARNING = 0xB007
SUBOPERATIONS_FAILED = 0xB000
MOVE_DESTINATION_UNKNOWN = 0xA801
UNABLE_TO_PERFORM_SUBOPS = 0xA702

# PS3.7 C.4 general statuses
GENERAL = {
    0x0000: "Success",
    0xFE00: "Cancel",
    0xFF00: "Pending",
    0xFF01: "Pending: Optional Keys Not Supported",
    0x0001: "Warning: Requested optional Attributes are not supported",
    0x0107: "Warning: Attribute list error",
    0x0116: "Warning: Attribute Value Out of Range",
    0x0105: "Failure: No such attribute",
    0x0106: "Failure: Invalid attribute value",
    0x0110: "Failure: Processing failure",
    0x0111: "Failure: Duplicate SOP Instance",
    0x0112: "Failure: No Such SOP Instance",
    0x0113: "Failure: No such event type",
    0x0114: "Failure: No such argument",
    0x0115: "Failure: Invalid argument value",
    0x0117: "Failure: Invalid object instance",
    0x0118: "Failure: No Such SOP Class",
    0x0119: "Failure: Class-Instance conflict",
    0x0120: "Failure: Missing attribute",
    0x0121: "Failure: Missing Attribute Value",
    0x0122: "Failure: SOP Class not Supported",
    0x0123: "Failure: No such action",
    0x0124: "Failure: Refused: Not Authorized",
    0x0210: "Failure: Duplicate invocation",
    0x0211: "Failure: Unrecognized operation",
    0x0212: "Failure: Mistyped argument",
    0x0213: "Failure: Resource limitation",
}

# per service (PS3.4 B.2.3, C.4.1.1.4, C.4.2.1.5, C.4.3.1.4); ranges are given by their first code
SERVICE = {
    "C-STORE": {0xA700: "Refused: Out of Resources", 0xA900: "Error: Data Set does not match "
                "SOP Class", 0xC000: "Error: Cannot understand", 0xB000: "Warning: Coercion of "
                "Data Elements", 0xB007: "Warning: Data Set does not match SOP Class",
                0xB006: "Warning: Elements Discarded"},
    "C-FIND": {0xA700: "Refused: Out of Resources", 0xA900: "Failed: Identifier does not match "
               "SOP Class", 0xC000: "Failed: Unable to process"},
    "C-MOVE": {0xA701: "Refused: Out of Resources - Unable to calculate number of matches",
               0xA702: "Refused: Out of Resources - Unable to perform sub-operations",
               0xA801: "Refused: Move Destination unknown", 0xA900: "Failed: Identifier does "
               "not match SOP Class", 0xC000: "Failed: Unable to process",
               0xB000: "Warning: Sub-operations Complete - One or more Failures"},
    "C-GET": {0xA701: "Refused: Out of Resources - Unable to calculate number of matches",
              0xA702: "Refused: Out of Resources - Unable to perform sub-operations",
              0xA900: "Failed: Identifier does not match SOP Class", 0xC000: "Failed: Unable to "
              "process", 0xB000: "Warning: Sub-operations Complete - One or more Failures"},
}

# DCMTK's status strings in its SCU log lines (``Received Store Response (...)``), by code or
# by the code's high byte (A7xx, A9xx, Cxxx)
_DCMTK_STORE = {0x0000: "Success", 0x0122: "Refused: SOPClassNotSupported",
                0xB000: "Warning: CoercionOfDataElements", 0xB006: "Warning: ElementsDiscarded",
                0xB007: "Warning: DataSetDoesNotMatchSOPClass"}
_DCMTK_STORE_RANGES = {0xA7: "Refused: OutOfResources", 0xA9: "Error: DataSetDoesNotMatchSOPClass"}


def category(code: int) -> str:
    """'Success', 'Pending', 'Cancel', 'Warning' or 'Failure' (PS3.7 C.1)."""
    if code == 0x0000:
        return "Success"
    if code in (0xFF00, 0xFF01):
        return "Pending"
    if code == 0xFE00:
        return "Cancel"
    if code in (0x0001, 0x0107, 0x0116) or 0xB000 <= code <= 0xBFFF:
        return "Warning"
    return "Failure"


def meaning(code: int, service: str | None = None) -> str:
    """The standard's meaning of ``code`` (for ``service`` if it defines one), else its category."""
    table = SERVICE.get(service or "", {})
    for key in (code, code & 0xFF00, code & 0xF000):
        if key in table:
            return table[key]
    return GENERAL.get(code, category(code))


def dcmtk_text(code: int, service: str) -> str:
    """The text DCMTK's SCUs print for a response status."""
    if service == "C-STORE":
        text = _DCMTK_STORE.get(code) or _DCMTK_STORE_RANGES.get(code >> 8)
        if text is None and code & 0xF000 == 0xC000:
            text = "Error: CannotUnderstand"
        return text or f"Unknown Status: 0x{code:x}"
    if code == 0x0000:
        return "Success"
    return f"Unknown Status: 0x{code:x}"
