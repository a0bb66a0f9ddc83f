"""dcmodify against DCMTK's dcmodify 3.6.7: the same files, options and operations must give the
same files (compared as /usr/bin/dcmdump text and as data set bytes), exit codes and error lines.

* the matrix: each operation set runs once with DCMTK and once with ours over copies of ~40
  corpus files (implicit, explicit, big endian, deflated, compressed, bare data sets, private
  and nested data); one test per (operation set, file);
* error cases: single operations on one file, DCMTK against ours (in-process for speed);
* files and flows: several files, backups, ``+fc``, verbose output, bad input files;
* ``DIFFERENCES``: where DCMTK 3.6.7 is wrong and we are not, each with a check of both.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import resource
import shutil
import signal
import subprocess
import zlib
from functools import lru_cache
from pathlib import Path

import pytest

import corpus
from conftest import compact_diff, dcmtk_cmd, finish, our_cmd, run, split_batch, start, tool_env

from dcmpy.dcmdata.reader import dcmread
from dcmpy.dcmdata.uid import is_valid_uid

MATRIX_FILES = [
    "pd__CT_small.dcm", "pd__MR_small.dcm", "pd__MR_small_bigendian.dcm", "pd__MR_small_implicit.dcm",
    "pd__rtplan.dcm", "pd__test-SR.dcm", "pd__waveform_ecg.dcm", "pd__priv_SQ.dcm",
    "pd__nested_priv_SQ.dcm", "pd__ExplVR_BigEndNoMeta.dcm", "pd__ExplVR_LitEndNoMeta.dcm",
    "pd__image_dfl.dcm", "pd__reportsi.dcm", "pd__rtstruct.dcm", "pd__examples_overlay.dcm",
    "pd__JPEG2000.dcm", "pd__SC_rgb_rle.dcm", "pd__UN_sequence.dcm", "cs__chrH31.dcm",
    "cs__chrSQEncoding.dcm", "cs__chrX1.dcm", "cv__CT_small__ti.dcm", "cv__CT_small__tb.dcm",
    "cv__CT_small__td.dcm", "cv__CT_small__te_undef.dcm", "cv__CT_small__ti_bare.dcm",
    "cv__rtplan__tb.dcm", "cv__rtplan__ti_undef_gl.dcm", "cv__test-SR__te_undef.dcm",
    "gd__rtplan__deflated.dcm", "gd__MR_small__implicit.dcm", "dump__allvr__te.dcm",
    "dump__allvr__tb_undef.dcm", "dump__allvr__ti.dcm", "dump__private__te.dcm",
    "dump__private__ti.dcm", "dump__nested3__te_undef.dcm", "dump__nested50__tb_undef.dcm",
    "dump__repeating__te.dcm", "dump__empty_sq__ti.dcm", "cmp__CT_small__rle.dcm",
    "cmp__CT_small__jpls.dcm", "dir__dcmgpdir_DICOMDIR", "hand__numbers.dcm",
]

# value files for -if/-mf (written into each run's directory)
VALUE_FILES = {"v4.bin": b"ABCD", "v5.bin": b"ABCDE", "text.bin": b"from a file   ",
               "odd.bin": b"odd length", "empty.bin": b""}

# operation sets: name -> dcmodify arguments (without the file names)
OPSETS: dict[str, list[str]] = {
    "modify": ["-imt", "-m", "PatientName=Doe^Jane", "-m", "PatientID=ID 42",
               "-m", "(0008,1030)=Modified"],
    "insert": ["-i", "PatientName=Doe^Jane", "-i", "(0010,0020)=X42", "-i", "AccessionNumber=A1",
               "-i", "(0008,0050)=A2", "-i", "InstitutionName=  Hospital  "],
    "numbers": ["-i", "Rows=12", "-i", "AcquisitionMatrix=0\\256\\256\\0", "-i", "(0018,6020)=-5",
                "-i", "(0018,9087)=1.5", "-i", "(0020,5000)=(0010,0010)\\(7fe0,0010)",
                "-i", "PixelSpacing=0.5\\0.5", "-i", "(0018,9089)=0.1\\-2.25\\1e3",
                "-i", "(0072,0082)=-1\\9223372036854775807"],
    "binary": ["-i", "(0042,0011)=25\\50\\44\\46\\2d", "-i", "(0028,1201)=1\\ff\\abcd",
               "-i", "(0066,0040)=1\\4294967295", "-i", "(0018,1638)=0.5\\-1"],
    "sequences": ["-i", "(0008,1140)[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2",
                  "-i", "(0008,1140)[0].(0008,1155)=1.2.3.4", "-i", "(0008,1140)[2].(0008,1155)=1.2.3.6",
                  "-i", "(0040,a730)[1].(0040,a730)[0].(0040,a040)=TEXT"],
    "wildcards": ["-i", "(0008,1140)[1].(0008,1155)=1.2", "-i",
                  "(0008,1140)[*].(0008,1150)=1.2.840.10008.5.1.4.1.1.7", "-imt",
                  "-m", "(0040,a730)[*].(0040,a010)=CONTAINS", "-m", "(300a,00b0)[*].(300a,00b2)=M1"],
    "erase": ["-imt", "-e", "PatientName", "-e", "(0008,0020)", "-e", "(0008,1140)[0]",
              "-e", "(0040,a730)[*].(0040,a010)", "-e", "(300a,0010)[*]"],
    "all-levels": ["-imt", "-ma", "CodeValue=X1", "-ma", "(0008,1155)=1.2.3.4.5",
                   "-ea", "(0008,0104)", "-ea", "ReferencedSOPClassUID"],
    "private": ["-imt", "-i", "(0009,0010)=DCMPY TEST", "-i", "(0009,1001)=0a\\0b",
                "-i", "(0033,0010)=DCMPY", "-i", "(0033,1001)=ab\\cd", "-nrc", "-i", "(0035,1001)=01",
                "-m", "(0029,1018)=CT"],
    "erase-private": ["-ep"],
    "keywords": ["-i", "ReferencedImageSequence[0].ReferencedSOPInstanceUID=1.2.3",
                 "-i", "OverlayRows=4", "-i", "RETIRED_SourceImageIDs=A", "-i", "0008,0080=Inst"],
    "uids": ["-gst", "-gse", "-gin"],
    "from-file": ["-if", "(0042,0011)=v4.bin", "-if", "(0028,0010)=v4.bin",
                  "-if", "PatientComments=text.bin", "-if", "(0018,7036)=v4.bin",
                  "-if", "(0010,2160)=empty.bin", "-imt", "-mf", "(0008,0070)=v4.bin"],
    "un-values": ["-iun", "-imt", "-i", "(0008,9999)=ab", "-m", "(0099,1001)=ee",
                  "-i", "(0011,1001)=ff"],
    "uid-spaces": ["-i", "(0008,1150)=1.2 .3", "-i", "(0040,a124)= 1.2.3 "],
    "+te": ["-imt", "-m", "PatientName=X", "+te"],
    "+tb": ["-imt", "-m", "PatientName=X", "+tb"],
    "+ti -le +g": ["-imt", "-m", "PatientName=X", "+ti", "-le", "+g"],
    "-F": ["-imt", "-m", "PatientName=X", "-F"],
    "-p= -g": ["-p=", "-g"],
    "nothing": [],
}
UID_OPSETS = {"uids"}
_UID_LINES = re.compile(rb"^ *\((0002,0003|0008,0018|0020,000d|0020,000e|[0-9a-f]{4},0000)\).*$",
                        re.M)   # generated UIDs: their values and the group lengths they change
_IMPL_LINES = re.compile(rb"^\((0002,0000|0002,0012|0002,0013)\).*$", re.M)
_META_UID_LINES = re.compile(rb"^\((0002,0002|0002,0003)\).*$", re.M)
_DIR_OFFSETS = re.compile(rb"offset=\$[0-9]+")


@lru_cache(maxsize=None)
def _has_sop_uids(name: str) -> bool:
    """True if the top-level data set has UI SOP Class and Instance UIDs (else DCMTK invents
    the meta header's, see DIFFERENCES['meta-uids'])."""
    ds = dcmread(corpus.CORPUS_DIR / name)
    return all(ds.get(t) is not None and ds[t].vr == "UI" and ds[t].value
               for t in (0x00080016, 0x00080018))


def _dataset_bytes(path: Path) -> bytes:
    """The data set bytes of a file (inflated if deflated), or the whole of a bare data set."""
    data = path.read_bytes()
    if data[128:132] != b"DICM":
        return data
    body = data[144 + int.from_bytes(data[140:144], "little"):]
    if b"1.2.840.10008.1.2.1.99" in data[132:144 + int.from_bytes(data[140:144], "little")]:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body)
    return body


