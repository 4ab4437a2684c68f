"""NIfTI-1 in and out with nibabel: LPS ↔ RAS and [k, j, i] ↔ [i, j, k] handled here only.

NIfTI's world frame is RAS, so its affine is ``diag(-1, -1, 1, 1) @ lps_affine``; its array is
indexed [i, j, k], the transpose of Volume's [k, j, i].
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from mdaread.errors import InputError
from mdaread.model.volume import Volume

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def write_nifti(volume: Volume, path: str | Path) -> None:
    """Write ``volume`` as NIfTI-1 (``.nii`` or ``.nii.gz``); sform and qform both scanner."""
    import nibabel as nib  # imported on use: it costs ~0.1 s at start-up

    out = Path(path)
    if not (out.name.endswith(".nii") or out.name.endswith(".nii.gz")):
        raise InputError(f"{out}: output must end with .nii or .nii.gz")
    affine = LPS_TO_RAS @ volume.affine
    image = nib.Nifti1Image(np.ascontiguousarray(volume.array.transpose(2, 1, 0)), affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    image.header.set_xyzt_units("mm")
    # write beside and rename: a full disk or Ctrl-C never leaves a truncated OUT (or a
    # truncated replacement of an earlier good one) that looks like a finished file
    ext = ".nii.gz" if out.name.endswith(".nii.gz") else ".nii"
    # os.path never raises (a parent that is a file, a name too long): nib.save reports those
    direct = os.path.islink(out) or (os.path.exists(out) and not os.path.isfile(out))
    partial = out if direct else out.with_name(f".mdaread-partial-{os.getpid()}{ext}")
    try:
        nib.save(image, partial)
        if not direct:
            os.replace(partial, out)
    except OSError as exc:
        if not direct:
            _remove(partial)
        raise InputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        if not direct:
            _remove(partial)
        raise


def _remove(path: Path) -> None:
    """Delete a partial file if there is one (never raises)."""
    with contextlib.suppress(OSError):
        path.unlink()


def read_nifti(path: str | Path) -> Volume:
    """Read a 3-D NIfTI file (a 4-D one with a single volume is accepted) into a Volume."""
    import nibabel as nib

    source = Path(path)
    try:
        image: Any = nib.load(source)
        data = np.asanyarray(image.dataobj)
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except Exception as exc:  # nibabel raises several types for bad files
        raise InputError(f"{source}: not a readable NIfTI file ({exc})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(f"{source}: expected a 3-D image, got shape {data.shape}")
    affine = LPS_TO_RAS @ np.asarray(image.affine, dtype=np.float64)
    return Volume(array=np.ascontiguousarray(data.transpose(2, 1, 0)), affine=affine)
