"""Calipers feed the guided read and come back on reopening (pytest-qt, offscreen, a workspace
with real DICOM series): a baseline lesion is added from a caliper, a follow-up lesion measured
with one; the end points (LPS mm), series and method are stored; a new window redraws them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from mdaread.model import Volume
from mdaread.storage import Actor, open_workspace
from mdaread.ui.guided_read_panel import attach_guided_read
from mdaread.ui.main_window import MainWindow
from mdaread.ui.measure_link import attach_measurements

RITA = Actor("rita", "reader")


def _write_subject(root: Path) -> dict[str, str]:
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    treated = dt.date(2026, 1, 10)
    rng = np.random.default_rng(5)
    uids = {}
    for label, days in (("baseline", -2), ("3m", 91)):
        array = rng.integers(0, 80, size=(6, 64, 64)).astype(np.int16)
        affine = np.diag([0.8, 0.8, 2.5, 1.0])
        uids[label] = derived_uid("MDA-301", label, "ct")
        info = SeriesInfo(
            patient_id="MDA-301", study_uid=derived_uid("MDA-301", label, "study"),
            series_uid=uids[label], frame_of_reference_uid=derived_uid("MDA-301", label, "for"),
            study_date=(treated + dt.timedelta(days=days)).strftime("%Y%m%d"),
            study_time="101010", series_number=2, series_description=f"CT {label}")
        write_ct_series(Volume(array, affine, modality="CT"), root / "MDA-301" / f"{label}_CT",
                        info)
    (root / "randomisation.csv").write_text(
        f"subject,arm,centre,treatment_date\nMDA-301,RFA+VP,C1,{treated.isoformat()}\n",
        encoding="utf-8")
    return uids


def _window(qtbot, ws):
    from mdaread.workflow.workspace_source import WorkspaceSource

    window = MainWindow(WorkspaceSource(ws, RITA))
    qtbot.addWidget(window)
    controller = attach_guided_read(window)
    attach_measurements(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.open_case("MDA-301", "3m")
    qtbot.waitUntil(lambda: controller.panel is not None and not window.is_loading,
                    timeout=5000)
    return window, controller


def _drag(qtbot, window, side: str, start, end) -> None:
    view = window.panels[side].views["axial"]
    viewport = view.graphics.viewport()
    px = [view.graphics.mapFromScene(view.world_to_scene(np.asarray(p, dtype=float)))
          for p in (start, end)]
    window.measure_tools.arm("caliper")
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=px[0])
    qtbot.mouseMove(viewport, (px[0] + px[1]) / 2)
    qtbot.mouseMove(viewport, px[1])
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=px[1])
    window.measure_tools.arm(None)


@pytest.fixture
def workspace(tmp_path: Path):
    from mdaread.workflow.demo import build_demo_workspace

    uids = _write_subject(tmp_path / "dicom")
    build_demo_workspace(tmp_path / "W", tmp_path / "dicom")
    return tmp_path / "W", uids


def test_calipers_feed_the_read_and_redraw_on_reopening(qtbot, workspace) -> None:
    folder, uids = workspace
    with open_workspace(folder) as ws:
        window, controller = _window(qtbot, ws)
        panel = controller.panel
        assert panel.read.label == "baseline"
        z = float(window.session.sides["baseline"].cursor[2])
        _drag(qtbot, window, "baseline", (8.0, 10.0, z), (32.0, 10.0, z))     # 24 mm
        page = panel.pages[0]
        assert page.long_mm.value() == pytest.approx(24.0, abs=0.6)
        assert page.perp_mm.value() == pytest.approx(12.0, abs=0.6)
        page.add.click()
        stored = panel.read.measurements["Les1"]
        assert stored.series_uid == uids["baseline"] and len(stored.endpoints_lps) == 4
        assert stored.endpoints_lps[0][0] == pytest.approx(8.0, abs=0.6)
        assert window.measure_tools.drawn["baseline"][0].lesion_id == "Les1"
        panel.sign_button.click()
        qtbot.waitUntil(lambda: controller.panel is not panel, timeout=3000)

        panel = controller.panel
        assert panel.read.label == "3m" and panel.current_lesion() == "Les1"
        # the signed baseline's caliper stays drawn on the baseline side
        assert [d.lesion_id for d in window.measure_tools.drawn["baseline"]] == ["Les1"]
        z = float(window.session.sides["followup"].cursor[2])
        _drag(qtbot, window, "followup", (10.0, 30.0, z), (30.0, 45.0, z))    # 25 mm
        m = panel.read.measurements["Les1"]
        assert m.long_mm == pytest.approx(25.0, abs=0.6) and m.method == "manual"
        assert m.series_uid == uids["3m"]
        assert panel.pages[0].long_mm.value() == pytest.approx(m.long_mm)
        _drag(qtbot, window, "followup", (10.0, 20.0, z), (26.0, 20.0, z))    # replaces it
        assert panel.read.measurements["Les1"].long_mm == pytest.approx(16.0, abs=0.6)
        assert len(window.measure_tools.drawn["followup"]) == 1
        panel.save_button.click()
        window.wait_until_loaded()
        window.close()

        (draft,) = ws.list_reads("MDA-301", status="draft")
        (record,) = ws.list_measurements(draft.id)
        assert record.series_uid == uids["3m"] and len(record.endpoints) == 4

        again, controller = _window(qtbot, ws)
        assert [d.lesion_id for d in again.measure_tools.drawn["baseline"]] == ["Les1"]
        (drawn,) = again.measure_tools.drawn["followup"]
        assert drawn.lesion_id == "Les1" and drawn.series_uid == uids["3m"]
        assert drawn.shape.diameters()[0] == pytest.approx(record.long_mm, abs=0.1)
        view = again.panels["followup"].views["axial"]
        assert again.measure_tools._items[id(view)].items, "drawn on its slice again"
        again.wait_until_loaded()
        again.close()


def test_ruler_is_never_a_diameter(qtbot, workspace) -> None:
    folder, _ = workspace
    with open_workspace(folder) as ws:
        window, controller = _window(qtbot, ws)
        z = float(window.session.sides["baseline"].cursor[2])
        window.measure_tools.arm("ruler")
        view = window.panels["baseline"].views["axial"]
        a = view.graphics.mapFromScene(view.world_to_scene(np.array([8.0, 10.0, z])))
        qtbot.mousePress(view.graphics.viewport(), Qt.MouseButton.LeftButton, pos=a)
        qtbot.mouseMove(view.graphics.viewport(), a + QPoint(80, 0))
        qtbot.mouseRelease(view.graphics.viewport(), Qt.MouseButton.LeftButton,
                           pos=a + QPoint(80, 0))
        assert controller.panel.pages[0].long_mm.value() is None
        assert "Ruler" in window.status_label.text()
        window.wait_until_loaded()
        window.close()
