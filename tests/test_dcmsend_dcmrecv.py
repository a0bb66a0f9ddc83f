"""dcmsend and dcmrecv against DCMTK 3.6.7's: help, proposals, log lines, the +crf report,
exit codes, multiple associations, decompression, file names; DCMTK's dcmsend and pynetdicom
into our dcmrecv, our dcmsend into DCMTK's dcmrecv, data set bytes compared.

DCMTK's tool and ours run against the same peer (an in-process dcmpy AE that records what it
is asked, DCMTK's storescp/dcmrecv, or ours) and must say and do the same.
"""
from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmnet_interop import corpus_path, dataset_bytes, free_port, server

from dcmpy.dcmnet.scp import AE

CONFIG = "/etc/dcmtk/storescp.cfg"
CT, MR = "pd__CT_small.dcm", "pd__MR_small.dcm"
CT_SOP = "1.2.840.10008.5.1.4.1.1.2"
UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"]


class Peer:
    """An in-process SCP: records each A-ASSOCIATE-RQ, answers C-STORE with ``statuses`` by
    Message ID (cycling), accepts ``classes`` (None: anything) in ``syntaxes`` (None: any)."""

    def __init__(self, classes=None, syntaxes=None, statuses=(0,), refuse=False) -> None:
        self.requests, self.received = [], []
        self.ae = AE("ANY-SCP")
        self.ae.policy.refuse = refuse
        if classes is None:
            self.ae.policy.promiscuous_transfer_syntaxes = syntaxes or ["*"]
        for sop in classes or ():
            self.ae.policy.add(sop, syntaxes or ["*"])
        self.ae.hook("received", self.requests.append)
        self.ae.on("C-ECHO", lambda req: 0)
        self.ae.on("C-STORE", self._store)
        self.statuses = list(statuses)
        self.lock = threading.Lock()
        self.port = self.ae.start(0)

    def _store(self, req) -> int:
        with self.lock:
            self.received.append((req.context.transfer_syntax, bytes(req.dataset or b"")))
        return self.statuses[(req.message.MessageID - 1) % len(self.statuses)]

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc) -> None:
        self.ae.shutdown()

    def proposals(self) -> list[list[tuple[int, str, list[str]]]]:
        return [[(pc.id, pc.abstract_syntax, list(pc.transfer_syntaxes)) for pc in rq.contexts]
                for rq in self.requests]


def both(args, cwd: Path, peer_of=lambda: Peer(), report: bool = False):
    """Run DCMTK's dcmsend and ours with ``args`` (PORT replaced) against fresh peers; returns
    [(result, peer, report text)] for DCMTK, then ours."""
    out = []
    for name, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        with peer_of() as peer:
            full = [str(peer.port) if a == "PORT" else a for a in args]
            if report:
                (cwd / f"{name}.txt").unlink(missing_ok=True)
                full += ["+crf", f"{name}.txt"]
            result = run(cmd("dcmsend", full), cwd=cwd, timeout=120)
        text = (cwd / f"{name}.txt").read_text() if report and (cwd / f"{name}.txt").exists() else None
        out.append((result, peer, text))
    return out


def log_lines(stderr: bytes) -> list[str]:
    return [l for l in stderr.decode(errors="replace").splitlines() if l[:3] in ("F: ", "E: ", "W: ", "I: ")]


def no_date(report: str | None) -> str | None:
    """The report without its date and the peer's (per-run) port."""
    if report is None:
        return None
    return re.sub(r"Current Date/Time  : .*|(?<=Communication Peer : localhost:)\d+", "", report)


def unpadded(data: bytes) -> bytes:
    """A little-endian data set without a final Data Set Trailing Padding (FFFC,FFFC): DCMTK's
    dcmsend drops it, ours sends the data set as the file holds it."""
    at = data.rfind(b"\xfc\xff\xfc\xff")
    if at >= 0 and data[at + 4:at + 8] == b"OB\0\0" and at + 12 + int.from_bytes(data[at + 8:at + 12], "little") == len(data):
        return data[:at]
    return data


