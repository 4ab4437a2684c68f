"""Benchmark of the trial workspace: import, saving and loading reads, audit verification.

    .venv/bin/python benchmarks/workspace.py [--reads 1000] [--sample sample_dicom] [--json]

Every figure is printed beside a reference measured in the same run, as a ratio:
- import of the sample trial (or of a synthetic trial written here when sample_dicom/ is absent):
  scan (mdaread.io) vs hashing (SHA-256 of every file, MB/s) vs attaching (SQL + audit);
- saving N reads (create + draft save with 3 measurements + sign-off, 3 transactions, each with
  audit rows) vs a bare sqlite3 loop inserting the same JSON in one transaction per row with the
  same pragmas (WAL, synchronous=FULL);
- loading N reads with their measurements vs a bare SELECT of the same rows;
- verifying the whole audit chain; verify_series_files on one series.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mdaread.storage import Actor, NewMeasurement, create_workspace, hash_file  # noqa: E402
from mdaread.workflow.ingest import ingest_scan  # noqa: E402
from mdaread.workflow.workspace_service import load_randomisation  # noqa: E402

DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")
OBS = {"label": "3m", "days": 91, "modality": "CT", "scan_available": True,
       "lesions": [{"id": f"L{j}", "evaluable": True, "long_mm": 20.5 + j, "perp_mm": 14.25,
                    "signs": ["sclerotic_rim"]} for j in range(3)],
       "new_lesions": [], "possible_flare": False}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def synthetic_trial(folder: Path, n_subjects: int = 4) -> Path:
    """A small trial (CT 40 × 256 × 256 per timepoint) when sample_dicom/ is absent."""
    import numpy as np

    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series
    from mdaread.model import Volume

    days = {"baseline": -5, "1m": 30, "3m": 91, "6m": 182, "12m": 365}
    rows = ["subject,arm,centre,treatment_date"]
    rng = np.random.default_rng(0)
    for s in range(n_subjects):
        subject = f"SYN-{s:03d}"
        rows.append(f"{subject},RFA+VP,A,2025-01-10")
        for label, day in days.items():
            date = (np.datetime64("2025-01-10") + np.timedelta64(day, "D")).astype(str)
            array = rng.integers(-100, 400, size=(40, 256, 256)).astype(np.int16)
            volume = Volume(array, np.diag([0.7, 0.7, 2.0, 1.0]))
            tag = f"{subject}-{label}"
            write_ct_series(volume, folder / subject / f"{label}_CT", SeriesInfo(
                patient_id=subject, study_uid=derived_uid("st", tag),
                series_uid=derived_uid("se", tag), frame_of_reference_uid=derived_uid("f", tag),
                study_date=date.replace("-", ""), study_time="100000", series_number=1,
                series_description="CT"))
    (folder / "randomisation.csv").write_text("\n".join(rows) + "\n")
    return folder


def bench_import(source: Path, work: Path) -> dict[str, Any]:
    from mdaread.io import scan_path

    files = [p for p in source.rglob("*") if p.is_file() and p.suffix.lower() == ".dcm"]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    t_scan, scan = timed(lambda: scan_path(source))
    t_hash, _ = timed(lambda: [hash_file(p) for p in files])  # single-threaded reference
    with create_workspace(work / "import", DM) as ws:
        load_randomisation(ws, DM, source / "randomisation.csv")
        t_ingest, report = timed(lambda: ingest_scan(ws, DM, scan))
        t_again, again = timed(lambda: ingest_scan(ws, DM, scan))
        first = ws.list_series()[0]
        t_verify, check = timed(lambda: ws.verify_series_files(first.id))
    return {
        "files": len(files), "megabytes": round(megabytes, 1),
        "series_added": len(report.added), "ambiguous": len(report.ambiguous),
        "scan_s": round(t_scan, 3), "hash_single_thread_s": round(t_hash, 3),
        "hash_mb_per_s": round(megabytes / t_hash, 1),
        "attach_s (hash + SQL + audit)": round(t_ingest, 3),
        "reimport_s (all unchanged)": round(t_again, 3),
        "unchanged_on_reimport": len(again.unchanged),
        "import_total_s": round(t_scan + t_ingest, 3),
        "ratio attach/scan": round(t_ingest / t_scan, 2),
        "verify_series_files_ms": round(1000 * t_verify, 1),
        "verify_series_n_files": check.n_files,
    }


class BareSqlite:
    """The floor: the same JSON written with three commits per row, then read back, with the
    workspace's pragmas (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, obs TEXT, status TEXT)")
        self.text = json.dumps(OBS)

    def save(self, n: int) -> None:
        for _ in range(n):
            cur = self.conn.execute("INSERT INTO r(obs, status) VALUES ('{}', 'draft')")
            self.conn.execute("UPDATE r SET obs = ? WHERE id = ?", (self.text, cur.lastrowid))
            self.conn.execute("UPDATE r SET status = 'signed' WHERE id = ?", (cur.lastrowid,))

    def load(self) -> int:
        return len([json.loads(r[1]) for r in self.conn.execute("SELECT * FROM r")])


