"""The archive behind dcmqrscp: its configuration, SQL index, matching and storage areas.

::

    from dcmpy.dcmqrdb import Archive, ArchiveConfig, Index

    config = ArchiveConfig.load("dcmqrscp.cfg")        # ConfigError: file, line, reason
    archive = Archive(config)                          # opens (creates) each area's index
    index = Index.open("/data/STORE")                  # or Index.open(url, root=...) on PostgreSQL

Modules: ``config`` (dcmqrscp.cfg), ``keys`` (models, levels), ``matching`` (PS3.4 C.2.2.2),
``record`` (what is kept of an instance), ``db`` (SQLite / PostgreSQL), ``query`` (identifiers
and responses), ``index`` (store, find, locate), ``storage`` (areas, crash recovery),
``archive`` (what the SCP calls), ``importdat`` (DCMTK's index.dat).
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "ArchiveConfig": "config", "ConfigError": "config", "Index": "index", "InstanceRef": "index",
    "StoreResult": "index", "QuotaExceeded": "index", "QueryError": "keys",
    "Archive": "archive", "ArchiveError": "archive", "StoreStatus": "archive",
    "StorageArea": "storage", "import_index_dat": "importdat", "read_index_dat": "importdat",
    "DatabaseError": "db", "RecordError": "record",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dcmpy.dcmqrdb' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"dcmpy.dcmqrdb.{module}"), name)
    globals()[name] = value
    return value
