"""What goes into a DICOMDIR record: record types by SOP class, keys per record type, profiles.

The keys follow PS3.3 F.5 as DCMTK 3.6.7's ``dcmgpdir``/``dcmmkdir`` apply them for the general
purpose profiles: which attributes a file must have (and in which order they are checked, which
is the order of DCMTK's error messages), which ones ``+I`` may invent or replace, and which ones
are copied into the record.

Rule strings, one word per attribute:

* checks: ``Name`` type 1 (present and not empty), ``Name?`` present (may be empty),
  ``+Name`` type 1 that ``+I`` invents, ``~Name`` type 1 that ``+I`` takes from another attribute;
* copies: ``Name:1`` required (checked above), ``Name:2`` copied, created empty if absent,
  ``Name:3`` copied if present.
"""
from __future__ import annotations

from dataclasses import dataclass

EXPLICIT_LE = "1.2.840.10008.1.2.1"
_JPEG = ("1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_J2K = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")


@dataclass(frozen=True, slots=True)
class Profile:
    """A media storage application profile (PS3.11): its name and the transfer syntaxes it allows
    (None: any); ``extra_keys``: the records take the keys of PS3.11 D.3.3 as well;
    ``image_keys``: what an IMAGE record copies, if not the general purpose keys."""
    name: str
    transfer_syntaxes: tuple[str, ...] | None
    extra_keys: bool = False
    image_keys: str | None = None


PROFILES: dict[str, Profile] = {
    "general": Profile("STD-GEN-CD/DVD-RAM", (EXPLICIT_LE,)),
    "dvd-jpeg": Profile("STD-GEN-DVD-JPEG", (EXPLICIT_LE, *_JPEG), True),
    "dvd-j2k": Profile("STD-GEN-DVD-J2K", (EXPLICIT_LE, *_J2K), True),
    "bd-jpeg": Profile("STD-GEN-BD-JPEG", (EXPLICIT_LE, *_JPEG), True),
    "bd-j2k": Profile("STD-GEN-BD-J2K", (EXPLICIT_LE, *_J2K), True),
    "usb-jpeg": Profile("STD-GEN-USB/MMC/CF/SD-JPEG", (EXPLICIT_LE, *_JPEG), True),
    "usb-j2k": Profile("STD-GEN-USB/MMC/CF/SD-J2K", (EXPLICIT_LE, *_J2K), True),
    "mime": Profile("STD-GEN-MIME", None, image_keys="InstanceNumber:1"),
}

# the additional keys of the DVD, BD and USB profiles (PS3.11 D.3.3), as DCMTK copies them
_GEOMETRY = ("ImagePositionPatient:3 ImageOrientationPatient:3 FrameOfReferenceUID:3 "
             "SynchronizationFrameOfReferenceUID:3 NumberOfFrames:3 Rows:3 Columns:3 PixelSpacing:3")
EXTRA_KEYS = {
    "PATIENT": "PatientBirthDate:3 PatientSex:3",
    "SERIES": "InstitutionName:3",
    "IMAGE": _GEOMETRY + " LossyImageCompressionRatio:3 CalibrationImage:3",
    "SPECTROSCOPY": _GEOMETRY,
}

# the levels above the instance: (record type, DCMTK's record name, checks, copies)
PATIENT = ("PATIENT", "Patient", "+PatientID PatientName?", "PatientName:2 PatientID:1")
STUDY = ("STUDY", "Study", "~StudyDate ~StudyTime StudyInstanceUID +StudyID",
         "StudyDate:1 StudyTime:1 AccessionNumber:2 StudyDescription:2 StudyInstanceUID:1 StudyID:1")
SERIES = ("SERIES", "Series", "Modality SeriesInstanceUID +SeriesNumber",
          "Modality:1 SeriesInstanceUID:1 SeriesNumber:1")

_CONTENT = "ContentDate:1 ContentTime:1 InstanceNumber:1 ContentLabel:1 ContentDescription:2 ContentCreatorName:2"
_CONTENT_CHECKS = "InstanceNumber ContentDate ContentTime ContentLabel"

