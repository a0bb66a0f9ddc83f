"""findscu, movescu and getscu against DCMTK's own and against real Q/R SCPs.

Peers: DCMTK's ``dcmqrscp`` (default fork mode: ``-s`` crashes in 3.6.7) filled by DCMTK's
``storescu``, pynetdicom's Q/R SCP in this process, and in-process hostile SCPs. DCMTK's tool and
ours run the same query against the same peer; their ``-v`` logs must be identical line for
line (movescu: as sets of lines, its storage SCP runs in threads), their ``-X`` response files
and the retrieved objects identical in data set bytes. Deliberate differences are tested as
such: what DCMTK does, and what we do instead. Orthanc's tests are in ``test_orthanc.py``.
"""
from __future__ import annotations

import os
import struct
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run, tool_env
from test_dcmnet_interop import corpus_path, dataset_bytes, free_port, wait_listening

CORPUS = ["pd__CT_small.dcm", "pd__MR_small.dcm", "pd__rtplan.dcm"]
CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
ROOT = "1.2.826.0.1.3680043.9.7391"           # the generated data sets' (test_dcmqrdb_support)
GEN_STUDY = f"{ROOT}.2.1.1"
TOOLS = ("findscu", "movescu", "getscu")


# ---------------------------------------------------------------------------------------------
# DCMTK's dcmqrscp over a storage area


