"""Running fuzz cases through the real command line and judging what comes out.

One case (see :mod:`fuzz_mutate`) runs ``mdaread scan --json DIR``, ``mdaread convert DIR
OUT.nii --series KEY`` for each series the scan found (up to three; a plain ``convert DIR`` when
it found none) and ``mdaread workspace import W DIR --json`` on a copy of a fresh workspace.
The commands run in-process (``mdaread.cli.main``) with Python's stdout/stderr captured and
file descriptors 1 and 2 redirected, so a C library writing to the terminal is seen as well.

A case fails when a command exits other than 0 or 2 (``workspace import`` may exit 1 when its
report needs attention), prints ``unexpected`` or a traceback, writes to the terminal past the
CLI (a decoder's message), prints a raw control or bidirectional-override character, a stderr
line not starting ``mdaread:`` or a library's warning (``RuntimeWarning``, ``UserWarning``,
raw or reformatted), emits scan JSON that is not finite, or
when convert exits 0 with a non-finite voxel or affine or a shape other than the scan's, or
converts a series the scan said cannot be loaded. Cases run in worker processes
(:func:`run_campaign`); a worker that takes longer than the timeout on one case is killed and
the case counts as a hang, one that dies as a crash.

Reproduce one case: ``PYTHONPATH=src:tests python tests/fuzz_runner.py SEED INDEX [--keep DIR]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

MAX_CONVERTS = 3
# C0 controls other than newline, DEL, C1 controls, bidirectional embeddings/overrides/isolates
FORBIDDEN = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x0A} | set(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    terminal: str  # what reached file descriptors 1 and 2 directly


@dataclass
class Summary:
    """A campaign's result: case count, failures (one dict per failing case), slowest case."""

    cases: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)
    slowest: float = 0.0
    slowest_index: int = -1
    seconds: float = 0.0


def run_cli(argv: list[str], scratch: Path) -> Outcome:
    """``mdaread ARGV`` in this process, every output captured."""
    from mdaread.cli import main

    out, err = io.StringIO(), io.StringIO()
    sink = scratch / "terminal.txt"
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(sink, "wb") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse
                    code = exc.code if isinstance(exc.code, int) else 2
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    return Outcome(code, out.getvalue(), err.getvalue(), sink.read_bytes().decode("utf-8",
                                                                                 "replace"))


def judge_output(name: str, result: Outcome, allowed: set[int]) -> list[str]:
    """Problems common to every command."""
    problems = []
    if result.code not in allowed:
        problems.append(f"{name}: exit {result.code}")
    text = result.out + result.err
    if "unexpected" in text:
        problems.append(f"{name}: 'unexpected' in output: {_line(text, 'unexpected')!r}")
    if "Traceback" in text + result.terminal:
        problems.append(f"{name}: traceback")
    if result.terminal.strip():
        problems.append(f"{name}: raw terminal output {result.terminal.strip()[:160]!r}")
    bad = sorted({c for c in text if c in FORBIDDEN})
    if bad:
        problems.append(f"{name}: raw control/override characters {bad!r}: "
                        f"{_line(text, bad[0])!r}")
    warned = re.search(r"\b[A-Z]\w*Warning\b", result.err)
    if warned:
        problems.append(f"{name}: library warning: {_line(result.err, warned.group())!r}")
    for line in result.err.splitlines():
        if not line.startswith("mdaread: "):
            problems.append(f"{name}: stderr line {line[:160]!r}")
            break
    return problems


def _line(text: str, needle: str) -> str:
    """The first line of ``text`` holding ``needle`` (at most 240 characters)."""
    return next((line for line in text.splitlines() if needle in line), "")[:240]


def _finite_json(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_json(v) for v in value)
    return True


def _check_nifti(path: Path, series: dict[str, Any]) -> list[str]:
    import nibabel as nib
    import numpy as np

    image: Any = nib.load(path)
    data = np.asanyarray(image.dataobj)
    problems = []
    expected = tuple(reversed(series["shape"]))
    if tuple(data.shape) != expected:
        problems.append(f"convert {series['key']}: shape {data.shape}, scan said {expected}")
    if np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        problems.append(f"convert {series['key']}: non-finite voxels")
    if not np.all(np.isfinite(image.affine)):
        problems.append(f"convert {series['key']}: non-finite affine")
    return problems