def _normalized_dump(chunk: bytes | None, name: str, uids: bool) -> bytes | None:
    if chunk is None:
        return None
    chunk = _IMPL_LINES.sub(b"(implementation)", chunk)
    chunk = _DIR_OFFSETS.sub(b"offset=$", chunk)   # DICOMDIR records: after our longer meta
    if not _has_sop_uids(name):
        chunk = _META_UID_LINES.sub(b"(meta uid)", chunk)
    if uids:
        chunk = _UID_LINES.sub(b"(generated uid)", chunk)
    return chunk


def _file_lines(stderr: bytes, name: str) -> list[bytes]:
    """Our and DCMTK's messages about one file (modification errors and value warnings)."""
    lines = []
    current = None
    for line in stderr.splitlines():
        m = re.match(rb"E: (?:modifying tag in file|unable to load file) (.*?):", line)
        if m:
            current = m.group(1).decode()
        if line.startswith(b"W: DcmItem") or line.startswith(b"W: Found element"):
            continue        # DCMTK's parser warnings (we do not print those)
        if line.startswith((b"E: ", b"W: ")) and current == name:
            lines.append(line)
    return lines


class _Matrix:
    """Runs one operation set with both tools over copies of MATRIX_FILES (once per session)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results: dict[str, dict] = {}

    def get(self, opset: str) -> dict:
        if opset not in self.results:
            self.results[opset] = self._run(opset)
        return self.results[opset]

    def _run(self, opset: str) -> dict:
        dirs = {side: self.root / f"{side}-{opset.replace(' ', '_')}" for side in ("dcmtk", "ours")}
        for d in dirs.values():
            d.mkdir()
            for name in MATRIX_FILES:
                shutil.copy(corpus.CORPUS_DIR / name, d / name)
            for name, data in VALUE_FILES.items():
                (d / name).write_bytes(data)
        args = ["-nb", "-ie", *OPSETS[opset], *MATRIX_FILES]
        procs = {"dcmtk": start(dcmtk_cmd("dcmodify", args), cwd=dirs["dcmtk"]),
                 "ours": start(our_cmd("dcmodify", args), cwd=dirs["ours"])}
        mods = {side: finish(p) for side, p in procs.items()}
        dumps = {side: start(dcmtk_cmd("dcmdump", ["+F", *MATRIX_FILES]), cwd=d)
                 for side, d in dirs.items()}
        texts = {side: split_batch(finish(p).stdout, MATRIX_FILES) for side, p in dumps.items()}
        return {"mods": mods, "dumps": texts, "dirs": dirs}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> _Matrix:
    return _Matrix(tmp_path_factory.mktemp("dcmodify-matrix"))


@pytest.mark.parametrize("opset", list(OPSETS))
def test_matrix_exit_codes(matrix, opset):
    mods = matrix.get(opset)["mods"]
    assert mods["ours"].rc == mods["dcmtk"].rc, (mods["dcmtk"].stderr[-800:], mods["ours"].stderr[-800:])


@pytest.mark.parametrize("name", MATRIX_FILES)
@pytest.mark.parametrize("opset", list(OPSETS))
def test_matrix(matrix, opset, name):
    res = matrix.get(opset)
    uids = opset in UID_OPSETS
    want = _normalized_dump(res["dumps"]["dcmtk"][name], name, uids)
    got = _normalized_dump(res["dumps"]["ours"][name], name, uids)
    assert want is not None and got == want, compact_diff(want or b"", got or b"")
    assert _file_lines(res["mods"]["ours"].stderr, name) == \
        _file_lines(res["mods"]["dcmtk"].stderr, name)
    ours, theirs = (_dataset_bytes(d / name) for d in (res["dirs"]["ours"], res["dirs"]["dcmtk"]))
    if uids:
        ds = dcmread(res["dirs"]["ours"] / name)
        new = [ds[t].value for t in (0x0020000D, 0x0020000E, 0x00080018)]
        assert all(is_valid_uid(u) and u.startswith("2.25.") for u in new)
        assert ds.file_meta[0x00020003].value == new[2] or not ds.has_meta
    else:
        assert ours == theirs, "data set bytes differ"


def test_matrix_uids_unique(matrix):
    """Each file gets its own new UIDs (as DCMTK: generated per file, not once per run)."""
    d = matrix.get("uids")["dirs"]["ours"]
    uids = [dcmread(d / n)[t].value for n in MATRIX_FILES for t in (0x0020000D, 0x00080018)]
    assert len(set(uids)) == len(uids) == 2 * len(MATRIX_FILES)


def test_matrix_pydicom_reads_ours(matrix):
    """pydicom reads every file we modified and sees the inserted sequence values."""
    import pydicom
    d = matrix.get("sequences")["dirs"]["ours"]
    for name in MATRIX_FILES:
        ds = pydicom.dcmread(d / name, force=True)
        seq = ds.ReferencedImageSequence
        assert len(seq) >= 3 and seq[0].ReferencedSOPInstanceUID == "1.2.3.4", name
        assert seq[2].ReferencedSOPInstanceUID == "1.2.3.6", name


# ---------------------------------------------------------------------------------------------
# error cases: one file, DCMTK against ours (ours in-process)

def run_ours(args: list[str], cwd: Path) -> tuple[int, bytes]:
    """Our dcmodify's main() in this process: (exit code, stderr)."""
    from dcmpy import _diag
    from dcmpy.apps import _cmdline, dcmodify
    err = io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    _diag.set_sink(_cmdline.log.warn)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = dcmodify.main([str(a) for a in args])
            except SystemExit as exc:
                rc = exc.code
    finally:
        os.chdir(old)
        _diag.set_sink(None)
    return rc, err.getvalue().encode()


