"""`mdaread register FIXED MOVING`: rigid registration of a follow-up to the baseline."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_FAILED_FIT = 1


def register(subparsers: Any) -> None:
    """Add the ``register`` subcommand."""
    parser = subparsers.add_parser(
        "register",
        help="rigidly register a follow-up series to the baseline around a vertebra",
        description="Rigid (6 DOF) registration of MOVING (follow-up) to FIXED (baseline) in a "
                    "ball around a vertebra. The matrix maps baseline LPS mm to follow-up LPS mm.",
    )
    parser.add_argument("fixed", metavar="FIXED",
                        help="baseline: DICOM folder, file or DICOMDIR, or NIfTI")
    parser.add_argument("moving", metavar="MOVING",
                        help="follow-up: DICOM folder, file or DICOMDIR, or NIfTI")
    parser.add_argument("--center", nargs=3, type=float, metavar=("X", "Y", "Z"),
                        help="centre of the region in baseline LPS mm (default: the baseline "
                             "volume's centre)")
    parser.add_argument("--radius", type=float, default=40.0, metavar="MM",
                        help="radius of the region in mm (default 40)")
    parser.add_argument("--series-fixed", metavar="UID", help="series to use under FIXED")
    parser.add_argument("--series-moving", metavar="UID", help="series to use under MOVING")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _load(path: str, series_uid: str | None, role: str) -> Any:
    from mdaread.errors import InputError

    if not os.path.exists(path):  # unlike Path.exists, False (not OSError) for a name too long
        raise InputError(f"{path}: no such file or folder ({role})")
    if path.endswith((".nii", ".nii.gz")):
        from mdaread.io import read_nifti

        return read_nifti(path)
    from mdaread.io import load_path

    return load_path(path, series_uid=series_uid)


def run(args: argparse.Namespace) -> int:
    """Load both volumes, register, print; exit 1 (after printing) when the fit failed."""
    from mdaread.commands.output import error, print_json
    from mdaread.errors import InputError, RegistrationError
    from mdaread.registration import register_rigid

    if not args.radius > 0:
        raise InputError(f"--radius must be a positive number of mm, got {args.radius}")
    fixed = _load(args.fixed, args.series_fixed, "baseline")
    moving = _load(args.moving, args.series_moving, "follow-up")
    try:
        result = register_rigid(fixed, moving, center_lps=args.center, radius_mm=args.radius)
    except RegistrationError as exc:
        raise RegistrationError(f"{args.moving} → {args.fixed}: {exc}") from exc
    payload = result.to_json()
    payload["warnings"] = ([f"baseline: {w}" for w in fixed.warnings]
                           + [f"follow-up: {w}" for w in moving.warnings] + payload["warnings"])
    if args.json:
        print_json(payload)
    else:
        _print_text(payload)
    if result.quality == "failed":
        error(f"{args.moving} → {args.fixed}: registration failed "
              f"({'; '.join(result.warnings) or 'no reason given'}); keep the "
              "unregistered mapping")
        return EXIT_FAILED_FIT
    return 0


def _print_text(payload: dict[str, Any]) -> None:
    out = sys.stdout
    out.write("matrix (baseline LPS mm -> follow-up LPS mm):\n")
    for row in payload["matrix"]:
        out.write("  " + "  ".join(f"{v:10.4f}" for v in row) + "\n")
    metric = "n/a" if payload["metric"] is None else f"{payload['metric']:.4f}"
    out.write(f"quality {payload['quality']}, metric {metric}, "
              f"{payload['iterations']} iterations, {payload['seconds']:.2f} s\n")
    for warning in payload["warnings"]:
        out.write(f"warning: {warning}\n")