def without_probe(log: str) -> list[str]:
    """A dcmrecv log without what DCMTK logs for the test's port probe (connect, close)."""
    out = log_lines(log.encode())
    return [l for l in out if l not in ("I: Association Received localhost:  -> ",
                                         "I: Refusing Association (bad application context)")]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Copies of corpus files under short names, a file that is no DICOM, 5 copies of the CT."""
    d = tmp_path_factory.mktemp("send")
    for name in (CT, MR, "cmp__CT_small__rle.dcm", "cmp__CT_small__jpls.dcm", "cv__CT_small__tb.dcm",
                 "cv__CT_small__ti.dcm", "cv__CT_small__td.dcm", "cv__CT_small__te_undef.dcm",
                 "cmp__rgb__jpeg_baseline.dcm", "cmp__rgb__rle.dcm", "cmp__MR_small__jpeg_lossless.dcm",
                 "cmp__rgb__jpls_near_frag.dcm", "cmp__CT_small__j2k.dcm", "cv__CT_small__ti_bare.dcm"):
        shutil.copy(corpus_path(name), d / name)
    (d / "mix").mkdir()
    for n in range(1, 6):
        shutil.copy(corpus_path(CT), d / "mix" / f"ct{n}.dcm")
    shutil.copy(corpus_path(MR), d / "mix" / "mr.dcm")
    (d / "mix" / "bad.dcm").write_bytes(b"no DICOM here\n")
    return d


# ---------------------------------------------------------------------------------------------
# dcmsend


@pytest.mark.parametrize("tool", ["dcmsend", "dcmrecv"])
def test_help_matches_dcmtk(tool):
    ours, theirs = run(our_cmd(tool, ["--help"])), run(dcmtk_cmd(tool, ["--help"]))
    assert ours.rc == theirs.rc == 0
    assert ours.stdout.split(b"\n", 1)[1] == theirs.stdout.split(b"\n", 1)[1]


PROPOSALS = [
    [CT, MR, "cv__CT_small__tb.dcm", "cv__CT_small__ti.dcm"],
    ["cmp__CT_small__rle.dcm", "cmp__CT_small__jpls.dcm", CT, "cmp__MR_small__jpeg_lossless.dcm"],
    ["cmp__rgb__jpeg_baseline.dcm", "cmp__rgb__jpls_near_frag.dcm"],
    ["+dly", "cmp__rgb__jpeg_baseline.dcm", "cmp__rgb__rle.dcm"],
    ["-dn", "cmp__CT_small__rle.dcm", "cv__CT_small__td.dcm"],
    ["-nip", "cmp__rgb__jpeg_baseline.dcm", "cv__CT_small__te_undef.dcm"],
]


@pytest.mark.parametrize("names", PROPOSALS, ids=lambda n: " ".join(n))
def test_proposals_match_dcmtk(files, names):
    """Same contexts (ids, abstract and transfer syntaxes, order), same log lines."""
    (dcmtk, d_peer, _), (ours, o_peer, _) = both(["-v", "localhost", "PORT", *names], files)
    assert dcmtk.rc == ours.rc == 0, ours.stderr
    assert o_peer.proposals() == d_peer.proposals()
    assert log_lines(ours.stderr) == log_lines(dcmtk.stderr)


@pytest.mark.parametrize("halt", [["-nh"], []], ids=["no-halt", "halt"])
def test_report_and_log_match_dcmtk(files, halt):
    """An SCP that takes only CT and answers success, warning, error, refused and 0x0001 in
    turn: same log lines, same exit code, same report (but for its date)."""
    peer_of = lambda: Peer(classes=[CT_SOP], syntaxes=UNCOMPRESSED,
                           statuses=(0x0000, 0xB000, 0xC000, 0xA700, 0x0001))
    names = [f"mix/{n}" for n in ("bad.dcm", "ct1.dcm", "ct2.dcm", "ct3.dcm", "ct4.dcm", "ct5.dcm", "mr.dcm")]
    if not halt:
        names.remove("mix/bad.dcm")
    (dcmtk, _, d_report), (ours, _, o_report) = both(["-v", *halt, "localhost", "PORT", *names],
                                                    files, peer_of, report=True)
    assert ours.rc == dcmtk.rc
    assert log_lines(ours.stderr) == log_lines(dcmtk.stderr)
    assert no_date(o_report) == no_date(d_report)


def test_report_dataset_sizes_match_dcmtk(files):
    """'Dataset Size' is the data set's length in its own syntax with explicit lengths
    (deflated: inflated), whatever the file holds."""
    names = ["cv__CT_small__td.dcm", "cv__CT_small__te_undef.dcm", "cv__CT_small__tb.dcm",
             "cv__CT_small__ti.dcm", "cmp__CT_small__rle.dcm"]
    (dcmtk, _, d_report), (ours, peer, o_report) = both(["localhost", "PORT", *names], files,
                                                        report=True)
    assert dcmtk.rc == ours.rc == 0
    assert no_date(o_report) == no_date(d_report)
    assert "Dataset Size  : 38870 bytes" in o_report


@pytest.mark.parametrize("case", ["no-input", "bad-file", "missing", "bare-file-only", "refused",
                                  "rejected", "nothing-accepted", "cannot-propose", "report-dir"])
def test_failures_match_dcmtk(files, case):
    """Exit codes and F:/E:/W: lines of DCMTK's dcmsend for each way a run can fail."""
    args, peer_of = ["localhost", "PORT"], lambda: Peer()
    if case == "no-input":
        args += ["mix"]
    elif case == "bad-file":
        args += ["mix/bad.dcm", CT]
    elif case == "missing":
        args += ["nonexist.dcm"]
    elif case == "bare-file-only":
        args += ["cv__CT_small__ti_bare.dcm"]
    elif case == "refused":
        args = ["localhost", str(free_port()), CT]
    elif case == "rejected":
        args += [CT]
        peer_of = lambda: Peer(refuse=True)
    elif case == "nothing-accepted":
        args += [CT, MR]
        peer_of = lambda: Peer(classes=["1.2.840.10008.1.1"])
    elif case == "cannot-propose":
        args += ["-nip", "-dn", "cmp__CT_small__rle.dcm"]
    elif case == "report-dir":
        args += [CT, "+crf", "nodir/report.txt"]
    (dcmtk, _, _), (ours, _, _) = both(args, files, peer_of)
    assert ours.rc == dcmtk.rc and ours.rc in (0, 21, 22, 43, 61, 65)
    wanted = lambda r: [l for l in log_lines(r.stderr) if not l.startswith("I: ")]
    assert wanted(ours) == wanted(dcmtk)
    assert b"Traceback" not in ours.stderr


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """130 files of 130 (private) SOP classes: more presentation contexts than one association
    can carry."""
    from dcmpy.dcmdata.reader import dcmread
    from dcmpy.dcmdata.writer import dcmwrite
    d = tmp_path_factory.mktemp("many")
    for n in range(130):
        ds = dcmread(corpus_path(MR))
        uid = f"1.2.826.0.1.3680043.9.7777.{n + 1}"
        ds.SOPClassUID = uid
        ds.file_meta.MediaStorageSOPClassUID = uid
        dcmwrite(d / f"f{n:03d}.dcm", ds)
    return d


