"""pdf2dcm/dcm2pdf, cda2dcm/dcm2cda, stl2dcm/dcm2stl against DCMTK's tools.

Both encapsulators run on the same document with the same pinned UIDs and creation date/time;
``/usr/bin/dcmdump`` texts must match apart from the implementation lines and the deliberate
differences in DIFFERENCES (each checked by a test of its own); ``dciodvfy`` finds no error in our
files; the document comes back out byte for byte: DCMTK's dcm2pdf from our files, ours from
DCMTK's, ours from ours (DCMTK 3.6.7 has no dcm2cda/dcm2stl, so those are checked against the
input document and DCMTK's encapsulations).
"""
from __future__ import annotations

import struct
from pathlib import Path

import pydicom
import pytest

from conftest import compact_diff, dcmtk_cmd, our_cmd, run

PIN = ["-k", "StudyInstanceUID=1.2.826.0.1.3680043.2.1143.11",
       "-k", "SeriesInstanceUID=1.2.826.0.1.3680043.2.1143.12",
       "-k", "SOPInstanceUID=1.2.826.0.1.3680043.2.1143.13",
       "-k", "InstanceCreationDate=20240102", "-k", "InstanceCreationTime=030405"]
STL_PIN = ["+mn", "ACME", "+mm", "Printer 3", "+ds", "SN42", "+sv", "1.0",
           "-k", "FrameOfReferenceUID=1.2.826.0.1.3680043.2.1143.14"]

DIFFERENCES = {
    "study-from": "+st/+se: DCMTK copies only patient name/id/birth date/sex and the UIDs, so the "
                  "study's date, time, accession number, referring physician and ID are lost and "
                  "+se writes Series Number 1; we copy them",
    "charset": "non-ASCII text: DCMTK writes the CDA's UTF-8 bytes under ISO_IR 100; we encode "
               "the text in a character set that holds it (ISO_IR 100 when Latin-1 suffices)",
    "birth-time": "a CDA birthTime with a time of day: DCMTK writes 14 characters into the DA "
                  "Patient's Birth Date (dciodvfy error); we write the date",
    "name-compare": "cda2dcm +pn Doe^Jane on a CDA naming Doe^Jane^^^: DCMTK reports a mismatch; "
                    "we compare names without trailing empty components",
    "cda-code": "the CDA's document code: DCMTK maps only a codeSystemName it knows (LOINC); we map "
                "the code system OID (LOINC, SNOMED CT, DCM) whether or not the name is there",
    "stl-dummies": "stl2dcm's dummy equipment values name dcmpy, not DCMTK (pinned in the tests)",
    "stl-solid": "a binary STL whose header starts with 'solid ': DCMTK refuses it as ASCII; we "
                 "accept it when its size matches its triangle count",
    "dcm2cda-stl": "dcm2cda and dcm2stl: not in DCMTK 3.6.7 (dcm2cda came with 3.6.9); ours "
                   "follow dcm2pdf",
}

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
       b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
CDA = b"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.3.4.5"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"
        displayName="Consultation note"/>
  <title>Consultation</title>
  <recordTarget><patientRole><id extension="PID123" root="1.2.3"/>
    <patient><name><given>Jane</given><family>Doe</family></name>
    <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
    <birthTime value="19700101"/></patient></patientRole></recordTarget>
  <component><nonXMLBody><text mediaType="text/plain">hello</text></nonXMLBody></component>
</ClinicalDocument>
"""
CDA_UTF8 = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1.2.3.4.5" extension="EXT9"/>
  <code code="X1" codeSystem="1.2.3.9" displayName="Other code"/>
  <recordTarget><patientRole><id extension="PID9" root="1.2.3"/>
    <patient><name><prefix>Dr.</prefix><given>J\u00fcrgen</given><given>Karl</given>
    <family>M\u00fcller</family><suffix>Jr</suffix></name>
    <administrativeGenderCode code="M"/><birthTime value="19700101123000"/></patient>
  </patientRole></recordTarget>
  <component><structuredBody><component><section><text>
    <value mediaType="image/png"/><value mediaType="image/jpeg"/><x mediaType="image/png"/>
  </text></section></component></structuredBody></component>
</ClinicalDocument>
""".encode()