CASES: list[tuple[str, list[str]]] = [(f, a) for f, a in [
    ("ct", ["-m", "(0010,2160)=X"]), ("ct", ["-m", "(0010,2160)=X", "-imt"]),
    ("ct", ["-e", "(0010,2160)"]), ("ct", ["-ea", "(0010,2160)"]), ("ct", ["-ma", "(0010,2160)=X"]),
    ("ct", ["-m", "(0010,2160)=X", "-ie", "-m", "(0010,2161)=Y"]),
    ("ct", ["-m", "Foo=1"]), ("ct", ["-m", "(0010,0010"]), ("ct", ["-i", "=X"]),
    ("ct", ["-m", "(0008,1140)[0].(0008,1150)=1.2"]), ("ct", ["-i", "(0008,1140)[*].(0008,1150)=1"]),
    ("ct", ["-i", "(0008,1140)=x"]), ("ct", ["-i", "(0008,1140)[*]"]), ("ct", ["-e", "(0008,1140)[0]"]),
    ("ct", ["-i", "PatientName[0].PatientName=A"]), ("ct", ["-m", "PatientName[0].PatientID=x"]),
    ("ct", ["-m", "PatientName[0].PatientID=x", "-imt"]), ("ct", ["-e", "PatientName[0]"]),
    ("ct", ["-i", "(0008,1140)[x].PatientName=A"]), ("ct", ["-i", "(0008,1140)[-1].PatientName=A"]),
    ("ct", ["-i", "(0008,1140).PatientName=A"]), ("ct", ["-i", "(0008,1140)[0].PatientName.=A"]),
    ("ct", ["-i", "(0008,1140)[0]..PatientName=A"]), ("ct", ["-i", "(0008,1140)[].PatientName=A"]),
    ("ct", ["-i", "(0008,1140)[0"]), ("ct", ["-i", "patientname=A"]), ("ct", ["-i", " (0008,0010)=A"]),
    ("ct", ["-i", "(gggg,0010)=A"]), ("ct", ["-i", "(0008,1140) [0].PatientID=A"]),
    ("ct", ["-i", "(8 ,10)=A"]), ("ct", ["-i", "(0008, 0010)=A"]), ("ct", ["-i", "8,10=A"]),
    ("ct", ["-i", "Rows=abc"]), ("ct", ["-i", "Rows=-1"]), ("ct", ["-i", "Rows=70000"]),
    ("ct", ["-i", "Rows= 12"]), ("ct", ["-i", "Rows="]), ("ct", ["-i", "PatientName"]),
    ("ct", ["-e", "PatientName=X"]), ("ct", ["-i", "(0001,0010)=x"]), ("ct", ["-i", "(0002,0016)=x"]),
    ("ct", ["-e", "(0002,0016)"]), ("ct", ["-ea", "(0002,0016)"]), ("ct", ["-ma", "(0002,0016)=X"]),
    ("ct", ["-i", "(0000,0010)=x"]), ("ct", ["-i", "(0008,0000)=5"]), ("ct", ["-i", "(fffe,e000)=5"]),
    ("ct", ["-i", "(ffff,0016)=X"]), ("ct", ["-i", "Item=1"]), ("ct", ["-i", "(0011,0000)=5"]),
    ("ct", ["-i", "(0008,1140)[0].(0002,0016)=X"]), ("ct", ["-i", "(0002,0016)[0].PatientID=X"]),
    ("ct", ["-i", "GenericGroupLength=1"]), ("ct", ["-ma", "Foo=1"]), ("ct", ["-ma", "PatientID"]),
    ("ct", ["-m", "(0008,0018)="]), ("ct", ["-ma", "(7fe0,0010)=1"]), ("ct", ["-m", "SOPInstanceUID=1.2.3 "]),
    ("ct", ["-if", "(0010,0010)="]), ("ct", ["-if", "(0010,0010)"]), ("ct", ["-if", "(0010,0010)=."]),
    ("ct", ["-if", "(0010,0010)=nonexist.bin"]), ("ct", ["-if", "PixelData=v5.bin"]),
    ("ct", ["-if", "(0008,1140)=v4.bin"]), ("ct", ["-mf", "(0010,2160)=v4.bin"]),
    ("ct", ["-i", "(0031,1005)=0a"]), ("ct", ["-i", "(0031,1005)=0a", "-nrc"]),
    ("ct", ["-i", "(0031,0010)=", "-i", "(0031,1001)=ab"]), ("ct", ["-i", "(0029,000f)=ab"]),
    ("ct", ["-i", "(0029,0100)=ab"]), ("ct", ["-i", "(0008,9999)=hello"]),
    ("ct", ["-i", "(0008,9999)=hello", "-iun"]), ("ct", ["-i", "(0099,1005)[0].(0099,1001)=x"]),
    ("ct", ["-i", "(0008,1140)[1].PatientID=x", "-m", "(0008,1140)[0]"]),
    ("ct", ["-i", "(0008,1140)[1].PatientID=x", "-m", "(0008,1140)[0]=y"]),
    ("ct", ["-i", "(0008,1140)[1].PatientID=x", "-m", "(0008,1140)="]),
    ("ct", ["-i", "(0008,1140)[1].PatientID=x", "-e", "(0008,1140)[2]"]),
    ("ct", ["-m", "(0008,1140)[*].PatientID=x"]), ("ct", ["-e", "(0008,1140)[*].PatientID"]),
    ("ct", ["-gin", "-m", "SOPInstanceUID=1.2"]),
    ("allvr", ["-m", "(0018,7036)=1.25\\abc"]), ("allvr", ["-m", "(0020,5000)=0010,0020"]),
    ("allvr", ["-m", "(0020,5000)=( 0010 , 0020 )"]), ("allvr", ["-m", "(0028,1201)=zz"]),
    ("allvr", ["-m", "(0042,0011)=1\\\\2"]), ("allvr", ["-m", "(0018,1310)=1\\"]),
    ("allvr", ["-m", "(0018,1310)= "]), ("allvr", ["-m", "(0018,9087)=e5"]),
    ("allvr", ["-m", "(0072,006d)=hello"]), ("allvr", ["-m", "(0072,006d)=1\\2\\3"]),
    ("allvr", ["-m", "(0018,1638)=1.5\\2"]), ("allvr", ["-m", "(0018,9087)=-1e-400"]),
    ("allvr", ["-m", "(0072,0083)=18446744073709551616"]), ("allvr", ["-m", "(0040,a162)=-2147483649"]),
    ("allvr", ["-m", "(0010,0010)=\u00c4\u00d6"]), ("allvr", ["-m", "(0008,0120)=  A  \\  B  "]),
    ("allvr", ["-m", "(0008,0018)=  1.2  \\  3  "]), ("allvr", ["-mf", "(0010,2160)=text.bin"]),
    ("allvr", ["-m", "(0008,0008)=abcdefghijklmnopqrstuvwxyz"]), ("allvr", ["-u", "-i", "Rows=3"]),
    ("allvr", ["-if", "(0010,4000)=odd.bin"]), ("allvr", ["-mf", "(0010,4000)=text.bin"]),
    ("priv", ["-i", "(0029,1030)=CT"]), ("priv", ["-i", "(0011,1005)=xyz"]),
    ("priv", ["-i", "(0031,0010)=SIEMENS CSA HEADER", "-i", "(0031,1008)=AB"]),
    ("priv", ["-m", "(0099,1001)=ee", "-iun"]), ("priv", ["-i", "(0009,0010)=X"]),
    ("priv", ["-i", "(0009,0011)=GEMS_IDEN_01", "-i", "(0009,1104)=ab"]),
    ("priv", ["-i", "(0008,1140)[0].(0011,1001)=ab"]), ("priv", ["-e", "(0099,1003)"]),
    ("priv", ["-ea", "(0099,1001)", "-ea", "(0099,0010)"]), ("priv", ["-nrc", "-i", "(0009,1004)=CT"]),
]]
CASE_FILES = {"ct": "pd__CT_small.dcm", "allvr": "dump__allvr__te.dcm", "priv": "dump__private__te.dcm"}


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{f}:{' '.join(a)}" for f, a in CASES])
def test_error_case(case, tmp_path):
    key, args = CASES[case]
    name = CASE_FILES[key]
    results = {}
    for side in ("dcmtk", "ours"):
        d = tmp_path / side
        d.mkdir()
        shutil.copy(corpus.CORPUS_DIR / name, d / "x.dcm")
        for value_file, data in VALUE_FILES.items():
            (d / value_file).write_bytes(data)
        argv = ["-nb", *args, "x.dcm"]
        if side == "dcmtk":
            r = run(dcmtk_cmd("dcmodify", argv), cwd=d)
            results[side] = (r.rc, r.stderr)
        else:
            results[side] = run_ours(argv, d)
    (rc_a, err_a), (rc_b, err_b) = results["dcmtk"], results["ours"]
    assert (rc_b, err_b.decode()) == (rc_a, err_a.decode())
    dumps = [_normalized_dump(run(dcmtk_cmd("dcmdump", ["x.dcm"]), cwd=tmp_path / s).stdout,
                              name, "-gin" in args) for s in ("dcmtk", "ours")]
    assert dumps[1] == dumps[0], compact_diff(dumps[0], dumps[1])
    if "-gin" not in args:
        assert _dataset_bytes(tmp_path / "ours" / "x.dcm") == _dataset_bytes(tmp_path / "dcmtk" / "x.dcm")


