"""A C-FIND / C-MOVE / C-GET identifier, parsed into conditions per level, and its responses.

:class:`Query` holds what an identifier asks: the level, the information model, one condition
per key (matched against the index's stored attributes), the SQL that narrows the rows, and
the keys to return. ``Query.response(row)`` builds the response data set of a matching row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .keys import (COMPUTED, IMAGE, INSTANCE_AVAILABILITY, LEVEL_NAMES, QUERY_RETRIEVE_LEVEL,
                   RETRIEVE_AE_TITLE, SPECIFIC_CHARACTER_SET, STUDY, UNIQUE_KEYS, Model, QueryError,
                   level_named, level_of, model_for)
from .matching import COMBINED_PAIRS, CombinedDateTime, Condition, SequenceCondition, parse_condition
from .record import LEVEL_COLUMNS, text_value

__all__ = ["Query", "Row", "ALIASES"]

ALIASES = ("p", "st", "se", "i")
_TABLES = ("patients", "studies", "series", "instances")
_PARENT = (None, "patient_pk", "study_pk", "series_pk")
_SKIP = frozenset({QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET})
_MAX_SEQUENCE_DEPTH = 8           # the index keeps no deeper levels either
_COLUMN_OF = {tag: (level, column, norm) for level, cols in LEVEL_COLUMNS.items()
              for column, (tag, norm) in cols.items()}
_COLUMN_OF[0x00080061] = (STUDY, "modalities", "")
# below the patient level, patient keys are matched against the study's own copy of them
_STUDY_PATIENT_COLUMNS = {0x00100010: "p_name", 0x00100030: "p_birth_date", 0x00100040: "p_sex"}


def _dictionary_entry(tag: int):
    from dcmpy.dcmdata.dictionary import get_dictionary
    return get_dictionary().find(tag)


def _is_multi(tag: int) -> bool:
    entry = _dictionary_entry(tag)
    return entry is not None and entry.vm != "1"


def _vr_for(elem_vr: str | None, tag: int) -> str:
    if elem_vr and elem_vr not in ("UN", "??", "ox", "xs"):
        return elem_vr
    entry = _dictionary_entry(tag)
    vr = entry.vr if entry else "UN"
    return {"xs": "US", "ox": "OB", "lt": "OW", "up": "UL", "px": "OW", "na": "UN"}.get(vr, vr)


class Row:
    """One result row: the attributes of each level, decoded from JSON on first use."""

    def __init__(self, level: int, values: tuple, extra: dict[str, Any]) -> None:
        self.level = level
        self.pks = values[0::3]
        self._attrs = list(values[1::3])
        self.charsets = values[2::3]
        self.extra = extra
        self.computed: dict[int, str] = {}

    def attrs(self, level: int) -> dict:
        value = self._attrs[level]
        if isinstance(value, str):
            from .record import loads
            value = self._attrs[level] = loads(value)
        return value

    def value(self, level: int, tag: int) -> Any:
        if tag in self.computed:
            return self.computed[tag]
        entry = self.attrs(level).get(f"{tag:08X}")
        return entry[1] if entry else None

    def stored_vr(self, level: int, tag: int) -> str | None:
        entry = self.attrs(level).get(f"{tag:08X}")
        return entry[0] if entry else None


@dataclass
class _Key:
    tag: int
    vr: str
    level: int                  # the level whose stored data holds the attribute
    cond: Any                   # Condition | SequenceCondition | None (not matched)
    item_tags: list[int] = field(default_factory=list)   # sequence: keys of the query item
    below: bool = False         # below the query level: returned empty
    rule_level: int = 0         # the level for the hierarchical rules (patient keys are
                                # study keys in the Study Root model)


class Query:
    """A parsed identifier. ``strict`` refuses what DCMTK refuses (hierarchical rules)."""

    def __init__(self, model: Model | str, identifier, level: int | str | None = None, *,
                 strict: bool = False, combined_datetime: bool = False) -> None:
        self.model = model_for(model)
        if level is None:
            elem = identifier.get(QUERY_RETRIEVE_LEVEL)
            level = level_named(elem.value if elem is not None else "")
        elif isinstance(level, str):
            level = level_named(level)
        self.model.check_level(level)
        self.level = level
        self.request_charsets = identifier.character_sets
        self.keys: list[_Key] = []
        self.combined: list[CombinedDateTime] = []
        for elem in identifier:
            if elem.tag in _SKIP or not elem.tag & 0xFFFF or (elem.tag >> 16) == 0x0002:
                continue
            self.keys.append(self._key(elem, strict))
        self._check_hierarchy(strict)
        if combined_datetime:
            self._combine()
        self.needs_computed = sorted({k.tag for k in self.keys if k.tag in COMPUTED
                                      and not k.below and k.level <= level})

    # -- parsing -----------------------------------------------------------------------------
    def _key(self, elem, strict: bool) -> _Key:
        tag = elem.tag
        level = level_of(tag)
        rule = max(level, self.model.top)
        vr = _vr_for(elem.vr, tag)
        if tag in (RETRIEVE_AE_TITLE, INSTANCE_AVAILABILITY):
            return _Key(tag, vr, self.level, None, rule_level=self.level)
        if rule > self.level:
            if strict:
                raise QueryError(f"key {_tag(tag)} lies below the Query/Retrieve Level "
                                 f"{LEVEL_NAMES[self.level]}")
            return _Key(tag, vr, level, None, below=True, rule_level=rule)
        if rule < self.level and strict and tag != UNIQUE_KEYS[rule]:
            raise QueryError(f"key {_tag(tag)} above the Query/Retrieve Level "
                             f"{LEVEL_NAMES[self.level]} is not a unique key")
        if vr == "SQ":
            key = self._sequence_key(elem, level)
        else:
            text = text_value(elem, self.request_charsets) or ""
            key = _Key(tag, vr, level, parse_condition(tag, vr, text, _is_multi(tag)))
        key.rule_level = rule
        return key

    def _sequence_key(self, elem, level: int) -> _Key:
        items = list(elem.value or [])
        if len(items) > 1:
            raise QueryError(f"sequence key {_tag(elem.tag)} has {len(items)} items, at most one "
                             "is allowed")
        conds, tags = [], []
        for item in items:
            for sub in item:
                if not sub.tag & 0xFFFF or sub.tag == SPECIFIC_CHARACTER_SET:
                    continue
                tags.append(sub.tag)
                conds.append(self._item_condition(sub, item.character_sets, 1))
        cond = SequenceCondition(elem.tag, [conds] if items else [])
        return _Key(elem.tag, "SQ", level, cond, tags)

    def _item_condition(self, elem, charsets, depth: int):
        vr = _vr_for(elem.vr, elem.tag)
        if vr == "SQ":
            if depth >= _MAX_SEQUENCE_DEPTH:
                raise QueryError(f"sequence key {_tag(elem.tag)} nested deeper than "
                                 f"{_MAX_SEQUENCE_DEPTH} levels")
            items = list(elem.value or [])
            return SequenceCondition(elem.tag, [[self._item_condition(s, charsets, depth + 1)
                                                 for s in items[0] if s.tag & 0xFFFF]] if items else [])
        text = text_value(elem, charsets) or ""
        return parse_condition(elem.tag, vr, text, _is_multi(elem.tag))

    def _check_hierarchy(self, strict: bool) -> None:
        present = {k.tag for k in self.keys}
        for level in range(self.model.top, self.level):
            if UNIQUE_KEYS[level] not in present and strict:
                raise QueryError(f"unique key {_tag(UNIQUE_KEYS[level])} of level "
                                 f"{LEVEL_NAMES[level]} missing (hierarchical query)")
        if not any(k.rule_level == self.level for k in self.keys) and strict:
            raise QueryError(f"no key at the Query/Retrieve Level {LEVEL_NAMES[self.level]}")

    def _combine(self) -> None:
        by_tag = {k.tag: k for k in self.keys}
        for date_tag, time_tag in COMBINED_PAIRS.items():
            date, time = by_tag.get(date_tag), by_tag.get(time_tag)
            if date is None or time is None or not isinstance(date.cond, Condition) \
                    or not isinstance(time.cond, Condition):
                continue
            if "universal" in (date.cond.kind, time.cond.kind) or date.level != time.level:
                continue
            self.combined.append(CombinedDateTime(date.cond, time.cond))
            date.cond = time.cond = None     # matched together below

    # -- SQL -----------------------------------------------------------------------------------
    def select(self, area: str) -> tuple[str, list]:
        """The SELECT of candidate rows for this query in ``area``."""
        level = self.level
        cols = ", ".join(f"{a}.pk, {a}.attrs, {a}.charset" for a in ALIASES[:level + 1])
        if level >= STUDY:      # the patient as the study's instances describe it
            cols = cols.replace("p.attrs, p.charset", "st.p_attrs, st.charset")
        cols += ", st.modalities" if level >= STUDY else ""
        if level == IMAGE:
            cols += ", i.path, i.sop_class, i.sop_uid, i.transfer_syntax, i.size"
        sql = [f"SELECT {cols} FROM {_TABLES[level]} {ALIASES[level]}"]
        for upper in range(level - 1, -1, -1):
            sql.append(f"JOIN {_TABLES[upper]} {ALIASES[upper]} ON {ALIASES[upper]}.pk = "
                       f"{ALIASES[upper + 1]}.{_PARENT[upper + 1]}")
        where, params = [f"{ALIASES[level]}.area = ?"], [area]
        for key in self.keys:
            column = _COLUMN_OF.get(key.tag)
            if key.cond is None or column is None or column[0] > level:
                continue
            name = f"{ALIASES[column[0]]}.{column[1]}"
            if level >= STUDY and key.tag in _STUDY_PATIENT_COLUMNS:
                name = f"st.{_STUDY_PATIENT_COLUMNS[key.tag]}"
            clause = key.cond.sql(name)
            if clause is not None:
                where.append(clause[0])
                params.extend(clause[1])
        sql.append("WHERE " + " AND ".join(where) + f" ORDER BY {ALIASES[level]}.pk")
        return " ".join(sql), params

    def row(self, values: tuple) -> Row:
        n = 3 * (self.level + 1)
        extra: dict[str, Any] = {}
        rest = values[n:]
        if self.level >= STUDY:
            extra["modalities"] = rest[0]
        if self.level == IMAGE:
            extra.update(zip(("path", "sop_class", "sop_uid", "transfer_syntax", "size"), rest[1:]))
        row = Row(self.level, values[:n], extra)
        if self.level >= STUDY:
            row.computed[0x00080061] = extra["modalities"]
        return row

    # -- matching ------------------------------------------------------------------------------
    def matches(self, row: Row) -> bool:
        for key in self.keys:
            if key.cond is not None and not key.cond.matches(row.value(key.level, key.tag)):
                return False
        for pair in self.combined:
            lvl = level_of(pair.date.tag)
            if not pair.matches(row.value(lvl, pair.date.tag), row.value(lvl, pair.time.tag)):
                return False
        return True

    @property
    def matched_computed(self) -> list[int]:
        """Computed keys that take part in matching (computed before ``matches``)."""
        return [k.tag for k in self.keys if k.tag in COMPUTED and k.cond is not None
                and k.cond.kind != "universal" and k.tag != 0x00080061]

    # -- responses -----------------------------------------------------------------------------
    def response(self, row: Row, retrieve_ae: str | None = None,
                 charset: Callable[[Row, list[str]], list[str]] | None = None):
        """The response identifier for a matching row."""
        from dcmpy.dcmdata.dataset import Dataset
        from dcmpy.dcmdata.element import Element
        ds = Dataset()
        texts: list[str] = []
        for key in self.keys:
            value = None
            if key.tag == RETRIEVE_AE_TITLE:
                value = retrieve_ae
            elif key.tag == INSTANCE_AVAILABILITY:
                value = "ONLINE"
            elif not key.below:
                value = self._stored(row, key)
            ds[key.tag] = Element(key.tag, key.vr, _typed(value, key.vr))
            _collect_text(value, key.vr, texts)
        unique = UNIQUE_KEYS[self.level]
        if unique not in ds:
            ds[unique] = Element(unique, "UI" if self.level else "LO", row.value(self.level, unique))
        ds[QUERY_RETRIEVE_LEVEL] = Element(QUERY_RETRIEVE_LEVEL, "CS", LEVEL_NAMES[self.level])
        if retrieve_ae is not None and RETRIEVE_AE_TITLE not in ds:
            ds[RETRIEVE_AE_TITLE] = Element(RETRIEVE_AE_TITLE, "AE", retrieve_ae)
        terms = charset(row, texts) if charset else []
        if terms:
            ds[SPECIFIC_CHARACTER_SET] = Element(SPECIFIC_CHARACTER_SET, "CS", terms)
        return ds

    def _stored(self, row: Row, key: _Key) -> Any:
        value = row.value(key.level, key.tag)
        if key.vr != "SQ" or not value or not key.item_tags:
            return value
        wanted = {f"{t:08X}" for t in key.item_tags}
        return [{k: v for k, v in item.items() if k in wanted} for item in value]


def _typed(value: Any, vr: str) -> Any:
    """A stored text value as the Python value an Element of ``vr`` takes."""
    if value is None or value == "":
        return [] if vr == "SQ" else None
    if vr == "SQ":
        return [_item_dataset(item) for item in value]
    if vr in ("US", "SS", "UL", "SL", "UV", "SV"):
        numbers = [int(v) for v in value.split("\\")]
        return numbers[0] if len(numbers) == 1 else numbers
    if vr in ("FL", "FD"):
        numbers = [float(v) for v in value.split("\\")]
        return numbers[0] if len(numbers) == 1 else numbers
    if vr == "AT":
        tags = [int(v, 16) for v in value.split("\\")]
        return tags[0] if len(tags) == 1 else tags
    if vr in ("LT", "ST", "UT", "UR") or "\\" not in value:
        return value
    return value.split("\\")


def _item_dataset(item: dict):
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmdata.element import Element
    ds = Dataset()
    for key, (vr, value) in sorted(item.items()):
        tag = int(key, 16)
        ds[tag] = Element(tag, vr, _typed(value, vr))
    return ds


def _collect_text(value: Any, vr: str, out: list[str]) -> None:
    """Gather the text values whose bytes depend on the character set."""
    if isinstance(value, str) and vr in ("LO", "LT", "PN", "SH", "ST", "UC", "UT") and not value.isascii():
        out.append(value)
    elif vr == "SQ" and value:
        for item in value:
            for sub_vr, sub in item.values():
                _collect_text(sub, sub_vr, out)


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
