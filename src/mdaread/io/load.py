"""`load_series` / `load_path`: a candidate's pixels → a Volume in HU / stored units after rescale.

Values: stored values × RescaleSlope + RescaleIntercept, per frame. The stored dtype is kept when
no frame rescales; integral rescales give int16 when the actual values fit, else int32;
non-integral slopes or intercepts give float32. Geometry follows :mod:`mdaread.io.geometry`:
slices ordered along the normal, sheared (gantry-tilted) stacks shifted in-plane onto an
orthogonal grid, small gaps interpolated linearly along the normal, duplicates and large gaps
refused. Resampled integer data is rounded back to its integer dtype.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mdaread.errors import DicomError
from mdaread.io import geometry
from mdaread.io.headers import FrameInfo
from mdaread.io.pixels import read_stored
from mdaread.io.scan import scan_path
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.model.scan import SeriesCandidate
from mdaread.model.volume import Volume

MEMORY_FRACTION = 0.5


def load_series(
    candidate: SeriesCandidate, *, progress: Progress = no_progress,
    cancel: Cancel = never_cancel,
) -> Volume:
    """Load one scanned candidate as a Volume (array [k, j, i], affine (i, j, k, 1) → LPS mm).

    Reuses the headers read by the scan; a candidate built elsewhere (files only) is rescanned.
    Raises GeometryError for a refused stack and DicomError for undecodable pixel data.
    """
    plan = candidate.extra.get("plan")
    if not isinstance(plan, geometry.GeometryPlan):
        plan = _rescan(candidate)
    plan.check()
    _check_size(plan, candidate.key)
    stored = read_stored(plan.frames, progress, cancel)
    check_cancel(cancel)
    values = _rescale(stored, plan)
    if plan.needs_shift:
        values = _unshear(values, plan.shifts)
    if plan.needs_interpolation:
        values = _interpolate(values, plan.distances, plan.target)
    progress(1.0, "loaded")
    return Volume(
        array=values,
        affine=plan.affine.copy(),
        modality=candidate.modality,
        series_uid=candidate.series_uid,
        frame_of_reference_uid=candidate.frame_of_reference_uid,
        description=candidate.description,
        warnings=tuple(candidate.warnings),
    )


def _memory_bytes() -> int:
    """Physical memory of this machine in bytes (a large guess when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 1 << 40


def _check_size(plan: geometry.GeometryPlan, key: str) -> None:
    """DicomError before allocating a volume that cannot fit: stored frames plus the float32
    result (its largest form) must stay within MEMORY_FRACTION of physical memory."""
    first = plan.frames[0]
    pixels = first.rows * first.columns
    need = pixels * (len(plan.frames) * max(first.bits_allocated // 8, 1) + 4 * plan.shape[0])
    limit = MEMORY_FRACTION * _memory_bytes()
    if need > limit:
        raise DicomError(
            f"{first.path}: series {key} is {plan.shape[0]}×{first.rows}×{first.columns} voxels "
            f"({need / 2**30:.1f} GiB to load), more than this machine can hold "
            f"({limit / 2**30:.1f} GiB)")


def _rescan(candidate: SeriesCandidate) -> geometry.GeometryPlan:
    """Rebuild the plan from the candidate's files (e.g. a candidate restored from storage).

    With ``candidate.extra["header_key"]`` (the workspace's content hash of the files, checked
    by the caller) the headers come from :mod:`mdaread.io.header_cache` when an entry rebuilds
    the candidate's stored geometry; else they are read and saved there for the next time."""
    from mdaread.io import header_cache

    key = str(candidate.extra.get("header_key") or "")
    cached = header_cache.load(key, candidate.files) if key else None
    if cached is not None:
        plan = _match(candidate, cached)
        if plan is not None and _same_geometry(candidate, plan):
            return plan
    frames = _read_frames(candidate)
    plan = _match(candidate, frames)
    if plan is None:
        raise DicomError(f"{candidate.key}: its files no longer hold this series")
    if key:
        header_cache.save(key, candidate.files, frames)
    return plan


def _read_frames(candidate: SeriesCandidate) -> list[FrameInfo]:
    from mdaread.io.headers import SkipFile, frames_from_file

    frames = []
    for path in candidate.files:
        try:
            frames.extend(frames_from_file(Path(path)))
        except SkipFile as exc:
            raise DicomError(f"{path}: {exc}") from None
    return frames


def _match(candidate: SeriesCandidate, frames: list[FrameInfo]) -> geometry.GeometryPlan | None:
    """The plan of the volume among ``frames`` that is ``candidate`` (None: none is)."""
    from mdaread.io.scan import build_candidates

    found = build_candidates(frames, [])
    # A file subset may number split volumes differently: the description carries the split
    # label ("[TE 40 axial]"), so it decides first, then the key, then a lone candidate.
    match = (
        [c for c in found if c.description == candidate.description and c.key == candidate.key]
        or [c for c in found if c.description == candidate.description]
        or [c for c in found if c.key == candidate.key]
        or (found if len(found) == 1 else [])
    )
    if not match:
        return None
    plan = match[0].extra["plan"]
    assert isinstance(plan, geometry.GeometryPlan)
    return plan


def _same_geometry(candidate: SeriesCandidate, plan: geometry.GeometryPlan) -> bool:
    """Whether ``plan`` gives the grid the candidate was stored with (a candidate without a
    stored shape has nothing to compare)."""
    if not candidate.shape:
        return True
    spacing, direction = geometry.describe(plan)
    return (tuple(plan.shape) == tuple(candidate.shape)
            and np.allclose(spacing, candidate.spacing, atol=1e-6)
            and np.allclose(plan.affine[:3, 3], candidate.origin, atol=1e-4)
            and np.allclose(direction, candidate.direction, atol=1e-6))


def _rescale(stored: npt.NDArray[np.generic], plan: geometry.GeometryPlan) -> np.ndarray:
    slopes = np.array([f.slope for f in plan.frames], dtype=np.float64)
    intercepts = np.array([f.intercept for f in plan.frames], dtype=np.float64)
    if np.all(slopes == 1.0) and np.all(intercepts == 0.0):
        return stored
    integral = np.all(slopes == np.round(slopes)) and np.all(intercepts == np.round(intercepts))
    if not integral:
        return _float_rescale(stored, slopes, intercepts)
    low, high = float(stored.min()), float(stored.max())
    ends = np.concatenate([low * slopes + intercepts, high * slopes + intercepts])
    dtype = _integer_dtype(float(ends.min()), float(ends.max()))
    if dtype is None:  # integral but beyond int32: float32 holds it (checks bound the range)
        return _float_rescale(stored, slopes, intercepts)
    if np.all(slopes == 1.0) and np.all(intercepts == intercepts[0]):
        same = stored if stored.dtype == dtype else _same_values_view(stored, dtype, high)
        if same is not None:
            same += dtype.type(intercepts[0])  # in place: the range check rules out overflow
            return same
    out = np.empty(stored.shape, dtype=dtype)
    for k in range(stored.shape[0]):  # per slice keeps the int64 temporary small
        out[k] = stored[k].astype(np.int64) * int(slopes[k]) + int(intercepts[k])
    return out


def _float_rescale(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray
                   ) -> npt.NDArray[np.float32]:
    """Per-slice stored × slope + intercept in float32 (finite: checks.SLOPE_RANGE)."""
    out = stored.astype(np.float32)
    out *= slopes.astype(np.float32)[:, None, None]
    out += intercepts.astype(np.float32)[:, None, None]
    return out


def _integer_dtype(low: float, high: float) -> np.dtype | None:
    """int16 when [low, high] fits it, else int32, else None (a float result is needed)."""
    for kind in (np.int16, np.int32):
        info = np.iinfo(kind)
        if low >= info.min and high <= info.max:
            return np.dtype(kind)
    return None


def _same_values_view(stored: np.ndarray, dtype: np.dtype, high: float) -> np.ndarray | None:
    """``stored`` reinterpreted as ``dtype`` when every value survives (e.g. uint16 ≤ 32767)."""
    if stored.dtype.itemsize == dtype.itemsize and high <= np.iinfo(dtype).max:
        return stored.view(dtype)
    return None


def _as_float(values: np.ndarray) -> npt.NDArray[np.float32]:
    return values.astype(np.float32, copy=False)


def _back(result: npt.NDArray[np.float32], like: np.ndarray) -> np.ndarray:
    """Resampled values in the input's dtype (integers rounded)."""
    if np.issubdtype(like.dtype, np.integer):
        info = np.iinfo(like.dtype)
        return np.clip(np.rint(result), info.min, info.max).astype(like.dtype)
    return result.astype(like.dtype, copy=False)


def _unshear(values: np.ndarray, shifts: npt.NDArray[np.float64]) -> np.ndarray:
    """Shift each slice in-plane by (dj, di) pixels (linear; outside the field → data minimum)."""
    from scipy import ndimage

    fill = float(values.min())
    data = _as_float(values)
    out = np.empty(values.shape, dtype=np.float32)
    for k in range(values.shape[0]):
        ndimage.shift(data[k], shifts[k], output=out[k], order=1, mode="constant", cval=fill)
    return _back(out, values)


def _interpolate(
    values: np.ndarray, distances: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> np.ndarray:
    """Linear interpolation along k from slices at ``distances`` to slices at ``target`` (mm)."""
    upper = np.clip(np.searchsorted(distances, target, side="left"), 1, len(distances) - 1)
    lower = upper - 1
    span = distances[upper] - distances[lower]
    weight = np.clip((target - distances[lower]) / span, 0.0, 1.0)
    out = np.empty((len(target), *values.shape[1:]), dtype=np.float32)
    for k, (a, b, w) in enumerate(zip(lower, upper, weight, strict=True)):
        if w < 1e-6:
            out[k] = values[a]
        elif w > 1 - 1e-6:
            out[k] = values[b]
        else:
            out[k] = (1.0 - w) * _as_float(values[a]) + w * _as_float(values[b])
    return _back(out, values)


def load_path(
    path: str | Path, *, series_uid: str | None = None, progress: Progress = no_progress,
    cancel: Cancel = never_cancel,
) -> Volume:
    """Scan ``path`` and load one volume.

    ``series_uid`` may be a Series Instance UID or a candidate key (``UID/2`` for the second
    volume of a split series). Without it, the loadable candidate with most frames is chosen and
    a warning names the others. Raises DicomError when there is no volume (or no such series).
    """
    result = scan_path(path, progress=lambda f, m: progress(0.3 * f, m), cancel=cancel)
    candidates = result.series
    if series_uid is not None:
        candidates = [c for c in candidates if c.key == series_uid] or [
            c for c in candidates if c.series_uid == series_uid
        ]
        if not candidates:
            raise DicomError(f"{path}: no series {series_uid} (see `mdaread scan`)")
    if not candidates:
        reasons = sorted({s.reason for s in result.skipped})
        detail = f" (skipped: {'; '.join(reasons[:3])})" if reasons else ""
        raise DicomError(f"{path}: no loadable DICOM series{detail}")
    chosen = _choose(candidates)
    others = [c.key for c in candidates if c is not chosen]
    volume = load_series(
        chosen, progress=lambda f, m: progress(0.3 + 0.7 * f, m), cancel=cancel
    )
    if not others:
        return volume
    note = f"{path} holds {len(candidates)} volumes; loaded {chosen.key}, not {', '.join(others)}"
    return Volume(
        array=volume.array, affine=volume.affine, modality=volume.modality,
        series_uid=volume.series_uid, frame_of_reference_uid=volume.frame_of_reference_uid,
        description=volume.description, warnings=(*volume.warnings, note),
    )


def _choose(candidates: list[SeriesCandidate]) -> SeriesCandidate:
    def frames(c: SeriesCandidate) -> int:
        plan = c.extra.get("plan")
        return len(plan.frames) if isinstance(plan, geometry.GeometryPlan) else c.n_files

    def loadable(c: SeriesCandidate) -> bool:
        plan = c.extra.get("plan")
        return not isinstance(plan, geometry.GeometryPlan) or plan.refusal is None

    pool = [c for c in candidates if loadable(c)] or candidates
    return max(pool, key=frames)
