"""Converting a whole data set to another Specific Character Set (dcmdump +U8, dcmconv +U8,
+L1, +A7, +C, with -Ct / -Cd).

What DCMTK 3.6.7 does (``DcmItem::convertCharacterSet``), measured with its dcmdump +U8 and
dcmconv +U8 / +L1 / +A7 / +C:

* The source character set is the top-level (0008,0005); without it, the default repertoire
  (ASCII, strictly: any byte above 0x7F is an error). Every value of the text VRs
  (PN, LO, SH, LT, ST, UT, UC) is converted, in nested items too; CS, UN and the others are
  left alone. Empty data sets are left alone entirely. Source and target being the same set
  does not skip the conversion (invalid UTF-8 stays an error for +U8 of an ISO_IR 192 file).
* A value is taken as DCMTK holds it in memory: an odd-length value gets a NUL appended (as read),
  then trailing spaces are removed. It is replaced by the converted bytes, padded with one space
  to even length; embedded or trailing NULs are kept. If the converted bytes equal the value as
  held in memory, dcmdump +U8 still prints the element with its stored length, while dcmconv
  writes the value as held in memory (trailing spaces gone): ``keep_unchanged`` chooses.
* The top-level (0008,0005) is then set to the target term (inserted if absent, an empty one is
  replaced); for ASCII (+A7, ``+C ""``, ``+C "ISO_IR 6"``) it is removed instead.
  A DICOMDIR (Media Storage SOP Class = Media Storage Directory Storage) has no SOP Common
  module: its top level is read as ASCII and gets no (0008,0005); its directory records with an
  own (0008,0005) are converted from that set and get the target term (removed for ASCII).
* Any failure (unknown defined term, a byte not valid in the source character set, a character
  the target cannot represent) aborts the whole conversion. DCMTK then logs
  ``W: DcmItem: An error occurred during the conversion to <iconv name> encoding, ...`` and
  ``F: <reason>: <what>: <file>`` and exits 1 (dcmdump prints nothing for the file, dcmconv
  writes nothing). :class:`CharsetConversionError` carries DCMTK's texts.
* DCMTK accepts as target only single defined terms without code extensions; otherwise
  ``Cannot select destination character set: SpecificCharacterSet (0008,0005) value '<t>' not
  supported``.

Deliberate differences (DCMTK 3.6.7 bugs or limits):

* ISO 2022 IR 87 / IR 159 (and single-byte ISO 2022 combinations) are converted, as source and
  as target; the Debian build of DCMTK refuses them (its iconv lacks the tables) and refuses
  any ISO 2022 target. A target whose value 1 is a multi-byte set (``ISO 2022 IR 87``) gets an
  empty value 1 (``\\ISO 2022 IR 87``: ASCII in G0), as PS3.3 C.12.1.1.2 requires.
* ISO_IR 13 as target: DCMTK encodes with iconv's Shift_JIS, so kanji or Cyrillic become
  two-byte Shift_JIS codes that ISO_IR 13 (JIS X 0201 only) does not have; we refuse them.
* Transliteration (-Ct) and discarding (-Cd): the Debian build of DCMTK refuses both
  (``Conversion flags not supported by the underlying implementation``). We do them as GNU
  libiconv's ``//TRANSLIT`` and ``//IGNORE`` do: -Ct replaces a character the target cannot
  represent by similar-looking ones (a small table, then the compatibility decomposition
  without its combining marks: e -> e for é, ss for ß, A for full-width Ａ) and fails when
  there are none; -Cd drops it; both together approximate what they can and drop the rest.
* Items with their own (0008,0005): DCMTK 3.6.7 honours those only in DICOMDIR directory
  records; in any other item it converts with the top-level set (mojibake, or a failure) and
  leaves the item's (0008,0005) as it was. We honour them in every item, as DCMTK does in
  directory records: an item with a non-empty (0008,0005) is converted from its own set and
  that element becomes the target term (also when it names the set already in force, where
  DCMTK leaves the old, now false, value); it is removed for an ASCII target. An empty one
  inherits the set in force and is left alone (as DCMTK does).

The conversion is all or nothing: on error the data set is unchanged.
"""
from __future__ import annotations

import unicodedata
from typing import Sequence

from .charset import CharsetError, _canonical, _plan_for, decode as _decode_text, encode as _encode_text
from .charset import _ISO2022_TERMS, _SIMPLE_CODECS as _TERM_CODECS
from .dataset import Dataset
from .element import Element, EncodedElement
from .tag import SPECIFIC_CHARACTER_SET
from .vr import TEXT_VRS

__all__ = ["convert_charset", "convert_to_utf8", "target_terms", "transliterate",
           "CharsetConversionError", "UTF8", "LATIN1", "ASCII"]