class Archive:
    """dcmqrscp serving AE ``QR`` (RW) with move destinations in its HostTable."""

    def __init__(self, folder: Path, destinations: dict[str, int]) -> None:
        area = folder / "QR"
        area.mkdir(parents=True)
        self.port = free_port()
        hosts = "".join(f"{ae.lower()} = ({ae}, 127.0.0.1, {port})\n" for ae, port in destinations.items())
        config = folder / "dcmqrscp.cfg"
        config.write_text(f"NetworkTCPPort = {self.port}\nMaxPDUSize = 16384\nMaxAssociations = 64\n"
                          f"HostTable BEGIN\n{hosts}HostTable END\nVendorTable BEGIN\nVendorTable END\n"
                          f"AETable BEGIN\nQR {area} RW (100, 1024mb) ANY\nAETable END\n")
        self.proc = subprocess.Popen(dcmtk_cmd("dcmqrscp", ["-c", config, self.port]), env=tool_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def archive_files(folder: Path) -> list[Path]:
    """Three of pydicom's files and eight generated ones (2 patients x 2 studies x 2 images)."""
    from test_dcmqrdb_support import generate, write_files
    generated = write_files(folder, (ds for _, ds in generate(2, 2, 1, 2)))
    return [corpus_path(n) for n in CORPUS] + generated


@pytest.fixture(scope="module")
def qr(tmp_path_factory):
    """The archive, its files and the ports of its move destinations."""
    folder = tmp_path_factory.mktemp("qr")
    ports = {"MOVEOURS": free_port(), "MOVEDCMTK": free_port(), "STORESCP": free_port()}
    archive = Archive(folder / "db", ports)
    try:
        files = archive_files(folder / "files")
        r = run(dcmtk_cmd("storescu", ["-aec", "QR", "127.0.0.1", archive.port, *files]))
        assert r.rc == 0, r.stderr
        yield archive, files, ports
    finally:
        archive.stop()


def both(tmp_path: Path, tool: str, args: list, peer_port: int, files: list = ()) -> tuple:
    """Run DCMTK's tool in ``tmp/dcmtk`` and ours in ``tmp/ours`` with the same arguments."""
    results = []
    for kind, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        cwd = tmp_path / kind
        cwd.mkdir(parents=True, exist_ok=True)
        results.append(run(cmd(tool, [*args, "127.0.0.1", peer_port, *files]), cwd=cwd))
    return tuple(results)


def stored(folder: Path) -> dict[str, tuple[str, bytes]]:
    """File name -> (transfer syntax, data set bytes) of the DICOM files in ``folder``."""
    return {p.name: dataset_bytes(p) for p in sorted(folder.iterdir()) if p.is_file()
            and not p.name.startswith(".")}


# ---------------------------------------------------------------------------------------------
# help


def _strip_tls(text: bytes) -> bytes:
    out, skip = [], False
    for line in text.splitlines()[1:]:
        if line.startswith(b"transport layer security"):
            skip = True
            continue
        if skip and not line.startswith(b" "):
            skip = False
        if not skip:
            out.append(line)
    return b"\n".join(out)


@pytest.mark.parametrize("tool", TOOLS)
def test_help_matches_dcmtk(tool):
    """Word for word but the banner and findscu's TLS block (TLS is not implemented)."""
    ours, theirs = run(our_cmd(tool, ["--help"])), run(dcmtk_cmd(tool, ["--help"]))
    assert ours.rc == theirs.rc == 0
    assert _strip_tls(ours.stdout) == _strip_tls(theirs.stdout)


# ---------------------------------------------------------------------------------------------
# findscu against dcmqrscp

QUERIES = [
    ("study_all", ["-S"], ["QueryRetrieveLevel=STUDY", "PatientName", "PatientID", "StudyInstanceUID",
                           "StudyDate", "StudyDescription", "AccessionNumber"]),
    ("patient_wildcard", ["-P"], ["QueryRetrieveLevel=PATIENT", "PatientName=Patient*", "PatientID",
                                  "PatientBirthDate", "PatientSex"]),
    ("series_of_study", ["-S"], ["QueryRetrieveLevel=SERIES", f"StudyInstanceUID={GEN_STUDY}",
                                 "SeriesInstanceUID", "Modality", "SeriesNumber"]),
    ("image_level", ["-P"], ["QueryRetrieveLevel=IMAGE", "PatientID=PID0001",
                             f"StudyInstanceUID={GEN_STUDY}", f"SeriesInstanceUID={ROOT}.3.1.1.0",
                             "SOPInstanceUID", "InstanceNumber"]),
    ("psonly", ["-O"], ["QueryRetrieveLevel=STUDY", "PatientID=PID0000", "StudyInstanceUID", "StudyDate"]),
    ("date_range", ["-S"], ["QueryRetrieveLevel=STUDY", "StudyDate=20110101-20110228", "StudyInstanceUID"]),
    ("uid_list", ["-S"], ["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={CT_STUDY}\\{GEN_STUDY}",
                          "PatientName"]),
    ("no_match", ["-S"], ["QueryRetrieveLevel=STUDY", "PatientName=Nobody", "StudyInstanceUID"]),
    ("implicit", ["-S", "-xi"], ["QueryRetrieveLevel=STUDY", "PatientName", "StudyInstanceUID"]),
    ("big_endian", ["-S", "-xb"], ["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"]),
    ("deflated", ["-S", "-xd"], ["QueryRetrieveLevel=STUDY", "StudyInstanceUID", "StudyDate"]),
    ("latin1", ["-S"], ["SpecificCharacterSet=ISO_IR 100", "QueryRetrieveLevel=STUDY",
                        "PatientName=Jos\u00e9*".encode("latin-1"), "StudyInstanceUID"]),
    ("sequence_paths", ["-S"], ["QueryRetrieveLevel=STUDY", "StudyInstanceUID",
                                "ReferencedStudySequence[0].ReferencedSOPInstanceUID=1.2",
                                "(0008,1110)[1].(0008,1150)"]),
    ("no_level", ["-S"], ["PatientName", "StudyInstanceUID"]),      # the SCP answers A900
]


def _keys(keys: list) -> list:
    """-k arguments; bytes (non-ASCII values) go through the command line as they are."""
    return [a for key in keys for a in ("-k", os.fsdecode(key))]


@pytest.mark.parametrize("name,model,keys", QUERIES, ids=[q[0] for q in QUERIES])
def test_findscu_matches_dcmtk(qr, tmp_path, name, model, keys):
    """Same -v log (request and response identifiers as dcmdump text), same exit code, same
    response files (rsp0001.dcm ...) with the same data set bytes."""
    archive, _, _ = qr
    d, o = both(tmp_path, "findscu", ["-v", "-X", "-aec", "QR", *model, *_keys(keys)], archive.port)
    assert o.rc == d.rc == 0, o.stderr
    assert o.stderr == d.stderr
    theirs, ours = stored(tmp_path / "dcmtk"), stored(tmp_path / "ours")
    assert ours == theirs
    assert len(ours) == o.stderr.count(b"Writing response dataset")


@pytest.mark.parametrize("options", [[], ["-q"], ["-ll", "warn"], ["+sr", "-q"], ["-X", "+sr"],
                                     ["-X"], ["-v", "-sr"], ["-ll", "info"], ["+dc", "-v"]],
                         ids=lambda o: " ".join(o) or "default")
def test_findscu_response_logging_matches_dcmtk(qr, tmp_path, options):
    """DCMTK's response logger: shown by default and with -v, hidden by -X, -q, -ll warn unless +sr."""
    archive, _, _ = qr
    keys = ["QueryRetrieveLevel=STUDY", "PatientName=Comp*", "StudyInstanceUID"]
    d, o = both(tmp_path, "findscu", ["-aec", "QR", "-S", *options, *_keys(keys)], archive.port)
    assert o.rc == d.rc == 0
    assert o.stderr == d.stderr


def test_findscu_query_files_and_repeat(qr, tmp_path):
    """Query files in three encodings, -k overriding their keys, --repeat 2 on one association:
    the log, DCMTK's response numbering (rsp0001, rsp0002, rsp0004, ...) and the files."""
    archive, _, _ = qr
    text = "(0008,0052) CS [STUDY]\n(0010,0010) PN [Comp*]\n(0020,000d) UI\n(0008,0020) DA\n"
    (tmp_path / "q.txt").write_text(text)
    queries = []
    for n, opts in enumerate([[], ["+ti"], ["-F", "+ti"]]):
        path = tmp_path / f"q{n}.dcm"
        r = run(dcmtk_cmd("dump2dcm", [*opts, tmp_path / "q.txt", path]))
        assert r.rc == 0
        queries.append(path)
    args = ["-v", "-X", "--repeat", "2", "-S", "-aec", "QR", "-k", "StudyID", "-k", "PatientName=Last*"]
    d, o = both(tmp_path, "findscu", args, archive.port, queries)
    assert o.rc == d.rc == 0
    assert o.stderr == d.stderr
    ours = stored(tmp_path / "ours")
    assert ours == stored(tmp_path / "dcmtk")
    assert list(ours) == ["rsp0001.dcm", "rsp0003.dcm", "rsp0005.dcm", "rsp0007.dcm", "rsp0009.dcm",
                          "rsp0011.dcm"]


def test_findscu_xml_extraction(qr, tmp_path):
    """-Xx (rsp0001.xml ...), -Xs (one file) and -Xlo: DCMTK's XML documents."""
    archive, _, _ = qr
    keys = _keys(["QueryRetrieveLevel=STUDY", "PatientName", "StudyInstanceUID", "StudyDate"])
    latin1 = _keys(["SpecificCharacterSet=ISO_IR 100", "QueryRetrieveLevel=STUDY",
                    "PatientName=Jos\u00e9*".encode("latin-1"), "ReferringPhysicianName"])
    for extra in (["-Xx"], ["-Xs", "all.xml"], ["-Xs", "two.xml", "-Xlo", "2"], ["-Xx", "-Xlo", "1"],
                  ["-Xx", *latin1], ["-Xs", "latin1.xml", *latin1]):
        d, o = both(tmp_path / extra[0] / extra[-1], "findscu", ["-v", "-S", "-aec", "QR", *extra, *keys],
                    archive.port)
        assert o.rc == d.rc == 0
        assert o.stderr == d.stderr, extra
        ours = {p.name: p.read_bytes() for p in (tmp_path / extra[0] / extra[-1] / "ours").iterdir()}
        theirs = {p.name: p.read_bytes() for p in (tmp_path / extra[0] / extra[-1] / "dcmtk").iterdir()}
        assert ours == theirs, extra


def test_cancel_matches_dcmtk(tmp_path):
    """--cancel 1 (findscu, movescu): C-CANCEL after the first response; the SCP ends with
    status Cancel; the same log as DCMTK's."""
    with hostile_scp("cancel") as port:
        for tool in ("findscu", "movescu"):
            d, o = both(tmp_path / tool, tool, ["-v", "--cancel", "1", "-S", "-k", "QueryRetrieveLevel=STUDY",
                                                "-k", "PatientName"], port)
            assert o.rc == d.rc == 0
            assert o.stderr == d.stderr
            assert b"I: Sending Cancel Request (MsgID 1, PresID " in o.stderr
            assert b" Response (Cancel: " in o.stderr


def test_worklist_find_against_wlmscpfs(tmp_path):
    """-W (the default) against DCMTK's wlmscpfs serving Debian's sample worklist, with Debian's
    sample worklist queries as query files: the same log and response files as DCMTK's."""
    examples = Path("/usr/share/doc/dcmtk/examples")
    db = tmp_path / "db" / "OFFIS"
    db.mkdir(parents=True)
    (db / "lockfile").touch()
    for dump in sorted((examples / "wlistdb" / "OFFIS").glob("*.dump")):
        assert run(dcmtk_cmd("dump2dcm", [dump, db / (dump.stem + ".wl")])).rc == 0
    queries = []
    for dump in sorted((examples / "wlistqry").glob("*.dump")):
        path = tmp_path / (dump.stem + ".dcm")
        assert run(dcmtk_cmd("dump2dcm", [dump, path])).rc == 0
        queries.append(path)
    from test_dcmnet_interop import server
    with server(lambda port: dcmtk_cmd("wlmscpfs", ["-dfp", tmp_path / "db", port])) as srv:
        d, o = both(tmp_path, "findscu", ["-v", "-X", "-aec", "OFFIS"], srv.port, queries)
    assert o.rc == d.rc == 0, o.stderr
    assert o.stderr == d.stderr
    ours = stored(tmp_path / "ours")
    assert len(ours) > len(queries) and ours == stored(tmp_path / "dcmtk")


# ---------------------------------------------------------------------------------------------
# movescu and getscu against dcmqrscp


MOVES = [("study", ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={GEN_STUDY}"]),
         ("patient", ["-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=PID0000"]),
         ("series", ["-S", "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={CT_STUDY}",
                     "-k", "SeriesInstanceUID=1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"])]


@pytest.mark.parametrize("name,args", MOVES, ids=[m[0] for m in MOVES])
def test_movescu_into_its_own_scp_matches_dcmtk(qr, tmp_path, name, args):
    """+P: the objects arrive on our storage SCP under DCMTK's names, data set bytes identical to
    what DCMTK's movescu stores; the same log lines (in another order: our SCP has threads)."""
    archive, _, ports = qr
    results = {}
    for kind, cmd, dest in (("dcmtk", dcmtk_cmd, "MOVEDCMTK"), ("ours", our_cmd, "MOVEOURS")):
        out = tmp_path / kind
        out.mkdir()
        results[kind] = run(cmd("movescu", ["-v", "-aec", "QR", "-aem", dest, "+P", ports[dest],
                                            "-od", out, *args, "127.0.0.1", archive.port]))
    d, o = results["dcmtk"], results["ours"]
    assert o.rc == d.rc == 0, o.stderr
    assert sorted(o.stderr.splitlines()) == sorted(d.stderr.splitlines())
    ours = stored(tmp_path / "ours")
    assert ours and ours == stored(tmp_path / "dcmtk")


def test_movescu_bit_preserving_writes_into_output_directory(qr, tmp_path):
    """Deliberate difference: DCMTK 3.6.7's movescu +B ignores -od and writes into the current
    directory; ours writes into -od (the same bytes)."""
    archive, _, ports = qr
    args = ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}", "-aec", "QR",
            "127.0.0.1", archive.port]
    for kind, cmd, dest in (("dcmtk", dcmtk_cmd, "MOVEDCMTK"), ("ours", our_cmd, "MOVEOURS")):
        (tmp_path / kind / "od").mkdir(parents=True)
        r = run(cmd("movescu", ["+B", "-aem", dest, "+P", ports[dest], "-od", "od", *args]),
                cwd=tmp_path / kind)
        assert r.rc == 0, r.stderr
    theirs, ours = stored(tmp_path / "dcmtk"), stored(tmp_path / "ours" / "od")
    assert len(ours) == 1 and ours == theirs
    assert not list((tmp_path / "dcmtk" / "od").iterdir()) and not stored(tmp_path / "ours")
    (tmp_path / "ignore").mkdir()                   # --ignore: received, nothing stored
    r = run(our_cmd("movescu", ["--ignore", "-v", "-aem", "MOVEOURS", "+P", ports["MOVEOURS"], *args]),
            cwd=tmp_path / "ignore")
    assert r.rc == 0 and b"I: Received Store Request (MsgID 1, CT)" in r.stderr
    assert not list((tmp_path / "ignore").iterdir())


