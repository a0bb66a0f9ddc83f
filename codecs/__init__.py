"""The codec registry: transfer syntax UID -> decoder and encoder, and what this machine has.

A decoder takes one frame's codestream and the ``PixelInfo`` and returns the frame as a NumPy
array of shape (rows, columns[, samples]); an encoder takes such an array (or native
little-endian bytes) and returns the codestream. Each codec lives in its own module, imported
only when first used, and names the library it needs when that library is missing.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ..dcmdata.pixels import PixelDataError


class CodecUnavailable(PixelDataError):
    """No codec for a transfer syntax on this machine (names the missing library)."""


@dataclass(frozen=True, slots=True)
class CodecEntry:
    module: str          # module in dcmpy.codecs
    library: str         # what it needs, for messages ("built in" when nothing)
    encodes: bool


_RLE = CodecEntry("rle", "built in (dcmpy._ext.rle)", True)
_NATIVE = CodecEntry("native", "built in", True)
REGISTRY: dict[str, CodecEntry] = {
    "1.2.840.10008.1.2.5": _RLE,
    "1.2.840.10008.1.2.1.98": _NATIVE,
}


def _entry(ts_uid: str) -> CodecEntry:
    entry = REGISTRY.get(ts_uid)
    if entry is None:
        from ..dcmdata.xfer import lookup
        ts = lookup(ts_uid)
        raise CodecUnavailable(f"no codec for transfer syntax {ts.name if ts else ts_uid} "
                               f"({ts_uid})")
    return entry


def _module(ts_uid: str, entry: CodecEntry):
    try:
        return importlib.import_module(f"{__name__}.{entry.module}")
    except ImportError as exc:
        raise CodecUnavailable(f"the codec for {ts_uid} needs {entry.library}: {exc}") from None


def decoder(ts_uid: str) -> Callable:
    """The frame decoder for ``ts_uid``; raises CodecUnavailable."""
    entry = _entry(ts_uid)
    return _module(ts_uid, entry).decode


def encoder(ts_uid: str) -> Callable:
    """The frame encoder for ``ts_uid``; raises CodecUnavailable."""
    entry = _entry(ts_uid)
    if not entry.encodes:
        raise CodecUnavailable(f"{entry.library} cannot encode {ts_uid}")
    return _module(ts_uid, entry).encode


def supported() -> dict[str, tuple[bool, bool, str]]:
    """For every registered syntax: (decode available, encode available, library or reason)."""
    out = {}
    for uid, entry in REGISTRY.items():
        try:
            _module(uid, entry)
            out[uid] = (True, entry.encodes, entry.library)
        except CodecUnavailable as exc:
            out[uid] = (False, False, str(exc))
    return out
