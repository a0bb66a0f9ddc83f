"""The dcmdump text format, as DCMTK 3.6.7 prints it (reference section 2)."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from .._ext.scan import UNDEFINED
from . import values
from .dataset import Dataset, FileDataset
from .dictionary import get_dictionary
from .element import Element
from .numfmt import format_g
from .tag import PIXEL_DATA, tag_str
from .uid import dcmtk_name
from .vr import NUMERIC_VRS, SINGLE_VALUED, STRING_VRS

LINE_LENGTH = 70      # DCMTK's DCM_OptPrintLineLength
VALUE_WIDTH = 40      # DCMTK's DCM_OptPrintValueLength
TREE_WIDTH = 33       # name column of the tree format (+T)
UNKNOWN_NAME = "Unknown Tag & Data"
# binary VRs that dcmdump prints as numbers rather than hex
_NUMBER_LIKE = frozenset({"OF", "OD", "OL", "OV", "xs", "up"})


@dataclass
class DumpOptions:
    """dcmdump's output options."""
    print_all: bool = False                  # +L: no truncation of long values
    load_limit: int | None = None            # -M/+R: values longer than this print "(not loaded)"
    uid_names: bool = True                   # +Un / -Un
    to_utf8: bool = False                    # +U8
    quote: str | None = None                 # 'html' (+Qn) or 'octal' (+Qo)
    tree: bool = False                       # +T
    search: list[int] = field(default_factory=list)   # +P tags
    search_all: bool = True                  # +s (all) / -s (first)
    print_path: bool = False                 # +p
    write_pixel: Callable[[bytes], str] | None = None  # +W: writes pixel bytes, returns the path


def _quote(text: bytes, mode: str | None) -> str:
    if mode is None:
        return text.decode("latin-1")
    out = []
    for b in text:
        if 32 <= b < 127 and b not in (0x26, 0x3C, 0x3E, 0x22, 0x27) or mode == "octal" and 32 <= b < 127:
            out.append(chr(b))
        elif mode == "octal":
            out.append(f"\\{b:03o}")
        else:
            out.append(_HTML.get(b) or f"&#{b};")
    return "".join(out)


_HTML = {0x26: "&amp;", 0x3C: "&lt;", 0x3E: "&gt;", 0x22: "&quot;", 0x27: "&apos;"}


def _shorten_list(items: list[str], limit: int | None) -> str:
    """Join values with backslashes, stopping (with '...') before the line limit, as DCMTK does."""
    if limit is None:
        return "\\".join(items)
    out, used = [], 0
    for i, item in enumerate(items):
        piece = item if i == 0 else "\\" + item
        new = used + len(piece)
        if new <= limit and (i + 1 == len(items) or new + 3 <= limit):
            out.append(piece)
            used = new
        else:
            if i < len(items):
                out.append("...")
            break
    return "".join(out)


_DIRECTORY_RECORD_SEQUENCE = 0x00041220


# the directory record types DCMTK 3.6.7 knows; any other prints as PRIVATE
_RECORD_TYPES = frozenset(
    "CURVE|FILM BOX|FILM SESSION|IMAGE|IMAGE BOX|INTERPRETATION|MODALITY LUT|MRDR|OVERLAY|PATIENT|"
    "PRINT QUEUE|PRIVATE|RESULTS|SERIES|STUDY|STUDY COMPONENT|TOPIC|VISIT|VOI LUT|SR DOCUMENT|"
    "PRESENTATION|WAVEFORM|RT DOSE|RT STRUCTURE SET|RT PLAN|RT TREAT RECORD|STORED PRINT|"
    "KEY OBJECT DOC|REGISTRATION|FIDUCIAL|RAW DATA|SPECTROSCOPY|ENCAP DOC|VALUE MAP|"
    "HANGING PROTOCOL|STEREOMETRIC|HL7 STRUC DOC|PALETTE|SURFACE|MEASUREMENT|IMPLANT|"
    "IMPLANT GROUP|IMPLANT ASSY|SURFACE SCAN|TRACT|ASSESSMENT|RADIOTHERAPY|ANNOTATION".split("|"))


