"""Rendering (dcmimgle): frames per second for a 512x512 16-bit CT frame with a window, against
pydicom's apply_modality_lut + apply_voi_lut and against DCMTK's dcm2pnm (whole processes, as
DCMTK has no Python API), and the same multi-frame rendered by a thread pool (the LUT loop
releases the GIL).

    .venv/bin/python benchmarks/render.py [--quick]

Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import best_of, fmt, ratio, run, table  # noqa: E402


def _ct(path: Path, frames: int) -> None:
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    rng = np.random.default_rng(5)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = "2.25.42"
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.2", "2.25.42", "CT"
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    if frames > 1:
        ds.NumberOfFrames = str(frames)
    body = rng.integers(-1000, 3000, (frames, 512, 512)).astype("<i2")
    ds.PixelData = body.tobytes()
    ds.save_as(path, enforce_file_format=True)


def bench_render(quick: bool = False) -> None:
    from dcmpy.dcmimgle.image import DicomImage
    repeat = 20 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "ct.dcm", Path(tmp) / "ct16.dcm"
        _ct(one, 1)
        _ct(many, 16)

        img = DicomImage(one)
        img.use_window(0)
        stored = img.stored(0)
        img.render(0)                                      # builds the table once
        lut_only = best_of(lambda: [img.pipeline.render(stored, 8) for _ in range(repeat)]) / repeat
        cold = best_of(lambda: _cold_render(one), 3)

        import pydicom
        from pydicom.pixels import apply_modality_lut, apply_voi_lut
        pds = pydicom.dcmread(one)
        arr = pds.pixel_array
        pyd = best_of(lambda: [apply_voi_lut(apply_modality_lut(arr, pds), pds)
                               for _ in range(repeat // 4 or 1)]) / (repeat // 4 or 1)

        out = Path(tmp) / "out.pgm"
        n = 5 if quick else 20
        dcmtk = best_of(lambda: [run(["/usr/bin/dcm2pnm", "+Wi", "1", str(one), str(out)])
                                 for _ in range(n)], 2) / n
        ours_proc = best_of(lambda: [run([sys.executable, "-m", "dcmpy", "dcm2pnm", "+Wi", "1",
                                          str(one), str(out)]) for _ in range(n)], 2) / n

        multi = DicomImage(many, 0, 0)
        multi.use_window(0)
        frames = [multi.stored(i) for i in range(multi.count)]
        multi.render(0)
        serial = best_of(lambda: [multi.pipeline.render(f, 8) for f in frames], 5)
        with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            threaded = best_of(lambda: list(pool.map(lambda f: multi.pipeline.render(f, 8),
                                                     frames)), 5)

    rows = [["LUT loop, one 512x512 frame (in process)", fmt(lut_only * 1e3, " ms", 3),
             fmt(1 / lut_only, " fps", 0), ""],
            ["pydicom apply_modality_lut + apply_voi_lut", fmt(pyd * 1e3, " ms", 3),
             fmt(1 / pyd, " fps", 0), ratio(1 / lut_only, 1 / pyd, True)],
            ["dcmpy: open + decode + table + render (in process)", fmt(cold * 1e3, " ms", 2),
             fmt(1 / cold, " fps", 0), ""],
            ["DCMTK dcm2pnm process (+Wi 1, PGM file)", fmt(dcmtk * 1e3, " ms", 1),
             fmt(1 / dcmtk, " fps", 0), ""],
            ["dcmpy dcm2pnm process (+Wi 1, PGM file)", fmt(ours_proc * 1e3, " ms", 1),
             fmt(1 / ours_proc, " fps", 0), ratio(1 / ours_proc, 1 / dcmtk, True)],
            [f"16 frames serial / {os.cpu_count()} threads", fmt(serial * 1e3, " ms", 2),
             fmt(threaded * 1e3, " ms", 2), ratio(serial, threaded, False)]]
    table("rendering a 512x512 CT frame (window 40/400, 8-bit output)",
          ["what", "time", "rate", "vs peer / speed-up"], rows,
          ["'vs peer': pydicom row compares the LUT loop; process row compares with DCMTK",
           "last row: time for 16 frames in one thread, then in a pool (GIL released)"])


def _cold_render(path: Path) -> None:
    from dcmpy.dcmimgle.image import DicomImage
    img = DicomImage(path)
    img.use_window(0)
    img.render(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    t0 = time.perf_counter()
    bench_render(parser.parse_args().quick)
    print(f"\n({time.perf_counter() - t0:.1f} s)")
