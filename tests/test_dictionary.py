"""Tests of dcmpy.dcmdata.dictionary: DCMTK's dictionary contents and lookup semantics."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dcmpy.dcmdata import dictionary
from dcmpy.dcmdata.dictionary import DataDictionary, DictEntry, get_dictionary, parse_dic_text

DCMTK_DIR = Path("/usr/share/libdcmtk17")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def d() -> DataDictionary:
    return get_dictionary()


def run_python(code: str, dictpath: str | None, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("DCMDICTPATH", None)
    if dictpath is not None:
        env["DCMDICTPATH"] = dictpath
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path,
                          timeout=60)


# ---------------------------------------------------------------------------------------------- facts
def test_public_exact(d):
    e = d.find(0x00100010)
    assert e == DictEntry("PN", "PatientName", "1", "DICOM")
    assert not e.retired
    assert d.find(0x00080016) == DictEntry("UI", "SOPClassUID", "1", "DICOM")
    assert d.find(0x7FE00010) == DictEntry("px", "PixelData", "1", "DICOM")
    assert d.find(0x00280106).vr == "xs"
    assert d.find(0x00081140).vr == "SQ"
    assert d.find(0x00200020).vm == "2"


def test_retired_names(d):
    e = d.find(0x00080001)
    assert e.name == "RETIRED_LengthToEnd" and e.version == "DICOM/retired" and e.retired
    assert d.find(0x00205000).name == "RETIRED_OriginalImageIdentification"


def test_items_and_delimiters(d):
    assert d.find(0xFFFEE000) == DictEntry("na", "Item", "1", "DICOM")
    assert d.find(0xFFFEE00D).name == "ItemDelimitationItem"
    assert d.find(0xFFFEE0DD).name == "SequenceDelimitationItem"


def test_group_ranges(d):
    assert d.find(0x60020010) == DictEntry("US", "OverlayRows", "1", "DICOM")
    assert d.find(0x60000010).name == "OverlayRows"
    assert d.find(0x60FE3000).name == "OverlayData"
    assert d.find(0x50020005).name == "RETIRED_CurveDimensions"
    assert d.find(0x7F020010).name == "RETIRED_VariablePixelData"
    # (6000-60FF) means even groups only: (6001,0010) is a private creator element
    assert d.find(0x60010010).name == "PrivateCreator"
    assert d.find(0x61000010) is None


def test_element_range(d):
    # (0020,3100-31FF): even elements only
    assert d.find(0x00203102).name == "RETIRED_SourceImageIDs"
    assert d.find(0x00203100).name == "RETIRED_SourceImageIDs"
    assert d.find(0x00203101) is None


def test_group_lengths(d):
    assert d.find(0x00080000) == DictEntry("UL", "GenericGroupLength", "1", "GENERIC")
    assert d.find(0x00100000).name == "GenericGroupLength"
    assert d.find(0x00000000).name == "CommandGroupLength"
    assert d.find(0x00020000).name == "FileMetaInformationGroupLength"
    # subsets come before the catch-all, as in DCMTK
    assert d.find(0x00290000) == DictEntry("UL", "PrivateGroupLength", "1", "PRIVATE")
    assert d.find(0x00030000).name == "IllegalGroupLength"


def test_private_creator_elements(d):
    for tag in (0x00090010, 0x000900FF, 0x00290010, 0x00290011, 0xFFFF0010):
        assert d.find(tag) == DictEntry("LO", "PrivateCreator", "1", "PRIVATE"), hex(tag)
    assert d.find(0x00030010).name == "IllegalPrivateCreator"
    assert d.find(0x00090100) is None
    assert d.find(0x0009000F) is None


def test_private_tags(d):
    csa = "SIEMENS CSA HEADER"
    e = d.find(0x00291008, csa)
    assert e == DictEntry("CS", "CSAImageHeaderType", "1", "PrivateTag")
    assert d.find(0x00291010, csa).name == "CSAImageHeaderInfo"
    # the creator may have reserved any block: (0029,xx08)
    assert d.find(0x00291108, csa).name == "CSAImageHeaderType"
    assert d.find(0x0029FF08, csa).name == "CSAImageHeaderType"
    # without the matching creator there is no entry
    assert d.find(0x00291008) is None
    assert d.find(0x00291008, "SIEMENS CSA NON-IMAGE").name == "CSADataType"  # another creator, another entry
    assert d.find(0x00291008, "ACME") is None
    assert d.find(0x00291008, "siemens csa header") is None
    # a private creator never matches public entries
    assert d.find(0x00100010, csa) is None
    # group range with a creator: (7001-o-70ff,"DLX_ANNOT_01",04)
    assert d.find(0x70011004, "DLX_ANNOT_01").name == d.find(0x70031104, "DLX_ANNOT_01").name
    assert d.find(0x70011004, "DLX_ANNOT_01") is not None
    assert d.find(0x70021004, "DLX_ANNOT_01") is None
    # a 4-digit element in private.dic only matches that exact element
    assert d.find(0x00251010, "CMR42 CIRCLECVI") is not None
    assert d.find(0x00251110, "CMR42 CIRCLECVI") is None


def test_tag_for_name(d):
    assert d.tag_for_name("PatientName") == 0x00100010
    assert d.tag_for_name("PixelData") == 0x7FE00010
    assert d.tag_for_name("RETIRED_LengthToEnd") == 0x00080001
    assert d.tag_for_name("OverlayRows") is None  # a repeating entry
    assert d.tag_for_name("CSAImageHeaderType") is None  # private
    assert d.tag_for_name("NoSuchName") is None


def test_sq_tags(d):
    sq = d.sq_tags
    assert sq.typecode == "I"      # array('I'): the scanner takes it without NumPy
    assert all(a < b for a, b in zip(sq, sq[1:]))
    assert 0x00081140 in sq and 0x0040A730 in sq and 0x52009229 in sq
    assert 0x00100010 not in sq and 0x7FE00010 not in sq
    assert 0x50022600 in sq  # (5000-50FF,2600) RETIRED_CurveReferencedOverlaySequence, expanded
    assert 0x50012600 not in sq
    n_exact = sum(1 for e in d.entries() if e[0] == e[1] and e[3] == e[4] and e[6] is None and e[7].vr == "SQ")
    assert len(sq) >= n_exact > 1000


def test_known_tags(d):
    known = d.known_tags
    assert known.typecode == "I" and all(a < b for a, b in zip(known, known[1:]))
    assert 0x00100010 in known and 0x7FE00010 in known and 0x00291008 not in known


def test_pydicom_entries_present(d):
    """Every public PS3.6 entry pydicom knows is in the dictionary: DCMTK's entry if it has one, else
    pydicom's keyword."""
    from pydicom.datadict import DicomDictionary

    dcmtk = DataDictionary()
    dcmtk.load_file(DCMTK_DIR / "dicom.dic")
    added = 0
    for tag, (vr, vm, _desc, retired, keyword) in DicomDictionary.items():
        e = d.find(tag)
        theirs = dcmtk.find(tag)
        if not keyword:  # a few retired PS3.6 entries have no keyword: there is nothing to name them with
            assert e == theirs
            continue
        assert e is not None, hex(tag)
        if theirs is not None:
            assert e == theirs
        else:
            added += 1
            assert e.name == ("RETIRED_" + keyword if retired else keyword)
            assert e.version == ("DICOM/retired" if retired else "DICOM")
            assert e.vm == vm
    assert added > 50


