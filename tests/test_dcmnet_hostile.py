"""A hostile peer against our storescp: malformed and oversized PDUs, wrong order, slow
senders, thousands of bad associations, aborted transfers, hostile names and AE titles.

Every case ends the same way: the bad association is aborted (A-ABORT on the wire, or the
connection closed), nothing is left behind (no file, no thread, no descriptor), and the server
goes on answering.
"""
from __future__ import annotations

import os
import random
import socket
import struct
import time
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmnet_interop import corpus_path, our_storescp

from dcmpy.dcmnet import pdu as P
from dcmpy.dcmnet.dimse import Message, encode_command

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
VERIFICATION = "1.2.840.10008.1.1"
GUARD = 30.0     # hang guard for a single read (never a pass/fail timing)


# ---------------------------------------------------------------------------------------------
# a raw client


class Raw:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_pdu(self) -> P.PDU | None:
        """The next PDU, or None once the server closed the connection."""
        head = self._exact(6)
        if head is None:
            return None
        kind, length = struct.unpack(">BxI", head)
        body = self._exact(length)
        return None if body is None else P.decode(kind, body)

    def _exact(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            try:
                chunk = self.sock.recv(n - len(data))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def until_closed(self) -> list:
        """Every PDU the server still sends before it closes."""
        pdus = []
        while True:
            pdu = self.read_pdu()
            if pdu is None:
                return pdus
            pdus.append(pdu)

    def associate(self, contexts=((CT, [EXPLICIT]), (VERIFICATION, [EXPLICIT]))) -> P.AssociateAC:
        from dcmpy.dcmnet.scu import build_request
        self.send(P.encode(build_request("HOSTILE", "STORESCP", list(contexts))))
        ac = self.read_pdu()
        assert isinstance(ac, P.AssociateAC), ac
        return ac

    def close(self) -> None:
        self.sock.close()


def store_rq(instance: str = "1.2.3.4", sop_class: str = CT) -> bytes:
    msg = Message("C-STORE-RQ", MessageID=1, AffectedSOPClassUID=sop_class, Priority=0,
                  AffectedSOPInstanceUID=instance)
    command = encode_command(msg, True)
    return P.pdata_header(1, 3, len(command)) + command


def pdata(cid: int, control: int, data: bytes) -> bytes:
    return P.pdata_header(cid, control, len(data)) + data


def fds_and_threads(pid: int) -> tuple[int, int]:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return fds, threads


def settle(pid: int, baseline: tuple[int, int]) -> tuple[int, int]:
    """Counts once the server has finished with its closed associations (hang guard only)."""
    deadline = time.monotonic() + GUARD
    now = fds_and_threads(pid)
    while now != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        now = fds_and_threads(pid)
    return now


def wait_for(condition) -> None:
    """Poll ``condition`` until true (hang guard only: the test's asserts decide)."""
    deadline = time.monotonic() + GUARD
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def echo_works(port: int) -> bool:
    return run(our_cmd("echoscu", ["localhost", port])).rc == 0


def _abort_or_close(pdus: list) -> None:
    """The server answered the bad input with at most an A-ABORT (or RJ) and closed."""
    assert all(isinstance(p, (P.Abort, P.AssociateRJ)) for p in pdus), pdus


# ---------------------------------------------------------------------------------------------


HOSTILE_OPENINGS = {
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown_type": bytes([9, 0, 0, 0, 0, 4]) + b"abcd",
    "huge_length": bytes([1, 0]) + struct.pack(">I", 0xFFFFFFFF) + b"\0" * 64,
    "pdata_first": pdata(1, 3, b"\0" * 8),
    "release_first": P.encode(P.ReleaseRQ()),
    "short_rq": bytes([1, 0]) + struct.pack(">I", 16) + b"\0" * 16,
    "rj_from_requestor": P.encode(P.AssociateRJ(1, 1, 1)),
    "truncated_header": b"\x01\x00\x00",
}


@pytest.fixture(scope="module")
def scp(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile_out")
    with our_storescp(out, "-ta", "2", "-ts", "3") as srv:
        srv.out = out
        yield srv


@pytest.mark.parametrize("name", sorted(HOSTILE_OPENINGS))
def test_hostile_openings(scp, name):
    c = Raw(scp.port)
    try:
        c.send(HOSTILE_OPENINGS[name])
        pdus = c.until_closed()
    finally:
        c.close()
    _abort_or_close(pdus)
    if name in ("unknown_type", "pdata_first", "release_first", "rj_from_requestor"):
        assert pdus and isinstance(pdus[0], P.Abort)
    assert echo_works(scp.port)


def _mutilated_rq(kind: str) -> bytes:
    from dcmpy.dcmnet.scu import build_request
    data = bytearray(P.encode(build_request("HOSTILE", "STORESCP", [(CT, [EXPLICIT])])))
    if kind == "item_past_end":
        data[6 + 68 + 2:6 + 68 + 4] = struct.pack(">H", 0xFFF0)
    elif kind == "user_info_missing":
        at = data.index(b"\x50\x00")
        data = data[:at]
        data[2:6] = struct.pack(">I", len(data) - 6)
    elif kind == "protocol_version_0":
        data[6:8] = b"\0\0"
    elif kind == "odd_items":
        data += b"\x99\x00\x00\x02ab"
        data[2:6] = struct.pack(">I", len(data) - 6)
    return bytes(data)


@pytest.mark.parametrize("kind", ["item_past_end", "user_info_missing", "protocol_version_0",
                                  "odd_items"])
def test_malformed_associate_rq(scp, kind):
    c = Raw(scp.port)
    try:
        c.send(_mutilated_rq(kind))
        pdus = c.until_closed()
    finally:
        c.close()
    _abort_or_close(pdus)
    if kind == "protocol_version_0":
        assert pdus == [P.AssociateRJ(1, 2, 2)]      # protocol version not supported
    else:
        assert pdus == [P.Abort(0, 0)]               # AA-1 from Sta2: service-user source


AFTER_ASSOCIATION = {
    "zero_length_pdv": lambda: b"\x04\x00" + struct.pack(">I", 6) + struct.pack(">I", 0) + b"\x01\x03",
    "pdv_past_pdu": lambda: b"\x04\x00" + struct.pack(">I", 8) + struct.pack(">I", 1000) + b"\x01\x03ab",
    "unaccepted_context": lambda: pdata(7, 3, encode_command(
        Message("C-ECHO-RQ", MessageID=1, AffectedSOPClassUID=VERIFICATION), False)),
    "second_associate_rq": lambda: _mutilated_rq("none"),
    "release_rp_unasked": lambda: P.encode(P.ReleaseRP()),
    "missing_sop_instance": lambda: pdata(1, 3, encode_command(
        Message("C-STORE-RQ", MessageID=1, AffectedSOPClassUID=CT, Priority=0), True)),
    "dataset_before_command": lambda: pdata(1, 2, b"\x08\x00\x16\x00"),
    "oversized_pdata": lambda: b"\x04\x00" + struct.pack(">I", 1 << 30) + b"\0" * 16,
    "garbage_command": lambda: pdata(1, 3, os.urandom(64)),
}


@pytest.mark.parametrize("name", sorted(AFTER_ASSOCIATION))
def test_hostile_after_association(scp, name):
    c = Raw(scp.port)
    try:
        c.associate()
        c.send(AFTER_ASSOCIATION[name]())
        pdus = c.until_closed()
    finally:
        c.close()
    assert len(pdus) == 1 and isinstance(pdus[0], P.Abort), pdus
    assert echo_works(scp.port)


def test_aborted_and_broken_transfers_leave_nothing(scp):
    """An object cut off by A-ABORT, by a closed connection or by a timeout is not stored."""
    before = set(os.listdir(scp.out))
    for ending in ("abort", "close", "stall"):
        c = Raw(scp.port)
        try:
            c.associate()
            c.send(store_rq(f"1.2.3.{len(ending)}"))
            c.send(pdata(1, 0, b"\x08\x00\x16\x00UI\x1a\x00" + b"1" * 26 + b"\0" * 5000))
            if ending == "abort":
                c.send(P.encode(P.Abort(0, 0)))
            elif ending == "stall":              # the socket timeout (-ts 3) ends it
                assert c.until_closed() == [P.Abort(0, 0)]
        finally:
            c.close()
    wait_for(lambda: set(os.listdir(scp.out)) == before)
    assert set(os.listdir(scp.out)) == before      # not even a temporary .part file


def test_slowloris_is_closed_by_artim(scp):
    """A peer that opens the connection and then dribbles or says nothing is dropped when ARTIM
    (-ta 2) expires; the same for one that stops in the middle of an A-ASSOCIATE-RQ."""
    for first in (b"", b"\x01\x00\x00\x00\x01\x00" + b"\0" * 10):
        c = Raw(scp.port)
        try:
            c.send(first)
            assert c.until_closed() in ([], [P.Abort(0, 0)])
        finally:
            c.close()


def test_thousands_of_bad_associations_leak_nothing(scp):
    pid = scp.proc.pid
    assert echo_works(scp.port)
    baseline = settle(pid, fds_and_threads(pid))
    rng = random.Random(5)
    good = P.encode(__import__("dcmpy.dcmnet.scu", fromlist=["x"]).build_request(
        "HOSTILE", "STORESCP", [(CT, [EXPLICIT])]))
    samples = list(HOSTILE_OPENINGS.values())
    for n in range(2000):
        c = socket.create_connection(("127.0.0.1", scp.port), timeout=GUARD)
        try:
            if n % 3 == 0:
                data = bytearray(good)
                for _ in range(4):
                    data[rng.randrange(6, len(data))] = rng.randrange(256)
                c.sendall(bytes(data))
            else:
                c.sendall(samples[n % len(samples)])
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
        except OSError:
            pass
        finally:
            c.close()
    assert settle(pid, baseline) == baseline
    assert echo_works(scp.port)
    assert scp.proc.poll() is None


# ---------------------------------------------------------------------------------------------
# names built from received values


def _send_instance(port: int, instance: str, calling: str = "HOSTILE", study: str = "1.2.3") -> int:
    """Store a tiny CT object whose SOP Instance UID (and Study UID) are whatever we like;
    returns the response status."""
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmdata.writer import WriteOptions, encode_file
    from dcmpy.dcmnet.scu import StoreObject, associate, c_store
    ds = Dataset()
    ds.add_new(0x00080016, "UI", CT)
    ds.add_new(0x00080018, "UI", instance)
    ds.add_new(0x00100010, "PN", "../../Evil^$(touch PWNED)")
    ds.add_new(0x0020000D, "UI", study)
    data = b"".join(bytes(c) for c in encode_file(ds, WriteOptions(transfer_syntax=EXPLICIT,
                                                                   write_meta=False)))
    with associate("127.0.0.1", port, [(CT, [EXPLICIT])], calling_ae=calling, called_ae="STORESCP") as a:
        return c_store(a, StoreObject(CT, instance, EXPLICIT, data), 1).Status


HOSTILE_UIDS = ["../../../../tmp/evil", "/etc/passwd", "..", "a/../../b", "$(touch PWNED)",
                "x;touch PWNED", "`touch PWNED`", "name with spaces", "\\..\\..\\win"]


@pytest.mark.parametrize("sort", [[], ["-su", ""], ["-su", "pre"], ["-sp"], ["-ss", "x"]],
                         ids=["flat", "su", "su_prefix", "sp", "ss"])
def test_hostile_uids_stay_inside_output_directory(tmp_path, sort):
    out = tmp_path / "out"
    out.mkdir()
    with our_storescp(out, *sort) as srv:
        for n, uid in enumerate(HOSTILE_UIDS):
            status = _send_instance(srv.port, uid, study=HOSTILE_UIDS[-1 - n])
            # a backslash makes the data set's UI value two values: "does not match" (stored)
            assert status == (0xA900 if "\\" in uid else 0x0000), uid
    stored = [p for p in out.rglob("*") if p.is_file()]
    assert len(stored) == len(HOSTILE_UIDS)
    for p in stored:
        assert p.resolve().is_relative_to(out.resolve())
        assert not p.name.startswith(".")
    assert not list(tmp_path.glob("**/evil")) and not (tmp_path / "PWNED").exists()
    assert "E: " not in srv.log and "W: DICOM file already exists" not in srv.log


def test_exec_on_reception_never_runs_injected_commands(tmp_path):
    """CVE-2026-5663: placeholders with shell syntax (from AE titles, UIDs, names) are passed as
    arguments or sanitized, never interpreted: nothing but the command itself runs."""
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "calls.txt"
    script = f'printf "%s|%s|%s|%s\\n" "$0" "$1" "$2" "$3" >> {log}'
    embedded = f"echo #a >> {log}"       # a placeholder inside a shell script of its own
    with our_storescp(out, "-xcr", f"/bin/sh -c '{script}' #a #c #f #p", "-xs") as srv:
        _send_instance(srv.port, "1.2.3.4", calling="$(touch PWN1)")
        _send_instance(srv.port, "1.2.3.5", calling="x;touch PWN2")
    with our_storescp(out, "-xcr", f"/bin/sh -c '{embedded}'", "-xs") as srv:
        _send_instance(srv.port, "1.2.3.6", calling="`touch PWN3`")
        _send_instance(srv.port, "1.2.3.7", calling="a$(id)>x")
    calls = log.read_text().splitlines()
    assert calls[:2] == [f"__touch PWN1_|STORESCP|CT.1.2.3.4|{out}",
                         f"x_touch PWN2|STORESCP|CT.1.2.3.5|{out}"]
    assert calls[2:] == ["_touch PWN3_", "a__id__x"]
    for name in ("PWN1", "PWN2", "PWN3", "x"):
        assert not (tmp_path / name).exists() and not (out / name).exists()
        assert not Path(name).exists()


def test_exec_template_errors_and_option_checks(tmp_path):
    r = run(our_cmd("storescp", ["-xcr", "echo 'unbalanced", "-od", tmp_path, "104"]))
    assert r.rc == 1 and b"cannot parse command 'echo 'unbalanced'" in r.stderr
    for args, message in [(["-xcs", "echo"], b"--exec-on-eostudy only allowed with --sort-conc-studies, "
                                                b"--sort-on-study-uid or --sort-on-patientname"),
                          (["-od", tmp_path / "missing"], b"F: specified output directory does not exist")]:
        ours = run(our_cmd("storescp", [*args, "104"]))
        theirs = run(dcmtk_cmd("storescp", [*args, "104"]))
        assert ours.rc == theirs.rc == 1
        assert message in ours.stderr and message in theirs.stderr


def test_end_of_study_command_and_rename(tmp_path):
    """-xcs runs for a study when the next one begins (and after -tos); -rns renames its files."""
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "eos.txt"
    with our_storescp(out, "-su", "st", "-rns", "-tos", "1", "-xs",
                      "-xcs", f"/bin/sh -c 'ls \"$0\" >> {log}' #p") as srv:
        _send_instance(srv.port, "1.2.3.1", study="1.2.9.1")
        _send_instance(srv.port, "1.2.3.2", study="1.2.9.1")
        _send_instance(srv.port, "1.2.3.3", study="1.2.9.2")
        wait_for(lambda: log.exists() and log.read_text().count("CT") >= 3)   # -tos ends study 2
    assert sorted(p.name for p in (out / "st_1.2.9.1").iterdir()) == ["CT000001", "CT000002"]
    assert sorted(p.name for p in (out / "st_1.2.9.2").iterdir()) == ["CT000001"]
    assert log.read_text().split() == ["CT000001", "CT000002", "CT000001"]


def test_corpus_file_with_dcmtk_and_shell_metacharacter_ae(tmp_path):
    """DCMTK's storescu with an AE title full of shell syntax: stored, named safely."""
    out = tmp_path / "out"
    out.mkdir()
    with our_storescp(out, "-xcr", f"/bin/sh -c 'echo \"$0\" > {tmp_path}/ae.txt' #a", "-xs") as srv:
        r = run(dcmtk_cmd("storescu", ["-aet", "a`id`;b", "localhost", srv.port,
                                       corpus_path("pd__CT_small.dcm")]))
    assert r.rc == 0, r.stderr
    assert (tmp_path / "ae.txt").read_text() == "a_id__b\n"
