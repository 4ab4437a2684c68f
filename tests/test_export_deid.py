"""No PHI leaves with an export: one sample subject whose every text attribute, every date and a
set of added identifying attributes (names, IDs, addresses, a private block, a nested sequence)
were overwritten with marked values before import, exported in every format; no marked value and
no source date appears in any exported byte (XLSX members unzipped), and the real PatientID is
replaced by the trial ID through the ID mapping file."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mdaread.cli import main
from mdaread.storage import Actor, open_workspace
from mdaread.workflow.reads_import import import_reads

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
SUBJECT = "MDA-002"  # CT and MR timepoints, two MR series at 1m and 6m
MRN = "PHIMRN4471902"
BIRTH = "19370611"
TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT"}
KEEP = {"PatientID"}  # replaced by MRN (mapped to the trial ID by the --ids file)
ADDED = {
    "OtherPatientIDs": "PHIOTHERID",
    "PatientAddress": "PHI 12 Quackenbush Lane",
    "PatientTelephoneNumbers": "PHI555-0199",
    "InstitutionAddress": "PHI 1 Elsewhere Road",
    "OperatorsName": "PHIOPERATOR^Olga",
    "PerformingPhysicianName": "PHIPERFORMER^Paul",
    "PatientComments": "PHI patient comment",
    "ImageComments": "PHI image comment",
    "StationName": "PHISTATION",
    "DeviceSerialNumber": "PHISERIAL77",
    "RequestingPhysician": "PHIREQUESTER^Rhea",
}


def _plant(ds: Dataset) -> set[str]:
    """Overwrite every text value of ``ds`` (and its sequences) with a marked value naming the
    attribute; add the ADDED attributes, a private block and a nested sequence; the birth date.
    Returns the marked values written."""
    planted: set[str] = set()

    def mark(data: Dataset) -> None:
        for elem in data:
            if elem.VR == "SQ":
                for item in elem.value:
                    mark(item)
            elif elem.VR in TEXT_VRS and elem.keyword not in KEEP and elem.tag.group != 0x0002:
                value = f"PHI{elem.tag.group:04X}{elem.tag.element:04X}"
                elem.value = f"{value}^X" if elem.VR == "PN" else value
                planted.add(value)

    mark(ds)
    ds.PatientID = MRN
    ds.PatientBirthDate = BIRTH
    for keyword, value in ADDED.items():
        setattr(ds, keyword, value)
        planted.add(value.split("^")[0])
    block = ds.private_block(0x0011, "PHI ACME", create=True)
    block.add_new(0x01, "LO", "PHIPRIVATE value")
    planted.add("PHIPRIVATE")
    request = Dataset()
    request.RequestedProcedureID = "PHIREQPROC"
    request.ScheduledProcedureStepID = "PHISCHEDSTEP"
    ds.RequestAttributesSequence = Sequence([request])
    ds.add(DataElement(0x00101002, "SQ", Sequence([_other_id()])))  # OtherPatientIDsSequence
    planted |= {"PHIREQPROC", "PHISCHEDSTEP", "PHIOTHERSEQID"}
    return planted


def _other_id() -> Dataset:
    item = Dataset()
    item.PatientID = "PHIOTHERSEQID"
    item.TypeOfPatientID = "TEXT"
    return item


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], set[str]]:
    """(export folder, marked values, source dates) for SUBJECT's planted copy."""
    if not (SAMPLE / "randomisation.csv").is_file():
        pytest.skip("sample trial absent (sample_dicom/randomisation.csv)")
    root = tmp_path_factory.mktemp("deid")
    source = root / "dicom"
    shutil.copytree(SAMPLE / SUBJECT, source / SUBJECT)
    marks: set[str] = set()
    dates: set[str] = {BIRTH}
    for path in sorted(source.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        marks |= _plant(ds)
        dates |= {str(e.value)[:8] for e in ds.iterall() if e.VR in ("DA", "DT") and e.value}
        ds.save_as(path)
    (root / "ids.csv").write_text(f"patient_id,trial_id\n{MRN},{SUBJECT}\n", encoding="utf-8")
    rows = (SAMPLE / "randomisation.csv").read_text(encoding="utf-8").splitlines()
    (root / "rand.csv").write_text("\n".join([rows[0], *[r for r in rows if
                                              r.startswith(SUBJECT + ",")]]) + "\n",
                                   encoding="utf-8")
    folder = root / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    assert main(["workspace", "randomisation", str(folder), str(root / "rand.csv"),
                 "--user", "dana"]) == 0
    assert main(["workspace", "import", str(folder), str(source), "--ids",
                 str(root / "ids.csv"), "--user", "dana"]) == 0
    data = json.loads((SAMPLE / "observations.json").read_text(encoding="utf-8"))
    data["subjects"] = [s for s in data["subjects"] if s["subject"] == SUBJECT]
    with open_workspace(folder) as ws:
        assert len(ws.list_series(SUBJECT)) == 7
        import_reads(ws, Actor("rita", "reader"), data, sign=True)
    out = root / "E"
    assert main(["export", str(folder), "--out", str(out), "--user", "dana",
                 "--unblinded"]) == 0
    return out, marks, dates


def _contents(out: Path) -> dict[str, bytes]:
    """Every exported file's bytes; an XLSX as each of its zip members."""
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = str(path.relative_to(out))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    found[f"{name}:{member}"] = archive.read(member)
        else:
            found[name] = path.read_bytes()
    return found


def test_the_planted_copy_exports_srs(planted: tuple[Path, set[str], set[str]]) -> None:
    out, marks, _ = planted
    srs = sorted((out / "sr").glob("*.dcm"))
    assert len(srs) == 5 and all(p.name.startswith(f"{SUBJECT}_") for p in srs)
    assert {"PHI00100010", "PHI00081030", "PHI0008103E", "PHI00080080"} <= marks  # sanity
    ds = pydicom.dcmread(srs[0])
    assert ds.PatientID == SUBJECT and ds.PatientBirthDate == "" and ds.PatientSex == ""


def test_no_planted_value_in_any_exported_byte(planted: tuple[Path, set[str], set[str]]
                                               ) -> None:
    out, marks, _ = planted
    contents = _contents(out)
    assert any(name.startswith("sr/") for name in contents)
    leaks = [(name, mark) for name, data in contents.items() for mark in sorted(marks | {MRN})
             if mark.lower().encode() in data.lower()]
    assert not leaks


def test_no_source_date_in_a_shifted_sr(planted: tuple[Path, set[str], set[str]]) -> None:
    out, _, dates = planted
    assert "20240114" in dates  # the baseline's study date, planted files read back
    for path in sorted((out / "sr").glob("*.dcm")):
        data = path.read_bytes()
        assert not [d for d in sorted(dates) if d.encode() in data], path.name
        ds = pydicom.dcmread(path)
        assert ds.StudyDate[:4] in {"1999", "2000", "2001"}  # treatment date → 2000-01-01