# instance record type -> (DCMTK's record name, checks, copies)
LEAVES: dict[str, tuple[str, str, str]] = {
    "IMAGE": ("Image", "+InstanceNumber", "ImageType:3 ReferencedImageSequence:3 InstanceNumber:1"),
    "SR DOCUMENT": ("SRDocument",
                    "InstanceNumber CompletionFlag VerificationFlag ContentDate ContentTime "
                    "ConceptNameCodeSequence",
                    "ContentDate:1 ContentTime:1 InstanceNumber:1 ConceptNameCodeSequence:1 "
                    "CompletionFlag:1 VerificationFlag:1"),
    "KEY OBJECT DOC": ("KeyObjectDoc", "InstanceNumber ContentDate ContentTime ConceptNameCodeSequence",
                       "ContentDate:1 ContentTime:1 InstanceNumber:1 ConceptNameCodeSequence:1"),
    "PRESENTATION": ("Presentation",
                     "InstanceNumber ContentLabel PresentationCreationDate PresentationCreationTime",
                     "InstanceNumber:1 ContentLabel:1 ContentDescription:2 PresentationCreationDate:1 "
                     "PresentationCreationTime:1 ContentCreatorName:2"),
    "WAVEFORM": ("Waveform", "InstanceNumber ContentDate ContentTime",
                 "ContentDate:1 ContentTime:1 InstanceNumber:1"),
    "RT DOSE": ("RTDose", "+InstanceNumber DoseSummationType", "InstanceNumber:1 DoseSummationType:1"),
    "RT STRUCTURE SET": ("RTStructureSet", "+InstanceNumber StructureSetLabel",
                         "InstanceNumber:1 StructureSetLabel:1 StructureSetDate:2 StructureSetTime:2"),
    "RT PLAN": ("RTPlan", "+InstanceNumber RTPlanLabel",
                "InstanceNumber:1 RTPlanLabel:1 RTPlanDate:2 RTPlanTime:2"),
    "RT TREAT RECORD": ("RTTreatRecord", "+InstanceNumber",
                        "InstanceNumber:1 TreatmentDate:2 TreatmentTime:2"),
    "ENCAP DOC": ("EncapDoc", "InstanceNumber MIMETypeOfEncapsulatedDocument",
                  "ContentDate:2 ContentTime:2 InstanceNumber:1 ConceptNameCodeSequence:2 "
                  "HL7InstanceIdentifier:3 DocumentTitle:2 MIMETypeOfEncapsulatedDocument:1"),
    "SPECTROSCOPY": ("Spectroscopy",
                     "InstanceNumber ImageType ContentDate ContentTime NumberOfFrames Rows Columns "
                     "DataPointRows DataPointColumns",
                     "ImageType:1 ContentDate:1 ContentTime:1 InstanceNumber:1 NumberOfFrames:1 "
                     "Rows:1 Columns:1 DataPointRows:1 DataPointColumns:1"),
    "RAW DATA": ("RawData", "ContentDate ContentTime",
                 "ContentDate:1 ContentTime:1 InstanceNumber:2"),
    "REGISTRATION": ("Registration", _CONTENT_CHECKS, _CONTENT),
    "FIDUCIAL": ("Fiducial", _CONTENT_CHECKS, _CONTENT),
    "VALUE MAP": ("ValueMap", _CONTENT_CHECKS, _CONTENT),
    "SURFACE": ("Surface", _CONTENT_CHECKS, _CONTENT),
    "TRACT": ("Tract", _CONTENT_CHECKS, _CONTENT),
    "MEASUREMENT": ("Measurement", _CONTENT_CHECKS, _CONTENT),
    "ANNOTATION": ("Annotation", _CONTENT_CHECKS, _CONTENT),
    "SURFACE SCAN": ("SurfaceScan", "ContentDate ContentTime", "ContentDate:1 ContentTime:1"),
    "STEREOMETRIC": ("Stereometric", "", ""),
    "PLAN": ("Plan", "", ""),
    "PALETTE": ("Palette", "ContentLabel", "ContentLabel:1 ContentDescription:2"),
    "IMPLANT": ("Implant", "Manufacturer ImplantName ImplantPartNumber",
                "Manufacturer:1 ImplantName:1 ImplantPartNumber:1"),
    "ASSESSMENT": ("Assessment", "InstanceNumber InstanceCreationDate",
                   "InstanceCreationDate:1 InstanceCreationTime:2 InstanceNumber:1"),
    "RADIOTHERAPY": ("Radiotherapy", "InstanceNumber",
                     "InstanceNumber:1 ContentDescription:2 ContentCreatorName:2"),
    "HANGING PROTOCOL": ("HangingProtocol",
                         "HangingProtocolName HangingProtocolDescription HangingProtocolLevel "
                         "HangingProtocolCreator HangingProtocolCreationDateTime "
                         "HangingProtocolDefinitionSequence NumberOfPriorsReferenced",
                         "HangingProtocolName:1 HangingProtocolDescription:1 HangingProtocolLevel:1 "
                         "HangingProtocolCreator:1 HangingProtocolCreationDateTime:1 "
                         "HangingProtocolDefinitionSequence:1 "
                         "HangingProtocolUserIdentificationCodeSequence:2 NumberOfPriorsReferenced:1"),
    # PS3.3 F.5.40/41 (DCMTK 3.6.7 checks each one's keys on the other's SOP class)
    "IMPLANT GROUP": ("ImplantGroup", "ImplantTemplateGroupName ImplantTemplateGroupIssuer",
                      "ImplantTemplateGroupName:1 ImplantTemplateGroupDescription:3 "
                      "ImplantTemplateGroupIssuer:1"),
    "IMPLANT ASSY": ("ImplantAssy", "ImplantAssemblyTemplateName ImplantAssemblyTemplateIssuer "
                     "ProcedureTypeCodeSequence",
                     "Manufacturer:3 ImplantAssemblyTemplateName:1 ImplantAssemblyTemplateIssuer:1 "
                     "ProcedureTypeCodeSequence:1"),
    "STORED PRINT": ("StoredPrint", "", "InstanceNumber:3"),
    "CURVE": ("Curve", "+RETIRED_CurveNumber", "RETIRED_CurveNumber:1"),
    "OVERLAY": ("Overlay", "+RETIRED_OverlayNumber", "RETIRED_OverlayNumber:1"),
    "MODALITY LUT": ("ModalityLUT", "+RETIRED_LUTNumber", "RETIRED_LUTNumber:1"),
    "VOI LUT": ("VOILUT", "+RETIRED_LUTNumber", "RETIRED_LUTNumber:1"),
}

