"""The synthetic sample trial: layout, determinism, truth.json consistency, outcome coverage."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from mdaread.sample.posture import Posture
from mdaread.sample.scenarios import LABELS
from mdaread.sample.trial import Options, generate_trial

SMALL = 64  # in-plane matrix for fast tests (the field of view stays realistic)
DCIODVFY = shutil.which("dciodvfy")


@pytest.fixture(scope="session")
def small_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first four subjects (they cover every outcome) on a coarse grid, JPEG-LS."""
    out = tmp_path_factory.mktemp("sample") / "trial"
    generate_trial(out, subjects=4, options=Options(seed=3, matrix=SMALL, compression="jpegls"))
    return out


@pytest.fixture(scope="session")
def truth(small_trial: Path) -> dict[str, Any]:
    return json.loads((small_trial / "truth.json").read_text())


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def plain_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Subject 1, uncompressed, generated twice with the same seed."""
    root = tmp_path_factory.mktemp("twice")
    for name in ("a", "b"):
        generate_trial(root / name, subjects=1, options=Options(seed=11, matrix=32))
    return root / "a", root / "b"


def test_same_seed_gives_identical_files(plain_twice: tuple[Path, Path],
                                         truth: dict[str, Any]) -> None:
    first, second = plain_twice
    assert _hashes(first) == _hashes(second)
    other = json.loads((first / "truth.json").read_text())["subjects"][0]["timepoints"][0]
    mine = truth["subjects"][0]["timepoints"][0]  # seed 3 instead of 11
    assert other["series"][0]["series_uid"] != mine["series"][0]["series_uid"]
    assert other["series"][0]["study_uid"] != mine["series"][0]["study_uid"]


def test_folder_layout(small_trial: Path, truth: dict[str, Any]) -> None:
    assert {p.name for p in small_trial.iterdir()} == {
        "truth.json", "observations.json", "randomisation.csv",
        "MDA-001", "MDA-002", "MDA-003", "MDA-004"}
    for subject in truth["subjects"]:
        folders = {p.name for p in (small_trial / subject["subject"]).iterdir()}
        expected = set()
        for tp in subject["timepoints"]:
            for series in tp["series"]:
                assert series["folder"].startswith(subject["subject"] + "/")
                expected.add(series["folder"].split("/", 1)[1])
                files = sorted((small_trial / series["folder"]).iterdir())
                assert [f.name for f in files] == [f"IM_{n:04d}.dcm"
                                                   for n in range(1, len(files) + 1)]
                assert len(files) == series["n_files"] == series["shape"][0]
        assert folders == expected
        for tp in subject["timepoints"]:
            names = {s["folder"].split("/", 1)[1] for s in tp["series"]}
            if tp["modality"] == "CT":
                assert names == {f"{tp['label']}_CT"}
            else:  # an MR timepoint holds both sequences
                assert names == {f"{tp['label']}_MR_T1", f"{tp['label']}_MR_STIR"}


def test_randomisation_matches_truth(small_trial: Path, truth: dict[str, Any]) -> None:
    with (small_trial / "randomisation.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["subject", "arm", "centre", "treatment_date"]
    for row, subject in zip(rows, truth["subjects"], strict=True):
        assert row == {k: subject[k] for k in ("subject", "arm", "centre", "treatment_date")}
    assert {r["arm"] for r in rows} == {"RFA+VP", "RFA+VP+SBRT"}
    assert {r["centre"] for r in rows} == {"C1", "C2", "C3"}


def test_timepoints_labels_days_and_dates(truth: dict[str, Any]) -> None:
    windows = {"baseline": (-60, 0), "1m": (14, 60), "3m": (61, 135), "6m": (136, 270),
               "12m": (271, 500)}
    for subject in truth["subjects"]:
        treated = date.fromisoformat(subject["treatment_date"])
        assert [tp["label"] for tp in subject["timepoints"]] == list(LABELS)
        for tp in subject["timepoints"]:
            lo, hi = windows[tp["label"]]
            assert lo <= tp["days"] <= hi
            assert tp["date"] == (treated + timedelta(days=tp["days"])).isoformat()
        levels = subject["treated_levels"]
        assert 1 <= len(levels) <= 2
        order = [f"T{n}" for n in range(5, 13)] + [f"L{n}" for n in range(1, 6)]
        assert all(level in order for level in levels)


def _rotation_angle_deg(rotation: np.ndarray) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(rotation) - 1) / 2))))


def test_transforms_are_rigid_and_small(truth: dict[str, Any]) -> None:
    for subject in truth["subjects"]:
        for tp in subject["timepoints"]:
            m = np.array(tp["baseline_to_timepoint"])
            assert m.shape == (4, 4)
            assert np.allclose(m[3], [0, 0, 0, 1])
            r, t = m[:3, :3], m[:3, 3]
            assert np.allclose(r @ r.T, np.eye(3), atol=1e-8)
            assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-8)
            if tp["label"] == "baseline":
                assert np.allclose(m, np.eye(4))
            else:
                assert 0.5 < _rotation_angle_deg(r) <= 5.0 + 1e-9
                assert 1.0 < np.linalg.norm(t) <= 10.0 + 1e-9


def _posture(tp: dict[str, Any]) -> Posture:
    record = tp["posture"]
    return Posture(record["sagittal_deg_per_level"], record["lateral_deg_per_level"],
                   record["level_mm"], *record["rigid_zone_z_baseline_lps"])


def test_points_are_mapped_by_the_posture_then_the_transform(truth: dict[str, Any]) -> None:
    for subject in truth["subjects"]:
        centres = subject["vertebral_body_centres_baseline_lps"]
        for tp in subject["timepoints"]:
            m, posture = np.array(tp["baseline_to_timepoint"]), _posture(tp)

            def mapped(p: list[float], m: np.ndarray = m, posture: Posture = posture,
                       bend: bool = True) -> np.ndarray:
                posed = posture.to_posed(p) if bend else np.array(p)
                return m[:3, :3] @ posed + m[:3, 3]

            for lesion in tp["lesions"] + tp["new_lesions"]:
                assert np.allclose(mapped(lesion["centre_baseline_lps"]), lesion["centre_lps"],
                                   atol=1e-3)
            for level, centre in tp["vertebral_body_centres_lps"].items():
                assert np.allclose(mapped(centres[level]), centre, atol=1e-3)
            for bolus in tp["cement"]["boluses"]:  # inside the rigid zone: the transform alone
                assert np.allclose(mapped(bolus["centre_baseline_lps"], bend=False),
                                   bolus["centre_lps"], atol=1e-3)
            for level in subject["treated_levels"]:
                assert np.allclose(mapped(centres[level], bend=False),
                                   tp["vertebral_body_centres_lps"][level], atol=1e-3)
            assert tp["cement"]["present"] == (tp["label"] != "baseline")


def test_other_levels_move_by_more_than_the_transform(truth: dict[str, Any]) -> None:
    """Two levels beyond the treated ones the posture moves a body's centre by about
    κ·s²/2 (κ the curvature, s its distance beyond the rigid zone) on top of the transform."""
    from mdaread.sample.anatomy import LEVELS

    for subject in truth["subjects"]:
        centres = subject["vertebral_body_centres_baseline_lps"]
        treated = sorted(LEVELS.index(lv) for lv in subject["treated_levels"])
        far = [LEVELS[i] for i in (treated[0] - 2, treated[-1] + 2) if 0 <= i < len(LEVELS)]
        for tp in subject["timepoints"]:
            m, record = np.array(tp["baseline_to_timepoint"]), tp["posture"]
            lo, hi = record["rigid_zone_z_baseline_lps"]
            assert lo < min(centres[lv][2] for lv in subject["treated_levels"]) - 8
            assert hi > max(centres[lv][2] for lv in subject["treated_levels"]) + 8
            kappa = math.radians(math.hypot(record["sagittal_deg_per_level"],
                                             record["lateral_deg_per_level"])) / record["level_mm"]
            if tp["label"] == "baseline":
                assert kappa == 0
            for level in far:
                rigid = m[:3, :3] @ np.array(centres[level]) + m[:3, 3]
                extra = float(np.linalg.norm(tp["vertebral_body_centres_lps"][level] - rigid))
                s = max(centres[level][2] - hi, lo - centres[level][2])
                assert extra == pytest.approx(kappa * s * s / 2, rel=0.05, abs=2e-3)


def test_every_timepoint_has_its_own_uids(truth: dict[str, Any]) -> None:
    studies, frames, series = [], [], []
    for subject in truth["subjects"]:
        for tp in subject["timepoints"]:
            assert len({s["study_uid"] for s in tp["series"]}) == 1
            assert len({s["frame_of_reference_uid"] for s in tp["series"]}) == 1
            studies.append(tp["series"][0]["study_uid"])
            frames.append(tp["series"][0]["frame_of_reference_uid"])
            series += [s["series_uid"] for s in tp["series"]]
    for uids in (studies, frames, series):
        assert len(set(uids)) == len(uids)
        assert all(u.startswith("2.25.") and len(u) <= 64 for u in uids)


def test_slice_spacing_differs_between_timepoints(truth: dict[str, Any]) -> None:
    for subject in truth["subjects"]:
        ct = [tp["series"][0]["spacing"][2] for tp in subject["timepoints"]
              if tp["modality"] == "CT"]
        assert len(set(ct)) == len(ct)
        for tp in subject["timepoints"]:
            fov = [s["spacing"][0] * s["shape"][2] for s in tp["series"]]
            assert all(195 <= f <= 235 for f in fov)


def _outcomes(truth: dict[str, Any]) -> set[str]:
    """Which scripted outcomes the trial holds, read from truth (not from mdaread.criteria)."""
    found = set()
    for subject in truth["subjects"]:
        tps = subject["timepoints"]
        base = {les["id"]: les["long_mm"] * les["perp_mm"] for les in tps[0]["lesions"]}
        for tp in tps[1:]:
            cat, final = tp["expected_category"], tp["expected_final_category"]
            signs = {s for les in tp["lesions"] for s in les["signs"]}
            spd = sum(les["long_mm"] * les["perp_mm"] for les in tp["lesions"])
            change = 100 * (spd - sum(base.values())) / sum(base.values())
            new = tp["new_lesions"]
            if cat == "CR" and "complete_fill_in" in signs:
                found.add("CR fill-in")
            if cat == "PR" and new and all(n["phenotype"] == "sclerotic" for n in new):
                found.add("PR flare")
            elif cat == "PR" and "sclerotic_rim" in signs:
                found.add("PR rim")
            elif cat == "PR" and not signs and change <= -50:
                found.add("PR shrinkage")
            if cat == "SD":
                found.add("SD")
            if cat == "PD" and any(n["status"] == "definite" and n["phenotype"] != "sclerotic"
                                   for n in new):
                found.add("PD new lesion")
            elif cat == "PD" and change >= 25:
                found.add("PD growth")
            if cat == "PDu":
                found.add("PDu confirmed" if final == "PD" else "PDu resolved")
    return found


ALL_OUTCOMES = {"CR fill-in", "PR rim", "PR shrinkage", "PR flare", "SD", "PD growth",
                "PD new lesion", "PDu resolved", "PDu confirmed"}


def test_first_four_subjects_cover_every_outcome(truth: dict[str, Any]) -> None:
    assert _outcomes(truth) == ALL_OUTCOMES
    modalities = {tp["modality"] for s in truth["subjects"] for tp in s["timepoints"]}
    assert modalities == {"CT", "MR"}


def test_observations_are_the_reader_view_of_truth(small_trial: Path,
                                                   truth: dict[str, Any]) -> None:
    obs = json.loads((small_trial / "observations.json").read_text())
    assert set(obs) == {"protocol", "subjects"}
    for o_subject, t_subject in zip(obs["subjects"], truth["subjects"], strict=True):
        assert o_subject["subject"] == t_subject["subject"]
        for o_tp, t_tp in zip(o_subject["timepoints"], t_subject["timepoints"], strict=True):
            assert (o_tp["label"], o_tp["days"], o_tp["modality"]) == (
                t_tp["label"], t_tp["days"], t_tp["modality"])
            for o_les, t_les in zip(o_tp["lesions"], t_tp["lesions"], strict=True):
                assert o_les["id"] == t_les["id"]
                assert (o_les["long_mm"], o_les["perp_mm"]) == (t_les["long_mm"],
                                                                t_les["perp_mm"])
            if t_tp["label"] != "baseline":
                assert [n["id"] for n in o_tp["new_lesions"]] == [
                    n["id"] for n in t_tp["new_lesions"]]
                for flag, raised in t_tp["flags"].items():
                    assert o_tp[flag] is raised


def test_criteria_engine_reproduces_expected_categories(small_trial: Path,
                                                        truth: dict[str, Any]) -> None:
    criteria = pytest.importorskip("mdaread.criteria")
    data = json.loads((small_trial / "observations.json").read_text())
    protocol, subjects = criteria.parse_batch(data)
    for subject, t_subject in zip(subjects, truth["subjects"], strict=True):
        results = criteria.assess_subject(subject, protocol)
        got = [(r.category, r.final_category) for r in results]
        want = [(tp["expected_category"], tp["expected_final_category"])
                for tp in t_subject["timepoints"]]
        assert got == want, t_subject["subject"]


# ---- the trial as DICOM ----

def _series(truth: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any],
                                                  dict[str, Any]]]:
    return [(subject, tp, series) for subject in truth["subjects"]
            for tp in subject["timepoints"] for series in tp["series"]]


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) not installed")
def test_dciodvfy_finds_no_errors(small_trial: Path, truth: dict[str, Any],
                                  plain_twice: tuple[Path, Path]) -> None:
    picked = []
    for _, _, series in _series(truth):  # JPEG-LS CT and MR
        files = sorted((small_trial / series["folder"]).iterdir())
        picked += [files[0], files[-1]]
    plain = plain_twice[0] / "MDA-001"  # explicit VR little endian
    picked += [sorted(folder.iterdir())[0] for folder in sorted(plain.iterdir())]
    for path in picked:
        result = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True,
                                check=False, timeout=60)
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert not errors, f"{path}: {errors}"
        assert ("CTImage" in report) or ("MRImage" in report), report


def test_headers_follow_truth(small_trial: Path, truth: dict[str, Any]) -> None:
    out = small_trial
    for subject, tp, series in _series(truth):
        ds = pydicom.dcmread(out / series["folder"] / "IM_0001.dcm")
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGLSLossless
        assert ds.PatientID == subject["subject"] == str(ds.PatientName)
        assert ds.PatientBirthDate == ""
        assert ds.StudyDate == ds.SeriesDate == ds.ContentDate == tp["date"].replace("-", "")
        assert ds.StudyTime
        assert ds.SeriesInstanceUID == series["series_uid"]
        assert ds.StudyInstanceUID == series["study_uid"]
        assert ds.FrameOfReferenceUID == series["frame_of_reference_uid"]
        assert ds.Modality == tp["modality"]
        assert ds.BitsStored == 12
        assert float(ds.SliceThickness) == pytest.approx(series["slice_thickness"])
        if tp["modality"] == "CT":
            assert float(ds.RescaleIntercept) == -1024 and float(ds.RescaleSlope) == 1
        else:
            assert float(ds.SpacingBetweenSlices) == pytest.approx(series["spacing"][2])
            assert series["sequence"] in ds.SeriesDescription


def test_round_trip_through_io(small_trial: Path, truth: dict[str, Any]) -> None:
    io = pytest.importorskip("mdaread.io")
    out = small_trial
    found = {c.series_uid: c for c in io.scan_path(out).series}
    for _, tp, series in _series(truth):
        candidate = found[series["series_uid"]]
        assert list(candidate.shape) == series["shape"]
        volume = io.load_series(candidate)
        assert list(volume.shape) == series["shape"]
        assert np.allclose(volume.spacing, series["spacing"], atol=1e-4)
        assert np.allclose(volume.origin, series["origin"], atol=1e-3)
        assert np.allclose(volume.direction.reshape(-1), series["direction"], atol=1e-6)
        if tp["modality"] != "CT":
            continue
        for lesion in tp["lesions"]:
            i, j, k = np.rint(volume.world_to_index(lesion["centre_lps"])).astype(int)
            value = float(volume.array[k, j, i])
            if lesion["look"] in ("lytic", "lytic_rim"):
                assert value < 200, (series["folder"], lesion)
            elif lesion["look"] in ("blastic", "filled"):
                assert value > 500, (series["folder"], lesion)
        for bolus in tp["cement"]["boluses"]:
            i, j, k = np.rint(volume.world_to_index(bolus["centre_lps"])).astype(int)
            # 3.5 mm pixels blur the small bolus; full resolution is checked in test_sample_phantom
            assert float(volume.array[k, j, i]) >= 1500  # denser than any bone


def _ball_mean(volume: Any, centre: list[float], radius_mm: float) -> float:
    """Mean value of the voxels within ``radius_mm`` of ``centre`` (LPS mm)."""
    k, j, i = np.indices(volume.shape)
    points = volume.index_to_world(np.stack([i, j, k], axis=-1).reshape(-1, 3))
    near = np.linalg.norm(points - np.asarray(centre), axis=1) <= radius_mm
    assert near.any()
    return float(volume.array.reshape(-1)[near].mean())


def test_mr_lesions_are_dark_on_t1_and_bright_on_stir(small_trial: Path,
                                                       truth: dict[str, Any]) -> None:
    io = pytest.importorskip("mdaread.io")
    checked = 0
    for _, tp, series in _series(truth):
        if tp["modality"] != "MR":
            continue
        volume = io.load_path(small_trial / series["folder"])
        for lesion in tp["lesions"]:
            if lesion["look"] not in ("lytic", "mixed"):
                continue
            value = _ball_mean(volume, lesion["centre_lps"], 0.35 * lesion["perp_mm"])
            # normal marrow: the centre of the untreated body above
            marrow = _ball_mean(volume, tp["vertebral_body_centres_lps"][
                _neighbour(lesion["level"])], 5.0)
            if series["sequence"] == "T1":
                assert value < 0.6 * marrow, (series["folder"], lesion["id"])
            else:
                assert value > 1.5 * marrow, (series["folder"], lesion["id"])
            checked += 1
    assert checked >= 4


def _neighbour(level: str) -> str:
    """The next level up (T9 → T8, L1 → T12): an untreated body with normal marrow."""
    from mdaread.sample.anatomy import LEVELS

    return LEVELS[LEVELS.index(level) - 1]
