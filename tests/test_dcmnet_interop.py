"""Interop matrix of the network tools: ours against DCMTK 3.6.7 and pynetdicom, both directions.

Real sockets on 127.0.0.1 with free ports; servers are killed in ``finally``. Objects must
arrive byte for byte (data set bytes compared after the meta header, which differs by
implementation UID), or, when DCMTK's storescu re-encodes what it sends, as identical
``dcmdump`` text.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run, tool_env

CORPUS = Path(__file__).resolve().parent / ".corpus"
WAIT = 20.0

# corpus files sent in their own transfer syntax (name -> the -x option DCMTK's storescu needs)
UNCOMPRESSED = ["pd__CT_small.dcm", "pd__MR_small.dcm", "cv__CT_small__ti.dcm", "cv__CT_small__tb.dcm",
                "cv__MR_small__te_undef.dcm", "cv__rtplan__tb.dcm", "pd__rtplan.dcm",
                "cv__waveform_ecg__ti.dcm", "cv__test-SR__tb_gl.dcm"]
ENCAPSULATED = {"cmp__CT_small__rle.dcm": "-xr", "cmp__rgb__rle.dcm": "-xr",
                "cmp__rgb__jpeg_baseline.dcm": "-xy", "cmp__CT_small__jpls.dcm": "-xt",
                "cmp__rgb__jpls_near_frag.dcm": "-xu", "cmp__CT_small__j2k.dcm": "-xv",
                "cmp__CT_small__jpeg_baseline_nobot.dcm": "-xy"}
# JPEG lossless process 14 (not SV1): DCMTK 3.6.7 neither proposes nor accepts it
PROCESS14 = ["cmp__MR_small__jpeg_lossless.dcm", "cmp__CT_small__jpeg_lossless_frag.dcm"]


# ---------------------------------------------------------------------------------------------
# helpers (also used by the other test_dcmnet_* files)


def corpus_path(name: str) -> Path:
    import corpus
    return corpus.ensure_corpus() / name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen | None = None, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}): "
                               f"{proc.stderr.read().decode(errors='replace') if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Server:
    """A server process on a free port; ``log`` holds its stderr after ``stop``."""

    def __init__(self, cmd: list[str], port: int, cwd: Path | None = None) -> None:
        self.port, self.log = port, ""
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self._err: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self._err.append(line)

    def wait_for(self, text: str, count: int = 1, timeout: float = 20) -> None:
        """Wait until the server has logged ``text`` ``count`` times (its threads log after
        the client has gone: stopping it at once would race them)."""
        deadline = time.monotonic() + timeout
        while b"".join(self._err).decode(errors="replace").count(text) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return
            time.sleep(0.05)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(10)
        self.log = b"".join(self._err).decode(errors="replace")
        return self.log


@contextmanager
def server(cmd_of_port, cwd: Path | None = None):
    """Run ``cmd_of_port(port)`` as a server for the block; always stopped afterwards."""
    port = free_port()
    srv = Server(cmd_of_port(port), port, cwd)
    try:
        wait_listening(port, srv.proc)
        yield srv
    finally:
        srv.stop()


def our_storescp(outdir: Path, *args: str):
    return server(lambda port: our_cmd("storescp", ["-od", outdir, *args, port]))


def dcmtk_storescp(outdir: Path, *args: str):
    return server(lambda port: dcmtk_cmd("storescp", ["-od", outdir, *args, port]))


def dataset_bytes(path: Path) -> tuple[str, bytes]:
    """(transfer syntax UID, data set bytes) of a Part 10 file, read independently of dcmpy."""
    data = path.read_bytes()
    assert data[128:132] == b"DICM", path
    tag, vr, length, glen = struct.unpack("<I2sHI", data[132:144])
    assert tag == 0x00000002 and vr == b"UL"
    meta_end = 144 + glen
    meta = data[144:meta_end]
    pos, ts = 0, ""
    while pos < len(meta):
        group, elem, vr = struct.unpack("<HH2s", meta[pos:pos + 6])
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            n = struct.unpack("<I", meta[pos + 8:pos + 12])[0]
            head = 12
        else:
            n = struct.unpack("<H", meta[pos + 6:pos + 8])[0]
            head = 8
        if elem == 0x0010:
            ts = meta[pos + head:pos + head + n].decode().rstrip("\0 ")
        pos += head + n
    return ts, data[meta_end:]


def received(outdir: Path) -> dict[str, Path]:
    """SOP Instance UID (from the file name ``MOD.UID``) -> file."""
    return {p.name.split(".", 1)[1]: p for p in outdir.iterdir() if not p.name.startswith(".")}


def sop_instance(path: Path) -> str:
    import pydicom
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def dump_dataset(path: Path) -> str:
    """DCMTK's dcmdump of the data set only (no meta header), for semantic comparison."""
    r = run(dcmtk_cmd("dcmdump", ["+L", "-q", path]))
    text = r.stdout.decode(errors="replace")
    return text.split("# Dicom-Data-Set", 1)[-1]


