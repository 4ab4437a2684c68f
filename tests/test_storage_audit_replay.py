"""`audit verify` looks at the data, not only at the chain (issue 10 item 2).

Each attack is one the probe made with the sqlite3 shell: drop a trigger and change a signed
read, cut the tail of the trail and lower the AUTOINCREMENT counter, append a forged row whose
hash is computed correctly. Before the replay, verify said "intact" to each.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, NewMeasurement, create_workspace, open_workspace
from mdaread.storage.audit import canonical_json, row_hash
from mdaread.storage.audit_replay import CONTENT_HASH_KEY, read_content, read_content_hash
from mdaread.storage.sqlite_db import DB_NAME

DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")


def _signed_workspace(folder: Path) -> tuple[int, str]:
    """A workspace with one signed SD read holding one measurement; (read id, head hash)."""
    with create_workspace(folder, DM, protocol={"measurable_min_mm": 10}) as ws:
        ws.ensure_subject(DM, "MDA-001")
        tp = ws.ensure_timepoint(DM, "MDA-001", "1m").id
        ws.add_lesion(RITA, "MDA-001", "A", level="L2")
        read = ws.create_read(RITA, "MDA-001", tp)
        ws.sign_read(RITA, read.id, category="SD", rule="R3",
                     measurements=[NewMeasurement("A", 21.0, 14.0, [[0, 0, 0], [21, 0, 0]])])
        check = ws.verify_audit()
        assert check.ok, check.problem
        return read.id, check.head


def _sql(folder: Path, *statements: str) -> None:
    conn = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def _verify(folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", str(folder), *extra])
    return code, capsys.readouterr().out


def test_an_honest_workspace_verifies_and_prints_its_head(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    _, head = _signed_workspace(tmp_path / "W")
    code, out = _verify(tmp_path / "W", capsys, "--anchor", head)
    assert code == 0 and "data matches the audit trail" in out and f"head {head}" in out


def test_signed_category_changed_behind_a_dropped_trigger(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    read_id, head = _signed_workspace(tmp_path / "W")
    _sql(tmp_path / "W", "DROP TRIGGER reads_signed_no_update",
         f"UPDATE reads SET category = 'PD' WHERE id = {read_id}")
    code, out = _verify(tmp_path / "W", capsys, "--anchor", head)
    assert code == 1
    assert f"signed read {read_id} no longer matches its signature" in out
    assert "first difference: category" in out


def test_signed_measurement_changed_behind_a_dropped_trigger(tmp_path: Path) -> None:
    read_id, _ = _signed_workspace(tmp_path / "W")
    _sql(tmp_path / "W", "DROP TRIGGER measurements_signed_no_update",
         "UPDATE measurements SET long_mm = 12.0")
    with open_workspace(tmp_path / "W") as ws:
        check = ws.verify_audit()
    assert not check.ok and f"signed read {read_id}" in check.problem
    assert "first difference: measurements" in check.problem


def test_a_lesion_changed_or_a_read_deleted_outside_mdaread(tmp_path: Path) -> None:
    read_id, _ = _signed_workspace(tmp_path / "W")
    _sql(tmp_path / "W", "UPDATE lesions SET level = 'L3'")
    with open_workspace(tmp_path / "W") as ws:
        assert "lesion 1: level differs from its last audit row" in ws.verify_audit().problem
    _sql(tmp_path / "W", "UPDATE lesions SET level = 'L2'",
         "DROP TRIGGER measurements_signed_no_delete", "DROP TRIGGER reads_signed_no_delete",
         "DELETE FROM assessments", "DELETE FROM measurements", "DELETE FROM reads")
    with open_workspace(tmp_path / "W") as ws:
        problem = ws.verify_audit().problem
    assert f"read {read_id} is in the audit trail" in problem and "not in the workspace" in problem


def test_a_read_inserted_with_sql_has_no_audit_entry(tmp_path: Path) -> None:
    _signed_workspace(tmp_path / "W")
    _sql(tmp_path / "W", "INSERT INTO reads(subject, timepoint_id, reader, purpose, created_at, "
                         "updated_at) VALUES ('MDA-001', 1, 'mallory', 'reread', 'x', 'x')")
    with open_workspace(tmp_path / "W") as ws:
        check = ws.verify_audit()
    assert check.first_broken == 0
    assert "read 2 is in the workspace but has no audit entry" in check.problem


def test_a_cut_tail_with_a_lowered_counter_is_caught(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Cut the sign-off and everything after it: the chain that is left is whole and the
    counter agrees, but the read is signed in the data and a draft in the trail."""
    read_id, _ = _signed_workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        sign_row = next(r.id for r in ws.audit_rows("read", str(read_id)) if r.action == "sign")
    _sql(tmp_path / "W", "DROP TRIGGER audit_no_delete",
         f"DELETE FROM audit WHERE id >= {sign_row}",
         f"UPDATE sqlite_sequence SET seq = {sign_row - 1} WHERE name = 'audit'")
    code, out = _verify(tmp_path / "W", capsys)
    assert code == 1 and f"read {read_id}: category differs from its last audit row" in out


