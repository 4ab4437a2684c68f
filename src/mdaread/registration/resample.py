"""The follow-up resampled on the baseline grid, for blend / checkerboard / difference views."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.errors import RegistrationError
from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration import region as rg
from mdaread.registration.convert import to_sitk, to_transform


def fixed_region(fixed: Volume, center_lps: npt.ArrayLike, radius_mm: float) -> Volume:
    """The baseline's own voxels (a numpy view, same spacing and direction) in the cube of
    half-edge ``radius_mm`` around ``center_lps`` — the grid :func:`resample_to_fixed` uses when
    given the same centre and radius. Raises RegistrationError when the cube misses the volume."""
    sub = rg.crop(fixed, center_lps, radius_mm)
    if sub is None:
        raise RegistrationError("the overlay region lies outside the baseline volume")
    return Volume(array=sub.array, affine=sub.affine, modality=fixed.modality,
                  series_uid=fixed.series_uid,
                  frame_of_reference_uid=fixed.frame_of_reference_uid,
                  description=fixed.description)


def resample_to_fixed(
    moving: Volume,
    fixed: Volume,
    matrix: npt.ArrayLike,
    *,
    center_lps: npt.ArrayLike | None = None,
    radius_mm: float | None = None,
    default: float | None = None,
    interpolation: str = "linear",
) -> Volume:
    """``moving`` (follow-up) sampled on ``fixed``'s (baseline) grid through ``matrix`` (baseline
    LPS → follow-up LPS): voxel p of the result holds ``moving`` at ``matrix @ p``. Float32 values
    in the follow-up's units; ``default`` (the follow-up minimum when None) where ``matrix @ p``
    falls outside the follow-up.

    With ``center_lps`` and ``radius_mm`` only the baseline sub-grid of :func:`fixed_region` is
    filled — what the viewer needs around the vertebra, at a fraction of the cost.
    ``interpolation`` is ``linear`` or ``nearest`` (for label images).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4) or not rigid.is_rigid(m, 1e-4):
        raise RegistrationError("the transform to resample with must be a rigid 4x4 matrix")
    if interpolation not in {"linear", "nearest"}:
        raise ValueError(f"interpolation must be 'linear' or 'nearest', got {interpolation!r}")
    target = fixed
    if center_lps is not None and radius_mm is not None:
        target = fixed_region(fixed, center_lps, radius_mm)
    reference = sitk.Image(list(target.shape[::-1]), sitk.sitkUInt8)
    reference.SetOrigin(target.origin)
    reference.SetSpacing(target.spacing)
    reference.SetDirection(tuple(float(v) for v in target.direction.ravel()))
    # only the part of the follow-up that the mapped grid can reach is converted to SimpleITK
    corners = rigid.apply(m, target.index_to_world(_grid_corners(target.shape)))
    center = corners.mean(axis=0)
    half = float(np.max(np.abs(corners - center))) + 2.0 * max(moving.spacing)
    sub = rg.crop(moving, center, half)
    fill = float(np.min(moving.array)) if default is None else float(default)
    if sub is None:
        return _like(target, np.full(target.shape, fill, np.float32), moving)
    image = rg.resample(
        to_sitk(sub), reference, to_transform(m, center_lps if center_lps is not None else
                                               fixed.center_world()),
        interpolator=sitk.sitkLinear if interpolation == "linear" else sitk.sitkNearestNeighbor,
        default=fill)
    return _like(target, sitk.GetArrayFromImage(image), moving)


def _grid_corners(shape: tuple[int, int, int]) -> npt.NDArray[np.float64]:
    k, j, i = shape
    return np.array([[a, b, c] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)],
                    dtype=np.float64)


def _like(target: Volume, array: npt.NDArray[np.generic], moving: Volume) -> Volume:
    return Volume(array=array, affine=target.affine, modality=moving.modality,
                  series_uid=moving.series_uid,
                  frame_of_reference_uid=target.frame_of_reference_uid,
                  description=f"{moving.description} resampled on the baseline grid".strip())
