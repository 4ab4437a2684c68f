"""Content hashes of image files, so that a moved or altered file is detected when a case opens.

SHA-256 of the file bytes (hashlib.file_digest, OpenSSL; ~1–2 GB/s on one core, measured in
benchmarks/workspace.py). A series' combined hash is SHA-256 over its files' digests in slice
order, so it does not depend on where the files live.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mdaread.errors import InputError
from mdaread.storage.records import FileCheck, SeriesFileRecord

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDECARS = ("-wal", "-shm", "-journal")


def refuse_overwriting_database(path: str | Path) -> None:
    """InputError when ``path`` is an SQLite database (a workspace, this one or another) or one
    of its -wal/-shm/-journal files: an export or a screenshot written there would destroy the
    trial's data (``audit export W W/workspace.sqlite`` once did)."""
    target = Path(path)
    base = next((Path(str(target)[:-len(s)]) for s in SIDECARS if target.name.endswith(s)),
                target)
    for candidate in {target, base}:
        if not os.path.isfile(candidate):  # absent, a folder, /dev/stdout, a FIFO: never read
            continue
        try:
            with open(candidate, "rb") as handle:
                is_database = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
        except OSError:  # unreadable: the writer reports its own problem
            continue
        if is_database:
            raise InputError(f"{target}: refusing to overwrite a database file (a trial "
                             "workspace?); choose another output name")


def hash_file(path: str | Path) -> tuple[str, int]:
    """(SHA-256 hex digest of the bytes, size in bytes) of one file."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        size = handle.tell()
    return digest, size


def hash_files(paths: Sequence[str | Path], workers: int = 2) -> list[tuple[str, int]]:
    """hash_file over many files, in order; hashlib releases the GIL so threads help."""
    if len(paths) < 8 or workers <= 1:
        return [hash_file(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(hash_file, paths))


def combined_hash(digests: Iterable[str]) -> str:
    """SHA-256 over per-file digests in order: one fingerprint for a series' pixel files."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def file_records(paths: Sequence[str | Path]) -> tuple[SeriesFileRecord, ...]:
    """SeriesFileRecords (absolute paths, digest, size) of a series' files in slice order."""
    hashed = hash_files(paths)
    return tuple(
        SeriesFileRecord(idx=i, path=str(Path(p).resolve()), sha256=d, size=s)
        for i, (p, (d, s)) in enumerate(zip(paths, hashed, strict=True))
    )


def check_files(series_id: int, files: Sequence[SeriesFileRecord]) -> FileCheck:
    """Re-hash the stored files of a series; list those missing and those whose bytes changed."""
    missing: list[str] = []
    present: list[SeriesFileRecord] = []
    for f in files:
        if Path(f.path).is_file():
            present.append(f)
        else:
            missing.append(f.path)
    hashed = hash_files([f.path for f in present])
    altered = [f.path for f, (d, s) in zip(present, hashed, strict=True)
               if d != f.sha256 or s != f.size]
    return FileCheck(series_id, len(files), tuple(missing), tuple(altered))
