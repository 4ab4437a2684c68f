"""Bad input around the workspace folder itself: odd folder names, long paths, files where a
folder is expected. Each gives one `mdaread: error:` line naming the path, exit 2, no traceback,
and never a database written somewhere else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bad_input_helpers import as_data_manager, one_error  # noqa: F401 (autouse fixture)
from mdaread.cli import main


@pytest.mark.parametrize("name", ["trial #3", "50%41b", "q?mode=ro", "a b"])
def test_uri_characters_in_the_folder_name_stay_in_that_folder(
        tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / name
    assert main(["workspace", "init", str(folder)]) == 0
    # the database is inside the folder, and nothing else was created beside it
    assert (folder / "workspace.sqlite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert main(["workspace", "status", str(folder), "--json"]) == 0
    assert '"subjects": []' in capsys.readouterr().out


def test_two_workspaces_whose_names_differ_after_a_hash_are_separate(tmp_path: Path) -> None:
    a, b = tmp_path / "trial #3", tmp_path / "trial #4"
    assert main(["workspace", "init", str(a)]) == 0
    assert main(["workspace", "init", str(b)]) == 0  # once refused: "already a workspace"
    assert (a / "workspace.sqlite").is_file() and (b / "workspace.sqlite").is_file()


def test_non_utf8_parent_folder_works(tmp_path: Path) -> None:
    parent = Path(os.fsdecode(bytes(tmp_path) + b"/lat\xe9in"))
    assert main(["workspace", "init", str(parent / "ws")]) == 0
    assert main(["workspace", "status", str(parent / "ws")]) == 0


def test_non_utf8_workspace_name_is_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/lat\xe9in"))
    assert main(["workspace", "init", str(folder)]) == 2
    one_error(capsys, "not valid UTF-8")
    assert not folder.exists()


def test_init_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert main(["workspace", "init", str(tmp_path / "notes.txt" / "ws")]) == 2
    one_error(capsys, "notes.txt/ws", "Not a directory")


@pytest.mark.parametrize("command", [["workspace", "init"], ["workspace", "status"],
                                     ["audit", "verify"], ["reads", "list"]])
def test_path_too_long(tmp_path: Path, command: list[str],
                       capsys: pytest.CaptureFixture[str]) -> None:
    long = str(tmp_path / ("a" * 300))
    assert main([*command, long]) == 2
    one_error(capsys, "File name too long")


# --- a damaged or wrong workspace.sqlite ---------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"


def _workspace_with_data(folder: Path) -> None:
    assert main(["workspace", "init", str(folder)]) == 0
    assert main(["workspace", "randomisation", str(folder),
                 str(SAMPLE / "randomisation.csv")]) == 0


def _overwrite_page(db: Path, table: str) -> None:
    """Scribble over the first page of ``table`` (the way a bad disk block would)."""
    import sqlite3

    conn = sqlite3.connect(db)
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xff" * size)


@pytest.mark.parametrize("argv", [["workspace", "import", "{ws}",
                                   str(SAMPLE / "MDA-001" / "1m_CT")],
                                  ["workspace", "randomisation", "{ws}",
                                   str(SAMPLE / "randomisation.csv")],
                                  ["workspace", "status", "{ws}"], ["reads", "list", "{ws}"]])
def test_a_damaged_page_no_query_touches_is_refused_before_writing(
        tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ws"
    _workspace_with_data(folder)
    db = folder / "workspace.sqlite"
    _overwrite_page(db, "settings")  # status/import never read the settings table
    before = db.read_bytes()
    capsys.readouterr()
    assert main([a.format(ws=folder) for a in argv]) == 2
    one_error(capsys, "workspace.sqlite", "damaged", "backup")
    assert db.read_bytes() == before  # nothing written into a damaged file


def test_audit_verify_of_a_damaged_workspace(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ws"
    _workspace_with_data(folder)
    _overwrite_page(folder / "workspace.sqlite", "settings")
    capsys.readouterr()
    assert main(["audit", "verify", str(folder)]) in (1, 2)  # 1: read and reported, 2: unreadable
    out = capsys.readouterr()
    assert "unexpected" not in out.err
    assert "damaged" in out.err or "integrity_check" in out.out


@pytest.mark.parametrize("content", [b"", b"this is not a database\n", "truncated"])
def test_zero_text_or_truncated_workspace_file(tmp_path: Path, content: bytes | str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ws"
    _workspace_with_data(folder)
    db = folder / "workspace.sqlite"
    db.write_bytes(db.read_bytes()[:6000] if content == "truncated" else content)
    capsys.readouterr()
    for argv in (["workspace", "status"], ["reads", "list"], ["audit", "verify"]):
        assert main([*argv, str(folder)]) == 2
        one_error(capsys, str(folder))


def test_a_workspace_that_cannot_be_written(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Root ignores permissions, so the write is blocked by a directory where SQLite needs its
    write-ahead log; reading still works and nothing is lost."""
    folder = tmp_path / "ws"
    _workspace_with_data(folder)
    (folder / "workspace.sqlite-wal").mkdir()
    other = tmp_path / "list.csv"
    other.write_text("subject,arm,centre,treatment_date\nMDA-009,RFA+VP,C1,2024-01-08\n")
    capsys.readouterr()
    assert main(["workspace", "randomisation", str(folder), str(other)]) == 2
    one_error(capsys, "cannot write the workspace", "writable")
    (folder / "workspace.sqlite-wal").rmdir()
    assert main(["workspace", "status", str(folder), "--json"]) == 0
    out = capsys.readouterr().out
    assert "MDA-001" in out and "MDA-009" not in out


