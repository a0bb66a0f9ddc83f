"""wlmscpfs against DCMTK's: DCMTK's findscu -W asks DCMTK's wlmscpfs and ours the same queries
over worklist folders built from the same dumps (DCMTK's dump2dcm for its server, our
read_dump + dcmwrite for ours); the responses (dcmdump text of each rsp*.dcm, order ignored),
their statuses and the error details must be equal. Deliberate differences are in DIFFERENCES,
each checked for what DCMTK does and what we do instead.
"""
from __future__ import annotations

import re
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run, tool_env
import test_dcmwlm_data as W

MODES = {"default": [], "nse": ["-nse"], "cs1": ["-cs1"], "csk": ["-csk"], "dfr": ["-dfr"],
         "nofail": ["--no-fail"]}
FINDSCU_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free port, always stopped by ``stop``."""

    def __init__(self, cmd_of_port, cwd: Path) -> None:
        self.port = free_port()
        self.log_path = cwd / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd_of_port(self.port), cwd=cwd, env=tool_env(),
                                     stdout=subprocess.DEVNULL, stderr=self._log)

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text(errors="replace")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nothing listens on {self.port}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.log_path.read_text(errors="replace")


def dump2dcm(dump: Path, out: Path) -> None:
    r = run(dcmtk_cmd("dump2dcm", [dump, out]))
    assert r.rc == 0 and out.exists(), r.stderr


def our_convert(dump: Path, out: Path) -> None:
    from dcmpy.dcmdata.dumpparse import complete_file_meta, read_dump
    from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
    ds = read_dump(dump)
    complete_file_meta(ds)
    dcmwrite(out, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", update_meta=False))


@dataclass
class Env:
    root: Path
    queries: Path
    dcmtk: dict[str, Server]
    ours: dict[str, Server]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("wlm")
    W.build(root / "dcmtk", dump2dcm)
    W.build(root / "ours", our_convert)
    queries = root / "queries"
    queries.mkdir()
    for path in W.SAMPLE_QUERIES:
        dump2dcm(path, queries / (path.stem + ".dcm"))
    for name, text in W.QUERY_DUMPS.items():
        (queries / f"{name}.dump").write_text(text)
        dump2dcm(queries / f"{name}.dump", queries / f"{name}.dcm")
    dcmtk, ours = {}, {}
    try:
        for mode, opts in MODES.items():
            dcmtk[mode] = Server(lambda p, o=opts: dcmtk_cmd("wlmscpfs", [*o, "-dfp", "dcmtk", p]), root)
            ours[mode] = Server(lambda p, o=opts: our_cmd("wlmscpfs", [*o, "-dfp", "ours", p]), root)
        for srv in [*dcmtk.values(), *ours.values()]:
            srv.wait()
        yield Env(root, queries, dcmtk, ours)
    finally:
        for srv in [*dcmtk.values(), *ours.values()]:
            srv.stop()


@dataclass
class Answer:
    final: str                 # the final status as findscu -d prints it, e.g. '0x0000'
    pending: list[str]
    details: list[str]         # OffendingElement / ErrorComment lines
    responses: list[str]       # dcmdump text of each response data set, sorted

    def same(self) -> tuple:
        return self.final, self.pending, self.details, self.responses


def find(port: int, aec: str, keys=(), files=(), extra=()) -> Answer:
    """findscu -W -X: the responses as DCMTK's dcmdump prints them."""
    with tempfile.TemporaryDirectory() as cwd:
        args = [*extra, "-d", "-W", "-X", "-aec", aec]
        for key in keys:
            args += ["-k", key]
        r = run(dcmtk_cmd("findscu", [*args, "localhost", port, *files]), cwd=Path(cwd),
                timeout=FINDSCU_TIMEOUT)
        names = sorted(p.name for p in Path(cwd).glob("rsp*.dcm"))
        text = run(dcmtk_cmd("dcmdump", names), cwd=Path(cwd)).stdout.decode("latin-1") if names else ""
    err = r.stderr.decode("latin-1")
    statuses = re.findall(r"DIMSE Status\s+: (0x\w+)", err)
    responses = sorted(part.split("# Dicom-Data-Set\n", 1)[1].strip("\n") for part in
                       text.split("# Dicom-File-Format")[1:])
    final = statuses[-1] if statuses and statuses[-1] not in ("0xff00", "0xff01") else "none"
    return Answer(final, sorted(set(s for s in statuses if s in ("0xff00", "0xff01"))),
                  re.findall(r"\(0000,090[12]\).*", err), responses)


def both(env: Env, mode: str, aec: str, keys=(), files=()) -> tuple[Answer, Answer]:
    with ThreadPoolExecutor(2) as pool:
        theirs = pool.submit(find, env.dcmtk[mode].port, aec, keys, files)
        ours = pool.submit(find, env.ours[mode].port, aec, keys, files)
        return theirs.result(), ours.result()


def accessions(answer: Answer) -> set[str]:
    return {m for r in answer.responses for m in re.findall(r"\(0008,0050\) SH \[(\w+)\]", r)}


