"""How every command talks to the terminal: ``--json`` payloads on stdout, errors on stderr.

Lives beside the commands (not in ``cli.py``) so that a command never imports the entry point that
imports it.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(payload: Any) -> None:
    """Write a --json payload to stdout (stable key order as built, UTF-8, no NaN)."""
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def error(message: str) -> None:
    """One line on stderr, the way every command reports bad input."""
    # a file name that is not UTF-8 arrives as lone surrogates: show them, never crash on them
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stderr.write(f"mdaread: error: {message}\n")
