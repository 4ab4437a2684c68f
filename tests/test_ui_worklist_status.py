"""Issue 15 #7: the worklist says "draft" as soon as a draft is stored (saved, or kept when the
guided read moves on), not "not read" until it is read again. The whole window (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdaread.storage import open_workspace
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.workspace_source import WorkspaceSource
from workstation_helpers import (
    RITA,
    SUBJECT,
    click,
    fill_baseline,
    open_case,
    show_window,
    write_trial,
)


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    return write_trial(tmp_path_factory.mktemp("drafts") / "dicom")


@pytest.fixture
def window(qtbot, trial, tmp_path):
    build_demo_workspace(tmp_path / "W", trial)
    with open_workspace(tmp_path / "W") as ws:
        w = show_window(qtbot, WorkspaceSource(ws, RITA))
        yield w
        w.close()


def _status(w, timepoint: str) -> str:
    (entry,) = [e for e in w.worklist.shown if e.subject == SUBJECT and e.timepoint == timepoint]
    return entry.status


def test_a_saved_draft_shows_as_draft_in_the_worklist(qtbot, window) -> None:
    """Issue 15 #7: a draft said "not read" until the worklist was read again."""
    open_case(qtbot, window, SUBJECT, "1m")
    assert _status(window, "baseline") == "not read"
    fill_baseline(qtbot, window)
    click(qtbot, window.guided_read.panel.save_button)
    assert _status(window, "baseline") == "draft"


def test_answers_kept_on_a_case_switch_show_as_draft(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    fill_baseline(qtbot, window)  # not saved: kept as a draft when the panel goes away
    window.guided_read.open(SUBJECT, "3m")
    assert _status(window, "baseline") == "draft"
