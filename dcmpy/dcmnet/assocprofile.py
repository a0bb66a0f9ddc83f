"""Association negotiation profiles: DCMTK's ``-xf file profile`` configuration files.

The format (DCMTK's ``asconfig.txt``) is an INI file with supersections::

    [[TransferSyntaxes]]            named lists: TransferSyntax1 = LittleEndianExplicit, ...
    [[PresentationContexts]]        named lists: PresentationContext1 = CTImageStorage\\Uncompressed
    [[SCPSCURoleSelection]]         optional:    Role1 = CTImageStorage\\BOTH
    [[ExtendedNegotiation]]         optional:    ExtendedNegotiation1 = CTImageStorage\\020003000000
    [[Profiles]]                    [Name] PresentationContexts = ..., SCPSCURoleSelection = ...,
                                           ExtendedNegotiation = ...

Read as DCMTK's ``OFConfigFile`` reads it: ``#`` in column 1 starts a comment line, keys and
section names are case-insensitive and keep only ``A-Z 0-9 - _``, a line that starts with
whitespace continues the previous value, numbered entries are read from 1 up to the first gap.
UIDs may be given as numbers or as DCMTK's UID names; ``LocalEndianExplicit`` and
``OppositeEndianExplicit`` follow this machine's byte order. ::

    profiles = AssociationProfiles.load("/etc/dcmtk/storescu.cfg")
    profile = profiles.profile("Default")
    profile.check_scp()                       # for an acceptor: each SOP class once
    for pc in profile.contexts: print(pc.abstract_syntax, pc.transfer_syntaxes)

Errors raise :class:`ProfileError` naming the file, the line and the reason.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

__all__ = ["ProfileError", "PresentationContext", "RoleSelection", "ExtendedNegotiation",
           "Profile", "AssociationProfiles", "MAX_CONTEXTS"]

MAX_CONTEXTS = 128              # PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255
_MAX_EXTNEG_BYTES = 1024        # what DCMTK accepts
_LITTLE, _BIG = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
_PSEUDO_TS = {"LocalEndianExplicit": _LITTLE if sys.byteorder == "little" else _BIG,
              "OppositeEndianExplicit": _BIG if sys.byteorder == "little" else _LITTLE}
_UID_RE = re.compile(r"[0-9]+(\.[0-9]+)*\Z")
_KEY_CHARS = re.compile(r"[^A-Z0-9_-]")


class ProfileError(ValueError):
    """A profile file that cannot be used: ``str(err)`` is ``file, line n: reason``."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class PresentationContext:
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleSelection:
    abstract_syntax: str
    scu: bool
    scp: bool


@dataclass(frozen=True, slots=True)
class ExtendedNegotiation:
    abstract_syntax: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Profile:
    """One negotiation profile: what to propose (SCU) or accept (SCP)."""
    name: str
    contexts: tuple[PresentationContext, ...]
    roles: tuple[RoleSelection, ...] = ()
    extended: tuple[ExtendedNegotiation, ...] = ()
    file: str = ""
    line: int = 0

    def check_scp(self) -> None:
        """Raise ProfileError unless an acceptor can use it: each abstract syntax at most once."""
        seen: set[str] = set()
        for pc in self.contexts:
            if pc.abstract_syntax in seen:
                raise ProfileError(self.file, self.line,
                                   f"profile '{self.name}' is not valid for SCP use, duplicate "
                                   f"abstract syntax {pc.abstract_syntax}")
            seen.add(pc.abstract_syntax)

    def transfer_syntaxes_for(self, abstract_syntax: str) -> tuple[str, ...]:
        """Every transfer syntax listed for ``abstract_syntax``, in preference order."""
        out: list[str] = []
        for pc in self.contexts:
            if pc.abstract_syntax == abstract_syntax:
                out.extend(ts for ts in pc.transfer_syntaxes if ts not in out)
        return tuple(out)

    def role_for(self, abstract_syntax: str) -> RoleSelection | None:
        return next((r for r in self.roles if r.abstract_syntax == abstract_syntax), None)


