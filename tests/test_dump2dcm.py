"""dump2dcm against DCMTK's dump2dcm (3.6.7): the same dump text must give the same file.

Our side mostly runs in-process through the app's ``main`` (the code behind the command line,
without a Python start-up per file); the end-to-end cases run ``python -m dcmpy dump2dcm``.
DCMTK's side always runs ``/usr/bin/dump2dcm``. Files are compared through DCMTK's ``dcmdump``
text and by their data set bytes; meta headers may differ only in the implementation class
UID / version name (and so in the group length), and in UIDs that either tool generates.

Deliberate differences (DCMTK 3.6.7 flaws we do not copy) have tests of their own below, each
stating what DCMTK does: run on DCMTK too, so that the statement stays true.
"""
from __future__ import annotations

import difflib
import glob
import os
import re
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import corpus
from conftest import compact_diff, dcmtk_cmd, our_cmd, run, split_batch, tool_env

from dcmpy import _diag
from dcmpy.apps import dump2dcm as app
from dcmpy.apps._cmdline import log
from dcmpy.dcmdata.dumpparse import DumpError, DumpReadOptions, parse_dump, read_dump
from dcmpy.dcmdata.reader import DicomError, dcmread

META_SKIP = (b"(0002,0000)", b"(0002,0012)", b"(0002,0013)")
UID_LINE = re.compile(rb"^\s*\((0002,0003|0008,0018|0020,000d|0020,000e)\) UI \[([0-9.]+)\]")
NEW_UIDS = (b"0002,0003", b"0008,0018", b"0020,000d", b"0020,000e")
GROUP_LENGTH = re.compile(rb"^\s*\([0-9a-f]{4},0000\) UL")
_GIVEN_INSTANCE = re.compile(rb"^\(0002,0003\) UI \[", re.M)
WORKLIST_DUMPS = sorted(glob.glob("/usr/share/doc/dcmtk/examples/wlistdb/OFFIS/*.dump")
                        + glob.glob("/usr/share/doc/dcmtk/examples/wlistqry/*.dump"))


# -- helpers ------------------------------------------------------------------------------

def ours(args) -> int:
    """Our dump2dcm in-process; the exit code (command-line errors included). Library
    warnings become W: lines, as in the command line."""
    _diag.set_sink(log.warn)
    try:
        return app.main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        _diag.set_sink(None)


def dcmtk(args):
    return run(dcmtk_cmd("dump2dcm", args))


def dataset_bytes(data: bytes) -> bytes:
    """The data set part of a file (inflated when the meta header says deflated)."""
    if len(data) >= 144 and data[128:132] == b"DICM":
        end = 144 + int.from_bytes(data[140:144], "little")
        body = data[end:]
        return zlib.decompress(body, -15) if b"1.2.840.10008.1.2.1.99" in data[132:end] else body
    return data


def dump_text(path, *args) -> bytes:
    r = run(dcmtk_cmd("dcmdump", [*args, "+L", path]))
    assert r.rc == 0, f"DCMTK cannot read {path}: {r.stderr[-300:]!r}"
    return r.stdout


def norm(text: bytes, generated: tuple[bytes, ...] = ()) -> list[bytes]:
    """dcmdump lines that must agree: without the implementation lines and the meta group
    length, DICOMDIR record offsets (they move with the meta header's size), and without the
    values of the ``generated`` UIDs (tags as b'0002,0003'), which each tool makes anew."""
    out = []
    data_set_uids = any(not tag.startswith(b"0002") for tag in generated)
    for line in text.strip(b"\n").split(b"\n"):
        if line.startswith(META_SKIP) or line.lstrip().startswith(b"#  offset=$"):
            continue
        m = UID_LINE.match(line)
        if m and m.group(1) in generated:
            line = m.group(1)
        elif data_set_uids and GROUP_LENGTH.match(line):  # they count the UIDs' lengths
            line = GROUP_LENGTH.match(line).group(0)
        out.append(line)
    return out


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("latin-1") if isinstance(text, str) else text)
    return path


def _dcmdump_batch(paths: list[str]) -> dict[str, bytes]:
    """DCMTK's dcmdump +L of many files in one run: name -> text ('' if it failed)."""
    r = run(dcmtk_cmd("dcmdump", ["+F", "+L", *paths]))
    chunks = split_batch(r.stdout, paths)
    return {p: (c.split(b"\n", 1)[1] if c else b"") for p, c in chunks.items()}


# -- the corpus: every file DCMTK can dump, through both dump2dcm ---------------------------

_USED_TS = re.compile(rb"^# Used TransferSyntax: (.*?)\r?$", re.M)
_TS_OPTION = {b"Little Endian Implicit": "+ti", b"Big Endian Explicit": "+tb",
              b"Deflated Explicit VR Little Endian": "+td"}


