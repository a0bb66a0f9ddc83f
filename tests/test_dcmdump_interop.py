"""Our dcmdump against DCMTK 3.6.7's, byte for byte, over the whole corpus (tests/corpus.py).

How it stays fast: for each option set, DCMTK and dcmpy are each run *once* over all corpus files
with ``+F`` (``# dcmdump (i/N): name`` before each file), side by side; the outputs are split at
those header lines and every (file, option set) pair is its own test comparing its chunk.  Files
that DCMTK cannot read (``corpus.DCMTK_READ_ERRORS``) go in a second batch so that a crash on a
broken file cannot hide the results for the good ones.  Per-file errors are attributed through
dcmdump's ``E: ...: reading file: <name>`` lines.  A few single-file runs without ``+F`` check the
plain output path and per-file exit codes.

Deliberate, documented differences from DCMTK (DCMTK bugs we do not copy) go into
``DIFFERENCES`` with a check of their own; there are no skips.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import (Result, compact_diff, dcmtk_cmd, error_files, finish, has_error_line, our_cmd,
                      run, split_batch, start, tail)
from corpus import CORPUS_DIR, DCMTK_READ_ERRORS, corpus_entries

W = "<W>"  # placeholder for the +W output directory (each tool gets its own temporary one)


@dataclass(frozen=True)
class OptionSet:
    id: str
    args: tuple[str, ...]
    only_bare: bool = False  # run only on files without preamble/'DICM' (e.g. -f)


OPTION_SETS = [
    OptionSet("default", ()),
    OptionSet("+L", ("+L",)),
    OptionSet("-M", ("-M",)),
    OptionSet("-M_+R_8", ("-M", "+R", "8")),  # +R takes 4..4194302 (kB); "+R 1" is a syntax error
    OptionSet("+E", ("+E",)),
    OptionSet("-Un", ("-Un",)),
    OptionSet("+U8", ("+U8",)),
    OptionSet("+Qn", ("+Qn",)),
    OptionSet("+Qo", ("+Qo",)),
    OptionSet("+T", ("+T",)),
    OptionSet("+T_+L_-Un", ("+T", "+L", "-Un")),
    OptionSet("-f", ("-f",), only_bare=True),
    OptionSet("+fo", ("+fo",)),
    OptionSet("+P_0010,0010", ("+P", "0010,0010")),
    OptionSet("+P_PatientName_+s", ("+P", "PatientName", "+s")),
    OptionSet("+P_0008,1155_+s_+p", ("+P", "0008,1155", "+s", "+p")),
    OptionSet("+P_0040,a010_+P_7fe0,0010_-s_+p", ("+P", "0040,a010", "+P", "7fe0,0010", "-s", "+p")),
    OptionSet("+W", ("+W", W)),
    OptionSet("+ao", ("+ao",)),
    OptionSet("+ae", ("+ae",)),
    OptionSet("-ev", ("-ev",)),
    OptionSet("+ui", ("+ui",)),
    OptionSet("-ui", ("-ui",)),
    OptionSet("+uc", ("+uc",)),
    OptionSet("+oi", ("+oi",)),
]
# only run on single files (not batched): command-line errors
SINGLE_ONLY = [
    OptionSet("-M_+R_1", ("-M", "+R", "1")),  # DCMTK: "error: Invalid value for option --max-read-length"
    OptionSet("+P_nosuchkeyword", ("+P", "NoSuchKeyword")),
    OptionSet("+bogus", ("+bogus",)),
]
OPTS = {o.id: o for o in OPTION_SETS + SINGLE_ONLY}


# ---------------------------------------------------------------------------------------------
# Deliberate differences: places where DCMTK 3.6.7 is wrong and we are not. Each is a check of
# its own (what DCMTK does, and what we do instead), never a skip.

@dataclass
class Difference:
    reason: str
    check: Callable[[str, bytes, bytes], None]   # (name, DCMTK's chunk, ours) -> asserts
    we_report_error: bool


def _reads_what_dcmtk_misdetects(name: str, theirs: bytes, ours: bytes) -> None:
    # DCMTK's auto-detection takes this big-endian bare data set for little endian and fails;
    # told the syntax (-f -tb) it reads it, and prints what we print without being told
    assert_empty(theirs)
    told = run(dcmtk_cmd("dcmdump", ["-f", "-tb", name]), cwd=CORPUS_DIR)
    assert told.rc == 0
    assert ours.rstrip(b"\n").endswith(told.stdout.rstrip(b"\n")) and b"Big Endian Explicit" in ours


def _converts_what_dcmtk_refuses(name: str, theirs: bytes, ours: bytes) -> None:
    # DCMTK's Debian build cannot convert ISO 2022 IR 87/159 (its iconv lacks them) or item-level
    # character sets, so +U8 prints nothing; we convert (checked against pydicom in
    # tests/test_charconv.py)
    assert_empty(theirs)
    assert b"[ISO_IR 192]" in ours


def _shows_only_bytes_present(name: str, theirs: bytes, ours: bytes) -> None:
    # +E on a value cut short by the end of the file: DCMTK prints its buffer past the data read
    # (spaces or leftover memory); we print the bytes that are there. Every other line is equal.
    a, b = theirs.splitlines(), ours.splitlines()
    assert len(a) == len(b)
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    assert len(diff) == 1 and diff[0][0].split(b"[")[0] == diff[0][1].split(b"[")[0], diff


_MISDETECTED = "cv__nested_priv_SQ__tb_bare.dcm"
_CHARSETS_DCMTK_REFUSES = [
    "cs__chrH31.dcm", "cs__chrH32.dcm", "cs__chrJapMulti.dcm", "cs__chrJapMultiExplicitIR6.dcm",
    "cs__chrSQEncoding.dcm", "cs__chrSQEncoding1.dcm", "pd__J2K_pixelrep_mismatch.dcm",
    *[f"cv__chrSQEncoding__{v}.dcm" for v in
      ("tb", "tb_bare", "tb_gl", "td", "td_undef", "te", "te_bare_gl", "te_undef", "ti", "ti_bare",
       "ti_undef_gl")],
]
DIFFERENCES: dict[tuple[str, str], Difference] = {
    **{(o.id, _MISDETECTED): Difference("DCMTK misdetects a big-endian bare data set",
                                        _reads_what_dcmtk_misdetects, False)
       for o in OPTION_SETS if o.id == "default"},
    **{("+U8", n): Difference("DCMTK cannot convert this character set", _converts_what_dcmtk_refuses,
                              False) for n in _CHARSETS_DCMTK_REFUSES},
    **{("+E", n): Difference("DCMTK prints bytes it never read", _shows_only_bytes_present, True)
       for n in ("hand__trunc_value.dcm", "pd__rtplan_truncated.dcm")},
}
# with the other options (but +fo, where both refuse a bare data set), the misdetected file is
# one DCMTK fails on (or prints garbage from, under +E) and we read without an error
for _o in OPTION_SETS:
    if (_o.id, _MISDETECTED) not in DIFFERENCES and _o.id != "+fo":
        DIFFERENCES[_o.id, _MISDETECTED] = Difference(
            "DCMTK misdetects a big-endian bare data set", lambda name, theirs, ours: None, False)


def _body(chunk: bytes) -> bytes:
    """A dump without the '# dcmdump (i/n): file' header a +F batch puts before it."""
    return b"\n".join(l for l in chunk.splitlines() if not l.startswith(b"# dcmdump (")).strip()


def assert_empty(chunk: bytes) -> None:
    assert _body(chunk) == b"", chunk[:200]



ENTRIES = corpus_entries()
ALL_NAMES = [e.name for e in ENTRIES]
BARE_NAMES = [e.name for e in ENTRIES if e.bare]


def files_for(opt: OptionSet) -> list[str]:
    return BARE_NAMES if opt.only_bare else ALL_NAMES


# ---------------------------------------------------------------------------------------------
# batches


@dataclass
class Group:
    names: list[str]
    dcmtk: Result
    ours: Result
    dcmtk_chunks: dict[str, bytes | None]
    our_chunks: dict[str, bytes | None]
    dcmtk_errors: set[str]
    our_errors: set[str]


@dataclass
class Batch:
    opt: OptionSet
    groups: list[Group] = field(default_factory=list)
    wdirs: tuple[Path, Path] | None = None  # +W: (dcmtk dir, our dir)

    def group_of(self, name: str) -> Group:
        return next(g for g in self.groups if name in g.dcmtk_chunks)


_TMP = Path(tempfile.mkdtemp(prefix="dcmpy-"))


def _short_dir() -> Path:
    """A +W output directory: short and always of the same length (``/tmp/dcmdump-w-XXXXXXXX``),
    because dcmdump prints the raw file's path as the value and truncates it at 70 characters."""
    return Path(tempfile.mkdtemp(prefix="dcmdump-w-", dir=_TMP))


