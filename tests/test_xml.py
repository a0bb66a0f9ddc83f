"""dcm2xml / xml2dcm against DCMTK 3.6.7 (both XML formats), round trips, and hostile XML.

* Every corpus file DCMTK's dcm2xml converts is converted by ours (in-process) with four option
  sets (DCMTK format, +Wb -Wn +Xd +Xn, Native Model, Native +Eb): byte-identical output (the
  random BulkData UUIDs aside), except the files in ``expected_difference``, each tied to a
  ``DIFFERENCES`` entry with its own check.
* file -> dcm2xml -> xml2dcm -> file (both formats): DCMTK's dcmdump of the result equals its
  dump of the original; DCMTK's xml2dcm reads our XML and our xml2dcm reads DCMTK's.
* Hostile and malformed XML (entity expansion, external entities and DTDs, not well-formed,
  missing attributes): one error line with line and column, exit 1, no output file.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import corpus
from conftest import dcmtk_cmd, our_cmd, run
from test_json import ROUND_TRIP_EXCLUDED, dcmdump_batch, dcmtk_outputs, dump_lines

# XML 1.0 cannot carry these characters (DCMTK drops them as we do)
XML_EXCLUDED = {**ROUND_TRIP_EXCLUDED,
                "hand__implicit_bare.dcm": "a value with a NUL byte (not an XML 1.0 character)"}

from dcmpy.dcmdata.jsonmodel import BulkDataResolver, BulkDataStore
from dcmpy.dcmdata.reader import DicomError, dcmread
from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
from dcmpy.dcmdata.xmlmodel import XmlModelError, XmlOptions, from_xml, to_xml

OPTION_SETS = {
    "dtk": [], "dtk-binary-noname-dtd-ns": ["+Wb", "-Wn", "+Xd", "+Xn"],
    "native": ["-nat"], "native-base64": ["-nat", "+Eb"],
}
_UUID = re.compile(rb'uuid="[^"]*"')


def _options(args: list[str]) -> XmlOptions:
    return XmlOptions(native="-nat" in args, namespace="+Xn" in args,
                      dtd="reference" if "+Xd" in args else None,
                      element_names="-Wn" not in args, write_binary="+Wb" in args,
                      binary_encoding="base64" if "+Eb" in args else None)


def ours(path: Path, args: list[str]) -> bytes:
    """What our dcm2xml prints (the library calls the app makes, +Cr satisfied)."""
    return to_xml(dcmread(path), _options(args))


@pytest.fixture(scope="session")
def corpus_paths() -> list[Path]:
    return [p for p in corpus.corpus_files() if p.name not in corpus.DCMTK_READ_ERRORS]


@pytest.fixture(scope="session")
def dcmtk_xml(corpus_paths):
    return {name: dcmtk_outputs("dcm2xml", args, corpus_paths) for name, args in OPTION_SETS.items()}


# ---------------------------------------------------------------------------------------------
# deliberate differences

EDGE_DUMP = r"""
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [1.2.3.4]
(0010,0010) PN [=Ideo^Graphic\Doe^John\\A==P]
(0010,0020) LO [\]
(0013,1001) LO [no creator]
"""
ISO2022 = ["cs__chrH31.dcm", "cs__chrH32.dcm", "cs__chrI2.dcm", "cs__chrJapMulti.dcm",
           "cs__chrJapMultiExplicitIR6.dcm", "cs__chrKoreanMulti.dcm", "cs__chrX2.dcm",
           "cs__chrSQEncoding1.dcm", "pd__J2K_pixelrep_mismatch.dcm"]
FLOATS = ["pd__examples_palette.dcm", "hand__numbers.dcm"]


@pytest.fixture(scope="session")
def edge_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xml_edge")
    (folder / "edge.txt").write_text(EDGE_DUMP)
    subprocess.run(dcmtk_cmd("dump2dcm", ["edge.txt", "edge.dcm"]), cwd=folder, check=True,
                   capture_output=True)
    return folder / "edge.dcm"


def _check_iso2022(_edge) -> None:
    """A Specific Character Set without one XML encoding (ISO 2022 code extensions, GB18030):
    DCMTK declares none and quotes the bytes, ESC as '&#27;', which XML 1.0 forbids: its
    document is not well-formed. We decode the values and write UTF-8."""
    path = corpus.CORPUS_DIR / "cs__chrH31.dcm"
    theirs = run(dcmtk_cmd("dcm2xml", [path])).stdout
    assert b"&#27;$B" in theirs
    with pytest.raises(XmlModelError, match="invalid character number"):
        from_xml(theirs)
    mine = ours(path, [])
    assert mine.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "Yamada^Tarou=山田^太郎=やまだ^たろう".encode() in mine
    back = from_xml(mine)
    assert bytes(back[0x00100010].raw) == bytes(dcmread(path)[0x00100010].raw)


def _check_item_charset(_edge) -> None:
    """An item with its own Specific Character Set: DCMTK writes its bytes into a UTF-8
    document unconverted (not UTF-8); we decode them with the item's set."""
    path = corpus.CORPUS_DIR / "cs__chrSQEncoding.dcm"
    theirs = run(dcmtk_cmd("dcm2xml", [path])).stdout
    with pytest.raises(UnicodeDecodeError):
        theirs.decode("utf-8")
    assert "山田^太郎".encode() in ours(path, [])


