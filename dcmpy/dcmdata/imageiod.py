"""The DICOM instance img2dcm builds around imported images: Secondary Capture, multi-frame
Secondary Capture, VL Photographic and Ophthalmic Photography.

``image_dataset(images, options)`` takes :class:`~dcmpy.dcmdata.imageimport.ImportedImage`
frames (``read_image``) and returns the instance, with the Type 1/2 checks and inventions of
DCMTK's img2dcm (``--do-checks``, ``+i1``/``+i2``) and its template and key options.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .imageimport import MAX_NATIVE, ImageImportError, ImportedImage

__all__ = ["ImageIODOptions", "image_dataset", "IODS", "SC", "VL_PHOTO"]

# the DICOM instance: Secondary Capture, multi-frame SC, VL Photographic, Ophthalmic Photography

SC = "1.2.840.10008.5.1.4.1.1.7"
_NSC = {"byte": "1.2.840.10008.5.1.4.1.1.7.2", "word": "1.2.840.10008.5.1.4.1.1.7.3",
        "colour": "1.2.840.10008.5.1.4.1.1.7.4"}
VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
_OPH = {8: "1.2.840.10008.5.1.4.1.1.77.1.5.1", 16: "1.2.840.10008.5.1.4.1.1.77.1.5.2"}
IODS = ("sc", "nsc", "vlp", "oph")
_TYPE2 = ("PatientName", "PatientSex", "PatientBirthDate", "PatientID", "StudyDate", "StudyTime",
          "ReferringPhysicianName", "StudyID", "AccessionNumber", "SeriesNumber",
          "InstanceNumber", "PatientOrientation", "Laterality")
_TYPE2_IOD = {
    "vlp": ("AcquisitionContextSequence", "Manufacturer", "LossyImageCompression"),
    "oph": ("Manufacturer", "DetectorType", "PatientEyeMovementCommanded",
            "EmmetropicMagnification", "IntraOcularPressure", "HorizontalFieldOfView",
            "PupilDilated", "IlluminationTypeCodeSequence", "LightPathFilterTypeStackCodeSequence",
            "ImagePathFilterTypeStackCodeSequence", "LensesCodeSequence",
            "RefractiveStateSequence"),
}
_IMAGE_PIXEL = (0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280009, 0x00280010,
                0x00280011, 0x00280034, 0x00280100, 0x00280101, 0x00280102, 0x00280103,
                0x7FE00010, 0x00080016, 0x00080018)


@dataclass
class ImageIODOptions:
    """img2dcm's processing options."""
    iod: str = "sc"                     # 'sc', 'nsc', 'vlp', 'oph'
    template: Any = None                # -df/-dx: start from this file's (or Dataset's) data set
    study_from: str | None = None       # -stf
    series_from: str | None = None      # -sef
    instance_inc: bool = False          # -ii
    checks: bool = True                 # --do-checks / --no-checks
    insert_type2: bool = True           # +i2 / -i2
    invent_type1: bool = True           # +i1 / -i1
    keys: tuple = ()                    # -k


def image_dataset(images: list[ImportedImage], options: ImageIODOptions | None = None):
    """The DICOM instance holding ``images`` (one frame each) as ``options.iod``."""
    from .dataset import Dataset, FileDataset
    from .element import Fragments
    from .encapdoc import (SERIES, STUDY, apply_keys, choose_charset, copy_attributes,
                           copy_element, read_reference)
    from .uid import generate_uid
    opts = options or ImageIODOptions()
    first = _check_frames(images, opts.iod)
    ds = FileDataset()
    if opts.template is not None:
        template = opts.template if isinstance(opts.template, Dataset) \
            else read_reference(opts.template)
        for elem in template:
            if elem.tag not in _IMAGE_PIXEL and elem.tag >> 16 != 0x0002:
                ds[elem.tag] = copy_element(elem)
    source = opts.series_from or opts.study_from
    if source:
        ref = read_reference(source)
        copy_attributes(ds, ref, ("SpecificCharacterSet",)
                        + (SERIES if opts.series_from else STUDY))
        number = ref.get(0x00200013)
        if opts.series_from and opts.instance_inc and number is not None \
                and isinstance(number.value, int):
            ds.InstanceNumber = number.value + 1
    ds.SOPClassUID = _sop_class(first, opts.iod)
    ds.SOPInstanceUID = generate_uid()
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        if keyword not in ds or not getattr(ds, keyword):
            setattr(ds, keyword, generate_uid())
    _pixel_module(ds, images, opts.iod)
    if first.encapsulated:
        offsets, frames, pos = [], [], 0
        for image in images:
            frames.append(image.data)
            offsets.append(pos)
            pos += 8 + len(image.data) + len(image.data) % 2
        table = struct.pack(f"<{len(offsets)}I", *offsets)
        ds.add_new(0x7FE00010, "OB", Fragments([table, *frames]))
    else:
        if sum(len(image.data) for image in images) > MAX_NATIVE:
            raise ImageImportError(f"{len(images)} frames are too large for one DICOM value")
        ds.add_new(0x7FE00010, "OW", b"".join(image.data for image in images))   # as DCMTK
    from .xfer import lookup
    ds.transfer_syntax = lookup(first.transfer_syntax)
    _iod_attributes(ds, opts.iod, len(images))
    apply_keys(ds, list(opts.keys))
    if opts.checks:
        _check_attributes(ds, opts)
    choose_charset(ds)
    return ds


