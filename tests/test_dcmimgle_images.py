"""The rendering corpus (images built with pydicom and NumPy) and unit tests of the
dcmimgle/dcmimage library: the pipeline stages against PS3.3's formulas, the NumPy API, and
bad input (short pixel data, lying LUT descriptors, bad windows, overlays past the image).

``image_corpus(dir)`` writes every image of ``IMAGES`` once per session; the dcm2pnm interop
tests (test_dcm2pnm_interop.py) render them with DCMTK and with us.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from dcmpy.dcmimgle.image import DicomImage, ImageError
from dcmpy.dcmimgle.voi import LINEAR_EXACT, Window

EXPLICIT_LE = "1.2.840.10008.1.2.1"


def _base(arr: np.ndarray, bits_allocated: int, bits_stored: int, signed: bool,
          photometric: str, **attrs) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "2.25.1234567"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = "2.25.1234567"
    ds.Modality = "OT"
    frames = arr.shape[0] if attrs.get("NumberOfFrames") else 1
    shape = arr.shape[1:] if frames > 1 or attrs.get("NumberOfFrames") else arr.shape
    ds.Rows, ds.Columns = shape[:2]
    ds.SamplesPerPixel = 1 if len(shape) == 2 else shape[2]
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = int(signed)
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def image(arr, bits_allocated=16, bits_stored=12, signed=False, photometric="MONOCHROME2",
          pixel_bytes: bytes | None = None, extra: dict | None = None, **attrs) -> Dataset:
    """A data set for ``arr`` (frames first when NumberOfFrames is given); ``extra`` maps
    tags to (VR, value)."""
    arr = np.asarray(arr)
    ds = _base(arr, bits_allocated, bits_stored, signed, photometric, **attrs)
    for tag, (vr, value) in (extra or {}).items():
        ds.add_new(tag, vr, value)
    if pixel_bytes is None:
        kind = "i" if signed else "u"
        words = arr.astype(f"<{kind}{bits_allocated // 8}").view(f"<u{bits_allocated // 8}")
        if bits_stored < bits_allocated:
            words = words & ((1 << bits_stored) - 1)
        if ds.SamplesPerPixel > 1 and getattr(ds, "PlanarConfiguration", 0) == 1:
            words = np.moveaxis(words, -1, -3)
        pixel_bytes = words.tobytes()
    ds.PixelData = pixel_bytes + (b"\0" if len(pixel_bytes) % 2 else b"")
    ds["PixelData"].VR = "OB" if bits_allocated == 8 else "OW"
    return ds


def lut_item(first: int, data, bits: int, vr: str = "OW", entries: int | None = None,
             explanation: str = "") -> Dataset:
    item = Dataset()
    n = len(data) if entries is None else entries
    item.add_new(0x00283002, "US", [n % 65536, first % 65536, bits])
    if explanation:
        item.LUTExplanation = explanation
    values = np.asarray(data)
    if vr == "OW":
        item.add_new(0x00283006, "OW", values.astype("<u2").tobytes())
    elif vr == "OB8":   # 8-bit entries packed two to a word
        raw = values.astype("u1").tobytes()
        item.add_new(0x00283006, "OW", raw + b"\0" * (len(raw) % 2))
    else:
        item.add_new(0x00283006, "US", [int(v) for v in values])
    return item


def overlay(group: int, bits: np.ndarray, origin=(1, 1), kind="G", frames: int | None = None):
    """Attributes of a separate overlay plane (bits: (rows, columns) or (frames, rows, cols))."""
    bits = np.asarray(bits, bool)
    rows, columns = bits.shape[-2:]
    packed = np.packbits(bits.reshape(-1), bitorder="little").tobytes()
    packed += b"\0" * (len(packed) % 2)
    tag = group << 16
    out = {tag | 0x0010: ("US", rows), tag | 0x0011: ("US", columns),
           tag | 0x0040: ("CS", kind), tag | 0x0050: ("SS", list(origin)),
           tag | 0x0100: ("US", 1), tag | 0x0102: ("US", 0), tag | 0x3000: ("OW", packed)}
    if frames:
        out[tag | 0x0015] = ("IS", str(frames))
    return out


def _ramp(n: int, shape=(64, 64), start: int = 0) -> np.ndarray:
    return (np.arange(shape[0] * shape[1]) % n + start).reshape(shape)


def _segmented(values_by_colour):
    return {tag: ("OW", np.asarray(words, "<u2").tobytes())
            for tag, words in zip((0x00281221, 0x00281222, 0x00281223), values_by_colour)}


def _builders() -> dict[str, callable]:
    global RNG
    RNG = np.random.default_rng(20261122)       # the same images in every session
    u12 = _ramp(4096)
    rand12 = RNG.integers(0, 4096, (40, 50))
    circle = (np.hypot(*np.mgrid[-32:32, -32:32]) < 20)
    b: dict[str, callable] = {
        "u8": lambda: image(_ramp(256, (16, 16)), 8, 8),
        "u12": lambda: image(u12),
        "u12_hb": lambda: image(u12, 16, 12, HighBit=13, pixel_bytes=(u12.astype("<u2") << 2).tobytes()),
        "s12": lambda: image(_ramp(4096, start=-2048), signed=True),
        "u16": lambda: image(np.arange(65536).reshape(256, 256), 16, 16),
        "s16_rand": lambda: image(RNG.integers(-32768, 32767, (60, 70)), 16, 16, True),
        "u10_odd": lambda: image(RNG.integers(0, 1024, (33, 37)), 16, 10),
        "m1": lambda: image(u12, photometric="MONOCHROME1"),
        "m1_window": lambda: image(u12, photometric="MONOCHROME1", WindowCenter="1000",
                                   WindowWidth="1500"),
        "rescale": lambda: image(u12, RescaleSlope="1", RescaleIntercept="-1024",
                                 WindowCenter=["40", "-600"], WindowWidth=["400", "1500"],
                                 WindowCenterWidthExplanation=["SOFT", "LUNG"]),
        "rescale_frac": lambda: image(u12, RescaleSlope="0.5", RescaleIntercept="-10.3"),
        "rescale_neg": lambda: image(rand12, RescaleSlope="-2.5", RescaleIntercept="100",
                                     WindowCenter="-2000", WindowWidth="3000"),
        "signed_rescale": lambda: image(RNG.integers(-2000, 2000, (50, 40)), 16, 16, True,
                                        RescaleSlope="1", RescaleIntercept="-1024",
                                        WindowCenter="40", WindowWidth="350"),
        "sigmoid": lambda: image(u12, WindowCenter="1000", WindowWidth="1500",
                                 VOILUTFunction="SIGMOID"),
        "window1": lambda: image(u12, WindowCenter="100.5", WindowWidth="1"),
        "window_bad": lambda: image(u12, WindowCenter="100", WindowWidth="0"),
        "presentation_inverse": lambda: image(u12, PresentationLUTShape="INVERSE"),
        "voilut12": lambda: image(u12, VOILUTSequence=Sequence([lut_item(
            500, np.sqrt(np.arange(1024) / 1023) * 4095, 12, explanation="SQRT")])),
        "voilut8": lambda: image(u12, VOILUTSequence=Sequence([
            lut_item(2000, np.arange(300) * 255 // 299, 8, "US"),
            lut_item(0, np.arange(4096) // 16, 8, "OB8")])),
        "voilut16": lambda: image(u12, VOILUTSequence=Sequence([lut_item(
            100, (np.arange(3000) * 21.8).astype(int), 16)])),
        "mlut": lambda: image(u12, ModalityLUTSequence=Sequence([lut_item(
            0, (4095 - np.arange(4096)) // 2, 12)]), WindowCenter="500", WindowWidth="600"),
        "mlut_short_range": lambda: image(rand12, ModalityLUTSequence=Sequence([lut_item(
            1000, np.arange(2000) * 8, 16)])),
        "multiframe": lambda: image(np.stack([u12, u12[::-1], 4095 - u12]), NumberOfFrames=3,
                                    WindowCenter="2048", WindowWidth="4096"),
        "overlay": lambda: image(rand12, extra=overlay(0x6000, RNG.random((40, 50)) < 0.1)),
        "overlay_two": lambda: image(u12, extra={**overlay(0x6000, circle),
                                     **overlay(0x6002, circle[::2, ::2], origin=(10, 30))}),
        "overlay_past_edge": lambda: image(u12, extra=overlay(0x6004, np.ones((20, 20)), (55, -5))),
        "overlay_roi": lambda: image(u12, extra=overlay(0x6000, circle, kind="R")),
        "overlay_frames": lambda: image(np.stack([u12] * 2), NumberOfFrames=2,
                                        extra=overlay(0x6000, np.stack([circle, ~circle]), frames=2)),
        "overlay_embedded": lambda: image(
            u12, 16, 12, pixel_bytes=(u12.astype("<u2") | (circle.astype("<u2") << 15)).tobytes(),
            extra={0x60000010: ("US", 64), 0x60000011: ("US", 64), 0x60000040: ("CS", "G"),
               0x60000050: ("SS", [1, 1]), 0x60000100: ("US", 16), 0x60000102: ("US", 15)}),
        "rgb8": lambda: image(RNG.integers(0, 256, (48, 40, 3)), 8, 8, photometric="RGB"),
        "rgb8_planar": lambda: image(RNG.integers(0, 256, (20, 30, 3)), 8, 8, photometric="RGB",
                                     PlanarConfiguration=1),
        "rgb12": lambda: image(RNG.integers(0, 4096, (30, 30, 3)), 16, 12, photometric="RGB"),
        "rgb16": lambda: image(RNG.integers(0, 65536, (30, 30, 3)), 16, 16, photometric="RGB"),
        "ybr8": lambda: image(RNG.integers(0, 256, (48, 40, 3)), 8, 8, photometric="YBR_FULL"),
        "ybr12": lambda: image(RNG.integers(0, 4096, (30, 30, 3)), 16, 12,
                               photometric="YBR_FULL"),
        "ybr422": lambda: image(np.zeros((32, 32, 3)), 8, 8, photometric="YBR_FULL_422",
                                pixel_bytes=RNG.integers(0, 256, 32 * 32 * 2).astype("u1").tobytes()),
        "ybr_partial422": lambda: image(np.zeros((32, 32, 3)), 8, 8,
                                        photometric="YBR_PARTIAL_422",
                                        pixel_bytes=RNG.integers(0, 256, 32 * 32 * 2).astype("u1").tobytes()),
        "palette8": lambda: image(RNG.integers(0, 256, (40, 40)), 8, 8,
                                  photometric="PALETTE COLOR", extra=_palette(256, 0, 8)),
        "palette16": lambda: image(RNG.integers(0, 300, (40, 40)), 16, 16,
                                   photometric="PALETTE COLOR", extra=_palette(200, 50, 16)),
        "palette_segmented": lambda: image(
            RNG.integers(0, 256, (40, 40)), 8, 8, photometric="PALETTE COLOR",
            extra={0x00281101: ("US", [256, 0, 16]), 0x00281102: ("US", [256, 0, 16]),
                   0x00281103: ("US", [256, 0, 16]), **_segmented([[0, 1, 0, 1, 255, 65535], [0, 2, 100, 200, 1, 100, 5000, 1, 154, 60000],
                          [0, 1, 65535, 1, 127, 0, 0, 1, 0, 2, 1, 0, 0, 1, 126, 30000]])}),
        "short_pixels": lambda: image(u12, pixel_bytes=u12.astype("<u2").tobytes()[:5000]),
        "short_pixels_m1": lambda: image(u12, photometric="MONOCHROME1", RescaleIntercept="-100",
                                         RescaleSlope="1",
                                         pixel_bytes=u12.astype("<u2").tobytes()[:3000]),
    }
    return b


def _palette(entries: int, first: int, bits: int) -> dict:
    out = {}
    scale = 255 if bits == 8 else 65535
    ramps = [np.linspace(0, scale, entries), np.linspace(scale, 0, entries),
             (np.sin(np.linspace(0, 3, entries)) ** 2) * scale]
    for i, ramp in enumerate(ramps):
        out[0x00281101 + i] = ("US", [entries % 65536, first, bits])
        out[0x00281201 + i] = ("OW", ramp.astype("<u2").tobytes())
    return out


IMAGES = sorted(_builders())


def image_corpus(folder: Path) -> dict[str, Path]:
    """Write every image of ``IMAGES`` into ``folder`` (once) and return name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in _builders().items():
        path = folder / f"{name}.dcm"
        if not path.exists():
            build().save_as(path, enforce_file_format=True)
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, Path]:
    return image_corpus(tmp_path_factory.mktemp("dcmimgle"))


