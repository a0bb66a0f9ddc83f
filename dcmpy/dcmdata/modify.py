"""Editing data sets as DCMTK's dcmodify does: insert, modify, erase by tag path; new UIDs.

Values are given as dcmodify takes them::

    insert(ds, "(0008,1140)[0].ReferencedSOPInstanceUID", "1.2.3")   # creates the path
    modify(ds, "PatientName", "Doe^Jane")                             # must exist
    modify_all(ds, "PatientID", "X")                                  # every level
    erase(ds, "ContentSequence[*].CodeValue")
    insert(ds, "PixelData", open("pixels.raw", "rb").read())          # bytes: the value itself

A ``str`` value is DCMTK's text form: for character string VRs its bytes as given (UTF-8 on
Linux, like the command line; trailing spaces dropped, spaces removed from UIDs); numbers, ``AT``
``(gggg,eeee)`` and hex bytes/words for OB/OW/UN separated by ``\\``, read as C's ``strtol`` and
``strtod`` read them (leading number, wrapping to the VR's width). A ``bytes`` value is the
value itself, as ``-if``/``-mf`` read it from a file: even length, binary VRs little endian
(character strings lose their trailing spaces as text does).

Every operation either succeeds or leaves the data set as it was, and raises :class:`ModifyError`
(or :class:`~dcmpy.dcmdata.tagpath.TagPathError`) with DCMTK's wording. A new element gets its
VR from the dictionary (private ones through their creator, which must be reserved unless
``check_reservation`` is False); an existing element keeps its VR. Changing the SOP Class or
Instance UID of the top-level data set updates the file meta information too (``update_meta``).
"""
from __future__ import annotations

import os
import re
import struct
from typing import TYPE_CHECKING, Callable, Iterator

from .._diag import warn
from . import values
from .element import Element, EncodedElement
from .tag import tag_str
from .tagpath import TagPath, TagPathError
from .vr import STRING_VRS

if TYPE_CHECKING:
    from .dataset import Dataset
    from .writer import WriteOptions

__all__ = ["ModifyError", "BackupError", "insert", "modify", "modify_all", "erase", "erase_all",
           "erase_private", "new_uid", "element_for", "apply_operation", "save_in_place",
           "OPERATIONS", "NOT_FOUND", "UID_TAGS"]

NOT_FOUND = "Tag not found"
CORRUPTED = "Corrupted data"
NON_LEAF_VALUE = "Cannot put value into non-leaf elements!"
NON_LEAF_MODIFY = "Cannot modify non-leaf elements!"

SOP_CLASS_UID, SOP_INSTANCE_UID = 0x00080016, 0x00080018
_META_UID = {SOP_CLASS_UID: 0x00020002, SOP_INSTANCE_UID: 0x00020003}
UID_TAGS = {"study": 0x0020000D, "series": 0x0020000E, "instance": SOP_INSTANCE_UID}
"""What ``new_uid`` generates (dcmodify ``-gst``, ``-gse``, ``-gin``)."""

# dictionary VRs that stand for a choice: what a new element becomes (as DCMTK creates them)
_NEW_VR = {"xs": "US", "ox": "OW", "px": "OW", "lt": "OW", "up": "UL", "na": "UN", "??": "UN"}
_ILLEGAL_GROUPS = frozenset({0x0001, 0x0003, 0x0005, 0x0007, 0xFFFF})


