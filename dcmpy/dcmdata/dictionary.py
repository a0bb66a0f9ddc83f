"""The DICOM data dictionary, with DCMTK's lookup semantics.

The default dictionary is the generated tables (``_dict_public`` / ``_dict_private``, made by
``python -m dcmpy.dcmdata._generate_tables`` from DCMTK's ``dicom.dic`` and ``private.dic`` plus the
PS3.6 entries that only pydicom knows). They play the role of Debian DCMTK's default external
dictionary: when ``DCMDICTPATH`` is set and non-empty, only the files it names are loaded.

Lookup (:meth:`DataDictionary.find`) works as DCMTK's ``DcmDataDictionary::findEntry``:

1. an exact entry for the tag with the same private creator (``None`` for public entries);
2. with a private creator: an exact private entry for ``(gggg,00ee)`` (``ee`` = low byte of the element),
   i.e. the ``(gggg,"CREATOR",ee)`` form of ``private.dic``, valid in whatever block the creator reserved;
3. the first matching repeating entry (group and/or element ranges, even/odd/all restrictions), in
   DCMTK's list order: a range that is a subset of an earlier one is placed before it, an identical
   range replaces the earlier one, anything else is appended.

A private creator only ever matches entries with the same creator string, and ``None`` only entries
without one, so callers pass the creator of the block for private data elements (odd group, element
``>= 0x1000``) and ``None`` for everything else (a creator element (gggg,0010-00FF) is ``None``).
"""
from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import dataclass
from itertools import repeat