def test_movescu_to_storescp_and_options(qr, tmp_path):
    """-aem names another AE (our storescp): ours and DCMTK's movescu make it store the same
    bytes, with --repeat and -xi too; a move destination unknown to the archive gives DCMTK's
    warning and exit code 69."""
    archive, _, ports = qr
    args = ["-aec", "QR", "-aem", "STORESCP", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
            f"StudyInstanceUID={CT_STUDY}", "127.0.0.1", archive.port]
    got = {}
    for kind, cmd, extra in (("dcmtk", dcmtk_cmd, []), ("ours", our_cmd, []),
                             ("ours-xi", our_cmd, ["-xi", "--repeat", "2"])):
        out = tmp_path / kind
        out.mkdir()
        with storescp_on(out, ports["STORESCP"]):
            r = run(cmd("movescu", [*extra, *args]))
        assert r.rc == 0, r.stderr
        got[kind] = stored(out)
    assert len(got["dcmtk"]) == 1
    assert got["dcmtk"] == got["ours"] == got["ours-xi"]
    args[3] = "NOWHERE"
    d, o = both(tmp_path, "movescu", args[:-2], archive.port)
    assert o.rc == d.rc == 69
    assert o.stderr == d.stderr == b"W: Move response with error status (Refused: MoveDestinationUnknown)\n"