class ModifyError(Exception):
    """An operation that could not be done; ``not_found`` marks DCMTK's 'Tag not found'."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


# ---------------------------------------------------------------------------------------------
# operations


def insert(ds: Dataset, path: str | TagPath, value: str | bytes | None = None, *,
           check_reservation: bool = True, ignore_un: bool = False,
           update_meta: bool = True) -> int:
    """Insert or overwrite what ``path`` names, creating missing sequences, items and the leaf
    (dcmodify ``-i``/``-if``). Returns the number of elements set or items addressed."""
    path = _path(path)
    _check_insert_tag(path.tag)
    undo: list[Callable[[], None]] = []
    try:
        matches = path.resolve(ds, create=True, undo=undo,
                               check_new=lambda d, t: _new_vr(d, t, check_reservation))
        for m in matches:
            if m.item is not None:
                if value:
                    raise ModifyError(NON_LEAF_VALUE)
                continue
            _set_leaf(m.dataset, m.tag, value, undo, create=True,
                      check_reservation=check_reservation, ignore_un=ignore_un)
    except BaseException:
        _rollback(undo)
        raise
    _sync_meta(ds, matches, update_meta)
    return len(matches)


def modify(ds: Dataset, path: str | TagPath, value: str | bytes | None = None, *,
           ignore_missing: bool = False, ignore_un: bool = False,
           update_meta: bool = True) -> int:
    """Change the value of existing leaf elements (dcmodify ``-m``/``-mf``); nothing is created.
    Returns how many were changed (0 only with ``ignore_missing``)."""
    matches = _path(path).resolve(ds)
    if not matches:
        return _missing(ignore_missing)
    for m in matches:
        if m.item is not None or m.element.vr == "SQ":
            raise ModifyError(NON_LEAF_VALUE if value else NON_LEAF_MODIFY)
    _set_all(matches, value, ignore_un)
    _sync_meta(ds, matches, update_meta)
    return len(matches)


def modify_all(ds: Dataset, tag: int | str, value: str | bytes | None = None, *,
               ignore_missing: bool = False, ignore_un: bool = False,
               update_meta: bool = True) -> int:
    """Change every element ``tag`` at any nesting level (dcmodify ``-ma``)."""
    tag = _single_tag(tag)
    from .tagpath import Match
    matches = [Match(d, tag) for d in _walk(ds) if tag in d]
    if not matches:
        return _missing(ignore_missing)
    if any(m.element.vr == "SQ" for m in matches):
        raise ModifyError(NON_LEAF_VALUE if value else NON_LEAF_MODIFY)
    _set_all(matches, value, ignore_un)
    _sync_meta(ds, matches, update_meta)
    return len(matches)


def erase(ds: Dataset, path: str | TagPath, *, ignore_missing: bool = False) -> int:
    """Remove the elements or items that ``path`` names (dcmodify ``-e``)."""
    matches = _path(path).resolve(ds)
    if not matches:
        return _missing(ignore_missing)
    for m in matches:
        if m.item is None:
            if m.tag in m.dataset:
                _freeze_block(m.dataset, m.tag)
                del m.dataset[m.tag]
            continue
        seq = m.element.value if m.element is not None else []
        for i, item in enumerate(seq):
            if item is m.item:
                del seq[i]
                break
    return len(matches)


def erase_all(ds: Dataset, tag: int | str, *, ignore_missing: bool = False) -> int:
    """Remove element ``tag`` wherever it occurs (dcmodify ``-ea``)."""
    tag = _single_tag(tag)
    if tag >> 16 in (0x0000, 0x0002):
        raise ModifyError("Cannot delete tags with group 0000 or 0002!")
    return _erase_where(ds, lambda t: t == tag) or _missing(ignore_missing)


def erase_private(ds: Dataset) -> int:
    """Remove every element with an odd group number, at every level (dcmodify ``-ep``)."""
    return _erase_where(ds, lambda t: bool(t & 0x10000))


def new_uid(ds: Dataset, which: str, uid: str | None = None) -> str:
    """Set a new Study ('study'), Series ('series') or SOP Instance ('instance') UID at the top
    level (dcmodify ``-gst -gse -gin``); a new SOP Instance UID always goes into the meta header
    too. Returns the UID (``uid``, or a freshly generated ``2.25.`` one)."""
    from .uid import generate_uid
    tag = UID_TAGS[which]
    uid = uid or generate_uid()
    ds[tag] = Element(tag, "UI", uid)
    if tag == SOP_INSTANCE_UID:
        _set_meta(ds, tag, uid)
    return uid


# ---------------------------------------------------------------------------------------------
# dcmodify's command-line operations, and saving in place

OPERATIONS = ("i", "if", "m", "mf", "ma", "e", "ea", "ep", "gst", "gse", "gin")
"""The operation names of :func:`apply_operation`: dcmodify's options without the dash."""


