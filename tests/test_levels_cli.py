"""`mdaread levels W [--subject ID] [--json]` through mdaread.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, create_workspace
from test_storage_helpers import add_fake_series

READER = Actor("rita", "reader")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    with create_workspace(tmp_path / "W", Actor("dana", "data_manager")) as ws:
        for subject in ("MDA-001", "MDA-002"):
            ws.ensure_subject(Actor("dana", "data_manager"), subject)
        base = add_fake_series(ws, "MDA-001", "baseline", "1.1")
        follow = add_fake_series(ws, "MDA-001", "3m", "1.2")
        add_fake_series(ws, "MDA-002", "baseline", "2.1")
        ws.set_level_label(READER, follow.id, "L2", (1.0, 2.0, 3.5))
        ws.set_level_label(READER, base.id, "T12", (0.0, 0.0, 40.0))
    return tmp_path / "W"


def test_json_lists_every_label(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["levels", str(workspace), "--json"]) == 0
    labels = json.loads(capsys.readouterr().out)["labels"]
    assert [(r["subject"], r["timepoint"], r["series_uid"], r["level"], r["center"])
            for r in labels] == [("MDA-001", "baseline", "1.1", "T12", [0.0, 0.0, 40.0]),
                                 ("MDA-001", "3m", "1.2", "L2", [1.0, 2.0, 3.5])]
    assert {r["labelled_by"] for r in labels} == {"rita"}
    assert all(r["labelled_at"].endswith("Z") for r in labels)


def test_text_and_subject_filter(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["levels", str(workspace), "--subject", "MDA-001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "T12" in lines[0] and "LPS (1.0, 2.0, 3.5) mm" in lines[1]
    assert main(["levels", str(workspace), "--subject", "MDA-002"]) == 0
    assert capsys.readouterr().out.strip() == "no level labels"


def test_bad_input_is_one_line_and_exit_2(workspace: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["levels", str(workspace), "--subject", "MDA-404"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and "no subject 'MDA-404'" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["levels", str(tmp_path / "nowhere")]) == 2
    assert "not an mdaread workspace" in capsys.readouterr().err
