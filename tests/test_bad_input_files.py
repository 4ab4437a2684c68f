"""Bad input files a tired data manager hands to the workspace commands: protocol settings,
randomisation CSVs, reader names, file names that are not UTF-8. One `mdaread: error:` line
naming the file and the problem (exit 2) or a listed conflict (exit 1); nothing saved is lost."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bad_input_helpers import as_data_manager, one_error  # noqa: F401 (autouse fixture)
from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
RANDOMISATION = "subject,arm,centre,treatment_date\nMDA-001,RFA+VP,C1,2024-01-08\n"



@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    assert main(["workspace", "init", str(folder)]) == 0
    return folder


@pytest.mark.parametrize("settings, problem", [
    ({"pd_treshold_pct": 30}, "pd_treshold_pct: unknown protocol setting"),  # a typo
    ({"pd_threshold_pct": "30"}, "pd_threshold_pct: wrong type"),
    ({"pd_carry_forward": 1}, "pd_carry_forward: wrong type"),
    ({"pd_threshold_pct": -30}, "pd_threshold_pct must be > 0"),
])
def test_protocol_settings_are_checked_at_init(tmp_path: Path, settings: dict[str, object],
                                               problem: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings))
    assert main(["workspace", "init", str(tmp_path / "ws"), "--protocol",
                 str(settings_file)]) == 2
    one_error(capsys, "settings.json", problem)
    assert not (tmp_path / "ws" / "workspace.sqlite").exists()


def test_valid_protocol_settings_are_accepted(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps({"pd_threshold_pct": 30, "measurable_min_mm": 10}))
    assert main(["workspace", "init", str(tmp_path / "ws"), "--protocol",
                 str(settings_file)]) == 0


@pytest.mark.parametrize("text, problem", [
    (RANDOMISATION.replace("2024-01-08", "2024-01-08,extra"), "line 2: more fields"),
    (RANDOMISATION.replace(",", ";"), "separated by ';'"),
])
def test_randomisation_csv_shape_problems(ws: Path, tmp_path: Path, text: str, problem: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text(RANDOMISATION)
    assert main(["workspace", "randomisation", str(ws), str(good)]) == 0
    bad = tmp_path / "list.csv"
    bad.write_text(text)
    capsys.readouterr()
    assert main(["workspace", "randomisation", str(ws), str(bad)]) == 2
    one_error(capsys, "list.csv", problem)
    assert main(["workspace", "status", str(ws), "--json"]) == 0  # what was saved stays
    subjects = json.loads(capsys.readouterr().out)["subjects"]
    assert [(s["subject"], s["arm"]) for s in subjects] == [("MDA-001", "RFA+VP")]


@pytest.mark.parametrize("reader", ["", "   "])
def test_blank_reader_name(ws: Path, reader: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reads", "import", str(ws), str(SAMPLE / "observations.json"),
                 "--reader", reader]) == 2
    one_error(capsys, "--reader", "needs a user name")


def test_blank_user_name(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "status", str(ws), "--user", "   "]) == 2
    one_error(capsys, "needs a user name")


def test_non_utf8_file_name_is_a_listed_conflict_and_the_rest_imports(
        ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good"
    shutil.copytree(SAMPLE / "MDA-001" / "1m_CT", good / "1m_CT")
    latin = Path(os.fsdecode(bytes(good) + b"/lat\xe9in"))
    shutil.copytree(SAMPLE / "MDA-001" / "baseline_CT", latin)
    (tmp_path / "list.csv").write_text(RANDOMISATION)
    assert main(["workspace", "randomisation", str(ws), str(tmp_path / "list.csv")]) == 0
    capsys.readouterr()
    assert main(["workspace", "import", str(ws), str(good), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(o["timepoint"]) for o in report["added"]] == ["1m"]
    assert len(report["conflicts"]) == 1
    assert "not valid UTF-8" in report["conflicts"][0]["reason"]
    assert main(["audit", "verify", str(ws)]) == 0


def test_mapping_rows_that_match_nothing_are_reported(ws: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("timepoint,series_uid,subject\n1m,1.2.3.typo,MDA-999\n")
    (tmp_path / "list.csv").write_text(RANDOMISATION)
    assert main(["workspace", "randomisation", str(ws), str(tmp_path / "list.csv")]) == 0
    capsys.readouterr()
    args = ["workspace", "import", str(ws), str(SAMPLE / "MDA-001" / "1m_CT"),
            "--mapping", str(mapping)]
    assert main([*args, "--json"]) == 0  # the series itself is placed by its date
    report = json.loads(capsys.readouterr().out)
    assert [o["timepoint"] for o in report["added"]] == ["1m"]
    assert report["unmatched_mapping"] == [{"timepoint": "1m", "series_uid": "1.2.3.typo",
                                            "study_uid": "", "subject": "MDA-999"}]
    assert main(args) == 0
    assert "mapping rows matching no scanned series: 1" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["assess", "{f}"],
                                  ["reads", "import", "{ws}", "{f}", "--reader", "rita"],
                                  ["workspace", "init", "{tmp}/new", "--protocol", "{f}"]])
def test_json_nested_too_deep(ws: Path, tmp_path: Path, argv: list[str],
                              capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    capsys.readouterr()
    assert main([a.format(f=deep, ws=ws, tmp=tmp_path) for a in argv]) == 2
    one_error(capsys, "deep.json", "not valid JSON")


@pytest.mark.parametrize("truth", ["[]", '{"subjects": [{"timepoints": 5}]}',
                                   '{"subjects": [{"subject": "S", "timepoints": [{}]}]}'])
def test_demo_truth_file_of_the_wrong_shape(tmp_path: Path, truth: str) -> None:
    from mdaread.errors import InputError
    from mdaread.workflow.demo import truth_landmarks

    (tmp_path / "truth.json").write_text(truth)
    with pytest.raises(InputError, match=r"truth\.json: not a sample trial truth file"):
        truth_landmarks(tmp_path)


def test_reads_import_of_an_unknown_subject_names_the_file(
        ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((SAMPLE / "observations.json").read_text())
    data["subjects"] = data["subjects"][:1]
    data["subjects"][0]["subject"] = "MDA-999"
    obs = tmp_path / "obs.json"
    obs.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["reads", "import", str(ws), str(obs), "--reader", "rita"]) == 2
    one_error(capsys, f"{obs}: subject MDA-999 is not in the workspace")


@pytest.mark.parametrize("label, ok", [("Baseline", False), ("1M", False), ("1 m", False),
                                       ("12mo", False), ("1m", True), ("unscheduled", True)])
def test_mapping_label_near_misses(ws: Path, tmp_path: Path, label: str, ok: bool,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"timepoint,series_uid\n{label},1.2.3\n")
    code = main(["workspace", "import", str(ws), str(tmp_path), "--mapping", str(mapping)])
    if ok:
        assert code == 0
    else:
        assert code == 2
        one_error(capsys, "map.csv: line 2", f"timepoint {label!r} — did you mean")
