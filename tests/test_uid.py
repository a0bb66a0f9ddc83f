"""Tests of dcmpy.dcmdata.uid: the UID registry (with DCMTK's names) and UID generation."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid

import pytest

from dcmpy.dcmdata import uid as U
from dcmpy.dcmdata.uid import (
    IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, UIDInfo, dcmtk_name, generate_uid, is_valid_uid,
    uid_for_dcmtk_name, uid_for_keyword, uid_info,
)


@pytest.mark.parametrize("uid, name", [
    ("1.2.840.10008.1.1", "VerificationSOPClass"),
    ("1.2.840.10008.1.2", "LittleEndianImplicit"),
    ("1.2.840.10008.1.2.1", "LittleEndianExplicit"),
    ("1.2.840.10008.1.2.2", "BigEndianExplicit"),
    ("1.2.840.10008.1.2.1.99", "DeflatedLittleEndianExplicit"),
    ("1.2.840.10008.1.2.4.50", "JPEGBaseline"),
    ("1.2.840.10008.1.2.4.51", "JPEGExtended:Process2+4"),
    ("1.2.840.10008.1.2.4.70", "JPEGLossless:Non-hierarchical-1stOrderPrediction"),
    ("1.2.840.10008.1.2.4.80", "JPEGLSLossless"),
    ("1.2.840.10008.1.2.4.90", "JPEG2000LosslessOnly"),
    ("1.2.840.10008.1.2.5", "RLELossless"),
    ("1.2.840.10008.5.1.4.1.1.2", "CTImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.4", "MRImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7", "SecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.2.2.1", "FINDStudyRootQueryRetrieveInformationModel"),
    ("1.2.840.10008.3.1.1.1", "StandardApplicationContext"),
])
def test_dcmtk_names(uid, name):
    assert dcmtk_name(uid) == name
    assert uid_for_dcmtk_name(name) == uid


def test_dcmtk_name_unknown():
    assert dcmtk_name("1.2.3.4") is None
    assert dcmtk_name("") is None
    # DICOM knows these, DCMTK 3.6.7 does not: dcmdump prints them in brackets
    assert uid_info("1.2.840.10008.1.2.1.98") is not None
    assert dcmtk_name("1.2.840.10008.1.2.1.98") is None
    assert uid_for_dcmtk_name("NoSuchName") is None


def test_padding_is_ignored():
    assert dcmtk_name("1.2.840.10008.5.1.4.1.1.2\0") == "CTImageStorage"
    assert dcmtk_name("1.2.840.10008.1.2 ") == "LittleEndianImplicit"


def test_uid_info():
    info = uid_info("1.2.840.10008.5.1.4.1.1.2")
    assert info == UIDInfo("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", "CTImageStorage", "SOP Class", False,
                           "CTImageStorage")
    be = uid_info("1.2.840.10008.1.2.2")
    assert be.type == "Transfer Syntax" and be.retired and be.keyword == "ExplicitVRBigEndian"
    assert uid_info("1.2.840.10008.1.2.1").name == "Explicit VR Little Endian"
    assert uid_info("1.2.3.4") is None


def test_uid_for_keyword():
    assert uid_for_keyword("ExplicitVRLittleEndian") == "1.2.840.10008.1.2.1"
    assert uid_for_keyword("CTImageStorage") == "1.2.840.10008.5.1.4.1.1.2"
    assert uid_for_keyword("JPEGBaseline8Bit") == "1.2.840.10008.1.2.4.50"
    assert uid_for_keyword("LittleEndianExplicit") is None  # a DCMTK name, not a keyword


def test_registry_is_consistent():
    import runpy

    import pydicom._uid_dict

    from dcmpy.dcmdata._uid_table import DCMTK_NAME_TO_UID, UIDS
    # pydicom's own table as shipped: importing pynetdicom adds newer UIDs to the live dict
    UID_dictionary = runpy.run_path(pydicom._uid_dict.__file__)["UID_dictionary"]

    assert len({row[0] for row in UIDS}) == len(UIDS)
    assert set(UID_dictionary) <= {row[0] for row in UIDS}
    named = [row for row in UIDS if row[5]]
    assert len(named) > 400
    for row in UIDS:
        assert is_valid_uid(row[0]), row
    for row in named:
        # DCMTK's reverse lookup finds a UID of that name
        assert dcmtk_name(uid_for_dcmtk_name(row[5])) == row[5]
    assert set(DCMTK_NAME_TO_UID) == {row[5] for row in named}


def test_names_match_dcmdump(tmp_path):
    """dcmdump prints '=Name' exactly for the UIDs dcmtk_name() knows, with that name."""
    for tool in ("dump2dcm", "dcmdump"):
        assert shutil.which(tool), f"DCMTK's {tool} is needed (installed in CI)"
    from dcmpy.dcmdata._uid_table import UIDS

    uids = [row[0] for row in UIDS if len(row[0]) <= 64] + ["1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2.99"]
    lines = ["(0008,1140) SQ (Sequence with undefined length #=%d)" % len(uids)]
    for u in uids:
        lines += ["  (fffe,e000) na (Item with undefined length #=1)", f"    (0008,1150) UI [{u}]",
                  "  (fffe,e00d) na (ItemDelimitationItem)"]
    lines.append("(fffe,e0dd) na (SequenceDelimitationItem)")
    src, out = tmp_path / "uids.txt", tmp_path / "uids.dcm"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run(["dump2dcm", str(src), str(out)], check=True, capture_output=True, timeout=60)
    env = dict(os.environ)
    env.pop("DCMDICTPATH", None)
    text = subprocess.run(["dcmdump", "+L", str(out)], env=env, capture_output=True, text=True, check=True,
                          timeout=60).stdout
    shown = re.findall(r"\(0008,1150\) UI (\S+)", text)
    assert len(shown) == len(uids)
    for u, value in zip(uids, shown):
        expected = dcmtk_name(u)
        assert value == (f"={expected}" if expected else f"[{u}]"), u


# ---------------------------------------------------------------------------------------------- generation
def test_implementation_identity():
    assert IMPLEMENTATION_CLASS_UID == "2.25.%d" % uuid.uuid5(uuid.NAMESPACE_URL, "dcmpy").int
    assert is_valid_uid(IMPLEMENTATION_CLASS_UID)
    assert IMPLEMENTATION_VERSION_NAME == "DCMPY_010"
    assert len(IMPLEMENTATION_VERSION_NAME) <= 16


def test_generate_uid_default():
    uids = {generate_uid() for _ in range(2000)}
    assert len(uids) == 2000
    for u in uids:
        assert u.startswith("2.25.") and is_valid_uid(u)
        assert int(u[5:]) < 2 ** 128


def test_generate_uid_prefix():
    u = generate_uid("1.2.826.0.1.3680043.9.7433")
    assert u.startswith("1.2.826.0.1.3680043.9.7433.") and is_valid_uid(u) and len(u) <= 64
    assert generate_uid("1.2.3.").startswith("1.2.3.") and ".." not in generate_uid("1.2.3.")
    long_prefix = "1.2.3." + "4" * 40  # 46 characters: 17 digits left
    uids = {generate_uid(long_prefix) for _ in range(500)}
    assert len(uids) == 500
    assert all(len(u) == 64 and is_valid_uid(u) and u.startswith(long_prefix + ".") for u in uids)
    for bad in ("", "1..2", "01.2", "1.2.a", "1.2.3." + "4" * 60):
        with pytest.raises(ValueError):
            generate_uid(bad)


@pytest.mark.parametrize("s, ok", [
    ("1.2.840.10008.1.2.1", True), ("0", True), ("0.0", True), ("2.25.0", True), ("1.2.3.10", True),
    ("1" * 64, True), ("1" * 65, False), ("", False), ("1.", False), (".1", False), ("1..2", False),
    ("1.02", False), ("01.2", False), ("1.2a", False), ("1.2 ", False), ("1.2\0", False), ("-1.2", False),
    ("1.\u0663", False), (None, False), (12, False),
])
def test_is_valid_uid(s, ok):
    assert is_valid_uid(s) is ok


def test_module_exports():
    for name in U.__all__:
        assert hasattr(U, name)
