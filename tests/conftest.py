"""Shared fixtures and helpers for the interoperability tests.

DCMTK is always called by absolute path (``/usr/bin/<tool>``): our package installs console
scripts with the same names into the venv.  Ours is always run as ``python -m dcmpy <tool>``.
``DCMDICTPATH`` is removed from both tools' environment, so each uses its default dictionary
(DCMTK: ``/usr/share/libdcmtk17/dicom.dic:private.dic``; dcmpy: its generated copy of those).
"""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import corpus as _corpus  # noqa: E402

DCMTK_BIN = Path("/usr/bin")
TIMEOUT = 300


@dataclass
class Result:
    rc: int
    stdout: bytes
    stderr: bytes

    def __iter__(self):  # allows ``rc, out, err = result``
        return iter((self.rc, self.stdout, self.stderr))


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DCMDICTPATH", None)
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def dcmtk_cmd(tool: str, args) -> list[str]:
    return [str(DCMTK_BIN / tool), *map(str, args)]


def our_cmd(tool: str, args) -> list[str]:
    if os.environ.get("DCMPY_INTEROP_SELFTEST"):  # harness check: DCMTK on both sides, all must pass
        return dcmtk_cmd(tool, args)
    return [sys.executable, "-m", "dcmpy", tool, *map(str, args)]


def run(cmd: list[str], cwd: Path | None = None, timeout: float = TIMEOUT) -> Result:
    try:
        r = subprocess.run(cmd, cwd=cwd, env=tool_env(), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return Result(-999, exc.stdout or b"", (exc.stderr or b"") + f"\n[timeout after {timeout} s]".encode())
    return Result(r.returncode, r.stdout, r.stderr)


def start(cmd: list[str], cwd: Path | None = None) -> subprocess.Popen:
    """Start a tool without waiting (to run DCMTK and ours side by side)."""
    return subprocess.Popen(cmd, cwd=cwd, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n[timeout after {timeout} s]".encode()
        return Result(-999, out, err)
    return Result(proc.returncode, out, err)


# ---------------------------------------------------------------------------------------------
# output helpers

_ERR_FILE = re.compile(rb"^[EF]: .*(?:reading file|converting file to UTF-8): (.*?)\r?$", re.M)


def error_files(stderr: bytes) -> set[str]:
    """Files named by dcmdump's per-file error lines (``E: ...: reading file: <name>``, and
    ``F: ...: converting file to UTF-8: <name>`` under +U8)."""
    return {m.group(1).decode("utf-8", "backslashreplace") for m in _ERR_FILE.finditer(stderr)}


def has_error_line(stderr: bytes) -> bool:
    return any(line.startswith((b"E: ", b"F: ", b"error: ")) for line in stderr.splitlines())


def _lines(b: bytes) -> list[str]:
    return b.decode("utf-8", "backslashreplace").splitlines(keepends=True)


def compact_diff(expected: bytes, actual: bytes, *, a: str = "dcmtk", b: str = "dcmpy",
                 max_lines: int = 40) -> str:
    """A short unified diff (first differing lines only) for assertion messages."""
    if expected == actual:
        return ""
    d = list(difflib.unified_diff(_lines(expected), _lines(actual), a, b, n=1))
    if not d:  # differ only in line endings / final newline
        return (f"outputs differ only in line endings or the final newline: "
                f"dcmtk ends {expected[-20:]!r}, dcmpy ends {actual[-20:]!r}")
    out = []
    for line in d[:max_lines]:
        s = line.rstrip("\n")
        out.append(s if len(s) <= 240 else s[:237] + "...")
    if len(d) > max_lines:
        out.append(f"... ({len(d) - max_lines} more diff lines)")
    return "\n".join(out)


def tail(b: bytes, n: int = 12) -> str:
    lines = b.decode("utf-8", "backslashreplace").splitlines()
    return "\n".join(lines[-n:])


def split_batch(stdout: bytes, names: list[str], tool: str = "dcmdump") -> dict[str, bytes | None]:
    """Split ``<tool> +F f1 f2 ...`` output into one chunk per file.

    Each chunk starts with the file's ``# dcmdump (i/N): name`` header line and runs up to the next
    header (so it includes the blank separator line); ``None`` when the header is missing.
    """
    n = len(names)
    heads = []
    pos = 0
    for i, name in enumerate(names, 1):
        h = f"# {tool} ({i}/{n}): {name}\n".encode()
        at = stdout.find(h, pos)
        while at > 0 and stdout[at - 1:at] != b"\n":  # headers start a line
            at = stdout.find(h, at + 1)
        heads.append(at)
        if at >= 0:
            pos = at + len(h)
    chunks: dict[str, bytes | None] = {}
    for i, name in enumerate(names):
        at = heads[i]
        if at < 0:
            chunks[name] = None
            continue
        nxt = next((h for h in heads[i + 1:] if h >= 0), len(stdout))
        chunks[name] = stdout[at:nxt]
    return chunks


# ---------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture(scope="session")
def corpus_entries() -> list[_corpus.Entry]:
    return _corpus.corpus_entries()


@pytest.fixture(scope="session")
def corpus_dir(corpus_entries) -> Path:
    return _corpus.CORPUS_DIR


@pytest.fixture(scope="session")
def dcmtk_dcmdump():
    """``dcmtk_dcmdump(args, path) -> Result(rc, stdout, stderr)``; runs in the file's directory
    with the bare file name, so output that names the file is the same for both tools."""
    def _run(args, path, cwd: Path | None = None) -> Result:
        path = Path(path)
        return run(dcmtk_cmd("dcmdump", [*args, path.name]), cwd=cwd or path.parent)
    return _run


@pytest.fixture(scope="session")
def our_dcmdump():
    """``our_dcmdump(args, path) -> Result(rc, stdout, stderr)``, like :func:`dcmtk_dcmdump`."""
    def _run(args, path, cwd: Path | None = None) -> Result:
        path = Path(path)
        return run(our_cmd("dcmdump", [*args, path.name]), cwd=cwd or path.parent)
    return _run
