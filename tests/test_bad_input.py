"""Bad input for the dcmdata reader and for dcmdump / dcmftest.

Every byte from outside is untrusted (DESIGN.md, "Principles"): a damaged or hostile file must give
either a clean parse or a ``DicomError`` naming offset and tag -- never another exception, a hang,
a large allocation or a traceback.  Built here, in memory, from hand-written bytes and from
pydicom's ``CT_small.dcm``:

1. hand-crafted hostile files (``HOSTILE``), truncation at every offset, huge lengths, deep nesting;
2. Hypothesis mutations of real files (flips, insertions, deletions, length rewrites);
3. the apps on every hostile file (exit code, one ``E:`` line, no traceback, ``+E``, dcmftest);
4. DCMTK 3.6.7 (``/usr/bin/dcmdump``) on the same files: its exit code, and where it crashes or
   hangs (``DCMTK_BEHAVIOUR``) -- places where we are deliberately better.
"""
from __future__ import annotations

import os
import sys
import time
import tracemalloc
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from conftest import dcmtk_cmd, our_cmd, run  # noqa: E402

import dcmpy  # noqa: E402
from dcmpy import DicomError, ReadOptions  # noqa: E402

# --------------------------------------------------------------------------------------------
# Byte builders (shared with the other tests that craft files)

from dicombytes import (CONTENT_SEQ, DEFLATED, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE,  # noqa: E402
                        PATIENT_ID, PATIENT_NAME, PIXEL_DATA, REF_IMAGE_SEQ, RLE, UNDEF,
                        delim, el, item, meta, part10, seq, ui)


def patient(implicit: bool = False, big: bool = False) -> bytes:
    return (el(PATIENT_NAME, b"PN", b"Doe^John", implicit=implicit, big=big)
            + el(PATIENT_ID, b"LO", b"12345678", implicit=implicit, big=big))


def nested(depth: int, *, implicit: bool, undefined: bool, leaf: bytes | None = None) -> bytes:
    """``depth`` sequences, each with one item holding the next; a text element at the bottom.

    Built without recursion: headers outside-in, delimiters (or lengths) inside-out.
    """
    leaf = el(PATIENT_ID, b"LO", b"LEAF", implicit=implicit) if leaf is None else leaf
    sq_hdr = el(CONTENT_SEQ, b"SQ", b"", length=UNDEF, implicit=implicit)
    if undefined:
        head = sq_hdr + item(b"", length=UNDEF)
        tail = delim(0xFFFEE00D) + delim(0xFFFEE0DD)
        return head * depth + leaf + tail * depth
    parts = []
    inner = len(leaf)
    for _ in range(depth):
        item_hdr = item(b"", length=inner)
        sq = el(CONTENT_SEQ, b"SQ", b"", length=inner + len(item_hdr), implicit=implicit)
        parts.append(sq + item_hdr)
        inner += len(item_hdr) + len(sq)
    parts.reverse()
    return b"".join(parts) + leaf


# --------------------------------------------------------------------------------------------
# Real files


def real_file(name: str) -> bytes:
    from pydicom.data import get_testdata_file
    return Path(get_testdata_file(name, download=False)).read_bytes()


CT_SMALL = real_file("CT_small.dcm")


def walk(ds) -> int:
    """Touch every element's value, VM and raw bytes, nested items included, without recursion."""
    n = 0
    stack = [ds]
    while stack:
        d = stack.pop()
        for elem in d:
            value = elem.value
            elem.vm
            elem.raw
            n += 1
            if elem.vr == "SQ":
                stack.extend(value)
    return n


def dump_lines(ds) -> int:
    """What dcmdump does with a data set: format every line."""
    from dcmpy.dcmdata.dump import Dumper
    return sum(1 for _ in Dumper().file_lines(ds))


def read_outcome(data: bytes, options: ReadOptions | None = None):
    """('ok', dataset) or ('error', DicomError); any other exception propagates (a bug)."""
    try:
        return "ok", dcmpy.dcmread(data, options)
    except DicomError as exc:
        return "error", exc


def check_error(exc: DicomError, size: int) -> None:
    """A DicomError names where: an offset inside the data, 'offset N' in the message."""
    assert isinstance(exc.offset, int), exc
    assert exc.offset >= 0, exc      # deflated data: the offset is in the inflated stream
    assert f"offset {exc.offset}" in str(exc), exc
    if exc.tag:
        from dcmpy.dcmdata.tag import tag_str
        assert tag_str(exc.tag) in str(exc), exc


