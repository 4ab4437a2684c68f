"""A throwaway Orthanc (Debian packages ``orthanc`` and ``orthanc-dicomweb``) on loopback.

``OrthancServer.start(folder)`` writes a JSON configuration into ``folder`` (free HTTP and DICOM
ports, remote access off, storage and index in the folder, the DICOMweb plugin, basic
authentication for one test user, the test AE titles registered as modalities), starts the
binary, waits until its REST API answers and ``stop()`` ends it by its PID. ``upload`` loads
DICOM files through the REST API (``POST /instances``).
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ORTHANC_BINARY = "Orthanc"
DICOMWEB_PLUGIN_PATHS = (
    Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
    Path("/usr/lib/orthanc/libOrthancDicomWeb.so.1.7"),
)
USER, PASSWORD = "mdaread-test", "orthanc-test-secret"
SERVER_AE = "ORTHANC"
CLIENT_AE = "MDAREAD"
"""The test's own AE title; registered as a modality (for C-MOVE, on ``move_port``)."""


def orthanc_binary() -> str | None:
    """Path of the Orthanc binary (``/usr/sbin`` is not on every PATH), or None."""
    return shutil.which(ORTHANC_BINARY) or shutil.which(ORTHANC_BINARY, path="/usr/sbin:/sbin")


def dicomweb_plugin() -> Path | None:
    return next((p for p in DICOMWEB_PLUGIN_PATHS if p.is_file()), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OrthancServer:
    folder: Path
    http_port: int
    dicom_port: int
    move_port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "orthanc.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def node(self) -> str:
        """The DIMSE node as mdaread writes it: AE@host:port."""
        return f"{SERVER_AE}@127.0.0.1:{self.dicom_port}"

    @classmethod
    def start(cls, folder: Path, *, timeout: float = 30.0) -> OrthancServer:
        binary, plugin = orthanc_binary(), dicomweb_plugin()
        if binary is None or plugin is None:
            raise FileNotFoundError("Orthanc or its DICOMweb plugin is not installed")
        server = cls(folder, free_port(), free_port(), free_port())
        config = {
            "Name": "mdaread-test",
            "HttpPort": server.http_port,
            "DicomPort": server.dicom_port,
            "DicomAet": SERVER_AE,
            "RemoteAccessAllowed": False,
            "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "index"),
            "Plugins": [str(plugin)],
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "DicomModalities": {CLIENT_AE: [CLIENT_AE, "127.0.0.1", server.move_port]},
            "DicomCheckCalledAet": True,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "StorageCompression": False,
            "SaveJobs": False,
            "HttpDescribeErrors": True,
        }
        (folder / "orthanc.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        with open(server.log, "wb") as log:
            server.process = subprocess.Popen([binary, str(folder / "orthanc.json")],
                                              stdout=log, stderr=subprocess.STDOUT,
                                              cwd=folder)
        try:
            server._wait(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.process.returncode}): "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                self.get("/system")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise TimeoutError(f"Orthanc did not answer on {self.url} within {timeout} s")

    def _request(self, path: str, data: bytes | None = None) -> bytes:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(self.url + path, data=data,
                                         headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return bytes(answer.read())

    def get(self, path: str) -> object:
        return json.loads(self._request(path))

    def upload(self, files: list[Path]) -> int:
        """POST each file to /instances; the number stored."""
        for path in files:
            self._request("/instances", path.read_bytes())
        return len(files)

    def stop(self) -> None:
        """End the server by its PID (terminate, then kill after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
