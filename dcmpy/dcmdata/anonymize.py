"""De-identification: PS3.15 Annex E Basic Application Level Confidentiality Profile and Options.

The actions of Table E.1-1 (``_deid_table``) are applied to a data set and, recursively, to every
sequence item::

    from dcmpy.dcmdata.anonymize import Anonymizer, AnonymizeOptions
    anon = Anonymizer(AnonymizeOptions(dates="modified", clean_descriptors=True), key=b"secret")
    changes = anon.anonymize(ds)            # in place; a list of Change records

How the table's codes are carried out (the choice the table leaves open is made without IOD
knowledge, always for the alternative that keeps the object valid):

* ``X`` remove (Overlay Data: the whole overlay group); ``Z`` zero length (a sequence: no items);
  ``D`` a dummy value valid for the VR (a sequence: its items are processed and the free text
  that the table does not list, like SR Text Values, is replaced); ``X/Z`` -> Z; ``X/D``, ``Z/D``, ``X/Z/D`` -> D; ``X/Z/U*`` keep the
  sequence and process its items (their UIDs are then replaced by their own ``U`` rows).
* ``U`` a UID derived from the original by HMAC-SHA256 with the secret key: ``2.25.<128-bit int>``
  (at most 44 characters), the same for the same input and key in every file and run; registered
  UIDs (SOP classes, transfer syntaxes, well-known frames of reference) are kept.
* ``K`` keep (sequences: process the items); ``C`` clean: dates are shifted by whole days
  (modified dates), free text is kept with every identifying term found in the data set (names,
  IDs, removed dates, ...) blanked out, sequences are processed, binary values are removed.
* When options apply to a row, ``K`` from any of them wins over ``C``, and both over the Basic
  Profile action.
* Attributes that the table does not list are kept, except: private attributes (removed unless
  ``retain_safe_private`` and listed as safe), person names (emptied), dates and date-times
  (treated as the date options say, else replaced by a dummy).
* Patient ID and Patient's Name become a keyed pseudonym of the original Patient ID (``pseudonym``),
  so the patients of a folder stay apart; modified dates are shifted by ``date_shift`` days or by
  a per-patient offset derived from the key.
* Patient Identity Removed, De-identification Method (and its code sequence, CID 7050) and
  Longitudinal Temporal Information Modified are set.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

from .dataset import Dataset, Sequence
from .element import Element
from .tag import is_private, private_creator_tag, tag_str
from .vr import STRING_VRS

__all__ = ["AnonymizeOptions", "Anonymizer", "Change", "CODE_MEANINGS", "parse_safe_private"]

_DATE_MODES = ("remove", "full", "modified")
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN", "AE", "UR"})
_FREE_TEXT_VRS = frozenset({"ST", "LT", "UT", "UC"})
_DUMMY_TEXT = "ANONYMIZED"
_DUMMIES = {"DA": "19000101", "DT": "19000101000000", "TM": "000000", "AS": "000D", "DS": "0",
            "IS": "0", "UR": "urn:x-anonymized", "CS": _DUMMY_TEXT,
            "PN": f"{_DUMMY_TEXT}^{_DUMMY_TEXT}"}
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT", "xs"})
_PLAIN_VR = {"xs": "US", "ox": "OW", "??": "UN", "lt": "OW", "up": "UL", "px": "OW"}
_COMPOUND = {"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "U*"}

# CID 7050 De-identification Method (PS3.16)
CODE_MEANINGS = {
    "113100": "Basic Application Confidentiality Profile",
    "113103": "Clean Graphics Option",
    "113104": "Clean Structured Content Option",
    "113105": "Clean Descriptors Option",
    "113106": "Retain Longitudinal Temporal Information Full Dates Option",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
    "113109": "Retain Device Identity Option",
    "113110": "Retain UIDs Option",
    "113111": "Retain Safe Private Option",
    "113112": "Retain Institution Identity Option",
}

PATIENT_ID, PATIENT_NAME = 0x00100020, 0x00100010
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_BURNED_IN = 0x00280301


@dataclass(frozen=True)
class AnonymizeOptions:
    """The profile's options (PS3.15 E.3); the defaults are the Basic Profile alone."""
    retain_safe_private: bool = False
    retain_uids: bool = False
    retain_device_id: bool = False
    retain_institution_id: bool = False
    retain_patient_chars: bool = False
    dates: str = "remove"                # 'remove', 'full' (retain) or 'modified' (shifted)
    clean_descriptors: bool = False
    clean_structured_content: bool = False
    clean_graphics: bool = False
    date_shift: int | None = None        # days, for dates='modified'; None: per patient from the key
    pseudonym: bool = True               # Patient ID/Name -> keyed pseudonym (else emptied/dummy)
    safe_private: tuple = ()             # (group, element low byte or None, creator) safe for 113111

    def __post_init__(self) -> None:
        if self.dates not in _DATE_MODES:
            raise ValueError(f"dates must be one of {_DATE_MODES}, not {self.dates!r}")

    def columns(self) -> list[str]:
        """The option columns of Table E.1-1 in force."""
        chosen = [("safe_private", self.retain_safe_private), ("uids", self.retain_uids),
                  ("device", self.retain_device_id), ("institution", self.retain_institution_id),
                  ("patient", self.retain_patient_chars),
                  ("full_dates", self.dates == "full"), ("modified_dates", self.dates == "modified"),
                  ("descriptors", self.clean_descriptors),
                  ("structured", self.clean_structured_content), ("graphics", self.clean_graphics)]
        return [name for name, on in chosen if on]