def _run_batch(opt: OptionSet) -> Batch:
    batch = Batch(opt)
    names = files_for(opt)
    bad = [n for n in names if n in DCMTK_READ_ERRORS]
    good = [n for n in names if n not in DCMTK_READ_ERRORS]
    dargs, oargs = list(opt.args), list(opt.args)
    if W in opt.args:
        dw, ow = _short_dir(), _short_dir()
        batch.wdirs = (dw, ow)
        dargs = [str(dw) if a == W else a for a in opt.args]
        oargs = [str(ow) if a == W else a for a in opt.args]
    for group in (good, bad):
        if not group:
            continue
        pd = start(dcmtk_cmd("dcmdump", ["+F", *dargs, *group]), cwd=CORPUS_DIR)
        po = start(our_cmd("dcmdump", ["+F", *oargs, *group]), cwd=CORPUS_DIR)
        rd, ro = finish(pd), finish(po)
        if batch.wdirs:
            rd.stdout = rd.stdout.replace(str(batch.wdirs[0]).encode(), W.encode())
            ro.stdout = ro.stdout.replace(str(batch.wdirs[1]).encode(), W.encode())
        batch.groups.append(Group(group, rd, ro, split_batch(rd.stdout, group), split_batch(ro.stdout, group),
                                  error_files(rd.stderr), error_files(ro.stderr)))
    return batch


