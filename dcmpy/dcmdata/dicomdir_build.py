"""Building a DICOMDIR from DICOM files (what dcmgpdir and dcmmkdir do).

::

    builder = DicomDirBuilder("DICOMDIR", BuildOptions(invent=True))
    for name in ["IMAGES/IM0001", "IMAGES/IM0002"]:
        builder.add_file(name)
    builder.write()

or in one call: ``build_dicomdir(["IMAGES/IM0001"], "DICOMDIR")``. Each file is checked first
(file ID rules of PS3.10 8.2, Part 10 format, SOP class and transfer syntax for the profile, the
keys the records need), then added to the PATIENT / STUDY / SERIES / instance record tree. The
writer encodes the file twice: once to learn where each record lands, once with the offsets
filled in (the offsets are fixed-size, so the layout does not move). Messages follow DCMTK's
wording; they go to ``report(level, text)`` with level one of 'info', 'warn', 'error'.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .dataset import Dataset, FileDataset, Sequence
from .dicomdir import (DIRECTORY_RECORD_SEQUENCE, FILE_SET_ID, MEDIA_STORAGE_DIRECTORY, Record,
                       link_records)
from .dicomdir_rules import (ALTERNATIVES, EXTRA_KEYS, LEAVES, PATIENT, PROFILES, ROOT_LEVEL, SERIES, STUDY,
                             parse_checks, parse_copies, record_type_for)
from .element import Element, EncodedElement
from .tag import tag_str
from .vr import STRING_VRS, TEXT_VRS

__all__ = ["BuildOptions", "DicomDirBuilder", "DicomDirBuildError", "build_dicomdir",
           "check_file_id", "check_fileset_id"]

Report = Callable[[str, str], None]
_CHARSET = 0x00080005
_MAX_COMPONENTS = 8
_MAX_COMPONENT_LENGTH = 8
# VRs whose leading spaces are padding (PS3.5 6.2)
_LEADING_SPACE_VRS = frozenset({"AE", "CS", "DS", "IS", "LO", "SH"})
_FILE_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class DicomDirBuildError(Exception):
    """The DICOMDIR cannot be created or written; ``reason`` is DCMTK's condition text."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class BuildOptions:
    """dcmgpdir's/dcmmkdir's processing options."""
    profile: str = "general"              # a key of dicomdir_rules.PROFILES
    fileset_id: str = "DCMTK_MEDIA_DEMO"  # +F ("" for an empty File-set ID)
    descriptor: str | None = None         # +R file-set descriptor file ID
    descriptor_charset: str | None = None  # +C (default ISO_IR 100 with a descriptor)
    map_filenames: bool = False           # +m
    consistency: str = "warn"             # 'warn' (+W), 'none' (-W), 'abort' (-a)
    invent: bool = False                  # +I
    invent_patient_id: bool = False       # +Ipi
    retired_sop: bool = False             # +Nrs
    xfer_check: bool = True               # -Nxc turns a wrong transfer syntax into a warning
    mode: str = "replace"                 # 'replace' (-A), 'append' (+A), 'update' (+U)
    group_lengths: bool = False           # +g
    explicit_lengths: bool = True         # +e / -e
    new_vrs: bool = True                  # +u / -u


def _default_report(level: str, text: str) -> None:
    if level in ("warn", "error"):
        from .._diag import warn
        warn(__name__, "%s", text)


# ---------------------------------------------------------------------------------------------
# file IDs (PS3.10 8.2 and 8.5)

def map_file_id(name: str) -> str:
    """+m: upper case, and no trailing period in any component (ISO 9660 names)."""
    return "/".join(part.upper().rstrip(".") for part in name.split("/"))


def check_file_id(name: str, what: str = "filename", shown: str | None = None) -> list[str]:
    """DCMTK's complaints about a file ID given as a path with ``/`` separators ([] if it is fine).

    Components are 1 to 8 characters of A-Z, 0-9 and _, at most 8 of them. An invalid character
    is reported with a caret line under its position in ``shown`` (the name as the user gave it).
    """
    shown = name if shown is None else shown
    errors = []
    for pos, ch in enumerate(name):
        if ch in _FILE_ID_CHARS or (ch == "/" and pos > 0 and name[pos - 1] != "/"
                                    and pos < len(name) - 1):
            continue
        head = f"invalid character(s) in {what}: "
        errors.append(f"{head}{shown}\n{' ' * (len(head) + pos)}^")
        break
    parts = name.split("/")
    if any(len(p) > _MAX_COMPONENT_LENGTH for p in parts):
        errors.append(f"component too large (max {_MAX_COMPONENT_LENGTH} characters) in {what}: {shown}")
    if len(parts) > _MAX_COMPONENTS:
        errors.append(f"too many path components (max {_MAX_COMPONENTS}) in {what}: {shown}")
    return errors