# ---------------------------------------------------------------------------------------------
# the same answers

def _query_files() -> list[str]:
    return [p.stem + ".dcm" for p in W.SAMPLE_QUERIES] + \
        [f"{n}.dcm" for n in W.QUERY_DUMPS if n not in ("only_unsupported", "sps_as_text")]


FILE_CASES = [("OFFIS", f) for f in _query_files()[:len(W.SAMPLE_QUERIES)]] + \
    [("SEQ", f) for f in _query_files()[len(W.SAMPLE_QUERIES):]] + \
    [("OFFIS", "sps_two_bad.dcm")]

# (area, keys) whose answer differs on purpose: see test_combined_date_time_range_to_end_of_day
OPEN_END = [("DT", ["AccessionNumber", "StudyDate=20240102-20240104", "StudyTime=1000-"]),
            ("DT", ["AccessionNumber", W.S + "ScheduledProcedureStepStartDate=20240102-20240104",
                    W.S + "ScheduledProcedureStepStartTime=1000-"])]
KEY_CASES = [c for c in W.key_queries() if c not in OPEN_END]


@pytest.mark.parametrize("area,name", FILE_CASES, ids=[f"{a}:{n}" for a, n in FILE_CASES])
def test_query_file_same_answers(env, area, name):
    theirs, ours = both(env, "default", area, files=[env.queries / name])
    assert theirs.final != "none", "DCMTK gave no final response"
    assert ours.same() == theirs.same()


@pytest.mark.parametrize("area,keys", KEY_CASES, ids=[f"{a}:{' '.join(k)}" for a, k in KEY_CASES])
def test_matching_key_same_answers(env, area, keys):
    theirs, ours = both(env, "default", area, keys)
    assert theirs.final != "none"
    assert ours.same() == theirs.same()


MODE_CASES = [
    ("nse", "SEQ", [], "rpcs_zero.dcm"), ("nse", "SEQ", [], "rpcs_emptyitem.dcm"),
    ("nse", "SEQ", [], "refstudy_zero.dcm"), ("nse", "SEQ", [], "sps_status.dcm"),
    ("nse", "OFFIS", [], "wlistqry1.dcm"), ("nse", "OFFIS", [], "wlistqry3.dcm"),
    ("cs1", "OFFIS", ["PatientName=VIV*"], None), ("cs1", "OFFIS", ["PatientBirthDate=16780304"], None),
    ("cs1", "OFFIS", [W.S + "ScheduledPerformingPhysicianName", "PatientBirthDate=16780304"], None),
    ("csk", "OFFIS", ["PatientName=VIV*"], None), ("csk", "EFR", ["AccessionNumber", "PatientName"], None),
    ("csk", "PROBE", ["AccessionNumber"], None), ("csk", "SEQ", [], "charset.dcm"),
    ("dfr", "EFR", ["AccessionNumber", W.S + "Modality", W.S + "ScheduledStationAETitle"], None),
    ("dfr", "EFR", ["AccessionNumber", W.S + "Modality=MR"], None),
    ("dfr", "BAD", ["AccessionNumber"], None),
    ("default", "EFR", ["AccessionNumber"], None), ("default", "BAD", ["AccessionNumber"], None),
    ("default", "NOLOCK", ["AccessionNumber"], None), ("default", "OFFIS ", ["AccessionNumber"], None),
    ("nofail", "OFFIS", ["PatientSex=M\\F"], None), ("nofail", "OFFIS", [W.S + "Modality=CT\\MR"], None),
    ("nofail", "PROBE", ["ResponsiblePersonRole=PARENT\\CHILD", "AccessionNumber"], None),
    ("nofail", "OFFIS", ["PatientSex=m"], None), ("nofail", "OFFIS", ["PatientBirthDate=bad"], None),
]


@pytest.mark.parametrize("mode,area,keys,name", MODE_CASES,
                         ids=[f"{m}:{a}:{' '.join(k) or n}" for m, a, k, n in MODE_CASES])
def test_options_same_answers(env, mode, area, keys, name):
    files = [env.queries / name] if name else []
    theirs, ours = both(env, mode, area, keys, files)
    assert theirs.final != "none"
    assert ours.same() == theirs.same()


def test_unknown_called_ae_rejected_like_dcmtk(env):
    for aec in ("NOSUCH", "offis"):
        args = ["-W", "-aec", aec, "-k", "PatientName", "localhost"]
        theirs = run(dcmtk_cmd("findscu", [*args, env.dcmtk["default"].port]))
        ours = run(dcmtk_cmd("findscu", [*args, env.ours["default"].port]))
        assert b"Called AE Title Not Recognized" in theirs.stderr
        assert ours.stderr == theirs.stderr and ours.rc == theirs.rc


