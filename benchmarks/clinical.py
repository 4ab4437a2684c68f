"""Clinical-size volumes for the benchmarks, rendered with mdaread's own sample generator.

Issue 15's grid: CT 512² at 0.7 mm with 400 slices of 1.0 mm (clinical range 305–609 slices at
0.625–1.25 mm); MR sagittal 512² at 0.55 mm with 18 slices every 3.6 mm. Each subject of the
sample trial gives a baseline and a follow-up of each modality; the follow-up is the same
anatomy (same posture: the truth is exactly rigid) moved by a known rigid transform
(:func:`mdaread.sample.trial.random_rigid`). Rendered volumes are cached in
benchmarks/_data/clinical/ (gitignored) as .npz: the first run renders (~15 s per CT).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mdaread.model.volume import Volume  # noqa: E402

CACHE = Path(__file__).resolve().parent / "_data" / "clinical"
CT_PIXEL_MM, CT_SLICE_MM, CT_SLICES = 0.7, 1.0, 400
MR_PIXEL_MM, MR_SLICE_MM, MR_SLICES = 0.55, 3.6, 18
MATRIX = 512


@dataclass(frozen=True)
class ClinicalSubject:
    """One subject's clinical-size volumes: baseline and follow-up of one modality, the truth
    (baseline LPS → follow-up LPS) and the treated vertebral body centre (baseline LPS mm)."""

    baseline: Volume
    follow_up: Volume
    truth: np.ndarray
    centre: np.ndarray


def clinical_subject(index: int, modality: str, seed: int = 1) -> ClinicalSubject:
    """Subject ``index`` of the sample trial on the clinical ``modality`` grid (cached)."""
    from mdaread.sample.anatomy import build_anatomy
    from mdaread.sample.lesions import lesion_parts
    from mdaread.sample.posture import draw_posture
    from mdaread.sample.scenarios import scenario_for
    from mdaread.sample.trial import random_rigid

    scenario = scenario_for(index)
    rng = np.random.default_rng([seed, index])
    anatomy = build_anatomy(list(scenario.treated_levels), rng.uniform(0.95, 1.07),
                            rng.uniform(10.0, 24.0))
    level = scenario.treated_levels[0]
    centre = np.asarray(anatomy.vertebrae[level].centre(), dtype=np.float64)
    truth = random_rigid(np.random.default_rng([seed, index, 99]))
    posture = draw_posture(seed, index, 0, anatomy.vertebrae, list(scenario.treated_levels))
    parts = anatomy.parts + lesion_parts(anatomy, scenario, 0)
    volumes = []
    for role, matrix in (("baseline", np.eye(4)), ("follow-up", truth)):
        path = CACHE / f"s{seed}-{index}-{modality}-{role}.npz"
        if path.is_file():
            data = np.load(path)
            volumes.append(Volume(data["array"], data["affine"], modality=modality))
            continue
        array, affine = _render(parts, posture, centre, matrix, modality, seed, index, role)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, array=array, affine=affine)
        volumes.append(Volume(array, affine, modality=modality))
    return ClinicalSubject(volumes[0], volumes[1], truth, centre)


def _render(parts, posture, centre, matrix, modality, seed, index, role):  # type: ignore[no-untyped-def]
    from mdaread.sample.render import (
        axial_grid,
        finish_ct,
        finish_mr,
        render_values,
        sagittal_grid,
    )

    target = matrix[:3, :3] @ (centre + np.array([0.0, 10.0, 0.0])) + matrix[:3, 3]
    rng = np.random.default_rng([seed, index, 7, 0 if role == "baseline" else 1])
    target = target + rng.uniform(-3.0, 3.0, size=3)
    if modality == "CT":
        grid = axial_grid(target, CT_PIXEL_MM, MATRIX, CT_SLICE_MM, CT_SLICES)
        values = render_values(parts, grid, np.linalg.inv(matrix), ("CT",),
                               thickness_mm=CT_SLICE_MM, posture=posture)
        return finish_ct(values["CT"], rng, 10.0), grid.affine
    grid = sagittal_grid(target, MR_PIXEL_MM, MATRIX, MR_SLICE_MM, MR_SLICES)
    values = render_values(parts, grid, np.linalg.inv(matrix), ("T1",),
                           thickness_mm=3.0, posture=posture)
    return finish_mr(values["T1"], rng, 14.0), grid.affine
