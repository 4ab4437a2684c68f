"""`mdaread export --format sr` on the sample trial after `reads import --sign`: every SR valid
for dciodvfy (dicom3tools) and dcmtk's dsrdump, read back by highdicom and pydicom to the
workspace's values, tracking UIDs stable across timepoints, SCOORD3D end points for
measurements that have them, dates shifted or kept per the protocol, identical bytes twice."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from mdaread.cli import main
from mdaread.storage import Actor, NewMeasurement, open_workspace
from mdaread.workflow.reads_import import import_reads

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
READER = Actor("rita", "reader")
TRIAL = "SPINE-RFA-TEST"
# SNOMED CT vertebra codes of the sample's levels, written out here (not taken from pydicom)
VERTEBRA_SCT = {"T9": "82687006", "L1": "66794005", "L2": "14293000", "L4": "11994002",
                "L5": "49668003"}
ANCHOR = dt.date(2000, 1, 1)


def _truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _endpoints(centre: list[float], long_mm: float, perp_mm: float) -> list[list[float]]:
    x, y, z = centre
    return [[x - long_mm / 2, y, z], [x + long_mm / 2, y, z],
            [x, y - perp_mm / 2, z], [x, y + perp_mm / 2, z]]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample trial signed by ``reads import``; MDA-001's baseline and 1m reads corrected
    into semi-automatic measurements with end points (on the truth's lesion centre)."""
    if not (SAMPLE / "randomisation.csv").is_file():
        pytest.skip("sample trial absent (sample_dicom/randomisation.csv)")
    root = tmp_path_factory.mktemp("sr")
    (root / "protocol.json").write_text(json.dumps({"trial_id": TRIAL}), encoding="utf-8")
    folder = root / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana",
                 "--protocol", str(root / "protocol.json")]) == 0
    assert main(["workspace", "randomisation", str(folder), str(SAMPLE / "randomisation.csv"),
                 "--user", "dana"]) == 0
    assert main(["workspace", "import", str(folder), str(SAMPLE), "--user", "dana"]) == 0
    data = json.loads((SAMPLE / "observations.json").read_text(encoding="utf-8"))
    truth = {(s["subject"], tp["label"]): tp for s in _truth()["subjects"]
             for tp in s["timepoints"]}
    with open_workspace(folder) as ws:
        import_reads(ws, READER, data, sign=True)
        for read in ws.list_reads("MDA-001", status="signed", current_only=True):
            if read.timepoint_label not in ("baseline", "1m"):
                continue
            tp = truth[("MDA-001", read.timepoint_label)]
            les = tp["lesions"][0]
            new = ws.correct_read(READER, read.id, "calipers on the images")
            ws.sign_read(READER, new.id, category=read.category,
                         final_category=read.final_category, rule=read.rule,
                         measurements=[NewMeasurement(
                             les["id"], float(les["long_mm"]), float(les["perp_mm"]),
                             _endpoints(les["centre_lps"], les["long_mm"], les["perp_mm"]),
                             tp["series"][0]["series_uid"], "semi-auto")])
    return folder


@pytest.fixture(scope="module")
def export(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sr-out") / "E"
    assert main(["export", str(workspace), "--out", str(out), "--user", "dana",
                 "--format", "csv,sr"]) == 0
    return out


def _read_id(path: Path) -> int:
    return int(path.stem.rsplit("_r", 1)[1])


def _srs(export: Path) -> list[Path]:
    return sorted((export / "sr").glob("*.dcm"))


def test_one_sr_per_signed_read(export: Path) -> None:
    rows = _rows(export / "timepoints.csv")
    assert sorted(_read_id(p) for p in _srs(export)) == sorted(int(r["read_id"]) for r in rows)
    for path in _srs(export):
        row = next(r for r in rows if int(r["read_id"]) == _read_id(path))
        assert path.name == f"{row['trial_id']}_{row['timepoint']}_{row['purpose']}" \
                            f"_r{row['read_id']}.dcm"


def test_dciodvfy_reports_no_error(export: Path) -> None:
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (dicom3tools) not installed: scripts/setup.sh")
    for path in _srs(export):
        done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True,
                              check=False)
        lines = (done.stdout + done.stderr).splitlines()
        assert "Comprehensive3DSR" in [line.strip() for line in lines], path.name
        errors = [line for line in lines if line.startswith("Error")]
        assert not errors, f"{path.name}: {errors}"


