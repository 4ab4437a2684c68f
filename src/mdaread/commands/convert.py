"""`mdaread convert PATH OUT.nii[.gz] [--series UID]`: one DICOM series to NIfTI."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert one DICOM series to NIfTI",
        description="Load one volume under PATH (values in HU / stored units after rescale) and "
                    "write it as NIfTI-1. Warnings go to stderr; a series whose geometry is "
                    "refused exits with status 2.",
    )
    parser.add_argument("path", metavar="PATH", help="folder, DICOM file or DICOMDIR")
    parser.add_argument("out", metavar="OUT.nii[.gz]", help="output NIfTI file")
    parser.add_argument(
        "--series", metavar="UID",
        help="Series Instance UID or candidate key from `mdaread scan` (default: the largest)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdaread.commands.output import printable, warning
    from mdaread.errors import InputError
    from mdaread.io import load_path, write_nifti

    out = str(args.out)
    if not (out.endswith(".nii") or out.endswith(".nii.gz")):
        raise InputError(f"{out}: output must end with .nii or .nii.gz")
    volume = load_path(args.path, series_uid=args.series)
    for message in volume.warnings:
        warning(message)
    write_nifti(volume, out)
    shape = "×".join(str(n) for n in volume.shape)
    spacing = " ".join(f"{v:.4g}" for v in volume.spacing)
    print(f"wrote {printable(out)}: {shape} voxels [k, j, i], spacing {spacing} mm, "
          f"{volume.array.dtype}")
    return 0