# ---------------------------------------------------------------------------------------------
# command line, several files, backups, new files, bad input (both tools as processes)

def test_help_matches_dcmtk():
    theirs = run(dcmtk_cmd("dcmodify", ["--help"])).stdout.splitlines()
    ours = run(our_cmd("dcmodify", ["--help"])).stdout.splitlines()
    assert ours[1:] == theirs[1:] and ours[0].startswith(b"$dcmpy: dcmodify v")
    assert run(our_cmd("dcmodify", [])).stdout.splitlines()[1:] == theirs[1:]


@pytest.mark.parametrize("args, message", [
    (["+fc", "-F", "-i", "PatientName=X", "new.dcm"], b"error: --write-dataset not allowed with --create-file"),
    (["-m"], b"error: Missing value for option --modify"),
    (["-nb", "-ep"], b"error: Missing parameter dcmfile-in"),
    (["--no-such-option", "x.dcm"], b"error: Unknown option --no-such-option"),
])
def test_command_line_errors(args, message, tmp_path):
    for cmd in (dcmtk_cmd, our_cmd):
        rc, _, err = run(cmd("dcmodify", args), cwd=tmp_path)
        assert rc == 1 and err.splitlines()[-1] == message
    assert list(tmp_path.iterdir()) == []


def _copies(tmp_path: Path, names: dict[str, str]) -> dict[str, Path]:
    """Two directories with the same files (name -> corpus file or '' for a missing one)."""
    dirs = {}
    for side in ("dcmtk", "ours"):
        d = dirs[side] = tmp_path / side
        d.mkdir()
        for target, source in names.items():
            if source:
                shutil.copy(corpus.CORPUS_DIR / source, d / target)
    return dirs


