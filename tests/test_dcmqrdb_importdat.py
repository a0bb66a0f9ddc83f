"""DCMTK's index.dat (dcmpy.dcmqrdb.importdat) and our dcmqridx against DCMTK's.

index.dat files are made for real: by DCMTK's dcmqrscp receiving files from storescu (one of
them twice, which leaves a deleted slot) and by DCMTK's dcmqridx. Imported into our index, the
storage area must answer the same queries as DCMTK's dcmqrscp serving it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import _corpus, dcmtk_cmd, our_cmd, run
from dcmpy.dcmqrdb.importdat import IndexDatError, import_index_dat, read_index_dat
from test_dcmqrdb_support import DcmtkArchive, generate, identifier, open_index, response_values, write_files

QUERIES = [
    ("-S", "STUDY", {"PatientName": None, "PatientID": None, "StudyInstanceUID": None, "StudyDate": None}),
    ("-S", "STUDY", {"PatientName": "Patient*", "StudyInstanceUID": None, "AccessionNumber": None}),
    ("-P", "PATIENT", {"PatientID": None, "PatientName": None, "PatientSex": None}),
    ("-S", "SERIES", {"StudyInstanceUID": "1.2.826.0.1.3680043.9.7391.2.1.1", "SeriesInstanceUID": None,
                      "Modality": None}),
]


@pytest.fixture(scope="module")
def dcmtk_area(tmp_path_factory):
    """A storage area filled by DCMTK's dcmqrscp, and that archive still running."""
    folder = tmp_path_factory.mktemp("dcmtk-import")
    files = write_files(folder / "in", [ds for _, ds in generate(3, 2, 2, 2)])
    corpus = _corpus.ensure_corpus()
    files += [corpus / "pd__CT_small.dcm", corpus / "pd__MR_small.dcm", corpus / "cs__chrFren.dcm"]
    archive = DcmtkArchive(folder)
    try:
        archive.store(files)
        archive.store(files[:1])                   # a duplicate: DCMTK empties the old record's slot
        yield archive, files
    finally:
        archive.stop()


def _as_dcmtk_keys(level: str, keys: dict) -> list[str]:
    return [f"QueryRetrieveLevel={level}"] + [k if v is None else f"{k}={v}" for k, v in keys.items()]


def test_read_index_dat_of_dcmqrscp(dcmtk_area):
    archive, files = dcmtk_area
    records = read_index_dat(str(archive.area / "index.dat"))
    assert len(records) == len(files)     # the duplicate's old slot was emptied and reused
    assert len({r.sop_instance for r in records}) == len(records)
    assert all(Path(r.filename).parent == archive.area and Path(r.filename).exists() for r in records)
    assert {r.modality for r in records} >= {"CT", "MR"} and all(r.is_new for r in records)
    assert all(r.image_size == Path(r.filename).stat().st_size for r in records)


@pytest.mark.parametrize("model,level,keys", QUERIES, ids=[q[1] + str(i) for i, q in enumerate(QUERIES)])
def test_imported_area_answers_as_dcmtk(dcmtk_area, model, level, keys, tmp_path):
    archive, files = dcmtk_area
    area = tmp_path / "copy"
    shutil.copytree(archive.area, area)
    index = open_index(None, area)
    report = import_index_dat(str(area / "index.dat"), index)
    assert len(report.imported) == len(files) and not report.missing and not report.failed
    # DCMTK wrote absolute names into its own area: the copy's files are the originals' twins
    theirs, log = archive.find(model, _as_dcmtk_keys(level, keys), tmp_path / "rsp")
    ours = list(index.find({"-S": "study", "-P": "patient"}[model], level, identifier(level, keys),
                           retrieve_ae=archive.aetitle))
    assert sorted(map(repr, map(response_values, ours))) == sorted(map(repr, map(response_values, theirs))), log
    assert theirs
    index.close()