def apply_operation(ds: Dataset, kind: str, argument: str = "", *, ignore_missing: bool = False,
                    ignore_un: bool = False, check_reservation: bool = True,
                    update_meta: bool = True) -> int:
    """Do one dcmodify operation: ``kind`` is the option (``'i'``, ``'mf'``, ``'gst'``, ...),
    ``argument`` its text (``'path=value'``, ``'path=filename'`` for ``if``/``mf``, a tag for
    ``ma``/``ea``, nothing for ``ep``/``g*``). Missing tags are errors unless ``ignore_missing``
    (never for ``i``/``if``)."""
    from .tagpath import split_assignment
    if kind not in OPERATIONS:
        raise ValueError(f"unknown dcmodify operation {kind!r}")
    if kind in ("gst", "gse", "gin"):
        new_uid(ds, {"gst": "study", "gse": "series", "gin": "instance"}[kind])
        return 1
    if kind == "ep":
        return erase_private(ds)
    target, value = split_assignment(argument)
    if not target:
        raise ModifyError("Illegal parameter")
    if kind in ("e", "ea"):
        fn = erase if kind == "e" else erase_all
        return fn(ds, target, ignore_missing=ignore_missing)
    data: str | bytes | None = _read_value_file(value) if kind in ("if", "mf") else value
    if kind in ("i", "if"):
        return insert(ds, target, data, check_reservation=check_reservation,
                      ignore_un=ignore_un, update_meta=update_meta)
    fn = modify_all if kind == "ma" else modify
    return fn(ds, target, data, ignore_missing=ignore_missing, ignore_un=ignore_un,
              update_meta=update_meta)


def _read_value_file(name: str | None) -> bytes:
    if not name:
        raise ModifyError("No filename specified to read value from!")
    if not os.path.isfile(name):
        raise ModifyError("File to read value from does not exist!")
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ModifyError(f"Cannot read value from file {name}: {exc.strerror or exc}") from None


class BackupError(OSError):
    """The backup of the original file could not be made (nothing was changed)."""


def save_in_place(ds: Dataset, path: str | os.PathLike, options: WriteOptions | None = None,
                  backup: bool = True) -> str | None:
    """Write ``ds`` to ``path`` (:class:`~dcmpy.dcmdata.writer.WriteOptions` ``options``)
    through a temporary file that replaces it only when complete: a failure leaves the file
    as it was and no temporary file. With ``backup``, the old file is kept as ``path.bak``
    (the same file, linked; an older backup is replaced), as DCMTK keeps it. The file keeps
    its permission bits. Returns the backup's name, or None."""
    import tempfile
    from .writer import DicomWriteError, encode_file
    path = os.fspath(path)
    try:
        chunks = encode_file(ds, options)
    except RecursionError:          # the writer recurses into sequences
        raise DicomWriteError("data set nested too deeply to be written") from None
    fd, tmp = tempfile.mkstemp(prefix=".dcmpy-", dir=os.path.dirname(os.path.abspath(path)))
    bak = None
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        _copy_mode(path, tmp)
        if backup and os.path.lexists(path):
            bak = path + ".bak"
            _make_backup(path, bak)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return bak


def _copy_mode(src: str, dst: str) -> None:
    try:
        mode = os.stat(src).st_mode & 0o7777
    except OSError:                 # a new file: what the umask allows
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(dst, mode)


def _make_backup(path: str, bak: str) -> None:
    import errno
    import shutil
    try:
        if os.path.lexists(bak) and not os.path.isdir(bak):
            os.unlink(bak)
        try:
            os.link(path, bak)
        except OSError as exc:      # no hard links here: a copy does as well
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                                 errno.EOPNOTSUPP):
                raise
            shutil.copy2(path, bak)
    except OSError as exc:
        raise BackupError(exc.errno, exc.strerror or str(exc), bak) from None


# ---------------------------------------------------------------------------------------------
# values


def element_for(tag: int, vr: str, value: str | bytes | None,
                parent: Dataset | None = None) -> Element:
    """A new element ``tag``/``vr`` holding ``value`` in dcmodify's sense (see the module doc)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) % 2:
            raise ModifyError("Cannot insert/modify value with odd length from file!")
    else:
        data = None
    if vr in STRING_VRS:
        data = _string_bytes(os.fsencode(value or "") if data is None else data, vr, tag)
        if len(data) % 2:
            data += b"\0" if vr == "UI" else b" "
        charsets = parent.character_sets if parent is not None else []
        return EncodedElement(tag, vr, data, charsets, parent=parent)
    if data is None:
        data = _binary_from_text(value or "", vr)
    if len(data) % 2:
        data += b"\0"
    return Element(tag, vr, values.decode(data, vr, True), parent=parent)


def _string_bytes(raw: bytes, vr: str, tag: int) -> bytes:
    """A character string value as DCMTK stores it: without trailing spaces (UIDs: any spaces)."""
    if vr == "UI" and b" " in raw:
        raw = raw.replace(b" ", b"")
        warn(__name__, "DcmUniqueIdentifier: Element %s %s contains one or more space "
             "characters, which were removed", _name(tag), tag_str(tag))
    return raw.rstrip(b" ")


def _binary_from_text(text: str, vr: str) -> bytes:
    """The little endian bytes of dcmodify's text form of a binary value (``\\`` separated)."""
    if not text:
        return b""
    parse = _BINARY[vr]
    out = bytearray()
    for part in text.split("\\"):
        out += parse(part)
    return bytes(out)


