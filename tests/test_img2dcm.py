"""img2dcm against DCMTK's: JPEG (kept as it is), BMP and PNG into SC, multi-frame SC, VL
Photographic and Ophthalmic Photography images.

Inputs are made here: PPM/PGM from NumPy through libjpeg-turbo's ``cjpeg``, DCMTK's ``dcmcjpeg``
for the 12-bit and lossless JPEG processes (its fragment is the JPEG file), BMP and PNG written
byte by byte. Both tools run with the same pinned UIDs; ``/usr/bin/dcmdump`` prints both
outputs and the texts must match, apart from the deliberate differences listed in DIFFERENCES
(each checked by a test of its own). ``dciodvfy`` must find no error in what we write; pydicom
reads our native pixels back equal to the source; ``dcmdjpeg`` and ``gdcmconv`` decode our JPEG
files.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest

from conftest import compact_diff, dcmtk_cmd, our_cmd, run

UIDS = ["-k", "StudyInstanceUID=1.2.826.0.1.3680043.2.1143.1",
        "-k", "SeriesInstanceUID=1.2.826.0.1.3680043.2.1143.2",
        "-k", "SOPInstanceUID=1.2.826.0.1.3680043.2.1143.3"]

DIFFERENCES = {
    "laterality": "DCMTK leaves Laterality (0020,0060, type 2C) out, so dciodvfy reports an "
                  "error on every image it writes; we insert it empty (unknown), as PS3.3 allows",
    "rgb-jpeg": "an RGB JPEG (Adobe marker, no colour transform): DCMTK says YBR_FULL_422 and "
                "drops the Adobe marker, so its own dcmdjpeg decodes wrong colours; we say RGB and "
                "keep the marker",
    "aspect": "JFIF densities: DCMTK writes Pixel Aspect Ratio as horizontal\\vertical density "
              "(swapped); we write vertical\\horizontal pixel size",
    "lossless": "lossless JPEG (SOF3): DCMTK refuses it; we store it (.70 or .57 by predictor)",
    "template-frames": "-df keeps a template's Number of Frames / Frame Increment Pointer in "
                       "DCMTK (a single-frame SC claiming 5 frames); we drop them",
    "mixed-frames": "-nsc with a baseline and a progressive JPEG: DCMTK writes one file in the "
                    "first one's transfer syntax; we refuse",
    "oph-anatomy": "-oph: DCMTK's Anatomic Region code has value 'Eye' and meaning '81745001' "
                   "(swapped); ours is (81745001, SCT, Eye)",
    "padding": "+p f i: DCMTK's img2dcm accepts it and writes no padding; we pad",
    "bitfields": "BI_BITFIELDS BMPs: DCMTK refuses them as compressed; we read them",
    "png": "PNG input (-i PNG): DCMTK 3.6.7 has none; we compare with DCMTK's conversion of the "
           "same pixels as BMP",
}


# ---------------------------------------------------------------------------------------------
# inputs

def _rgb(h=37, w=53) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 5) % 256, (y * 7) % 256, ((x + y) * 3) % 256], -1).astype(np.uint8)


def _ppm(path: Path, arr: np.ndarray) -> Path:
    h, w = arr.shape[:2]
    magic = b"P6" if arr.ndim == 3 else b"P5"
    path.write_bytes(magic + b"\n%d %d\n255\n" % (w, h) + arr.tobytes())
    return path


def _cjpeg(src: Path, out: Path, *args: str) -> Path:
    r = run(["/usr/bin/cjpeg", *args, "-outfile", str(out), str(src)])
    assert r.rc == 0, r.stderr
    return out


def _fragment_of(dcm: Path, out: Path) -> Path:
    ds = pydicom.dcmread(dcm)
    from pydicom.encaps import generate_fragmented_frames
    out.write_bytes(b"".join(next(generate_fragmented_frames(ds.PixelData))))
    return out


def _native_dicom(path: Path, arr: np.ndarray, bits: int) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.SamplesPerPixel = 1 if arr.ndim == 2 else 3
    ds.PhotometricInterpretation = "MONOCHROME2" if arr.ndim == 2 else "RGB"
    if arr.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = (8 if bits == 8 else 16), bits, bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = arr.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _dcmcjpeg_jpeg(d: Path, name: str, arr: np.ndarray, bits: int, *opts: str) -> Path:
    src = _native_dicom(d / f"{name}_src.dcm", arr, bits)
    enc = d / f"{name}_enc.dcm"
    r = run(dcmtk_cmd("dcmcjpeg", [*opts, src, enc]))
    assert r.rc == 0, r.stderr
    return _fragment_of(enc, d / f"{name}.jpg")


def bmp_bytes(w: int, h: int, bpp: int, rows: list[bytes], palette=None, top_down=False,
              compression=0, masks=None, offset=None, size_field=None) -> bytes:
    pal = b"".join(bytes((b, g, r, 0)) for r, g, b in palette) if palette is not None else b""
    if masks:
        pal = struct.pack("<3I", *masks)
    pix = b"".join(rows)
    off = 54 + len(pal) if offset is None else offset
    info = struct.pack("<IiiHHIIiiII", 40, w, -h if top_down else h, 1, bpp, compression,
                       len(pix), 2835, 2835, len(palette) if palette is not None else 0, 0)
    return b"BM" + struct.pack("<IHHI", size_field or off + len(pix), 0, 0, off) + info + pal + pix


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def png_bytes(arr: np.ndarray, colour: int, depth: int, palette=None, interlace=False,
              filters=(0, 1, 2, 3, 4)) -> bytes:
    """A PNG of ``arr`` (h, w[, c]) with the row filters cycling through ``filters``."""
    h, w = arr.shape[:2]
    chans = 1 if arr.ndim == 2 else arr.shape[2]

    def rows_of(a):
        out = []
        for r in range(a.shape[0]):
            row = a[r].reshape(-1)
            if depth < 8:
                bits = np.unpackbits(row.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:]
                line = np.packbits(bits.reshape(-1)).tobytes()
            elif depth == 16:
                line = row.astype(">u2").tobytes()
            else:
                line = row.astype(np.uint8).tobytes()
            out.append(line)
        return out

    def filtered(lines):
        bpp = max(1, depth * chans // 8)
        out, prior = b"", bytes(len(lines[0])) if lines else b""
        for n, line in enumerate(lines):
            kind = filters[n % len(filters)]
            enc = bytearray(len(line))
            for i, x in enumerate(line):
                a = line[i - bpp] if i >= bpp else 0
                b = prior[i]
                c = prior[i - bpp] if i >= bpp else 0
                pred = [0, a, b, (a + b) // 2,
                        a if abs(b - c) <= abs(a - c) and abs(b - c) <= abs(a + b - 2 * c)
                        else b if abs(a - c) <= abs(a + b - 2 * c) else c][kind]
                enc[i] = (x - pred) & 0xFF
            out += bytes([kind]) + bytes(enc)
            prior = line
        return out

    if interlace:
        passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                  (1, 0, 2, 2), (0, 1, 1, 2))
        raw = b"".join(filtered(rows_of(arr[y0::dy, x0::dx])) for x0, y0, dx, dy in passes
                       if arr[y0::dy, x0::dx].size)
    else:
        raw = filtered(rows_of(arr))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    head = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, int(interlace))
    plte = chunk(b"PLTE", palette.astype(np.uint8).tobytes()) if palette is not None else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + plte
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("img2dcm")
    rgb = _rgb()
    grey = rgb[..., 0].copy()
    ppm, pgm = _ppm(d / "rgb.ppm", rgb), _ppm(d / "grey.pgm", grey)
    files = {
        "rgb": _cjpeg(ppm, d / "rgb.jpg", "-quality", "90"),
        "grey": _cjpeg(pgm, d / "grey.jpg"),
        "progressive": _cjpeg(ppm, d / "progressive.jpg", "-progressive"),
        "444": _cjpeg(ppm, d / "444.jpg", "-sample", "1x1"),
        "restart": _cjpeg(ppm, d / "restart.jpg", "-restart", "1"),
        "adobe-rgb": _cjpeg(ppm, d / "adobe-rgb.jpg", "-rgb"),
        "arithmetic": _cjpeg(ppm, d / "arithmetic.jpg", "-arithmetic"),
    }
    y, x = np.mgrid[0:37, 0:53]
    g12 = ((x * 50 + y * 30) % 4096).astype(np.uint16)
    files["extended8"] = _dcmcjpeg_jpeg(d, "extended8", grey, 8, "+ee")
    files["extended12"] = _dcmcjpeg_jpeg(d, "extended12", g12, 12, "+ee")
    files["progressive12"] = _dcmcjpeg_jpeg(d, "progressive12", g12, 12, "+ep")
    files["lossless-sv1"] = _dcmcjpeg_jpeg(d, "lossless-sv1", grey, 8, "+e1")
    files["lossless-16"] = _dcmcjpeg_jpeg(d, "lossless-16", (g12 * 16).astype(np.uint16), 16,
                                          "+el")
    files["lossless-rgb"] = _dcmcjpeg_jpeg(d, "lossless-rgb", rgb, 8, "+e1")
    with_com = bytearray(files["rgb"].read_bytes())
    with_com[20:20] = b"\xff\xfe\x00\x07hello"      # after the JFIF marker
    (d / "comment.jpg").write_bytes(bytes(with_com))
    files["comment"] = d / "comment.jpg"
    jfif = bytearray(files["rgb"].read_bytes())
    assert jfif[6:11] == b"JFIF\0"
    jfif[13:18] = b"\x00\x00\x02\x00\x01"           # units 0, X density 2, Y density 1
    (d / "aspect.jpg").write_bytes(bytes(jfif))
    files["aspect"] = d / "aspect.jpg"
    files.update(_bmps(d, rgb))
    return files


def _bmps(d: Path, rgb: np.ndarray) -> dict[str, Path]:
    small = rgb[:5, :7]
    h, w = small.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    idx = ((x * 3 + y * 5) % 256).astype(np.uint8)
    colour_pal = [(i, 255 - i, i // 2) for i in range(256)]
    grey_pal = [(i, i, i) for i in range(256)]
    up = range(h - 1, -1, -1)
    v555 = ((small[..., 0] >> 3).astype(np.uint16) << 10 | (small[..., 1] >> 3).astype(np.uint16) << 5
            | small[..., 2] >> 3)
    bits = ((x + y) % 2).astype(np.uint8)
    nib = ((x + y) % 16).astype(np.uint8)

    def pack4(a):
        a = list(a) + [0] * (len(a) % 2)
        return bytes((a[i] << 4) | a[i + 1] for i in range(0, len(a), 2))

    made = {
        "b24": bmp_bytes(w, h, 24, [_pad4(small[r, :, ::-1].tobytes()) for r in up]),
        "b24-topdown": bmp_bytes(w, h, 24, [_pad4(small[r, :, ::-1].tobytes()) for r in range(h)],
                                 top_down=True),
        "b32": bmp_bytes(w, h, 32, [np.concatenate([small[r, :, ::-1], np.full((w, 1), 7, np.uint8)],
                                                   1).tobytes() for r in up]),
        "b8": bmp_bytes(w, h, 8, [_pad4(idx[r].tobytes()) for r in up], palette=colour_pal),
        "b8-grey": bmp_bytes(w, h, 8, [_pad4(idx[r].tobytes()) for r in up], palette=grey_pal),
        "b16": bmp_bytes(w, h, 16, [_pad4(v555[r].astype("<u2").tobytes()) for r in up]),
        "b1": bmp_bytes(w, h, 1, [_pad4(np.packbits(bits[r]).tobytes()) for r in up],
                        palette=[(0, 0, 0), (255, 255, 255)]),
        "b4": bmp_bytes(w, h, 4, [_pad4(pack4(nib[r])) for r in up],
                        palette=[(i * 16, i * 16, i * 16) for i in range(16)]),
    }
    out = {}
    for name, data in made.items():
        (d / f"{name}.bmp").write_bytes(data)
        out[name] = d / f"{name}.bmp"
    return out


# ---------------------------------------------------------------------------------------------
# running and comparing

_META_LINES = (b"(0002,0000)", b"(0002,0012)", b"(0002,0013)")


def dump(path: Path) -> bytes:
    r = run(dcmtk_cmd("dcmdump", ["+L", path]))
    assert r.rc == 0, r.stderr
    return r.stdout


def normalised(text: bytes, drop=()) -> bytes:
    """dcmdump text without the lines that name the implementation (or ``drop``)."""
    keep = [line for line in text.splitlines(keepends=True)
            if not line.startswith(_META_LINES) and not any(t in line for t in drop)]
    return b"".join(keep)


def convert(tool_cmd, out: Path, *args) -> tuple:
    r = run(tool_cmd("img2dcm", [*args, out]))
    return r, out


def both(tmp_path: Path, *args, uids=True) -> tuple:
    """Run DCMTK's img2dcm and ours with the same arguments; return both results and files."""
    extra = UIDS if uids else []
    theirs = convert(dcmtk_cmd, tmp_path / "dcmtk.dcm", *extra, *args)
    ours = convert(our_cmd, tmp_path / "ours.dcm", *extra, *args)
    return theirs, ours


