"""Bad input around the workspace folder itself: odd folder names, long paths, files where a
folder is expected. Each gives one `mdaread: error:` line naming the path, exit 2, no traceback,
and never a database written somewhere else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdaread.cli import main


@pytest.fixture(autouse=True)
def _data_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDAREAD_USER", "dana")
    monkeypatch.setenv("MDAREAD_ROLE", "data_manager")


def _one_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mdaread: error: ")
    assert "unexpected" not in err and "Traceback" not in err
    for name in names:
        assert name in err, err
    return err


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
    _one_error(capsys, "not valid UTF-8")
    assert not folder.exists()


def test_init_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert main(["workspace", "init", str(tmp_path / "notes.txt" / "ws")]) == 2
    _one_error(capsys, "notes.txt/ws", "Not a directory")


@pytest.mark.parametrize("command", [["workspace", "init"], ["workspace", "status"],
                                     ["audit", "verify"], ["reads", "list"]])
def test_path_too_long(tmp_path: Path, command: list[str],
                       capsys: pytest.CaptureFixture[str]) -> None:
    long = str(tmp_path / ("a" * 300))
    assert main([*command, long]) == 2
    _one_error(capsys, "File name too long")
