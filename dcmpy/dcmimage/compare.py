"""Difference metrics between two images (dcmicmp): maximum and mean absolute error, RMSE,
PSNR and SNR, over every selected frame.

Monochrome images are compared by their modality values, or by their rendered 16-bit values
when a VOI transform is set; colour images by their RGB samples. PSNR's peak is the largest
value of the reference image; SNR's signal is the reference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..dcmimgle.image import DicomImage


class MismatchError(ValueError):
    """The images cannot be compared (resolution, frame count or colour model)."""


@dataclass
class Metrics:
    max_abs: float
    mae: float
    rmse: float
    psnr: float
    snr: float

    def lines(self) -> list[str]:
        return [f"Max Absolute Error                     = {_g(self.max_abs)}",
                f"Mean Absolute Error (MAE)              = {_g(self.mae)}",
                f"Root Mean Square Error (RMSE)          = {_g(self.rmse)}",
                f"Peak Signal to Noise Ratio (PSNR) [dB] = {_g(self.psnr)}",
                f"Signal to Noise Ratio (SNR) [dB]       = {_g(self.snr)}"]


def _g(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:g}"


def check_comparable(ref: DicomImage, test: DicomImage) -> None:
    if (ref.columns, ref.rows) != (test.columns, test.rows):
        raise MismatchError(f"Resolution mismatch: {ref.columns} x {ref.rows} vs. "
                            f"{test.columns} x {test.rows}")
    if ref.count != test.count:
        raise MismatchError(f"Frame count mismatch: {ref.count} vs. {test.count}")
    if ref.is_monochrome != test.is_monochrome:
        raise MismatchError("Color model mismatch: "
                            f"{ref.photometric} vs. {test.photometric}")


def values(image: DicomImage, index: int, rendered: bool):
    import numpy as np
    if not image.is_monochrome:
        return image.render(index, image.color.bits).astype(np.float64)
    if rendered:
        return image.render(index, 16).astype(np.float64)
    return image.interim(index).astype(np.float64)


def compare(ref: DicomImage, test: DicomImage, rendered: bool = False) -> Metrics:
    """The metrics of ``test`` against ``ref``; ``rendered``: compare after the VOI stage."""
    import numpy as np
    check_comparable(ref, test)
    max_abs = sum_abs = sum_sq = signal = 0.0
    hi = -math.inf
    count = 0
    for i in range(ref.count):
        a, b = values(ref, i, rendered), values(test, i, rendered)
        d = a - b
        max_abs = max(max_abs, float(np.abs(d).max()))
        sum_abs += float(np.abs(d).sum())
        sum_sq += float((d * d).sum())
        signal += float((a * a).sum())
        hi = max(hi, float(a.max()))
        count += d.size
    mse = sum_sq / count
    peak = hi
    psnr = math.inf if mse == 0 else 10 * math.log10(peak * peak / mse) if peak else -math.inf
    snr = math.inf if sum_sq == 0 else 10 * math.log10(signal / sum_sq) if signal else -math.inf
    return Metrics(max_abs, sum_abs / count, math.sqrt(mse), psnr, snr)
