"""Reading Part 10 files and bare data sets (PS3.10 7, PS3.5 7 and 10)."""
from __future__ import annotations

import errno
import mmap
import os
import zlib
from dataclasses import dataclass, replace
from typing import IO, Union

from .._diag import warn
from .._ext import scan as _scan
from .._ext.scan import find_row
from .dataset import Dataset, FileDataset, Source
from .dictionary import get_dictionary
from .tag import PIXEL_DATA, TRANSFER_SYNTAX_UID, tag_str
from . import xfer

PathOrBuffer = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

_META_END = 0x00030000
_EXPLICIT_PIXELS = 100       # our own code, next to the scanner's E_* ones
_ERROR_TEXT = {**_scan.ERROR_TEXT,
               _EXPLICIT_PIXELS: "explicit length pixel data in an encapsulated transfer syntax "
                                 "(read it with +pe)"}


class DicomError(Exception):
    """A data set could not be read: ``str(err)`` names what and where."""

    def __init__(self, message: str, offset: int | None = None, tag: int | None = None,
                 partial: FileDataset | None = None) -> None:
        where = []
        if offset is not None:
            where.append(f"offset {offset}")
        if tag:
            where.append(f"tag {tag_str(tag)}")
        super().__init__(message + (f" ({', '.join(where)})" if where else ""))
        self.offset = offset
        self.tag = tag
        self.partial = partial


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read: DCMTK's input options in one place."""
    read_mode: str = "auto"          # 'auto' (+f), 'file-only' (+fo), 'dataset' (-f)
    transfer_syntax: str | None = None  # force the data set syntax (-t?); None = detect
    stop_before: int | None = None   # stop at the first top-level tag >= this
    stop_after: int | None = None    # stop after this top-level tag
    ignore_meta_syntax: bool = False  # -td: detect the data set syntax, ignore the meta header
    cp246: bool = True               # +ui: undefined-length UN as an implicit VR sequence
    assume_even_length: bool = False  # +ae: an odd length is one byte short
    ignore_explicit_vr: bool = False  # -ev: prefer the dictionary's VR
    convert_un: bool = False         # +uc: a defined-length UN becomes the dictionary's VR
    illegal_obow_as_sequence: bool = False  # +oi: undefined-length OB/OW (not pixels) as SQ
    illegal_voi_as_sequence: bool = False   # +vi: a VOI LUT Sequence stored as OW read as SQ
    replace_wrong_delimiters: bool = False  # +rd
    nonstandard_vr_implicit: bool = False   # -vr: a non-standard VR: read that element implicit
    explicit_length_pixels: bool = False    # +pe: accept explicit-length pixel data when encapsulated
    ignore_parse_errors: bool = False       # +Ep: keep what was read, warn instead of failing
    strict: bool = False             # refuse what DCMTK reads leniently (odd lengths, bad VRs, ...)
    use_meta_length: bool = True     # +ml / -ml (accepted; the meta header always ends at its
                                     # last group 0002 element, whatever its group length says)
    zlib_deflate: bool = False       # +bz: deflated data with a zlib header
    data_correction: bool = True     # +dc: strip padding and the like when printing
    max_depth: int = 10000           # stack frames (a sequence and its item are two): far beyond
                                     # any real file, and it keeps a +E dump of a hostile one small
    max_inflated: int = 1 << 32      # refuse deflated data sets that inflate beyond this (bytes)


def _open(source: PathOrBuffer) -> tuple[memoryview, object, str | None]:
    """The bytes to parse, an object that keeps them alive, and the file name."""
    if isinstance(source, (bytes, bytearray)):
        return memoryview(source), source, None
    if isinstance(source, memoryview):
        return source.cast("B"), source, None
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except ValueError:          # an empty file cannot be mapped
            return memoryview(b""), None, name
        except OSError as exc:      # e.g. a directory: report it as reading does
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name) \
                if os.path.isdir(name) else exc
        finally:
            os.close(fd)
        return memoryview(mm), mm, name
    try:
        mm = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        return memoryview(mm), mm, getattr(source, "name", None)
    except (AttributeError, OSError, ValueError):
        data = source.read()
        return memoryview(data), data, getattr(source, "name", None)


