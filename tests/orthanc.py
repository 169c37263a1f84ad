"""A real Orthanc PACS with its DICOMweb plugin for tests: 127.0.0.1, a free port, storage in a temp folder.

Debian's ``orthanc`` and ``orthanc-dicomweb`` packages provide it (the README's test command installs them).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PLUGIN_PATHS = (
    Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
    Path("/usr/lib/orthanc/libOrthancDicomWeb.so.1.7"),
)
USER, PASSWORD = "medgan", "test-password"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Orthanc:
    """A running Orthanc: its REST root, DICOMweb root, login, and the process."""

    url: str
    process: subprocess.Popen
    auth: tuple[str, str] = (USER, PASSWORD)

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def get(self, path: str):
        """GET a REST resource (``/patients``, ``/studies/ID``...) as JSON."""
        response = requests.get(self.url + path, auth=self.auth, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: str):
        """POST a text body to a REST tool (``/tools/lookup``...) and return its JSON answer."""
        response = requests.post(self.url + path, data=body, auth=self.auth, timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _plugin() -> Path:
    found = next((p for p in PLUGIN_PATHS if p.exists()), None)
    if found is None:
        raise RuntimeError("the Orthanc DICOMweb plugin is missing: apt-get install orthanc orthanc-dicomweb")
    return found


def start_orthanc(folder: Path, port: int | None = None) -> Orthanc:
    """Start Orthanc with storage, index and config in ``folder`` (a free port unless given); return once
    ``/system`` answers."""
    binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    port = port or free_port()
    config = {
        "Name": "medgan-test",
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "DicomServerEnabled": False,
        "DicomPort": free_port(),
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "Plugins": [str(_plugin())],
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "HttpTimeout": 10,
        "StableAge": 1,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115 - the process writes to it until it stops
    process = subprocess.Popen([binary, str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    server = Orthanc(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Orthanc exited ({process.returncode}): {(folder / 'orthanc.log').read_text()[-2000:]}"
            )
        try:
            server.get("/system")
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("Orthanc did not answer /system within 60 s")


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    """A real Orthanc PACS with DICOMweb on 127.0.0.1 (free port, temp storage), stopped after the session."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    yield server
    server.stop()
