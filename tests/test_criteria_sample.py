"""The engine against the sample trial's scenarios, whose expected categories were worked out by
hand by the sample package's author (mdaread.sample.scenarios), not computed by mdaread.criteria.

- `mdaread assess sample_dicom/observations.json` reproduces truth.json's expected category and
  final category for every timepoint (skipped until the sample trial is written there);
- the same check on observations built straight from the scenario scripts (no rendering), so it
  runs in every test run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdaread.cli import main
from mdaread.criteria import assess_subject, parse_batch

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"


def _truth_categories(truth: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(subject, label) → (expected category, expected final category) from truth.json."""
    return {(s["subject"], t["label"]): (t["expected_category"], t["expected_final_category"])
            for s in truth["subjects"] for t in s["timepoints"]}


def _assess_file(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], Any]:
    assert main(["assess", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    return {(s["subject"], t["label"]): (t["category"], t["final_category"])
            for s in out["subjects"] for t in s["timepoints"]}


def test_assess_reproduces_sample_truth(capsys: pytest.CaptureFixture[str]) -> None:
    observations, truth_path = SAMPLE / "observations.json", SAMPLE / "truth.json"
    if not observations.is_file() or not truth_path.is_file():
        pytest.skip("sample trial not written (mdaread sample sample_dicom)")
    got = _assess_file(observations, capsys)
    expected = _truth_categories(json.loads(truth_path.read_text(encoding="utf-8")))
    assert expected and set(expected) == set(got)
    wrong = {key: (want, got[key]) for key, want in expected.items() if got[key] != want}
    assert not wrong, f"(subject, timepoint): (truth, assess) differ: {wrong}"


def test_scenario_scripts_give_their_expected_categories() -> None:
    from mdaread.sample.scenarios import LABELS, NOMINAL_DAYS, SCENARIOS
    from mdaread.sample.truth import TimepointFacts, timepoint_observation

    subjects = []
    for index, scenario in enumerate(SCENARIOS):
        tps = [timepoint_observation(scenario, TimepointFacts(
            t, NOMINAL_DAYS[t], "", modality, np.eye(4), []))
            for t, modality in enumerate(scenario.modalities)]
        subjects.append({"subject": f"S{index}", "timepoints": tps})
    protocol, parsed = parse_batch({"protocol": {}, "subjects": subjects})
    for scenario, subject in zip(SCENARIOS, parsed, strict=True):
        results = assess_subject(subject, protocol)
        got = [(r.category, r.final_category) for r in results]
        assert got[0] == (None, None)
        assert [r.label for r in results] == list(LABELS)
        assert got[1:] == list(scenario.expected), scenario.story
