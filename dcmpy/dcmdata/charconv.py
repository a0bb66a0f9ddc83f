"""Converting a whole data set to another Specific Character Set (dcmdump/dcmconv +U8).

What DCMTK 3.6.7 does (``DcmFileFormat::convertToUTF8``), measured with its dcmdump +U8:

* The source character set is the top-level (0008,0005); without it, the default repertoire
  (ASCII, strictly: any byte above 0x7F is an error). Every value of the text VRs
  (PN, LO, SH, LT, ST, UT, UC) is converted, in nested items too; CS, UN and the others are
  left alone. Empty data sets are left alone entirely.
* A value is taken as DCMTK holds it in memory: an odd-length value gets a NUL appended (as read),
  then trailing spaces are removed. If the converted bytes equal these, the element is untouched
  (it still prints its stored length). Otherwise it is replaced by the converted bytes, padded
  with one space to even length; embedded or trailing NULs are kept.
* The top-level (0008,0005) is then set to ``ISO_IR 192`` (inserted if absent).
  A DICOMDIR (Media Storage SOP Class = Media Storage Directory Storage) has no SOP Common
  module: its top level is read as ASCII and gets no (0008,0005).
* Any failure (unknown defined term, a byte not valid in the source character set) aborts the
  whole conversion: dcmdump prints nothing for the file, logs ``F: <reason>: converting file to
  UTF-8: <file>`` and exits 1. :class:`CharsetConversionError` carries DCMTK's texts.

Deliberate differences (DCMTK 3.6.7 bugs or limits):

* ISO 2022 IR 87 / IR 159 (and single-byte ISO 2022 combinations) are converted; the Debian
  build of DCMTK refuses them (its iconv lacks the tables).
* Items with their own (0008,0005): DCMTK 3.6.7 honours those only in DICOMDIR directory
  records; in any other item it converts with the top-level set (mojibake, or a failure) and
  leaves the item's (0008,0005) as it was. We honour them in every item, as DCMTK does in
  directory records: an item with a non-empty (0008,0005) is converted from its own set and
  that element becomes ``ISO_IR 192`` (also when it names the set already in force, where
  DCMTK leaves the old, now false, value). An empty one inherits the set in force and is left
  alone (as DCMTK does).

The conversion is all or nothing: on error the data set is unchanged.
"""
from __future__ import annotations

from .charset import _canonical, _plan_for, decode as _decode_text
from .dataset import Dataset
from .element import Element, EncodedElement
from .tag import SPECIFIC_CHARACTER_SET
from .vr import TEXT_VRS

__all__ = ["convert_to_utf8", "CharsetConversionError", "UTF8"]

UTF8 = "ISO_IR 192"
_MEDIA_STORAGE_SOP_CLASS = 0x00020002
_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"
_CONVERT_FAILED = ("Cannot convert character encoding: Invalid or incomplete multibyte or wide "
                   "character")
_NOT_UPDATED = ("DcmItem: An error occurred during the conversion to UTF-8 encoding, the value "
                "of SpecificCharacterSet (0008,0005) is not updated")
_SIMPLE_CODECS = {"ISO_IR 192": "utf_8", "GB18030": "gb18030", "GBK": "gbk"}


class CharsetConversionError(ValueError):
    """The data set cannot be converted; ``str(exc)`` is DCMTK's status text.

    ``warning`` is the text of the warning DCMTK logs before failing (or None); ``tag`` and
    ``charsets`` say where (None for a failure to select the source character set).
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


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    elem = meta.get(_MEDIA_STORAGE_SOP_CLASS) if meta is not None else None
    if elem is None:
        return False
    return bytes(elem.raw).decode("latin-1").strip(" \0") == _DIRECTORY_STORAGE


def _convert_value(data: bytes, terms: tuple[str, ...], vr: str, tag: int) -> bytes | None:
    """The converted value (unpadded), or None if it does not change."""
    if len(data) % 2:
        data += b"\0"                      # DCMTK pads an odd value with NUL when reading it
    data = data.rstrip(b" ")               # ... and drops trailing spaces (data correction)
    core = data.rstrip(b" \0")
    tail = data[len(core):]                # NULs and spaces: the same bytes in any set
    if not terms or _plan_for(list(terms)).default:      # ASCII, strictly (as iconv does)
        if core.isascii():
            return None
        raise _failed(tag, terms)
    codec = _SIMPLE_CODECS.get(_canonical(terms[0])[0] or "") if len(terms) == 1 else None
    if codec is not None:
        try:
            text = core.decode(codec)
        except UnicodeDecodeError:
            raise _failed(tag, terms) from None
    else:
        if core.isascii() and b"\x1b" not in core:
            return None                    # G0 is ASCII in every other defined term
        text = _decode_text(core, list(terms), vr)
        if "\ufffd" in text:
            raise _failed(tag, terms)
    out = text.encode("utf_8") + tail
    return None if out == data else out


def _failed(tag: int, terms: tuple[str, ...]) -> CharsetConversionError:
    return CharsetConversionError(_CONVERT_FAILED, warning=_NOT_UPDATED, tag=tag, charsets=terms)


def _plan_item(ds: Dataset, terms: tuple[str, ...], changes: list) -> None:
    """Append (dataset, element) replacements for ``ds`` converted from ``terms``."""
    for elem in ds:
        vr = elem.vr
        if vr == "SQ":
            for item in elem.value:
                own = item.get(SPECIFIC_CHARACTER_SET)
                if own is None:
                    _plan_item(item, terms, changes)
                    continue
                item_terms = _terms(own)
                if not item_terms:         # empty: inherit, and leave it (as DCMTK does)
                    _plan_item(item, terms, changes)
                    continue
                _check_terms(item_terms)
                changes.append((item, Element(SPECIFIC_CHARACTER_SET, "CS", UTF8)))
                _plan_item(item, item_terms, changes)
            continue
        if vr not in TEXT_VRS or (elem.is_raw and elem.undefined_length):
            continue
        data = bytes(elem.raw)
        if not data:
            continue
        out = _convert_value(data, terms, vr, elem.tag)
        if out is not None:
            if len(out) % 2:
                out += b" "
            changes.append((ds, EncodedElement(elem.tag, vr, out, [UTF8])))


def convert_to_utf8(ds: Dataset) -> None:
    """Re-encode every value affected by (0008,0005) as UTF-8 and declare ISO_IR 192, in place.

    Raises :class:`CharsetConversionError` (leaving ``ds`` unchanged) when a value cannot be
    converted or (0008,0005) names an unknown character set.
    """
    if not len(ds):
        return
    dicomdir = _is_dicomdir(ds)
    terms = () if dicomdir else _terms(ds.get(SPECIFIC_CHARACTER_SET))
    _check_terms(terms)
    changes: list[tuple[Dataset, Element]] = []
    _plan_item(ds, terms, changes)
    if not dicomdir:
        changes.append((ds, Element(SPECIFIC_CHARACTER_SET, "CS", UTF8)))
    for target, elem in changes:
        target[elem.tag] = elem
