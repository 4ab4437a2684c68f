"""Lesions and cement of known size inserted into the real T12 of the TotalSegmentator CT, measured
by ``measure_service.propose`` (what a click and ``mdaread measure`` run).

Tolerances are the issue's: each diameter within one in-plane voxel (0.977 mm) of the analytic
shape's on the plane the measurement chose, the volume within 5 %, on the patient-axial slice of
largest extent. The cases marked xfail(strict) are known failures on this real bone, with the
figures in their reason: a lytic lesion (20–40 HU) touching this patient's fatty marrow spaces
and venous channels (30–70 HU) takes some of them in; the vertebral body is not found on this CT,
so cement leakage is wrong. ``strict`` makes a fix show up as XPASS (then drop the mark).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mdaread.cli import main
from mdaread.io import load_path, read_nifti, write_nifti
from mdaread.model.measurement import SegmentationSettings
from mdaread.model.volume import Volume
from mdaread.segmentation import grid, segment_cement
from mdaread.workflow.measure_service import Proposal, propose
from realdata_lesions import (
    CT_DIR,
    Ellipsoid,
    Inserted,
    insert_cement,
    insert_lesion,
    label_on,
    plane_truth,
)

PIXEL_MM = 0.9765625
T12 = 32
SETTINGS = SegmentationSettings()


@pytest.fixture(scope="module")
def ct(testdata: Path) -> Volume:
    return load_path(testdata / CT_DIR)


@pytest.fixture(scope="module")
def t12_body(testdata: Path, ct: Volume) -> np.ndarray:
    """TotalSegmentator's T12 label in front of the spinal canal (j < 343 on this CT)."""
    labels = read_nifti(testdata / "totalsegmentator" / "example_seg_dicom.nii.gz")
    body = label_on(ct, labels, T12)
    body[:, 343:, :] = False
    return body


def _errors(case: Inserted, proposal: Proposal) -> tuple[float, float, float]:
    """Long and perpendicular errors (mm) and the volume error (fraction) against the truth."""
    m = proposal.lesion.measurement
    truth = plane_truth(case.truth_shape, case.centre, m.plane_z_mm, case.reach_mm)
    return (m.long_mm - truth.long_mm, m.perp_mm - truth.perp_mm,
            proposal.lesion.volume_ml / case.truth_ml - 1.0)


def _largest_plane(case: Inserted, ct: Volume) -> float:
    """The truth's largest area (mm²) on the native slices around its centre."""
    c_k = round(float(ct.world_to_index(tuple(case.centre))[2]))
    zs = [float(ct.index_to_world((0.0, 0.0, float(k)))[2]) for k in range(c_k - 3, c_k + 4)]
    areas = [plane_truth(case.truth_shape, case.centre, z, case.reach_mm).area_mm2
             if _has_area(case, z) else 0.0 for z in zs]
    return max(areas)


def _has_area(case: Inserted, z: float) -> bool:
    axis = np.linspace(-case.reach_mm, case.reach_mm, 81)
    xx, yy = np.meshgrid(case.centre[0] + axis, case.centre[1] + axis, indexing="ij")
    return bool(case.truth_shape(np.stack([xx, yy, np.full(xx.shape, z)], axis=-1)).sum() > 3)


def _check(case: Inserted, ct: Volume) -> Proposal:
    proposal = propose(case.volume, case.seed_lps)
    d_long, d_perp, d_vol = _errors(case, proposal)
    figures = f"long {d_long:+.2f} mm, perp {d_perp:+.2f} mm, volume {100 * d_vol:+.1f} %"
    assert abs(d_long) <= PIXEL_MM, figures
    assert abs(d_perp) <= PIXEL_MM, figures
    assert abs(d_vol) <= 0.05, figures
    m = proposal.lesion.measurement
    chosen = plane_truth(case.truth_shape, case.centre, m.plane_z_mm, case.reach_mm).area_mm2
    assert chosen >= 0.95 * _largest_plane(case, ct), "not the slice of largest extent"
    return proposal