# -- the library --------------------------------------------------------------------------------
def test_interim_values_are_the_modality_transform(images) -> None:
    img = DicomImage(images["rescale_frac"])
    stored = img.stored(0).astype(np.float64)
    assert np.array_equal(img.interim(0), np.trunc(stored * 0.5 - 10.3))
    assert img.interim(0).shape == (64, 64)


def test_frames_are_decoded_on_demand(images) -> None:
    img = DicomImage(images["multiframe"], 0, 0)
    assert img.count == 3 and not img._cache
    third = img.render(2)
    assert list(img._cache) == [2]
    assert third.dtype == np.uint8 and third.shape == (64, 64)


def test_window_linear_follows_ps33(images) -> None:
    img = DicomImage(images["u12"])
    img.set_window(1000, 500)
    out = img.render(0, 16).astype(np.float64)
    x = img.interim(0).astype(np.float64)
    c, w = 1000, 500
    expect = np.where(x <= c - 0.5 - (w - 1) / 2, 0,
                      np.where(x > c - 0.5 + (w - 1) / 2, 65535,
                               ((x - (c - 0.5)) / (w - 1) + 0.5) * 65535))
    assert np.abs(out - expect).max() < 1.0


def test_linear_exact_follows_ps33(images) -> None:
    """LINEAR_EXACT (PS3.3 C.11.2.1.3.2); DCMTK 3.6.7 does not know it (see the interop test)."""
    img = DicomImage(images["u12"])
    img.set_window(1000.25, 0.5, LINEAR_EXACT)
    x = img.interim(0)
    out = img.render(0, 8)
    assert (out[x <= 1000] == 0).all() and (out[x >= 1001] == 255).all()
    img.set_window(2000, 1000, LINEAR_EXACT)
    out = img.render(0, 8).astype(np.float64)
    x = img.interim(0).astype(np.float64)
    expect = np.clip(np.trunc(((x - 2000) / 1000 + 0.5) * 255), 0, 255)
    assert np.array_equal(out, expect)