@dataclass
class Change:
    """One change made to a data set: where, what, and the values before and after."""
    path: str            # '(0010,0010)' or '(0008,1140)[0].(0008,1155)'
    keyword: str
    action: str          # X, Z, D, U, C, K (a sequence processed) or 'added'
    old: str | None      # the original value as text (None if the element was added)
    new: str | None      # the new value as text (None if removed)


@dataclass
class _Rules:
    """Table E.1-1 compiled for one set of options: tag -> action code."""
    exact: dict[int, str] = field(default_factory=dict)
    curve: str = "X"
    overlay: dict[int, str] = field(default_factory=dict)
    private: str = "X"


def _compile(options: AnonymizeOptions) -> _Rules:
    from ._deid_table import OPTION_COLUMNS, ROWS
    wanted = [OPTION_COLUMNS.index(c) for c in options.columns()]
    rules = _Rules()
    for tag, _name, basic, *cols in ROWS:
        codes = {cols[i] for i in wanted} - {""}
        action = "K" if "K" in codes else "C" if "C" in codes else basic
        action = _COMPOUND.get(action, action)
        if tag == "50XX,XXXX":
            rules.curve = action
        elif tag.startswith("60XX,"):
            rules.overlay[int(tag[5:], 16)] = action
        elif tag == "GGGG,EEEE":
            rules.private = action
        else:
            rules.exact[int(tag.replace(",", ""), 16)] = action
    return rules


def parse_safe_private(text: str, source: str = "safe private list") -> tuple:
    """Safe private attributes, one per line as in DCMTK's private.dic: ``(0019,"GEMS_ACQU_01",0A)``.

    Returns ((group, element low byte, creator), ...); raises ValueError naming the line.
    """
    from .dictionary import parse_tag_field
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parsed = parse_tag_field(line)
        if parsed is None or parsed[6] is None or parsed[0] != parsed[1] or not parsed[0] & 1:
            raise ValueError(f"{source}: line {lineno}: expected (gggg,\"CREATOR\",ee) with an odd "
                             f"group, got {line[:60]!r}")
        out.extend((parsed[0], e & 0xFF, parsed[6]) for e in range(parsed[3], parsed[4] + 1))
    return tuple(out)


