"""Changing the pixel encoding of a data set: compress, decompress, transcode.

The data set is changed in place (Pixel Data, transfer syntax and the attributes that depend on
the encoding) and returned; write it with ``dcmwrite``. A lossless change keeps the stored
values bit-exact; the codecs live in ``dcmpy.codecs``.
"""
from __future__ import annotations

import struct
from typing import Any, Callable

from . import xfer
from .dataset import Dataset
from .element import Element, Fragments
from .pixels import (PixelDataError, PixelInfo, frame_bytes, is_encapsulated, native_pixels,
                     transfer_syntax_of)
from .tag import PIXEL_DATA
from .uid import generate_uid


def _set_syntax(ds: Dataset, ts: xfer.TransferSyntax) -> None:
    if hasattr(ds, "file_meta"):
        ds.__dict__["transfer_syntax"] = ts
        if 0x00020010 in ds.file_meta:
            ds.file_meta[0x00020010].value = ts.uid


def _pixel_datasets(ds: Dataset) -> list[Dataset]:
    """``ds`` and every item below it that holds Pixel Data (an Icon Image Sequence, say):
    DCMTK's codecs convert them all."""
    found = [ds] if PIXEL_DATA in ds else []
    for elem in ds:
        if elem.vr == "SQ":
            for item in elem.value:
                found.extend(_pixel_datasets(item))
    return found


_HARDCOPY_COLOR = "1.2.840.10008.5.1.1.30"
_KEEPS_PLANAR = frozenset({"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.98"})
# ultrasound images keep YBR_FULL by plane (PS3.3 C.8.5.6.1.16), as DCMTK's +pa decides
_ULTRASOUND = frozenset({"1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1",
                         "1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.5.1.4.1.1.3"})


def decompress(ds: Dataset, ts_uid: str = xfer.EXPLICIT_LE.uid, planar: Any = 0,
               use_tables: bool = True, **codec_options: Any) -> Dataset:
    """Replace encapsulated pixel data (also in nested items) by native pixel data, and set
    ``ts_uid`` (an uncompressed syntax).

    Colour is stored by pixel (``planar=0``), by plane (1), as the Planar Configuration of the
    compressed data set says (``"restore"``) or as DCMTK's ``+pa`` decides (``"auto"``: by
    plane for YBR_FULL ultrasound and for Hardcopy Color images). ``use_tables=False`` finds the frames
    without the offset tables; ``codec_options`` go to the decoder.
    """
    target = _syntax(ts_uid)
    if target.encapsulated:
        raise PixelDataError(f"{target.name} is not an uncompressed transfer syntax")
    source = transfer_syntax_of(ds)
    sop_class = str(getattr(ds, "SOPClassUID", "") or "") if "SOPClassUID" in ds else ""
    # decode everything first, then change the data set: a failure changes nothing
    changes = [_decoded(item, source.uid, planar, sop_class, use_tables, codec_options)
               for item in _pixel_datasets(ds) if is_encapsulated(item)]
    for apply in changes:
        apply()
    if source.lossy:
        ds.LossyImageCompression = "01"     # the pixels went through a lossy process
    _set_syntax(ds, target)
    return ds


def _decoded(ds: Dataset, source: str, planar: Any, sop_class: str, use_tables: bool,
             codec_options: dict) -> Callable[[], None]:
    """Decode the pixel data of ``ds``; return what puts the result into ``ds``."""
    import numpy as np
    from ..codecs import decoded_photometric, decoder
    info = PixelInfo.of(ds)
    decode = decoder(source)
    photometric = decoded_photometric(source, info, frame_bytes(ds, 0, info, use_tables),
                                      **codec_options)
    if planar == "restore":
        planar = int(info.planar)
    elif planar == "auto":
        planar = int(photometric == "YBR_FULL" and sop_class in _ULTRASOUND
                     or sop_class == _HARDCOPY_COLOR)
    by_plane = bool(planar) and info.samples > 1
    size = info.rows * info.columns * info.samples * info.bytes_per_sample
    pixels = np.empty(size * info.frames + (size * info.frames) % 2, np.uint8)
    pixels[-1:] = 0
    for i in range(info.frames):
        try:
            frame = decode(frame_bytes(ds, i, info, use_tables), info, **codec_options)
        except PixelDataError as exc:
            raise PixelDataError(f"frame {i + 1}: {exc}") from None
        if by_plane:
            frame = frame.transpose(2, 0, 1)
        pixels[i * size:(i + 1) * size] = np.ascontiguousarray(frame).view(np.uint8).reshape(-1)

    def apply() -> None:
        ds[PIXEL_DATA] = Element(PIXEL_DATA, "OW", pixels.view("<u2"))
        if info.samples > 1:
            ds.PlanarConfiguration = int(by_plane)
            if photometric != info.photometric:
                ds.PhotometricInterpretation = photometric
    return apply


