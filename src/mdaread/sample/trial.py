"""Generate the synthetic sample trial: DICOM series, truth.json, observations.json and
randomisation.csv (layout in docs/contracts.md).

Everything is derived from ``seed`` and the subject's index, so a given (seed, index) always gives
the same pixels and UIDs, whatever the number of subjects or worker processes.
"""

from __future__ import annotations

import csv
import json
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.model.volume import Volume
from mdaread.sample.anatomy import Anatomy, build_anatomy
from mdaread.sample.lesions import Cement, lesion_centre, lesion_parts, place_cement
from mdaread.sample.posture import Posture, draw_posture
from mdaread.sample.render import (
    Grid,
    add_streaks,
    axial_grid,
    finish_ct,
    finish_mr,
    render_values,
    sagittal_grid,
)
from mdaread.sample.scenarios import LABELS, NOMINAL_DAYS, Scenario, scenario_for, subject_id
from mdaread.sample.truth import TimepointFacts, timepoint_observation, timepoint_truth

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
DEFAULT_SEED = 1
DEFAULT_SUBJECTS = 8
CT_SLICE_MM = (1.0, 1.5, 2.0, 2.5, 3.0)
CT_PIXEL_MM = (0.78, 0.82, 0.86, 0.9)
MR_PIXEL_MM = (0.78, 0.82, 0.86)
MR_THICKNESS_MM, MR_SPACING_MM, MR_SLICES = 3.0, 3.3, 25
CT_NOISE_HU, MR_NOISE = 10.0, 14.0
MAX_ANGLE_DEG, MAX_SHIFT_MM = 5.0, 10.0
SEQUENCES: dict[str, tuple[int, str, dict[str, Any]]] = {
    # MR sequence → series number, description, acquisition attributes
    "T1": (3, "SAG T1 TSE", {"ScanningSequence": "SE", "SequenceVariant": "SK",
                            "RepetitionTime": "550", "EchoTime": "10", "EchoTrainLength": "3"}),
    "STIR": (4, "SAG STIR", {"ScanningSequence": ["SE", "IR"], "SequenceVariant": "SK",
                             "RepetitionTime": "3500", "EchoTime": "40",
                             "InversionTime": "150", "EchoTrainLength": "12"}),
}


@dataclass(frozen=True)
class Options:
    """How to write the trial: seed, DICOM compression (none | rle | jpegls), in-plane matrix."""

    seed: int = DEFAULT_SEED
    compression: str = "none"
    matrix: int = 256


def rotation(axis: npt.ArrayLike, angle_deg: float) -> F64:
    """3×3 rotation by ``angle_deg`` about the unit ``axis`` (Rodrigues' formula)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = math.radians(angle_deg)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * cross + (1 - math.cos(a)) * cross @ cross


def random_rigid(rng: np.random.Generator) -> F64:
    """A 4×4 baseline → follow-up LPS transform: rotation of 1–5° about a random axis through
    the treated body's centre (the LPS origin of the anatomy) and a 2–10 mm shift."""
    matrix = np.eye(4)
    matrix[:3, :3] = rotation(rng.normal(size=3), rng.uniform(1.0, MAX_ANGLE_DEG))
    direction = rng.normal(size=3)
    matrix[:3, 3] = direction / np.linalg.norm(direction) * rng.uniform(2.0, MAX_SHIFT_MM)
    return matrix


def _schedule(rng: np.random.Generator, index: int) -> tuple[date, list[int]]:
    """Treatment date and days since treatment of the five scans (within the workspace's
    label windows: baseline ≤ 0, 1m 14–60, 3m 61–135, 6m 136–270, 12m 271–500)."""
    treatment = date(2024, 1, 8) + timedelta(days=index * 9 + int(rng.integers(0, 7)))
    jitter = (int(rng.integers(-10, -3)), int(rng.integers(-4, 5)), int(rng.integers(-6, 7)),
              int(rng.integers(-8, 2)), int(rng.integers(-10, 11)))
    days = [NOMINAL_DAYS[0] + jitter[0] + 7] + [n + j for n, j in
                                               zip(NOMINAL_DAYS[1:], jitter[1:], strict=True)]
    return treatment, days


def _grid(rng: np.random.Generator, anatomy: Anatomy, scenario: Scenario, modality: str,
          slice_mm: float, matrix: F64, n_xy: int) -> Grid:
    """The scanner grid of one timepoint, in its own LPS frame, centred on the treated spine."""
    bodies = [anatomy.vertebrae[lv] for lv in scenario.treated_levels]
    zs = [v.cz for v in bodies]
    z_mid = (min(zs) + max(zs)) / 2
    target = matrix[:3, :3] @ np.array([0.0, 10.0, z_mid]) + matrix[:3, 3]
    target = target + rng.uniform(-3.0, 3.0, size=3)
    zoom = 256 / n_xy  # a smaller matrix keeps the field of view (≈ 200-230 mm)
    if modality == "MR":
        pixel = float(rng.choice(MR_PIXEL_MM)) * zoom
        return sagittal_grid(target, pixel, n_xy, MR_SPACING_MM, MR_SLICES)
    pixel = float(rng.choice(CT_PIXEL_MM)) * zoom
    coverage = max(zs) - min(zs) + 2.6 * (bodies[0].height + 8.0)
    return axial_grid(target, pixel, n_xy, slice_mm, round(coverage / slice_mm) + 1)


