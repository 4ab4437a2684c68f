"""`mdaread assess FILE.json [--json]`: the spec's worked example and malformed files."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mdaread.cli import main

# The batch-form example of mda-criteria.md, verbatim.
WORKED = {"protocol": {"measurable_min_mm": 10},
          "subjects": [{"subject": "S01", "timepoints": [
              {"label": "baseline", "days": 0, "modality": "CT",
               "lesions": [{"id": "L1", "level": "L2", "phenotype": "lytic",
                            "well_defined": True, "long_mm": 30, "perp_mm": 20,
                            "treated_index": True}]},
              {"label": "1m", "days": 30, "modality": "CT",
               "lesions": [{"id": "L1", "evaluable": True, "long_mm": 20, "perp_mm": 14,
                            "signs": ["sclerotic_rim"]}],
               "new_lesions": [], "possible_flare": False}]}]}

OUTPUT_KEYS = {"label", "category", "final_category", "rule", "spd_mm2", "spd_change_pct",
               "early", "warnings"}


def _write(tmp_path: Path, data: Any, name: str = "obs.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_worked_example_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(_write(tmp_path, WORKED)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    [subject] = out["subjects"]
    assert list(subject) == ["subject", "timepoints"]
    assert subject["subject"] == "S01"
    base, month = subject["timepoints"]
    assert set(base) == OUTPUT_KEYS and set(month) == OUTPUT_KEYS
    assert (base["label"], base["category"], base["final_category"]) == ("baseline", None, None)
    assert base["spd_mm2"] == 600 and base["spd_change_pct"] is None
    assert (month["label"], month["category"], month["final_category"]) == ("1m", "PR", "PR")
    assert month["rule"] == "pr_spd"
    assert month["spd_mm2"] == 280
    assert month["spd_change_pct"] == 100 * (280 - 600) / 600  # unrounded
    assert month["early"] is True and month["warnings"] == ["early"]


def test_output_keeps_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = copy.deepcopy(WORKED)
    second = copy.deepcopy(data["subjects"][0])
    second["subject"] = "A02"
    second["timepoints"].reverse()
    data["subjects"].append(second)
    assert main(["assess", str(_write(tmp_path, data)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["subject"] for s in out["subjects"]] == ["S01", "A02"]
    assert [t["label"] for t in out["subjects"][1]["timepoints"]] == ["1m", "baseline"]


def test_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = copy.deepcopy(WORKED)
    data["subjects"][0]["arm"] = "RFA+VP"
    assert main(["assess", str(_write(tmp_path, data))]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("S01") and " 1m " in line)
    assert row.split()[3:6] == ["PR", "PR", "pr_spd"]
    assert "-53.3" in row
    assert "RFA+VP" in out and "1/1" in out  # the DCR lines


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return mutate


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
    return mutate


TP1 = ["subjects", 0, "timepoints", 1]
TP0 = ["subjects", 0, "timepoints", 0]

# mutation of the worked example → substrings the one-line error must hold
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("missing_days", _delete([*TP1, "days"]),
     ["subject S01", "timepoint 1m", "key days", "missing"]),
    ("missing_long_mm", _delete([*TP1, "lesions", 0, "long_mm"]),
     ["subject S01", "timepoint 1m", "lesions[0].long_mm"]),
    ("wrong_type_days", _set([*TP1, "days"], "thirty"),
     ["subject S01", "timepoint 1m", "key days", "expected a number"]),
    ("wrong_type_flag", _set([*TP1, "possible_flare"], "no"),
     ["subject S01", "timepoint 1m", "key possible_flare"]),
    ("unknown_sign", _set([*TP1, "lesions", 0, "signs"], ["sclerotic_ring"]),
     ["subject S01", "timepoint 1m", "key lesions[0].signs[0]", "sclerotic_ring"]),
    ("sign_not_applicable", _set([*TP1, "lesions", 0, "signs"], ["density_normalized"]),
     ["subject S01", "timepoint 1m", "key lesions[0].signs", "does not apply"]),
    ("unknown_override_category", _set([*TP1, "override"], {"category": "MR", "reason": "x"}),
     ["subject S01", "timepoint 1m", "key override.category", "'MR'"]),
    ("unknown_status", _set([*TP1, "new_lesions"], [{"level": "T9", "status": "maybe",
                                                     "phenotype": "lytic"}]),
     ["subject S01", "timepoint 1m", "key new_lesions[0].status", "'maybe'"]),
    ("unknown_modality", _set([*TP1, "modality"], "PET"),
     ["subject S01", "timepoint 1m", "key modality", "'PET'"]),
    ("unknown_phenotype", _set([*TP0, "lesions", 0, "phenotype"], "osteoid"),
     ["subject S01", "timepoint baseline", "key lesions[0].phenotype"]),
    ("unknown_lesion_key", _set([*TP1, "lesions", 0, "evaluble"], True),
     ["subject S01", "timepoint 1m", "key lesions[0].evaluble", "unknown key"]),
    ("unknown_lesion_id", _set([*TP1, "lesions", 0, "id"], "L9"),
     ["subject S01", "timepoint 1m", "key lesions[0].id", "L9"]),
    ("negative_diameter", _set([*TP1, "lesions", 0, "perp_mm"], -1),
     ["subject S01", "timepoint 1m", "key lesions[0].perp_mm"]),
    ("missing_subject_name", _delete(["subjects", 0, "subject"]),
     ["subject subjects[0]", "key subject", "missing"]),
    ("missing_label", _delete([*TP1, "label"]), ["subject S01", "timepoint timepoints[1]",
                                                 "key label"]),
    ("missing_reference", _set(["protocol", "reference"], "screening"),
     ["subject S01", "key protocol.reference", "screening"]),
    ("bad_protocol_type", _set(["protocol", "pd_carry_forward"], "yes"),
     ["key protocol.pd_carry_forward"]),
    ("unknown_protocol_key", _set(["protocol", "pd_threshold"], 20),
     ["key protocol.pd_threshold", "unknown"]),
    ("subjects_not_list", _set(["subjects"], {"S01": 1}), ["key subjects", "expected a list"]),
]


@pytest.mark.parametrize(("name", "mutate", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_exit_2_naming_subject_timepoint_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
        mutate: Callable[[dict[str, Any]], None], expected: list[str]) -> None:
    data = copy.deepcopy(WORKED)
    mutate(data)
    path = _write(tmp_path, data)
    assert main(["assess", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"mdaread: error: {path}: ")
    for part in expected:
        assert part in lines[0]


@pytest.mark.parametrize("text", ["{", "[1, 2", '{"subjects": [NaN]}', ""])
def test_bad_json_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = _write(tmp_path, text)
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mdaread: error: {path}: not valid JSON")
    assert len(err.strip().splitlines()) == 1


def test_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file" in capsys.readouterr().err


def test_real_process_exit_status_and_no_traceback(tmp_path: Path) -> None:
    data = copy.deepcopy(WORKED)
    data["subjects"][0]["timepoints"][1]["lesions"][0]["signs"] = ["bogus"]
    path = _write(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "mdaread", "assess", str(path), "--json"],
                          capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[1] / "src")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "subject S01, timepoint 1m, key lesions[0].signs[0]" in proc.stderr
