"""Look-up tables (PS3.3 C.11.1 Modality LUT, C.11.2 VOI LUT, C.11.6 Presentation LUT):
descriptor and data read together and checked against each other.

A descriptor is (entries, first mapped value, bits per entry); 0 entries means 65536. The first
mapped value is signed when the pixels are (or the descriptor is SS). Data may be OW or US,
and 8-bit entries may come packed two to a word. What does not fit is an ``LUTError`` naming
the attribute and the numbers, never a read past the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import attrs

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset

LUT_DESCRIPTOR = 0x00283002
LUT_EXPLANATION = 0x00283003
LUT_DATA = 0x00283006


class LUTError(ValueError):
    """A look-up table whose descriptor and data do not agree."""


@dataclass(frozen=True)
class LookupTable:
    """A table: ``data[i]`` is the output for input ``first + i``; entries have ``bits`` bits."""
    first: int
    bits: int
    data: np.ndarray          # uint16, one entry per mapped input value
    explanation: str = ""

    @property
    def entries(self) -> int:
        return int(self.data.shape[0])

    @property
    def max_output(self) -> int:
        return (1 << self.bits) - 1

    def lookup(self, values: np.ndarray) -> np.ndarray:
        """Map values (clamped to the table's ends, as PS3.3 prescribes) to entries."""
        import numpy as np
        index = np.clip(np.asarray(values, np.int64) - self.first, 0, self.entries - 1)
        return self.data[index]


def read_table(item: Dataset, what: str, signed_first: bool, *, data_tag: int = LUT_DATA,
               descriptor_tag: int = LUT_DESCRIPTOR, explanation_tag: int | None = LUT_EXPLANATION,
               ignore_depth: bool = False) -> LookupTable:
    """Read descriptor and data from ``item``; ``what`` names the table in errors
    (e.g. 'VOI LUT 1'); ``ignore_depth`` takes the bits from the data (DCMTK's +Mm/+Mv)."""
    import numpy as np
    desc = attrs.words(item, descriptor_tag)
    if len(desc) < 3:
        raise LUTError(f"{what}: LUT Descriptor has {len(desc)} values, needs 3")
    entries = desc[0] or 65536
    first = desc[1] - 0x10000 if signed_first and desc[1] >= 0x8000 else desc[1]
    bits = desc[2]
    elem = item.get(data_tag)
    if elem is None:
        raise LUTError(f"{what}: LUT Data is missing")
    raw = bytes(elem.raw)
    if bits <= 8 and len(raw) in (entries, entries + 1) and len(raw) < 2 * entries:
        data = np.frombuffer(raw, np.uint8, entries).astype(np.uint16)   # packed 8-bit entries
    else:
        data = np.frombuffer(raw, "<u2" if elem.little_endian else ">u2",
                             min(entries, len(raw) // 2)).astype(np.uint16)
        if len(data) < entries:
            if not len(data):
                raise LUTError(f"{what}: LUT Data is empty, the descriptor promises "
                               f"{entries} entries")
            # DCMTK's fallback: use the entries that are there
            from .. import _diag
            _diag.warn(__name__, f"invalid value for 'NumberOfTableEntries' ({entries}) ... "
                       f"assuming {len(data)}")
            entries = len(data)
    if ignore_depth or not 1 <= bits <= 16:
        top = int(data.max()) if entries else 0
        found = max(8, top.bit_length())
        if not ignore_depth:
            from .. import _diag
            _diag.warn(__name__, f"invalid value for bits per table entry ({bits}) in {what}"
                       f" ... assuming {found}")
        bits = found
    if bits < 16:
        data = data & ((1 << bits) - 1)
    explanation = attrs.text(item, explanation_tag) if explanation_tag else ""
    return LookupTable(first=first, bits=bits, data=data, explanation=explanation)
