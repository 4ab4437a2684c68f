"""`mdaread agreement W` end to end on the sample trial (sample_dicom/): rita's primary reads
(the sample's observations.json), her own re-read and bob's re-read of two subjects imported
with `reads import --purpose reread`, ada's adjudication of one subject; the figures against a
hand computation from the categories written out below."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
Z = 1.959964
AS_DM = ("--user", "dana", "--role", "data_manager")

# Final categories of the primary reads (the sample's scripted subjects), follow-ups in order
# 1m 3m 6m 12m; PDu resolved (MDA-002 3m → SD, MDA-004 1m and 3m → PD).
PRIMARY = {"MDA-001": ["SD", "PR", "PR", "CR"], "MDA-002": ["SD", "SD", "PR", "PR"],
           "MDA-003": ["PR", "PR", "PD", "PD"], "MDA-004": ["PD", "PD", "PD", "PD"]}


def _observations() -> dict[str, Any]:
    return json.loads((SAMPLE / "observations.json").read_text(encoding="utf-8"))


def _rita_reread() -> dict[str, Any]:
    """MDA-001 12m partial instead of complete fill-in (CR → PR); MDA-002 1m no scan (SD → NE,
    left out); MDA-004 12m long axis 27 instead of 25 mm (SPD 25·18 = 450 → 27·18 = 486 mm²)."""
    data = _observations()
    subjects = {s["subject"]: s for s in data["subjects"]}
    subjects["MDA-001"]["timepoints"][4]["lesions"][0]["signs"] = ["partial_fill_in"]
    subjects["MDA-002"]["timepoints"][1]["scan_available"] = False
    assert subjects["MDA-004"]["timepoints"][4]["lesions"][0]["long_mm"] == 25
    subjects["MDA-004"]["timepoints"][4]["lesions"][0]["long_mm"] = 27
    return data


def _bob_reread() -> dict[str, Any]:
    """MDA-001 and MDA-002 only; MDA-001 1m a sclerotic rim (SD → PR)."""
    data = _observations()
    data["subjects"] = copy.deepcopy(data["subjects"][:2])
    data["subjects"][0]["timepoints"][1]["lesions"][0]["signs"] = ["sclerotic_rim"]
    return data


def _ada_adjudication() -> dict[str, Any]:
    data = _observations()
    data["subjects"] = data["subjects"][:1]
    return data


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SAMPLE / "randomisation.csv").is_file():
        pytest.skip("sample trial absent (sample_dicom/randomisation.csv)")
    root = tmp_path_factory.mktemp("agreement")
    folder = root / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    assert main(["workspace", "randomisation", str(folder), str(SAMPLE / "randomisation.csv"),
                 "--user", "dana"]) == 0
    assert main(["workspace", "import", str(folder), str(SAMPLE), "--user", "dana"]) == 0
    return folder


@pytest.fixture(scope="module")
def primary_only(workspace: Path) -> Path:
    assert main(["reads", "import", str(workspace), str(SAMPLE / "observations.json"),
                 "--reader", "rita", "--sign"]) == 0
    return workspace


@pytest.fixture(scope="module")
def read_twice(primary_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = tmp_path_factory.mktemp("reads")
    for name, reader, purpose, data in (
            ("rita.json", "rita", "reread", _rita_reread()),
            ("bob.json", "bob", "reread", _bob_reread()),
            ("ada.json", "ada", "adjudication", _ada_adjudication())):
        (files / name).write_text(json.dumps(data), encoding="utf-8")
        assert main(["reads", "import", str(primary_only), str(files / name), "--reader",
                     reader, "--purpose", purpose, "--sign"]) == 0
    # a draft re-read never counts
    (files / "drafty.json").write_text(json.dumps(_rita_reread()), encoding="utf-8")
    assert main(["reads", "import", str(primary_only), str(files / "drafty.json"), "--reader",
                 "dora", "--purpose", "reread"]) == 0
    return primary_only


def _agreement(capsys: pytest.CaptureFixture[str], workspace: Path,
               *extra: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["agreement", str(workspace), "--json", *AS_DM, *extra]) == 0
    return json.loads(capsys.readouterr().out)["comparisons"]


def _one(comparisons: list[dict[str, Any]], a: str, purpose_a: str, b: str,
         purpose: str) -> dict[str, Any]:
    found = [c for c in comparisons if (c["reader_a"], c["purpose_a"], c["reader_b"],
                                        c["purpose"]) == (a, purpose_a, b, purpose)]
    assert len(found) == 1, [(c["reader_a"], c["reader_b"], c["purpose"]) for c in comparisons]
    return found[0]


def test_no_comparisons_without_rereads(primary_only: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    # runs first (module order): only the primary reads are in
    assert _agreement(capsys, primary_only) == []
    assert main(["agreement", str(primary_only), *AS_DM]) == 0
    assert "no comparisons" in capsys.readouterr().out


def test_intra_reader_figures_by_hand(read_twice: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """rita vs rita: 16 follow-ups, MDA-002 1m NE → n 15. Rows (primary) CR 0 1 0 0, PR 0 6 0 0,
    SD 0 0 2 0, PD 0 0 0 6; rows 1 6 2 6, columns 0 7 2 6 (/15).
    p_o 14/15, p_e (0 + 42 + 4 + 36)/225 = 82/225 → kappa 128/143.
    Linear: p_o 14/15 + (2/3)/15 = 44/45; p_e (82 + (2/3)·57 + (1/3)·80)/225 = 88/135
    → kappa_w 44/47. DC vs PD 9 0 / 0 6 → kappa 1.
    SPD: 20 timepoints minus the NE one = 19 pairs, one difference +36 mm² → bias 36/19,
    SD 36/√19."""
    c = _one(_agreement(capsys, read_twice), "rita", "primary", "rita", "reread")
    assert c["kind"] == "intra-reader"
    assert (c["n"], c["n_left_out"], c["left_out"]["ne"]) == (15, 1, 1)
    assert c["confusion"]["counts"] == [[0, 1, 0, 0], [0, 6, 0, 0], [0, 0, 2, 0], [0, 0, 0, 6]]
    assert c["percent_agreement"]["value"] == pytest.approx(14 / 15)
    assert c["kappa"]["value"] == pytest.approx(128 / 143)
    assert c["weighted_kappa"]["value"] == pytest.approx(44 / 47)
    assert c["kappa_dc_pd"]["value"] == pytest.approx(1.0)
    for key in ("kappa", "weighted_kappa"):
        e = c[key]
        assert e["ci_low"] < e["value"] < e["ci_high"] <= 1.0
        assert e["ci_low"] == pytest.approx(max(-1.0, e["value"] - Z * e["se"]), abs=1e-6)
    ba = c["spd_bland_altman"]
    assert ba["n"] == 19
    assert ba["bias"] == pytest.approx(36 / 19)
    assert ba["sd"] == pytest.approx(36 / 19 ** 0.5)
    assert ba["loa_high"] == pytest.approx(36 / 19 + Z * 36 / 19 ** 0.5, abs=1e-5)
    changed = [t for t in c["timepoints"] if t["category_a"] != t["category_b"]]
    assert [(t["subject"], t["timepoint"], t["category_a"], t["category_b"]) for t in changed] \
        == [("MDA-001", "12m", "CR", "PR"), ("MDA-002", "1m", "SD", "NE")]


def test_inter_reader_figures_by_hand(read_twice: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """rita (primary) vs bob (reread), MDA-001 and MDA-002: n 8, bob PR where rita SD at
    MDA-001 1m. Rows CR 1 0 0 0, PR 0 4 0 0, SD 0 1 2 0; rows 1 4 3 0, columns 1 5 2 0 (/8).
    p_o 7/8, p_e 27/64 → kappa 29/37; linear p_o 23/24, p_e (27 + (2/3)·32 + (1/3)·5)/64 =
    25/32 → kappa_w 17/21; every pair DC: chance agreement 1, DC-vs-PD kappa undefined."""
    comparisons = _agreement(capsys, read_twice)
    c = _one(comparisons, "rita", "primary", "bob", "reread")
    assert c["kind"] == "inter-reader" and (c["n"], c["n_left_out"]) == (8, 0)
    assert c["confusion"]["counts"] == [[1, 0, 0, 0], [0, 4, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]]
    assert c["kappa"]["value"] == pytest.approx(29 / 37)
    assert c["weighted_kappa"]["value"] == pytest.approx(17 / 21)
    assert c["kappa_dc_pd"]["value"] is None
    assert c["percent_agreement"]["value"] == pytest.approx(7 / 8)
    assert c["spd_bland_altman"]["bias"] == pytest.approx(0.0)  # bob measured as rita did
    # the two re-readers: rita's re-read vs bob's on the same 8 timepoints, MDA-002 1m NE
    rr = _one(comparisons, "bob", "reread", "rita", "reread")
    assert (rr["n"], rr["left_out"]["ne"]) == (7, 1)
    adj = _one(comparisons, "rita", "primary", "ada", "adjudication")
    assert (adj["n"], adj["percent_agreement"]["value"]) == (4, 1.0)
    order = [(c["purpose"], c["purpose_a"], c["reader_a"], c["reader_b"]) for c in comparisons]
    assert order == [("reread", "primary", "rita", "bob"), ("reread", "primary", "rita", "rita"),
                     ("reread", "reread", "bob", "rita"),
                     ("adjudication", "primary", "rita", "ada")]
    assert all(t["read_b"] != t["read_a"] for t in adj["timepoints"])
    assert "dora" not in json.dumps(comparisons)  # drafts never count


def test_required_json_keys(read_twice: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for c in _agreement(capsys, read_twice):
        for key in ("reader_a", "reader_b", "purpose", "n", "n_left_out", "percent_agreement",
                    "kappa", "weighted_kappa", "kappa_dc_pd", "confusion", "spd_bland_altman"):
            assert key in c, key
        for key in ("percent_agreement", "kappa", "weighted_kappa", "kappa_dc_pd"):
            assert set(c[key]) >= {"value", "ci_low", "ci_high", "method"}


def test_subject_filter_and_text_output(read_twice: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    only = _agreement(capsys, read_twice, "--subject", "MDA-004")
    intra = _one(only, "rita", "primary", "rita", "reread")
    assert intra["n"] == 4 and intra["spd_bland_altman"]["n"] == 5
    assert main(["agreement", str(read_twice), *AS_DM]) == 0
    out = capsys.readouterr().out
    assert "rita (primary) vs rita (reread), intra-reader: n 15, left out 1 (NE 1" in out
    assert f"kappa           {128 / 143:.3f}" in out
    assert "kappa DC vs PD  undefined" in out


@pytest.mark.parametrize("args, names", [
    (["--role", "reader"], ["dana", "reader", "data manager"]),
    (["--subject", "MDA-999"], ["MDA-999"]),
])
def test_bad_input_is_one_line(read_twice: Path, capsys: pytest.CaptureFixture[str],
                               args: list[str], names: list[str]) -> None:
    capsys.readouterr()
    assert main(["agreement", str(read_twice), *AS_DM, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mdaread: error: "), err
    assert all(n in err for n in names), err


def test_missing_workspace_is_one_line(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agreement", str(tmp_path / "nowhere"), *AS_DM]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nowhere" in err, err
