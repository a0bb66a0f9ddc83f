"""dcmpy: DCMTK's DICOM toolkit for Python.

The common entry points are imported lazily so that ``import dcmpy`` (and every app) starts fast::

    import dcmpy
    ds = dcmpy.dcmread("ct.dcm")
    print(ds.PatientName)
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "dcmread": "dcmpy.dcmdata.reader",
    "read_file": "dcmpy.dcmdata.reader",
    "DicomError": "dcmpy.dcmdata.reader",
    "ReadOptions": "dcmpy.dcmdata.reader",
    "Dataset": "dcmpy.dcmdata.dataset",
    "FileDataset": "dcmpy.dcmdata.dataset",
    "Sequence": "dcmpy.dcmdata.dataset",
    "Element": "dcmpy.dcmdata.element",
    "dcmwrite": "dcmpy.dcmdata.writer",
    "WriteOptions": "dcmpy.dcmdata.writer",
    "to_json": "dcmpy.dcmdata.jsonmodel",
    "from_json": "dcmpy.dcmdata.jsonmodel",
    "JsonOptions": "dcmpy.dcmdata.jsonmodel",
    "to_xml": "dcmpy.dcmdata.xmlmodel",
    "from_xml": "dcmpy.dcmdata.xmlmodel",
    "XmlOptions": "dcmpy.dcmdata.xmlmodel",
    "read_dicomdir": "dcmpy.dcmdata.dicomdir",
    "DicomDir": "dcmpy.dcmdata.dicomdir",
    "build_dicomdir": "dcmpy.dcmdata.dicomdir_build",
    "DicomDirBuilder": "dcmpy.dcmdata.dicomdir_build",
    "read_image": "dcmpy.dcmdata.imageimport",
    "image_dataset": "dcmpy.dcmdata.imageiod",
    "encapsulate": "dcmpy.dcmdata.encapdoc",
    "extract_document": "dcmpy.dcmdata.encapdoc",
    "parse_dump": "dcmpy.dcmdata.dumpparse",
    "read_dump": "dcmpy.dcmdata.dumpparse",
    "DumpError": "dcmpy.dcmdata.dumpparse",
    "DumpReadOptions": "dcmpy.dcmdata.dumpparse",
    "Anonymizer": "dcmpy.dcmdata.anonymize",
    "AnonymizeOptions": "dcmpy.dcmdata.anonymize",
    "anonymize_files": "dcmpy.dcmdata.anonymize",
    "TagPath": "dcmpy.dcmdata.tagpath",
    "TagPathError": "dcmpy.dcmdata.tagpath",
    "ModifyError": "dcmpy.dcmdata.modify",
    "apply_operation": "dcmpy.dcmdata.modify",
    "save_in_place": "dcmpy.dcmdata.modify",
    "DicomImage": "dcmpy.dcmimgle.image",
    "ImageError": "dcmpy.dcmimgle.image",
    "WorklistSCP": "dcmpy.dcmwlm.scp",
    "WorklistOptions": "dcmpy.dcmwlm.scp",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dcmpy' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
