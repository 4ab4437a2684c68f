"""`mdaread pacs query|retrieve` over DICOMweb against a real Orthanc (tests/orthanc_server.py)
holding sample_dicom/MDA-001; the same import as a folder, faults as one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bad_input_helpers import one_error
from conftest import SAMPLE_DICOM
from mdaread.cli import main
from mdaread.errors import Cancelled
from mdaread.pacs import Credentials, open_node
from mdaread.storage import open_workspace
from mdaread.workflow.pacs_retrieve import CACHE_FOLDER, cache_folder, retrieve_series
from mdaread.workflow.workspace_service import resolve_actor
from orthanc_server import PASSWORD, USER, free_port

SUBJECT = SAMPLE_DICOM / "MDA-001"


pytestmark = pytest.mark.usefixtures("pacs_login")


def _query(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["pacs", "query", *args, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str] | None = None) -> Path:
    ws = tmp_path / "W"
    assert main(["workspace", "init", str(ws)]) == 0
    assert main(["workspace", "randomisation", str(ws),
                 str(SAMPLE_DICOM / "randomisation.csv")]) == 0
    if capsys is not None:
        capsys.readouterr()
    return ws


def test_query_lists_every_study_and_series_with_counts(
        orthanc: Any, folder_series: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    answer = _query(capsys, orthanc.dicomweb_url, "--patient", "MDA-001")
    series = {s["series_uid"]: s for st in answer["studies"] for s in st["series"]}
    assert set(series) == set(folder_series)
    for uid, hit in series.items():
        assert hit["n_instances"] == len(folder_series[uid].files)
        assert hit["modality"] == folder_series[uid].modality
    for study in answer["studies"]:
        assert study["patient_id"] == "MDA-001"
        assert study["n_series"] == len(study["series"])
        assert study["n_instances"] == sum(s["n_instances"] for s in study["series"])
    assert _query(capsys, orthanc.dicomweb_url, "--patient", "MDA-999")["studies"] == []


def test_query_filters_by_date_and_modality(orthanc: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    every = _query(capsys, orthanc.dicomweb_url)["studies"]
    dates = sorted(s["study_date"] for s in every)
    since = dates[len(dates) // 2]
    later = _query(capsys, orthanc.dicomweb_url, "--since",
                   f"{since[:4]}-{since[4:6]}-{since[6:]}")["studies"]
    assert sorted(s["study_date"] for s in later) == [d for d in dates if d >= since]
    assert 0 < len(later) < len(every)
    assert len(_query(capsys, orthanc.dicomweb_url, "--modality", "CT")["studies"]) == len(every)
    assert _query(capsys, orthanc.dicomweb_url, "--modality", "MR")["studies"] == []


def test_retrieve_imports_like_a_folder_and_never_fetches_twice(
        orthanc: Any, folder_series: dict[str, Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ws_path = _workspace(tmp_path, capsys)
    uid = sorted(folder_series)[0]
    assert main(["pacs", "retrieve", orthanc.dicomweb_url, "--series", uid, "--into",
                 str(ws_path), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == "fetched"
    assert first["fetched"] == len(folder_series[uid].files)
    added = first["import"]["added"]
    assert [a["series_uid"] for a in added] == [uid]
    cache = ws_path / CACHE_FOLDER
    assert sorted(p.name for p in cache.iterdir()) == [uid]  # no .partial left
    # the same placement as a folder import of the original files into a second workspace
    other = _workspace(tmp_path / "folder", capsys)
    assert main(["workspace", "import", str(other), str(folder_series[uid].files[0].parent),
                 "--json"]) == 0
    by_folder = [a for a in json.loads(capsys.readouterr().out)["added"]
                 if a["series_uid"] == uid]
    assert [(a["subject"], a["timepoint"], a["n_files"]) for a in added] == \
        [(a["subject"], a["timepoint"], a["n_files"]) for a in by_folder]
    with open_workspace(ws_path) as ws:
        (record,) = ws.find_series(uid)
        files = ws.series_files(record.id)
        assert {Path(f.path).parent for f in files} == {cache / uid}
        audit = json.dumps([vars(r) if hasattr(r, "__dict__") else str(r)
                            for r in ws.audit_rows()], default=str)
    assert PASSWORD not in audit
    # again: already in the workspace, nothing fetched
    assert main(["pacs", "retrieve", orthanc.dicomweb_url, "--series", uid, "--into",
                 str(ws_path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["status"], again["fetched"], again["import"]) == ("present", 0, None)


def test_a_cut_off_retrieve_leaves_nothing_and_a_rerun_completes(
        orthanc: Any, folder_series: dict[str, Any], tmp_path: Path) -> None:
    ws_path = _workspace(tmp_path)
    uid = max(folder_series, key=lambda u: len(folder_series[u].files))
    node = open_node(orthanc.dicomweb_url, Credentials(USER, PASSWORD))
    actor = resolve_actor()
    seen: list[str] = []
    with open_workspace(ws_path) as ws:
        with pytest.raises(Cancelled):
            retrieve_series(ws, actor, node, uid, progress=lambda f, m: seen.append(m),
                            cancel=lambda: len(seen) >= 5)
        assert not ws.find_series(uid)
        assert not (ws_path / CACHE_FOLDER).exists() or not any(
            (ws_path / CACHE_FOLDER).iterdir())
        report = retrieve_series(ws, actor, node, uid)
        assert report.status == "fetched"
        assert report.fetched == len(folder_series[uid].files)
        (record,) = ws.find_series(uid)
        assert len(ws.series_files(record.id)) == len(folder_series[uid].files)


def test_a_complete_cache_folder_is_imported_without_fetching(
        orthanc: Any, folder_series: dict[str, Any], tmp_path: Path) -> None:
    ws_path = _workspace(tmp_path)
    uid = sorted(folder_series)[1]
    node = open_node(orthanc.dicomweb_url, Credentials(USER, PASSWORD))
    with open_workspace(ws_path) as ws:
        final = cache_folder(ws, uid)
        final.mkdir(parents=True)
        for path in folder_series[uid].files:
            (final / Path(path).name).write_bytes(Path(path).read_bytes())
        stale = final.with_name(final.name + ".partial")
        stale.mkdir()
        report = retrieve_series(ws, resolve_actor(), open_node("http://127.0.0.1:1/x"), uid)
        assert (report.status, report.fetched) == ("cached", 0)
        assert ws.find_series(uid)
    assert node.label  # the real server was not needed


def test_server_down_is_one_line_naming_it(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    assert main(["pacs", "query", url]) == 2
    assert "connection refused" in one_error(capsys, url)


def test_refused_authentication_is_one_line_naming_the_server(
        orthanc: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MDAREAD_PACS_PASSWORD", "wrong")
    assert main(["pacs", "query", orthanc.dicomweb_url]) == 2
    err = one_error(capsys, orthanc.dicomweb_url, "authentication refused", "401")
    assert "wrong" not in err


def test_a_series_the_server_lacks_is_one_line(orthanc: Any, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ws_path = _workspace(tmp_path, capsys)
    assert main(["pacs", "retrieve", orthanc.dicomweb_url, "--series", "1.2.3.4.5",
                 "--into", str(ws_path)]) == 2
    one_error(capsys, orthanc.dicomweb_url, "no series 1.2.3.4.5")
    assert not (ws_path / CACHE_FOLDER).exists() or not any((ws_path / CACHE_FOLDER).iterdir())


@pytest.mark.parametrize(("args", "names"), [
    (["query", "http://dm:secret@127.0.0.1:9/dicom-web"], ["127.0.0.1", "MDAREAD_PACS_PASSWORD"]),
    (["retrieve", "http://127.0.0.1:9/", "--series", "../../etc", "--into", "W"],
     ["../../etc", "not a DICOM UID"]),
    (["query", "http://127.0.0.1:9/", "--since", "2024-13"], ["--since", "YYYY-MM-DD"]),
])
def test_bad_arguments_are_one_line(args: list[str], names: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pacs", *args]) == 2
    err = one_error(capsys, *names)
    assert "secret" not in err
