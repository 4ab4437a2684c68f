"""Level labels and landmark registrations in a real trial workspace (the synthetic spine
written as DICOM and imported): labels stored per series with who/when and audit, served by
WorkspaceSource.landmarks(); an accepted landmark fit keeps its pairs, level and region, and a
new session on the workspace shows the pairs again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mdaread.errors import WorkspaceError
from mdaread.geometry import rigid
from mdaread.storage import Actor, open_workspace
from mdaread.workflow.reading import ReadingSession
from mdaread.workflow.registration_session import RegistrationSession, store_for
from mdaread.workflow.workspace_source import WorkspaceSource
from test_regsession_session import TRUTH
from test_regsession_workspace import READER, SUBJECT, _open, workspace  # noqa: F401

L1_CENTRE = np.array([0.0, 0.0, 32.0])


def _session(ws) -> tuple[WorkspaceSource, RegistrationSession]:
    source = WorkspaceSource(ws, READER)
    session = RegistrationSession(ReadingSession(source), store_for(source))
    assert session.labels is source  # labels go to the workspace
    _open(session.reading)
    return source, session


def test_labels_are_stored_per_series_with_audit(workspace: Path) -> None:  # noqa: F811
    with open_workspace(workspace) as ws:
        source, session = _session(ws)
        reading = session.reading
        reading.set_cursor("baseline", L1_CENTRE + 5.0)
        session.label_level("baseline", "L1")
        session.label_level("baseline", "L1", L1_CENTRE, reason="centred on the body")
        base_id = int(reading.sides["baseline"].series.ref.split()[-1])
        (label,) = ws.list_level_labels(base_id)
        assert (label.level, label.labelled_by) == ("L1", "rita")
        np.testing.assert_allclose(label.center, L1_CENTRE)
        trail = [(a.action, a.reason) for a in ws.audit_rows("level_label")]
        assert trail[-2:] == [("create", ""), ("update", "centred on the body")]
        listed = [lm for lm in source.landmarks(SUBJECT, "baseline") if lm.kind == "label"]
        assert [(lm.level, lm.series_uid) for lm in listed] == [
            ("L1", reading.sides["baseline"].series.series_uid)]
        assert all(lm.kind != "label" for lm in source.landmarks(SUBJECT, "3m"))
        session.set_level("L1")
        np.testing.assert_allclose(session.center, L1_CENTRE)
        manager = WorkspaceSource(ws, Actor("dora", "data_manager"))
        (choice,) = manager.series(SUBJECT, "baseline")
        with pytest.raises(WorkspaceError, match="may not label a vertebral level"):
            manager.label_level(SUBJECT, "baseline", choice, "L3", L1_CENTRE)
        session.remove_label("baseline", "L1")
        assert ws.list_level_labels(base_id) == []
        assert ws.audit_rows("level_label")[-1].action == "delete"
        assert ws.verify_audit().ok


def test_a_landmark_fit_keeps_its_pairs_and_shows_them_on_reopening(
        workspace: Path) -> None:  # noqa: F811
    base = np.array([[0.0, 0.0, 5.0], [14.0, 2.0, 0.0], [0.0, 18.0, -5.0]])
    with open_workspace(workspace) as ws:
        _, session = _session(ws)
        session.reading.set_cursor("baseline", L1_CENTRE)
        session.label_level("baseline", "L1")
        session.set_level("L1")
        for point in base:
            session.add_landmark("baseline", point)
            session.add_landmark("followup", rigid.apply(TRUTH, point))
        proposal = session.fit_landmarks()
        assert proposal is not None
        decision = session.accept()
        record = ws.list_registrations()[-1]
        assert record.id == decision.record_id and record.method == "landmarks"
        np.testing.assert_allclose([b for b, _ in record.landmark_pairs], base)
        np.testing.assert_allclose([f for _, f in record.landmark_pairs],
                                   rigid.apply(TRUTH, base))
        assert record.residual_mm == pytest.approx(0.0, abs=1e-6)
        assert (record.level, record.radius_mm) == ("L1", session.radius_mm)
        np.testing.assert_allclose(record.center, L1_CENTRE)
        created = json.loads(ws.audit_rows("registration")[-2].after)
        assert created["landmark_pairs"] == record.landmark_pairs

    with open_workspace(workspace) as ws:
        _, again = _session(ws)
        assert again.stored is not None and again.stored.record_id == record.id
        assert again.stored.provenance.residual_mm == pytest.approx(0.0, abs=1e-6)
        shown_base, shown_follow = again.complete_pairs()
        np.testing.assert_allclose(shown_base, base)
        np.testing.assert_allclose(shown_follow, rigid.apply(TRUTH, base))
        assert again.level == "L1"
        np.testing.assert_allclose(again.center, L1_CENTRE)
        np.testing.assert_allclose(again.reading.registration, proposal.matrix)