def test_edits_show_up_on_the_next_query(env):
    """Records are read for every query: a new .wl file is found, a removed one is gone."""
    area = env.root / "ours" / "PROBE"
    (area / "A9.wl").write_bytes((area / "A1.wl").read_bytes())
    try:
        assert len(find(env.ours["default"].port, "PROBE", ["PatientID=ID1"]).responses) == 2
    finally:
        (area / "A9.wl").unlink()
    assert len(find(env.ours["default"].port, "PROBE", ["PatientID=ID1"]).responses) == 1


# ---------------------------------------------------------------------------------------------
# deliberate differences: what DCMTK 3.6.7 does, and what we do instead

def test_combined_date_time_range_to_end_of_day(env):
    """'d1-d2' with 't1-': DCMTK ends the range at the start of d2, dropping every step on the
    last day; we end it with that day (PS3.4 C.2.2.2.5.1's reading). Otherwise the same."""
    for area, keys in OPEN_END:
        theirs, ours = both(env, "default", area, keys)
        assert theirs.final == ours.final == "0x0000"
        sps_e2 = set() if "Study" in keys[1] else {"E2"}     # E2 has no Study Date
        assert accessions(theirs) == {"212", "217", "307", "312", "317", "E1"} | sps_e2
        assert accessions(ours) - accessions(theirs) == {"407", "412", "417"}


def test_query_of_only_unsupported_keys(env):
    """DCMTK fails to send an empty pending identifier and aborts the association; we send
    'Pending: optional keys not supported' responses (empty identifiers) and Success."""
    name = env.queries / "only_unsupported.dcm"
    theirs, ours = both(env, "default", "SEQ", files=[name])
    assert theirs.final == "none"
    assert (ours.final, ours.pending) == ("0x0000", ["0xff01"])


def test_no_expansion_of_empty_sps(env):
    """-nse with an empty Scheduled Procedure Step Sequence: DCMTK's child crashes (the
    association is aborted); we answer, the sequence left out of the responses."""
    theirs, ours = both(env, "nse", "SEQ", files=[env.queries / "sps_zero.dcm"])
    assert theirs.final == "none"
    assert ours.final == "0x0000" and len(ours.responses) == 1
    assert "(0040,0100)" not in ours.responses[0] and "(0010,0020) LO [SQ1]" in ours.responses[0]


def test_sps_sent_as_text(env):
    """A Scheduled Procedure Step Sequence sent with VR LO: DCMTK's child crashes; we refuse
    the identifier (A900, offending element (0040,0100))."""
    theirs, ours = both(env, "default", "OFFIS", files=[env.queries / "sps_as_text.dcm"])
    assert theirs.final == "none"
    assert ours.final == "0xa900"
    assert ours.details[0].startswith("(0000,0901) AT (0040,0100)")


def test_called_ae_never_leaves_the_data_path(env, tmp_path):
    """CVE-2026-52868: DCMTK appends the called AE title to -dfp, so '../x' serves worklists from
    outside; we reject such titles ('Called AE Title Not Recognized')."""
    for side in ("dcmtk", "ours"):
        outside = env.root / f"outside-{side}"
        outside.mkdir(exist_ok=True)
        (outside / "lockfile").touch()
        (outside / "x.wl").write_bytes((env.root / side / "PROBE" / "A1.wl").read_bytes())
    theirs = find(env.dcmtk["default"].port, "../outside-dcmtk", ["PatientID"])
    ours = run(dcmtk_cmd("findscu", ["-W", "-aec", "../outside-ours", "-k", "PatientID",
                                     "localhost", env.ours["default"].port]))
    assert len(theirs.responses) == 1                      # DCMTK read outside its -dfp
    assert b"Called AE Title Not Recognized" in ours.stderr
    for aec in ("..", ".", "OFFIS/", "/tmp", "..\\OFFIS"):
        r = run(dcmtk_cmd("findscu", ["-W", "-aec", aec, "-k", "PatientID", "localhost",
                                      env.ours["default"].port]))
        assert b"Called AE Title Not Recognized" in r.stderr, aec


def test_called_ae_leading_spaces_are_not_significant(env):
    """' OFFIS': DCMTK rejects it (no folder of that name); PS3.5 makes leading spaces of an AE
    title non-significant, so we serve OFFIS."""
    theirs = run(dcmtk_cmd("findscu", ["-W", "-aec", " OFFIS", "-k", "PatientID=HF", "localhost",
                                       env.dcmtk["default"].port]))
    assert b"Called AE Title Not Recognized" in theirs.stderr
    assert len(find(env.ours["default"].port, " OFFIS", ["PatientID=HF"]).responses) == 3


def test_server_logs_name_bad_files_without_traceback(env):
    """A corrupt, empty or truncated .wl file and a folder named .wl: one warning line each."""
    find(env.ours["default"].port, "BAD", ["PatientID"])
    log = env.ours["default"].log_path.read_text(errors="replace")
    for name in ("garbage.wl", "empty.wl", "truncated.wl", "folder.wl"):
        assert re.search(rf'W: Could not read worklist file "ours/BAD/{name}", file will be ignored: ',
                         log), name
    assert "Traceback" not in log
