"""dcmconv against DCMTK's dcmconv: the same input and options must give the same bytes.

Our side runs in-process (the library behind the app), DCMTK's as a process. The data set part
of both outputs must be byte-identical; the meta headers may differ only in the implementation
class UID / version name (and so in the group length). A few cases also run through our
``dcmconv`` app to check the command line end to end.
"""
from __future__ import annotations

import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import corpus
from conftest import dcmtk_cmd, our_cmd, run

from dcmpy.dcmdata.dictionary import get_dictionary
from dcmpy.dcmdata.reader import DicomError, dcmread
from dcmpy.dcmdata.values import encode
from dcmpy.dcmdata.vr import STRING_VRS
from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions, dcmwrite

# option sets: DCMTK's arguments and the equivalent WriteOptions
CASES = {
    "same": ([], WriteOptions(new_meta=True)),
    "+te": (["+te"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", new_meta=True)),
    "+ti": (["+ti"], WriteOptions(transfer_syntax="1.2.840.10008.1.2", new_meta=True)),
    "+tb": (["+tb"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.2", new_meta=True)),
    "+td": (["+td"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.1.99", new_meta=True)),
    "+te-e": (["+te", "-e"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", new_meta=True,
                                          explicit_lengths=False)),
    "+ti+g": (["+ti", "+g"], WriteOptions(transfer_syntax="1.2.840.10008.1.2", new_meta=True,
                                          group_lengths="add")),
    "+tb-g": (["+tb", "-g"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.2", new_meta=True,
                                          group_lengths="remove")),
    "-F": (["-F", "+te"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.1", write_meta=False)),
    "+p": (["+te", "+p", "256", "16"], WriteOptions(transfer_syntax="1.2.840.10008.1.2.1",
                                                     new_meta=True, padding=(256, 16))),
}


def _inputs() -> list[Path]:
    """Readable, uncompressed corpus files (compressed ones need the codecs of issue 4)."""
    bad = set(corpus.DCMTK_READ_ERRORS)
    out = []
    for path in corpus.corpus_files():
        if path.name in bad:
            continue
        try:
            ds = dcmread(path)
        except DicomError:
            continue
        if not ds.transfer_syntax.encapsulated:
            out.append(path)
    return out


INPUTS = _inputs()

# Deliberate differences from DCMTK, by file: what we do better and why.
DIFFERENT_ON_PURPOSE = {
    # DCMTK writes an odd-length OW value back with its odd length (an invalid file); we pad it
    # with a NUL to even length as PS3.5 7.1.1 requires, so the file stays parseable.
    "hand__odd_lengths.dcm": "odd-length OW padded to even length",
}


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(meta header bytes, data set bytes) of a Part 10 file, or (b'', data) for a bare one."""
    if len(data) >= 144 and data[128:132] == b"DICM":
        end = 144 + int.from_bytes(data[140:144], "little")
        return data[132:end], data[end:]
    return b"", data


def _dataset_bytes(data: bytes) -> bytes:
    """The data set bytes, inflated if the file says it is deflated."""
    meta, body = _split(data)
    return zlib.decompress(body, -15) if b"1.2.840.10008.1.2.1.99" in meta else body


def _strip_padding(data: bytes) -> bytes:
    """The file without its final Data Set Trailing Padding (explicit VR LE), if any.

    Whether DCMTK gives the new padding group a group length of its own follows a rule we have
    not pinned down (it does for files made with dcmconv +g, not for others), so a (fffc,0000)
    right before the padding is stripped too.
    """
    at = data.rfind(b"\xfc\xff\xfc\xffOB\0\0")
    if at > 0 and at + 12 + int.from_bytes(data[at + 8:at + 12], "little") == len(data):
        data = data[:at]
        if data[-12:-4] == b"\xfc\xff\0\0UL\4\0":
            data = data[:-12]
    return data


@pytest.fixture(scope="module")
def dcmtk_outputs(tmp_path_factory) -> dict[tuple[str, str], tuple[int, bytes]]:
    """Run DCMTK's dcmconv for every (case, input) pair, two at a time."""
    out_dir = tmp_path_factory.mktemp("dcmtk_conv")
    jobs = []
    for case, (args, _) in CASES.items():
        for path in INPUTS:
            target = out_dir / f"{case}__{path.name}"
            jobs.append((case, path, target, dcmtk_cmd("dcmconv", [*args, path, target])))

    def one(job):
        case, path, target, cmd = job
        rc = subprocess.run(cmd, capture_output=True).returncode
        return (case, path.name), (rc, target.read_bytes() if rc == 0 and target.exists() else b"")

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, jobs))


@pytest.mark.parametrize("case", list(CASES))
def test_dcmconv_matches_dcmtk(case, dcmtk_outputs):
    """Every input, converted by us and by DCMTK: identical data set bytes (or both refuse)."""
    _, opts = CASES[case]
    mismatches = []
    compared = 0
    for path in INPUTS:
        if path.name in DIFFERENT_ON_PURPOSE:
            continue
        rc, theirs = dcmtk_outputs[case, path.name]
        try:
            ours = dcmwrite(None, dcmread(path), opts)
        except DicomWriteError:
            ours = None
        if rc != 0 or ours is None:
            if (rc != 0) != (ours is None):
                mismatches.append(f"{path.name}: DCMTK rc {rc}, ours {'failed' if ours is None else 'wrote'}")
            continue
        compared += 1
        if case == "+p":
            # the padding fills up to the same file size; our meta header is 10 bytes longer
            assert len(ours) % 256 == 0 and len(theirs) % 256 == 0
            ours, theirs = _strip_padding(ours), _strip_padding(theirs)
        if _dataset_bytes(ours) != _dataset_bytes(theirs):
            mismatches.append(f"{path.name}: data set bytes differ")
    assert compared > len(INPUTS) // 2, f"only {compared} of {len(INPUTS)} files were compared"
    assert not mismatches, f"{len(mismatches)} of {len(INPUTS)} differ:\n" + "\n".join(mismatches[:20])


def test_meta_header_matches_dcmtk(tmp_path):
    """Our meta header has DCMTK's elements and values apart from our implementation identity."""
    src = next(p for p in INPUTS if p.name.startswith("pd__CT_small"))
    theirs, ours = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    assert run(dcmtk_cmd("dcmconv", ["+ti", src, theirs])).rc == 0
    assert run(our_cmd("dcmconv", ["+ti", src, ours])).rc == 0
    a, b = dcmread(theirs).file_meta, dcmread(ours).file_meta
    assert [e.tag for e in a] == [e.tag for e in b]
    for tag in (0x00020001, 0x00020002, 0x00020003, 0x00020010):
        assert bytes(a[tag].raw) == bytes(b[tag].raw)
    assert b[0x00020012].value.startswith("2.25.")
    # and DCMTK reads our file to the same text as its own, but for those two lines
    dump = [run(dcmtk_cmd("dcmdump", [f])).stdout.splitlines() for f in (theirs, ours)]
    skip = (b"(0002,0000)", b"(0002,0012)", b"(0002,0013)")
    assert [l for l in dump[0] if not l.startswith(skip)] == [l for l in dump[1] if not l.startswith(skip)]


@pytest.mark.parametrize("ts", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                                "1.2.840.10008.1.2.1.99"])
def test_round_trip_loses_nothing(ts):
    """read -> write in every uncompressed syntax -> read: every element and value equal."""
    for path in INPUTS:
        # one write normalizes (odd lengths padded, as DCMTK does); after that nothing may change
        original = dcmread(dcmwrite(None, dcmread(path), WriteOptions()))
        again = dcmread(dcmwrite(None, original, WriteOptions(transfer_syntax=ts)))
        implicit = ts == "1.2.840.10008.1.2"
        assert _content(again, implicit) == _content(original, implicit), f"{path.name} changed in {ts}"


def _content(ds, implicit: bool) -> list:
    """What a round trip must keep: tags, and values (binary ones as little-endian bytes).

    Group lengths are derived (recomputed on write) and OB/OW cannot be told apart in
    implicit VR, so those are compared by their bytes only; nor can implicit VR say that an
    element unknown to the dictionary is a sequence, so such elements are left out there.
    """
    out = []
    for elem in ds:
        if (elem.tag & 0xFFFF) == 0:
            continue
        if implicit and get_dictionary().find(elem.tag, ds.private_creator(elem.tag)) is None:
            continue
        if elem.vr == "SQ":
            out.append((elem.tag, [_content(item, implicit) for item in elem.value]))
        elif implicit and not elem.undefined_length:     # no VR to keep: the bytes must stay
            raw = bytes(elem.raw)
            if not elem.little_endian and elem.vr not in ("OB", "UN", "??") and elem.vr not in STRING_VRS:
                raw = encode(elem.value, elem.vr)
            out.append((elem.tag, raw))
        elif elem.vr in ("FL", "FD", "OF", "OD"):           # NaN != NaN: compare the bits
            out.append((elem.tag, elem.vr, bytes(encode(elem.value, elem.vr))))
        elif elem.vr in ("OB", "OW", "UN", "ox", "??") or elem.undefined_length:
            value = elem.value
            if elem.undefined_length:
                value = [bytes(f) for f in value]
            elif hasattr(value, "dtype"):
                value = value.astype(value.dtype.newbyteorder("<")).tobytes()
            out.append((elem.tag, value))
        else:
            value = elem.value
            vr = "US" if elem.vr == "xs" else elem.vr      # implicit VR cannot keep US/SS apart
            out.append((elem.tag, vr, value.tolist() if hasattr(value, "tolist") else value))
    return out


def test_unchanged_elements_are_written_bit_preserving(dcmtk_outputs):
    """Same syntax in and out: wherever DCMTK gives back the input's data set bytes, so do we."""
    checked = 0
    for path in INPUTS:
        rc, theirs = dcmtk_outputs["same", path.name]
        data = path.read_bytes()
        if rc != 0 or _dataset_bytes(theirs) != _dataset_bytes(data) or path.name in DIFFERENT_ON_PURPOSE:
            continue
        checked += 1
        ours = dcmwrite(None, dcmread(path), WriteOptions())
        assert _dataset_bytes(ours) == _dataset_bytes(data), path.name
    assert checked > len(INPUTS) // 2


def test_dcmconv_app_errors(tmp_path):
    """Bad input: one line on stderr, exit 1, no output file, no traceback."""
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\2\0\0\0UL\4\0\x10\0\0\0" + b"\2\0\x10\0UI\xff\xff")
    out = tmp_path / "out.dcm"
    r = run(our_cmd("dcmconv", [bad, out]))
    assert r.rc == 1
    assert not out.exists()
    assert b"Traceback" not in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
    r = run(our_cmd("dcmconv", [tmp_path / "missing.dcm", out]))
    assert r.rc == 1 and not out.exists()


def test_dcmconv_app_writes_what_dcmtk_reads(tmp_path):
    src = next(p for p in INPUTS if p.name.startswith("pd__MR_small"))
    for opt in ("+te", "+ti", "+tb", "+td"):
        out = tmp_path / f"o{opt}.dcm"
        assert run(our_cmd("dcmconv", [opt, src, out])).rc == 0
        r = run(dcmtk_cmd("dcmdump", [out]))
        assert r.rc == 0 and b"PixelData" in r.stdout, r.stderr
