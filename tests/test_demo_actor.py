"""The demo signs as the reader who set MDAREAD_USER or --user, not as "demo reader"."""

from __future__ import annotations

import pytest

from mdaread.commands.gui import demo_actor
from mdaread.errors import InputError


def test_demo_signs_as_mdaread_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDAREAD_USER", "dr jones")
    actor = demo_actor(None)
    assert (actor.user, actor.role) == ("dr jones", "reader")


def test_demo_user_option_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDAREAD_USER", "dr jones")
    assert demo_actor("dr smith").user == "dr smith"


def test_demo_without_a_user_signs_as_demo_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDAREAD_USER", raising=False)
    assert demo_actor(None).user == "demo reader"


def test_demo_blank_user_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDAREAD_USER", raising=False)
    with pytest.raises(InputError):
        demo_actor("   ")