def _meta_transfer_syntax(buf: memoryview, table, count: int) -> str:
    """The Transfer Syntax UID straight from the meta header's table (no element objects)."""
    for row in range(count):
        if table[row, 0] == TRANSFER_SYNTAX_UID and table[row, 6] == 0:
            start = table[row, 3]
            return bytes(buf[start:start + table[row, 4]]).decode("latin-1").strip("\0 ")
    return ""


def _guess_syntax(buf: memoryview, start: int) -> xfer.TransferSyntax:
    """Guess the encoding of a bare data set from its first element, as DCMTK does."""
    if len(buf) - start < 8:
        return xfer.IMPLICIT_LE
    b = buf[start:start + 8]
    group_le = b[0] | (b[1] << 8)
    group_be = (b[0] << 8) | b[1]
    explicit = 65 <= b[4] <= 90 and 65 <= b[5] <= 90
    if group_be < group_le and group_be != 0:
        return xfer.EXPLICIT_BE if explicit else xfer.IMPLICIT_LE
    return xfer.EXPLICIT_LE if explicit else xfer.IMPLICIT_LE


def dcmread(source: PathOrBuffer, options: ReadOptions | None = None, *,
            stop_before_pixels: bool = False) -> FileDataset:
    """Read a Part 10 file or a bare data set from a path, bytes or a binary file object.

    The data is memory-mapped and scanned once; values are decoded on access. Raises
    ``DicomError`` naming the offset and tag of the first problem (``.partial`` holds what was
    read before it).
    """
    opts = options or _DEFAULT_OPTIONS
    if stop_before_pixels and opts.stop_before is None:
        opts = replace(opts, stop_before=PIXEL_DATA)
    if (opts.stop_after is not None or opts.stop_before is not None) \
            and isinstance(source, (str, os.PathLike)):
        ds = _read_head(os.fspath(source), opts)
        if ds is not None:
            return ds
    buf, keep, name = _open(source)
    return _parse(buf, keep, name, opts)[0]


_HEAD = 16384   # what a header scan reads first


def _read_head(name: str, opts: ReadOptions) -> FileDataset | None:
    """A header scan reads the file's first bytes only, when its stop tag lies within them.

    None means the caller must map the whole file (the stop tag lies further on, the data set is
    deflated, or the head has a problem that the whole file may not have).
    """
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(fd, _HEAD)
    except IsADirectoryError:
        return None
    finally:
        os.close(fd)
    if len(data) < _HEAD:           # that is the whole file
        return _parse(memoryview(data), data, name, opts)[0]
    try:
        ds, end = _parse(memoryview(data), data, name, opts)
    except DicomError:
        return None
    if ds.transfer_syntax.deflated or end >= len(data):
        return None
    return ds


def _parse(buf: memoryview, keep: object, name: str | None,
           opts: ReadOptions) -> tuple[FileDataset, int]:
    """Parse a whole file (or a head of it): the data set and where the scan stopped."""
    size = len(buf)
    has_preamble = size >= 132 and buf[128:132] == b"DICM"
    if size == 0 and opts.read_mode == "dataset":
        return FileDataset(transfer_syntax=xfer.EXPLICIT_LE, filename=name), 0
    if size == 0 or (has_preamble and size == 132):
        empty = FileDataset(file_meta=Dataset(), transfer_syntax=xfer.EXPLICIT_LE, filename=name)
        empty.__dict__["has_meta"] = True
        raise DicomError("End of stream", size, partial=empty)
    if opts.read_mode == "file-only" and not has_preamble:
        raise DicomError("no DICOM file format (missing 'DICM' prefix)", 128)
    preamble = bytes(buf[:128]) if has_preamble else None
    if has_preamble and opts.read_mode != "dataset":
        meta, start, ts = _read_meta(buf, keep, opts)
        if ts is None and opts.read_mode == "file-only":
            raise DicomError("File meta information header missing", 132, None, _partial(meta))
    else:
        meta, start, ts = Dataset(), 0, None
    if opts.transfer_syntax is not None:
        ts = xfer.lookup(opts.transfer_syntax)
    elif opts.ignore_meta_syntax:
        ts = None
    if ts is None:
        ts = _guess_syntax(buf, start)
    if ts.deflated:
        buf, start, keep = _inflate(buf, start, opts, meta)
    if opts.stop_after is not None:
        stop, after = opts.stop_after, True
    else:
        stop, after = (0xFFFFFFFF if opts.stop_before is None else opts.stop_before), False
    dictionary = get_dictionary()
    table, count, end, err, epos, etag = _scan.scan(
        buf, start, len(buf), ts.syntax, dictionary.sq_tags, stop, after, opts.cp246,
        opts.max_depth, known_tags=dictionary.known_tags, assume_even=opts.assume_even_length,
        dictionary_vr=opts.ignore_explicit_vr, obow_as_sequence=opts.illegal_obow_as_sequence,
        convert_un=opts.convert_un, replace_delim=opts.replace_wrong_delimiters,
        nonstandard_implicit=opts.nonstandard_vr_implicit, voi_as_sequence=opts.illegal_voi_as_sequence,
        strict=opts.strict)
    ds = FileDataset(Source(buf, table, keep, opts.ignore_explicit_vr, opts.convert_un), 0, count,
                     file_meta=meta,
                     preamble=preamble, transfer_syntax=ts,
                     filename=name)
    ds.__dict__["has_meta"] = has_preamble
    if not err and ts.encapsulated and not opts.explicit_length_pixels:
        row = find_row(table, 0, count, PIXEL_DATA)
        if row >= 0 and table[row, 4] != _scan.UNDEFINED:
            err, epos, etag = _EXPLICIT_PIXELS, table[row, 2], PIXEL_DATA
    if err:
        ds.__dict__["read_error"] = (err, epos, etag)
        error = DicomError(_ERROR_TEXT.get(err, "parse error"), epos, etag, ds)
        if not (opts.ignore_parse_errors and _recoverable(err, etag)):
            raise error
        warn(__name__, "parsing stopped at a stray delimiter: %s", error)
    return ds, end