_INT = {10: re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)"),
        16: re.compile(r"[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9A-Fa-f]))?([0-9A-Fa-f]+)")}
_FLOAT = re.compile(r"[ \t\n\v\f\r]*([+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN]))")
_U64 = (1 << 64) - 1


def _c_int(text: str, signed: bool, base: int = 10) -> int:
    """The leading integer of ``text`` as C's 64-bit strtol/strtoul return it (saturating)."""
    m = _INT[base].match(text)
    if m is None:
        raise ModifyError(CORRUPTED)
    magnitude = int(m.group(2), base)
    negative = m.group(1) == "-"
    if signed:
        value = -magnitude if negative else magnitude
        return max(-(1 << 63), min((1 << 63) - 1, value))
    if magnitude > _U64:
        return _U64
    return (-magnitude) & _U64 if negative else magnitude


def _c_float(text: str) -> float:
    """The leading number of ``text`` as C's strtod reads it (also 'inf', 'nan')."""
    m = _FLOAT.match(text)
    if m is None:
        raise ModifyError(CORRUPTED)
    value = float(m.group(1))
    return float("nan") if value != value else value   # one NaN, as DCMTK stores it


def _packer(size: int, signed: bool, base: int = 10) -> Callable[[str], bytes]:
    mask = (1 << (8 * size)) - 1
    return lambda part: (_c_int(part, signed, base) & mask).to_bytes(size, "little")


def _float32(part: str) -> bytes:
    value = _c_float(part)
    try:
        return struct.pack("<f", value)
    except OverflowError:   # beyond float range after rounding: infinity, as a C cast gives
        return struct.pack("<f", value * float("inf"))


def _tag_value(part: str) -> bytes:
    """``(gggg,eeee)`` read as sscanf's ``"(%x,%x)"``: whatever follows is ignored."""
    m = re.match(r"\(([ \t\n\v\f\r]*[+-]?(?:0[xX])?[0-9A-Fa-f]+),(.*)", part, re.S)
    if m is None:
        raise ModifyError(CORRUPTED)
    group = _c_int(m.group(1), False, 16) & 0xFFFF
    element = _c_int(m.group(2), False, 16) & 0xFFFF
    return struct.pack("<HH", group, element)


_BINARY: dict[str, Callable[[str], bytes]] = {
    "US": _packer(2, False), "SS": _packer(2, True), "UL": _packer(4, False),
    "SL": _packer(4, True), "UV": _packer(8, False), "SV": _packer(8, True),
    "OL": _packer(4, False), "OV": _packer(8, False),
    "OB": _packer(1, False, 16), "UN": _packer(1, False, 16), "OW": _packer(2, False, 16),
    "FL": _float32, "OF": _float32,
    "FD": lambda part: struct.pack("<d", _c_float(part)),
    "OD": lambda part: struct.pack("<d", _c_float(part)),
    "AT": _tag_value,
}


# ---------------------------------------------------------------------------------------------
# helpers


def _path(path: str | TagPath) -> TagPath:
    return path if isinstance(path, TagPath) else TagPath.parse(path)


def _single_tag(tag: int | str) -> int:
    """A tag given as int, ``(gggg,eeee)``, ``gggg,eeee`` or keyword (no paths, no wildcards)."""
    if isinstance(tag, int):
        return tag
    try:
        path = TagPath.parse(tag)
    except TagPathError:
        path = None
    if path is None or len(path.steps) > 1 or path.ends_in_item:
        raise ModifyError(f"{tag} not found in dictionary!")
    return path.tag


def _missing(ignore: bool) -> int:
    if ignore:
        return 0
    raise ModifyError(NOT_FOUND, not_found=True)


def _name(tag: int) -> str:
    from .dictionary import get_dictionary
    entry = get_dictionary().find(tag)
    return entry.name if entry else "Unknown Tag & Data"


def _check_insert_tag(tag: int) -> None:
    group = tag >> 16
    if group in (0x0000, 0x0002):
        raise ModifyError("Cannot insert/modify tags with group 0000 or 0002!")
    if group in _ILLEGAL_GROUPS:
        raise ModifyError("Groups 0001,0003,0005,0007,FFFF are illegal!")
    if group == 0xFFFE:
        raise ModifyError("Illegal call, perhaps wrong parameters")