def dciodvfy_errors(path: Path) -> list[str]:
    r = run(["/usr/bin/dciodvfy", str(path)])
    text = (r.stdout + r.stderr).decode("latin-1")
    return [line for line in text.splitlines() if line.startswith("Error")]


LATERALITY = b"(0020,0060) CS (no value available)"


def assert_same(tmp_path, *args, drop=(), ours_only=(LATERALITY,)):
    (rt, ft), (ro, fo) = both(tmp_path, *args)
    assert rt.rc == 0, rt.stderr
    assert ro.rc == 0, ro.stderr
    expected = normalised(dump(ft), drop)
    actual = normalised(dump(fo), drop + ours_only)
    assert expected == actual, compact_diff(expected, actual)
    assert all(t in dump(fo) for t in ours_only)
    assert dciodvfy_errors(fo) == []
    return ft, fo


# ---------------------------------------------------------------------------------------------
# the command line

def test_help_matches_dcmtk():
    theirs = run(dcmtk_cmd("img2dcm", ["--help"])).stdout.splitlines()[1:]
    ours = run(our_cmd("img2dcm", ["--help"])).stdout.splitlines()[1:]
    assert len(theirs) == len(ours)
    diff = [(a, b) for a, b in zip(theirs, ours) if a != b]
    # the one difference: we read PNG as well
    assert diff == [(b" " * 33 + b"supported formats: JPEG (default), BMP",
                     b" " * 33 + b"supported formats: JPEG (default), BMP, PNG")]


