"""The monochrome pipeline: stored values -> modality -> VOI -> presentation -> output.

``MonoPipeline`` holds the settings and turns them into one table indexed by stored value
(for stored values of up to 16 bits), applied per pixel by the Cython loop in
``dcmpy._ext.lut``. Wider values are mapped directly with NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .modality import Modality
from .voi import Window, lut_output, no_window

if TYPE_CHECKING:
    import numpy as np

    from .lut import LookupTable

_TABLE_MAX_BITS = 16


@dataclass
class MonoPipeline:
    """What turns one frame's stored values into output values.

    ``voi`` is None (no VOI), a ``Window`` or a ``LookupTable``; ``inverse`` renders with
    output low and high swapped (MONOCHROME1, an INVERSE shape, or reversed polarity).
    """
    bits_stored: int
    signed: bool
    modality: Modality = field(default_factory=Modality)
    voi: Window | LookupTable | None = None
    inverse: bool = False
    _tables: dict = field(default_factory=dict, repr=False)

    @property
    def stored_range(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.bits_stored - 1)), (1 << (self.bits_stored - 1)) - 1
        return 0, (1 << self.bits_stored) - 1

    @property
    def abs_range(self) -> tuple[float, float]:
        """The range of interim values the stored range can give."""
        return self.modality.abs_range(*self.stored_range)

    def with_voi(self, voi: Window | LookupTable | None) -> MonoPipeline:
        return replace(self, voi=voi, _tables={})

    def interim(self, stored: np.ndarray) -> np.ndarray:
        """Modality values (int64) of stored values."""
        return self.modality.apply(stored)

    def map_interim(self, x: np.ndarray, bits: int) -> np.ndarray:
        """Output values (float64, integral) of interim values for a ``bits``-bit output."""
        high = float((1 << bits) - 1)
        low, high = (high, 0.0) if self.inverse else (0.0, high)
        voi = self.voi
        if voi is None:
            return no_window(x, *self.abs_range, low, high)
        if isinstance(voi, Window):
            return voi.map(x, low, high)
        return lut_output(voi, x, low, high)

    def table(self, bits: int) -> tuple[np.ndarray, int]:
        """(table, first stored value): output values for every stored value."""
        key = bits
        if key not in self._tables:
            import numpy as np
            smin, smax = self.stored_range
            stored = np.arange(smin, smax + 1, dtype=np.int64)
            out = self.map_interim(self.interim(stored).astype(np.float64), bits)
            self._tables[key] = (out.astype(output_dtype(bits)), smin)
        return self._tables[key]

    def render(self, stored: np.ndarray, bits: int) -> np.ndarray:
        """Output values of one frame of stored values (same shape, uint8/16/32)."""
        import numpy as np
        if self.bits_stored > _TABLE_MAX_BITS:
            x = self.interim(stored).astype(np.float64)
            return self.map_interim(x, bits).astype(output_dtype(bits))
        from .._ext.lut import apply_lut
        table, first = self.table(bits)
        out = np.empty(stored.shape, table.dtype)
        src = np.ascontiguousarray(stored).reshape(-1)
        if src.dtype.itemsize > 4 or src.dtype.kind not in "iu":
            src = src.astype(np.int32)
        apply_lut(src, table, first, out.reshape(-1))
        return out


def output_dtype(bits: int):
    import numpy as np
    return np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
