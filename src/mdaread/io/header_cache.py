"""A per-series header cache: the frames a scan read from a series' files, saved under a key
that names the files' content, so that loading them again needs no header parse.

Parsing 600 CT headers with pydicom takes ~0.6 s — most of opening a stored series whose
geometry was already worked out at import. The caller chooses the key: the workspace uses the
series' combined SHA-256 of its files (see mdaread.storage.files) and only asks after the files
were checked against it, so a cached entry always describes the same bytes; paths are stored as
indices into the series' file list, so moved (relinked) files keep their entry. A missing,
damaged or foreign entry is simply not used: :func:`load` returns None and the caller reads the
headers (and saves them). The load also checks the rebuilt geometry against what the caller
expects (mdaread.io.load).

Entries are JSON files in ``$MDAREAD_HEADER_CACHE``, else ``$XDG_CACHE_HOME/mdaread/headers``
(``~/.cache/mdaread/headers``); ``MDAREAD_HEADER_CACHE=off`` turns the cache off. No patient
data is stored beyond what the headers' geometry and series keys hold (modality, description,
UIDs, patient ID and study date, as in the scan).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mdaread.io.headers import FrameInfo

VERSION = 1
_TUPLES = ("position", "orientation", "pixel_spacing")


def cache_dir() -> Path | None:
    """Where entries live; None when the cache is turned off."""
    chosen = os.environ.get("MDAREAD_HEADER_CACHE", "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mdaread" / "headers"


def header_key(content_hash: str, series_key: str) -> str:
    """The cache key of one stored volume: its files' combined hash and its candidate key (a
    set of files can hold several volumes, e.g. two echoes)."""
    return f"{content_hash} {series_key}"


def _entry(key: str) -> Path | None:
    folder = cache_dir()
    if folder is None or not key:
        return None
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.json"


def save(key: str, files: Sequence[str | Path], frames: Sequence[FrameInfo]) -> None:
    """Store ``frames`` (each in one of ``files``) under ``key``. Never raises: a cache that
    cannot be written only costs the next load its header parse."""
    entry = _entry(key)
    if entry is None or not frames:
        return
    index = {str(Path(f)): n for n, f in enumerate(files)}
    try:
        rows = [_row(frame, index[str(frame.path)]) for frame in frames]
    except KeyError:  # a frame outside the given files: nothing sensible to store
        return
    text = json.dumps({"version": VERSION, "key": key, "n_files": len(files), "frames": rows},
                      separators=(",", ":"))
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, entry)  # atomic: a reader sees the old entry or the new one
    except OSError:
        return


def load(key: str, files: Sequence[str | Path]) -> list[FrameInfo] | None:
    """The frames saved under ``key``, bound to ``files`` (the series' current paths, in the
    order they were saved); None when there is no usable entry."""
    entry = _entry(key)
    if entry is None:
        return None
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if (data.get("version") != VERSION or data.get("key") != key
                or data.get("n_files") != len(files)):
            return None
        paths = [Path(f) for f in files]
        return [_frame(row, paths) for row in data["frames"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _row(frame: FrameInfo, file_index: int) -> dict[str, Any]:
    row = dataclasses.asdict(frame)
    row["path"] = file_index
    return row


def _frame(row: dict[str, Any], paths: list[Path]) -> FrameInfo:
    values = dict(row)
    values["path"] = paths[int(values["path"])]
    for name in _TUPLES:
        values[name] = tuple(float(v) for v in values[name])
    return FrameInfo(**values)
