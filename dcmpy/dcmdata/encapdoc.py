"""Encapsulated documents: PDF (PS3.3 A.45.1), HL7 CDA (A.45.2) and STL (A.85.1), in and out.

``encapsulate(kind, data, options)`` checks a document and builds its DICOM instance (what
DCMTK's pdf2dcm, cda2dcm and stl2dcm write); ``extract_document(ds, kind)`` gives the document back,
byte for byte (dcm2pdf, dcm2cda, dcm2stl). The helpers for new instances (``-k`` keys, patient,
study and series taken from another file, the character set) serve img2dcm as well.

Where we differ from DCMTK 3.6.7, on purpose:

* ``+st``/``+se`` copy the whole General Study module's type 1/2 attributes (Study Date and
  Time, Accession Number, Referring Physician, Study ID) and, with ``+se``, the Series Number
  and the equipment: DCMTK drops them (and writes Series Number 1), so instances of one study
  disagree on its attributes;
* text that is not ASCII gets a Specific Character Set that can hold it (ISO_IR 100 if Latin-1
  suffices, else ISO_IR 192): DCMTK always claims ISO_IR 100, even for the UTF-8 names of a CDA;
* a CDA birth time with a time of day gives the date only (DCMTK copies 14 characters into a DA);
  names are compared without trailing empty components (DCMTK finds ``Doe^Jane`` and
  ``Doe^Jane^^^`` different);
* a binary STL whose 80-byte header happens to start with ``solid`` is accepted when its size
  matches its triangle count (DCMTK refuses it as ASCII).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from .dataset import Dataset, FileDataset, Sequence
from .element import Element
from .tag import parse_tag, tag_str
from .uid import generate_uid

__all__ = ["InstanceError", "DocumentOptions", "KINDS", "encapsulate", "extract_document", "check_document",
           "apply_keys", "set_text", "read_reference", "copy_attributes", "choose_charset",
           "PATIENT", "STUDY", "SERIES"]

EXIT_INVALID_INPUT = 22


class InstanceError(ValueError):
    """A document, key or reference file that cannot be used; ``exit_code`` is DCMTK's."""

    def __init__(self, message: str, exit_code: int = EXIT_INVALID_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class DocumentKind:
    name: str            # as DCMTK's messages say it: 'PDF', 'CDA', 'STL'
    sop_class: str
    mime: str
    modality: str


KINDS = {
    "pdf": DocumentKind("PDF", "1.2.840.10008.5.1.4.1.1.104.1", "application/pdf", "DOC"),
    "cda": DocumentKind("CDA", "1.2.840.10008.5.1.4.1.1.104.2", "text/XML", "DOC"),
    "stl": DocumentKind("STL", "1.2.840.10008.5.1.4.1.1.104.3", "model/stl", "M3D"),
}

# attributes by keyword, in the groups the "from file" options copy
PATIENT = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
STUDY = PATIENT + ("StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName",
                   "StudyID", "AccessionNumber")
SERIES = STUDY + ("SeriesInstanceUID", "SeriesNumber", "Manufacturer")
_STL_EQUIPMENT = ("ManufacturerModelName", "DeviceSerialNumber", "SoftwareVersions",
                  "FrameOfReferenceUID", "PositionReferenceIndicator")


@dataclass
class DocumentOptions:
    """pdf2dcm/cda2dcm/stl2dcm's document options."""
    title: str | None = None                      # +t
    concept_name: tuple[str, str, str] | None = None  # +cn CSD CV CM
    patient_name: str | None = None               # +pn
    patient_id: str | None = None                 # +pi
    patient_birthdate: str | None = None          # +pb
    patient_sex: str | None = None                # +ps
    study_from: str | None = None                 # +st
    series_from: str | None = None                # +se
    instance: str | int = "one"                   # 'one' (+i1), 'inc' (+ii), or a number (+is)
    annotation: bool = True                       # +an / -an
    override: bool = False                        # cda2dcm +ov
    manufacturer: str | None = None               # stl2dcm +mn
    model_name: str | None = None                 # +mm
    device_serial: str | None = None              # +ds
    software_versions: str | None = None          # +sv
    units: tuple[str, str, str] = ("UCUM", "um", "um")  # +mu CSD CV CM
    keys: list[str] = field(default_factory=list)  # -k


# ---------------------------------------------------------------------------------------------
# new instances: keys, reference files, character set


def apply_keys(ds: Dataset, keys: list[str]) -> None:
    """Set each ``-k`` key: a tag path (``PatientName``, ``(0010,0010)``,
    ``AnatomicRegionSequence[0].CodeValue``, see :mod:`.tagpath`) ``=`` its text value;
    sequences and items on the way are created."""
    from .tagpath import TagPath, TagPathError, split_assignment
    for key in keys:
        text, value = split_assignment(key)
        try:
            matches = TagPath.parse(text.strip()).resolve(ds, create=True)
        except TagPathError as exc:
            raise InstanceError(f"bad key '{key}': {exc}", 1) from None
        for match in matches:
            if match.item is None:
                set_text(match.dataset, match.tag, value or "", key)
            elif value:
                raise InstanceError(f"bad key '{key}': an item takes no value", 1)


def _vr_of(tag: int, key: str) -> str:
    from .dictionary import get_dictionary
    entry = get_dictionary().find(tag)
    if entry is None or entry.vr in ("na", "??"):
        raise InstanceError(f"bad key '{key}': {tag_str(tag)} is not in the data dictionary", 1)
    return {"xs": "US", "ox": "OB", "lt": "OW", "up": "UL", "px": "OB"}.get(entry.vr, entry.vr)


_NUMBERS = {"US": int, "SS": int, "UL": int, "SL": int, "UV": int, "SV": int, "FL": float,
            "FD": float}


def set_text(ds: Dataset, tag: int, text: str, key: str = "") -> None:
    """Set ``tag`` from its text form (numbers and tags parsed, strings as they are)."""
    vr = _vr_of(tag, key or tag_str(tag))
    value: Any = text
    try:
        if vr == "SQ":
            if text:
                raise ValueError("a sequence takes no value")
            value = Sequence()
        elif vr in _NUMBERS:
            value = [_NUMBERS[vr](v) for v in text.split("\\")] if text else None
        elif vr == "AT":
            value = [parse_tag(v) for v in text.split("\\")] if text else None
            if value and None in value:
                raise ValueError("not a tag")
        elif vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            raise ValueError(f"VR {vr} cannot be set from text")
    except ValueError as exc:
        raise InstanceError(f"bad value for {tag_str(tag)} in key '{key or text}': {exc}", 1)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    ds.add_new(tag, vr, value)


def copy_element(elem: Element) -> Element:
    """A new element holding ``elem``'s decoded value (sequences copied item by item), so that
    it is encoded anew in the character set of the data set it joins."""
    if elem.vr == "SQ":
        seq = Sequence()
        for item in elem.value or []:
            copy = Dataset()
            for sub in item:
                copy[sub.tag] = copy_element(sub)
            seq.append(copy)
        return Element(elem.tag, "SQ", seq)
    return Element(elem.tag, elem.vr, elem.value)


def read_reference(path: str) -> Dataset:
    """A DICOM file whose patient/study/series (or whole data set) is to be used."""
    from .reader import DicomError, dcmread
    try:
        return dcmread(path)
    except OSError as exc:
        raise InstanceError(f"{exc.strerror or exc}: reading file: {path}") from None
    except DicomError as exc:
        raise InstanceError(f"{exc}: reading file: {path}") from None


def copy_attributes(ds: Dataset, source: Dataset, keywords: tuple[str, ...]) -> None:
    """Copy the attributes named by ``keywords`` that ``source`` has."""
    from .dictionary import get_dictionary
    names = get_dictionary()
    for keyword in keywords:
        tag = names.tag_for_name(keyword)
        elem = source.get(tag)
        if elem is not None:
            ds[tag] = copy_element(elem)


def text_elements(ds: Dataset):
    """Every element whose bytes depend on the character set, sequences included."""
    from .vr import TEXT_VRS
    for elem in ds:
        if elem.vr == "SQ":
            for item in elem.value or []:
                yield from text_elements(item)
        elif elem.vr in TEXT_VRS:
            yield elem


def choose_charset(ds: Dataset, default: str | None = None) -> None:
    """Set Specific Character Set to one that holds every text value.

    ASCII text keeps the data set's term (or gets ``default``); otherwise the data set's term is
    kept if it can encode everything, else ISO_IR 100 when Latin-1 suffices, else ISO_IR 192.
    """
    from . import values
    texts = [e for e in text_elements(ds) if not e.is_raw]
    words = [v for e in texts for v in (e.value if isinstance(e.value, list) else [e.value])
             if isinstance(v, str)]
    current = ds.get(0x00080005)
    terms = ds.character_sets if current is not None else []
    if all(w.isascii() for w in words):
        if current is None and default:
            ds.add_new(0x00080005, "CS", default)
        return
    for candidate in ([terms] if terms else []) + [["ISO_IR 100"], ["ISO_IR 192"]]:
        try:
            for e in texts:
                values.encode(e.value, e.vr, True, candidate)
        except (ValueError, UnicodeError):
            continue
        ds.add_new(0x00080005, "CS", candidate if len(candidate) > 1 else candidate[0])
        return


def now() -> tuple[str, str]:
    """Today's date and the time as DA and TM (HHMMSS)."""
    t = datetime.datetime.now()
    return t.strftime("%Y%m%d"), t.strftime("%H%M%S")


def set_code(ds: Dataset, keyword: str, code: tuple[str, str, str] | None) -> None:
    """A code sequence with one item (designator, value, meaning), or empty."""
    items = Sequence()
    if code is not None:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code[1], code[0], code[2]
        items.append(item)
    setattr(ds, keyword, items)


# ---------------------------------------------------------------------------------------------
# the documents


def check_document(kind: str, data: bytes, name: str) -> str:
    """Refuse what is not a ``kind`` document; return a description for the log."""
    if not data:
        raise InstanceError(f"file {name} is empty")
    if kind == "pdf":
        if data[:5] != b"%PDF-":
            raise InstanceError(f"file {name} is not a PDF file")
        version = re.match(rb"%PDF-(\d+\.\d+)", data)
        return f"PDF {version.group(1).decode() if version else '?'}, {_kb(data)}kB"
    if kind == "stl":
        _check_stl(data, name)
        return f"binary STL, {_kb(data)}kB"
    return f"HL7 CDA file (XML Format), {_kb(data)}kB"


def _kb(data: bytes) -> int:
    return (len(data) + 1023) // 1024


def _check_stl(data: bytes, name: str) -> None:
    count = int.from_bytes(data[80:84], "little") if len(data) >= 84 else -1
    expected = 84 + 50 * count
    if data[:6] == b"solid " and len(data) != expected:
        raise InstanceError(f"File {name} starts with 'solid '. It is a valid STL file but it is "
                            "in ASCII Code and DICOM only accepts binary STL")
    if count < 0:
        raise InstanceError(f"file {name} is too short for a binary STL file ({len(data)} bytes, "
                            "at least 84 needed)")
    if len(data) != expected:
        raise InstanceError(f"binary STL file {name} declares {count} triangles ({expected} bytes) "
                            f"but has {len(data)} bytes")


def encapsulate(kind: str, data: bytes, options: DocumentOptions | None = None,
                name: str = "document") -> FileDataset:
    """The Encapsulated PDF/CDA/STL instance for ``data`` (checked by ``check_document``)."""
    opts = options or DocumentOptions()
    spec = KINDS[kind]
    check_document(kind, data, name)
    ds = FileDataset()
    _identify(ds, spec, opts)
    if kind == "cda":
        _merge_cda(ds, read_cda(data, name), opts)
    if kind == "stl":
        _stl_attributes(ds, opts)
    apply_keys(ds, opts.keys)
    ds.EncapsulatedDocument = bytes(data)
    ds.EncapsulatedDocumentLength = len(data)
    choose_charset(ds, "ISO_IR 100")
    return ds


def _identify(ds: FileDataset, spec: DocumentKind, opts: DocumentOptions) -> None:
    """Patient, study, series, equipment and SOP common attributes of a new document."""
    date, time = now()
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    ds.SOPClassUID, ds.SOPInstanceUID = spec.sop_class, generate_uid()
    for keyword in ("StudyDate", "ContentDate", "AcquisitionDateTime", "StudyTime", "ContentTime",
                    "AccessionNumber", "Manufacturer", "ReferringPhysicianName", "StudyID",
                    *PATIENT, "DocumentTitle"):
        setattr(ds, keyword, "")
    ds.Modality = spec.modality
    if spec.name != "STL":      # the SC Equipment module is not part of the STL IOD
        ds.ConversionType = "WSD"
    ds.SeriesNumber = 1
    instance = opts.instance
    source = opts.series_from or opts.study_from
    if source:
        ref = read_reference(source)
        copy_attributes(ds, ref, SERIES if opts.series_from else STUDY)
        if opts.series_from and spec.name == "STL":
            copy_attributes(ds, ref, _STL_EQUIPMENT)
        if opts.series_from and instance in ("one", "inc"):
            number = ref.get(0x00200013)
            instance = (number.value if isinstance(number.value, int) else 0) + 1 \
                if number is not None else 1
    if "StudyInstanceUID" not in ds or not ds.StudyInstanceUID:
        ds.StudyInstanceUID = generate_uid()
    if "SeriesInstanceUID" not in ds or not ds.SeriesInstanceUID:
        ds.SeriesInstanceUID = generate_uid()
    ds.InstanceNumber = 1 if instance in ("one", "inc") else int(instance)
    for keyword, value in zip(PATIENT, (opts.patient_name, opts.patient_id,
                                        opts.patient_birthdate, opts.patient_sex)):
        if value is not None:
            setattr(ds, keyword, value)
    ds.BurnedInAnnotation = "YES" if opts.annotation else "NO"
    if opts.title is not None:
        ds.DocumentTitle = opts.title
    set_code(ds, "ConceptNameCodeSequence", opts.concept_name)
    ds.MIMETypeOfEncapsulatedDocument = spec.mime


def _stl_attributes(ds: FileDataset, opts: DocumentOptions) -> None:
    from .. import __version__
    defaults = (("Manufacturer", opts.manufacturer, "DCMPY_MANUFACTURING"),
                ("ManufacturerModelName", opts.model_name, "DCMPY_3DMODEL"),
                ("DeviceSerialNumber", opts.device_serial, "DCMPY0123456789"),
                ("SoftwareVersions", opts.software_versions, __version__))
    from .._diag import warn
    for keyword, given, dummy in defaults:
        if given is not None:
            setattr(ds, keyword, given)
        elif keyword not in ds or not getattr(ds, keyword):
            warn(__name__, "No %s provided nor found in series: %s inserted as dummy value "
                 "(Enhanced General Equipment module)", keyword, dummy)
            setattr(ds, keyword, dummy)
    if "FrameOfReferenceUID" not in ds or not ds.FrameOfReferenceUID:
        ds.FrameOfReferenceUID = generate_uid()
    if "PositionReferenceIndicator" not in ds:
        ds.PositionReferenceIndicator = ""
    set_code(ds, "MeasurementUnitsCodeSequence", opts.units)


_HL7 = "{urn:hl7-org:v3}"
# HL7 code system OIDs -> DICOM coding scheme designators (PS3.16 8)
_CODING_SCHEMES = {"2.16.840.1.113883.6.1": "LN", "2.16.840.1.113883.6.96": "SCT",
                   "1.2.840.10008.2.16.4": "DCM"}


def read_cda(data: bytes, name: str = "document") -> dict:
    """The values a CDA document gives its DICOM instance (keyword -> text; 'code' is the
    document type code, 'mime_types' those of its multimedia content)."""
    import xml.etree.ElementTree as ET
    if b"<!ENTITY" in data:
        raise InstanceError(f"file {name}: entity declarations are not accepted in a CDA file")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InstanceError(f"file {name} is not well-formed XML: {exc}") from None
    if root.tag not in (_HL7 + "ClinicalDocument", "ClinicalDocument"):
        raise InstanceError(f"file {name} is not an HL7 CDA document (root element "
                            f"'{root.tag.rpartition('}')[2]}', not 'ClinicalDocument')")
    ns = _HL7 if root.tag.startswith(_HL7) else ""
    out: dict = {"DocumentTitle": (root.findtext(ns + "title") or "").strip()}
    ident = root.find(ns + "id")
    if ident is not None and ident.get("root"):
        out["HL7InstanceIdentifier"] = f"{ident.get('root')}^{ident.get('extension', '')}"
    code = root.find(ns + "code")
    if code is not None and code.get("codeSystem") in _CODING_SCHEMES and code.get("code") \
            and code.get("displayName"):
        out["code"] = (_CODING_SCHEMES[code.get("codeSystem")], code.get("code"),
                       code.get("displayName"))
    role = root.find(f"{ns}recordTarget/{ns}patientRole")
    if role is not None:
        _cda_patient(role, ns, out)
    mimes = [e.get("mediaType") for e in root.iter() if e.get("mediaType")]
    out["mime_types"] = list(dict.fromkeys(mimes))
    return out


def _cda_patient(role, ns: str, out: dict) -> None:
    pid = role.find(ns + "id")
    if pid is not None and pid.get("extension"):
        out["PatientID"] = pid.get("extension")
    patient = role.find(ns + "patient")
    if patient is None:
        return
    name = patient.find(ns + "name")
    if name is not None:
        def part(tag: str) -> list[str]:
            return [(e.text or "").strip() for e in name.findall(ns + tag)]
        given = part("given")
        out["PatientName"] = "^".join((" ".join(part("family")), given[0] if given else "",
                                       " ".join(given[1:]), " ".join(part("prefix")),
                                       " ".join(part("suffix"))))
    sex = patient.find(ns + "administrativeGenderCode")
    if sex is not None and sex.get("code"):
        out["PatientSex"] = sex.get("code") if sex.get("code") in ("M", "F") else "O"
    birth = patient.find(ns + "birthTime")
    if birth is not None and birth.get("value"):
        out["PatientBirthDate"] = birth.get("value")[:8]


def _merge_cda(ds: FileDataset, cda: dict, opts: DocumentOptions) -> None:
    """Fill the instance from the CDA; a value given otherwise must agree unless +ov."""
    from .._diag import warn
    labels = {"PatientName": "Patient Name", "PatientID": "Patient ID",
              "PatientBirthDate": "Patient Birth Date", "PatientSex": "Patient Sex",
              "DocumentTitle": "Document Title"}
    for keyword, label in labels.items():
        found = cda.get(keyword)
        if not found:
            continue
        given = getattr(ds, keyword)
        given = given if isinstance(given, str) else str(given or "")
        if given and _normal(given, keyword) != _normal(found, keyword):
            if not opts.override:
                raise InstanceError(f"{label} mismatch: found in the CDA file: '{found}', "
                                    f"provided: '{given}' (use +ov to override)", 1)
            warn(__name__, "%s mismatch: found in the CDA file: '%s', provided: '%s'",
                 label, found, given)
            continue
        setattr(ds, keyword, found)
    code = cda.get("code")
    if code and opts.concept_name is None:
        set_code(ds, "ConceptNameCodeSequence", code)
    elif code and tuple(opts.concept_name) != code:
        if not opts.override:
            raise InstanceError(f"concept name mismatch: found in the CDA file: {code}, "
                                f"provided: {tuple(opts.concept_name)} (use +ov to override)", 1)
        warn(__name__, "concept name mismatch: found in the CDA file: %s, provided: %s", code,
             tuple(opts.concept_name))
    if cda.get("HL7InstanceIdentifier"):
        ds.HL7InstanceIdentifier = cda["HL7InstanceIdentifier"]
    if cda.get("mime_types"):
        ds.ListOfMIMETypes = cda["mime_types"]


def _normal(value: str, keyword: str) -> str:
    return value.rstrip("^ ") if keyword == "PatientName" else value.strip()


def extract_document(ds: Dataset, kind: str) -> bytes:
    """The encapsulated document of a PDF/CDA/STL instance, as it was before encapsulation."""
    spec = KINDS[kind]
    sop = ds.get(0x00080016)
    if sop is None or sop.value != spec.sop_class:
        names = {"PDF": "Encapsulated PDF", "CDA": "Encapsulated CDA", "STL": "Encapsulated STL"}
        raise InstanceError(f"not an {names[spec.name]} Storage object", 1)
    elem = ds.get(0x00420011)
    if elem is None or not elem.vm:
        raise InstanceError("no Encapsulated Document (0042,0011) or it is empty", 1)
    data = bytes(elem.raw)
    length = ds.get(0x00420015)
    if length is not None and isinstance(length.value, int) and length.value <= len(data):
        return data[:length.value]
    if kind != "stl" and data.endswith(b"\0"):
        return data[:-1]               # the pad byte of an odd-length document
    return data
