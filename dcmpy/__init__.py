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
