"""dcmqrscp.cfg parsing (dcmpy.dcmqrdb.config) against DCMTK's own verdict.

DCMTK's dcmqrscp reads its configuration before it binds: with a port that is already in use,
a good file ends in "cannot initialize network", a bad one in "bad config file" (exit 10 both).
Every variant below is run through it; ours must agree, with an error naming file, line and
reason, except for ``STRICTER``: lines DCMTK accepts although it cannot use them as written.
"""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, run
from dcmpy.dcmqrdb.config import ArchiveConfig, ConfigError, Peer, Quota

HEAD = "NetworkTCPPort = 104\nMaxPDUSize = 16384\nMaxAssociations = 16\n"


def _cfg(ae_line: str, hosts: str = "", vendors: str = "") -> str:
    return (HEAD + "HostTable BEGIN\n" + hosts + "HostTable END\nVendorTable BEGIN\n" + vendors
            + "VendorTable END\nAETable BEGIN\n" + ae_line + "\nAETable END\n")


H1 = "h1 = (AE1, localhost, 104)\n"
AE = "STORE /tmp/store RW (10, 1mb) ANY"
# name -> (text, our error line or None, words of our reason)
VARIANTS = {
    "ok": (_cfg(AE), None, ""),
    "symbol": (_cfg("STORE /tmp/store RW (10, 1mb) h1", H1), None, ""),
    "tuple_peer": (_cfg("STORE /tmp/store RW (10, 1mb) (AE1, localhost, 104)"), None, ""),
    "mixed_peers": (_cfg("STORE /tmp/store RW (10, 1mb) h1, (AE2, otherhost, 105)", H1), None, ""),
    "host_list": (_cfg(AE, H1 + "h2 = (AE2, localhost, 105)\nh3 = h1, h2\n"), None, ""),
    "host_without_equals": (_cfg(AE, "h1 (AE1, localhost, 104)\n"), None, ""),
    "vendor": (_cfg(AE, H1, '"Acme CT" = h1\n'), None, ""),
    "quota_units": (_cfg("A /a RW (10, 100KB) ANY\nB /b R (10, 5gb) ANY\nC /c W (1, 5000b) ANY"), None, ""),
    "many_studies": (_cfg("STORE /tmp/store RW (1000, 1mb) ANY"), None, ""),
    "legacy_keywords": ('NetworkType = "tcp"\nApplicationTitle = X\n' + _cfg(AE), None, ""),
    "comment_inline_value": ("NetworkTCPPort = 104 # comment\n" + _cfg(AE), 1, "takes one value"),
    "charset": ('SpecificCharacterSet = "ISO_IR 192", override, discard\n' + _cfg(AE), None, ""),
    "empty_file": ("", None, ""),
    "unknown_mnemonic": ("Foo = 3\n" + _cfg(AE), 1, 'unknown mnemonic "Foo"'),
    "lower_case_mnemonic": ("networktcpport = 104\n" + _cfg(AE), 1, "unknown mnemonic"),
    "quota_zero": (_cfg("STORE /tmp/store RW (0, 1mb) ANY"), 9, "maxStudies must be a positive"),
    "quota_missing": (_cfg("STORE /tmp/store RW ANY"), 9, "needs StorageArea Access"),
    "no_quota_no_peers": (_cfg("STORE /tmp/store RW"), 9, "needs StorageArea Access"),
    "no_peers": (_cfg("STORE /tmp/store RW (10, 1mb)"), 9, "needs StorageArea Access"),
    "undefined_symbol_no_table": (_cfg("STORE /tmp/store RW (10, 1mb) foo"), 9, "no symbolic names defined"),
    "undefined_symbol": (_cfg("STORE /tmp/store RW (10, 1mb) foo", H1), 10, 'symbolic name "foo" not defined'),
    "host_undefined_symbol": (_cfg(AE, "h3 = h1, h2\n"), 5, "no symbolic names defined"),
    "vendor_undefined": (_cfg(AE, "", '"Acme" = h1\n'), 7, "no symbolic names defined"),
    "unterminated_table": (HEAD + "AETable BEGIN\n" + AE + "\n", 4, 'no "AETable END"'),
    "end_without_begin": ("AETable END\n", 1, 'no "AETable BEGIN" before END'),
    "bad_table_status": ("AETable START\n", 1, 'unknown AETable status "START"'),
    "max_pdu_too_small": (_cfg(AE) + "MaxPDUSize = 100\n", 11, "MaxPDUSize must be an integer in 4096..131072"),
}
# deliberate differences: DCMTK accepts the line, we refuse it (what DCMTK does instead)
STRICTER = {
    "bad_access": (_cfg("STORE /tmp/store X (10, 1mb) ANY"), 9, "must be R, RW or W",
                   "DCMTK grants neither read nor write access"),
    "quota_without_b": (_cfg("STORE /tmp/store RW (10, 1m) ANY"), 9, "unit b, kb, mb or gb",
                        "DCMTK's size becomes -1"),
    "quota_number_only": (_cfg("STORE /tmp/store RW (10, 1000) ANY"), 9, "unit b, kb, mb or gb",
                          "DCMTK's size becomes -1"),
    "quota_negative": (_cfg("STORE /tmp/store RW (-1, 1mb) ANY"), 9, "maxStudies must be a positive",
                       "DCMTK keeps -1 studies"),
    "quota_one_value": (_cfg("STORE /tmp/store RW (10) ANY"), 9, "quota must be",
                        "DCMTK reads an uninitialised size"),
    "aetitle_too_long": (_cfg("STOREAAAAAAAAAAAAAAAAAAAA /tmp/store RW (10, 1mb) ANY"), 9, "invalid AE title",
                         "DCMTK keeps an AE title no peer can call"),
    "aetitle_twice": (_cfg(AE + "\n" + AE.replace("RW", "R")), 10, "defined twice",
                      "DCMTK uses the first entry and ignores the second"),
    "peer_missing_port": (_cfg(AE, "h1 = (AE1, localhost)\n"), 5, "must be (AETitle, HostName, PortNumber)",
                          "DCMTK's port becomes atoi of nothing"),
    "peer_port_not_number": (_cfg(AE, "h1 = (AE1, localhost, abc)\n"), 5, "must be an integer in 1..65535",
                             "DCMTK's port becomes 0"),
    "port_not_number": ("NetworkTCPPort = abc\n" + _cfg(AE), 1, "NetworkTCPPort must be an integer",
                        "DCMTK keeps its default port 104"),
    "port_without_value": ("NetworkTCPPort\n" + _cfg(AE), 1, "without a value",
                           "DCMTK keeps its default port 104"),
    "max_associations_negative": ("MaxAssociations = -5\n" + _cfg(AE), 1, "MaxAssociations must be",
                                  "DCMTK keeps -5"),
    "unknown_charset": ("SpecificCharacterSet = foo\n" + _cfg(AE), 1, "unknown character set 'foo'",
                        "DCMTK fails later, on the first conversion"),
    "unterminated_quote": ('UserName = "abc def\n' + _cfg(AE), 1, "unterminated quote",
                           "DCMTK 3.6.7 crashes with SIGSEGV"),
}