def _state(d: Path) -> dict[str, str]:
    """What a directory holds: file name -> hash of its data set (meta headers differ)."""
    return {p.name: hashlib.sha1(_dataset_bytes(p)).hexdigest()[:12] if p.is_file() else "dir"
            for p in sorted(d.iterdir())}


def _both(tmp_path: Path, names: dict[str, str], args: list[str], verbose_filter: bool = False):
    dirs = _copies(tmp_path, names)
    files = list(names)
    res = {"dcmtk": run(dcmtk_cmd("dcmodify", [*args, *files]), cwd=dirs["dcmtk"]),
           "ours": run(our_cmd("dcmodify", [*args, *files]), cwd=dirs["ours"])}
    if verbose_filter:   # the backup lines differ in order on purpose (see DIFFERENCES)
        for r in res.values():
            r.stderr = b"\n".join(l for l in r.stderr.splitlines()
                                  if b"backup" not in l)
    return res, {side: _state(d) for side, d in dirs.items()}


THREE = {"a.dcm": "pd__CT_small.dcm", "b.dcm": "dump__private__te.dcm", "c.dcm": "dump__allvr__te.dcm"}


@pytest.mark.parametrize("args", [
    ["-m", "PatientName=Q"],                                   # error in b: c is not saved either
    ["-gst", "-e", "(0010,2160)", "-m", "PatientName=Z"],     # errors in a and b
    ["-ie", "-m", "PatientID=Q", "-e", "(0010,2160)"],        # -ie: every file saved
    ["-nb", "-m", "PatientName=Q", "-imt"],
    ["-nb", "-q", "-e", "(0010,2160)"],
    ["-v", "-m", "PatientName=Q", "-imt"],
    ["-v", "-nb", "-ie", "-m", "PatientID=Q", "-e", "(0010,2160)"],
    ["-v", "-e", "(0010,2160)", "-m", "PatientName=Z"],
])
def test_several_files(args, tmp_path):
    res, state = _both(tmp_path, THREE, args, verbose_filter="-v" in args)
    assert res["ours"].rc == res["dcmtk"].rc
    assert res["ours"].stderr.decode() == res["dcmtk"].stderr.decode()
    if "-gst" not in args:
        assert state["ours"] == state["dcmtk"]
    else:
        assert state["ours"].keys() == state["dcmtk"].keys()


@pytest.mark.parametrize("names, args", [
    ({"nonexist.dcm": "", "a.dcm": "pd__CT_small.dcm"}, ["-m", "PatientName=Z"]),
    ({"nonexist.dcm": "", "a.dcm": "pd__CT_small.dcm"}, ["-ie", "-m", "PatientName=Z"]),
    ({"empty.dcm": "hand__empty.dcm"}, ["-m", "PatientName=Z"]),
    ({"text.dcm": "hand__text.txt", "a.dcm": "pd__CT_small.dcm"}, ["-ie", "-m", "PatientName=Z"]),
    ({"trunc.dcm": "hand__trunc_value.dcm"}, ["-m", "PatientName=Z"]),
    ({"trunc.dcm": "hand__trunc_in_sequence.dcm"}, ["-ie", "-m", "PatientName=Z"]),
    ({"bare.dcm": "cv__CT_small__ti_bare.dcm"}, ["+fo", "-m", "PatientName=Z"]),
    ({"with space ü.dcm": "pd__CT_small.dcm"}, ["-m", "PatientName=Z"]),
])
def test_bad_input_files(names, args, tmp_path):
    """A file that cannot be read is reported (E: unable to load file <name>: <reason>), counted,
    and left as it is; the reason is our reader's (offset and tag), DCMTK's is its own."""
    res, state = _both(tmp_path, names, args)
    assert res["ours"].rc == res["dcmtk"].rc
    pattern = re.compile(rb"^(E: unable to load file [^:]*): .*$", re.M)
    errors = [b"\n".join(l for l in pattern.sub(rb"\1", r.stderr).splitlines()   # not DCMTK's
                         if not l.startswith((b"W: ", b"E: Dcm")))                   # parser's
              for r in (res["ours"], res["dcmtk"])]
    assert errors[0] == errors[1]
    assert state["ours"] == state["dcmtk"]
    for name, source in names.items():
        if source and b"unable to load file " + name.encode() in res["ours"].stderr:
            assert (tmp_path / "ours" / name).read_bytes() == (corpus.CORPUS_DIR / source).read_bytes()


