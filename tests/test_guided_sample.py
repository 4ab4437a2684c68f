"""Two sample-trial subjects read timepoint by timepoint through the guided read (Qt-free) give
the categories and final categories `mdaread assess` gives on the same observations: PDu resolved
by a later read (MDA-002) and flare then a new lytic lesion (MDA-003)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from mdaread.criteria import assess_subject, parse_batch
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.guided_answers import FLAGS
from mdaread.workflow.guided_read import GuidedRead
from mdaread.workflow.reads_import import list_read_rows
from mdaread.workflow.reads_service import open_guided_read

DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")
TREATED = dt.date(2024, 1, 8)


def _fu(lid: str, long_mm: float, perp_mm: float, *signs: str) -> dict[str, Any]:
    return {"id": lid, "evaluable": True, "long_mm": long_mm, "perp_mm": perp_mm,
            "signs": list(signs)}


def _new(nid: str, level: str, phenotype: str) -> dict[str, Any]:
    return {"id": nid, "level": level, "status": "definite", "phenotype": phenotype}


SUBJECTS = [
    {"subject": "MDA-002", "timepoints": [
        {"label": "baseline", "days": -7, "modality": "CT", "lesions": [
            {"id": "L1", "level": "T9", "phenotype": "mixed", "well_defined": True,
             "long_mm": 20, "perp_mm": 15, "treated_index": True}]},
        {"label": "1m", "days": 30, "modality": "MR", "lesions": [_fu("L1", 20, 15)]},
        {"label": "3m", "days": 87, "modality": "CT", "lesions": [_fu("L1", 24, 18)],
         "possible_pseudoprogression": True},
        {"label": "6m", "days": 182, "modality": "MR", "lesions": [_fu("L1", 13, 10)]},
        {"label": "12m", "days": 371, "modality": "CT", "lesions": [_fu("L1", 12, 9)]}]},
    {"subject": "MDA-003", "timepoints": [
        {"label": "baseline", "days": -8, "modality": "CT", "lesions": [
            {"id": "L1", "level": "L4", "phenotype": "lytic", "well_defined": True,
             "long_mm": 22, "perp_mm": 17, "treated_index": True},
            {"id": "L2", "level": "L5", "phenotype": "blastic", "well_defined": True,
             "long_mm": 15, "perp_mm": 12, "treated_index": False}]},
        {"label": "1m", "days": 27, "modality": "CT",
         "lesions": [_fu("L1", 22, 17, "sclerotic_rim"), _fu("L2", 15, 12)],
         "new_lesions": [_new("N1", "L3", "sclerotic"), _new("N2", "S1", "sclerotic")]},
        {"label": "3m", "days": 88, "modality": "CT",
         "lesions": [_fu("L1", 20, 16, "sclerotic_rim"), _fu("L2", 15, 12)],
         "new_lesions": [_new("N1", "L3", "sclerotic"), _new("N2", "S1", "sclerotic")]},
        {"label": "6m", "days": 182, "modality": "CT",
         "lesions": [_fu("L1", 20, 16, "sclerotic_rim"), _fu("L2", 15, 12)],
         "new_lesions": [_new("N1", "L3", "sclerotic"), _new("N2", "S1", "sclerotic"),
                         _new("N3", "L3", "lytic")]}]},
]


def answer(read: GuidedRead, tp: dict[str, Any]) -> None:
    """Enter one timepoint's observations the way the panel does, answer by answer."""
    read.set_modality(tp["modality"])
    if read.is_baseline:
        for les in tp["lesions"]:
            read.add_lesion(les["id"], les["level"], les["phenotype"], les["well_defined"],
                            les["long_mm"], les["perp_mm"], les["treated_index"])
        return
    for les in read.tracked:
        read.set_cement(les.level, False)
    for rec in tp["lesions"]:
        read.set_evaluable(rec["id"], True)
        read.set_measurement(rec["id"], rec["long_mm"], rec["perp_mm"])
        for sign in rec["signs"]:
            read.set_sign(rec["id"], sign, True)
        read.confirm_signs(rec["id"])
    read.set_no_new_lesions()
    for new in tp.get("new_lesions", []):
        read.add_new_lesion(new["level"], new["status"], new["phenotype"], new["id"])
    for flag in FLAGS:
        read.set_flag(flag, tp.get(flag, False))


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s["subject"])
def test_guided_reads_match_the_batch(tmp_path: Path, subject: dict[str, Any]) -> None:
    protocol, (parsed,) = parse_batch({"subjects": [subject]})
    expected = {r.label: (r.category, r.final_category, r.rule)
                for r in assess_subject(parsed, protocol)}
    name = subject["subject"]
    with create_workspace(tmp_path / "W", DM) as ws:
        ws.set_randomisation(DM, name, arm="RFA+VP", centre="C1",
                             treatment_date=TREATED.isoformat())
        for tp in subject["timepoints"]:
            scan = TREATED + dt.timedelta(days=tp["days"])
            ws.ensure_timepoint(DM, name, tp["label"], scan_date=scan.isoformat())
        for tp in subject["timepoints"]:
            read = open_guided_read(ws, RITA, name, tp["label"])
            assert read.days == tp["days"]
            answer(read, tp)
            assert read.missing() == []
            read.sign()
            assert read.result is not None
            assert (read.result.category, read.result.rule) == expected[tp["label"]][::2]
        rows = {r.timepoint: r for r in list_read_rows(ws, DM, name)}
    got = {label: (r.category, r.final_category, r.rule) for label, r in rows.items()}
    assert got == expected