@pytest.mark.parametrize("assoc", ["+ma", "-ma"])
def test_multiple_associations_as_dcmtk(many, assoc):
    names = sorted(p.name for p in many.iterdir() if p.suffix == ".dcm")
    (dcmtk, d_peer, d_report), (ours, o_peer, o_report) = both(
        ["-v", assoc, "localhost", "PORT", *names], many, report=True)
    assert dcmtk.rc == ours.rc == 0
    assert o_peer.proposals() == d_peer.proposals()
    assert len(o_peer.proposals()) == (2 if assoc == "+ma" else 1)
    assert log_lines(ours.stderr) == log_lines(dcmtk.stderr)
    assert no_date(o_report) == no_date(d_report)


DECOMPRESS = [["cmp__CT_small__rle.dcm"], ["cmp__rgb__rle.dcm"], ["cmp__CT_small__jpls.dcm"],
              ["cmp__MR_small__jpeg_lossless.dcm"], ["+dly", "cmp__rgb__jpeg_baseline.dcm"],
              ["+dly", "cmp__rgb__jpls_near_frag.dcm"], ["cv__CT_small__td.dcm"], ["cv__CT_small__tb.dcm"]]


@pytest.mark.parametrize("args", DECOMPRESS, ids=lambda a: " ".join(a))
def test_conversion_for_uncompressed_peer_matches_dcmtk(files, args):
    """To an SCP that takes only uncompressed syntaxes, a compressed (or deflated, or big
    endian) file goes out decompressed, inflated or re-encoded: data set bytes as DCMTK's."""
    peer_of = lambda: Peer(syntaxes=UNCOMPRESSED)
    (dcmtk, d_peer, _), (ours, o_peer, _) = both(["localhost", "PORT", *args], files, peer_of)
    assert dcmtk.rc == ours.rc == 0, ours.stderr
    assert len(o_peer.received) == 1
    assert [(ts, unpadded(data)) for ts, data in o_peer.received] == d_peer.received