def test_find_is_cached(d):
    """Lookups are cached: the same entry object comes back (speed is measured in benchmarks/)."""
    assert d.find(0x00100010) is d.find(0x00100010)
    assert d.find(0x60020010) is d.find(0x60020010)


# ---------------------------------------------------------------------------------------------- the files
def _dic_lines(path: Path):
    """An independent reader of DCMTK's shipped (well-formed) dictionary files."""
    rx = re.compile(r'\(([0-9A-Fa-f]{4})(?:-([ou])?-?([0-9A-Fa-f]{4}))?,(?:"([^"]*)",)?'
                    r'([0-9A-Fa-f]{2,4})(?:-([ou])?-?([0-9A-Fa-f]{4}))?\)')
    for line in path.read_text(encoding="latin-1").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        m = rx.fullmatch(fields[0])
        assert m, line
        name = re.sub(r"\s", "", fields[2])  # DCMTK drops whitespace inside a name
        yield m.groups(), fields[1], name, fields[3] if len(fields) > 3 else "1"


def test_every_dicom_dic_entry():
    """For each entry of DCMTK's dicom.dic, find() gives the VR, name and VM the file says."""
    d = get_dictionary()
    lines = list(_dic_lines(DCMTK_DIR / "dicom.dic"))
    assert len(lines) > 4900
    exact = {int(g[0], 16) << 16 | int(g[4], 16) for g, *_ in lines if g[2] is None and g[6] is None}
    checked = 0
    for (g0, gk, g1, creator, e0, ek, e1), vr, name, vm in lines:
        assert creator is None
        tag = int(g0, 16) << 16 | int(e0, 16)
        if (g1 is not None or e1 is not None) and tag in exact:
            continue  # a range whose lowest tag has its own entry (e.g. GenericGroupLength vs (0000,0000))
        e = d.find(tag)
        assert e is not None, (hex(tag), name)
        assert (e.vr, e.name, e.vm) == (vr, name, vm), hex(tag)
        checked += 1
    assert checked > 4900
    # the same holds for a dictionary loaded from the file itself
    loaded = DataDictionary()
    assert loaded.load_file(DCMTK_DIR / "dicom.dic")
    for (g0, gk, g1, creator, e0, ek, e1), vr, name, vm in lines[:500]:
        e = loaded.find(int(g0, 16) << 16 | int(e0, 16))
        assert (e.vr, e.name, e.vm) == (vr, name, vm)


