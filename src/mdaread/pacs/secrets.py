"""Credentials for a PACS, from the environment only: never stored, never audited.

``MDAREAD_PACS_TOKEN`` (bearer) or ``MDAREAD_PACS_USER`` + ``MDAREAD_PACS_PASSWORD`` (basic).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

TOKEN_ENV = "MDAREAD_PACS_TOKEN"
USER_ENV = "MDAREAD_PACS_USER"
PASSWORD_ENV = "MDAREAD_PACS_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)


def credentials_from_env(user: str | None = None) -> Credentials:
    """``user`` (or $MDAREAD_PACS_USER) with $MDAREAD_PACS_PASSWORD, or $MDAREAD_PACS_TOKEN."""
    return Credentials(user or os.environ.get(USER_ENV, ""),
                       os.environ.get(PASSWORD_ENV, ""), os.environ.get(TOKEN_ENV, ""))
