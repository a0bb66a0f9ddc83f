"""A worklist C-FIND identifier: checked, reduced to the supported keys, matched against records,
and turned into one response per matching record, as DCMTK's wlmscpfs does.

    query = WorklistQuery.parse(identifier)            # a Dataset
    if query.errors: ...                               # (offending tags, error comment)
    if query.matches(record): response = query.response(record)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ..dcmdata.dataset import Dataset, Sequence
from ..dcmdata.dictionary import get_dictionary
from ..dcmdata.element import Element
from . import keys as K
from .matching import date_time_matches, invalid_value, range_matches, text_matches

_DATE_OF = {time: date for date, time in K.DATE_TIME_PAIRS.items()}
_CHARSET_VRS = frozenset({"PN", "LO", "LT", "SH", "ST", "UT"})
MORE_THAN_ONE_ITEM = "More than 1 item in sequence."
SEVERAL_ERRORS = "Syntax error in 1 or more matching keys"


def text_of(elem: Element | None) -> str | None:
    """An element's value as stored (Latin-1, one string with '\\' between values)."""
    if elem is None or elem.vr == "SQ":
        return None
    return bytes(elem.raw).decode("latin-1").rstrip("\0")


def keyword(tag: int) -> str:
    """DCMTK's name for a tag, as its log lines print it."""
    entry = get_dictionary().find(tag)
    return entry.name if entry else "Unknown Tag & Data"


def _dictionary_vr(tag: int, fallback: str) -> str:
    entry = get_dictionary().find(tag)
    return entry.vr if entry and len(entry.vr) == 2 and entry.vr.isupper() else fallback


def _code_template(supported: dict) -> Dataset:
    """A query item asking for every supported key (an empty sequence, expanded)."""
    item = Dataset()
    for tag, sub in supported.items():
        if sub is None:
            item[tag] = Element(tag, _dictionary_vr(tag, "UN"), "")
        else:
            item[tag] = Element(tag, "SQ", Sequence([_code_template(sub)]))
    return item


@dataclass
class WorklistQuery:
    """The identifier as wlmscpfs uses it."""
    keys: Dataset                                   # supported keys only, sequences expanded
    unsupported: list[tuple[int, bool]] = field(default_factory=list)  # (tag, is a sequence)
    errors: list[int] = field(default_factory=list)  # offending tags, in DCMTK's order
    comments: list[str] = field(default_factory=list)
    invalid_keys: list[int] = field(default_factory=list)  # matching keys with bad values
    # (with --no-fail they are matched as they are: a value that cannot be read matches nothing)

    @classmethod
    def parse(cls, identifier: Dataset, expand: bool = True) -> WorklistQuery:
        query = cls(Dataset())
        query.keys = query._reduce(identifier, K.RETURN_KEYS, expand, top=True)
        query._check(identifier)
        return query

    # -- reducing to the supported keys ----------------------------------------------------------
    def _reduce(self, ds: Dataset, supported: dict, expand: bool, top: bool = False) -> Dataset:
        out = Dataset()
        for elem in ds:
            tag = elem.tag
            if (tag & 0xFFFF) == 0 or (top and tag == K.SPECIFIC_CHARACTER_SET):
                continue                      # group lengths and the character set: silently
            if tag not in supported or (elem.vr == "SQ") != (supported[tag] is not None):
                if not (tag == K.SPS_SEQUENCE and top):   # a non-sequence SPS: an error below
                    self.unsupported.append((tag, elem.vr == "SQ"))
                    continue
            if elem.vr != "SQ":
                out[tag] = elem
                continue
            items = [self._reduce(item, supported[tag], expand) for item in elem.value]
            if not items and expand:
                items = [_code_template(supported[tag])]
            elif expand and items and not len(items[0]):
                items[0] = _code_template(supported[tag])
            out[tag] = Element(tag, "SQ", Sequence(items))
        return out

    # -- checking the matching keys ----------------------------------------------------------------
    def _check(self, identifier: Dataset) -> None:
        for tag, elem in ((e.tag, e) for e in self.keys):
            if tag == K.SPS_SEQUENCE:
                self._check_sps(identifier.get(tag))
            elif tag in K.MATCHING:
                self._check_value(elem)
        if len(self.errors) > 1:
            self.comments = [SEVERAL_ERRORS]

    def _check_sps(self, elem: Element) -> None:
        if elem.vr != "SQ":
            self._error(elem.tag, f"Invalid value for an attribute with VR=SQ (sent as {elem.vr})")
            self.keys[elem.tag] = Element(elem.tag, "SQ", Sequence([_code_template(K.SPS_KEYS)]))
            return
        if len(elem.value) > 1:
            self._error(elem.tag, MORE_THAN_ONE_ITEM)
        for item in self.keys[elem.tag].value:
            for sub in item:
                if sub.tag in K.SPS_MATCHING:
                    self._check_value(sub)

    def _check_value(self, elem: Element) -> None:
        text = text_of(elem) or ""
        if not text.strip(" "):
            return
        comment = invalid_value(_dictionary_vr(elem.tag, elem.vr), text)
        if comment is not None:
            self.invalid_keys.append(elem.tag)
            self._error(elem.tag, comment)

    def _error(self, tag: int, comment: str) -> None:
        self.errors.append(tag)
        self.comments.append(comment)

    @property
    def error_comment(self) -> str:
        return self.comments[0] if self.comments else ""

    # -- matching -----------------------------------------------------------------------------------
    def matches(self, record: Dataset) -> bool:
        """Does the record match every matching key (invalid keys match nothing)?"""
        if not _match_keys(self.keys, record, K.MATCHING):
            return False
        sps = self.keys.get(K.SPS_SEQUENCE)
        if sps is None or not sps.value:
            return True
        wanted = sps.value[0]
        if not any(_is_matching(e, K.SPS_MATCHING) for e in wanted):
            return True
        stored = record.get(K.SPS_SEQUENCE)
        items = stored.value if stored is not None and stored.vr == "SQ" else []
        return any(_match_keys(wanted, item, K.SPS_MATCHING) for item in items)

    # -- responses ----------------------------------------------------------------------------------
    def response(self, record: Dataset, charset: str = "none") -> Dataset:
        """The response for a matching record; ``charset``: 'none' (-cs0), 'latin1' (-cs1),
        'keep' (-csk)."""
        out = _build(self.keys, record)
        if charset != "none" and _has_text(out):
            stored = record.get(K.SPECIFIC_CHARACTER_SET)
            if charset == "latin1":
                out[K.SPECIFIC_CHARACTER_SET] = Element(K.SPECIFIC_CHARACTER_SET, "CS", "ISO_IR 100")
            elif stored is not None and text_of(stored):
                out[K.SPECIFIC_CHARACTER_SET] = stored
        return out


