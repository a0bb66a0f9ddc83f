"""Tag paths: DCMTK's syntax for elements and items inside sequences (dcmodify, findscu ``-k``).

A path is ``{sequence[item].}*element``, optionally ending in an item::

    PatientName                              a top-level element (dictionary keyword)
    (0010,0010)                              the same by tag (``0010,0010`` works too)
    (0008,1140)[0].(0008,1155)               an element in the first item of a sequence
    ContentSequence[*].CodeValue             ... in every item (wildcard)
    (0008,1140)[2]                           an item itself

Parsing needs no data set; :meth:`TagPath.resolve` finds (or creates) what a path names in one.
Errors carry DCMTK's wording and the offending part of the path, e.g. ``Unable to parse item
number at beginning of path: [x].PatientName``, plus the path and the position as attributes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .tag import tag_str

if TYPE_CHECKING:
    from .dataset import Dataset
    from .element import Element

__all__ = ["ALL_ITEMS", "PathStep", "TagPath", "TagPathError", "Match", "tag_for_keyword",
           "split_assignment", "MAX_NEW_ITEMS", "MAX_ITEM"]

ALL_ITEMS = "*"
"""The item selector of ``[*]``: every item of the sequence."""

MAX_NEW_ITEMS = 65536
"""At most this many items are created in one sequence by one path (DCMTK 3.6.7 tries to create
as many as asked, ``[99999999999]`` included, until the system kills it)."""

MAX_ITEM = 0xFFFFFFFF
"""No sequence can hold more items than this (each takes at least 8 bytes of a 4 GB value)."""

_PAREN_TAG = re.compile(r"\(\s*([0-9A-Fa-f]{1,4}),\s*([0-9A-Fa-f]{1,4})\s*\)")
_BARE_TAG = re.compile(r"([0-9A-Fa-f]{1,4}),\s*([0-9A-Fa-f]{1,4})\Z")
_ITEM = re.compile(r"\[\s*(?:(\*)|([+-]?)([0-9]+))\s*\]")

NOT_SEQUENCE = "Invalid Path: Non-sequence tag found with rest path following"
WILDCARD_INSERT = "Cannot insert unspecified number (wildcard) of items into sequence"


class TagPathError(ValueError):
    """A path that cannot be parsed or followed; ``path`` and ``position`` say where."""

    def __init__(self, message: str, path: str = "", position: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.position = position


@dataclass(frozen=True, slots=True)
class PathStep:
    """One node of a path: a tag and, for a sequence, the item number, ALL_ITEMS or None."""
    tag: int
    item: int | str | None = None

    def __str__(self) -> str:
        return tag_str(self.tag) + ("" if self.item is None else f"[{self.item}]")


@dataclass(slots=True)
class Match:
    """What a path names in a data set: the element ``tag`` of ``dataset`` or, when the path ends
    in an item selector, the item ``item`` of that sequence element."""
    dataset: Dataset
    tag: int
    item: Dataset | None = None

    @property
    def element(self) -> Element | None:
        """The element (None where a creating resolve leaves the leaf to its caller)."""
        return self.dataset.get(self.tag)


_range_names: dict[str, int] | None = None


def tag_for_keyword(name: str) -> int | None:
    """The tag of a dictionary keyword, as DCMTK looks names up.

    Exact public entries first; then repeating entries give their lowest tag
    (``OverlayRows`` -> (6000,0010), ``PrivateCreator`` -> (0009,0010)). Names are case-sensitive.
    """
    from .dictionary import ANY, ODD, get_dictionary
    d = get_dictionary()
    tag = d.tag_for_name(name)
    if tag is not None:
        return tag
    global _range_names
    if _range_names is None:
        names: dict[str, int] = {}
        ranges_seen = False
        for glo, ghi, gr, elo, ehi, er, creator, entry in d.entries():
            exact = glo == ghi and elo == ehi
            if exact and ranges_seen or creator is not None:
                break                       # past the public ranges (see entries())
            if exact:
                continue
            ranges_seen = True
            group = glo + (1 if gr != ANY and (glo & 1) != (gr == ODD) else 0)
            element = elo + (1 if er != ANY and (elo & 1) != (er == ODD) else 0)
            names.setdefault(entry.name, (group << 16) | element)
        _range_names = names
    return _range_names.get(name)


def split_assignment(text: str) -> tuple[str, str | None]:
    """``'path=value'`` -> (path, value); without ``=``: (text, None). Splits at the first ``=``."""
    path, sep, value = text.partition("=")
    return (path, value) if sep else (text, None)


class TagPath:
    """A parsed tag path: a tuple of :class:`PathStep`; every step but the last has an item."""

    __slots__ = ("steps", "text")

    def __init__(self, steps: tuple[PathStep, ...], text: str = "") -> None:
        if not steps or any(s.item is None for s in steps[:-1]):
            raise ValueError("every step of a tag path but the last needs an item selector")
        self.steps = steps
        self.text = text or ".".join(str(s) for s in steps)

    @classmethod
    def parse(cls, text: str) -> TagPath:
        """Parse DCMTK's path syntax; raises :class:`TagPathError` naming the rest of the path."""
        steps: list[PathStep] = []
        pos = 0
        while True:
            tag, pos = _parse_tag(text, pos)
            if pos == len(text):
                steps.append(PathStep(tag))
                break
            item, pos = _parse_item(text, pos)
            steps.append(PathStep(tag, item))
            if pos == len(text):
                break
            if text[pos] != ".":
                raise TagPathError("Expected '.' after item number at beginning of path: "
                                   + text[pos:], text, pos)
            pos += 1
        return cls(tuple(steps), text)

    def __str__(self) -> str:
        """The canonical form: ``(gggg,eeee)[n].(gggg,eeee)``."""
        return ".".join(str(s) for s in self.steps)

    def __repr__(self) -> str:
        return f"TagPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TagPath) and self.steps == other.steps

    def __hash__(self) -> int:
        return hash(self.steps)

    @property
    def tag(self) -> int:
        """The tag of the last step."""
        return self.steps[-1].tag

    @property
    def ends_in_item(self) -> bool:
        """True if the path names items (``...(0008,1140)[0]``), not an element."""
        return self.steps[-1].item is not None

    # -- following a path ---------------------------------------------------------------------
    def resolve(self, ds: Dataset, create: bool = False,
                undo: list[Callable[[], None]] | None = None,
                check_new: Callable[[Dataset, int], None] | None = None) -> list[Match]:
        """Everything the path names in ``ds``, in data set order.

        Without ``create``, missing elements and items simply match nothing. With ``create``,
        missing sequences and items on the way are inserted (sequences only for tags that the
        dictionary knows as SQ), and a missing leaf element is returned as a :class:`Match`
        whose ``element`` is None for the caller to create. ``undo`` collects callables that
        remove what was created (call them in reverse order); ``check_new(dataset, tag)`` is
        called before a sequence is created (and may raise). Raises :class:`TagPathError` for
        a non-sequence element followed by more path, and for ``[*]`` in an empty sequence
        that would have to be created.
        """
        current = [ds]
        last = len(self.steps) - 1
        for n, step in enumerate(self.steps):
            found: list = []
            for d in current:
                if step.item is None:
                    if create or step.tag in d:
                        found.append(Match(d, step.tag))
                    continue
                items = self._items(d, n, create, undo, check_new)
                if n == last:
                    found.extend(Match(d, step.tag, item) for item in items)
                else:
                    found.extend(items)
            current = found
        return current

    def _items(self, d: Dataset, n: int, create: bool, undo: list[Callable[[], None]] | None,
               check_new: Callable[[Dataset, int], None] | None) -> list[Dataset]:
        """The items that step ``n`` selects in ``d`` (creating what is missing if asked)."""
        step = self.steps[n]
        elem = d.get(step.tag)
        if elem is None:
            if not create:
                return []
            if check_new is not None:
                check_new(d, step.tag)
            if not _dictionary_sequence(d, step.tag):
                raise self._error(NOT_SEQUENCE, n)
            if step.item == ALL_ITEMS:
                raise self._error(WILDCARD_INSERT, n)
            elem = d.add_new(step.tag, "SQ", [])
            if undo is not None:
                undo.append(lambda: d.__delitem__(step.tag))
        elif elem.vr != "SQ":
            raise self._error(NOT_SEQUENCE, n)
        seq = elem.value
        if step.item == ALL_ITEMS:
            if not seq and create:
                raise self._error(WILDCARD_INSERT, n)
            return list(seq)
        index = int(step.item)  # type: ignore[arg-type]
        if index >= len(seq):
            if not create:
                return []
            self._add_items(d, seq, index + 1 - len(seq), n, undo)
        return [seq[index]]

    def _add_items(self, d: Dataset, seq: list, count: int, n: int,
                   undo: list[Callable[[], None]] | None) -> None:
        if count > MAX_NEW_ITEMS:
            raise self._error(f"Cannot insert more than {MAX_NEW_ITEMS} items into a sequence "
                              f"at once (item number {self.steps[n].item})", n)
        from .dataset import Dataset
        start = len(seq)
        seq.extend(Dataset(parent=d) for _ in range(count))
        if undo is not None:
            undo.append(lambda: seq.__delitem__(slice(start, start + count)))

    def _error(self, message: str, n: int) -> TagPathError:
        """An error at step ``n`` (its position counted in the canonical text)."""
        position = sum(len(str(s)) + 1 for s in self.steps[:n])
        return TagPathError(message, str(self), position)