def test_jpeg2000_is_decompressed_where_dcmtk_cannot(files, tmp_path):
    """Deliberate difference: DCMTK 3.6.7 has no JPEG 2000 decoder, proposes the file's syntax
    alone and cannot send it to an SCP without JPEG 2000; ours also proposes the uncompressed
    syntaxes and sends pixel data as GDCM decodes it."""
    name = "cmp__CT_small__j2k.dcm"
    peer_of = lambda: Peer(syntaxes=UNCOMPRESSED)
    (dcmtk, d_peer, _), (ours, o_peer, _) = both(["-nh", "localhost", "PORT", name], files, peer_of)
    assert d_peer.proposals()[0][0][2] == ["1.2.840.10008.1.2.4.90"] and d_peer.received == []
    assert o_peer.proposals()[0][0][2] == ["1.2.840.10008.1.2.4.90", *UNCOMPRESSED]
    assert dcmtk.rc == ours.rc == 0 and len(o_peer.received) == 1
    raw = tmp_path / "raw.dcm"
    assert run(["gdcmconv", "--raw", files / name, raw]).rc == 0
    pixel = lambda data: data[data.rindex(b"\xe0\x7f\x10\x00") + 12:]
    assert pixel(o_peer.received[0][1]) == pixel(dataset_bytes(raw)[1])


def test_odd_length_deflated_stream_is_padded(files, tmp_path):
    """A deflated data set of odd length goes out with its pad byte: DCMTK's storescp refuses
    odd PDVs ('Odd Fragment Length')."""
    assert (files / "cv__CT_small__td.dcm").stat().st_size % 2 == 1
    with server(lambda p: dcmtk_cmd("storescp", ["-od", tmp_path, "+xd", p])) as srv:
        r = run(our_cmd("dcmsend", ["localhost", srv.port, files / "cv__CT_small__td.dcm"]))
    assert r.rc == 0, r.stderr
    got = next(tmp_path.iterdir())
    dump = lambda p: re.sub(rb"\n\(fffc,fffc\)[^\n]*", b"",    # storescp drops the padding
                            run(dcmtk_cmd("dcmdump", ["-M", p])).stdout.split(b"# Dicom-Data-Set")[1])
    assert dump(got) == dump(files / "cv__CT_small__td.dcm")


# ---------------------------------------------------------------------------------------------
# dcmrecv


def recv_servers(tmp_path: Path, *args):
    for side in ("ours", "dcmtk"):
        (tmp_path / side).mkdir(exist_ok=True)
    return (server(lambda p: our_cmd("dcmrecv", ["-v", "-od", tmp_path / "ours", *args, p])),
            server(lambda p: dcmtk_cmd("dcmrecv", ["-v", "-od", tmp_path / "dcmtk", *args, p])))


