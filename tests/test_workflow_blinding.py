"""Blinding in the workflow API: a reader never obtains another reader's reads, nor, in a
re-read, the primary reads; the adjudicator and the data manager see every read."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.reads_import import import_reads, list_read_rows
from mdaread.workflow.reads_service import signed_measurements
from mdaread.workflow.workspace_service import workspace_status

DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")  # the primary reader
SAM = Actor("sam", "reader")  # a second reader re-reading
ADA = Actor("ada", "adjudicator")

BATCH = {"subjects": [{"subject": "MDA-001", "timepoints": [
    {"label": "baseline", "days": -5, "modality": "CT",
     "lesions": [{"id": "A", "level": "L2", "phenotype": "lytic", "well_defined": True,
                  "long_mm": 30, "perp_mm": 20, "treated_index": True}]},
    {"label": "3m", "days": 91, "modality": "CT",
     "lesions": [{"id": "A", "evaluable": True, "long_mm": 20, "perp_mm": 15}]}]}]}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Rita's signed primary reads and Sam's signed re-reads (other diameters at 3m)."""
    w = tmp_path / "W"
    with create_workspace(w, DM) as ws:
        ws.set_randomisation(DM, "MDA-001", arm="RFA+VP+SBRT", centre="A",
                             treatment_date="2025-01-10")
        for label in ("baseline", "3m"):
            ws.ensure_timepoint(DM, "MDA-001", label)
        import_reads(ws, RITA, BATCH, sign=True)
        reread = copy.deepcopy(BATCH)
        reread["subjects"][0]["timepoints"][1]["lesions"][0]["long_mm"] = 29
        import_reads(ws, SAM, reread, purpose="reread", sign=True)
    return w


def _readers(rows) -> set[tuple[str, str]]:
    return {(r.reader, r.purpose) for r in rows}


def test_read_list_shows_a_reader_their_own_reads_only(folder: Path) -> None:
    from mdaread.storage import open_workspace

    with open_workspace(folder) as ws:
        assert _readers(list_read_rows(ws, SAM)) == {("sam", "reread")}
        assert _readers(list_read_rows(ws, RITA)) == {("rita", "primary")}
        everyone = {("rita", "primary"), ("sam", "reread")}
        assert _readers(list_read_rows(ws, ADA)) == everyone
        assert _readers(list_read_rows(ws, DM)) == everyone


def test_status_gives_a_reader_neither_the_arm_nor_others_categories(folder: Path) -> None:
    from mdaread.storage import open_workspace

    with open_workspace(folder) as ws:
        (sam,) = workspace_status(ws, SAM)
        assert sam.arm is None
        assert all(r["reader"] == "sam" for t in sam.timepoints for r in t.reads)
        assert {t.read_status for t in sam.timepoints if t.label in ("baseline", "3m")} == {
            "not read"}  # Rita's signed primary reads are not Sam's to see
        (dana,) = workspace_status(ws, DM)
        assert dana.arm == "RFA+VP+SBRT"
        assert {r["reader"] for t in dana.timepoints for r in t.reads} == {"rita", "sam"}


def test_a_re_read_draws_no_one_elses_measurement(folder: Path) -> None:
    from mdaread.storage import open_workspace

    def long_mm(reader: str, purpose: str = "primary") -> list[float | None]:
        return [m.long_mm for m in signed_measurements(ws, "MDA-001", "3m", reader, purpose)]

    with open_workspace(folder) as ws:
        assert long_mm("rita") == [20]
        assert long_mm("zoe") == [20]  # a primary reader taking over continues the record
        assert long_mm("sam", "reread") == [29]
        assert long_mm("zoe", "reread") == []  # before: Rita's or Sam's calipers
        assert long_mm("rita", "reread") == []  # an intra-reader re-read hides the original


def test_reads_list_cli_blinds_by_role(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reads", "list", str(folder), "--user", "sam", "--role", "reader"]) == 0
    out = capsys.readouterr().out
    assert "sam" in out and "rita" not in out
    assert main(["reads", "list", str(folder), "--user", "ada", "--role", "adjudicator"]) == 0
    out = capsys.readouterr().out
    assert "sam" in out and "rita" in out
