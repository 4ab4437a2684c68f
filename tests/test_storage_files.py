"""Image file hashes: a moved or altered file is detected when a case is opened."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from mdaread.storage import Actor, create_workspace, file_records, hash_file, verify_series_files
from test_storage_helpers import add_fake_series

DM = Actor("dana", "data_manager")


def _files(folder: Path, n: int = 12) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        p = folder / f"IM_{i:04d}.dcm"
        p.write_bytes(bytes([i]) * (1000 + i))
        paths.append(p)
    return paths


def test_hash_file_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc" * 100_000)
    assert hash_file(p) == (hashlib.sha256(b"abc" * 100_000).hexdigest(), 300_000)


def test_verify_series_files_finds_missing_and_altered(tmp_path: Path) -> None:
    paths = _files(tmp_path / "img")
    records = file_records(paths)
    assert [r.idx for r in records] == list(range(12))
    with create_workspace(tmp_path / "W", DM) as ws:
        ws.ensure_subject(DM, "S1")
        series = add_fake_series(ws, "S1", "baseline", "1.2.3", records)
        assert verify_series_files(ws, series.id).ok
        paths[3].write_bytes(b"changed")          # altered (size differs)
        data = bytearray(paths[5].read_bytes())
        data[10] ^= 1
        paths[5].write_bytes(bytes(data))           # altered (same size)
        shutil.move(paths[7], tmp_path / "elsewhere.dcm")  # moved away
        check = ws.verify_series_files(series.id)
        assert not check.ok
        assert check.missing == (str(paths[7].resolve()),)
        assert check.altered == (str(paths[3].resolve()), str(paths[5].resolve()))
        assert "1 missing" in check.summary() and "2 altered" in check.summary()
