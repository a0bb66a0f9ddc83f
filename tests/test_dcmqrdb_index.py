"""The index (dcmpy.dcmqrdb.index) on SQLite and on PostgreSQL: store, find, locate, quotas,
hierarchical rules, character sets, sequences, and concurrent stores and queries.

Every test runs on both databases (the ``backend`` fixture). Generated archives are checked
against a brute-force evaluation of the same query over the generator's own values.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dcmpy.dcmqrdb.config import Quota
from dcmpy.dcmqrdb.index import QuotaExceeded
from dcmpy.dcmqrdb.keys import QueryError
from dcmpy.dcmqrdb.matching import parse_condition
from test_dcmqrdb_support import (backend, generate, identifier, make_dataset, open_index,  # noqa: F401
                                  pg_url)

SHAPE = (6, 5, 4, 10)        # patients, studies each, series each, instances each: 1,200


def _store_generated(index, shape=SHAPE, size=1000):
    values = {}
    for numbers, ds in generate(*shape):
        index.store(f"{index.root}/{'_'.join(map(str, numbers))}.dcm", ds, size=size,
                    transfer_syntax="1.2.840.10008.1.2.1")
        values[numbers] = ds
    return values


@pytest.fixture(scope="module")
def _generated_cache(tmp_path_factory):
    made: dict = {}
    yield made, tmp_path_factory
    for index, _ in made.values():
        index.close()


@pytest.fixture
def generated(backend, _generated_cache):
    """A generated archive per database, shared by the tests of this module (read only)."""
    made, factory = _generated_cache
    if backend not in made:
        index = open_index(backend, factory.mktemp("generated"))
        made[backend] = index, _store_generated(index)
    return made[backend]


def _studies(values: dict) -> dict[str, object]:
    """Study UID -> the first data set stored for it (whose values the study keeps)."""
    out = {}
    for numbers in sorted(values):
        out.setdefault(values[numbers].StudyInstanceUID, values[numbers])
    return out


# (keys of a STUDY level query, the keyword and VR each is matched on)
STUDY_QUERIES = [
    {"PatientName": "Patient*"},
    {"PatientName": "*^1"},
    {"PatientName": "pat_?%x"},
    {"StudyDate": "20110301-20110630"},
    {"StudyDate": "-20110215", "PatientSex": "F"},
    {"StudyTime": "050000-103000"},
    {"AccessionNumber": "ACC003*"},
    {"StudyDescription": "*50%*"},
    {"StudyDescription": "Abdomen_*"},
    {"ReferringPhysicianName": "M\u00fcller^Hans"},
    {"PatientID": "PID0002", "StudyID": "S3"},
    {"StudyInstanceUID": "1.2.826.0.1.3680043.9.7391.2.1.2\\1.2.826.0.1.3680043.9.7391.2.4.0"},
]
_VR = {"PatientName": "PN", "StudyDate": "DA", "StudyTime": "TM", "AccessionNumber": "SH",
       "StudyDescription": "LO", "ReferringPhysicianName": "PN", "PatientID": "LO", "StudyID": "SH",
       "PatientSex": "CS", "StudyInstanceUID": "UI"}


@pytest.mark.parametrize("keys", STUDY_QUERIES, ids=lambda k: "+".join(f"{a}={b}" for a, b in k.items()))
def test_study_queries_against_brute_force(generated, keys):
    index, values = generated
    expected = set()
    for uid, ds in _studies(values).items():
        if all(parse_condition(0, _VR[k], v).matches(getattr(ds, k)) for k, v in keys.items()):
            expected.add(uid)
    query = identifier("STUDY", {**keys, "StudyInstanceUID": keys.get("StudyInstanceUID")})
    got = [r.StudyInstanceUID for r in index.find("study", None, query)]
    assert len(got) == len(set(got)) and set(got) == expected
    assert expected, "the query should match something"


def test_levels_counts_and_locate(generated):
    index, values = generated
    assert index.counts() == {"patients": 6, "studies": 30, "series": 120, "instances": 1200,
                              "bytes": 1_200_000}
    study = values[(2, 3, 0, 0)].StudyInstanceUID
    q = identifier("STUDY", {"StudyInstanceUID": study, "ModalitiesInStudy": None,
                             "NumberOfStudyRelatedSeries": None, "NumberOfStudyRelatedInstances": None,
                             "SOPClassesInStudy": None, "PatientName": None})
    (rsp,) = list(index.find("study", None, q))
    assert rsp.ModalitiesInStudy == ["CT", "MR", "US"]
    assert (rsp.NumberOfStudyRelatedSeries, rsp.NumberOfStudyRelatedInstances) == ("4", "40")
    assert rsp.SOPClassesInStudy == ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"]
    assert rsp.PatientName == "Jos\u00e9^2" and rsp.QueryRetrieveLevel == "STUDY"
    series = list(index.find("study", None, identifier("SERIES", {"StudyInstanceUID": study,
                                                                  "SeriesInstanceUID": None,
                                                                  "NumberOfSeriesRelatedInstances": None})))
    assert len(series) == 4 and all(s.NumberOfSeriesRelatedInstances == "10" for s in series)
    assert len(index.locate("study", "STUDY", identifier(None, {"StudyInstanceUID": study}))) == 40
    patient = identifier(None, {"PatientID": "PID0003"})
    refs = index.locate("patient", "PATIENT", patient)
    assert len(refs) == 200 and {r.transfer_syntax for r in refs} == {"1.2.840.10008.1.2.1"}
    assert all(Path(r.path).parent == Path(index.root) for r in refs)
    one = values[(1, 1, 1, 7)]
    (ref,) = index.locate("study", "IMAGE", identifier(None, {
        "StudyInstanceUID": one.StudyInstanceUID, "SeriesInstanceUID": one.SeriesInstanceUID,
        "SOPInstanceUID": one.SOPInstanceUID}))
    assert (ref.sop_instance, ref.sop_class, ref.size) == (one.SOPInstanceUID, one.SOPClassUID, 1000)
    assert ref.path.endswith("1_1_1_7.dcm")
    q = identifier("PATIENT", {"PatientID": None, "NumberOfPatientRelatedStudies": None,
                               "NumberOfPatientRelatedInstances": None})
    patients = list(index.find("patient", None, q))
    assert len(patients) == 6 and {(p.NumberOfPatientRelatedStudies, p.NumberOfPatientRelatedInstances)
                                   for p in patients} == {("5", "200")}


def test_store_is_idempotent_and_replaces(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    removed = []
    first = index.store(str(tmp_path / "a" / "one.dcm"), make_dataset(1, 1, 1, 1), size=10)
    again = index.store(str(tmp_path / "a" / "one.dcm"), make_dataset(1, 1, 1, 1), size=10)
    moved = index.store(str(tmp_path / "a" / "two.dcm"), make_dataset(1, 1, 1, 1), size=20,
                        unlink=removed.extend)
    assert not first.replaced and again.replaced and again.removed == [] and moved.replaced
    assert removed == [str(tmp_path / "a" / "one.dcm")] == moved.removed
    assert index.counts()["instances"] == 1 and index.counts()["bytes"] == 20
    assert list(index.paths()) == [str(tmp_path / "a" / "two.dcm")]
    index.close()


def test_quota_deletes_oldest_study(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    gone = []
    quota = Quota(2, 1000)
    for study, when in ((1, 10.0), (2, 20.0), (3, 30.0)):
        index.store(f"{index.root}/s{study}.dcm", make_dataset(1, study, 1, 1), size=100, quota=quota,
                    unlink=gone.extend, now=when)
    assert gone == [f"{index.root}/s1.dcm"]
    assert [s[0] for s in index.studies()] == [make_dataset(1, 2, 1, 1).StudyInstanceUID,
                                              make_dataset(1, 3, 1, 1).StudyInstanceUID]
    # a study over its size quota loses its oldest instances
    for n in range(2, 12):
        index.store(f"{index.root}/s3-{n}.dcm", make_dataset(1, 3, 1, n), size=100, quota=quota,
                    unlink=gone.extend, now=30.0 + n)
    study3 = [s for s in index.studies() if s[0] == make_dataset(1, 3, 1, 1).StudyInstanceUID][0]
    assert study3[1:3] == (10, 1000)
    assert gone == [f"{index.root}/s1.dcm", f"{index.root}/s3.dcm"]
    with pytest.raises(QuotaExceeded, match="exceeds the quota"):
        index.store(f"{index.root}/big.dcm", make_dataset(1, 9, 1, 1), size=1001, quota=quota)
    assert index.counts()["studies"] == 2
    index.close()


def test_quota_reject_policy(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    quota = Quota(1, 250)
    index.store(f"{index.root}/a.dcm", make_dataset(1, 1, 1, 1), size=100, quota=quota, policy="reject")
    with pytest.raises(QuotaExceeded, match="quota is 1"):
        index.store(f"{index.root}/b.dcm", make_dataset(1, 2, 1, 1), size=100, quota=quota, policy="reject")
    index.store(f"{index.root}/c.dcm", make_dataset(1, 1, 1, 2), size=100, quota=quota, policy="reject")
    with pytest.raises(QuotaExceeded, match="study would hold 300 bytes"):
        index.store(f"{index.root}/d.dcm", make_dataset(1, 1, 1, 3), size=100, quota=quota, policy="reject")
    assert index.counts()["instances"] == 2 and index.counts()["bytes"] == 200
    index.close()


def test_hierarchical_rules(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    ds = make_dataset(1, 1, 1, 1)
    index.store(f"{index.root}/x.dcm", ds, size=1)
    series_query = identifier("SERIES", {"SeriesInstanceUID": None, "PatientName": "O*"})
    with pytest.raises(QueryError, match=r"missing \(hierarchical query\)"):
        list(index.find("study", None, identifier("SERIES", {"SeriesInstanceUID": None}), strict=True))
    with pytest.raises(QueryError, match="is not a unique key"):
        list(index.find("study", None, identifier("SERIES", {"StudyInstanceUID": ds.StudyInstanceUID,
                                                             "PatientName": None}), strict=True))
    with pytest.raises(QueryError, match="below the Query/Retrieve Level"):
        list(index.find("study", None, identifier("STUDY", {"SOPInstanceUID": None}), strict=True))
    with pytest.raises(QueryError, match="missing Query/Retrieve Level"):
        list(index.find("study", None, identifier(None, {"PatientID": None})))
    with pytest.raises(QueryError, match="not part of the Study Root"):
        list(index.find("study", None, identifier("PATIENT", {"PatientID": None})))
    with pytest.raises(QueryError, match="not part of the Patient/Study Only"):
        list(index.find("psonly", None, identifier("SERIES", {"PatientID": None})))
    with pytest.raises(QueryError, match="invalid Query/Retrieve Level 'FOO'"):
        list(index.find("patient", None, identifier("FOO", {"PatientID": None})))
    # lenient (default): upper keys are matched relationally, keys below the level returned empty
    (rsp,) = index.find("study", None, series_query)
    assert rsp.PatientName == "O'Brien^1" and rsp.SeriesInstanceUID == ds.SeriesInstanceUID
    (rsp,) = index.find("study", None, identifier("STUDY", {"StudyInstanceUID": None,
                                                           "SOPInstanceUID": None}))
    assert rsp[0x00080018].value is None
    assert list(index.find("study", None, identifier("SERIES", {"PatientName": "X*"}))) == []
    index.close()


def test_character_sets(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    index.store(f"{index.root}/a.dcm", make_dataset(2, 1, 1, 1), size=1)            # Jos\u00e9^2, Latin-1
    utf8 = make_dataset(5, 1, 1, 1, SpecificCharacterSet="ISO_IR 192", PatientName="\u5c71\u7530^\u592a\u90ce")
    index.store(f"{index.root}/b.dcm", utf8, size=1)
    ascii_only = make_dataset(4, 1, 1, 1)                                           # Patient004^Test
    index.store(f"{index.root}/c.dcm", ascii_only, size=1)

    def names(query, **kw):
        return {(r.PatientName, tuple(r.character_sets)) for r in index.find("study", None, query, **kw)}
    latin1 = identifier("STUDY", {"PatientName": "Jos\u00e9*"}, charset="ISO_IR 100")
    assert names(latin1) == {("Jos\u00e9^2", ("ISO_IR 100",))}
    every = identifier("STUDY", {"PatientName": None})
    assert names(every) == {("Jos\u00e9^2", ("ISO_IR 100",)), ("\u5c71\u7530^\u592a\u90ce", ("ISO_IR 192",)),
                            ("Patient004^Test", ())}
    asked_utf8 = identifier("STUDY", {"PatientName": None}, charset="ISO_IR 192")
    assert {cs for _, cs in names(asked_utf8)} == {("ISO_IR 192",)}
    assert {cs for _, cs in names(every, fallback_charset="ISO_IR 192", override_charset=True)} == \
        {("ISO_IR 192",)}
    kanji = identifier("STUDY", {"PatientName": "\u5c71\u7530*"}, charset="ISO_IR 192")
    assert names(kanji) == {("\u5c71\u7530^\u592a\u90ce", ("ISO_IR 192",))}
    index.close()


def test_sequence_keys(backend, tmp_path):
    from dcmpy.dcmdata.dataset import Dataset, Sequence
    index = open_index(backend, tmp_path / "a")
    for n, code in enumerate(("CTCHEST", "MRHEAD")):
        ds = make_dataset(1, n, 1, 1)
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "99LOCAL", code.lower()
        ds.ProcedureCodeSequence = Sequence([item])
        index.store(f"{index.root}/{n}.dcm", ds, size=1)
    query_item = Dataset()
    query_item.CodeValue, query_item.CodeMeaning = "MR*", None
    query = identifier("STUDY", {"StudyInstanceUID": None})
    query.ProcedureCodeSequence = Sequence([query_item])
    (rsp,) = index.find("study", None, query)
    (item,) = rsp.ProcedureCodeSequence
    assert (item.CodeValue, item.CodeMeaning) == ("MRHEAD", "mrhead") and 0x00080102 not in item
    query.ProcedureCodeSequence = Sequence([])
    rsps = list(index.find("study", None, query))
    assert len(rsps) == 2 and all(r.ProcedureCodeSequence[0].CodingSchemeDesignator == "99LOCAL" for r in rsps)
    index.close()


def test_combined_date_time_query(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    for n, (date, time) in enumerate((("20110115", "150000"), ("20110101", "090000"), ("20110131", "110000"))):
        index.store(f"{index.root}/{n}.dcm", make_dataset(1, n, 1, 1, StudyDate=date, StudyTime=time), size=1)
    q = identifier("STUDY", {"StudyDate": "20110101-20110131", "StudyTime": "1000-1200"})
    separate = {r.StudyDate for r in index.find("study", None, q)}
    combined = {r.StudyDate for r in index.find("study", None, q, combined_datetime=True)}
    assert separate == {"20110131"} and combined == {"20110115", "20110131"}
    index.close()


def test_cancel_by_stopping_iteration(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    _store_generated(index, (2, 1, 1, 5))
    responses = index.find("patient", None, identifier("IMAGE", {"PatientID": "PID0001",
                                                                 "StudyInstanceUID": None,
                                                                 "SeriesInstanceUID": None,
                                                                 "SOPInstanceUID": None}))
    first = [next(responses) for _ in range(3)]
    responses.close()                           # C-CANCEL: the cursor and its snapshot go away
    assert len(first) == 3
    index.store(f"{index.root}/after.dcm", make_dataset(9, 9, 9, 9), size=1)   # writes still work
    assert index.counts()["instances"] == 11
    index.close()


def test_concurrent_stores_and_queries(backend, tmp_path):
    index = open_index(backend, tmp_path / "a")
    errors: list[BaseException] = []
    seen: list[int] = []

    def writer(patient: int) -> None:
        try:
            for study in range(3):
                for i in range(15):
                    index.store(f"{index.root}/{patient}-{study}-{i}.dcm", make_dataset(patient, study, 0, i),
                                size=10, quota=Quota(100, 1 << 20))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                seen.append(len(list(index.find("study", None, identifier("STUDY", {"PatientName": "*"})))))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    assert index.counts() == {"patients": 4, "studies": 12, "series": 12, "instances": 180, "bytes": 1800}
    assert seen == sorted(seen) or max(seen) <= 12      # each answer a consistent snapshot
    assert all(0 <= n <= 12 for n in seen) and len(seen) == 60
    index.close()


def test_indexed_data_of_corpus_files(backend, tmp_path):
    """Every readable corpus file with its unique keys indexes; an IMAGE query finds it again."""
    from conftest import _corpus
    from dcmpy.dcmdata.reader import DicomError, dcmread
    from dcmpy.dcmqrdb.record import RecordError
    index = open_index(backend, tmp_path / "a")
    stored = refused = 0
    for path in _corpus.corpus_files():
        if path.name.startswith(("hand__", "dd__")) or path.suffix != ".dcm":
            continue
        try:
            result = index.store(str(path))
        except (DicomError, RecordError):
            refused += 1
            continue
        stored += 1
        ds = dcmread(str(path), stop_before_pixels=True)
        (ref,) = index.locate("study", "IMAGE", identifier(None, {
            "StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
            "SOPInstanceUID": result.sop_instance}))
        assert ref.sop_class == ds.SOPClassUID.strip("\0 ")
    assert stored > 100 and refused > 10
    index.close()


def test_hostile_identifiers(backend, tmp_path):
    """Odd or hostile identifiers: answered or refused with a QueryError, never a crash."""
    from dcmpy.dcmdata.dataset import Dataset, Sequence
    from dcmpy.dcmdata.element import EncodedElement
    index = open_index(backend, tmp_path / "a")
    ds = make_dataset(1, 1, 1, 1)
    index.store(f"{index.root}/x.dcm", ds, size=1)
    many = "\\".join(f"1.2.3.{n}" for n in range(5000)) + "\\" + ds.StudyInstanceUID
    assert len(list(index.find("study", None, identifier("STUDY", {"StudyInstanceUID": many})))) == 1
    sql_meta = identifier("STUDY", {"PatientName": "%'; DROP TABLE studies; --*", "StudyInstanceUID": None})
    assert list(index.find("study", None, sql_meta)) == []
    assert index.counts()["studies"] == 1
    two_items = identifier("STUDY", {"StudyInstanceUID": None})
    two_items.ProcedureCodeSequence = Sequence([Dataset(), Dataset()])
    with pytest.raises(QueryError, match="at most one"):
        list(index.find("study", None, two_items))
    deep = identifier("STUDY", {"StudyInstanceUID": None})
    inner = Dataset()
    for _ in range(5000):
        outer = Dataset()
        outer.ContentSequence = Sequence([inner])
        inner = outer
    deep.ProcedureCodeSequence = Sequence([inner])
    with pytest.raises(QueryError, match="nested deeper than 8 levels"):
        list(index.find("study", None, deep))
    bad_bytes = identifier("STUDY", {"StudyInstanceUID": None}, charset="ISO_IR 192")
    bad_bytes[0x00100010] = EncodedElement(0x00100010, "PN", b"\xff\xfe*")   # not UTF-8
    assert list(index.find("study", None, bad_bytes)) == []
    for junk in ("20110101-20110102-20110103", "-", "2011-13-45", "\x00\x01"):
        q = identifier("STUDY", {"StudyDate": junk, "StudyTime": junk, "StudyInstanceUID": None})
        assert list(index.find("study", None, q)) == []
    unknown = identifier("IMAGE", {"StudyInstanceUID": ds.StudyInstanceUID,
                                   "SeriesInstanceUID": ds.SeriesInstanceUID})
    unknown.add_new(0x00991010, "LO", "private*")          # private keys: not kept, never match
    assert list(index.find("study", None, unknown)) == []
    unknown[0x00991010].value = None                        # ... but asked for, returned empty
    (rsp,) = index.find("study", None, unknown)
    assert rsp[0x00991010].value is None
    with pytest.raises(QueryError, match="unknown Query/Retrieve information model"):
        list(index.find("1.2.3", None, identifier("STUDY", {})))
    index.close()