def run_case(case: Path, scratch: Path, template: Path,
             tally: dict[str, int] | None = None) -> list[str]:
    """Every problem the three commands show on the case folder ``case``; ``tally`` counts
    what the commands did (series found, converted, refused, imported)."""
    tally = {} if tally is None else tally
    problems: list[str] = []
    scan = run_cli(["scan", "--json", str(case)], scratch)
    problems += judge_output("scan", scan, {0, 2})
    series: list[dict[str, Any]] = []
    if scan.code == 0:
        try:
            found = json.loads(scan.out)
            series = found["series"]
        except (ValueError, KeyError) as exc:
            problems.append(f"scan: output is not its JSON ({exc})")
        else:
            if not _finite_json(found):
                problems.append("scan: non-finite number in JSON")
            tally["series"] = tally.get("series", 0) + len(series)
    out = scratch / "out.nii"
    for item in series[:MAX_CONVERTS]:
        out.unlink(missing_ok=True)
        result = run_cli(["convert", str(case), str(out), "--series", item["key"]], scratch)
        problems += judge_output(f"convert {item['key']}", result, {0, 2})
        refused = any(w.startswith("cannot be loaded") for w in item["warnings"])
        if result.code == 0 and refused:
            problems.append(f"convert {item['key']}: converted a series scan refused")
        if result.code == 0:
            problems += _check_nifti(out, item)
        name = "converted" if result.code == 0 else "refused"
        tally[name] = tally.get(name, 0) + 1
    if not series:
        result = run_cli(["convert", str(case), str(out)], scratch)
        problems += judge_output("convert", result, {0, 2})
        if result.code == 0:
            problems.append("convert: exit 0 where the scan found no series")
    workspace = scratch / "ws"
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(template, workspace)
    result = run_cli(["workspace", "import", str(workspace), str(case), "--json"], scratch)
    problems += judge_output("import", result, {0, 1, 2})
    if result.code in (0, 1):
        try:
            report = json.loads(result.out)
        except ValueError as exc:
            problems.append(f"import: output is not its JSON ({exc})")
        else:
            if not _finite_json(report):
                problems.append("import: non-finite number in JSON")
            added = len(report.get("added", [])) if isinstance(report, dict) else 0
            tally["imported"] = tally.get("imported", 0) + added
    return problems


def make_template(folder: Path) -> Path:
    """A fresh workspace holding the sample's randomisation list (subjects MDA-001…004)."""
    from fuzz_corpus import SAMPLE
    from mdaread.cli import main

    workspace = folder / "template"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["workspace", "init", str(workspace)]) == 0
        assert main(["workspace", "randomisation", str(workspace),
                     str(SAMPLE / "randomisation.csv")]) == 0
    return workspace


def _environment() -> None:
    os.environ.setdefault("MDAREAD_USER", "dana")
    os.environ.setdefault("MDAREAD_ROLE", "data_manager")
    os.environ.setdefault("MDAREAD_HEADER_CACHE", "off")
    os.environ.pop("MDAREAD_DEBUG", None)


def one_case(seed: int, index: int, scratch: Path, template: Path) -> dict[str, Any]:
    """Build and run case ``index``: its description, problems and seconds taken."""
    import warnings

    from fuzz_mutate import make_case

    warnings._filters_mutated()  # type: ignore[attr-defined]  # as in a fresh process
    case = scratch / "case"
    shutil.rmtree(case, ignore_errors=True)
    started = time.monotonic()
    description = make_case(seed, index, case)
    tally: dict[str, int] = {}
    try:
        problems = run_case(case, scratch, template, tally)
    except BaseException as exc:  # the harness itself: say so, never hide it
        problems = [f"harness: {type(exc).__name__}: {exc}"]
    return {"seed": seed, "index": index, "case": description, "problems": problems,
            "seconds": time.monotonic() - started, "tally": tally}


