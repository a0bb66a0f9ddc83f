"""Shared helpers for benchmarks/run.py: timing, child processes, memory, tables.

Nothing here asserts anything: benchmarks measure and print.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
ROOT = HERE.parent
PY = sys.executable


# -- timing ----------------------------------------------------------------------------------
def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Smallest wall time (seconds) of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def median_of(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time (seconds) of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(cmd: Sequence[str], *, check: bool = True, capture: bool = False,
        stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a command; its output goes to /dev/null unless ``capture``."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    proc = subprocess.run(list(cmd), stdout=out, stderr=subprocess.PIPE, input=stdin,
                          check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace')[-400:]}")
    return proc


def works(cmd: Sequence[str]) -> str | None:
    """None if ``cmd`` runs and exits 0, else a one-line reason (for 'n/a' rows)."""
    try:
        proc = run(cmd, check=False)
    except OSError as exc:
        return str(exc)
    if proc.returncode == 0:
        return None
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return (lines[-1] if lines else f"exit {proc.returncode}")[:90]


def batches(args: Sequence[str], limit: int = 100_000) -> Iterable[list[str]]:
    """Split file arguments so that each command line stays well below ARG_MAX."""
    cur: list[str] = []
    size = 0
    for a in args:
        if cur and size + len(a) + 1 > limit:
            yield cur
            cur, size = [], 0
        cur.append(a)
        size += len(a) + 1
    if cur:
        yield cur


def warm(paths: Iterable[Path]) -> None:
    """Read every file once so that all tools start from a warm page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


# -- memory ----------------------------------------------------------------------------------
def child_json(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object as its last line."""
    import json
    proc = run([PY, "-c", code, *args], capture=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.decode(errors="replace").strip().splitlines()[-1][:90]}
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def child_maxrss(cmd: Sequence[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process.

    Measured by GNU time (``/usr/bin/time -f %M``), not by our own wait4/getrusage: Linux carries
    the forking process's peak RSS over exec into the child's ru_maxrss, so a child forked from
    this (large) interpreter would report our peak instead of its own.
    """
    import tempfile
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        t0 = time.perf_counter()
        run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd])
        wall = time.perf_counter() - t0
        return wall, int(out.read().split()[-1]) / 1024


# -- output ----------------------------------------------------------------------------------
def ratio(ours: float | None, peer: float | None, higher_is_better: bool) -> str:
    """'ours vs peer' as a factor: > 1 means ours is ahead, for rates, times and sizes."""
    if not ours or not peer or ours != ours or peer != peer:
        return ""
    f = ours / peer if higher_is_better else peer / ours
    return f"{f:.2f}x"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]],
          notes: Sequence[str] = ()) -> None:
    """Print an aligned table: first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    cells = [r + [""] * (len(header) - len(r)) for r in cells]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    print(f"\n== {title} ==")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))
    for n in notes:
        print(f"  * {n}")
    sys.stdout.flush()


def fmt(x: float | None, unit: str = "", digits: int = 1) -> str:
    if x is None or x != x:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}{unit}"
    return f"{x:.{digits}f}{unit}"
