"""The apps' surface against DCMTK's: help, proposals, status handling, identity, naming,
rejections, exit codes. DCMTK's tool and ours talk to the same peer and must say the same."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmnet_interop import (corpus_path, dataset_bytes, dcmtk_storescp, free_port,
                                 our_storescp, wait_listening)

from dcmpy.dcmnet.scp import AE

FILES = ["pd__CT_small.dcm", "pd__MR_small.dcm", "pd__rtplan.dcm"]


def _strip_tls(text: bytes) -> bytes:
    """The help without banner and TLS block (TLS is not implemented yet)."""
    lines = text.splitlines()[1:]
    out, skip = [], False
    for line in lines:
        if line.startswith(b"transport layer security"):
            skip = True
            continue
        if skip and not line.startswith(b" "):
            skip = False
        if not skip:
            out.append(line)
    return b"\n".join(out)


@pytest.mark.parametrize("tool", ["echoscu", "storescu", "storescp", "termscu"])
def test_help_matches_dcmtk(tool):
    ours, theirs = run(our_cmd(tool, ["--help"])), run(dcmtk_cmd(tool, ["--help"]))
    assert ours.rc == theirs.rc == 0
    mine = _strip_tls(ours.stdout)
    if tool == "storescp":      # --max-associations: DCMTK 3.7.0's option, here already
        mine = re.sub(rb"\n +--max-associations[^\n]*\n[^\n]*", b"", mine)
    assert mine == _strip_tls(theirs.stdout)


# ---------------------------------------------------------------------------------------------
# an in-process SCP that records what it is asked and answers with a chosen status


class Recorder:
    def __init__(self, status: int = 0x0000, identity_response: bytes | None = None) -> None:
        self.requests = []
        self.ae = AE("ANY-SCP")
        self.ae.policy.promiscuous_transfer_syntaxes = ["*"]
        self.ae.policy.identity = (lambda ident: identity_response) if identity_response is not None else None
        self.ae.hook("received", self.requests.append)
        self.ae.on("C-ECHO", lambda req: 0)
        self.ae.on("C-STORE", lambda req: status)
        self.port = self.ae.start(0)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.ae.shutdown()

    def proposal(self, n: int = -1) -> list:
        rq = self.requests[n]
        return [(pc.id, pc.abstract_syntax, pc.transfer_syntaxes) for pc in rq.contexts]


PROPOSALS = [[], ["-R", "-xb"], ["-xi"], ["+C", "-xe"], ["-R", "-xr"], ["-xd"],
             ["-R", "-xy", "+C"], ["-xv"]]


@pytest.mark.parametrize("opts", PROPOSALS, ids=lambda o: " ".join(o) or "default")
def test_storescu_proposes_what_dcmtk_proposes(opts):
    """Same contexts, ids, syntaxes and order. Deliberate difference when a compressed syntax is
    preferred: DCMTK puts an uncompressed file on the compressed context the SCP accepted and
    fails ('unable to convert'); ours sends it on the uncompressed fallback context."""
    files = [corpus_path(n) for n in FILES]
    with Recorder() as rec:
        a = run(dcmtk_cmd("storescu", [*opts, "localhost", rec.port, *files]))
        b = run(our_cmd("storescu", [*opts, "localhost", rec.port, *files]))
        if a.rc:
            assert a.rc == 1 and {"-xr", "-xs", "-xy", "-xv"} & set(opts), a.stderr
            assert b"unable to convert dataset from 'Little Endian " in a.stderr
        if a.rc and "+C" in opts:      # one combined context, the SCP chose JPEG: nobody can
            assert (b.rc, b.stderr) == (a.rc, a.stderr)
        else:
            assert b.rc == 0, b.stderr
        assert rec.proposal(1) == rec.proposal(0)
        ours, theirs = rec.requests[1], rec.requests[0]
        assert (ours.calling_ae, ours.called_ae, ours.user.max_length) == \
            (theirs.calling_ae, theirs.called_ae, theirs.user.max_length)


def test_storescu_sends_what_dcmtk_cannot(tmp_path):
    """Deliberate differences: DCMTK's storescu refuses a file of a SOP class it does not know
    ('F: unknown storage SOP class') and, without -x?, cannot send a compressed file (it tries
    to decompress: 'unable to convert'); ours proposes the file's own class and syntax."""
    unknown = tmp_path / "private.dcm"
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
    ds = Dataset()
    ds.add_new(0x00080016, "UI", "1.2.826.0.1.3680043.2.1143.555")
    ds.add_new(0x00080018, "UI", "1.2.826.0.1.3680043.2.1143.555.1")
    dcmwrite(str(unknown), ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.1"))
    rle = corpus_path("cmp__CT_small__rle.dcm")
    out = tmp_path / "out"
    out.mkdir()
    with our_storescp(out, "-pm", "+xa", "+uf") as srv:
        theirs = run(dcmtk_cmd("storescu", ["-R", "localhost", srv.port, unknown]))
        theirs_rle = run(dcmtk_cmd("storescu", ["localhost", srv.port, rle]))
        assert not list(out.iterdir())
        ours = run(our_cmd("storescu", ["localhost", srv.port, unknown, rle]))
    assert theirs.rc == 1 and b"F: unknown storage SOP class in file" in theirs.stderr
    assert theirs_rle.rc == 1 and b"unable to convert dataset from 'RLE Lossless'" in theirs_rle.stderr
    assert ours.rc == 0, ours.stderr
    assert sorted(dataset_bytes(p) for p in out.iterdir()) == sorted(dataset_bytes(p) for p in (unknown, rle))
    assert sorted(p.name.split(".")[0] for p in out.iterdir()) == ["CT", "UNKNOWN"]


@pytest.mark.parametrize("status,halt", [(0xA700, True), (0xA700, False), (0xC123, True),
                                         (0x0122, True), (0xB007, True), (0x0211, True)],
                         ids=lambda v: f"{v:04X}" if isinstance(v, int) and not isinstance(v, bool) else
                         ("halt" if v else "no-halt"))
def test_storescu_status_handling_matches_dcmtk(status, halt):
    """Log lines (-v), XMIT progress and exit code (DCMTK exits with the status' high byte)."""
    files = [corpus_path(n) for n in FILES[:2]]
    args = ["-v", *([] if halt else ["-nh"])]
    with Recorder(status) as rec:
        a = run(dcmtk_cmd("storescu", [*args, "localhost", rec.port, *files]))
        b = run(our_cmd("storescu", [*args, "localhost", rec.port, *files]))
    assert (b.rc, b.stderr, b.stdout) == (a.rc, a.stderr, a.stdout)


IDENTITIES = [["-usr", "alice"], ["-usr", "alice", "-pwd", "s3cret"], ["-usr", "bob", "-epw"],
              ["-kt", "ticket"], ["--saml", "saml"], ["--jwt", "jwt", "-rsp"]]


def test_user_identity_matches_dcmtk(tmp_path):
    """Each identity type goes out as DCMTK sends it; -rsp without an answer fails alike."""
    for name, data in (("ticket", b"KRB5-TICKET\x00\x01"), ("saml", b"<saml:Assertion/>"),
                       ("jwt", b"eyJhbGciOiJIUzI1NiJ9.e30.sig")):
        (tmp_path / name).write_bytes(data)
    files = [corpus_path(FILES[1])]
    with Recorder(identity_response=b"") as rec:
        for opts in IDENTITIES:
            opts = [str(tmp_path / o) if o in ("ticket", "saml", "jwt") else o for o in opts]
            a = run(dcmtk_cmd("storescu", [*opts, "localhost", rec.port, *files]))
            b = run(our_cmd("storescu", [*opts, "localhost", rec.port, *files]))
            assert a.rc == b.rc == 0, (opts, a.stderr, b.stderr)
            assert rec.requests[-1].user.user_identity == rec.requests[-2].user.user_identity, opts
    with Recorder() as rec:          # answers no identity at all
        args = ["-usr", "carol", "-rsp", "localhost", rec.port, *files]
        a, b = run(dcmtk_cmd("storescu", args)), run(our_cmd("storescu", args))
    assert (b.rc, b.stderr) == (a.rc, a.stderr)


def test_storescu_input_handling(tmp_path):
    """+sd/+r/+sp, +rn, --repeat, missing and non-DICOM files, as DCMTK."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for n, name in enumerate(FILES):
        (tree / ("sub" if n else "") / f"{name}").write_bytes(corpus_path(name).read_bytes())
    (tree / "notes.txt").write_text("not dicom")
    with Recorder() as rec:
        for opts in (["+sd"], ["+sd", "+r"], ["+sd", "+r", "+sp", "*MR*"], ["--repeat", "2", "+sd"]):
            a = run(dcmtk_cmd("storescu", ["-v", "-nh", *opts, "localhost", rec.port, tree]))
            b = run(our_cmd("storescu", ["-v", "-nh", *opts, "localhost", rec.port, tree]))
            sent = [re.findall(rb"Sending file: (\S+)", r.stderr) for r in (a, b)]
            assert sorted(sent[1]) == sorted(sent[0]), opts
            assert b.rc == a.rc
        for args in (["/nonexistent.dcm"], [corpus_path(FILES[0]), "/nonexistent.dcm"]):
            a = run(dcmtk_cmd("storescu", ["localhost", rec.port, *args]))
            b = run(our_cmd("storescu", ["localhost", rec.port, *args]))
            assert (b.rc, b.stderr) == (a.rc, a.stderr) == (1, b"F: cannot access file: /nonexistent.dcm\n")
        copy = tmp_path / "copy.dcm"
        copy.write_bytes(corpus_path(FILES[0]).read_bytes())
        b = run(our_cmd("storescu", ["+rn", "localhost", rec.port, copy]))
        assert b.rc == 0 and (tmp_path / "copy.dcm.done").exists() and not copy.exists()
        bad = tmp_path / "bad.dcm"
        bad.write_bytes(b"\0" * 200)
        b = run(our_cmd("storescu", ["localhost", rec.port, bad]))
        assert b.rc == 1 and b"E: Bad DICOM file: " in b.stderr


# ---------------------------------------------------------------------------------------------
# storescp


def _store_to_both(tmp_path: Path, scp_opts: list, files: list, scu_opts=()) -> tuple[list, list]:
    """Send ``files`` (DCMTK's storescu) to DCMTK's storescp and ours with the same options;
    the sorted relative paths of what each stored."""
    names = []
    for kind, start in (("dcmtk", dcmtk_storescp), ("ours", our_storescp)):
        out = tmp_path / kind
        out.mkdir()
        with start(out, *scp_opts) as srv:
            r = run(dcmtk_cmd("storescu", [*scu_opts, "localhost", srv.port, *files]))
        assert r.rc == 0, r.stderr
        names.append(sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))
    return names[0], names[1]


@pytest.mark.parametrize("opts", [[], ["-fe", ".dcm", "-su", "pre"], ["-su", ""]],
                         ids=["default", "fe_su", "su_empty"])
def test_storescp_names_like_dcmtk(tmp_path, opts):
    files = [corpus_path(n) for n in FILES]
    theirs, ours = _store_to_both(tmp_path, opts, files)
    assert ours == theirs


@pytest.mark.parametrize("opts,pattern", [
    (["+uf", "-ss", "st"], r"st_\d{8}_\d{9}/(CT|MR|RP)\.X\.[0-9.]+"),
    (["-tn", "-sp"], r"[A-Za-z0-9_^-]+_\d{8}_\d{9}/\d{17}(_\d{4})?\.(CT|MR|RP)"),
])
def test_storescp_generated_names(tmp_path, opts, pattern):
    files = [corpus_path(n) for n in FILES]
    theirs, ours = _store_to_both(tmp_path, opts, files)
    assert len(ours) == len(theirs) == 3
    for name in theirs + ours:
        assert re.fullmatch(pattern, name), name


@pytest.mark.parametrize("opts", [["+te"], ["+tb", "-g"], ["+ti", "-e"], ["-F"]],
                         ids=lambda o: " ".join(o))
def test_storescp_output_encoding_like_dcmtk(tmp_path, opts):
    """Re-encoded output reads as DCMTK's storescp writes it (same syntax, same data set)."""
    files = [corpus_path(n) for n in ("pd__CT_small.dcm", "cv__rtplan__tb.dcm")]
    outs = []
    for kind, start in (("dcmtk", dcmtk_storescp), ("ours", our_storescp)):
        out = tmp_path / kind
        out.mkdir()
        with start(out, *opts) as srv:
            r = run(dcmtk_cmd("storescu", ["localhost", srv.port, *files]))
        assert r.rc == 0
        outs.append(sorted(out.iterdir()))
    for theirs, ours in zip(*outs):
        a = run(dcmtk_cmd("dcmdump", ["+L", "-q", *(["-f"] if "-F" in opts else []), theirs]))
        b = run(dcmtk_cmd("dcmdump", ["+L", "-q", *(["-f"] if "-F" in opts else []), ours]))
        strip = lambda t: t.split(b"# Dicom-Data-Set")[-1]
        assert strip(b.stdout) == strip(a.stdout), theirs.name
        if "-F" in opts:
            assert ours.read_bytes()[128:132] != b"DICM"


@pytest.mark.parametrize("opts", [["--refuse"], ["-aet", "ME"]], ids=["refuse", "aet"])
def test_storescp_rejections_seen_by_dcmtk(tmp_path, opts):
    results = []
    for start in (dcmtk_storescp, our_storescp):
        with start(tmp_path, *opts) as srv:
            results.append(run(dcmtk_cmd("echoscu", ["-aec", "OTHER", "localhost", srv.port])))
    assert (results[1].rc, results[1].stderr) == (results[0].rc, results[0].stderr)


def test_storescp_reject_without_implementation_uid(tmp_path):
    from dcmpy.dcmnet import AssociationRejected
    from dcmpy.dcmnet.scu import associate
    with our_storescp(tmp_path, "--reject") as srv:
        with pytest.raises(AssociationRejected, match="Rejected Permanent, Source: Service User"):
            associate("127.0.0.1", srv.port, [("1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
                      implementation_class_uid="")
        assert run(dcmtk_cmd("echoscu", ["localhost", srv.port])).rc == 0


def _associate_when_free(port: int):
    """An association, once the server has let go of the start-up probe's slot."""
    from dcmpy.dcmnet import AssociationRejected, associate
    deadline = time.monotonic() + 20
    while True:
        try:
            return associate("127.0.0.1", port, [("1.2.840.10008.1.1", ["1.2.840.10008.1.2"])])
        except AssociationRejected:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_storescp_max_associations_and_ignore(tmp_path):
    with our_storescp(tmp_path, "--max-associations", "1", "--ignore") as srv:
        held = _associate_when_free(srv.port)
        try:
            busy = run(dcmtk_cmd("echoscu", ["localhost", srv.port]))
        finally:
            held.release()
        deadline = time.monotonic() + 20          # until the server has let go of the slot
        stored = run(dcmtk_cmd("storescu", ["localhost", srv.port, corpus_path(FILES[0])]))
        while b"Local Limit Exceeded" in stored.stderr and time.monotonic() < deadline:
            stored = run(dcmtk_cmd("storescu", ["localhost", srv.port, corpus_path(FILES[0])]))
    assert busy.rc == 1
    assert busy.stderr == (b"F: Association Rejected:\nF: Result: Rejected Transient, Source: Service "
                           b"Provider (Presentation Related)\nF: Reason: Local Limit Exceeded\n")
    assert stored.rc == 0 and not list(tmp_path.iterdir())


def test_storescp_port_errors(tmp_path):
    with our_storescp(tmp_path) as srv:
        ours = run(our_cmd("storescp", [srv.port]))
        theirs = run(dcmtk_cmd("storescp", [srv.port]))
    assert ours.rc == theirs.rc == 1
    assert ours.stderr == theirs.stderr == \
        b"E: cannot create network: 0006:031c TCP Initialization Error: Address already in use\n"


# ---------------------------------------------------------------------------------------------
# termscu


def test_termscu_against_dcmqrscp_and_our_storescp(tmp_path):
    """termscu shuts DCMTK's dcmqrscp down (it answers with a rejection, as termscu expects);
    our storescp does not offer the shutdown class: both termscus fail alike."""
    port = free_port()
    (tmp_path / "db").mkdir()
    cfg = tmp_path / "qr.cfg"
    cfg.write_text(f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
                   "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
                   f"AETable BEGIN\nQR {tmp_path / 'db'} RW (9, 1024mb) ANY\nAETable END\n")
    proc = subprocess.Popen(dcmtk_cmd("dcmqrscp", ["-c", cfg, "--allow-shutdown", port]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        r = run(our_cmd("termscu", ["-aec", "QR", "localhost", port]))
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None
    assert r.rc == 1 and r.stderr.startswith(b"F: Association Rejected: \nF: Result: Rejected Permanent")
    with our_storescp(tmp_path) as srv:
        ours = run(our_cmd("termscu", ["localhost", srv.port]))
        theirs = run(dcmtk_cmd("termscu", ["localhost", srv.port]))
    assert (ours.rc, ours.stderr) == (theirs.rc, theirs.stderr) == (1, b"F: No Acceptable Presentation Contexts\n")