def _append_forged(folder: Path, action: str, entity: str, entity_id: str,
                   after: dict[str, object]) -> int:
    """Append a row with a correctly computed hash, as someone who read audit.py would."""
    conn = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    last_id, prev = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    row_id, at, after_text = last_id + 1, "2099-01-01T00:00:00.000000Z", canonical_json(after)
    digest = row_hash(prev, row_id, at, "mallory", "reader", action, entity, entity_id, None,
                      after_text, "")
    conn.execute("INSERT INTO audit(id, at, user, role, action, entity, entity_id, before, after,"
                 " reason, prev_hash, hash) VALUES (?, ?, 'mallory', 'reader', ?, ?, ?, NULL, ?,"
                 " '', ?, ?)", (row_id, at, action, entity, entity_id, after_text, prev, digest))
    conn.close()
    return int(row_id)


def test_a_forged_row_with_a_correct_hash_is_caught(tmp_path: Path) -> None:
    read_id, _ = _signed_workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        state = json.loads(ws.audit_rows("read", str(read_id))[-1].after or "{}")
    forged = _append_forged(tmp_path / "W", "save", "read", str(read_id),
                            {**state, "category": "PD"})
    with open_workspace(tmp_path / "W") as ws:
        check = ws.verify_audit()
    assert check.first_broken == forged
    assert f"audit row {forged} (save) changes read {read_id} after it was signed" in check.problem


def test_a_forged_lesion_row_disagrees_with_the_data(tmp_path: Path) -> None:
    _signed_workspace(tmp_path / "W")
    forged = _append_forged(tmp_path / "W", "update", "lesion", "1", {"level": "T9"})
    with open_workspace(tmp_path / "W") as ws:
        check = ws.verify_audit()
    assert check.first_broken == forged and "lesion 1: level differs" in check.problem


def test_the_sign_row_carries_the_content_hash(tmp_path: Path) -> None:
    read_id, _ = _signed_workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        sign = next(r for r in ws.audit_rows("read", str(read_id)) if r.action == "sign")
        after = json.loads(sign.after or "{}")
        assert after[CONTENT_HASH_KEY] == read_content_hash(ws._state(ws.get_read(read_id)))
        assert read_content(after)["category"] == "SD"


def test_content_hash_covers_decisions_not_row_ids() -> None:
    measurement = {"id": 7, "read_id": 3, "lesion_id": "A", "long_mm": 21.0, "perp_mm": 14.0,
                   "endpoints": [[0, 0, 0], [21, 0, 0]], "series_uid": "1.2", "method": "manual"}
    state = {"subject": "S", "category": "SD", "protocol": {"m": 10}, "id": 3,
             "measurements": [measurement]}
    renumbered = {**state, "id": 9, "measurements": [{**measurement, "id": 70, "read_id": 9}]}
    assert read_content_hash(state) == read_content_hash(renumbered)
    for change in ({"category": "PD"}, {"protocol": {"m": 15}},
                   {"measurements": [{**measurement, "perp_mm": 14.5}]}):
        assert read_content_hash({**state, **change}) != read_content_hash(state)
