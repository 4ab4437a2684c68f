"""`mdaread workspace init|import|status|randomisation` through mdaread.cli.main."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, open_workspace
from test_workspace_ingest import write_series

DM = Actor("dana", "data_manager")
SRC = Path(__file__).resolve().parents[1] / "src"


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def trial(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace with two randomised subjects, and a folder of four series."""
    w = tmp_path / "W"
    protocol = tmp_path / "protocol.json"
    protocol.write_text('{"measurable_min_mm": 15, "pd_carry_forward": false}')
    assert main(["workspace", "init", str(w), "--protocol", str(protocol), "--user", "dana"]) == 0
    rand = tmp_path / "rand.csv"
    rand.write_text("subject,arm,centre,treatment_date\n"
                    "MDA-001,RFA+VP,A,2025-01-10\nMDA-002,RFA+VP+SBRT,B,2025-02-01\n")
    assert main(["workspace", "randomisation", str(w), str(rand), "--user", "dana"]) == 0
    scans = tmp_path / "scans"
    write_series(scans / "1", "MDA-001", "20250105", "a")
    write_series(scans / "2", "MDA-001", "20250211", "b")
    write_series(scans / "3", "MDA-002", "20250201", "c")
    write_series(scans / "4", "MDA-002", "20250215", "d")  # day 14 → 1m
    return w, scans


def test_init_stores_protocol_and_user(trial: tuple[Path, Path]) -> None:
    with open_workspace(trial[0]) as ws:
        assert ws.get_protocol() == {"measurable_min_mm": 15, "pd_carry_forward": False}
        assert ("dana", "data_manager") in ws.list_users()
        assert ws.get_subject(DM, "MDA-002").arm == "RFA+VP+SBRT"


def test_import_then_status(trial: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    w, scans = trial
    capsys.readouterr()
    assert main(["workspace", "import", str(w), str(scans), "--json", "--user", "dana"]) == 0
    report = _json(capsys)
    assert len(report["added"]) == 4 and report["ambiguous"] == [] and report["skipped"] == []
    assert set(report["added"][0]) == {"series_uid", "key", "modality", "n_files", "subject",
                                       "timepoint", "series_id", "reason", "first_file"}
    assert main(["workspace", "import", str(w), str(scans), "--user", "dana"]) == 0
    assert "added 0, unchanged 4" in capsys.readouterr().out

    assert main(["workspace", "status", str(w), "--json", "--role", "reader"]) == 0
    status = _json(capsys)["subjects"]
    assert [s["subject"] for s in status] == ["MDA-001", "MDA-002"]
    assert [s["arm"] for s in status] == [None, None]  # a reader never sees the arm
    cells = {t["label"]: t for t in status[1]["timepoints"]}
    assert list(cells) == ["baseline", "1m", "3m", "6m", "12m"]
    assert (cells["1m"]["n_series"], cells["1m"]["days"], cells["1m"]["read_status"]) == (
        1, 14, "not read")
    assert cells["3m"]["n_series"] == 0 and cells["3m"]["scan_date"] is None

    assert main(["workspace", "status", str(w), "--user", "dana"]) == 0
    table = capsys.readouterr().out
    assert "RFA+VP+SBRT" in table and "MDA-002" in table
    assert main(["workspace", "status", str(w), "--role", "reader"]) == 0
    assert "RFA+VP" not in capsys.readouterr().out


def test_status_shows_read_progress(trial: tuple[Path, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    w, scans = trial
    main(["workspace", "import", str(w), str(scans)])
    reader = Actor("rita", "reader")
    with open_workspace(w) as ws:
        tps = {t.label: t.id for t in ws.list_timepoints("MDA-001")}
        ws.sign_read(reader, ws.create_read(reader, "MDA-001", tps["baseline"]).id,
                     category=None)
        ws.create_read(reader, "MDA-001", tps["1m"])
    capsys.readouterr()
    main(["workspace", "status", str(w), "--json"])
    cells = {t["label"]: t for t in _json(capsys)["subjects"][0]["timepoints"]}
    assert cells["baseline"]["read_status"] == "signed"
    assert cells["1m"]["read_status"] == "draft"
    assert cells["1m"]["reads"][0]["reader"] == "rita"
    main(["workspace", "status", str(w)])
    assert "signed   draft" in capsys.readouterr().out


def test_import_lists_ambiguous_and_exits_1(trial: tuple[Path, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    w, scans = trial
    write_series(scans / "5", "MDA-002", "20250205", "e")  # day 4: no window
    assert main(["workspace", "import", str(w), str(scans)]) == 1
    out = capsys.readouterr().out
    assert "ambiguous 1" in out and "day 4 since treatment is outside every timepoint window" in out


def test_randomisation_needs_the_data_manager_and_a_valid_file(
        trial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w, _ = trial
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,arm,centre,treatment_date\nMDA-003,A,C,2025-02-01\n"
                   "MDA-004,A,C,01/02/2025\n")
    capsys.readouterr()
    assert main(["workspace", "randomisation", str(w), str(bad)]) == 2
    assert f"{bad}: line 3: treatment_date '01/02/2025' is not YYYY-MM-DD" in \
        capsys.readouterr().err
    with open_workspace(w) as ws:  # all or nothing: MDA-003 was not stored either
        assert [s.trial_id for s in ws.list_subjects(DM)] == ["MDA-001", "MDA-002"]
    good = tmp_path / "good.csv"
    good.write_text("subject,arm,centre,treatment_date\nMDA-003,A,C,2025-02-01\n")
    assert main(["workspace", "randomisation", str(w), str(good), "--role", "reader"]) == 2
    assert "may not set the randomisation" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["workspace", "status", "{tmp}/none"],
    ["workspace", "import", "{tmp}/none", "{tmp}"],
    ["workspace", "init", "{tmp}/W2", "--protocol", "{tmp}/absent.json"],
    ["workspace", "init", "{tmp}/W3", "--role", "reader", "--protocol", "{tmp}/p.json"],
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, argv: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.json").write_text("[1, 2]")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and err.count("\n") == 1


def test_env_user_is_recorded_in_the_audit(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(SRC), "MDAREAD_USER": "env-user", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "mdaread", "workspace", "init",
                             str(tmp_path / "W")], env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    with open_workspace(tmp_path / "W") as ws:
        assert {r.user for r in ws.audit_rows() if r.action != "migrate"} == {"env-user"}
