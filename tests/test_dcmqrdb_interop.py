"""Our index's C-FIND answers against DCMTK's dcmqrscp on the same files.

DCMTK's ``dcmqrscp`` (default fork mode; ``-s`` crashes in 3.6.7) receives every file through
``storescu``; the same files go into our index (SQLite and PostgreSQL). Each query runs through
DCMTK's ``findscu -X`` and through ``Index.find``; our responses are encoded and read back (as an
SCP would send them) and the two sets of responses must be equal, value for value, including the
Specific Character Set chosen for each. The queries use only keys DCMTK supports.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import _corpus
from test_dcmqrdb_support import (DcmtkArchive, generate, identifier, pg_url,  # noqa: F401
                                  response_values, write_files)

CORPUS = ["pd__CT_small.dcm", "pd__MR_small.dcm", "pd__rtplan.dcm", "pd__rtdose.dcm",
          "pd__rtstruct.dcm", "pd__test-SR.dcm", "pd__waveform_ecg.dcm",
          "pd__ExplVR_BigEnd.dcm", "pd__image_dfl.dcm"]
MODELS = {"-P": "patient", "-S": "study", "-O": "psonly"}
CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
GEN_STUDY = "1.2.826.0.1.3680043.9.7391.2.1.2"

# (id, findscu model option, keys as findscu -k takes them; bytes for non-ASCII values)
QUERIES = [
    ("study_universal", "-S", ["QueryRetrieveLevel=STUDY", "PatientName", "PatientID",
                               "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber",
                               "StudyID", "StudyDescription", "ReferringPhysicianName"]),
    ("study_name_star", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=*", "StudyInstanceUID"]),
    ("study_name_prefix", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=Patient*", "StudyInstanceUID"]),
    ("study_name_question", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=Patient00?^Test",
                                   "StudyInstanceUID"]),
    ("study_name_exact", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=CompressedSamples^CT1",
                                "StudyInstanceUID"]),
    ("study_name_percent", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=pat_*%x", "StudyInstanceUID"]),
    ("study_name_underscore_literal", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=pat?3*",
                                             "StudyInstanceUID"]),
    ("study_name_apostrophe", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=O'Brien*",
                                     "StudyInstanceUID"]),
    ("no_match_case", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=patient*", "StudyInstanceUID"]),
    ("study_description_percent", "-S", ["QueryRetrieveLevel=STUDY", "StudyDescription=*50%*",
                                         "StudyInstanceUID"]),
    ("study_description_underscore", "-S", ["QueryRetrieveLevel=STUDY", "StudyDescription=Abdomen_*",
                                            "StudyInstanceUID"]),
    ("study_date_range", "-S", ["QueryRetrieveLevel=STUDY", "StudyDate=20110301-20110631",
                                "StudyInstanceUID"]),
    ("study_date_upto", "-S", ["QueryRetrieveLevel=STUDY", "StudyDate=-20110215", "StudyInstanceUID"]),
    ("study_date_from", "-S", ["QueryRetrieveLevel=STUDY", "StudyDate=20110501-", "StudyInstanceUID"]),
    ("study_date_single", "-S", ["QueryRetrieveLevel=STUDY", "StudyDate=20040119", "StudyInstanceUID"]),
    ("study_time_range", "-S", ["QueryRetrieveLevel=STUDY", "StudyTime=050000-103000", "StudyDate",
                                "StudyInstanceUID"]),
    ("study_uid_list", "-S", ["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={CT_STUDY}\\{GEN_STUDY}",
                              "PatientName"]),
    ("study_accession", "-S", ["QueryRetrieveLevel=STUDY", "AccessionNumber=ACC0020*", "StudyInstanceUID"]),
    ("study_referring_latin1", "-S", ["SpecificCharacterSet=ISO_IR 100", "QueryRetrieveLevel=STUDY",
                                      "ReferringPhysicianName=M\u00fcller*".encode("latin-1"),
                                      "StudyInstanceUID"]),
    ("study_name_latin1", "-S", ["SpecificCharacterSet=ISO_IR 100", "QueryRetrieveLevel=STUDY",
                                 "PatientName=Jos\u00e9*".encode("latin-1"), "StudyInstanceUID"]),
    ("study_patient_keys", "-S", ["QueryRetrieveLevel=STUDY", "PatientID=PID0001", "PatientBirthDate",
                                  "PatientSex", "StudyInstanceUID"]),
    ("patient_all", "-P", ["QueryRetrieveLevel=PATIENT", "PatientName", "PatientID", "PatientBirthDate",
                           "PatientSex"]),
    ("patient_sex", "-P", ["QueryRetrieveLevel=PATIENT", "PatientSex=F", "PatientID"]),
    ("patient_birth_range", "-P", ["QueryRetrieveLevel=PATIENT", "PatientBirthDate=19500101-19521231",
                                   "PatientID", "PatientName"]),
    ("patient_root_study", "-P", ["QueryRetrieveLevel=STUDY", "PatientID=PID0002", "StudyInstanceUID",
                                  "StudyDate"]),
    ("series_of_study", "-S", ["QueryRetrieveLevel=SERIES", f"StudyInstanceUID={GEN_STUDY}",
                               "SeriesInstanceUID", "Modality", "SeriesNumber"]),
    ("series_modality", "-S", ["QueryRetrieveLevel=SERIES", f"StudyInstanceUID={GEN_STUDY}",
                               "Modality=MR", "SeriesInstanceUID"]),
    ("series_ct_study", "-S", ["QueryRetrieveLevel=SERIES", f"StudyInstanceUID={CT_STUDY}",
                               "SeriesInstanceUID", "Modality"]),
    ("image_of_series", "-S", ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={GEN_STUDY}",
                               f"SeriesInstanceUID={GEN_STUDY.replace('.2.1.2', '.3.1.2.1')}",
                               "SOPInstanceUID", "InstanceNumber"]),
    ("image_number", "-S", ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={GEN_STUDY}",
                            f"SeriesInstanceUID={GEN_STUDY.replace('.2.1.2', '.3.1.2.0')}",
                            "InstanceNumber=2", "SOPInstanceUID"]),
    ("patient_root_image", "-P", ["QueryRetrieveLevel=IMAGE", "PatientID=PID0001",
                                  f"StudyInstanceUID={GEN_STUDY}",
                                  f"SeriesInstanceUID={GEN_STUDY.replace('.2.1.2', '.3.1.2.1')}",
                                  "SOPInstanceUID"]),
    ("psonly_patient", "-O", ["QueryRetrieveLevel=PATIENT", "PatientName=*^Test", "PatientID"]),
    ("psonly_study", "-O", ["QueryRetrieveLevel=STUDY", "PatientID=PID0003", "StudyInstanceUID",
                            "StudyDescription"]),
    ("charset_files", "-S", ["QueryRetrieveLevel=STUDY", "PatientID=*EXAMPLE*", "PatientName",
                             "StudyInstanceUID"]),
    ("charset_files_request_utf8", "-S", ["SpecificCharacterSet=ISO_IR 192", "QueryRetrieveLevel=STUDY",
                                          "PatientID=*EXAMPLE*", "PatientName", "StudyInstanceUID"]),
    ("no_match", "-S", ["QueryRetrieveLevel=STUDY", "PatientName=Nobody", "StudyInstanceUID"]),
]


@pytest.fixture(scope="module")
def archive_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("qr-files")
    corpus = _corpus.ensure_corpus()
    files = [corpus / name for name in CORPUS]
    files += [p for p in sorted(corpus.glob("cs__*.dcm")) if _indexable(p)]
    generated = [ds for _, ds in generate(4, 3, 2, 3)]
    return files + write_files(folder, generated)


def _indexable(path: Path) -> bool:
    from dcmpy.dcmdata.reader import dcmread
    from dcmpy.dcmqrdb.record import RecordError, extract
    try:
        extract(dcmread(str(path)))
    except RecordError:
        return False
    return True


@pytest.fixture(scope="module")
def dcmtk(archive_files, tmp_path_factory):
    archive = DcmtkArchive(tmp_path_factory.mktemp("dcmtk-qr"))
    try:
        archive.store(archive_files)
        yield archive
    finally:
        archive.stop()


@pytest.fixture(scope="module")
def our_indexes(archive_files, tmp_path_factory, request):
    from dcmpy.dcmqrdb.index import Index
    made = {}

    def get(kind: str):
        if kind not in made:
            area = tmp_path_factory.mktemp(f"ours-{kind}")
            target = str(area) if kind == "sqlite" else request.getfixturevalue("pg_url")
            index = Index.open(target, root=str(area))
            for path in archive_files:
                index.store(str(path))
            made[kind] = index
        return made[kind]
    yield get
    for index in made.values():
        index.close()


def _identifier(keys: list):
    values, charset, level = {}, None, None
    for key in keys:
        text = key.decode("latin-1") if isinstance(key, bytes) else key
        name, _, value = text.partition("=")
        if name == "SpecificCharacterSet":
            charset = value
        elif name == "QueryRetrieveLevel":
            level = value
        else:
            values[name] = value or None
    return identifier(level, values, charset)


def _roundtrip(ds):
    """Encode a response as the SCP sends it and read it back."""
    from dcmpy.dcmdata.reader import ReadOptions, dcmread
    from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
    data = dcmwrite(None, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", write_meta=False))
    return dcmread(data, ReadOptions(read_mode="dataset", transfer_syntax="1.2.840.10008.1.2.1"))


def _frozen(responses) -> list:
    return sorted((tuple(sorted(response_values(r).items())) for r in responses), key=repr)


_JAPANESE = {("", "ISO 2022 IR 87"), ("", "ISO 2022 IR 159"), ("ISO 2022 IR 13", "ISO 2022 IR 87"),
             ("ISO 2022 IR 6", "ISO 2022 IR 87")}


def _japanese_kept(ours: list, theirs: list) -> tuple[list, list]:
    """DCMTK's iconv build cannot convert ISO 2022 IR 87/159: it answers in the stored character
    set whatever was asked (UTF-8 in the request, or ASCII when the answer needs no character set
    at all); we convert. Those rows are compared by their decoded values, without (0008,0005)."""
    def bare(row: tuple) -> tuple:
        return tuple(kv for kv in row if kv[0] != 0x00080005)
    japanese = {bare(r) for r in theirs if dict(r).get(0x00080005) in _JAPANESE}
    return (sorted((bare(r) if bare(r) in japanese else r for r in ours), key=repr),
            sorted((bare(r) if bare(r) in japanese else r for r in theirs), key=repr))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name,model,keys", QUERIES, ids=[q[0] for q in QUERIES])
def test_find_matches_dcmtk(name, model, keys, backend, dcmtk, our_indexes, tmp_path):
    found, log = dcmtk.find(model, keys, tmp_path / "dcmtk")
    theirs = _frozen(found)
    index = our_indexes(backend)
    ours = _frozen(_roundtrip(r) for r in index.find(MODELS[model], None, _identifier(keys),
                                                       retrieve_ae=dcmtk.aetitle))
    if name == "charset_files_request_utf8":
        japanese = {dict(r)[0x0020000D] for r in theirs if dict(r).get(0x00080005) in _JAPANESE}
        assert japanese and all(dict(r).get(0x00080005) == "ISO_IR 192" for r in ours
                                if dict(r)[0x0020000D] in japanese)
    ours, theirs = _japanese_kept(ours, theirs)
    assert ours == theirs, (f"only ours: {[r for r in ours if r not in theirs][:3]}\n"
                            f"only DCMTK's: {[r for r in theirs if r not in ours][:3]}\n{log}")
    assert bool(theirs) != name.startswith("no_match")


def test_queries_use_keys_dcmtk_supports():
    """The comparison is fair: every key asked is one DCMTK's dcmqrscp matches and returns."""
    from dcmpy.dcmdata.dictionary import get_dictionary
    from dcmpy.dcmqrdb.keys import DCMTK_KEYS
    supported = {tag for tags in DCMTK_KEYS.values() for tag in tags} | {0x00080005, 0x00080052}
    for _, _, keys in QUERIES:
        for key in keys:
            text = key.decode("latin-1") if isinstance(key, bytes) else key
            assert get_dictionary().tag_for_name(text.partition("=")[0]) in supported, text


def test_dcmtk_storage_area_names(dcmtk):
    """DCMTK names received files <MOD>_<16 hex>.dcm; our storage areas use the same pattern."""
    from dcmpy.dcmqrdb.storage import STORED_NAME
    names = [p.name for p in dcmtk.area.iterdir() if p.name != "index.dat"]
    assert names and all(STORED_NAME.match(n) for n in names), names[:5]