def tree(root: Path) -> dict[str, tuple]:
    return {str(p.relative_to(root)): dataset_bytes(p) for p in sorted(root.rglob("*")) if p.is_file()}


SENT = [CT, MR, "cmp__CT_small__rle.dcm", "cv__CT_small__te_undef.dcm", "cv__CT_small__ti.dcm"]


@pytest.mark.parametrize("opts", [[], ["+ssd", "-fe", ".dcm"], ["+B"]], ids=["default", "+ssd -fe", "+B"])
def test_dcmrecv_matches_dcmtk(files, tmp_path, opts):
    """DCMTK's dcmsend, echoscu and storescu (--abort, and a proposal nothing matches) against
    DCMTK's dcmrecv and ours: same files (names, folders, data set bytes), same log lines."""
    ours_srv, dcmtk_srv = recv_servers(tmp_path, "-xf", CONFIG, "Default", *opts)
    with ours_srv as ours, dcmtk_srv as theirs:
        for srv in (ours, theirs):
            assert run(dcmtk_cmd("echoscu", ["localhost", srv.port])).rc == 0
            assert run(dcmtk_cmd("dcmsend", ["localhost", srv.port, *SENT]), cwd=files).rc == 0
            assert run(dcmtk_cmd("storescu", ["--abort", "localhost", srv.port, CT]), cwd=files).rc == 0
            assert run(dcmtk_cmd("echoscu", ["-xf", "/dev/null", "x", "localhost", srv.port])).rc == 1
        ours.wait_for("Received Association Abort Request")
    assert tree(tmp_path / "ours") == tree(tmp_path / "dcmtk")
    assert len(tree(tmp_path / "ours")) == 2
    strip = lambda log: [l.replace(str(tmp_path / "dcmtk"), "OUT").replace(str(tmp_path / "ours"), "OUT")
                         for l in without_probe(log)]
    assert strip(ours.log) == strip(theirs.log)


def test_our_dcmsend_into_dcmtk_dcmrecv_and_pynetdicom_into_ours(files, tmp_path):
    """Objects arrive with the source's data set bytes (+B): our dcmsend into DCMTK's dcmrecv,
    pynetdicom's storage SCU into our dcmrecv."""
    from pynetdicom import AE as PynetAE
    from pynetdicom.sop_class import CTImageStorage, MRImageStorage
    import pydicom
    ours_srv, dcmtk_srv = recv_servers(tmp_path, "-xf", CONFIG, "Default", "+B")
    sent = ["cv__CT_small__ti.dcm", MR, "cmp__CT_small__rle.dcm", CT]
    with ours_srv as ours, dcmtk_srv as theirs:
        r = run(our_cmd("dcmsend", ["-v", "localhost", theirs.port, *sent]), cwd=files)
        assert r.rc == 0, r.stderr
        ae = PynetAE(ae_title="PYNETDICOM")
        ae.add_requested_context(CTImageStorage, ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])
        ae.add_requested_context(MRImageStorage, ["1.2.840.10008.1.2.1"])
        assoc = ae.associate("127.0.0.1", ours.port)
        assert assoc.is_established
        for name in (CT, MR):
            assert assoc.send_c_store(pydicom.dcmread(files / name)).Status == 0
        assoc.release()
    received = tree(tmp_path / "dcmtk")
    assert received["CT.1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"] == dataset_bytes(files / sent[-1])
    assert received["MR.1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"] == dataset_bytes(files / MR)
    mine = tree(tmp_path / "ours")
    assert mine["MR.1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"] == dataset_bytes(files / MR)
    assert mine["CT.1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"][1] == dataset_bytes(files / CT)[1]


NAMES = {"+fu": r"CT\.X\.[0-9.]+\.dcm", "+fsu": r"CT_[0-9a-f]{16}\.dcm",
         "+fst": r"\d{14}\.\d{6}\.CT\.dcm"}


