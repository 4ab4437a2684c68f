"""Registration decisions in a real trial workspace: the synthetic spine written as DICOM,
imported through the demo use case, registered, accepted/rejected (who, when, audit), and the
accepted matrix used when the case is opened again — without a window and through one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from mdaread.errors import WorkspaceError
from mdaread.geometry import rigid
from mdaread.storage import Actor, open_workspace
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.reading import ReadingSession
from mdaread.workflow.registration_session import (
    RegistrationSession,
    WorkspaceRegistrationStore,
    store_for,
)
from mdaread.workflow.workspace_source import WorkspaceSource
from test_regsession_session import CENTRE, TRUTH, make_pair

TREATED = dt.date(2026, 2, 2)
READER = Actor("rita", "reader")
SUBJECT = "MDA-201"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    root = tmp_path_factory.mktemp("regtrial")
    for (label, days), volume in zip((("baseline", -3), ("3m", 90)), make_pair(), strict=True):
        info = SeriesInfo(
            patient_id=SUBJECT, study_uid=derived_uid(SUBJECT, label, "study"),
            series_uid=derived_uid(SUBJECT, label, "ct"),
            frame_of_reference_uid=derived_uid(SUBJECT, label, "for"),
            study_date=(TREATED + dt.timedelta(days=days)).strftime("%Y%m%d"),
            study_time="090000", series_number=3, series_description=f"CT spine {label}")
        write_ct_series(volume, root / "dicom" / SUBJECT / f"{label}_CT", info)
    (root / "dicom" / "randomisation.csv").write_text(
        f"subject,arm,centre,treatment_date\n{SUBJECT},RFA+VP,C1,{TREATED.isoformat()}\n",
        encoding="utf-8")
    build_demo_workspace(root / "ws", root / "dicom")
    return root / "ws"


def _open(reading: ReadingSession) -> None:
    reading.open(SUBJECT, "3m")
    for side in ("baseline", "followup"):
        choice = reading.preferred_series(side)
        assert choice is not None
        reading.show(side, choice, reading.load_volume(choice))


def test_accept_and_reject_are_stored_with_who_and_when(workspace: Path) -> None:
    with open_workspace(workspace) as ws:
        source = WorkspaceSource(ws, READER)
        reading = ReadingSession(source)
        session = RegistrationSession(reading, store_for(source))
        assert isinstance(session.store, WorkspaceRegistrationStore)
        _open(reading)
        assert reading.registration is None
        session.nudge(translation_mm=(5.0, 0.0, 0.0))
        rejected = session.reject("off by a vertebra")
        proposal = session.register()
        assert proposal is not None, session.last_error
        accepted = session.accept()
        records = ws.list_registrations()
        assert [r.status for r in records] == ["rejected", "accepted"]
        assert [r.id for r in records] == [rejected.record_id, accepted.record_id]
        assert all(r.accepted_by == "rita" and r.accepted_at for r in records)
        assert records[0].method == "manual" and records[1].method == "intensity"
        np.testing.assert_allclose(records[1].matrix, proposal.matrix)
        assert records[1].quality == proposal.quality and records[1].metric is not None
        trail = [(a.action, a.user, a.reason) for a in ws.audit_rows("registration")]
        assert trail == [("create", "rita", ""), ("reject", "rita", "off by a vertebra"),
                         ("create", "rita", ""), ("accept", "rita", "")]

    # a new session on the workspace links through the accepted matrix
    with open_workspace(workspace) as ws:
        reading = ReadingSession(WorkspaceSource(ws, READER))
        _open(reading)
        np.testing.assert_allclose(reading.registration, proposal.matrix)
        reading.set_cursor("baseline", CENTRE)
        assert np.linalg.norm(reading.sides["followup"].cursor - rigid.apply(TRUTH, CENTRE)) < 1.0


def test_a_data_manager_cannot_decide_and_nothing_changes(workspace: Path) -> None:
    manager = Actor("dora", "data_manager")
    with open_workspace(workspace) as ws:
        source = WorkspaceSource(ws, manager)
        reading = ReadingSession(source)
        session = RegistrationSession(reading, store_for(source))
        _open(reading)
        before = len(ws.list_registrations())
        accepted_before = reading.registration
        session.nudge(rotation_deg=(0.0, 0.0, 2.0))
        with pytest.raises(WorkspaceError):
            session.accept()
        assert len(ws.list_registrations()) == before  # one transaction: no orphan proposal
        assert session.proposal is not None  # still there to be decided by a reader
        if accepted_before is None:
            assert reading.registration is None
        else:
            np.testing.assert_allclose(reading.registration, accepted_before)