def stl(triangles: int, header: bytes = b"binary stl written by the dcmpy tests") -> bytes:
    body = b"".join(struct.pack("<12fH", *[float(i + t) for i in range(12)], 0)
                    for t in range(triangles))
    return header.ljust(80, b" ") + struct.pack("<I", triangles) + body


DOCS = {"pdf": PDF, "pdf-odd": PDF + b"x", "cda": CDA, "cda-utf8": CDA_UTF8, "stl": stl(3),
        "stl-solid": stl(2, b"solid but binary")}
TOOLS = {"pdf": "pdf2dcm", "cda": "cda2dcm", "stl": "stl2dcm"}


def kind_of(name: str) -> str:
    return name.split("-")[0]


def dump(path: Path) -> bytes:
    r = run(dcmtk_cmd("dcmdump", ["+L", path]))
    assert r.rc == 0, r.stderr
    return r.stdout


def normalised(text: bytes, drop=()) -> bytes:
    skip = (b"(0002,0000)", b"(0002,0012)", b"(0002,0013)")
    return b"".join(line for line in text.splitlines(keepends=True)
                    if not line.startswith(skip) and not any(d in line for d in drop))


def dciodvfy_errors(path: Path) -> list[str]:
    r = run(["/usr/bin/dciodvfy", str(path)])
    return [line for line in (r.stdout + r.stderr).decode("latin-1").splitlines()
            if line.startswith("Error")]


def both(tmp_path: Path, name: str, *args, pin=True):
    """Encapsulate DOCS[name] with DCMTK and with ours; (result, file) for each."""
    kind = kind_of(name)
    src = tmp_path / f"{name}.{kind}"
    src.write_bytes(DOCS[name])
    extra = PIN + (STL_PIN if kind == "stl" else []) if pin else []
    out = []
    for cmd, tag in ((dcmtk_cmd, "dcmtk"), (our_cmd, "ours")):
        target = tmp_path / f"{tag}.dcm"
        out.append((run(cmd(TOOLS[kind], [*extra, *args, src, target])), target))
    return out


# ---------------------------------------------------------------------------------------------
# the command line

@pytest.mark.parametrize("tool", ["pdf2dcm", "cda2dcm", "stl2dcm", "dcm2pdf"])
def test_help_matches_dcmtk(tool):
    theirs = run(dcmtk_cmd(tool, ["--help"])).stdout.splitlines()[1:]
    ours = run(our_cmd(tool, ["--help"])).stdout.splitlines()[1:]
    assert theirs == ours, compact_diff(b"\n".join(theirs), b"\n".join(ours))


@pytest.mark.parametrize("tool,kind", [("dcm2cda", "CDA"), ("dcm2stl", "STL")])
def test_help_of_new_extractors(tool, kind):
    """DIFFERENCES['dcm2cda-stl']: dcm2pdf's help with the document kind replaced."""
    pdf = run(dcmtk_cmd("dcm2pdf", ["--help"])).stdout.splitlines()[1:]
    ours = run(our_cmd(tool, ["--help"])).stdout.splitlines()[1:]
    expected = [line.replace(b"PDF", kind.encode()).replace(b"pdffile", kind.lower().encode()
                                                            + b"file")
                .replace(b"dcm2pdf", tool.encode()) for line in pdf]
    assert ours == expected


def test_instance_inc_needs_series_from(tmp_path):
    (rt, _), (ro, fo) = both(tmp_path, "pdf", "+ii")
    assert rt.rc == ro.rc == 1
    assert b"--instance-inc only allowed with --series-from" in ro.stderr and not fo.exists()


# ---------------------------------------------------------------------------------------------
# encapsulation against DCMTK

