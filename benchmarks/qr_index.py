"""C-FIND latency of the archive index: ours (SQLite, PostgreSQL) against DCMTK's dcmqrscp.

    .venv/bin/python benchmarks/qr_index.py [--quick] [--pg URL]

Builds generated archives of 10,000 and 100,000 instances (``--quick``: 10,000 only) in our
index and times typical queries through ``Index.find`` (median of 20). DCMTK's flat index.dat
holds at most 500 studies, so it gets the 10,000-instance archive only: the same files are
registered with its dcmqridx, served by its dcmqrscp, and queried with its findscu (end to end,
findscu's start-up included; its cost alone is given by a query that matches nothing).
PostgreSQL: ``--pg URL``, else a throwaway cluster is started when Debian's postgresql-15 is
installed (as ``nobody`` when run as root).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _util import fmt, median_of, table  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def shape_for(n: int) -> tuple[int, int, int, int]:
    """(patients, studies each, series each, instances each) giving n instances."""
    return {10_000: (50, 10, 4, 5), 100_000: (500, 10, 4, 5)}[n]


def queries(shape):
    p = shape[0] // 8 * 4                     # a patient named Patient<p>^Test (see generate)
    root = "1.2.826.0.1.3680043.9.7391"
    study = f"{root}.2.{p}.3"
    return [
        ("study by PatientID", "-S", "STUDY", {"PatientID": f"PID{p:04d}", "StudyInstanceUID": None}),
        ("study by date range", "-S", "STUDY", {"StudyDate": "20110301-20110331", "StudyInstanceUID": None}),
        ("study by name wildcard", "-S", "STUDY", {"PatientName": f"Patient{p:03d}*", "StudyInstanceUID": None}),
        ("series of a study", "-S", "SERIES", {"StudyInstanceUID": study, "SeriesInstanceUID": None}),
        ("images of a series", "-S", "IMAGE", {"StudyInstanceUID": study,
                                               "SeriesInstanceUID": f"{root}.3.{p}.3.1",
                                               "SOPInstanceUID": None}),
        ("no match (overhead)", "-S", "STUDY", {"PatientID": "NOBODY", "StudyInstanceUID": None}),
    ]


def build_ours(target: str, root: Path, shape) -> tuple[object, float]:
    from dcmpy.dcmqrdb.index import Index
    from test_dcmqrdb_support import generate
    root.mkdir(parents=True, exist_ok=True)
    index = Index.open(target, root=str(root))
    t0 = time.perf_counter()
    for numbers, ds in generate(*shape):
        index.store(f"{root}/{'_'.join(map(str, numbers))}.dcm", ds, size=1000,
                    transfer_syntax="1.2.840.10008.1.2.1")
    return index, time.perf_counter() - t0


def time_ours(index, shape) -> tuple[list[float], list[int]]:
    """Median latency and number of responses of each query."""
    from test_dcmqrdb_support import identifier
    out, counts = [], []
    for _, _, level, keys in queries(shape):
        q = identifier(level, keys)
        out.append(median_of(lambda: list(index.find("study", None, q)), 20))
        counts.append(len(list(index.find("study", None, q))))
    return out, counts


def time_dcmtk(folder: Path, shape) -> tuple[list[float], float]:
    from test_dcmqrdb_support import DcmtkArchive, generate, write_files
    files = write_files(folder / "files", (ds for _, ds in generate(*shape)))
    archive = DcmtkArchive(folder / "qr", quota="(500, 1024mb)")
    try:
        t0 = time.perf_counter()
        for start in range(0, len(files), 500):
            subprocess.run(["/usr/bin/dcmqridx", str(archive.area), *map(str, files[start:start + 500])],
                           check=True, capture_output=True)
        build = time.perf_counter() - t0
        out = []
        for _, model, level, keys in queries(shape):
            args = ["/usr/bin/findscu", model, "-aec", archive.aetitle, "-k", f"QueryRetrieveLevel={level}"]
            args += [x for k, v in keys.items() for x in ("-k", k if v is None else f"{k}={v}")]
            args += ["127.0.0.1", str(archive.port)]
            out.append(median_of(lambda: subprocess.run(args, check=True, capture_output=True), 5))
        return out, build
    finally:
        archive.stop()


def start_pg() -> tuple[str, list[str], Path]:
    base = Path(tempfile.mkdtemp(prefix="dcmpy-qrbench-pg-"))
    prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(base, "nobody")
    os.chmod(base, 0o700)
    subprocess.run(prefix + [str(PG_BIN / "initdb"), "-D", str(base / "data"), "-A", "trust", "-U", "dcmpy",
                             "--no-sync", "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    subprocess.run(prefix + [str(PG_BIN / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w",
                             "-o", f"-k {base} -p {port} -c listen_addresses=''", "start"],
                   check=True, capture_output=True)
    stop = prefix + [str(PG_BIN / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop"]
    return f"postgresql://dcmpy@/postgres?host={base}&port={port}", stop, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 instances only")
    parser.add_argument("--pg", help="PostgreSQL URL (default: a throwaway cluster)")
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    work = Path(tempfile.mkdtemp(prefix="dcmpy-qrbench-"))
    stop_pg, pg_dir = None, None
    try:
        pg = args.pg
        if pg is None and (PG_BIN / "initdb").exists():
            pg, stop_pg, pg_dir = start_pg()
        names = [q[0] for q in queries(shape_for(10_000))]
        columns: dict[str, list[float | None]] = {}
        counts: dict[int, list[int]] = {}
        builds = []
        for n in sizes:
            shape = shape_for(n)
            for label, target in (("sqlite", None), ("postgresql", pg)):
                if label == "postgresql" and not pg:
                    continue
                root = work / f"{label}-{n}"
                index, build = build_ours(target or str(root), root, shape)
                builds.append((f"dcmpy {label}, {n:,} instances", n / build))
                columns[f"dcmpy {label} {n // 1000}k"], counts[n] = time_ours(index, shape)
                index.close()
        dcmtk, build = time_dcmtk(work / "dcmtk", shape_for(10_000))
        builds.append(("DCMTK dcmqridx, 10,000 instances", 10_000 / build))
        columns["DCMTK findscu+dcmqrscp 10k"] = dcmtk
        rows = [[name, "/".join(str(c[i]) for c in counts.values()),
                 *(fmt(col[i] * 1000, " ms", 2) for col in columns.values())]
                for i, name in enumerate(names)]
        table("C-FIND latency (median)", ["query", "responses", *columns], rows)
        table("index build rate", ["how", "instances/s"], [[h, fmt(r, "", 0)] for h, r in builds])
    finally:
        if stop_pg:
            subprocess.run(stop_pg, capture_output=True)
            shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