@pytest.fixture(scope="module")
def busy_port():
    s = socket.socket()
    s.bind(("", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


def dcmtk_verdict(path: Path, port: int) -> tuple[bool | None, str]:
    """True: DCMTK accepts the file; False: it rejects it; None: it crashed."""
    r = run(dcmtk_cmd("dcmqrscp", ["-c", path, port]), timeout=30)
    err = r.stderr.decode(errors="replace")
    if r.rc < 0:
        return None, f"killed by signal {-r.rc}"
    assert r.rc == 10, err
    return "cannot initialize network" in err, err.strip()


def ours(path: Path) -> ConfigError | None:
    try:
        ArchiveConfig.load(str(path))
    except ConfigError as exc:
        return exc
    return None


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_verdict_matches_dcmtk(name, tmp_path, busy_port):
    text, line, reason = VARIANTS[name]
    path = tmp_path / "dcmqrscp.cfg"
    path.write_text(text)
    dcmtk_ok, log = dcmtk_verdict(path, busy_port)
    err = ours(path)
    if name == "comment_inline_value":   # DCMTK reads the port with sscanf and ignores the rest
        assert dcmtk_ok and err is not None
    else:
        assert (err is None) == dcmtk_ok, (err, log)
    _check_error(err, path, line, reason)


@pytest.mark.parametrize("name", list(STRICTER))
def test_stricter_than_dcmtk(name, tmp_path, busy_port):
    text, line, reason, what_dcmtk_does = STRICTER[name]
    path = tmp_path / "dcmqrscp.cfg"
    path.write_text(text)
    dcmtk_ok, log = dcmtk_verdict(path, busy_port)
    assert dcmtk_ok is not False, log                # DCMTK accepts (or crashes on) it
    if name == "unterminated_quote":
        assert dcmtk_ok is None, log
    _check_error(ours(path), path, line, reason)


def _check_error(err: ConfigError | None, path: Path, line: int | None, reason: str) -> None:
    if line is None and not reason:
        assert err is None
        return
    assert err is not None and reason in err.reason, err
    assert err.file == str(path) and err.line == line
    assert str(err) == f"{path}, line {line}: {err.reason}" and "\n" not in str(err)


def test_debian_sample_config():
    cfg = ArchiveConfig.load("/etc/dcmtk/dcmqrscp.cfg")
    assert (cfg.network_tcp_port, cfg.max_pdu_size, cfg.max_associations) == (104, 16384, 16)
    assert (cfg.user_name, cfg.group_name) == ("dcmtk", "dcmtk")
    assert cfg.aes == {} and cfg.hosts == {} and cfg.vendors == {}


def test_debian_sample_entries_uncommented():
    text = Path("/etc/dcmtk/dcmqrscp.cfg").read_text()
    for line in text.splitlines():
        body = line[1:]
        if line.startswith(("#acme", "#united", '#"', "#ACME_", "#UNITED_", "#READ")):
            text = text.replace(line + "\n", body + "\n", 1)
    cfg = ArchiveConfig.parse(text, "sample.cfg")
    assert cfg.hosts["acmeCTcompany"] == (Peer("ACME1", "acmehost1", 5678), Peer("ACME2", "acmehost2", 5678))
    assert cfg.vendors["Acme CT Company"] == cfg.hosts["acmeCTcompany"]
    store = cfg.ae("ACME_STORE")
    assert store.storage_area == "/var/lib/dcmtk/db/ACME_STORE" and store.writable and store.readable
    assert store.quota == Quota(9, 1024 << 20)
    assert cfg.ae("READ").access == "R" and cfg.ae("READ").peers is None
    assert cfg.peer_allowed("ACME_STORE", "ACME1", "ACMEHOST1")       # host names ignore case
    assert not cfg.peer_allowed("ACME_STORE", "ACME1", "unitedhost1")
    assert not cfg.peer_allowed("ACME_STORE", "UNITED1", "unitedhost1")
    assert cfg.peer_allowed("READ", "ANYONE", "anywhere")
    assert not cfg.peer_allowed("NOSUCH", "ACME1", "acmehost1")
    assert cfg.move_destination("UNITED2") == Peer("UNITED2", "unitedhost2", 104)
    assert cfg.move_destination("NOBODY") is None
    assert cfg.vendor_for("UNITED1") == "United MR Company"


def test_host_addresses_match_configured_names():
    cfg = ArchiveConfig.parse(_cfg("STORE /tmp/store RW (10, 1mb) h1", H1))
    assert cfg.peer_allowed("STORE", "AE1", "127.0.0.1")         # localhost resolves to it
    assert not cfg.peer_allowed("STORE", "AE1", "10.1.2.3")


def test_dcmpy_extensions():
    cfg = ArchiveConfig.parse('IndexDatabase = "postgresql://qr@db/archive"\nQuotaPolicy = reject\n'
                              + _cfg(AE))
    assert cfg.index_database == "postgresql://qr@db/archive" and cfg.quota_policy == "reject"
    for bad in ("IndexDatabase = /tmp/x.sqlite", "QuotaPolicy = sometimes"):
        with pytest.raises(ConfigError, match="line 1"):
            ArchiveConfig.parse(bad + "\n")


def test_unreadable_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="unable to open configuration file"):
        ArchiveConfig.load(str(tmp_path / "missing.cfg"))
    junk = tmp_path / "junk.cfg"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(ConfigError) as info:
        ArchiveConfig.load(str(junk))
    assert "\n" not in str(info.value) and str(info.value).startswith(str(junk))
