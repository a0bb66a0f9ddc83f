"""Tag paths and the modification library (dcmpy.dcmdata.tagpath, dcmpy.dcmdata.modify) in-process.

DCMTK's own answers for the same paths and values are checked in test_dcmodify.py; here: parsing
(with positions), resolving and creating, rollback on failure, C-style value parsing, bit
preservation of untouched elements, and pydicom reading what we write.
"""
from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings, strategies as st

import corpus
from dcmpy.dcmdata.dataset import Dataset, FileDataset
from dcmpy.dcmdata.modify import (ModifyError, element_for, erase, erase_all, erase_private,
                                  insert, modify, modify_all, new_uid, save_in_place)
from dcmpy.dcmdata.reader import dcmread
from dcmpy.dcmdata.tagpath import (ALL_ITEMS, MAX_NEW_ITEMS, PathStep, TagPath, TagPathError,
                                   split_assignment, tag_for_keyword)
from dcmpy.dcmdata.uid import is_valid_uid
from dcmpy.dcmdata.writer import WriteOptions, dcmwrite

RIS = 0x00081140   # ReferencedImageSequence
RSOP = 0x00081155  # ReferencedSOPInstanceUID


# -- parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("PatientName", [(0x00100010, None)]),
    ("(0010,0010)", [(0x00100010, None)]),
    ("(0010,0010 )", [(0x00100010, None)]),
    ("( 0010, 0010)", [(0x00100010, None)]),
    ("(8,10)", [(0x00080010, None)]),
    ("0008,0010", [(0x00080010, None)]),
    ("(7FE0,0010)", [(0x7FE00010, None)]),
    ("(0008,1140)[0].(0008,1155)", [(RIS, 0), (RSOP, None)]),
    ("ReferencedImageSequence[12].ReferencedSOPInstanceUID", [(RIS, 12), (RSOP, None)]),
    ("ContentSequence[*].ContentSequence[ 1 ].CodeValue",
     [(0x0040A730, ALL_ITEMS), (0x0040A730, 1), (0x00080100, None)]),
    ("(0008,1140)[2]", [(RIS, 2)]),
    ("(0008,1140)[+0]", [(RIS, 0)]),
    ("OverlayRows", [(0x60000010, None)]),               # repeating entries: the lowest tag
    ("RETIRED_SourceImageIDs", [(0x00203100, None)]),
    ("PrivateCreator", [(0x00090010, None)]),
    ("GenericGroupLength", [(0x00000000, None)]),
])
def test_parse(text, steps):
    path = TagPath.parse(text)
    assert [(s.tag, s.item) for s in path.steps] == steps
    assert path.text == text
    assert TagPath.parse(str(path)) == path          # the canonical form parses back


@pytest.mark.parametrize("text, message, position", [
    ("(0010,0010", "Unable to parse tag at beginning of path: (0010,0010", 0),
    ("(", "Unable to parse tag at beginning of path: (", 0),
    ("Foo", "Unable to parse tag/dictionary name at beginning of path: Foo", 0),
    ("patientname", "Unable to parse tag/dictionary name at beginning of path: patientname", 0),
    (" (0008,0010)", "Unable to parse tag/dictionary name at beginning of path:  (0008,0010)", 0),
    ("(gggg,0010)", "Unable to parse tag/dictionary name at beginning of path: (gggg,0010)", 0),
    ("(8 ,10)", "Unable to parse tag/dictionary name at beginning of path: (8 ,10)", 0),
    ("PatientName.", "Unable to parse tag/dictionary name at beginning of path: PatientName.", 0),
    ("(0008,1140)[x].PatientName",
     "Unable to parse item number at beginning of path: [x].PatientName", 11),
    ("(0008,1140)[-1].PatientName",
     "Negative item number (not permitted) at beginning of path: [-1].PatientName", 11),
    ("(0008,1140).PatientName", "Unable to parse item number at beginning of path: .PatientName", 11),
    ("(0008,1140) [0]", "Unable to parse item number at beginning of path:  [0]", 11),
    ("(0008,1140)[]", "Unable to parse item number at beginning of path: []", 11),
    ("(0008,1140)[0", "Unable to parse item number at beginning of path: [0", 11),
    ("(0008,1140)[0]..PatientName",
     "Unable to parse tag/dictionary name at beginning of path: .PatientName", 15),
    ("(0008,1140)[0].", "Unable to parse tag/dictionary name at beginning of path: ", 15),
    ("(0008,1140)[0]PatientName",
     "Expected '.' after item number at beginning of path: PatientName", 14),
    ("", "Unable to parse tag/dictionary name at beginning of path: ", 0),
    ("(0008,1140)[4294967296]", "Item number too large (not permitted) at beginning of path: "
                                "[4294967296]", 11),
    ("(0008,1140)[" + "9" * 5000 + "]", "Item number too large (not permitted) at beginning of "
                                        "path: [" + "9" * 5000 + "]", 11),
])
def test_parse_errors(text, message, position):
    with pytest.raises(TagPathError) as err:
        TagPath.parse(text)
    assert str(err.value) == message
    assert (err.value.path, err.value.position) == (text, position)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()[]*.,=0123456789abcdefABCDEF-+ PatientNameSequnc", max_size=40))