# --------------------------------------------------------------------------------------------
# 1. The hostile files.
#
# ``ok``: the expected outcome for dcmpy (True: a clean parse, dcmdump exits 0; False: DicomError,
# dcmdump exits 1).  It is DCMTK 3.6.7's verdict (measured; ``test_dcmtk_verdict`` keeps it
# honest) except where DCMTK crashes or hangs: ``dcmtk`` is then "crash" (killed by a signal) or
# "hang" (no exit within DCMTK_TIMEOUT s) -- places where we are deliberately better.

DCMTK_TIMEOUT = 20


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    ok: bool
    why: str
    dcmtk: str = "same"        # "same": DCMTK's exit code is 0 if ok else 1; or "crash" / "hang"

    def __repr__(self) -> str:
        return self.name


def _cases() -> list[Case]:
    P = patient()
    STUDY = el(0x00200010, b"SH", b"STUDY1")
    tiny = el(0x00080016, b"UI", ui("1.2.3")) + el(0x00091010, b"OB", b"", length=0xFFFFFFF0)
    tiny += b"\0" * (100 - len(tiny))
    frags = item(b"") + item(b"\0" * 4)
    c = [
        # lengths past the end
        Case("past_end", part10(el(PATIENT_NAME, b"PN", b"Doe^John", length=200)), False,
             "short value length points 192 bytes past the end"),
        Case("past_end_long", part10(P + el(0x00091010, b"OB", b"\0" * 10, length=1000)), False,
             "OB length past the end"),
        Case("past_end_big_endian", part10(el(PATIENT_NAME, b"PN", b"Doe^John", length=300, big=True),
                                           EXPLICIT_BE), False, "big endian length past the end"),
        Case("huge_length_100_bytes", tiny, False, "100-byte bare data set, OB length 0xFFFFFFF0"),
        Case("huge_length_ob", part10(el(0x00091010, b"OB", b"abcd", length=0xFFFFFFF0)), False,
             "OB length 0xFFFFFFF0"),
        Case("huge_length_implicit", part10(el(PATIENT_NAME, b"", b"Doe^John", length=0xFFFFFFF0,
                                               implicit=True), IMPLICIT_LE), False,
             "implicit VR length 0xFFFFFFF0"),
        Case("huge_length_sequence", part10(seq(REF_IMAGE_SEQ, [item(P)], length=0xFFFFFFF0)), False,
             "defined sequence length 0xFFFFFFF0: the file ends inside the sequence"),
        Case("huge_length_item", part10(seq(REF_IMAGE_SEQ, [item(P, length=0xFFFFFFF0)], undefined=True)),
             False, "item length 0xFFFFFFF0 in an undefined-length sequence: item not complete"),
        # items and sequences whose lengths disagree
        Case("item_longer_than_sequence", part10(seq(REF_IMAGE_SEQ, [item(P, length=len(P) + 40)]) + STUDY),
             True, "item length 40 bytes past its sequence: DCMTK reads to the sequence's end"),
        Case("item_longer_than_sequence_at_end", part10(seq(REF_IMAGE_SEQ, [item(P, length=len(P) + 40)])),
             True, "same, sequence ends the file"),
        Case("sequence_longer_than_item",
             part10(seq(REF_IMAGE_SEQ, [item(seq(CONTENT_SEQ, [item(el(PATIENT_NAME, b"PN", b"Doe^John"))],
                                                 length=100))]) + STUDY), False,
             "sequence length larger than the explicit length of the surrounding item"),
        Case("undefined_sequence_overruns_item",
             part10(seq(REF_IMAGE_SEQ, [item(el(CONTENT_SEQ, b"SQ", item(P, undefined=True) + delim(0xFFFEE0DD),
                                                length=UNDEF), length=8)])), True,
             "item length 8 holds a longer undefined-length sequence: DCMTK reads it whole"),
        Case("undefined_item_overruns_sequence",
             part10(seq(REF_IMAGE_SEQ, [item(P, undefined=True)], length=20) + P), True,
             "sequence length 20 holds a longer undefined-length item: DCMTK reads it whole"),
        # delimiters missing or stray
        Case("missing_sequence_delimiter",
             part10(P + el(REF_IMAGE_SEQ, b"SQ", item(P, undefined=True), length=UNDEF)), False,
             "file ends inside an undefined-length sequence"),
        Case("missing_item_delimiter_at_end",
             part10(P + el(REF_IMAGE_SEQ, b"SQ", item(P, length=UNDEF), length=UNDEF)), False,
             "file ends inside an undefined-length item"),
        Case("missing_item_delimiter",
             part10(el(REF_IMAGE_SEQ, b"SQ", item(P, length=UNDEF) + delim(0xFFFEE0DD), length=UNDEF) + STUDY),
             False, "undefined-length item closed by the sequence delimiter"),
        Case("stray_sequence_delimiter", part10(el(PATIENT_NAME, b"PN", b"Doe^John") + delim(0xFFFEE0DD)
                                                + el(PATIENT_ID, b"LO", b"12345678")), False,
             "sequence delimiter at top level"),
        Case("stray_item_delimiter", part10(el(PATIENT_NAME, b"PN", b"Doe^John") + delim(0xFFFEE00D)
                                            + el(PATIENT_ID, b"LO", b"12345678")), True,
             "item delimiter at top level: DCMTK skips it"),
        Case("stray_item", part10(el(PATIENT_NAME, b"PN", b"Doe^John") + item(b"abcd")
                                  + el(PATIENT_ID, b"LO", b"12345678")), False,
             "item tag at top level"),
        Case("stray_item_delimiter_in_defined_item",
             part10(seq(REF_IMAGE_SEQ, [item(el(PATIENT_NAME, b"PN", b"Doe^John") + delim(0xFFFEE00D)
                                             + el(PATIENT_ID, b"LO", b"12345678"))])), False,
             "item delimiter inside a defined-length item"),
        Case("element_in_sequence", part10(el(REF_IMAGE_SEQ, b"SQ", P + delim(0xFFFEE0DD), length=UNDEF)),
             False, "a data element where an item must be"),
        # VRs
        Case("nonsense_vr_binary", part10(el(PATIENT_NAME, b"\x01\xff", b"Doe^John")
                                          + el(PATIENT_ID, b"LO", b"12345678")), True,
             "VR 01 ff: 2-byte length, as DCMTK"),
        Case("nonsense_vr_capitals", part10(el(PATIENT_NAME, b"ZZ", b"Doe^John")
                                            + el(PATIENT_ID, b"LO", b"12345678")), False,
             "VR 'ZZ': DCMTK assumes a 4-byte length, which is then garbage"),
        Case("nonsense_vr_lower", part10(el(PATIENT_NAME, b"pn", b"Doe^John")
                                         + el(PATIENT_ID, b"LO", b"12345678")), True, "VR 'pn'"),
        Case("undefined_length_ob", part10(P + el(0x00091010, b"OB", frags + delim(0xFFFEE0DD), length=UNDEF)),
             False, "OB with undefined length outside Pixel Data (DCMTK -oi: reject)"),
        Case("undefined_length_ut", part10(P + el(0x00091010, b"UT", frags + delim(0xFFFEE0DD), length=UNDEF)),
             False, "UT with undefined length"),
        Case("implicit_undefined_length_pn",
             part10(el(PATIENT_NAME, b"", item(b"") + delim(0xFFFEE0DD), length=UNDEF, implicit=True),
                    IMPLICIT_LE), False, "implicit VR: undefined length on a PN element"),
        Case("implicit_undefined_length_private",
             part10(el(0x00091010, b"", item(el(PATIENT_NAME, b"", b"ab", implicit=True), undefined=True)
                       + delim(0xFFFEE0DD), length=UNDEF, implicit=True), IMPLICIT_LE), True,
             "implicit VR: undefined-length unknown private element read as a sequence"),
        Case("un_undefined_garbage",
             part10(el(0x00091010, b"UN", b"\x08\x00\x10\x00garbage!" + delim(0xFFFEE0DD), length=UNDEF)),
             False, "CP-246 UN sequence holding garbage"),
        # odd lengths
        Case("odd_lengths", part10(el(0x00080020, b"DA", b"2024010") + el(0x00280010, b"US", b"\1\0\0")
                                   + el(0x00280030, b"DS", b"0.5\\0") + el(PATIENT_NAME, b"PN", b"Doe")
                                   + el(0x00181150, b"IS", b"1") + el(PIXEL_DATA, b"OW", b"\0" * 7)), True,
             "odd lengths everywhere, unsorted"),
        Case("odd_length_item_and_sequence",
             part10(seq(REF_IMAGE_SEQ, [item(el(PATIENT_NAME, b"PN", b"Doe"))])), True, "odd item length"),
        Case("odd_at", part10(el(0x00209165, b"AT", b"\x10\x00")), True, "AT of 2 bytes"),
        # encapsulated pixel data
        Case("pixel_item_undefined_length",
             part10(P + el(PIXEL_DATA, b"OB", item(b"") + item(b"\0" * 4, undefined=True) + delim(0xFFFEE0DD),
                           length=UNDEF), RLE), False, "pixel item with undefined length"),
        Case("pixel_item_past_end",
             part10(P + el(PIXEL_DATA, b"OB", item(b"") + item(b"\0" * 4, length=4000) + delim(0xFFFEE0DD),
                           length=UNDEF), RLE), False, "pixel item length past the end"),
        Case("pixel_sequence_delimiter_missing",
             part10(P + el(PIXEL_DATA, b"OB", frags, length=UNDEF), RLE), False,
             "file ends inside encapsulated pixel data"),
        Case("pixel_sequence_garbage",
             part10(P + el(PIXEL_DATA, b"OB", item(b"") + P + delim(0xFFFEE0DD), length=UNDEF), RLE), False,
             "data elements inside encapsulated pixel data"),
        # deflate
        Case("deflate_corrupt", part10(b"\xff\xfe\xfd" + b"garbage" * 20, DEFLATED), False,
             "deflated syntax, corrupt zlib stream"),
        Case("deflate_truncated", part10(zlib.compress(P * 20)[2:-4][:40], DEFLATED), True,
             "deflate stream cut short: both read what inflates"),
        Case("deflate_trailing_garbage", part10(zlib.compress(P)[2:-4] + b"garbage", DEFLATED), True,
             "bytes after the end of the deflate stream are ignored"),
        # meta header
        Case("meta_group_length_too_small", part10(P, group_length=10), True,
             "meta group length 10: DCMTK warns and reads the meta header on"),
        Case("meta_group_length_mid_element", part10(P, group_length=60), True,
             "meta group length ends inside (0002,0003): DCMTK warns and reads on"),
        Case("meta_group_length_odd", part10(P, group_length=61), True, "odd, mid-element"),
        Case("meta_group_length_zero", part10(P, group_length=0), True, "meta group length 0"),
        Case("meta_group_length_huge", part10(P, group_length=0x7FFFFFF0), True,
             "meta group length past the end of the file"),
        Case("meta_truncated_in_header", meta()[:150], False, "file ends in a meta element header"),
        Case("meta_truncated_in_value", meta()[:-3], False, "file ends in a meta element value"),
        Case("meta_element_past_end", part10(P, ts_element=el(0x00020010, b"UI", b"1.2.840.10008.1.2",
                                                               length=0xFFFF)), False,
             "transfer syntax length 0xFFFF"),
        Case("preamble_and_two_bytes", b"\0" * 128 + b"DICM" + b"\2\0", False, "'DICM' then 2 bytes"),
        # transfer syntax UID
        Case("ts_garbage", part10(P, b"\xff\xfe garbage \\ 1.2.3"), True, "TS UID bytes are garbage"),
        Case("ts_empty", part10(P, b""), True, "TS UID empty"),
        Case("ts_unknown", part10(P, "1.2.3.4.5.6.7.8"), True, "TS UID unknown"),
        Case("ts_as_sequence", part10(P, ts_element=el(0x00020010, b"SQ", item(P))), True, "TS UID is an SQ"),
        Case("ts_as_us", part10(P, ts_element=el(0x00020010, b"US", b"\1\0")), True, "TS UID is a US"),
        Case("ts_undefined_length_ob",
             part10(P, ts_element=el(0x00020010, b"OB", item(b"1.2.840.10008.1.2") + delim(0xFFFEE0DD),
                                     length=UNDEF)), False, "TS UID is an undefined-length OB"),
        # not DICOM
        Case("text_file", b"Hello, this is not DICOM at all.\n" * 3, False, "plain text"),
        Case("empty_file", b"", False, "zero bytes"),
        # deep nesting: the scanner stops at ReadOptions.max_depth (10,000 stack frames, i.e.
        # 5,000 sequences); DCMTK's recursive parser overflows its stack
        Case("nested_100000_explicit_undefined", part10(nested(100_000, implicit=False, undefined=True)),
             False, "100,000 nested sequences", dcmtk="crash"),
        Case("nested_100000_explicit_defined", part10(nested(100_000, implicit=False, undefined=False)),
             False, "100,000 nested sequences", dcmtk="crash"),
        Case("nested_100000_implicit_undefined",
             part10(nested(100_000, implicit=True, undefined=True), IMPLICIT_LE), False,
             "100,000 nested sequences", dcmtk="crash"),
        Case("nested_100000_implicit_defined",
             part10(nested(100_000, implicit=True, undefined=False), IMPLICIT_LE), False,
             "100,000 nested sequences", dcmtk="crash"),
        Case("nested_2000", part10(nested(2000, implicit=False, undefined=True)), True,
             "2,000 nested sequences: legal, DCMTK dumps it"),
        # values that are legal to scan but hostile to decode
        Case("is_overflow", part10(el(0x00200013, b"IS", b"1e999 ") + P), True, "IS '1e999'"),
        Case("is_too_many_digits", part10(el(0x00200013, b"IS", b"9" * 5000) + P), True, "IS of 5000 digits"),
        Case("charset_as_us", part10(el(0x00080005, b"US", b"\1\0") + P), True,
             "Specific Character Set with VR US"),
        Case("charset_as_us_vm2", part10(el(0x00080005, b"US", b"\1\0\2\0") + P), True,
             "Specific Character Set with VR US, VM 2"),
        Case("charset_as_ds", part10(el(0x00080005, b"DS", b"12") + P), True,
             "Specific Character Set with VR DS"),
    ]
    return c


