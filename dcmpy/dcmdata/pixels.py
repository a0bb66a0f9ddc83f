"""Pixel data: the Image Pixel module, frames (native or encapsulated) and decoding to NumPy.

``PixelInfo.of(ds)`` validates the module before anything is allocated; ``frame_bytes`` finds
one frame without touching the others (Extended or Basic Offset Table, one fragment per frame,
or a scan for the codestream start markers); ``decode_frame`` and ``pixel_array`` decode
through the codec registry (``dcmpy.codecs``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import xfer
from .element import Fragments
from .tag import PIXEL_DATA

if TYPE_CHECKING:
    import numpy as np

    from .dataset import Dataset

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
EXTENDED_OFFSET_TABLE = 0x7FE00001
EXTENDED_OFFSET_TABLE_LENGTHS = 0x7FE00002
_MAX_DIMENSION = 0xFFFF
# codestream starts that mark a new frame when fragments must be grouped without a table
_FRAME_STARTS = (b"\xff\xd8", b"\xff\x4f\xff\x51", b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")


class PixelDataError(ValueError):
    """Pixel data that cannot be interpreted as its attributes say (names frame and cause)."""


@dataclass(frozen=True, slots=True)
class PixelInfo:
    """The attributes of the Image Pixel module that decide the pixel layout."""
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    signed: bool
    planar: bool
    photometric: str
    frames: int

    @classmethod
    def of(cls, ds: Dataset, strict: bool = False) -> PixelInfo:
        """Read and check the module; raise PixelDataError naming the first bad attribute.

        Decoding tolerates a missing Samples per Pixel, Bits Stored, High Bit or Pixel
        Representation (their usual values); ``strict`` (encoding) requires them all, and a
        Photometric Interpretation, as DCMTK's encoders do."""
        def usual(value: int) -> int | None:
            return None if strict else value
        def us(keyword: str, default: int | None = None) -> int:
            value = getattr(ds, keyword, None) if keyword in ds else None
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            if value is None or value == "":
                if default is None:
                    raise PixelDataError(f"{keyword} is missing")
                return default
            try:
                return int(value)
            except (TypeError, ValueError):
                raise PixelDataError(f"{keyword} has a non-numeric value {value!r}") from None

        bits_allocated = us("BitsAllocated")
        info = cls(rows=us("Rows"), columns=us("Columns"),
                   samples=us("SamplesPerPixel", usual(1)),
                   bits_allocated=bits_allocated,
                   bits_stored=us("BitsStored", usual(bits_allocated)),
                   high_bit=us("HighBit", usual(-1)),
                   signed=us("PixelRepresentation", usual(0)) == 1,
                   planar=us("PlanarConfiguration", 0) == 1,
                   photometric=str(getattr(ds, "PhotometricInterpretation", "") or "").strip(),
                   frames=us("NumberOfFrames", 1))
        if strict and not info.photometric:
            raise PixelDataError("PhotometricInterpretation is missing")
        if info.high_bit < 0:
            info = replace(info, high_bit=info.bits_stored - 1)
        info.check()
        return info

    def check(self) -> None:
        if not (0 < self.rows <= _MAX_DIMENSION and 0 < self.columns <= _MAX_DIMENSION):
            raise PixelDataError(f"image size {self.rows} x {self.columns} is invalid")
        if self.samples not in (1, 3, 4):
            raise PixelDataError(f"SamplesPerPixel {self.samples} is not 1, 3 or 4")
        if self.bits_allocated not in (1, 8, 16, 32, 64):
            raise PixelDataError(f"BitsAllocated {self.bits_allocated} is not 1, 8, 16, 32 or 64")
        if not 0 < self.bits_stored <= self.bits_allocated:
            raise PixelDataError(f"BitsStored {self.bits_stored} does not fit BitsAllocated "
                                 f"{self.bits_allocated}")
        if not self.bits_stored - 1 <= self.high_bit < self.bits_allocated:
            raise PixelDataError(f"HighBit {self.high_bit} does not fit BitsStored "
                                 f"{self.bits_stored} and BitsAllocated {self.bits_allocated}")
        if self.frames < 1:
            raise PixelDataError(f"NumberOfFrames {self.frames} is invalid")

    @property
    def bytes_per_sample(self) -> int:
        return max(1, self.bits_allocated // 8)

    @property
    def frame_size(self) -> int:
        """Bytes of one native frame (bit-packed for BitsAllocated 1, rounded up)."""
        bits = self.rows * self.columns * self.samples * self.bits_allocated
        return (bits + 7) // 8

    @property
    def dtype(self) -> np.dtype:
        import numpy as np
        kind = "i" if self.signed else "u"
        return np.dtype(f"<{kind}{self.bytes_per_sample}")

    def frame_shape(self) -> tuple[int, ...]:
        if self.samples == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples)