def check_fileset_id(value: str) -> list[str]:
    """The File-set ID (0004,1130) is a CS of at most 16 characters of A-Z, 0-9, _ and space."""
    if len(value) > 16:
        return [f"file-set ID too large: {value}"]
    for pos, ch in enumerate(value):
        if ch not in _FILE_ID_CHARS and ch != " ":
            head = "invalid character(s) in file-set ID: "
            return [f"{head}{value}\n{' ' * (len(head) + pos)}^"]
    return []


# ---------------------------------------------------------------------------------------------
# the record tree being built

class _Node:
    """A directory record in the making: its keys (a Dataset without the offsets) and children."""

    __slots__ = ("kind", "keys", "children", "origin")

    def __init__(self, kind: str, keys: Dataset, origin: str | None) -> None:
        self.kind = kind
        self.keys = keys
        self.children: list[_Node] = []
        self.origin = origin          # the file it was made from (None: read from a DICOMDIR)

    def text(self, tag: int) -> str:
        elem = self.keys.get(tag)
        return "" if elem is None else _value_text(elem)

    def walk(self):
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _value_text(elem: Element) -> str:
    """An element's value as DCMTK's messages show it: the stored text without padding."""
    if elem.vr == "SQ":
        return ""
    if elem.vr in STRING_VRS:
        return bytes(elem.raw).decode("latin-1").strip(" \0")
    value = elem.value
    if hasattr(value, "tolist"):
        value = value.tolist()
    return "\\".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _detach(elem: Element, charsets: list[str], normalize: bool = True) -> Element:
    """A copy of a read element that no longer refers to its file's buffer.

    A record's own string values lose their padding as DCMTK's copies do (trailing spaces,
    and leading ones for the VRs whose leading spaces are not significant); the items of a
    sequence are copied as they are.
    """
    if elem.vr == "SQ":
        items = Sequence()
        for item in elem.value:
            copy = Dataset()
            inner = item.character_sets
            for sub in item:
                copy[sub.tag] = _detach(sub, inner, False)
            items.append(copy)
        new = Element(elem.tag, "SQ", None)
        new.value = items
        return new
    if elem.vr in STRING_VRS:
        data = bytes(elem.raw)
        if normalize:
            data = data.rstrip(b"\0" if elem.vr == "UI" else b" ")
            if elem.vr in _LEADING_SPACE_VRS:
                data = data.lstrip(b" ")
        return EncodedElement(elem.tag, elem.vr, data, charsets)
    value = elem.value
    if hasattr(value, "tolist"):
        value = value.tolist()
    return Element(elem.tag, elem.vr, value)


def _has_text(ds: Dataset) -> bool:
    """True if a non-empty element of a character-set-dependent VR is anywhere in ``ds``."""
    for elem in ds:
        if elem.vr == "SQ":
            if any(_has_text(item) for item in elem.value):
                return True
        elif elem.vr in TEXT_VRS and len(bytes(elem.raw).strip(b" \0")):
            return True
    return False


def _tag(keyword: str) -> int:
    from .dictionary import get_dictionary
    tag = get_dictionary().tag_for_name(keyword)
    assert tag is not None, keyword
    return tag


def _name(tag: int) -> str:
    from .dictionary import get_dictionary
    entry = get_dictionary().find(tag)
    return f"{entry.name if entry else 'Unknown'} {tag_str(tag)}"


@dataclass
class _Candidate:
    """A file that passed the checks: what the records need from it."""
    path: str                 # as the user named it
    file_id: str              # '/'-separated
    dataset: FileDataset
    sop_class: str
    sop_instance: str
    syntax: str
    leaf: str                 # the instance record type
    values: dict[int, Element] = field(default_factory=dict)   # after +I replacements


