"""Reading dcmdump text back into a data set: the input format of DCMTK's ``dump2dcm``.

One element per line, ``(gggg,eeee) VR value # comment``, as ``dcmdump`` prints it (see
``man dump2dcm``). The VR is optional (the dictionary's is used); a bracketed value runs to the last
``]`` on the line; ``=Name`` gives a UI value by DCMTK's UID name and ``=file`` an OB/OW value
(or a pixel item) from a file; sequences, items, delimiters and encapsulated pixel data
(``(7fe0,0010) OB (PixelSequence``) nest as dcmdump shows them. Group 0002 lines make the meta
header. Values keep their exact bytes: nothing is reformatted on the way through.

Where DCMTK 3.6.7 silently changes data, this parser reports an error naming the line instead
(numbers that do not parse or overflow, hex bytes longer than two digits, tags with stray
characters, ``(not loaded)`` values, unknown VR names, pixel items outside a pixel sequence); see
``tests/test_dump2dcm.py`` for each case against DCMTK. Every error is collected with its line
number, and the lines around it are still read, so that one run lists them all.
"""
from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Union

from .._diag import warn
from .dataset import Dataset, FileDataset, Sequence
from .dictionary import get_dictionary
from .element import Element, EncodedElement, Fragments
from .reader import DicomError
from .tag import (ITEM, ITEM_DELIMITATION, PIXEL_DATA, SEQUENCE_DELIMITATION,
                  SPECIFIC_CHARACTER_SET, tag_str)
from .uid import uid_for_dcmtk_name
from .vr import ALL_VRS, STRING_VRS, pad_byte
from ._dumpfields import (PIXEL_ITEM_VR, TAG, WS, LineError, binary_value,
                          hex_bytes, ow_array, q, split_vr, value_text)
from . import xfer

__all__ = ["DumpError", "DumpReadOptions", "parse_dump", "read_dump", "generate_uids",
           "complete_file_meta"]

Source = Union[str, os.PathLike, IO[bytes]]

# dictionary VRs that accept more than one stated VR without a warning (DCMTK's rules)
_EQUIVALENT = {"xs": {"US", "SS"}, "ox": {"OB", "OW"}, "px": {"OB", "OW"},
               "lt": {"US", "SS", "OW"}}
_ELEMENT_LINE = re.compile(r"[ \t]*\(\s*[0-9A-Fa-f]{1,4}\s*,\s*[0-9A-Fa-f]{1,4}\s*\)")
_MAX_ERRORS = 100


class DumpError(DicomError):
    """The dump text has errors: ``errors`` lists (line, message) pairs (the first 100),
    ``count`` says how many there were, ``line`` is the first one's line, and ``partial``
    holds the data set made from the lines without errors (what ``dump2dcm +E`` writes)."""

    def __init__(self, errors: list[tuple[int, str]], count: int,
                 partial: FileDataset | None = None) -> None:
        line, message = errors[0]
        more = f" (and {count - 1} more error{'s' if count > 2 else ''})" if count > 1 else ""
        super().__init__(f"{message} (line {line}){more}", partial=partial)
        self.line = line
        self.errors = errors
        self.count = count


@dataclass(frozen=True, slots=True)
class DumpReadOptions:
    """dump2dcm's input options."""
    read_meta: bool = True          # +f: group 0002 lines make the meta header; -f: dropped
    big_endian_files: bool = False  # +rb: OW data in '=file' files is big endian (+rl: little)
    max_line_length: int = 4096     # +l: lines must be shorter than this minus one (as DCMTK)
    max_depth: int = 5000           # sequences nested deeper than this are refused


class _Fatal(Exception):
    """A problem after which the rest of the dump is not read."""


# -- reading lines ------------------------------------------------------------------------