def bench_reads(n: int, work: Path, block: int = 50) -> dict[str, Any]:
    ws = create_workspace(work / "reads", DM)
    ws.set_randomisation(DM, "MDA-001", arm="A", centre="C", treatment_date="2025-01-10")
    tp = ws.ensure_timepoint(DM, "MDA-001", "3m", nominal_day=91)
    for j in range(3):
        ws.add_lesion(READER, "MDA-001", f"L{j}", level="L2")
    ms = [NewMeasurement(f"L{j}", 20.5 + j, 14.25, [[1.0, 2.0, 3.0], [21.5, 2.0, 3.0]], "1.2.3")
          for j in range(3)]
    bare = BareSqlite(work / "bare.sqlite")

    def save(count: int) -> None:
        for _ in range(count):
            read = ws.create_read(READER, "MDA-001", tp.id, criteria_version="mda-1")
            ws.save_draft(READER, read.id, observations=OBS, measurements=ms)
            ws.sign_read(READER, read.id, category="PR", final_category="PR", rule="spd")

    # interleaved blocks, so that the shared machine's fsync weather hits both alike
    t_save = t_bare = 0.0
    for start in range(0, n, block):
        count = min(block, n - start)
        t_save += timed(lambda c=count: save(c))[0]
        t_bare += timed(lambda c=count: bare.save(c))[0]

    def load_all() -> int:
        reads = ws.list_reads()
        return sum(len(ws.list_measurements(r.id)) for r in reads)

    t_load, n_meas = timed(load_all)
    t_bare_load, _ = timed(bare.load)
    t_verify, check = timed(ws.verify_audit)
    ws.close()
    bare.conn.close()
    return {
        "reads": n, "save_s": round(t_save, 3), "save_ms_per_read": round(1000 * t_save / n, 2),
        "bare_insert_ms_per_row (3 commits, like a read)": round(1000 * t_bare / n, 2),
        "ratio save/bare": round(t_save / t_bare, 2),
        "load_s (reads + measurements)": round(t_load, 3), "measurements_loaded": n_meas,
        "load_ms_per_read": round(1000 * t_load / n, 3),
        "bare_select_ms_per_row": round(1000 * t_bare_load / n, 3),
        "ratio load/bare": round(t_load / t_bare_load, 2),
        "audit_rows": check.n_rows, "audit_verify_s": round(t_verify, 3),
        "audit_verify_us_per_row": round(1e6 * t_verify / check.n_rows, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--sample", type=Path, default=ROOT / "sample_dicom")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mdaread-bench-"))
    try:
        source = args.sample
        if not (source / "randomisation.csv").is_file():
            print(f"{source} absent: writing a synthetic trial", file=sys.stderr)
            source = synthetic_trial(work / "trial")
        results = {"import": bench_import(source, work), "reads": bench_reads(args.reads, work)}
        results["import"]["source"] = str(source)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for section, values in results.items():
            print(f"[{section}]")
            for key, value in values.items():
                print(f"  {key:<50} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