LYTIC, SCLEROTIC = 30.0, 900.0
KNOWN_MARROW = "lytic lesion touching fatty marrow / venous channels of its density:"
CASES = [
    pytest.param(Ellipsoid((245, 333, 5), (8.0, 5.5, 5.0), 30.0), LYTIC, id="lytic-low-body"),
    pytest.param(Ellipsoid((250, 334, 8), (8.0, 5.5, 5.0), 30.0), LYTIC, id="lytic-mid-body"),
    pytest.param(Ellipsoid((252, 330, 8), (8.0, 5.5, 5.0), -25.0), SCLEROTIC, id="sclerotic"),
    pytest.param(Ellipsoid((245, 333, 5), (7.0, 5.0, 4.5), 60.0), 850.0, id="sclerotic-low"),
    pytest.param(Ellipsoid((250, 332, 8), (5.0, 4.0, 8.0), 60.0), SCLEROTIC,
                 id="sclerotic-taller-than-long"),
    # the edge 1.3 mm inside the right lateral cortex (its inner face at i ≈ 267.5 on k 8)
    pytest.param(Ellipsoid((262, 332, 8), (7.0, 4.0, 5.0), 90.0), LYTIC, id="lytic-near-cortex",
                 marks=pytest.mark.xfail(strict=True, reason=f"{KNOWN_MARROW} long +1.42 mm, "
                                         "volume +6.6 % (passes 1 mm farther in, i = 261)")),
    pytest.param(Ellipsoid((262, 332, 8), (7.0, 4.0, 5.0), 90.0), SCLEROTIC,
                 id="sclerotic-near-cortex"),
    pytest.param(Ellipsoid((250, 332, 8), (5.0, 4.0, 8.0), 60.0), LYTIC,
                 id="lytic-taller-than-long", marks=pytest.mark.xfail(
                     strict=True, reason=f"{KNOWN_MARROW} perp +1.76 mm (a marrow bump)")),
    pytest.param(Ellipsoid((250, 321, 8), (7.0, 4.0, 5.0), 0.0), LYTIC,
                 id="lytic-under-anterior-cortex", marks=pytest.mark.xfail(
                     strict=True, reason=f"{KNOWN_MARROW} volume +12.5 %")),
    pytest.param(Ellipsoid((252, 328, 11), (8.0, 5.5, 5.0), 150.0), LYTIC,
                 id="lytic-upper-body", marks=pytest.mark.xfail(
                     strict=True, reason=f"{KNOWN_MARROW} volume +5.6 %")),
]


@pytest.mark.parametrize(("lesion", "value"), CASES)
def test_inserted_lesion_diameters_and_volume(ct: Volume, lesion: Ellipsoid,
                                              value: float) -> None:
    case = insert_lesion(ct, lesion, value)
    proposal = _check(case, ct)
    assert proposal.cement is None
    low = proposal.lesion.polarity == "low"
    assert low == (value < 200)


@pytest.mark.parametrize("value", [LYTIC, SCLEROTIC], ids=["lytic", "sclerotic"])
def test_cement_over_a_pole_is_kept_out(ct: Volume, value: float) -> None:
    """A 3.5 mm cement sphere centred on one pole of the long axis: the lesion is measured
    without the cement and its 1.5 mm rim, and no cement value enters its statistics."""
    lesion = Ellipsoid((250, 332, 8), (11.0, 5.5, 5.0), 10.0)
    case = insert_lesion(ct, lesion, value, cement_radius_mm=3.5,
                         rim_mm=SETTINGS.cement_rim_mm)
    proposal = _check(case, ct)
    cement = proposal.cement
    assert cement is not None
    # thresholded at cement_min_hu, not partial-volume corrected: −16 % on this sphere
    assert 0.75 * case.cement_ml <= cement.volume_ml <= case.cement_ml
    mask = proposal.lesion.mask.full()
    rim = grid.within_mm(cement.mask.full(), SETTINGS.cement_rim_mm, grid.spacing_kji(ct))
    assert not (mask & rim).any()
    values = np.asarray(case.volume.array)[mask]
    # no voxel half-way (or more) from the lesion's value to the cement's: no cement edge
    assert values.max() < (value + 3000.0) / 2
    assert proposal.lesion.stats.percentiles[95] < value + 100.0
    assert "cement next to the lesion" in " ".join(proposal.lesion.warnings)


