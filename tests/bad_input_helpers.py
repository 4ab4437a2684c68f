"""Shared checks of the bad-input tests: one clean error line, acting as the data manager."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def as_data_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run as the data manager (who may create and import)."""
    monkeypatch.setenv("MDAREAD_USER", "dana")
    monkeypatch.setenv("MDAREAD_ROLE", "data_manager")


def one_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    """The single `mdaread: error:` line on stderr, which must name each of ``names`` and show
    no leaked exception (cli's catch-all says 'unexpected'; a traceback is never bad input's)."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mdaread: error: ")
    assert "unexpected" not in err and "Traceback" not in err
    for name in names:
        assert name in err, err
    return err