def pixel_element(ds: Dataset):
    elem = ds.get(PIXEL_DATA)
    if elem is None:
        raise PixelDataError("the data set has no Pixel Data (7FE0,0010)")
    return elem


def transfer_syntax_of(ds: Dataset) -> xfer.TransferSyntax:
    ts = getattr(ds, "transfer_syntax", None)
    if ts is None:
        meta = getattr(ds, "file_meta", None)
        uid = meta.get(0x00020010) if meta is not None else None
        ts = xfer.lookup(uid.value) if uid is not None else None
    return ts or xfer.EXPLICIT_LE


def is_encapsulated(ds: Dataset) -> bool:
    elem = pixel_element(ds)
    return isinstance(elem.value, Fragments)


# -- encapsulated frames --------------------------------------------------------------------
def frame_fragments(ds: Dataset, info: PixelInfo | None = None,
                    use_tables: bool = True) -> list[list[memoryview]]:
    """The fragments of every frame of encapsulated pixel data, grouped per frame
    (``use_tables=False`` ignores the offset tables, as ``dcmdjpls +io``)."""
    info = info or PixelInfo.of(ds)
    frags = list(pixel_element(ds).value)
    if not frags:
        raise PixelDataError("encapsulated pixel data has no Basic Offset Table item")
    bot, data = frags[0], frags[1:]
    if not data:
        raise PixelDataError("encapsulated pixel data has no fragments")
    starts = _item_starts(data)
    eot = ds.get(EXTENDED_OFFSET_TABLE) if use_tables else None
    if eot is not None and len(eot.raw):
        offsets = list(struct.unpack(f"<{len(eot.raw) // 8}Q", bytes(eot.raw)[:len(eot.raw) // 8 * 8]))
        return _group_by_offsets(data, starts, offsets, info.frames, "Extended Offset Table")
    if len(bot) and use_tables:
        if len(bot) % 4:
            raise PixelDataError(f"Basic Offset Table length {len(bot)} is not a multiple of 4")
        offsets = list(struct.unpack(f"<{len(bot) // 4}I", bytes(bot)))
        return _group_by_offsets(data, starts, offsets, info.frames, "Basic Offset Table")
    if info.frames == 1:
        return [data]
    if len(data) == info.frames:
        return [[f] for f in data]
    return _group_by_markers(data, info.frames, transfer_syntax_of(ds).uid == RLE_LOSSLESS)


def _item_starts(data: list) -> dict[int, int]:
    """Offset of each fragment's item tag (relative to the first fragment's) -> its index."""
    starts, pos = {}, 0
    for i, frag in enumerate(data):
        starts[pos] = i
        pos += 8 + len(frag)
    return starts


def _group_by_offsets(data: list, starts: dict[int, int], offsets: list[int], frames: int,
                      table: str) -> list[list[memoryview]]:
    if len(offsets) != frames:
        raise PixelDataError(f"{table} has {len(offsets)} entries for {frames} frames")
    index = []
    for n, off in enumerate(offsets):
        i = starts.get(off)
        if i is None or (index and i <= index[-1]):
            raise PixelDataError(f"{table} entry for frame {n + 1} (offset {off}) does not point "
                                 f"at a fragment in order")
        index.append(i)
    bounds = index + [len(data)]
    return [data[bounds[n]:bounds[n + 1]] for n in range(frames)]


def _starts_frame(head: bytes, rle: bool) -> bool:
    """Does a fragment beginning with ``head`` start a codestream (an RLE header: 1 to 15
    segments, the first at offset 64)?"""
    if rle:
        return len(head) == 8 and 1 <= head[0] <= 15 and head[1:8] == b"\0\0\0\x40\0\0\0"
    return head.startswith(_FRAME_STARTS)


def _group_by_markers(data: list, frames: int, rle: bool) -> list[list[memoryview]]:
    groups: list[list[memoryview]] = []
    for frag in data:
        if not groups or _starts_frame(bytes(frag[:8]), rle):
            groups.append([frag])
        else:
            groups[-1].append(frag)
    if len(groups) != frames:
        raise PixelDataError(f"cannot split {len(data)} fragments into {frames} frames "
                             f"(no offset table; {len(groups)} codestream starts found)")
    return groups


def frame_bytes(ds: Dataset, index: int, info: PixelInfo | None = None,
                use_tables: bool = True) -> bytes | memoryview:
    """The stored bytes of frame ``index`` (0-based): a codestream, or native pixels."""
    info = info or PixelInfo.of(ds)
    if not 0 <= index < info.frames:
        raise PixelDataError(f"frame {index + 1} requested, the image has {info.frames}")
    elem = pixel_element(ds)
    value = elem.value
    if isinstance(value, Fragments):
        parts = frame_fragments(ds, info, use_tables)[index]
        return parts[0] if len(parts) == 1 else b"".join(bytes(p) for p in parts)
    if info.bits_allocated == 1:
        return native_pixels(ds, info)   # bit-packed frames need not start on a byte
    raw = native_pixels(ds, info)
    size = info.frame_size
    return raw[index * size:(index + 1) * size]


def native_pixels(ds: Dataset, info: PixelInfo) -> bytes | memoryview:
    """Native pixel data as little-endian bytes, checked against the declared size."""
    elem = pixel_element(ds)
    raw = elem.raw
    need = (info.rows * info.columns * info.samples * info.bits_allocated * info.frames + 7) // 8
    if len(raw) < need:
        raise PixelDataError(f"pixel data has {len(raw)} bytes, {info.frames} frame(s) of "
                             f"{info.rows} x {info.columns} x {info.samples} at "
                             f"{info.bits_allocated} bits need {need}")
    if not elem.little_endian and elem.vr == "OW":
        # OW is swapped in 16-bit words whatever the sample size (as DCMTK and GDCM read it)
        import numpy as np
        count = (need + 1) // 2
        return np.frombuffer(raw, ">u2", count).astype("<u2").tobytes()[:need]
    return raw[:need]


# -- decoding -------------------------------------------------------------------------------
def decode_frame(ds: Dataset, index: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Frame ``index`` as a NumPy array of shape (rows, columns[, samples]).

    Colour frames come back interleaved (samples last) whatever the planar configuration.
    Encapsulated frames are decoded by the transfer syntax's codec; ``out``, when given, must
    have the frame's shape and dtype and receives the pixels.
    """
    info = PixelInfo.of(ds)
    data = frame_bytes(ds, index, info)
    ts = transfer_syntax_of(ds)
    if isinstance(pixel_element(ds).value, Fragments):
        from ..codecs import decoder
        try:
            frame = decoder(ts.uid)(data, info)
        except PixelDataError as exc:
            raise PixelDataError(f"frame {index + 1}: {exc}") from None
    else:
        frame = _native_frame(data, info, index)
    frame = _finish(frame, info)
    if out is not None:
        out[...] = frame
        return out
    return frame


def _native_frame(data: Any, info: PixelInfo, index: int) -> np.ndarray:
    import numpy as np
    if info.bits_allocated == 1:
        count = info.rows * info.columns * info.samples
        bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
        return bits[index * count:(index + 1) * count].copy()
    return np.frombuffer(data, info.dtype).copy()


def _finish(flat: np.ndarray, info: PixelInfo) -> np.ndarray:
    """Shape a decoded frame, interleave planar colour and sign-extend narrow signed values."""
    import numpy as np
    if info.samples > 1 and info.planar and flat.ndim == 1:
        frame = flat.reshape(info.samples, info.rows, info.columns).transpose(1, 2, 0)
        frame = np.ascontiguousarray(frame)
    else:
        frame = flat.reshape(info.frame_shape())
    if info.bits_stored < info.bits_allocated and info.bits_allocated > 1:
        unsigned = frame.view(f"<u{info.bytes_per_sample}")
        unsigned = (unsigned >> (info.high_bit + 1 - info.bits_stored)) & ((1 << info.bits_stored) - 1)
        if info.signed:
            sign = 1 << (info.bits_stored - 1)
            frame = ((unsigned ^ sign).astype(np.int64) - sign).astype(info.dtype)
        else:
            frame = unsigned.astype(info.dtype)
    return frame


def pixel_array(ds: Dataset) -> np.ndarray:
    """All frames: (rows, columns[, samples]) for one frame, (frames, ...) for several."""
    import numpy as np
    info = PixelInfo.of(ds)
    if info.frames == 1:
        return decode_frame(ds, 0)
    if isinstance(pixel_element(ds).value, Fragments):
        frame_fragments(ds, info)       # checks the frame count before allocating
    else:
        native_pixels(ds, info)         # checks the size before allocating
    out = np.empty((info.frames, *info.frame_shape()), info.dtype)
    for i in range(info.frames):
        decode_frame(ds, i, out[i])
    return out