def _series_record(folder: str, grid: Grid, uids: dict[str, str], sequence: str | None,
                   thickness: float, n_files: int) -> dict[str, Any]:
    volume = Volume(np.zeros((1, 1, 1)), grid.affine)
    return {
        "folder": folder, "series_uid": uids["series"], "sequence": sequence,
        "study_uid": uids["study"], "frame_of_reference_uid": uids["for"],
        "n_files": n_files, "shape": list(grid.shape),
        "spacing": [round(v, 6) for v in volume.spacing],
        "origin": [round(v, 6) for v in volume.origin],
        "direction": [round(float(v), 10) for v in volume.direction.reshape(-1)],
        "slice_thickness": thickness,
    }


@dataclass(frozen=True)
class _Subject:
    """One subject being generated: where it goes, its script and its anatomy."""

    out: Path
    index: int
    options: Options
    scenario: Scenario
    anatomy: Anatomy
    cement: list[Cement]

    @property
    def sid(self) -> str:
        return subject_id(self.index)


def _render_timepoint(subject: _Subject, t: int, modality: str, grid: Grid, matrix: F64,
                      posture: Posture, thickness: float) -> dict[str, F32]:
    """Noiseless intensities of timepoint ``t`` on ``grid`` (this timepoint's LPS frame,
    reached from the baseline anatomy by ``posture`` then ``matrix``), each slice integrated
    over ``thickness`` mm: {"CT": HU} or {"T1": …, "STIR": …}."""
    scenario, anatomy = subject.scenario, subject.anatomy
    parts = anatomy.parts + lesion_parts(anatomy, scenario, t)
    if t > 0:
        for bolus in subject.cement:
            parts += bolus.parts(anatomy.vertebrae[bolus.level])
    contrasts = ("CT",) if modality == "CT" else ("T1", "STIR")
    values = render_values(parts, grid, np.asarray(np.linalg.inv(matrix), np.float64),
                           contrasts, thickness_mm=thickness, posture=posture)
    if LABELS[t] in scenario.artifacts and modality == "CT":
        index_lesion = next(les for les in scenario.lesions if les.treated_index)
        centre = lesion_centre(anatomy.vertebrae[index_lesion.level], index_lesion.offset)
        posed = posture.to_posed(centre)
        add_streaks(values["CT"], grid, matrix[:3, :3] @ posed + matrix[:3, 3])
    return values


def _write_timepoint(subject: _Subject, t: int, scan_date: date, grid: Grid,
                     values: dict[str, F32], thickness: float) -> list[dict[str, Any]]:
    """Add noise, write the timepoint's series (CT, or MR T1 + STIR) and describe them."""
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series, write_mr_series

    sid, label, options = subject.sid, LABELS[t], subject.options
    base = ("mdaread-sample", options.seed, sid, label)
    uids = {"study": derived_uid(*base, "study"), "for": derived_uid(*base, "frame-of-reference")}
    records = []
    for c, sequence in enumerate(("CT",) if "CT" in values else ("T1", "STIR")):
        rng = np.random.default_rng([options.seed, subject.index, t, c])
        folder = f"{label}_CT" if sequence == "CT" else f"{label}_MR_{sequence}"
        uids["series"] = derived_uid(*base, "series", sequence)
        info = SeriesInfo(
            patient_id=sid, study_uid=uids["study"], series_uid=uids["series"],
            frame_of_reference_uid=uids["for"], study_date=scan_date.strftime("%Y%m%d"),
            study_time=f"{9 + subject.index % 8:02d}{(7 * t) % 60:02d}00", series_number=2,
            series_description=f"CT SPINE {thickness:g}mm", study_id=str(t + 1),
            accession_number=f"{sid.replace('-', '')}{t}",
            institution=subject.scenario.centre, slice_thickness=thickness,
        )
        if sequence == "CT":
            volume = Volume(finish_ct(values["CT"], rng, CT_NOISE_HU), grid.affine)
            write_ct_series(volume, subject.out / sid / folder, info, options.compression)
        else:
            number, description, acquisition = SEQUENCES[sequence]
            data = finish_mr(values[sequence], rng, MR_NOISE)
            high = float(np.percentile(data, 99.5))
            info.series_number, info.series_description = number, description
            info.window = (round(high / 2), round(high))
            info.spacing_between_slices, info.mr = MR_SPACING_MM, dict(acquisition)
            write_mr_series(Volume(data, grid.affine), subject.out / sid / folder, info,
                            options.compression)
        records.append(_series_record(f"{sid}/{folder}", grid, uids,
                                      None if sequence == "CT" else sequence, thickness,
                                      grid.shape[0]))
    return records


