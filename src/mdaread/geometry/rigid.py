"""Rigid transforms as 4×4 homogeneous matrices (pure numpy).

Conventions (shared with :mod:`mdaread.registration`):

- A transform is a 4×4 float64 matrix ``M`` acting on column vectors ``(x, y, z, 1)`` in LPS
  millimetres: ``q = M @ p``. Registration matrices map a point in the FIXED (baseline) frame to
  the corresponding point in the MOVING (follow-up) frame.
- Rotation angles are in radians unless a name says ``_deg``. Euler angles ``(rx, ry, rz)`` are
  rotations about the LPS x, y and z axes, applied in that order (x first): ``R = Rz @ Ry @ Rx``.
- Translations and distances are in millimetres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "PointFit",
    "apply",
    "axis_angle_to_matrix",
    "box_corners",
    "compose",
    "euler_from_matrix",
    "euler_to_matrix",
    "fit_rigid_points",
    "invert",
    "is_rigid",
    "matrix_to_axis_angle",
    "nudge_overlay",
    "rigid_matrix",
    "rotation_about",
    "translation",
    "tre_box",
]


def _as_matrix(matrix: npt.ArrayLike) -> FloatArray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"expected a 4x4 matrix, got shape {m.shape}")
    return m


def translation(offset_mm: npt.ArrayLike) -> FloatArray:
    """4×4 matrix translating by ``offset_mm`` (3 numbers, mm)."""
    m = np.eye(4)
    m[:3, 3] = np.asarray(offset_mm, dtype=np.float64).reshape(3)
    return m


def compose(*matrices: npt.ArrayLike) -> FloatArray:
    """Product ``A @ B @ …``: the rightmost transform is applied first."""
    result = np.eye(4)
    for m in matrices:
        result = result @ _as_matrix(m)
    return result


def invert(matrix: npt.ArrayLike) -> FloatArray:
    """Inverse of a rigid 4×4 matrix, exact for rotations (uses the transpose)."""
    m = _as_matrix(matrix)
    rot = m[:3, :3]
    inv = np.eye(4)
    inv[:3, :3] = rot.T
    inv[:3, 3] = -rot.T @ m[:3, 3]
    return inv


def apply(matrix: npt.ArrayLike, points_mm: npt.ArrayLike) -> FloatArray:
    """Map points ``(..., 3)`` in mm through ``matrix``; returns ``(..., 3)`` mm."""
    m = _as_matrix(matrix)
    pts = np.asarray(points_mm, dtype=np.float64)
    return pts @ m[:3, :3].T + m[:3, 3]


def is_rigid(matrix: npt.ArrayLike, tol: float = 1e-6) -> bool:
    """True when the 3×3 block is a proper rotation (orthonormal, det +1) and the last row is
    ``(0, 0, 0, 1)``."""
    m = _as_matrix(matrix)
    rot = m[:3, :3]
    return bool(
        np.all(np.isfinite(m))
        and np.allclose(rot.T @ rot, np.eye(3), atol=tol)
        and abs(np.linalg.det(rot) - 1.0) < tol
        and np.allclose(m[3], [0.0, 0.0, 0.0, 1.0], atol=tol)
    )


def _rx(a: float) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> FloatArray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_to_matrix(rx: float, ry: float, rz: float) -> FloatArray:
    """3×3 rotation ``Rz @ Ry @ Rx`` from angles in radians about LPS x, y, z (x applied first)."""
    return _rz(rz) @ _ry(ry) @ _rx(rx)


def euler_from_matrix(rotation: npt.ArrayLike) -> tuple[float, float, float]:
    """Angles ``(rx, ry, rz)`` in radians such that ``euler_to_matrix(rx, ry, rz) == rotation``;
    ``ry`` is in [-π/2, π/2] (at ±π/2 the split between rx and rz is arbitrary: rx = 0)."""
    r = np.asarray(rotation, dtype=np.float64)[:3, :3]
    ry = float(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    if abs(r[2, 0]) < 1.0 - 1e-9:
        rx = float(np.arctan2(r[2, 1], r[2, 2]))
        rz = float(np.arctan2(r[1, 0], r[0, 0]))
    else:  # gimbal lock: only rz ∓ rx is defined
        rx = 0.0
        rz = float(np.arctan2(-r[0, 1], r[1, 1]))
    return rx, ry, rz


def axis_angle_to_matrix(axis: npt.ArrayLike, angle: float) -> FloatArray:
    """3×3 rotation of ``angle`` radians about ``axis`` (any non-zero length; right-hand rule)."""
    a = np.asarray(axis, dtype=np.float64).reshape(3)
    norm = np.linalg.norm(a)
    if norm == 0.0:
        if angle == 0.0:
            return np.eye(3)
        raise ValueError("rotation axis must be non-zero")
    x, y, z = a / norm
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def matrix_to_axis_angle(rotation: npt.ArrayLike) -> tuple[FloatArray, float]:
    """Unit axis and angle in radians (in [0, π]) of a 3×3 rotation; axis (1, 0, 0) for identity."""
    r = np.asarray(rotation, dtype=np.float64)[:3, :3]
    cos_angle = np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(cos_angle))
    if angle < 1e-12:
        return np.array([1.0, 0.0, 0.0]), 0.0
    if np.pi - angle < 1e-6:
        # near π the antisymmetric part vanishes: read the axis from R + I = 2 a aᵀ
        b = (r + np.eye(3)) / 2.0
        col = int(np.argmax(np.diag(b)))
        axis = b[:, col] / np.sqrt(b[col, col])
        return axis / np.linalg.norm(axis), angle
    axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return axis / np.linalg.norm(axis), angle


def rotation_about(rotation: npt.ArrayLike, center_mm: npt.ArrayLike) -> FloatArray:
    """4×4 matrix rotating by the 3×3 ``rotation`` about the point ``center_mm`` (LPS mm)."""
    c = np.asarray(center_mm, dtype=np.float64).reshape(3)
    m = np.eye(4)
    m[:3, :3] = np.asarray(rotation, dtype=np.float64)[:3, :3]
    m[:3, 3] = c - m[:3, :3] @ c
    return m


def rigid_matrix(
    angles_rad: Sequence[float] = (0.0, 0.0, 0.0),
    translation_mm: Sequence[float] = (0.0, 0.0, 0.0),
    center_mm: Sequence[float] = (0.0, 0.0, 0.0),
) -> FloatArray:
    """4×4 rigid matrix: rotate by Euler ``angles_rad`` about ``center_mm``, then translate by
    ``translation_mm`` — the parameterisation of ITK's Euler3DTransform with a centre."""
    return compose(translation(translation_mm), rotation_about(euler_to_matrix(*angles_rad),
                                                               center_mm))