CASES = _cases()
CASE_IDS = [c.name for c in CASES]
ERROR_CASES = [c for c in CASES if not c.ok]


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    for case in CASES:
        (d / f"{case.name}.dcm").write_bytes(case.data)
    return d


# -- library -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_library_on_hostile_file(case: Case) -> None:
    t0 = time.perf_counter()
    outcome, result = read_outcome(case.data)
    if outcome == "ok":
        walk(result)
    else:
        check_error(result, len(case.data))
        if result.partial is not None:
            walk(result.partial)
    assert time.perf_counter() - t0 < 60      # a hang guard, not a timing
    assert outcome == ("ok" if case.ok else "error"), f"{case.why}: {result}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_library_from_path(case: Case, hostile_dir: Path) -> None:
    """Through a path (mmap) the verdict is the same as from bytes."""
    path = hostile_dir / f"{case.name}.dcm"
    outcome, result = read_outcome(str(path))
    assert outcome == read_outcome(case.data)[0]
    if outcome == "error":
        check_error(result, len(case.data))


def test_truncated_at_every_offset() -> None:
    """Every prefix of CT_small.dcm (and of a sequence-rich SR file): clean parse or DicomError."""
    for data in (CT_SMALL, real_file("test-SR.dcm")):
        clean = 0
        for n in range(len(data)):
            outcome, result = read_outcome(data[:n])
            if outcome == "ok":
                clean += 1
                walk(result)
            else:
                check_error(result, n)
                if result.partial is not None and n % 211 == 0:
                    walk(result.partial)
        assert 0 < clean < len(data)