def test_every_private_dic_entry():
    """For each entry of DCMTK's private.dic, find() with its creator gives what the file says (the
    last line wins where the file defines a tag twice)."""
    d = get_dictionary()
    expected = {}
    for (g0, gk, g1, creator, e0, ek, e1), vr, name, vm in _dic_lines(DCMTK_DIR / "private.dic"):
        assert creator is not None
        element = int(e0, 16)
        if element <= 0xFF:
            element |= 0x1000  # the entry applies in any block the creator reserved: try block 0x10
        expected[(int(g0, 16) << 16 | element, creator)] = (vr, name, vm)
    assert len(expected) > 2700
    for (tag, creator), want in expected.items():
        e = d.find(tag, creator)
        assert e is not None and (e.vr, e.name, e.vm) == want, (hex(tag), creator)


# ---------------------------------------------------------------------------------------------- loading
def test_parse_dic_text_rules():
    text = "\n".join([
        "# comment",
        "   # indented comment",
        "",
        "  \t ",
        "(0010,0010)\tPN\tMy Name\t1 - n\tDI COM",  # whitespace inside fields is dropped
        "(0010,0020)\tLO\tFourFields\t1",  # version defaults to DICOM
        "(0010,0030)\tDA\tThreeFields",  # VM defaults to 1
        "(0010,0040) CS SpaceSep 1 DICOM",  # spaces do not separate fields
        "(0010,0050)\tLO\tSix\t1\tDICOM\tX",
        "(0010,zz)\tLO\tBadTag\t1\tDICOM",
        "(0010,0060)\tXX\tBadVR\t1\tDICOM",
        "(0010,0070)\tLO\tBadVM\t1x\tDICOM",
        "(0010,0080)\tds\tLowerVR\t1\tDICOM",  # accepted with an unknown VR
        "(0029,\"A B\",08)\tLO\tPriv\t2-2n\tPrivateTag",
        "(0011-o-0013,0010-u-0020)\tLO\tRange\tn\tX",
        "(0010,0090)\tLO\tTrailing\t1\tDICOM\t\r",
    ])
    records, errors = parse_dic_text(text, "x.dic")
    assert errors == [
        "E: DcmDataDictionary: x.dic: too few fields (line 8)",
        "E: DcmDataDictionary: x.dic: too many fields (line 9): ",
        "E: DcmDataDictionary: x.dic: bad Tag field (line 10): (0010,zz)",
        "E: DcmDataDictionary: x.dic: bad VR field (line 11): XX",
        "E: DcmDataDictionary: x.dic: bad VM field (line 12): 1x",
    ]
    names = {r[8]: r for r in records}
    assert names["MyName"][7:] == ("PN", "MyName", "1-n", "DICOM")
    assert names["FourFields"][10] == "DICOM"
    assert names["ThreeFields"][9] == "1"
    assert names["LowerVR"][7] == "??"
    assert names["Priv"][:7] == (0x29, 0x29, 0, 0x08, 0x08, 0, "A B")
    assert names["Range"][:7] == (0x11, 0x13, dictionary.ODD, 0x10, 0x20, dictionary.ANY, None)
    assert "Trailing" in names
    assert len(records) == 7


@pytest.mark.parametrize("vm, ok", [
    ("1", True), ("1-n", True), ("2-2n", True), ("3-3n", True), ("1-3", True), ("n", True), ("2n", True),
    ("6-n", True), ("1-", False), ("1-2-3", False), ("1x", False), ("", False), ("-", False), ("0x1", False),
])
def test_vm_field(vm, ok):
    records, errors = parse_dic_text(f"(0010,0010)\tPN\tN\t{vm}\tDICOM", "v.dic")
    assert bool(records) == ok and bool(errors) != ok