OPTION_SETS = [
    [], ["+t", "My title", "+cn", "DCM", "121181", "Dicom Object"],
    ["+pn", "Doe^John", "+pi", "P1", "+pb", "20000101", "+ps", "M", "-an", "+is", "5"],
    ["+tb"], ["+ti", "-e", "+g"], ["-g", "+p", "64", "16"], ["-k", "PatientName=A^B",
                                                              "-k", "(0008,0070)=ACME"],
]


@pytest.mark.parametrize("name", ["pdf", "pdf-odd", "stl"])
@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: " ".join(o) or "defaults")
def test_encapsulation_matches_dcmtk(tmp_path, name, opts):
    (rt, ft), (ro, fo) = both(tmp_path, name, *opts)
    assert rt.rc == 0 and ro.rc == 0, (rt.stderr, ro.stderr)
    # the file padding differs by as much as our meta header is longer than DCMTK's
    drop = (b"(fffc,fffc)",)
    expected, actual = normalised(dump(ft), drop), normalised(dump(fo), drop)
    assert expected == actual, compact_diff(expected, actual)
    if "+p" in opts:
        assert fo.stat().st_size % 64 == 0 and ft.stat().st_size % 64 == 0
    assert dciodvfy_errors(fo) == []


@pytest.mark.parametrize("opts", [[], ["+t", "Consultation", "+pn", "Doe^Jane^^^", "+pi", "PID123"],
                                  ["+ov", "+pn", "Other^Name", "+t", "Other"],
                                  ["+ov", "+cn", "XX", "11488-4", "Consultation"]],
                         ids=["defaults", "agreeing", "override", "concept"])
def test_cda_matches_dcmtk(tmp_path, opts):
    (rt, ft), (ro, fo) = both(tmp_path, "cda", *opts)
    assert rt.rc == 0 and ro.rc == 0, (rt.stderr, ro.stderr)
    expected, actual = normalised(dump(ft)), normalised(dump(fo))
    assert expected == actual, compact_diff(expected, actual)
    assert dciodvfy_errors(fo) == []


@pytest.mark.parametrize("opts", [["+pn", "Other^Name"], ["+pi", "X"], ["+t", "Other"],
                                  ["+pb", "19990101"], ["+cn", "LN", "99", "Consultation"]])
def test_cda_mismatch_refused_like_dcmtk(tmp_path, opts):
    (rt, ft), (ro, fo) = both(tmp_path, "cda", *opts)
    assert rt.rc == ro.rc == 1 and not ft.exists() and not fo.exists()
    assert b"mismatch" in ro.stderr and b"+ov" in ro.stderr


def test_cda_code_system_difference(tmp_path):
    """DIFFERENCES['cda-code']"""
    DOCS["cda-oid"] = CDA.replace(b' codeSystemName="LOINC"', b"")
    (rt, ft), (ro, fo) = both(tmp_path, "cda-oid")
    assert len(pydicom.dcmread(ft).ConceptNameCodeSequence) == 0
    item = pydicom.dcmread(fo).ConceptNameCodeSequence[0]
    assert (item.CodeValue, item.CodingSchemeDesignator) == ("11488-4", "LN")
    drop = (b"(0040,a043)", b"(fffe,e000)", b"(0008,010", b"(fffe,e00d)", b"(fffe,e0dd)")
    assert normalised(dump(ft), drop) == normalised(dump(fo), drop)


def test_cda_name_compare_difference(tmp_path):
    """DIFFERENCES['name-compare']"""
    (rt, ft), (ro, fo) = both(tmp_path, "cda", "+pn", "Doe^Jane")
    assert rt.rc == 1 and b"Patient Name mismatch" in rt.stderr
    assert ro.rc == 0 and pydicom.dcmread(fo).PatientName == "Doe^Jane^^^"