def _record_type(item: Dataset) -> str:
    elem = item.get(0x00041430)
    value = bytes(elem.raw).decode("latin-1").strip(" \0") if elem is not None else ""
    return value if value in _RECORD_TYPES else "PRIVATE"


def _record_offset(item: Dataset, with_file: bool = True) -> str:
    """The '#  offset=$N  refFileID="..."' line DCMTK prints under a directory record."""
    offset = item.source.rows[item.item_row, 2] if item.source is not None else 0
    text = f"#  offset=${offset}"
    ref = item.get(0x00041500)
    if ref is not None and with_file:
        text += f'  refFileID="{bytes(ref.raw).decode("latin-1").rstrip(" ")}"'
    return text


def _run_steps(steps: Iterator) -> Iterator[str]:
    """Drive step generators without recursion: strings are lines, generators are descended."""
    stack = [steps]
    while stack:
        try:
            step = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        if isinstance(step, str):
            yield step
        else:
            stack.append(step)


def _walk(ds: Dataset) -> Iterator[tuple[Element, Dataset, tuple | None]]:
    """Every element at any depth in document order, with its data set and path (no recursion)."""
    stack: list = [(iter(ds), ds, None)]
    while stack:
        elements, parent, path = stack[-1]
        elem = next(elements, None)
        if elem is None:
            stack.pop()
            continue
        yield elem, parent, path
        if elem.vr == "SQ":
            here = (path, elem.tag)
            for item in reversed(elem.value):
                stack.append((iter(item), item, here))


def _tags_of(path: tuple | None) -> list[int]:
    """The tags of a path chain ((parent chain, tag) pairs), outermost first."""
    tags = []
    while path is not None:
        path, tag = path
        tags.append(tag)
    return tags[::-1]


def _float(value: float, vr: str) -> str:
    return format_g(value, 9 if vr in ("FL", "OF") else 17)


