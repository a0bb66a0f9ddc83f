"""Geometry on rendered frames: rotation by quarter turns, flipping, clipping and scaling.

Scaling without interpolation replicates (or drops) pixels: output pixel i takes input pixel
floor(i * n_in / n_out). Interpolated scaling averages the input pixels an output pixel
covers (area weights) when shrinking and interpolates linearly when enlarging.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def rotate(frame: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate clockwise by 90, 180 or 270 degrees (0: unchanged)."""
    import numpy as np
    turns = {0: 0, 90: 3, 180: 2, 270: 1}[degrees % 360]
    return np.ascontiguousarray(np.rot90(frame, turns)) if turns else frame


def flip(frame: np.ndarray, axes: str) -> np.ndarray:
    """'h' mirrors left-right, 'v' top-bottom, 'hv' both."""
    import numpy as np
    if "h" in axes:
        frame = frame[:, ::-1]
    if "v" in axes:
        frame = frame[::-1]
    return np.ascontiguousarray(frame)


def clip(frame: np.ndarray, left: int, top: int, width: int, height: int,
         fill: int = 0) -> np.ndarray:
    """The region (left, top, width, height); its top left corner must lie on the frame, the
    part beyond the frame's edge is filled with ``fill`` (the region keeps its size)."""
    import numpy as np
    rows, columns = frame.shape[:2]
    if not (0 <= left < columns and 0 <= top < rows):
        raise ValueError(f"clipping region ({left},{top},{width},{height}) lies outside the "
                         f"{columns} x {rows} image")
    out = np.full((height, width, *frame.shape[2:]), fill, frame.dtype)
    part = frame[top:top + height, left:left + width]
    out[:part.shape[0], :part.shape[1]] = part
    return out


def scaled_size(columns: int, rows: int, kind: str, value: float, aspect: float = 1.0) -> \
        tuple[int, int]:
    """Output (columns, rows) for DCMTK's +Sxf/+Syf (factor) and +Sxv/+Syv (size) options;
    ``aspect`` is the pixel aspect ratio (rows' spacing over columns') when it is recognized."""
    if kind == "xf":
        return int(columns * value), int(rows * value * aspect)
    if kind == "yf":
        return int(columns * value / aspect), int(rows * value)
    if kind == "xv":
        return int(value), int(value * rows * aspect / columns)
    return int(value * columns / (rows * aspect)), int(value)


def scale(frame: np.ndarray, columns: int, rows: int, interpolate: bool = False) -> np.ndarray:
    """Resize to ``columns`` x ``rows``."""
    import numpy as np
    in_rows, in_cols = frame.shape[:2]
    if columns < 1 or rows < 1:
        raise ValueError(f"scaled size {columns} x {rows} is empty")
    if not interpolate:
        ri = (np.arange(rows) * in_rows) // rows
        ci = (np.arange(columns) * in_cols) // columns
        return np.ascontiguousarray(frame[ri][:, ci])
    values = frame.astype(np.float64)
    values = _resample(values, rows, 0)
    values = _resample(values, columns, 1)
    return np.clip(np.floor(values + 0.5), 0, np.iinfo(frame.dtype).max).astype(frame.dtype)


def _resample(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    import numpy as np
    n = values.shape[axis]
    if size == n:
        return values
    if size > n:
        pos = (np.arange(size) + 0.5) * n / size - 0.5
        pos = np.clip(pos, 0, n - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        w = pos - lo
        shape = [1] * values.ndim
        shape[axis] = size
        w = w.reshape(shape)
        return np.take(values, lo, axis) * (1 - w) + np.take(values, hi, axis) * w
    edges = np.arange(size + 1) * n / size
    cums = np.cumsum(np.insert(values, 0, 0, axis=axis), axis=axis)
    def at(x):
        i = np.minimum(np.floor(x).astype(int), n - 1)
        frac = (x - i).reshape([-1 if a == axis else 1 for a in range(values.ndim)])
        return np.take(cums, i, axis) + np.take(values, i, axis) * frac
    return (at(edges[1:]) - at(edges[:-1])) / (n / size)
