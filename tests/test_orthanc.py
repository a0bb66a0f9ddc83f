"""Our network tools against Debian's Orthanc (``tests/orthanc.py`` starts it on loopback), both
directions: echoscu and storescu into Orthanc (the stored instances read back through its REST
API byte for byte), findscu, movescu and getscu against it next to DCMTK's own tools (same
responses and objects), and Orthanc as the SCU: C-ECHO and C-STORE to our storescp.
"""
from __future__ import annotations

import struct
from collections import Counter

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from orthanc import Orthanc
from test_dcmnet_interop import corpus_path, dataset_bytes, free_port, sop_instance
from test_qrscu import CT_STUDY, GEN_STUDY, ROOT, both, storescp_on, stored

# sent in their own transfer syntax (the -x option our storescu needs for it); each has a SOP
# Instance UID of its own (Orthanc keeps the first of two instances with the same UID)
FILES = {"cmp__CT_small__rle.dcm": ["-xr"], "pd__MR_small.dcm": [], "cv__rtplan__tb.dcm": ["-xb"],
         "cv__waveform_ecg__ti.dcm": ["-xi"], "cmp__rgb__jpeg_baseline.dcm": ["-xy"]}


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    """Orthanc with our SCUs' AE titles as modalities, filled by our storescu; and the files."""
    from test_dcmqrdb_support import generate, write_files
    folder = tmp_path_factory.mktemp("orthanc")
    ports = {"MOVEOURS": free_port(), "MOVEDCMTK": free_port(), "STORESCP": free_port()}
    server = Orthanc(folder / "server", {ae.lower(): (ae, port) for ae, port in ports.items()})
    try:
        sent = []
        for name, opts in FILES.items():
            path = corpus_path(name)
            r = run(our_cmd("storescu", [*opts, "-aec", server.aet, "127.0.0.1", server.dicom_port, path]))
            assert r.rc == 0, (name, r.stderr)
            sent.append(path)
        generated = write_files(folder / "gen", (ds for _, ds in generate(2, 2, 1, 2)))
        r = run(our_cmd("storescu", ["-aec", server.aet, "127.0.0.1", server.dicom_port, *generated]))
        assert r.rc == 0, r.stderr
        yield server, sent + generated, ports
    finally:
        server.stop()


def test_echoscu_to_orthanc_matches_dcmtk(orthanc):
    server, _, _ = orthanc
    args = ["-v", "-aec", server.aet, "127.0.0.1", server.dicom_port]
    ours, theirs = run(our_cmd("echoscu", args)), run(dcmtk_cmd("echoscu", args))
    assert ours.rc == theirs.rc == 0
    assert ours.stderr == theirs.stderr


def test_storescu_into_orthanc_byte_identical(orthanc):
    """What our storescu sent (uncompressed in three syntaxes, RLE, JPEG) is what Orthanc
    stored: its /instances/{id}/file has the same transfer syntax and data set bytes."""
    server, files, _ = orthanc
    assert len(server.rest("GET", "/instances")) == len(files)
    for path in files:
        stored_file = server.folder / "check.dcm"
        instance = server.instance_id(sop_instance(path))
        stored_file.write_bytes(server.rest("GET", f"/instances/{instance}/file"))
        assert dataset_bytes(stored_file) == dataset_bytes(path), path.name


def _keys(keys: list[str]) -> list[str]:
    return [a for key in keys for a in ("-k", key)]


@pytest.mark.parametrize("model,keys", [
    ("-S", ["QueryRetrieveLevel=STUDY", "PatientName", "PatientID", "StudyInstanceUID", "StudyDate"]),
    ("-P", ["QueryRetrieveLevel=PATIENT", "PatientName=Patient*", "PatientID", "PatientBirthDate"]),
    ("-S", ["QueryRetrieveLevel=SERIES", f"StudyInstanceUID={GEN_STUDY}", "SeriesInstanceUID", "Modality"]),
    ("-S", ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={CT_STUDY}",
            "SeriesInstanceUID=1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322", "SOPInstanceUID"]),
], ids=["study", "patient", "series", "image"])
def test_findscu_against_orthanc_matches_dcmtk(orthanc, tmp_path, model, keys):
    """Same log and the same responses (Orthanc's order may change between queries: the
    response files are compared as a multiset of data sets)."""
    server, _, _ = orthanc
    d, o = both(tmp_path, "findscu", ["-v", "-X", "-aec", server.aet, model, *_keys(keys)], server.dicom_port)
    assert o.rc == d.rc == 0, o.stderr
    assert o.stderr == d.stderr
    ours, theirs = stored(tmp_path / "ours"), stored(tmp_path / "dcmtk")
    assert ours and Counter(ours.values()) == Counter(theirs.values())