class Anonymizer:
    """Applies the profile to data sets, consistently for one key (one per process)."""

    def __init__(self, options: AnonymizeOptions | None = None, key: bytes = b"") -> None:
        if not key:
            raise ValueError("a non-empty secret key is required")
        self.options = options or AnonymizeOptions()
        self.key = key
        self.rules = _compile(self.options)
        self._safe = {(g, e, c) for g, e, c in self.options.safe_private}
        self._uids: dict[str, str] = {}

    # -- keyed derivations ----------------------------------------------------------------------
    def _digest(self, purpose: str, text: str) -> bytes:
        return hmac.new(self.key, f"{purpose}:{text}".encode("utf-8", "surrogateescape"),
                        hashlib.sha256).digest()

    def map_uid(self, uid: str) -> str:
        """The replacement of ``uid``: ``2.25.<int>``, the same for the same uid and key."""
        uid = uid.strip("\0 ")
        if not uid:
            return uid
        new = self._uids.get(uid)
        if new is None:
            from .uid import uid_info
            if uid_info(uid) is not None:
                new = uid
            else:
                new = f"2.25.{int.from_bytes(self._digest('uid', uid)[:16], 'big')}"
            self._uids[uid] = new
        return new

    def pseudonym(self, patient_id: str, vr: str = "LO") -> str:
        """The patient's keyed pseudonym: 'ANON<12 hex>' (as a name: 'ANON^<12 hex>')."""
        code = self._digest("patient", patient_id.strip()).hex()[:12].upper()
        return f"ANON^{code}" if vr == "PN" else f"ANON{code}"

    def value_hash(self, text: str) -> str:
        """A keyed hash of an original value, for reports that must not show it."""
        return self._digest("report", text).hex()[:16]

    def date_offset(self, patient_id: str) -> int:
        """Days by which this patient's dates move (modified dates option)."""
        if self.options.date_shift is not None:
            return self.options.date_shift
        return -(1 + int.from_bytes(self._digest("dates", patient_id.strip())[:4], "big") % 3650)

    # -- the profile ----------------------------------------------------------------------------
    def anonymize(self, ds: Dataset) -> list[Change]:
        """De-identify ``ds`` in place; returns what was changed."""
        run = _Run(self, ds)
        run.process(ds, "")
        run.finish(ds)
        return run.changes


