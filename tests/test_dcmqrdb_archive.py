"""The archive object the Q/R SCP calls (dcmpy.dcmqrdb.archive): access rules, C-STORE statuses,
storage area naming, crash consistency (a process killed with SIGKILL mid-store) and several
processes sharing one index. Runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dcmpy.dcmqrdb.archive import (STATUS_CANNOT_UNDERSTAND, STATUS_DATASET_MISMATCH, STATUS_NOT_AUTHORIZED,
                                   STATUS_OUT_OF_RESOURCES, STATUS_SUCCESS, Archive, ArchiveError)
from dcmpy.dcmqrdb.config import ArchiveConfig
from dcmpy.dcmqrdb.storage import STORED_NAME
from test_dcmqrdb_support import backend, identifier, make_dataset, pg_url, write_files  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, quota: str = "(10, 1mb)", extra: str = "") -> Path:
    for name in ("STORE", "READONLY"):
        (tmp_path / name).mkdir(exist_ok=True)
    cfg = tmp_path / "dcmqrscp.cfg"
    cfg.write_text(f"{extra}HostTable BEGIN\nmods = (MOD1, localhost, 104), (MOD2, 10.9.9.9, 104)\n"
                   "HostTable END\nAETable BEGIN\n"
                   f"STORE {tmp_path / 'STORE'} RW {quota} mods\n"
                   f"ALIAS {tmp_path / 'STORE'} R {quota} ANY\n"
                   f"READONLY {tmp_path / 'READONLY'} R (10, 1mb) ANY\nAETable END\n")
    return cfg


def _consistent(archive: Archive, area: Path) -> set[str]:
    """Files of ours in the area == indexed paths, every indexed file exists, no temp files."""
    files = {str(p) for p in area.iterdir() if STORED_NAME.match(p.name)}
    indexed = set(archive.index("STORE").paths())
    assert files == indexed
    assert not [p for p in area.iterdir() if p.name.startswith(".")]
    return files


def test_access_rules(tmp_path, backend):
    with Archive.open(str(_config(tmp_path)), backend) as archive:
        assert archive.can_access("STORE", "MOD1", "127.0.0.1", write=True, read=True)
        assert archive.can_access("STORE", "MOD1", "LOCALHOST")
        assert not archive.can_access("STORE", "MOD1", "10.9.9.9")          # wrong host for MOD1
        assert archive.can_access("STORE", "MOD2", "10.9.9.9", write=True)
        assert not archive.can_access("STORE", "OTHER", "127.0.0.1")
        assert archive.can_access("READONLY", "ANYONE", "anywhere", read=True)
        assert not archive.can_access("READONLY", "ANYONE", "anywhere", write=True)
        assert not archive.can_access("NOSUCH", "MOD1", "127.0.0.1")
        assert archive.move_destination("MOD2").hostname == "10.9.9.9"
        assert archive.index("ALIAS") is archive.index("STORE")            # one area, one index


def test_accept_store_statuses(tmp_path, backend):
    cfg = _config(tmp_path, quota="(1, 1mb)", extra="QuotaPolicy = reject\n")
    files = write_files(tmp_path / "in", [make_dataset(1, 1, 1, n) for n in range(3)]
                        + [make_dataset(1, 2, 1, 1), make_dataset(1, 1, 1, 9, SOPInstanceUID="1.2..3")])
    junk = tmp_path / "in" / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    third = files[2].read_bytes()
    with Archive.open(str(cfg), backend) as archive:
        ok = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(files[0]), move=False)
        assert ok.ok and STORED_NAME.match(Path(ok.path).name) and Path(ok.path).name.startswith("MR_")
        assert files[0].exists() and Path(ok.path).read_bytes() == files[0].read_bytes()
        moved = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(files[1]))
        assert moved.status == STATUS_SUCCESS and not files[1].exists()
        assert archive.accept_store("STORE", "EVIL", "127.0.0.1", str(files[2])).status == STATUS_NOT_AUTHORIZED
        assert not files[2].exists()                          # taken over (move=True) and dropped
        assert archive.accept_store("READONLY", "X", "h", str(files[3]), move=False).status == STATUS_NOT_AUTHORIZED
        full = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(files[3]), move=False)
        assert full.status == STATUS_OUT_OF_RESOURCES and "quota is 1" in full.message
        bad_uid = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(files[4]), move=False)
        assert bad_uid.status == STATUS_DATASET_MISMATCH and "invalid SOP Instance UID" in bad_uid.message
        fd, incoming = archive.incoming_file("STORE")          # what the SCP receives into
        assert Path(incoming).parent == tmp_path / "STORE" and Path(incoming).name.startswith(".incoming-")
        with os.fdopen(fd, "wb") as f:
            f.write(third)
        received = archive.accept_store("STORE", "MOD1", "127.0.0.1", incoming)
        assert received.ok and not Path(incoming).exists()
        garbage = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(junk))
        assert garbage.status == STATUS_CANNOT_UNDERSTAND and not junk.exists()
        assert len(_consistent(archive, tmp_path / "STORE")) == 3
        (rsp,) = archive.find("STORE", "study", "STUDY", identifier("STUDY", {"StudyInstanceUID": None}))
        assert rsp.RetrieveAETitle == "STORE"


def test_hostile_values_never_reach_a_path(tmp_path, backend):
    """Modality, UIDs and names are not used in file names: nothing lands outside the area."""
    hostile = make_dataset(1, 1, 1, 1, Modality="../../etc", PatientName="../../x/y",
                           PatientID="..\\..\\z")
    (path,) = write_files(tmp_path / "in", [hostile])
    with Archive.open(str(_config(tmp_path)), backend) as archive:
        result = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(path))
        assert result.ok and Path(result.path).parent == tmp_path / "STORE"
        assert Path(result.path).name.startswith("XX_")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["READONLY", "STORE", "dcmqrscp.cfg", "in"]


def test_missing_storage_area_is_an_error(tmp_path, backend):
    cfg = _config(tmp_path)
    (tmp_path / "READONLY").rmdir()
    with pytest.raises(ArchiveError, match=r"line 7: storage area of READONLY: .*does not exist"):
        Archive.open(str(cfg), backend)


# ---------------------------------------------------------------------------------------------
# crash consistency: a child process stores one object and kills itself with SIGKILL at a stage

_CHILD = r"""
import os, signal, sys
from dcmpy.dcmqrdb import archive as A, index as I, storage as S
cfg, database, source, stage = sys.argv[1:5]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if stage == "after-place":            # file renamed into the area, no row yet
    I.Index.store = die
