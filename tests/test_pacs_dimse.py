"""`mdaread pacs query|retrieve` over DIMSE (C-FIND, C-GET with pynetdicom) against the same
real Orthanc as tests/test_pacs_dicomweb.py; faults as one-line errors naming the node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bad_input_helpers import one_error
from mdaread.cli import main
from mdaread.errors import Cancelled
from mdaread.pacs import open_node
from mdaread.storage import open_workspace
from mdaread.workflow.pacs_retrieve import CACHE_FOLDER, retrieve_series
from mdaread.workflow.workspace_service import resolve_actor
from orthanc_server import free_port
from test_pacs_dicomweb import _query, _workspace

pytestmark = pytest.mark.usefixtures("pacs_login")


def test_query_over_dimse_matches_the_files(orthanc: Any, folder_series: dict[str, Any],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    answer = _query(capsys, orthanc.node, "--patient", "MDA-001")
    series = {s["series_uid"]: s for st in answer["studies"] for s in st["series"]}
    assert set(series) == set(folder_series)
    for uid, hit in series.items():
        assert hit["n_instances"] == len(folder_series[uid].files)
    # the same studies as DICOMweb answers, with the same filters
    for args in ([], ["--since", "2024-04-14"], ["--modality", "MR"]):
        dimse = _query(capsys, orthanc.node, *args)["studies"]
        web = _query(capsys, orthanc.dicomweb_url, *args)["studies"]
        assert [(s["study_uid"], s["n_instances"]) for s in dimse] == \
            [(s["study_uid"], s["n_instances"]) for s in web]


def test_retrieve_over_dimse_imports_and_never_fetches_twice(
        orthanc: Any, folder_series: dict[str, Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ws_path = _workspace(tmp_path, capsys)
    uid = sorted(folder_series)[2]
    assert main(["pacs", "retrieve", orthanc.node, "--series", uid, "--into", str(ws_path),
                 "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["status"], first["fetched"]) == ("fetched", len(folder_series[uid].files))
    assert [a["series_uid"] for a in first["import"]["added"]] == [uid]
    assert sorted(p.name for p in (ws_path / CACHE_FOLDER).iterdir()) == [uid]
    assert main(["pacs", "retrieve", orthanc.node, "--series", uid, "--into", str(ws_path),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "present"


def test_a_cancelled_c_get_leaves_nothing(orthanc: Any, folder_series: dict[str, Any],
                                          tmp_path: Path) -> None:
    ws_path = _workspace(tmp_path)
    uid = max(folder_series, key=lambda u: len(folder_series[u].files))
    node = open_node(orthanc.node)
    seen: list[str] = []
    with open_workspace(ws_path) as ws:
        with pytest.raises(Cancelled):
            retrieve_series(ws, resolve_actor(), node, uid,
                            progress=lambda f, m: seen.append(m), cancel=lambda: len(seen) >= 3)
        assert not ws.find_series(uid)
        assert not any((ws_path / CACHE_FOLDER).iterdir())


def test_node_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    node = f"ORTHANC@127.0.0.1:{free_port()}"
    assert main(["pacs", "query", node]) == 2
    assert "connection refused" in one_error(capsys, node)


def test_a_rejected_association_is_one_line(orthanc: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    node = f"NOSUCHAE@127.0.0.1:{orthanc.dicom_port}"
    assert main(["pacs", "query", node]) == 2
    one_error(capsys, node, "association rejected")


def test_a_series_the_node_lacks_is_one_line(orthanc: Any, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ws_path = _workspace(tmp_path, capsys)
    assert main(["pacs", "retrieve", orthanc.node, "--series", "1.2.3.4.5", "--into",
                 str(ws_path)]) == 2
    one_error(capsys, orthanc.node, "no series 1.2.3.4.5")


@pytest.mark.parametrize("node", ["ORTHANC@127.0.0.1", "127.0.0.1:104", "A@host:99999",
                                  "WAYTOOLONGAETITLE1@h:104"])
def test_a_malformed_node_is_one_line(node: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pacs", "query", node]) == 2
    one_error(capsys, node)