class _Run:
    """The work on one data set: identifying terms, date offset, changes."""

    def __init__(self, anon: Anonymizer, ds: Dataset) -> None:
        self.anon = anon
        self.opts = anon.options
        self.rules = anon.rules
        self.changes: list[Change] = []
        patient = ds.get(PATIENT_ID)
        self.patient_id = _text(patient) if patient is not None else ""
        self.offset = anon.date_offset(self.patient_id)
        self.terms = _identifying_terms(self, ds) if self._cleans_text() else None

    def _cleans_text(self) -> bool:
        o = self.opts
        return (o.clean_descriptors or o.clean_structured_content or o.clean_graphics
                or o.retain_patient_chars or o.retain_device_id or o.dates == "modified")

    # -- walking --------------------------------------------------------------------------------
    def action(self, tag: int, vr: str) -> str | None:
        """The action for ``tag``, or None to keep it as it is."""
        group = tag >> 16
        if is_private(tag):
            return self.rules.private
        act = self.rules.exact.get(tag)
        if act is not None:
            return act
        if 0x5000 <= group <= 0x501E and not group & 1:
            return self.rules.curve
        if 0x6000 <= group <= 0x601E and not group & 1:
            return self.rules.overlay.get(tag & 0xFFFF)
        if vr == "PN":
            return "Z"
        if vr in ("DA", "DT"):
            return {"full": "K", "modified": "C"}.get(self.opts.dates, "D")
        return None

    def process(self, ds: Dataset, prefix: str, mode: str = "") -> None:
        """Apply the rules to ``ds``. ``mode`` says what happens to free text the table does not
        list: '' keep it, 'clean' blank out identifying terms (C sequences), 'dummy' replace it
        (D sequences: the structure stays valid, its text goes)."""
        kept_private: set[int] = set()
        overlays_removed: set[int] = set()
        for tag in ds.tags():
            elem = ds[tag]
            path = f"{prefix}{tag_str(tag)}"
            if is_private(tag):
                if (tag & 0xFFFF) < 0x1000 or not self._private_kept(ds, elem):
                    continue
                kept_private.add(private_creator_tag(tag))
                if elem.vr == "SQ":
                    self._items(elem, path, mode)
                continue
            act = self.action(tag, _vr(elem))
            if act is None:
                if elem.vr == "SQ":
                    self._items(elem, path, mode)
                elif mode == "clean" and _vr(elem) in _TEXT_VRS:
                    self.clean(ds, elem, path)
                elif mode == "dummy" and _vr(elem) in _FREE_TEXT_VRS:
                    self.replace(ds, elem, path, "D", _DUMMY_TEXT)
                continue
            if act in ("X", "C") and (tag & 0xFFFF) == 0x3000 and 0x6000 <= (tag >> 16) <= 0x601E:
                overlays_removed.add(tag >> 16)
            self.apply(ds, elem, act, path, mode)
        for tag in [t for t in ds.tags() if t >> 16 in overlays_removed]:
            # an overlay without its data is invalid (Overlay Data is Type 1): it all goes
            self.record(ds[tag], prefix + tag_str(tag), "X", None)
            del ds[tag]
        for tag in [t for t in ds.tags() if is_private(t)]:
            creator = (tag & 0xFFFF) < 0x1000
            if creator and tag not in kept_private or not creator and not self._is_kept(ds, tag):
                self.record(ds[tag], prefix + tag_str(tag), "X", None)
                del ds[tag]

    def _private_kept(self, ds: Dataset, elem: Element) -> bool:
        if self.rules.private != "C":
            return False
        creator = ds.private_creator(elem.tag)
        return (elem.tag >> 16, elem.tag & 0xFF, creator) in self.anon._safe

    def _is_kept(self, ds: Dataset, tag: int) -> bool:
        return (tag & 0xFFFF) >= 0x1000 and self._private_kept(ds, ds[tag])

    def _items(self, elem: Element, path: str, mode: str) -> None:
        for i, item in enumerate(elem.value or []):
            self.process(item, f"{path}[{i}].", mode)

    def apply(self, ds: Dataset, elem: Element, act: str, path: str, mode: str = "") -> None:
        vr = _vr(elem)
        if act == "X" or act == "C" and vr not in STRING_VRS and vr != "SQ":
            self.record(elem, path, "X", None)
            del ds[elem.tag]
        elif act == "Z":
            self.replace(ds, elem, path, "Z", [] if vr == "SQ" else None)
        elif act == "D" and vr == "SQ":
            self._items(elem, path, "dummy")
        elif act == "D":
            self.replace(ds, elem, path, "D", self.dummy(elem))
        elif act in ("U", "U*", "K") and vr == "SQ":
            self._items(elem, path, mode)
        elif act in ("U", "U*"):
            self.replace_uids(ds, elem, path)
        elif act == "C" and vr == "SQ":
            self._items(elem, path, "clean" if mode != "dummy" else mode)
        elif act == "C":
            self.clean(ds, elem, path)

    # -- value replacements ---------------------------------------------------------------------
    def dummy(self, elem: Element) -> Any:
        vr, tag = _vr(elem), elem.tag
        if tag in (PATIENT_ID, PATIENT_NAME) and self.opts.pseudonym:
            return self.anon.pseudonym(self.patient_id, vr)
        if vr == "UI":
            return self.anon.map_uid(_text(elem)) or self.anon.map_uid("dummy")
        if vr in _DUMMIES:
            return _DUMMIES[vr]
        if vr in STRING_VRS:
            return _DUMMY_TEXT
        if vr in _NUMBER_VRS:
            return 0
        return b"\0\0"

    def replace(self, ds: Dataset, elem: Element, path: str, act: str, value: Any) -> None:
        if elem.tag == PATIENT_NAME and act == "Z" and self.opts.pseudonym:
            act, value = "D", self.anon.pseudonym(self.patient_id, "PN")
        vr = _vr(elem)
        if isinstance(value, str) and vr not in STRING_VRS:
            value = value.encode("ascii", "replace")
        new = Element(elem.tag, vr)
        self.record(elem, path, act, value)
        ds[elem.tag] = new
        new.value = value

    def replace_uids(self, ds: Dataset, elem: Element, path: str) -> None:
        values = [v.strip("\0 ") for v in _text(elem).split("\\")]
        new = [self.anon.map_uid(v) for v in values]
        if new != values:
            self.replace(ds, elem, path, "U", new if len(new) > 1 else new[0])

    def clean(self, ds: Dataset, elem: Element, path: str) -> None:
        vr = _vr(elem)
        if vr in ("DA", "DT"):
            if self.opts.dates == "full":
                return
            if self.opts.dates == "modified":
                self.replace(ds, elem, path, "C", self.shift(_text(elem), vr) or _DUMMIES[vr])
            else:
                self.replace(ds, elem, path, "D", _DUMMIES[vr])
            return
        if vr not in _TEXT_VRS or not self.terms:
            return
        text = _text(elem)
        cleaned = self.terms.sub(lambda m: "*" * len(m.group()), text)
        if cleaned != text:
            self.replace(ds, elem, path, "C", cleaned)

    def shift(self, text: str, vr: str) -> str | None:
        """A DA or DT value moved by the patient's offset; None if it is not a full date."""
        values = []
        for part in text.split("\\"):
            part = part.strip()
            digits = part.replace(".", "") if vr == "DA" else part
            if not part:
                values.append("")
                continue
            if len(digits) < 8 or not digits[:8].isdigit():
                return None
            try:
                day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
                moved = day + timedelta(days=self.offset)
            except (ValueError, OverflowError):
                return None
            values.append(moved.strftime("%Y%m%d").zfill(8) + digits[8:])
        return "\\".join(values)

    def record(self, elem: Element, path: str, act: str, new: Any) -> None:
        self.changes.append(Change(path, elem.keyword, act, _shown(elem), _show(new)))

    # -- what every de-identified object carries ------------------------------------------------
    def finish(self, ds: Dataset) -> None:
        opts = self.opts
        methods = ["dcmpy dcmanon: PS3.15 E Basic Profile"]
        codes = ["113100"]
        from ._deid_table import OPTION_CODES
        for column in opts.columns():
            code = OPTION_CODES[column]
            if column == "safe_private" and not self.anon._safe:
                continue
            codes.append(code)
            methods.append(CODE_MEANINGS[code][:64])
        items = []
        for code in codes:
            item = Dataset()
            item.add_new(0x00080100, "SH", code)
            item.add_new(0x00080102, "SH", "DCM")
            item.add_new(0x00080104, "LO", CODE_MEANINGS[code])
            items.append(item)
        longitudinal = {"full": "UNMODIFIED", "modified": "MODIFIED"}.get(opts.dates, "REMOVED")
        for tag, vr, value in ((0x00120062, "CS", "YES"), (0x00120063, "LO", methods),
                               (0x00120064, "SQ", Sequence(items)),
                               (0x00280303, "CS", longitudinal)):
            old = ds.get(tag)
            from .dictionary import get_dictionary
            keyword = get_dictionary().find(tag).name
            self.changes.append(Change(tag_str(tag), keyword, "added",
                                       _shown(old) if old is not None else None, _show(value)))
            ds.add_new(tag, vr, value)


