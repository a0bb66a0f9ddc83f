"""Writing data sets and Part 10 files (PS3.5 7, PS3.10 7.1).

Elements nobody changed are written back as their stored bytes when the target byte order
allows it (bit-preserving); otherwise they are byte swapped or encoded anew. Files are written
to a temporary name beside the target and renamed into place, so a failure leaves no half file.
"""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from typing import IO, Any, Iterable, Union

from . import values, xfer
from .dataset import Dataset, FileDataset
from .element import Element, EncodedElement, Fragments
from .tag import ITEM, ITEM_DELIMITATION, PIXEL_DATA, SEQUENCE_DELIMITATION
from .uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from .vr import LONG_VRS, STRING_VRS, pad_byte, swap_width

Target = Union[str, os.PathLike, IO[bytes], None]
_UNDEF = 0xFFFFFFFF
_PADDING = 0xFFFCFFFC
_NEW_VRS = frozenset({"UN", "UT", "UC", "UR", "OD", "OF", "OL", "OV", "SV", "UV"})


class DicomWriteError(Exception):
    """A data set cannot be encoded as asked: names the element."""


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """dcmconv's output options."""
    transfer_syntax: str | None = None   # None: keep the syntax the data set was read in
    write_meta: bool = True              # +F / -F
    group_lengths: str = "recalc"        # 'recalc' (+g=), 'add' (+g), 'remove' (-g)
    explicit_lengths: bool = True        # +e / -e (sequences and items)
    compression_level: int = 6           # +cl for deflated output
    new_meta: bool = False               # +Fm: write a new meta header, dropping optional 0002 elements
    new_vrs: bool = True                 # +u / -u: without, post-1993 VRs are written as OB
    padding: Any = "retain"              # -p= 'retain', -p 'off', +p (file_multiple, item_multiple)
    correct_strings: bool = False        # DCMTK's data correction (+dc) of stored string values
    update_meta: bool = True             # False: the SOP Class/Instance UIDs that file_meta
                                         # holds win over the data set's (DCMTK's +F; True is
                                         # its +Fu). Without new_meta, the version is kept.


