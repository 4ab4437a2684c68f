"""The guided read panel driven through its widgets (pytest-qt, offscreen): a sample subject's
baseline and 3-month follow-up are read by clicking and typing, signed, and checked in the
workspace; then the dock wired into the main window on a workspace with real DICOM series."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from mdaread.model import Volume
from mdaread.storage import Actor, create_workspace, open_workspace
from mdaread.ui.guided_read_panel import GuidedReadPanel, attach_guided_read
from mdaread.ui.main_window import MainWindow
from mdaread.workflow.reads_service import correct, open_guided_read
from mdaread.workflow.timestamps import reader_time

DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")


@pytest.fixture
def ws(tmp_path: Path):
    """Subject MDA-001 of the sample trial (lytic L2 lesion, 24 × 18 mm, treated)."""
    ws = create_workspace(tmp_path / "W", DM)
    ws.set_randomisation(DM, "MDA-001", arm="RFA+VP", centre="C1", treatment_date="2024-01-08")
    ws.ensure_timepoint(DM, "MDA-001", "baseline", nominal_day=0, scan_date="2023-12-30")
    ws.ensure_timepoint(DM, "MDA-001", "3m", nominal_day=91, scan_date="2024-04-14")
    yield ws
    ws.close()


def type_mm(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def choose(qtbot, box, text: str) -> None:
    """Pick a combo box item with the keyboard, as a reader would."""
    box.setFocus()
    qtbot.keyClicks(box, text)
    assert box.currentText() == text


def make_panel(qtbot, read, **kwargs) -> GuidedReadPanel:
    panel = GuidedReadPanel(read, **kwargs)
    qtbot.addWidget(panel)
    panel.resize(420, 900)
    panel.show()
    return panel


def read_baseline(qtbot, ws) -> None:
    panel = make_panel(qtbot, open_guided_read(ws, RITA, "MDA-001", "baseline"))
    assert not panel.sign_button.isEnabled()
    assert "at least one tracked lesion" in panel.sign_button.toolTip()
    choose(qtbot, panel.modality, "CT")
    page = panel.pages[0]
    assert page.lesion_id.text() == "Les1"
    choose(qtbot, page.level, "L2")
    choose(qtbot, page.phenotype, "lytic")
    for edit, text in ((page.long_mm, "24"), (page.perp_mm, "18")):
        edit.setFocus()
        qtbot.keyClicks(edit, text)
    page.treated.click()
    page.add.click()
    assert page.table.rowCount() == 1 and page.table.item(0, 1).text() == "L2"
    assert panel.sign_button.isEnabled()
    panel.sign_button.click()
    assert panel.read.locked and not panel.save_button.isEnabled()


def test_read_a_sample_subject_through_the_panel(qtbot, ws) -> None:
    read_baseline(qtbot, ws)
    (base,) = ws.list_reads("MDA-001", status="signed")
    assert base.observations["lesions"][0] == {
        "id": "Les1", "level": "L2", "phenotype": "lytic", "well_defined": True,
        "long_mm": 24.0, "perp_mm": 18.0, "treated_index": True}

    panel = make_panel(qtbot, open_guided_read(ws, RITA, "MDA-001", "3m"))
    assert "baseline" in panel.earlier.text()
    assert [panel.steps.item(i).text() for i in range(panel.steps.count())] == [
        "• Les1 (L2, lytic)", "• Timepoint questions"]
    choose(qtbot, panel.modality, "CT")
    lesion = panel.pages[0]
    lesion.cement.yes.click()
    assert lesion.reminder.isVisibleTo(panel) and "cement" in lesion.reminder.text()
    lesion.evaluable.yes.click()
    type_mm(qtbot, lesion.long_mm, "22")
    type_mm(qtbot, lesion.perp_mm, "16")
    assert panel.result.category.text() == "SD"          # 352 / 432 = −18.5 %
    assert "-18.5 %" in panel.result.numbers.text()
    assert set(lesion.signs) >= {"complete_fill_in", "sclerotic_rim", "partial_fill_in"}
    assert "density_normalized" not in lesion.signs
    lesion.signs["sclerotic_rim"].click()
    assert panel.result.category.text() == "PR" and "pr_sign" in panel.result.rule.text()
    assert panel.steps.item(0).text().startswith("✓")
    assert not panel.sign_button.isEnabled()
    assert "New bone lesions" not in panel.sign_button.toolTip()
    assert "new lesions (none, or list them)" in panel.sign_button.toolTip()

    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=3000)  # shortcuts need an active window
    lesion.long_mm.setFocus()
    qtbot.keyClick(lesion.long_mm, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert panel.stack.currentWidget() is panel.pages[1]
    questions = panel.pages[1]
    questions.new_any.no.click()
    for flag in questions.flags.values():
        flag.no.click()
    assert panel.sign_button.isEnabled(), panel.sign_button.toolTip()
    panel.save_button.click()
    assert panel.error.text() == "Draft saved"
    panel.sign_button.click()

    (read,) = ws.list_reads("MDA-001", status="signed", current_only=True)[1:]
    assert (read.timepoint_label, read.reader, read.category, read.final_category,
            read.rule) == ("3m", "rita", "PR", "PR", "pr_sign")
    assert read.signed_at and read.observations["cement_levels"] == ["L2"]
    assert read.observations["lesions"] == [{"id": "Les1", "evaluable": True, "long_mm": 22.0,
                                             "perp_mm": 16.0, "signs": ["sclerotic_rim"]}]
    (m,) = ws.list_measurements(read.id)
    assert (m.long_mm, m.perp_mm, m.method) == (22.0, 16.0, "manual")
    assert "Signed by rita" in panel.state.text()
    # to the minute in the reader's zone, not the stored UTC with microseconds
    assert read.signed_at not in panel.state.text()
    assert f"at {reader_time(read.signed_at)} (locked)" in panel.state.text()
    assert not panel.pages[0].isEnabled() and not panel.sign_button.isEnabled()


def test_override_needs_a_reason_in_the_panel_and_correction(qtbot, ws) -> None:
    read_baseline(qtbot, ws)
    read = open_guided_read(ws, RITA, "MDA-001", "3m")
    read.set_modality("CT")
    panel = make_panel(qtbot, read,
                       correct=lambda r, reason: correct(ws, RITA, r, reason))
    lesion, questions = panel.pages
    lesion.cement.no.click()
    lesion.evaluable.yes.click()
    type_mm(qtbot, lesion.long_mm, "12")
    type_mm(qtbot, lesion.perp_mm, "10")
    lesion.reviewed.click()
    questions.new_any.no.click()
    for flag in questions.flags.values():
        flag.no.click()
    assert panel.result.category.text() == "PR" and panel.sign_button.isEnabled()
    panel.override_box.click()
    choose(qtbot, panel.override_category, "SD")
    assert not panel.sign_button.isEnabled()
    assert "a reason for the override" in panel.sign_button.toolTip()
    type_mm(qtbot, panel.override_reason, "lesion obscured by cement")
    assert panel.result.category.text() == "SD"
    assert "Override of computed PR" in panel.result.rule.text()
    panel.sign_button.click()
    stored = ws.get_read(panel.read.read_id)
    assert (stored.category, stored.override_category, stored.override_reason) == (
        "PR", "SD", "lesion obscured by cement")

    assert panel.correction_row.isVisibleTo(panel)
    old_id = panel.read.read_id
    type_mm(qtbot, panel.correction_reason, "wrong window")
    panel.correct_button.click()
    assert not panel.read.locked and panel.read.supersedes == old_id
    assert "correction of read" in panel.state.text()
    assert ws.get_read(old_id).status == "signed"


# --- the dock in the main window, on a workspace with real DICOM ------------------------------

def _write_subject(root: Path) -> None:
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    treated = dt.date(2026, 1, 10)
    rng = np.random.default_rng(3)
    for label, days in (("baseline", -2), ("3m", 91)):
        array = rng.integers(0, 80, size=(8, 32, 32)).astype(np.int16)
        affine = np.diag([1.0, 1.0, 2.5, 1.0])
        volume = Volume(array, affine, modality="CT")
        info = SeriesInfo(
            patient_id="MDA-201", study_uid=derived_uid("MDA-201", label, "study"),
            series_uid=derived_uid("MDA-201", label, "ct"),
            frame_of_reference_uid=derived_uid("MDA-201", label, "for"),
            study_date=(treated + dt.timedelta(days=days)).strftime("%Y%m%d"),
            study_time="101010", series_number=2, series_description=f"CT {label}")
        write_ct_series(volume, root / "MDA-201" / f"{label}_CT", info)
    (root / "randomisation.csv").write_text(
        f"subject,arm,centre,treatment_date\nMDA-201,RFA+VP,C1,{treated.isoformat()}\n",
        encoding="utf-8")


def test_dock_follows_the_open_case(qtbot, tmp_path: Path) -> None:
    from mdaread.workflow.demo import build_demo_workspace
    from mdaread.workflow.workspace_source import WorkspaceSource

    _write_subject(tmp_path / "dicom")
    build_demo_workspace(tmp_path / "W", tmp_path / "dicom")
    with open_workspace(tmp_path / "W") as ws:
        window = MainWindow(WorkspaceSource(ws, RITA))
        qtbot.addWidget(window)
        controller = attach_guided_read(window)
        assert controller is not None
        window.resize(1400, 900)
        window.show()
        window.open_case("MDA-201", "3m")
        qtbot.waitUntil(lambda: controller.panel is not None, timeout=3000)
        panel = controller.panel
        assert panel.read.label == "baseline" and panel.note.isVisibleTo(panel)
        assert "sign the baseline read before reading 3m" in panel.note.text()
        assert panel.read.modality == "CT"           # from the timepoint's series
        page = panel.pages[0]
        choose(qtbot, page.level, "T9")
        for edit, text in ((page.long_mm, "15"), (page.perp_mm, "12")):
            edit.setFocus()
            qtbot.keyClicks(edit, text)
        page.add.click()
        panel.sign_button.click()
        qtbot.waitUntil(lambda: controller.panel is not panel, timeout=3000)
        assert controller.panel.read.label == "3m" and not controller.panel.note.isVisible()
        assert controller.read is controller.panel.read
        assert window.guided_read_dock.widget() is controller.panel
        assert "RFA" not in controller.panel.earlier.text()
        controller.panel.pages[0].cement.yes.click()   # an answer not saved yet …
        window.wait_until_loaded()
        window.close()                                 # … is kept as a draft
        (draft,) = ws.list_reads("MDA-201", status="draft")
        assert draft.timepoint_label == "3m" and draft.observations["cement_levels"] == ["T9"]
        assert "saved" in window.status_label.text()


def test_no_panel_for_the_data_manager(qtbot) -> None:
    from mdaread.workflow.worklist import InMemorySource

    class Source(InMemorySource):
        ws, actor = object(), DM

    window = MainWindow(Source("dm"))
    qtbot.addWidget(window)
    assert attach_guided_read(window) is None
    window.source.actor = RITA
    assert attach_guided_read(window) is not None
    window.close()


def test_new_lesions_and_a_measuring_tool_feed_the_same_panel(qtbot, ws) -> None:
    read_baseline(qtbot, ws)
    read = open_guided_read(ws, RITA, "MDA-001", "3m")
    panel = make_panel(qtbot, read)
    lesion, questions = panel.pages
    # a caliper tool calls the read, not the panel: the fields follow
    assert panel.current_lesion() == "Les1"
    read.set_measurement(panel.current_lesion(), 25.5, 19, endpoints_lps=[(0, 0, 0), (25.5, 0, 0)],
                         series_uid="1.2.826.0.1.3680043.2.1125.1", method="semi-auto")
    assert (lesion.long_mm.text(), lesion.perp_mm.text()) == ("25.5", "19")
    assert lesion.method.text().startswith("semi-auto")
    choose(qtbot, panel.modality, "CT")
    questions.new_any.yes.click()
    assert questions.new_any.yes.isChecked() and read.new_lesions is None
    choose(qtbot, questions.level, "T9")
    choose(qtbot, questions.status, "definite")
    choose(qtbot, questions.phenotype, "lytic")
    questions.add.click()
    assert questions.table.rowCount() == 1 and questions.table.item(0, 0).text() == "T9"
    assert panel.result.category.text() == "PD"
    assert "pd_new_lesion" in panel.result.rule.text()
    questions.table.selectRow(0)
    questions.remove.click()
    assert read.new_lesions == [] and questions.new_any.no.isChecked()


def test_days_are_asked_when_the_workspace_does_not_know_them(qtbot, ws) -> None:
    ws.ensure_timepoint(DM, "MDA-001", "extra")          # no scan date, no nominal day
    read_baseline(qtbot, ws)
    panel = make_panel(qtbot, open_guided_read(ws, RITA, "MDA-001", "extra"))
    assert panel.days.isVisibleTo(panel) and "day ?" in panel.header.text()
    assert "days since treatment" in panel.sign_button.toolTip()
    type_mm(qtbot, panel.days, "120")
    assert panel.read.days == 120 and not panel.days.isVisibleTo(panel)
    assert "day 120" in panel.header.text()


def test_level_follows_the_viewer_cursor(qtbot, ws) -> None:
    from types import SimpleNamespace

    from PyQt6.QtWidgets import QMainWindow

    from mdaread.ui.guided_read_panel import GuidedReadController
    from mdaread.workflow.signals import Signal

    panel = make_panel(qtbot, open_guided_read(ws, RITA, "MDA-001", "baseline"))
    page = panel.pages[0]
    window = QMainWindow()             # what the controller needs of the main window: a session
    qtbot.addWidget(window)
    window.session = SimpleNamespace(  # type: ignore[attr-defined]
        timepoint_changed=Signal(), cursor_changed=Signal(),
        sides={"baseline": SimpleNamespace(cursor=(0.0, 0.0, 40.0)),
               "followup": SimpleNamespace(cursor=None)},
        readout=lambda side, world: SimpleNamespace(level="T11" if world[2] > 0 else "L3"))
    controller = GuidedReadController(window, ws, RITA)
    controller.panel = panel
    window.session.cursor_changed.emit("followup")  # not the side baseline lesions are on
    assert page.level.currentText() == "L1"
    window.session.cursor_changed.emit("baseline")
    assert page.level.currentText() == "T11"
    window.session.sides["baseline"].cursor = (0.0, 0.0, -40.0)
    window.session.cursor_changed.emit("baseline")
    assert page.level.currentText() == "L3"


def test_the_add_lesion_form_starts_afresh_with_an_id_that_is_not_a_level(qtbot, ws) -> None:
    """Issue 15 #7: default ids are Les1, Les2 … (L1 names a lumbar vertebra) and the form
    forgets the lesion just added: diameters, phenotype, definition, treated index."""
    panel = make_panel(qtbot, open_guided_read(ws, RITA, "MDA-001", "baseline"))
    page = panel.pages[0]
    assert page.lesion_id.text() == "Les1"
    choose(qtbot, page.level, "L2")
    choose(qtbot, page.phenotype, "blastic")
    page.well_defined.click()
    for edit, text in ((page.long_mm, "24"), (page.perp_mm, "18")):
        edit.setFocus()
        qtbot.keyClicks(edit, text)
    page.treated.click()
    page.add.click()
    assert [(les.id, les.phenotype, les.well_defined, les.treated_index)
            for les in panel.read.tracked] == [("Les1", "blastic", False, True)]
    assert page.lesion_id.text() == "Les2"
    assert (page.phenotype.currentText(), page.well_defined.isChecked(),
            page.treated.isChecked(), page.long_mm.text(), page.perp_mm.text()) == (
        "lytic", True, False, "", "")
    assert page.level.currentText() == "L2"  # the level follows the cursor, it stays
