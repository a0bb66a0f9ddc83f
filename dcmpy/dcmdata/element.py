"""Data elements: a tag, a VR and a value that stays as stored bytes until someone asks."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._ext.scan import C_LEN, C_SYN, C_VAL, SYN_EXPLICIT_BE, UNDEFINED
from . import values
from .tag import tag_str
from .vr import TEXT_VRS

if TYPE_CHECKING:
    from .dataset import Dataset, Source

_UNSET = object()


class Element:
    """One data element.

    An element read from a file keeps a reference to its source table row; ``raw`` is then a
    zero-copy view of the stored value and ``value`` is decoded on first access. Setting
    ``value`` detaches it from the source (it will be encoded anew when written).
    """

    __slots__ = ("tag", "vr", "_value", "_src", "_row", "parent")

    def __init__(self, tag: int, vr: str, value: Any = None, *, _src: Source | None = None,
                 _row: int = -1, parent: Dataset | None = None) -> None:
        self.tag = tag
        self.vr = vr
        self._src = _src
        self._row = _row
        self._value = _UNSET if _src is not None else value
        self.parent = parent

    # -- where the value lives -------------------------------------------------------------
    @property
    def is_raw(self) -> bool:
        """True while the element still refers to its stored bytes unchanged."""
        return self._src is not None

    @property
    def offset(self) -> int:
        """Offset of the value in the source buffer (-1 for a new element)."""
        return int(self._src.rows[self._row, C_VAL]) if self._src is not None else -1

    @property
    def stored_length(self) -> int:
        """Length field as stored (``0xFFFFFFFF`` for undefined length); -1 for a new element."""
        return int(self._src.rows[self._row, C_LEN]) if self._src is not None else -1

    @property
    def undefined_length(self) -> bool:
        return self.stored_length == UNDEFINED

    @property
    def vr_explicit(self) -> bool:
        """False when the VR was taken from the dictionary (implicit VR stream)."""
        return self._src is None or self._src.rows[self._row, 1] != 0

    @property
    def little_endian(self) -> bool:
        return self._src is None or self._src.rows[self._row, C_SYN] != SYN_EXPLICIT_BE

    @property
    def raw(self) -> memoryview | bytes:
        """The value bytes as stored (zero-copy for a read element), or freshly encoded."""
        if self._src is not None:
            if self.vr == "SQ":
                return b""
            return self._src.value_bytes(self._row)
        return values.encode(self._value, self.vr, True, self._charsets())

    # -- the value ---------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        if self._value is _UNSET:
            self._value = self._decode()
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        if self.vr == "SQ":
            from .dataset import Sequence
            new = new if isinstance(new, Sequence) else Sequence(new or [])
        self._value = new
        self._src = None
        self._row = -1

    def _charsets(self) -> list[str]:
        """The character sets for encoding this value (only text VRs depend on them)."""
        if self.vr not in TEXT_VRS or self.parent is None:
            return []
        return self.parent.character_sets

    def _decode(self) -> Any:
        src, row, vr = self._src, self._row, self.vr
        if vr == "SQ":
            return src.sequence(row, self.parent)
        rows = src.rows
        length = rows[row, C_LEN]
        if length == UNDEFINED:
            return src.fragments(row)
        start = rows[row, C_VAL]
        raw = src.buf[start:start + length]
        charsets = ()
        if vr in TEXT_VRS:
            raw = bytes(raw)
            if not raw.isascii() or b"\x1b" in raw:     # plain ASCII needs no character set
                charsets = self._charsets()
        return values.decode(raw, vr, rows[row, C_SYN] != SYN_EXPLICIT_BE, charsets)

    @property
    def vm(self) -> int:
        if self.vr == "SQ":
            return 1
        if self._src is not None:
            if self.undefined_length:
                return 1
            return values.value_multiplicity(self.raw, self.vr)
        v = self._value
        if v is None or (isinstance(v, (str, bytes)) and not v):
            return 0
        if isinstance(v, (list, tuple)):
            return len(v)
        if hasattr(v, "shape") and self.vr not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            return int(v.size)
        return 1

    @property
    def keyword(self) -> str:
        from .dictionary import get_dictionary
        entry = get_dictionary().find(self.tag)
        return entry.name if entry else ""

    def __repr__(self) -> str:
        return f"Element({tag_str(self.tag)} {self.vr} {self.value!r:.60})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Element):
            return NotImplemented
        a, b = self.value, other.value
        try:
            same = a == b
            if hasattr(same, "all"):
                same = bool(same.all()) and getattr(a, "shape", None) == getattr(b, "shape", None)
            return self.tag == other.tag and self.vr == other.vr and bool(same)
        except ValueError:
            return False

    __hash__ = None  # type: ignore[assignment]


class Fragments(list):
    """The items of an encapsulated pixel data element: the Basic Offset Table first, then the
    fragments, each a zero-copy view of the stored bytes."""


class EncodedElement(Element):
    """A new element whose value is given as encoded bytes, kept exactly as given.

    ``raw`` returns those bytes unchanged (no re-encoding, no padding: the caller pads if it
    wants to); ``value`` decodes them with ``charsets`` (not the parent's, which may describe
    the bytes before a conversion). Used by the character set conversion (``+U8``), whose
    results must keep bytes that a decode/encode round trip would lose (embedded NULs, padding).
    Setting ``value`` turns it into an ordinary new element.
    """

    __slots__ = ("_encoded", "_encoded_charsets")

    def __init__(self, tag: int, vr: str, data: bytes, charsets: list[str] | tuple = (),
                 parent: Dataset | None = None) -> None:
        super().__init__(tag, vr, None, parent=parent)
        self._value = _UNSET
        self._encoded: bytes | None = bytes(data)
        self._encoded_charsets = list(charsets)

    @property
    def is_encoded(self) -> bool:
        """True while the element still holds the bytes it was given."""
        return self._encoded is not None

    @property
    def raw(self) -> memoryview | bytes:
        if self._encoded is not None:
            return self._encoded
        return Element.raw.fget(self)

    @property
    def value(self) -> Any:
        if self._value is _UNSET:
            charsets = self._encoded_charsets if self.vr in TEXT_VRS else ()
            self._value = values.decode(self._encoded, self.vr, True, charsets)
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        self._encoded = None
        Element.value.fset(self, new)

    @property
    def vm(self) -> int:
        if self._encoded is not None:
            return values.value_multiplicity(self._encoded, self.vr)
        return Element.vm.fget(self)
