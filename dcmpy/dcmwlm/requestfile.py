"""wlmscpfs -rfp/-rff: each incoming C-FIND identifier written as a dcmdump text file.

The name comes from the -rff pattern with ``#a`` (calling AE), ``#c`` (called AE), ``#i``
(process id), ``#p`` (Patient ID of the request) and ``#t`` (``YYYYMMDDhhmmssffffff``). Values
from the peer are reduced to safe characters first (DCMTK inserted them as they came, so a
Patient ID or AE title with ``../`` wrote outside the folder: CVE-2026-52868).
"""
from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._^=+@-]")
_PLACEHOLDER = re.compile(r"#[acipt]")


def safe_part(text: str) -> str:
    """A peer-supplied value made harmless in a file name: no separators, no leading dot."""
    text = _UNSAFE.sub("_", text.strip(" \0"))
    return "_" + text[1:] if text.startswith(".") else text


def request_file_name(pattern: str, calling_ae: str, called_ae: str, patient_id: str,
                      now: datetime | None = None) -> str:
    """The -rff pattern with its placeholders filled in."""
    stamp = (now or datetime.now()).strftime("%Y%m%d%H%M%S%f")
    values = {"#a": safe_part(calling_ae), "#c": safe_part(called_ae), "#i": str(os.getpid()),
              "#p": safe_part(patient_id), "#t": stamp}
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], pattern)


def write_request_file(folder: str, pattern: str, identifier: Any, ts_name: str, calling_ae: str,
                       called_ae: str, log: Any) -> str | None:
    """Write the identifier's dump into ``folder``; returns the path (None after an error line)."""
    from .query import text_of
    from .scp import dump_text
    name = request_file_name(pattern, calling_ae, called_ae, text_of(identifier.get(0x00100020)) or "")
    path = os.path.join(folder, name)
    try:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".rfp-", dir=directory)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o644)
            with os.fdopen(fd, "w", encoding="latin-1", errors="replace") as f:
                f.write(dump_text(identifier, ts_name))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        log.error("Could not write request to file: %s: %s", name, exc.strerror or exc)
        return None
    return path
