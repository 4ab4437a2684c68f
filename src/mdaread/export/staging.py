"""Write an export into a staging folder beside DIR, then put it in place with one rename.

A failure or a cancel removes the staging folder: DIR keeps what it held before (or does not
exist), never a half-written file. An existing DIR is replaced only when it is empty or an earlier
mdaread export (it holds ``MANIFEST_NAME``); anything else is refused, so no user file is lost.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mdaread.errors import InputError

MANIFEST_NAME = "manifest.json"


def check_target(out: Path) -> None:
    """InputError when ``out`` cannot receive an export (a file, or a folder of other files)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise InputError(f"{out}: folder is not empty and holds no mdaread export "
                         f"({MANIFEST_NAME}); choose an empty or new folder")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder")


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A fresh folder inside ``out``'s parent to write into; moved to ``out`` on success."""
    check_target(out)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise InputError(f"{out.parent}: cannot write here ({exc.strerror})") from None
    try:
        yield stage
        os.chmod(stage, 0o755)  # mkdtemp makes it private
        _swap(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap(stage: Path, out: Path) -> None:
    """Put ``stage`` at ``out``; an earlier export there is moved aside first, then removed."""
    if not out.exists():
        stage.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        stage.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
