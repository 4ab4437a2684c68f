"""Vertebral level labels and where a registration was computed (schema 3): labels CRUD with
audit, validation, roles; landmark pairs, region and level round trip with a registration; a
schema-2 workspace migrated forward with its data kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdaread.storage import (
    SCHEMA_VERSION,
    VERTEBRAL_LEVELS,
    Actor,
    PermissionDenied,
    RecordNotFound,
    SqliteWorkspace,
    WorkspaceError,
    create_workspace,
    open_workspace,
    vertebral_level,
)
from mdaread.storage.audit import verify_chain
from mdaread.storage.sqlite_db import SqliteDatabase
from test_storage_helpers import add_fake_series

DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")
ADJ = Actor("adam", "adjudicator")
EYE = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


@pytest.fixture
def ws(tmp_path: Path) -> SqliteWorkspace:
    workspace = create_workspace(tmp_path / "W", DM)
    workspace.ensure_subject(DM, "MDA-001")
    add_fake_series(workspace, "MDA-001", "baseline", "1.1")
    add_fake_series(workspace, "MDA-001", "3m", "1.2")
    yield workspace
    workspace.close()


def test_vertebral_level_names() -> None:
    assert VERTEBRAL_LEVELS[0] == "T1" and VERTEBRAL_LEVELS[-1] == "S1"
    assert len(VERTEBRAL_LEVELS) == 12 + 5 + 1
    assert vertebral_level(" l1 ") == "L1"
    for bad in ("L6", "C7", "T13", "S2", "", "L 1"):
        with pytest.raises(ValueError, match="not a vertebral level"):
            vertebral_level(bad)


def test_label_relabel_remove_with_audit(ws: SqliteWorkspace) -> None:
    base, follow = ws.list_series()
    first = ws.set_level_label(READER, base.id, "l1", (1.0, 2.0, 3.0), "first look")
    assert (first.level, first.center, first.labelled_by) == ("L1", [1.0, 2.0, 3.0], "rita")
    assert first.labelled_at.endswith("Z")
    ws.set_level_label(READER, base.id, "T12", (1.0, 2.0, 33.0))
    ws.set_level_label(READER, follow.id, "L1", (5.0, 6.0, 7.0))
    # T12 is listed before L1 (cranial first), labels stay per series
    assert [(r.series_id, r.level) for r in ws.list_level_labels(subject="MDA-001")] == [
        (base.id, "T12"), (base.id, "L1"), (follow.id, "L1")]
    moved = ws.set_level_label(ADJ, base.id, "L1", (1.0, 2.0, -3.0), "was T12/L1 disc")
    assert moved.id == first.id and moved.center == [1.0, 2.0, -3.0]
    assert moved.labelled_by == "adam"
    assert [r.level for r in ws.list_level_labels(base.id)] == ["T12", "L1"]  # replaced
    ws.remove_level_label(READER, base.id, "T12", "wrong vertebra")
    assert [r.level for r in ws.list_level_labels(base.id)] == ["L1"]
    trail = ws.audit_rows("level_label")
    assert [(a.action, a.user, a.reason) for a in trail] == [
        ("create", "rita", "first look"), ("create", "rita", ""), ("create", "rita", ""),
        ("update", "adam", "was T12/L1 disc"), ("delete", "rita", "wrong vertebra")]
    update = trail[3]
    assert json.loads(update.before)["center"] == [1.0, 2.0, 3.0]
    assert json.loads(update.after)["center"] == [1.0, 2.0, -3.0]
    assert trail[4].after is None and json.loads(trail[4].before)["level"] == "T12"
    assert ws.verify_audit().ok


def test_bad_labels_are_refused_and_nothing_is_stored(ws: SqliteWorkspace) -> None:
    base = ws.list_series()[0]
    n_audit = len(ws.audit_rows())
    with pytest.raises(WorkspaceError, match="'L6' is not a vertebral level"):
        ws.set_level_label(READER, base.id, "L6", (0.0, 0.0, 0.0))
    with pytest.raises(WorkspaceError, match="3 finite coordinates"):
        ws.set_level_label(READER, base.id, "L2", (0.0, float("nan"), 0.0))
    with pytest.raises(WorkspaceError, match="3 finite coordinates"):
        ws.set_level_label(READER, base.id, "L2", (0.0, 0.0))
    with pytest.raises(RecordNotFound, match="no series 999"):
        ws.set_level_label(READER, 999, "L2", (0.0, 0.0, 0.0))
    with pytest.raises(PermissionDenied, match="label a vertebral level"):
        ws.set_level_label(DM, base.id, "L2", (0.0, 0.0, 0.0))
    with pytest.raises(RecordNotFound, match="no label L3"):
        ws.remove_level_label(READER, base.id, "L3")
    assert ws.list_level_labels() == []
    assert len(ws.audit_rows()) == n_audit  # each refusal rolled back, audit included


def test_landmark_pairs_region_and_level_round_trip(ws: SqliteWorkspace) -> None:
    base, follow = ws.list_series()
    pairs = [[[0.0, 0.0, 5.0], [8.5, -5.0, 11.0]], [[14.0, 2.0, 0.0], [22.0, -3.0, 6.5]],
             [[0.0, 18.0, -5.0], [8.0, 13.0, 1.0]]]
    created = ws.add_registration(READER, base.id, follow.id, EYE, metric=0.4,
                                  quality="ok", method="landmarks", center=(1.0, 2.0, 3.0),
                                  radius_mm=40, level="l2", landmark_pairs=pairs,
                                  residual_mm=0.4)
    ws.decide_registration(READER, created.id, True)
    (stored,) = ws.list_registrations(base.id, follow.id)
    assert stored.status == "accepted"
    assert stored.landmark_pairs == pairs and stored.residual_mm == pytest.approx(0.4)
    assert (stored.center, stored.radius_mm, stored.level) == ([1.0, 2.0, 3.0], 40.0, "L2")
    assert json.loads(ws.audit_rows("registration")[0].after)["landmark_pairs"] == pairs
    plain = ws.add_registration(READER, base.id, follow.id, EYE, method="intensity")
    assert (plain.center, plain.radius_mm, plain.level, plain.landmark_pairs,
            plain.residual_mm) == (None, None, None, [], None)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landmark_pairs": [[[0, 0, 0]]]}, "needs 2 points"),
    ({"landmark_pairs": [[[0, 0, 0], [0, 0, float("inf")]]]}, "pair 1 follow-up"),
    ({"center": (0, 0)}, "centre"),
    ({"radius_mm": 0.0}, "radius"),
    ({"residual_mm": -1.0}, "residual"),
    ({"level": "L9"}, "'L9' is not a vertebral level"),
])
def test_bad_registration_provenance_is_refused(ws: SqliteWorkspace, kwargs, message) -> None:
    base, follow = ws.list_series()
    with pytest.raises(WorkspaceError, match=message):
        ws.add_registration(READER, base.id, follow.id, EYE, **kwargs)
    assert ws.list_registrations() == []


def test_a_schema_2_workspace_is_migrated_with_its_data(tmp_path: Path) -> None:
    folder = tmp_path / "W"
    folder.mkdir()
    db = SqliteDatabase(folder, create=True)
    db.migrate(target=2)  # a workspace written before level labels
    with db.write() as conn:
        conn.execute("INSERT INTO subjects(trial_id, created_at) VALUES ('MDA-1', 'then')")
        conn.execute("INSERT INTO timepoints(subject, label) VALUES ('MDA-1', 'baseline')")
        for uid in ("1.1", "1.2"):
            conn.execute(
                "INSERT INTO series(subject, timepoint_id, series_uid, key, shape, spacing, "
                "origin, direction, content_hash, n_files, imported_at) VALUES "
                "('MDA-1', 1, ?, ?, '[1,1,1]', '[1,1,1]', '[0,0,0]', '[1,0,0,0,1,0,0,0,1]', "
                "'h', 1, 'then')", (uid, uid))
        conn.execute("INSERT INTO registrations(baseline_series_id, followup_series_id, matrix,"
                     " metric, method, status, created_by, created_at) VALUES "
                     "(1, 2, ?, 0.5, 'intensity', 'accepted', 'old', 'then')",
                     (json.dumps(EYE),))
    db.close()
    with open_workspace(folder) as ws:
        assert ws.schema_version == SCHEMA_VERSION == 4
        (old,) = ws.list_registrations()
        assert (old.method, old.metric, old.status, old.matrix) == ("intensity", 0.5,
                                                                   "accepted", EYE)
        assert (old.center, old.level, old.landmark_pairs, old.residual_mm) == (
            None, None, [], None)
        assert [s.series_uid for s in ws.list_series("MDA-1")] == ["1.1", "1.2"]
        migrate = [r for r in ws.audit_rows() if r.action == "migrate"]
        assert (migrate[-1].user, migrate[-1].before, migrate[-1].after) == (
            "mdaread", '{"schema_version":2}', '{"schema_version":4}')
        # the fixture wrote rows with SQL, without the audit rows mdaread writes:
        # the chain is whole and the replay names what it never saw
        assert verify_chain(ws.audit_rows(), ws.db.highest_audit_id_issued()).ok
        assert "no audit entry (written outside mdaread)" in ws.verify_audit().problem
        label = ws.set_level_label(READER, 1, "L1", (0.0, 0.0, 0.0))  # the new table works
        assert ws.list_level_labels(1) == [label]
    with open_workspace(folder) as ws:  # opening again migrates nothing more
        assert len([r for r in ws.audit_rows() if r.action == "migrate"]) == len(migrate)
