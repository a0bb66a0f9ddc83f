"""Codec speed: decode and encode in megapixels per second for each compressed syntax.

Ours (``dcmpy.codecs`` through ``decode_frame``/``compress``) against the codec library called
directly on the same codestreams, pydicom with its pylibjpeg plugins, and DCMTK's command-line
decoders/encoders on the same multi-frame file (process time, so start-up is included; the
file is large enough that it hardly matters).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from _util import DATA, fmt, ratio, run, table

FRAMES = 24
ROWS = COLS = 512


def _phantom(frames: int, rgb: bool) -> np.ndarray:
    """Smooth anatomy-like content with noise: compressible like real images, not trivially."""
    y, x = np.mgrid[0:ROWS, 0:COLS]
    rng = np.random.default_rng(7)
    out = []
    for f in range(frames):
        body = ((x - 256) ** 2 + (y - 256 - f) ** 2 < 200 ** 2) * 1000
        organ = ((x - 200) ** 2 + (y - 230) ** 2 < 60 ** 2) * 300
        img = (body + organ + rng.normal(0, 20, (ROWS, COLS)) + 1024).clip(0, 4095)
        if rgb:
            img = np.stack([img / 16, img / 20, img / 24], axis=-1)
        out.append(img)
    return np.array(out, dtype=np.uint8 if rgb else np.uint16)


def _dataset(pixels: np.ndarray):
    from dcmpy.dcmdata.dataset import Dataset, FileDataset
    from dcmpy.dcmdata.element import Element
    from dcmpy.dcmdata.uid import generate_uid
    from dcmpy.dcmdata import xfer
    rgb = pixels.ndim == 4
    ds = FileDataset(file_meta=Dataset(), transfer_syntax=xfer.EXPLICIT_LE)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3" if not rgb else "1.2.840.10008.5.1.4.1.1.7.4"
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = ROWS, COLS
    ds.NumberOfFrames = str(len(pixels))
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    bits = 8 if rgb else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits if rgb else 12, (bits if rgb else 12) - 1
    ds.PixelRepresentation = 0
    ds[0x7FE00010] = Element(0x7FE00010, "OB" if rgb else "OW",
                             pixels.reshape(-1) if rgb else pixels.reshape(-1).view("<u2"))
    return ds


def _native_file(rgb: bool) -> Path:
    from dcmpy import dcmwrite
    path = DATA / f"codec_{'rgb' if rgb else 'mono'}_{FRAMES}.dcm"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        dcmwrite(path, _dataset(_phantom(FRAMES, rgb)))
    return path


def _rate(seconds: float, frames: int) -> float:
    return frames * ROWS * COLS / seconds / 1e6


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# (name, syntax, rgb, raw decoder, DCMTK encoder, DCMTK decoder (None: DCMTK has none), options)
CASES = [
    ("RLE Lossless", "1.2.840.10008.1.2.5", False, "rle", ["dcmcrle"], ["dcmdrle"], {}),
    ("JPEG-LS lossless", "1.2.840.10008.1.2.4.80", False, "jpegls", ["dcmcjpls"], ["dcmdjpls"], {}),
    ("JPEG baseline (RGB)", "1.2.840.10008.1.2.4.50", True, "jpeg", ["dcmcjpeg", "+eb"],
     ["dcmdjpeg"], {}),
    ("JPEG Lossless SV1", "1.2.840.10008.1.2.4.70", False, "jpeg", ["dcmcjpeg", "+e1"],
     ["dcmdjpeg"], {}),
    ("JPEG 2000 lossless", "1.2.840.10008.1.2.4.90", False, "jpeg2k", None, None, {}),
    ("HTJ2K lossless", "1.2.840.10008.1.2.4.201", False, "jpeg2k", None, None, {}),
]


def _raw_decoder(kind: str) -> Callable[[bytes], object] | None:
    import imagecodecs
    if kind == "jpegls":
        return imagecodecs.jpegls_decode
    if kind == "jpeg":
        return imagecodecs.jpeg8_decode
    if kind == "jpeg2k":
        return imagecodecs.jpeg2k_decode
    try:
        from rle.rle import decode_frame as rle_decode      # pylibjpeg-rle
    except ImportError:
        return None
    return lambda data: rle_decode(data, ROWS * COLS, 16, "<")


def bench_codecs(quick: bool) -> None:
    from dcmpy import dcmread, dcmwrite
    from dcmpy.dcmdata.pixels import PixelInfo, decode_frame, frame_bytes
    from dcmpy.dcmdata.transcode import compress
    rows = []
    notes = ["Mpixel/s (higher is better); ours vs X > 1 means ours is faster",
             "raw: the codec library called directly on the same codestreams (imagecodecs' "
             "libjpeg-turbo 3 / CharLS / OpenJPEG, pylibjpeg-rle for RLE)",
             "DCMTK: whole-process time of its tool on the same multi-frame file"]
    frames = 8 if quick else FRAMES
    for name, uid, rgb, raw_kind, dcmtk_enc, dcmtk_dec, options in CASES:
        src = _native_file(rgb)
        enc_path = DATA / f"codec_{raw_kind}_{'rgb' if rgb else 'mono'}.dcm"
        ds = dcmread(src)
        enc_ours = _best(lambda: compress(dcmread(src), uid, **options), 1 if quick else 3)
        dcmwrite(enc_path, compress(ds, uid, **options))
        comp = dcmread(enc_path)
        info = PixelInfo.of(comp)
        streams = [bytes(frame_bytes(comp, i, info)) for i in range(info.frames)]
        dec_ours = _best(lambda: [decode_frame(comp, i) for i in range(frames)])
        raw = _raw_decoder(raw_kind)
        dec_raw = _best(lambda: [raw(s) for s in streams[:frames]]) if raw else None
        import pydicom
        pyd = pydicom.dcmread(enc_path)

        def pyd_decode():
            for i in range(frames):
                pydicom.pixels.pixel_array(pyd, index=i)
        try:
            dec_pyd = _best(pyd_decode)
        except Exception:
            dec_pyd = None
        out = DATA / "codec_out.dcm"
        d_dcmtk = e_dcmtk = None        # DCMTK 3.6.7 has no JPEG 2000 or HTJ2K codec
        if dcmtk_dec:
            t0 = time.perf_counter()
            run([f"/usr/bin/{dcmtk_dec[0]}", *dcmtk_dec[1:], enc_path, out])
            d_dcmtk = _rate(time.perf_counter() - t0, FRAMES)
            t0 = time.perf_counter()
            run([f"/usr/bin/{dcmtk_enc[0]}", *dcmtk_enc[1:], src, out])
            e_dcmtk = _rate(time.perf_counter() - t0, FRAMES)
        d_ours, d_raw = _rate(dec_ours, frames), dec_raw and _rate(dec_raw, frames)
        d_pyd = dec_pyd and _rate(dec_pyd, frames)
        e_ours = _rate(enc_ours, FRAMES)
        rows.append([f"{name} decode", fmt(d_ours), fmt(d_raw), ratio(d_ours, d_raw, True),
                     fmt(d_pyd), ratio(d_ours, d_pyd, True), fmt(d_dcmtk),
                     ratio(d_ours, d_dcmtk, True)])
        rows.append([f"{name} encode", fmt(e_ours), "", "", "", "", fmt(e_dcmtk),
                     ratio(e_ours, e_dcmtk, True)])
    table("codecs: 512x512 frames (16-bit mono, 8-bit RGB)",
          ["syntax", "ours", "raw lib", "vs raw", "pydicom", "vs pydicom", "DCMTK", "vs DCMTK"],
          rows, notes)