def test_findscu_response_dump_against_orthanc(orthanc, tmp_path):
    """The response blocks of the default log (NUL-padded UIDs from Orthanc included) as DCMTK
    prints them."""
    server, _, _ = orthanc
    keys = ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={GEN_STUDY}",
            f"SeriesInstanceUID={GEN_STUDY.replace('.2.1.1', '.3.1.1.0')}", "SOPInstanceUID", "SOPClassUID"]
    d, o = both(tmp_path, "findscu", ["-aec", server.aet, "-S", *_keys(keys)], server.dicom_port)
    assert o.rc == d.rc == 0
    blocks = [sorted(r.stderr.split(b"I: ---------------------------\n")) for r in (o, d)]
    assert len(blocks[0]) == 3 and blocks[0] == blocks[1]


MOVE = ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={GEN_STUDY}"]


def test_movescu_from_orthanc_matches_dcmtk(orthanc, tmp_path):
    """Into each tool's own storage SCP (+P): the same files, data set bytes identical to what
    our storescu sent."""
    server, files, ports = orthanc
    for kind, cmd, dest in (("dcmtk", dcmtk_cmd, "MOVEDCMTK"), ("ours", our_cmd, "MOVEOURS")):
        out = tmp_path / kind
        out.mkdir()
        r = run(cmd("movescu", ["-v", "-aec", server.aet, "-aem", dest, "+P", ports[dest], "-od", out, *MOVE,
                                "127.0.0.1", server.dicom_port]))
        assert r.rc == 0, r.stderr
        assert b"I: Received Final Move Response (Success)" in r.stderr
    ours = stored(tmp_path / "ours")
    assert len(ours) == 2 and ours == stored(tmp_path / "dcmtk")
    sent = {dataset_bytes(p) for p in files if sop_instance(p).startswith(f"{ROOT}.4.1.1.")}
    assert set(ours.values()) == sent


def test_movescu_from_orthanc_to_storescp(orthanc, tmp_path):
    """-aem names our storescp: Orthanc sends it the study."""
    server, _, ports = orthanc
    out = tmp_path / "scp"
    out.mkdir()
    with storescp_on(out, ports["STORESCP"]):
        r = run(our_cmd("movescu", ["-aec", server.aet, "-aem", "STORESCP", *MOVE, "127.0.0.1",
                                    server.dicom_port]))
    assert r.rc == 0, r.stderr
    got = stored(out)
    assert len(got) == 2 and all(name.startswith("MR.") for name in got)


def test_getscu_from_orthanc_matches_dcmtk(orthanc, tmp_path):
    """C-GET from Orthanc: same log, same files as DCMTK's getscu +B."""
    server, _, _ = orthanc
    d, o = both(tmp_path, "getscu", ["-v", "+B", "-aec", server.aet, *MOVE], server.dicom_port)
    assert o.rc == d.rc == 0, o.stderr
    assert o.stderr == d.stderr
    ours = stored(tmp_path / "ours")
    assert len(ours) == 2 and ours == stored(tmp_path / "dcmtk")


def test_orthanc_echoes_and_stores_to_our_storescp(orthanc, tmp_path):
    """Orthanc as the SCU (REST /modalities/{name}/echo and /store): our storescp answers and
    stores the instances as Orthanc has them, byte for byte, but for the trailing padding
    (FFFC,FFFC) that Orthanc leaves out when it sends (pydicom's files have some)."""
    server, files, ports = orthanc
    out = tmp_path / "scp"
    out.mkdir()
    wanted = [p for p in files if p.name in ("pd__MR_small.dcm", "cmp__CT_small__rle.dcm",
                                             "cv__rtplan__tb.dcm")]
    ids = [server.instance_id(sop_instance(p)) for p in wanted]
    with storescp_on(out, ports["STORESCP"], "-v", "+xa") as srv:
        assert server.rest("POST", "/modalities/storescp/echo", {}) == {}
        answer = server.rest("POST", "/modalities/storescp/store", {"Resources": ids, "Synchronous": True})
        srv.wait_for("I: Association Release")
    assert answer["FailedInstancesCount"] == 0 and answer["InstancesCount"] == 3
    got = {p.name.split(".", 1)[1]: dataset_bytes(p) for p in out.iterdir()}
    assert len(got) == 3
    kept = server.folder / "kept.dcm"
    for path, instance in zip(wanted, ids):
        kept.write_bytes(server.rest("GET", f"/instances/{instance}/file"))
        ts, data = dataset_bytes(kept)
        assert got[sop_instance(path)] == (ts, _without_trailing_padding(data)), path.name


def _without_trailing_padding(data: bytes) -> bytes:
    """An explicit VR data set without its last element if that is Data Set Trailing Padding
    (FFFC,FFFC): tag, OB, two reserved bytes, a 4-byte length, the value up to the end."""
    for tag, order in ((b"\xfc\xff\xfc\xffOB", "<"), (b"\xff\xfc\xff\xfcOB", ">")):
        at = data.rfind(tag)
        if at >= 0 and len(data) - at >= 12 and \
                at + 12 + struct.unpack(order + "I", data[at + 8:at + 12])[0] == len(data):
            return data[:at]
    return data
