"""`mdaread export` end to end on the sample trial (sample_dicom/) after `reads import --sign`:
the DCR against the sample's truth (counted here, independently of mdaread.criteria), the tables
against the workspace, byte-identical repeats, no arm without --unblinded."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import openpyxl
import pytest

from mdaread.cli import main
from mdaread.storage import Actor, open_workspace
from mdaread.workflow.reads_import import import_reads

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
README = Path(__file__).resolve().parents[1] / "README.md"
DM = Actor("dana", "data_manager")
DISEASE_CONTROL = {"CR", "PR", "SD", "PDu"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SAMPLE / "randomisation.csv").is_file():
        pytest.skip("sample trial absent (sample_dicom/randomisation.csv)")
    folder = tmp_path_factory.mktemp("export") / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    assert main(["workspace", "randomisation", str(folder), str(SAMPLE / "randomisation.csv"),
                 "--user", "dana"]) == 0
    assert main(["workspace", "import", str(folder), str(SAMPLE), "--user", "dana"]) == 0
    data = json.loads((SAMPLE / "observations.json").read_text(encoding="utf-8"))
    with open_workspace(folder) as ws:
        import_reads(ws, Actor("rita", "reader"), data, sign=True)
    return folder


def _truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval written out from its textbook form (z = 1.96 to 4 digits)."""
    z = 1.959964
    p = k / n
    root = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    centre = p + z * z / (2 * n)
    return (centre - root) / (1 + z * z / n), (centre + root) / (1 + z * z / n)


def _export(workspace: Path, out: Path, *extra: str) -> None:
    assert main(["export", str(workspace), "--out", str(out), "--user", "dana", *extra]) == 0


def test_dcr_per_arm_matches_the_truth(workspace: Path, tmp_path: Path) -> None:
    _export(workspace, tmp_path / "E", "--unblinded", "--format", "csv,xlsx")
    expected: dict[tuple[str, str], list[str]] = {}
    for subject in _truth()["subjects"]:
        for tp in subject["timepoints"]:
            if tp["expected_final_category"] is not None:
                expected.setdefault((subject["arm"], tp["label"]), []).append(
                    tp["expected_final_category"])
    rows = _rows(tmp_path / "E" / "dcr.csv")
    primary = {(r["arm"], r["timepoint"]): r for r in rows if r["ne_as_failure"] == "false"}
    sensitivity = {(r["arm"], r["timepoint"]): r for r in rows if r["ne_as_failure"] == "true"}
    assert set(primary) == set(expected) == set(sensitivity)
    for key, categories in expected.items():
        ne = categories.count("NE")
        dc = sum(c in DISEASE_CONTROL for c in categories)
        n = len(categories) - ne
        row = primary[key]
        assert (int(row["n"]), int(row["disease_control"]), int(row["ne"])) == (n, dc, ne), key
        assert float(row["dcr"]) == pytest.approx(dc / n)
        low, high = _wilson(dc, n)
        assert float(row["ci_low"]) == pytest.approx(low, abs=1e-5)
        assert float(row["ci_high"]) == pytest.approx(high, abs=1e-5)
        assert int(sensitivity[key]["n"]) == len(categories)


def test_blinded_export_pools_the_arms_and_shows_no_arm(workspace: Path, tmp_path: Path) -> None:
    _export(workspace, tmp_path / "E")
    arms = {s["arm"] for s in _truth()["subjects"]}
    files = [p for p in (tmp_path / "E").rglob("*") if p.is_file()]
    assert any(p.suffix == ".svg" for p in files)
    for path in files:
        data = path.read_bytes()
        assert not any(arm.encode() in data for arm in arms), path.name
    rows = _rows(tmp_path / "E" / "dcr.csv")
    assert {r["arm"] for r in rows} == {"all"}
    assert {r["ne_as_failure"] for r in rows} == {"false"}
    assert "arm" not in _rows(tmp_path / "E" / "timepoints.csv")[0]
    finals = [tp["expected_final_category"] for s in _truth()["subjects"]
              for tp in s["timepoints"] if tp["label"] == "6m"]
    six = next(r for r in rows if r["timepoint"] == "6m")
    assert int(six["disease_control"]) == sum(c in DISEASE_CONTROL for c in finals)


def test_timepoint_table_is_the_workspace_content(workspace: Path, tmp_path: Path) -> None:
    _export(workspace, tmp_path / "E", "--unblinded", "--format", "csv,xlsx")
    rows = _rows(tmp_path / "E" / "timepoints.csv")
    with open_workspace(workspace) as ws:
        reads = {r.id: r for r in ws.list_reads(status="signed", current_only=True)}
        subjects = {s.trial_id: s for s in ws.list_subjects(DM)}
        series = {(s.subject, s.timepoint_id): s for s in ws.list_series()}
    assert sorted(int(r["read_id"]) for r in rows) == sorted(reads)
    truth = {(s["subject"], tp["label"]): tp for s in _truth()["subjects"]
             for tp in s["timepoints"]}
    for row in rows:
        read = reads[int(row["read_id"])]
        tp = truth[(row["trial_id"], row["timepoint"])]
        assert (row["timepoint"], row["reader"], row["signed_at"]) == (
            read.timepoint_label, read.reader, read.signed_at)
        assert row["arm"] == subjects[row["trial_id"]].arm
        assert row["final_category"] == (tp["expected_final_category"] or "")
        assert row["category"] == (tp["expected_category"] or "")
        assert row["modality"] == tp["modality"]
        assert int(row["actual_day"]) == tp["days"]
        assert series[(read.subject, read.timepoint_id)].series_uid in row["series_uids"]
    lesions = _rows(tmp_path / "E" / "lesions.csv")
    for row in lesions:
        tp = truth[(row["trial_id"], row["timepoint"])]
        les = next(x for x in tp["lesions"] if x["id"] == row["lesion_id"])
        assert row["level"] == les["level"]
        if les["evaluable"] and les["long_mm"] is not None:
            assert float(row["long_mm"]) == les["long_mm"]
            assert float(row["product_mm2"]) == les["long_mm"] * les["perp_mm"]


