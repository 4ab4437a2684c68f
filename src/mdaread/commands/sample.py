"""`mdaread sample OUT [--seed N] [--subjects N]`: write the synthetic sample trial."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="write the synthetic sample trial (DICOM + truth.json + observations.json)",
        description="Write the synthetic spine sample trial into OUT (which must be new or "
                    "empty): a folder per subject with one folder per series, truth.json, "
                    "observations.json and randomisation.csv. The same seed always gives "
                    "identical files.",
    )
    parser.add_argument("out", metavar="OUT", help="output folder (created; must be empty)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--subjects", type=int, default=8,
                        help="number of subjects (default 8; the first 4 cover every outcome)")
    parser.add_argument("--compression", choices=("none", "rle", "jpegls"), default="none",
                        help="pixel data encoding: explicit VR little endian (none, default), "
                             "RLE Lossless or JPEG-LS Lossless")
    parser.add_argument("--matrix", type=int, default=256,
                        help="in-plane matrix (default 256); the field of view stays ≈ 200-230 mm")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: 2, or 1 on a single core)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.errors import InputError
    from mdaread.sample.trial import Options, generate_trial

    if not 32 <= args.matrix <= 1024:
        raise InputError(f"--matrix must be between 32 and 1024, got {args.matrix}")
    if args.seed < 0:  # numpy's generators take non-negative seeds only
        raise InputError(f"--seed must be 0 or more, got {args.seed}")
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")

    def progress(fraction: float, message: str) -> None:
        if not args.json:
            sys.stderr.write(f"  {fraction * 100:5.1f}%  {message}\n")

    options = Options(seed=args.seed, compression=args.compression, matrix=args.matrix)
    out = Path(args.out)
    ours = not out.exists() or (out.is_dir() and not any(out.iterdir()))
    try:
        truth = generate_trial(args.out, args.subjects, options, jobs=args.jobs,
                               progress=progress)
    except OSError as exc:  # unwritable place, disk full: one line, not a traceback
        _remove_partial(out, ours)
        where = exc.filename or args.out
        raise InputError(f"{where}: cannot write the sample trial ({exc.strerror or exc})") from exc
    except KeyboardInterrupt:
        _remove_partial(out, ours)  # else the next run is refused: "exists and is not empty"
        raise
    summary = {
        "out": str(args.out),
        "seed": args.seed,
        "subjects": [s["subject"] for s in truth["subjects"]],
        "series": sum(len(t["series"]) for s in truth["subjects"] for t in s["timepoints"]),
        "files": sum(r["n_files"] for s in truth["subjects"] for t in s["timepoints"]
                     for r in t["series"]),
    }
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {len(summary['subjects'])} subjects, {summary['series']} series, "
              f"{summary['files']} files to {args.out}")
    return 0


def _remove_partial(out: Path, ours: bool) -> None:
    """Remove a half-written trial, only when the folder was absent or empty before the run
    (so everything in it was written by this run)."""
    import shutil

    if not ours or not out.is_dir():
        return
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
