"""The VOI LUT stage (PS3.3 C.11.2) and the mapping to output values, as formulas over
interim values (float arrays), so that each can be built into a table once.

Output values lie between ``low`` and ``high``; ``low > high`` renders inverted (MONOCHROME1,
an INVERSE presentation LUT shape, or reversed polarity). Results are truncated toward zero as
DCMTK's are, so that rendered pixels equal DCMTK's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .lut import LookupTable

LINEAR, LINEAR_EXACT, SIGMOID = "LINEAR", "LINEAR_EXACT", "SIGMOID"
FUNCTIONS = (LINEAR, LINEAR_EXACT, SIGMOID)


class WindowError(ValueError):
    """A window that cannot be applied (its width is too small for its function)."""


@dataclass(frozen=True)
class Window:
    """A VOI window: centre, width and function."""
    center: float
    width: float
    function: str = LINEAR
    explanation: str = ""

    def check(self) -> None:
        """PS3.3 C.11.2.1.2: LINEAR needs a width of at least 1, the others more than 0."""
        if self.function == LINEAR and not self.width >= 1:
            raise WindowError(f"window width {self.width:g} is below 1")
        if not self.width > 0:
            raise WindowError(f"window width {self.width:g} is not above 0")

    def map(self, x: np.ndarray, low: float, high: float) -> np.ndarray:
        import numpy as np
        c, w = self.center, self.width
        if self.function == SIGMOID:
            with np.errstate(over="ignore"):     # exp(large) -> inf -> the low end: as intended
                return np.trunc((high - low) / (1.0 + np.exp(-4.0 * (x - c) / w)) + low)
        if self.function == LINEAR_EXACT:
            value = np.trunc(((x - c) / w + 0.5) * (high - low) + low)
            return np.where(x <= c - w / 2, low, np.where(x > c + w / 2, high, value))
        w1 = w - 1.0
        left, right = c - 0.5 - w1 / 2, c - 0.5 + w1 / 2
        if w1 == 0:
            return np.where(x <= left, low, high).astype(np.float64)
        outrange = high - low
        gradient = outrange / w1
        offset = high - ((c - 0.5) / w1 + 0.5) * outrange
        value = np.trunc(offset + x * gradient)
        return np.where(x <= left, low, np.where(x > right, high, value))


def no_window(x: np.ndarray, absmin: float, absmax: float, low: float, high: float) -> np.ndarray:
    """No VOI: the interim range [absmin, absmax] spread linearly over the output range."""
    import numpy as np
    gradient = (high - low + 1) / (absmax - absmin + 1)
    return np.trunc(low + (x - absmin) * gradient)


def lut_output(table: LookupTable, x: np.ndarray, low: float, high: float) -> np.ndarray:
    """A VOI LUT: the table's entries spread over the output range by their bit depth."""
    import numpy as np
    values = table.lookup(x).astype(np.float64)
    return np.trunc(low + values * ((high - low + 1) / (1 << table.bits)))


def min_max_window(vmin: float, vmax: float) -> Window:
    """The window that just covers [vmin, vmax] (DCMTK's min-max algorithm)."""
    return Window((vmin + vmax + 1) / 2, vmax - vmin + 1)
