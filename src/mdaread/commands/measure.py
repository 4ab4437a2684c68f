"""`mdaread measure PATH --seed X Y Z`: semi-automatic lesion measurement from one seed point.

Goes through ``workflow.measure_service.propose`` (the workstation's click-to-segment), so the
command and the viewer give the same numbers for the same click.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

MODALITIES = ("CT", "MR")


def register(subparsers: Any) -> None:
    """Add the ``measure`` subcommand."""
    parser = subparsers.add_parser(
        "measure",
        help="measure the lesion under a seed point (diameters, volume, cement)",
        description="Segment the lesion under SEED (patient LPS mm) in one series and print its "
                    "bidimensional measurement (longest axial diameter and the longest one "
                    "perpendicular to it, end points in LPS mm), volume, mean value and the "
                    "cement near it (volume, leakage outside the vertebral body). Cement and a "
                    "thin rim are kept out of the lesion. A seed off the image, in air, in cement "
                    "or with no lesion-like boundary exits with status 2.",
    )
    parser.add_argument("path", metavar="PATH",
                        help="DICOM folder, file or DICOMDIR, or a NIfTI file (.nii, .nii.gz)")
    parser.add_argument("--seed", nargs=3, type=float, required=True, metavar=("X", "Y", "Z"),
                        help="a point in the lesion, patient LPS mm")
    parser.add_argument("--series", metavar="UID",
                        help="Series Instance UID or candidate key from `mdaread scan` (default: "
                             "the largest series)")
    parser.add_argument("--modality", choices=MODALITIES,
                        help="override the modality (a NIfTI file carries none: default CT when "
                             "it holds values below -500, i.e. air in HU, else MR)")
    parser.add_argument("--mask-out", metavar="OUT.nii[.gz]",
                        help="write the lesion mask (1 inside, 0 outside) on the series grid")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, segment from the seed, print (and write the mask); bad input raises InputError."""
    from mdaread.commands.output import print_json
    from mdaread.errors import InputError, SegmentationError
    from mdaread.workflow.measure_service import propose

    path = str(args.path)
    mask_out = None if args.mask_out is None else str(args.mask_out)
    if mask_out is not None and not mask_out.endswith((".nii", ".nii.gz")):
        raise InputError(f"{mask_out}: --mask-out must end with .nii or .nii.gz")
    volume, load_warnings = _load(path, args.series, args.modality)
    seed = (float(args.seed[0]), float(args.seed[1]), float(args.seed[2]))
    try:
        proposal = propose(volume, seed)
    except SegmentationError as exc:
        raise SegmentationError(f"{path}: {exc}") from None
    payload = proposal.to_json()
    payload["path"] = path
    payload["warnings"] = [*load_warnings, *_as_list(payload.get("warnings"))]
    if mask_out is not None:
        _write_mask(proposal, volume, mask_out)
        payload["mask_out"] = mask_out
    if args.json:
        print_json(_ordered(payload))
    else:
        _print_text(proposal.summary(), payload)
    return 0


def _load(path: str, series_uid: str | None, modality: str | None) -> tuple[Any, list[str]]:
    """The volume under ``path`` and its load warnings (a NIfTI file's modality guessed)."""
    from dataclasses import replace

    import numpy as np

    from mdaread.errors import InputError

    if not os.path.exists(path):  # unlike Path.exists, False (not OSError) for a name too long
        raise InputError(f"{path}: no such file or folder")
    warnings: list[str] = []
    if path.endswith((".nii", ".nii.gz")):
        from mdaread.io import read_nifti

        volume = read_nifti(path)
        if modality is None:
            has_air = bool(np.nanmin(volume.array) < -500) if volume.array.size else False
            modality = "CT" if has_air else "MR"
            why = "values below -500, air in HU" if has_air else "no values below -500"
            warnings.append(f"NIfTI carries no modality: taken as {modality} ({why}); "
                            "pass --modality to choose")
        volume = replace(volume, modality=modality)
    else:
        from mdaread.io import load_path

        volume = load_path(path, series_uid=series_uid)
        warnings.extend(volume.warnings)
        if modality is not None:
            volume = replace(volume, modality=modality)
        elif volume.modality not in MODALITIES:
            raise InputError(f"{path}: modality {volume.modality or '(none)'!r} is not CT or MR; "
                             "pass --modality to measure it anyway")
    return volume, warnings


def _write_mask(proposal: Any, volume: Any, out: str) -> None:
    import numpy as np

    from mdaread.io import write_nifti
    from mdaread.model.volume import Volume

    full = proposal.lesion.mask.full().astype(np.uint8)
    write_nifti(Volume(array=full, affine=volume.affine, modality=volume.modality,
                       series_uid=volume.series_uid), out)


def _as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


FIRST_KEYS = ("long_mm", "perp_mm", "volume_ml", "mean_hu", "cement_ml", "cement_leakage",
              "cement_leakage_ml", "long_axis_lps", "perp_axis_lps", "slice_index", "plane_z_mm")


def _ordered(payload: dict[str, Any]) -> dict[str, Any]:
    """design.md's five keys first, then the axes and the rest as built."""
    head = {key: payload[key] for key in FIRST_KEYS if key in payload}
    return {**head, **{k: v for k, v in payload.items() if k not in head}}


def _print_text(summary: str, payload: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(summary + "\n")
    for name in ("long_axis_lps", "perp_axis_lps"):
        a, b = payload[name]
        label = "long axis" if name == "long_axis_lps" else "perpendicular"
        out.write(f"{label:>13}: ({a[0]:.1f}, {a[1]:.1f}, {a[2]:.1f}) → "
                  f"({b[0]:.1f}, {b[1]:.1f}, {b[2]:.1f}) LPS mm\n")
    where = "resampled axial plane" if payload["slice_index"] is None \
        else f"slice k = {payload['slice_index']}"
    out.write(f"{'plane':>13}: z = {payload['plane_z_mm']:.1f} mm ({where})\n")
    if "mask_out" in payload:
        out.write(f"{'mask':>13}: {payload['mask_out']}\n")
    for warning in payload["warnings"]:
        out.write(f"warning: {warning}\n")