# instance records that live in the root directory, not below a patient's series
ROOT_LEVEL = frozenset({"PALETTE", "IMPLANT", "HANGING PROTOCOL", "IMPLANT GROUP", "IMPLANT ASSY"})

# SOP classes (by DCMTK's name) whose instances are not IMAGE records
_RECORD_TYPE_BY_NAME = {
    "RTDoseStorage": "RT DOSE", "RTStructureSetStorage": "RT STRUCTURE SET",
    "RTPlanStorage": "RT PLAN", "RTIonPlanStorage": "RT PLAN",
    "RTBeamsTreatmentRecordStorage": "RT TREAT RECORD", "RTBrachyTreatmentRecordStorage": "RT TREAT RECORD",
    "RTTreatmentSummaryRecordStorage": "RT TREAT RECORD", "RTIonBeamsTreatmentRecordStorage": "RT TREAT RECORD",
    "KeyObjectSelectionDocumentStorage": "KEY OBJECT DOC", "MRSpectroscopyStorage": "SPECTROSCOPY",
    "RawDataStorage": "RAW DATA", "SpatialRegistrationStorage": "REGISTRATION",
    "DeformableSpatialRegistrationStorage": "REGISTRATION", "SpatialFiducialsStorage": "FIDUCIAL",
    "EncapsulatedPDFStorage": "ENCAP DOC", "EncapsulatedCDAStorage": "ENCAP DOC",
    "EncapsulatedSTLStorage": "ENCAP DOC", "RealWorldValueMappingStorage": "VALUE MAP",
    "StereometricRelationshipStorage": "STEREOMETRIC", "ColorPaletteStorage": "PALETTE",
    "SurfaceSegmentationStorage": "SURFACE", "SurfaceScanMeshStorage": "SURFACE SCAN",
    "SurfaceScanPointCloudStorage": "SURFACE SCAN", "TractographyResultsStorage": "TRACT",
    "ContentAssessmentResultsStorage": "ASSESSMENT", "GenericImplantTemplateStorage": "IMPLANT",
    "RTBeamsDeliveryInstructionStorage": "PLAN", "RTBrachyApplicationSetupDeliveryInstructionStorage": "PLAN",
    "RTPhysicianIntentStorage": "RADIOTHERAPY", "RTSegmentAnnotationStorage": "RADIOTHERAPY",
    "RTRadiationSetStorage": "RADIOTHERAPY", "CArmPhotonElectronRadiationStorage": "RADIOTHERAPY",
    "MicroscopyBulkSimpleAnnotationsStorage": "ANNOTATION", "HangingProtocolStorage": "HANGING PROTOCOL",
    "ImplantAssemblyTemplateStorage": "IMPLANT ASSY", "ImplantTemplateGroupStorage": "IMPLANT GROUP",
    "RETIRED_StoredPrintStorage": "STORED PRINT", "RETIRED_StandaloneCurveStorage": "CURVE",
    "RETIRED_StandalonePETCurveStorage": "CURVE", "RETIRED_StandaloneOverlayStorage": "OVERLAY",
    "RETIRED_StandaloneModalityLUTStorage": "MODALITY LUT", "RETIRED_StandaloneVOILUTStorage": "VOI LUT",
}
# name fragments of the non-image families
_RECORD_TYPE_BY_SUFFIX = (("PresentationStateStorage", "PRESENTATION"),
                          ("BasicStructuredDisplayStorage", "PRESENTATION"),
                          ("WaveformStorage", "WAVEFORM"), ("MeasurementsStorage", "MEASUREMENT"),
                          ("CalculationsStorage", "MEASUREMENT"), ("SRStorage", "SR DOCUMENT"),
                          ("ReportStorage", "SR DOCUMENT"), ("ProcedureLogStorage", "SR DOCUMENT"),
                          ("SRDocumentStorage", "SR DOCUMENT"))
