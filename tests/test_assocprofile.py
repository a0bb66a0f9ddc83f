"""``-xf`` association negotiation profiles (dcmpy.dcmnet.assocprofile) against DCMTK.

* Debian's ``/etc/dcmtk/storescu.cfg`` and ``storescp.cfg`` parse, and every profile in them
  resolves to exactly the presentation contexts, roles and extended negotiation that DCMTK's
  ``storescu -d -xf file profile`` proposes (its A-ASSOCIATE-RQ dump, read back here).
* Broken files: DCMTK's verdict comes from ``storescp -xf file profile <busy port>`` (it reads
  the profile before it binds, so a good profile ends in "cannot create network"); ours must be
  the same, with an error naming file, line and reason, except for the deliberate differences
  listed in ``STRICTER`` (files DCMTK accepts although they cannot work as written).
"""
from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, run, tool_env
from dcmpy.dcmdata.uid import dcmtk_name, uid_for_dcmtk_name
from dcmpy.dcmnet.assocprofile import AssociationProfiles, ProfileError

DEBIAN = [Path("/etc/dcmtk/storescu.cfg"), Path("/etc/dcmtk/storescp.cfg")]

BASE = """\
# a small profile file with every supersection
[[TransferSyntaxes]]
[Uncompressed]
TransferSyntax1 = LittleEndianExplicit
TransferSyntax2 = LittleEndianImplicit
[[PresentationContexts]]
[PCs]
PresentationContext1 = CTImageStorage\\Uncompressed
PresentationContext2 = MRImageStorage\\Uncompressed
[[SCPSCURoleSelection]]
[Roles]
Role1 = CTImageStorage\\BOTH
[[ExtendedNegotiation]]
[Ext]
ExtendedNegotiation1 = CTImageStorage\\020003000000
[[Profiles]]
[Default]
PresentationContexts = PCs
SCPSCURoleSelection = Roles
ExtendedNegotiation = Ext
"""


def _many(n: int) -> str:
    lines = "".join(f"PresentationContext{i} = 1.2.3.{i}\\Uncompressed\n" for i in range(1, n + 1))
    return BASE.replace("PresentationContext1 = CTImageStorage\\Uncompressed\n"
                        "PresentationContext2 = MRImageStorage\\Uncompressed\n",
                        lines + f"PresentationContext{n + 1} = CTImageStorage\\Uncompressed\n")