def _dictionary_sequence(d: Dataset, tag: int) -> bool:
    """True if the dictionary knows ``tag`` as a sequence (private tags under their creator)."""
    from .dictionary import get_dictionary
    entry = get_dictionary().find(tag, d.private_creator(tag))
    return entry is not None and entry.vr == "SQ"


def _parse_tag(text: str, pos: int) -> tuple[int, int]:
    """A ``(gggg,eeee)``, ``gggg,eeee`` or keyword at ``pos``: (tag, position after it)."""
    if text.startswith("(", pos):
        if text.find(")", pos) < 0:
            raise TagPathError("Unable to parse tag at beginning of path: " + text[pos:], text, pos)
        m = _PAREN_TAG.match(text, pos)
        if m is None:
            raise TagPathError("Unable to parse tag/dictionary name at beginning of path: "
                               + text[pos:], text, pos)
        return (int(m.group(1), 16) << 16) | int(m.group(2), 16), m.end()
    end = text.find("[", pos)
    end = len(text) if end < 0 else end
    token = text[pos:end]
    m = _BARE_TAG.match(token)
    tag = ((int(m.group(1), 16) << 16) | int(m.group(2), 16)) if m else \
        (tag_for_keyword(token) if token.isidentifier() else None)
    if tag is None:
        raise TagPathError("Unable to parse tag/dictionary name at beginning of path: "
                           + text[pos:], text, pos)
    return tag, end


def _parse_item(text: str, pos: int) -> tuple[int | str, int]:
    """An item selector ``[n]`` or ``[*]`` at ``pos``: (item, position after it)."""
    m = _ITEM.match(text, pos)
    if m is None:
        raise TagPathError("Unable to parse item number at beginning of path: " + text[pos:],
                           text, pos)
    if m.group(1):
        return ALL_ITEMS, m.end()
    digits = m.group(3).lstrip("0") or "0"
    if m.group(2) == "-" and digits != "0":
        raise TagPathError("Negative item number (not permitted) at beginning of path: "
                           + text[pos:], text, pos)
    if len(digits) > 10 or int(digits) > MAX_ITEM:
        raise TagPathError("Item number too large (not permitted) at beginning of path: "
                           + text[pos:], text, pos)
    return int(digits), m.end()