# ---------------------------------------------------------------------------------------------
# The INI layer


@dataclass(slots=True)
class _Entry:
    value: str
    line: int


@dataclass(slots=True)
class _Section:
    name: str
    line: int
    entries: dict[str, _Entry]


def mangle(name: str) -> str:
    """A section, key or profile name as DCMTK compares it: upper case, A-Z 0-9 - _ only."""
    return _KEY_CHARS.sub("", name.upper())


def _parse_ini(text: str, file: str) -> dict[str, dict[str, _Section]]:
    """Supersection -> section -> key -> entry (names mangled), in file order."""
    tree: dict[str, dict[str, _Section]] = {}
    sections: dict[str, _Section] | None = None
    section: _Section | None = None
    last: _Entry | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("#"):
            continue
        if not raw.strip():
            continue
        if raw[0] in " \t":
            if last is None:
                raise ProfileError(file, lineno, "indented line outside of an entry "
                                                 "(keys must start in the first column)")
            last.value += "\n" + raw.strip()
            continue
        last = None
        line = raw.strip()
        if line.startswith("[["):
            if not line.endswith("]]"):
                raise ProfileError(file, lineno, f"missing ']]' in supersection heading {line!r}")
            name = mangle(line[2:-2])
            sections = tree.setdefault(name, {})
            section = None
        elif line.startswith("["):
            if not line.endswith("]"):
                raise ProfileError(file, lineno, f"missing ']' in section heading {line!r}")
            if sections is None:
                raise ProfileError(file, lineno, f"section {line} outside of a [[supersection]]")
            name = mangle(line[1:-1])
            if name in sections:
                raise ProfileError(file, lineno, f"section [{line[1:-1]}] defined twice "
                                                 f"(first on line {sections[name].line})")
            section = sections[name] = _Section(line[1:-1], lineno, {})
        else:
            key, eq, value = line.partition("=")
            if not eq:
                raise ProfileError(file, lineno, f"missing '=' in entry {line!r}")
            if section is None:
                raise ProfileError(file, lineno, f"entry {key.strip()!r} outside of a [section]")
            last = section.entries[mangle(key)] = _Entry(value.strip(), lineno)
    return tree


def _numbered(section: _Section, prefix: str) -> list[tuple[str, _Entry]]:
    """``Prefix1``, ``Prefix2``, ... up to the first missing number, as DCMTK reads them."""
    out = []
    n = 1
    while (entry := section.entries.get(f"{prefix}{n}")) is not None:
        out.append((f"{prefix}{n}", entry))
        n += 1
    return out


# ---------------------------------------------------------------------------------------------
# Values


def _resolve_uid(value: str, what: str, file: str, line: int) -> str:
    from dcmpy.dcmdata.uid import uid_for_dcmtk_name, uid_info
    text = value.strip()
    if what == "transfer syntax" and text in _PSEUDO_TS:
        return _PSEUDO_TS[text]
    if _UID_RE.match(text):
        if len(text) > 64:
            raise ProfileError(file, line, f"{what} UID longer than 64 characters: {text}")
        return text
    uid = uid_for_dcmtk_name(text)
    if uid is None:
        raise ProfileError(file, line, f"unknown {what} name {text!r}")
    info = uid_info(uid)
    if (what == "transfer syntax") != (info is not None and info.type == "Transfer Syntax"):
        raise ProfileError(file, line, f"{text} is not a {what}")
    return uid


def _split_pair(entry: _Entry, key: str, file: str) -> tuple[str, str]:
    left, sep, right = entry.value.partition("\\")
    if not sep:
        raise ProfileError(file, entry.line, f"syntax error: missing '\\' in entry {key}")
    return left, right