def test_load_file_overrides_and_reports(tmp_path, capsys):
    d = DataDictionary()
    assert d.find(0x00100010) is None
    assert d.find(0x00080000).name == "GenericGroupLength"  # skeleton entries are always there
    a = tmp_path / "a.dic"
    a.write_text("(0010,0010)\tPN\tFirst\t1\tDICOM\n(6000-60FF,0010)\tUS\tR1\t1\tDICOM\n")
    b = tmp_path / "b.dic"
    b.write_text("(0010,0010)\tPN\tSecond\t1\tDICOM\n(6000-60FF,0010)\tUS\tR2\t1\tDICOM\n(0010,0020)\tQQ\tBad\t1\n")
    assert d.load_file(a) is True
    assert d.find(0x00100010).name == "First" and d.find(0x60020010).name == "R1"
    assert d.load_file(b) is False  # one bad line: DCMTK reports the load as failed ...
    assert d.find(0x00100010).name == "Second" and d.find(0x60020010).name == "R2"  # ... but keeps the rest
    assert d.tag_for_name("Second") == 0x00100010 and d.tag_for_name("First") is None
    assert d.load_file(tmp_path / "missing.dic") is False
    err = capsys.readouterr().err
    assert f"E: DcmDataDictionary: {b}: bad VR field (line 3): QQ" in err
    assert f"E: DcmDataDictionary: Cannot open file: {tmp_path / 'missing.dic'}" in err
    assert "Traceback" not in err


def test_binary_garbage_file(tmp_path, capsys):
    f = tmp_path / "garbage.dic"
    f.write_bytes(bytes(range(256)) * 20)
    d = DataDictionary()
    assert d.load_file(f) is False
    assert d.load_file(tmp_path) is False  # a directory
    assert "E: DcmDataDictionary" in capsys.readouterr().err


