"""Overlay planes (PS3.3 C.9): groups 6000-601E, separate (Overlay Data) or embedded in the
unused high bits of the pixel data, drawn into rendered frames.

A plane's bits are read with every count checked against the stored bytes; a plane that
reaches past the image is clipped to it (DCMTK draws only the part that lies on the image).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import _diag
from . import attrs

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset

REPLACE, THRESHOLD, COMPLEMENT, INVERT, ROI = "replace", "threshold", "complement", "invert", "roi"


@dataclass
class OverlayPlane:
    group: int
    number: int                # 1-based position among the image's planes (DCMTK's numbering)
    rows: int
    columns: int
    kind: str                  # 'G' graphics or 'R' region of interest
    origin: tuple[int, int]    # (row, column), 1-based
    frames: int
    first_frame: int           # image frame the overlay's first frame belongs to (1-based)
    bit_position: int
    data: bytes | None         # separate overlay data, None when embedded
    label: str = ""
    description: str = ""

    @property
    def default_mode(self) -> str:
        return ROI if self.kind == "R" else REPLACE

    def bits(self, frame: int, stored: np.ndarray | None = None) -> np.ndarray | None:
        """The plane's bitmap (rows, columns) for image frame ``frame`` (0-based), or None if
        the plane has no frame there. ``stored`` holds the frame's raw words for embedded
        overlays."""
        import numpy as np
        index = frame + 1 - self.first_frame
        if not 0 <= index < self.frames:
            return None
        count = self.rows * self.columns
        if self.data is None:
            if stored is None:
                return None
            return ((stored >> self.bit_position) & 1).astype(bool)[:self.rows, :self.columns]
        first = index * count
        need = (first + count + 7) // 8
        raw = self.data
        if len(raw) < need:
            raw = raw + bytes(need - len(raw))
        bits = np.unpackbits(np.frombuffer(raw, np.uint8, need - first // 8, first // 8),
                             bitorder="little")
        start = first % 8
        return bits[start:start + count].reshape(self.rows, self.columns).astype(bool)


def read_overlays(ds: Dataset, bits_allocated: int, high_bit: int) -> list[OverlayPlane]:
    """Every overlay plane of the image that can be displayed."""
    planes = []
    for group in range(0x6000, 0x6020, 2):
        tag = group << 16
        if (tag | 0x0010) not in ds:
            continue
        rows = attrs.words(ds, tag | 0x0010)
        columns = attrs.words(ds, tag | 0x0011)
        if not rows or not columns or not rows[0] or not columns[0]:
            continue
        origin = attrs.words(ds, tag | 0x0050, signed=True) or [1, 1]
        if len(origin) < 2:
            origin = [1, 1]
        bit_position = (attrs.words(ds, tag | 0x0102) or [0])[0]
        overlay_bits = (attrs.words(ds, tag | 0x0100) or [1])[0]
        data_elem = ds.get(tag | 0x3000)
        data = bytes(data_elem.raw) if data_elem is not None and data_elem.vr != "SQ" else None
        if data is None:
            if overlay_bits == 1 or bit_position <= high_bit or bit_position >= bits_allocated:
                _diag.warn(__name__, f"overlay plane {(group - 0x6000) // 2 + 1} has no data "
                           f"and no usable embedded bit position ({bit_position}) ... ignoring")
                continue
        frames = attrs.decimals(ds, tag | 0x0015, "NumberOfFramesInOverlay")
        first = attrs.words(ds, tag | 0x0051) or [1]
        planes.append(OverlayPlane(group, len(planes) + 1, rows[0], columns[0],
                                   (attrs.text(ds, tag | 0x0040) or "G").upper()[:1],
                                   (origin[0], origin[1]),
                                   max(1, int(frames[0])) if frames else 1, max(1, first[0]),
                                   bit_position, data, attrs.text(ds, tag | 0x1500),
                                   attrs.text(ds, tag | 0x0022)))
    return planes


def draw(out: np.ndarray, plane: OverlayPlane, bitmap: np.ndarray, mode: str,
         threshold: float = 0.5) -> None:
    """Draw ``bitmap`` (the plane's bits) into the rendered frame ``out`` in place; the
    foreground is the largest value of the output's type (as DCMTK draws it, also for
    n-bit output)."""
    import numpy as np
    maxval = int(np.iinfo(out.dtype).max)
    rows, columns = out.shape[:2]
    top, left = plane.origin[0] - 1, plane.origin[1] - 1
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + plane.rows, rows), min(left + plane.columns, columns)
    if r0 >= r1 or c0 >= c1:
        return
    region = out[r0:r1, c0:c1]
    mask = bitmap[r0 - top:r1 - top, c0 - left:c1 - left]
    if mode == REPLACE:
        region[mask] = maxval
    elif mode == THRESHOLD:
        limit = int(threshold * maxval)
        region[mask] = np.where(region[mask] <= limit, maxval, 1)
    elif mode == COMPLEMENT:
        limit = int(threshold * maxval)
        region[mask] = np.where(region[mask] <= limit, maxval, 0)
    elif mode == INVERT:
        region[~mask] = maxval
    elif mode == ROI:
        shift = max(1, int(maxval).bit_length() // 2)
        region[~mask] = region[~mask] >> shift
