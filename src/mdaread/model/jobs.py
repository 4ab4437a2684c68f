"""Callables that long jobs take, so a worker thread can report progress and be cancelled."""

from __future__ import annotations

from collections.abc import Callable

from mdaread.errors import Cancelled

Progress = Callable[[float, str], None]
"""Called with a fraction done in [0, 1] and a short message."""

Cancel = Callable[[], bool]
"""Returns True when the job should stop (it then raises Cancelled)."""


def no_progress(fraction: float, message: str) -> None:
    """The default Progress: report nothing."""


def never_cancel() -> bool:
    """The default Cancel: never stop."""
    return False


def check_cancel(cancel: Cancel) -> None:
    """Raise Cancelled when ``cancel()`` says so; call between units of work."""
    if cancel():
        raise Cancelled("cancelled by the user")