@pytest.mark.parametrize("data", [
    pytest.param(CASES[CASE_IDS.index("huge_length_100_bytes")].data, id="ob_100_bytes"),
    pytest.param(el(PATIENT_NAME, b"", b"x" * 92, length=0xFFFFFFF0, implicit=True), id="implicit_100_bytes"),
    pytest.param(seq(REF_IMAGE_SEQ, [item(b"\0" * 68, length=0xFFFFFFF0)], length=0xFFFFFFF0), id="sequence_and_item"),
    pytest.param(meta(group_length=0xFFFFFFF0), id="meta_group_length"),
    pytest.param(b"\0" * 128 + b"DICM" + el(0x00020000, b"UL", b"\xf0\xff\xff\xff") + b"\0" * 80,
                 id="meta_group_length_only"),
])
def test_huge_length_allocates_nothing(data: bytes) -> None:
    """A 0xFFFFFFF0 length in a 100-300-byte input: no allocation anywhere near 4 GB (or 1 MB)."""
    assert len(data) <= 300
    tracemalloc.start()
    try:
        outcome, result = read_outcome(data)
        if outcome == "ok":
            walk(result)
        else:
            check_error(result, len(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_deep_nesting_limit(implicit: bool, undefined: bool) -> None:
    """100,000 nested sequences: a DicomError at the depth limit, quickly, no RecursionError."""
    data = part10(nested(100_000, implicit=implicit, undefined=undefined),
                  IMPLICIT_LE if implicit else EXPLICIT_LE)
    t0 = time.perf_counter()
    outcome, exc = read_outcome(data)
    assert outcome == "error"
    assert "nested too deeply" in str(exc)
    check_error(exc, len(data))
    assert time.perf_counter() - t0 < 60      # a hang guard, not a timing


@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_deep_nesting_below_limit(undefined: bool) -> None:
    """4,000 nested sequences (within max_depth): parsed, and the innermost text value decodes."""
    data = part10(nested(4_000, implicit=False, undefined=undefined))
    t0 = time.perf_counter()
    ds = dcmpy.dcmread(data)
    depth = 0
    while CONTENT_SEQ in ds:
        (ds,) = ds[CONTENT_SEQ].value
        depth += 1
    assert depth == 4_000
    assert ds[PATIENT_ID].value == "LEAF"   # text VR: looks up the inherited character set
    assert time.perf_counter() - t0 < 60      # a hang guard, not a timing


def test_max_depth_option() -> None:
    data = part10(nested(60, implicit=False, undefined=True))
    assert read_outcome(data, ReadOptions(max_depth=200))[0] == "ok"
    outcome, exc = read_outcome(data, ReadOptions(max_depth=50))
    assert outcome == "error" and "nested too deeply" in str(exc)


def test_directory_and_unreadable_file(tmp_path: Path) -> None:
    """I/O problems are OSErrors that name the path (not DicomError, never anything else)."""
    with pytest.raises(IsADirectoryError) as info:
        dcmpy.dcmread(str(tmp_path))
    assert str(tmp_path) in str(info.value)
    unreadable = _unreadable(tmp_path)
    with pytest.raises(OSError) as info:
        dcmpy.dcmread(str(unreadable))
    assert str(unreadable) in str(info.value)


def _unreadable(folder: Path) -> Path:
    """A file we cannot open: mode 000, or (as root, who reads anything) a broken symlink."""
    if os.geteuid() != 0:
        path = folder / "unreadable.dcm"
        path.write_bytes(CT_SMALL)
        path.chmod(0)
        return path
    path = folder / "broken_link.dcm"
    path.symlink_to(folder / "does-not-exist.dcm")
    return path


# --------------------------------------------------------------------------------------------
# 2. Hypothesis: mutations of real files

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

MUTATED = ["CT_small.dcm", "rtplan.dcm", "test-SR.dcm", "SC_rgb_rle.dcm", "MR_small_bigendian.dcm",
           "nested_priv_SQ.dcm", "image_dfl.dcm"]
VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB", b"OD",
       b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM", b"UC", b"UI",
       b"UL", b"UN", b"UR", b"US", b"UT", b"UV", b"XX", b"\0\0"]
INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF]