def _worker(conn: Connection, scratch: str, template: str) -> None:
    _environment()
    root = Path(scratch)
    stall = float(os.environ.get("MDAREAD_FUZZ_STALL") or 0)  # the harness's own test only
    while True:
        job = conn.recv()
        if job is None:
            return
        time.sleep(stall)
        conn.send(one_case(job[0], job[1], root, Path(template)))


def run_campaign(seed: int, count: int, workdir: Path, *, workers: int = 2,
                 timeout: float = 60.0, first: int = 0,
                 log: Callable[[dict[str, Any]], None] | None = None) -> Summary:
    """Cases ``first … first+count-1`` of campaign ``seed`` in ``workers`` processes;
    ``log`` is called with each failing case as soon as it is known."""
    _environment()
    template = make_template(workdir)
    context = multiprocessing.get_context("spawn")
    summary = Summary()
    started = time.monotonic()
    pending = list(range(first + count - 1, first - 1, -1))
    busy: dict[Connection, tuple[Any, int, float]] = {}
    idle: list[tuple[Any, Connection]] = []

    def fail(record: dict[str, Any]) -> None:
        summary.failures.append(record)
        if log is not None:
            log(record)

    def spawn(number: int) -> tuple[Any, Connection]:
        scratch = workdir / f"worker-{number}-{time.monotonic_ns()}"
        scratch.mkdir()
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(theirs, str(scratch), str(template)),
                                  daemon=True)
        process.start()
        theirs.close()
        return process, ours

    idle = [spawn(n) for n in range(max(1, workers))]
    while pending or busy:
        while idle and pending:
            process, conn = idle.pop()
            index = pending.pop()
            conn.send((seed, index))
            busy[conn] = (process, index, time.monotonic())
        for conn in wait(list(busy), timeout=min(1.0, timeout)):
            process, index, at = busy.pop(conn)  # type: ignore[call-overload]
            try:
                result = conn.recv()
            except (EOFError, OSError):
                process.join(5)
                fail({"seed": seed, "index": index, "problems": [
                    f"worker died (exit {process.exitcode})"]})
                idle.append(spawn(index))
                continue
            summary.cases += 1
            if time.monotonic() - at > timeout:  # answered, but past the limit: a hang too
                result["problems"].append(f"hang: answered after {time.monotonic() - at:.0f} s")
            if result["seconds"] > summary.slowest:
                summary.slowest, summary.slowest_index = result["seconds"], index
            for name, number in result["tally"].items():
                summary.tally[name] = summary.tally.get(name, 0) + number
            if result["problems"]:
                fail(result)
            idle.append((process, conn))
        now = time.monotonic()
        for conn, (process, index, at) in list(busy.items()):
            if now - at > timeout:
                process.kill()
                process.join(5)
                del busy[conn]
                summary.cases += 1
                fail({"seed": seed, "index": index, "problems": [
                    f"hang: no answer after {timeout:g} s"]})
                idle.append(spawn(index))
    for process, conn in idle:
        conn.send(None)
        process.join(10)
    summary.seconds = time.monotonic() - started
    return summary


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="run one fuzz case, or a campaign")
    parser.add_argument("seed", type=int)
    parser.add_argument("index", type=int, nargs="?")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--first", type=int, default=0, help="first case of the campaign")
    parser.add_argument("--keep", type=Path, help="write the case folder here")
    args = parser.parse_args(argv)
    _environment()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.index is None:
            summary = run_campaign(args.seed, args.count, root, first=args.first,
                                   log=lambda failure: print(json.dumps(failure), flush=True))
            print(f"{summary.cases} cases, {len(summary.failures)} failing, "
                  f"{summary.seconds:.0f} s, slowest {summary.slowest:.1f} s "
                  f"(case {summary.slowest_index}), {summary.tally}")
            return 1 if summary.failures else 0
        template = make_template(root)
        result = one_case(args.seed, args.index, root, template)
        print(json.dumps(result, indent=2))
        if args.keep:
            shutil.copytree(root / "case", args.keep, dirs_exist_ok=True)
        return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