def compress(ds: Dataset, ts_uid: str, *, offset_table: bool = True,
             fragment_size: int | None = None, **codec_options: Any) -> Dataset:
    """Encode native pixel data into ``ts_uid``: one codestream per frame, in fragments of at
    most ``fragment_size`` bytes (None: one fragment per frame), with a Basic Offset Table
    unless ``offset_table`` is False."""
    target = _syntax(ts_uid)
    if not target.encapsulated:
        raise PixelDataError(f"{target.name} is not a compressed transfer syntax")
    if _is_dicomdir(ds):
        raise PixelDataError("DICOMDIR files (Media Storage Directory Storage SOP Class) "
                             "cannot be compressed")
    if transfer_syntax_of(ds).uid == target.uid:
        return ds
    if transfer_syntax_of(ds).encapsulated:
        decompress(ds)
    changes = [_encoded(item, target.uid, offset_table, fragment_size, codec_options)
               for item in _pixel_datasets(ds)]
    for apply in changes:        # everything encoded before anything changes
        apply()
    _set_syntax(ds, target)
    return ds


def _encoded(ds: Dataset, ts_uid: str, offset_table: bool, fragment_size: int | None,
             codec_options: dict) -> Callable[[], None]:
    """Encode the pixel data of ``ds``; return what puts the result into ``ds``. Colour ends
    up by pixel (Planar Configuration 0, PS3.5 8.2) except in RLE and encapsulated
    uncompressed, which keep the source's layout."""
    from ..codecs import encoded_photometric, encoder
    info = PixelInfo.of(ds, strict=True)
    encode = encoder(ts_uid)
    raw = native_pixels(ds, info)
    size = info.frame_size
    frames = [encode(raw[i * size:(i + 1) * size], info, **codec_options)
              for i in range(info.frames)]
    photometric = encoded_photometric(ts_uid, info, **codec_options)

    def apply() -> None:
        ds[PIXEL_DATA] = Element(PIXEL_DATA, "OB",
                                 encapsulate(frames, offset_table, fragment_size))
        if photometric != info.photometric:
            ds.PhotometricInterpretation = photometric
        if info.samples > 1 and ts_uid not in _KEEPS_PLANAR:
            ds.PlanarConfiguration = 0
    return apply


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop = meta.get(0x00020002) if meta is not None else None
    sop = sop.value if sop is not None else getattr(ds, "SOPClassUID", "") if (
        "SOPClassUID" in ds) else ""
    return str(sop).rstrip("\0 ") == "1.2.840.10008.1.3.10"


def transcode(ds: Dataset, ts_uid: str, **options: Any) -> Dataset:
    """Bring ``ds`` into ``ts_uid``, compressing or decompressing the pixel data as needed.

    A lossy encode records itself as PS3.3 asks (Lossy Image Compression, ratio, method, Image
    Type DERIVED) and makes the result a new instance that names its source.
    """
    target = _syntax(ts_uid)
    source = transfer_syntax_of(ds)
    if PIXEL_DATA not in ds or target.uid == source.uid or not (
            target.encapsulated or source.encapsulated):
        _set_syntax(ds, target)
        return ds
    if not target.encapsulated:
        return decompress(ds, ts_uid, **options)
    compress(ds, ts_uid, **options)
    from ..codecs import lossy_method
    method = lossy_method(ts_uid, **options)
    if method:
        ratio = compression_ratio(ds)
        mark_lossy(ds, ratio, method)
        mark_derived(ds, f"Lossy compression with {target.name}, compression ratio "
                         f"{ratio:.5g}")
        new_instance(ds, ("121320", "DCM", "Uncompressed predecessor"))
    return ds


