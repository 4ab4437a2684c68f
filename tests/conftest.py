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