def _check_frames(images: list[ImportedImage], iod: str) -> ImportedImage:
    if not images:
        raise ImageImportError("no input image")
    first = images[0]
    if len(images) > 1 and iod in ("sc", "vlp"):
        name = "Secondary Capture Image" if iod == "sc" else "VL Photographic Image"
        raise ImageImportError(f"{name} SOP Class does not support multiframe images")
    keys = ("rows", "columns", "samples", "bits_allocated", "bits_stored", "photometric",
            "transfer_syntax")
    for n, image in enumerate(images[1:], 2):
        for key in keys:
            if getattr(image, key) != getattr(first, key):
                raise ImageImportError(f"frame {n} differs from frame 1 in {key}: "
                                       f"{getattr(image, key)} instead of {getattr(first, key)}")
    return first


def _sop_class(image: ImportedImage, iod: str) -> str:
    if iod == "sc":
        return SC
    if iod == "vlp":
        if image.bits_stored != 8:
            raise ImageImportError("VL Photographic Image needs 8 bits per sample, not "
                                   f"{image.bits_stored}")
        return VL_PHOTO
    if iod == "oph":
        if image.bits_stored not in _OPH or image.bits_allocated != image.bits_stored:
            raise ImageImportError(f"Bits Stored {image.bits_stored} does not fit the Ophthalmic "
                                   "Photography SOP classes (8 or 16)")
        return _OPH[image.bits_stored]
    if image.samples == 3:
        if image.bits_stored != 8:
            raise ImageImportError("Multi-frame True Color SC needs 8 bits per sample")
        return _NSC["colour"]
    return _NSC["byte" if image.bits_stored == 8 else "word"]


def _pixel_module(ds, images: list[ImportedImage], iod: str) -> None:
    image = images[0]
    ds.SamplesPerPixel = image.samples
    ds.PhotometricInterpretation = image.photometric
    if image.samples > 1:
        ds.PlanarConfiguration = 0
    if iod in ("nsc", "oph"):
        ds.NumberOfFrames = len(images)
    ds.Rows, ds.Columns = image.rows, image.columns
    ds.BitsAllocated, ds.BitsStored = image.bits_allocated, image.bits_stored
    ds.HighBit, ds.PixelRepresentation = image.bits_stored - 1, 0
    if image.pixel_aspect:
        ds.PixelAspectRatio = list(image.pixel_aspect)
    if image.lossy:
        ratio = sum(i.compression_ratio for i in images) / len(images)
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionRatio = f"{ratio:.5g}"
        ds.LossyImageCompressionMethod = "ISO_10918_1"


def _iod_attributes(ds, iod: str, frames: int) -> None:
    """What each target IOD adds (type 1 values only where they are missing)."""
    def default(keyword: str, value: Any) -> None:
        if keyword not in ds:
            setattr(ds, keyword, value)
    if iod in ("nsc", "oph"):
        ds.BurnedInAnnotation = "NO"
        if frames > 1 or iod == "oph":
            default("FrameTime", 1000 if frames > 1 else 0)
            ds.FrameIncrementPointer = 0x00181063
    if iod == "nsc" and ds.SamplesPerPixel == 1:
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
        ds.PresentationLUTShape = "IDENTITY"
    if iod == "vlp":
        default("ImageType", ["DERIVED", "SECONDARY"])
        default("Modality", "XC")
    if iod == "oph":
        _oph_attributes(ds, default)


def _oph_attributes(ds, default) -> None:
    from .dataset import Dataset, Sequence
    from .encapdoc import now
    from .uid import generate_uid
    date, time = now()
    default("ImageType", ["ORIGINAL", "PRIMARY"])
    default("Modality", "OP")
    default("ContentDate", date)
    default("ContentTime", time[:4])
    default("AcquisitionDateTime", date + time[:4])
    default("SynchronizationTrigger", "NO TRIGGER")
    default("AcquisitionTimeSynchronized", "N")
    default("SynchronizationFrameOfReferenceUID", generate_uid())
    if "InstanceNumber" not in ds or ds.InstanceNumber in (None, ""):
        ds.InstanceNumber = 1
    if "AnatomicRegionSequence" not in ds:
        eye = Dataset()
        eye.CodeValue, eye.CodingSchemeDesignator, eye.CodeMeaning = "81745001", "SCT", "Eye"
        ds.AnatomicRegionSequence = Sequence([eye])


_TYPE1 = {"sc": ("ConversionType",), "nsc": ("ConversionType",),
          "vlp": ("ImageType", "Modality"),
          "oph": ("ImageLaterality", "AcquisitionDeviceTypeCodeSequence")}
_INVENT = {"ConversionType": "WSD"}


def _check_attributes(ds, opts: ImageIODOptions) -> None:
    """Insert empty type 2 and invent type 1 attributes as allowed, else refuse."""
    missing = []
    for keyword in _TYPE1[opts.iod]:
        if keyword in ds and getattr(ds, keyword) not in (None, "", []):
            continue
        if opts.invent_type1 and keyword in _INVENT:
            setattr(ds, keyword, _INVENT[keyword])
        else:
            missing.append(f"Missing type 1 attribute: {keyword}")
    for keyword in _TYPE2 + _TYPE2_IOD.get(opts.iod, ()):
        if keyword in ds or "ImageLaterality" in ds and keyword == "Laterality":
            continue
        if opts.insert_type2:
            from .dataset import Sequence
            setattr(ds, keyword, Sequence() if keyword.endswith("Sequence") else None)
        else:
            missing.append(f"Missing type 2 attribute: {keyword}")
    if missing:
        raise ImageImportError("; ".join(missing))
