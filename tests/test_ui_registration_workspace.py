"""The workstation on a real workspace: accept a refined registration through the toolbar,
open the case again in a new window, and navigation links through the stored matrix."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

from mdaread.geometry import rigid
from mdaread.storage import Actor, open_workspace
from mdaread.ui.main_window import MainWindow
from mdaread.ui.registration_toolbar import attach_registration
from mdaread.workflow.workspace_source import WorkspaceSource
from test_regsession_session import TRUTH
from test_regsession_workspace import READER, SUBJECT, workspace  # noqa: F401 (fixture)


def test_the_workstation_accepts_and_reopens_linked(workspace, qtbot) -> None:  # noqa: F811
    with open_workspace(workspace) as ws:
        window = MainWindow(WorkspaceSource(ws, Actor("ulla", "reader")))
        controller = attach_registration(window)
        qtbot.addWidget(window)
        try:
            window.open_case(SUBJECT, "3m")
            qtbot.waitUntil(lambda: not window.is_loading, timeout=30_000)
            controller.session.nudge(translation_mm=(0.0, 0.0, 1.0))
            qtbot.mouseClick(controller.refine_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not controller.busy, timeout=60_000)
            proposal = controller.session.proposal
            assert proposal is not None and proposal.method.endswith("+refine")
            qtbot.mouseClick(controller.accept_button, Qt.MouseButton.LeftButton)
            assert ws.list_registrations()[-1].accepted_by == "ulla"
        finally:
            window.close()
        again = MainWindow(WorkspaceSource(ws, READER))
        qtbot.addWidget(again)
        try:
            again.open_case(SUBJECT, "3m")
            qtbot.waitUntil(lambda: not again.is_loading, timeout=30_000)
            np.testing.assert_allclose(again.session.registration, proposal.matrix)
            assert "accepted" in again.registration_status.text()
            again.session.set_cursor("baseline", (4.0, -6.0, 10.0))
            expected = rigid.apply(TRUTH, again.session.sides["baseline"].cursor)
            assert np.linalg.norm(again.session.sides["followup"].cursor - expected) <= 1.5
        finally:
            again.close()