def test_dsrdump_parses_every_sr(export: Path) -> None:
    if shutil.which("dsrdump") is None:
        pytest.skip("dsrdump (dcmtk) not installed: scripts/setup.sh")
    for path in _srs(export):
        done = subprocess.run(["dsrdump", "-Ee", str(path)], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, f"{path.name}: {done.stderr}"
        assert "Imaging Measurement Report" in done.stdout
        assert "Measurement Group" in done.stdout


def _qualitative(group: hd.sr.MeasurementsAndQualitativeEvaluations, meaning: str) -> str:
    found = [e.value.value for e in group.get_qualitative_evaluations()
             if e.name.meaning == meaning]
    assert len(found) == 1, meaning
    return str(found[0])


def test_highdicom_reads_back_the_workspace_values(export: Path) -> None:
    timepoints = {int(r["read_id"]): r for r in _rows(export / "timepoints.csv")}
    lesions = _rows(export / "lesions.csv")
    tracking: dict[tuple[str, str], set[str]] = {}
    for path in _srs(export):
        read_id = _read_id(path)
        row = timepoints[read_id]
        sr = hd.sr.srread(path)
        groups = sr.content.get_image_measurement_groups()
        by_name = {g.tracking_identifier: g for g in groups}
        response = by_name[f"{row['trial_id']} MDA response"]
        if row["category"]:
            assert _qualitative(response, "Response Evaluation") == row["category"]
        assert _qualitative(response, "Deciding rule") == row["rule"]
        for les in (x for x in lesions if int(x["read_id"]) == read_id):
            group = by_name[f"{les['trial_id']} lesion {les['lesion_id']}"]
            tracking.setdefault((les["trial_id"], les["lesion_id"]), set()).add(
                str(group.tracking_uid))
            assert [s.value.value for s in group.finding_sites] == [VERTEBRA_SCT[les["level"]]]
            values = {m.name.value: m.value for m in group.get_measurements()}
            if les["long_mm"]:
                assert values[codes.SCT.LongAxis.value] == pytest.approx(float(les["long_mm"]))
                assert values[codes.SCT.PerpendicularAxis.value] == \
                    pytest.approx(float(les["perp_mm"]))
            else:
                assert not values
            assert _qualitative(group, "Lesion phenotype") == les["phenotype"]
        ds = pydicom.dcmread(path)
        assert ds.PatientID == row["trial_id"] and str(ds.PatientName) == f"{row['trial_id']}^"
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.VerificationFlag == "VERIFIED" and ds.CompletionFlag == "COMPLETE"
    # one tracking UID per lesion, the same at every timepoint, distinct between lesions
    assert all(len(uids) == 1 for uids in tracking.values())
    assert len({next(iter(u)) for u in tracking.values()}) == len(tracking)
    assert len({key[1] for key in tracking if key[0] == "MDA-003"}) == 2


def test_end_points_become_scoord3d_on_the_measured_image(export: Path) -> None:
    truth = {tp["label"]: tp for tp in _truth()["subjects"][0]["timepoints"]}
    checked = 0
    for path in _srs(export):
        sr = hd.sr.srread(path)
        label = path.name.split("_")[1]
        if not path.name.startswith("MDA-001_"):
            continue
        group = next(g for g in sr.content.get_image_measurement_groups()
                     if g.tracking_identifier == "MDA-001 lesion L1")
        coords = {m.name.value: m.referenced_coordinates for m in group.get_measurements()}
        if label not in ("baseline", "1m"):
            assert all(not c for c in coords.values())  # imported reads: no end points
            continue
        tp = truth[label]
        les = tp["lesions"][0]
        expected = _endpoints(les["centre_lps"], les["long_mm"], les["perp_mm"])
        long_c = coords[codes.SCT.LongAxis.value][0]
        perp_c = coords[codes.SCT.PerpendicularAxis.value][0]
        assert long_c.graphic_type.value == "POLYLINE"
        assert np.allclose(long_c.value, expected[:2], atol=1e-4)
        assert np.allclose(perp_c.value, expected[2:], atol=1e-4)
        assert long_c.frame_of_reference_uid == tp["series"][0]["frame_of_reference_uid"]
        # the referenced image is the slice through the measurement plane
        images = _image_refs(sr)
        assert len(images) == 1
        folder = SAMPLE / tp["series"][0]["folder"]
        z = les["centre_lps"][2]
        nearest = min((pydicom.dcmread(f, stop_before_pixels=True) for f in folder.iterdir()),
                      key=lambda d: abs(float(d.ImagePositionPatient[2]) - z))
        assert images == [nearest.SOPInstanceUID]
        checked += 1
    assert checked == 2


def _image_refs(sr: pydicom.Dataset) -> list[str]:
    found = []

    def walk(items: pydicom.Sequence) -> None:
        for item in items:
            if item.ValueType == "IMAGE":
                found.append(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
            walk(item.get("ContentSequence", []))

    walk(sr.ContentSequence)
    return found


def test_evidence_lists_every_source_image(export: Path, workspace: Path) -> None:
    with open_workspace(workspace) as ws:
        reads = {r.id: r for r in ws.list_reads(status="signed", current_only=True)}
        for path in _srs(export):
            read = reads[_read_id(path)]
            expected = set()
            for series in ws.list_series(read.subject, read.timepoint_id):
                for f in ws.series_files(series.id):
                    expected.add(pydicom.dcmread(f.path, stop_before_pixels=True).SOPInstanceUID)
            sr = pydicom.dcmread(path)
            listed = {sop.ReferencedSOPInstanceUID
                      for study in sr.CurrentRequestedProcedureEvidenceSequence
                      for series in study.ReferencedSeriesSequence
                      for sop in series.ReferencedSOPSequence}
            assert listed == expected, path.name


def test_dates_shifted_by_default_and_kept_on_request(workspace: Path, export: Path,
                                                      tmp_path: Path) -> None:
    truth = {(s["subject"], tp["label"]): (s, tp) for s in _truth()["subjects"]
             for tp in s["timepoints"]}
    with open_workspace(workspace) as ws:
        signed = {r.id: r.signed_at for r in ws.list_reads(status="signed")}
    for path in _srs(export):
        ds = pydicom.dcmread(path)
        subject, tp = truth[(ds.PatientID, path.name.split("_")[1])]
        assert ds.StudyDate == (ANCHOR + dt.timedelta(days=tp["days"])).strftime("%Y%m%d")
        treated = dt.date.fromisoformat(subject["treatment_date"])
        when = dt.datetime.fromisoformat(signed[_read_id(path)].replace("Z", "+00:00"))
        shifted = when.date() + (ANCHOR - treated)
        assert ds.ContentDate == ds.InstanceCreationDate == shifted.strftime("%Y%m%d")
        assert ds.ContentTime == when.strftime("%H%M%S")
        assert "113107" in {c.CodeValue for c in ds.DeidentificationMethodCodeSequence}
    with open_workspace(workspace) as ws:
        ws.set_protocol(Actor("dana", "data_manager"),
                        {**ws.get_protocol(), "dicom_dates": "keep"}, "test: real dates")
    try:
        out = tmp_path / "K"
        assert main(["export", str(workspace), "--out", str(out), "--user", "dana",
                     "--format", "sr"]) == 0
        for path in _srs(out):
            ds = pydicom.dcmread(path)
            _, tp = truth[(ds.PatientID, path.name.split("_")[1])]
            assert ds.StudyDate == tp["date"].replace("-", "")
            assert "113106" in {c.CodeValue for c in ds.DeidentificationMethodCodeSequence}
    finally:
        with open_workspace(workspace) as ws:
            protocol = {k: v for k, v in ws.get_protocol().items() if k != "dicom_dates"}
            ws.set_protocol(Actor("dana", "data_manager"), protocol, "test: back to shift")


def test_exporting_twice_gives_identical_sr_bytes(workspace: Path, export: Path,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "B"
    assert main(["export", str(workspace), "--out", str(out), "--user", "dana",
                 "--format", "csv,sr"]) == 0
    names = [p.name for p in _srs(export)]
    assert names == [p.name for p in _srs(out)]
    for name in names:
        assert (export / "sr" / name).read_bytes() == (out / "sr" / name).read_bytes(), name


def test_tracking_uids_come_from_trial_subject_and_lesion(export: Path) -> None:
    """Another trial identity gives other UIDs; this one gives the documented derivation."""
    from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

    sr = hd.sr.srread(_srs(export)[0])
    group = next(g for g in sr.content.get_image_measurement_groups()
                 if g.tracking_identifier == "MDA-001 lesion L1")
    expected = generate_uid(prefix=PYDICOM_ROOT_UID, entropy_srcs=[json.dumps(
        ["mdaread", TRIAL, "lesion", "MDA-001", "L1"])])
    assert str(group.tracking_uid) == expected


def test_bad_dicom_settings_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    settings = tmp_path / "protocol.json"
    settings.write_text(json.dumps({"dicom_dates": "blur"}), encoding="utf-8")
    assert main(["workspace", "init", str(tmp_path / "W"), "--user", "dana",
                 "--protocol", str(settings)]) == 2
    err = capsys.readouterr().err
    assert "dicom_dates" in err and "shift, keep" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "W" / "workspace.sqlite").exists()


def test_each_sr_series_lies_in_one_study(export: Path) -> None:
    """An SR joins its images' study; its series UID is never shared with another study."""
    studies: dict[str, set[str]] = {}
    for path in _srs(export):
        ds = pydicom.dcmread(path)
        evidence = {item.StudyInstanceUID for item in ds.CurrentRequestedProcedureEvidenceSequence}
        assert evidence == {ds.StudyInstanceUID}, path.name
        studies.setdefault(ds.SeriesInstanceUID, set()).add(ds.StudyInstanceUID)
        assert ds.Modality == "SR" and ds.InstanceNumber == _read_id(path)
    assert all(len(s) == 1 for s in studies.values())
    assert len(studies) == len(_srs(export))  # the sample: one signed read per study