UTF8 = "ISO_IR 192"
LATIN1 = "ISO_IR 100"
ASCII = ""
_MEDIA_STORAGE_SOP_CLASS = 0x00020002
_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"
_CONVERT_FAILED = ("Cannot convert character encoding: Invalid or incomplete multibyte or wide "
                   "character")
_NOT_UPDATED = ("DcmItem: An error occurred during the conversion to {} encoding, the value "
                "of SpecificCharacterSet (0008,0005) is not updated")
_SIMPLE_CODECS = {"ISO_IR 192": "utf_8", "GB18030": "gb18030", "GBK": "gbk"}
# the iconv names DCMTK 3.6.7 gives the targets (in its warning before a failure)
_ICONV_NAMES = {
    "": "ASCII", "ISO_IR 100": "ISO-8859-1", "ISO_IR 101": "ISO-8859-2",
    "ISO_IR 109": "ISO-8859-3", "ISO_IR 110": "ISO-8859-4", "ISO_IR 144": "ISO-8859-5",
    "ISO_IR 127": "ISO-8859-6", "ISO_IR 126": "ISO-8859-7", "ISO_IR 138": "ISO-8859-8",
    "ISO_IR 148": "ISO-8859-9", "ISO_IR 203": "ISO-8859-15", "ISO_IR 13": "Shift_JIS",
    "ISO_IR 166": "TIS-620", "ISO_IR 192": "UTF-8", "GB18030": "GB18030", "GBK": "GBK",
}


