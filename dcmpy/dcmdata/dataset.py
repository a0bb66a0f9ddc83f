"""Data sets: lazy views over a scanned buffer, editable like a dict of tags or by keyword."""
from __future__ import annotations

from typing import Any, Iterator

from .._ext.scan import (C_LEN, C_NEXT, C_TAG, C_VAL, C_VR, K_ITEM, K_PIXITEM, K_SEQUENCE,
                         UNDEFINED, children, find_row)
from .dictionary import get_dictionary
from .element import Element, Fragments
from .tag import SPECIFIC_CHARACTER_SET, is_private, private_creator_tag
from .vr import ALL_VRS, code as vr_code

# how DCMTK resolves the dictionary's internal VRs when the stream is implicit
_IMPLICIT_VR = {"px": "OW", "lt": "OW", "up": "UL", "na": "UN"}
_PIXEL_REPRESENTATION = 0x00280103
# groups that may not appear in a stored data set: command, meta (outside the meta header), reserved
_INVALID_GROUPS = frozenset({0x0000, 0x0001, 0x0002, 0x0003, 0x0005, 0x0007, 0xFFFF})
_VR_BY_CODE = {vr_code(vr): vr for vr in ALL_VRS}
_UN_CODE = vr_code("UN")
# 'xs' attributes whose VR follows Pixel Representation; other 'xs' (LUT descriptors) stay as read
_SIGNED_LIKE_PIXELS = frozenset({0x00280104, 0x00280105, 0x00280106, 0x00280107, 0x00280108,
                                 0x00280109, 0x00280110, 0x00280111, 0x00280120, 0x00280121})


class Source:
    """A scanned buffer: the bytes (often an mmap) and the element table over them."""

    __slots__ = ("buf", "rows", "_keepalive", "dictionary_vr", "convert_un")

    def __init__(self, buf: memoryview, rows, keepalive: Any = None,
                 dictionary_vr: bool = False, convert_un: bool = False) -> None:
        self.buf = buf
        self.rows = rows
        self._keepalive = keepalive
        self.dictionary_vr = dictionary_vr   # -ev: the dictionary's VR wins over the stored one
        self.convert_un = convert_un         # +uc: so it does over a stored UN

    def value_bytes(self, row: int) -> memoryview:
        start = int(self.rows[row, C_VAL])
        return self.buf[start:start + int(self.rows[row, C_LEN])]

    def vr_of(self, row: int, creator: str | None) -> str:
        rows = self.rows
        if rows[row, 7] == K_SEQUENCE:
            return "SQ"
        code = rows[row, C_VR]
        if code and not (self.dictionary_vr or self.convert_un and code == _UN_CODE):
            return _VR_BY_CODE.get(code, "??")
        tag = rows[row, C_TAG]
        entry = get_dictionary().find(tag, creator)
        if entry is None:
            if code:
                return _VR_BY_CODE.get(code, "??")
            return "SQ" if self.rows[row, C_LEN] == UNDEFINED else "UN"
        return entry.vr if entry.vr in ("xs", "ox") else _IMPLICIT_VR.get(entry.vr, entry.vr)

    def items(self, row: int) -> list[int]:
        """Rows of the items (or pixel items) directly inside container ``row``."""
        out = []
        i, stop = row + 1, int(self.rows[row, C_NEXT])
        while i < stop:
            out.append(i)
            i = int(self.rows[i, C_NEXT])
        return out

    def sequence(self, row: int, parent: Dataset | None) -> Sequence:
        seq = Sequence()
        for item in self.items(row):
            if self.rows[item, 7] == K_ITEM:
                seq.append(Dataset(self, item + 1, int(self.rows[item, C_NEXT]), parent=parent,
                                   item_row=item))
        return seq

    def fragments(self, row: int) -> Fragments:
        return Fragments(self.value_bytes(i) for i in self.items(row)
                         if self.rows[i, 7] == K_PIXITEM)


