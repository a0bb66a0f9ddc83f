"""``DicomImage``: a DICOM image rendered as DCMTK's dcmimgle/dcmimage render it.

    img = DicomImage("ct.dcm")                 # path, bytes or a Dataset
    img.set_window(40, 400)                    # or use_window(0), use_voi_lut(0), min_max_window()
    frame = img.render(0, bits=8)              # NumPy uint8 (rows, columns[, 3])
    hu = img.interim(0)                        # values after the modality transform

Frames are decoded when asked for and kept while the image lives. Monochrome images go
through the modality, VOI and presentation stages (``dcmpy.dcmimgle.mono``); colour images
(RGB, YBR, palette colour) through ``dcmpy.dcmimage.color``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _diag
from ..dcmdata import pixels
from . import attrs
from .frames import StoredFrames
from .lut import LookupTable, LUTError, read_table
from .modality import read_modality
from .mono import MonoPipeline
from .overlay import OverlayPlane, draw, read_overlays
from .voi import FUNCTIONS, LINEAR, Window, WindowError, min_max_window

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset

WINDOW_CENTER, WINDOW_WIDTH = 0x00281050, 0x00281051
WINDOW_EXPLANATION, VOI_LUT_FUNCTION = 0x00281055, 0x00281056
VOI_LUT_SEQUENCE = 0x00283010
PRESENTATION_LUT_SHAPE = 0x20500020
PIXEL_ASPECT_RATIO = 0x00280034
SHARED_GROUPS, PER_FRAME_GROUPS = 0x52009229, 0x52009230
FRAME_VOI_LUT = 0x00289132
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
COLOR_MODELS = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "PALETTE COLOR",
                "YBR_RCT", "YBR_ICT")


class ImageError(ValueError):
    """An image that cannot be rendered (the message says what and where)."""


@dataclass
class LoadOptions:
    """DCMTK's compatibility flags (+Ma +Mp +Mm +Mv) and -M."""
    accept_acr_nema: bool = False
    accept_palettes: bool = False
    ignore_mlut_depth: bool = False
    ignore_vlut_depth: bool = False
    use_modality: bool = True


def _open(source: Any) -> Dataset:
    from ..dcmdata.dataset import Dataset
    if isinstance(source, Dataset):
        return source
    from ..dcmdata.reader import dcmread
    return dcmread(source)