def test_no_arguments_prints_help_and_unknown_option_fails():
    assert run(our_cmd("img2dcm", [])).rc == 0
    r = run(our_cmd("img2dcm", ["--bogus", "a", "b"]))
    assert r.rc == 1 and b"Unknown option --bogus" in r.stderr


# ---------------------------------------------------------------------------------------------
# JPEG

@pytest.mark.parametrize("name", ["rgb", "grey", "progressive", "444", "restart", "extended8",
                                  "extended12", "progressive12", "comment"])
@pytest.mark.parametrize("iod", ["-sc", "-nsc", "-vlp"])
def test_jpeg_matches_dcmtk(inputs, tmp_path, name, iod):
    if iod == "-vlp" and name.endswith("12"):
        (rt, _), (ro, fo) = both(tmp_path, iod, inputs[name])
        assert rt.rc == 1 and ro.rc == 1 and not fo.exists()    # both refuse 12 bits
        return
    _, fo = assert_same(tmp_path, iod, inputs[name])
    assert fo.read_bytes().find(inputs[name].read_bytes()[-200:]) > 0   # stored, not re-encoded


@pytest.mark.parametrize("opts", [["-rc"], ["-ka"], ["-jf"], ["-i", "JPEG"]])
def test_jpeg_options_match_dcmtk(inputs, tmp_path, opts):
    assert_same(tmp_path, *opts, inputs["comment"])


@pytest.mark.parametrize("opts,name", [(["-dp"], "progressive"), (["-de"], "extended8"),
                                       ([], "arithmetic")])