class _Lines:
    """Physical lines of a binary stream, each at most ``max_len`` bytes read, with look-ahead.

    Yields (number, text or None): None for a line that is too long (the rest of it is
    skipped without being held in memory). Text is decoded as Latin-1, so every byte survives.
    """

    def __init__(self, stream: IO[bytes], max_len: int) -> None:
        self.stream = stream
        self.max_len = max_len
        self.number = 0
        self._peeked: tuple[int, str | None] | None = None

    def __iter__(self) -> Iterator[tuple[int, str | None]]:
        return self

    def __next__(self) -> tuple[int, str | None]:
        if self._peeked is not None:
            item, self._peeked = self._peeked, None
            return item
        raw = self.stream.readline(self.max_len)
        if not raw:
            raise StopIteration
        self.number += 1
        ended = raw.endswith(b"\n")
        content = raw[:-1] if ended else raw
        if len(content) >= self.max_len - 1:
            # DCMTK's fgets buffer holds max_len - 1 characters with the line end
            while not ended:
                rest = self.stream.readline(1 << 16)
                ended = not rest or rest.endswith(b"\n")
            return self.number, None
        return self.number, content.decode("latin-1")

    def peek(self) -> tuple[int, str | None] | None:
        if self._peeked is None:
            self._peeked = next(self, None)
        return self._peeked


# -- values -------------------------------------------------------------------------------

# -- the parser ---------------------------------------------------------------------------

class _Container:
    """An open sequence, item or pixel sequence on the parser's stack."""

    __slots__ = ("kind", "tag", "line", "value")

    def __init__(self, kind: str, tag: int, line: int, value: Any) -> None:
        self.kind, self.tag, self.line, self.value = kind, tag, line, value