elif stage == "before-commit":        # rows inserted, transaction not committed
    original = I._Store.finish
    def finish(self):
        original(self)
        die()
    I._Store.finish = finish
elif stage == "after-unlink":         # quota: old study's files unlinked, its rows not yet deleted
    original_unlink = S.StorageArea.unlink
    def unlink(self, paths):
        original_unlink(self, paths)
        die()
    S.StorageArea.unlink = unlink
elif stage == "while-copying":        # temporary file half written
    def copy(src, dst, length=0):
        dst.write(src.read(100))
        dst.flush()
        die()
    S.shutil.copyfileobj = copy
archive = A.Archive(A.ArchiveConfig.load(cfg), database or None)
archive.accept_store("STORE", "MOD1", "127.0.0.1", source, move=False)
print("not killed")
"""


@pytest.mark.parametrize("stage", ["after-place", "before-commit", "after-unlink", "while-copying"])
def test_killed_mid_store_leaves_a_consistent_archive(tmp_path, backend, stage):
    cfg = _config(tmp_path, quota="(1, 1mb)")
    old, new = write_files(tmp_path / "in", [make_dataset(1, 1, 1, 1), make_dataset(1, 2, 1, 1)])
    area = tmp_path / "STORE"
    with Archive.open(str(cfg), backend) as archive:
        first = archive.accept_store("STORE", "MOD1", "127.0.0.1", str(old), move=False)
        assert first.ok
    r = subprocess.run([sys.executable, "-c", _CHILD, str(cfg), backend or "", str(new), stage],
                       capture_output=True, timeout=120, cwd=ROOT)
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()
    names = {p.name for p in area.iterdir()}
    if stage == "while-copying":
        temp = [p for p in area.iterdir() if p.name.startswith(".incoming-")]
        assert temp
        if backend:     # a shared area spares young temporary files (another host may be writing)
            with Archive.open(str(cfg), backend):
                assert temp[0].exists()
            os.utime(temp[0], (temp[0].stat().st_atime - 120, temp[0].stat().st_mtime - 120))
    elif stage == "after-unlink":
        assert not Path(first.path).exists()            # gone from disk, still in the index
    else:
        assert len([n for n in names if STORED_NAME.match(n)]) == 2   # the new file is in place
    with Archive.open(str(cfg), backend) as archive:    # start-up reconciles
        files = _consistent(archive, area)
        studies = {r.StudyInstanceUID for r in archive.find("STORE", "study", "STUDY",
                                                            identifier("STUDY", {"StudyInstanceUID": None}))}
    expected = {"while-copying": {old}, "after-unlink": {new}}.get(stage, {new})
    assert studies == {make_dataset(1, 1, 1, 1).StudyInstanceUID if p is old else
                       make_dataset(1, 2, 1, 1).StudyInstanceUID for p in expected}
    assert len(files) == 1


# ---------------------------------------------------------------------------------------------
# several processes on one index

_WORKER = r"""
import sys
sys.path.insert(0, sys.argv[4])
from test_dcmqrdb_support import make_dataset, identifier
from dcmpy.dcmqrdb.index import Index
area, database, patient = sys.argv[1], sys.argv[2], int(sys.argv[3])
index = Index.open(database or area, root=area)
for study in range(2):
    for i in range(20):
        index.store(f"{area}/{patient}-{study}-{i}.dcm", make_dataset(patient, study, 0, i), size=5)
        list(index.find("study", None, identifier("STUDY", {"PatientName": "*"})))