@pytest.mark.parametrize("naming", sorted(NAMES))
def test_dcmrecv_naming_as_dcmtk(files, tmp_path, naming):
    ours_srv, dcmtk_srv = recv_servers(tmp_path, "-xf", CONFIG, "Default", naming, "-fe", ".dcm")
    with ours_srv as ours, dcmtk_srv as theirs:
        for srv in (ours, theirs):
            assert run(dcmtk_cmd("storescu", ["localhost", srv.port, CT, CT]), cwd=files).rc == 0
    for side in ("ours", "dcmtk"):
        names = sorted(p.name for p in (tmp_path / side).iterdir())
        assert len(names) == 2 and all(re.fullmatch(NAMES[naming], n) for n in names), names


@pytest.mark.parametrize("args", [["-od", "/nonexist", "PORT"], ["-xf", "/nonexist.cfg", "Default", "PORT"],
                                  ["-xf", CONFIG, "NoSuch", "PORT"], ["+B", "+ssd", "PORT"],
                                  ["BUSY"], ["0"], ["-xf", "BADCFG", "Default", "PORT"]],
                         ids=lambda a: " ".join(a))
def test_dcmrecv_startup_errors_match_dcmtk(tmp_path, args):
    busy = __import__("socket").create_server(("", 0))
    bad = tmp_path / "bad.cfg"
    bad.write_text("[[TransferSyntaxes]]\n")
    full = [str(free_port()) if a == "PORT" else str(busy.getsockname()[1]) if a == "BUSY"
            else str(bad) if a == "BADCFG" else a for a in args]
    try:
        ours, theirs = run(our_cmd("dcmrecv", full), timeout=30), run(dcmtk_cmd("dcmrecv", full), timeout=30)
    finally:
        busy.close()
    assert ours.rc == theirs.rc != 0
    fatal = lambda r: [l for l in log_lines(r.stderr) if l.startswith("F: ")] or r.stderr.splitlines()[-1:]
    if "BADCFG" not in args:                # ours names the line; DCMTK a missing section
        assert fatal(ours) == fatal(theirs)
    assert b"Traceback" not in ours.stderr


def test_dcmrecv_refuses_proposals_it_cannot_accept(files, tmp_path):
    """Without -xf only Verification is accepted; a storage-only association is rejected."""
    ours_srv, dcmtk_srv = recv_servers(tmp_path)
    with ours_srv as ours, dcmtk_srv as theirs:
        for srv in (ours, theirs):
            r = run(our_cmd("storescu", ["-R", "localhost", srv.port, CT]), cwd=files)
            assert r.rc == 1 and b"Association Rejected" in r.stderr
            assert run(our_cmd("echoscu", ["localhost", srv.port])).rc == 0
        ours.wait_for("Received Association Release Request")
    assert without_probe(ours.log) == without_probe(theirs.log)


def test_read_from_dicomdir_as_dcmtk(tmp_path):
    """+rd sends the files a DICOMDIR (made by DCMTK's dcmgpdir) references: same proposals,
    log lines and report."""
    (tmp_path / "IMG").mkdir()
    shutil.copy(corpus_path(CT), tmp_path / "IMG" / "CT1")
    shutil.copy(corpus_path(MR), tmp_path / "IMG" / "MR1")
    assert run(dcmtk_cmd("dcmgpdir", ["+r", "IMG"]), cwd=tmp_path).rc == 0
    (dcmtk, d_peer, d_report), (ours, o_peer, o_report) = both(
        ["-v", "+rd", "localhost", "PORT", "DICOMDIR"], tmp_path, report=True)
    assert dcmtk.rc == ours.rc == 0
    assert o_peer.proposals() == d_peer.proposals() and len(o_peer.received) == 2
    assert log_lines(ours.stderr) == log_lines(dcmtk.stderr)
    assert no_date(o_report) == no_date(d_report) and "Filename      : IMG/MR1" in o_report