def test_exporting_twice_gives_identical_bytes(workspace: Path, tmp_path: Path) -> None:
    _export(workspace, tmp_path / "A", "--unblinded")
    _export(workspace, tmp_path / "B", "--unblinded")
    def names(folder: Path) -> list[str]:
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                      if p.is_file())

    names_a = names(tmp_path / "A")
    assert names_a == names(tmp_path / "B")
    assert {"timepoints.csv", "lesions.csv", "dcr.csv", "response.xlsx", "manifest.json",
            "plots/dcr.png", "plots/dcr.svg", "plots/spider.png", "plots/spider.svg",
            "plots/waterfall.png", "plots/waterfall.svg"} <= set(names_a)
    for name in names_a:
        assert (tmp_path / "A" / name).read_bytes() == (tmp_path / "B" / name).read_bytes(), name
    _export(workspace, tmp_path / "A", "--unblinded")  # over an earlier export: replaced
    assert (tmp_path / "A" / "response.xlsx").read_bytes() == \
        (tmp_path / "B" / "response.xlsx").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_xlsx_has_typed_cells_and_a_frozen_header(workspace: Path, tmp_path: Path) -> None:
    _export(workspace, tmp_path / "E", "--unblinded", "--format", "csv,xlsx")
    book = openpyxl.load_workbook(tmp_path / "E" / "response.xlsx")
    assert book.sheetnames == ["timepoints", "lesions", "dcr"]
    sheet = book["timepoints"]
    assert sheet.freeze_panes == "A2"
    head = [c.value for c in sheet[1]]
    first = dict(zip(head, [c.value for c in sheet[3]], strict=True))
    assert isinstance(first["nominal_day"], int)  # numbers, not text
    assert isinstance(first["spd_mm2"], int | float) and not isinstance(first["spd_mm2"], bool)
    assert isinstance(first["in_endpoint"], bool)
    assert first["signed_at"].year >= 2024  # a date-time cell, not text
    csv_rows = _rows(tmp_path / "E" / "timepoints.csv")
    assert sheet.max_row == len(csv_rows) + 1
    dcr = book["dcr"]
    assert [c.value for c in dcr[1]][:3] == ["arm", "timepoint", "ne_as_failure"]
    assert isinstance(dcr.cell(2, 7).value, int | float)  # dcr: a number cell
    assert book.properties.created == book.properties.modified


def test_manifest_lists_every_file_and_the_audit_head(workspace: Path, tmp_path: Path) -> None:
    import hashlib

    _export(workspace, tmp_path / "E")
    manifest = json.loads((tmp_path / "E" / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(tmp_path / "E").as_posix() for p in (tmp_path / "E").rglob("*")
               if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    for name, entry in listed.items():
        data = (tmp_path / "E" / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
    with open_workspace(workspace) as ws:
        check = ws.verify_audit()
    assert manifest["audit"] == {"n_rows": check.n_rows, "head": check.head, "intact": True}


def test_every_column_is_documented_in_the_readme() -> None:
    from mdaread.export import DCR_COLUMNS, LESION_COLUMNS, TIMEPOINT_COLUMNS

    text = README.read_text(encoding="utf-8")
    for column in (*TIMEPOINT_COLUMNS, *LESION_COLUMNS, *DCR_COLUMNS):
        assert f"| `{column.name}` |" in text, column.name


def test_a_reader_cannot_export_unblinded(workspace: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(workspace), "--out", str(tmp_path / "E"), "--user", "rita",
                 "--role", "reader", "--unblinded"])
    assert code == 2
    assert "data manager" in capsys.readouterr().err
    assert not (tmp_path / "E").exists()


def test_plots_show_the_truth(workspace: Path, tmp_path: Path) -> None:
    """The waterfall's bars are each subject's lowest SPD change over the follow-ups, computed
    here from truth.json's true diameters; the SVGs carry no date."""
    from mdaread.export.plots import best_changes
    from mdaread.workflow.export_collect import collect

    _export(workspace, tmp_path / "E", "--unblinded")
    for name in ("dcr", "spider", "waterfall"):
        svg = (tmp_path / "E" / "plots" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<dc:date>" not in svg and "<svg" in svg
        assert (tmp_path / "E" / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = {}
    for subject in _truth()["subjects"]:
        base = subject["timepoints"][0]["lesions"]
        ref = sum(les["long_mm"] * les["perp_mm"] for les in base)
        changes = []
        for tp in subject["timepoints"][1:]:
            spd = sum(les["long_mm"] * les["perp_mm"] for les in tp["lesions"])
            changes.append(100 * (spd - ref) / ref)
        expected[subject["subject"]] = min(changes)
    with open_workspace(workspace) as ws:
        rows = collect(ws, DM, unblinded=True).timepoints
    bars = best_changes(rows)
    assert [b[1] for b in bars] == sorted((b[1] for b in bars), reverse=True)
    assert {b[0]: b[1] for b in bars} == pytest.approx(expected)