# ---------------------------------------------------------------------------------------------
# echo


def test_our_echoscu_against_dcmtk_and_pynetdicom(tmp_path):
    with dcmtk_storescp(tmp_path) as srv:
        r = run(our_cmd("echoscu", ["-v", "--repeat", "2", "localhost", srv.port]))
        d = run(dcmtk_cmd("echoscu", ["-v", "--repeat", "2", "localhost", srv.port]))
    assert r.rc == 0 and d.rc == 0
    assert r.stderr == d.stderr            # the -v lines, word for word
    pn = pynetdicom_scp(tmp_path)
    try:
        r = run(our_cmd("echoscu", ["-v", "-aec", "PYNET", "--abort", "localhost", pn.port]))
    finally:
        pn.shutdown()
    assert r.rc == 0, r.stderr
    assert b"I: Received Echo Response (Success)\nI: Aborting Association" in r.stderr


def test_dcmtk_and_pynetdicom_echo_our_storescp(tmp_path):
    with our_storescp(tmp_path, "-v") as srv:
        d = run(dcmtk_cmd("echoscu", ["-v", "-pts", "38", "-ppc", "128", "--repeat", "3",
                                      "localhost", srv.port]))
        from pynetdicom import AE
        ae = AE()
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = ae.associate("127.0.0.1", srv.port)
        assert assoc.is_established
        status = assoc.send_c_echo()
        assoc.release()
        srv.wait_for("I: Association Release", 2)
    assert d.rc == 0, d.stderr
    assert d.stderr.count(b"Received Echo Response (Success)") == 3
    assert status.Status == 0
    assert srv.log.count("I: Received Echo Request (MsgID 1)") == 2
    assert srv.log.count("I: Association Release") == 2


def test_echoscu_failures_match_dcmtk(tmp_path):
    port = free_port()          # nothing listens there
    for args in (["localhost", port], ["localhost", "abc"], ["localhost", "0"], ["-pdu", "100", "localhost", "104"],
                 ["nosuchhost.invalid", "104"]):
        ours, theirs = run(our_cmd("echoscu", args)), run(dcmtk_cmd("echoscu", args))
        assert ours.rc == theirs.rc == 1, args
        assert ours.stderr.replace(b"dcmpy", b"dcmtk").splitlines()[-1] == theirs.stderr.splitlines()[-1]
    with dcmtk_storescp(tmp_path, "--refuse") as srv:
        ours = run(our_cmd("echoscu", ["localhost", srv.port]))
        theirs = run(dcmtk_cmd("echoscu", ["localhost", srv.port]))
    assert ours.rc == theirs.rc == 1
    assert ours.stderr == theirs.stderr   # F: Association Rejected: / Result ... / Reason ...


# ---------------------------------------------------------------------------------------------
# pynetdicom's storage SCP in this process