def _recoverable(err: int, tag: int) -> bool:
    """What +Ep recovers from, as DCMTK: a stray delimiter or item in the top-level data set ends
    the data set there. Errors inside sequences and values cut short stay errors."""
    return err == _scan.E_STRAY and tag in (0xFFFEE0DD, 0xFFFEE000)


_DEFAULT_OPTIONS = ReadOptions()


def _read_meta(buf: memoryview, keep: object, opts: ReadOptions):
    """The meta header after the preamble: (data set, where the data set starts, syntax or None)."""
    table, count, pos, err, epos, etag = _scan.scan(
        buf, 132, len(buf), _scan.SYN_EXPLICIT_LE, get_dictionary().sq_tags, _META_END,
        stop_below=0x00020000)
    meta = Dataset(Source(buf, table, keep), 0, count)
    if err:
        raise DicomError("invalid file meta information: " + _scan.ERROR_TEXT[err], epos, etag,
                         _partial(meta))
    uid = _meta_transfer_syntax(buf, table, count)
    ts = xfer.lookup(uid) if uid else None
    if ts is None and uid:
        ts = xfer.TransferSyntax(uid, "Unknown Transfer Syntax", _scan.SYN_EXPLICIT_LE)
    return meta, pos, ts


def _partial(meta: Dataset) -> FileDataset:
    """What +E prints when the meta header itself is broken: its elements, no data set."""
    ds = FileDataset(file_meta=meta, transfer_syntax=xfer.EXPLICIT_LE)
    ds.__dict__["has_meta"] = True
    return ds


def _inflate(buf: memoryview, start: int, opts: ReadOptions, meta: Dataset):
    """The inflated data set of a deflated transfer syntax, as a new buffer.

    The output is capped (``opts.max_inflated``) so that a small deflate bomb cannot take all
    memory; errors carry offsets into the file.
    """
    wbits = zlib.MAX_WBITS if opts.zlib_deflate else -zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(bytes(buf[start:]), opts.max_inflated)
    except zlib.error as exc:
        raise DicomError(f"cannot inflate deflated data set: {exc}", start, None, _partial(meta)) from None
    if inflater.unconsumed_tail:
        raise DicomError(f"deflated data set inflates to more than {opts.max_inflated} bytes",
                         start, None, _partial(meta))
    return memoryview(inflated), 0, inflated


def read_file(source: PathOrBuffer, **kwargs) -> FileDataset:
    """DCMTK-style alias of :func:`dcmread`."""
    return dcmread(source, **kwargs)


def is_dicom_file(path: str | os.PathLike) -> bool:
    """True if the file has the 128-byte preamble and the 'DICM' prefix (what dcmftest checks)."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


__all__ = ["DicomError", "ReadOptions", "dcmread", "read_file", "is_dicom_file"]
