"""The audit trail: append-only (triggers), hash-chained, verified, exported."""

from __future__ import annotations

import csv
import itertools
import sqlite3
from pathlib import Path

import pytest

from mdaread.cli import main
from mdaread.storage import Actor, NewMeasurement, SqliteWorkspace, create_workspace
from mdaread.storage.audit import GENESIS_HASH, expected_hash

DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")


@pytest.fixture
def ws(tmp_path: Path) -> SqliteWorkspace:
    workspace = create_workspace(tmp_path / "W", DM)
    workspace.set_randomisation(DM, "MDA-001", arm="A", centre="C1", treatment_date="2025-01-10")
    tp = workspace.ensure_timepoint(DM, "MDA-001", "1m", scan_date="2025-02-10")
    workspace.add_lesion(READER, "MDA-001", "L1", level="L1")
    read = workspace.create_read(READER, "MDA-001", tp.id)
    workspace.sign_read(READER, read.id, category="SD",
                        measurements=[NewMeasurement("L1", 12.0, 11.0)])
    yield workspace
    workspace.close()


def _raw(ws: SqliteWorkspace) -> sqlite3.Connection:
    return sqlite3.connect(ws.path / "workspace.sqlite", isolation_level=None)


def test_chain_links_every_row(ws: SqliteWorkspace) -> None:
    rows = ws.audit_rows()
    assert len(rows) >= 8
    assert rows[0].prev_hash == GENESIS_HASH
    for before, row in itertools.pairwise(rows):
        assert row.prev_hash == before.hash
        assert expected_hash(row, before.hash) == row.hash
    check = ws.verify_audit()
    assert check.ok and check.n_rows == len(rows) and check.head == rows[-1].hash


def test_sign_off_is_recorded_with_before_and_after(ws: SqliteWorkspace) -> None:
    sign = next(r for r in ws.audit_rows("read") if r.action == "sign")
    assert (sign.user, sign.role) == ("rita", "reader")
    assert '"status":"draft"' in (sign.before or "")
    assert '"status":"signed"' in (sign.after or "") and '"long_mm":12.0' in (sign.after or "")


@pytest.mark.parametrize("sql", ["UPDATE audit SET reason = 'x'", "DELETE FROM audit"])
def test_audit_refuses_update_and_delete(ws: SqliteWorkspace, sql: str) -> None:
    raw = _raw(ws)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute(sql)
    raw.close()
    assert ws.verify_audit().ok


def _tamper(ws: SqliteWorkspace, sql: str, params: tuple[object, ...] = ()) -> None:
    """What a determined editor would do: drop the trigger, change the row, restore it."""
    raw = _raw(ws)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute(sql, params)
    raw.close()


def test_a_changed_row_is_named(ws: SqliteWorkspace) -> None:
    _tamper(ws, "UPDATE audit SET after = replace(after, '\"arm\":\"A\"', '\"arm\":\"B\"') "
                "WHERE id = 4")
    check = ws.verify_audit()
    assert not check.ok and check.first_broken == 4 and "changed" in check.problem


def test_a_row_rehashed_after_change_breaks_the_next_link(ws: SqliteWorkspace) -> None:
    row = ws.audit_rows()[3]
    forged = type(row)(**{**row.__dict__, "reason": "forged"})
    _tamper(ws, "UPDATE audit SET reason = 'forged', hash = ? WHERE id = ?",
            (expected_hash(forged, row.prev_hash), row.id))
    check = ws.verify_audit()
    assert check.first_broken == row.id + 1 and "link" in check.problem


def test_deleted_rows_are_detected_in_the_middle_and_at_the_end(ws: SqliteWorkspace) -> None:
    n = len(ws.audit_rows())
    _tamper(ws, "DELETE FROM audit WHERE id = ?", (n,))
    check = ws.verify_audit()
    assert check.first_broken == n and "missing" in check.problem
    _tamper_again = _raw(ws)
    _tamper_again.execute("DELETE FROM audit WHERE id = 3")
    _tamper_again.close()
    assert ws.verify_audit().first_broken == 4


def test_cli_verify_and_export(ws: SqliteWorkspace, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(ws.path)]) == 0
    assert "intact" in capsys.readouterr().out
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", str(ws.path), str(out), "--user", "dana"]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(ws.audit_rows())
    assert rows[-1]["hash"] == ws.audit_rows()[-1].hash
    assert main(["audit", "export", str(ws.path), str(out), "--role", "reader"]) == 2
    assert "data manager" in capsys.readouterr().err
    _tamper(ws, "UPDATE audit SET user = 'mallory' WHERE id = 2")
    assert main(["audit", "verify", str(ws.path), "--json"]) == 1
    assert '"first_broken": 2' in capsys.readouterr().out


def test_cli_verify_with_an_anchor(ws: SqliteWorkspace,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    head = ws.verify_audit().head
    ws.ensure_subject(DM, "MDA-002")  # the chain grows: the old head stays in it
    assert main(["audit", "verify", str(ws.path), "--anchor", head]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", str(ws.path), "--anchor", "f" * 64, "--json"]) == 1
    assert "not in the chain" in capsys.readouterr().out


def test_cli_verify_on_a_folder_that_is_not_a_workspace(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and "not an mdaread workspace" in err
