"""JPEG Lossless (Process 14): our Cython codec against libjpeg-turbo 3 and liblj92 (both through
imagecodecs, called directly on the same codestreams) and DCMTK's dcmcjpeg/dcmdjpeg.

    .venv/bin/python benchmarks/ljpeg.py [--quick]

Decoding and encoding in megapixels per second, one thread; then the same frames decoded by a
thread pool (our codec releases the GIL in its loops, so the pool runs on every core).
Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import DATA, fmt, ratio, run, table  # noqa: E402
from bench_codecs import FRAMES, _best, _native_file, _rate  # noqa: E402

SV1 = "1.2.840.10008.1.2.4.70"
LOSSLESS = "1.2.840.10008.1.2.4.57"


def _encoded(src: Path, rgb: bool, predictor: int) -> Path:
    from dcmpy import dcmread, dcmwrite
    from dcmpy.dcmdata.transcode import compress
    path = DATA / f"ljpeg_{'rgb' if rgb else 'mono'}_sv{predictor}.dcm"
    if not path.exists():
        dcmwrite(path, compress(dcmread(src), SV1 if predictor == 1 else LOSSLESS,
                                predictor=predictor))
    return path


def _case(rgb: bool, predictor: int, frames: int) -> list[list[str]]:
    import imagecodecs
    import numpy as np

    from dcmpy import dcmread
    from dcmpy._ext import ljpeg
    from dcmpy.dcmdata.pixels import PixelInfo, decode_frame, frame_bytes
    from dcmpy.dcmdata.transcode import compress
    src = _native_file(rgb)
    path = _encoded(src, rgb, predictor)
    comp = dcmread(path)
    info = PixelInfo.of(comp)
    streams = [np.frombuffer(bytes(frame_bytes(comp, i, info)), np.uint8)
               for i in range(frames)]
    shape = (info.rows, info.columns, info.samples, 16)
    codec = _rate(_best(lambda: [ljpeg.decode(s, *shape) for s in streams]), frames)
    full = _rate(_best(lambda: [decode_frame(comp, i) for i in range(frames)]), frames)
    turbo = _rate(_best(lambda: [imagecodecs.jpeg8_decode(s) for s in streams]), frames)
    lj92 = _rate(_best(lambda: [imagecodecs.ljpeg_decode(s) for s in streams]), frames)
    out = DATA / "ljpeg_out.dcm"
    t0 = time.perf_counter()
    run(["/usr/bin/dcmdjpeg", path, out])
    dcmtk = _rate(time.perf_counter() - t0, FRAMES)
    what = f"{'8-bit RGB' if rgb else '12-bit mono'}, predictor {predictor}"
    rows = [[f"decode {what}", fmt(codec), fmt(full), fmt(turbo), ratio(codec, turbo, True),
             fmt(lj92), ratio(codec, lj92, True), fmt(dcmtk), ratio(full, dcmtk, True)]]
    ds = dcmread(src)
    enc = _rate(_best(lambda: compress(dcmread(src), LOSSLESS, predictor=predictor), 1), FRAMES)
    pixels = [np.asarray(decode_frame(ds, i)) for i in range(frames)]
    bits = 8 if rgb else 16
    turbo_enc = _rate(_best(lambda: [imagecodecs.jpeg8_encode(
        p, lossless=True, predictor=predictor, bitspersample=bits,
        **({"colorspace": "RGB", "outcolorspace": "RGB"} if rgb else {})) for p in pixels]),
        frames)
    t0 = time.perf_counter()
    run(["/usr/bin/dcmcjpeg", "+el", "+sv", str(predictor), src, out])
    dcmtk_enc = _rate(time.perf_counter() - t0, FRAMES)
    rows.append([f"encode {what}", "", fmt(enc), fmt(turbo_enc), ratio(enc, turbo_enc, True),
                 "", "", fmt(dcmtk_enc), ratio(enc, dcmtk_enc, True)])
    return rows


def _parallel(frames: int) -> list[list[str]]:
    """The same frames decoded one after the other and by a pool of one thread per CPU."""
    import numpy as np

    from dcmpy import dcmread
    from dcmpy._ext import ljpeg
    from dcmpy.dcmdata.pixels import PixelInfo, frame_bytes
    comp = dcmread(_encoded(_native_file(False), False, 1))
    info = PixelInfo.of(comp)
    streams = [np.frombuffer(bytes(frame_bytes(comp, i % info.frames, info)), np.uint8)
               for i in range(4 * frames)]
    shape = (info.rows, info.columns, info.samples, 16)
    one = _best(lambda: [ljpeg.decode(s, *shape) for s in streams])
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        many = _best(lambda: list(pool.map(lambda s: ljpeg.decode(s, *shape), streams)))
    return [[f"{len(streams)} frames, 1 thread", fmt(_rate(one, len(streams)))],
            [f"{len(streams)} frames, {workers} threads", fmt(_rate(many, len(streams))),
             ratio(many, one, False)]]


def bench_ljpeg(quick: bool) -> None:
    frames = 8 if quick else FRAMES
    rows = []
    for rgb, predictor in ((False, 1), (False, 6), (True, 1)):
        rows += _case(rgb, predictor, frames)
    table("ljpeg: JPEG Lossless, 512x512 frames, Mpixel/s",
          ["task", "codec", "ours", "libjpeg-turbo", "vs turbo", "liblj92", "vs lj92", "DCMTK",
           "vs DCMTK"], rows,
          ["codec: dcmpy._ext.ljpeg.decode alone; ours: decode_frame / compress on the data set",
           "libjpeg-turbo 3 and liblj92 through imagecodecs, on the same codestreams",
           f"DCMTK: whole-process time of dcmdjpeg / dcmcjpeg +el on {FRAMES} frames",
           "encode 'vs DCMTK' compares whole data sets; the codestreams are identical"])
    table("ljpeg: the GIL is released, frames decode in parallel",
          ["task", "Mpixel/s", "speed-up"], _parallel(frames))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"8 frames instead of {FRAMES}")
    bench_ljpeg(ap.parse_args().quick)


if __name__ == "__main__":
    main()