class DicomDirBuilder:
    """Collects files into a DICOMDIR record tree and writes it (see the module docstring)."""

    def __init__(self, output: str | os.PathLike = "DICOMDIR", options: BuildOptions | None = None,
                 report: Report | None = None) -> None:
        self.output = os.fspath(output)
        self.options = options or BuildOptions()
        self.report = report or _default_report
        self.profile = PROFILES[self.options.profile]
        self.roots: list[_Node] = []
        self.top: Dataset | None = None       # the existing DICOMDIR's data set (+A, +U)
        self.instance_uid: str | None = None
        self.bad_files: list[str] = []
        self.added = 0
        self.aborted = False
        self.writing = False
        self._counters = {"PatientID": 0, "StudyID": 0, "SeriesNumber": 0, "InstanceNumber": 1,
                          "RETIRED_OverlayNumber": 1, "RETIRED_CurveNumber": 1,
                          "RETIRED_LUTNumber": 1}

    # -- starting --------------------------------------------------------------------------------
    def start(self) -> None:
        """Check the identifiers and, for +A/+U, load the existing DICOMDIR."""
        opts = self.options
        errors = check_fileset_id(opts.fileset_id)
        if opts.descriptor is not None:
            errors += check_file_id(opts.descriptor)
        for text in errors:
            self.report("error", text)
        if errors:
            raise DicomDirBuildError("Illegal parameter")
        verb = {"replace": "creating DICOMDIR file", "append": "appending to DICOMDIR file",
                "update": "updating DICOMDIR file"}[opts.mode]
        if opts.mode != "replace":
            self._load()
        self.report("info", f"{verb} using {self.profile.name} profile: {self.output}")

    def _load(self) -> None:
        from .dicomdir import DicomDirError
        from .reader import DicomError, dcmread
        try:
            with open(self.output, "rb") as f:
                data = f.read()
            ds = dcmread(data)
            sop_class = ds.file_meta.get(0x00020002)
            if sop_class is not None and _value_text(sop_class) != MEDIA_STORAGE_DIRECTORY:
                raise DicomDirError(f"not a DICOMDIR: Media Storage SOP Class UID is "
                                    f"{_value_text(sop_class)}")
            records = link_records(ds, None)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            verb = "append to" if self.options.mode == "append" else "update"
            raise DicomDirBuildError(reason, f"{reason}: cannot {verb} file: {self.output}") from None
        except (DicomError, DicomDirError) as exc:
            raise DicomDirBuildError("Invalid DICOMDIR", f"{exc}: reading file: {self.output}") from None
        self.top = ds
        uid = ds.file_meta.get(0x00020003)
        self.instance_uid = _value_text(uid) if uid is not None else None
        self.roots = [self._node_of(r) for r in records]

    def _node_of(self, record: Record) -> _Node:
        keys = Dataset()
        for elem in record.dataset:
            if elem.tag not in (0x00041400, 0x00041420):
                keys[elem.tag] = elem
        node = _Node(record.record_type, keys, None)
        node.children = [self._node_of(child) for child in record.children]
        return node

    # -- checking a file -----------------------------------------------------------------------
    def check_file(self, path: str, name: str | None = None) -> _Candidate | None:
        """Check one file; ``name`` is its file ID as a relative path (default ``path``).

        Returns what the records need, or None after reporting why the file cannot be added.
        """
        name = path if name is None else name
        file_id = map_file_id(name) if self.options.map_filenames else name
        errors = check_file_id(file_id, shown=name)
        if errors:
            return self._reject(errors)
        from .reader import DicomError, ReadOptions, dcmread
        try:
            # a key stored as UN is read with its dictionary VR (DCMTK copies the UN bytes'
            # hex dump into the record as the value)
            ds = dcmread(path, ReadOptions(convert_un=True))
        except IsADirectoryError:
            return self._reject([f"Is a directory: reading file: {path}"])
        except OSError as exc:
            return self._reject([f"{exc.strerror or exc}: reading file: {path}"])
        except DicomError as exc:
            return self._reject([f"{exc}: reading file: {path}"])
        if not getattr(ds, "has_meta", False) or not len(ds.file_meta):
            return self._reject([f"file not in part 10 format (no file meta information): {path}"])
        sop_class = ds.file_meta.get(0x00020002)
        if sop_class is None:
            return self._reject([f"MediaStorageSOPClassUID missing in file meta information: {path}"])
        sop_class = _value_text(sop_class)
        leaf = record_type_for(sop_class, self.options.retired_sop)
        if leaf is None:
            return self._reject([f"invalid SOP class ({_uid_name(sop_class)}) for "
                                 f"{self.profile.name} profile: {path}"])
        syntax = ds.transfer_syntax.uid if ds.transfer_syntax is not None else ""
        if not self._syntax_ok(syntax, path):
            return None
        errors = self._missing(ds, leaf, path)
        if errors:
            return self._reject(errors)
        inst = ds.get(0x00080018) or ds.file_meta.get(0x00020003)
        return _Candidate(path, file_id, ds, sop_class, _value_text(inst) if inst else "", syntax, leaf)

    def _reject(self, errors: list[str]) -> None:
        for text in errors:
            self.report("error", text)
        return None

    def _syntax_ok(self, syntax: str, path: str) -> bool:
        allowed = self.profile.transfer_syntaxes
        if allowed is None or syntax in allowed:
            return True
        names = [_uid_name(uid) for uid in allowed]
        expected = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        text = f"{expected} expected but {_uid_name(syntax)} found: {path}"
        self.report("warn" if not self.options.xfer_check else "error", text)
        return not self.options.xfer_check

    def _missing(self, ds: Dataset, leaf: str, path: str) -> list[str]:
        """DCMTK's 'required attribute ... missing/empty' errors, in its order."""
        rules = [LEAVES[leaf][1]] if leaf in ROOT_LEVEL else \
            [PATIENT[2], STUDY[2], SERIES[2], LEAVES[leaf][1]]
        errors = []
        for keyword, kind in (c for rule in rules for c in parse_checks(rule)):
            if self.options.invent and kind in ("invent", "alternative"):
                continue
            elem = ds.get(_tag(keyword))
            if elem is None:
                errors.append(f"required attribute {_name(_tag(keyword))} missing in file: {path}")
            elif kind != "present" and _is_empty(elem):
                errors.append(f"required attribute {_name(_tag(keyword))} empty in file: {path}")
        if leaf == "SR DOCUMENT":
            errors += self._sr_checks(ds, path)
        return errors

    def _sr_checks(self, ds: Dataset, path: str) -> list[str]:
        flag = ds.get(0x0040A493)
        if flag is None:
            return ["Tag not found: cannot retrieve VerificationFlag (0040,a493)"]
        if _value_text(flag) == "VERIFIED" and ds.get(0x0040A073) is None:
            return [f"required attribute {_name(0x0040A073)} missing in file: {path}"]
        return []

    # -- adding a checked file -----------------------------------------------------------------
    def add_file(self, path: str, name: str | None = None) -> bool:
        """Check a file and add it to the tree; False (after reporting) if it cannot be added."""
        self.report("info", f"checking file: {path}")
        cand = self.check_file(path, name)
        if cand is not None:
            self.report("info", f"adding file: {path}")
            if self._add(cand):
                self.added += 1
                return True
        self.bad_files.append(path)
        return False

    def _add(self, cand: _Candidate) -> bool:
        self._fresh: list[tuple[_Node, tuple]] = []
        self._new_patient_id: _Node | None = None      # +Ipi: this patient gets a new ID
        if cand.leaf in ROOT_LEVEL:
            if not self._leaf(cand, self.roots):
                return False
        else:
            patient = self._patient(cand)
            study = patient and self._level(cand, patient.children, STUDY, 0x0020000D)
            series = study and self._level(cand, study.children, SERIES, 0x0020000E)
            if series is None or not self._leaf(cand, series.children):
                return False
        for node, level in self._fresh:      # as DCMTK: once the file's records are in the tree
            if self.options.invent or node is self._new_patient_id:
                self._invent_missing(node, level, cand.path)
        return True

    def _alternatives(self, cand: _Candidate) -> None:
        ds = cand.dataset
        for keyword, others in ALTERNATIVES.items():
            elem = ds.get(_tag(keyword))
            if elem is not None and not _is_empty(elem):
                continue
            value = next((_value_text(ds[_tag(o)]) for o in others
                          if _tag(o) in ds and not _is_empty(ds[_tag(o)])), None)
            if value is None:
                value = time.strftime("%Y%m%d" if keyword == "StudyDate" else "%H%M%S")
            self.report("warn", f"file {cand.path}: {_name(_tag(keyword))} missing, "
                                f"using alternative: {value}")
            vr = "DA" if keyword == "StudyDate" else "TM"
            cand.values[_tag(keyword)] = Element(_tag(keyword), vr, value)

    def _file_elem(self, cand: _Candidate, tag: int) -> Element | None:
        return cand.values.get(tag) or cand.dataset.get(tag)

    def _patient(self, cand: _Candidate) -> _Node | None:
        pid = self._file_elem(cand, 0x00100020)
        pid_text = _value_text(pid) if pid is not None else ""
        name = self._file_elem(cand, 0x00100010)
        name_text = _value_text(name) if name is not None else ""
        found = None
        for node in self.roots:
            if node.kind != "PATIENT":
                continue
            if (pid_text and node.text(0x00100020) == pid_text) or \
                    (not pid_text and node.text(0x00100010) == name_text):
                found = node
                break
        if found is not None and self.options.invent_patient_id and pid_text \
                and found.text(0x00100010) != name_text:
            self.report("warn", f"PatientName inconsistent for PatientID: {pid_text}")
            cand.values[0x00100020] = Element(0x00100020, "LO", "")
            node = self._new_node(cand, PATIENT)
            self._new_patient_id = node
        elif found is not None:
            return found if self._matched(cand, found, "Patient", 0x00100020) else None
        else:
            node = self._new_node(cand, PATIENT)
        self.roots.append(node)
        return node

    def _level(self, cand: _Candidate, siblings: list[_Node], level: tuple, key: int) -> _Node | None:
        elem = self._file_elem(cand, key)
        value = _value_text(elem) if elem is not None else ""
        for node in siblings:
            if node.kind == level[0] and node.text(key) == value:
                return node if self._matched(cand, node, level[1], key) else None
        if level is STUDY and self.options.invent:
            self._alternatives(cand)
        node = self._new_node(cand, level)
        _insert_sorted(siblings, node, self._file_elem(cand, 0x00200011)
                       if level is SERIES else None, 0x00200011)
        return node

    def _leaf(self, cand: _Candidate, siblings: list[_Node]) -> bool:
        for node in siblings:
            if node.text(0x00041511) == cand.sop_instance:
                if self.options.mode != "update":
                    self.report("warn", f"file {cand.path}: directory record for this SOP "
                                        f"instance already exists")
                return self._matched(cand, node, LEAVES[node.kind][0] if node.kind in LEAVES
                                     else "Image", 0x00041511)
        kind = cand.leaf
        node = self._new_node(cand, (kind, *LEAVES[kind]))
        keys = node.keys
        keys.add_new(0x00041500, "CS", cand.file_id.split("/"))
        keys.add_new(0x00041510, "UI", cand.sop_class)
        keys.add_new(0x00041511, "UI", cand.sop_instance)
        keys.add_new(0x00041512, "UI", cand.syntax)
        if kind == "SR DOCUMENT":
            self._verification_time(cand, keys)
        _insert_sorted(siblings, node, self._file_elem(cand, 0x00200013), 0x00200013)
        return True

    def _verification_time(self, cand: _Candidate, keys: Dataset) -> None:
        flag = cand.dataset.get(0x0040A493)
        observers = cand.dataset.get(0x0040A073)
        if flag is None or _value_text(flag) != "VERIFIED" or observers is None:
            return
        times = [_value_text(item[0x0040A030]) for item in observers.value if 0x0040A030 in item]
        if times:
            keys.add_new(0x0040A030, "DT", max(times))

    def _new_node(self, cand: _Candidate, level: tuple) -> _Node:
        """A record of ``level`` (type, name, checks, copies) from the file, inventing with +I."""
        kind, record_name, checks, copies = level
        keys = Dataset()
        keys.add_new(0x00041410, "US", 0xFFFF)
        keys.add_new(0x00041430, "CS", kind)
        charsets = cand.dataset.character_sets
        if kind == "IMAGE" and self.profile.image_keys is not None:
            copies = self.profile.image_keys
        if self.profile.extra_keys:
            copies += " " + EXTRA_KEYS.get(kind, "")
        for keyword, kind_ in parse_copies(copies):
            tag = _tag(keyword)
            elem = self._file_elem(cand, tag)
            if elem is not None and (kind_ != 3 or not _is_empty(elem)):
                keys[tag] = _detach(elem, charsets)
            elif kind_ == 2 or kind_ == 1 and elem is None:
                keys[tag] = _empty(tag)
            elif elem is not None and kind_ != 3:
                keys[tag] = _detach(elem, charsets)
        charset = cand.dataset.get(_CHARSET)
        if charset is not None and not _is_empty(charset) and _has_text(keys):
            keys[_CHARSET] = _detach(charset, [])
        node = _Node(kind, keys, cand.path)
        self._fresh.append((node, level))
        return node

    def _invent_missing(self, node: _Node, level: tuple, origin: str) -> None:
        """+I: the type 1 keys the file did not have."""
        for keyword, check in parse_checks(level[2]):
            tag = _tag(keyword)
            if check == "invent" and _is_empty_or_none(node.keys.get(tag)):
                node.keys[tag] = self._invent(keyword, tag, level[1], origin)

    def _invent(self, keyword: str, tag: int, record_name: str, origin: str) -> Element:
        number = self._counters[keyword]
        self._counters[keyword] = number + 1
        value = {"PatientID": f"DCMTKPAT{number:06d}", "StudyID": f"DCMTKSTUDY{number:06d}"}.get(
            keyword, str(number))
        self.report("warn", f"{record_name} Record (origin: {origin}) inventing {keyword}: {value}")
        return Element(tag, {"PatientID": "LO", "StudyID": "SH"}.get(keyword, "IS"), value)

    def _matched(self, cand: _Candidate, node: _Node, record_name: str, key: int) -> bool:
        """An existing record the file belongs to: update it (+U) or check it (+W, -a)."""
        mode = self.options.consistency
        if self.options.mode == "update":
            self._update(cand, node)
            return True
        if mode == "none":
            return True
        for elem in node.keys:
            if (elem.tag >> 16) == 0x0004 or elem.tag == _CHARSET or elem.vr == "SQ":
                continue
            theirs = self._file_elem(cand, elem.tag)
            ours, new = _value_text(elem), _value_text(theirs) if theirs is not None else ""
            if not ours or not new or ours == new:
                continue
            self.report("warn", "\n".join([
                "file inconsistent with existing DICOMDIR record",
                f"  {record_name} Record [Key: {_name(key)}=\"{node.text(key)}\"]",
                f"    Existing Record (origin: {node.origin or '<unknown>'}) defines: ",
                f"      {_name(elem.tag)}=\"{ours}\"",
                f"    File ({cand.path}) defines:",
                f"      {_name(elem.tag)}=\"{new}\"",
                ""]))
            if mode == "abort":
                self.report("error", f"aborting on first inconsistent file: {cand.path}")
                self.aborted = True
                return False
        return True

    def _update(self, cand: _Candidate, node: _Node) -> None:
        charsets = cand.dataset.character_sets
        for elem in list(node.keys):
            if (elem.tag >> 16) == 0x0004 or elem.tag == _CHARSET:
                continue
            theirs = self._file_elem(cand, elem.tag)
            if theirs is not None:
                node.keys[elem.tag] = _detach(theirs, charsets)

    # -- writing -------------------------------------------------------------------------------
    def _linked(self):
        """The DICOMDIR data set with its record offsets filled in, and the write options.

        The first encoding tells where each record lands; the offsets are fixed-size values,
        so filling them in moves nothing.
        """
        from .reader import dcmread
        from .writer import dcmwrite
        ds, items = self._dataset()
        opts = self._write_options()
        parsed = dcmread(dcmwrite(None, ds, opts))
        offsets = [int(item.source.rows[item.item_row, 2])
                   for item in parsed[DIRECTORY_RECORD_SEQUENCE].value]
        self._link(ds, items, offsets)
        return ds, opts

    def encode(self) -> bytes:
        """The DICOMDIR file's bytes."""
        from .writer import dcmwrite
        return dcmwrite(None, *self._linked())

    def write(self, path: str | os.PathLike | None = None) -> None:
        """Write the DICOMDIR atomically to ``path`` (default: the builder's output)."""
        from .writer import dcmwrite
        target = os.fspath(path) if path is not None else self.output
        self.report("info", f"writing file: {target}")
        self.writing = True
        ds, opts = self._linked()
        try:
            dcmwrite(target, ds, opts)
        except OSError as exc:
            raise DicomDirBuildError(exc.strerror or str(exc),
                                     f"{exc.strerror or exc}: writing file: {target}") from None

    def _write_options(self):
        from .writer import WriteOptions
        o = self.options
        return WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", new_meta=True,
                            group_lengths="add" if o.group_lengths else "remove",
                            explicit_lengths=o.explicit_lengths, new_vrs=o.new_vrs)

    def _dataset(self) -> tuple[FileDataset, list[tuple[_Node, Dataset]]]:
        from .uid import generate_uid
        meta = Dataset()
        meta.add_new(0x00020002, "UI", MEDIA_STORAGE_DIRECTORY)
        meta.add_new(0x00020003, "UI", self.instance_uid or generate_uid())
        ds = FileDataset(file_meta=meta)
        if self.top is not None:
            for elem in self.top:
                if (elem.tag >> 16) != 0x0004 or elem.tag in (0x00041130, 0x00041141, 0x00041142):
                    ds[elem.tag] = elem
        else:
            o = self.options
            ds.add_new(FILE_SET_ID, "CS", o.fileset_id)
            if o.descriptor is not None:
                ds.add_new(0x00041141, "CS", o.descriptor.split("/"))
                ds.add_new(0x00041142, "CS", o.descriptor_charset or "ISO_IR 100")
        ds.add_new(0x00041200, "UL", 0)
        ds.add_new(0x00041202, "UL", 0)
        ds.add_new(0x00041212, "US", 0)
        items: list[tuple[_Node, Dataset]] = []
        for root in self.roots:
            for node in root.walk():
                record = Dataset()
                record.add_new(0x00041400, "UL", 0)
                record.add_new(0x00041420, "UL", 0)
                for elem in node.keys:
                    record[elem.tag] = elem
                items.append((node, record))
        seq = ds.add_new(DIRECTORY_RECORD_SEQUENCE, "SQ", [])
        seq.value = Sequence(record for _, record in items)
        for _, record in items:
            record.parent = ds
        return ds, items

    def _link(self, ds: Dataset, items: list, offsets: list[int]) -> None:
        """Fill in the offsets: first child (0004,1420), next sibling (0004,1400), root ends."""
        where = {id(node): off for (node, _), off in zip(items, offsets)}
        record_of = {id(node): record for node, record in items}
        for node, record in items:
            record[0x00041420].value = where[id(node.children[0])] if node.children else 0
        for siblings in [self.roots] + [node.children for node, _ in items]:
            for a, b in zip(siblings, siblings[1:]):
                record_of[id(a)][0x00041400].value = where[id(b)]
        if self.roots:
            ds[0x00041200].value = where[id(self.roots[0])]
            ds[0x00041202].value = where[id(self.roots[-1])]