def test_measure_command_on_the_real_ct(ct: Volume, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`mdaread measure` on the real CT with a sclerotic lesion inserted (written as NIfTI, the
    modality given), against the same truth."""
    case = insert_lesion(ct, Ellipsoid((252, 330, 8), (8.0, 5.5, 5.0), -25.0), SCLEROTIC)
    path = tmp_path / "t12_sclerotic.nii.gz"
    write_nifti(case.volume, path)
    seed = [f"{v:.2f}" for v in case.seed_lps]
    status = main(["measure", str(path), "--seed", *seed, "--modality", "CT", "--json"])
    out = capsys.readouterr().out
    assert status == 0
    data = json.loads(out)
    truth = plane_truth(case.truth_shape, case.centre, data["plane_z_mm"], case.reach_mm)
    assert abs(data["long_mm"] - truth.long_mm) <= PIXEL_MM
    assert abs(data["perp_mm"] - truth.perp_mm) <= PIXEL_MM
    assert abs(data["volume_ml"] / case.truth_ml - 1.0) <= 0.05
    assert data["cement_ml"] == 0.0 and data["mean_hu"] > 700


BODY_NOT_FOUND = ("the vertebral body is not found on this CT (cement.BONE_HU 150 assumes dense "
                  "cancellous bone; this T12's is 100–150 HU with a fatty centre, and the "
                  "contrast-filled aorta, 151 HU, touches it)")
LEAKS = [
    pytest.param(None, 0.0, id="bolus-inside-only", marks=pytest.mark.xfail(
        strict=True, reason=f"{BODY_NOT_FOUND}: the bolus is flagged as a 0.29 mL leak")),
    pytest.param((250, 305, 8), 3.5, id="anterior-paravertebral", marks=pytest.mark.xfail(
        strict=True, reason=f"{BODY_NOT_FOUND}: leak 0.44 mL reported, the bolus included")),
    pytest.param((250, 354, 8), 3.0, id="epidural", marks=pytest.mark.xfail(
        strict=True, reason=f"{BODY_NOT_FOUND}: 0.37 mL, the bolus included")),
]


@pytest.mark.parametrize(("leak_ijk", "leak_radius"), LEAKS)
def test_leakage_outside_the_real_body(ct: Volume, leak_ijk: tuple[int, int, int] | None,
                                       leak_radius: float) -> None:
    """A 4.5 mm bolus inside the body beside a lytic lesion, and maybe a leak outside it."""
    case = insert_lesion(ct, Ellipsoid((256, 326, 11), (6.0, 4.0, 4.0), 30.0), LYTIC)
    volume = insert_cement(case.volume, ct, (243, 336, 7), 4.5)
    if leak_ijk is not None:
        volume = insert_cement(volume, ct, leak_ijk, leak_radius, seed=6)
    cement = propose(volume, case.seed_lps).cement
    assert cement is not None
    leak_ml = 4.0 / 3.0 * math.pi * leak_radius ** 3 / 1000.0
    assert cement.leakage == (leak_ijk is not None)
    assert cement.leakage_ml == pytest.approx(leak_ml, rel=0.4, abs=1e-9)


@pytest.mark.xfail(strict=True, reason=BODY_NOT_FOUND)
def test_cement_finds_the_real_vertebral_body(ct: Volume, t12_body: np.ndarray) -> None:
    """The body that leakage is judged against overlaps TotalSegmentator's T12 (Dice ≥ 0.7: the
    label is coarse, ragged by a voxel or two and short of the right lateral cortex on k 8)."""
    volume = insert_cement(ct, ct, (243, 336, 7), 4.5)
    hint = tuple(float(v) for v in ct.index_to_world((256.0, 326.0, 11.0)))
    cement = segment_cement(volume, SETTINGS, vertebra_hint=(hint[0], hint[1], hint[2]))
    assert cement.body_mask is not None
    body = cement.body_mask.full()
    dice = 2.0 * float((body & t12_body).sum()) / float(body.sum() + t12_body.sum())
    assert dice >= 0.7, f"Dice {dice:.2f}"