class Dumper:
    """Formats data sets line by line."""

    def __init__(self, options: DumpOptions | None = None, correct: bool = True) -> None:
        self.opts = options or DumpOptions()
        self.correct = correct  # +dc: strip trailing padding as DCMTK's data correction does
        self.limit = None if self.opts.print_all else LINE_LENGTH
        self.dictionary = get_dictionary()

    # -- file level ---------------------------------------------------------------------------
    def file_lines(self, ds: FileDataset, dataset_only: bool = False) -> Iterator[str]:
        if self.opts.search:
            yield from self.search_lines(ds)
            return
        if not dataset_only:
            yield ""
            yield "# Dicom-File-Format"
            yield ""
            yield "# Dicom-Meta-Information-Header"
            has_meta = getattr(ds, "has_meta", bool(len(ds.file_meta)))
            meta_ts = "Little Endian Explicit" if has_meta else "Unknown Transfer Syntax"
            yield f"# Used TransferSyntax: {meta_ts}"
            yield from self.dataset_lines(ds.file_meta, 0, None)
        yield ""
        yield "# Dicom-Data-Set"
        yield f"# Used TransferSyntax: {ds.transfer_syntax.name}"
        yield from self.dataset_lines(ds, 0, None)

    def search_lines(self, ds: FileDataset) -> Iterator[str]:
        """+P: for each searched tag in turn, its instances in meta header and data set order."""
        for key in self.opts.search:
            found = False
            for part in (ds.file_meta, ds):
                for elem, parent, path in _walk(part):
                    if elem.tag == key:
                        yield from self.element_lines(elem, parent, 0, path)
                        found = True
                        if not self.opts.search_all:
                            break
                if found and not self.opts.search_all:
                    break

    # -- data sets ----------------------------------------------------------------------------
    # Nested data sets are walked with an explicit stack (no recursion), so that depth is
    # bounded by memory only: the step generators yield lines, or generators to descend into.
    def dataset_lines(self, ds: Dataset, depth: int, path: tuple | None) -> Iterator[str]:
        return _run_steps(self._dataset_steps(ds, depth, path))

    def element_lines(self, elem: Element, ds: Dataset, depth: int, path: tuple | None) -> Iterator[str]:
        return _run_steps(self._element_steps(elem, ds, depth, path))

    def _dataset_steps(self, ds: Dataset, depth: int, path: tuple | None) -> Iterator:
        for elem in ds:
            yield self._element_steps(elem, ds, depth, path)

    def _element_steps(self, elem: Element, ds: Dataset, depth: int, path: tuple | None) -> Iterator:
        tag = elem.tag
        name = self._name(tag, ds)
        here = (path, tag)
        if elem.vr == "SQ":
            items = elem.value
            undefined = elem.undefined_length if elem.is_raw else False
            kind = "undefined" if undefined else "explicit"
            length = UNDEFINED if undefined else max(elem.stored_length, 0)
            yield from self._line(depth, here, tag, elem.vr, f"(Sequence with {kind} length #={len(items)})",
                                  length, 1, name)
            record = tag == _DIRECTORY_RECORD_SEQUENCE
            for item in items:
                item_len = item.item_length() if item.source is not None else -1
                item_undef = item_len == UNDEFINED
                ikind = "undefined" if item_undef else "explicit"
                if record and self.opts.tree:
                    text = f'"Directory Record" ({_record_offset(item, with_file=False)[3:]})'
                elif record:
                    text = f'"Directory Record" {_record_type(item)} #={len(item)}'
                else:
                    text = f"(Item with {ikind} length #={len(item)})"
                yield from self._line(depth + 1, here, 0xFFFEE000, "na", text,
                                      UNDEFINED if item_undef else max(item_len, 0), 1, "Item")
                if record and not self.opts.tree:
                    yield "  " * (depth + 1) + _record_offset(item)
                yield self._dataset_steps(item, depth + 2, here)
                text = "ItemDelimitationItem" if item_undef else "ItemDelimitationItem for re-encoding"
                text = f'"{text}"' if record else f"({text})"
                yield from self._line(depth + 1, here, 0xFFFEE00D, "na", text, 0, 0, "ItemDelimitationItem")
            text = "(SequenceDelimitationItem)" if undefined else "(SequenceDelimitationItem for re-encod.)"
            yield from self._line(depth, here, 0xFFFEE0DD, "na", text, 0, 0, "SequenceDelimitationItem")
            return
        if elem.is_raw and elem.undefined_length:
            frags = elem.value
            yield from self._line(depth, here, tag, "OB", f"(PixelSequence #={len(frags)})",
                                  UNDEFINED, 1, name)
            limit = self.opts.load_limit
            for frag in frags:
                if self.opts.write_pixel is not None and tag == PIXEL_DATA:
                    text = self._shorten("=" + self.opts.write_pixel(bytes(frag)))
                elif limit is not None and len(frag) > limit:
                    text = "(not loaded)"
                else:
                    text = self._hex(bytes(frag), 2) if len(frag) else "(no value available)"
                yield from self._line(depth + 1, here, 0xFFFEE000, "pi", text, len(frag), 1, "Item")
            yield from self._line(depth, here, 0xFFFEE0DD, "na", "(SequenceDelimitationItem)", 0, 0,
                                  "SequenceDelimitationItem")
            return
        raw = elem.raw
        length = elem.stored_length if elem.is_raw else len(raw)
        vr = self._shown_vr(elem, ds)
        if self.correct and length % 2 and vr not in ("OW", "lt") and len(raw) == length:
            raw = bytes(raw) + b"\0"
            length += 1
        if self.opts.write_pixel is not None and tag == PIXEL_DATA:
            data = bytes(raw)
            if vr == "OW":      # whole words only, little endian
                words = values.numbers(data, "OW", elem.little_endian)
                data = struct.pack(f"<{len(words)}H", *words)
            text = self._shorten("=" + self.opts.write_pixel(data))
            vm = 1
        elif self.opts.load_limit is not None and length > self.opts.load_limit:
            text, vm = "(not loaded)", elem.vm
        else:
            text, vm = self._value_text(elem, raw, vr, ds)
        yield from self._line(depth, here, tag, vr, text, length, vm, name)

    # -- pieces -------------------------------------------------------------------------------
    def _line(self, depth: int, path: tuple, tag: int, vr: str, text: str, length: int, vm: int,
              name: str) -> Iterator[str]:
        if self.opts.tree:
            if tag in (0xFFFEE00D, 0xFFFEE0DD):
                return
            if vr == "SQ" or text.startswith(("(Item", "(PixelSequence")):
                text = ""
            width = max(TREE_WIDTH - 2 * depth, 0)
            yield "| " * depth + name.ljust(width) + " " + text
            return
        if self.opts.print_path and tag == path[1]:     # only the element's own line
            prefix = "".join(tag_str(t) + "." for t in _tags_of(path[0])) + f"{tag_str(tag)} {vr} "
        else:
            prefix = "  " * depth + f"{tag_str(tag)} {vr} "
        len_text = "u/l" if length == UNDEFINED else str(length)
        yield f"{prefix}{text.ljust(VALUE_WIDTH)} # {len_text:>3},{vm:>2} {name}"

    def _name(self, tag: int, ds: Dataset) -> str:
        entry = self.dictionary.find(tag, ds.private_creator(tag))
        return entry.name if entry is not None else UNKNOWN_NAME

    def _shown_vr(self, elem: Element, ds: Dataset) -> str:
        """The VR DCMTK prints: '??' for unknown tags read with implicit VR, 'lt', US/SS for 'xs'."""
        if elem.is_raw and not elem.vr_explicit:
            entry = self.dictionary.find(elem.tag, ds.private_creator(elem.tag))
            if entry is None:
                return "??"
            if entry.vr == "lt":
                return "lt"
        if elem.vr == "UL" and (elem.tag >> 16) == 0x0004:
            entry = self.dictionary.find(elem.tag)
            if entry is not None and entry.vr == "up":
                return "up"
        return elem.vr

    def _value_text(self, elem: Element, raw, vr: str, ds: Dataset) -> tuple[str, int]:
        if len(raw) == 0:
            return "(no value available)", 0 if vr in STRING_VRS or vr in NUMERIC_VRS or vr == "AT" else 1
        little = elem.little_endian
        if vr in STRING_VRS:
            return self._string_text(bytes(raw), vr, ds)
        if vr in NUMERIC_VRS or vr in _NUMBER_LIKE:
            nums = values.numbers(raw, vr, little)
            if vr in ("FL", "FD", "OF", "OD"):
                items = [_float(v, vr) for v in nums]
            else:
                items = [str(v) for v in nums]
            vm = len(items) if vr in NUMERIC_VRS or vr in ("xs", "up") else 1
            return _shorten_list(items, self.limit), vm
        if vr == "AT":
            words = values.numbers(raw, "US", little)
            tags = [(words[i] << 16) | words[i + 1] for i in range(0, len(words) - 1, 2)]
            return _shorten_list([tag_str(t) for t in tags], self.limit), len(tags)
        if vr in ("OW", "lt"):
            return self._hex(values.numbers(raw, "OW", little), 4), 1
        return self._hex(bytes(raw), 2), 1

    def _string_text(self, data: bytes, vr: str, ds: Dataset) -> tuple[str, int]:
        if self.correct:
            data = data.rstrip(b"\0 ") if vr == "UI" else data.rstrip(b" ")
        if not data:
            return "(no value available)", 0
        vm = 1 if vr in SINGLE_VALUED else data.count(b"\\") + 1
        if vr == "UI" and self.opts.uid_names:
            name = dcmtk_name(data.decode("latin-1"))
            if name:
                return "=" + name, vm
        text = _quote(data, self.opts.quote)
        if self.limit is not None and len(text) + 2 > self.limit:
            return "[" + text[:self.limit - 4] + "...", vm
        return f"[{text}]", vm

    def _shorten(self, text: str) -> str:
        """A printed value longer than the line limit: cut, ending in '...'."""
        if self.limit is not None and len(text) > self.limit:
            return text[:self.limit - 3] + "..."
        return text

    def _hex(self, units, digits: int) -> str:
        """Bytes (digits=2) or 16-bit words (digits=4) as backslash-separated hex, shortened."""
        per = digits + 1
        count = len(units)
        if self.limit is not None and count * per - 1 > self.limit:
            shown = (self.limit - 3) // per
            return "\\".join(f"{u:0{digits}x}" for u in units[:shown]) + "..."
        return "\\".join(f"{u:0{digits}x}" for u in units)