# storage SOP classes DCMTK 3.6.7 knows but does not put into a general purpose DICOMDIR
_REFUSED = frozenset({
    "MediaStorageDirectoryStorage", "EncapsulatedOBJStorage", "EncapsulatedMTLStorage",
    "CTDefinedProcedureProtocolStorage", "CTPerformedProcedureProtocolStorage",
    "ProtocolApprovalStorage", "XADefinedProcedureProtocolStorage",
    "XAPerformedProcedureProtocolStorage", "TomotherapeuticRadiationStorage",
    "RoboticArmRadiationStorage", "RTRadiationRecordSetStorage", "RTRadiationSalvageRecordStorage",
    "TomotherapeuticRadiationRecordStorage", "CArmPhotonElectronRadiationRecordStorage",
    "RoboticRadiationRecordStorage", "RTRadiationSetDeliveryInstructionStorage",
    "RTTreatmentPreparationStorage", "DICOS_ThreatDetectionReportStorage", "DICOS_2DAITStorage",
    "DICOS_3DAITStorage", "DICOS_QuadrupoleResonanceStorage",
})


def record_type_for(sop_class: str, allow_retired: bool) -> str | None:
    """The directory record type for instances of ``sop_class``, or None if a general purpose
    DICOMDIR cannot reference them (unknown, not a storage class, or retired unless allowed)."""
    from .uid import uid_info
    info = uid_info(sop_class)
    name = info.dcmtk_name if info is not None else None
    if (name is None or info.type != "SOP Class" or "Storage" not in info.name
            or "Commitment" in info.name or name in _REFUSED or name.startswith("DRAFT_")):
        return None
    kind = _RECORD_TYPE_BY_NAME.get(name)
    if kind is None:
        kind = next((k for suffix, k in _RECORD_TYPE_BY_SUFFIX if name.endswith(suffix)), "IMAGE")
    # retired images are accepted; the retired standalone objects only with +Nrs
    if name.startswith("RETIRED_") and kind != "IMAGE" and not allow_retired:
        return None
    return kind


def parse_checks(rule: str) -> list[tuple[str, str]]:
    """``'+PatientID PatientName?'`` -> ``[('PatientID', 'invent'), ('PatientName', 'present')]``."""
    out = []
    for word in rule.split():
        if word[0] == "+":
            out.append((word[1:], "invent"))
        elif word[0] == "~":
            out.append((word[1:], "alternative"))
        elif word[-1] == "?":
            out.append((word[:-1], "present"))
        else:
            out.append((word, "required"))
    return out


def parse_copies(rule: str) -> list[tuple[str, int]]:
    """``'ImageType:3 InstanceNumber:1'`` -> ``[('ImageType', 3), ('InstanceNumber', 1)]``."""
    return [(word.split(":")[0], int(word.split(":")[1])) for word in rule.split()]


# +I's replacements for a missing study date/time, in the order DCMTK tries them
ALTERNATIVES = {
    "StudyDate": ("SeriesDate", "AcquisitionDate", "ContentDate"),
    "StudyTime": ("SeriesTime", "AcquisitionTime", "ContentTime"),
}
