"""The Modality LUT stage (PS3.3 C.11.1): stored values to modality values ("interim" data).

Either a Modality LUT Sequence, or Rescale Slope and Intercept, or nothing. The interim value
of a rescale is ``trunc(stored * slope + intercept)`` (toward zero, as DCMTK computes it); the
absolute range that the no-VOI output spreads over is the stored range through the same
transform, not truncated, or 0 .. 2^bits - 1 of a modality LUT.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import _diag
from . import attrs
from .lut import LookupTable, LUTError, read_table

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset

MODALITY_LUT_SEQUENCE = 0x00283000
RESCALE_INTERCEPT = 0x00281052
RESCALE_SLOPE = 0x00281053
PIXEL_VALUE_TRANSFORMATION = 0x00289145


@dataclass(frozen=True)
class Modality:
    """One modality transform; ``kind`` is 'none', 'rescale' or 'lut'."""
    kind: str = "none"
    slope: float = 1.0
    intercept: float = 0.0
    lut: LookupTable | None = None

    def apply(self, stored: np.ndarray) -> np.ndarray:
        """Interim values: int64 for integer results (the usual case), else float64."""
        import numpy as np
        if self.kind == "lut":
            return self.lut.lookup(stored).astype(np.int64)
        if self.kind == "rescale":
            return np.trunc(stored * self.slope + self.intercept).astype(np.int64)
        return stored.astype(np.int64)

    def abs_range(self, smin: int, smax: int) -> tuple[float, float]:
        """The smallest and largest interim value the stored range [smin, smax] can give."""
        if self.kind == "lut":
            return 0.0, float(self.lut.max_output)
        if self.kind == "rescale":
            a, b = smin * self.slope + self.intercept, smax * self.slope + self.intercept
            return (a, b) if a <= b else (b, a)
        return float(smin), float(smax)


def _rescale_of(item: Dataset) -> tuple[float, float] | None:
    slope = attrs.decimal(item, RESCALE_SLOPE, "RescaleSlope")
    intercept = attrs.decimal(item, RESCALE_INTERCEPT, "RescaleIntercept")
    if slope is None and intercept is None:
        return None
    if slope == 0:
        _diag.warn(__name__, "invalid value for 'RescaleSlope' (0) ... ignoring modality transform")
        return None
    return (1.0 if slope is None else slope), (0.0 if intercept is None else intercept)


def read_modality(ds: Dataset, *, signed: bool, frame_item: Dataset | None = None,
                  ignore_depth: bool = False) -> Modality:
    """The modality transform of the image (``frame_item``: a functional group item whose
    Pixel Value Transformation applies when the main data set has none)."""
    seq = attrs.sequence(ds, MODALITY_LUT_SEQUENCE)
    if seq:
        try:
            lut = read_table(seq[0], "Modality LUT", signed, ignore_depth=ignore_depth)
            return Modality("lut", lut=lut)
        except LUTError as exc:
            _diag.warn(__name__, f"{exc} ... ignoring modality LUT")
    rescale = _rescale_of(ds)
    if rescale is None and frame_item is not None:
        for item in attrs.sequence(frame_item, PIXEL_VALUE_TRANSFORMATION)[:1]:
            rescale = _rescale_of(item)
    if rescale is None:
        return Modality()
    return Modality("rescale", slope=rescale[0], intercept=rescale[1])
