"""PALETTE COLOR (PS3.3 C.7.6.3.1.5-6, C.7.9.2): the red, green and blue LUTs, from plain
or segmented data, and their application to stored indices.

Every descriptor is checked against its data (the entry count against the words present, the
segment opcodes against the segment lengths); indices outside the table are clamped to its
ends, so a stored value never reads past a table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..dcmimgle import attrs

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset
    from ..dcmdata.pixels import PixelInfo

_COLOURS = ("Red", "Green", "Blue")
_DESCRIPTOR = (0x00281101, 0x00281102, 0x00281103)
_DATA = (0x00281201, 0x00281202, 0x00281203)
_SEGMENTED = (0x00281221, 0x00281222, 0x00281223)
_OLD_DESCRIPTOR = (0x00281111, 0x00281112, 0x00281113)
_OLD_DATA = (0x00281211, 0x00281212, 0x00281213)


class PaletteError(ValueError):
    """A palette whose descriptors and data disagree."""


@dataclass
class Palette:
    first: int
    bits: int
    tables: np.ndarray        # (3, entries) uint16

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Stored indices (rows, columns) -> RGB (rows, columns, 3)."""
        import numpy as np
        from .._ext.lut import apply_lut3
        dtype = np.uint8 if self.bits <= 8 else np.uint16
        tables = np.ascontiguousarray(self.tables, dtype)
        src = np.ascontiguousarray(frame).reshape(-1)
        if src.dtype.itemsize > 4:
            src = src.astype(np.int32)
        out = np.empty((*frame.shape, 3), dtype)
        apply_lut3(src, tables, self.first, out.reshape(-1))
        return out


def read_palette(ds: Dataset, info: PixelInfo, accept_old_tags: bool = False) -> Palette:
    from ..dcmimgle.image import ImageError
    try:
        return _read(ds, info, accept_old_tags)
    except PaletteError as exc:
        raise ImageError(str(exc)) from None


def _read(ds: Dataset, info: PixelInfo, accept_old_tags: bool) -> Palette:
    import numpy as np
    tables, firsts, bits = [], [], []
    for i, colour in enumerate(_COLOURS):
        desc_tag, data_tag = _DESCRIPTOR[i], _DATA[i]
        if desc_tag not in ds and accept_old_tags and _OLD_DESCRIPTOR[i] in ds:
            desc_tag, data_tag = _OLD_DESCRIPTOR[i], _OLD_DATA[i]
        desc = attrs.words(ds, desc_tag)
        if len(desc) < 3:
            raise PaletteError(f"missing or invalid {colour} Palette Color Lookup Table "
                               f"Descriptor")
        entries = desc[0] or 65536
        first = desc[1] - 0x10000 if info.signed and desc[1] >= 0x8000 else desc[1]
        depth = desc[2]
        if depth not in (8, 16):
            raise PaletteError(f"invalid value for {colour} palette bits per entry ({depth})")
        if data_tag in ds:
            table = _plain(ds, data_tag, entries, depth, colour)
        elif _SEGMENTED[i] in ds:
            table = _segmented(attrs.words(ds, _SEGMENTED[i]), entries, colour)
        else:
            raise PaletteError(f"missing {colour} Palette Color Lookup Table Data")
        tables.append(table)
        firsts.append(first)
        bits.append(depth)
    if len(set(firsts)) != 1:
        raise PaletteError("the red, green and blue palette descriptors differ")
    size = max(len(t) for t in tables)        # a shorter table repeats its last entry
    tables = [np.concatenate([t, np.full(size - len(t), t[-1], t.dtype)]) for t in tables]
    depth = max(bits)
    stack = np.stack(tables).astype(np.uint16)
    return Palette(firsts[0], depth, stack)


def _plain(ds: Dataset, tag: int, entries: int, depth: int, colour: str):
    import numpy as np
    elem = ds[tag]
    raw = bytes(elem.raw)
    if depth == 8 and len(raw) in (entries, entries + 1):
        return np.frombuffer(raw, np.uint8, entries).astype(np.uint16)
    if len(raw) < 2:
        raise PaletteError(f"{colour} Palette Color Lookup Table Data is empty")
    if len(raw) < 2 * entries:     # DCMTK's fallback: use the entries that are there
        from .. import _diag
        _diag.warn(__name__, f"invalid value for 'NumberOfTableEntries' ({entries}) ... "
                   f"assuming {len(raw) // 2}")
        entries = len(raw) // 2
    words = np.frombuffer(raw, "<u2" if elem.little_endian else ">u2", entries).astype(np.uint16)
    return words & 0xFF if depth == 8 else words


def _segmented(words: list[int], entries: int, colour: str):
    """Expand segmented palette data (discrete, linear and indirect segments)."""
    import numpy as np
    out: list[float] = []
    segment_starts: list[int] = []          # word offset -> output start, for indirect copies
    starts_at: dict[int, int] = {}

    def expand(start: int, stop: int, depth: int) -> None:
        pos = start
        while pos < stop:
            if len(out) > entries:
                raise PaletteError(f"segmented {colour} palette expands beyond {entries} entries")
            starts_at[pos] = len(out)
            segment_starts.append(pos)
            if pos + 1 >= stop:
                raise PaletteError(f"segmented {colour} palette: segment at word {pos} is cut short")
            opcode, length = words[pos], words[pos + 1]
            if opcode == 0:
                if pos + 2 + length > stop:
                    raise PaletteError(f"segmented {colour} palette: discrete segment at word "
                                       f"{pos} runs past the data")
                out.extend(words[pos + 2:pos + 2 + length])
                pos += 2 + length
            elif opcode == 1:
                if not out or pos + 2 >= stop:
                    raise PaletteError(f"segmented {colour} palette: linear segment at word {pos} "
                                       f"has no start value")
                y0, y1 = out[-1], words[pos + 2]
                out.extend(y0 + (y1 - y0) * (k + 1) / length for k in range(length))
                pos += 3
            elif opcode == 2:
                if depth > 0 or pos + 3 >= stop:
                    raise PaletteError(f"segmented {colour} palette: invalid indirect segment at "
                                       f"word {pos}")
                offset = words[pos + 2] | (words[pos + 3] << 16)
                if offset >= pos or offset not in starts_at:
                    raise PaletteError(f"segmented {colour} palette: indirect segment at word "
                                       f"{pos} points at {offset}")
                first = segment_starts.index(offset)
                targets = segment_starts[first:first + length]
                if len(targets) < length:
                    raise PaletteError(f"segmented {colour} palette: indirect segment at word "
                                       f"{pos} copies past the data")
                for target in targets:
                    expand_one(target, depth + 1)
                pos += 4
            else:
                raise PaletteError(f"segmented {colour} palette: unknown opcode {opcode} at "
                                   f"word {pos}")

    def expand_one(pos: int, depth: int) -> None:
        opcode = words[pos]
        size = 2 + words[pos + 1] if opcode == 0 else 3 if opcode == 1 else 4
        expand(pos, pos + size, depth)

    expand(0, len(words), 0)
    if len(out) < entries:
        raise PaletteError(f"segmented {colour} palette has {len(out)} entries, the descriptor "
                           f"promises {entries}")
    return np.rint(np.asarray(out[:entries], np.float64)).astype(np.uint16)   # as pydicom