def test_cda_charset_and_birth_time_difference(tmp_path):
    """DIFFERENCES['charset'] and ['birth-time']: all else as DCMTK."""
    (rt, ft), (ro, fo) = both(tmp_path, "cda-utf8")
    assert rt.rc == 0 and ro.rc == 0
    drop = (b"(0010,0010)", b"(0010,0030)")
    assert normalised(dump(ft), drop) == normalised(dump(fo), drop)
    ours, theirs = pydicom.dcmread(fo), pydicom.dcmread(ft)
    assert ours.SpecificCharacterSet == "ISO_IR 100"
    assert str(ours.PatientName) == "M\u00fcller^J\u00fcrgen^Karl^Dr.^Jr"
    assert theirs[0x00100010].value != ours[0x00100010].value        # mojibake in DCMTK's
    assert ours.PatientBirthDate == "19700101" and theirs.PatientBirthDate == "19700101123000"
    assert dciodvfy_errors(fo) == [] and dciodvfy_errors(ft) != []


def test_non_latin1_patient_name_gets_utf8(tmp_path):
    (rt, ft), (ro, fo) = both(tmp_path, "pdf", "+pn", "\u5c71\u7530^\u592a\u90ce")
    assert ro.rc == 0
    ds = pydicom.dcmread(fo)
    assert ds.SpecificCharacterSet == "ISO_IR 192" and ds.PatientName == "\u5c71\u7530^\u592a\u90ce"
    assert dciodvfy_errors(fo) == []


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("encap-ref")
    text = """(0008,0005) CS [ISO_IR 100]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.3.4.100]
(0008,0020) DA [20200101]
(0008,0030) TM [101010]
(0008,0050) SH [ACC1]
(0008,0070) LO [ACME]
(0008,0090) PN [Ref^Doc]
(0010,0010) PN [Doe^John]
(0010,0020) LO [PID1]
(0010,0030) DA [19600101]
(0010,0040) CS [M]
(0020,000d) UI [1.2.3.4.1]
(0020,000e) UI [1.2.3.4.2]
(0020,0010) SH [SID1]
(0020,0011) IS [7]
(0020,0013) IS [41]
(0020,0052) UI [1.2.3.4.3]
"""
    (d / "study.txt").write_text(text)
    assert run(dcmtk_cmd("dump2dcm", [d / "study.txt", d / "study.dcm"])).rc == 0
    return d / "study.dcm"


STUDY_EXTRAS = (b"(0008,0020)", b"(0008,0030)", b"(0008,0050)", b"(0008,0090)", b"(0020,0010)",
                b"(0020,0011)")


@pytest.mark.parametrize("name", ["pdf", "stl"])
@pytest.mark.parametrize("level", ["+st", "+se"])
def test_study_from_difference(tmp_path, study_file, name, level):
    """DIFFERENCES['study-from']: what DCMTK copies we copy too; we also keep the study."""
    src = tmp_path / f"doc.{name}"
    src.write_bytes(DOCS[name])
    results = []
    for cmd, tag in ((dcmtk_cmd, "dcmtk"), (our_cmd, "ours")):
        extra = STL_PIN if name == "stl" else []
        series = [] if level == "+se" else ["-k", "SeriesInstanceUID=1.2.826.0.1.3680043.2.1143.12"]
        r = run(cmd(TOOLS[name], [*PIN[6:], "-k", "SOPInstanceUID=1.2.826.0.1.3680043.2.1143.13",
                                  *series, *extra, level, study_file, src, tmp_path / f"{tag}.dcm"]))
        assert r.rc == 0, r.stderr
        results.append(tmp_path / f"{tag}.dcm")
    ft, fo = results
    drop = STUDY_EXTRAS + ((b"(0008,0070)",) if name == "pdf" else ())
    assert normalised(dump(ft), drop) == normalised(dump(fo), drop)
    ours, theirs = pydicom.dcmread(fo), pydicom.dcmread(ft)
    assert (ours.StudyDate, ours.StudyTime, ours.AccessionNumber, ours.StudyID) == \
        ("20200101", "101010", "ACC1", "SID1")
    assert theirs.StudyDate == "" and theirs.AccessionNumber == ""
    assert ours.StudyInstanceUID == theirs.StudyInstanceUID == "1.2.3.4.1"
    if level == "+se":
        assert ours.SeriesNumber == 7 and theirs.SeriesNumber == 1 and ours.InstanceNumber == 42
        assert ours.SeriesInstanceUID == "1.2.3.4.2"
    assert dciodvfy_errors(fo) == []


