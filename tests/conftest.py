"""Test set-up shared by every test: Qt offscreen, paths to the shared real DICOM."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the header cache (mdaread.io.header_cache) of this test run, not the user's ~/.cache
os.environ.setdefault("MDAREAD_HEADER_CACHE", tempfile.mkdtemp(prefix="mdaread-headers-"))

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/testdata beside the project; MDAREAD_TESTDATA points elsewhere (a git worktree)
TESTDATA = Path(os.environ.get("MDAREAD_TESTDATA")
                or REPO_ROOT.parent / "shared" / "testdata").resolve()
SAMPLE_DICOM = REPO_ROOT / "sample_dicom"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """../shared/testdata (real DICOM from scanners); skips the test when it is absent."""
    if not TESTDATA.is_dir():
        pytest.skip(f"real test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-cases", type=int, default=None,
                     help="cases of tests/test_io_fuzz.py (default 200; 10,000 under -m slow; "
                          "or env MDAREAD_FUZZ_CASES)")
    parser.addoption("--fuzz-seed", type=int, default=None,
                     help="campaign seed of tests/test_io_fuzz.py (or env MDAREAD_FUZZ_SEED)")


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One throwaway Orthanc on loopback for the test run (tests/orthanc_server.py), holding
    the sample trial's subject MDA-001 (sample_dicom/MDA-001, uploaded through its REST API);
    stopped by its PID at the end. Skips only when the orthanc packages are not installed."""
    from orthanc_server import OrthancServer, dicomweb_plugin, orthanc_binary

    if orthanc_binary() is None or dicomweb_plugin() is None:
        pytest.skip("Orthanc not installed (apt-get install orthanc orthanc-dicomweb; "
                    "scripts/setup.sh does it)")
    server = OrthancServer.start(tmp_path_factory.mktemp("orthanc"))
    try:
        server.upload(sorted((SAMPLE_DICOM / "MDA-001").rglob("*.dcm")))
        yield server
    finally:
        server.stop()


@pytest.fixture
def pacs_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data manager acting, with the test Orthanc's login in the environment."""
    from orthanc_server import PASSWORD, USER

    monkeypatch.setenv("MDAREAD_USER", "dana")
    monkeypatch.setenv("MDAREAD_ROLE", "data_manager")
    monkeypatch.setenv("MDAREAD_PACS_USER", USER)
    monkeypatch.setenv("MDAREAD_PACS_PASSWORD", PASSWORD)
    monkeypatch.delenv("MDAREAD_PACS_TOKEN", raising=False)


@pytest.fixture(scope="session")
def folder_series() -> dict[str, object]:
    """Series UID → the folder scan's candidate (what a folder import would see)."""
    from mdaread.io import scan_path

    return {c.series_uid: c for c in scan_path(SAMPLE_DICOM / "MDA-001").series}