class PynetSCP:
    def __init__(self, outdir: Path) -> None:
        from pynetdicom import AE, evt, AllStoragePresentationContexts, ALL_TRANSFER_SYNTAXES
        from pynetdicom.sop_class import Verification
        self.outdir, self.count = outdir, 0
        self.ae = AE("PYNET")
        for cx in AllStoragePresentationContexts:
            self.ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.ae.add_supported_context(Verification)
        self.port = free_port()
        self.server = self.ae.start_server(("127.0.0.1", self.port), block=False,
                                           evt_handlers=[(evt.EVT_C_STORE, self._store)])

    def _store(self, event):
        req = event.request
        raw = req.DataSet.getvalue()
        ts = event.context.transfer_syntax
        self.count += 1
        name = f"{req.AffectedSOPInstanceUID}.{self.count}.raw"
        (self.outdir / name).write_bytes(ts.encode() + b"\n" + raw)
        return 0x0000

    def shutdown(self) -> None:
        self.server.shutdown()


def pynetdicom_scp(outdir: Path) -> PynetSCP:
    return PynetSCP(outdir)


# ---------------------------------------------------------------------------------------------
# storescu -> DCMTK storescp and pynetdicom


def _files(names) -> list[Path]:
    return [corpus_path(n) for n in names]


def sent_and_received(files, outdir: Path) -> tuple[list, list]:
    """Sorted (transfer syntax, data set bytes) of the files sent and of those received."""
    sent = sorted(dataset_bytes(p) for p in files)
    got = sorted(dataset_bytes(p) for p in outdir.iterdir() if not p.name.startswith("."))
    return sent, got