def test_jpeg_refused_like_dcmtk(inputs, tmp_path, opts, name):
    (rt, ft), (ro, fo) = both(tmp_path, *opts, inputs[name])
    assert rt.rc == 1 and ro.rc == 1
    assert not ft.exists() and not fo.exists()
    assert ro.stderr.count(b"\n") == 1 and ro.stderr.startswith(b"F: ")
    assert b"not supported" in ro.stderr and str(inputs[name]).encode() in ro.stderr


def test_jpeg_decodes_like_dcmtk_conversion(inputs, tmp_path):
    """GDCM decodes our file and DCMTK's to the same pixels (the same JPEG stream)."""
    (rt, ft), (ro, fo) = both(tmp_path, inputs["rgb"])
    raw = []
    for f in (ft, fo):
        out = tmp_path / (f.stem + "_raw.dcm")
        assert run(["/usr/bin/gdcmconv", "--raw", str(f), str(out)]).rc == 0
        raw.append(pydicom.dcmread(out).PixelData)
    assert raw[0] == raw[1] and len(raw[0]) >= 37 * 53 * 3


def _djpeg(path: Path) -> np.ndarray:
    r = run(["/usr/bin/djpeg", "-pnm", str(path)])
    head, _, rest = r.stdout.partition(b"\n")
    dims, _, rest = rest.partition(b"\n")
    w, h = map(int, dims.split())
    return np.frombuffer(rest.partition(b"\n")[2], np.uint8).reshape(h, w, -1)


def _dcmdjpeg_pixels(path: Path, tmp_path: Path) -> np.ndarray:
    out = tmp_path / (path.stem + "_dj.dcm")
    r = run(dcmtk_cmd("dcmdjpeg", [path, out]))
    assert r.rc == 0, r.stderr
    ds = pydicom.dcmread(out)
    dtype = np.uint8 if ds.BitsAllocated == 8 else np.uint16
    shape = (ds.Rows, ds.Columns) + ((3,) if ds.SamplesPerPixel == 3 else ())
    return np.frombuffer(ds.PixelData, dtype)[:int(np.prod(shape))].reshape(shape)


def test_rgb_jpeg_difference(inputs, tmp_path):
    """DIFFERENCES['rgb-jpeg']: dcmdjpeg decodes our file as libjpeg does; DCMTK's not."""
    (rt, ft), (ro, fo) = both(tmp_path, inputs["adobe-rgb"])
    assert rt.rc == 0 and ro.rc == 0
    assert pydicom.dcmread(fo).PhotometricInterpretation == "RGB"
    assert pydicom.dcmread(ft).PhotometricInterpretation == "YBR_FULL_422"
    reference = _djpeg(inputs["adobe-rgb"]).astype(int)
    assert np.abs(_dcmdjpeg_pixels(fo, tmp_path).astype(int) - reference).max() <= 1
    assert np.abs(_dcmdjpeg_pixels(ft, tmp_path).astype(int) - reference).max() > 100
    assert dciodvfy_errors(fo) == []


@pytest.mark.parametrize("name,ts", [("lossless-sv1", "1.2.840.10008.1.2.4.70"),
                                     ("lossless-16", "1.2.840.10008.1.2.4.57"),
                                     ("lossless-rgb", "1.2.840.10008.1.2.4.70")])
def test_lossless_jpeg(inputs, tmp_path, name, ts):
    """DIFFERENCES['lossless']: DCMTK refuses SOF3; ours decodes (dcmdjpeg) to the source pixels."""
    (rt, ft), (ro, fo) = both(tmp_path, inputs[name])
    assert rt.rc == 1 and b"SOF3" in rt.stderr and not ft.exists()
    assert ro.rc == 0, ro.stderr
    ds = pydicom.dcmread(fo)
    assert ds.file_meta.TransferSyntaxUID == ts and "LossyImageCompression" not in ds
    source = pydicom.dcmread(inputs[name].with_name(name + "_src.dcm"))
    decoded = _dcmdjpeg_pixels(fo, tmp_path).tobytes()
    assert decoded == source.PixelData[:len(decoded)] and len(decoded) >= 37 * 53
    assert dciodvfy_errors(fo) == []


def test_aspect_ratio_difference(inputs, tmp_path):
    """DIFFERENCES['aspect']: X density 2, Y density 1 -> pixels twice as high as wide."""
    (rt, ft), (ro, fo) = both(tmp_path, inputs["aspect"])
    assert [int(v) for v in pydicom.dcmread(ft).PixelAspectRatio] == [1, 2]
    assert [int(v) for v in pydicom.dcmread(fo).PixelAspectRatio] == [2, 1]
    expected = normalised(dump(ft), (b"(0028,0034)",))
    assert expected == normalised(dump(fo), (b"(0028,0034)", LATERALITY))


def test_laterality_difference(inputs, tmp_path):
    """DIFFERENCES['laterality']: dciodvfy's verdict on DCMTK's file and on ours."""
    (rt, ft), (ro, fo) = both(tmp_path, inputs["rgb"])
    assert any("Laterality" in e for e in dciodvfy_errors(ft))
    assert dciodvfy_errors(fo) == []


def test_multiframe_matches_dcmtk(inputs, tmp_path):
    ft, fo = assert_same(tmp_path, "-nsc", inputs["rgb"], inputs["444"], inputs["rgb"])
    assert pydicom.dcmread(fo).NumberOfFrames == 3


def test_multiframe_mixed_processes_difference(inputs, tmp_path):
    """DIFFERENCES['mixed-frames']"""
    (rt, ft), (ro, fo) = both(tmp_path, "-nsc", inputs["rgb"], inputs["progressive"])
    assert rt.rc == 0 and ro.rc == 1 and not fo.exists()
    assert b"frame 2 differs from frame 1 in transfer_syntax" in ro.stderr