@pytest.mark.parametrize("center,width,function", [(100, 0.5, "LINEAR"), (10, 0, "SIGMOID"),
                                                   (0, -3, LINEAR_EXACT), (0, 0, LINEAR_EXACT)])
def test_bad_window_widths_are_refused(images, center, width, function) -> None:
    img = DicomImage(images["u12"])
    with pytest.raises(ValueError, match="width"):
        img.set_window(center, width, function)
    with pytest.raises(ValueError, match="width"):
        Window(center, width, function).check()


def test_short_pixel_data_is_padded_with_zeros(images) -> None:
    img = DicomImage(images["short_pixels"])
    stored = img.stored(0).reshape(-1)
    assert (stored[2500:] == 0).all() and (stored[:2500] == np.arange(2500) % 4096).all()


@pytest.mark.parametrize("data,entries", [(np.arange(100), 200), (np.arange(10), 4096)])
def test_lut_shorter_than_its_descriptor_uses_what_is_there(images, data, entries) -> None:
    """DCMTK's fallback ("invalid value for 'NumberOfTableEntries' ... assuming n"): the
    entries present are used; nothing is read past them."""
    from pydicom import dcmread
    from dcmpy.dcmimgle.lut import read_table
    ds = dcmread(images["u12"])
    ds.VOILUTSequence = Sequence([lut_item(0, data, 12, entries=entries)])
    img = DicomImage(_to_dcmpy(ds))
    table = read_table(img.voi_luts[0], "VOI LUT 1", False)
    assert table.entries == len(data)
    img.use_voi_lut(0)
    assert img.render(0).max() == int(data.max() * 256 / 4096)