def test_an_immutable_workspace_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    folder = tmp_path / "ws"
    _workspace_with_data(folder)
    db = folder / "workspace.sqlite"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root and a supporting file system)")
    try:
        capsys.readouterr()
        assert main(["workspace", "randomisation", str(folder),
                     str(SAMPLE / "randomisation.csv")]) == 2
        one_error(capsys, "cannot write the workspace")
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


@pytest.mark.parametrize("target", ["ws/workspace.sqlite", "ws/workspace.sqlite-wal",
                                    "other/workspace.sqlite"])
def test_audit_export_never_overwrites_a_workspace(tmp_path: Path, target: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`audit export W W/workspace.sqlite` once replaced the trial database with a CSV."""
    _workspace_with_data(tmp_path / "ws")
    _workspace_with_data(tmp_path / "other")
    before = {p: p.read_bytes() for p in tmp_path.glob("*/workspace.sqlite")}
    capsys.readouterr()
    assert main(["audit", "export", str(tmp_path / "ws"), str(tmp_path / target)]) == 2
    one_error(capsys, target, "refusing to overwrite a database file")
    assert {p: p.read_bytes() for p in before} == before
    assert main(["audit", "verify", str(tmp_path / "ws")]) == 0
    assert main(["audit", "export", str(tmp_path / "ws"), str(tmp_path / "audit.csv")]) == 0


def test_audit_export_to_a_fifo_and_through_a_link(tmp_path: Path) -> None:
    """The database guard must not read a FIFO (it blocked for ever), and an export through a
    symlink or onto a pipe writes there directly."""
    import threading

    _workspace_with_data(tmp_path / "ws")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["audit", "export", str(tmp_path / "ws"), str(fifo)]) == 0
    reader.join(timeout=30)
    assert received and received[0].startswith(b"id,at,user")
    (tmp_path / "real.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    assert main(["audit", "export", str(tmp_path / "ws"), str(tmp_path / "link.csv")]) == 0
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "real.csv").read_text().startswith("id,at,user")
    assert not list(tmp_path.glob(".*partial*"))


def test_audit_export_interrupted_leaves_the_old_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from mdaread.storage import audit

    _workspace_with_data(tmp_path / "ws")
    out = tmp_path / "audit.csv"
    out.write_text("an earlier export")

    def interrupted(rows: object, path: Path) -> int:
        path.write_text("id,at")
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "_write_rows", interrupted)
    assert main(["audit", "export", str(tmp_path / "ws"), str(out)]) == 130
    assert out.read_text() == "an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.csv", "ws"]