def _check_float_digits(_edge) -> None:
    """FD digits that do not parse back to the stored value (see test_json): exact ones."""
    path = corpus.CORPUS_DIR / "pd__examples_palette.dcm"
    assert b">0.026228787661969974</" in run(dcmtk_cmd("dcm2xml", [path])).stdout
    assert b">0.02622878766196998</" in ours(path, [])


def _check_pn_groups(edge_file: Path) -> None:
    """Native PN: DCMTK repeats the previous name for an empty value and the Alphabetic group
    for an empty Ideographic one (A==P), and writes an empty <Alphabetic> for '=I'; we write
    each group as it is (PS3.19 A.1)."""
    theirs = run(dcmtk_cmd("dcm2xml", ["-nat", edge_file])).stdout.decode()
    mine = ours(edge_file, ["-nat"]).decode()
    assert '<PersonName number="3">\n<Alphabetic>\n<FamilyName>Doe</FamilyName>' in theirs
    assert '<PersonName number="3">\n</PersonName>' in mine
    assert "<Ideographic>\n<FamilyName>A</FamilyName>" in theirs
    assert ('<PersonName number="4">\n<Alphabetic>\n<FamilyName>A</FamilyName>\n</Alphabetic>\n'
            '<Phonetic>\n<FamilyName>P</FamilyName>\n</Phonetic>\n</PersonName>') in mine
    assert '<PersonName number="1">\n<Alphabetic>\n</Alphabetic>' in theirs
    assert '<PersonName number="1">\n<Ideographic>' in mine


def _check_private_without_creator(edge_file: Path) -> None:
    """Native private element without a private creator: DCMTK writes tag 00130001 (the block
    is lost, and that tag is not even a private data element); we keep 00131001."""
    theirs = run(dcmtk_cmd("dcm2xml", ["-nat", edge_file])).stdout.decode()
    mine = ours(edge_file, ["-nat"])
    assert '<DicomAttribute tag="00130001" vr="LO">' in theirs
    assert b'<DicomAttribute tag="00131001" vr="LO">' in mine
    assert bytes(from_xml(mine)[0x00131001].raw) == b"no creator"


def _check_empty_values(edge_file: Path) -> None:
    """Native LO '\\': DCMTK writes no Value; we keep the two empty values."""
    theirs = run(dcmtk_cmd("dcm2xml", ["-nat", edge_file])).stdout.decode()
    mine = ours(edge_file, ["-nat"]).decode()
    assert '"PatientID">\n</DicomAttribute>' in theirs
    assert '"PatientID">\n<Value number="1"></Value>\n<Value number="2"></Value>\n' in mine


def _check_base64_readback(tmp_path_factory) -> None:
    """binary="base64" (+Eb): DCMTK's xml2dcm refuses its own output; ours reads it back."""
    folder = tmp_path_factory.mktemp("b64")
    src = corpus.CORPUS_DIR / "dump__allvr__te.dcm"
    (folder / "d.xml").write_bytes(run(dcmtk_cmd("dcm2xml", ["+Wb", "+Eb", src])).stdout)
    assert run(dcmtk_cmd("xml2dcm", [folder / "d.xml", folder / "theirs.dcm"])).rc != 0
    r = run(our_cmd("xml2dcm", [folder / "d.xml", folder / "ours.dcm"]))
    assert r.rc == 0, r.stderr
    assert dump_lines(run(dcmtk_cmd("dcmdump", ["+L", folder / "ours.dcm"])).stdout.decode()) == \
        dump_lines(run(dcmtk_cmd("dcmdump", ["+L", src])).stdout.decode())


