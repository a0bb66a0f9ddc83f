"""Shared helpers for the dcmqrdb tests (no tests here): a throwaway PostgreSQL cluster, the
``backend`` fixture that runs a test on SQLite and on PostgreSQL, generated data sets, and
DCMTK's dcmqrscp/storescu/findscu driven on loopback.

PostgreSQL refuses to run as root: the cluster is created and started as ``nobody`` in a temp
directory (mode 0700, owned by nobody), listening only on a Unix socket there, with fsync off.
It needs Debian's ``postgresql-15`` (initdb, pg_ctl) and ``util-linux`` (runuser).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import dcmtk_cmd, tool_env

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "nobody"


# ---------------------------------------------------------------------------------------------
# PostgreSQL

def _as_pg_user(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + cmd, capture_output=True, timeout=120, **kw)


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database URL on a fresh cluster, removed at the end of the session."""
    base = Path(tempfile.mkdtemp(prefix="dcmpy-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, PG_USER)
    os.chmod(base, 0o700)
    r = _as_pg_user([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "dcmpy",
                     "--no-sync", "-E", "UTF8", "--locale=C"])
    assert r.returncode == 0, r.stderr.decode()
    port = _free_port()
    r = _as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                     "-o", f"-k {base} -p {port} -c listen_addresses='' -c fsync=off "
                           f"-c full_page_writes=off -c max_connections=200", "start"])
    assert r.returncode == 0, r.stderr.decode() + (base / "log").read_text()
    try:
        yield f"postgresql://dcmpy@/postgres?host={base}&port={port}"
    finally:
        _as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """'sqlite' or a PostgreSQL URL: what ``Index.open`` / ``Archive`` take as the database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


def open_index(backend, area: Path):
    from dcmpy.dcmqrdb.index import Index
    area.mkdir(parents=True, exist_ok=True)
    return Index.open(backend or str(area), root=str(area))


# ---------------------------------------------------------------------------------------------
# data sets

def make_dataset(patient: int, study: int, series: int, instance: int, **overrides):
    """A small CT-like data set whose attributes follow from its numbers."""
    from dcmpy.dcmdata.dataset import FileDataset
    from dcmpy.dcmdata import xfer
    ds = FileDataset(transfer_syntax=xfer.EXPLICIT_LE)
    root = "1.2.826.0.1.3680043.9.7391"
    values = {
        "SpecificCharacterSet": "ISO_IR 100",
        "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2" if series % 3 else "1.2.840.10008.5.1.4.1.1.4",
        "SOPInstanceUID": f"{root}.4.{patient}.{study}.{series}.{instance}",
        "StudyDate": f"2011{1 + study % 12:02d}{1 + (patient * 7 + study) % 28:02d}",
        "StudyTime": f"{(study * 5) % 24:02d}{(patient * 13) % 60:02d}{instance % 60:02d}",
        "AccessionNumber": f"ACC{patient:03d}{study:02d}",
        "Modality": ("CT", "MR", "US")[series % 3],
        "ReferringPhysicianName": ("Smith^John", "Doe^Jane", "M\u00fcller^Hans")[study % 3],
        "StudyDescription": ("Chest", "Head 50% dose", "Abdomen_routine", "")[study % 4],
        "SeriesDescription": f"Series {series}",
        "PatientName": (f"Patient{patient:03d}^Test", f"O'Brien^{patient}", f"Jos\u00e9^{patient}",
                        f"pat_{patient}%x")[patient % 4],
        "PatientID": f"PID{patient:04d}",
        "PatientBirthDate": f"19{50 + patient % 50:02d}0{1 + patient % 9}15",
        "PatientSex": "MFO"[patient % 3],
        "StudyInstanceUID": f"{root}.2.{patient}.{study}",
        "SeriesInstanceUID": f"{root}.3.{patient}.{study}.{series}",
        "StudyID": f"S{study}",
        "SeriesNumber": str(series),
        "InstanceNumber": str(instance),
    }
    values.update(overrides)
    for key, value in values.items():
        if value is not None:
            setattr(ds, key, value)
    meta = ds.file_meta
    meta.add_new(0x00020002, "UI", values["SOPClassUID"])
    meta.add_new(0x00020003, "UI", values["SOPInstanceUID"])
    meta.add_new(0x00020010, "UI", xfer.EXPLICIT_LE.uid)
    return ds


def generate(n_patients: int, studies: int, series: int, instances: int):
    """(numbers, data set) for every instance of a generated archive."""
    for p in range(n_patients):
        for st in range(studies):
            for se in range(series):
                for i in range(instances):
                    yield (p, st, se, i), make_dataset(p, st, se, i)


def write_files(folder: Path, datasets) -> list[Path]:
    from dcmpy.dcmdata.writer import dcmwrite
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, ds in enumerate(datasets):
        path = folder / f"gen{n:05d}.dcm"
        dcmwrite(str(path), ds)
        paths.append(path)
    return paths


def identifier(level: str | None, keys: dict, charset: str | None = None):
    """A query identifier from {keyword or tag: value} (value None: zero length)."""
    from dcmpy.dcmdata.dataset import Dataset
    from dcmpy.dcmdata.dictionary import get_dictionary
    ds = Dataset()
    if charset is not None:
        ds.add_new(0x00080005, "CS", charset)
    if level is not None:
        ds.add_new(0x00080052, "CS", level)
    for key, value in keys.items():
        tag = key if isinstance(key, int) else get_dictionary().tag_for_name(key)
        entry = get_dictionary().find(tag)
        vr = {"xs": "US", "ox": "OB"}.get(entry.vr, entry.vr)
        ds.add_new(tag, vr, value)
    return ds


def response_values(ds) -> dict[int, object]:
    """A response data set as {tag: value} with text normalised for comparison."""
    out = {}
    for elem in ds:
        if (elem.tag >> 16) == 0x0002:
            continue
        value = elem.value
        if elem.vr == "SQ":
            value = tuple(tuple(sorted(response_values(item).items())) for item in value)
        elif isinstance(value, list):
            value = tuple(value) if len(value) != 1 else value[0]
        elif value is None:
            value = ""
        out[elem.tag] = value
    return out


# ---------------------------------------------------------------------------------------------
# DCMTK's archive on loopback

def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DcmtkArchive:
    """DCMTK's dcmqrscp (default fork mode) serving one AE title over a storage area."""

    def __init__(self, folder: Path, aetitle: str = "STORE", quota: str = "(500, 1024mb)") -> None:
        self.folder, self.aetitle = folder, aetitle
        self.area = folder / aetitle
        self.area.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.config = folder / "dcmqrscp.cfg"
        self.config.write_text(f"NetworkTCPPort = {self.port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
                               "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
                               f"AETable BEGIN\n{aetitle} {self.area} RW {quota} ANY\nAETable END\n")
        self.log = open(folder / "dcmqrscp.log", "wb")     # a pipe nobody reads would fill up
        self.proc = subprocess.Popen(dcmtk_cmd("dcmqrscp", ["-c", self.config, self.port]),
                                     env=tool_env(), stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("DCMTK dcmqrscp did not start")

    def store(self, files: list[Path]) -> None:
        for start in range(0, len(files), 200):
            r = subprocess.run(dcmtk_cmd("storescu", ["-aec", self.aetitle, "127.0.0.1", self.port,
                                                      *files[start:start + 200]]),
                               env=tool_env(), capture_output=True, timeout=300)
            assert r.returncode == 0, r.stderr.decode()

    def find(self, model: str, keys: list, out: Path) -> list:
        """findscu -X: the responses as data sets (model: -P, -S or -O)."""
        from dcmpy.dcmdata.reader import dcmread
        out.mkdir(parents=True, exist_ok=True)
        args: list = [model, "-aec", self.aetitle, "-X", "-od", out]
        cmd = dcmtk_cmd("findscu", args) + [k for key in keys for k in (b"-k", key)] \
            + ["127.0.0.1", str(self.port)]
        r = subprocess.run(cmd, env=tool_env(), capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
        return [dcmread(str(p)) for p in sorted(out.glob("rsp*.dcm"))], r.stderr.decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
