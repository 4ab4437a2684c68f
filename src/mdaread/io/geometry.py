"""Slice geometry of one candidate volume, from headers only: order, affine, checks, resampling.

Policy (the same in the scan and in the load, so a scan's warnings describe the loaded volume):

* Slices are ordered by their position along the slice normal n = row × column (never by
  instance number). The affine maps (i, j, k) to LPS mm with columns row·dx, col·dy, n·dz and
  origin at the first slice's ImagePositionPatient.
* Duplicate positions (two frames less than 0.01 mm apart along n) are refused with
  GeometryError: they mean several volumes in one stack that no header key separates.
* Non-uniform spacing or missing slices: when the largest gap is at most
  ``MAX_GAP_FACTOR`` × the smallest step, the stack is resampled onto a regular grid with the
  smallest step by linear interpolation along n (original slices keep their exact values), with
  a warning. Larger gaps are refused with GeometryError.
* Gantry tilt / sheared stacks (slice origins drifting in the image plane): every slice is
  shifted in its own plane by linear interpolation so that the grid becomes orthogonal (as
  dcm2niix does), with a warning giving the tilt angle. The plane orientation is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mdaread.errors import GeometryError
from mdaread.io import checks
from mdaread.io.headers import FrameInfo

DUPLICATE_TOL_MM = 0.01
UNIFORM_TOL_MM = 0.02
UNIFORM_TOL_FRACTION = 0.01
SHEAR_TOL_FRACTION = 0.02  # pixels of in-plane drift that count as none
SHEAR_TOL_DEGREES = 0.01  # a smaller tilt is cosine rounding, not gantry tilt
MAX_GAP_FACTOR = 3.0


@dataclass
class GeometryPlan:
    """How to turn ordered frames into a regular volume.

    ``frames`` are in slice order; ``distances`` their positions along the normal (mm) relative
    to the first; ``shifts`` the in-plane (dj, di) pixel shifts that remove a shear (all zero when
    none); ``target`` the normal positions (mm) of the output slices (equal to ``distances`` when
    no interpolation is needed). ``affine`` maps output (i, j, k, 1) to LPS mm.
    """

    frames: list[FrameInfo]
    distances: npt.NDArray[np.float64]
    shifts: npt.NDArray[np.float64]
    target: npt.NDArray[np.float64]
    affine: npt.NDArray[np.float64]
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        first = self.frames[0]
        return (len(self.target), first.rows, first.columns)

    @property
    def needs_shift(self) -> bool:
        return bool(np.any(self.shifts != 0.0))

    @property
    def needs_interpolation(self) -> bool:
        return len(self.target) != len(self.distances) or not np.allclose(
            self.target, self.distances, atol=1e-9
        )

    def check(self) -> None:
        """Raise GeometryError when this stack is refused."""
        if self.refusal is not None:
            raise GeometryError(self.refusal)


def _unit(vector: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        raise GeometryError("degenerate ImageOrientationPatient (zero-length direction)")
    return vector / norm


def axes(orientation: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit row (i), column (j) and normal (k) directions in LPS from ImageOrientationPatient."""
    values = np.asarray(orientation, dtype=np.float64)
    row = _unit(values[:3])
    col = _unit(values[3:])
    # Orthogonalise the column against the row: scanners write cosines rounded to a few digits.
    col = _unit(col - np.dot(col, row) * row)
    return row, col, np.cross(row, col)


def plan(frames: Sequence[FrameInfo], name: str) -> GeometryPlan:
    """Order ``frames`` along the normal, check the stack and return the resampling plan.

    ``name`` (a folder or series) prefixes messages. Never raises for geometry problems: the
    plan carries ``refusal`` instead, so a scan can report it and a load can raise it.
    """
    first = frames[0]
    row, col, normal = axes(first.orientation)
    dy, dx = first.pixel_spacing
    positions = np.array([f.position for f in frames], dtype=np.float64)
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    ordered = [frames[int(n)] for n in order]
    positions = positions[order]
    distances = along[order] - along[order][0]
    origin = positions[0]
    offsets = positions - origin
    shifts = np.stack([offsets @ col / dy, offsets @ row / dx], axis=1)
    warnings: list[str] = []
    refusal = _check_duplicates(distances, ordered, name)
    if _negligible_shear(shifts, offsets, distances, row, col):
        # Resampling by a fraction of a pixel would only blur lossless data: keep it as stored.
        shifts = np.zeros_like(shifts)
    elif refusal is None:
        warnings.append(_shear_warning(offsets, distances, row, col))
    target, step, gap_note = _regular_grid(distances, first, name)
    if gap_note is not None:
        if gap_note.startswith("refused:"):
            refusal = refusal or gap_note.removeprefix("refused:").strip()
        else:
            warnings.append(gap_note)
    affine = np.eye(4)
    affine[:3, 0] = row * dx
    affine[:3, 1] = col * dy
    affine[:3, 2] = normal * step
    affine[:3, 3] = origin
    return GeometryPlan(ordered, distances, shifts, target, affine, warnings, refusal)


