"""The seeded mutation fuzz test (issue 10, item 8): real DICOM from ../shared/testdata, the
sample and pydicom's test files, mutated (see tests/fuzz_mutate.py), through ``scan --json``,
``convert`` and ``workspace import`` (see tests/fuzz_runner.py for what fails a case).

200 cases by default (37 s on two cores shared with another test run), 10,000 under
``-m slow``; ``--fuzz-cases N`` or ``MDAREAD_FUZZ_CASES=N`` sets the count, ``--fuzz-seed S`` /
``MDAREAD_FUZZ_SEED`` the campaign. A failing case is reproduced with
``PYTHONPATH=src:tests python tests/fuzz_runner.py SEED INDEX --keep DIR``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import fuzz_runner
from bad_input_helpers import as_data_manager  # noqa: F401 (autouse fixture)
from fuzz_mutate import make_case

DEFAULT_CASES = 200
SLOW_CASES = 10_000
DEFAULT_SEED = 20261204
SLOW_SEED = 10


def setting(config: pytest.Config, option: str, env: str, default: int) -> int:
    value = config.getoption(option)
    if value is None:
        value = int(os.environ.get(env) or default)
    return int(value)


def report(summary: fuzz_runner.Summary) -> str:
    lines = [f"{len(summary.failures)} of {summary.cases} cases failed:"]
    for failure in summary.failures[:10]:
        lines.append(f"  case {failure['seed']} {failure['index']}: "
                     f"{' | '.join(failure['problems'])[:400]}")
        lines.append(f"    {' / '.join(failure.get('case', []))[:400]}")
    lines.append("reproduce: PYTHONPATH=src:tests python tests/fuzz_runner.py SEED INDEX")
    return "\n".join(lines)


def campaign(config: pytest.Config, tmp_path: Path, cases: int, seed: int) -> None:
    count = setting(config, "--fuzz-cases", "MDAREAD_FUZZ_CASES", cases)
    seed = setting(config, "--fuzz-seed", "MDAREAD_FUZZ_SEED", seed)
    summary = fuzz_runner.run_campaign(seed, count, tmp_path)
    print(f"fuzz seed {seed}: {summary.cases} cases in {summary.seconds:.0f} s, slowest "
          f"{summary.slowest:.1f} s (case {summary.slowest_index}), {summary.tally}")
    assert not summary.failures, report(summary)
    assert summary.cases == count
    # the cases reach every command's real work, not only its refusals
    tally = summary.tally
    if count >= 100:
        assert min(tally.get(k, 0) for k in ("converted", "refused", "imported")) > 0, tally


def test_fuzz(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    campaign(pytestconfig, tmp_path, DEFAULT_CASES, DEFAULT_SEED)


@pytest.mark.slow
def test_fuzz_ten_thousand(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    campaign(pytestconfig, tmp_path, SLOW_CASES, SLOW_SEED)


def test_fuzz_cases_through_the_installed_entry_point(tmp_path: Path) -> None:
    """A few cases as a user runs them: `python -m mdaread` in its own process."""
    template = fuzz_runner.make_template(tmp_path)
    env = {**os.environ, "MDAREAD_HEADER_CACHE": "off"}
    env.pop("MDAREAD_DEBUG", None)
    for index in range(2):
        case = tmp_path / f"case-{index}"
        description = make_case(DEFAULT_SEED + 1, index, case)
        workspace = tmp_path / f"ws-{index}"
        runs: list[tuple[str, list[str], set[int]]] = [
            ("scan", ["scan", "--json", str(case)], {0, 2}),
            ("convert", ["convert", str(case), str(tmp_path / f"{index}.nii")], {0, 2}),
            ("import", ["workspace", "import", str(workspace), str(case), "--json"], {0, 1, 2}),
        ]
        subprocess.run(["cp", "-r", str(template), str(workspace)], check=True)
        for name, argv, allowed in runs:
            done = subprocess.run([sys.executable, "-m", "mdaread", *argv], env=env,
                                  capture_output=True, text=True, timeout=120)
            outcome = fuzz_runner.Outcome(done.returncode, done.stdout, done.stderr, "")
            problems = fuzz_runner.judge_output(name, outcome, allowed)
            assert not problems, (problems, description, done.stderr[-2000:])
            if name == "scan" and done.returncode == 0:
                assert json.loads(done.stdout)["series"] is not None


# --- the judge itself: each of its checks fires on what it is meant to catch ---------------


@pytest.mark.parametrize(("outcome", "words"), [
    (fuzz_runner.Outcome(1, "", "mdaread: error: x\n", ""), "exit 1"),
    (fuzz_runner.Outcome(2, "", "mdaread: error: unexpected KeyError: 'x'\n", ""),
     "'unexpected'"),
    (fuzz_runner.Outcome(2, "", "Traceback (most recent call last):\n", ""), "traceback"),
    (fuzz_runner.Outcome(0, "", "", "thread '<unnamed>' panicked"), "raw terminal output"),
    (fuzz_runner.Outcome(2, "", "mdaread: error: a\x1b[2Jb\n", ""), "control/override"),
    (fuzz_runner.Outcome(2, "", "mdaread: error: \u202eb\n", ""), "control/override"),
    (fuzz_runner.Outcome(0, "", "x.py:3: RuntimeWarning: overflow\n", ""), "warning"),
    (fuzz_runner.Outcome(0, "", "mdaread: warning: UserWarning: x\n", ""), "library warning"),
])
def test_the_judge_catches(outcome: fuzz_runner.Outcome, words: str) -> None:
    problems = fuzz_runner.judge_output("cmd", outcome, {0, 2})
    assert any(words in p for p in problems), problems


def test_the_judge_passes_clean_output() -> None:
    clean = fuzz_runner.Outcome(2, "", "mdaread: warning: w\nmdaread: error: e\n", "")
    assert fuzz_runner.judge_output("cmd", clean, {0, 2}) == []


def test_a_non_finite_volume_fails_the_case(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path, repo_root: Path) -> None:
    """A planted defect: convert writes a NaN voxel and a wrong shape; the case says both."""
    import numpy as np

    from mdaread.io import load as load_module

    real = load_module._rescale

    def broken(stored: Any, plan: Any) -> Any:
        values = real(stored, plan).astype(np.float32)
        values[0, 0, 0] = np.nan
        return values[:, :-1]

    monkeypatch.setattr(load_module, "_rescale", broken)
    monkeypatch.setenv("MDAREAD_HEADER_CACHE", "off")
    template = fuzz_runner.make_template(tmp_path)
    case = tmp_path / "case"
    case.mkdir()
    for path in sorted((repo_root / "sample_dicom" / "MDA-001" / "3m_CT").iterdir())[:3]:
        (case / path.name).write_bytes(path.read_bytes())
    (tmp_path / "scratch").mkdir()
    problems = fuzz_runner.run_case(case, tmp_path / "scratch", template)
    assert any("non-finite voxels" in p for p in problems), problems
    assert any("scan said" in p for p in problems), problems


def test_a_case_that_hangs_is_killed_and_counted(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No answer within the timeout is a hang: the worker is killed and replaced and the
    campaign goes on (here every worker stalls for a minute before each case)."""
    monkeypatch.setenv("MDAREAD_FUZZ_STALL", "60")
    summary = fuzz_runner.run_campaign(1, 2, tmp_path, workers=1, timeout=3)
    assert summary.cases == 2
    assert [f["problems"][0].split(":")[0] for f in summary.failures] == ["hang", "hang"]


def test_cases_are_reproducible(tmp_path: Path) -> None:
    first = make_case(7, 42, tmp_path / "a")
    again = make_case(7, 42, tmp_path / "b")
    assert first == again
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "a").iterdir()) == sorted(
        (p.name, p.read_bytes()) for p in (tmp_path / "b").iterdir())
