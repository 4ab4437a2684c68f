"""The workspace is readable by its owner only: it holds subject IDs, dates and reads."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mdaread.storage import Actor, create_workspace, open_workspace

DM = Actor("dana", "data_manager")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The usual desktop umask (022), under which SQLite alone creates files 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_workspace_database_wal_and_shm_are_owner_only(tmp_path: Path, open_umask) -> None:
    folder = tmp_path / "trial" / "W"
    with create_workspace(folder, DM) as ws:
        ws.ensure_subject(DM, "MDA-001")
        names = sorted(p.name for p in folder.iterdir())
        assert names == ["workspace.sqlite", "workspace.sqlite-shm", "workspace.sqlite-wal"]
        for name in names:
            assert _mode(folder / name) == 0o600, name
    assert _mode(folder) == 0o700
    with open_workspace(folder) as ws:  # reopened: SQLite recreates -wal/-shm like the database
        ws.ensure_subject(DM, "MDA-002")
        assert {_mode(p) for p in folder.iterdir()} == {0o600}


def test_a_folder_made_beforehand_keeps_its_mode_the_files_do_not(tmp_path: Path,
                                                                  open_umask) -> None:
    folder = tmp_path / "W"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)  # a data manager sharing the folder with a group on purpose
    create_workspace(folder, DM).close()
    assert _mode(folder) == 0o750
    assert _mode(folder / "workspace.sqlite") == 0o600


def test_status_warns_about_a_workspace_others_can_read(tmp_path: Path, open_umask,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from mdaread.cli import main

    folder = tmp_path / "W"
    create_workspace(folder, DM).close()
    assert main(["workspace", "status", str(folder), "--user", "dana"]) == 0
    assert "warning" not in capsys.readouterr().err
    (folder / "workspace.sqlite").chmod(0o644)  # as an earlier mdaread created it
    assert main(["workspace", "status", str(folder), "--user", "dana"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {folder / 'workspace.sqlite'} is readable by other local users " \
           "(mode 0644)" in err and "chmod 600" in err
