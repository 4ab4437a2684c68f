"""`mdaread scan PATH [--json]`: the volumes under a folder, file or DICOMDIR (headers only)."""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

EXAMPLES_PER_REASON = 5


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="list the DICOM series (volumes) under a folder, file or DICOMDIR",
        description="Read DICOM headers under PATH (no pixel data) and list every loadable "
                    "volume with its geometry and warnings, and every skipped file with the "
                    "reason.",
    )
    parser.add_argument("path", metavar="PATH", help="folder, DICOM file or DICOMDIR")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--show-ids", action="store_true",
                        help="also show each series' PatientID (hidden by default)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.io import scan_path

    result = scan_path(args.path)
    if args.json:
        print_json(result.to_json(show_ids=args.show_ids))
    else:
        print(format_scan(result, show_ids=args.show_ids))
    return 0


def format_scan(result: Any, show_ids: bool = False) -> str:
    """A readable table of series candidates, their warnings, and skipped files by reason;
    header text (descriptions, paths, reasons) escaped by ``printable``, PatientIDs only with
    ``show_ids``."""
    from mdaread.commands.output import printable

    lines = [f"{len(result.series)} series, {len(result.skipped)} skipped file(s)"]
    if result.series:
        lines.append(
            f"{'#':>3}  {'modality':8}  {'files':>5}  {'shape [k,j,i]':17}  "
            f"{'spacing [x,y,z] mm':22}  description / key"
        )
    for number, series in enumerate(result.series, start=1):
        shape = "×".join(str(n) for n in series.shape)
        spacing = " ".join(f"{v:.3g}" for v in series.spacing)
        name = series.description or "(no description)"
        lines.append(printable(
            f"{number:>3}  {series.modality:8}  {series.n_files:>5}  {shape:17}  "
            f"{spacing:22}  {name}"
        ))
        patient = f"  patient {series.patient_id or '(none)'}" if show_ids else ""
        lines.append(printable(f"{'':>5}key {series.key}{patient}"))
        lines.extend(printable(f"{'':>5}warning: {w}") for w in series.warnings)
    by_reason: dict[str, list[str]] = defaultdict(list)
    for skipped in result.skipped:
        by_reason[skipped.reason].append(str(skipped.path))
    for reason, paths in sorted(by_reason.items()):
        lines.append(printable(f"skipped ({len(paths)}): {reason}"))
        lines.extend(printable(f"    {p}") for p in paths[:EXAMPLES_PER_REASON])
        if len(paths) > EXAMPLES_PER_REASON:
            lines.append(f"    … and {len(paths) - EXAMPLES_PER_REASON} more")
    return "\n".join(lines)