@dataclass(frozen=True)
class Original:
    name: str
    data: bytes
    big_from: int                  # offsets >= this are big endian (MR_small_bigendian)
    length_fields: list            # (offset, size) of every element/item length field
    vr_fields: list                # offset of every explicit VR


def _original(name: str) -> Original:
    """The file and the positions of its header fields, found by scanning it."""
    data = real_file(name)
    ds = dcmpy.dcmread(data)
    lengths, vrs = [], []
    sources = [ds.file_meta.source]
    if not ds.transfer_syntax.deflated:
        sources.append(ds.source)
    for src in sources:
        if src is None:
            continue
        rows = src.rows
        for r in range(rows.shape[0]):
            hdr, vr, val = int(rows[r, 2]), int(rows[r, 1]), int(rows[r, 3])
            if vr:
                vrs.append(hdr + 4)
                lengths.append((hdr + 8, 4) if val - hdr == 12 else (hdr + 6, 2))
            else:
                lengths.append((hdr + 4, 4))
    big_from = int(ds.file_meta.source.rows[-1, 8]) if ds.transfer_syntax.uid == EXPLICIT_BE else len(data)
    return Original(name, data, big_from, lengths, vrs)


ORIGINALS = {name: _original(name) for name in MUTATED}


@st.composite
def mutated(draw) -> bytes:
    orig = ORIGINALS[draw(st.sampled_from(MUTATED))]
    data = bytearray(orig.data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "length", "length", "vr"]))
        # most of a real file is pixel data: aim at the first 2 kB (headers) most of the time
        hot = min(len(data), 2048) if draw(st.integers(0, 4)) else len(data)
        if kind == "flip" and data:
            i = draw(st.integers(0, hot - 1))
            data[i] = draw(st.integers(0, 255))
        elif kind == "insert":
            i = draw(st.integers(0, hot))
            data[i:i] = draw(st.binary(min_size=1, max_size=12))
        elif kind == "delete" and data:
            i = draw(st.integers(0, hot - 1))
            del data[i:i + draw(st.integers(1, 12))]
        elif kind == "length" and orig.length_fields:
            pos, size = draw(st.sampled_from(orig.length_fields))
            value = draw(st.sampled_from(INTERESTING) | st.integers(0, (1 << 8 * size) - 1))
            data[pos:pos + size] = (value & ((1 << 8 * size) - 1)).to_bytes(
                size, "big" if pos >= orig.big_from else "little")
        elif kind == "vr" and orig.vr_fields:
            pos = draw(st.sampled_from(orig.vr_fields))
            data[pos:pos + 2] = draw(st.sampled_from(VRS))
    return bytes(data)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_real_files(data: bytes) -> None:
    """A mutated file parses (and every value, nested too, decodes and dumps) or is a DicomError."""
    outcome, result = read_outcome(data)
    if outcome == "error":
        check_error(result, len(data))
        result = result.partial
    if result is not None:
        walk(result)
        dump_lines(result)


