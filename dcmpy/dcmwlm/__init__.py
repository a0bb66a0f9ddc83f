"""dcmwlm: the Modality Worklist SCP over worklist files (DCMTK's wlmscpfs) and an MPPS SCP.

    from dcmpy.dcmwlm import WorklistSCP, WorklistOptions
    scp = WorklistSCP(WorklistOptions(data_path="/srv/worklists", mpps_dir="/srv/mpps"))
    scp.serve(104)

Modules: ``keys`` (supported keys, matching kinds, required attributes), ``matching`` (value
checks and comparisons), ``query`` (identifier -> responses), ``store`` (the folders and
``.wl`` files), ``requestfile`` (-rfp), ``mpps`` (N-CREATE / N-SET instances), ``scp``.
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "WorklistSCP": "scp", "WorklistOptions": "scp", "WORKLIST_FIND": "scp",
    "WorklistQuery": "query", "WorklistStore": "store", "LockError": "store",
    "is_complete": "store", "MPPSStore": "mpps", "MPPS_SOP_CLASS": "mpps",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dcmpy.dcmwlm' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"dcmpy.dcmwlm.{module}"), name)
    globals()[name] = value
    return value