# name -> (file text, line of our error or None if we accept it, words of our reason)
VARIANTS = {
    "ok": (BASE, None, ""),
    "gap_in_numbers": (BASE.replace("TransferSyntax2", "TransferSyntax3"), None, ""),
    "lower_case_names": (BASE.replace("[[Profiles]]", "[[profiles]]").replace("[Default]", "[ default ]")
                         .replace("PresentationContexts = PCs", "presentationcontexts = pcs")
                         .replace("\\BOTH", "\\both"), None, ""),
    "numeric_uids": (BASE.replace("= LittleEndianImplicit", "= 1.2.840.10008.1.2")
                     .replace("= MRImageStorage", "= 1.2.840.10008.5.1.4.1.1.4"), None, ""),
    "private_sop_uid": (BASE.replace("= MRImageStorage", "= 1.2.3.4.5"), None, ""),
    "continuation_line": (BASE.replace("MRImageStorage\\Uncompressed", "MRImageStorage\\\n  Uncompressed"),
                          None, ""),
    "exactly_128": (_many(127), None, ""),
    "unknown_ts_name": (BASE.replace("= LittleEndianImplicit", "= FooSyntax"), 5, "unknown transfer syntax"),
    "unknown_sop_name": (BASE.replace("MRImageStorage", "FooStorage"), 9, "unknown SOP class name"),
    "undefined_ts_list": (BASE.replace("MRImageStorage\\Uncompressed", "MRImageStorage\\Nope"), 9,
                          "transfer syntax list 'Nope' not found"),
    "missing_backslash": (BASE.replace("MRImageStorage\\Uncompressed", "MRImageStorage Uncompressed"), 9,
                          "missing '\\'"),
    "unknown_role": (BASE.replace("\\BOTH", "\\XYZ"), 12, "unknown role key"),
    "role_without_context": (BASE.replace("Role1 = CTImageStorage", "Role1 = UltrasoundImageStorage"), 19,
                             "no presentation context for it"),
    "extneg_odd_hex": (BASE.replace("020003000000", "02000300000"), 15, "even number of hex digits"),
    "extneg_not_hex": (BASE.replace("020003000000", "0200030000zz"), 15, "hex digits"),
    "extneg_without_context": (BASE.replace("ExtendedNegotiation1 = CTImageStorage",
                                            "ExtendedNegotiation1 = UltrasoundImageStorage"), 20,
                               "no presentation context for it"),
    "no_profiles": (BASE.split("[[Profiles]]")[0], None, "cannot find section [[PROFILES]]"),
    "no_transfer_syntaxes": (BASE.replace("[[TransferSyntaxes]]", "[[Foo]]"), None,
                             "cannot find section [[TRANSFERSYNTAXES]]"),
    "profile_without_contexts": (BASE.replace("PresentationContexts = PCs\n", ""), 17,
                                 "no PresentationContexts entry"),
    "profile_bad_context_list": (BASE.replace("PresentationContexts = PCs", "PresentationContexts = PCX"), 18,
                                 "'PCX' used by profile [Default] not found"),
    "profile_bad_role_list": (BASE.replace("SCPSCURoleSelection = Roles", "SCPSCURoleSelection = RX"), 19,
                              "'RX' used by profile [Default] not found"),
    "empty_ts_list": (BASE.replace("TransferSyntax1 = LittleEndianExplicit\nTransferSyntax2 = "
                                   "LittleEndianImplicit\n", "Foo = 1\n"), 3, "has no TransferSyntax1"),
    "empty_context_list": (BASE.replace("PresentationContext1 = CTImageStorage\\Uncompressed\n"
                                        "PresentationContext2 = MRImageStorage\\Uncompressed\n", ""), 7,
                           "has no PresentationContext1"),
    "more_than_128": (_many(128), 7, "too long (> 128 entries)"),
    # DCMTK's reader looks for the '=' across lines and then misses a supersection
    "missing_equals": (BASE.replace("TransferSyntax2 = LittleEndianImplicit",
                                    "TransferSyntax2 LittleEndianImplicit"), 5, "missing '='"),
    # deliberate differences: DCMTK accepts these although they cannot mean what they say
    "ts_listed_twice": (BASE.replace("= LittleEndianImplicit", "= LittleEndianExplicit"), 5, "listed twice"),
    "section_defined_twice": (BASE.replace("[[PresentationContexts]]", "[Uncompressed]\nTransferSyntax1 = "
                                           "BigEndianExplicit\n[[PresentationContexts]]"), 6, "defined twice"),
    "entry_outside_section": ("Foo = bar\n" + BASE, 1, "outside of a [section]"),
    "sop_class_as_ts": (BASE.replace("= LittleEndianImplicit", "= CTImageStorage"), 5,
                        "is not a transfer syntax"),
}
STRICTER = {
    "ts_listed_twice": "DCMTK keeps both copies of the transfer syntax in the list",
    "section_defined_twice": "DCMTK silently merges or shadows the second [Uncompressed]",
    "entry_outside_section": "DCMTK ignores an entry before the first [section]",
    "sop_class_as_ts": "DCMTK proposes CT Image Storage as a transfer syntax",
}


@pytest.fixture(scope="module")
def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="module")
def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))         # bound, not listening: connections are refused
    yield s.getsockname()[1]
    s.close()


def dcmtk_accepts_scp(path: Path, profile: str, port: int) -> tuple[bool, str]:
    """DCMTK's storescp verdict on a profile: it reads it, then fails to bind the busy port."""
    r = run(dcmtk_cmd("storescp", ["-xf", path, profile, port]), timeout=30)
    err = r.stderr.decode(errors="replace")
    assert r.rc == 1, err
    return "cannot create network" in err, err.strip()


_CONTEXT = re.compile(r"D:   Context ID: +\d+ \(Proposed\)\nD:     Abstract Syntax: (\S+)\n"
                      r"D:     Proposed SCP/SCU Role: (\S+)\nD:     Proposed Transfer Syntax\(es\):\n"
                      r"((?:D:       \S+\n)+)")
_EXTNEG = re.compile(r"D:   \S+ \(([0-9.]+)\)\nD:     \[([^\]]*)\]")
_ROLE_NAMES = {(False, False): "Default", (True, False): "SCU", (False, True): "SCP",
               (True, True): "SCP/SCU"}


def _uid(text: str) -> str:
    return uid_for_dcmtk_name(text[1:]) if text.startswith("=") else text


def dcmtk_proposal(path: Path, profile: str, port: int, tmp_path: Path):
    """What DCMTK's storescu proposes for a profile, from its A-ASSOCIATE-RQ debug dump."""
    dummy = tmp_path / "dummy.dcm"
    if not dummy.exists():
        from pydicom.data import get_testdata_file
        dummy.write_bytes(Path(get_testdata_file("CT_small.dcm", download=False)).read_bytes())
    r = subprocess.run(dcmtk_cmd("storescu", ["-d", "-xf", path, profile, "127.0.0.1", port, dummy]),
                       capture_output=True, env=tool_env(), timeout=60)
    text = r.stderr.decode()
    rq = text[:text.index("END A-ASSOCIATE-RQ")]
    contexts = [(_uid(m.group(1)), m.group(2), tuple(_uid(t.split()[1]) for t in m.group(3).splitlines()))
                for m in _CONTEXT.finditer(rq)]
    ext = [(m.group(1), bytes(int(b, 16) for b in m.group(2).split(", ") if b))
           for m in _EXTNEG.finditer(rq)]
    return contexts, ext