class Dataset:
    """An ordered mapping of tag -> Element with keyword attribute access.

    ``ds.PatientName`` reads a value, ``ds.PatientName = 'X^Y'`` sets one (VR from the dictionary),
    ``ds[0x00100010]`` gives the Element. Iteration yields elements in tag order.
    """

    def __init__(self, source: Source | None = None, first: int = 0, stop: int = 0,
                 parent: Dataset | None = None, item_row: int = -1) -> None:
        d = self.__dict__
        d["_src"] = source
        d["parent"] = parent
        d["item_row"] = item_row
        # _elems maps tags to Elements or to source rows; until the rows are indexed (_rows set),
        # it holds only what was looked up, and lookups scan the rows in C
        d["_elems"] = {}
        d["_sorted"] = True
        d["_rows"] = (first, stop) if source is not None else None

    @property
    def _all(self) -> dict:
        """Every element's entry, indexing the source rows on first use."""
        rows = self._rows
        if rows is not None:
            index, ascending = children(self._src.rows, *rows)
            index.update(self._elems)
            d = self.__dict__
            d["_elems"], d["_sorted"], d["_rows"] = index, ascending, None
        return self._elems

    def _entry(self, tag: int) -> Any:
        """The Element or source row of ``tag``, or None."""
        entry = self._elems.get(tag)
        if entry is None and self._rows is not None:
            row = find_row(self._src.rows, self._rows[0], self._rows[1], tag)
            if row >= 0:
                entry = self._elems[tag] = row
        return entry

    # -- element access ---------------------------------------------------------------------
    def _materialize(self, tag: int, entry: Any) -> Element:
        if isinstance(entry, Element):
            return entry
        src = self._src
        vr = src.vr_of(entry, self._creator(tag) if tag & 0x10000 else None)
        if vr == "xs" and tag in _SIGNED_LIKE_PIXELS and not src.rows[entry, C_VR]:
            vr = {0: "US", 1: "SS"}.get(self._us_value(_PIXEL_REPRESENTATION), "xs")
        elif vr == "ox":
            vr = self._ox_vr(tag, implicit=not src.rows[entry, C_VR])
        elem = Element(tag, vr, _src=src, _row=entry, parent=self)
        self._elems[tag] = elem
        return elem

    def _us_value(self, tag: int) -> int | None:
        entry = self._entry(tag)
        if entry is None:
            return None
        value = self._materialize(tag, entry).value
        return value if isinstance(value, int) else None

    def _ox_vr(self, tag: int, implicit: bool) -> str:
        """OB or OW for an 'ox' element, decided as DCMTK does (explicit VR ignored with -ev:
        only pixel and overlay data become OW, the rest stays 'ox')."""
        if tag == 0x7FE00010 or (tag & 0xFF00FFFF) == 0x60003000:
            return "OW"
        if not implicit:
            return "ox"
        if tag == 0x54001010:
            bits = self._us_value(0x54001004)
            return "OW" if bits is not None and bits > 8 else "OB"
        return "OB"

    def _creator(self, tag: int) -> str | None:
        ctag = private_creator_tag(tag)
        entry = self._entry(ctag) if ctag != tag and (tag & 0xFFFF) >= 0x1000 else None
        if entry is None:
            return None
        value = self._materialize(ctag, entry).value
        return value if isinstance(value, str) else None

    def private_creator(self, tag: int) -> str | None:
        """The private creator string that reserves the block of private ``tag``."""
        return self._creator(tag) if is_private(tag) else None

    def __getitem__(self, tag: int) -> Element:
        entry = self._entry(tag)
        if entry is None:
            raise KeyError(tag)
        return self._materialize(tag, entry)

    def get(self, tag: int, default: Any = None) -> Element | Any:
        entry = self._entry(tag)
        return default if entry is None else self._materialize(tag, entry)

    def __contains__(self, tag: object) -> bool:
        if isinstance(tag, str):
            tag = get_dictionary().tag_for_name(tag)
        return self._entry(tag) is not None

    def __setitem__(self, tag: int, elem: Element) -> None:
        elems = self._all
        elem.parent = self
        if tag not in elems and elems and tag < max(elems):
            self.__dict__["_sorted"] = False
        elems[tag] = elem

    def __delitem__(self, tag: int) -> None:
        del self._all[tag]

    def __len__(self) -> int:
        return len(self._all)

    def tags(self) -> list[int]:
        elems = self._all
        if not self._sorted:
            self.__dict__["_elems"] = elems = dict(sorted(elems.items()))
            self.__dict__["_sorted"] = True
        return list(elems)

    def __iter__(self) -> Iterator[Element]:
        for tag in self.tags():
            yield self[tag]

    def add_new(self, tag: int, vr: str, value: Any) -> Element:
        elem = Element(tag, vr, None)
        self[tag] = elem
        elem.value = value
        return elem

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.tags() == other.tags() and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def remove_invalid_groups(self) -> None:
        """Drop elements whose group may not appear in a data set (dcmconv -ig)."""
        for tag in [t for t in self._all if (t >> 16) in _INVALID_GROUPS]:
            del self._elems[tag]

    # -- keywords -----------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        tag = get_dictionary().tag_for_name(name) if name[:1].isupper() else None
        if tag is None:
            raise AttributeError(name)
        entry = self._elems.get(tag)
        if entry is None:
            entry = self._entry(tag)
            if entry is None:
                raise AttributeError(f"data set has no element {name}")
        if entry.__class__ is not int:
            return entry.value
        return self._materialize(tag, entry).value

    def __setattr__(self, name: str, value: Any) -> None:
        tag = get_dictionary().tag_for_name(name) if name[:1].isupper() else None
        if tag is None:
            self.__dict__[name] = value
            return
        if self._entry(tag) is not None:
            self[tag].value = value
        else:
            vr = get_dictionary().find(tag).vr
            self.add_new(tag, _IMPLICIT_VR.get(vr, vr), value)

    def __delattr__(self, name: str) -> None:
        tag = get_dictionary().tag_for_name(name)
        if tag is None or self._entry(tag) is None:
            raise AttributeError(name)
        del self._all[tag]

    # -- context ------------------------------------------------------------------------------
    @property
    def character_sets(self) -> list[str]:
        """The Specific Character Set in force here (inherited from enclosing data sets).

        Read from the stored bytes as CS text whatever VR the element claims.
        """
        ds: Dataset | None = self
        while ds is not None:
            entry = ds._entry(SPECIFIC_CHARACTER_SET)
            if entry is not None:
                raw = bytes(ds._materialize(SPECIFIC_CHARACTER_SET, entry).raw)
                text = raw.decode("latin-1").strip(" \0")
                return [term.strip(" \0") for term in text.split("\\")] if text else []
            ds = ds.parent
        return []

    @property
    def source(self) -> Source | None:
        return self._src

    def item_length(self) -> int:
        """Stored length of the item this data set was read from (``0xFFFFFFFF`` undefined)."""
        return int(self._src.rows[self.item_row, C_LEN]) if self.item_row >= 0 else -1

    def __repr__(self) -> str:
        return f"<Dataset with {len(self)} elements>"


class Sequence(list):
    """The value of an SQ element: a list of Datasets."""


class FileDataset(Dataset):
    """A data set read from (or to be written to) a Part 10 file, with its meta header."""

    def __init__(self, source: Source | None = None, first: int = 0, stop: int = 0, *,
                 file_meta: Dataset | None = None, preamble: bytes | None = None,
                 transfer_syntax: Any = None, filename: str | None = None) -> None:
        super().__init__(source, first, stop)
        d = self.__dict__
        d["file_meta"] = file_meta if file_meta is not None else Dataset()
        d["preamble"] = preamble
        d["transfer_syntax"] = transfer_syntax
        d["filename"] = filename
        d["read_error"] = None