def burned_in_annotation(ds: Dataset) -> bool:
    """True if the object says its pixel data carry burned-in text (not cleaned by this profile)."""
    elem = ds.get(_BURNED_IN)
    return elem is not None and _text(elem).upper() == "YES"


# ------------------------------------------------------------------------------ helpers
def _vr(elem: Element) -> str:
    """The VR to handle ``elem`` as: its own, or the dictionary's for a UN element of a known
    public attribute (a file may carry anything as UN), with DCMTK's internal VRs resolved."""
    vr = elem.vr
    if vr == "UN" and not is_private(elem.tag):
        from .dictionary import get_dictionary
        entry = get_dictionary().find(elem.tag)
        if entry is not None:
            vr = entry.vr
    return _PLAIN_VR.get(vr, vr)


def _text(elem: Element | None) -> str:
    if elem is None:
        return ""
    value = elem.value
    if isinstance(value, list):
        return "\\".join("" if v is None else str(v) for v in value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    return "" if value is None else str(value)


def _shown(elem: Element) -> str:
    if elem.vr == "SQ":
        return f"<{len(elem.value or [])} items>"
    if elem.vr in STRING_VRS:
        return _text(elem)
    raw = elem.raw
    return f"<{len(raw)} bytes>" if elem.vr not in _NUMBER_VRS else _text(elem)


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and value and isinstance(value[0], Dataset):
        return f"<{len(value)} items>"
    if isinstance(value, list):
        return "\\".join(map(str, value))
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


_TERM_VRS = frozenset({"PN", "LO", "SH", "LT", "ST", "UT", "UC", "AE", "DA", "DT"})
# which removed text values are identifying terms to blank out of kept free text
_TERM_KEYWORDS = re.compile(r"ID|Name|Address|Telephone|Telecom|Number|Institution|Location|Station")


def _identifying_terms(run: _Run, ds: Dataset) -> re.Pattern | None:
    """One pattern matching every identifying term of ``ds``: the values (and name components)
    of the attributes the profile removes or replaces, and their dates in common spellings."""
    terms: set[str] = set()

    def walk(d: Dataset) -> None:
        for elem in d:
            if elem.vr == "SQ":
                for item in elem.value or []:
                    walk(item)
                continue
            vr = _vr(elem)
            act = run.action(elem.tag, vr)
            if act in (None, "K", "C") or vr not in _TERM_VRS:
                continue
            if vr not in ("PN", "DA", "DT") and not _TERM_KEYWORDS.search(elem.keyword):
                continue
            terms.update(_term_variants(_text(elem), vr))

    walk(ds)
    terms = {t for t in terms if len(t) >= 2 and t.upper() != _DUMMY_TEXT}
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def _term_variants(text: str, vr: str) -> Iterable[str]:
    for value in text.split("\\"):
        value = value.strip()
        if not value:
            continue
        yield value
        if vr == "PN":
            for group in value.split("="):
                yield group.replace("^", " ").strip()
                yield from (p.strip() for p in group.split("^") if len(p.strip()) >= 2)
        elif vr in ("DA", "DT") and len(value) >= 8 and value[:8].isdigit():
            y, m, d = value[:4], value[4:6], value[6:8]
            yield from (f"{y}-{m}-{d}", f"{y}.{m}.{d}", f"{y}/{m}/{d}", f"{d}.{m}.{y}",
                        f"{d}/{m}/{y}", f"{m}/{d}/{y}", value[:8])


# ------------------------------------------------------------------------------ keys
class KeyFileError(ValueError):
    """A key file that cannot be read or does not hold a key: names the file and line."""


_KEY_RE = re.compile(r"[0-9a-fA-F]{64}")


def default_key_file() -> str:
    """``$XDG_CONFIG_HOME/dcmpy/dcmanon.key`` (``~/.config/...``): the key kept between runs."""
    import os
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "dcmpy", "dcmanon.key")


