"""Absurd observations are refused before they are computed or signed (issue 10 item 6):
each names the subject, timepoint and key, exit 2, nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, open_workspace

BATCH: dict[str, Any] = {"subjects": [{"subject": "S01", "timepoints": [
    {"label": "baseline", "days": -5, "modality": "CT",
     "lesions": [{"id": "A", "level": "L2", "phenotype": "lytic", "well_defined": True,
                  "long_mm": 30, "perp_mm": 20, "treated_index": True}]},
    {"label": "3m", "days": 91, "modality": "CT",
     "lesions": [{"id": "A", "evaluable": True, "long_mm": 20, "perp_mm": 15}]}]}]}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BATCH)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


BASE = ("subjects", 0, "timepoints", 0)
FOLLOW = ("subjects", 0, "timepoints", 1)
CASES = [
    (_with((*BASE, "lesions", 0, "long_mm"), 1e300), "timepoint baseline, key lesions[0].long_mm",
     "beyond the plausible maximum 300 mm"),
    (_with((*FOLLOW, "lesions", 0, "long_mm"), 1e200), "timepoint 3m, key lesions[0].long_mm",
     "beyond the plausible maximum"),
    (_with((*FOLLOW, "days"), 1e308), "timepoint 3m, key days", "beyond the plausible ±3650"),
    (_with((*BASE, "lesions", 0, "perp_mm"), 40), "timepoint baseline, key lesions[0].perp_mm",
     "longer than long_mm 30 mm"),
    (_with((*FOLLOW, "override"), {"category": "SD", "reason": "   "}),
     "timepoint 3m, key override.reason", "only white space"),
    (_with((*FOLLOW, "lesions", 0, "parts"), [{"long_mm": 10, "perp_mm": 12}]), "parts[0].perp_mm",
     "longer than long_mm"),
]


@pytest.mark.parametrize(("data", "where", "why"), CASES)
def test_assess_refuses_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       data: dict[str, Any], where: str, why: str) -> None:
    if "parts" in where:  # a split lesion gives parts instead of the two diameters
        lesion = data["subjects"][0]["timepoints"][1]["lesions"][0]
        del lesion["long_mm"], lesion["perp_mm"]
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err
    assert "S01" in err and where in err and why in err, err
    assert "unexpected" not in err and "Traceback" not in err


def test_a_lone_surrogate_in_notes_is_named(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "obs.json"
    text = json.dumps(BATCH)[:-1] + ', "notes": "caf\\ud800"}'
    path.write_text(text, encoding="utf-8")
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err
    assert "key notes: " in err and "lone surrogate" in err and "unexpected" not in err


def test_reads_import_signs_nothing_absurd(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    with open_workspace(folder) as ws:
        dm = Actor("dana", "data_manager")
        ws.ensure_subject(dm, "S01")
        for label in ("baseline", "3m"):
            ws.ensure_timepoint(dm, "S01", label)
        rows_before = len(ws.audit_rows())
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(CASES[0][0]), encoding="utf-8")
    monkeypatch.setenv("MDAREAD_ROLE", "reader")
    code = main(["reads", "import", str(folder), str(path), "--reader", "rita", "--sign"])
    assert code == 2 and "lesions[0].long_mm" in capsys.readouterr().err
    with open_workspace(folder) as ws:
        assert ws.list_reads() == [] and len(ws.audit_rows()) == rows_before


def test_the_limits_are_protocol_settings(tmp_path: Path) -> None:
    data = _with((*BASE, "lesions", 0, "long_mm"), 350)
    data["protocol"] = {"max_diameter_mm": 400}
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["assess", str(path)]) == 0