def encapsulate(frames: list, offset_table: bool = True,
                fragment_size: int | None = None) -> Fragments:
    """Fragments for encapsulated Pixel Data: the Basic Offset Table item, then each frame in
    one or more fragments of even length."""
    if fragment_size is not None and (fragment_size < 2 or fragment_size % 2):
        raise ValueError("fragment size must be an even number of bytes")
    items: list[bytes] = []
    offsets = []
    pos = 0
    for frame in frames:
        offsets.append(pos)
        data = bytes(frame) + (b"\0" if len(frame) % 2 else b"")
        step = fragment_size or len(data) or 2
        for start in range(0, max(len(data), 1), step):
            piece = data[start:start + step]
            items.append(piece)
            pos += 8 + len(piece)
    if pos > 0xFFFFFFFF and offset_table:
        raise PixelDataError("frames too large for a Basic Offset Table; use an empty table")
    bot = struct.pack(f"<{len(offsets)}I", *offsets) if offset_table else b""
    return Fragments([bot, *items])


def compression_ratio(ds: Dataset, stored_bits: bool = False) -> float:
    """Native pixel bytes over the bytes of the frames' codestreams (the offset table aside);
    ``stored_bits`` counts BitsStored bits per sample instead of whole bytes (DCMTK's JPEG-LS
    figure)."""
    info = PixelInfo.of(ds)
    stored = sum(len(f) for f in list(ds[PIXEL_DATA].value)[1:])
    bits = info.bits_stored if stored_bits else 8 * info.bytes_per_sample
    native = info.rows * info.columns * info.samples * info.frames * bits / 8
    return native / stored if stored else 0.0


def mark_lossy(ds: Dataset, ratio: float | str, method: str) -> None:
    """Record a lossy compression as PS3.3 C.7.6.1.1.5 asks: Lossy Image Compression 01, the
    ratio (a number, or the text to store) and method appended to those of earlier lossy
    steps, and the 'Lossy Compression' derivation code (once)."""
    ds.LossyImageCompression = "01"
    text = ratio if isinstance(ratio, str) else f"{ratio:.5g}"
    for keyword, value in (("LossyImageCompressionRatio", text),
                           ("LossyImageCompressionMethod", method)):
        old = getattr(ds, keyword, None) if keyword in ds else None
        values = [] if old in (None, "") else list(old) if isinstance(old, (list, tuple)) else [old]
        setattr(ds, keyword, [*map(str, values), value])
    codes = list(getattr(ds, "DerivationCodeSequence", None) or []) if (
        "DerivationCodeSequence" in ds) else []
    if not any(str(getattr(c, "CodeValue", "")) == "113040" for c in codes):
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = (
            "113040", "DCM", "Lossy Compression")
        ds.DerivationCodeSequence = [*codes, code]


def mark_derived(ds: Dataset, description: str) -> None:
    """Image Type DERIVED, and ``description`` put before any previous Derivation Description
    (what DCMTK's encoders record of a lossy or a re-encoding step)."""
    old_type = getattr(ds, "ImageType", None) if "ImageType" in ds else None
    values = list(old_type) if isinstance(old_type, (list, tuple)) else [old_type]
    ds.ImageType = ["DERIVED", *values[1:]]
    old = str(getattr(ds, "DerivationDescription", "") or "") if (
        "DerivationDescription" in ds) else ""
    ds.DerivationDescription = (f"{description} [{old}]" if old else description)[:1024]


def new_instance(ds: Dataset, purpose: tuple[str, str, str] | None = None) -> None:
    """A new SOP Instance UID, with a Source Image Sequence naming the predecessor (``purpose``
    as (code value, scheme, meaning) when given), as DCMTK's codecs do."""
    old_class = str(getattr(ds, "SOPClassUID", "") or "")
    old_instance = str(getattr(ds, "SOPInstanceUID", "") or "")
    uid = generate_uid()
    ds.SOPInstanceUID = uid
    if hasattr(ds, "file_meta") and 0x00020003 in ds.file_meta:
        ds.file_meta[0x00020003].value = uid
    item = Dataset()
    item.ReferencedSOPClassUID = old_class
    item.ReferencedSOPInstanceUID = old_instance
    if purpose is not None:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = purpose
        item.PurposeOfReferenceCodeSequence = [code]
    ds.SourceImageSequence = [item]


def _syntax(ts_uid: str) -> xfer.TransferSyntax:
    ts = xfer.lookup(ts_uid)
    if ts is None:
        raise PixelDataError(f"unknown transfer syntax {ts_uid}")
    return ts