def options_for(text: bytes) -> list[str]:
    """dump2dcm options that make the file the dump came from (as far as one can say):
    a bare data set in its syntax, undefined lengths if the dump shows them."""
    longest = max(len(line) for line in text.split(b"\n"))
    opts = ["+l", str(max(4096, longest + 2))]
    if not re.search(rb"^\(0002,0010\)", text, re.M):
        opts += ["-F", _TS_OPTION.get(_USED_TS.findall(text)[-1], "+te")]
    if b" with undefined length #=" in text:
        opts.append("-e")
    return opts


@dataclass
class CorpusCase:
    text: bytes
    options: list[str]
    theirs: bytes | None = None
    ours: bytes | None = None
    ours_rc: int = -1
    theirs_dump: bytes = b""
    ours_dump: bytes = b""


CORPUS = [e.path for e in corpus.corpus_entries() if e.dcmtk_error is None]


@pytest.fixture(scope="module")
def corpus_cases(tmp_path_factory) -> dict[str, CorpusCase]:
    work = tmp_path_factory.mktemp("dump2dcm_corpus")
    texts = _dcmdump_batch([str(p) for p in CORPUS])
    cases: dict[str, CorpusCase] = {}
    for path in CORPUS:
        if texts[str(path)]:
            cases[path.name] = CorpusCase(texts[str(path)], options_for(texts[str(path)]))
            write(work / f"{path.name}.txt", texts[str(path)])

    def theirs(name: str) -> None:
        out = work / f"{name}.dcmtk"
        dcmtk([*cases[name].options, work / f"{name}.txt", out])
        cases[name].theirs = out.read_bytes() if out.exists() else None

    with ThreadPoolExecutor(2) as pool:
        done = pool.map(theirs, cases)
        for name, case in cases.items():     # ours, meanwhile, in this thread
            out = work / f"{name}.ours"
            case.ours_rc = ours([*case.options, work / f"{name}.txt", out])
            case.ours = out.read_bytes() if out.exists() else None
        list(done)
    for side in ("dcmtk", "ours"):
        names = [n for n, c in cases.items() if (c.theirs if side == "dcmtk" else c.ours)]
        dumps = _dcmdump_batch([str(work / f"{n}.{side}") for n in names])
        for n in names:
            setattr(cases[n], "theirs_dump" if side == "dcmtk" else "ours_dump",
                    dumps[str(work / f"{n}.{side}")])
    return cases


_TOKENS = re.compile(rb"[\\ ]+")