def _check_native_encapsulated(_edge) -> None:
    """Native +Eb of encapsulated pixel data: DCMTK writes an empty <InlineBinary> (it cannot
    load the value) yet exits 0; we write the encapsulated value field."""
    path = corpus.CORPUS_DIR / "cmp__CT_small__rle.dcm"
    theirs = run(dcmtk_cmd("dcm2xml", ["-nat", "+Eb", path]))
    assert theirs.rc == 0 and b"<InlineBinary></InlineBinary>" in theirs.stdout
    assert b"premature end of stream" in theirs.stderr
    back = from_xml(ours(path, ["-nat", "+Eb"]))
    assert [bytes(f) for f in back[0x7FE00010].value] == \
        [bytes(f) for f in dcmread(path)[0x7FE00010].value]


def _check_native_ow_byte_order(_edge) -> None:
    """Native +Eb: DCMTK's InlineBinary of an OW value holds big endian words (whatever the
    file's byte order); the Native Model is little endian (and DCMTK's dcm2json writes little
    endian): we write little endian."""
    import base64
    import numpy as np

    def inline(xml: bytes) -> bytes:
        part = xml.split(b'tag="7FE00010"')[1]
        return base64.b64decode(part.split(b"<InlineBinary>")[1].split(b"</InlineBinary>")[0])

    for name in ("pd__CT_small.dcm", "cv__CT_small__tb.dcm"):
        path = corpus.CORPUS_DIR / name
        pixels = np.asarray(dcmread(path).PixelData, dtype="<u2").tobytes()
        theirs = inline(run(dcmtk_cmd("dcm2xml", ["-nat", "+Eb", path])).stdout)
        assert theirs == np.frombuffer(pixels, "<u2").byteswap().tobytes() != pixels
        assert inline(ours(path, ["-nat", "+Eb"])) == pixels


def _check_native_dicomdir(_edge) -> None:
    """Native Model of a DICOMDIR: DCMTK stops in the first directory record ('Cannot convert
    Directory Record to Native DICOM Model', exit 3, half a document); we write all of it."""
    path = corpus.CORPUS_DIR / "dd__DICOMDIR"
    theirs = run(dcmtk_cmd("dcm2xml", ["-nat", path]))
    assert theirs.rc == 3 and b"Cannot convert Directory Record" in theirs.stderr
    back = from_xml(ours(path, ["-nat"]))
    assert len(back[0x00041220].value) == len(dcmread(path)[0x00041220].value)


DIFFERENCES = {
    "native-encapsulated-pixels": _check_native_encapsulated,
    "native-dicomdir": _check_native_dicomdir,
    "native-inline-ow-byte-order": _check_native_ow_byte_order,
    "iso2022-utf8": _check_iso2022,
    "item-charset": _check_item_charset,
    "float-digits": _check_float_digits,
    "native-pn-groups": _check_pn_groups,
    "native-private-without-creator": _check_private_without_creator,
    "native-empty-values": _check_empty_values,
}


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_difference(name, edge_file):
    DIFFERENCES[name](edge_file)


def test_base64_readback(tmp_path_factory):
    _check_base64_readback(tmp_path_factory)


def _has_private_without_creator(path: Path) -> bool:
    stack = [dcmread(path)]
    while stack:
        ds = stack.pop()
        for elem in ds:
            if elem.tag >> 16 & 1 and elem.tag >> 16 > 8 and elem.tag & 0xFF00 \
                    and ds.private_creator(elem.tag) is None:
                return True
            if elem.vr == "SQ":
                stack.extend(elem.value or [])
    return False


