"""Benchmark: opening a clinical case from a trial workspace — two 512² CTs of ``--slices``
slices (default 600), the baseline and a follow-up — as the workstation does it, against
SimpleITK reading the same two series in the same run.

    .venv/bin/python benchmarks/open_case.py [--slices 600] [--rounds 3] [--compression none]

The series are the clinical-size sample CTs of benchmarks/clinical.py (512² at 0.7 mm, 1.0 mm
slices; slices repeated up to ``--slices``), written once by mdaread's own DICOM writer into
benchmarks/_data/open_case/ (gitignored) and imported into a fresh workspace. "open" is what the
window does when a case opens: WorkspaceSource.series for both timepoints, then both loads at
once in two worker threads (the window's thread pool on a 2-core machine), each checking its
files against the import and reading the pixels. The reference is SimpleITK's
ImageSeriesReader on the same two folders, also in two threads; "no header cache" opens with
the header cache off (every header parsed again, as before issue 15). Medians of ``--rounds``
alternating rounds; the machine may be shared, so read the ratio. Target (issue 15): ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from clinical import clinical_subject  # also puts src/ on the path

from mdaread.storage import Actor, create_workspace

DATA = Path(__file__).resolve().parent / "_data" / "open_case"
DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")
SUBJECT = "BENCH-001"
DATES = {"baseline": "20250105", "3m": "20250412"}


def write_series(slices: int, compression: str) -> Path:
    """The two series and randomisation.csv under DATA (once; a marker says complete)."""
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series
    from mdaread.model.volume import Volume

    root = DATA / f"{slices}-{compression}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    subject = clinical_subject(0, "CT")
    for label, source in (("baseline", subject.baseline), ("3m", subject.follow_up)):
        repeat = np.resize(np.arange(source.shape[0]), slices)  # slice indices, wrapped
        array = np.clip(source.array[repeat], -1024, 3071)
        volume = Volume(array, source.affine, modality="CT")
        tag = f"{SUBJECT}-{label}"
        write_ct_series(volume, root / label, SeriesInfo(
            patient_id=SUBJECT, study_uid=derived_uid("st", tag), series_uid=derived_uid("se", tag),
            frame_of_reference_uid=derived_uid("f", tag), study_date=DATES[label],
            study_time="100000", series_number=1, series_description=f"CT {label}"),
            compression=compression)
    (root / "randomisation.csv").write_text(
        f"subject,arm,centre,treatment_date\n{SUBJECT},RFA+VP,A,2025-01-10\n")
    (root / ".complete").write_text("ok\n")
    return root


def timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def both(load: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``load`` on each item at once, in two threads (as the window loads its two sides)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(load, items))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compression", default="none",
                        help="DICOM writer compression (none, jpegls, …)")
    args = parser.parse_args()
    import SimpleITK as sitk

    from mdaread.workflow.ingest import ingest_path
    from mdaread.workflow.workspace_service import load_randomisation
    from mdaread.workflow.workspace_source import WorkspaceSource

    start = time.perf_counter()
    root = write_series(args.slices, args.compression)
    print(f"series ready in {time.perf_counter() - start:.1f} s: {root}")
    work = Path(tempfile.mkdtemp(prefix="mdaread-open-"))
    try:
        ws = create_workspace(work / "ws", DM)
        load_randomisation(ws, DM, root / "randomisation.csv")
        start = time.perf_counter()
        ingest_path(ws, DM, root)
        print(f"import (scan + hash + attach) {time.perf_counter() - start:.2f} s")
        folders = [str(root / label) for label in DATES]

        def open_case() -> list[Any]:
            source = WorkspaceSource(ws, READER)
            choices = [source.series(SUBJECT, label)[0] for label in DATES]
            return both(source.load, choices)

        def sitk_read(folder: str) -> np.ndarray:
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
            return sitk.GetArrayFromImage(reader.Execute())

        ours = open_case()  # warm the page cache and check the values once
        theirs = both(sitk_read, folders)
        for volume, reference in zip(ours, theirs, strict=True):
            assert volume.shape == reference.shape, (volume.shape, reference.shape)
            assert np.array_equal(volume.array, reference), "values differ from SimpleITK"
        del ours, theirs
        def open_parsing_headers() -> list[Any]:
            before = os.environ.get("MDAREAD_HEADER_CACHE")
            os.environ["MDAREAD_HEADER_CACHE"] = "off"
            try:
                return open_case()
            finally:
                if before is None:
                    os.environ.pop("MDAREAD_HEADER_CACHE")
                else:
                    os.environ["MDAREAD_HEADER_CACHE"] = before

        times: dict[str, list[float]] = {"open (mdaread)": [], "SimpleITK": [],
                                         "open, no header cache": []}
        for _ in range(args.rounds):
            times["open (mdaread)"].append(timed(open_case))
            times["SimpleITK"].append(timed(lambda: both(sitk_read, folders)))
            times["open, no header cache"].append(timed(open_parsing_headers))
        ws.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"case: 2 × {args.slices} × 512² CT ({args.compression}), {args.rounds} rounds")
    for name, value in median.items():
        print(f"{name:16s} median {value:.3f} s (range {min(times[name]):.3f}–"
              f"{max(times[name]):.3f} s)")
    print(f"open / SimpleITK = {median['open (mdaread)'] / median['SimpleITK']:.2f}; "
          f"without the header cache {median['open, no header cache'] / median['SimpleITK']:.2f}"
          "; target: open ≤ 1.5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