def test_multiframe_refused_for_single_frame_iods(inputs, tmp_path):
    (rt, ft), (ro, fo) = both(tmp_path, inputs["rgb"], inputs["rgb"])
    assert rt.rc == 1 and ro.rc == 1 and not fo.exists()
    assert b"does not support multiframe images" in ro.stderr


# ---------------------------------------------------------------------------------------------
# patient/study/series from files, templates, keys, checks

@pytest.fixture(scope="module")
def reference_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("img2dcm-ref")
    texts = {
        "study": """(0008,0005) CS [ISO_IR 100]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.3.4.100]
(0008,0020) DA [20200101]
(0008,0030) TM [101010]
(0008,0050) SH [ACC1]
(0008,0060) CS [CT]
(0008,0070) LO [ACME]
(0008,0090) PN [Ref^Doc]
(0008,1030) LO [Study desc]
(0010,0010) PN [M\xfcller^J\xfcrgen]
(0010,0020) LO [PID1]
(0010,0030) DA [19600101]
(0010,0040) CS [M]
(0020,000d) UI [1.2.3.4.1]
(0020,000e) UI [1.2.3.4.2]
(0020,0010) SH [SID1]
(0020,0011) IS [7]
(0020,0013) IS [41]
(0020,0060) CS [L]
(0028,0010) US 2
""",
        "template": """(0008,0008) CS [ORIGINAL\\PRIMARY]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.3.4.100]
(0010,0010) PN [Doe^John]
(0020,000d) UI [1.2.3.4.1]
(0028,0002) US 3
(0028,0004) CS [RGB]
(0028,0006) US 1
(0028,0008) IS [5]
(0028,0009) AT (0018,1063)
(0028,0010) US 2
(0028,1050) DS [100]
(0028,1051) DS [200]
(0029,0010) LO [PRIV]
(0029,1010) LO [privval]
(7fe0,0010) OW 0000\\0000
""",
    }
    out = {}
    for name, text in texts.items():
        (d / f"{name}.txt").write_bytes(text.encode("latin-1"))
        r = run(dcmtk_cmd("dump2dcm", [d / f"{name}.txt", d / f"{name}.dcm"]))
        assert r.rc == 0, r.stderr
        out[name] = d / f"{name}.dcm"
    return out


@pytest.mark.parametrize("opts", [["-stf"], ["-sef"], ["-ii", "-sef"], ["-df"]])
def test_reference_files_match_dcmtk(inputs, reference_files, tmp_path, opts):
    # the study file has a Laterality, which -df copies
    assert_same(tmp_path, *opts, reference_files["study"], inputs["grey"],
                ours_only=() if opts == ["-df"] else (LATERALITY,))


def test_dataset_from_xml_errors(inputs, tmp_path):
    """-dx with a broken or missing XML file: one line, exit 1, no output file. (Its comparison
    with DCMTK waits for dcmpy's XML reader, dcmpy.dcmdata.xmlread.)"""
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<file-format><data-set><element tag=")
    for xml in (bad, tmp_path / "missing.xml"):
        r = run(our_cmd("img2dcm", ["-dx", xml, inputs["grey"], tmp_path / "x.dcm"]))
        assert r.rc == 1 and r.stderr.count(b"\n") == 1 and xml.name.encode() in r.stderr
        assert r.stderr.startswith(b"F: Error converting file: ")
    assert not (tmp_path / "x.dcm").exists()


def test_template_frames_difference(inputs, reference_files, tmp_path):
    """DIFFERENCES['template-frames']"""
    drop = (b"(0028,0008)", b"(0028,0009)")
    ft, fo = assert_same(tmp_path, "-df", reference_files["template"], inputs["grey"], drop=drop)
    assert pydicom.dcmread(ft).NumberOfFrames == 5
    assert "NumberOfFrames" not in pydicom.dcmread(fo)


@pytest.mark.parametrize("opts", [
    ["--no-checks"], ["-i1"], ["-i2"], ["-i2", "-vlp"],
    ["-k", "PatientName=Doe^Jane", "-k", "(0008,0060)=OT", "-k", "0020,0011=3"],
    ["-k", "AnatomicRegionSequence[0].CodeValue=T-D1100", "-k", "Laterality=R"],
    ["-k", "ConversionType=", "-i1"], ["+g", "-e", "-F"], ["-g"],
])
def test_processing_options_match_dcmtk(inputs, tmp_path, opts):
    (rt, ft), (ro, fo) = both(tmp_path, *opts, inputs["rgb"])
    assert rt.rc == ro.rc, (rt.stderr, ro.stderr)
    assert ft.exists() == fo.exists()
    if rt.rc == 0:
        laterality = () if "--no-checks" in opts or "Laterality=R" in opts else (LATERALITY,)
        expected = normalised(dump(ft), (b"(0020,0000)",))    # Laterality adds to group 0020
        actual = normalised(dump(fo), laterality + (b"(0020,0000)",))
        assert expected == actual, compact_diff(expected, actual)
    else:
        assert ro.stderr.startswith(b"F: ") and b"Missing type" in ro.stderr


def test_padding_difference(inputs, tmp_path):
    """DIFFERENCES['padding']: +p is honoured (DCMTK's img2dcm accepts it and writes no padding)."""
    (rt, ft), (ro, fo) = both(tmp_path, "+p", "256", "0", inputs["rgb"])
    assert rt.rc == 0 and ro.rc == 0
    assert ft.stat().st_size % 256 != 0 and b"(fffc,fffc)" not in dump(ft)
    assert fo.stat().st_size % 256 == 0 and b"(fffc,fffc)" in dump(fo)
    assert dciodvfy_errors(fo) == []