def build_subject(out: Path, index: int, options: Options,
                  cancel: Cancel = never_cancel) -> tuple[dict[str, Any], dict[str, Any]]:
    """Render and write one subject's five timepoints; returns its truth.json and
    observations.json records. Everything random is drawn from (seed, index) in a fixed order."""
    scenario = scenario_for(index)
    rng = np.random.default_rng([options.seed, index])
    anatomy = build_anatomy(list(scenario.treated_levels), rng.uniform(0.95, 1.07),
                            rng.uniform(10.0, 24.0))
    subject = _Subject(out, index, options, scenario, anatomy, place_cement(anatomy, scenario))
    treatment, days = _schedule(rng, index)
    slices = rng.permutation(CT_SLICE_MM)
    truth_tps, obs_tps = [], []
    for t, modality in enumerate(scenario.modalities):
        check_cancel(cancel)
        matrix: F64 = np.eye(4) if t == 0 else random_rigid(rng)
        thickness = float(slices[t]) if modality == "CT" else MR_THICKNESS_MM
        grid = _grid(rng, anatomy, scenario, modality, thickness, matrix, options.matrix)
        # its own rng stream: the draws above (grids, dates, slices, lesions) stay as they were
        posture = draw_posture(options.seed, index, t, anatomy.vertebrae,
                               list(scenario.treated_levels))
        values = _render_timepoint(subject, t, modality, grid, matrix, posture, thickness)
        scan_date = treatment + timedelta(days=days[t])
        series = _write_timepoint(subject, t, scan_date, grid, values, thickness)
        facts = TimepointFacts(t, days[t], scan_date.isoformat(), modality, matrix, series,
                               posture)
        truth_tps.append(timepoint_truth(anatomy, scenario, subject.cement, facts))
        obs_tps.append(timepoint_observation(scenario, facts))
    truth = {
        "subject": subject.sid, "arm": scenario.arm, "centre": scenario.centre,
        "treated_levels": list(scenario.treated_levels),
        "treatment_date": treatment.isoformat(), "story": scenario.story,
        "vertebral_body_centres_baseline_lps": {
            lv: [round(c, 4) for c in v.centre()] for lv, v in anatomy.vertebrae.items()},
        "timepoints": truth_tps,
    }
    return truth, {"subject": subject.sid, "timepoints": obs_tps}


def _build_subject_job(job: tuple[Path, int, Options]) -> tuple[dict[str, Any], dict[str, Any]]:
    return build_subject(*job)


def generate_trial(out: str | Path, subjects: int = DEFAULT_SUBJECTS,
                   options: Options | None = None, jobs: int = 1,
                   progress: Progress = no_progress,
                   cancel: Cancel = never_cancel) -> dict[str, Any]:
    """Write the sample trial into ``out`` (created; must not hold a trial already) and return
    the truth.json content. ``jobs`` > 1 renders subjects in that many processes."""
    options = options or Options()
    out = Path(out)
    if subjects < 1:
        raise InputError(f"--subjects must be at least 1, got {subjects}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: output folder exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    work = [(out, i, options) for i in range(subjects)]
    results: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for result in pool.map(_build_subject_job, work):
                results.append(result)
                progress(len(results) / subjects, f"{result[0]['subject']} written")
                check_cancel(cancel)
    else:
        for job in work:
            results.append(build_subject(*job, cancel=cancel))
            progress(len(results) / subjects, f"{results[-1][0]['subject']} written")
    truth = _write_tables(out, options, results)
    return truth


def _write_tables(out: Path, options: Options,
                  results: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """truth.json, observations.json and randomisation.csv."""
    truth: dict[str, Any] = {
        "format": "mdaread-sample-truth/1", "generator": "mdaread sample",
        "seed": options.seed, "compression": options.compression, "matrix": options.matrix,
        "conventions": {
            "coordinates": "LPS mm; *_baseline_lps in the baseline scan's frame, *_lps in the "
                           "timepoint's own frame",
            "baseline_to_timepoint": "4x4 row-major, maps baseline LPS mm to this timepoint's "
                                     "LPS mm (same convention as mdaread register); exact for "
                                     "the treated vertebra (the posture's rigid zone) only",
            "posture": "the spine bends beyond the rigid zone (baseline z in "
                       "rigid_zone_z_baseline_lps) by sagittal_deg_per_level (+ flexion) and "
                       "lateral_deg_per_level (+ toward the patient's left) per level_mm; "
                       "other levels' centres_lps include the bend, so they move by more than "
                       "baseline_to_timepoint",
            "diameters": "long_mm and perp_mm are the true axial diameters in the baseline frame",
            "expected": "categories under the default protocol of mda-criteria.md",
        },
        "subjects": [r[0] for r in results],
    }
    observations = {"protocol": {}, "subjects": [r[1] for r in results]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    (out / "observations.json").write_text(json.dumps(observations, indent=1) + "\n",
                                           encoding="utf-8")
    with (out / "randomisation.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["subject", "arm", "centre", "treatment_date"])
        for subject in truth["subjects"]:
            writer.writerow([subject["subject"], subject["arm"], subject["centre"],
                             subject["treatment_date"]])
    return truth