def _hex_bytes(text: str, key: str, file: str, line: int) -> bytes:
    if len(text) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", text):
        raise ProfileError(file, line, f"parse error in extended negotiation data in entry {key}: "
                                       "expected an even number of hex digits")
    data = bytes.fromhex(text)
    if len(data) > _MAX_EXTNEG_BYTES:
        raise ProfileError(file, line, f"extended negotiation data too long in entry {key} "
                                       f"({len(data)} bytes, at most {_MAX_EXTNEG_BYTES})")
    return data


# ---------------------------------------------------------------------------------------------
# The file


class AssociationProfiles:
    """All profiles of one ``-xf`` configuration file, looked up by (case-insensitive) name."""

    def __init__(self, profiles: dict[str, Profile], file: str = "") -> None:
        self._profiles = profiles
        self.file = file

    @classmethod
    def load(cls, path: str) -> AssociationProfiles:
        """Read and check a profile file; raises ProfileError (also when it cannot be read)."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ProfileError(path, None, f"unable to open configuration file: "
                                           f"{exc.strerror or exc}") from None
        return cls.parse(data.decode("latin-1"), path)

    @classmethod
    def parse(cls, text: str, file: str = "<string>") -> AssociationProfiles:
        tree = _parse_ini(text, file)
        for required in ("TRANSFERSYNTAXES", "PRESENTATIONCONTEXTS", "PROFILES"):
            if required not in tree:
                raise ProfileError(file, None, f"cannot find section [[{required}]] in config file")
        ts_lists = _transfer_syntax_lists(tree["TRANSFERSYNTAXES"], file)
        pc_lists = _context_lists(tree["PRESENTATIONCONTEXTS"], ts_lists, file)
        roles = _role_lists(tree.get("SCPSCUROLESELECTION", {}), file)
        extneg = _extneg_lists(tree.get("EXTENDEDNEGOTIATION", {}), file)
        profiles = {}
        for key, section in tree["PROFILES"].items():
            profiles[key] = _profile(section, pc_lists, roles, extneg, file)
        return cls(profiles, file)

    @property
    def names(self) -> list[str]:
        """The profile names as written in the file."""
        return [p.name for p in self._profiles.values()]

    def __contains__(self, name: str) -> bool:
        return mangle(name) in self._profiles

    def profile(self, name: str) -> Profile:
        """The profile called ``name`` (compared as DCMTK does: case and blanks ignored)."""
        found = self._profiles.get(mangle(name))
        if found is None:
            raise ProfileError(self.file, None,
                               f"unknown configuration profile name: {mangle(name)}")
        return found


def _transfer_syntax_lists(sections: dict[str, _Section], file: str) -> dict[str, tuple[str, ...]]:
    lists = {}
    for key, section in sections.items():
        uids: list[str] = []
        for name, entry in _numbered(section, "TRANSFERSYNTAX"):
            uid = _resolve_uid(entry.value, "transfer syntax", file, entry.line)
            if uid in uids:
                raise ProfileError(file, entry.line, f"transfer syntax {entry.value} listed twice "
                                                     f"in [{section.name}]")
            uids.append(uid)
        if not uids:
            raise ProfileError(file, section.line, f"transfer syntax list [{section.name}] has no "
                                                   "TransferSyntax1 entry")
        lists[key] = tuple(uids)
    return lists


def _context_lists(sections: dict[str, _Section], ts_lists: dict[str, tuple[str, ...]],
                   file: str) -> dict[str, tuple[PresentationContext, ...]]:
    lists = {}
    for key, section in sections.items():
        contexts = []
        for name, entry in _numbered(section, "PRESENTATIONCONTEXT"):
            sop, ts_key = _split_pair(entry, name, file)
            ts = ts_lists.get(mangle(ts_key))
            if ts is None:
                raise ProfileError(file, entry.line, f"transfer syntax list '{ts_key.strip()}' "
                                                     "not found in [[TransferSyntaxes]]")
            uid = _resolve_uid(sop, "SOP class", file, entry.line)
            contexts.append(PresentationContext(uid, ts))
        if not contexts:
            raise ProfileError(file, section.line, f"presentation context list [{section.name}] "
                                                   "has no PresentationContext1 entry")
        if len(contexts) > MAX_CONTEXTS:
            raise ProfileError(file, section.line, f"presentation context list too long "
                                                   f"(> {MAX_CONTEXTS} entries): [{section.name}]")
        lists[key] = tuple(contexts)
    return lists


_ROLES = {"SCU": (True, False), "SCP": (False, True), "BOTH": (True, True)}


def _role_lists(sections: dict[str, _Section], file: str) -> dict[str, tuple[RoleSelection, ...]]:
    lists = {}
    for key, section in sections.items():
        items: list[RoleSelection] = []
        for name, entry in _numbered(section, "ROLE"):
            sop, role = _split_pair(entry, name, file)
            flags = _ROLES.get(role.strip().upper())
            if flags is None:
                raise ProfileError(file, entry.line, f"syntax error: unknown role key {role!r} in "
                                                     f"entry {name} (SCU, SCP or BOTH)")
            uid = _resolve_uid(sop, "SOP class", file, entry.line)
            if any(r.abstract_syntax == uid for r in items):
                raise ProfileError(file, entry.line, f"SOP class {sop.strip()} listed twice in "
                                                     f"role selection list [{section.name}]")
            items.append(RoleSelection(uid, *flags))
        lists[key] = tuple(items)
    return lists


def _extneg_lists(sections: dict[str, _Section],
                  file: str) -> dict[str, tuple[ExtendedNegotiation, ...]]:
    lists = {}
    for key, section in sections.items():
        items: list[ExtendedNegotiation] = []
        for name, entry in _numbered(section, "EXTENDEDNEGOTIATION"):
            sop, data = _split_pair(entry, name, file)
            uid = _resolve_uid(sop, "SOP class", file, entry.line)
            if any(e.abstract_syntax == uid for e in items):
                raise ProfileError(file, entry.line, f"SOP class {sop.strip()} listed twice in "
                                                     f"extended negotiation list [{section.name}]")
            items.append(ExtendedNegotiation(uid, _hex_bytes(data.strip(), name, file, entry.line)))
        lists[key] = tuple(items)
    return lists


def _reference(section: _Section, key: str, lists: dict, supersection: str, file: str):
    entry = section.entries.get(key)
    if entry is None:
        return None, 0
    found = lists.get(mangle(entry.value))
    if found is None:
        raise ProfileError(file, entry.line, f"{supersection} list '{entry.value}' used by profile "
                                             f"[{section.name}] not found in [[{supersection}]]")
    return found, entry.line


def _profile(section: _Section, pc_lists, roles, extneg, file: str) -> Profile:
    if "PRESENTATIONCONTEXTS" not in section.entries:
        raise ProfileError(file, section.line, f"no PresentationContexts entry in profile "
                                               f"[{section.name}]")
    contexts, _ = _reference(section, "PRESENTATIONCONTEXTS", pc_lists, "PresentationContexts", file)
    role_items, role_line = _reference(section, "SCPSCUROLESELECTION", roles,
                                       "SCPSCURoleSelection", file)
    ext_items, ext_line = _reference(section, "EXTENDEDNEGOTIATION", extneg,
                                     "ExtendedNegotiation", file)
    offered = {pc.abstract_syntax for pc in contexts}
    for items, line, what in ((role_items or (), role_line, "role selection"),
                              (ext_items or (), ext_line, "extended negotiation")):
        for item in items:
            if item.abstract_syntax not in offered:
                raise ProfileError(file, line, f"{what} for SOP class {item.abstract_syntax} in "
                                               f"profile [{section.name}], which has no "
                                               "presentation context for it")
    return Profile(section.name, contexts, role_items or (), ext_items or (), file, section.line)