def read_key_file(path: str) -> bytes:
    """The 256-bit key of a key file: one line of 64 hex digits ('#' lines are comments)."""
    try:
        with open(path, "rb") as f:
            data = f.read(65536)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    for lineno, raw in enumerate(data.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        text = line.decode("latin-1")
        if not _KEY_RE.fullmatch(text):
            raise KeyFileError(f"bad key file {path}: line {lineno}: expected 64 hexadecimal digits")
        return bytes.fromhex(text)
    raise KeyFileError(f"bad key file {path}: no key in it")


def ensure_key_file(path: str) -> bytes:
    """Read the key file, or create it with a new random key (mode 0600) if it does not exist."""
    import os
    import secrets
    if os.path.lexists(path):
        return read_key_file(path)
    key = secrets.token_bytes(32)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# dcmanon secret key: keep it apart from the de-identified data\n"
                    f"{key.hex()}\n")
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror or exc}") from None
    return key


# ------------------------------------------------------------------------------ files
@dataclass
class FileResult:
    """What happened to one input file."""
    src: str
    dst: str | None = None
    error: str | None = None     # one line; None on success
    failed_write: bool = False   # the error was in writing the output
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def anonymize_file(anon: Anonymizer, src: str, out_dir: str, rel: str, rename: bool = False,
                   read_options: Any = None) -> FileResult:
    """De-identify one file into ``out_dir``: at ``rel`` (a relative path), or, with ``rename``,
    at ``<study>/<series>/<sop>.dcm`` named by the new UIDs. Written atomically; never raises
    for a bad input or an unwritable output (the result says what went wrong)."""
    import os
    from .reader import DicomError, dcmread
    from .writer import DicomWriteError, WriteOptions, dcmwrite
    result = FileResult(src)
    try:
        ds = dcmread(src, read_options)
        if _text(ds.file_meta.get(0x00020002)) == _DICOMDIR_CLASS:
            result.error = f"a DICOMDIR is not de-identified (build a new one): reading file: {src}"
            return result
        if burned_in_annotation(ds):
            result.warnings.append("Burned In Annotation is YES: pixel data are not cleaned")
        result.changes = anon.anonymize(ds)
    except (OSError, DicomError) as exc:
        result.error = f"{getattr(exc, 'strerror', None) or exc}: reading file: {src}"
        return result
    ds.__dict__["preamble"] = None       # 128 bytes that may hold anything
    if rename:
        parts = [_text(ds.get(t)) or "unknown" for t in (0x0020000D, 0x0020000E, 0x00080018)]
        rel = os.path.join(parts[0], parts[1], parts[2] + ".dcm")
    dst = os.path.join(out_dir, rel)
    result.dst = dst
    try:
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        dcmwrite(dst, ds, WriteOptions(new_meta=True))
    except (OSError, DicomWriteError) as exc:
        result.error = f"{getattr(exc, 'strerror', None) or exc}: writing file: {dst}"
        result.failed_write = True
    return result


_WORKER: tuple | None = None