def _negligible_shear(
    shifts: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64],
    distances: npt.NDArray[np.float64], row: npt.NDArray[np.float64],
    col: npt.NDArray[np.float64],
) -> bool:
    if np.max(np.abs(shifts), initial=0.0) <= SHEAR_TOL_FRACTION:
        return True
    drift = np.hypot(offsets @ row, offsets @ col)[1:]
    along = np.maximum(distances[1:], DUPLICATE_TOL_MM)
    angle = np.degrees(np.arctan(np.max(drift / along, initial=0.0)))
    return bool(angle <= SHEAR_TOL_DEGREES)


def _check_duplicates(
    distances: npt.NDArray[np.float64], frames: list[FrameInfo], name: str
) -> str | None:
    steps = np.diff(distances)
    same = np.flatnonzero(steps < DUPLICATE_TOL_MM)
    if same.size == 0:
        return None
    a, b = frames[int(same[0])], frames[int(same[0]) + 1]
    return (
        f"{name}: duplicate slice positions ({same.size} frame(s) repeat a position, "
        f"e.g. {_label(a)} and {_label(b)}); "
        "several volumes are mixed in this stack"
    )


def _label(frame: FrameInfo) -> str:
    return frame.path.name + ("" if frame.frame is None else f"#{frame.frame + 1}")


def _shear_warning(
    offsets: npt.NDArray[np.float64], distances: npt.NDArray[np.float64],
    row: npt.NDArray[np.float64], col: npt.NDArray[np.float64],
) -> str:
    in_plane = np.hypot(offsets @ row, offsets @ col)
    span = float(distances[-1]) if distances[-1] > 0 else 1.0
    angle = math.degrees(math.atan2(float(in_plane[-1]), span))
    return (
        f"gantry tilt / sheared stack ({angle:.2f}°): slices shifted in-plane onto an "
        "orthogonal grid by linear interpolation"
    )


def _regular_grid(
    distances: npt.NDArray[np.float64], first: FrameInfo, name: str
) -> tuple[npt.NDArray[np.float64], float, str | None]:
    """Target slice positions, the slice step in mm, and a warning or refusal note."""
    n = len(distances)
    if n == 1:
        return distances.copy(), *_single_slice_step(first)
    steps = np.diff(distances)
    span = float(distances[-1])
    mean = span / (n - 1)
    tol = max(UNIFORM_TOL_MM, UNIFORM_TOL_FRACTION * mean)
    if mean < DUPLICATE_TOL_MM:  # every frame at one position: refused as duplicates
        thickness = first.slice_thickness
        step = float(thickness) if thickness is not None and checks.usable_step(thickness) else 1.0
        return distances.copy(), step, None
    regular = np.arange(n) * mean
    if np.max(np.abs(distances - regular)) <= tol:
        return distances.copy(), mean, None
    smallest = float(np.min(steps))
    if smallest < DUPLICATE_TOL_MM:
        return distances.copy(), mean, None  # duplicates: refused elsewhere
    largest = float(np.max(steps))
    if largest > MAX_GAP_FACTOR * smallest + tol:
        where = int(np.argmax(steps))
        return distances.copy(), mean, (
            f"refused: {name}: slice gap of {largest:.2f} mm after slice {where + 1} is "
            f"{largest / smallest:.1f}× the {smallest:.2f} mm step (missing slices; "
            f"at most {MAX_GAP_FACTOR:g}× is interpolated)"
        )
    count = round(span / smallest) + 1
    target = np.linspace(0.0, span, count)
    step = span / (count - 1)
    return target, step, (
        f"non-uniform slice spacing ({smallest:.2f}–{largest:.2f} mm; missing slices?): "
        f"resampled from {n} to {count} slices of {step:.3f} mm by linear interpolation "
        "along the slice normal"
    )


def _single_slice_step(first: FrameInfo) -> tuple[float, str]:
    """A lone slice's z step (mm) and the warning saying where it came from: the first usable
    of SpacingBetweenSlices and SliceThickness, else the smallest pixel spacing."""
    notes: list[str] = []
    for tag, value in (("SpacingBetweenSlices", first.slice_step),
                       ("SliceThickness", first.slice_thickness)):
        if checks.usable_step(value):
            assert value is not None
            used = f"single slice: z spacing taken from {tag}"
            return float(value), "; ".join([*notes, used])
        if value is not None:
            notes.append(f"{tag} {value:g} in {first.path} is not a usable slice spacing")
    step = float(min(first.pixel_spacing))
    notes.append(f"single slice: z spacing set to the pixel spacing ({step:g} mm)")
    return step, "; ".join(notes)


def describe(plan_: GeometryPlan) -> tuple[tuple[float, float, float], tuple[float, ...]]:
    """(spacing [x, y, z] mm, direction 3×3 flattened row by row) of a plan's output grid."""
    lin = plan_.affine[:3, :3]
    spacing = np.linalg.norm(lin, axis=0)
    direction = lin / spacing
    return (
        (float(spacing[0]), float(spacing[1]), float(spacing[2])),
        tuple(float(v) for v in direction.reshape(-1)),
    )
