"""The workstation on a real workspace: a tiny DICOM trial (written with mdaread.io.writer) is
imported through the demo use case, then read through WorkspaceSource, the window and the
`mdaread gui --screenshot` command."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdaread.errors import InputError
from mdaread.geometry.rigid import rigid_matrix
from mdaread.model import Volume
from mdaread.storage import Actor, NewMeasurement, open_workspace
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.workspace_source import WorkspaceSource

ARMS = {"MDA-101": "RFA+VP", "MDA-102": "RFA+VP+SBRT"}
TREATED = dt.date(2026, 1, 10)
READER = Actor("rita", "reader")


def _phantom(seed: int) -> Volume:
    """A small CT: a box of 'bone' (700 HU) in soft tissue, 1 × 1 × 2.5 mm voxels."""
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 80, size=(12, 40, 48)).astype(np.int16)
    array[3:9, 12:28, 16:32] = 700
    affine = np.diag([1.0, 1.0, 2.5, 1.0])
    affine[:3, 3] = (-24.0, -20.0, -15.0)
    return Volume(array, affine, modality="CT")


def _write_trial(root: Path) -> dict[tuple[str, str], Volume]:
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    root.mkdir(parents=True, exist_ok=True)
    lines = ["subject,arm,centre,treatment_date"]
    written = {}
    for n, (subject, arm) in enumerate(ARMS.items()):
        lines.append(f"{subject},{arm},C1,{TREATED.isoformat()}")
        for label, days in (("baseline", -2), ("3m", 91)):
            volume = _phantom(1000 * n + days + 10)
            date = (TREATED + dt.timedelta(days=days)).strftime("%Y%m%d")
            info = SeriesInfo(
                patient_id=subject, study_uid=derived_uid(subject, label, "study"),
                series_uid=derived_uid(subject, label, "ct"),
                frame_of_reference_uid=derived_uid(subject, label, "for"),
                study_date=date, study_time="101010", series_number=2,
                series_description=f"CT spine {label}")
            write_ct_series(volume, root / subject / f"{label}_CT", info)
            written[(subject, label)] = volume
    (root / "randomisation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> tuple[Path, dict[tuple[str, str], Volume]]:
    root = tmp_path_factory.mktemp("trial")
    written = _write_trial(root / "dicom")
    build_demo_workspace(root / "ws", root / "dicom")
    return root, written


def test_worklist_series_and_load_through_the_workspace(trial) -> None:
    root, written = trial
    with open_workspace(root / "ws") as ws:
        source = WorkspaceSource(ws, READER)
        entries = source.worklist()
        assert {(e.subject, e.timepoint) for e in entries} == {
            (s, t) for s in ARMS for t in ("baseline", "3m")}
        assert all(e.status == "not read" and e.modality == "CT" for e in entries)
        assert source.timepoints("MDA-101") == ["baseline", "3m"]
        (choice,) = source.series("MDA-101", "3m")
        volume = source.load(choice)
        expected = written[("MDA-101", "3m")]
        assert np.array_equal(volume.array, expected.array)
        assert np.allclose(volume.affine, expected.affine, atol=1e-4)


def test_accepted_registration_and_measured_lesions_reach_the_viewer(trial) -> None:
    root, _ = trial
    matrix = rigid_matrix((0.0, 0.0, 0.05), (2.0, 1.0, -3.0))
    with open_workspace(root / "ws") as ws:
        source = WorkspaceSource(ws, READER)
        (base,) = source.series("MDA-102", "baseline")
        (follow,) = source.series("MDA-102", "3m")
        assert source.registration("MDA-102", base, follow) is None
        ids = [s.id for s in ws.list_series(subject="MDA-102")]
        record = ws.add_registration(READER, ids[0], ids[1], matrix.tolist())
        assert source.registration("MDA-102", base, follow) is None  # proposed only
        ws.decide_registration(READER, record.id, True)
        assert np.allclose(source.registration("MDA-102", base, follow), matrix)

        ws.add_lesion(READER, "MDA-102", "L1", level="L3", phenotype="lytic",
                      well_defined=True, treated_index=True)
        tp = ws.find_timepoint("MDA-102", "baseline")
        read = ws.create_read(READER, "MDA-102", tp.id, purpose="primary")
        ws.save_draft(READER, read.id, observations={}, measurements=[
            NewMeasurement("L1", 20.0, 10.0, endpoints=[[-10.0, 0, 0], [10.0, 0, 0]])])
        (landmark,) = source.landmarks("MDA-102", "baseline")
        assert landmark.level == "L3" and landmark.treated
        assert np.allclose(landmark.center, (0, 0, 0))


def test_a_changed_file_is_refused_with_a_clear_message(trial) -> None:
    root, _ = trial
    with open_workspace(root / "ws") as ws:
        source = WorkspaceSource(ws, READER)
        (choice,) = source.series("MDA-101", "baseline")
        path = Path(ws.series_files(ws.list_series(subject="MDA-101")[0].id)[0].path)
        original = path.read_bytes()
        try:
            path.write_bytes(original[:-2] + b"\x00\x01")
            with pytest.raises(InputError, match="altered"):
                source.load(choice)
        finally:
            path.write_bytes(original)


def test_the_window_never_shows_the_arm(trial, qtbot) -> None:
    from mdaread.ui.main_window import MainWindow

    root, _ = trial
    with open_workspace(root / "ws") as ws:
        window = MainWindow(WorkspaceSource(ws, READER))
        qtbot.addWidget(window)
        try:
            texts = " ".join(" ".join(row) for row in window.worklist.cell_texts())
            assert "MDA-101" in texts and "MDA-102" in texts
            for arm in ARMS.values():
                assert arm not in texts
            window.open_case("MDA-101", "3m")
            qtbot.waitUntil(lambda: not window.is_loading, timeout=20_000)
            assert window.session.sides["followup"].volume is not None
            shown = " ".join(label.text() for label in window.findChildren(type(window.case_label)))
            for arm in ARMS.values():
                assert arm not in shown
        finally:
            window.close()


def _not_blank(png: Path) -> None:
    from PyQt6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 1200 and image.height() >= 800
    ptr = image.convertToFormat(QImage.Format.Format_Grayscale8)
    data = np.frombuffer(ptr.constBits().asstring(ptr.sizeInBytes()), dtype=np.uint8)
    assert data.std() > 10  # not a flat colour
    assert (data > 150).mean() > 0.001  # bright bone pixels are drawn


def test_gui_screenshot_command_offscreen(trial, tmp_path, qapp) -> None:
    from mdaread.cli import main

    root, _ = trial
    out = tmp_path / "shot.png"
    assert main(["gui", "--workspace", str(root / "ws"), "--screenshot", str(out),
                 "--subject", "MDA-102", "--timepoint", "3m"]) == 0
    _not_blank(out)


def test_gui_screenshot_of_an_unknown_subject_is_an_error(trial, tmp_path, capsys,
                                                          qapp) -> None:
    from mdaread.cli import main

    root, _ = trial
    code = main(["gui", "--workspace", str(root / "ws"), "--screenshot",
                 str(tmp_path / "x.png"), "--subject", "MDA-999"])
    assert code == 2
    assert "MDA-999" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed")
def test_screenshot_under_xvfb(trial, tmp_path) -> None:
    root, _ = trial
    out = tmp_path / "xvfb.png"
    env_python = Path(sys.executable)
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", str(env_python), "-m", "mdaread",
         "gui", "--workspace", str(root / "ws"), "--screenshot", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MDAREAD_USER": "rita",
             # the sources under test, not whatever the venv's .pth points at
             "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    assert result.returncode == 0, result.stderr
    _not_blank(out)


def test_truth_landmarks_name_levels_and_the_treated_vertebra(tmp_path) -> None:
    import json

    from mdaread.workflow.demo import truth_landmarks

    truth = {"subjects": [{"subject": "MDA-001", "treated_levels": ["L2"], "timepoints": [
        {"label": "baseline", "vertebral_body_centres_lps": {"L1": [0, 1, 33.7],
                                                             "L2": [0, 0, 0]}},
        {"label": "3m", "vertebral_body_centres_lps": {"L2": [2, -1, 5]}}]}]}
    (tmp_path / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    landmarks = truth_landmarks(tmp_path)
    assert [(lm.level, lm.treated) for lm in landmarks[("MDA-001", "baseline")]] == [
        ("L1", False), ("L2", True)]
    assert landmarks[("MDA-001", "3m")][0].center == (2.0, -1.0, 5.0)
    assert truth_landmarks(tmp_path / "missing") == {}


def test_demo_finds_or_generates_the_sample_trial(tmp_path, monkeypatch) -> None:
    import mdaread.sample.trial as trial_module
    from mdaread.workflow import demo

    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    monkeypatch.setattr(demo, "default_sample_dir", lambda: shipped)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    calls = []

    def fake_generate(out, subjects, **kwargs):
        calls.append(subjects)
        Path(out).mkdir(parents=True)
        (Path(out) / "randomisation.csv").write_text("subject,arm,centre,treatment_date\n")
        return {"subjects": []}

    monkeypatch.setattr(trial_module, "generate_trial", fake_generate)
    first = demo.ensure_sample_trial()
    assert first == demo.cached_sample_dir() and first.is_relative_to(cache)
    assert demo.ensure_sample_trial() == first and calls == [demo.DEMO_SUBJECTS]  # cached
    shipped.mkdir()
    (shipped / "randomisation.csv").write_text("subject,arm,centre,treatment_date\n")
    assert demo.ensure_sample_trial() == shipped


def test_demo_command_builds_a_fresh_workspace_and_screenshots(trial, tmp_path, qapp) -> None:
    from mdaread.cli import main

    root, _ = trial
    out, kept = tmp_path / "demo.png", tmp_path / "kept"
    assert main(["demo", "--sample", str(root / "dicom"), "--keep", str(kept),
                 "--screenshot", str(out), "--subject", "MDA-101", "--timepoint", "3m"]) == 0
    _not_blank(out)
    with open_workspace(kept) as ws:  # built through the ordinary use cases, arms included
        subjects = ws.list_subjects(Actor("dm", "data_manager"))
        assert {s.trial_id: s.arm for s in subjects} == ARMS
        assert len(ws.list_series()) == 4


def test_demo_without_a_sample_trial_is_a_clear_error(tmp_path, capsys) -> None:
    from mdaread.cli import main

    assert main(["demo", "--sample", str(tmp_path), "--screenshot", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "randomisation.csv missing" in err and "Traceback" not in err