@contextmanager
def storescp_on(out: Path, port: int, *options: str):
    """Our storescp on a given port (the archive knows it as a move destination)."""
    from test_dcmnet_interop import Server
    srv = Server(our_cmd("storescp", ["-od", out, *options, port]), port)
    try:
        wait_listening(port, srv.proc)
        yield srv
    finally:
        srv.stop()


GETS = [("study", ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}"]),
        ("patient", ["-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=PID0001"]),
        ("psonly", ["-O", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID=PID0000", "-k",
                    f"StudyInstanceUID={ROOT}.2.0.1"])]


@pytest.mark.parametrize("name,args", GETS, ids=[g[0] for g in GETS])
def test_getscu_matches_dcmtk(qr, tmp_path, name, args):
    """C-GET, storage on the same association: with +B the same files (named by the UID alone),
    data set bytes identical, and the same -v log."""
    archive, _, _ = qr
    d, o = both(tmp_path, "getscu", ["-v", "+B", "-aec", "QR", *args], archive.port)
    assert o.rc == d.rc == 0, o.stderr
    ours = stored(tmp_path / "ours")
    assert ours and ours == stored(tmp_path / "dcmtk")
    assert o.stderr == d.stderr


def test_getscu_implicit_proposal(qr, tmp_path):
    """Deliberate difference: DCMTK 3.6.7's getscu -xi and +xi ("implicit VR little endian TS
    only") propose explicit VR little endian; ours propose implicit VR little endian, so the
    objects come implicit. Same objects otherwise (same dcmdump text of the data sets)."""
    from test_dcmnet_interop import dump_dataset
    archive, _, _ = qr
    args = ["-xi", "+xi", "-aec", "QR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
            f"StudyInstanceUID={GEN_STUDY}"]
    d, o = both(tmp_path, "getscu", args, archive.port)
    assert o.rc == d.rc == 0
    ours, theirs = sorted((tmp_path / "ours").iterdir()), sorted((tmp_path / "dcmtk").iterdir())
    assert [p.name for p in ours] == [p.name for p in theirs] and len(ours) == 2
    assert {dataset_bytes(p)[0] for p in ours} == {"1.2.840.10008.1.2"}
    assert {dataset_bytes(p)[0] for p in theirs} == {"1.2.840.10008.1.2.1"}
    for a, b in zip(ours, theirs):
        assert dump_dataset(a).split("\n", 2)[2] == dump_dataset(b).split("\n", 2)[2]


def test_getscu_normal_mode_is_bit_preserving(qr, tmp_path):
    """Deliberate difference: DCMTK's getscu -B (default) holds each object in memory and
    rewrites its sequences with undefined lengths; ours streams to disk and writes the bytes as
    received (equal to DCMTK's -B output once converted with dcmconv -e)."""
    archive, _, _ = qr
    args = ["-aec", "QR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}"]
    d, o = both(tmp_path, "getscu", args, archive.port)
    assert o.rc == d.rc == 0
    (theirs,), (ours,) = (list((tmp_path / k).iterdir()) for k in ("dcmtk", "ours"))
    assert dataset_bytes(theirs) != dataset_bytes(ours)
    converted = tmp_path / "converted.dcm"
    assert run(dcmtk_cmd("dcmconv", ["-e", ours, converted])).rc == 0
    assert dataset_bytes(converted) == dataset_bytes(theirs)


def test_getscu_ignore_and_overwrite(qr, tmp_path):
    archive, _, _ = qr
    args = ["-aec", "QR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}"]
    d, o = both(tmp_path, "getscu", ["--ignore", *args], archive.port)
    assert o.rc == d.rc == 0 and not list((tmp_path / "ours").iterdir())
    for _ in range(2):
        d, o = both(tmp_path, "getscu", args, archive.port)
    assert o.stderr == d.stderr
    assert o.stderr.startswith(b"W: DICOM file already exists, overwriting: CT.")


# ---------------------------------------------------------------------------------------------
# pynetdicom's Q/R SCP