class _Encoder:
    """Encodes data sets for one transfer syntax into a list of byte chunks."""

    def __init__(self, syntax: xfer.TransferSyntax, opts: WriteOptions) -> None:
        self.little = syntax.little_endian
        self.explicit = syntax.explicit_vr
        self.encapsulated = syntax.encapsulated
        self.opts = opts
        self.end = "<" if self.little else ">"

    def dataset(self, ds: Dataset, pad: tuple[int, int] | None = None) -> list:
        """Chunks of one data set; ``pad`` = (multiple, bytes before it) adds trailing padding.

        Group lengths: 'add' writes them for every group, 'recalc' for the groups that had one
        (and for new top-level padding when the last group had one: DCMTK's own rule for that
        case is not pinned down), 'remove' for none.
        """
        groups: dict[int, list] = {}
        had_length: set[int] = set()
        for elem in ds:
            group = elem.tag >> 16
            if elem.tag == _PADDING and self.opts.padding != "retain":
                continue
            if (elem.tag & 0xFFFF) == 0 and group != 0x0002:
                had_length.add(group)
                continue
            groups.setdefault(group, []).extend(self.element(elem))
        mode = self.opts.group_lengths
        chunks: list = []
        for group, body in groups.items():
            if group != 0x0002 and (mode == "add" or mode == "recalc" and group in had_length):
                chunks.extend(self._group_length(group, sum(len(c) for c in body)))
            chunks.extend(body)
        if pad is not None and pad[0]:
            last_had = bool(groups) and list(groups)[-1] in had_length and pad[1] > 0
            lengths = mode == "add" or mode == "recalc" and last_had
            chunks.extend(self.padding(pad[1] + sum(len(c) for c in chunks), pad[0], lengths))
        return chunks

    def _group_length(self, group: int, size: int) -> list:
        return self._header(group << 16, "UL", 4) + [struct.pack(self.end + "I", size)]

    def _header(self, tag: int, vr: str, length: int) -> list[bytes]:
        e = self.end
        head = struct.pack(e + "HH", tag >> 16, tag & 0xFFFF)
        if not self.explicit or (tag >> 16) == 0xFFFE:
            return [head + struct.pack(e + "I", length)]
        if vr in LONG_VRS:
            return [head + vr.encode() + b"\0\0" + struct.pack(e + "I", length)]
        return [head + vr.encode() + struct.pack(e + "H", length)]

    def _vr(self, elem: Element) -> str:
        vr = elem.vr
        if vr in ("xs", "ox", "lt", "up", "na", "px", "??"):
            vr = {"xs": "US", "ox": "OW", "lt": "OW", "up": "UL", "px": "OW"}.get(vr, "UN")
        if not self.opts.new_vrs and vr in _NEW_VRS:
            vr = "OB"
        return vr

    def element(self, elem: Element) -> list:
        vr = self._vr(elem)
        if vr == "SQ":
            return self.sequence(elem)
        if elem.is_raw and elem.undefined_length or isinstance(elem._value, Fragments):
            return self.encapsulated_pixels(elem, vr)
        data = self.value_bytes(elem, elem.vr if elem.vr in _NEW_VRS else vr)
        if self.opts.correct_strings and elem.is_raw and vr in STRING_VRS:
            data = _corrected_string(data, vr)
        if len(data) % 2:
            # an odd value read from a file gets a NUL, as DCMTK's data correction gives it
            data = bytes(data) + (b"\0" if elem.is_raw else pad_byte(vr))
        if self.explicit and vr not in LONG_VRS and len(data) > 0xFFFF:
            vr = "UN"   # too long for a 16-bit length: DCMTK writes UN as well
        return self._header(elem.tag, vr, len(data)) + [data]

    def value_bytes(self, elem: Element, vr: str) -> Any:
        if isinstance(elem, EncodedElement) and elem.is_encoded:
            return elem.raw         # converted text: exact bytes (single-byte units, no swapping)
        if not elem.is_raw:
            return values.encode(elem.value, vr, self.little, elem._charsets())
        raw = elem.raw
        width = swap_width(vr)
        if elem.little_endian == self.little or width == 1:
            return raw
        import numpy as np
        whole = len(raw) - len(raw) % width        # a broken odd tail is copied as it is
        return (np.frombuffer(raw, dtype=f"<u{width}", count=whole // width).byteswap().tobytes()
                + bytes(raw[whole:]))

    def encapsulated_pixels(self, elem: Element, vr: str) -> list:
        if not self.encapsulated and elem.tag == PIXEL_DATA:
            raise DicomWriteError("encapsulated pixel data cannot be written in an uncompressed "
                                  "transfer syntax without decompressing it")
        chunks = self._header(elem.tag, "OB", _UNDEF)   # encapsulated: OB (PS3.5 A.4), as DCMTK
        for frag in elem.value:
            data = frag if len(frag) % 2 == 0 else bytes(frag) + b"\0"
            chunks.extend(self._header(ITEM, "", len(data)))
            chunks.append(data)
        chunks.extend(self._header(SEQUENCE_DELIMITATION, "", 0))
        return chunks

    def sequence(self, elem: Element) -> list:
        body: list = []
        item_pad = self.opts.padding[1] if isinstance(self.opts.padding, tuple) else 0
        for item in elem.value or []:
            content = self.dataset(item, (item_pad, 0) if item_pad else None)
            if self.opts.explicit_lengths:
                body.extend(self._header(ITEM, "", sum(len(c) for c in content)))
                body.extend(content)
            else:
                body.extend(self._header(ITEM, "", _UNDEF))
                body.extend(content)
                body.extend(self._header(ITEM_DELIMITATION, "", 0))
        if self.opts.explicit_lengths:
            return self._header(elem.tag, "SQ", sum(len(c) for c in body)) + body
        return (self._header(elem.tag, "SQ", _UNDEF) + body
                + self._header(SEQUENCE_DELIMITATION, "", 0))


    def padding(self, size: int, multiple: int, group_length: bool) -> list:
        """Data Set Trailing Padding that brings ``size`` to a multiple of ``multiple``."""
        if size % multiple == 0:
            return []
        head = len(self._header(_PADDING, "OB", 0)[0])
        if group_length:
            head += len(self._group_length(0xFFFC, 0)[0]) + 4
        pad = (-(size + head)) % multiple
        while pad % 2:
            pad += multiple
        element = self._header(_PADDING, "OB", pad) + [bytes(pad)]
        if group_length:
            return self._group_length(0xFFFC, sum(len(c) for c in element)) + element
        return element


def _corrected_string(data: Any, vr: str) -> Any:
    """What DCMTK's data correction makes of a stored string: trailing spaces dropped (for UI,
    every space and the trailing NULs), then padded to even length with the VR's pad byte."""
    raw = bytes(data)
    fixed = raw.replace(b" ", b"").rstrip(b"\0") if vr == "UI" else raw.rstrip(b" ")
    if fixed == raw:
        return data
    return fixed + (pad_byte(vr) if len(fixed) % 2 else b"")


def meta_header(ds: FileDataset, ts_uid: str, new_meta: bool = False,
                update_meta: bool = True) -> Dataset:
    """The File Meta Information for ``ds`` written in ``ts_uid`` (PS3.10 7.1)."""
    old = ds.file_meta if isinstance(ds, FileDataset) else Dataset()
    meta = Dataset()
    meta.add_new(0x00020001, "OB", (not new_meta and _old_value(old, 0x00020001)) or b"\0\1")
    sop_class = _uid_element(ds, 0x00080016)
    sop_inst = _uid_element(ds, 0x00080018)
    if not update_meta:
        sop_class = _given(old, 0x00020002) or sop_class
        sop_inst = _given(old, 0x00020003) or sop_inst
    meta.add_new(0x00020002, "UI", sop_class.value if sop_class is not None else
                 _old_value(old, 0x00020002))
    meta.add_new(0x00020003, "UI", sop_inst.value if sop_inst is not None else
                 _old_value(old, 0x00020003))
    meta.add_new(0x00020010, "UI", ts_uid)
    meta.add_new(0x00020012, "UI", IMPLEMENTATION_CLASS_UID)
    meta.add_new(0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)
    if not new_meta:
        for elem in old:
            if elem.tag not in meta and elem.tag not in (0x00020000,):
                meta[elem.tag] = Element(elem.tag, elem.vr, elem.value)
    return meta


def _uid_element(ds: Dataset, tag: int) -> Element | None:
    """The element ``tag`` of ``ds`` if it is a UI element (one stored as UN is no UID)."""
    elem = ds.get(tag)
    return elem if elem is not None and elem.vr == "UI" else None


def _given(old: Dataset, tag: int) -> Element | None:
    """The element of ``old`` if it has a value."""
    elem = old.get(tag)
    return elem if elem is not None and bytes(elem.raw).strip(b"\0 ") else None


def _old_value(old: Dataset, tag: int) -> Any:
    elem = old.get(tag)
    return elem.value if elem is not None else ""


def encode_file(ds: Dataset, options: WriteOptions | None = None) -> list:
    """The chunks of a whole file (preamble, meta header, data set) or of a bare data set."""
    opts = options or WriteOptions()
    ts_uid = opts.transfer_syntax or (
        ds.transfer_syntax.uid if isinstance(ds, FileDataset) and ds.transfer_syntax else
        xfer.EXPLICIT_LE.uid)
    syntax = xfer.lookup(ts_uid)
    if syntax is None:
        raise DicomWriteError(f"unknown transfer syntax {ts_uid}")
    pad = None
    if isinstance(opts.padding, tuple) and opts.padding[0]:
        pad = (opts.padding[0], 132 + _meta_size(ds, syntax.uid, opts) if opts.write_meta else 0)
    body = _Encoder(syntax, opts).dataset(ds, pad)
    if syntax.deflated:
        comp = zlib.compressobj(opts.compression_level, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = b"".join(comp.compress(bytes(c)) for c in body) + comp.flush()
        body = [data + (b"\0" if len(data) % 2 else b"")]
    if not opts.write_meta:
        return body
    return _meta_chunks(ds, syntax.uid, opts) + body


def _meta_chunks(ds: Dataset, ts_uid: str, opts: WriteOptions) -> list:
    """Preamble, 'DICM' and the meta header with its group length."""
    meta = meta_header(ds, ts_uid, opts.new_meta, opts.update_meta)
    meta_enc = _Encoder(xfer.EXPLICIT_LE, WriteOptions(group_lengths="remove"))
    meta_chunks = meta_enc.dataset(meta)
    size = sum(len(c) for c in meta_chunks)
    preamble = getattr(ds, "preamble", None) or bytes(128)
    head = [preamble, b"DICM"] + meta_enc._header(0x00020000, "UL", 4) + [struct.pack("<I", size)]
    return head + meta_chunks


def _meta_size(ds: Dataset, ts_uid: str, opts: WriteOptions) -> int:
    return sum(len(c) for c in _meta_chunks(ds, ts_uid, opts)) - 132


def dcmwrite(target: Target, ds: Dataset, options: WriteOptions | None = None) -> bytes | None:
    """Write ``ds`` to a path (atomically), a binary file object, or return bytes (target None)."""
    chunks = encode_file(ds, options)
    if target is None:
        return b"".join(bytes(c) if isinstance(c, memoryview) else c for c in chunks)
    if isinstance(target, (str, os.PathLike)):
        _write_atomic(os.fspath(target), chunks)
        return None
    _write_chunks(target, chunks)
    return None


def _write_chunks(f: IO[bytes], chunks: Iterable) -> None:
    for c in chunks:
        f.write(c)


def _write_atomic(path: str, chunks: list) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dcmpy-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, chunks)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
