"""How every command talks to the terminal: ``--json`` payloads on stdout, errors on stderr.

Lives beside the commands (not in ``cli.py``) so that a command never imports the entry point that
imports it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Characters that would let a file name, ID or header value written into a message rewrite the
# terminal or the line: C0 controls (newline and tab too: a message is one line), DEL, C1
# controls, line/paragraph separators and the bidirectional marks, embeddings, overrides and
# isolates (U+202E shows "gpj.exe" as "exe.jpg").
_UNSAFE = {
    *range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
    *range(0x202A, 0x202F), *range(0x2066, 0x206A),
}
_ESCAPES = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _UNSAFE}


def printable(text: str) -> str:
    """``text`` safe to print on one terminal line: every unsafe character above written as its
    escape (``\\x1b``, ``\\u202e``), lone surrogates (file names that are not UTF-8) as
    ``\\udcff``; everything else, non-ASCII letters included, unchanged."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.translate(_ESCAPES)


def print_json(payload: Any) -> None:
    """Write a --json payload to stdout (stable key order as built, UTF-8, no NaN)."""
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def error(message: str) -> None:
    """One line on stderr, the way every command reports bad input (see :func:`printable`)."""
    sys.stderr.write(f"mdaread: error: {printable(message)}\n")


def warning(message: str) -> None:
    """One warning line on stderr (escaped like :func:`error`)."""
    sys.stderr.write(f"mdaread: warning: {printable(message)}\n")
