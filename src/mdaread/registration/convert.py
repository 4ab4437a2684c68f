"""Volume ↔ SimpleITK image and 4×4 matrix ↔ SimpleITK transform.

A Volume's ``array[k, j, i]`` is already SimpleITK's array order (``GetImageFromArray`` takes
``[z, y, x]``); origin, spacing and direction come from the Volume affine, whose columns are the
LPS mm steps of i, j and k. SimpleITK's physical space is DICOM's LPS, so no axis flips happen.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.model.volume import Volume

FloatArray = npt.NDArray[np.float64]


def to_sitk(volume: Volume, dtype: npt.DTypeLike = np.float32) -> sitk.Image:
    """A SimpleITK image holding ``volume`` (values cast to ``dtype``) in LPS mm."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array, dtype=dtype))
    image.SetOrigin(volume.origin)
    image.SetSpacing(volume.spacing)
    image.SetDirection(tuple(float(v) for v in volume.direction.ravel()))
    return image


def affine_of(image: sitk.Image) -> FloatArray:
    """4×4 affine mapping (i, j, k, 1) of ``image`` to LPS mm."""
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.asarray(image.GetSpacing(), dtype=np.float64)
    affine[:3, 3] = image.GetOrigin()
    return affine


def from_sitk(image: sitk.Image, like: Volume | None = None) -> Volume:
    """A Volume from a SimpleITK image; metadata (modality, UIDs) copied from ``like``."""
    array = sitk.GetArrayFromImage(image)
    if like is None:
        return Volume(array=array, affine=affine_of(image))
    return Volume(
        array=array,
        affine=affine_of(image),
        modality=like.modality,
        series_uid=like.series_uid,
        frame_of_reference_uid=like.frame_of_reference_uid,
        description=like.description,
    )


def to_transform(matrix: npt.ArrayLike, center_mm: npt.ArrayLike) -> sitk.Euler3DTransform:
    """An Euler3DTransform equal to the rigid 4×4 ``matrix``, with rotation centre ``center_mm``.

    ITK maps ``p → R (p − c) + c + t``; our matrix maps ``p → R p + T``, so ``t = T − c + R c``.
    """
    m = np.asarray(matrix, dtype=np.float64)
    c = np.asarray(center_mm, dtype=np.float64).reshape(3)
    rot = m[:3, :3]
    transform = sitk.Euler3DTransform()
    transform.SetCenter(tuple(float(v) for v in c))
    transform.SetMatrix(tuple(float(v) for v in rot.ravel()), 1e-6)
    transform.SetTranslation(tuple(float(v) for v in (m[:3, 3] - c + rot @ c)))
    return transform


def to_matrix(tx: sitk.Euler3DTransform) -> FloatArray:
    """The 4×4 matrix (``p → R p + T``, mm) of a SimpleITK Euler3DTransform."""
    rot = np.asarray(tx.GetMatrix(), dtype=np.float64).reshape(3, 3)
    c = np.asarray(tx.GetCenter(), dtype=np.float64)
    t = np.asarray(tx.GetTranslation(), dtype=np.float64)
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = t + c - rot @ c
    return m