def test_stl_dummy_values(tmp_path):
    """DIFFERENCES['stl-dummies']: without +mn & co both insert dummies and warn."""
    (rt, ft), (ro, fo) = both(tmp_path, "stl", pin=False)
    assert rt.rc == 0 and ro.rc == 0
    assert ro.stderr.count(b"W: No ") == 4 and rt.stderr.count(b"W: No ") == 4
    assert pydicom.dcmread(fo).Manufacturer == "DCMPY_MANUFACTURING"
    assert dciodvfy_errors(fo) == []


def test_stl_solid_header_difference(tmp_path):
    """DIFFERENCES['stl-solid']"""
    (rt, ft), (ro, fo) = both(tmp_path, "stl-solid")
    assert rt.rc == 22 and ro.rc == 0
    assert _extract(our_cmd, "stl", fo, tmp_path / "back.stl") == DOCS["stl-solid"]


# ---------------------------------------------------------------------------------------------
# extraction: byte-identical documents

def _extract(cmd, kind: str, dcm: Path, out: Path) -> bytes | None:
    r = run(cmd(f"dcm2{kind}", [dcm, out]))
    assert r.rc == 0, r.stderr
    return out.read_bytes()


@pytest.mark.parametrize("name", ["pdf", "pdf-odd", "cda", "cda-utf8", "stl"])
def test_document_comes_back_byte_identical(tmp_path, name):
    (rt, ft), (ro, fo) = both(tmp_path, name)
    assert rt.rc == 0 and ro.rc == 0
    kind, doc = kind_of(name), DOCS[name]
    assert _extract(our_cmd, kind, fo, tmp_path / "ours-from-ours") == doc
    assert _extract(our_cmd, kind, ft, tmp_path / "ours-from-dcmtk") == doc
    if kind == "pdf":
        assert _extract(dcmtk_cmd, kind, fo, tmp_path / "dcmtk-from-ours") == doc
    assert pydicom.dcmread(fo).EncapsulatedDocument[:len(doc)] == doc


@pytest.mark.parametrize("xfer", ["+tb", "+ti"])
def test_extract_from_other_transfer_syntaxes(tmp_path, xfer):
    (rt, ft), (ro, fo) = both(tmp_path, "pdf-odd", xfer)
    assert _extract(dcmtk_cmd, "pdf", fo, tmp_path / "a.pdf") == DOCS["pdf-odd"]
    assert _extract(our_cmd, "pdf", ft, tmp_path / "b.pdf") == DOCS["pdf-odd"]


def test_extract_exec(tmp_path):
    (rt, ft), (ro, fo) = both(tmp_path, "pdf")
    marker = tmp_path / "it ran"
    r = run(our_cmd("dcm2pdf", ["-x", f"cp #f '{marker}'", fo, tmp_path / "x y.pdf"]))
    assert r.rc == 0 and marker.read_bytes() == PDF


def test_extract_refuses_other_objects(tmp_path):
    (rt, ft), (ro, fo) = both(tmp_path, "stl")
    for cmd in (dcmtk_cmd, our_cmd):
        r = run(cmd("dcm2pdf", [fo, tmp_path / "x.pdf"]))
        assert r.rc == 1 and b"not an Encapsulated PDF Storage object" in r.stderr
    assert not (tmp_path / "x.pdf").exists()
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(b"\0" * 200 + b"not dicom")
    r = run(our_cmd("dcm2cda", [garbage, tmp_path / "x.xml"]))
    assert r.rc == 1 and r.stderr.startswith(b"F: ") and r.stderr.count(b"\n") == 1
    r = run(our_cmd("dcm2stl", [fo, tmp_path / "no-dir" / "x.stl"]))
    assert r.rc == 1 and b"unable to create file" in r.stderr