def ours_as_proposal(profile) -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    for pc in profile.contexts:
        role = profile.role_for(pc.abstract_syntax)
        out.append((pc.abstract_syntax, _ROLE_NAMES[(role.scu, role.scp) if role else (False, False)],
                    pc.transfer_syntaxes))
    return out


@pytest.mark.parametrize("path", DEBIAN, ids=lambda p: p.name)
def test_debian_files_match_dcmtk(path, closed_port, busy_port, tmp_path):
    profiles = AssociationProfiles.load(str(path))
    assert profiles.names
    for name in profiles.names:
        ours = profiles.profile(name)
        theirs, ext = dcmtk_proposal(path, name, closed_port, tmp_path)
        assert ours_as_proposal(ours) == theirs
        assert ext == [] and ours.extended == ()
        for pc in ours.contexts:
            assert dcmtk_name(pc.abstract_syntax) and all(dcmtk_name(ts) for ts in pc.transfer_syntaxes)
        scp_ok, _ = dcmtk_accepts_scp(path, name, busy_port)
        try:
            ours.check_scp()
            ours_scp_ok = True
        except ProfileError as exc:
            ours_scp_ok = False
            assert f"{path}, line " in str(exc) and "duplicate abstract syntax" in str(exc)
        assert ours_scp_ok == scp_ok


def test_roles_and_extended_negotiation_match_dcmtk(tmp_path, closed_port):
    path = tmp_path / "roles.cfg"
    path.write_text(BASE.replace("Role1 = CTImageStorage\\BOTH", "Role1 = CTImageStorage\\SCP\n"
                                 "Role2 = MRImageStorage\\scu")
                        .replace("PresentationContext2 = MRImageStorage\\Uncompressed",
                                 "PresentationContext2 = MRImageStorage\\Uncompressed\n"
                                 "PresentationContext3 = 1.2.3.4.5\\Uncompressed"))
    ours = AssociationProfiles.load(str(path)).profile("default")
    theirs, ext = dcmtk_proposal(path, "Default", closed_port, tmp_path)
    assert ours_as_proposal(ours) == theirs
    assert [(e.abstract_syntax, e.data) for e in ours.extended] == ext == [
        ("1.2.840.10008.5.1.4.1.1.2", bytes.fromhex("020003000000"))]
    assert ours.transfer_syntaxes_for("1.2.840.10008.5.1.4.1.1.4") == ("1.2.840.10008.1.2.1",
                                                                          "1.2.840.10008.1.2")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_verdict_matches_dcmtk(name, tmp_path, busy_port):
    text, line, reason = VARIANTS[name]
    path = tmp_path / f"{name}.cfg"
    path.write_text(text)
    dcmtk_ok, dcmtk_err = dcmtk_accepts_scp(path, "Default", busy_port)
    try:
        AssociationProfiles.load(str(path)).profile("Default").check_scp()
        ours_ok, ours_err = True, None
    except ProfileError as exc:
        ours_ok, ours_err = False, exc
    if name in STRICTER:
        assert dcmtk_ok and not ours_ok, dcmtk_err
    else:
        assert ours_ok == dcmtk_ok, (ours_err, dcmtk_err)
    assert ours_ok == (line is None and not reason), ours_err
    if not ours_ok:
        assert reason in ours_err.reason
        assert ours_err.file == str(path) and ours_err.line == line
        assert str(ours_err).startswith(f"{path}, line {line}: " if line else f"{path}: ")
        assert "\n" not in str(ours_err)


def test_unknown_profile_and_unreadable_file(tmp_path):
    path = tmp_path / "p.cfg"
    path.write_text(BASE)
    profiles = AssociationProfiles.load(str(path))
    assert "default" in profiles and " Def ault " in profiles and "Other" not in profiles
    with pytest.raises(ProfileError, match="unknown configuration profile name: OTHER"):
        profiles.profile("Other")
    with pytest.raises(ProfileError, match="unable to open configuration file"):
        AssociationProfiles.load(str(tmp_path / "missing.cfg"))


@pytest.mark.parametrize("junk", [b"", b"\x00\xff" * 100, b"[[[[", b"[[TransferSyntaxes]]\n[" + b"x" * 10000,
                                  b"\n".join(b"[[Profiles]]" for _ in range(1000))])
def test_junk_files_give_one_line_errors(tmp_path, junk):
    path = tmp_path / "junk.cfg"
    path.write_bytes(junk)
    with pytest.raises(ProfileError) as info:
        AssociationProfiles.load(str(path))
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