def _init_worker(options: AnonymizeOptions, key: bytes, out_dir: str, rename: bool,
                 read_options: Any, changes: bool, warnings: bool | None = None) -> None:
    """Set up a process (or the calling one, ``warnings`` None) to de-identify files."""
    global _WORKER
    _WORKER = (Anonymizer(options, key), out_dir, rename, read_options, changes)
    if warnings is not None:
        from .. import _diag
        _diag.set_sink(_print_warning if warnings else _drop_warning)


def _print_warning(message: str) -> None:
    import sys
    sys.stderr.write(f"W: {message}\n")


def _drop_warning(message: str) -> None:
    pass


def _work(job: tuple[str, str]) -> FileResult:
    anon, out_dir, rename, read_options, changes = _WORKER
    try:
        result = anonymize_file(anon, job[0], out_dir, job[1], rename, read_options)
        if not changes:
            result.changes = []         # nothing to carry back to the parent process
        return result
    except Exception as exc:    # a bug: report it for this file, keep the run going
        return FileResult(job[0], error=f"internal error: {type(exc).__name__}: {exc}: {job[0]}")


def anonymize_files(jobs: list[tuple[str, str]], out_dir: str, options: AnonymizeOptions,
                    key: bytes, *, workers: int = 1, rename: bool = False,
                    read_options: Any = None, on_result: Any = None,
                    changes: bool = True, warnings: bool = True) -> list[FileResult]:
    """De-identify ``jobs`` (input path, output path relative to ``out_dir``) with ``workers``
    processes; ``on_result(result)`` is called as each file finishes. The results come back in
    the order of ``jobs``; UIDs, pseudonyms and date offsets do not depend on ``workers``.
    ``changes`` False leaves the results' change lists empty (less to pass between processes).
    Library warnings of worker processes go to stderr as ``W:`` lines unless ``warnings`` is
    False (in this process they go where ``dcmpy._diag`` sends them)."""
    _init_worker(options, key, out_dir, rename, read_options, changes)
    results: list[FileResult] = []
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            results.append(_work(job))
            if on_result:
                on_result(results[-1])
        return results
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    context = multiprocessing.get_context("spawn")      # portable: no fork-only behaviour
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(options, key, out_dir, rename, read_options, changes,
                                       warnings)) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 4)))
        for result in pool.map(_work, jobs, chunksize=chunk):
            results.append(result)
            if on_result:
                on_result(result)
    return results


# ------------------------------------------------------------------------------ report
_REPORT_FIELDS = ("file", "path", "keyword", "action", "old_hash", "new")


def write_report(path: str, results: list[FileResult], out_dir: str, anon: Anonymizer,
                 with_values: bool = False) -> None:
    """Write what changed in each file, as JSON (``path`` ends with .json) or CSV, atomically.

    Original values appear only as keyed hashes (``old_hash``) unless ``with_values``, which also
    names the input files (their names may identify patients too)."""
    import csv
    import io
    import json
    import os
    rows = []
    files = []
    for r in results:
        name = os.path.relpath(r.dst, out_dir) if r.dst else "input:" + anon.value_hash(r.src)
        entry: dict[str, Any] = {"file": name}
        if with_values:
            entry["source"] = r.src
        if r.error:
            entry["error"] = r.error if with_values else r.error.replace(r.src, "<input>")
        changes = []
        for c in r.changes:
            row = {"file": name, "path": c.path, "keyword": c.keyword, "action": c.action,
                   "old_hash": anon.value_hash(c.old) if c.old is not None else "",
                   "new": c.new if c.new is not None else ""}
            if with_values:
                row["old"] = c.old if c.old is not None else ""
            changes.append(row)
        rows.extend(changes)
        if r.error:
            rows.append({"file": name, "path": "", "keyword": "", "action": "error",
                         "old_hash": "", "new": entry["error"]})
        entry["changes"] = [{k: v for k, v in c.items() if k != "file"} for c in changes]
        files.append(entry)
    if path.lower().endswith(".json"):
        text = json.dumps({"files": files}, indent=1, ensure_ascii=False) + "\n"
    else:
        out = io.StringIO()
        fields = _REPORT_FIELDS + (("old",) if with_values else ())
        writer = csv.DictWriter(out, fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = out.getvalue()
    from .writer import _write_atomic
    _write_atomic(path, [text.encode("utf-8", "surrogateescape")])
