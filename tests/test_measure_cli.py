"""`mdaread measure PATH --seed X Y Z` end to end on NIfTI files of synthetic lesions (fast; the
real-CT runs are in test_segmentation_realdata.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mdaread.cli import main
from mdaread.io import read_nifti, write_nifti
from mdaread.model.volume import Volume
from segmentation_helpers import ellipsoid_fraction, ellipsoid_ml, insert, synthetic_ct

CENTRE = (2.0, 1.0, 1.0)
RADII = (10.0, 7.0, 6.0)
CEMENT_CENTRE = (-18.0, 14.0, 1.0)


def _with_air_and_cement() -> Volume:
    volume = synthetic_ct()
    volume = insert(volume, ellipsoid_fraction(volume, CENTRE, RADII, 20.0), 40.0, 10.0)
    volume = insert(volume, ellipsoid_fraction(volume, CEMENT_CENTRE, (4.0, 4.0, 4.0)), 3000.0)
    array = np.array(volume.array)
    array[:, :, :8] = -1000.0  # a strip of air along one side
    return Volume(array=array, affine=volume.affine, modality="CT")


@pytest.fixture(scope="module")
def lesion_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("measure") / "lesion.nii.gz"
    write_nifti(_with_air_and_cement(), path)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_json_has_the_design_keys_axes_slice_and_warnings(
        lesion_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = [str(CENTRE[0] + 2), str(CENTRE[1] - 1), str(CENTRE[2])]
    status, out, err = _run(["measure", str(lesion_file), "--seed", *seed, "--json"], capsys)
    assert status == 0, err
    payload = json.loads(out)
    assert list(payload)[:5] == ["long_mm", "perp_mm", "volume_ml", "mean_hu", "cement_ml"]
    assert abs(payload["long_mm"] - 2 * RADII[0]) <= 0.8
    assert abs(payload["perp_mm"] - 2 * RADII[1]) <= 0.8
    assert payload["volume_ml"] == pytest.approx(ellipsoid_ml(RADII), rel=0.05)
    assert payload["mean_hu"] == pytest.approx(40.0, abs=15.0)
    # the cement sphere (r 4 mm: 0.27 mL; voxels ≥ 2200 HU) is found but is not the lesion's
    assert 0.15 < payload["cement_ml"] < 0.3
    assert payload["cement_leakage"] in (True, False) and payload["cement_leakage_ml"] >= 0
    long_axis = np.asarray(payload["long_axis_lps"])
    perp_axis = np.asarray(payload["perp_axis_lps"])
    assert long_axis.shape == perp_axis.shape == (2, 3)
    assert np.linalg.norm(long_axis[1] - long_axis[0]) == pytest.approx(payload["long_mm"])
    assert np.all(long_axis[:, 2] == payload["plane_z_mm"])
    assert payload["plane_z_mm"] == pytest.approx(CENTRE[2])
    assert payload["slice_index"] == 20  # z = 1 mm on the 2 mm grid centred on the origin
    assert any("NIfTI carries no modality: taken as CT" in w for w in payload["warnings"])
    assert payload["modality"] == "CT" and payload["polarity"] == "low"


def test_mask_out_is_the_lesion_on_the_series_grid(
        lesion_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "mask.nii.gz"
    status, out, err = _run(["measure", str(lesion_file), "--seed", *map(str, CENTRE),
                             "--mask-out", str(out_path), "--json"], capsys)
    assert status == 0, err
    payload = json.loads(out)
    mask = read_nifti(out_path)
    source = read_nifti(lesion_file)
    assert mask.shape == source.shape
    np.testing.assert_allclose(mask.affine, source.affine)
    array = np.asarray(mask.array)
    assert set(np.unique(array)) == {0, 1}
    assert int(array.sum()) == payload["mask_voxels"]
    truth = ellipsoid_fraction(source, CENTRE, RADII, 20.0) >= 0.5
    overlap = np.logical_and(array > 0, truth).sum() / np.logical_or(array > 0, truth).sum()
    assert overlap > 0.9
    assert payload["mask_out"] == str(out_path)


def test_text_output(lesion_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(["measure", str(lesion_file), "--seed", *map(str, CENTRE)], capsys)
    assert status == 0, err
    first = out.splitlines()[0]
    long_mm, perp_mm = (float(v) for v in first.split(" mm")[0].split(" × "))
    assert math.isclose(long_mm, 20.0, abs_tol=0.8) and math.isclose(perp_mm, 14.0, abs_tol=0.8)
    assert "long axis:" in out and "LPS mm" in out and "slice k = 20" in out


def test_modality_override(lesion_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(["measure", str(lesion_file), "--seed", *map(str, CENTRE),
                             "--modality", "CT", "--json"], capsys)
    assert status == 0, err
    assert not any("NIfTI" in w for w in json.loads(out)["warnings"])


@pytest.mark.parametrize(
    ("seed", "fragment"),
    [
        ((900.0, 0.0, 0.0), "outside the image"),
        ((-36.0, 1.0, 1.0), "in air"),
        (CEMENT_CENTRE, "in cement"),
        ((CEMENT_CENTRE[0] + 4.0, CEMENT_CENTRE[1], CEMENT_CENTRE[2]), "of cement"),
        ((20.0, -25.0, 1.0), "no lesion-like boundary"),
    ],
)
def test_bad_seeds_exit_2_with_one_line(lesion_file: Path, capsys: pytest.CaptureFixture[str],
                                        seed: tuple[float, float, float], fragment: str) -> None:
    status, out, err = _run(["measure", str(lesion_file), "--seed", *map(str, seed), "--json"],
                            capsys)
    assert status == 2 and out == ""
    assert err.startswith(f"mdaread: error: {lesion_file}: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.nii.gz", "--seed", "0", "0", "0"], "no such file"),
        (["{file}", "--seed", "0", "0", "0", "--mask-out", "mask.png"], "--mask-out"),
    ],
)
def test_bad_arguments_exit_2(lesion_file: Path, capsys: pytest.CaptureFixture[str],
                              args: list[str], fragment: str) -> None:
    status, _, err = _run(["measure", *(a.format(file=lesion_file) for a in args)], capsys)
    assert status == 2
    assert err.startswith("mdaread: error: ") and fragment in err and err.count("\n") == 1


def test_a_dicom_folder_names_itself_in_the_error(testdata: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # the real Siemens CT: a seed in the air in front of the patient
    folder = testdata / "totalsegmentator" / "example_ct_dicom"
    status, _, err = _run(["measure", str(folder), "--seed", "-200", "-400", "-788.5"], capsys)
    assert status == 2
    assert err.startswith(f"mdaread: error: {folder}: ") and "in air" in err