def pair_profile(files, path: Path) -> Path:
    """An -xf profile proposing one context per (SOP class, transfer syntax) of the files."""
    import pydicom
    pairs = []
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        pair = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
        if pair not in pairs:
            pairs.append(pair)
    syntaxes = sorted({ts for _, ts in pairs})
    lines = ["[[TransferSyntaxes]]"]
    for n, ts in enumerate(syntaxes, 1):
        lines += [f"[TS{n}]", f"TransferSyntax1 = {ts}"]
    lines += ["[[PresentationContexts]]", "[Pairs]"]
    for n, (sop, ts) in enumerate(pairs, 1):
        lines.append(f"PresentationContext{n} = {sop}\\TS{syntaxes.index(ts) + 1}")
    lines += ["[[Profiles]]", "[Pairs]", "PresentationContexts = Pairs"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_our_storescu_to_dcmtk_storescp_byte_identical(tmp_path):
    """Every corpus object arrives in its own transfer syntax, data set bytes unchanged (an -xf
    profile proposes each class in each syntax on a context of its own)."""
    files = _files(UNCOMPRESSED + list(ENCAPSULATED))
    profile = pair_profile(files, tmp_path / "pairs.cfg")
    out = tmp_path / "out"
    out.mkdir()
    with dcmtk_storescp(out, "+B", "+xa", "+uf") as srv:
        r = run(our_cmd("storescu", ["-xf", profile, "Pairs", "localhost", srv.port, *files]))
    assert r.rc == 0, r.stderr
    sent, got = sent_and_received(files, out)
    assert len(got) == len(files)
    assert [ts for ts, _ in got] == [ts for ts, _ in sent]
    assert got == sent


def test_our_storescu_converts_like_dcmtk(tmp_path):
    """DCMTK's default proposal: files in other uncompressed syntaxes are converted; the
    received data set reads as the original."""
    files = _files(["cv__CT_small__ti.dcm", "cv__rtplan__tb.dcm", "cv__test-SR__tb_gl.dcm"])
    with dcmtk_storescp(tmp_path, "+B", "+xe", "+uf") as srv:   # it prefers explicit LE
        r = run(our_cmd("storescu", ["-v", "+C", "localhost", srv.port, *files]))
    assert r.rc == 0, r.stderr
    assert r.stderr.count(b"I: Converting transfer syntax: Big Endian Explicit -> Little Endian Explicit") == 2
    assert b"I: Converting transfer syntax: Little Endian Implicit -> Little Endian Explicit" in r.stderr
    got = sorted(dump_dataset(p).split("\n", 2)[2] for p in tmp_path.iterdir() if p.is_file())
    want = sorted(dump_dataset(p).split("\n", 2)[2] for p in files)
    assert got == want


def test_our_storescu_to_pynetdicom_byte_identical(tmp_path):
    files = _files(UNCOMPRESSED + list(ENCAPSULATED) + PROCESS14)
    profile = pair_profile(files, tmp_path / "pairs.cfg")
    out = tmp_path / "out"
    out.mkdir()
    scp = pynetdicom_scp(out)
    try:
        r = run(our_cmd("storescu", ["-xf", profile, "Pairs", "-aec", "PYNET", "localhost", scp.port,
                                     *files]))
    finally:
        scp.shutdown()
    assert r.rc == 0, r.stderr
    got = {}
    for p in out.iterdir():
        ts, raw = p.read_bytes().split(b"\n", 1)
        got.setdefault(p.name.rsplit(".", 2)[0], set()).add((ts.decode(), raw))
    for f in files:
        assert dataset_bytes(f) in got[sop_instance(f)], f.name


# ---------------------------------------------------------------------------------------------
# DCMTK storescu and pynetdicom -> our storescp


def test_dcmtk_storescu_to_our_storescp(tmp_path):
    """DCMTK's storescu sends each syntax (it re-encodes what it reads); our storescp stores
    exactly the bytes DCMTK's own storescp +B stores from the same sender: same transfer syntax,
    same data set bytes. Compressed files go with -R and their -x option."""
    runs = [([], UNCOMPRESSED), (["-xi"], ["cv__CT_small__ti.dcm", "pd__MR_small.dcm"]),
            (["-xb"], ["cv__rtplan__tb.dcm", "pd__CT_small.dcm"])]
    runs += [(["-R", opt], [name]) for name, opt in ENCAPSULATED.items()]
    for n, (opts, names) in enumerate(runs):
        files = _files(names)
        results = []
        for kind, start in (("dcmtk", dcmtk_storescp), ("ours", our_storescp)):
            out = tmp_path / f"{kind}{n}"
            out.mkdir()
            with start(out, "+xa", "+uf", *(["+B"] if kind == "dcmtk" else [])) as srv:
                r = run(dcmtk_cmd("storescu", [*opts, "localhost", srv.port, *files]))
            assert r.rc == 0, (kind, opts, r.stderr)
            assert "E: " not in srv.log, srv.log
            results.append(sorted(dataset_bytes(p) for p in out.iterdir()))
        assert len(results[1]) == len(files)
        assert results[1] == results[0], (opts, names)


def test_pynetdicom_storescu_to_our_storescp(tmp_path):
    """pynetdicom sends each object in its own syntax; we store those bytes unchanged."""
    import pydicom
    from pynetdicom import AE
    files = _files(UNCOMPRESSED + list(ENCAPSULATED) + PROCESS14)
    with our_storescp(tmp_path, "+xa", "+uf", "-aet", "OURS") as srv:
        ae = AE("PYNETSCU")
        pairs = []
        for f in files:
            ds = pydicom.dcmread(f)
            pair = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
            if pair not in pairs:
                pairs.append(pair)
                ae.add_requested_context(*pair)
        assoc = ae.associate("127.0.0.1", srv.port, ae_title="OURS")
        assert assoc.is_established
        statuses = [assoc.send_c_store(pydicom.dcmread(f)).Status for f in files]
        assoc.release()
    assert statuses == [0] * len(files)
    got = sorted(dataset_bytes(p) for p in tmp_path.iterdir())
    for f in files:
        sent = pydicom.dcmread(f)
        from pydicom.filewriter import dcmwrite
        from io import BytesIO
        buf = BytesIO()
        dcmwrite(buf, sent, enforce_file_format=True)
        assert dataset_bytes_of(buf.getvalue()) in got, f.name
    # the meta header names the sender and the negotiated syntax
    for p in tmp_path.iterdir():
        meta = pydicom.dcmread(p, stop_before_pixels=True).file_meta
        assert meta.SourceApplicationEntityTitle == "PYNETSCU"
        assert meta.ImplementationVersionName == "DCMPY_010"


def dataset_bytes_of(data: bytes) -> tuple[str, bytes]:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"dcmpy-net-{os.getpid()}-{threading.get_ident()}.dcm"
    path.write_bytes(data)
    try:
        return dataset_bytes(path)
    finally:
        path.unlink()


def test_concurrent_associations_to_our_storescp(tmp_path):
    """Four DCMTK storescu at once, each with several objects: all arrive, none mixed up."""
    files = _files(UNCOMPRESSED)
    with our_storescp(tmp_path, "+uf", "-v") as srv:
        procs = [subprocess.Popen(dcmtk_cmd("storescu", ["-aet", f"SCU{n}", "localhost", srv.port, *files]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for n in range(4)]
        try:
            codes = [p.wait(120) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.stderr.close()
    assert codes == [0] * 4
    stored = list(tmp_path.iterdir())
    assert len(stored) == 4 * len(files)
    assert srv.log.count("I: Association Acknowledged") == 4
    assert srv.log.count("I: Association Release") == 4


@pytest.mark.parametrize("ours_pdu,theirs_pdu", [(4096, 131072), (131072, 4096)])
def test_pdu_sizes(tmp_path, ours_pdu, theirs_pdu):
    """A 3 MB object through small and large PDUs, both directions, byte identical."""
    big = tmp_path / "big.dcm"
    _make_big(big, 3 << 20)
    out = tmp_path / "out"
    out.mkdir()
    with dcmtk_storescp(out, "+B", "-pdu", theirs_pdu) as srv:
        r = run(our_cmd("storescu", ["-R", "-pdu", ours_pdu, "localhost", srv.port, big]))
    assert r.rc == 0, r.stderr
    (got,) = list(out.iterdir())
    assert dataset_bytes(got) == dataset_bytes(big)
    got.unlink()
    with our_storescp(out, "-pdu", ours_pdu) as srv:
        r = run(dcmtk_cmd("storescu", ["-R", "-pdu", theirs_pdu, "localhost", srv.port, big]))
    assert r.rc == 0, r.stderr
    (got,) = list(out.iterdir())
    assert dataset_bytes(got) == dataset_bytes(big)


def _make_big(path: Path, size: int, sop_instance: str = "1.2.826.0.1.3680043.2.1143.99.1") -> None:
    """A Secondary Capture object with ``size`` bytes of OW pixel data (explicit LE)."""
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
    ds = Dataset()
    ds.add_new(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7")
    ds.add_new(0x00080018, "UI", sop_instance)
    ds.add_new(0x00100010, "PN", "Big^Object")
    ds.add_new(0x0020000D, "UI", "1.2.826.0.1.3680043.2.1143.99")
    ds.add_new(0x7FE00010, "OB", bytes(range(256)) * (size // 256))
    dcmwrite(str(path), ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1"))


def test_big_object_streams_with_little_memory(tmp_path):
    """A 200 MB object: our storescp's peak memory stays far below the object's size, and it
    arrives intact; our storescu sends it from the mapped file (its memory stays low too)."""
    big = tmp_path / "big.dcm"
    _make_big(big, 200 << 20)
    out = tmp_path / "out"
    out.mkdir()
    with our_storescp(out, "-pdu", "131072") as srv:
        proc = subprocess.Popen(our_cmd("storescu", ["-R", "localhost", srv.port, big]),
                                env=tool_env(), stderr=subprocess.PIPE)
        scu_peak = _peak_while_running(proc)
        err = proc.stderr.read()
        proc.stderr.close()
        scp_peak = _status_kb(srv.proc.pid, "VmHWM")
    assert proc.returncode == 0, err
    (got,) = list(out.iterdir())
    assert dataset_bytes(got) == dataset_bytes(big)
    assert scp_peak < 60 * 1024, f"storescp peak RSS {scp_peak} kB"      # measured: about 22 MB
    assert scu_peak < 60 * 1024, f"storescu peak private memory {scu_peak} kB"   # about 13 MB


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _peak_while_running(proc: subprocess.Popen) -> int:
    """Peak of anonymous (private) resident memory of ``proc`` in kB, sampled until it ends;
    pages of the mapped input file do not count (they are the page cache)."""
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, _status_kb(proc.pid, "RssAnon"))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.02)
    proc.wait()
    return peak


# ---------------------------------------------------------------------------------------------
# the SCP framework's pending responses and C-CANCEL (what C-FIND/C-GET/C-MOVE build on)


def test_scp_framework_pending_responses_and_cancel():
    """A handler that yields pending responses: pynetdicom's C-FIND SCU gets each identifier;
    our SCU's C-CANCEL ends the operation with status Cancel and the association goes on."""
    from pydicom.dataset import Dataset as PydicomDataset
    from pynetdicom import AE as PynetAE
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmnet import AE, Message, Response, associate
    from dcmpy.dcmnet.scu import c_cancel
    find = "1.2.840.10008.5.1.4.1.2.1.1"
    gate = threading.Event()
    seen = []

    def on_find(req):
        seen.append(req.dataset)
        for n in range(3):
            ds = Dataset()
            ds.add_new(0x00100010, "PN", f"Doe^{n}")
            yield Response(0xFF00, ds)
            if n == 0 and req.calling_ae == "CANCELLER":
                assert gate.wait(20)
        yield 0x0000

    ae = AE("FINDSCP")
    ae.policy.add(find, ["1.2.840.10008.1.2"])
    ae.on("C-FIND", on_find)
    port = ae.start(0)
    try:
        pn = PynetAE("PYNET")
        pn.add_requested_context(find, "1.2.840.10008.1.2")
        assoc = pn.associate("127.0.0.1", port)
        query = PydicomDataset()
        query.PatientName = "*"
        query.QueryRetrieveLevel = "PATIENT"
        answers = [(status.Status, ident.PatientName if ident else None)
                   for status, ident in assoc.send_c_find(query, find)]
        assoc.release()
        with associate("127.0.0.1", port, [(find, ["1.2.840.10008.1.2"])], calling_ae="CANCELLER") as a:
            rq = Message("C-FIND-RQ", 1, MessageID=7, AffectedSOPClassUID=find, Priority=0)
            responses = a.send_request(rq, b"\x10\x00\x10\x00\x02\x00\x00\x00*\x00")
            first = next(responses)
            c_cancel(a, 1, 7)
            gate.set()
            rest = [m.Status for m in responses]
            rq2 = Message("C-FIND-RQ", 1, MessageID=8, AffectedSOPClassUID=find, Priority=0)
            again = [m.Status for m in a.send_request(rq2, b"\x10\x00\x10\x00\x02\x00\x00\x00*\x00")]
    finally:
        ae.shutdown()
    assert answers == [(0xFF00, "Doe^0"), (0xFF00, "Doe^1"), (0xFF00, "Doe^2"), (0x0000, None)]
    assert first.Status == 0xFF00 and rest == [0xFE00]
    assert seen[1] == b"\x10\x00\x10\x00\x02\x00\x00\x00*\x00"
    assert again == [0xFF00, 0xFF00, 0xFF00, 0x0000]      # the association goes on


def test_ipv6_and_peer_address(tmp_path):
    """Our storescp listens on IPv6 and IPv4 at once; #r names the peer of each."""
    log = tmp_path / "peers.txt"
    out = tmp_path / "out"
    out.mkdir()
    with our_storescp(out, "-xs", "-xcr", f"/bin/sh -c 'echo \"$0\" >> {log}' #r") as srv:
        for host in ("::1", "127.0.0.1"):
            r = run(our_cmd("storescu", [host, srv.port, corpus_path("pd__MR_small.dcm")]))
            assert r.rc == 0, r.stderr
    assert log.read_text().split() == ["::1", "127.0.0.1"]