def test_index_dat_from_dcmqridx(tmp_path):
    """DCMTK's dcmqridx registers files where they are, with relative names as given."""
    area = tmp_path / "area"
    area.mkdir()
    write_files(area, [make for _, make in generate(1, 1, 1, 3)])
    r = run(dcmtk_cmd("dcmqridx", [".", "gen00000.dcm", "gen00001.dcm", "gen00002.dcm"]), cwd=area)
    assert r.rc == 0, r.stderr
    records = read_index_dat(str(area / "index.dat"))
    assert [r.filename for r in records] == ["gen00000.dcm", "gen00001.dcm", "gen00002.dcm"]
    r = run(our_cmd("dcmqridx", ["-v", "+id", area]))
    assert r.rc == 0 and b"I: imported 3 of the files named in" in r.stderr, r.stderr
    index = open_index(None, area)
    assert index.counts()["instances"] == 3
    assert sorted(Path(p).name for p in index.paths()) == ["gen00000.dcm", "gen00001.dcm", "gen00002.dcm"]
    index.close()


@pytest.mark.parametrize("damage,message", [
    (lambda d: b"XXXX" + d[4:], "not a DCMTK index file (offset 0"),
    (lambda d: d[:4] + b"04" + d[6:], "index file format b'04' (offset 4)"),
    (lambda d: d[:-100], "truncated index file"),
    (lambda d: d[:44006 + 3] + b"x" * 300 + d[44006 + 303:], "file name not terminated"),
    (lambda d: b"", "not a DCMTK index file"),
])
def test_damaged_index_dat(dcmtk_area, tmp_path, damage, message):
    archive, _ = dcmtk_area
    data = (archive.area / "index.dat").read_bytes()
    bad = tmp_path / "index.dat"
    bad.write_bytes(damage(data))
    with pytest.raises(IndexDatError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        read_index_dat(str(bad))
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)
    r = run(our_cmd("dcmqridx", ["+id", tmp_path]))
    assert r.rc == 0 and r.stderr.startswith(b"E: " + str(bad).encode()), r.stderr


def test_import_reports_missing_files(dcmtk_area, tmp_path):
    archive, files = dcmtk_area
    area = tmp_path / "copy"
    shutil.copytree(archive.area, area)
    victim = read_index_dat(str(area / "index.dat"))[0].filename
    index = open_index(None, area)
    Path(victim).rename(Path(victim).with_suffix(".gone"))
    try:
        report = import_index_dat(str(area / "index.dat"), index)
    finally:
        Path(victim).with_suffix(".gone").rename(victim)
    assert report.missing == [victim] and len(report.imported) == len(files) - 1
    index.close()


# ---------------------------------------------------------------------------------------------
# the dcmqridx tool

def test_dcmqridx_like_dcmtk(tmp_path):
    corpus = _corpus.ensure_corpus()
    good = corpus / "pd__CT_small.dcm"
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    no_uids = corpus / "pd__nested_priv_SQ.dcm"
    args = [junk, tmp_path / "missing.dcm", good, no_uids]
    results = {}
    for tool, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        area = tmp_path / tool
        area.mkdir()
        results[tool] = run(cmd("dcmqridx", [area, *args]))
    for result in results.values():
        assert result.rc == 0
        lines = [line for line in result.stderr.decode().splitlines() if line.startswith("E: ")]
        assert [line.split(": ")[1] for line in lines] == ["cannot load dicom file", "cannot access",
                                                          "cannot load dicom file"], result.stderr
        assert str(junk) in lines[0] and str(no_uids) in lines[2]
    listing = run(our_cmd("dcmqridx", ["-p", tmp_path / "ours"]))
    assert listing.rc == 0 and listing.stdout.startswith(b"-- DB Index File --\n")
    assert f"  Filename: {good}\n".encode() in listing.stdout
    assert b'    PatientName: "CompressedSamples^CT1"' in listing.stdout
    assert listing.stdout.count(b"RECORD NUMBER:") == 1 and listing.stdout.count(b"STUDY DESCRIPTOR:") == 1


def test_dcmqridx_missing_area(tmp_path):
    for cmd in (dcmtk_cmd, our_cmd):
        r = run(cmd("dcmqridx", [tmp_path / "nodir", tmp_path / "x.dcm"]))
        assert r.rc == 1 and r.stderr.startswith(b"E: " + str(tmp_path / "nodir").encode()), r.stderr


def test_dcmqridx_help_matches_dcmtk():
    ours = run(our_cmd("dcmqridx", ["--help"])).stdout.decode().splitlines()
    theirs = run(dcmtk_cmd("dcmqridx", ["--help"])).stdout.decode().splitlines()
    extra = ["                     (accepted for compatibility: dcmpy keeps no reviewed status)"]
    assert [line for line in ours[1:] if line not in extra][:len(theirs) - 2] == theirs[1:-1]