print(index.counts()["instances"])
"""


def test_several_processes_share_one_index(tmp_path, backend):
    area = tmp_path / "area"
    area.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(area), backend or "", str(p),
                               str(ROOT / "tests")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
             for p in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.decode()[-500:] for _, e in outs]
    from dcmpy.dcmqrdb.index import Index
    index = Index.open(backend or str(area), root=str(area))
    assert index.counts() == {"patients": 3, "studies": 6, "series": 6, "instances": 120, "bytes": 600}
    if backend is None:
        assert (area / "index.sqlite-wal").exists() or (area / "index.sqlite").exists()
        import sqlite3
        mode = sqlite3.connect(str(area / "index.sqlite")).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    index.close()


def test_postgresql_unreachable_is_a_clear_error(tmp_path):
    from dcmpy.dcmqrdb.db import DatabaseError
    from dcmpy.dcmqrdb.index import Index
    url = f"postgresql://dcmpy:secret@/archive?host={tmp_path}&port=1"
    with pytest.raises(DatabaseError, match="cannot connect to index database") as info:
        Index.open(url, root=str(tmp_path))
    assert "secret" not in str(info.value)


def test_config_database_keyword(tmp_path, pg_url):
    cfg = _config(tmp_path, extra=f'IndexDatabase = "{pg_url}"\n')
    (path,) = write_files(tmp_path / "in", [make_dataset(3, 1, 1, 1)])
    with Archive(ArchiveConfig.load(str(cfg))) as archive:
        assert archive.index("STORE").db.kind == "postgresql"
        assert archive.accept_store("STORE", "MOD1", "127.0.0.1", str(path)).ok
    assert not (tmp_path / "STORE" / "index.sqlite").exists()
    assert os.listdir(tmp_path / "READONLY") == []
