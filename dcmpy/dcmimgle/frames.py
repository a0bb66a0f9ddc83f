"""Stored pixel values frame by frame, decoded only when asked for.

Native pixel data shorter than the image claims is padded with zeros after a warning (DCMTK's
documented fallback: "computed (n) and stored (m) pixel count differ") as long as less than
64 MiB are missing; a header that claims far more than is stored is refused (DCMTK would
allocate it all). Nothing is ever read past the stored bytes. Encapsulated frames go through the codec registry.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _diag
from ..dcmdata import pixels
from ..dcmdata.element import Fragments

if TYPE_CHECKING:
    import numpy as np

    from ..dcmdata.dataset import Dataset


_MAX_PADDING = 64 << 20   # zero-fill at most this much missing data; beyond, the header lies


class StoredFrames:
    """The frames of one image as arrays of stored values (rows, columns[, samples])."""

    def __init__(self, ds: Dataset, info: pixels.PixelInfo, subsampled: bool = False,
                 codec_options: dict | None = None) -> None:
        self.ds, self.info = ds, info
        self.codec_options = codec_options or {}
        elem = pixels.pixel_element(ds)
        self.encapsulated = isinstance(elem.value, Fragments)
        # native YBR_*_422: two samples per pixel stored (Y Y Cb Cr for each pair of pixels)
        self.subsampled = subsampled and not self.encapsulated
        self._native: bytes | memoryview | None = None
        if not self.encapsulated:
            self._native = self._native_bytes(elem)

    def _native_bytes(self, elem) -> bytes | memoryview:
        info = self.info
        count = info.rows * info.columns * self._samples * info.frames
        need = (count * info.bits_allocated + 7) // 8
        raw = elem.raw
        if not elem.little_endian and elem.vr == "OW":   # swapped in 16-bit words, any depth
            import numpy as np
            raw = np.frombuffer(raw, ">u2", len(raw) // 2).astype("<u2").tobytes()
        stored = len(raw) * 8 // info.bits_allocated
        if need - len(raw) > _MAX_PADDING:
            raise pixels.PixelDataError(
                f"pixel data has {len(raw)} bytes, {info.frames} frame(s) of {info.rows} x "
                f"{info.columns} x {self._samples} at {info.bits_allocated} bits need {need}")
        if len(raw) < need:
            _diag.warn(__name__, f"computed ({count}) and stored ({stored}) pixel count differ")
            return bytes(raw) + bytes(need - len(raw))
        return raw[:need]

    def get(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as stored values, sign-extended, interleaved samples."""
        info = self.info
        if not 0 <= index < info.frames:
            raise pixels.PixelDataError(f"frame {index + 1} requested, the image has {info.frames}")
        if self.encapsulated:
            return self._decode(index)
        if self.subsampled:
            return _expand_422(self._native, info, index)
        return _unpack(self._native, info, index)

    def _options(self, ts_uid: str) -> dict:
        jpeg = ts_uid.startswith("1.2.840.10008.1.2.4.5") and ts_uid != "1.2.840.10008.1.2.4.57"
        return self.codec_options if jpeg else {}

    def _decode(self, index: int) -> np.ndarray:
        from ..codecs import decoder
        ts = pixels.transfer_syntax_of(self.ds)
        data = pixels.frame_bytes(self.ds, index, self.info)
        try:
            frame = decoder(ts.uid)(data, self.info, **self._options(ts.uid))
        except pixels.PixelDataError as exc:
            raise pixels.PixelDataError(f"frame {index + 1}: {exc}") from None
        return pixels._finish(frame, self.info)

    def decoded_photometric(self) -> str:
        """The colour model the decoder delivers (e.g. RGB for JPEG YBR_FULL_422)."""
        if not self.encapsulated:
            return self.info.photometric
        from ..codecs import decoded_photometric
        ts = pixels.transfer_syntax_of(self.ds)
        data = pixels.frame_bytes(self.ds, 0, self.info)
        return decoded_photometric(ts.uid, self.info, data, **self._options(ts.uid))

    def words(self, index: int) -> np.ndarray | None:
        """Frame ``index`` as the stored words, unmasked (for embedded overlays); None for
        encapsulated or bit-packed data."""
        info = self.info
        if self.encapsulated or info.bits_allocated not in (8, 16, 32) or info.samples != 1:
            return None
        import numpy as np
        count = info.rows * info.columns
        size = info.bytes_per_sample
        flat = np.frombuffer(self._native, f"<u{size}", count, index * count * size)
        return flat.reshape(info.rows, info.columns)

    @property
    def _samples(self) -> int:
        return 2 if self.subsampled else self.info.samples


def _unpack(raw, info: pixels.PixelInfo, index: int) -> np.ndarray:
    import numpy as np
    count = info.rows * info.columns * info.samples
    if info.bits_allocated == 1:
        first = index * count
        data = np.frombuffer(raw, np.uint8, (first + count + 7) // 8 - first // 8, first // 8)
        flat = np.unpackbits(data, bitorder="little")[first % 8:first % 8 + count]
    else:
        size = info.bytes_per_sample
        flat = np.frombuffer(raw, f"<u{size}", count, index * count * size)
        shift = info.high_bit + 1 - info.bits_stored
        if shift or info.bits_stored < info.bits_allocated:
            flat = (flat >> shift) & ((1 << info.bits_stored) - 1)
        if info.signed:
            sign = 1 << (info.bits_stored - 1)
            flat = (flat.astype(np.int64) ^ sign) - sign
            flat = flat.astype(f"<i{size}")
    if info.samples > 1 and info.planar:
        frame = flat.reshape(info.samples, info.rows, info.columns).transpose(1, 2, 0)
        return np.ascontiguousarray(frame)
    return flat.reshape(info.frame_shape())


def _expand_422(raw, info: pixels.PixelInfo, index: int) -> np.ndarray:
    """Y0 Y1 Cb Cr per pair of pixels -> (rows, columns, 3) full YCbCr."""
    import numpy as np
    pairs = info.rows * info.columns // 2
    size = info.bytes_per_sample
    quads = np.frombuffer(raw, f"<u{size}", pairs * 4, index * pairs * 4 * size).reshape(-1, 4)
    mask = (1 << info.bits_stored) - 1
    quads = (quads >> (info.high_bit + 1 - info.bits_stored)) & mask
    out = np.empty((pairs, 2, 3), quads.dtype)
    out[:, :, 0] = quads[:, 0:2]
    out[:, :, 1] = quads[:, 2:3]
    out[:, :, 2] = quads[:, 3:4]
    return out.reshape(info.rows, info.columns, 3)