class _Batches:
    """Runs each option set's batch once, on demand, prefetching the next one in the background."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()

    def _submit(self, opt_id: str) -> Future:
        with self._lock:
            if opt_id not in self._futures:
                self._futures[opt_id] = self._pool.submit(_run_batch, OPTS[opt_id])
            return self._futures[opt_id]

    def get(self, opt_id: str) -> Batch:
        fut = self._submit(opt_id)
        ids = [o.id for o in OPTION_SETS]
        i = ids.index(opt_id)
        if i + 1 < len(ids):
            self._submit(ids[i + 1])
        return fut.result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(_TMP, ignore_errors=True)


BATCHES = _Batches()


@pytest.fixture(scope="module", autouse=True)
def _cleanup_batches():
    yield
    BATCHES.shutdown()


# ---------------------------------------------------------------------------------------------
# harness sanity: DCMTK reads exactly the files it is expected to read


def test_dcmtk_reads_corpus():
    b = BATCHES.get("default")
    failed = set().union(*(g.dcmtk_errors for g in b.groups))
    assert failed == set(DCMTK_READ_ERRORS), (
        f"DCMTK failed unexpectedly on {sorted(failed - set(DCMTK_READ_ERRORS))}; "
        f"read files listed as unreadable: {sorted(set(DCMTK_READ_ERRORS) - failed)}")
    for g in b.groups:
        missing = [n for n, c in g.dcmtk_chunks.items() if c is None]
        assert not missing, f"no '# dcmdump (i/N)' header in DCMTK's output for {missing}"
    good = next(g for g in b.groups if not set(g.names) & set(DCMTK_READ_ERRORS))
    assert good.dcmtk.rc == 0, tail(good.dcmtk.stderr)
    assert len(ENTRIES) > 300 and len(BARE_NAMES) > 20


# ---------------------------------------------------------------------------------------------
# one test per (option set, file), from the batches

PARAMS = [pytest.param(o.id, n, id=f"{n}[{o.id}]") for o in OPTION_SETS for n in files_for(o)]


@pytest.mark.parametrize("opt_id,name", PARAMS)
def test_dcmdump_matches_dcmtk(opt_id, name):
    b = BATCHES.get(opt_id)
    g = b.group_of(name)
    expected = g.dcmtk_chunks[name]
    assert expected is not None, f"harness: DCMTK printed no header for {name}:\n{tail(g.dcmtk.stderr)}"
    got = g.our_chunks[name]
    if got is None:
        pytest.fail(f"dcmpy printed no '# dcmdump (i/{len(g.names)}): {name}' header "
                    f"(rc {g.ours.rc}); its stderr ends:\n{tail(g.ours.stderr)}\n"
                    f"its stdout begins:\n{g.ours.stdout[:300].decode('utf-8', 'backslashreplace')}")
    difference = DIFFERENCES.get((opt_id, name))
    if difference is not None:
        difference.check(name, expected, got)
        assert (name in g.our_errors) == difference.we_report_error, tail(g.ours.stderr)
        return
    assert got == expected, f"dcmdump +F {' '.join(b.opt.args)} {name}\n" + compact_diff(expected, got)
    d_err, o_err = name in g.dcmtk_errors, name in g.our_errors
    assert d_err == o_err, (
        f"error report differs for {name}: DCMTK {'reported' if d_err else 'did not report'} an error, "
        f"dcmpy {'did' if o_err else 'did not'}\nDCMTK stderr:\n{tail(g.dcmtk.stderr)}\n"
        f"dcmpy stderr:\n{tail(g.ours.stderr)}")
    if b.wdirs:
        dw, ow = b.wdirs
        dfiles = {p.name: p.read_bytes() for p in dw.glob(f"{name}.*.raw")}
        ofiles = {p.name: p.read_bytes() for p in ow.glob(f"{name}.*.raw")}
        assert sorted(ofiles) == sorted(dfiles), "+W wrote different files"
        for fn in dfiles:
            assert ofiles[fn] == dfiles[fn], f"+W: {fn} differs ({len(dfiles[fn])} vs {len(ofiles[fn])} bytes)"


@pytest.mark.parametrize("opt_id", [o.id for o in OPTION_SETS])
def test_batch_exit_code(opt_id):
    b = BATCHES.get(opt_id)
    for g in b.groups:
        assert b"Traceback" not in g.ours.stderr, tail(g.ours.stderr, 30)
        # DCMTK's verdicts, but ours where a deliberate difference says otherwise
        errors = {n for n in g.names if n in g.dcmtk_errors and (opt_id, n) not in DIFFERENCES}
        errors |= {n for n in g.names if (opt_id, n) in DIFFERENCES
                   and DIFFERENCES[opt_id, n].we_report_error}
        expected_rc = 1 if errors else 0
        assert g.ours.rc == expected_rc, (
            f"exit code {g.ours.rc} != {expected_rc} (DCMTK's {g.dcmtk.rc}) for dcmdump +F "
            f"{' '.join(b.opt.args)} <{len(g.names)} files>\ndcmpy stderr:\n{tail(g.ours.stderr)}")


# ---------------------------------------------------------------------------------------------
# single-file runs (no +F): plain output path, per-file exit codes, error reporting

SAMPLES = ["pd__CT_small.dcm", "dump__allvr__ti_bare.dcm", "cmp__CT_small__jpeg_lossless_frag.dcm",
           "dump__private__te.dcm", "cs__chrJapMulti.dcm"]
SINGLE = ([(o.id, n) for o in OPTION_SETS for n in SAMPLES if n in files_for(o)]
          + [(opt_id, n) for opt_id in ("default", "+E") for n in sorted(DCMTK_READ_ERRORS)]
          + [("-f", "pd__CT_small.dcm"), ("+fo", "hand__implicit_bare.dcm")]  # errors for -f / +fo
          + [(o.id, "pd__CT_small.dcm") for o in SINGLE_ONLY])


@pytest.mark.parametrize("opt_id,name", [pytest.param(o, n, id=f"{n}[{o}]") for o, n in SINGLE])
def test_single_file(opt_id, name):
    opt = OPTS[opt_id]
    args = list(opt.args)
    dw, ow = _short_dir(), _short_dir()
    pd = start(dcmtk_cmd("dcmdump", [str(dw) if a == W else a for a in args] + [name]), cwd=CORPUS_DIR)
    po = start(our_cmd("dcmdump", [str(ow) if a == W else a for a in args] + [name]), cwd=CORPUS_DIR)
    d, o = finish(pd), finish(po)
    d.stdout = d.stdout.replace(str(dw).encode(), W.encode())
    o.stdout = o.stdout.replace(str(ow).encode(), W.encode())
    expected = d.stdout
    cmd = f"dcmdump {' '.join(args)} {name}"
    assert b"Traceback" not in o.stderr, f"{cmd}\n{tail(o.stderr, 30)}"
    difference = DIFFERENCES.get((opt_id, name))
    if difference is not None:
        difference.check(name, expected, o.stdout)
        assert (o.rc != 0) == difference.we_report_error, tail(o.stderr)
        return
    assert o.stdout == expected, f"{cmd}\n" + compact_diff(expected, o.stdout)
    assert o.rc == d.rc, f"{cmd}: exit code {o.rc} != DCMTK's {d.rc}\ndcmpy stderr:\n{tail(o.stderr)}"
    # stderr is compared loosely: an error line on one side needs one on the other
    assert has_error_line(o.stderr) == has_error_line(d.stderr), (
        f"{cmd}\nDCMTK stderr:\n{tail(d.stderr)}\ndcmpy stderr:\n{tail(o.stderr)}")