__all__ = ["DictEntry", "DataDictionary", "get_dictionary", "parse_dic_text"]


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One dictionary entry, as DCMTK has it."""

    vr: str  # 'US', 'SQ', ... or DCMTK's internal 'xs', 'ox', 'lt', 'up', 'na', 'px' ('??' for an unknown VR)
    name: str  # DCMTK's printed name: 'PatientName', 'RETIRED_...', 'PrivateCreator', 'GenericGroupLength'
    vm: str  # '1', '1-n', '2-2n', ...
    version: str  # 'DICOM', 'DICOM/retired', 'PRIVATE', 'PrivateTag', 'GENERIC', 'ILLEGAL', ...

    @property
    def retired(self) -> bool:
        return self.name.startswith("RETIRED_") or self.version.lower().endswith("/retired")


# range restrictions of a repeating entry (DCMTK: DcmDictRange_Unspecified / _Even / _Odd)
ANY, EVEN, ODD = 0, 1, 2

# VR names accepted in a dictionary file (first two characters of the field are compared)
_KNOWN_VRS = frozenset(
    "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV"
    " xs ox lt na up px pi ??".split()
)

_WS = " \t\n\v\f\r"  # C isspace(); str.strip() would also eat \x1c-\x1f, \x85 and \xa0
_WS_RE = re.compile("[ \t\n\v\f\r]+")
_HEX = r"((?:0[xX])?[0-9A-Fa-f]+)"
_PART = _HEX + r"(?:-(?:([ouOU])-)?" + _HEX + r")?"
_TAG_RE = re.compile(r"\(" + _PART + r',(?:"([^"]*)",)?' + _PART + r"\)\Z")
_VM_NUM = re.compile(r"[+-]?[0-9]+")

# the entries DCMTK has even without any dictionary file (its "skeleton")
_SKELETON = (
    (0x0000, 0xFFFF, ANY, 0x0000, 0x0000, ANY, None, "UL", "GenericGroupLength", "1", "GENERIC"),
    (0xFFFE, 0xFFFE, ANY, 0xE000, 0xE000, ANY, None, "na", "Item", "1", "DICOM"),
    (0xFFFE, 0xFFFE, ANY, 0xE00D, 0xE00D, ANY, None, "na", "ItemDelimitationItem", "1", "DICOM"),
    (0xFFFE, 0xFFFE, ANY, 0xE0DD, 0xE0DD, ANY, None, "na", "SequenceDelimitationItem", "1", "DICOM"),
)

_CACHE_MAX = 65536
_MISSING = object()


def _vm_ok(vm: str) -> bool:
    """True if DCMTK accepts this VM field ('1', '1-3', '1-n', '2-2n', '2n', 'n', ...)."""
    m = _VM_NUM.match(vm)
    if m is None:  # no leading number: only 'n' (meaning 1-n) is accepted
        return vm[:1] in ("n", "N")
    rest = vm[m.end():]
    if not rest:
        return True  # '3'
    if rest[0] != "-":
        return rest[0] in ("n", "N")  # '2n'
    rest = rest[1:]
    m2 = _VM_NUM.match(rest)
    if m2 is None:
        return rest[:1] in ("n", "N")  # '1-n'
    rest = rest[m2.end():]
    return not rest or rest[0] in ("n", "N")  # '1-3', '2-2n'


def _parse_part(lo: str, kind: str | None, hi: str | None) -> tuple[int, int, int]:
    low = int(lo, 16) & 0xFFFF  # DCMTK keeps the low 16 bits of an over-long number
    if hi is None:
        return low, low, ANY
    restriction = EVEN if kind is None else (ODD if kind in "oO" else ANY)
    return low, int(hi, 16) & 0xFFFF, restriction


def parse_tag_field(field: str):
    """``(gggg,eeee)``, ``(gggg-o-gggg,eeee-u-eeee)``, ``(gggg,"CREATOR",ee)`` ->
    (glo, ghi, grestriction, elo, ehi, erestriction, creator), or None if malformed."""
    # whitespace is dropped everywhere except inside the quoted private creator
    parts = field.split('"')
    parts[::2] = [_WS_RE.sub("", p) for p in parts[::2]]
    m = _TAG_RE.match('"'.join(parts))
    if m is None:
        return None
    g0, gk, g1, creator, e0, ek, e1 = m.groups()
    glo, ghi, gr = _parse_part(g0, gk, g1)
    elo, ehi, er = _parse_part(e0, ek, e1)
    return glo, ghi, gr, elo, ehi, er, creator


def parse_dic_text(text: str, filename: str) -> tuple[list[tuple], list[str]]:
    """Parse a DCMTK ``dicom.dic``-format text.

    Returns (records, errors): records are
    ``(glo, ghi, grestr, elo, ehi, erestr, creator, vr, name, vm, version)`` in file order, errors are
    DCMTK's messages (``E: DcmDataDictionary: <file>: bad VR field (line 2): XX``). A line with an error
    in its tag or VR is skipped; the other lines are still used (as DCMTK does).
    """
    records: list[tuple] = []
    errors: list[str] = []
    prefix = f"E: DcmDataDictionary: {filename}: "
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip(_WS)
        stripped = line.lstrip(_WS)
        if not stripped or stripped[0] == "#":
            continue
        fields = line.split("\t")
        n = len(fields)
        if n < 3:
            errors.append(f"{prefix}too few fields (line {lineno})")
            continue
        if n > 5:
            errors.append(f"{prefix}too many fields (line {lineno}): ")
            continue
        tag_field = fields[0].strip(_WS)
        fields = [_WS_RE.sub("", f) for f in fields]  # DCMTK drops all whitespace in a field
        version = fields[4] if n == 5 else "DICOM"
        vm = fields[3] if n >= 4 else "1"
        bad = False
        if n >= 4 and not _vm_ok(vm):
            errors.append(f"{prefix}bad VM field (line {lineno}): {vm}")
            bad = True
        tag = parse_tag_field(tag_field)
        if tag is None:
            errors.append(f"{prefix}bad Tag field (line {lineno}): {tag_field}")
            continue
        vr = fields[1][:2]
        if vr not in _KNOWN_VRS:
            if len(vr) == 2 and "A" <= vr[0] <= "Z" and "A" <= vr[1] <= "Z":
                errors.append(f"{prefix}bad VR field (line {lineno}): {fields[1]}")
                continue
            vr = "??"  # DCMTK keeps such an entry with an unknown VR
        if bad:
            continue
        records.append((*tag, vr, fields[2], vm, version))
    return records, errors


class DataDictionary:
    """DICOM data dictionary: exact entries in hash maps, repeating entries in an ordered list."""

    def __init__(self, skeleton: bool = True) -> None:
        self._public: dict[int, tuple | DictEntry] = {}  # exact public entries
        self._private: dict[tuple[int, str], tuple | DictEntry] | None = {}  # exact private (tag, creator)
        self._private_text: str | None = None  # not yet parsed generated private table
        self._ranges: list[tuple] = []  # public repeating entries, DCMTK order
        self._private_ranges: list[tuple] = []  # private repeating entries, DCMTK order
        self._cache: dict = {}
        self._names: dict[str, int] | None = None
        self._sq: object | None = None
        self._known: object | None = None
        self.loaded = False  # DCMTK's isDictionaryLoaded()
        if skeleton:
            for record in _SKELETON:
                self.add(*record)

    # ---------------------------------------------------------------- building
    @classmethod
    def from_tables(cls) -> "DataDictionary":
        """The generated default dictionary (DCMTK's dicom.dic + private.dic + newer PS3.6 entries)."""
        from . import _dict_private, _dict_public

        d = cls(skeleton=False)
        f = _dict_public.EXACT.replace("\n", "\t").split("\t")
        d._public = dict(zip(map(int, f[0:-1:5], repeat(16)), zip(f[1::5], f[2::5], f[3::5], f[4::5])))
        d._ranges = [(*r[:7], DictEntry(*r[7:])) for r in _dict_public.RANGES]
        d._private = None  # parsed on the first private lookup: most objects have few private tags
        d._private_text = _dict_private.EXACT
        d._private_ranges = [(*r[:7], DictEntry(*r[7:])) for r in _dict_private.RANGES]
        d.loaded = True
        return d

    def _private_map(self) -> dict:
        table = self._private
        if table is None:
            f = self._private_text.replace("\n", "\t").split("\t")
            keys = zip(map(int, f[0:-1:6], repeat(16)), f[1::6])
            table = self._private = dict(zip(keys, zip(f[2::6], f[3::6], f[4::6], f[5::6])))
            self._private_text = None
        return table

    def _changed(self) -> None:
        self._cache.clear()
        self._names = None
        self._sq = None
        self._known = None

    def add(self, glo: int, ghi: int, grestr: int, elo: int, ehi: int, erestr: int,
            creator: str | None, vr: str, name: str, vm: str, version: str) -> None:
        """Add one entry as DCMTK's ``addEntry`` does (a later entry for the same tag/range replaces)."""
        if glo == ghi and elo == ehi:
            tag = (glo << 16) | elo
            if creator is None:
                self._public[tag] = (vr, name, vm, version)
            else:
                self._private_map()[(tag, creator)] = (vr, name, vm, version)
        else:
            item = (glo, ghi, grestr, elo, ehi, erestr, creator, DictEntry(vr, name, vm, version))
            lst = self._ranges if creator is None else self._private_ranges
            for i, old in enumerate(lst):
                if old[:7] == item[:7]:  # same ranges, restrictions and creator: replace in place
                    lst[i] = item
                    break
                if glo >= old[0] and ghi <= old[1] and elo >= old[3] and ehi <= old[4] and creator == old[6]:
                    lst.insert(i, item)  # a subset goes before the superset
                    break
            else:
                lst.append(item)
        self._changed()

    def load_file(self, path) -> bool:
        """Load a DCMTK ``dicom.dic``-format file; its entries override earlier ones.

        Problems are reported on stderr as DCMTK reports them (``E: DcmDataDictionary: ...``), never
        raised. Returns True if the file was read without any error (DCMTK's load result)."""
        filename = os.fspath(path)
        if isinstance(filename, bytes):
            filename = os.fsdecode(filename)
        try:
            with open(filename, "rb") as f:
                data = f.read()
        except (OSError, ValueError):
            _warn(f"E: DcmDataDictionary: Cannot open file: {filename}")
            return False
        records, errors = parse_dic_text(data.decode("latin-1"), filename)
        for record in records:
            self.add(*record)
        for message in errors:
            _warn(message)
        return not errors

    # ---------------------------------------------------------------- lookup
    def find(self, tag: int, private_creator: str | None = None) -> DictEntry | None:
        """The entry for ``tag`` ((group << 16) | element) in the block of ``private_creator``."""
        key = tag if private_creator is None else (tag, private_creator)
        hit = self._cache.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        entry = self._lookup(tag, private_creator)
        cache = self._cache
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = entry
        return entry

    def _lookup(self, tag: int, creator: str | None) -> DictEntry | None:
        tag &= 0xFFFFFFFF
        if creator is None:
            table: dict = self._public
            key: object = tag
            raw = table.get(key)
            ranges = self._ranges
        else:
            table = self._private
            if table is None:
                table = self._private_map()
            key = (tag, creator)
            raw = table.get(key)
            if raw is None:  # (gggg,"CREATOR",ee): element reduced to its low byte
                key = (tag & 0xFFFF00FF, creator)
                raw = table.get(key)
            ranges = self._private_ranges
        if raw is not None:
            if type(raw) is tuple:
                raw = DictEntry(*raw)
                table[key] = raw
            return raw
        group, element = tag >> 16, tag & 0xFFFF
        for glo, ghi, gr, elo, ehi, er, rc, entry in ranges:
            if gr and (group & 1) != (gr == ODD):
                continue
            if er and (element & 1) != (er == ODD):
                continue
            if rc != creator or not (glo <= group <= ghi):
                continue
            if elo <= element <= ehi:
                return entry
            if creator is not None and elo <= (element & 0xFF) <= ehi:
                return entry
        return None

    def tag_for_name(self, name: str) -> int | None:
        """Tag of a public, non-repeating entry by its DCMTK name ('PatientName' -> 0x00100010)."""
        names = self._names
        if names is None:
            names = {}
            for tag, raw in self._public.items():
                names.setdefault(raw[1] if type(raw) is tuple else raw.name, tag)
            self._names = names
        return names.get(name)

    @property
    def known_tags(self):
        """Sorted ``array('I')`` of every exact public tag (for the scanner's implicit VR rules)."""
        if self._known is None:
            from array import array
            self._known = array("I", sorted(self._public))
        return self._known

    @property
    def sq_tags(self):
        """Sorted ``array('I')`` of the public tags whose VR is SQ (ranges expanded)."""
        if self._sq is None:
            from array import array

            tags = {t for t, raw in self._public.items() if (raw[0] if type(raw) is tuple else raw.vr) == "SQ"}
            for glo, ghi, gr, elo, ehi, er, _c, entry in self._ranges:
                if entry.vr != "SQ" or (ghi - glo + 1) * (ehi - elo + 1) > 65536:
                    continue
                for g in range(glo, ghi + 1):
                    if gr and (g & 1) != (gr == ODD):
                        continue
                    for e in range(elo, ehi + 1):
                        if er and (e & 1) != (er == ODD):
                            continue
                        if (g << 16 | e) not in self._public:  # exact entries win over ranges
                            tags.add(g << 16 | e)
            self._sq = array("I", sorted(tags))
        return self._sq

    # ---------------------------------------------------------------- introspection
    def entries(self):
        """Every entry as ``(glo, ghi, grestr, elo, ehi, erestr, creator, DictEntry)``: exact public,
        public ranges (in lookup order), exact private, private ranges."""
        for tag, raw in self._public.items():
            e = DictEntry(*raw) if type(raw) is tuple else raw
            yield (tag >> 16, tag >> 16, ANY, tag & 0xFFFF, tag & 0xFFFF, ANY, None, e)
        yield from self._ranges
        for (tag, creator), raw in self._private_map().items():
            e = DictEntry(*raw) if type(raw) is tuple else raw
            yield (tag >> 16, tag >> 16, ANY, tag & 0xFFFF, tag & 0xFFFF, ANY, creator, e)
        yield from self._private_ranges

    def __len__(self) -> int:
        return len(self._public) + len(self._private_map()) + len(self._ranges) + len(self._private_ranges)


def _warn(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def load_path(spec: str) -> DataDictionary:
    """A dictionary from a ``DCMDICTPATH``-style list of files, loaded as DCMTK loads it.

    Only the named files are loaded (plus DCMTK's skeleton entries: group lengths, items, delimiters),
    later entries overriding earlier ones. Empty components are skipped. ``loaded`` is False, and DCMTK's
    warning is printed, when some file failed and none loaded cleanly."""
    d = DataDictionary()
    ok = failed = 0
    for part in _split_path(spec):
        if d.load_file(part):
            ok += 1
        else:
            failed += 1
    d.loaded = ok > 0 or failed == 0
    if not d.loaded:
        _warn("W: no data dictionary loaded, check environment variable: DCMDICTPATH")
    return d


def _split_path(spec: str) -> list[str]:
    sep = ";" if sys.platform == "win32" else ":"
    return [p for p in spec.split(sep) if p]


_lock = threading.Lock()
_dictionary: DataDictionary | None = None


def get_dictionary() -> DataDictionary:
    """The process-wide dictionary: the files of ``DCMDICTPATH`` if it is set and non-empty, else the
    generated tables."""
    global _dictionary
    d = _dictionary
    if d is not None:
        return d
    with _lock:
        if _dictionary is None:
            spec = os.environ.get("DCMDICTPATH", "")
            _dictionary = load_path(spec) if spec else DataDictionary.from_tables()
        return _dictionary