def test_oph_photo(inputs, tmp_path):
    """-oph with the type 1 values it cannot invent; DIFFERENCES['oph-anatomy']."""
    keys = ["-k", "ImageLaterality=R", "-k", "ContentDate=20240101", "-k", "ContentTime=1200",
            "-k", "AcquisitionDateTime=202401011200",
            "-k", "SynchronizationFrameOfReferenceUID=1.2.826.0.1.3680043.2.1143.9",
            "-k", "AcquisitionDeviceTypeCodeSequence[0].CodeValue=R-1021A",
            "-k", "AcquisitionDeviceTypeCodeSequence[0].CodingSchemeDesignator=SRT",
            "-k", "AcquisitionDeviceTypeCodeSequence[0].CodeMeaning=Fundus Camera"]
    anatomy = (b"    (0008,0100) SH [", b"    (0008,0104) LO [")
    ft, fo = assert_same(tmp_path, "-oph", *keys, inputs["rgb"], drop=anatomy, ours_only=())
    region = pydicom.dcmread(fo).AnatomicRegionSequence[0]
    assert (region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning) == \
        ("81745001", "SCT", "Eye")
    assert pydicom.dcmread(ft).AnatomicRegionSequence[0].CodeValue == "Eye"
    (tmp_path / "bare").mkdir()
    (rt, _), (ro, bare) = both(tmp_path / "bare", "-oph", inputs["rgb"])
    assert rt.rc == 1 and ro.rc == 1 and b"ImageLaterality" in ro.stderr and not bare.exists()


def test_character_set_of_study_file(inputs, reference_files, tmp_path):
    """A Latin-1 name from -stf stays Latin-1 (ISO_IR 100) in our file, as in DCMTK's."""
    (rt, ft), (ro, fo) = both(tmp_path, "-stf", reference_files["study"], inputs["grey"])
    ds = pydicom.dcmread(fo)
    assert ds.SpecificCharacterSet == "ISO_IR 100" and ds.PatientName == "Müller^Jürgen"


# ---------------------------------------------------------------------------------------------
# BMP and PNG

@pytest.mark.parametrize("name", ["b24", "b24-topdown", "b32", "b8", "b8-grey", "b16", "b1", "b4"])
def test_bmp_matches_dcmtk(inputs, tmp_path, name):
    ft, fo = assert_same(tmp_path, "-i", "BMP", inputs[name])
    assert pydicom.dcmread(ft).PixelData == pydicom.dcmread(fo).PixelData


def test_bmp_pixels_read_back(inputs, tmp_path):
    r = run(our_cmd("img2dcm", ["-i", "BMP", inputs["b24"], tmp_path / "o.dcm"]))
    assert r.rc == 0
    assert np.array_equal(pydicom.dcmread(tmp_path / "o.dcm").pixel_array, _rgb()[:5, :7])