def test_dcmdictpath_replaces_dictionary(tmp_path):
    dic = tmp_path / "small.dic"
    dic.write_text("(0010,0010)\tPN\tMyName\t1\tDICOM\n")
    code = ("from dcmpy.dcmdata.dictionary import get_dictionary as g; d = g()\n"
            "e = [d.find(t) for t in (0x00100010, 0x00100020, 0x00080000, 0xFFFEE000, 0x00090010)]\n"
            "print(*[x.name if x else None for x in e], d.tag_for_name('PatientName'))")
    r = run_python(code, str(dic), tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["MyName", "None", "GenericGroupLength", "Item", "None", "None"]
    assert r.stderr == ""
    # later files override earlier ones; empty components are skipped
    dic2 = tmp_path / "second.dic"
    dic2.write_text("(0010,0010)\tPN\tOther\t1\tDICOM\n")
    r = run_python(code, f"{dic}::{dic2}", tmp_path)
    assert r.stdout.split()[0] == "Other" and r.stderr == ""
    # empty DCMDICTPATH: the default tables
    r = run_python(code, "", tmp_path)
    assert r.stdout.split() == ["PatientName", "PatientID", "GenericGroupLength", "Item", "PrivateCreator",
                                str(0x00100010)]


def test_dcmdictpath_errors_are_warnings(tmp_path):
    bad = tmp_path / "bad.dic"
    bad.write_text("(0010,0010)\tPN\tMyName\t1\tDICOM\n(0010,0020)\tXX\tBad\t1\tDICOM\n(0010,0030)\tDA\n")
    code = "from dcmpy.dcmdata.dictionary import get_dictionary as g; print(g().find(0x00100010).name)"
    r = run_python(code, str(bad), tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "MyName"
    assert r.stderr.splitlines() == [
        f"E: DcmDataDictionary: {bad}: bad VR field (line 2): XX",
        f"E: DcmDataDictionary: {bad}: too few fields (line 3)",
        "W: no data dictionary loaded, check environment variable: DCMDICTPATH",
    ]
    r = run_python(code.replace(".name", ""), str(tmp_path / "none.dic"), tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "None"
    assert r.stderr.splitlines() == [
        f"E: DcmDataDictionary: Cannot open file: {tmp_path / 'none.dic'}",
        "W: no data dictionary loaded, check environment variable: DCMDICTPATH",
    ]
    # one good file is enough for DCMTK to call the dictionary loaded
    good = tmp_path / "good.dic"
    good.write_text("(0010,0010)\tPN\tGood\t1\tDICOM\n")
    r = run_python(code, f"{good}:{tmp_path / 'none.dic'}", tmp_path)
    assert r.stdout.strip() == "Good"
    assert r.stderr.splitlines() == [f"E: DcmDataDictionary: Cannot open file: {tmp_path / 'none.dic'}"]


# ---------------------------------------------------------------------------------------------- against DCMTK
def _dcmtk_stderr_for_dictionary(dictpath: str, tmp_path: Path) -> list[str]:
    env = dict(os.environ, DCMDICTPATH=dictpath)
    r = subprocess.run(["dcmdump", str(tmp_path / "no-such-file.dcm")], env=env, capture_output=True, text=True,
                       timeout=60)
    return [l for l in r.stderr.splitlines() if "DcmDataDictionary" in l or "no data dictionary" in l]


def test_messages_match_dcmtk(tmp_path):
    assert shutil.which("dcmdump"), "DCMTK's dcmdump is needed (installed in CI)"
    bad = tmp_path / "bad.dic"
    bad.write_text("\n".join([
        "(0010,0010)\tPN\tSix\t1\tDICOM\tX", "\t(0010,0020)\tLO\tLeadTab\t1\tDICOM", "(0010,1010)\tAS\tV\t1-\tDICOM",
        "(0010,zz)\tXX\tBoth\tq\tDICOM", "(0010,0030)\tXY\tVRbad\t1", "(0010,0030)", "(0033,0010\tLO\tN\t1\tX",
        "(0010,0030)\tLO\tn\tnonsense\tX", "(0010,0030)\tLO\tn\t-\tX", "(0010,0030)\tLO\tn\t0x1\tX", "",
    ]))
    for spec in (str(bad), str(tmp_path / "missing.dic"), f"{bad}:{tmp_path / 'missing.dic'}"):
        code = "from dcmpy.dcmdata.dictionary import get_dictionary as g; g()"
        ours = run_python(code, spec, tmp_path).stderr.splitlines()
        assert ours == _dcmtk_stderr_for_dictionary(spec, tmp_path), spec


def test_names_match_dcmdump(tmp_path, d):
    """dcmdump's names for an implicit-VR dataset with public, repeating, group length, private creator
    and private tags are the names find() gives."""
    for tool in ("dump2dcm", "dcmdump"):
        assert shutil.which(tool), f"DCMTK's {tool} is needed (installed in CI)"
    src = tmp_path / "in.txt"
    src.write_text("\n".join([
        "(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]",
        "(0009,0010) LO [ACME]", "(0009,1001) LO [x]",
        "(0010,0010) PN [A^B]",
        "(0019,0010) LO [GEMS_ACQU_01]", "(0019,1087) DS [1]",
        "(0020,3102) CS [X]",
        "(0029,0000) UL 0", "(0029,0010) LO [SIEMENS CSA HEADER]", "(0029,0011) LO [SIEMENS MEDCOM HEADER]",
        "(0029,1008) CS [IMAGE NUM 4]", "(0029,1108) CS [x]", "(0029,1110) OB 00\\01",
        "(5002,0005) US 1", "(6002,0010) US 5", "(6003,0010) LO [X]", "(7003,0010) LO [DLX_ANNOT_01]",
        "(7003,1004) LO [x]",
    ]) + "\n")
    out = tmp_path / "out.dcm"
    subprocess.run(["dump2dcm", "+ti", str(src), str(out)], check=True, capture_output=True, timeout=60)
    env = dict(os.environ)
    env.pop("DCMDICTPATH", None)
    text = subprocess.run(["dcmdump", str(out)], env=env, capture_output=True, text=True, check=True,
                          timeout=60).stdout
    creators: dict[tuple[int, int], str] = {}
    seen = 0
    for line in text.splitlines():
        m = re.match(r"\((\w{4}),(\w{4})\) (\S\S) (.*?)\s+# +\d+, ?\d+ (.*)$", line)
        if not m or m.group(1) == "0002":
            continue
        group, element = int(m.group(1), 16), int(m.group(2), 16)
        value, name = m.group(4), m.group(5)
        if group & 1 and 0x10 <= element <= 0xFF:
            creators[(group, element)] = value.strip("[]")
        creator = creators.get((group, element >> 8)) if group & 1 and element >= 0x1000 else None
        e = d.find(group << 16 | element, creator)
        assert (e.name if e else "Unknown Tag & Data") == name, line
        seen += 1
    assert seen == 18
