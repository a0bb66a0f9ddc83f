"""Colour models to RGB (PS3.3 C.7.6.3.1.2): RGB, YBR_FULL, YBR_FULL_422, YBR_PARTIAL_422 and
PALETTE COLOR, and the RGB output at a chosen bit depth.

Conversions reproduce DCMTK's arithmetic: 8-bit YCbCr through per-channel tables of truncated
products, deeper samples in double precision truncated toward zero; output depths below the
samples' are a right shift, above a truncated rescale by (2^out - 1) / (2^in - 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from ..dcmimgle.image import DicomImage


@dataclass
class ColorModel:
    """Converts stored colour frames to RGB triples of ``bits`` bits each."""
    photometric: str
    bits: int                 # bits per RGB sample after conversion
    palette: object = None    # dcmimage.palette.Palette for PALETTE COLOR

    @classmethod
    def of(cls, image: DicomImage) -> ColorModel:
        from ..dcmimgle.image import ImageError
        info, photometric = image.info, image.photometric
        if photometric == "PALETTE COLOR":
            if info.samples != 1:
                raise ImageError(f"invalid value for 'SamplesPerPixel' ({info.samples}) for "
                                 f"PALETTE COLOR")
            from .palette import read_palette
            palette = read_palette(image.ds, info, accept_old_tags=image.options.accept_palettes)
            return cls(photometric, palette.bits, palette)
        if info.samples != 3:
            raise ImageError(f"invalid value for 'SamplesPerPixel' ({info.samples}) for "
                             f"{photometric}")
        if info.signed:
            raise ImageError(f"signed pixel data is not supported for {photometric}")
        return cls(photometric, info.bits_stored)

    def convert(self, frame: np.ndarray) -> np.ndarray:
        """Stored frame -> RGB (rows, columns, 3) of ``self.bits`` bits (uint8 or uint16)."""
        if self.palette is not None:
            return self.palette.apply(frame)
        dtype = _dtype(self.bits)
        if self.photometric == "RGB":
            return frame.astype(dtype, copy=False)
        return ybr_to_rgb(frame, self.bits, self.photometric)

    def render(self, rgb: np.ndarray, bits: int) -> np.ndarray:
        return scale_depth(rgb, self.bits, bits)


def ybr_to_rgb(frame: np.ndarray, bits: int, photometric: str = "YBR_FULL") -> np.ndarray:
    """YCbCr (full or partial range) to RGB, as DCMTK converts it."""
    import numpy as np
    from .._ext import lut
    mode = {"YBR_FULL": lut.FULL_TABLES, "YBR_PARTIAL_422": lut.PARTIAL}.get(photometric, lut.FULL)
    dtype = _dtype(bits)
    src = np.ascontiguousarray(frame, dtype).reshape(-1)
    out = np.empty(frame.shape, dtype)
    lut.ybr_to_rgb(src, out.reshape(-1), (1 << bits) - 1, mode)
    return out


def scale_depth(values: np.ndarray, bits_in: int, bits_out: int) -> np.ndarray:
    """Samples of ``bits_in`` bits as ``bits_out``-bit output values."""
    import numpy as np
    dtype = _dtype(bits_out)
    if bits_out == bits_in:
        return values.astype(dtype, copy=False)
    if bits_out < bits_in:
        return (values >> (bits_in - bits_out)).astype(dtype)
    factor = ((1 << bits_out) - 1) / ((1 << bits_in) - 1)
    return np.trunc(values * factor).astype(dtype)


def _dtype(bits: int):
    import numpy as np
    return np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