def test_hostile_paths(tmp_path):
    """Very long or deep paths: a clean error, the file untouched and no temporary file (a data
    set nested beyond what the writer can recurse into is refused; DCMTK writes it)."""
    d = tmp_path / "ours"
    d.mkdir()
    original = (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()
    (d / "x.dcm").write_bytes(original)
    deep = "(0008,1140)[0]." * 20000 + "PatientID"
    for args, message in ((["-e", deep], b"Tag not found"),
                          (["-i", deep + "=x"], b"couldn't save file x.dcm: data set nested too deeply"),
                          (["-i", "(0008,1140)[" + "9" * 5000 + "]"], b"Item number too large"),
                          (["-i", "(0008,1140)[4294967295]"], b"Cannot insert more than"),
                          (["-m", "(" * 100000], b"Unable to parse tag")):
        rc, err = run_ours(["-nb", *args, "x.dcm"], d)
        assert rc == 1 and message in err.splitlines()[0], err[:300]
        assert (d / "x.dcm").read_bytes() == original
        assert [p.name for p in d.iterdir()] == ["x.dcm"]


def test_backup_is_the_original_file(tmp_path):
    """The .bak file is the original itself (same inode, as DCMTK's rename leaves it); an older
    .bak is replaced; the modified file is a new file."""
    dirs = _copies(tmp_path, {"a.dcm": "pd__CT_small.dcm"})
    for side, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        target = dirs[side] / "a.dcm"
        (dirs[side] / "a.dcm.bak").write_bytes(b"old backup")
        inode = target.stat().st_ino
        assert run(cmd("dcmodify", ["-m", "PatientName=Q", "a.dcm"]), cwd=dirs[side]).rc == 0
        bak = dirs[side] / "a.dcm.bak"
        assert bak.stat().st_ino == inode and bak.read_bytes() == \
            (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()
        assert target.stat().st_ino != inode
    assert _state(dirs["ours"]) == _state(dirs["dcmtk"])


def test_backup_failure_leaves_the_file(tmp_path):
    """A backup that cannot be made (a directory in the way) is an error; the file stays."""
    dirs = _copies(tmp_path, {"a.dcm": "pd__CT_small.dcm"})
    for side, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        (dirs[side] / "a.dcm.bak" / "x").mkdir(parents=True)
        rc, _, err = run(cmd("dcmodify", ["-m", "PatientName=Q", "a.dcm"]), cwd=dirs[side])
        assert rc == 1 and b"E: unable to" in err and b"backup" in err
        assert (dirs[side] / "a.dcm").read_bytes() == (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()
        assert sorted(p.name for p in dirs[side].iterdir()) == ["a.dcm", "a.dcm.bak"]


@pytest.mark.parametrize("args", [
    ["+fc", "-i", "PatientName=X", "-i", "(0008,0052)=STUDY", "-i", "(0008,1140)[0].(0008,1150)=1.2"],
    ["+fc"],
    ["+fc", "+tb", "-i", "PatientName=X", "-i", "Rows=5"],
    ["+fc", "+ti", "-i", "QueryRetrieveLevel=PATIENT", "-i", "PatientID=", "-i", "PatientName=D*"],
])
def test_create_file(args, tmp_path):
    """+fc writes a new file (explicit little endian unless +t? says otherwise) from scratch."""
    res, state = _both(tmp_path, {"new.dcm": ""}, args)
    assert res["ours"].rc == res["dcmtk"].rc == 0 and res["ours"].stderr == res["dcmtk"].stderr
    dumps = [run(dcmtk_cmd("dcmdump", ["new.dcm"]), cwd=tmp_path / s).stdout for s in ("dcmtk", "ours")]
    dumps = [_META_UID_LINES.sub(b"", _IMPL_LINES.sub(b"", d)) for d in dumps]
    assert dumps[1] == dumps[0], compact_diff(dumps[0], dumps[1])
    assert state["ours"] == state["dcmtk"]


def test_output_padding(tmp_path):
    """+p f i pads the file to a multiple of f and items to multiples of i (the padding itself
    differs from DCMTK's by as much as our meta header is longer)."""
    dirs = _copies(tmp_path, {"a.dcm": "pd__CT_small.dcm"})
    args = ["-nb", "+p", "256", "16", "-i", "(0008,1140)[0].(0008,1155)=1.2.3", "a.dcm"]
    assert run(our_cmd("dcmodify", args), cwd=dirs["ours"]).rc == 0
    assert run(dcmtk_cmd("dcmodify", args), cwd=dirs["dcmtk"]).rc == 0
    for side in dirs:
        assert (dirs[side] / "a.dcm").stat().st_size % 256 == 0
    ours = dcmread(dirs["ours"] / "a.dcm")
    assert ours[0x00081140].value[0][0xFFFCFFFC] is not None
    dumps = [run(dcmtk_cmd("dcmdump", ["a.dcm"]), cwd=d).stdout for d in dirs.values()]
    strip = re.compile(rb"^\((0002,0000|0002,0012|0002,0013|fffc,fffc)\).*$", re.M)
    assert strip.sub(b"", dumps[1]) == strip.sub(b"", dumps[0])


# ---------------------------------------------------------------------------------------------
# deliberate differences from DCMTK 3.6.7: what it does, and what we do instead

DIFFERENCES = {
    "exit-code": "DCMTK exits with the error count modulo 256 (256 errors: exit 0); we exit "
                 "min(count, 255)",
    "no-backup-write-failure": "with -nb DCMTK rewrites the file in place, so a failed write "
                               "leaves it truncated; we write a temporary file and rename it",
    "create-file-failure": "+fc with a failing operation: DCMTK leaves the new file behind; "
                           "we create nothing",
    "ignore-errors-rollback": "-ie keeps what a failed operation created in DCMTK (items, an "
                              "empty element); a failed operation changes nothing in ours",
    "private-sequence-path": "DCMTK refuses paths through sequences that its dictionary does "
                             "not know as SQ (private ones); we follow an existing SQ element",
    "erase-all-item-tag": "-ea (fffe,e000) crashes DCMTK (SIGSEGV); we answer 'Tag not found'",
    "huge-item-number": "-i with [99999999999] makes DCMTK allocate until it is killed; we "
                        "refuse item numbers beyond 2^32-1 and to create more than 65536 items "
                        "at once",
    "no-meta-uid": "DCMTK 3.6.7 ignores -nmu (the meta header always follows the data set); "
                   "we keep the meta header's UIDs as its documentation says",
    "meta-uids": "for a data set without SOP Class/Instance UID, DCMTK invents meta header UIDs "
                 "(its private 'generic file' class, a new instance UID); we keep the meta "
                 "header's",
    "float-values": "DCMTK's string-to-double conversion is off by some ULPs for long values and "
                    "flushes values below about 1e-295 to zero; ours are correctly rounded",
    "keywords": "DCMTK takes some unknown names (RecognitionCode) for (0009,0010) and accepts "
                "'(-8,10)' or '[1x]'; we refuse them",
    "path-messages": "malformed paths like '[0]PatientName' get DCMTK's message with a character "
                     "dropped ('atientName'); ours name the real place",
    "verbose-backup": "-v: DCMTK reports the backup before the operations and 'Restoring "
                      "original file from backup' after errors; we make (and report) the backup "
                      "only when the file is saved",
    "directory": "a directory argument: DCMTK says 'No such file or directory', we 'Is a "
                 "directory'",
    "group-length-fffc": "when the trailing padding goes, DCMTK still writes its group's "
                         "length '(fffc,0000) UL 0'; we write no length for an empty group",
}


def _one(tmp_path: Path, source: str, args: list[str], name: str = "x.dcm", files=None):
    """Run both tools on a copy of ``source``: {side: (Result, directory)}."""
    out = {}
    for side, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        d = tmp_path / side
        d.mkdir(parents=True)
        if source:
            shutil.copy(corpus.CORPUS_DIR / source, d / name)
        out[side] = (run(cmd("dcmodify", [*args, *(files or [name])]), cwd=d), d)
    return out


def test_difference_exit_code(tmp_path):
    args = ["-nb"] + [a for i in range(256) for a in ("-e", f"(0010,{0x4000 + i:04x})")]
    res = _one(tmp_path, "pd__CT_small.dcm", args)
    for side in res:
        assert res[side][0].stderr.splitlines()[-1] == b"E: There were 256 errors"
    assert res["dcmtk"][0].rc == 0 and res["ours"][0].rc == 255


def _limited(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def test_difference_no_backup_write_failure(tmp_path):
    """A write that fails half-way (file size limit): DCMTK's -nb file is truncated, ours intact."""
    original = (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()
    for side, cmd in (("dcmtk", dcmtk_cmd), ("ours", our_cmd)):
        d = tmp_path / side
        d.mkdir()
        for name in ("a.dcm", "b.dcm"):
            (d / name).write_bytes(original)
        for args in (["-nb", "-m", "PatientName=Q", "a.dcm"], ["-m", "PatientName=Q", "b.dcm"]):
            p = subprocess.run(cmd("dcmodify", args), cwd=d, env=tool_env(), capture_output=True,
                               preexec_fn=_limited(20000), timeout=120)
            assert p.returncode == 1 and b"couldn't save file" in p.stderr
        assert (d / "b.dcm").read_bytes() == original and not (d / "b.dcm.bak").exists()
        names = sorted(p.name for p in d.iterdir())
        assert names == ["a.dcm", "b.dcm"], names          # no temporary file left
    assert len((tmp_path / "dcmtk" / "a.dcm").read_bytes()) < len(original)
    assert (tmp_path / "ours" / "a.dcm").read_bytes() == original


def test_difference_create_file_failure(tmp_path):
    res = _one(tmp_path, "", ["+fc", "-m", "PatientName=X"], name="new.dcm")
    for side in res:
        assert res[side][0].rc == 1 and b"Tag not found" in res[side][0].stderr
    assert (res["dcmtk"][1] / "new.dcm").exists() and not (res["ours"][1] / "new.dcm").exists()


def test_difference_ignore_errors_rollback(tmp_path):
    res = _one(tmp_path, "dump__private__te.dcm", ["-nb", "-ie", "-i", "(0008,1140)[2].Rows=abc"])
    dumps = {side: run(dcmtk_cmd("dcmdump", ["x.dcm"]), cwd=d).stdout for side, (r, d) in res.items()}
    for side, (r, _) in res.items():
        assert r.rc == 1 and b"E: modifying tag in file x.dcm: Corrupted data" in r.stderr
    assert b"(0008,1140) SQ" in dumps["dcmtk"] and b"(0028,0010) US (no value available)" in dumps["dcmtk"]
    assert b"(0008,1140)" not in dumps["ours"] and b"(0028,0010)" not in dumps["ours"]


def test_difference_private_sequence_path(tmp_path):
    res = _one(tmp_path, "dump__private__te.dcm", ["-nb", "-m", "(0099,1003)[0].(0099,1001)=abc"])
    assert res["dcmtk"][0].rc == 1 and b"Non-sequence tag found" in res["dcmtk"][0].stderr
    assert res["ours"][0].rc == 0
    ds = dcmread(res["ours"][1] / "x.dcm")
    assert bytes(ds[0x00991003].value[0][0x00991001].raw) == b"abc "


def test_difference_erase_all_item_tag(tmp_path):
    res = _one(tmp_path, "pd__CT_small.dcm", ["-nb", "-ea", "(fffe,e000)"])
    assert res["dcmtk"][0].rc == -signal.SIGSEGV
    assert res["ours"][0].rc == 1
    assert res["ours"][0].stderr.splitlines()[0] == b"E: modifying tag in file x.dcm: Tag not found"


def test_difference_huge_item_number(tmp_path):
    """Not run with DCMTK: it allocates items until the system kills it."""
    d = tmp_path / "ours"
    d.mkdir()
    shutil.copy(corpus.CORPUS_DIR / "pd__CT_small.dcm", d / "x.dcm")
    rc, err = run_ours(["-nb", "-i", "(0008,1140)[99999999999].PatientID=A", "x.dcm"], d)
    assert rc == 1 and b"Item number too large (not permitted)" in err
    rc, err = run_ours(["-nb", "-i", "(0008,1140)[99999].PatientID=A", "x.dcm"], d)
    assert rc == 1 and b"Cannot insert more than 65536 items into a sequence at once" in err
    assert (d / "x.dcm").read_bytes() == (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()


def test_difference_no_meta_uid(tmp_path):
    res = _one(tmp_path, "pd__CT_small.dcm", ["-nb", "-nmu", "-m", "SOPInstanceUID=1.2.3"])
    old = dcmread(corpus.CORPUS_DIR / "pd__CT_small.dcm").file_meta[0x00020003].value
    metas = {side: dcmread(d / "x.dcm").file_meta[0x00020003].value for side, (_, d) in res.items()}
    assert metas == {"dcmtk": "1.2.3", "ours": old}
    # -gin updates the meta header even with -nmu (both)
    res = _one(tmp_path / "gin", "pd__CT_small.dcm", ["-nb", "-nmu", "-gin"])
    for side, (_, d) in res.items():
        ds = dcmread(d / "x.dcm")
        assert ds.file_meta[0x00020003].value == ds.SOPInstanceUID != old


def test_difference_meta_uids(tmp_path):
    res = _one(tmp_path, "pd__rtdose_rle.dcm", ["-nb"])
    metas = {side: dcmread(d / "x.dcm").file_meta for side, (_, d) in res.items()}
    assert metas["dcmtk"][0x00020002].value == "1.2.276.0.7230010.3.1.0.1"
    assert metas["ours"][0x00020002].value == "1.2.840.10008.5.1.4.1.1.481.2"
    assert metas["ours"][0x00020003].value == "1.9.999.999.99.9.9999.9999.20030818153516"


def test_difference_float_values(tmp_path):
    values = ["1e-310", "451705.20289303036", "0.8812339e132", "1.5", "0.1"]
    res = _one(tmp_path, "pd__CT_small.dcm", ["-nb", "-i", "(0018,9089)=" + "\\".join(values)])
    got = {side: list(dcmread(d / "x.dcm")[0x00189089].value) for side, (_, d) in res.items()}
    assert got["ours"] == [float(v) for v in values]
    assert got["dcmtk"][0] == 0.0 and got["dcmtk"][1:3] != got["ours"][1:3]
    assert got["dcmtk"][3:] == got["ours"][3:]


@pytest.mark.parametrize("path", ["RecognitionCode", "(-8,10)", "(0008,1140)[1x].PatientID"])
def test_difference_keywords(path, tmp_path):
    res = _one(tmp_path, "pd__CT_small.dcm", ["-nb", "-i", path + "=A"])
    assert res["dcmtk"][0].rc == 0
    assert res["ours"][0].rc == 1 and b"Unable to parse" in res["ours"][0].stderr
    assert (res["ours"][1] / "x.dcm").read_bytes() == (corpus.CORPUS_DIR / "pd__CT_small.dcm").read_bytes()


@pytest.mark.parametrize("path, dcmtk_rest, our_message", [
    ("(0008,1140)[0]PatientName=A", b"tag/dictionary name at beginning of path: atientName",
     b"Expected '.' after item number at beginning of path: PatientName"),
    ("(0008,1140)[0][0].PatientID=A", b"tag/dictionary name at beginning of path: 0].PatientID",
     b"Expected '.' after item number at beginning of path: [0].PatientID"),
])
def test_difference_path_messages(path, dcmtk_rest, our_message, tmp_path):
    res = _one(tmp_path, "pd__CT_small.dcm", ["-nb", "-i", path])
    assert res["dcmtk"][0].rc == res["ours"][0].rc == 1
    assert dcmtk_rest in res["dcmtk"][0].stderr and our_message in res["ours"][0].stderr


def test_difference_verbose_backup(tmp_path):
    res = _one(tmp_path, "pd__CT_small.dcm", ["-v", "-e", "(0010,2160)"])
    assert b"I: Restoring original file from backup" in res["dcmtk"][0].stderr
    assert b"backup" not in res["ours"][0].stderr
    res = _one(tmp_path / "ok", "pd__CT_small.dcm", ["-v", "-m", "PatientName=Q"])
    lines = res["ours"][0].stderr.splitlines()
    assert lines[-2:] == [b"I: Creating backup of input file: x.dcm.bak",
                          b"I: Saving current dataset to file: x.dcm"]


def test_difference_directory(tmp_path):
    res = _one(tmp_path, "", ["-m", "PatientName=Q"], files=["."])
    assert res["dcmtk"][0].stderr.splitlines()[0] == b"E: unable to load file .: No such file or directory"
    assert res["ours"][0].stderr.splitlines()[0] == b"E: unable to load file .: Is a directory"
    assert res["dcmtk"][0].rc == res["ours"][0].rc == 1


def test_difference_group_length_fffc(tmp_path):
    res = _one(tmp_path, "cv__CT_small__tb_gl.dcm", ["-nb", "-m", "PatientName=Q"])
    dumps = {side: run(dcmtk_cmd("dcmdump", ["x.dcm"]), cwd=d).stdout for side, (_, d) in res.items()}
    assert b"(fffc,0000) UL 0 " in dumps["dcmtk"] and b"(fffc," not in dumps["ours"]
    assert b"(fffc,fffc)" not in dumps["dcmtk"]


def test_differences_are_all_tested():
    tested = {name[len("test_difference_"):].replace("_", "-") for name in globals()
              if name.startswith("test_difference_")}
    assert tested == set(DIFFERENCES)
