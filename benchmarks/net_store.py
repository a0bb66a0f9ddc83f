"""C-STORE throughput: storescu -> storescp for DCMTK and dcmpy in every pairing, same run.

    .venv/bin/python benchmarks/net_store.py [--quick]

Two workloads: many small objects (copies of CT_small.dcm with their own UIDs, one association)
and one big multi-frame object. Prints objects/s or MB/s per pairing and the peak resident
memory of the receiving storescp. Nothing is asserted.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _util import PY, fmt, ratio, table, warm  # noqa: E402

# name -> (command of a tool, extra environment). Debian's DCMTK leaves Nagle's algorithm on
# unless the environment says TCP_NODELAY=1; without it small objects crawl (delayed ACKs).
TOOLS = {
    "DCMTK": (lambda tool: [f"/usr/bin/{tool}"], {"TCP_NODELAY": "1"}),
    "dcmpy": (lambda tool: [PY, "-m", "dcmpy", tool], {}),
    "DCMTK (Nagle on)": (lambda tool: [f"/usr/bin/{tool}"], {}),
}
PAIRS = [("DCMTK", "DCMTK"), ("DCMTK", "dcmpy"), ("dcmpy", "DCMTK"), ("dcmpy", "dcmpy"),
         ("DCMTK (Nagle on)", "DCMTK (Nagle on)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("storescp did not start")


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _store(scu: str, scp: str, files: list[Path], out: Path) -> tuple[float, float]:
    """(seconds for the storescu run, storescp peak RSS in MB)."""
    port = _free_port()
    scp_cmd, scp_env = TOOLS[scp]
    scu_cmd, scu_env = TOOLS[scu]
    server = subprocess.Popen([*scp_cmd("storescp"), "-od", str(out), "-pdu", "131072",
                               *(["+B"] if scp.startswith("DCMTK") else []), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **scp_env})
    try:
        _wait_listening(port, server)
        t0 = time.perf_counter()
        subprocess.run([*scu_cmd("storescu"), "-pdu", "131072", "localhost", str(port),
                        *map(str, files)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ, **scu_env})
        secs = time.perf_counter() - t0
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()
    received = sum(1 for _ in out.iterdir())
    if received != len(files):
        raise RuntimeError(f"{scu} -> {scp}: {received} of {len(files)} objects stored")
    shutil.rmtree(out)
    out.mkdir()
    return secs, peak


def bench_net_store(quick: bool) -> None:
    n = 100 if quick else 500
    frames = 100 if quick else 400            # 512 x 512 x 16 bit: 50 or 200 MB
    small = _data.ct_files(n)
    big = _data.multiframe(frames)
    warm(small + [big])
    size_mb = big.stat().st_size / 1e6
    with tempfile.TemporaryDirectory(prefix="dcmpy-net-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        results = {}
        for scu, scp in PAIRS:
            files = small[:50] if "Nagle" in scu else small     # 10-40 objects/s: keep it short
            small_s, _ = _store(scu, scp, files, out)
            big_s, big_rss = _store(scu, scp, [big], out)
            results[scu, scp] = (len(files) / small_s, size_mb / big_s, big_rss)
    base = results["DCMTK", "DCMTK"]
    rows = [[f"{scu} -> {scp}", fmt(r[0], "/s"), ratio(r[0], base[0], True), fmt(r[1], " MB/s"),
             ratio(r[1], base[1], True), fmt(r[2], " MB")]
            for (scu, scp), r in results.items()]
    table(f"C-STORE: {n} small CT objects / one {size_mb:.0f} MB object (max PDU 131072)",
          ["storescu -> storescp", "small objects", "vs DCMTK", "big object", "vs DCMTK",
           "storescp peak RSS (big)"], rows,
          notes=["each storescu run includes its process start-up; one association per run",
                 "DCMTK's storescp runs with +B (bit-preserving), as ours always streams",
                 "DCMTK runs with TCP_NODELAY=1 in its environment, except in the last row "
                 "(Debian's default: 50 objects only)"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    bench_net_store(parser.parse_args().quick)


if __name__ == "__main__":
    main()