def _is_matching(elem: Element, kinds: dict[int, str]) -> bool:
    return elem.tag in kinds and bool((text_of(elem) or "").strip(" "))


def _match_keys(wanted: Dataset, record: Dataset, kinds: dict[int, str]) -> bool:
    for elem in wanted:
        tag = elem.tag
        if not _is_matching(elem, kinds):
            continue
        kind = kinds[tag]
        query = text_of(elem) or ""
        if kind == "date":
            time_key = wanted.get(K.DATE_TIME_PAIRS.get(tag, 0))
            time_query = text_of(time_key) or ""
            if time_query.strip(" "):
                ok = date_time_matches(query, time_query, text_of(record.get(tag)),
                                       text_of(record.get(time_key.tag)))
            else:
                ok = range_matches("DA", query, text_of(record.get(tag)))
        elif kind == "time":
            date_key = wanted.get(_DATE_OF[tag])
            if date_key is not None and _is_matching(date_key, kinds):
                continue                      # matched together with its date
            ok = range_matches("TM", query, text_of(record.get(tag)))
        else:
            ok = text_matches(kind, query, text_of(record.get(tag)))
        if not ok:
            return False
    return True


def _build(wanted: Dataset, record: Dataset) -> Dataset:
    out = Dataset()
    for elem in wanted:
        tag = elem.tag
        stored = record.get(tag)
        if elem.vr != "SQ":
            if stored is not None and stored.vr != "SQ":
                out[tag] = stored
            else:
                out[tag] = Element(tag, elem.vr, "")
            continue
        template = elem.value[0] if elem.value else None
        items = stored.value if stored is not None and stored.vr == "SQ" else []
        built = [_build(template, item) for item in items] if template is not None else []
        if built or tag in K.TYPE2_SEQUENCES:
            out[tag] = Element(tag, "SQ", Sequence(built))
    return out


def _has_text(ds: Dataset) -> bool:
    for elem in ds:
        if elem.vr in _CHARSET_VRS:
            return True
        if elem.vr == "SQ" and any(_has_text(item) for item in elem.value):
            return True
    return False


def describe_status(status: int) -> str:
    """DCMTK's words for a worklist C-FIND status in its log lines."""
    return {0x0000: "Success", 0xFF00: "Pending", 0xFF01: "Pending: WarningUnsupportedOptionalKeys",
            0xFE00: "Cancel", 0xA900: "Error: DataSetDoesNotMatchSOPClass",
            0xA700: "Refused: OutOfResources", 0xC000: "Failed: UnableToProcess"}.get(
                status, f"Unknown Status: 0x{status:x}")
