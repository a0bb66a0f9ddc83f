"""dcmdump's parser options on files made to need them, against DCMTK's dcmdump.

Each case is a small hand-made file that DCMTK reads one way by default and another way with
the option (or refuses): our stdout and exit code must equal DCMTK's in both runs.
"""
from __future__ import annotations

import pytest

from conftest import dcmtk_cmd, our_cmd, run
from dicombytes import (PATIENT_ID, PATIENT_NAME, PIXEL_DATA, REF_IMAGE_SEQ, UNDEF, delim, el, item,
                        part10, seq)

RLE = "1.2.840.10008.1.2.5"
VOI_LUT_SEQ = 0x00283010

NAME = el(PATIENT_NAME, "PN", b"Doe^John")
ID = el(PATIENT_ID, "LO", b"12345678")
# a VOI LUT Sequence whose item is stored as an OW value of explicit length
VOI_ITEM = item(el(0x00283002, "US", b"\0\1\0\0\x10\0") + el(0x00283006, "US", b"\1\0\2\0"))

CASES = {
    # +rd: an item ended by a sequence delimiter, the sequence by an item delimiter
    "wrong_delimiters": (part10(el(REF_IMAGE_SEQ, "SQ", item(NAME, undefined=False)[:4]
                                   + b"\xff\xff\xff\xff" + NAME + delim(0xFFFEE0DD)
                                   + delim(0xFFFEE00D), length=UNDEF) + ID), ["+rd"]),
    # -vr: an element with a VR that is not a standard one, really written implicit
    "nonstandard_vr": (part10(NAME + el(0x00100030, "", b"19700101", implicit=True) + ID),
                       ["-vr"]),
    # +vi: a VOI LUT Sequence stored as OW with explicit length
    "voi_lut_as_ow": (part10(NAME + el(VOI_LUT_SEQ, "OW", VOI_ITEM)), ["+vi"]),
    # +pe: pixel data of explicit length in an encapsulated transfer syntax
    "explicit_pixels_rle": (part10(NAME + el(PIXEL_DATA, "OB", b"\0" * 16), RLE), ["+pe"]),
    # +Ep: a stray sequence delimiter in the top-level data set ends it there
    "parse_error": (part10(NAME + delim(0xFFFEE0DD) + ID), ["+Ep"]),
    # +Ep does not rescue a value cut short by the end of the file
    "parse_error_fatal": (part10(NAME + el(PATIENT_ID, "LO", b"1234", length=40)), ["+Ep", "-dc"]),
    # -dc: trailing padding and an odd length, shown as stored
    "no_correction": (part10(el(PATIENT_NAME, "PN", b"Doe^John  ") + el(PATIENT_ID, "LO", b"123")),
                      ["-dc"]),
    # +ae: an odd length that is really one byte short
    "assume_even": (part10(el(PATIENT_NAME, "PN", b"Doe^John", length=7) + ID), ["+ae"]),
}


@pytest.mark.parametrize("with_option", [False, True], ids=["default", "option"])
@pytest.mark.parametrize("case", list(CASES))
def test_parser_option_as_dcmtk(case, with_option, tmp_path):
    data, option = CASES[case]
    path = tmp_path / f"{case}.dcm"
    path.write_bytes(data)
    args = [*(option if with_option else []), path]
    theirs, ours = run(dcmtk_cmd("dcmdump", args)), run(our_cmd("dcmdump", args))
    assert b"Traceback" not in ours.stderr
    assert ours.stdout == theirs.stdout, (theirs.stdout.decode(errors="replace"),
                                          ours.stdout.decode(errors="replace"),
                                          theirs.stderr.decode(errors="replace"),
                                          ours.stderr.decode(errors="replace"))
    assert ours.rc == theirs.rc, (ours.stderr, theirs.stderr)


def test_cases_need_their_option(tmp_path):
    """Each case is read differently with its option than without (else it tests nothing)."""
    for case, (data, option) in CASES.items():
        if case == "parse_error_fatal":        # the point of this one: +Ep changes nothing
            continue
        path = tmp_path / f"{case}.dcm"
        path.write_bytes(data)
        plain, opted = run(dcmtk_cmd("dcmdump", [path])), run(dcmtk_cmd("dcmdump", [*option, path]))
        assert (plain.stdout, plain.rc) != (opted.stdout, opted.rc), case



STRICT_REFUSES = {
    "odd_length": part10(NAME + el(PATIENT_ID, "LO", b"123")),
    "nonstandard_vr": part10(NAME + el(PATIENT_ID, b"\x01\xff", b"12345678")),
    "item_longer_than_sequence": part10(seq(REF_IMAGE_SEQ, [item(NAME, length=len(NAME) + 40)]) + ID),
    "stray_item_delimiter": part10(NAME + delim(0xFFFEE00D) + ID),
}


@pytest.mark.parametrize("case", list(STRICT_REFUSES))
def test_strict_reading_refuses_what_dcmtk_accepts(case, tmp_path):
    """ReadOptions(strict=True): each file is read by default (as DCMTK reads it) and refused
    strictly, with an error naming offset and tag."""
    import dcmpy
    data = STRICT_REFUSES[case]
    path = tmp_path / f"{case}.dcm"
    path.write_bytes(data)
    assert run(dcmtk_cmd("dcmdump", [path])).rc == 0
    dcmpy.dcmread(data)
    with pytest.raises(dcmpy.DicomError) as info:
        dcmpy.dcmread(data, dcmpy.ReadOptions(strict=True))
    assert info.value.tag is not None and info.value.offset is not None