# ---------------------------------------------------------------------------------------------
# bad documents: DCMTK's exit code, one line naming the file and the cause, no output file

BAD = {
    "pdf-not-pdf": ("pdf", b"hello world\n", 22, b"is not a PDF file"),
    "pdf-empty": ("pdf", b"", 22, b"is empty"),
    "stl-ascii": ("stl", b"solid cube\nfacet normal 0 0 1\nendsolid cube\n", 22, b"ASCII"),
    "stl-short": ("stl", b"\0" * 50, 22, b"too short"),
    "stl-lying-count": ("stl", stl(3)[:80] + struct.pack("<I", 10 ** 6) + stl(3)[84:], 22,
                        b"declares 1000000 triangles"),
    "cda-not-xml": ("cda", b"hello", 22, b"not well-formed XML"),
    "cda-wrong-root": ("cda", b"<x/>", 22, b"not an HL7 CDA document"),
    "cda-empty": ("cda", b"", 22, b"is empty"),
    "cda-entities": ("cda", b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b '
                     b'"&a;&a;&a;&a;">]><ClinicalDocument>&b;</ClinicalDocument>', 22,
                     b"entity declarations"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_documents(tmp_path, case):
    kind, data, code, cause = BAD[case]
    src = tmp_path / f"{case}.in"
    src.write_bytes(data)
    outs = []
    for cmd, tag in ((dcmtk_cmd, "dcmtk"), (our_cmd, "ours")):
        out = tmp_path / f"{tag}.dcm"
        outs.append((run(cmd(TOOLS[kind], [src, out]), timeout=60), out))
    (rt, ft), (ro, fo) = outs
    assert ro.rc == code and rt.rc == code, (rt.rc, rt.stderr, ro.stderr)
    assert not fo.exists() and not ft.exists()
    lines = ro.stderr.splitlines()
    assert lines[0].startswith(b"E: ") and cause in lines[0] and str(src).encode() in lines[0]
    assert lines[1:] == [f"E: unable to create {kind.upper()} encapsulation to DICOM format"
                         .encode()]


def test_missing_input_and_unwritable_output(tmp_path, study_file):
    for cmd in (dcmtk_cmd, our_cmd):
        r = run(cmd("pdf2dcm", [tmp_path / "missing.pdf", tmp_path / "o.dcm"]))
        assert r.rc == 21 and b"missing.pdf" in r.stderr
    (tmp_path / "d.pdf").write_bytes(PDF)
    for cmd in (dcmtk_cmd, our_cmd):
        r = run(cmd("pdf2dcm", [tmp_path / "d.pdf", tmp_path / "no-dir" / "o.dcm"]))
        assert r.rc == 40 and b"no-dir" in r.stderr
        r = run(cmd("pdf2dcm", ["+st", tmp_path / "d.pdf", tmp_path / "d.pdf", tmp_path / "o.dcm"]))
        assert r.rc == 22
    r = run(our_cmd("pdf2dcm", ["-k", "(0042,0011)=abc", tmp_path / "d.pdf", tmp_path / "o.dcm"]))
    assert r.rc == 1 and b"VR OB cannot be set from text" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.pdf"]


# ---------------------------------------------------------------------------------------------
# the library

def test_library_round_trip():
    from dcmpy.dcmdata.encapdoc import DocumentOptions, encapsulate, extract_document
    from dcmpy.dcmdata.reader import dcmread
    from dcmpy.dcmdata.writer import dcmwrite
    for kind, doc in (("pdf", PDF + b"x"), ("cda", CDA), ("stl", stl(1))):
        ds = encapsulate(kind, doc, DocumentOptions(annotation=False))
        back = dcmread(dcmwrite(None, ds))
        assert extract_document(back, kind) == doc and back.BurnedInAnnotation == "NO"
