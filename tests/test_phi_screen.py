"""SeriesDescription is screened for the header's identifiers and for dates before it is kept."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from mdaread.io import scan_path
from mdaread.model.phi_screen import REMOVED, HeaderIdentifiers, screen
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.ingest import ingest_path
from test_workspace_ingest import write_series

DM = Actor("dana", "data_manager")
IDS = HeaderIdentifiers(patient_name="Smith-Jones^Mary Ann^^Dr", patient_ids=("HOSP-778899",
                        "ACC42"), birth_date="19510203")


@pytest.mark.parametrize(("text", "kept", "kinds"), [
    ("CT SPINE BONE", "CT SPINE BONE", ()),
    ("smith-jones t2 sag", f"{REMOVED} t2 sag", ("name",)),
    ("T1 Mary ann", f"T1 {REMOVED} {REMOVED}", ("name",)),
    ("Axial HOSP-778899", f"Axial {REMOVED}", ("id",)),
    ("acc42 recon", f"{REMOVED} recon", ("id",)),
    ("dob 03.02.1951", f"dob {REMOVED}", ("birth date",)),
    ("born 1951-02-03 sag", f"born {REMOVED} sag", ("birth date",)),
    ("CT 20250105", f"CT {REMOVED}", ("date",)),
    ("follow-up 5/1/2025 ax", f"follow-up {REMOVED} ax", ("date",)),
    ("Sagittal 2.0 mm B30f 512", "Sagittal 2.0 mm B30f 512", ()),  # numbers, not dates
    ("MARYLAND protocol", "MARYLAND protocol", ()),  # a name part inside a word stays
])
def test_screen_removes_identifiers_and_dates(text: str, kept: str, kinds: tuple[str, ...],
                                              ) -> None:
    result = screen(text, IDS)
    assert (result.text, result.removed) == (kept, kinds)


def _with_description(paths: list[Path], description: str) -> None:
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.SeriesDescription = description
        ds.save_as(p)


def test_a_name_typed_into_the_description_never_reaches_the_workspace(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    paths = write_series(scans / "p", "MDA-001", "20250301", "hosp", name="Doe^Jane")
    _with_description(paths, "DOE JANE 03.02.1951 CT spine")
    candidate = scan_path(scans).series[0]
    assert candidate.description == f"{REMOVED} {REMOVED} {REMOVED} CT spine"
    assert any("identifying text (birth date, name)" in w for w in candidate.warnings)
    with create_workspace(tmp_path / "W", DM) as ws:
        ws.set_randomisation(DM, "MDA-001", arm="RFA+VP", centre="A", treatment_date="2025-03-01")
        report = ingest_path(ws, DM, scans)
        assert len(report.added) == 1
        assert ws.list_series()[0].description == candidate.description
        assert ws.verify_audit().ok
    stored = b"".join(p.read_bytes() for p in (tmp_path / "W").iterdir())
    # whole strings: a short one ("1951") turns up in hex digests by chance
    for phi in (b"DOE JANE", b"03.02.1951", b"19510203", b"Doe^Jane"):
        assert phi not in stored
