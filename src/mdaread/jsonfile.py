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
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting thousands deep
        raise InputError(f"{source}: not valid JSON ({exc})") from None
    bad = _lone_surrogate(data, "")
    if bad is not None:
        raise InputError(f"{source}: key {bad or '(top level)'}: a \\u escape that is half a "
                         "UTF-16 pair (a lone surrogate) is not text and cannot be stored")
    return data


def _lone_surrogate(value: Any, where: str) -> str | None:
    """The key path of the first string (or object key) holding a lone surrogate, else None."""
    if isinstance(value, str):
        return where if any("\ud800" <= ch <= "\udfff" for ch in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            found = _lone_surrogate(key, path) if isinstance(key, str) else None
            found = found if found is not None else _lone_surrogate(item, path)
            if found is not None:
                return found.encode("ascii", "backslashreplace").decode()
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