class DicomImage:
    """One image of a DICOM data set, frame selection ``first`` (0-based) and ``count``
    (0: all frames from ``first``)."""

    def __init__(self, source: Any, first: int = 0, count: int = 0,
                 options: LoadOptions | None = None, codec_options: dict | None = None) -> None:
        self.ds = ds = _open(source)
        self.options = options or LoadOptions()
        self.photometric = self._photometric(ds)
        try:
            self.info = pixels.PixelInfo.of(ds)
        except pixels.PixelDataError as exc:
            raise ImageError(str(exc)) from None
        if not 0 <= first < self.info.frames:
            raise ImageError(f"cannot select frame {first + 1}, only {self.info.frames} "
                             f"frame(s) in file")
        available = self.info.frames - first
        self.first = first
        self.count = available if count <= 0 else min(count, available)
        subsampled = self.photometric in ("YBR_FULL_422", "YBR_PARTIAL_422")
        if subsampled and self.info.columns % 2:
            raise ImageError(f"{self.photometric} needs an even number of columns, "
                             f"not {self.info.columns}")
        try:
            self._stored = StoredFrames(ds, self.info, subsampled, codec_options)
            decoded = self._stored.decoded_photometric()
        except pixels.PixelDataError as exc:
            raise ImageError(str(exc)) from None
        if decoded != self.photometric and self.photometric not in MONOCHROME:
            self.photometric = decoded
        self._cache: dict[int, np.ndarray] = {}
        self.polarity_reversed = False
        self.is_monochrome = self.photometric in MONOCHROME
        if self.is_monochrome:
            self._init_mono()
        else:
            from ..dcmimage.color import ColorModel
            self.color = ColorModel.of(self)
            self.windows, self.voi_luts, self.overlays = [], [], []

    # -- loading ----------------------------------------------------------------------------
    def _photometric(self, ds: Dataset) -> str:
        value = attrs.text(ds, 0x00280004).upper()
        if not value:
            if not self.options.accept_acr_nema:
                raise ImageError("mandatory attribute 'PhotometricInterpretation' is missing "
                                 "or empty")
            return "MONOCHROME2"
        if value not in MONOCHROME + COLOR_MODELS:
            raise ImageError(f"invalid value for 'PhotometricInterpretation' ({value})")
        return value

    def _init_mono(self) -> None:
        info, ds = self.info, self.ds
        if info.samples != 1:
            raise ImageError(f"invalid value for 'SamplesPerPixel' ({info.samples}) for "
                             f"{self.photometric}")
        frame_item = self.frame_groups(self.first)
        modality = read_modality(ds, signed=info.signed, frame_item=frame_item,
                                 ignore_depth=self.options.ignore_mlut_depth)
        if not self.options.use_modality:
            from .modality import Modality
            modality = Modality()
        self.windows = self._windows(ds, frame_item)
        self.voi_luts = attrs.sequence(ds, VOI_LUT_SEQUENCE)
        self.presentation_shape = attrs.text(ds, PRESENTATION_LUT_SHAPE).upper() or None
        self.voi_function = _function(attrs.text(ds, VOI_LUT_FUNCTION))
        self.pipeline = MonoPipeline(info.bits_stored, info.signed, modality)
        self.overlays = read_overlays(ds, info.bits_allocated, info.high_bit)
        self.shown_overlays: list[tuple[OverlayPlane, str]] = []
        self.overlay_threshold = 0.5
        self._minmax: dict[bool, tuple[float, float]] = {}
        self._update_polarity()

    def _windows(self, ds: Dataset, frame_item: Dataset | None) -> list[Window]:
        centers = attrs.decimals(ds, WINDOW_CENTER, "WindowCenter")
        widths = attrs.decimals(ds, WINDOW_WIDTH, "WindowWidth")
        if not centers and frame_item is not None:
            for item in attrs.sequence(frame_item, FRAME_VOI_LUT)[:1]:
                centers = attrs.decimals(item, WINDOW_CENTER, "WindowCenter")
                widths = attrs.decimals(item, WINDOW_WIDTH, "WindowWidth")
        notes = attrs.texts(ds, WINDOW_EXPLANATION)
        return [Window(c, w, LINEAR, notes[i] if i < len(notes) else "")
                for i, (c, w) in enumerate(zip(centers, widths))]

    def frame_groups(self, index: int) -> Dataset | None:
        """The functional group item that describes frame ``index`` (per-frame, else shared)."""
        per_frame = attrs.sequence(self.ds, PER_FRAME_GROUPS)
        if index < len(per_frame):
            item = per_frame[index]
            if attrs.sequence(item, 0x00289145) or attrs.sequence(item, FRAME_VOI_LUT):
                return item
        shared = attrs.sequence(self.ds, SHARED_GROUPS)
        return shared[0] if shared else None

    # -- frames -----------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return self.info.rows

    @property
    def columns(self) -> int:
        return self.info.columns

    def stored(self, index: int = 0) -> np.ndarray:
        """Stored values of frame ``index`` of the selection (decoded once, then cached)."""
        if not 0 <= index < self.count:
            raise ImageError(f"frame {index + 1} is outside the {self.count} selected frame(s)")
        frame = self._cache.get(index)
        if frame is None:
            try:
                frame = self._stored.get(self.first + index)
            except pixels.PixelDataError as exc:
                raise ImageError(str(exc)) from None
            if not self.is_monochrome:
                frame = self.color.convert(frame)
            self._cache[index] = frame
        return frame

    def interim(self, index: int = 0) -> np.ndarray:
        """Frame ``index`` after the modality transform (monochrome only; int64)."""
        if not self.is_monochrome:
            raise ImageError("interim values exist for monochrome images only")
        return self.pipeline.interim(self.stored(index))

    # -- VOI --------------------------------------------------------------------------------
    def no_window(self) -> None:
        self._set_voi(None)

    def set_window(self, center: float, width: float, function: str | None = None) -> None:
        if not self.is_monochrome:
            return
        window = Window(center, width, function or self.voi_function)
        window.check()
        self._set_voi(window)

    def use_window(self, n: int) -> None:
        """Activate the ``n``-th (0-based) window of the file."""
        if not 0 <= n < len(self.windows):
            raise ImageError(f"cannot select VOI window {n + 1}, only {len(self.windows)} "
                             f"window(s) in file")
        window = self.windows[n]
        try:
            self.set_window(window.center, window.width)
        except WindowError as exc:
            raise ImageError(f"cannot select VOI window {n + 1}: {exc}") from None

    def use_voi_lut(self, n: int) -> None:
        """Activate the ``n``-th (0-based) VOI LUT of the file."""
        if not 0 <= n < len(self.voi_luts):
            raise ImageError(f"cannot select VOI LUT {n + 1}, only {len(self.voi_luts)} "
                             f"LUT(s) in file")
        signed = self.pipeline.abs_range[0] < 0
        try:
            table = read_table(self.voi_luts[n], f"VOI LUT {n + 1}", signed,
                               ignore_depth=self.options.ignore_vlut_depth)
        except LUTError as exc:
            raise ImageError(f"cannot select VOI LUT {n + 1}: {exc}") from None
        self._set_voi(table)

    def min_max(self, ignore_extremes: bool = False) -> tuple[float, float]:
        """Smallest and largest interim value over the selected frames (``ignore_extremes``:
        the second smallest and second largest distinct values)."""
        if ignore_extremes not in self._minmax:
            import numpy as np
            values = [np.unique(self.interim(i)) for i in range(self.count)]
            distinct = np.unique(np.concatenate(values))
            if ignore_extremes and len(distinct) > 2:
                distinct = distinct[1:-1]
            self._minmax[ignore_extremes] = float(distinct[0]), float(distinct[-1])
        return self._minmax[ignore_extremes]

    def min_max_window(self, ignore_extremes: bool = False) -> Window | None:
        if not self.is_monochrome:
            return None
        window = min_max_window(*self.min_max(ignore_extremes))
        self._set_voi(Window(window.center, window.width, self.voi_function))
        return window

    def roi_window(self, left: int, top: int, width: int, height: int,
                   frame: int = 0) -> Window | None:
        """Min-max window over a region of one frame (clipped to the image)."""
        if not self.is_monochrome:
            return None
        x = self.interim(frame)[max(top, 0):max(top, 0) + height, max(left, 0):max(left, 0) + width]
        if x.size == 0:
            raise ImageError(f"region {left},{top},{width},{height} lies outside the image")
        window = min_max_window(float(x.min()), float(x.max()))
        self._set_voi(Window(window.center, window.width, self.voi_function))
        return window

    def histogram_window(self, fraction: float) -> Window | None:
        """Window between the values below and above which ``fraction`` of the pixels of the
        selected frames lie (DCMTK's histogram algorithm, including its use of the smallest
        integer type that holds the interim values: a bound that does not fit wraps, and the
        window fails unless the lower bound ends below the upper)."""
        if not self.is_monochrome:
            return None
        import numpy as np
        x = np.concatenate([self.interim(i).ravel() for i in range(self.count)])
        vmin, vmax = int(x.min()), int(x.max())
        cumsum = np.cumsum(np.bincount(x - vmin, minlength=vmax - vmin + 1))
        count, limit = len(cumsum), int(fraction * x.size)
        low = int(np.searchsorted(cumsum, limit, "left")) + 1 if limit > 0 else 0
        from_top = np.cumsum(np.bincount(vmax - x, minlength=count))
        high = count - (int(np.searchsorted(from_top, limit, "left")) + 1 if limit > 0 else 0)
        wrap = self._interim_wrap()
        lo = wrap(vmin + low) if low < count else 0
        hi = wrap(vmin + high) if high > 0 else 0
        if not lo < hi:
            raise ImageError("cannot compute histogram VOI window")
        window = min_max_window(lo, hi)
        self._set_voi(Window(window.center, window.width, self.voi_function))
        return window

    def _interim_wrap(self):
        """Reduce a value modulo DCMTK's interim integer type for this image's value range."""
        lo, hi = self.pipeline.abs_range
        for bits in (8, 16, 32):
            if (lo >= 0 and hi < 1 << bits) or (lo < 0 and -(1 << bits - 1) <= lo and
                                                hi < 1 << bits - 1):
                break
        if lo >= 0:
            return lambda v: v % (1 << bits)
        return lambda v: (v + (1 << bits - 1)) % (1 << bits) - (1 << bits - 1)

    def _set_voi(self, voi: Window | LookupTable | None) -> None:
        if not self.is_monochrome:
            return
        self.pipeline = self.pipeline.with_voi(voi)
        self._update_polarity()

    # -- presentation -----------------------------------------------------------------------
    def set_presentation_shape(self, shape: str | None) -> None:
        """'IDENTITY', 'INVERSE' or None (the file's shape, else the photometric default)."""
        self.presentation_shape = shape
        self._update_polarity()

    def set_polarity(self, reverse: bool) -> None:
        self.polarity_reversed = reverse
        self._update_polarity()

    def _update_polarity(self) -> None:
        if not self.is_monochrome:
            return
        shape = self.presentation_shape
        inverse = shape == "INVERSE" if shape in ("IDENTITY", "INVERSE") else \
            self.photometric == "MONOCHROME1"
        inverse ^= self.polarity_reversed
        if inverse != self.pipeline.inverse:
            from dataclasses import replace
            self.pipeline = replace(self.pipeline, inverse=inverse, _tables={})

    # -- overlays ---------------------------------------------------------------------------
    def show_overlay(self, number: int = 0, mode: str | None = None,
                     threshold: float = 0.5) -> bool:
        """Display overlay plane ``number`` (1..16; 0: all) in ``mode`` (None: the plane's
        default); False if there is no such plane."""
        if not self.is_monochrome:
            return False
        planes = [p for p in self.overlays if number in (0, p.number)]
        for plane in planes:
            self.shown_overlays = [(p, m) for p, m in self.shown_overlays if p is not plane]
            self.shown_overlays.append((plane, mode or plane.default_mode))
        self.overlay_threshold = threshold
        return bool(planes)

    def hide_overlays(self) -> None:
        self.shown_overlays = []

    # -- output -----------------------------------------------------------------------------
    def render(self, index: int = 0, bits: int = 8) -> np.ndarray:
        """Frame ``index`` of the selection as ``bits``-bit output values."""
        import numpy as np
        if not 1 <= bits <= 32:
            raise ImageError(f"output depth {bits} is not 1..32")
        stored = self.stored(index)
        if not self.is_monochrome:
            out = self.color.render(stored, bits)
            if self.polarity_reversed:
                out = ((1 << bits) - 1 - out.astype(np.int64)).astype(out.dtype)
            return out
        out = self.pipeline.render(stored, bits)
        for plane, mode in self.shown_overlays:
            words = self._stored.words(self.first + index) if plane.data is None else None
            bitmap = plane.bits(self.first + index, words)
            if bitmap is not None:
                draw(out, plane, bitmap, mode, self.overlay_threshold)
        return out

    def background(self, bits: int = 8) -> int:
        """The output value of interim value 0 (what DCMTK fills clipped-in margins with)."""
        if not self.is_monochrome:
            return 0
        import numpy as np
        return int(self.pipeline.map_interim(np.zeros(1), bits)[0])

    @property
    def pixel_aspect_ratio(self) -> float:
        values = attrs.decimals(self.ds, PIXEL_ASPECT_RATIO, "PixelAspectRatio")
        if len(values) >= 2 and values[1] > 0 and values[0] > 0:
            return values[0] / values[1]
        spacing = attrs.decimals(self.ds, 0x00280030, "PixelSpacing")
        if len(spacing) >= 2 and spacing[0] > 0 and spacing[1] > 0:
            return spacing[0] / spacing[1]
        return 1.0


def _function(value: str) -> str:
    value = value.upper()
    if not value:
        return LINEAR
    if value in FUNCTIONS:
        return value
    _diag.warn(__name__, f"unknown value for 'VOILUTFunction' ({value}) ... ignoring")
    return LINEAR