def _has_ow(path: Path) -> bool:
    """True if the data set holds an OW value that byte swapping changes."""
    import numpy as np
    stack = [dcmread(path)]
    while stack:
        for elem in stack.pop():
            raw = bytes(elem.raw)[:len(elem.raw) // 2 * 2] if elem.vr == "OW" else b""
            if raw and np.frombuffer(raw, "<u2").byteswap().tobytes() != raw:
                return True
            if elem.vr == "SQ":
                stack.extend(elem.value or [])
    return False


def expected_difference(name: str, option_set: str) -> str | None:
    """Why our output for a corpus file differs from DCMTK's (None: it must not)."""
    if name in ISO2022:
        return "iso2022-utf8"
    if "chrSQEncoding" in name:
        return "item-charset"
    if name in FLOATS:
        return "float-digits"
    if option_set == "native-base64":
        syntax = dcmread(corpus.CORPUS_DIR / name).transfer_syntax
        if syntax.encapsulated:
            return "native-encapsulated-pixels"
        if _has_ow(corpus.CORPUS_DIR / name):
            return "native-inline-ow-byte-order"
    if option_set.startswith("native"):
        if name in ("cs__chrX1.dcm",):
            return "native-pn-groups"
        if _has_private_without_creator(corpus.CORPUS_DIR / name):
            return "native-private-without-creator"
    return None


@pytest.mark.parametrize("option_set", sorted(OPTION_SETS))
def test_dcm2xml_matches_dcmtk(option_set, dcmtk_xml, corpus_paths):
    args = OPTION_SETS[option_set]
    compared, mismatches = 0, []
    for path in corpus_paths:
        theirs = dcmtk_xml[option_set][path.name]
        if theirs.returncode != 0:
            continue
        mine = ours(path, args)
        compared += 1
        same = _UUID.sub(b"uuid", mine) == _UUID.sub(b"uuid", theirs.stdout)
        why = expected_difference(path.name, option_set)
        if same == (why is not None):
            mismatches.append(f"{path.name} ({why or 'differs'})")
    assert compared > 300
    assert not mismatches, mismatches


def test_dcmtk_failures(dcmtk_xml, corpus_paths):
    """DCMTK's dcm2xml refuses extended characters without (0008,0005) (exit 3; so do we, and
    +Ca converts) and cannot write DICOMDIRs in the Native Model (exit 3; we can)."""
    seen = set()
    for path in corpus_paths:
        theirs = dcmtk_xml["native"][path.name]
        if theirs.returncode in (0, 5):
            continue
        assert theirs.returncode == 3, path.name
        if b"Cannot convert Directory Record" in theirs.stderr:
            seen.add("dicomdir")
            assert len(from_xml(ours(path, ["-nat"]))) == len(dcmread(path))
            continue
        seen.add("charset")
        mine = run(our_cmd("dcm2xml", [path]))
        assert mine.rc == 3 and not mine.stdout
        assert b"extended characters used in file" in mine.stderr
        assert run(our_cmd("dcm2xml", ["+Ca", "ISO_IR 100", path])).rc == 0
    assert seen == {"dicomdir", "charset"}


# ---------------------------------------------------------------------------------------------
# round trips


def _xml_round_trip(path: Path, folder: Path, args: list[str]) -> Path:
    ds = dcmread(path)
    store = BulkDataStore(str(folder), base=str(folder), prefix=path.stem + "-") \
        if "+bd" in args else None
    opts = XmlOptions(native="-nat" in args, write_binary=True, load_limit=None,
                      binary_encoding="base64" if "+Eb" in args else None, bulk_store=store)
    back = from_xml(to_xml(ds, opts), bulk_resolver=BulkDataResolver(str(folder)))
    out = folder / path.name
    dcmwrite(out, back, WriteOptions(explicit_lengths=False, transfer_syntax=ds.transfer_syntax.uid))
    return out


@pytest.mark.parametrize("args", [["+Wb", "+M"], ["-nat", "+Eb"], ["-nat", "+bd"]],
                         ids=["dtk-hex", "native-base64", "native-bulk-files"])
def test_xml_round_trip(args, corpus_paths, tmp_path):
    originals = dcmdump_batch(corpus_paths)
    inputs = []
    for path in corpus_paths:
        if "# Dicom-Data-Set" not in originals.get(path.name, "") or path.name in XML_EXCLUDED:
            continue
        try:
            dcmread(path)
        except DicomError:
            continue
        inputs.append(path)
    results = [_xml_round_trip(p, tmp_path, args) for p in inputs]
    dumped = dcmdump_batch(results)
    failures = [p.name for p in inputs if dump_lines(dumped[p.name]) != dump_lines(originals[p.name])]
    assert len(inputs) > 250
    assert not failures, failures


INTEROP_FILES = ["pd__CT_small.dcm", "pd__MR_small.dcm", "pd__rtplan.dcm", "pd__test-SR.dcm",
                 "pd__waveform_ecg.dcm", "dump__allvr__te.dcm", "dump__nested3__te.dcm",
                 "dump__private__te.dcm", "dump__empty_sq__te.dcm", "cs__chrRuss.dcm",
                 "cs__chrFrenMulti.dcm", "pd__MR_small_bigendian.dcm", "cv__rtplan__ti.dcm"]


def _dcmtk_xml(name: str, folder: Path) -> Path:
    xml = folder / (name + ".dcmtk.xml")
    xml.write_bytes(run(dcmtk_cmd("dcm2xml", ["+Wb", "+M", corpus.CORPUS_DIR / name])).stdout)
    return xml


def test_dcmtk_xml2dcm_reads_ours(tmp_path):
    """DCMTK's xml2dcm makes the same data set from our XML as from its own (its parser reads
    some FD digits imprecisely, and drops trailing padding: the same way for both)."""
    for name in INTEROP_FILES:
        ours_xml = tmp_path / (name + ".xml")
        assert run(our_cmd("dcm2xml", ["+Wb", "+M", corpus.CORPUS_DIR / name, ours_xml])).rc == 0
        for xml, out in ((ours_xml, tmp_path / name), (_dcmtk_xml(name, tmp_path), tmp_path / (name + ".ref"))):
            r = run(dcmtk_cmd("xml2dcm", [xml, out]))
            assert r.rc == 0, (name, r.stderr)
    mine = dcmdump_batch([tmp_path / n for n in INTEROP_FILES])
    theirs = dcmdump_batch([tmp_path / (n + ".ref") for n in INTEROP_FILES])
    assert [n for n in INTEROP_FILES if dump_lines(mine[n]) != dump_lines(theirs[n + ".ref"])] == []


def test_xml2dcm_reads_dcmtk(tmp_path):
    """Our xml2dcm converts DCMTK's XML (+Wb +M) back to the original data set."""
    for name in INTEROP_FILES:
        r = run(our_cmd("xml2dcm", [_dcmtk_xml(name, tmp_path), tmp_path / name]))
        assert r.rc == 0, (name, r.stderr)
    originals = dcmdump_batch([corpus.CORPUS_DIR / n for n in INTEROP_FILES])
    mine = dcmdump_batch([tmp_path / n for n in INTEROP_FILES])
    assert [n for n in INTEROP_FILES if dump_lines(mine[n]) != dump_lines(originals[n])] == []


# ---------------------------------------------------------------------------------------------
# the apps


@pytest.mark.parametrize("tool", ["dcm2xml", "xml2dcm"])
def test_help_matches_dcmtk(tool):
    theirs = run(dcmtk_cmd(tool, ["--help"])).stdout.decode().splitlines()
    mine = run(our_cmd(tool, ["--help"])).stdout.decode().splitlines()
    assert mine[0].startswith(f"$dcmpy: {tool}")
    extra = [line for line in mine[1:] if line not in theirs]
    assert all(re.search("bulk|BulkData|binary values to files", line, re.I) for line in extra), extra
    assert [line for line in theirs[1:] if line not in mine] == []


def test_options_and_exit_codes(tmp_path):
    src = corpus.CORPUS_DIR / "dump__allvr__te.dcm"
    cases = [
        (["-nat", "+Wb", src], 1), (["+Eu", src], 1), (["+Xf", "x.dtd", src], 1),
        ([tmp_path / "missing.dcm"], 5), ([corpus.CORPUS_DIR / "hand__raw_bytes.dcm"], 3),
        ([src, tmp_path / "no" / "dir" / "x.xml"], 1),
    ]
    for args, code in cases:
        theirs, mine = run(dcmtk_cmd("dcm2xml", args)), run(our_cmd("dcm2xml", args))
        assert theirs.rc == mine.rc == code, (args, theirs.rc, mine.rc, mine.stderr)
        assert b"Traceback" not in mine.stderr
    for args in (["+Xe"], ["+Xe", "+Xn", "+Wb", "+Eb"], ["+U8"], ["+R", "1024", "+Wb"], ["-nat", "+Xn"]):
        theirs = run(dcmtk_cmd("dcm2xml", [*args, src])).stdout
        mine = run(our_cmd("dcm2xml", [*args, src])).stdout
        assert _UUID.sub(b"", mine) == _UUID.sub(b"", theirs), args


HOSTILE = {
    "billion-laughs": ('<?xml version="1.0"?>\n<!DOCTYPE file-format [\n<!ENTITY a "aaaaaaaaaa">\n'
                       '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
                       '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n<file-format><data-set>'
                       '<element tag="0010,0010" vr="PN">&c;</element></data-set></file-format>',
                       "entity declarations are not allowed"),
    "external-entity": ('<?xml version="1.0"?>\n<!DOCTYPE file-format [\n'
                        '<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n<file-format><data-set>'
                        '<element tag="0010,0010" vr="PN">&x;</element></data-set></file-format>',
                        "entity declarations are not allowed"),
    "parameter-entity": ('<?xml version="1.0"?>\n<!DOCTYPE file-format [\n'
                         '<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd">\n%p;\n]>\n'
                         '<file-format/>', "entity declarations are not allowed"),
    "undefined-entity": ('<?xml version="1.0"?>\n<file-format><data-set>\n'
                         '<element tag="0010,0010" vr="PN">&x;</element></data-set></file-format>',
                         "undefined entity (line 3"),
    "not-well-formed": ('<?xml version="1.0"?>\n<file-format>\n<data-set>\n'
                        '<element tag="0010,0010" vr="PN">x</elem>\n', "mismatched tag (line 4"),
    "truncated": ('<?xml version="1.0"?>\n<file-format>\n<data-set>\n', "no element found (line 4"),
    "missing-tag": ('<?xml version="1.0"?>\n<file-format><data-set>\n<element vr="PN">x</element>'
                    '</data-set></file-format>', "invalid tag attribute ''"),
    "unknown-vr": ('<?xml version="1.0"?>\n<file-format><data-set>\n'
                   '<element tag="0010,0010" vr="XX">x</element></data-set></file-format>',
                   "unknown vr attribute 'XX'"),
    "bad-hex": ('<?xml version="1.0"?>\n<file-format><data-set>\n<element tag="7fe0,0010" '
                'vr="OB" binary="yes">00\\zz</element></data-set></file-format>', "invalid hex"),
    "bad-base64": ('<?xml version="1.0"?>\n<NativeDicomModel>\n<DicomAttribute tag="7FE00010" '
                   'vr="OB"><InlineBinary>AA*=</InlineBinary></DicomAttribute></NativeDicomModel>',
                   "invalid base64"),
    "bad-number": ('<?xml version="1.0"?>\n<NativeDicomModel>\n<DicomAttribute tag="00280010" '
                   'vr="US"><Value number="1">x1</Value></DicomAttribute></NativeDicomModel>',
                   "invalid US value 'x1'"),
    "wrong-root": ('<?xml version="1.0"?>\n<html/>', "document of the wrong type"),
    "escaping-bulk": ('<?xml version="1.0"?>\n<NativeDicomModel>\n<DicomAttribute tag="7FE00010" '
                      'vr="OB"><BulkData uri="../../../etc/passwd"/></DicomAttribute>'
                      '</NativeDicomModel>', "points outside"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_xml(case, tmp_path):
    text, expected = HOSTILE[case]
    src = tmp_path / "in.xml"
    src.write_text(text)
    r = run(our_cmd("xml2dcm", [src, tmp_path / "out.dcm"]), timeout=60)
    err = r.stderr.decode()
    assert r.rc == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("E: xml2dcm: "), err
    assert expected.lower() in err.lower(), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xml"]


def test_dtd_and_namespace_accepted(tmp_path):
    """DCMTK's +Xe (embedded DTD, no entities) and +Xn documents are read; +Vn checks."""
    src = corpus.CORPUS_DIR / "dump__allvr__te.dcm"
    xml = tmp_path / "e.xml"
    xml.write_bytes(run(dcmtk_cmd("dcm2xml", ["+Xe", "+Xn", "+Wb", src])).stdout)
    assert run(our_cmd("xml2dcm", ["+Vn", xml, tmp_path / "e.dcm"])).rc == 0
    plain = tmp_path / "p.xml"
    plain.write_bytes(run(dcmtk_cmd("dcm2xml", ["+Wb", src])).stdout)
    r = run(our_cmd("xml2dcm", ["+Vn", plain, tmp_path / "p.dcm"]))
    assert r.rc == 1 and b"namespace" in r.stderr and not (tmp_path / "p.dcm").exists()
