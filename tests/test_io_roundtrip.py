"""Round trips: Volume → DICOM (mdaread.io.writer) → scan → load, and the sample trial's truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdaread.io import load_series, scan_path
from mdaread.model.volume import Volume

writer = pytest.importorskip("mdaread.io.writer")


def oblique_volume(values: np.ndarray) -> Volume:
    """A volume on a rotated, anisotropic grid (LPS mm)."""
    angle = np.radians(12.0)
    rotation = np.array([
        [np.cos(angle), 0.0, np.sin(angle)],
        [0.0, 1.0, 0.0],
        [-np.sin(angle), 0.0, np.cos(angle)],
    ])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([0.7, 0.8, 2.5])
    affine[:3, 3] = (-40.0, -30.0, 100.0)
    return Volume(values, affine)


def info(uid: str) -> Any:
    return writer.SeriesInfo(
        patient_id="MDA-900", study_uid="1.2.826.0.1.3680043.8.498.1",
        series_uid=uid, frame_of_reference_uid="1.2.826.0.1.3680043.8.498.3",
        study_date="20260101", study_time="120000", series_number=2,
        series_description="ROUND TRIP",
    )


@pytest.mark.parametrize("compression", ["none", "rle", "jpegls"])
def test_ct_written_by_the_writer_loads_back_identically(tmp_path: Path, compression: str) -> None:
    rng = np.random.default_rng(1)
    hu = rng.integers(-1024, 3000, size=(7, 24, 20)).astype(np.int16)
    volume = oblique_volume(hu)
    writer.write_ct_series(volume, tmp_path / "ct", info("1.2.826.0.1.3680043.8.498.2"),
                           compression)
    result = scan_path(tmp_path / "ct")
    assert len(result.series) == 1 and result.skipped == []
    candidate = result.series[0]
    assert candidate.warnings == []
    assert candidate.shape == (7, 24, 20)
    loaded = load_series(candidate)
    assert np.array_equal(loaded.array, hu)
    assert loaded.array.dtype == np.int16
    assert np.allclose(loaded.affine, volume.affine, atol=1e-4)


@pytest.mark.parametrize(("compression", "plugin"), [("jpegls", "pyjpegls"), ("rle", "pydicom")])
def test_compressed_series_decode_with_the_fast_plugin(tmp_path: Path, compression: str,
                                                       plugin: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """JPEG-LS goes to CharLS (pyjpegls, ~3× faster than pydicom's default pylibjpeg on a 512²
    CT slice); RLE to pydicom's own decoder (pylibjpeg-rle panics on damaged data)."""
    import pydicom.dataset

    chosen: list[str] = []
    original = pydicom.dataset.Dataset.pixel_array_options

    def recording(self: Any, **kwargs: Any) -> None:
        chosen.append(kwargs.get("decoding_plugin", ""))
        original(self, **kwargs)

    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array_options", recording)
    hu = np.random.default_rng(2).integers(-1024, 3000, size=(3, 16, 12)).astype(np.int16)
    writer.write_ct_series(oblique_volume(hu), tmp_path / "ct", info("1.2.826.0.1.3680043.8.498.7"),
                           compression)
    loaded = load_series(scan_path(tmp_path / "ct").series[0])
    assert np.array_equal(loaded.array, hu)
    assert chosen == [plugin] * 3


def test_mr_written_by_the_writer_loads_back_identically(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    values = rng.integers(0, 4095, size=(5, 16, 18)).astype(np.uint16)
    volume = oblique_volume(values)
    writer.write_mr_series(volume, tmp_path / "mr", info("1.2.826.0.1.3680043.8.498.4"))
    loaded = load_series(scan_path(tmp_path / "mr").series[0])
    assert np.array_equal(loaded.array, values)
    assert np.allclose(loaded.affine, volume.affine, atol=1e-4)


def series_records(node: Any) -> Iterator[dict[str, Any]]:
    """Every series record in truth.json (dicts naming a folder, a UID and the geometry)."""
    if isinstance(node, dict):
        if {"folder", "series_uid", "shape", "spacing", "origin", "direction"} <= set(node):
            yield node
        for value in node.values():
            yield from series_records(value)
    elif isinstance(node, list):
        for value in node:
            yield from series_records(value)


def test_sample_trial_geometry_equals_truth(repo_root: Path) -> None:
    sample = repo_root / "sample_dicom"
    truth_file = sample / "truth.json"
    if not truth_file.is_file():
        pytest.skip("sample_dicom/truth.json not generated yet")
    records = list(series_records(json.loads(truth_file.read_text(encoding="utf-8"))))
    assert records, "truth.json names no series"
    for record in records:
        result = scan_path(sample / record["folder"])
        match = [c for c in result.series if c.series_uid == record["series_uid"]]
        assert len(match) == 1, record["folder"]
        candidate = match[0]
        assert candidate.warnings == [], (record["folder"], candidate.warnings)
        assert list(candidate.shape) == record["shape"]
        assert np.allclose(candidate.spacing, record["spacing"], atol=1e-3)
        assert np.allclose(candidate.origin, record["origin"], atol=0.01)
        assert np.allclose(candidate.direction, record["direction"], atol=1e-5)
    first = records[0]
    volume = load_series(scan_path(sample / first["folder"]).series[0])
    assert list(volume.shape) == first["shape"]
    assert np.allclose(volume.origin, first["origin"], atol=0.01)