# --------------------------------------------------------------------------------------------
# 3 + 4. The apps on every hostile file, beside DCMTK's dcmdump

def _limit_memory() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))


def _run(cmd: list[str], timeout: float = DCMTK_TIMEOUT):
    import subprocess
    from conftest import Result, tool_env
    try:
        r = subprocess.run(cmd, env=tool_env(), capture_output=True, timeout=timeout,
                           preexec_fn=_limit_memory if cmd[0] == sys.executable else None)
    except subprocess.TimeoutExpired:
        return Result(-999, b"", b"[timeout]")
    return Result(r.returncode, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def runs(hostile_dir: Path) -> dict:
    """Every hostile file through our dcmdump (-E and +E) and DCMTK's, run side by side once."""
    jobs = {}
    for case in CASES:
        path = str(hostile_dir / f"{case.name}.dcm")
        jobs[case.name, "ours"] = our_cmd("dcmdump", [path])
        jobs[case.name, "ours+E"] = our_cmd("dcmdump", ["+E", path])
        jobs[case.name, "dcmtk"] = dcmtk_cmd("dcmdump", [path])
    with ThreadPoolExecutor(4) as pool:
        futures = {key: pool.submit(_run, cmd) for key, cmd in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


def _check_error_line(stderr: bytes, path: str, case: Case) -> str:
    text = stderr.decode("latin-1")
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    line = lines[0]
    assert line.startswith("E: dcmdump: ") and line.endswith(f": reading file: {path}"), line
    outcome, exc = read_outcome(case.data)
    if outcome == "error" and exc.offset is not None:
        assert f"offset {exc.offset}" in line
    return line


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_dcmdump_on_hostile_file(case: Case, runs: dict, hostile_dir: Path) -> None:
    r = runs[case.name, "ours"]
    path = str(hostile_dir / f"{case.name}.dcm")
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr, r.stderr[-400:]
    if case.ok:
        assert r.rc == 0, (case.why, r.stderr[-400:])
        assert b"# Dicom-Data-Set" in r.stdout
    else:
        assert r.rc == 1, (case.why, r.rc, r.stderr[-400:])
        assert r.stdout == b""
        _check_error_line(r.stderr, path, case)


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_dcmdump_ignore_errors(case: Case, runs: dict, hostile_dir: Path) -> None:
    """+E: the same single error line, the partial dump on stdout, exit code 1 (as DCMTK)."""
    r = runs[case.name, "ours+E"]
    path = str(hostile_dir / f"{case.name}.dcm")
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr, r.stderr[-400:]
    assert r.rc == 1, (case.why, r.rc, r.stderr[-400:])
    _check_error_line(r.stderr, path, case)
    if case.data[128:132] == b"DICM" or len(case.data) >= 8:
        assert b"# Dicom-Data-Set" in r.stdout, (case.why, r.stdout[:200])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_dcmtk_verdict(case: Case, runs: dict) -> None:
    """DCMTK 3.6.7 on the same file: its exit code equals ours (0 clean, 1 damaged), except where
    it crashes or hangs -- recorded in ``Case.dcmtk`` as places where we are better."""
    r = runs[case.name, "dcmtk"]
    if case.dcmtk == "crash":
        assert r.rc < 0 and r.rc != -999, (r.rc, r.stderr[-300:])   # killed by a signal (SIGSEGV)
    elif case.dcmtk == "hang":
        assert r.rc == -999
    else:
        assert r.rc == (0 if case.ok else 1), (case.why, r.rc, r.stderr[-400:])
        if not case.ok:
            assert r.stderr.rstrip().splitlines()[-1].startswith(b"E: dcmdump: ")


def test_dcmftest_on_hostile_files(hostile_dir: Path, tmp_path: Path) -> None:
    """dcmftest only looks at the preamble and 'DICM' (as DCMTK's): 'no:' for every hostile file
    without them, 'yes:' for those with them; output and exit code equal to DCMTK's."""
    link = _unreadable(tmp_path)
    paths = [str(hostile_dir / f"{c.name}.dcm") for c in CASES] + [str(tmp_path), str(link)]
    ours = run(our_cmd("dcmftest", paths))
    theirs = run(dcmtk_cmd("dcmftest", paths))
    assert ours.stdout == theirs.stdout and ours.rc == theirs.rc, (ours.stdout[-300:], ours.stderr)
    lines = ours.stdout.decode().splitlines()
    assert len(lines) == len(paths)
    for case, line in zip(CASES, lines):
        magic = len(case.data) >= 132 and case.data[128:132] == b"DICM"
        assert line.startswith("yes: " if magic else "no: "), line
    assert lines[-2] == f"no: {tmp_path}" and lines[-1] == f"no: {link}"
    assert b"Traceback" not in ours.stderr


def test_dcmdump_directory_and_unreadable(tmp_path: Path) -> None:
    """A directory argument (without +sd) and an unreadable file: exit 1, DCMTK's messages."""
    link = _unreadable(tmp_path)
    for path, expected in [
        (tmp_path, f"W: ignoring directory because option --scan-directories is not set: {tmp_path}\n"
                   "F: no input files to be dumped\n"),
        (link, None),
    ]:
        for extra in ([], ["+E"]):
            ours = run(our_cmd("dcmdump", [*extra, path]))
            theirs = run(dcmtk_cmd("dcmdump", [*extra, path]))
            assert ours.rc == theirs.rc == 1
            assert ours.stdout == b""
            text = ours.stderr.decode()
            assert "Traceback" not in text and str(path) in text
            if expected is not None:
                assert text == expected
            else:
                lines = text.splitlines()
                assert len(lines) == 1 and lines[0].startswith("E: dcmdump: ")
                assert lines[0].endswith(f"reading file: {path}")
            assert ours.stderr == theirs.stderr


def test_dcmdump_many_hostile_files_at_once(hostile_dir: Path) -> None:
    """All hostile files in one run: one E: line per damaged file, exit 1, no traceback."""
    paths = [str(hostile_dir / f"{c.name}.dcm") for c in CASES]
    r = run(our_cmd("dcmdump", paths))
    assert r.rc == 1
    text = r.stderr.decode("latin-1")
    assert "Traceback" not in text and "internal error" not in text
    failed = {line.rsplit("reading file: ", 1)[1] for line in text.splitlines() if line.startswith("E: ")}
    assert failed == {str(hostile_dir / f"{c.name}.dcm") for c in ERROR_CASES}