def _png_cases() -> dict[str, tuple]:
    rgb = _rgb(9, 11)
    grey = rgb[..., 1].copy()
    y, x = np.mgrid[0:9, 0:11]
    pal = np.array([(i, 255 - i, (i * 7) % 256) for i in range(16)], np.uint8)
    idx = ((x + y) % 16).astype(np.uint8)
    g16 = ((x * 5000 + y * 300) % 65536).astype(np.uint16)
    return {
        # name: (png bytes, expected pixels, BMP twin for DCMTK or None)
        "rgb8": (png_bytes(rgb, 2, 8), rgb, "rgb"),
        "rgb8-interlaced": (png_bytes(rgb, 2, 8, interlace=True), rgb, "rgb"),
        "grey8": (png_bytes(grey, 0, 8), grey, "grey"),
        "grey4": (png_bytes(idx, 0, 4), idx.astype(np.uint16) * 255 // 15, None),
        "grey1-interlaced": (png_bytes((x + y) % 2, 0, 1, interlace=True),
                             ((x + y) % 2 * 255).astype(np.uint8), None),
        "grey16": (png_bytes(g16, 0, 16), g16, None),
        "rgb16": (png_bytes(np.stack([g16, g16 // 2, g16 // 3], -1), 2, 16),
                  np.stack([g16, g16 // 2, g16 // 3], -1), None),
        "palette4": (png_bytes(idx, 3, 4, palette=pal), pal[idx], None),
        "rgba8": (png_bytes(np.concatenate([rgb, np.full((9, 11, 1), 255, np.uint8)], -1), 6, 8),
                  rgb, "rgb"),
        "grey-alpha16": (png_bytes(np.stack([g16, np.full_like(g16, 1000)], -1), 4, 16), g16,
                         None),
    }


@pytest.mark.parametrize("name", list(_png_cases()))
def test_png(tmp_path, name):
    """DIFFERENCES['png']: pixels read back by pydicom equal the PNG's; 8-bit images give the
    same file as DCMTK's conversion of the same pixels from a BMP."""
    data, expected, twin = _png_cases()[name]
    (tmp_path / "in.png").write_bytes(data)
    r = run(our_cmd("img2dcm", ["-i", "PNG", *UIDS, tmp_path / "in.png", tmp_path / "o.dcm"]))
    assert r.rc == 0, r.stderr
    assert (b"alpha" in r.stderr) == (name == "grey-alpha16")
    ds = pydicom.dcmread(tmp_path / "o.dcm")
    assert np.array_equal(ds.pixel_array, expected.astype(ds.pixel_array.dtype))
    assert dciodvfy_errors(tmp_path / "o.dcm") == []
    if twin:
        h, w = expected.shape[:2]
        rows = [_pad4(expected[r, :, ::-1].tobytes() if expected.ndim == 3 else
                      expected[r].tobytes()) for r in range(h - 1, -1, -1)]
        bmp = bmp_bytes(w, h, 24 if expected.ndim == 3 else 8, rows,
                        palette=None if expected.ndim == 3 else [(i, i, i) for i in range(256)])
        (tmp_path / "twin.bmp").write_bytes(bmp)
        rt = run(dcmtk_cmd("img2dcm", ["-i", "BMP", *UIDS, tmp_path / "twin.bmp",
                                       tmp_path / "t.dcm"]))
        assert rt.rc == 0, rt.stderr
        expected_dump = normalised(dump(tmp_path / "t.dcm"))
        assert expected_dump == normalised(dump(tmp_path / "o.dcm"), (LATERALITY,))


# ---------------------------------------------------------------------------------------------
# bad input: one line naming the file and the cause, exit code 1, no output file

def _bad_cases(inputs) -> dict[str, tuple[str, bytes, bytes]]:
    jpeg = inputs["rgb"].read_bytes()
    sof = jpeg.find(b"\xff\xc0")
    lying_segment = jpeg[:sof + 2] + b"\xff\xf0" + jpeg[sof + 4:]
    bmp = inputs["b24"].read_bytes()
    rgb = _rgb(9, 11)
    png = png_bytes(rgb, 2, 8)
    idat = png.find(b"IDAT")
    bad_crc = bytearray(png)
    bad_crc[idat + 10] ^= 0xFF
    bad_zlib = _rechunk(png, b"IDAT", zlib.compress(b"\0" * 10)[:-6] + b"\xde\xad")
    return {
        "empty": ("JPEG", b"", b"file is empty"),
        "not-jpeg": ("JPEG", b"%PDF-1.4 hello", b"not a JPEG file"),
        "jpeg-truncated": ("JPEG", jpeg[:len(jpeg) // 2], b"truncated"),
        "jpeg-header-only": ("JPEG", jpeg[:sof + 6], b"beyond the end"),
        "jpeg-lying-length": ("JPEG", lying_segment, b"beyond the end"),
        "jpeg-no-sof": ("JPEG", b"\xff\xd8\xff\xd9", b"no SOF marker"),
        "bmp-offset-beyond-file": ("BMP", bmp[:10] + struct.pack("<I", 10 ** 6) + bmp[14:],
                                   b"lies outside the file"),
        "bmp-huge-size": ("BMP", bmp[:18] + struct.pack("<ii", 60000, 60000) + bmp[26:],
                          b"lies outside the file"),
        "bmp-too-large-for-dicom": ("BMP", bmp[:18] + struct.pack("<ii", 70000, 1) + bmp[26:],
                                    b"outside 1..65535"),
        "bmp-palette-index": ("BMP", bmp_bytes(3, 1, 8, [b"\x00\x05\x01\x00"],
                                               palette=[(0, 0, 0), (9, 9, 9)]),
                              b"pixel value 5 in row 0 is beyond the 2 colour table entries"),
        "bmp-rle": ("BMP", bmp_bytes(3, 1, 8, [b"\x00" * 4], palette=[(0, 0, 0)] * 2,
                                     compression=1), b"RLE8"),
        "not-bmp": ("BMP", b"GIF89a" + bytes(40), b"not a BMP file"),
        "png-bad-crc": ("PNG", bytes(bad_crc), b"bad CRC"),
        "png-bad-zlib": ("PNG", bad_zlib, b"zlib stream"),
        "png-truncated": ("PNG", png[:idat + 20], b"beyond the end of the data"),
        "png-huge": ("PNG", _rechunk(png, b"IHDR", struct.pack(">IIBBBBB", 65535, 65535, 16, 6,
                                                               0, 0, 0)), b"too large"),
        "png-no-iend": ("PNG", png[:-12], b"no IEND chunk"),
        "not-png": ("PNG", b"\x89PNX" + bytes(30), b"not a PNG file"),
    }


def _rechunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """``png`` with the body of its first ``kind`` chunk replaced (CRC recomputed)."""
    at = png.find(kind) - 4
    length = struct.unpack(">I", png[at:at + 4])[0]
    new = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:at] + new + png[at + 12 + length:]


BAD = ["empty", "not-jpeg", "jpeg-truncated", "jpeg-header-only", "jpeg-lying-length",
       "jpeg-no-sof", "bmp-offset-beyond-file", "bmp-huge-size", "bmp-too-large-for-dicom",
       "bmp-palette-index", "bmp-rle", "not-bmp", "png-bad-crc", "png-bad-zlib", "png-truncated",
       "png-huge", "png-no-iend", "not-png"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input(inputs, tmp_path, case):
    fmt, data, cause = _bad_cases(inputs)[case]
    src = tmp_path / f"{case}.img"
    src.write_bytes(data)
    out = tmp_path / "out.dcm"
    r = run(our_cmd("img2dcm", ["-i", fmt, src, out]), timeout=60)
    assert r.rc == 1, r.stderr
    assert r.stderr.count(b"\n") == 1 and r.stderr.startswith(b"F: "), r.stderr
    assert cause in r.stderr and str(src).encode() in r.stderr, r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == [src.name]


def test_bad_input_dcmtk_verdicts(inputs, tmp_path):
    """DCMTK refuses the same files (exit 1), the out-of-range palette index included (its
    unpatched BMP reader read beyond the colour table)."""
    cases = _bad_cases(inputs)
    for case in ("empty", "not-jpeg", "jpeg-truncated", "bmp-offset-beyond-file", "not-bmp",
                 "bmp-palette-index", "bmp-rle"):
        fmt, data, _ = cases[case]
        src = tmp_path / f"{case}.img"
        src.write_bytes(data)
        fmt = "JPEG" if fmt == "PNG" else fmt
        r = run(dcmtk_cmd("img2dcm", ["-i", fmt, src, tmp_path / f"{case}.dcm"]), timeout=60)
        assert r.rc == 1, (case, r.stderr)


def test_missing_input_and_unwritable_output(inputs, tmp_path):
    r = run(our_cmd("img2dcm", [tmp_path / "nonexistent.jpg", tmp_path / "o.dcm"]))
    assert r.rc == 1 and r.stderr.startswith(b"F: ") and b"nonexistent.jpg" in r.stderr
    r = run(our_cmd("img2dcm", [inputs["rgb"], tmp_path / "no-dir" / "o.dcm"]))
    assert r.rc == 1 and r.stderr.startswith(b"E: ") and r.stderr.count(b"\n") == 1
    r = run(our_cmd("img2dcm", ["-i", "GIF", inputs["rgb"], tmp_path / "o.dcm"]))
    assert r.rc == 1 and b"No plugin for input format 'GIF'" in r.stderr
    r = run(our_cmd("img2dcm", ["-k", "NoSuchKeyword=1", inputs["rgb"], tmp_path / "o.dcm"]))
    assert r.rc == 1 and b"bad key 'NoSuchKeyword=1'" in r.stderr and r.stderr.count(b"\n") == 1
    assert not (tmp_path / "o.dcm").exists()


# ---------------------------------------------------------------------------------------------
# the library

def test_library_api(inputs):
    from dcmpy.dcmdata.imageimport import read_image
    from dcmpy.dcmdata.imageiod import ImageIODOptions, image_dataset
    from dcmpy.dcmdata.writer import dcmwrite
    image = read_image(inputs["grey"].read_bytes(), "JPEG")
    assert (image.rows, image.columns, image.photometric) == (37, 53, "MONOCHROME2")
    ds = image_dataset([image, image], ImageIODOptions(iod="nsc"))
    data = dcmwrite(None, ds)
    back = pydicom.dcmread(__import__("io").BytesIO(data))
    assert back.NumberOfFrames == 2 and back.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7.2"


def test_mutated_inputs_fail_cleanly(inputs):
    """Hypothesis flips, cuts and inserts bytes in a JPEG, a BMP and PNGs: the readers either
    read an image or raise ImageImportError, never anything else."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    from dcmpy.dcmdata.imageimport import ImageImportError, read_image
    seeds = [("JPEG", inputs["rgb"].read_bytes()), ("JPEG", inputs["progressive"].read_bytes()),
             ("BMP", inputs["b8"].read_bytes()), ("BMP", inputs["b16"].read_bytes()),
             ("PNG", _png_cases()["rgb8-interlaced"][0]), ("PNG", _png_cases()["palette4"][0])]

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(seeds), st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255),
                                                       st.sampled_from("xdi")), max_size=4))
    def check(seed, edits):
        fmt, data = seed
        data = bytearray(data)
        for where, byte, kind in edits:
            at = where % (len(data) + 1)
            if kind == "x" and at < len(data):
                data[at] ^= byte or 1
            elif kind == "d":
                del data[at:]
            else:
                data[at:at] = bytes([byte])
        try:
            image = read_image(bytes(data), fmt)
        except ImageImportError:
            return
        assert image.rows > 0 and image.columns > 0 and image.data

    check()


def test_bmp_bitfields(tmp_path):
    """BI_BITFIELDS BMPs (16-bit 5-6-5, 32-bit): DCMTK refuses them ('compressed'); we read them,
    each field scaled to 8 bits as DCMTK does for 5-5-5."""
    rgb = _rgb()[:5, :7]
    h, w = rgb.shape[:2]
    up = range(h - 1, -1, -1)
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    v565 = ((r >> 3) << 11 | (g >> 2) << 5 | b >> 3).astype("<u2")
    v32 = (r << 16 | g << 8 | b).astype("<u4")
    cases = {
        "565": (bmp_bytes(w, h, 16, [_pad4(v565[y].tobytes()) for y in up], compression=3,
                          masks=(0xF800, 0x07E0, 0x001F)),
                np.stack([(r >> 3) << 3, (g >> 2) << 2, (b >> 3) << 3], -1)),
        "x888": (bmp_bytes(w, h, 32, [v32[y].tobytes() for y in up], compression=3,
                           masks=(0xFF0000, 0xFF00, 0xFF)), rgb),
    }
    for name, (data, expected) in cases.items():
        src = tmp_path / f"{name}.bmp"
        src.write_bytes(data)
        rt = run(dcmtk_cmd("img2dcm", ["-i", "BMP", src, tmp_path / f"{name}-dcmtk.dcm"]))
        assert rt.rc == 1 and b"compressed" in rt.stderr
        ro = run(our_cmd("img2dcm", ["-i", "BMP", src, tmp_path / f"{name}.dcm"]))
        assert ro.rc == 0, ro.stderr
        ds = pydicom.dcmread(tmp_path / f"{name}.dcm")
        assert np.array_equal(ds.pixel_array, expected.astype(np.uint8))