def test_empty_lut_data_is_an_error(images) -> None:
    from pydicom import dcmread
    ds = dcmread(images["u12"])
    item = lut_item(0, np.arange(10), 12)
    item.add_new(0x00283006, "OW", b"")
    ds.VOILUTSequence = Sequence([item])
    img = DicomImage(_to_dcmpy(ds))
    with pytest.raises(ImageError, match="LUT Data is"):
        img.use_voi_lut(0)


def test_lut_lookup_clamps_out_of_range_values() -> None:
    from dcmpy.dcmimgle.lut import LookupTable
    table = LookupTable(first=10, bits=8, data=np.array([1, 2, 3], np.uint16))
    assert table.lookup(np.array([-100000, 9, 10, 12, 13, 10 ** 9])).tolist() == [1, 1, 1, 3, 3, 3]


def test_cython_lut_clamps_indices() -> None:
    from dcmpy._ext.lut import apply_lut
    table = np.array([5, 6, 7], np.uint8)
    src = np.array([-50, 0, 1, 2, 3, 40000], np.int32)
    out = np.empty(6, np.uint8)
    apply_lut(src, table, 1, out)
    assert out.tolist() == [5, 5, 5, 6, 7, 7]


def test_overlay_past_the_image_is_clipped(images) -> None:
    img = DicomImage(images["overlay_past_edge"])
    assert img.show_overlay(0)
    out = img.render(0)
    assert (out[54:, :14] == 255).all()       # origin (55, -5): rows 55.., columns -5..14
    img.hide_overlays()
    assert not (img.render(0)[54:, :14] == 255).all()