def test_parse_never_fails_otherwise(text):
    """Any text either parses (and round-trips) or raises TagPathError with a position in it."""
    try:
        path = TagPath.parse(text)
    except TagPathError as err:
        assert 0 <= err.position <= len(text) and str(err)
    else:
        assert TagPath.parse(str(path)) == path


def test_steps_need_items():
    with pytest.raises(ValueError):
        TagPath((PathStep(RIS), PathStep(RSOP)))
    assert str(TagPath((PathStep(RIS, ALL_ITEMS), PathStep(RSOP)))) == "(0008,1140)[*].(0008,1155)"


def test_keywords_and_assignment():
    assert tag_for_keyword("PatientName") == 0x00100010
    assert tag_for_keyword("NoSuchKeyword") is None
    assert split_assignment("PatientName=a=b") == ("PatientName", "a=b")
    assert split_assignment("PatientName") == ("PatientName", None)
    assert split_assignment("PatientName=") == ("PatientName", "")


# -- resolving ----------------------------------------------------------------------------------

def _with_items(*values: str) -> Dataset:
    ds = Dataset()
    seq = ds.add_new(RIS, "SQ", [])
    for v in values:
        item = Dataset(parent=ds)
        if v:
            item.add_new(RSOP, "UI", v)
        seq.value.append(item)
    return ds


def test_resolve_wildcards_and_missing():
    ds = _with_items("1.1", "", "1.3")
    matches = TagPath.parse("(0008,1140)[*].(0008,1155)").resolve(ds)
    assert [m.element.value for m in matches] == ["1.1", "1.3"]
    assert TagPath.parse("(0008,1140)[5].(0008,1155)").resolve(ds) == []
    assert TagPath.parse("(0008,1150)").resolve(ds) == []
    items = TagPath.parse("(0008,1140)[*]").resolve(ds)
    assert [m.item for m in items] == list(ds[RIS].value)


def test_resolve_create_and_undo():
    ds = Dataset()
    undo: list = []
    path = TagPath.parse("(0008,1140)[2].(0008,1140)[0].(0008,1155)")
    (m,) = path.resolve(ds, create=True, undo=undo)
    assert m.element is None and m.tag == RSOP
    assert len(ds[RIS].value) == 3 and len(ds[RIS].value[2][RIS].value) == 1
    for action in reversed(undo):
        action()
    assert len(ds) == 0