class _Parser:
    def __init__(self, options: DumpReadOptions, name: str | None,
                 info: Callable[[str], None] | None) -> None:
        self.opts = options
        self.info = info
        self.dictionary = get_dictionary()
        self.meta = Dataset()
        self.root = FileDataset(file_meta=self.meta, filename=name)
        self.stack: list[_Container] = []
        self.items: list[Dataset] = []          # the open items, innermost last
        self.charsets: dict[int, list[str]] = {id(self.root): []}   # by id() of a data set
        self.depth = 0
        self.errors: list[tuple[int, str]] = []
        self.count = 0
        self.first_line: dict[tuple[int, int], int] = {}

    # -- driving --------------------------------------------------------------------------
    def run(self, lines: _Lines) -> FileDataset:
        for number, text in lines:
            if text is None:
                self.error(number, f"line too long (use +l to allow lines of more than "
                                   f"{self.opts.max_line_length - 2} characters)")
                continue
            try:
                self.line(number, text, lines)
            except LineError as exc:
                self.error(number, str(exc))
            except _Fatal as exc:
                self.error(number, str(exc))
                break
        self.close_all(lines.number)
        return self.finish()

    def error(self, number: int, message: str) -> None:
        self.count += 1
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append((number, message))

    def line(self, number: int, text: str, lines: _Lines) -> None:
        body = text.lstrip(WS)
        if not body.rstrip(WS) or body.startswith("#"):
            return
        m = TAG.match(body)
        if m is None:
            if body.startswith("("):
                raise LineError(f"bad tag {q(body.split(')')[0][:20] + ')')}: expected "
                                 "(gggg,eeee) with hexadecimal numbers")
            raise LineError("no tag found: a line must start with (gggg,eeee)")
        tag = (int(m.group(1), 16) << 16) | int(m.group(2), 16)
        given, rest = split_vr(body[m.end():].lstrip(WS))
        if rest.startswith("[") and "]" not in rest:
            rest = self.continued(rest, lines)
        if tag >> 16 == 0xFFFE:
            self.structure(number, tag, given, rest)
        else:
            self.element(number, tag, given, rest)

    @staticmethod
    def continued(rest: str, lines: _Lines) -> str:
        """A bracketed value that dcmdump printed over several lines (it holds line breaks):
        join the following lines up to the one with the closing ']'."""
        parts = [rest]
        while True:
            nxt = lines.peek()
            if nxt is None or nxt[1] is None or _ELEMENT_LINE.match(nxt[1]):
                return rest
            next(lines)
            parts.append(nxt[1])
            if "]" in nxt[1]:
                return "\n".join(parts).rstrip(WS)

    # -- structure ------------------------------------------------------------------------
    @property
    def current(self) -> Dataset:
        """The data set that element lines go to."""
        return self.items[-1] if self.items else self.root

    def structure(self, number: int, tag: int, given: str | None, rest: str) -> None:
        top = self.stack[-1] if self.stack else None
        if tag == ITEM:
            if top is not None and top.kind == "pixels":
                top.value.append(self.fragment(rest))
            elif top is not None and top.kind == "sequence":
                if given == PIXEL_ITEM_VR:
                    raise LineError("pixel item (pi) in a sequence that is no pixel sequence")
                item = Dataset(parent=self.current)
                self.charsets[id(item)] = self.charsets[id(self.current)]
                top.value.append(item)
                self.stack.append(_Container("item", tag, number, item))
                self.items.append(item)
            else:
                raise LineError("item (fffe,e000) outside a sequence")
        elif tag == ITEM_DELIMITATION:
            if top is None or top.kind != "item":
                raise LineError("item delimitation (fffe,e00d) without an open item")
            self.pop_item()
        elif tag == SEQUENCE_DELIMITATION:
            if top is not None and top.kind == "item":
                self.pop_item()
                self.pop_sequence()
                raise LineError(f"sequence delimitation (fffe,e0dd) inside the item opened on "
                                 f"line {top.line} (close it with (fffe,e00d) first)")
            if top is None:
                raise LineError("sequence delimitation (fffe,e0dd) without an open sequence")
            self.pop_sequence()
        else:
            raise LineError(f"{tag_str(tag)} is not a data element")

    def pop_item(self) -> None:
        self.stack.pop()
        self.items.pop()

    def pop_sequence(self) -> None:
        self.stack.pop()
        self.depth -= 1

    def open(self, number: int, kind: str, tag: int, value: Any) -> None:
        if self.depth >= self.opts.max_depth:
            raise _Fatal(f"sequences nested deeper than {self.opts.max_depth} levels")
        self.depth += 1
        self.stack.append(_Container(kind, tag, number, value))

    def close_all(self, last: int) -> None:
        while self.stack:
            c = self.stack.pop()
            if c.kind != "item":
                self.error(last, f"sequence {tag_str(c.tag)} opened on line {c.line} is not closed "
                                 "(missing (fffe,e0dd))")
            else:
                self.error(last, f"item opened on line {c.line} is not closed (missing (fffe,e00d))")

    def fragment(self, rest: str) -> bytes:
        kind, text = value_text(rest)
        if kind == "paren":
            self.description(text, "pixel item")
            return b""
        if text.startswith("="):
            return self.read_file(text[1:].strip(WS))
        return hex_bytes(text, "a pixel item") if text else b""

    def read_file(self, name: str) -> bytes:
        """The bytes of a '=file' value: a regular file only (not a device that never ends)."""
        try:
            with open(name, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise LineError(f"cannot read binary data file {q(name, 200)}: "
                                     "not a regular file")
                data = f.read()
        except OSError as exc:
            raise LineError(f"cannot open binary data file {q(name, 200)}: "
                             f"{exc.strerror or exc}") from None
        if self.info is not None:
            self.info(f"reading {len(data)} bytes from binary data file: {name}")
        return data

    # -- elements -------------------------------------------------------------------------
    def element(self, number: int, tag: int, given: str | None, rest: str) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.kind != "item":
            raise LineError(f"element {tag_str(tag)} inside the sequence opened on line "
                             f"{top.line}, outside an item (missing (fffe,e000))")
        if given == PIXEL_ITEM_VR:
            raise LineError("VR 'pi' (pixel item) on an element that is no pixel item")
        vr = self.resolve_vr(tag, given)
        kind, text = value_text(rest)
        target = self.meta if tag >> 16 == 0x0002 else self.current
        keep = self.opts.read_meta or tag >> 16 != 0x0002
        if keep:
            keep = self.first_seen(number, tag, target)
        if vr == "SQ":
            if kind not in ("empty", "paren"):
                raise LineError(f"a sequence {tag_str(tag)} has no value: write its items on "
                                 "the lines that follow")
            elem = Element(tag, "SQ", Sequence())
            self.open(number, "sequence", tag, elem.value)
        elif kind == "paren" and tag == PIXEL_DATA and given in ("OB", "OW") \
                and text.startswith("(PixelSequence"):
            elem = Element(tag, given, Fragments())
            self.open(number, "pixels", tag, elem.value)
        else:
            elem = self.value_element(tag, vr, kind, text)
        if keep:
            target[tag] = elem
            if tag == SPECIFIC_CHARACTER_SET:
                terms = bytes(elem.raw).decode("latin-1").split("\\")
                self.charsets[id(target)] = [t.strip(" \0") for t in terms if t.strip(" \0")]

    def first_seen(self, number: int, tag: int, target: Dataset) -> bool:
        if tag not in target:
            self.first_line[(id(target), tag)] = number
            return True
        first = self.first_line.get((id(target), tag))
        warn(__name__, "duplicate element %s on line %d: keeping the one from line %s",
             tag_str(tag), number, first)
        return False

    def resolve_vr(self, tag: int, given: str | None) -> str:
        entry = self.dictionary.find(tag)
        known = entry.vr if entry is not None and entry.vr not in ("na", "??") else None
        if given is not None and given in ALL_VRS:
            if known is not None and known != given and given not in _EQUIVALENT.get(known, ()):
                warn(__name__, "Tag %s with wrong VR '%s' found, correct is '%s'",
                     tag_str(tag), given, known)
            return given
        if known is None:
            warn(__name__, "VR of Tag %s is unknown, using 'UN' for this data element",
                 tag_str(tag))
            return "UN"
        if known == "ox":
            return "OW" if tag & 0xFF00FFFF == 0x60003000 else "OB"
        return {"xs": "US", "lt": "OW", "px": "OW", "up": "UL"}.get(known, known)

    def description(self, text: str, what: str) -> None:
        """A '(...)' text where a value could stand: only dcmdump's '(no value available)'."""
        if text.startswith("(no value available)"):
            return
        if text.startswith("(not loaded)"):
            raise LineError(f"the dump lacks this {what}'s value: dcmdump printed "
                             "'(not loaded)' (dump without -M)")
        raise LineError(f"{q(text)} is not a value for this {what} (write text in [...])")

    def value_element(self, tag: int, vr: str, kind: str, text: str) -> Element:
        if kind == "paren" and not (vr == "AT" and TAG.match(text)):
            self.description(text, "element")
            kind, text = "empty", ""
        if vr in STRING_VRS:
            return self.string_element(tag, vr, kind, text)
        if vr in ("OB", "OW") and text.startswith("="):
            data = self.read_file(text[1:].strip(WS))
            if vr == "OW":
                return Element(tag, vr, ow_array(data, self.opts.big_endian_files))
            return Element(tag, vr, data)
        if not text:
            return Element(tag, vr, b"" if vr in ("OB", "OW", "UN") else None)
        if text.startswith("="):
            raise LineError(f"'=' values (files) are for OB and OW only, not {vr}")
        return Element(tag, vr, binary_value(vr, text))

    def string_element(self, tag: int, vr: str, kind: str, text: str) -> EncodedElement:
        if vr == "UI":
            if text.startswith("="):
                uid = uid_for_dcmtk_name(text[1:])
                if uid is None:
                    raise LineError(f"unknown UID name {q(text[1:])}")
                text = uid
            elif " " in text:
                warn(__name__, "DcmUniqueIdentifier: Element %s contains one or more space "
                     "characters, which were removed", tag_str(tag))
                text = text.replace(" ", "")
        elif kind == "bracket" and vr in ("LT", "ST", "UT"):
            text = text.replace("\\n", "\r\n")   # DCMTK's escape, in text VRs only
        data = text.encode("latin-1")
        if len(data) % 2:          # padded for its own VR, whatever VR it is written as (-u)
            data += pad_byte(vr)
        return EncodedElement(tag, vr, data, self.charsets.get(id(self.current), []))

    # -- result ---------------------------------------------------------------------------
    def finish(self) -> FileDataset:
        ds = self.root
        uid = self.meta.get(0x00020010)
        ts = xfer.lookup(bytes(uid.raw).decode("latin-1")) if uid is not None else None
        ds.__dict__["transfer_syntax"] = ts
        ds.__dict__["has_meta"] = len(self.meta) > 0
        if self.count:
            raise DumpError(self.errors, self.count, ds)
        return ds


# -- entry points -------------------------------------------------------------------------

def parse_dump(text: str | bytes, options: DumpReadOptions | None = None, *,
               name: str | None = None, info: Callable[[str], None] | None = None) -> FileDataset:
    """The data set (with its meta header in ``file_meta``) that a dcmdump text describes.

    ``text`` as bytes keeps every byte of the values; a ``str`` is encoded as Latin-1.
    Raises DumpError (a DicomError) listing each bad line; its ``partial`` is what was read.
    ``transfer_syntax`` is the one the meta header names, or None. Warnings go where the
    library's warnings go; ``info`` gets the progress messages (files read for '=' values).
    """
    data = text.encode("latin-1") if isinstance(text, str) else bytes(text)
    return read_dump(io.BytesIO(data), options, name=name, info=info)


def read_dump(source: Source, options: DumpReadOptions | None = None, *,
              name: str | None = None, info: Callable[[str], None] | None = None) -> FileDataset:
    """Like :func:`parse_dump`, from a file path or a binary file object, read line by line."""
    opts = options or DumpReadOptions()
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, "rb") as f:
            return _Parser(opts, name or path, info).run(_Lines(f, opts.max_line_length))
    return _Parser(opts, name, info).run(_Lines(source, opts.max_line_length))