def _number_of(elem: Element | None) -> int | None:
    try:
        return int(_value_text(elem)) if elem is not None else None
    except ValueError:
        return None


def _insert_sorted(siblings: list[_Node], node: _Node, number: Element | None, tag: int) -> None:
    """Insert a series (by Series Number) or an instance (by Instance Number) before the first
    sibling with a greater number, as DCMTK orders them; without a number of its own (or for the
    other levels: number None) at the end."""
    value = _number_of(number)
    if value is not None:
        for i, other in enumerate(siblings):
            theirs = _number_of(other.keys.get(tag))
            if theirs is not None and theirs > value:
                siblings.insert(i, node)
                return
    siblings.append(node)


def _is_empty(elem: Element) -> bool:
    if elem.vr == "SQ":
        return not elem.value
    return len(bytes(elem.raw).strip(b" \0")) == 0


def _is_empty_or_none(elem: Element | None) -> bool:
    return elem is None or _is_empty(elem)


def _empty(tag: int) -> Element:
    from .dictionary import get_dictionary
    vr = get_dictionary().find(tag).vr
    elem = Element(tag, vr, None)
    if vr == "SQ":
        elem.value = Sequence()
    return elem


def _uid_name(uid: str) -> str:
    from .uid import dcmtk_name
    return dcmtk_name(uid) or uid


def build_dicomdir(files: Iterable[str], output: str | os.PathLike = "DICOMDIR",
                   options: BuildOptions | None = None, report: Report | None = None,
                   write: bool = True, root: str | os.PathLike | None = None) -> DicomDirBuilder:
    """Build (and unless ``write`` is False, write) a DICOMDIR referencing ``files``.

    ``files`` are relative, ``/``-separated paths (their file IDs) below ``root`` (default: the
    current directory). Raises :class:`DicomDirBuildError` if no file could be added or the
    output cannot be written.
    """
    builder = DicomDirBuilder(output, options, report)
    builder.start()
    for name in files:
        builder.add_file(os.path.join(root, name) if root is not None else name, name)
        if builder.aborted:
            break
    if builder.aborted:
        raise DicomDirBuildError("Corrupted data")
    if not builder.added and not builder.roots:
        raise DicomDirBuildError("no good files", "no good files: DICOMDIR not created")
    if write:
        builder.write()
    return builder

