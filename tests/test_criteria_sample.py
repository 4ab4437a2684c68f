"""`mdaread assess sample_dicom/observations.json` reproduces truth.json's categories.

The sample trial (another package) writes observations.json in the batch form and truth.json with
the categories its scenarios were designed to give; skipped until the sample trial is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"


def _truth_categories(truth: Any) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(subject, label) → (category, final_category) from truth.json."""
    subjects = truth["subjects"] if isinstance(truth, dict) and "subjects" in truth else truth
    out: dict[tuple[str, str], tuple[Any, Any]] = {}
    for subject in subjects:
        for tp in subject["timepoints"]:
            if "category" in tp or "final_category" in tp:
                out[(subject["subject"], tp["label"])] = (tp.get("category"),
                                                           tp.get("final_category"))
    return out


def test_assess_reproduces_sample_truth(capsys: pytest.CaptureFixture[str]) -> None:
    observations, truth_path = SAMPLE / "observations.json", SAMPLE / "truth.json"
    if not observations.is_file() or not truth_path.is_file():
        pytest.skip("sample trial not written (mdaread sample sample_dicom)")
    assert main(["assess", str(observations), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = {(s["subject"], t["label"]): (t["category"], t["final_category"])
           for s in out["subjects"] for t in s["timepoints"]}
    expected = _truth_categories(json.loads(truth_path.read_text(encoding="utf-8")))
    assert expected, "truth.json lists no categories"
    wrong = {key: (want, got.get(key)) for key, want in expected.items() if got.get(key) != want}
    assert not wrong, f"(subject, timepoint): (truth, assess) differ: {wrong}"
