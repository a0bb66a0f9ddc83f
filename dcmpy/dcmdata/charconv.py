"""Converting a whole data set to another Specific Character Set (dcmdump/dcmconv +U8)."""
from __future__ import annotations

from .dataset import Dataset


def convert_to_utf8(ds: Dataset) -> None:
    """Re-encode every value affected by (0008,0005) as UTF-8 and declare ISO_IR 192, in place."""
    raise NotImplementedError("being written")
