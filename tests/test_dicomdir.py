"""DICOMDIR: our dcmgpdir/dcmmkdir against DCMTK's, DCMTK and dciodvfy reading ours, and the
tree API against pydicom's FileSet.

Each interop case copies the same files, in the same order, into two directories, runs
``/usr/bin/dcmgpdir`` in one and ours in the other with the same options, and compares exit
codes, messages and the ``/usr/bin/dcmdump`` text of both DICOMDIRs. Only what must differ is
normalized: the meta header's implementation class UID, version name and the DICOMDIR's own SOP
instance UID (both generate theirs), and, because those change the meta header's length, the
record offsets, which are compared relative to the start of the data set (every offset is a
byte offset from the start of the file, and the data set follows the meta header).
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import warnings
from pathlib import Path

import pytest

from conftest import compact_diff, dcmtk_cmd, finish, our_cmd, run, start

from dcmpy.dcmdata.dataset import Dataset, FileDataset
from dcmpy.dcmdata.dicomdir import DicomDirError, read_dicomdir
from dcmpy.dcmdata.dicomdir_build import (BuildOptions, DicomDirBuildError, build_dicomdir,
                                          check_file_id)
from dcmpy.dcmdata.reader import DicomError, dcmread
from dcmpy.dcmdata.writer import dcmwrite

CT, MR, SR = "pd__CT_small.dcm", "pd__MR_small.dcm", "pd__test-SR.dcm"
# DCMTK 3.6.7 checks the keys of IMPLANT GROUP records on Implant Assembly Template objects and
# the other way round; we check each as PS3.3 F.5 defines it
IMPLANT_TEMPLATES = ("ImplantAssemblyTemplateStorage", "ImplantTemplateGroupStorage")
# pydicom files whose keys are stored with VR UN (see test_keys_stored_as_un)
UN_KEYS = ("pd__rtdose_rle.dcm", "pd__rtdose_rle_1frame.dcm")


# ---------------------------------------------------------------------------------------------
# helpers

def _data_set_start(path: Path) -> int:
    data = path.read_bytes()
    return 144 + struct.unpack_from("<I", data, 140)[0]


_META_LINE = re.compile(r"^\(0002,00(?:00|03|12|13)\) .*$", re.M)
_OFFSET = re.compile(r"(\(0004,1(?:200|202|400|420)\) up |offset=\$)(\d+)")


def normalized_dump(path: Path) -> str:
    """/usr/bin/dcmdump's text with the generated meta values masked and offsets made relative
    to the data set (offset 0 keeps meaning 'none')."""
    r = run(dcmtk_cmd("dcmdump", [path.name]), cwd=path.parent)
    assert r.rc == 0 and r.stderr == b"", r.stderr
    text = r.stdout.decode("latin-1")
    base = _data_set_start(path)
    text = _META_LINE.sub("(0002,xxxx) generated", text)
    return _OFFSET.sub(lambda m: m.group(1) + (str(int(m.group(2)) - base)
                                                if int(m.group(2)) else "0"), text)


def populate(folder: Path, files: list[tuple[str, Path]]) -> None:
    """Copy ``files`` ((relative name, source)) into ``folder`` in this order."""
    for name, src in files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


class Pair:
    """The same directory twice: one for DCMTK, one for us."""

    def __init__(self, root: Path, files: list[tuple[str, Path]]) -> None:
        self.theirs, self.ours = root / "dcmtk", root / "dcmpy"
        for side in (self.theirs, self.ours):
            side.mkdir(parents=True)
            populate(side, files)

    def run(self, args: list[str], tool: str = "dcmgpdir"):
        p1 = start(dcmtk_cmd(tool, args), cwd=self.theirs)
        p2 = start(our_cmd(tool, args), cwd=self.ours)
        return finish(p1), finish(p2)

    def check(self, args: list[str], tool: str = "dcmgpdir", output: str = "DICOMDIR",
              compare_stderr: bool = True, fresh: bool = False):
        """Run both, compare; ``fresh``: remove the DICOMDIRs of earlier runs first."""
        for side in (self.theirs, self.ours) if fresh else ():
            for name in (output, output + ".BAK"):
                if (side / name).exists():
                    (side / name).unlink()
        theirs, ours = self.run(args, tool)
        assert ours.rc == theirs.rc, (ours.stderr.decode(), theirs.stderr.decode())
        if compare_stderr:   # the banner above a command line error names each toolkit
            banner = re.compile(rb"^\$dcm(?:tk|py): \S+ v\S+ \S+ \$$", re.M)
            expected, actual = (banner.sub(b"$banner$", r.stderr) for r in (theirs, ours))
            assert actual == expected, compact_diff(expected, actual)
        t, o = self.theirs / output, self.ours / output
        assert t.exists() == o.exists()
        if t.exists():
            expected, actual = normalized_dump(t), normalized_dump(o)
            assert actual == expected, compact_diff(expected.encode(), actual.encode())
        return theirs, ours


@pytest.fixture(scope="module")
def corpus(corpus_entries) -> Path:
    from conftest import _corpus
    return _corpus.CORPUS_DIR


def _ct_variant(corpus: Path, folder: Path, name: str, **changes) -> Path:
    """A copy of CT_small with some attributes changed (None removes one)."""
    ds = dcmread(corpus / CT)
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    folder.mkdir(parents=True, exist_ok=True)
    dcmwrite(folder / name, ds)
    return folder / name


# ---------------------------------------------------------------------------------------------
# dcmgpdir against DCMTK

def test_help_matches_dcmtk():
    for tool in ("dcmgpdir", "dcmmkdir"):
        theirs, ours = run(dcmtk_cmd(tool, ["--help"])), run(our_cmd(tool, ["--help"]))
        assert ours.rc == theirs.rc == 0
        assert ours.stdout.split(b"\n", 1)[1] == theirs.stdout.split(b"\n", 1)[1]


def test_basic_recursive(tmp_path, corpus):
    pair = Pair(tmp_path, [("IMAGES/SR1", corpus / SR), ("IMAGES/CT1", corpus / CT),
                           ("IMAGES/MR1", corpus / MR)])
    pair.check(["-v", "+I", "+r", "IMAGES"])
    # ours is read by dcmdump without a word (normalized_dump checks stderr) and by dciodvfy
    # with exactly DCMTK's warnings and no error
    t = run(["/usr/bin/dciodvfy", "DICOMDIR"], cwd=pair.theirs)
    o = run(["/usr/bin/dciodvfy", "DICOMDIR"], cwd=pair.ours)
    assert b"Error" not in o.stdout + o.stderr
    assert o.stdout + o.stderr == t.stdout + t.stderr


def _dated(path: Path) -> bool:
    """True unless +I would fall back to today's date or time (which differ between the runs)."""
    try:
        ds = dcmread(path)
    except DicomError:
        return True
    def has(*keywords):
        return any(str(getattr(ds, k, "") or "").strip() for k in keywords)
    return (has("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
            and has("StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime"))


def test_pydicom_files_invent(tmp_path, corpus):
    """Every pydicom test file at once with +I -Nxc: the same files refused, the same records."""
    sources = [p for p in sorted(corpus.glob("pd__*.dcm")) if _dated(p) and p.name not in UN_KEYS]
    files = [(f"F{i:05d}", p) for i, p in enumerate(sources)]
    pair = Pair(tmp_path, files)
    theirs, ours = pair.check(["+I", "-Nxc", *[n for n, _ in files]], compare_stderr=False)
    assert len(files) >= 60
    # the refused files are the same (the reasons are worded differently where the file
    # cannot be parsed at all: DCMTK's parser messages are its own)
    def refused(err: bytes) -> list[str]:
        text = err.decode("latin-1")
        return re.findall(r"^W:   (\S+)$", text, re.M)
    assert refused(ours.stderr) == refused(theirs.stderr)
    assert len(refused(ours.stderr)) >= 5
    # every message but those about files that cannot be parsed is DCMTK's, word for word
    def comparable(err: bytes) -> list[bytes]:
        return [line for line in err.splitlines() if not re.search(
            rb"DcmItem|DcmElement|DcmMetaInfo|DcmDirectoryRecord|CP-246|reading file|"
            rb"possibly wrong VR|Corrupted data", line)]
    assert comparable(ours.stderr) == comparable(theirs.stderr), \
        compact_diff(b"\n".join(comparable(theirs.stderr)), b"\n".join(comparable(ours.stderr)))


def test_pydicom_files_strict(tmp_path, corpus):
    """Without +I: the required-attribute errors, file by file, as DCMTK words them."""
    sources = [p for p in sorted(corpus.glob("pd__*.dcm"))]
    files = [(f"F{i:05d}", p) for i, p in enumerate(sources)]
    pair = Pair(tmp_path, files)
    theirs, ours = pair.check(["-Nxc", *[n for n, _ in files]], compare_stderr=False)
    def required(err: bytes) -> list[bytes]:
        return [l for l in err.splitlines() if b"required attribute" in l or b"invalid SOP" in l
                or b"part 10 format" in l or b"expected but" in l or b"meta information:" in l]
    assert required(ours.stderr) == required(theirs.stderr)
    assert len(required(ours.stderr)) > 50


def _sop_class_files(folder: Path) -> list[tuple[str, Path]]:
    """One small file per storage SOP class that DCMTK knows, each with every key any record
    type copies, so that the record content shows what each record type takes."""
    from dcmpy.dcmdata._uid_table import UIDS
    folder.mkdir()
    out = []
    values = {"DA": "20200101", "TM": "101010", "DT": "20200101101010", "IS": "3", "US": 5,
              "UL": 5, "CS": "VALUE", "LO": "Long", "SH": "Short", "PN": "Doe^Jane",
              "ST": "Text", "UI": "1.2.3.4"}
    keys = {"PatientName": "PN", "PatientID": "LO", "StudyDate": "DA", "StudyTime": "TM",
            "AccessionNumber": "SH", "StudyDescription": "LO", "StudyInstanceUID": "UI",
            "StudyID": "SH", "Modality": "CS", "SeriesInstanceUID": "UI", "SeriesNumber": "IS",
            "InstanceNumber": "IS", "ImageType": "CS", "ContentDate": "DA", "ContentTime": "TM",
            "PresentationCreationDate": "DA", "PresentationCreationTime": "TM",
            "ContentLabel": "CS", "ContentDescription": "LO", "ContentCreatorName": "PN",
            "StructureSetLabel": "SH", "StructureSetDate": "DA", "RTPlanLabel": "SH",
            "RTPlanDate": "DA", "DoseSummationType": "CS", "TreatmentDate": "DA",
            "CompletionFlag": "CS", "VerificationFlag": "CS", "DocumentTitle": "ST",
            "MIMETypeOfEncapsulatedDocument": "LO", "NumberOfFrames": "IS", "Rows": "US",
            "Columns": "US", "DataPointRows": "UL", "DataPointColumns": "UL", "Manufacturer": "LO",
            "ImplantName": "LO", "ImplantPartNumber": "LO", "InstanceCreationDate": "DA",
            "InstanceCreationTime": "TM", "SpecificCharacterSet": "CS"}
    n = 0
    for uid, name, _kw, kind, _ret, dcmtk in UIDS:
        if kind != "SOP Class" or dcmtk is None or "Storage" not in name or dcmtk in IMPLANT_TEMPLATES:
            continue
        ds = FileDataset(file_meta=Dataset())
        for keyword, vr in keys.items():
            ds.add_new(_tag(keyword), vr, values[vr])
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.VerificationFlag = "UNVERIFIED"
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "1", "DCM", "Meaning"
        ds.ConceptNameCodeSequence = [item]
        ds.SOPClassUID, ds.SOPInstanceUID = uid, f"1.2.3.4.{n}"
        ds.file_meta.add_new(0x00020002, "UI", uid)
        ds.file_meta.add_new(0x00020003, "UI", f"1.2.3.4.{n}")
        from dcmpy.dcmdata.writer import WriteOptions
        dcmwrite(folder / f"S{n:05d}", ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1"))
        out.append((f"S{n:05d}", folder / f"S{n:05d}"))
        n += 1
    return out


def _tag(keyword: str) -> int:
    from dcmpy.dcmdata.dictionary import get_dictionary
    return get_dictionary().tag_for_name(keyword)


def test_every_sop_class(tmp_path):
    """Record type and keys for every storage SOP class, refusals included (+Nrs: retired too)."""
    files = _sop_class_files(tmp_path / "src")
    assert len(files) > 150
    pair = Pair(tmp_path, files)
    pair.check(["+I", "+Nrs", *[n for n, _ in files]], compare_stderr=False)
    theirs, ours = pair.run(["-w", *[n for n, _ in files]])
    assert ours.rc == theirs.rc and ours.stderr == theirs.stderr, \
        compact_diff(theirs.stderr, ours.stderr)


@pytest.mark.parametrize("args", [
    ["+F", "MY_FILESET_1"], ["+F", ""], ["+R", "README"], ["+R", "DOCS/README", "+C", "ISO_IR 192"],
    ["-e"], ["+g"], ["-e", "+g"], ["-u"], ["-W"], ["+Ipi"], ["+Ipi", "+I"], ["-nb"],
], ids=lambda a: " ".join(a) or "default")
def test_options(tmp_path, corpus, args):
    src = tmp_path / "src"
    files = [("CT1", corpus / CT), ("MR1", corpus / MR),
             ("CT2", _ct_variant(corpus, src, "CT2", PatientName="Other^Name",
                                 SOPInstanceUID="1.2.3.2")),
             ("CT3", _ct_variant(corpus, src, "CT3", StudyDescription="Other", Modality="MR",
                                 SOPInstanceUID="1.2.3.3"))]
    pair = Pair(tmp_path / "run", files)
    pair.check(["-v", *args, "CT1", "MR1", "CT2", "CT3"])


def test_invented_values(tmp_path, corpus):
    """+I: invented IDs and numbers counted across the run, alternative study dates."""
    src = tmp_path / "src"
    gone = dict(InstanceNumber=None, SeriesNumber=None, StudyID=None, PatientID=None)
    files = [(f"CT{i}", _ct_variant(corpus, src, f"CT{i}", SOPInstanceUID=f"1.2.3.{i}", **gone,
                                    **extra))
             for i, extra in enumerate([
                 dict(StudyDate=None, StudyTime=None, SeriesDate="19990101", SeriesTime="111111"),
                 {},
                 dict(SeriesInstanceUID="1.2.4.5", StudyInstanceUID="1.2.4.6", PatientName="X",
                      StudyDate=None, StudyTime=None, SeriesDate=None, SeriesTime=None,
                      AcquisitionDate=None, AcquisitionTime=None, ContentDate="19970101",
                      ContentTime="131313"),
                 dict(SeriesInstanceUID="1.2.4.5", StudyInstanceUID="1.2.4.6", PatientName="X"),
                 dict(SeriesInstanceUID="1.2.4.7")])]
    pair = Pair(tmp_path / "run", files)
    pair.check(["+I", *[n for n, _ in files]])
    pair.check(["+I", "-W", *[n for n, _ in files]])


def test_duplicates_and_inconsistencies(tmp_path, corpus):
    src = tmp_path / "src"
    files = [("CT1", corpus / CT),
             ("CT2", _ct_variant(corpus, src, "CT2", AccessionNumber="ACC", StudyID="OTHER",
                                 StudyDescription="", PatientName="", SOPInstanceUID="1.2.3.2")),
             ("CT3", _ct_variant(corpus, src, "CT3", PatientName="A\\B", ImageType="X",
                                 InstanceNumber="77"))]
    Pair(tmp_path / "warn", files).check(["CT1", "CT2", "CT3", "CT3"])
    Pair(tmp_path / "abort", files).check(["-a", "CT1", "CT2", "CT3"])   # nothing written, exit 1


@pytest.mark.parametrize("args", [["-a", "CT1", "CT2"], ["-w", "CT1"], ["NOSUCH"]],
                         ids=["abort", "discard", "no good files"])
def test_existing_dicomdir_survives(tmp_path, corpus, args):
    """Deliberate difference: when no DICOMDIR is written (-a on an inconsistent file, -w, no
    good files), DCMTK 3.6.7 has already renamed the existing DICOMDIR to DICOMDIR.BAK and leaves
    it there, so the file-set has no DICOMDIR any more. We leave the existing DICOMDIR as it was
    (our writes are atomic: the backup is only a copy, removed again)."""
    files = [("CT1", corpus / CT),
             ("CT2", _ct_variant(corpus, tmp_path / "src", "CT2", PatientName="Other^Name",
                                 SOPInstanceUID="1.2.3.2")), ("MR1", corpus / MR)]
    pair = Pair(tmp_path / "run", files)
    for side in (pair.theirs, pair.ours):
        assert run(dcmtk_cmd("dcmgpdir", ["MR1"]), cwd=side).rc == 0
    before = (pair.ours / "DICOMDIR").read_bytes()
    theirs, ours = pair.run(args)
    assert ours.rc == theirs.rc
    assert sorted(p.name for p in pair.theirs.iterdir()) == ["CT1", "CT2", "DICOMDIR.BAK", "MR1"]
    assert sorted(p.name for p in pair.ours.iterdir()) == ["CT1", "CT2", "DICOMDIR", "MR1"]
    assert (pair.ours / "DICOMDIR").read_bytes() == before


def test_append_and_update(tmp_path, corpus):
    src = tmp_path / "src"
    files = [("CT1", corpus / CT), ("MR1", corpus / MR),
             ("CT2", _ct_variant(corpus, src, "CT2", StudyDescription="New", PatientName="Changed",
                                 SOPInstanceUID="1.2.3.2"))]
    for mode in ("+A", "+U"):
        # both start from DCMTK's DICOMDIR of CT1, then DCMTK's and ours append/update
        pair = Pair(tmp_path / mode, files)
        assert run(dcmtk_cmd("dcmgpdir", ["CT1"]), cwd=pair.theirs).rc == 0
        shutil.copyfile(pair.theirs / "DICOMDIR", pair.ours / "DICOMDIR")
        uid = dcmread(pair.ours / "DICOMDIR").file_meta[0x00020003].value
        pair.check(["-v", mode, "CT2", "MR1", "CT1"])
        assert dcmread(pair.ours / "DICOMDIR").file_meta[0x00020003].value == uid
        assert not (pair.ours / "DICOMDIR.BAK").exists()
        pair.check(["-v", mode, "CT1"], fresh=True)      # nothing to append to: exit 1


def test_dcmtk_appends_to_ours(tmp_path, corpus):
    """DCMTK reads what we write: its +A on our DICOMDIR equals its +A on its own."""
    files = [("CT1", corpus / CT), ("MR1", corpus / MR), ("SR1", corpus / SR)]
    pair = Pair(tmp_path, files)
    pair.check(["+I", "CT1", "SR1"])
    for side in (pair.theirs, pair.ours):
        r = run(dcmtk_cmd("dcmgpdir", ["+A", "MR1"]), cwd=side)
        assert r.rc == 0 and r.stderr == b""
    assert normalized_dump(pair.ours / "DICOMDIR") == normalized_dump(pair.theirs / "DICOMDIR")


def test_file_names_and_input_directory(tmp_path, corpus):
    files = [("ct1.dcm", corpus / CT), ("MR1.", corpus / MR), ("TOOLONGNAME", corpus / MR),
             ("A/B/C/D/E/F/G/H/MR9", corpus / MR), ("SUB/CT3", corpus / CT),
             ("ABC_x12345", corpus / CT), ("EMPTY", corpus / "hand__empty.dcm"),
             ("TEXT", corpus / "hand__text.txt")]
    pair = Pair(tmp_path, files)
    def check(args, **kw):
        return pair.check(args, fresh=True, **kw)
    check(["ct1.dcm", "MR1.", "TOOLONGNAME", "A/B/C/D/E/F/G/H/MR9", "ABC_x12345"])
    check(["+m", "ct1.dcm", "MR1."])
    check(["-v", "+id", "A", "+r"])
    check(["-v", "+id", "A/B", "+r", "C/D"])
    check(["-v", "+r", "+p", "MR*"])
    check(["SUB"])                        # a directory without +r: no input files
    check(["SUB/CT3", "NONEXIST"])        # one good file is enough
    check(["NOSUCH"])
    check(["+p", "X*", "SUB/CT3"])        # --pattern only with --recurse
    check(["/abs/CT3", "./CT3", "../CT3"])
    check(["+F", "bad id!", "SUB/CT3"])
    check(["+F", "ABCDEFGHIJKLMNOPQ", "SUB/CT3"])
    check(["+R", "readme", "SUB/CT3"])
    check(["-w", "-v", "SUB/CT3"])
    # an output folder that does not exist: DCMTK's words, less its line about its own temporary
    # file name (ours is another: a hidden name beside the target, see dcmpy.dcmdata.writer)
    theirs, ours = check(["SUB/CT3", "+D", "NODIR/DICOMDIR"], output="NODIR/DICOMDIR",
                         compare_stderr=False)
    assert [line for line in theirs.stderr.splitlines() if b"temporary file" not in line] == \
        ours.stderr.splitlines() and ours.rc == 1
    check(["SUB/CT3", "+D", "OUT"], output="OUT")


def test_transfer_syntax_profiles(tmp_path, corpus):
    names = ["pd__CT_small.dcm", "pd__MR_small_implicit.dcm", "pd__MR_small_bigendian.dcm",
             "cmp__rgb__jpeg_baseline.dcm", "pd__JPGExtended.dcm", "cmp__MR_small__jpeg_lossless.dcm",
             "pd__SC_rgb_jpeg_gdcm.dcm", "cmp__CT_small__jpls.dcm", "cmp__CT_small__j2k.dcm",
             "pd__JPEG2000.dcm", "cmp__CT_small__rle.dcm"]
    files = [(f"F{i:02d}", corpus / n) for i, n in enumerate(names)]
    pair = Pair(tmp_path, files)
    args = ["+I", *[n for n, _ in files]]
    pair.check(args)
    pair.check(["-Nxc", *args])
    for profile in ("-Pgp", "-Pdv", "-Pd2", "-Pbd", "-Pb2", "-Pfl", "-Pf2", "-Pmi"):
        pair.check([profile, *args], tool="dcmmkdir")


# ---------------------------------------------------------------------------------------------
# reading: the tree API against pydicom's FileSet, and broken DICOMDIRs

def _pydicom_tests() -> Path:
    import pydicom
    return Path(pydicom.__file__).resolve().parent / "data" / "test_files" / "dicomdirtests"


def _their_tree(nodes) -> list:
    return [(n.record_type, str(n.key), _their_tree(n.children)) for n in nodes]


def _our_tree(records) -> list:
    key = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID"}
    out = []
    for r in records:
        k = r.get(key[r.record_type]) if r.record_type in key else r.sop_instance_uid
        out.append((r.record_type, str(k), _our_tree(r.children)))
    return out


@pytest.mark.parametrize("name", ["DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit",
                                  "DICOMDIR-reordered", "DICOMDIR-nooffset", "TINY_ALPHA/DICOMDIR"])
def test_read_pydicom_dicomdirs(name):
    from pydicom.fileset import FileSet
    path = _pydicom_tests() / name
    ours = read_dicomdir(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = FileSet(path)
    assert _our_tree(ours.roots) == _their_tree(theirs._tree.children)
    paths = sorted(str(r.path) for r in ours.instances)
    assert paths == sorted(str(inst.path) for inst in theirs)
    assert all(r.path.exists() for r in ours.instances)
    for patient in ours.patients:
        for study in patient.studies:
            for series in study.series:
                for inst in series.instances:
                    assert inst.record_type == "IMAGE" and inst.parent is series


def test_read_ours_and_dcmtks(tmp_path, corpus):
    files = [("IMAGES/SR1", corpus / SR), ("IMAGES/CT1", corpus / CT), ("IMAGES/MR1", corpus / MR)]
    pair = Pair(tmp_path, files)
    pair.check(["+I", "+r", "IMAGES"])
    trees = [_our_tree(read_dicomdir(side / "DICOMDIR").roots) for side in (pair.theirs, pair.ours)]
    assert trees[0] == trees[1]
    d = read_dicomdir(pair.ours / "DICOMDIR")
    assert [p.PatientName for p in d.patients] == ["Test^S R", "CompressedSamples^CT1",
                                                  "CompressedSamples^MR1"]
    assert [r.record_type for r in d] == ["PATIENT", "STUDY", "SERIES", "SR DOCUMENT"] + \
        ["PATIENT", "STUDY", "SERIES", "IMAGE"] * 2
    assert [r.path for r in d.instances] == [pair.ours / "IMAGES" / n for n in ("SR1", "CT1", "MR1")]
    assert d.fileset_id == "DCMTK_MEDIA_DEMO"


def _dicomdir_bytes(tmp_path, corpus) -> tuple[bytes, list[int]]:
    folder = tmp_path / "good"
    populate(folder, [("CT1", corpus / CT), ("MR1", corpus / MR)])
    b = build_dicomdir(["CT1", "MR1"], folder / "DICOMDIR", report=lambda *_: None, root=folder)
    data = (folder / "DICOMDIR").read_bytes()
    offsets = [r.offset for r in read_dicomdir(folder / "DICOMDIR")]
    assert b.added == 2 and len(offsets) == 8
    return data, offsets


def _patch_offset(data: bytes, record_offset: int, tag: int, value: int) -> bytes:
    """Set the UL of (0004,xxxx) ``tag`` inside the record at ``record_offset``."""
    needle = struct.pack("<HH", 4, tag & 0xFFFF) + b"UL" + struct.pack("<H", 4)
    at = data.index(needle, record_offset)
    return data[:at + 8] + struct.pack("<I", value) + data[at + 12:]


# DCMTK 3.6.7's +A on each broken DICOMDIR: loops are refused (exit 1, with the DICOMDIR renamed
# to DICOMDIR.BAK and left so); everything else is taken with a warning and rewritten: the records
# behind a bad offset are dropped, and a CT image named DICOMDIR is overwritten by a new DICOMDIR
DCMTK_ON_BROKEN = {"nowhere": 0, "self_loop": 1, "loop": 1, "lower_loop": 1, "root_nowhere": 0,
                   "middle_of_record": 0, "not_dicomdir": 0, "truncated": 0}


@pytest.mark.parametrize("case", list(DCMTK_ON_BROKEN))
def test_broken_dicomdir(tmp_path, corpus, case):
    """Deliberate difference: a DICOMDIR whose offsets point at no record or loop, that is cut
    short or is no DICOMDIR is refused by read_dicomdir with a one-line error naming the offset,
    and by +A with that line, DCMTK's fatal line and exit code 1, the file left as it was; DCMTK
    refuses only the loops and rewrites the others, losing records (see DCMTK_ON_BROKEN)."""
    data, offs = _dicomdir_bytes(tmp_path, corpus)
    if case == "nowhere":
        data = _patch_offset(data, offs[0], 0x00041400, 999999)
    elif case == "self_loop":
        data = _patch_offset(data, offs[0], 0x00041400, offs[0])
    elif case == "loop":
        data = _patch_offset(data, offs[4], 0x00041400, offs[0])
    elif case == "lower_loop":
        data = _patch_offset(data, offs[2], 0x00041420, offs[1])
    elif case == "root_nowhere":
        data = _patch_offset(data, 0, 0x00041200, 12)
    elif case == "middle_of_record":
        data = _patch_offset(data, offs[0], 0x00041420, offs[1] + 8)
    elif case == "not_dicomdir":
        data = (corpus / CT).read_bytes()
    else:
        data = data[:offs[3] + 20]
    pair = Pair(tmp_path / "run", [("CT2", corpus / CT)])
    for side in (pair.theirs, pair.ours):
        (side / "DICOMDIR").write_bytes(data)
    with pytest.raises((DicomDirError, DicomError)) as info:
        read_dicomdir(pair.ours / "DICOMDIR")
    message = str(info.value)
    assert "\n" not in message and ("offset" in message or "DICOMDIR" in message), message
    theirs, ours = pair.run(["+A", "CT2"])
    assert theirs.rc == DCMTK_ON_BROKEN[case], theirs.stderr
    if theirs.rc == 0:
        assert (pair.theirs / "DICOMDIR").read_bytes() != data
    assert ours.rc == 1, ours.stderr
    lines = ours.stderr.decode().splitlines()
    assert lines == [f"E: {message}: reading file: DICOMDIR",
                     "F: dcmgpdir: error (Invalid DICOMDIR) appending file: DICOMDIR"]
    if theirs.rc == 1:
        assert theirs.stderr.decode().splitlines()[-1] == lines[-1]
    assert (pair.ours / "DICOMDIR").read_bytes() == data
    assert sorted(p.name for p in pair.ours.iterdir()) == ["CT2", "DICOMDIR"]


# ---------------------------------------------------------------------------------------------
# the library API and hostile input

def test_build_api(tmp_path, corpus, monkeypatch):
    populate(tmp_path, [("IMAGES/CT1", corpus / CT), ("IMAGES/MR1", corpus / MR),
                        ("IMAGES/SR1", corpus / SR)])
    monkeypatch.chdir(tmp_path)
    messages = []
    with pytest.raises(DicomDirBuildError) as info:
        build_dicomdir(["IMAGES/SR1"], "DICOMDIR", report=lambda *m: messages.append(m))
    assert str(info.value) == "no good files: DICOMDIR not created"
    assert ("error", "required attribute PatientID (0010,0020) empty in file: IMAGES/SR1") in messages
    assert not (tmp_path / "DICOMDIR").exists()
    b = build_dicomdir(["IMAGES/CT1", "IMAGES/MR1", "IMAGES/SR1"], "DICOMDIR",
                       BuildOptions(invent=True, fileset_id="API"), report=lambda *m: None)
    assert b.added == 3 and b.bad_files == []
    d = read_dicomdir(tmp_path / "DICOMDIR")
    assert d.fileset_id == "API" and len(d.patients) == 3
    assert [i.path.name for p in d.patients for s in p.studies for se in s.series
            for i in se.instances] == ["CT1", "MR1", "SR1"]
    assert d.patients[0].studies[0].series[0].instances[0].sop_class_uid == \
        dcmread(tmp_path / "IMAGES" / "CT1").SOPClassUID


def test_check_file_id():
    assert check_file_id("IMAGES/IM000001") == []
    assert check_file_id("A/B/C/D/E/F/G/H/I") == ["too many path components (max 8) in filename: "
                                                 "A/B/C/D/E/F/G/H/I"]
    assert check_file_id("a")[0].splitlines() == ["invalid character(s) in filename: a",
                                                 " " * 34 + "^"]
    for hostile in ("../X", "/etc/X", "A//B", "A/", "A\\B", "A B", "\x00", "É"):
        assert check_file_id(hostile), hostile


def test_symlink_loop_is_scanned_once(tmp_path, corpus):
    """A symbolic link back to a parent directory: +r reads each directory once and ends."""
    populate(tmp_path, [("D/CT1", corpus / CT)])
    os.symlink("..", tmp_path / "D" / "UP")
    r = run(our_cmd("dcmgpdir", ["+r", "D"]), cwd=tmp_path, timeout=60)
    assert r.rc == 0, r.stderr
    d = read_dicomdir(tmp_path / "DICOMDIR")
    assert [i.file_id for i in d.instances] == [("D", "CT1")]


def test_hostile_file_ids_in_dicomdir(tmp_path, corpus):
    """A DICOMDIR whose file ID climbs out of the file-set: the path is not followed out."""
    data, offs = _dicomdir_bytes(tmp_path, corpus)
    at = data.index(struct.pack("<HH", 4, 0x1500) + b"CS" + struct.pack("<H", 4) + b"CT1 ") + 8
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "DICOMDIR").write_bytes(data[:at] + b"..\\X" + data[at + 4:])
    with pytest.raises(DicomDirError) as info:
        [r.path for r in read_dicomdir(folder / "DICOMDIR").instances]
    assert "file ID" in str(info.value)
