"""``manifest.json``: every file of an export with its size and SHA-256, and the audit head.

The audit head is the hash of the workspace's last audit row when the export was made: kept
outside the workspace, it reveals a later rewrite of the whole audit chain (which the chain
alone cannot). No time is written, so the same content gives the same manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdaread.export.staging import MANIFEST_NAME

FORMAT = "mdaread-export-1"


@dataclass(frozen=True)
class AuditHead:
    """What the workspace's audit chain check gave: rows, head hash, intact or not."""

    n_rows: int
    head: str
    ok: bool


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path) -> list[dict[str, Any]]:
    """Every file under ``folder`` (POSIX relative path, sorted) with size and SHA-256."""
    return [{"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size,
             "sha256": sha256_file(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME]


def write_manifest(folder: Path, *, audit: AuditHead, options: dict[str, Any],
                   version: str) -> dict[str, Any]:
    """Write ``folder/manifest.json`` listing the files already in ``folder``; returns it."""
    manifest = {
        "format": FORMAT,
        "mdaread_version": version,
        "options": options,
        "audit": {"n_rows": audit.n_rows, "head": audit.head, "intact": audit.ok},
        "files": file_entries(folder),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (folder / MANIFEST_NAME).write_bytes(text.encode("utf-8"))
    return manifest
