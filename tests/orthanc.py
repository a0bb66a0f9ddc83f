"""Debian's Orthanc (``/usr/sbin/Orthanc``, package ``orthanc``) on loopback, for the tests.

    with Orthanc(tmp_path, {"storescp": ("STORESCP", port)}) as orthanc:
        orthanc.dicom_port, orthanc.rest("GET", "/instances")

Each instance has its own storage and index in a temporary directory, free DICOM and HTTP ports
on 127.0.0.1, no plugins, no authentication (remote access off: loopback only), and knows the
given modalities (AE title and port on 127.0.0.1) as C-MOVE destinations and C-STORE targets.
Find, get and move are allowed to any AE title. The REST API is reached with urllib only.
"""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BINARY = Path("/usr/sbin/Orthanc")
AE_TITLE = "ORTHANC"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OrthancError(RuntimeError):
    """Orthanc did not start, or a REST call failed."""


class Orthanc:
    """One Orthanc process; stopped by :meth:`stop` or at the end of a ``with`` block."""

    def __init__(self, folder: Path, modalities: dict[str, tuple[str, int]] | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dicom_port, self.http_port = _free_port(), _free_port()
        self.aet = AE_TITLE
        storage = self.folder / "storage"
        config = {
            "Name": "dcmpy-test", "StorageDirectory": str(storage), "IndexDirectory": str(storage),
            "Plugins": [], "HttpServerEnabled": True, "HttpPort": self.http_port,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
            "OrthancExplorerEnabled": False, "WebDavEnabled": False, "HttpCompressionEnabled": False,
            "DicomServerEnabled": True, "DicomAet": AE_TITLE, "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": False, "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True, "DicomCheckModalityHost": False,
            "DicomModalities": {name: [aet, "127.0.0.1", port]
                                for name, (aet, port) in (modalities or {}).items()},
            "SaveJobs": False, "ConcurrentJobs": 1, "StorageCompression": False,
        }
        self.config = self.folder / "orthanc.json"
        self.config.write_text(json.dumps(config, indent=1))
        self.log_path = self.folder / "orthanc.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(BINARY), str(self.config)], cwd=self.folder,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OrthancError(f"Orthanc exited ({self.proc.returncode}): {self.log()[-2000:]}")
            try:
                self.rest("GET", "/system")
                return
            except (OSError, OrthancError):
                time.sleep(0.1)
        raise OrthancError(f"Orthanc's REST API did not answer within {START_TIMEOUT} s")

    def rest(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        """Call the REST API: ``body`` (bytes as they are, anything else as JSON); returns the
        parsed JSON answer, or the bytes when the answer is not JSON."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                raw = answer.read()
                kind = answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise OrthancError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None
        return json.loads(raw) if kind.startswith("application/json") else raw

    def instance_id(self, sop_instance_uid: str) -> str:
        """Orthanc's id of the instance with this SOP Instance UID."""
        found = self.rest("POST", "/tools/lookup", sop_instance_uid.encode())
        ids = [item["ID"] for item in found if item["Type"] == "Instance"]
        if len(ids) != 1:
            raise OrthancError(f"no single instance {sop_instance_uid}: {found}")
        return ids[0]

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Orthanc:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