@pytest.mark.parametrize("path, message", [
    ("PatientName[0].PatientID", "Invalid Path: Non-sequence tag found with rest path following"),
    ("(0008,1140)[*].PatientID", "Cannot insert unspecified number (wildcard) of items into sequence"),
    ("(0009,1003)[0].PatientID", "Invalid Path: Non-sequence tag found with rest path following"),
])
def test_resolve_create_errors(path, message):
    ds = Dataset()
    ds.add_new(0x00100010, "PN", "Doe")
    with pytest.raises(TagPathError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TagPath.parse(path).resolve(ds, create=True)


def test_item_creation_is_bounded():
    ds = Dataset()
    with pytest.raises(TagPathError, match="Cannot insert more than"):
        insert(ds, f"(0008,1140)[{MAX_NEW_ITEMS}].PatientID", "x")
    assert len(ds) == 0
    insert(ds, f"(0008,1140)[{MAX_NEW_ITEMS - 1}]")
    assert len(ds[RIS].value) == MAX_NEW_ITEMS


def test_existing_private_sequence_is_followed():
    """DCMTK 3.6.7 refuses paths through private sequences (dictionary VR); we follow an
    existing SQ element whatever the dictionary says."""
    ds = Dataset()
    ds.add_new(0x00990010, "LO", "UNKNOWN CREATOR")
    seq = ds.add_new(0x00991003, "SQ", [Dataset(parent=ds)])
    modify_count = insert(ds, "(0099,1003)[0].PatientID", "x")
    assert modify_count == 1 and seq.value[0][0x00100020].value == "x"


# -- operations ---------------------------------------------------------------------------------

def test_insert_modify_erase_roundtrip(tmp_path):
    ds = FileDataset(transfer_syntax=None)
    ds.add_new(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7")
    ds.add_new(0x00080018, "UI", "1.2.3")
    assert insert(ds, "(0008,1140)[1].ReferencedSOPInstanceUID", "1.2.3.4") == 1
    assert insert(ds, "(0008,1140)[*].ReferencedSOPClassUID", "1.2.840.10008.5.1.4.1.1.2") == 2
    assert modify(ds, "(0008,1140)[*].ReferencedSOPInstanceUID", "9.9") == 1
    assert insert(ds, "Rows", "512") == 1 and ds.Rows == 512
    assert insert(ds, "PixelSpacing", "0.5\\0.25") == 1 and ds.PixelSpacing == [0.5, 0.25]
    assert modify(ds, "SOPInstanceUID", "1.2.3.5") == 1
    assert ds.file_meta[0x00020003].value == "1.2.3.5"       # meta follows (no -nmu)
    assert modify(ds, "SOPInstanceUID", "1.2.3.6", update_meta=False) == 1
    assert ds.file_meta[0x00020003].value == "1.2.3.5"
    assert erase(ds, "(0008,1140)[0]") == 1 and len(ds[RIS].value) == 1
    out = tmp_path / "x.dcm"
    dcmwrite(out, ds, WriteOptions(transfer_syntax="1.2.840.10008.1.2.2"))
    import pydicom
    p = pydicom.dcmread(out)
    assert p.Rows == 512 and list(p.PixelSpacing) == [0.5, 0.25]
    assert p.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "9.9"
    assert p.ReferencedImageSequence[0].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"


def test_failed_operation_changes_nothing():
    """An operation that fails half-way is undone: nothing it created or changed remains
    (DCMTK 3.6.7 keeps the items and the empty element it created before refusing the value)."""
    ds = _with_items("1.1", "1.2")
    before = [(e.tag, e.vr) for e in ds]
    with pytest.raises(ModifyError, match="Corrupted data"):
        insert(ds, "(0040,a730)[3].Rows", "abc")
    with pytest.raises(ModifyError, match="Corrupted data"):
        insert(ds, "(0008,1140)[*].Rows", "abc")
    assert [(e.tag, e.vr) for e in ds] == before
    assert all(0x00280010 not in item for item in ds[RIS].value)
    first, second = ds[RIS].value
    first.add_new(0x00280010, "US", 7)
    second.add_new(0x00280010, "AT", 0x00100010)    # '5' suits the first match, not this one
    for op in (modify, insert):
        with pytest.raises(ModifyError, match="Corrupted data"):
            op(ds, "(0008,1140)[*].Rows", "5")
        assert first[0x00280010].value == 7 and second[0x00280010].value == 0x00100010
    second.add_new(0x00280010, "SQ", [])            # a match that cannot take a value
    with pytest.raises(ModifyError, match="non-leaf"):
        modify(ds, "(0008,1140)[*].Rows", "5")
    assert first[0x00280010].value == 7


def test_not_found_and_ignore_missing():
    ds = _with_items("1.1")
    for call in (lambda **k: modify(ds, "PatientName", "x", **k),
                 lambda **k: erase(ds, "(0008,1140)[3]", **k),
                 lambda **k: modify_all(ds, "PatientID", "x", **k),
                 lambda **k: erase_all(ds, "PatientID", **k)):
        with pytest.raises(ModifyError) as err:
            call()
        assert err.value.not_found and str(err.value) == "Tag not found"
        assert call(ignore_missing=True) == 0


def test_all_levels_and_private():
    ds = _with_items("1.1", "1.2")
    ds.add_new(RSOP, "UI", "0.1")
    ds.add_new(0x00090010, "LO", "ACME")
    ds.add_new(0x00091001, "LO", "secret")
    ds[RIS].value[0].add_new(0x00091001, "LO", "nested")
    assert modify_all(ds, "ReferencedSOPInstanceUID", "7.7") == 3
    assert {m.element.value for m in TagPath.parse("(0008,1140)[*].(0008,1155)").resolve(ds)} \
        == {"7.7"}
    assert erase_private(ds) == 3 and 0x00090010 not in ds
    assert erase_all(ds, 0x00081155) == 3
    with pytest.raises(ModifyError, match="Cannot delete tags with group 0000 or 0002!"):
        erase_all(ds, "(0002,0010)")
    with pytest.raises(ModifyError, match="not found in dictionary"):
        modify_all(ds, "(0008,1140)[0].PatientID", "x")


def test_private_reservation_and_vr():
    ds = Dataset()
    with pytest.raises(ModifyError, match=r"Invalid or empty private creator tag: \(0029,0010\)"):
        insert(ds, "(0029,1008)", "X")
    insert(ds, "(0029,1008)", "0a", check_reservation=False)
    assert ds[0x00291008].vr == "UN" and bytes(ds[0x00291008].raw) == b"\x0a\x00"
    insert(ds, "(0029,0010)", "SIEMENS CSA HEADER")
    insert(ds, "(0029,1018)", "CT")                     # known under this creator: CS
    assert ds[0x00291018].vr == "CS" and ds[0x00291018].value == "CT"


@pytest.mark.parametrize("vr, text, stored", [
    ("US", "-1", b"\xff\xff"), ("US", "70000", struct.pack("<H", 70000 % 65536)),
    ("US", "12abc\\ 7", b"\x0c\x00\x07\x00"), ("US", "99999999999999999999", b"\xff\xff"),
    ("SS", "-99999999999999999999", b"\x00\x00"), ("SL", "2147483648", b"\x00\x00\x00\x80"),
    ("UL", "-1", b"\xff\xff\xff\xff"), ("SV", "9223372036854775808", struct.pack("<q", 2**63 - 1)),
    ("UV", "-1", b"\xff" * 8), ("OB", "1\\2\\ff", b"\x01\x02\xff\x00"), ("OB", "0x1f", b"\x1f\x00"),
    ("OW", "12345", b"\x45\x23"), ("OW", "-1e", struct.pack("<H", 0x10000 - 0x1e)),
    ("FL", "1e40", struct.pack("<f", math.inf)), ("FL", "nan", b"\x00\x00\xc0\x7f"),
    ("FD", "-nan", struct.pack("<d", math.nan)), ("FD", "2.5e", struct.pack("<d", 2.5)),
    ("FD", "1e-310", struct.pack("<d", 1e-310)),           # DCMTK's atof flushes this to 0
    ("AT", "(0010,0020\\(10,20)x", b"\x10\x00\x20\x00\x10\x00\x20\x00"),
    ("LO", "  A  \\  B  ", b"  A  \\  B "), ("UI", " 1.2 .3 ", b"1.2.3\x00"), ("PN", "", b""),
])
def test_value_text_forms(vr, text, stored):
    assert bytes(element_for(0x00110010, vr, text).raw) == stored


@pytest.mark.parametrize("vr, text", [("US", "abc"), ("US", "1\\\\2"), ("US", " "), ("FD", "e5"),
                                      ("FD", "-"), ("AT", "0010,0020"), ("AT", "( 10 , 20 )"),
                                      ("OB", "zz"), ("UN", "hello")])
def test_value_text_errors(vr, text):
    with pytest.raises(ModifyError, match="Corrupted data"):
        element_for(0x00110010, vr, text)


def test_value_from_bytes():
    assert element_for(0x00280010, "US", b"AB").value == 0x4241
    assert bytes(element_for(0x00100020, "LO", b"ID  ").raw) == b"ID"   # trailing spaces go
    with pytest.raises(ModifyError, match="odd length from file"):
        element_for(0x7FE00010, "OW", b"ABC")


def test_new_uids():
    ds = FileDataset()
    ds.add_new(0x00080018, "UI", "1.2.3")
    uids = {new_uid(ds, which) for which in ("study", "series", "instance")}
    assert len(uids) == 3 and all(is_valid_uid(u) and u.startswith("2.25.") for u in uids)
    assert ds.file_meta[0x00020003].value == ds.SOPInstanceUID


# -- files --------------------------------------------------------------------------------------

def _dataset_bytes(data: bytes) -> bytes:
    return data[144 + int.from_bytes(data[140:144], "little"):]


@pytest.mark.parametrize("name", ["pd__CT_small.dcm", "pd__MR_small_bigendian.dcm",
                                  "cv__rtplan__ti_undef_gl.dcm", "dump__private__te.dcm"])
def test_untouched_elements_keep_their_bytes(name, tmp_path):
    """After a change, every element nobody touched is still its stored bytes (bit-preserving)."""
    src = corpus.CORPUS_DIR / name
    ds = dcmread(src)
    insert(ds, "PatientName", "Changed^Name")
    out = tmp_path / name
    dcmwrite(out, ds, WriteOptions(padding="retain"))
    new = dcmread(out)
    old = dcmread(src)
    for elem in old:
        if elem.tag in (0x00100010,) or elem.vr == "SQ" or (elem.tag & 0xFFFF) == 0:
            continue
        assert bytes(new[elem.tag].raw) == bytes(elem.raw), elem
        assert new[elem.tag].is_raw


def test_save_in_place_backup_and_mode(tmp_path):
    src = corpus.CORPUS_DIR / "pd__CT_small.dcm"
    target = tmp_path / "ct.dcm"
    target.write_bytes(src.read_bytes())
    target.chmod(0o640)
    inode = target.stat().st_ino
    ds = dcmread(target)
    modify(ds, "PatientName", "X")
    assert save_in_place(ds, target) == str(target) + ".bak"
    bak = tmp_path / "ct.dcm.bak"
    assert bak.stat().st_ino == inode and bak.read_bytes() == src.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o640
    assert dcmread(target).PatientName == "X"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ct.dcm", "ct.dcm.bak"]


def test_block_keeps_its_vrs_when_its_creator_changes(tmp_path):
    """Changing or erasing a private creator does not change the VR of the elements of its
    block that were read under it (implicit VR: the VR comes from the private dictionary)."""
    ds = dcmread(corpus.CORPUS_DIR / "dump__private__ti.dcm")
    insert(ds, "(0009,0010)", "OTHER CREATOR")
    insert(ds, "(0009,1001)", "0a\\0b")              # still LO: the text is kept as it is
    assert ds[0x00091001].vr == "LO" and bytes(ds[0x00091001].raw) == b"0a\\0b "
    erase(ds, "(0029,0010)")
    assert ds[0x00291008].vr == "CS"


def test_apply_operation_and_top_level_names(tmp_path):
    import dcmpy
    assert dcmpy.TagPath is TagPath and dcmpy.TagPathError is TagPathError
    ds = FileDataset()
    (tmp_path / "v.bin").write_bytes(b"\x05\x00")
    apply = dcmpy.apply_operation
    assert apply(ds, "i", "(0008,1140)[1].PatientID=A") == 1
    assert apply(ds, "if", f"Rows={tmp_path / 'v.bin'}") == 1 and ds.Rows == 5
    assert apply(ds, "ma", "PatientID=B") == 1
    assert apply(ds, "gst") == 1 and ds.StudyInstanceUID.startswith("2.25.")
    assert apply(ds, "e", "(0008,1140)[0]") == 1 and len(ds[RIS].value) == 1
    assert apply(ds, "ea", "Rows") == 1 and 0x00280010 not in ds
    for kind, argument, message in (("mf", "Rows", "No filename specified to read value from!"),
                                    ("if", f"Rows={tmp_path}", "File to read value from does not exist!"),
                                    ("i", "=x", "Illegal parameter")):
        with pytest.raises(dcmpy.ModifyError, match=message):
            apply(ds, kind, argument)
    with pytest.raises(ValueError, match="unknown dcmodify operation"):
        apply(ds, "x", "")
