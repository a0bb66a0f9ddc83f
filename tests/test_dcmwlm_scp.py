"""wlmscpfs beyond the query answers: MPPS N-CREATE/N-SET with pynetdicom, C-CANCEL, many
associations at once, hostile peers and AE titles, request files, the lockfile, the command
line against DCMTK's, and the library's rules on their own."""
from __future__ import annotations

import fcntl
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from pydicom.dataset import Dataset as PDataset
from pydicom.sequence import Sequence as PSequence
from pynetdicom import AE as PAE
from pynetdicom.sop_class import ModalityPerformedProcedureStep, ModalityWorklistInformationFind

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmwlm import Server, dump2dcm, find, our_convert
import test_dcmwlm_data as W

from dcmpy.dcmwlm.matching import date_time_matches, invalid_value, text_matches
from dcmpy.dcmwlm.requestfile import request_file_name
from dcmpy.dcmwlm.store import is_complete, safe_ae_folder

MPPS_UID = "1.2.826.0.1.3680043.8.498.1234"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Our wlmscpfs (and DCMTK's, for the comparisons) over the sample worklists; ours with
    --mpps-dir and -rfp, both slowed down per response for the C-CANCEL test."""
    root = tmp_path_factory.mktemp("wlmscp")
    for side, convert in (("dcmtk", dump2dcm), ("ours", our_convert)):
        area = root / side / "OFFIS"
        area.mkdir(parents=True)
        (area / "lockfile").touch()
        for path in W.SAMPLES:
            convert(path, area / (path.stem + ".wl"))
        (root / f"rfp-{side}").mkdir()
    (root / "mpps").mkdir()
    ours = Server(lambda p: our_cmd("wlmscpfs", ["-v", "-dfp", "ours", "--mpps-dir", "mpps",
                                                 "-rfp", "rfp-ours", "-rff", "#c_#p.dump", p]), root)
    dcmtk = Server(lambda p: dcmtk_cmd("wlmscpfs", ["-v", "-dfp", "dcmtk", "-rfp", "rfp-dcmtk", "-rff",
                                                    "#c_#p.dump", p]), root)
    slow = {side: Server(lambda p, s=side, t=tool: t("wlmscpfs", ["--sleep-during", "1", "-dfp", s, p]), root)
            for side, tool in (("ours", our_cmd), ("dcmtk", dcmtk_cmd))}
    servers = [ours, dcmtk, *slow.values()]
    try:
        for srv in servers:
            srv.wait()
        yield {"root": root, "ours": ours, "dcmtk": dcmtk, "slow": slow}
    finally:
        for srv in servers:
            srv.stop()


def _associate(port: int, *contexts, called: str = "OFFIS"):
    ae = PAE(ae_title="MODALITY")
    for ctx in contexts:
        ae.add_requested_context(ctx)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    assert assoc.is_established
    return assoc


def _mpps_create(status: str = "IN PROGRESS") -> PDataset:
    ds = PDataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    step = PDataset()
    step.StudyInstanceUID = "1.2.276.0.7230010.3.2.101"
    step.AccessionNumber = "00000"
    step.ScheduledProcedureStepID = "SPD3445"
    ds.ScheduledStepAttributesSequence = PSequence([step])
    ds.PatientName = "VIVALDI^ANTONIO"
    ds.PatientID = "AV35674"
    ds.PerformedStationAETitle = "MODALITY"
    ds.PerformedProcedureStepStartDate = "20240101"
    ds.PerformedProcedureStepStartTime = "101500"
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepID = "PPS1"
    ds.Modality = "MR"
    ds.PerformedProcedureStepEndDate = None
    ds.PerformedProcedureStepEndTime = None
    ds.PerformedSeriesSequence = PSequence([])
    return ds


def _dump(path: Path) -> str:
    r = run(dcmtk_cmd("dcmdump", [path]))
    assert r.rc == 0, r.stderr
    return r.stdout.decode("latin-1")


# ---------------------------------------------------------------------------------------------
# MPPS

def test_mpps_create_and_complete(site):
    assoc = _associate(site["ours"].port, ModalityPerformedProcedureStep)
    try:
        status, _ = assoc.send_n_create(_mpps_create(), ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0000
        stored = site["root"] / "mpps" / f"{MPPS_UID}.dcm"
        text = _dump(stored)           # DCMTK reads what we stored
        assert "(0040,0252) CS [IN PROGRESS]" in text and "(0010,0010) PN [VIVALDI^ANTONIO]" in text
        assert f"(0008,0018) UI [{MPPS_UID}]" in text and "(0002,0002) UI =ModalityPerformedProcedureStep" in text

        status, _ = assoc.send_n_create(_mpps_create(), ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0111                              # duplicate instance

        premature = PDataset()
        premature.PerformedProcedureStepStatus = "COMPLETED"
        status, _ = assoc.send_n_set(premature, ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0121                              # no end date/time yet
        assert "IN PROGRESS" in _dump(stored)

        forbidden = PDataset()
        forbidden.PatientID = "OTHER"
        status, _ = assoc.send_n_set(forbidden, ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0106

        done = PDataset()
        done.PerformedProcedureStepStatus = "COMPLETED"
        done.PerformedProcedureStepEndDate = "20240101"
        done.PerformedProcedureStepEndTime = "103000"
        series = PDataset()
        series.SeriesInstanceUID = "1.2.3.4"
        series.PerformingPhysicianName = ""
        done.PerformedSeriesSequence = PSequence([series])
        status, _ = assoc.send_n_set(done, ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0000
        text = _dump(stored)
        assert "(0040,0252) CS [COMPLETED]" in text and "(0040,0251) TM [103000]" in text
        assert "(0020,000e) UI [1.2.3.4]" in text

        again = PDataset()
        again.PerformedProcedureStepStatus = "DISCONTINUED"
        status, _ = assoc.send_n_set(again, ModalityPerformedProcedureStep, MPPS_UID)
        assert status.Status == 0x0110 and status.ErrorID == 0xA710   # final: no more changes
        assert "COMPLETED" in _dump(stored)
    finally:
        assoc.release()


def test_mpps_refusals(site):
    assoc = _associate(site["ours"].port, ModalityPerformedProcedureStep)
    try:
        status, _ = assoc.send_n_create(_mpps_create("COMPLETED"), ModalityPerformedProcedureStep,
                                        MPPS_UID + ".1")
        assert status.Status == 0x0106                              # must start IN PROGRESS
        missing = _mpps_create()
        del missing.PerformedProcedureStepID
        status, _ = assoc.send_n_create(missing, ModalityPerformedProcedureStep, MPPS_UID + ".2")
        assert status.Status == 0x0120
        status, _ = assoc.send_n_set(_mpps_create(), ModalityPerformedProcedureStep, "1.2.3.999")
        assert status.Status in (0x0106, 0x0112)
        change = PDataset()
        change.PerformedProcedureStepDescription = "x"
        status, _ = assoc.send_n_set(change, ModalityPerformedProcedureStep, "1.2.3.999")
        assert status.Status == 0x0112                              # no such instance
        status, _ = assoc.send_n_create(_mpps_create(), ModalityPerformedProcedureStep)
        assert status.Status == 0x0000                              # the SCP chose the UID
    finally:
        assoc.release()
    assert not (site["root"] / "mpps" / f"{MPPS_UID}.1.dcm").exists()
    assert len(list((site["root"] / "mpps").glob("2.25.*.dcm"))) == 1


def test_mpps_instance_uid_never_names_a_path(site):
    """An Affected SOP Instance UID like '../../x' is refused (0117), nothing is written."""
    from dcmpy.dcmnet import associate
    from dcmpy.dcmnet.dimse import Message
    from dcmpy.dcmwlm.scp import encode_response
    from dcmpy.dcmdata.dataset import Dataset
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    data = encode_response(ds, "1.2.840.10008.1.2")
    with associate("127.0.0.1", site["ours"].port, [(ModalityPerformedProcedureStep, ["1.2.840.10008.1.2"])],
                   called_ae="OFFIS") as assoc:
        for bad in ("../../evil", "1.2/../../3", "..", "1.2.3" + "4" * 70):
            msg = Message("N-CREATE-RQ", 1, AffectedSOPClassUID=ModalityPerformedProcedureStep,
                          AffectedSOPInstanceUID=bad)
            rsp = list(assoc.send_request(msg, data))[-1]
            assert rsp.Status == 0x0117, bad
    assert not list(site["root"].glob("evil*")) and not list(site["root"].parent.glob("evil*"))


# ---------------------------------------------------------------------------------------------
# C-FIND service behaviour

def test_pynetdicom_query(site):
    assoc = _associate(site["ours"].port, ModalityWorklistInformationFind)
    try:
        query = PDataset()
        query.PatientName = "HAYDN*"
        step = PDataset()
        step.Modality = ""
        step.ScheduledProcedureStepStartDate = "19930101-19951231"
        query.ScheduledProcedureStepSequence = PSequence([step])
        found = [(s.Status, ds) for s, ds in assoc.send_c_find(query, ModalityWorklistInformationFind)]
    finally:
        assoc.release()
    assert [s for s, _ in found] == [0xFF00, 0xFF00, 0x0000]
    assert sorted(ds.ScheduledProcedureStepSequence[0].Modality for _, ds in found[:-1]) == ["CR", "CT"]


def test_c_cancel_stops_the_responses(site):
    """DCMTK's findscu --cancel 1 against both servers slowed to one response a second: the
    final status is Cancel, after at most the first responses (DCMTK's server does the same)."""
    for side in ("dcmtk", "ours"):
        r = run(dcmtk_cmd("findscu", ["-v", "-W", "--cancel", "1", "-aec", "OFFIS", "-k", "PatientName",
                                      "localhost", site["slow"][side].port]), timeout=60)
        log = r.stderr.decode()
        assert "Received Final Find Response (Cancel" in log, (side, log)
        assert len(re.findall(r"Received Find Response \d+ \(Pending\)", log)) <= 2, side


def _filtered(server: Server, start: int, side: str, keep: re.Pattern) -> list[str]:
    text = server.log_path.read_bytes()[start:].decode("latin-1")
    return sorted(line.replace(f'"{side}/', '"DFP/') for line in text.splitlines()
                  if keep.match(line) and " -> )" not in line)     # not the start-up probe


def test_verbose_log_lines_match_dcmtk(site):
    """-v: the main events' lines are DCMTK's (file order aside: DCMTK lists the folder in
    directory order, we sort by name). DCMTK's forked children log late: read until equal."""
    keep = re.compile(r"(I: Association (Received|Acknowledged|Release)|I: Checking whether|"
                      r"I: Information from|I: Matching results|I: Worklist Find SCP Response|"
                      r"I: Find SCP Request Identifiers|I: Expanded Find|I: Determining|"
                      r"I: Checking the search mask|I:   - Unsupported|I:     This attribute|W: |E: )")
    starts = {side: site[side].log_path.stat().st_size for side in ("dcmtk", "ours")}
    for side in ("dcmtk", "ours"):
        run(dcmtk_cmd("findscu", ["-W", "-aec", "OFFIS", "-k", "PatientName=H*", "-k", "PatientAge",
                                  "localhost", site[side].port]))
    deadline = time.monotonic() + 20
    while True:
        lines = {side: _filtered(site[side], starts[side], side, keep) for side in starts}
        if lines["ours"] == lines["dcmtk"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert lines["ours"] == lines["dcmtk"]
    assert "I: Worklist Find SCP Response 4 (Success)" in lines["ours"]


def test_many_associations_at_once(site):
    results: list[int] = []

    def one() -> None:
        assoc = _associate(site["ours"].port, ModalityWorklistInformationFind)
        query = PDataset()
        query.PatientID = ""
        results.append(sum(1 for s, _ in assoc.send_c_find(query, ModalityWorklistInformationFind)
                           if s.Status == 0xFF00))
        assoc.release()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [10] * 20


def test_hostile_peers_cost_nothing(site):
    """Garbage instead of a PDU, a huge PDU length, a connection left silent: each is dropped;
    the next association works."""
    port = site["ours"].port
    for payload in (b"GET / HTTP/1.0\r\n\r\n", b"\x01\x00\xff\xff\xff\xff" + b"x" * 100, b""):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(35)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
    assert len(find(port, "OFFIS", ["PatientID=HF"]).responses) == 3


@pytest.mark.parametrize("called", ["../OFFIS", "OFF\x00IS", "OFF/IS", ".OFFIS", "..", "OFFIS\\..",
                                    "\x1b[31m"])
def test_hostile_called_ae_titles_rejected(site, called):
    from dcmpy.dcmnet import associate
    from dcmpy.dcmnet.association import AssociationRejected
    with pytest.raises(AssociationRejected) as info:
        associate("127.0.0.1", site["ours"].port, [("1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
                  called_ae=called)
    assert (info.value.rj.source, info.value.rj.reason) == (1, 7)


def test_lockfile_held_by_a_writer_delays_the_query(site):
    """A writer holding the lockfile exclusively: the query waits for it (DCMTK's read lock)."""
    lockfile = site["root"] / "ours" / "OFFIS" / "lockfile"
    with open(lockfile, "r+") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        answer: list = []
        t = threading.Thread(target=lambda: answer.append(find(site["ours"].port, "OFFIS", ["PatientID=HF"])))
        t.start()
        t.join(0.5)
        assert t.is_alive()                   # still waiting for the lock
        fcntl.lockf(f, fcntl.LOCK_UN)
    t.join(30)
    assert len(answer[0].responses) == 3


def test_request_files(site):
    """-rfp: the same dump text as DCMTK's request file (values without trailing padding);
    '#p' from a hostile Patient ID stays inside the folder (DCMTK writes outside: CVE-2026-52868)."""
    root = site["root"]
    for side in ("dcmtk", "ours"):
        run(dcmtk_cmd("findscu", ["-W", "-aec", "OFFIS", "-k", "PatientID=HF", "-k", "PatientName",
                                  "localhost", site[side].port]))
    theirs = (root / "rfp-dcmtk" / "OFFIS_HF.dump").read_text()
    ours = (root / "rfp-ours" / "OFFIS_HF.dump").read_text()
    assert ours == re.sub(r" +\]", "]", theirs)
    (root / "rfp-dcmtk" / "OFFIS_sub").mkdir()
    for side in ("dcmtk", "ours"):
        run(dcmtk_cmd("findscu", ["-W", "-aec", "OFFIS", "-k", "PatientID=sub/../../esc",
                                  "localhost", site[side].port]))
    assert (root / "esc.dump").exists()                       # DCMTK wrote above its -rfp
    assert [p.name for p in (root / "rfp-ours").glob("*esc*")] == ["OFFIS_sub_.._.._esc.dump"]


# ---------------------------------------------------------------------------------------------
# the command line

def test_help_matches_dcmtk():
    ours, theirs = run(our_cmd("wlmscpfs", ["--help"])), run(dcmtk_cmd("wlmscpfs", ["--help"]))
    assert ours.rc == theirs.rc == 0
    mine = re.sub(rb"  modality performed procedure step \(dcmpy\):\n(?: {8,}.*\n)+", b"", ours.stdout)
    assert mine.splitlines()[1:] == theirs.stdout.splitlines()[1:]


@pytest.mark.parametrize("args", [["-dfp", "/nonexistent", "PORT"], ["-rfp", "/nonexistent", "PORT"],
                                  ["70000"], ["abc"], ["--max-associations", "0", "PORT"],
                                  ["-pdu", "100", "PORT"], ["--bogus", "PORT"]])
def test_command_line_errors_like_dcmtk(tmp_path, args):
    """Each fails before listening (PORT is a free port, in case one did not)."""
    args = [a if a != "PORT" else str(_busy_port()) for a in args]
    ours, theirs = run(our_cmd("wlmscpfs", args), cwd=tmp_path), run(dcmtk_cmd("wlmscpfs", args), cwd=tmp_path)
    assert ours.rc == theirs.rc == 1

    def errors(text: bytes) -> list[bytes]:
        return [line for line in text.splitlines() if line.startswith((b"E:", b"F:", b"error:"))]
    assert errors(ours.stderr) == errors(theirs.stderr)


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("", 0))
        s.listen()
        port = s.getsockname()[1]
        ours, theirs = (run(tool("wlmscpfs", [port]), cwd=tmp_path) for tool in (our_cmd, dcmtk_cmd))
    assert ours.rc == theirs.rc == 1
    assert b"E: Initialization of network connection failed." in ours.stderr
    assert b"E: Initialization of network connection failed." in theirs.stderr


def _busy_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# the library's rules on their own

def test_safe_ae_folder():
    assert safe_ae_folder("OFFIS  ") == "OFFIS" and safe_ae_folder(" A B ") == "A B"
    for bad in ("", "   ", "..", ".", ".hidden", "a/b", "a\\b", "a\x00b", "C:x", "x" * 65, "\x7f"):
        assert safe_ae_folder(bad) is None, bad


def test_request_file_name_placeholders():
    name = request_file_name("#a_#c_#p_#t.dump", "../../x", "A/B", "..\\..\\y\x00")
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert re.fullmatch(r"_\._\.\._x_A_B__\._\.\._y_\d{20}\.dump", name), name


def test_matching_rules():
    assert invalid_value("CS", "CT\\MR") and invalid_value("CS", "ct") and not invalid_value("CS", "C?")
    assert invalid_value("DA", "2024.01.01") and not invalid_value("DA", "20240101-")
    assert invalid_value("TM", "1260") and not invalid_value("TM", "12-133000.5")
    assert text_matches("wildcard", "D?e*", "Doe^John") and not text_matches("wildcard", "d*", "Doe")
    assert not text_matches("single", "H*", "HF") and text_matches("single", "*", None)
    assert text_matches("single", "AA33", "AA32\\AA33")
    assert date_time_matches("20240102-20240104", "1000-1400", "20240104", "1400")
    assert not date_time_matches("20240102-20240104", "1000-1400", "20240104", "1401")
    assert date_time_matches("20240103", "-1400", "20240103", None)        # no time: midnight
    assert date_time_matches("20240102-20240104", "1000-", "20240104", "2359")  # our end of day


def test_completeness_against_dcmtk(tmp_path):
    """is_complete on the EFR records agrees with DCMTK's -efr (records it returned)."""
    from dcmpy.dcmdata.reader import dcmread
    kept = {"E00", "E03", "E08"}
    for name, text in W.EFR.items():
        (tmp_path / f"{name}.dump").write_text(text)
        our_convert(tmp_path / f"{name}.dump", tmp_path / f"{name}.wl")
        assert is_complete(dcmread(tmp_path / f"{name}.wl")) == (name in kept), name