def dump_files(files: list[str], out, options: DumpOptions, read_options, print_filename: str | None,
               ignore_errors: bool, pixel_dir: str | None, log, tool: str = "dcmdump") -> int:
    """dcmdump's main loop: read each file, print it to the binary stream ``out``; 0 or 1.

    ``log`` reports per-file problems (an object with ``warn``, ``error`` and ``fatal``).
    """
    from .reader import DicomError, dcmread

    status = 0
    shown = 0
    for index, name in enumerate(files, 1):
        if print_filename == "all":
            if index > 1:
                out.write(b"\n")
            out.write(f"# {tool} ({index}/{len(files)}): {name}\n".encode("latin-1", "replace"))
        try:
            ds = dcmread(name, read_options)
        except OSError as exc:
            log.error("%s: %s: reading file: %s", tool, exc.strerror or exc, name)
            status = 1
            continue
        except DicomError as exc:
            log.error("%s: %s: reading file: %s", tool, exc, name)
            status = 1
            if not ignore_errors or exc.partial is None:
                continue
            ds = exc.partial
        opts = options
        if options.to_utf8:
            from .charconv import CharsetConversionError, convert_to_utf8
            try:
                convert_to_utf8(ds)
            except CharsetConversionError as exc:
                if exc.warning:
                    log.warn("%s", exc.warning)
                log.fatal("%s: converting file to UTF-8: %s", exc, name)
                status = 1
                continue
        if pixel_dir is not None:
            opts = _with_pixel_writer(options, pixel_dir, name)
        if ds.transfer_syntax is not None and ds.transfer_syntax.deflated:
            # a deflated stream is read whole: nothing is left unloaded
            opts = replace(opts, load_limit=None)
        dumper = Dumper(opts, correct=read_options.data_correction)
        lines = dumper.file_lines(ds, dataset_only=read_options.read_mode == "dataset")
        first = next(lines, None)
        if first is None:
            continue
        if print_filename == "search":
            shown += 1
            out.write(f"# {tool} ({shown}): {name}\n".encode("latin-1", "replace"))
        _write_lines(out, first, lines)
    return status


def _write_lines(out, first: str, rest: Iterator[str], batch: int = 4096) -> None:
    """Write lines as they come, a batch at a time (a dump can be far larger than memory)."""
    chunk = [first]
    for line in rest:
        chunk.append(line)
        if len(chunk) >= batch:
            out.write(("\n".join(chunk) + "\n").encode("latin-1", "replace"))
            chunk = []
    if chunk:
        out.write(("\n".join(chunk) + "\n").encode("latin-1", "replace"))


def _with_pixel_writer(options: DumpOptions, folder: str, filename: str) -> DumpOptions:
    """+W: pixel data goes to ``<folder>/<file>.<n>.raw`` (little endian), the line shows the path."""
    import os

    counter = iter(range(1 << 30))

    def write(data: bytes) -> str:
        path = os.path.join(folder, f"{os.path.basename(filename)}.{next(counter)}.raw")
        with open(path, "wb") as f:
            f.write(data)
        return path

    return replace(options, write_pixel=write)
