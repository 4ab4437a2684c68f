"""`mdaread reads import|list` on a workspace made with the storage API and the CLI."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.criteria import CRITERIA_VERSION
from mdaread.storage import Actor, open_workspace

DM = Actor("dana", "data_manager")
SAMPLE = Path(os.environ.get("MDAREAD_SAMPLE_DIR",
                            Path(__file__).resolve().parents[1] / "sample_dicom"))

BATCH = {
    "protocol": {"measurable_min_mm": 10},
    "subjects": [
        {"subject": "S01", "timepoints": [
            {"label": "baseline", "days": -5, "modality": "CT",
             "lesions": [{"id": "L1", "level": "L2", "phenotype": "lytic", "well_defined": True,
                          "long_mm": 30, "perp_mm": 20, "treated_index": True}]},
            {"label": "3m", "days": 91, "modality": "CT",
             "lesions": [{"id": "L1", "evaluable": True, "long_mm": 20, "perp_mm": 15,
                          "signs": []}]},
            {"label": "6m", "days": 182, "modality": "CT",
             "lesions": [{"id": "L1", "evaluable": True, "long_mm": 20, "perp_mm": 15}],
             "new_lesions": [{"level": "T9", "status": "definite", "phenotype": "lytic"}],
             "override": {"category": "SD", "reason": "T9 is a haemangioma"}}]},
        {"subject": "S02", "timepoints": [
            {"label": "baseline", "days": -3, "modality": "MR",
             "lesions": [{"id": "L1", "level": "T7", "phenotype": "blastic",
                          "well_defined": False, "treated_index": True}]},
            {"label": "3m", "days": 90, "modality": "MR",
             "lesions": [{"id": "L1", "evaluable": True, "signs": ["subjective_increase_25"]}],
             "epidural_progression": False}]},
    ],
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    csv = tmp_path / "rand.csv"
    csv.write_text("subject,arm,centre,treatment_date\nS01,RFA+VP+SBRT,C1,2026-01-10\n"
                   "S02,RFA+VP,C2,2026-02-01\n", encoding="utf-8")
    assert main(["workspace", "randomisation", str(folder), str(csv), "--user", "dana"]) == 0
    with open_workspace(folder) as ws:
        for subject in ("S01", "S02"):
            for label, day in (("baseline", 0), ("3m", 91), ("6m", 182)):
                ws.ensure_timepoint(DM, subject, label, nominal_day=day)
    return folder


def write(tmp_path: Path, data: object, name: str = "obs.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_signed_then_list(workspace: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                       "--reader", "rita", "--sign", "--json")
    assert code == 0
    imported = json.loads(out)["reads"]
    assert [(r["subject"], r["timepoint"], r["status"]) for r in imported] == [
        ("S01", "baseline", "signed"), ("S01", "3m", "signed"), ("S01", "6m", "signed"),
        ("S02", "baseline", "signed"), ("S02", "3m", "signed")]
    code, out, _ = run(capsys, "reads", "list", str(workspace), "--json")
    assert code == 0
    rows = {(r["subject"], r["timepoint"]): r for r in json.loads(out)["reads"]}
    assert set(rows["S01", "3m"]) == {"id", "subject", "timepoint", "reader", "purpose",
                                      "status", "category", "override_category",
                                      "final_category", "rule", "signed_at", "supersedes",
                                      "superseded"}
    assert (rows["S01", "3m"]["category"], rows["S01", "3m"]["rule"]) == ("PR", "pr_spd")
    six = rows["S01", "6m"]
    assert (six["category"], six["override_category"], six["final_category"]) == (
        "PD", "SD", "SD")
    assert (rows["S02", "3m"]["category"], rows["S02", "3m"]["rule"]) == ("PD", "pd_sign")
    assert rows["S01", "baseline"]["category"] is None
    assert "RFA+VP" not in out and "arm" not in out
    code, text, _ = run(capsys, "reads", "list", str(workspace))
    assert code == 0 and "RFA" not in text and "pr_spd" in text
    with open_workspace(workspace) as ws:
        read = ws.get_read(rows["S01", "3m"]["id"])
        assert read.protocol["measurable_min_mm"] == 10
        assert read.criteria_version == CRITERIA_VERSION
        assert read.observations["lesions"][0]["long_mm"] == 20
        (m,) = ws.list_measurements(read.id)
        assert (m.lesion_id, m.long_mm, m.perp_mm) == ("L1", 20, 15)
        assert {les.lesion_id for les in ws.list_lesions("S02")} == {"L1"}


def test_import_drafts_show_computed_categories(workspace: Path, tmp_path: Path, capsys) -> None:
    code, _, _ = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                     "--reader", "rex", "--purpose", "reread")
    assert code == 0
    code, out, _ = run(capsys, "reads", "list", str(workspace), "--subject", "S01", "--json")
    rows = json.loads(out)["reads"]
    assert {r["subject"] for r in rows} == {"S01"}
    assert all(r["status"] == "draft" and r["purpose"] == "reread" for r in rows)
    assert [r["category"] for r in rows] == [None, "PR", "PD"]
    assert rows[2]["override_category"] == "SD"
    code, _, err = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                       "--reader", "rex", "--purpose", "reread")
    assert code == 2 and "already has a draft reread read" in err
    code, _, _ = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                     "--reader", "rita", "--sign")
    assert code == 0
    code, _, err = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                       "--reader", "bob")
    assert code == 2 and "already signed by rita" in err


@pytest.mark.parametrize("edit, needle", [
    (lambda d: d["subjects"][0]["timepoints"][1]["lesions"][0].pop("id"),
     "subject S01, timepoint 3m, key lesions[0].id: missing"),
    (lambda d: d["subjects"][1]["timepoints"][1].update(modality="PET"),
     "subject S02, timepoint 3m, key modality"),
    (lambda d: d["subjects"][0]["timepoints"][1]["lesions"][0].update(signs=["density_normalized"]),
     "subject S01, timepoint 3m, key lesions[0].signs[0]"),
])
def test_malformed_file_names_subject_timepoint_key(workspace: Path, tmp_path: Path, capsys,
                                                    edit, needle) -> None:
    data = copy.deepcopy(BATCH)
    edit(data)
    path = write(tmp_path, data)
    code, out, err = run(capsys, "reads", "import", str(workspace), str(path), "--reader", "rita")
    assert code == 2 and out == ""
    assert err.startswith(f"mdaread: error: {path}: ") and needle in err
    assert err.count("\n") == 1
    with open_workspace(workspace) as ws:
        assert ws.list_reads() == []


def test_unknown_subject_or_timepoint_writes_nothing(workspace: Path, tmp_path: Path,
                                                     capsys) -> None:
    data = copy.deepcopy(BATCH)
    data["subjects"][1]["subject"] = "S99"
    code, _, err = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, data)),
                       "--reader", "rita", "--sign")
    assert code == 2 and "subject S99 is not in the workspace" in err
    data = copy.deepcopy(BATCH)
    data["subjects"][1]["timepoints"][1]["label"] = "12m"
    code, _, err = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, data)),
                       "--reader", "rita", "--sign")
    assert code == 2 and "subject S02, timepoint 12m: not in the workspace" in err
    with open_workspace(workspace) as ws:
        assert ws.list_reads() == [] and ws.list_lesions("S01") == []


def test_bad_json_and_missing_file(workspace: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "reads", "import", str(workspace), str(bad), "--reader", "rita")
    assert code == 2 and f"{bad}: not valid JSON" in err
    code, _, err = run(capsys, "reads", "import", str(workspace), str(tmp_path / "none.json"),
                       "--reader", "rita")
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "reads", "list", str(tmp_path / "nowhere"))
    assert code == 2 and err.startswith("mdaread: error:")


def test_adjudication_import_acts_as_adjudicator(workspace: Path, tmp_path: Path,
                                                 capsys) -> None:
    code, _, _ = run(capsys, "reads", "import", str(workspace), str(write(tmp_path, BATCH)),
                     "--reader", "ada", "--purpose", "adjudication", "--sign")
    assert code == 0
    with open_workspace(workspace) as ws:
        assert ("ada", "adjudicator") in ws.list_users()


def test_sample_trial_reads_reproduce_truth(tmp_path: Path, capsys) -> None:
    """The whole sample trial: import its scans and observations, list = truth.json."""
    if not (SAMPLE / "observations.json").is_file():
        pytest.skip("sample trial not written (mdaread sample sample_dicom)")
    folder = tmp_path / "W"
    assert main(["workspace", "init", str(folder)]) == 0
    assert main(["workspace", "randomisation", str(folder),
                 str(SAMPLE / "randomisation.csv")]) == 0
    main(["workspace", "import", str(folder), str(SAMPLE)])
    capsys.readouterr()
    code, _, err = run(capsys, "reads", "import", str(folder), str(SAMPLE / "observations.json"),
                       "--reader", "rita", "--sign")
    assert code == 0, err
    code, out, _ = run(capsys, "reads", "list", str(folder), "--json")
    got = {(r["subject"], r["timepoint"]): (r["category"], r["final_category"])
           for r in json.loads(out)["reads"]}
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    want = {(s["subject"], t["label"]): (t.get("expected_category", t.get("category")),
                                         t.get("expected_final_category",
                                               t.get("final_category")))
            for s in truth["subjects"] for t in s["timepoints"]
            if "expected_category" in t or "category" in t}
    assert want and all(got[key] == value for key, value in want.items())