def ours_kept_the_original(theirs: list[bytes], ours_: list[bytes], original: list[bytes]) -> str:
    """'' if every difference between DCMTK's and our result is one where we kept what the
    original said and DCMTK did not: whole lines (ours the original's, DCMTK's not), or single
    values in a line (ours one of the original's); else the first other difference."""
    known = set(original)
    known_values = {t for line in original for t in _TOKENS.split(line)}
    matcher = difflib.SequenceMatcher(None, theirs, ours_, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        mine, its = ours_[j1:j2], theirs[i1:i2]
        if all(line in known for line in mine) and not any(line in known for line in its):
            continue
        if len(mine) == len(its) and all(_values_kept(a, b, known_values) for a, b in zip(its, mine)):
            continue
        return "\n".join(["dcmtk:", *map(repr, its[:5]), "dcmpy:", *map(repr, mine[:5])])
    return ""


def _values_kept(theirs: bytes, mine: bytes, known_values: set) -> bool:
    a, b = _TOKENS.split(theirs), _TOKENS.split(mine)
    return len(a) == len(b) and all(x == y or y in known_values for x, y in zip(a, b))


@pytest.mark.parametrize("name", [p.name for p in CORPUS])
def test_corpus_file_matches_dcmtk(name, corpus_cases):
    """dcmdump +L of a corpus file, through DCMTK's and our dump2dcm: the same file, or a
    difference where DCMTK lost what the dump said (FD/OD digits, '\\n' inside multi-valued
    strings, Data Set Trailing Padding) and we kept it."""
    case = corpus_cases.get(name)
    assert case is not None, f"DCMTK's dcmdump printed nothing for {name}"
    if case.theirs is None:
        # DCMTK refuses the text (lines it cannot read back: values with line breaks or NULs,
        # the 'lt' VR its own dcmdump prints); we convert it to a file DCMTK reads
        assert case.ours_rc == 0 and case.ours is not None, f"we refused {name} too"
        assert case.ours_dump, f"DCMTK cannot read our {name}"
        return
    assert case.ours_rc == 0 and case.ours is not None, f"DCMTK converted {name}, we did not"
    # a meta header without (0002,0003) gets a new UID from each tool
    generated = () if _GIVEN_INSTANCE.search(case.text) else (b"0002,0003",)
    theirs, mine = norm(case.theirs_dump, generated), norm(case.ours_dump, generated)
    if theirs == mine:
        assert dataset_bytes(case.theirs) == dataset_bytes(case.ours), "same text, other bytes"
        return
    problem = ours_kept_the_original(theirs, mine, norm(case.text, generated))
    assert not problem, f"{name} differs from DCMTK's where we did not keep the original:\n{problem}"


def test_corpus_round_trip(corpus_cases):
    """dcmdump | dump2dcm | dcmdump reproduces the text for every file for which DCMTK's
    dump2dcm does, and for more (the texts DCMTK cannot read back)."""
    theirs_ok, ours_ok, lost = set(), set(), []
    for name, case in corpus_cases.items():
        generated = () if _GIVEN_INSTANCE.search(case.text) else (b"0002,0003",)
        original = norm(case.text, generated)
        if case.theirs is not None and norm(case.theirs_dump, generated) == original:
            theirs_ok.add(name)
        if case.ours is not None and norm(case.ours_dump, generated) == original:
            ours_ok.add(name)
    lost = sorted(theirs_ok - ours_ok)
    assert not lost, f"DCMTK round-trips these and we do not: {lost[:10]}"
    assert len(theirs_ok) > len(corpus_cases) // 3, f"only {len(theirs_ok)} round trips"
    assert len(ours_ok) > len(theirs_ok), "no file that only we round-trip"


# -- the worklist samples Debian ships ------------------------------------------------------

def test_worklist_samples_exist():
    assert len(WORKLIST_DUMPS) >= 20, WORKLIST_DUMPS


@pytest.mark.parametrize("dump", WORKLIST_DUMPS, ids=lambda p: "/".join(Path(p).parts[-2:]))
def test_worklist_sample_matches_dcmtk(dump, tmp_path, capfd):
    """The same data set as DCMTK's dump2dcm makes, and the same messages."""
    theirs, mine = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    r = dcmtk([dump, theirs])
    capfd.readouterr()
    assert ours([dump, mine]) == r.rc == 0
    # DCMTK keeps the first of two lines with the same tag silently; we say so (see below)
    err = [line for line in capfd.readouterr().err.encode().splitlines(keepends=True)
           if not line.startswith(b"W: duplicate element")]
    assert b"".join(err) == r.stderr
    a, b = theirs.read_bytes(), mine.read_bytes()
    assert dataset_bytes(a) == dataset_bytes(b)
    ta, tb = dump_text(theirs), dump_text(mine)
    assert norm(ta, (b"0002,0003",)) == norm(tb, (b"0002,0003",)), compact_diff(ta, tb)
    # no SOP Instance UID in these data sets: both generate one for the meta header
    assert re.search(rb"\(0002,0003\) UI \[2\.25\.[0-9]+\]", tb)


# -- each option against DCMTK's ----------------------------------------------------------

META_DUMP = r"""
# Dicom-File-Format
(0002,0000) UL 999                                      #   4, 1 FileMetaInformationGroupLength
(0002,0001) OB 00\02
(0002,0002) UI =MRImageStorage
(0002,0003) UI [1.2.3.4]
(0002,0010) UI =LittleEndianImplicit
(0002,0012) UI [1.2.3.999]
(0002,0013) SH [MYIMPL]
(0002,0016) AE [MYAE]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.3.6]
(0008,0000) UL 0
(0010,0010) PN [Doe^John]
(0010,1010) LO [wrong vr]
(0028,0106) 7
(0008,1140) SQ (Sequence with undefined length #=2)
  (fffe,e000) na (Item with undefined length #=1)
    (0008,1150) UI =CTImageStorage
  (fffe,e00d) na (ItemDelimitationItem)
  (fffe,e000) -
  (fffe,e00d) -
(fffe,e0dd) na (SequenceDelimitationItem)
"""

PIXSEQ_DUMP = r"""
(0002,0010) UI =JPEGBaseline
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.7]
(0028,0010) US 2
(0028,0011) US 2
(7fe0,0010) OB (PixelSequence #=3)                      # u/l, 1 PixelData
  (fffe,e000) pi (no value available)                     #   0, 1 Item
  (fffe,e000) pi ff\d8\00\01\02\ff\d9                     #   7, 1 Item
  (fffe,e000) pi =frag.bin
(fffe,e0dd) na (SequenceDelimitationItem)               #   0, 0 SequenceDelimitationItem
"""

FILES_DUMP = r"""
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.8]
(0028,1201) OW =frag.bin
(0042,0011) OB =frag.bin
(7fe0,0010) OW =frag.bin
"""

OPTION_DUMPS = {**{k: corpus.DUMPS[k] for k in ("allvr", "private", "nested3", "empty_sq",
                                                   "repeating")},
                "meta": META_DUMP, "pixseq": PIXSEQ_DUMP, "files": FILES_DUMP}
OPTION_SETS = {
    "default": [], "+te": ["+te"], "+tb": ["+tb"], "+ti": ["+ti"], "+td": ["+td"],
    "+td+cl0": ["+td", "+cl", "0"], "+td+cl9": ["+td", "+cl", "9"], "+t=": ["+te", "+t="],
    "-e": ["-e"], "+e": ["-e", "+e"], "+g": ["+g"], "-g": ["-g"], "+g=": ["+g", "+g="],
    "-u": ["-u"], "+u": ["-u", "+u"], "-F": ["-F"], "-F+ti": ["-F", "+ti"], "+F": ["-F", "+F"],
    "+Fu": ["+Fu"], "-f": ["-f"], "+f": ["-f", "+f"], "+p": ["+p", "256", "16"],
    "-p": ["-p"], "-p=": ["-p", "-p="], "+rb": ["+rb"], "+rl": ["+rb", "+rl"],
    "+rb+tb": ["+rb", "+tb"], "+l": ["+l", "200"], "+E": ["+E"], "-E": ["+E", "-E"],
    "-Uo": ["-Uo"], "+Uo": ["+Uo"], "-q": ["-q"], "-v": ["-v"],
}


@pytest.fixture(scope="module")
def option_dir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dump2dcm_options")
    write(work / "frag.bin", bytes(range(1, 8)))
    for name, text in OPTION_DUMPS.items():
        write(work / f"{name}.dump", text)
    return work


@pytest.mark.parametrize("option", list(OPTION_SETS))
def test_option_matches_dcmtk(option, option_dir, capfd):
    """Every dump with these options: DCMTK's exit code, messages, data set bytes and text."""
    args = OPTION_SETS[option]
    cwd = Path.cwd()
    os.chdir(option_dir)                      # '=frag.bin' is relative, for both tools
    try:
        for name in OPTION_DUMPS:
            theirs, mine = Path(f"{name}_{option}.dcmtk"), Path(f"{name}_{option}.ours")
            r = run(dcmtk_cmd("dump2dcm", [*args, f"{name}.dump", theirs]), cwd=option_dir)
            capfd.readouterr()
            rc = ours([*args, f"{name}.dump", mine])
            err = capfd.readouterr().err.encode()
            where = f"{name} with {option}"
            assert rc == r.rc, f"{where}: exit code {rc}, DCMTK {r.rc}: {err!r} / {r.stderr!r}"
            assert err == r.stderr, f"{where}: messages differ:\n{compact_diff(r.stderr, err)}"
            assert theirs.exists() == mine.exists(), where
            if not theirs.exists():
                continue
            a, b = theirs.read_bytes(), mine.read_bytes()
            bare = "-F" in args and "+F" not in args and name != "pixseq"
            if bare and "+td" in args:
                a, b = zlib.decompress(a, -15), zlib.decompress(b, -15)
            ta, tb = ((b"", b"") if bare or "+td" in args else (dump_text(theirs), dump_text(mine)))
            if "+p" in args:
                # the padding fills up to a multiple of 256 bytes after a meta header that is
                # 10 bytes longer for us (implementation UID): compare without it
                assert len(a) % 256 == 0 and len(b) % 256 == 0, where
                a, b = a[:a.rindex(b"\xfc\xff\xfc\xff")], b[:b.rindex(b"\xfc\xff\xfc\xff")]
                ta, tb = (t[:t.index(b"(fffc,fffc)")] for t in (ta, tb))
            assert dataset_bytes(a) == dataset_bytes(b), f"{where}: data set bytes differ"
            # the bytes say it all for bare and deflated files (dcmdump guesses bare syntaxes)
            assert norm(ta) == norm(tb), f"{where}:\n{compact_diff(ta, tb)}"
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("args", [["+Ug"], ["+Ug", "+Uo"], ["+Ug", "-F"]], ids=" ".join)
def test_new_uids_as_dcmtk(args, option_dir, capfd):
    """+Ug makes the Study/Series/SOP Instance UIDs that are missing (all, with +Uo)."""
    for name in ("allvr", "meta", "nested3"):
        theirs, mine = option_dir / f"{name}_ug.dcmtk", option_dir / f"{name}_ug.ours"
        r = run(dcmtk_cmd("dump2dcm", ["-v", *args, option_dir / f"{name}.dump", theirs]))
        capfd.readouterr()
        assert ours(["-v", *args, option_dir / f"{name}.dump", mine]) == r.rc == 0
        err = capfd.readouterr().err.encode()
        assert err.replace(str(option_dir).encode(), b"") == r.stderr.replace(
            str(option_dir).encode(), b"")
        ta, tb = dump_text(theirs, *(["-f"] if "-F" in args else [])), \
            dump_text(mine, *(["-f"] if "-F" in args else []))
        assert norm(ta, NEW_UIDS) == norm(tb, NEW_UIDS), compact_diff(ta, tb)
        uids = [m.group(2) for m in map(UID_LINE.match, tb.split(b"\n")) if m]
        assert uids and all(re.fullmatch(rb"[0-9]+(\.[0-9]+)+", u) for u in uids)


def test_help_matches_dcmtk():
    theirs = run(dcmtk_cmd("dump2dcm", ["--help"]))
    mine = run(our_cmd("dump2dcm", ["--help"]))
    assert mine.rc == theirs.rc == 0
    assert mine.stdout.split(b"\n")[1:] == theirs.stdout.split(b"\n")[1:]


@pytest.mark.parametrize("args, message", [
    (["-F", "+p", "8", "8"], b"error: --padding-create not allowed with --write-dataset"),
    (["-F", "-p="], b"error: --padding-retain not allowed with --write-dataset"),
    (["+cl", "3"], b"error: --compression-level only allowed with --write-xfer-deflated"),
    (["+td", "+cl", "10"], b"error: Invalid value for option --compression-level (overflow: 10)"),
    (["+l", "79"], b"error: Invalid value for option --line (underflow: 79)"),
])
def test_option_errors_as_dcmtk(args, message, option_dir, tmp_path):
    theirs = run(dcmtk_cmd("dump2dcm", [*args, option_dir / "allvr.dump", tmp_path / "a.dcm"]))
    mine = run(our_cmd("dump2dcm", [*args, option_dir / "allvr.dump", tmp_path / "b.dcm"]))
    assert mine.rc == theirs.rc == 1
    assert message in theirs.stderr and message in mine.stderr
    assert not list(tmp_path.iterdir())


# -- end to end ---------------------------------------------------------------------------

def test_pipe_through_stdin_and_stdout(tmp_path):
    """dcmdump FILE | dump2dcm - - : '-' is stdin and stdout (DCMTK: stdout only)."""
    text = corpus.DUMPS["private"].encode()
    theirs = tmp_path / "theirs.dcm"
    assert dcmtk([write(tmp_path / "in.dump", text), theirs]).rc == 0
    r = subprocess.run(our_cmd("dump2dcm", ["-", "-"]), input=text,
                       capture_output=True, env=tool_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout[128:132] == b"DICM"
    assert dataset_bytes(theirs.read_bytes()) == dataset_bytes(r.stdout)


def nested(depth: int) -> str:
    """Sequences in items in sequences..., one element at the bottom (lines not indented)."""
    return ("(0008,0016) UI =BasicTextSRStorage\n" + "(0040,a730) SQ\n(fffe,e000) na\n" * depth
            + "(0040,a160) UT [deep]\n" + "(fffe,e00d) na\n(fffe,e0dd) na\n" * depth)


def test_deep_nesting_as_dcmtk(tmp_path):
    """3,000 nested sequences (DCMTK converts them): the same file, with no recursion error;
    5,001 are refused with one error line."""
    dump = write(tmp_path / "deep.dump", nested(3000))
    theirs, mine = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    assert dcmtk([dump, theirs]).rc == 0
    r = run(our_cmd("dump2dcm", [dump, mine]))
    assert r.rc == 0, r.stderr[-500:]
    assert dataset_bytes(theirs.read_bytes()) == dataset_bytes(mine.read_bytes())
    deeper = write(tmp_path / "deeper.dump", nested(5001))
    r = run(our_cmd("dump2dcm", [deeper, tmp_path / "no.dcm"]))
    assert r.rc == 1 and b"nested deeper than 5000 levels (line 10002)" in r.stderr
    assert not (tmp_path / "no.dcm").exists()


# -- bad input: one error line per problem, exit code 1, no file ----------------------------

# (dump text, line of the error, what DCMTK 3.6.7 does with it: 'refuses' = error lines, no
# file, exit 0; 'writes' = writes a file anyway (silently changed data), exit 0)
BAD = {
    "item outside sequence": ("(fffe,e000) na\n(0010,0010) PN [x]\n", 1, "refuses"),
    "item not closed": ("(0008,1140) SQ\n(fffe,e000) na\n(0010,0010) PN [x]\n", 3, "refuses"),
    "sequence not closed": ("(0008,1140) SQ\n(fffe,e000) na\n(fffe,e00d) na\n", 3, "refuses"),
    "stray item delimiter": ("(0010,0010) PN [x]\n(fffe,e00d) na\n", 2, "refuses"),
    "stray sequence delimiter": ("(fffe,e0dd) na\n", 1, "refuses"),
    "delimiters crossed": ("(0008,1140) SQ\n(fffe,e000) na\n(fffe,e0dd) na\n", 3, "refuses"),
    "element between items": ("(0008,1140) SQ\n(0010,0010) PN [x]\n(fffe,e0dd) na\n", 2,
                              "refuses"),
    "pixel item outside pixel sequence": ("(0008,0016) UI [1.2]\n(fffe,e000) pi 01\\02\n", 2,
                                          "writes"),
    "no tag": ("hello\n", 1, "refuses"),
    "bad tag hex": ("(0010,001g) PN [x]\n", 1, "writes"),
    "bad tag 5 digits": ("(00100,0010) PN [x]\n", 1, "writes"),
    "bad tag no comma": ("(0010 0010) PN [x]\n", 1, "refuses"),
    "unknown VR": ("(0010,0010) XX [x]\n", 1, "writes"),
    "two capitals as value": ("(0008,0060) MR\n", 1, "writes"),
    "non-numeric US": ("(0028,0010) US abc\n", 1, "refuses"),
    "US with trailing junk": ("(0028,0010) US 17abc\n", 1, "writes"),
    "US out of range": ("(0028,0010) US 70000\n", 1, "writes"),
    "negative US (xs, no VR)": ("(0028,0106) -1\n", 1, "writes"),
    "SL out of range": ("(0018,6020) SL 99999999999\n", 1, "writes"),
    "hex FD": ("(0018,9087) FD 0x10\n", 1, "writes"),
    "empty number": ("(0018,1310) US 1\\\\2\n", 1, "refuses"),
    "hex too long": ("(0042,0011) OB 01\\100\n", 1, "writes"),
    "not hex": ("(0042,0011) OB zz\n", 1, "refuses"),
    "word too long": ("(0028,1201) OW 1\\fffff\n", 1, "writes"),
    "bad AT": ("(0020,5000) AT (0010,0010)x\n", 1, "writes"),
    "unterminated bracket": ("(0010,0010) PN [x\n(0010,0020) LO [y]\n", 1, "refuses"),
    "value shortened by dcmdump": ("(0010,0010) PN [abcdef...\n", 1, "refuses"),
    "not loaded": ("(0028,1201) OW (not loaded)\n", 1, "writes"),
    "angle bracket": ("(0010,0010) PN <x>\n", 1, "refuses"),
    "unknown UID name": ("(0008,0016) UI =NoSuchName\n", 1, "refuses"),
    "missing =file": ("(0028,1201) OW =no-such-file.raw\n", 1, "refuses"),
    "=file not a file": ("(0028,1201) OW =/dev/zero\n", 1, "refuses-hangs"),
    "sequence with a value": ("(0008,1140) SQ [x]\n", 1, "refuses"),
    "line too long": ("(0010,0010) PN [" + "A" * 5000 + "]\n", 1, "refuses"),
    "binary junk": ("\x00\x01\x02DICM\xff\xfe\n", 1, "writes"),   # DCMTK stops at the NUL
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case, tmp_path, capfd):
    text, line, _ = BAD[case]
    dump = write(tmp_path / "bad.dump", text)
    out = tmp_path / "out.dcm"
    assert ours([dump, out]) == 1
    err = capfd.readouterr().err
    errors = [l for l in err.splitlines() if l.startswith("E: ")]
    assert f"(line {line})" in errors[0], err
    assert errors[-1] == f"E: {len(errors) - 1} Errors found in {dump}", err
    assert not any(l.startswith(("F: ", "Traceback")) for l in err.splitlines()), err
    assert list(tmp_path.iterdir()) == [dump], "output or temporary file left behind"


@pytest.mark.parametrize("case", [c for c in BAD if BAD[c][2] != "refuses-hangs"])
def test_bad_input_dcmtk_behaviour(case, tmp_path):
    """What DCMTK 3.6.7 does with the same text (the deliberate differences): exit code 0
    always, and for some texts a file with silently changed (or unreadable) data."""
    text, _, verdict = BAD[case]
    dump = write(tmp_path / "bad.dump", text)
    out = tmp_path / "out.dcm"
    r = dcmtk([dump, out])
    assert r.rc == 0
    assert out.exists() == (verdict == "writes"), r.stderr


def test_bad_input_with_ignore_errors(tmp_path, capfd):
    """+E writes what could be read (the bad lines left out), as DCMTK does."""
    text = "(0008,0016) UI [1.2]\n(0010,0010) PN [x\n(0010,0020) LO [id]\n(0028,0010) US abc\n"
    dump = write(tmp_path / "bad.dump", text)
    theirs, mine = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    assert dcmtk(["+E", dump, theirs]).rc == 0
    assert ours(["+E", dump, mine]) == 0
    assert "E: 2 Errors found" in capfd.readouterr().err
    assert dataset_bytes(theirs.read_bytes()) == dataset_bytes(mine.read_bytes())


def test_bad_input_end_to_end(tmp_path):
    """The command line itself: one error line per problem, exit 1, no traceback, no file."""
    dump = write(tmp_path / "bad.dump", "(0028,0010) US 70000\n(0010,0010) PN [ok]\n(0010,0020) LO [\n")
    r = run(our_cmd("dump2dcm", [dump, tmp_path / "out.dcm"]))
    assert r.rc == 1
    assert r.stderr.decode().splitlines() == [
        f"E: dump2dcm: {dump}: 70000 is out of range for US (0..65535) (line 1)",
        f"E: dump2dcm: {dump}: value has no closing ']' (line 3)",
        f"E: 2 Errors found in {dump}"]
    assert list(tmp_path.iterdir()) == [dump]
    missing = tmp_path / "missing.dump"
    theirs = dcmtk([missing, tmp_path / "out.dcm"])
    r = run(our_cmd("dump2dcm", [missing, tmp_path / "out.dcm"]))
    assert r.rc == theirs.rc == 1 and r.stderr == theirs.stderr == \
        f"F: input file does not exist: {missing}\n".encode()
    # a directory as the dump: DCMTK reads nothing and writes an empty data set, exit 0
    assert dcmtk([tmp_path, tmp_path / "dcmtk.dcm"]).rc == 0
    r = run(our_cmd("dump2dcm", [tmp_path, tmp_path / "out.dcm"]))
    assert r.rc == 1 and b"Is a directory" in r.stderr
    assert not (tmp_path / "out.dcm").exists()


def test_write_error_as_dcmtk(tmp_path, capfd):
    dump = write(tmp_path / "ok.dump", "(0010,0010) PN [x]\n")
    target = tmp_path / "no" / "dir" / "x.dcm"
    r = dcmtk([dump, target])
    capfd.readouterr()
    assert ours([dump, target]) == r.rc == 1
    assert capfd.readouterr().err.encode() == r.stderr


# -- deliberate differences from DCMTK 3.6.7 ------------------------------------------------

def _both(tmp_path, text: str | bytes, *args) -> tuple[dict, dict]:
    """Convert with both tools; per tool, the data set read back by our reader."""
    dump = write(tmp_path / "in.dump", text)
    theirs, mine = tmp_path / "theirs.dcm", tmp_path / "ours.dcm"
    assert dcmtk([*args, dump, theirs]).rc == 0
    assert ours([*args, dump, mine]) == 0
    return dcmread(theirs), dcmread(mine)


def test_difference_float_digits(tmp_path):
    """DCMTK reads FD/OD text with its own imprecise conversion (17 digits printed by dcmdump
    come back different, denormals become 0): we read the exact double."""
    a, b = _both(tmp_path, "(0018,9079) FD 123456789.12345679\\4.9406564584124659e-324\n"
                           "(0066,0022) OD 9.9999999999999645e-311\\0.1\n")
    assert list(b[0x00189079].value) == [123456789.12345679, 4.9406564584124659e-324]
    assert list(a[0x00189079].value) == [123456789.12345681, 0.0]
    assert b[0x00660022].value[0] == 9.9999999999999645e-311 and a[0x00660022].value[0] == 0


def test_difference_backslash_n(tmp_path):
    """DCMTK turns every '\\n' inside brackets into CR LF, which breaks multi-valued strings
    whose next value starts with 'n' ('dcanon\\no identifiers'): we do that in LT/ST/UT only."""
    a, b = _both(tmp_path, "(0012,0063) LO [dcanon\\no identifiers]\n(0010,4000) LT [a\\nb]\n")
    assert bytes(b[0x00120063].raw) == b"dcanon\\no identifiers "
    assert bytes(a[0x00120063].raw) == b"dcanon\r\no identifiers "
    assert bytes(a[0x00104000].raw) == bytes(b[0x00104000].raw) == b"a\r\nb"


def test_difference_multiline_values(tmp_path):
    """dcmdump prints the line breaks of a value as they are; DCMTK cannot read such a line
    back (errors, no file): we join the lines up to the closing bracket."""
    text = b"(0008,0016) UI [1.2]\n(0040,a160) UT [first\r\nsecond\r\n]     # 15, 1 TextValue\n"
    dump = write(tmp_path / "in.dump", text)
    assert not (dcmtk([dump, tmp_path / "t.dcm"]).rc == 0 and (tmp_path / "t.dcm").exists())
    ds = read_dump(dump)
    assert bytes(ds[0x0040A160].raw) == b"first\r\nsecond\r\n "


def test_difference_lt_vr(tmp_path):
    """dcmdump shows 'lt' as the VR of LUT Data read in implicit VR; DCMTK's dump2dcm rejects
    its own output there: we take the dictionary's VR (OW), as for the other internal VRs."""
    text = "(0028,3006) lt 0001\\0002\n"
    dump = write(tmp_path / "in.dump", text)
    r = dcmtk([dump, tmp_path / "t.dcm"])
    assert b"Corrupted data (line 1)" in r.stderr and not (tmp_path / "t.dcm").exists()
    ds = read_dump(dump)
    assert ds[0x00283006].vr == "OW" and list(ds[0x00283006].value) == [1, 2]


def test_difference_trailing_padding_kept(tmp_path):
    """DCMTK drops Data Set Trailing Padding from the dump even with -p= ('do not change
    padding'); we keep it (-p drops it, +p makes new)."""
    text = "(0008,0016) UI [1.2]\n(fffc,fffc) OB 00\\00\\00\\00\n"
    a, b = _both(tmp_path, text)
    assert 0xFFFCFFFC not in a and bytes(b[0xFFFCFFFC].raw) == b"\0" * 4
    a, b = _both(tmp_path, text, "-p")
    assert 0xFFFCFFFC not in a and 0xFFFCFFFC not in b


def test_difference_duplicates_warned(tmp_path, capfd):
    """Both keep the first of two lines with the same tag; DCMTK says nothing, we warn."""
    a, b = _both(tmp_path, "(0010,0010) PN [first]\n(0010,0010) PN [second]\n")
    assert a[0x00100010].value == b[0x00100010].value == "first"
    assert "W: duplicate element (0010,0010) on line 2: keeping the one from line 1" in \
        capfd.readouterr().err


def test_line_length_limit(tmp_path, capfd):
    """+l m: DCMTK reads lines into m bytes with the line end; a line of m - 1 characters
    gets 'line too long' from DCMTK (which then reads it whole): for us it is an error."""
    for length, ok in ((4094, True), (4095, False)):
        text = "(0010,0010) PN [" + "A" * (length - 17) + "]\n"
        dump = write(tmp_path / f"l{length}.dump", text)
        r = dcmtk([dump, tmp_path / f"t{length}.dcm"])
        assert (b"line 1 too long" in r.stderr) != ok
        capfd.readouterr()
        assert ours([dump, tmp_path / f"o{length}.dcm"]) == (0 if ok else 1)
        assert ("line too long" in capfd.readouterr().err) != ok
    assert ours(["+l", "5000", tmp_path / "l4095.dump", tmp_path / "o.dcm"]) == 0


# -- the library ----------------------------------------------------------------------------

def test_library_api(tmp_path):
    import dcmpy
    text = "(0002,0010) UI =LittleEndianImplicit\n(0010,0010) PN [Doe^Jane]\n(0028,0010) US 512\n"
    for source in (text, text.encode()):
        ds = dcmpy.parse_dump(source)
        assert ds.PatientName == "Doe^Jane" and ds.Rows == 512
        assert ds.transfer_syntax.uid == "1.2.840.10008.1.2"
        assert ds.file_meta[0x00020010].value == "1.2.840.10008.1.2"
    path = write(tmp_path / "x.dump", text)
    assert dcmpy.read_dump(path).Rows == 512
    with open(path, "rb") as f:
        assert dcmpy.read_dump(f).Rows == 512
    assert dcmpy.read_dump(path, DumpReadOptions(read_meta=False)).transfer_syntax is None
    with pytest.raises(DumpError) as info:
        parse_dump("(0010,0010) PN [ok]\n(0028,0010) US x\n(0028,0011) US 1\n")
    err = info.value
    assert isinstance(err, DicomError)
    assert err.line == 2 and err.count == 1 and err.errors == [(2, "'x' is not an integer for US")]
    assert str(err) == "'x' is not an integer for US (line 2)"
    assert [e.tag for e in err.partial] == [0x00100010, 0x00280011]


# -- mutations: any text is a data set or a DumpError, never anything else ------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

MUTATION_BASES = [corpus.DUMPS[k] for k in ("allvr", "private", "empty_sq", "nested3")] + \
    [META_DUMP, PIXSEQ_DUMP.replace("=frag.bin", "01\\02"), Path(WORKLIST_DUMPS[0]).read_text("latin-1")]
JUNK = ["(", ")", "[", "]", "\\", "#", "=", "<", "(fffe,e000) na", "(fffe,e00d)", "(fffe,e0dd)",
        " SQ", " pi ", " OW ", " US ", "\n", "\r", "\0", "\xff", "(7fe0,0010) OB (PixelSequence",
        "(no value available)", "...", "-1", "99999999999999999999", "nan", "1e999", "lt", "??"]


@st.composite
def mutated_dump(draw) -> bytes:
    lines = draw(st.sampled_from(MUTATION_BASES)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "swap", "duplicate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "insert":
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.sampled_from(JUNK) | st.text(max_size=6)) + lines[i][j:]
        elif kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "replace" and lines[i]:
            j = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:j] + draw(st.sampled_from(JUNK)) + lines[i][j + 1:]
        elif kind == "swap":
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        else:
            lines.insert(i, lines[i])
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated_dump())
def test_mutated_dumps(text: bytes) -> None:
    """A mutated dump parses and writes, or raises DumpError naming lines of the text (its
    partial data set writes too); writing raises at most DicomWriteError."""
    from dcmpy.dcmdata.dumpparse import complete_file_meta
    from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions, dcmwrite
    _diag.set_sink(lambda message: None)
    try:
        try:
            ds = parse_dump(text)
        except DumpError as exc:
            assert 1 <= exc.line <= text.count(b"\n") + 1 and exc.count >= len(exc.errors) >= 1
            assert all("\n" not in message for _, message in exc.errors)
            ds = exc.partial
        complete_file_meta(ds)
        ts = ds.transfer_syntax.uid if ds.transfer_syntax else None
        try:
            data = dcmwrite(None, ds, WriteOptions(transfer_syntax=ts, update_meta=False))
        except DicomWriteError:
            return
        dcmread(data)
    finally:
        _diag.set_sink(None)
