"""TLS for the network tools (DCMTK's +tls/+tla/+cf/+cd/-rc/-vc/-ic, profiles, +cc, +vc/+rc)
against DCMTK 3.6.7 in both directions.

A CA, a second (untrusted) CA, server and client keys are made with ``openssl`` in a session
fixture. Every check runs DCMTK's tool on the same input and compares: exit codes, the F:/E:/W:
lines, the negotiated protocol and cipher suite, and the received objects (data set bytes).
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from test_dcmnet_interop import corpus_path, dataset_bytes, server

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
CT = "pd__CT_small.dcm"


# ---------------------------------------------------------------------------------------------
# certificates


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """ca/otherca (self-signed roots), server/client (by ca), rogue (by otherca), an encrypted
    copy of client.key (password 'secret') and DER copies of client key, client cert and ca."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "otherca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out",
                 f"{ca}.pem", "-days", "3650", "-subj", f"/CN={ca}", "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=d)
    for leaf, ca in (("server", "ca"), ("client", "ca"), ("rogue", "otherca")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{leaf}.key", "-out",
                 f"{leaf}.csr", "-subj", f"/CN={leaf}", cwd=d)
        _openssl("x509", "-req", "-in", f"{leaf}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                 "-CAcreateserial", "-out", f"{leaf}.pem", "-days", "3650", cwd=d)
    _openssl("rsa", "-in", "client.key", "-aes256", "-passout", "pass:secret", "-out", "client_enc.key", cwd=d)
    _openssl("rsa", "-in", "client.key", "-outform", "DER", "-out", "client_key.der", cwd=d)
    _openssl("x509", "-in", "client.pem", "-outform", "DER", "-out", "client.der", cwd=d)
    _openssl("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der", cwd=d)
    return d


def client_tls(pki: Path, *extra: str) -> list[str]:
    return ["+tls", pki / "client.key", pki / "client.pem", "-pw", "+cf", pki / "ca.pem", *extra]


def server_tls(pki: Path, *extra: str) -> list[str]:
    return ["+tls", pki / "server.key", pki / "server.pem", "-pw", "+cf", pki / "ca.pem", *extra]


def lines(stderr: bytes, prefixes=("F: ", "E: ", "W: ")) -> list[str]:
    return [l for l in stderr.decode(errors="replace").splitlines() if l.startswith(prefixes)]


def tls_servers(outdir: Path, *args):
    """Our storescp and DCMTK's with the same options (each in a directory of its own)."""
    (outdir / "ours").mkdir(parents=True, exist_ok=True)
    (outdir / "dcmtk").mkdir(parents=True, exist_ok=True)
    ours = server(lambda p: our_cmd("storescp", ["-od", outdir / "ours", *args, p]))
    theirs = server(lambda p: dcmtk_cmd("storescp", ["-od", outdir / "dcmtk", *args, p]))
    return ours, theirs


def echo(tool_cmd, port: int, *args) -> object:
    return run(tool_cmd("echoscu", [*args, "localhost", port]), timeout=60)


# ---------------------------------------------------------------------------------------------
# the command line


@pytest.mark.parametrize("tool", ["echoscu", "storescu", "storescp"])
def test_help_with_tls_block_matches_dcmtk(tool):
    ours, theirs = run(our_cmd(tool, ["--help"])), run(dcmtk_cmd(tool, ["--help"]))
    mine = ours.stdout.split(b"\n", 1)[1]
    if tool == "storescp":      # --max-associations: DCMTK 3.7.0's option, here already
        mine = re.sub(rb"\n +--max-associations[^\n]*\n[^\n]*", b"", mine)
    assert mine == theirs.stdout.split(b"\n", 1)[1]
    assert b"transport layer security (TLS) options:" in mine


@pytest.mark.parametrize("tool", ["echoscu", "storescp"])
def test_list_ciphers_matches_dcmtk(tool):
    ours, theirs = run(our_cmd(tool, ["+cc"])), run(dcmtk_cmd(tool, ["+cc"]))
    assert ours.rc == theirs.rc == 0
    tail = lambda out: out.split(b"Supported TLS ciphersuites are:\n")[1]
    assert tail(ours.stdout) == tail(theirs.stdout)
    assert tail(ours.stdout).count(b"\n  TLS_") >= 30


OPTION_ERRORS = [
    ("echoscu", ["+pa", "localhost", "104"]), ("echoscu", ["+pw", "x", "localhost", "104"]),
    ("echoscu", ["-ic", "localhost", "104"]), ("echoscu", ["+cf", "ca.pem", "localhost", "104"]),
    ("echoscu", ["+tls", "k", "c", "+ws", "localhost", "104"]),
    ("echoscu", ["+tla", "+pz", "+cs", "TLS_RSA_WITH_AES_256_CBC_SHA", "localhost", "104"]),
    ("storescu", ["-der", "localhost", "104", "x.dcm"]), ("storescu", ["+rs", "s", "localhost", "104", "x"]),
    ("storescp", ["-vc", "104"]), ("storescp", ["+dp", "x", "104"]), ("storescp", ["+tla", "104"]),
    ("storescp", ["+crv", "104"]), ("storescp", ["+tls", "k", "c", "+wf", "x", "104"]),
    ("echoscu", ["+tls", "only-one"]),
]


@pytest.mark.parametrize("tool,args", OPTION_ERRORS, ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_option_errors_match_dcmtk(tool, args):
    ours, theirs = run(our_cmd(tool, args)), run(dcmtk_cmd(tool, args))
    assert ours.rc == theirs.rc == 1
    last = lambda r: r.stderr.decode().strip().splitlines()[-1]
    expected = last(theirs).replace("--profile-basic", "--profile-aes")   # DCMTK's wrong name
    assert last(ours) == expected


SETUP_ERRORS = [
    ["+tls", "nokey.pem", "client.pem", "-pw"],                 # no key file
    ["+tls", "client.key", "server.pem", "-pw"],                # key and certificate differ
    ["+tls", "client_enc.key", "client.pem", "+pw", "wrong"],   # wrong password
    ["+tls", "client.key", "client.pem", "-pw", "+cs", "NO_SUCH_SUITE"],
]


@pytest.mark.parametrize("args", SETUP_ERRORS, ids=lambda a: " ".join(a))
def test_tls_setup_errors_match_dcmtk(pki, args):
    """Same F: line and exit code; ours may add an E: line saying why (DCMTK prints OpenSSL's
    error number there)."""
    ours = run(our_cmd("echoscu", [*args, "localhost", "9"]), cwd=pki)
    theirs = run(dcmtk_cmd("echoscu", [*args, "localhost", "9"]), cwd=pki)
    assert ours.rc == theirs.rc == 1
    fatal = lambda r: [l for l in lines(r.stderr) if l.startswith("F: ")]
    assert fatal(ours) == fatal(theirs) and fatal(ours)
    assert b"Traceback" not in ours.stderr


def test_unreadable_ca_and_dh_files_are_warned_and_ignored(pki, tmp_path):
    """DCMTK warns and goes on (the connection fails later for want of a trusted CA)."""
    ours = run(our_cmd("echoscu", [*client_tls(pki), "+cf", "nonexist.pem", "localhost", "9"]), cwd=pki)
    theirs = run(dcmtk_cmd("echoscu", [*client_tls(pki), "+cf", "nonexist.pem", "localhost", "9"]), cwd=pki)
    warn = "W: unable to load certificate file 'nonexist.pem', ignoring"
    assert warn in lines(ours.stderr) and warn in lines(theirs.stderr)
    assert ours.rc == theirs.rc == 1
    args = [*server_tls(pki), "+dp", "nonexist.pem"]
    with server(lambda p: our_cmd("storescp", ["-od", tmp_path, *args, p])) as srv:
        pass
    assert "W: unable to load temporary DH parameter file 'nonexist.pem', ignoring" in srv.log


OFFLINE = [["+rc", "ca.pem"], ["+rc", "server.pem"], ["+rc", "missing.pem"], ["+vc", "server.pem"],
           ["+tla", "+vc", "server.pem", "+cf", "ca.pem"], ["+tla", "+vc", "rogue.pem", "+cf", "ca.pem"],
           ["+tla", "-der", "+rc", "ca.der"], ["+tla", "+vc", "server.pem", "+cd", "."]]


@pytest.mark.parametrize("args", OFFLINE, ids=lambda a: " ".join(a))
def test_offline_certificate_checks_match_dcmtk(pki, args):
    ours, theirs = run(our_cmd("echoscu", args), cwd=pki), run(dcmtk_cmd("echoscu", args), cwd=pki)
    assert (ours.rc, ours.stdout, lines(ours.stderr)) == (theirs.rc, theirs.stdout, lines(theirs.stderr))


# ---------------------------------------------------------------------------------------------
# the matrix: ours and DCMTK's on both ends


def test_echo_and_store_over_tls_both_directions(pki, tmp_path):
    """Our echoscu/storescu to DCMTK's storescp +tls, DCMTK's to ours, ours to ours: what
    DCMTK's storescu sends (it re-encodes) arrives alike at both servers, what ours sends
    arrives with the source's data set bytes."""
    src = corpus_path(CT)
    ours_srv, dcmtk_srv = tls_servers(tmp_path, *server_tls(pki))
    received = lambda side: next((tmp_path / side).iterdir())
    def dump(path: Path) -> bytes:       # DCMTK's storescu drops the trailing padding on the way
        text = run(dcmtk_cmd("dcmdump", ["-M", path])).stdout.split(b"# Dicom-Data-Set")[1]
        return re.sub(rb"\n\(fffc,fffc\)[^\n]*", b"", text)
    with ours_srv as ours, dcmtk_srv as theirs:
        for cmd in (dcmtk_cmd, our_cmd):
            for srv in (ours, theirs):
                assert echo(cmd, srv.port, *client_tls(pki)).rc == 0
                r = run(cmd("storescu", [*client_tls(pki), "localhost", srv.port, src]), timeout=60)
                assert r.rc == 0, r.stderr
            assert dump(received("ours")) == dump(received("dcmtk")) == dump(src)
        assert dataset_bytes(received("ours")) == dataset_bytes(src)   # DCMTK drops the padding


PROFILES = ["+py", "+px", "+pz", "+pa"]


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_negotiate_what_dcmtk_negotiates(pki, tmp_path, profile):
    """Per profile: against DCMTK's server our client negotiates the protocol and cipher suite
    DCMTK's client does, and DCMTK's client gets the same from our server as from its own."""
    def negotiated(result) -> list[str]:
        assert result.rc == 0, result.stderr
        text = result.stderr.decode()
        return re.findall(r"D:   (?:Protocol|Ciphersuite) +: (.*)", text)[:2]
    ours_srv, dcmtk_srv = tls_servers(tmp_path, *server_tls(pki, profile))
    with ours_srv as ours, dcmtk_srv as theirs:
        reference = negotiated(echo(dcmtk_cmd, theirs.port, "-d", *client_tls(pki, profile)))
        assert negotiated(echo(our_cmd, theirs.port, "-d", *client_tls(pki, profile))) == reference
        assert negotiated(echo(dcmtk_cmd, ours.port, "-d", *client_tls(pki, profile))) == reference


def test_profiles_that_share_nothing_fail_on_both_sides(pki, tmp_path):
    """An AES-profile client (TLS_RSA_WITH_AES_128_CBC_SHA only) and a non-downgrading BCP 195
    server have no suite in common: DCMTK's and our server say so with the same line."""
    ours_srv, dcmtk_srv = tls_servers(tmp_path, *server_tls(pki))
    with ours_srv as ours, dcmtk_srv as theirs:
        assert echo(dcmtk_cmd, ours.port, *client_tls(pki, "+pa")).rc == 1
        assert echo(dcmtk_cmd, theirs.port, *client_tls(pki, "+pa")).rc == 1
        assert echo(our_cmd, theirs.port, *client_tls(pki, "+pa")).rc == 1
        ours.wait_for("Receiving Association failed", 1)
        theirs.wait_for("Receiving Association failed", 3)        # 1: the port probe
    failure = lambda log: [l for l in log.splitlines() if "Receiving Association failed" in l]
    assert failure(ours.log) == failure(theirs.log)[-1:] != []   # [0]: the port probe


# ---------------------------------------------------------------------------------------------
# peer authentication


def _server_failures(log: str) -> list[str]:
    return [l.strip() for l in log.splitlines() if l.startswith("E: Receiving Association failed")]


@pytest.mark.parametrize("client,mode,accepted", [
    (["+tla", "+cf", "ca.pem"], "-rc", False),          # no certificate, required
    (["+tla", "+cf", "ca.pem"], "-vc", True),           # no certificate, verified if present
    (["+tls", "rogue.key", "rogue.pem", "-pw", "+cf", "ca.pem"], "-rc", False),   # unknown CA
    (["+tls", "rogue.key", "rogue.pem", "-pw", "+cf", "ca.pem"], "-vc", False),
    (["+tls", "rogue.key", "rogue.pem", "-pw", "+cf", "ca.pem"], "-ic", True),
    (["+tls", "client.key", "client.pem", "-pw", "+cf", "ca.pem"], "-rc", True),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_peer_certificate_modes_as_dcmtk(pki, tmp_path, client, mode, accepted):
    """DCMTK's echoscu against DCMTK's storescp and ours with -rc/-vc/-ic: same verdict, and a
    refusal logged with the same line."""
    ours_srv, dcmtk_srv = tls_servers(tmp_path, *server_tls(pki, mode))
    with ours_srv as ours, dcmtk_srv as theirs:
        ours_r = run(dcmtk_cmd("echoscu", [*client, "localhost", ours.port]), cwd=pki, timeout=60)
        theirs_r = run(dcmtk_cmd("echoscu", [*client, "localhost", theirs.port]), cwd=pki, timeout=60)
        if not accepted:
            ours.wait_for("Receiving Association failed", 1)
            theirs.wait_for("Receiving Association failed", 2)    # 1: the port probe
    assert (ours_r.rc == 0) == (theirs_r.rc == 0) == accepted
    if not accepted:
        assert _server_failures(ours.log) == _server_failures(theirs.log)[-1:] != []


def test_untrusted_server_is_refused_by_our_client(pki, tmp_path):
    """Our client with the wrong CA: DCMTK's F: line and exit code; -ic accepts the server."""
    wrong = ["+tls", pki / "client.key", pki / "client.pem", "-pw", "+cf", pki / "otherca.pem"]
    with server(lambda p: dcmtk_cmd("storescp", ["-od", tmp_path, *server_tls(pki, "-ic"), p])) as srv:
        ours, theirs = echo(our_cmd, srv.port, *wrong), echo(dcmtk_cmd, srv.port, *wrong)
        assert ours.rc == theirs.rc == 1
        assert lines(ours.stderr) == lines(theirs.stderr) == [
            "F: Association Request Failed: 000b:0886 TLS error: certificate verify failed"]
        assert echo(our_cmd, srv.port, *wrong, "-ic").rc == 0


def test_anonymous_client_and_der_keys(pki, tmp_path):
    """+tla (no certificate) works with a server that does not require one; -der keys work."""
    with server(lambda p: dcmtk_cmd("storescp", ["-od", tmp_path, *server_tls(pki, "-vc"), p])) as srv:
        assert echo(our_cmd, srv.port, "+tla", "+cf", pki / "ca.pem").rc == 0
        der = ["+tls", pki / "client_key.der", pki / "client.der", "-der", "-pw", "+cf", pki / "ca.der"]
        assert echo(our_cmd, srv.port, *der).rc == 0
        assert echo(dcmtk_cmd, srv.port, *der).rc == 0


def test_encrypted_key_with_password_option_and_prompt(pki, tmp_path):
    """+pw gives the password; +ps (the default) reads it when the key needs one."""
    with server(lambda p: dcmtk_cmd("storescp", ["-od", tmp_path, *server_tls(pki), p])) as srv:
        args = ["+tls", pki / "client_enc.key", pki / "client.pem", "+cf", pki / "ca.pem"]
        assert echo(our_cmd, srv.port, *args, "+pw", "secret").rc == 0
        r = subprocess.run(our_cmd("echoscu", [*args, "localhost", srv.port]), input=b"secret\n",
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------------------
# TLS meets plain TCP, and silent clients: clean failures, no hang


def test_plain_and_tls_mismatch_fail_cleanly_as_dcmtk(pki, tmp_path):
    ours_tls, dcmtk_tls = tls_servers(tmp_path / "tls", *server_tls(pki))
    ours_plain, dcmtk_plain = tls_servers(tmp_path / "plain")
    with ours_tls as o_tls, dcmtk_tls as d_tls:
        for cmd in (our_cmd, dcmtk_cmd):
            assert echo(cmd, o_tls.port).rc == 1               # plain client, TLS server
        assert lines(echo(our_cmd, d_tls.port).stderr) == lines(echo(dcmtk_cmd, d_tls.port).stderr)
        o_tls.wait_for("Receiving Association failed", 2)
    assert _server_failures(o_tls.log) == \
        ["E: Receiving Association failed: 000b:090b TLS error: wrong version number"] * 2
    with ours_plain as o_plain, dcmtk_plain as d_plain:
        ours = echo(our_cmd, d_plain.port, *client_tls(pki))  # TLS client, plain server
        theirs = echo(dcmtk_cmd, d_plain.port, *client_tls(pki))
        assert ours.rc == theirs.rc == 1
        assert lines(ours.stderr) == lines(theirs.stderr)
        assert echo(dcmtk_cmd, o_plain.port, *client_tls(pki)).rc == 1
        assert echo(our_cmd, o_plain.port).rc == 0            # and the server still serves


def test_silent_client_does_not_block_the_tls_server(pki, tmp_path):
    """A client that connects and says nothing is dropped after the ACSE timeout; meanwhile and
    afterwards other clients are served."""
    with server(lambda p: our_cmd("storescp", ["-od", tmp_path, *server_tls(pki), "-ta", "2", p])) as srv:
        with socket.create_connection(("127.0.0.1", srv.port)) as silent:
            assert echo(our_cmd, srv.port, *client_tls(pki)).rc == 0
            silent.settimeout(20)
            start = time.monotonic()
            assert silent.recv(100) == b""                   # the server gave up on it
            assert time.monotonic() - start < 20
        assert echo(dcmtk_cmd, srv.port, *client_tls(pki)).rc == 0


# ---------------------------------------------------------------------------------------------
# the library


def test_library_tls_in_process(pki):
    """create_context + AE(tls=...) + associate(tls=...), and the debug block's certificate."""
    from dcmpy.dcmnet import IMPLICIT_LE, VERIFICATION, associate
    from dcmpy.dcmnet.scp import AE
    from dcmpy.dcmnet.tls import TLSError, TLSOptions, certificate_lines, create_context
    server_ctx = create_context(TLSOptions(server=True, key_file=str(pki / "server.key"),
                                           cert_file=str(pki / "server.pem"),
                                           ca_files=[str(pki / "ca.pem")]))
    ae = AE("TLSSCP", tls=server_ctx)
    ae.policy.add(VERIFICATION, [IMPLICIT_LE])
    ae.on("C-ECHO", lambda req: 0)
    failures = []
    ae.hook("failed", failures.append)
    port = ae.start(0)
    try:
        good = create_context(TLSOptions(key_file=str(pki / "client.key"),
                                         cert_file=str(pki / "client.pem"), ca_files=[str(pki / "ca.pem")]))
        with associate("127.0.0.1", port, [(VERIFICATION, [IMPLICIT_LE])], tls=good) as assoc:
            assert assoc.send_c_echo().Status == 0
        untrusting = create_context(TLSOptions(key_file=str(pki / "client.key"),
                                               cert_file=str(pki / "client.pem")))
        with pytest.raises(TLSError, match="000b:0886 TLS error: certificate verify failed"):
            associate("127.0.0.1", port, [(VERIFICATION, [IMPLICIT_LE])], tls=untrusting)
    finally:
        ae.shutdown()
    assert [str(f) for f in failures] == ["000b:0c18 TLS error: tlsv1 alert unknown ca"]
    import ssl
    der = ssl.PEM_cert_to_DER_cert((pki / "server.pem").read_text())
    text = "\n".join(certificate_lines(der))
    assert "Subject     : /CN=server" in text and "Issued by   : /CN=ca" in text
    assert "Public key  : RSA, 2048 bits" in text


def test_dcmrecv_over_tls_as_dcmtk(pki, tmp_path):
    """DCMTK's storescu +tls into our dcmrecv +tls and DCMTK's: the same file with the same data
    set; a TLS setup failure exits 71 (DCMTK's EXITCODE_CANNOT_CREATE_TRANSPORT_LAYER)."""
    src = corpus_path(CT)
    for side in ("ours", "dcmtk"):
        (tmp_path / side).mkdir()
    args = ["-xf", "/etc/dcmtk/storescp.cfg", "Default", *server_tls(pki)]
    with server(lambda p: our_cmd("dcmrecv", ["-od", tmp_path / "ours", *args, p])) as ours, \
            server(lambda p: dcmtk_cmd("dcmrecv", ["-od", tmp_path / "dcmtk", *args, p])) as theirs:
        for srv in (ours, theirs):
            r = run(dcmtk_cmd("storescu", [*client_tls(pki), "localhost", srv.port, src]), timeout=60)
            assert r.rc == 0, r.stderr
    received = [dataset_bytes(next((tmp_path / side).iterdir())) for side in ("ours", "dcmtk")]
    assert received[0] == received[1]
    bad = ["+tls", pki / "nokey.pem", pki / "server.pem", "-pw", "104"]
    ours_r, theirs_r = run(our_cmd("dcmrecv", bad)), run(dcmtk_cmd("dcmrecv", bad))
    assert ours_r.rc == theirs_r.rc == 71
    fatal = lambda r: [l for l in lines(r.stderr) if l.startswith("F: ")]
    assert fatal(ours_r) == fatal(theirs_r)
