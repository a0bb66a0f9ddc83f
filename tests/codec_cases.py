"""What the codec tests share: corpus files by transfer syntax, and comparing our output with
DCMTK's by the data set bytes (the meta headers differ by design: implementation UID)."""
from __future__ import annotations

import struct
from pathlib import Path

import corpus
from conftest import dcmtk_cmd, run
from dcmpy import dcmread


def dataset_bytes(path: Path) -> bytes:
    """The bytes after the meta header (or the whole file when it has none)."""
    data = path.read_bytes()
    if data[128:132] != b"DICM":
        return data
    meta_length = struct.unpack_from("<I", data, 140)[0]
    return data[144 + meta_length:]


def before_padding(data: bytes) -> bytes:
    """The data set up to its trailing padding element (little or big endian tag)."""
    return data[:max(data.rfind(b"\xfc\xff\xfc\xff"), data.rfind(b"\xff\xfc\xff\xfc"))]


def files_in(*syntaxes: str) -> list[Path]:
    """Corpus files stored in one of ``syntaxes`` (transfer syntax UIDs)."""
    found = []
    for path in corpus.corpus_files():
        try:
            ts = dcmread(path).transfer_syntax
        except Exception:
            continue
        if ts is not None and ts.uid in syntaxes:
            found.append(path)
    return found


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def dump(path: Path) -> str:
    result = run(dcmtk_cmd("dcmdump", [path]))
    assert result.rc == 0, result.stderr
    return result.stdout.decode("latin-1")


def without_uids(text: str) -> str:
    """dcmdump text without the meta header and the instance UIDs (new ones on each run)."""
    keep = [line for line in text.splitlines()
            if not any(k in line for k in ("(0002,", "SOPInstanceUID", "MediaStorageSOPInst"))]
    return "\n".join(keep)
