"""Reading a JSON file that a user hands to mdaread (observations, protocol settings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mdaread.errors import InputError


def read_json_file(path: str | Path) -> Any:
    """The parsed JSON of ``path``. Anything unreadable — a missing file, bad UTF-8, invalid JSON,
    NaN/Infinity (not JSON), nesting thousands deep — is an InputError naming the file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read ({exc})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting thousands deep
        raise InputError(f"{source}: not valid JSON ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