# -- before writing -----------------------------------------------------------------------

# DCMTK's SOP Class for a file whose data set names none (dcmtk/dcmdata/dcuid.h)
PRIVATE_GENERIC_FILE_SOP_CLASS = "1.2.276.0.7230010.3.1.0.1"
_NEW_UIDS = ((0x0020000D, "Study Instance UID"), (0x0020000E, "Series Instance UID"),
             (0x00080018, "SOP Instance UID"))


def _has_value(ds: Dataset, tag: int) -> bool:
    elem = ds.get(tag)
    return elem is not None and bool(bytes(elem.raw).strip(b"\0 "))


def generate_uids(ds: Dataset, overwrite: bool = False) -> list[str]:
    """dump2dcm's +Ug: new Study, Series and SOP Instance UIDs where the data set has none
    (or everywhere, with ``overwrite``: +Uo). Returns the names of those made."""
    from .uid import generate_uid
    made = []
    for tag, what in _NEW_UIDS:
        if overwrite or not _has_value(ds, tag):
            ds[tag] = EncodedElement(tag, "UI", generate_uid().encode("ascii"))
            made.append(what)
    return made


def complete_file_meta(ds: FileDataset, update: bool = False) -> None:
    """Complete the meta header as DCMTK's file writer does, with its warnings.

    A SOP Class UID that neither the meta header nor the data set holds becomes DCMTK's
    private generic file class, a missing SOP Instance UID a new UID. Unless ``update`` (+Fu),
    values the meta header already holds are kept (write with ``WriteOptions(update_meta=
    False)``), and where the data set says otherwise DCMTK's warning is given.
    """
    from .uid import generate_uid
    meta = ds.file_meta
    version = meta.get(0x00020001)
    if version is not None and len(version.raw) >= 2 and bytes(version.raw[:2]) != b"\0\1":
        warn(__name__, "DcmFileFormat: Unknown Version of MetaHeader detected: 0x%04x, "
             "supported: 0x0001", int.from_bytes(bytes(version.raw[:2]), "big"))
    for meta_tag, ds_tag, name, fallback in (
            (0x00020002, 0x00080016, "SOPClassUID", lambda: PRIVATE_GENERIC_FILE_SOP_CLASS),
            (0x00020003, 0x00080018, "SOPInstanceUID", generate_uid)):
        if _has_value(meta, meta_tag):
            if not update and _has_value(ds, ds_tag) and \
                    bytes(meta[meta_tag].raw).strip(b"\0 ") != bytes(ds[ds_tag].raw).strip(b"\0 "):
                warn(__name__, "DcmFileFormat: Value of %s in MetaHeader and Dataset is different",
                     name)
        elif not _has_value(ds, ds_tag):
            meta[meta_tag] = EncodedElement(meta_tag, "UI", fallback().encode("ascii"))