class PynetQR:
    """pynetdicom answering C-FIND, C-GET and C-MOVE (patient and study root) from files."""

    LEVEL_KEYS = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
                  "IMAGE": "SOPInstanceUID"}

    def __init__(self, files: list[Path], destinations: dict[str, int]) -> None:
        import pydicom
        from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, StoragePresentationContexts, evt
        from pynetdicom import sop_class as S
        self.datasets = [pydicom.dcmread(f) for f in files]
        self.destinations = destinations
        self.ae = AE("PYQR")
        for root in ("PatientRoot", "StudyRoot"):
            for service in ("Find", "Get", "Move"):
                self.ae.add_supported_context(getattr(S, f"{root}QueryRetrieveInformationModel{service}"))
        for cx in StoragePresentationContexts:
            self.ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES, scu_role=True,
                                          scp_role=True)
        for ds in self.datasets:
            self.ae.add_requested_context(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
        self.port = free_port()
        self.server = self.ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=[
            (evt.EVT_C_FIND, self._find), (evt.EVT_C_GET, self._get), (evt.EVT_C_MOVE, self._move)])

    def _matches(self, query):
        import fnmatch
        level = str(query.QueryRetrieveLevel)
        seen, found = set(), []
        for ds in self.datasets:
            ok = True
            for elem in query:
                if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet") or elem.VR == "SQ":
                    continue
                want = str(elem.value or "")
                if want and not fnmatch.fnmatchcase(str(ds.get(elem.keyword, "")), want):
                    ok = False
            key = str(ds.get(self.LEVEL_KEYS[level], ""))
            if ok and key not in seen:
                seen.add(key)
                found.append(ds)
        return level, found

    def _find(self, event):
        from pydicom.dataset import Dataset
        level, found = self._matches(event.identifier)
        for ds in found:
            rsp = Dataset()
            for elem in event.identifier:
                setattr(rsp, elem.keyword, ds.get(elem.keyword, "") if elem.keyword != "QueryRetrieveLevel"
                        else level)
            yield 0xFF00, rsp

    def _instances(self, event):
        _, found = self._matches(event.identifier)
        level = str(event.identifier.QueryRetrieveLevel)
        keys = {str(ds.get(self.LEVEL_KEYS[level], "")) for ds in found}
        return [ds for ds in self.datasets if str(ds.get(self.LEVEL_KEYS[level], "")) in keys]

    def _get(self, event):
        found = self._instances(event)
        yield len(found)
        for ds in found:
            yield 0xFF00, ds

    def _move(self, event):
        port = self.destinations.get(str(event.move_destination).strip())
        if port is None:
            yield None, None
            return
        found = self._instances(event)
        yield "127.0.0.1", port
        yield len(found)
        for ds in found:
            yield 0xFF00, ds

    def shutdown(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def pynet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pynet")
    files = archive_files(folder)
    ports = {"MOVEOURS": free_port(), "MOVEDCMTK": free_port()}
    scp = PynetQR(files, ports)
    try:
        yield scp, files, ports
    finally:
        scp.shutdown()


def test_pynetdicom_find_matches_dcmtk(pynet, tmp_path):
    scp, _, _ = pynet
    for n, (model, keys) in enumerate([("-S", ["QueryRetrieveLevel=STUDY", "PatientName", "StudyInstanceUID",
                                                "StudyDate"]),
                                       ("-P", ["QueryRetrieveLevel=PATIENT", "PatientName=Patient*",
                                               "PatientID"])]):
        d, o = both(tmp_path / str(n), "findscu", ["-v", "-X", "-aec", "PYQR", model, *_keys(keys)],
                    scp.port)
        assert o.rc == d.rc == 0, o.stderr
        assert o.stderr == d.stderr
        assert stored(tmp_path / str(n) / "ours") == stored(tmp_path / str(n) / "dcmtk")


def test_pynetdicom_get_and_move_match_dcmtk(pynet, tmp_path):
    scp, _, ports = pynet
    args = ["-aec", "PYQR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}"]
    d, o = both(tmp_path / "get", "getscu", ["-v", "+B", *args], scp.port)
    assert o.rc == d.rc == 0, o.stderr
    assert o.stderr == d.stderr
    ours = stored(tmp_path / "get" / "ours")
    assert len(ours) == 1 and ours == stored(tmp_path / "get" / "dcmtk")
    # our default writes what arrives, as DCMTK's +B does (its default drops trailing padding;
    # its +B writes into the current directory, whatever -od says)
    for kind, cmd, dest, mode in (("dcmtk", dcmtk_cmd, "MOVEDCMTK", "+B"),
                                  ("ours", our_cmd, "MOVEOURS", "-B")):
        out = tmp_path / "move" / kind
        out.mkdir(parents=True)
        r = run(cmd("movescu", [mode, "-aem", dest, "+P", ports[dest], "-od", out, *args, "127.0.0.1",
                                scp.port]), cwd=out)
        assert r.rc == 0, r.stderr
    moved = stored(tmp_path / "move" / "ours")
    assert len(moved) == 1 and moved == stored(tmp_path / "move" / "dcmtk")


# ---------------------------------------------------------------------------------------------
# failures: DCMTK's messages and exit codes, and where DCMTK is wrong


def test_unreachable_rejecting_and_unsuitable_peers_match_dcmtk(qr, tmp_path):
    """Connection refused, unknown host, rejected (wrong called AE), no acceptable presentation
    context (a storescp): the same stderr and exit code as each DCMTK tool."""
    archive, _, _ = qr
    keys = ["-S", "-k", "QueryRetrieveLevel=STUDY"]
    cases = [["127.0.0.1", free_port()], ["nosuchhost.invalid", "104"],
             ["-aec", "WRONG", "127.0.0.1", archive.port]]
    for tool in TOOLS:
        for case in cases:
            ours, theirs = run(our_cmd(tool, [*keys, *case])), run(dcmtk_cmd(tool, [*keys, *case]))
            assert (ours.rc, ours.stderr) == (theirs.rc, theirs.stderr), (tool, case)
    from test_dcmnet_interop import dcmtk_storescp
    with dcmtk_storescp(tmp_path) as srv:
        for tool in TOOLS:
            ours = run(our_cmd(tool, [*keys, "127.0.0.1", srv.port]))
            theirs = run(dcmtk_cmd(tool, [*keys, "127.0.0.1", srv.port]))
            assert (ours.rc, ours.stderr) == (theirs.rc, theirs.stderr), tool
    assert {t: run(our_cmd(t, [*keys, "127.0.0.1", free_port()])).rc for t in TOOLS} == \
        {"findscu": 2, "movescu": 61, "getscu": 1}


BAD_KEYS = ["Foo=1", "(0010,0010", "(0008,1140)[x]", "PatientName[0].X", "(0028,0010)=abc",
            "(0008,1140)[*].(0008,1150)"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys(qr, tmp_path, key):
    """A bad -k: one line naming the key, exit 1, no association. movescu's line is DCMTK's own."""
    archive, _, _ = qr
    args = ["-aec", "QR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", key, "127.0.0.1", archive.port]
    for tool in TOOLS:
        ours = run(our_cmd(tool, args), cwd=tmp_path)
        assert ours.rc == 1, (tool, ours.stderr)
        lines = ours.stderr.decode().splitlines()
        if tool == "movescu":
            theirs = run(dcmtk_cmd(tool, args))
            assert (ours.rc, lines[-1]) == (theirs.rc, theirs.stderr.decode().splitlines()[-1])
        else:
            prefix = f"F: Bad override key/path: {key}: "
            assert len(lines) == 1 and lines[0].startswith(prefix) and len(lines[0]) > len(prefix)
    assert not list(tmp_path.iterdir())


def test_bad_key_dcmtk_goes_on(qr, tmp_path):
    """Deliberate difference: DCMTK's findscu and getscu log a bad key and go on, exit 0; getscu
    retrieves with the key left out (here: the whole archive). Ours stop first (exit 1)."""
    archive, _, _ = qr
    args = ["-aec", "QR", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "(0028,0010)=abc", "127.0.0.1",
            archive.port]
    find = run(dcmtk_cmd("findscu", args))
    assert find.rc == 0 and b"E: Bad override key/path: (0028,0010)=abc" in find.stderr
    get = run(dcmtk_cmd("getscu", args), cwd=tmp_path)
    assert get.rc == 0 and get.stderr == b"E: Bad override key/path: (0028,0010)=abc: Corrupted data\n"
    assert len(list(tmp_path.iterdir())) == len(CORPUS) + 8


def test_bad_query_files(qr, tmp_path):
    """Deliberate difference: DCMTK's findscu and movescu log an unreadable query file and exit 0;
    ours (and DCMTK's getscu) exit 1, naming the file, before any association."""
    archive, _, _ = qr
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\x08\x00\x52\x00\x20\x00\x00\x00STUDY")       # a value cut short
    verdicts = {tool: run(dcmtk_cmd(tool, ["-S", "-aec", "QR", "127.0.0.1", archive.port, bad])).rc
                for tool in TOOLS}
    assert verdicts == {"findscu": 0, "movescu": 0, "getscu": 1}
    port = free_port()                                              # nothing listens
    for tool in TOOLS:
        r = run(our_cmd(tool, ["127.0.0.1", port, bad]))
        assert r.rc == 1
        lines, prefix = r.stderr.decode().splitlines(), f"F: Bad DICOM file: {bad}: "
        assert len(lines) == 1 and lines[0].startswith(prefix) and "offset" in lines[0]
    for tool, args, message in (("findscu", [], "either query file or override keys"),
                                ("movescu", ["-od", tmp_path], "--output-directory only allowed with --port"),
                                ("getscu", ["--ignore", "-od", tmp_path, "-k", "A"],
                                 "--output-directory not allowed"),
                                ("findscu", ["-Xlo", "2", "-k", "A"], "--limit-output only allowed"),
                                ("findscu", [tmp_path / "missing.dcm"], "cannot access file"),
                                ("findscu", ["-X", "-od", tmp_path / "no", "-k", "A"],
                                 "output directory does not")):
        full = [*args, "127.0.0.1", port]
        ours, theirs = run(our_cmd(tool, full)), run(dcmtk_cmd(tool, full))
        assert ours.rc == theirs.rc == 1, (tool, args)
        assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1], (tool, args)
        assert message.encode() in ours.stderr


# ---------------------------------------------------------------------------------------------
# hostile SCPs in this process


@contextmanager
def hostile_scp(mode: str, move_port: int | None = None):
    """An SCP that misbehaves during C-FIND/C-MOVE/C-GET as ``mode`` says."""
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmnet import AE, Response
    ts = ["1.2.840.10008.1.2"]
    ae = AE("ANY-SCP")
    for model in ("2.1", "2.2", "2.3"):
        ae.policy.add(f"1.2.840.10008.5.1.4.1.2.{model}", ts)
    for sop in ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.7"):
        ae.policy.add(sop, ts + ["1.2.840.10008.1.2.1"], scu_role=True, scp_role=True)

    def name(n: int) -> Dataset:
        ds = Dataset()
        ds.add_new(0x00080052, "CS", "STUDY")
        ds.add_new(0x00100010, "PN", f"Doe^{n}")
        return ds

    def handler(req):
        service = req.message.service
        counts = {} if service == "C-FIND" else dict(NumberOfRemainingSuboperations=1,
                                                     NumberOfCompletedSuboperations=0,
                                                     NumberOfFailedSuboperations=0,
                                                     NumberOfWarningSuboperations=0)
        if mode == "cancel":
            yield Response(0xFF00, name(1) if service == "C-FIND" else None, counts)
            deadline = time.monotonic() + 20        # hang guard: wait for the C-CANCEL
            while not req.assoc.transport.data_waiting() and time.monotonic() < deadline:
                time.sleep(0.01)
            yield Response(0xFF00, name(2) if service == "C-FIND" else None, counts)
            yield 0x0000
        elif mode == "bad_identifier":
            yield Response(0xFF00, name(1))
            yield Response(0xFF00, b"\x10\x00\x10\x00\x64\x00\x00\x00Doe^X ")   # length 100, 6 there
            yield Response(0xFF00, name(3))
            yield 0x0000
        elif mode == "abort":
            yield Response(0xFF00, name(1) if service == "C-FIND" else None, counts)
            req.assoc.abort()
        elif mode == "traversal":                    # C-GET: an object whose UID is a path
            from dcmpy.dcmnet.dimse import Message
            from dcmpy.dcmnet.scp import encode_dataset
            ctx = next(c for c in req.assoc.contexts.values() if c.abstract_syntax.endswith(".1.1.7"))
            for n, uid in enumerate(("../../evil", "..", "/tmp/evil", ".hidden"), 1):
                ds = Dataset()
                ds.add_new(0x00080016, "UI", ctx.abstract_syntax)
                ds.add_new(0x00080018, "UI", uid)
                req.assoc.send(Message("C-STORE-RQ", ctx.id, MessageID=n, Priority=0,
                                       AffectedSOPClassUID=ctx.abstract_syntax,
                                       AffectedSOPInstanceUID=uid),
                               encode_dataset(ds, ctx.transfer_syntax))
                assert req.assoc.receive().Status == 0
            yield Response(0x0000, None, dict(counts, NumberOfRemainingSuboperations=0,
                                              NumberOfCompletedSuboperations=4))
        elif mode == "partial_store":                # C-GET: half an object, then A-ABORT
            _partial_store(req.assoc, next(iter(c for c in req.assoc.contexts.values()
                                                if c.abstract_syntax.endswith(".1.1.7"))))
            req.assoc.abort()
        elif mode == "partial_move":                 # C-MOVE: half an object to the destination
            from dcmpy.dcmnet import associate
            sub = associate("127.0.0.1", move_port, [("1.2.840.10008.5.1.4.1.1.7", ts)])
            _partial_store(sub, next(iter(sub.contexts.values())))
            sub.abort()
            yield Response(0xA702, None, dict(counts, NumberOfRemainingSuboperations=0,
                                              NumberOfFailedSuboperations=1))

    for service in ("C-FIND", "C-MOVE", "C-GET"):
        ae.on(service, handler)
    port = ae.start(0)
    try:
        yield port
    finally:
        ae.shutdown()


def _partial_store(assoc, ctx) -> None:
    """A C-STORE-RQ whose data set stops after its first fragment."""
    from dcmpy.dcmnet import pdu as P
    from dcmpy.dcmnet.dimse import Message, encode_command
    cmd = encode_command(Message("C-STORE-RQ", ctx.id, MessageID=1, Priority=0,
                                 AffectedSOPClassUID=ctx.abstract_syntax,
                                 AffectedSOPInstanceUID="1.2.3.4"), True)
    assoc.fsm.event("Evt9", P.pdata_header(ctx.id, 3, len(cmd)), cmd)
    data = struct.pack("<HHI", 0x0008, 0x0016, 26) + b"1.2.840.10008.5.1.4.1.1.7\0"
    assoc.fsm.event("Evt9", P.pdata_header(ctx.id, 0, len(data)), data)


def test_bad_identifier_in_find_response(tmp_path):
    """A response whose identifier cannot be read: one error line naming the response and the
    offset, the other responses still written, exit 2. Deliberate difference: DCMTK gives up on
    the whole query ("DIMSE Failed to receive message"), aborts, and exits 0."""
    with hostile_scp("bad_identifier") as port:
        d, o = both(tmp_path, "findscu", ["-X", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName"],
                    port)
    assert o.rc == 2
    lines = o.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("E: Find Response 2: cannot read identifier: ")
    assert "offset" in lines[0]
    assert sorted(stored(tmp_path / "ours")) == ["rsp0001.dcm", "rsp0003.dcm"]
    assert d.rc == 0 and list(stored(tmp_path / "dcmtk")) == ["rsp0001.dcm"]
    assert d.stderr.endswith(b"E: Find SCU Failed: 0006:020d DIMSE Failed to receive message\n")


def test_peer_abort_during_operations(tmp_path):
    """The SCP aborts after one pending response. Ours: findscu exits 2, movescu 70, getscu 1.
    Deliberate difference: DCMTK's findscu and movescu exit 0 (getscu 1) after the same lines."""
    args = ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName"]
    with hostile_scp("abort") as port:
        results = {tool: both(tmp_path / tool, tool, ["-v", *args], port) for tool in TOOLS}
    expected = {"findscu": (0, 2), "movescu": (0, 70), "getscu": (1, 1)}
    for tool, (d, o) in results.items():
        assert (d.rc, o.rc) == expected[tool], tool
        assert b"I: Peer Aborted Association" in o.stderr or tool == "getscu"
        assert b"0006:0317 Peer aborted Association (or never connected)" in o.stderr
    f_ours, f_theirs = results["findscu"][1].stderr, results["findscu"][0].stderr
    assert f_ours.splitlines()[-1] == f_theirs.splitlines()[-1] == b"I: Peer Aborted Association"
    g_ours, g_theirs = results["getscu"][1].stderr, results["getscu"][0].stderr
    assert g_ours == g_theirs


def test_abort_mid_object_leaves_no_file(tmp_path):
    """Half an object, then A-ABORT: getscu (same association) and movescu (sub-association on
    +P) leave nothing in -od, not even a temporary file; DCMTK neither."""
    args = ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName"]
    with hostile_scp("partial_store") as port:
        d, o = both(tmp_path / "get", "getscu", args, port)
    assert o.rc == d.rc == 1
    assert o.stderr == b"E: Failed receiving DIMSE command: 0006:0317 Peer aborted Association (or never " \
        b"connected)\n"
    for kind in ("ours", "dcmtk"):
        assert not list((tmp_path / "get" / kind).iterdir())
    for kind, cmd in (("ours", our_cmd), ("dcmtk", dcmtk_cmd)):
        move_port = free_port()
        out = tmp_path / "move" / kind
        out.mkdir(parents=True)
        with hostile_scp("partial_move", move_port) as port:
            r = run(cmd("movescu", ["+P", move_port, "-od", out, *args, "127.0.0.1", port]))
        assert r.rc == 69, r.stderr
        assert b"W: Move response with error status (Refused: OutOfResourcesSubOperations)" in r.stderr
        assert not list(out.iterdir())


@pytest.mark.parametrize("mode", ["-B", "+B"])
def test_hostile_uids_never_leave_output_directory(tmp_path, mode):
    """SOP Instance UIDs that are paths (DCMTK's CVE-2022-2120, CVE-2026-50003 for +B) become
    harmless names inside -od."""
    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    with hostile_scp("traversal") as port:
        r = run(our_cmd("getscu", [mode, "-od", out, "-S", "-k", "QueryRetrieveLevel=STUDY", "127.0.0.1",
                                   port]))
    assert r.rc == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    expected = ["_._.._evil", "_.", "_tmp_evil", "_hidden"] if mode == "+B" else \
        ["SC..._.._evil", "SC...", "SC._tmp_evil", "SC..hidden"]
    assert names == sorted(expected)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == names


def test_movescu_port_in_use(qr):
    """+P on a port that is taken: DCMTK's fatal line and exit code 60."""
    archive, _, _ = qr
    args = ["+P", archive.port, "-S", "-k", "QueryRetrieveLevel=STUDY", "-aec", "QR", "127.0.0.1",
            archive.port]
    ours, theirs = run(our_cmd("movescu", args)), run(dcmtk_cmd("movescu", args))
    assert ours.rc == theirs.rc == 60
    assert ours.stderr == theirs.stderr


def test_status_texts_match_dcmtk():
    """The status words of each service for the codes DCMTK names (probed from its -v logs)."""
    from dcmpy.dcmnet.qrscu import status_text
    assert [status_text(c, "C-FIND") for c in (0, 0xFF00, 0xFF01, 0xFE00, 0xA700, 0xA900, 0xC123, 0x0122,
                                               0xA701, 0xB000)] == [
        "Success", "Pending", "Pending: WarningUnsupportedOptionalKeys",
        "Cancel: MatchingTerminatedDueToCancelRequest", "Refused: OutOfResources",
        "Error: DataSetDoesNotMatchSOPClass", "Failed: UnableToProcess", "Refused: SOPClassNotSupported",
        "Unknown Status: 0xa701", "Unknown Status: 0xb000"]
    assert [status_text(c, "C-MOVE") for c in (0xA801, 0xB000, 0xFE00, 0xFF01)] == [
        "Refused: MoveDestinationUnknown", "Warning: SubOperationsCompleteOneOrMoreFailures",
        "Cancel: SubOperationsTerminatedDueToCancelIndication", "Unknown Status: 0xff01"]
    assert status_text(0xA801, "C-GET") == "Unknown Status: 0xa801"


def test_library_api(qr, tmp_path):
    """The services from Python: c_find on an association, FindSCU/GetSCU as classes."""
    from dcmpy.dcmnet import GetOptions, GetSCU, StoreOptions, associate, build_query, c_find
    from dcmpy.dcmnet.qrscu import MODELS, decode_identifier
    archive, files, _ = qr
    query = build_query(["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={CT_STUDY}", "PatientName"])
    find = MODELS["study"][0]
    with associate("127.0.0.1", archive.port, [(find, ["1.2.840.10008.1.2"])], called_ae="QR") as assoc:
        rsps = list(c_find(assoc, query.dataset, find))
    assert [r.Status for r in rsps] == [0xFF00, 0x0000]
    ds = decode_identifier(rsps[0].dataset, "1.2.840.10008.1.2")
    assert str(ds.PatientName).strip() == "CompressedSamples^CT1"
    opts = GetOptions(model="study", called_ae="QR", store=StoreOptions(output_dir=str(tmp_path)))
    scu = GetSCU("127.0.0.1", archive.port, opts)
    assert scu.run([query]) == 0
    (path,) = scu.store.stored
    assert Path(path).name == "CT.1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    got, original = dataset_bytes(Path(path))[1], dataset_bytes(files[0])[1]
    assert original.startswith(got) and original[len(got):len(got) + 4] == b"\xfc\xff\xfc\xff"
    # the archive dropped the original's trailing padding (FFFC,FFFC), nothing else