def test_segmented_palette_expands_discrete_linear_and_indirect(images) -> None:
    img = DicomImage(images["palette_segmented"])
    red, green, blue = img.color.palette.tables.astype(int)
    assert red[0] == 0 and red[1] == 257 and red[255] == 65535 and len(red) == 256
    assert green[:2].tolist() == [100, 200] and green[101] == 5000 and green[255] == 60000
    assert blue[0] == 65535 and blue[127] == 0 and blue[128] == 0 and blue[129] == 65535
    assert blue[255] == 30000


def test_segmented_palette_with_bad_indirect_offset() -> None:
    from dcmpy.dcmimage.palette import PaletteError, _segmented
    with pytest.raises(PaletteError, match="indirect"):
        _segmented([0, 1, 5, 2, 1, 99, 0], 4, "Red")
    with pytest.raises(PaletteError, match="runs past"):
        _segmented([0, 500, 1, 2], 4, "Red")


def test_missing_photometric_needs_accept_acr_nema(images) -> None:
    from pydicom import dcmread
    from dcmpy.dcmimgle.image import LoadOptions
    ds = dcmread(images["u12"])
    del ds.PhotometricInterpretation
    with pytest.raises(ImageError, match="PhotometricInterpretation"):
        DicomImage(_to_dcmpy(ds))
    img = DicomImage(_to_dcmpy(ds), options=LoadOptions(accept_acr_nema=True))
    assert img.render(0).shape == (64, 64)


def _to_dcmpy(pyds: Dataset):
    import io
    from dcmpy import dcmread
    buf = io.BytesIO()
    pyds.save_as(buf, enforce_file_format=True)
    return dcmread(buf.getvalue())


@pytest.mark.parametrize("rows,columns,frames", [(65535, 65535, 1), (512, 512, 2 ** 31 - 1)])
def test_header_claiming_far_more_pixels_than_stored(images, rows, columns, frames) -> None:
    """Pixel data far shorter than Rows x Columns x frames is refused before anything is
    allocated (DCMTK pads every missing byte: CVE-2024-47796's neighbourhood)."""
    from pydicom import dcmread
    ds = dcmread(images["u12"])
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    with pytest.raises(ImageError, match="pixel data has 8192 bytes"):
        DicomImage(_to_dcmpy(ds))


def test_colour_frame_far_too_short_is_refused(images) -> None:
    """CVE-2025-9732: a YBR_FULL planar image with far too few pixels."""
    from pydicom import dcmread
    ds = dcmread(images["ybr8"])
    ds.PlanarConfiguration = 1
    ds.Rows = ds.Columns = 8000
    with pytest.raises(ImageError, match="pixel data has"):
        DicomImage(_to_dcmpy(ds))