def _new_vr(d: Dataset, tag: int, check_reservation: bool) -> str:
    """The VR of a new element ``tag`` in ``d``: the dictionary's (under the block's creator)."""
    from .dictionary import get_dictionary
    creator = None
    if tag & 0x10000 and not 0x10 <= (tag & 0xFFFF) <= 0xFF:
        ctag = (tag & 0xFFFF0000) | ((tag >> 8) & 0xFF)
        elem = d.get(ctag)
        raw = bytes(elem.raw).strip(b" \0") if elem is not None and elem.vr != "SQ" else b""
        if not raw and check_reservation:
            raise ModifyError(f"Invalid or empty private creator tag: {tag_str(ctag)}")
        creator = raw.decode("latin-1") if raw else None
        if creator is None:
            return "UN"
    entry = get_dictionary().find(tag, creator)
    vr = entry.vr if entry is not None else "UN"
    return _NEW_VR.get(vr, vr)


def _set_leaf(d: Dataset, tag: int, value: str | bytes | None, undo: list, *, create: bool,
              check_reservation: bool = True, ignore_un: bool = False) -> None:
    """Give element ``tag`` of ``d`` its new value (creating it if ``create``)."""
    old = d.get(tag)
    _freeze_block(d, tag)
    if old is None:
        vr = _new_vr(d, tag, check_reservation)
    else:
        vr = _NEW_VR.get(old.vr, old.vr)
    if vr == "SQ":
        if value:
            raise ModifyError(NON_LEAF_VALUE)
        if old is None:
            d.add_new(tag, "SQ", [])
            undo.append(lambda: d.__delitem__(tag))
        return
    if vr == "UN" and ignore_un:
        if value:
            warn(__name__, "will not write value to attribute having VR=UN: %s", tag_str(tag))
        if old is not None:
            return
        value = None
    new = element_for(tag, vr, value, d)
    d[tag] = new
    undo.append(lambda: _restore(d, tag, old))


def _freeze_block(d: Dataset, tag: int) -> None:
    """Before private creator ``tag`` changes or goes, fix the VRs of its block's elements
    (which the data set looks up through the creator when they are first used): an element
    keeps the VR it was read with, as in DCMTK."""
    element = tag & 0xFFFF
    if not tag & 0x10000 or not 0x10 <= element <= 0xFF:
        return
    group = tag & 0xFFFF0000
    for t in d.tags():
        if t & 0xFFFF0000 == group and (t & 0xFFFF) >> 8 == element:
            d.get(t)


def _set_all(matches: list, value: str | bytes | None, ignore_un: bool) -> None:
    undo: list[Callable[[], None]] = []
    try:
        for m in matches:
            _set_leaf(m.dataset, m.tag, value, undo, create=False, ignore_un=ignore_un)
    except BaseException:
        _rollback(undo)
        raise


def _restore(d: Dataset, tag: int, old: Element | None) -> None:
    if old is None:
        del d[tag]
    else:
        d[tag] = old


def _rollback(undo: list[Callable[[], None]]) -> None:
    for action in reversed(undo):
        action()


def _sync_meta(ds: Dataset, matches: list, update_meta: bool) -> None:
    """Copy a changed top-level SOP Class/Instance UID into the file meta information."""
    if not update_meta:
        return
    for m in matches:
        if m.dataset is ds and m.item is None and m.tag in _META_UID and m.tag in ds:
            _set_meta(ds, m.tag, ds[m.tag].value)


def _set_meta(ds: Dataset, tag: int, uid: object) -> None:
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        meta[_META_UID[tag]] = Element(_META_UID[tag], "UI", uid)


def _walk(ds: Dataset) -> Iterator[Dataset]:
    """``ds`` and every item nested in it, depth first, without recursion."""
    stack = [ds]
    while stack:
        d = stack.pop()
        yield d
        for elem in d:
            if elem.vr == "SQ" and elem.value:
                stack.extend(reversed(elem.value))


def _erase_where(ds: Dataset, doomed: Callable[[int], bool]) -> int:
    """Remove the elements whose tag satisfies ``doomed`` at every level; returns how many."""
    count = 0
    stack = [ds]
    while stack:
        d = stack.pop()
        for tag in d.tags():
            if doomed(tag):
                _freeze_block(d, tag)
                del d[tag]
                count += 1
                continue
            elem = d[tag]
            if elem.vr == "SQ" and elem.value:
                stack.extend(elem.value)
    return count