class CharsetConversionError(ValueError):
    """The data set cannot be converted; ``str(exc)`` is DCMTK's status text.

    ``warning`` is the text of the warning DCMTK logs before failing (or None); ``tag`` and
    ``charsets`` say where (None for a failure to select a character set).
    """

    def __init__(self, message: str, *, warning: str | None = None, tag: int | None = None,
                 charsets: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.warning = warning
        self.tag = tag
        self.charsets = charsets


def _terms(elem: Element | None) -> tuple[str, ...]:
    """The values of a (0008,0005) element, trimmed; () for absent or empty."""
    if elem is None:
        return ()
    data = bytes(elem.raw).decode("latin-1")
    terms = tuple(t.strip(" \0") for t in data.split("\\"))
    return () if not any(terms) else terms


def _check_terms(terms: tuple[str, ...]) -> None:
    for i, term in enumerate(terms):
        if term and _canonical(term)[0] is None:
            where = f"value {i + 1} of {len(terms)} '{term}" if len(terms) > 1 else f"value '{term}' not supported"
            raise CharsetConversionError(
                f"Cannot select source character set: SpecificCharacterSet (0008,0005) {where}",
                charsets=terms)


def target_terms(target: str | Sequence[str]) -> tuple[str, ...]:
    """The values of (0008,0005) for a conversion target; () for ASCII (the default repertoire).

    ``target`` is a defined term (``'ISO_IR 100'``), several (``'\\ISO 2022 IR 87'`` or a
    sequence), or ``''`` / ``'ISO_IR 6'`` for ASCII. Raises :class:`CharsetConversionError`
    with DCMTK's text for anything that is not a defined term or a valid combination.
    """
    values = target.split("\\") if isinstance(target, str) else list(target)
    values = [v.strip(" ") for v in values]
    shown = "\\".join(values)
    bad = CharsetConversionError(
        f"Cannot select destination character set: SpecificCharacterSet (0008,0005) value "
        f"'{shown}' not supported", charsets=tuple(values))
    if len(values) == 1:
        term = values[0]
        if term in ("", "ISO_IR 6"):
            return ()
        if term in _TERM_CODECS:
            return (term,)
        if term not in _ISO2022_TERMS:
            raise bad
    if any(v not in _ISO2022_TERMS for v in values[1:]) or (
            values[0] and values[0] not in _ISO2022_TERMS) or len(set(values)) < len(values):
        raise bad
    if values[0] and any(s.multibyte for s in _ISO2022_TERMS[values[0]]):
        values.insert(0, "")               # value 1 must not be a multi-byte set
    if all(v in ("", "ISO 2022 IR 6") for v in values):
        return ()
    return tuple(values)


def _iconv_name(terms: tuple[str, ...]) -> str:
    joined = "\\".join(terms)
    return _ICONV_NAMES.get(joined, joined.lstrip("\\"))


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    elem = meta.get(_MEDIA_STORAGE_SOP_CLASS) if meta is not None else None
    if elem is None:
        return False
    return bytes(elem.raw).decode("latin-1").strip(" \0") == _DIRECTORY_STORAGE


# ---------------------------------------------------------------------------------------------
# transliteration (-Ct): what GNU libiconv's //TRANSLIT does for the common cases

_TRANSLIT = {
    "\u00c6": "AE", "\u00e6": "ae", "\u0152": "OE", "\u0153": "oe", "\u00df": "ss",
    "\u1e9e": "SS", "\u00d8": "O", "\u00f8": "o", "\u0110": "D", "\u0111": "d", "\u00d0": "D",
    "\u00f0": "d", "\u0141": "L", "\u0142": "l", "\u00de": "TH", "\u00fe": "th",
    "\u0131": "i", "\u0126": "H", "\u0127": "h", "\u0166": "T", "\u0167": "t", "\u014a": "N",
    "\u014b": "n", "\u0138": "q", "\u00a0": " ", "\u00ab": "<<", "\u00bb": ">>",
    "\u00a9": "(C)", "\u00ae": "(R)", "\u00d7": "x", "\u00f7": ":", "\u00b7": ".",
    "\u00a6": "|", "\u00ad": "-", "\u00b1": "+/-", "\u00bc": " 1/4", "\u00bd": " 1/2",
    "\u00be": " 3/4", "\u00a2": "c", "\u00a3": "GBP", "\u00a5": "JPY", "\u20ac": "EUR",
    "\u00b0": "^0", "\u00b5": "u",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": ",,", "\u201f": '"', "\u2026": "...", "\u2022": "o", "\u2032": "'",
    "\u2033": '"', "\u2039": "<", "\u203a": ">", "\u2122": "(TM)", "\u3000": " ",
}


def transliterate(ch: str) -> str | None:
    """Similar-looking characters for ``ch`` (one character), or None if there are none.

    The result may still hold characters the target cannot represent: the caller checks.
    """
    alt = _TRANSLIT.get(ch)
    if alt is not None:
        return alt
    alt = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return alt if alt and alt != ch else None


# ---------------------------------------------------------------------------------------------
# one value

class _Target:
    """What one conversion writes: terms, flags, and a cache of what each character becomes."""

    def __init__(self, terms: tuple[str, ...], translit: bool, discard: bool) -> None:
        self.terms = terms
        self.charsets = list(terms)
        self.translit = translit
        self.discard = discard
        plan = _plan_for(self.charsets)
        # ASCII text is the same bytes in the target (not with JIS X 0201 Romaji in G0)
        self.ascii_same = plan.codec is not None or (plan.g0.name == "ISO-IR 6")
        self._fits: dict[tuple[str, str], bool] = {}

    def fits(self, ch: str, vr: str) -> bool:
        key = (ch, vr)
        ok = self._fits.get(key)
        if ok is None:
            try:
                _encode_text(ch, self.charsets, vr)
                ok = True
            except CharsetError:
                ok = False
            self._fits[key] = ok
        return ok

    def encode(self, text: str, vr: str) -> bytes | None:
        """``text`` in the target set (approximated or reduced as the flags say), or None."""
        try:
            return _encode_text(text, self.charsets, vr)
        except CharsetError:
            if not (self.translit or self.discard):
                return None
        out = []
        for ch in text:
            if self.fits(ch, vr):
                out.append(ch)
                continue
            if self.translit:
                alt = transliterate(ch)
                if alt is not None:
                    if all(self.fits(c, vr) for c in alt):
                        out.append(alt)
                        continue
                    if self.discard:
                        out.append("".join(c for c in alt if self.fits(c, vr)))
                        continue
            if not self.discard:
                return None
        try:
            return _encode_text("".join(out), self.charsets, vr)
        except CharsetError:
            return None


def _convert_value(data: bytes, terms: tuple[str, ...], vr: str, tag: int,
                   target: _Target) -> bytes | None:
    """The converted value (unpadded), or None if it does not change."""
    if len(data) % 2:
        data += b"\0"                      # DCMTK pads an odd value with NUL when reading it
    data = data.rstrip(b" ")               # ... and drops trailing spaces (data correction)
    core = data.rstrip(b" \0")
    tail = data[len(core):]                # NULs and spaces: the same bytes in any set
    if not terms or _plan_for(list(terms)).default:      # ASCII, strictly (as iconv does)
        if not core.isascii():
            raise _failed(tag, terms, target)
        if target.ascii_same:
            return None
        text = core.decode("ascii")
    else:
        codec = _SIMPLE_CODECS.get(_canonical(terms[0])[0] or "") if len(terms) == 1 else None
        if codec is not None:
            try:
                text = core.decode(codec)
            except UnicodeDecodeError:
                raise _failed(tag, terms, target) from None
        else:
            if core.isascii() and b"\x1b" not in core and target.ascii_same:
                return None                # G0 is ASCII in every other defined term
            text = _decode_text(core, list(terms), vr)
            if "\ufffd" in text:
                raise _failed(tag, terms, target)
    out = target.encode(text, vr)
    if out is None:
        raise _failed(tag, terms, target)
    out += tail
    return None if out == data else out


def _failed(tag: int, terms: tuple[str, ...], target: _Target) -> CharsetConversionError:
    return CharsetConversionError(_CONVERT_FAILED, tag=tag, charsets=terms,
                                  warning=_NOT_UPDATED.format(_iconv_name(target.terms)))


def _charset_element(target: _Target) -> Element:
    value = target.terms[0] if len(target.terms) == 1 else list(target.terms)
    return Element(SPECIFIC_CHARACTER_SET, "CS", value)


def _as_loaded(data: bytes) -> bytes:
    """A text value as DCMTK holds it once loaded: odd ones NUL-padded, trailing spaces removed."""
    if len(data) % 2:
        data += b"\0"
    return data.rstrip(b" ")


def _plan_item(ds: Dataset, terms: tuple[str, ...], target: _Target, changes: list,
               keep_unchanged: bool) -> None:
    """Append (dataset, tag, element or None to delete) for ``ds`` converted from ``terms``."""
    for elem in ds:
        vr = elem.vr
        if vr == "SQ":
            for item in elem.value:
                own = item.get(SPECIFIC_CHARACTER_SET)
                if own is None:
                    _plan_item(item, terms, target, changes, keep_unchanged)
                    continue
                item_terms = _terms(own)
                if not item_terms:         # empty: inherit, and leave it (as DCMTK does)
                    _plan_item(item, terms, target, changes, keep_unchanged)
                    continue
                _check_terms(item_terms)
                changes.append((item, SPECIFIC_CHARACTER_SET,
                                _charset_element(target) if target.terms else None))
                _plan_item(item, item_terms, target, changes, keep_unchanged)
            continue
        if vr not in TEXT_VRS or (elem.is_raw and elem.undefined_length):
            continue
        data = bytes(elem.raw)
        if not data:
            continue
        out = _convert_value(data, terms, vr, elem.tag, target)
        if out is None:
            if keep_unchanged:
                continue
            out = _as_loaded(data)
        if len(out) % 2:
            out += b" "
        if out != data:
            changes.append((ds, elem.tag, EncodedElement(elem.tag, vr, out, target.charsets)))


def convert_charset(ds: Dataset, target: str | Sequence[str], transliterate: bool = False,
                    discard: bool = False, *, keep_unchanged: bool = False) -> None:
    """Re-encode every value affected by (0008,0005) in the ``target`` set and declare it, in place.

    ``target`` is what :func:`target_terms` accepts (``'ISO_IR 100'``, ``''`` for ASCII,
    ``'\\ISO 2022 IR 87'``...). ``transliterate`` approximates characters the target cannot
    represent by similar-looking ones; ``discard`` drops them (with both: approximated where
    possible, dropped otherwise). Raises :class:`CharsetConversionError` (leaving ``ds``
    unchanged) when a value cannot be converted or a character set is unknown.

    Every converted element is stored as DCMTK writes it after the conversion: the value as
    loaded (odd ones NUL-padded, trailing spaces removed), converted, padded with a space to
    even length; so a value the conversion does not change loses its trailing spaces too (as in
    DCMTK's dcmconv output). With ``keep_unchanged`` such elements keep their stored bytes (what
    DCMTK's dcmdump +U8 shows: it prints their length as read).
    """
    goal = _Target(target_terms(target), transliterate, discard)
    if not len(ds):
        return
    dicomdir = _is_dicomdir(ds)
    terms = () if dicomdir else _terms(ds.get(SPECIFIC_CHARACTER_SET))
    _check_terms(terms)
    changes: list[tuple[Dataset, int, Element | None]] = []
    _plan_item(ds, terms, goal, changes, keep_unchanged)
    if not dicomdir:
        changes.append((ds, SPECIFIC_CHARACTER_SET, _charset_element(goal) if goal.terms else None))
    for where, tag, elem in changes:
        if elem is not None:
            where[tag] = elem
        elif tag in where:
            del where[tag]


def convert_to_utf8(ds: Dataset, *, keep_unchanged: bool = True) -> None:
    """Re-encode every value affected by (0008,0005) as UTF-8 and declare ISO_IR 192, in place.

    :func:`convert_charset` to ``ISO_IR 192``; by default for showing (dcmdump +U8), with
    ``keep_unchanged=False`` for writing (dcmconv +U8). Raises :class:`CharsetConversionError`
    (leaving ``ds`` unchanged) when a value cannot be converted or (0008,0005) names an unknown
    character set.
    """
    convert_charset(ds, UTF8, keep_unchanged=keep_unchanged)
