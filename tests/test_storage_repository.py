"""The workspace repository: entities, roles, arm blinding, signed-read immutability."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mdaread.storage import (
    Actor,
    ImmutableRecord,
    NewMeasurement,
    PermissionDenied,
    RecordNotFound,
    SqliteWorkspace,
    WorkspaceError,
    WorkspaceRepository,
    create_workspace,
    open_workspace,
)

DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")
ADJ = Actor("adam", "adjudicator")
OBS = {"label": "3m", "days": 91, "modality": "CT",
       "lesions": [{"id": "L1", "evaluable": True, "long_mm": 20, "perp_mm": 14}]}


@pytest.fixture
def ws(tmp_path: Path) -> SqliteWorkspace:
    workspace = create_workspace(tmp_path / "W", DM, protocol={"measurable_min_mm": 10})
    workspace.set_randomisation(DM, "MDA-001", arm="RFA+VP+SBRT", centre="A",
                                treatment_date="2025-01-10")
    workspace.ensure_timepoint(DM, "MDA-001", "baseline", nominal_day=0, scan_date="2025-01-05")
    workspace.ensure_timepoint(DM, "MDA-001", "3m", nominal_day=91, scan_date="2025-04-11")
    workspace.add_lesion(READER, "MDA-001", "L1", level="L2", phenotype="lytic",
                         treated_index=True)
    yield workspace
    workspace.close()


def _tp(ws: SqliteWorkspace, label: str) -> int:
    found = ws.find_timepoint("MDA-001", label)
    assert found is not None
    return found.id


def test_sqlite_workspace_satisfies_the_protocol(ws: SqliteWorkspace) -> None:
    assert isinstance(ws, WorkspaceRepository)


def test_arm_is_visible_to_the_data_manager_only(ws: SqliteWorkspace) -> None:
    assert ws.get_subject(DM, "MDA-001").arm == "RFA+VP+SBRT"
    assert ws.get_subject(READER, "MDA-001").arm is None
    assert ws.get_subject(ADJ, "MDA-001").arm is None
    assert [s.arm for s in ws.list_subjects(READER)] == [None]
    assert ws.get_subject(READER, "MDA-001").treatment_date == "2025-01-10"


def test_only_the_data_manager_sets_randomisation_and_protocol(ws: SqliteWorkspace) -> None:
    with pytest.raises(PermissionDenied):
        ws.set_randomisation(READER, "MDA-002", arm="x", centre="A", treatment_date="2025-01-01")
    with pytest.raises(PermissionDenied):
        ws.set_protocol(READER, {})
    assert ws.get_protocol() == {"measurable_min_mm": 10}


def test_bad_dates_and_unknown_records_are_refused(ws: SqliteWorkspace) -> None:
    with pytest.raises(WorkspaceError, match="YYYY-MM-DD"):
        ws.set_randomisation(DM, "MDA-002", arm="x", centre="A", treatment_date="10/01/2025")
    with pytest.raises(RecordNotFound):
        ws.get_subject(DM, "MDA-999")
    with pytest.raises(RecordNotFound):
        ws.ensure_timepoint(DM, "MDA-999", "1m")
    with pytest.raises(RecordNotFound):
        ws.get_read(12345)


def test_ensure_timepoint_is_idempotent(ws: SqliteWorkspace) -> None:
    first = ws.ensure_timepoint(DM, "MDA-001", "3m")
    again = ws.ensure_timepoint(DM, "MDA-001", "3m", scan_date="2025-04-11")
    assert first == again
    assert [t.label for t in ws.list_timepoints("MDA-001")] == ["baseline", "3m"]


def test_draft_save_sign_and_read_back(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"), criteria_version="mda-1")
    assert read.status == "draft" and read.reader == "rita"
    assert read.protocol == {"measurable_min_mm": 10}  # the workspace's settings by default
    point = [[10.5, -20.25, 300.0], [30.5, -20.25, 300.0]]
    ws.save_draft(READER, read.id, observations=OBS,
                  measurements=[NewMeasurement("L1", 20.0, 14.0, point, "1.2.3", "semi-auto")])
    signed = ws.sign_read(READER, read.id, category="PR", final_category="PR", rule="spd")
    assert signed.status == "signed" and signed.signed_at and signed.signed_at.endswith("Z")
    again = ws.get_read(read.id)
    assert again.observations == OBS and again.category == "PR"
    [m] = ws.list_measurements(read.id)
    assert (m.lesion_id, m.long_mm, m.perp_mm, m.endpoints, m.method) == (
        "L1", 20.0, 14.0, point, "semi-auto")


def test_signed_read_is_immutable_through_the_api(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    ws.sign_read(READER, read.id, category="SD", observations=OBS,
                 measurements=[NewMeasurement("L1", 20.0, 14.0)])
    with pytest.raises(ImmutableRecord):
        ws.save_draft(READER, read.id, observations={})
    with pytest.raises(ImmutableRecord):
        ws.sign_read(READER, read.id, category="PD")
    with pytest.raises(ImmutableRecord):
        ws.discard_draft(READER, read.id)
    assert ws.get_read(read.id).category == "SD"


@pytest.mark.parametrize("sql", [
    "UPDATE reads SET category = 'PD'",
    "UPDATE reads SET status = 'draft', signed_at = NULL",
    "DELETE FROM reads",
    "UPDATE measurements SET long_mm = 99",
    "DELETE FROM measurements",
])
def test_signed_read_is_immutable_even_to_raw_sql(ws: SqliteWorkspace, sql: str) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    ws.sign_read(READER, read.id, category="SD", measurements=[NewMeasurement("L1", 20, 14)])
    raw = sqlite3.connect(ws.path / "workspace.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute(sql)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("INSERT INTO measurements(read_id, lesion_id, timepoint_id) VALUES (?, 1, ?)",
                    (read.id, read.timepoint_id))
    raw.close()
    assert ws.get_read(read.id).category == "SD"
    assert len(ws.list_measurements(read.id)) == 1


def test_correction_is_a_new_read_referencing_the_old(ws: SqliteWorkspace) -> None:
    old = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    ws.sign_read(READER, old.id, category="SD", observations=OBS,
                 measurements=[NewMeasurement("L1", 20.0, 14.0)])
    with pytest.raises(WorkspaceError, match="reason"):
        ws.correct_read(READER, old.id, "  ")
    new = ws.correct_read(READER, old.id, "measured the wrong lesion")
    assert (new.supersedes, new.correction_reason, new.status) == (
        old.id, "measured the wrong lesion", "draft")
    assert new.observations == OBS
    assert [m.long_mm for m in ws.list_measurements(new.id)] == [20.0]
    ws.sign_read(READER, new.id, category="PR", measurements=[NewMeasurement("L1", 9.0, 8.0)])
    assert ws.get_read(old.id).category == "SD"  # the old one is untouched
    assert [r.id for r in ws.list_reads(current_only=True)] == [new.id]
    assert [r.id for r in ws.list_reads()] == [old.id, new.id]
    with pytest.raises(WorkspaceError, match="superseded"):
        ws.correct_read(READER, old.id, "again")


def test_only_the_owner_edits_and_roles_limit_purposes(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    with pytest.raises(PermissionDenied):
        ws.save_draft(Actor("other", "reader"), read.id, observations={})
    with pytest.raises(PermissionDenied):
        ws.create_read(READER, "MDA-001", _tp(ws, "3m"), purpose="adjudication")
    with pytest.raises(PermissionDenied):
        ws.create_read(DM, "MDA-001", _tp(ws, "3m"))
    adj = ws.create_read(ADJ, "MDA-001", _tp(ws, "3m"), purpose="adjudication", blinded=True)
    assert adj.blinded and adj.purpose == "adjudication"
    with pytest.raises(WorkspaceError, match="purpose"):
        ws.create_read(READER, "MDA-001", _tp(ws, "3m"), purpose="second")


def test_save_is_atomic_when_a_measurement_is_bad(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    ws.save_draft(READER, read.id, observations=OBS, measurements=[NewMeasurement("L1", 20, 14)])
    with pytest.raises(WorkspaceError, match="no lesion 'L9'"):
        ws.save_draft(READER, read.id, observations={"label": "changed"},
                      measurements=[NewMeasurement("L1", 1, 1), NewMeasurement("L9", 5, 5)])
    assert ws.get_read(read.id).observations == OBS
    assert [m.long_mm for m in ws.list_measurements(read.id)] == [20]


def test_override_needs_a_reason_and_categories_are_checked(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    with pytest.raises(WorkspaceError, match="reason"):
        ws.sign_read(READER, read.id, category="SD", override_category="PR")
    with pytest.raises(WorkspaceError, match="not one of"):
        ws.sign_read(READER, read.id, category="XX")
    signed = ws.sign_read(READER, read.id, category="SD", override_category="PR",
                          override_reason="sclerotic rim seen on the MR")
    assert signed.effective_category == "PR"


def test_discard_draft_removes_it_with_an_audit_row(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    ws.save_draft(READER, read.id, measurements=[NewMeasurement("L1", 20, 14)])
    ws.discard_draft(READER, read.id, "opened by mistake")
    assert ws.list_reads() == []
    rows = ws.audit_rows("read", str(read.id))
    assert [r.action for r in rows] == ["create", "save", "discard"]
    assert rows[-1].reason == "opened by mistake" and rows[-1].after is None


def test_registrations_lesions_assessments(ws: SqliteWorkspace) -> None:
    from test_storage_helpers import add_fake_series

    base = add_fake_series(ws, "MDA-001", "baseline", "1.1")
    follow = add_fake_series(ws, "MDA-001", "3m", "1.2")
    matrix = [[1, 0, 0, 2.5], [0, 1, 0, -1], [0, 0, 1, 0.5], [0, 0, 0, 1]]
    reg = ws.add_registration(READER, base.id, follow.id, matrix, metric=-0.8, method="rigid")
    assert reg.status == "proposed" and reg.matrix[0][3] == 2.5
    with pytest.raises(PermissionDenied):
        ws.decide_registration(DM, reg.id, True)
    done = ws.decide_registration(READER, reg.id, True, "checked the pedicles")
    assert (done.status, done.accepted_by) == ("accepted", "rita")
    assert ws.list_registrations(followup_series_id=follow.id) == [done]
    with pytest.raises(WorkspaceError, match="4x4"):
        ws.add_registration(READER, base.id, follow.id, [[1, 0], [0, 1]])
    lesion = ws.update_lesion(READER, "MDA-001", "L1", "re-labelled", level="L3")
    assert lesion.level == "L3" and lesion.treated_index
    with pytest.raises(WorkspaceError, match="already has"):
        ws.add_lesion(READER, "MDA-001", "L1")
    a = ws.add_assessment(READER, "MDA-001", _tp(ws, "3m"), read_id=None, category="PDu",
                          final_category="PD", rule="pd_confirmed", details={"spd": 1.5})
    assert ws.list_assessments("MDA-001") == [a] and a.details == {"spd": 1.5}


def test_every_change_is_audited_with_who_and_before_after(ws: SqliteWorkspace) -> None:
    ws.set_randomisation(DM, "MDA-001", arm="RFA+VP", centre="B", treatment_date="2025-01-10",
                         reason="data entry error")
    [_create, update] = ws.audit_rows("subject", "MDA-001")
    assert (update.user, update.role, update.action, update.reason) == (
        "dana", "data_manager", "update", "data entry error")
    assert '"arm":"RFA+VP+SBRT"' in (update.before or "")
    assert '"centre":"B"' in (update.after or "")
    assert update.at.endswith("Z")
    assert ("rita", "reader") in ws.list_users()


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "W", DM) as ws:
        ws.ensure_subject(DM, "MDA-003")
    with open_workspace(tmp_path / "W") as ws:
        assert [s.trial_id for s in ws.list_subjects(DM)] == ["MDA-003"]
        assert ws.verify_audit().ok


@pytest.mark.parametrize(("measurement", "message"), [
    (NewMeasurement("L1", float("nan"), 3.0), "long_mm must be a finite length"),
    (NewMeasurement("L1", 5.0, -1.0), "perp_mm must be a finite length"),
    (NewMeasurement("L1", 5.0, 3.0, method="guess"), "method 'guess' is not one of"),
    (NewMeasurement("L1", 5.0, 3.0, endpoints=[[1.0, 2.0]]), "endpoints must be"),
])
def test_bad_measurements_are_refused(ws: SqliteWorkspace, measurement: NewMeasurement,
                                      message: str) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    with pytest.raises(WorkspaceError, match=message):
        ws.save_draft(READER, read.id, measurements=[measurement])
    assert ws.list_measurements(read.id) == []


def test_observations_must_be_strict_json(ws: SqliteWorkspace) -> None:
    read = ws.create_read(READER, "MDA-001", _tp(ws, "3m"))
    with pytest.raises(WorkspaceError, match="observations: not storable as JSON"):
        ws.save_draft(READER, read.id, observations={"spd": float("inf")})
    with pytest.raises(WorkspaceError, match="not storable as JSON"):
        ws.save_draft(READER, read.id, observations={"when": object()})
    assert ws.get_read(read.id).observations == {}


def test_protocol_and_sqlite_implementation_list_the_same_api() -> None:
    """The Protocol is the contract a PostgreSQL backend would implement: keep them in step."""
    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    declared = public(WorkspaceRepository)
    assert public(SqliteWorkspace) - {"db"} == declared