def nudge_overlay(
    matrix: npt.ArrayLike,
    *,
    translation_mm: Sequence[float] = (0.0, 0.0, 0.0),
    rotation_deg: Sequence[float] = (0.0, 0.0, 0.0),
    center_mm: Sequence[float] = (0.0, 0.0, 0.0),
) -> FloatArray:
    """A registration matrix (fixed → moving) changed so that the follow-up, resampled on the
    baseline grid, appears moved by ``translation_mm`` and rotated by ``rotation_deg`` (Euler,
    degrees, about LPS x, y, z) about ``center_mm`` — all in the baseline's LPS frame.

    The resampled overlay shows ``moving(M p)`` at baseline point ``p``; moving the overlay by a
    rigid motion ``N`` means showing at ``p`` what was at ``N⁻¹ p``, hence ``M' = M @ N⁻¹``.
    """
    motion = compose(
        translation(translation_mm),
        rotation_about(euler_to_matrix(*np.radians(np.asarray(rotation_deg, float))), center_mm),
    )
    return compose(_as_matrix(matrix), invert(motion))


@dataclass(frozen=True)
class PointFit:
    """Result of :func:`fit_rigid_points`: ``matrix`` maps the first point set onto the second;
    residuals are the per-pair distances (mm) after the fit, ``rms_mm`` their root mean square."""

    matrix: FloatArray
    rms_mm: float
    residuals_mm: FloatArray


def fit_rigid_points(source_mm: npt.ArrayLike, target_mm: npt.ArrayLike) -> PointFit:
    """Least-squares rigid transform (Kabsch/Horn, no scaling, no reflection) taking the ``(N, 3)``
    source points onto the ``(N, 3)`` target points, both in mm.

    Raises ValueError for fewer than 3 pairs, mismatched shapes, non-finite values, or points that
    are (nearly) collinear — a rotation about their common line would be undetermined.
    """
    src = np.asarray(source_mm, dtype=np.float64)
    dst = np.asarray(target_mm, dtype=np.float64)
    if src.ndim != 2 or src.shape[1] != 3 or src.shape != dst.shape:
        raise ValueError(f"point sets must both be (N, 3); got {src.shape} and {dst.shape}")
    if src.shape[0] < 3:
        raise ValueError(f"at least 3 point pairs are needed, got {src.shape[0]}")
    if not (np.all(np.isfinite(src)) and np.all(np.isfinite(dst))):
        raise ValueError("point coordinates must be finite")
    src_c, dst_c = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - src_c, dst - dst_c
    for name, pts in (("fixed", a), ("moving", b)):
        sv = np.linalg.svd(pts, compute_uv=False)
        # the second singular value measures the spread off the best line (mm·√N)
        if sv[1] < 1e-3 * max(sv[0], 1.0) or sv[1] / np.sqrt(len(pts)) < 0.5:
            raise ValueError(f"the {name} points are collinear (or coincide): need 3 points "
                             "spread in a plane")
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0  # −1 would be a reflection: flip the last axis
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = dst_c - rot @ src_c
    residuals = np.linalg.norm(apply(m, src) - dst, axis=1)
    return PointFit(m, float(np.sqrt(np.mean(residuals**2))), residuals)


def box_corners(center_mm: npt.ArrayLike, size_mm: float = 40.0) -> FloatArray:
    """The 8 corners ``(8, 3)`` in mm of an axis-aligned cube of edge ``size_mm`` centred on
    ``center_mm``."""
    c = np.asarray(center_mm, dtype=np.float64).reshape(3)
    h = size_mm / 2.0
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    return c + h * signs


def tre_box(
    estimate: npt.ArrayLike,
    truth: npt.ArrayLike,
    center_mm: npt.ArrayLike,
    size_mm: float = 40.0,
) -> float:
    """Target registration error in mm: the largest distance, over the 8 corners of a cube of edge
    ``size_mm`` centred on ``center_mm`` (fixed LPS), between the points mapped by ``estimate``
    and by ``truth``."""
    corners = box_corners(center_mm, size_mm)
    return float(np.max(np.linalg.norm(apply(estimate, corners) - apply(truth, corners), axis=1)))
