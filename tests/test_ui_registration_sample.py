"""End to end on the sample trial (slow): DICOM → workspace → workstation → Register on the
toolbar → Accept → linked navigation lands where truth.json's baseline → follow-up matrix says,
for a CT↔CT and a CT↔MR follow-up. Uses the repository's sample_dicom/ when present, else
writes a 2-subject sample trial."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from mdaread.geometry import rigid
from mdaread.storage import Actor, open_workspace
from mdaread.ui.main_window import MainWindow
from mdaread.ui.registration_toolbar import attach_registration
from mdaread.workflow.demo import build_demo_workspace, has_trial, truth_landmarks
from mdaread.workflow.workspace_source import WorkspaceSource

pytestmark = pytest.mark.slow
REPO_SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, Path, dict]:
    folder = REPO_SAMPLE
    if not has_trial(folder):
        from mdaread.sample.trial import generate_trial

        folder = tmp_path_factory.mktemp("sample") / "trial"
        generate_trial(folder, 2)
    ws = tmp_path_factory.mktemp("ws") / "ws"
    build_demo_workspace(ws, folder)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return folder, ws, {s["subject"]: s for s in truth["subjects"]}


def _case(truth: dict, modality: str) -> tuple[str, str, np.ndarray, np.ndarray]:
    """The first (subject, follow-up) whose follow-up is ``modality``, its true matrix and the
    treated vertebra's centre in baseline LPS mm."""
    for subject, record in truth.items():
        level = record["treated_levels"][0]
        centre = np.asarray(record["vertebral_body_centres_baseline_lps"][level], float)
        for tp in record["timepoints"][1:]:
            if tp["modality"] == modality:
                return subject, tp["label"], np.asarray(tp["baseline_to_timepoint"]), centre
    pytest.skip(f"no {modality} follow-up in the sample trial")


@pytest.mark.parametrize(("modality", "limit_mm"), [("CT", 1.0), ("MR", 2.0)])
def test_register_accept_and_link_on_the_sample(sample, qtbot, modality, limit_mm) -> None:
    folder, ws_path, truth = sample
    subject, label, matrix, centre = _case(truth, modality)
    with open_workspace(ws_path) as ws:
        source = WorkspaceSource(ws, Actor("rita", "reader"),
                                 extra_landmarks=truth_landmarks(folder))
        window = MainWindow(source)
        controller = attach_registration(window)
        qtbot.addWidget(window)
        window.resize(1600, 1000)
        window.show()
        try:
            window.open_case(subject, label)
            qtbot.waitUntil(lambda: not window.is_loading, timeout=60_000)
            assert window.session.sides["followup"].volume.modality == modality
            assert np.linalg.norm(controller.session.center - centre) < 1e-6  # treated level
            qtbot.mouseClick(controller.register_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not controller.busy, timeout=120_000)
            proposal = controller.session.proposal
            assert proposal is not None, window.last_error
            assert rigid.tre_box(proposal.matrix, matrix, centre) <= limit_mm
            assert all(o.shown is not None for o in controller.overlays.values())
            qtbot.mouseClick(controller.accept_button, Qt.MouseButton.LeftButton)
            assert ws.list_registrations()[-1].status == "accepted"
            for offset in ((0.0, 0.0, 0.0), (15.0, -10.0, 12.0)):
                window.session.set_cursor("baseline", centre + offset)
                base = window.session.sides["baseline"].cursor
                follow = window.session.sides["followup"].cursor
                assert np.linalg.norm(follow - rigid.apply(matrix, base)) <= limit_mm
        finally:
            window.close()
