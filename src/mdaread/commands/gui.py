"""`mdaread gui` (the workstation on a trial workspace) and `mdaread demo` (on the sample trial,
in a fresh workspace). Qt and the heavy packages are imported inside the handlers only."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mdaread.storage import Actor


def register(subparsers: argparse._SubParsersAction) -> None:
    gui = subparsers.add_parser(
        "gui", help="the reading workstation",
        description="Open the reading workstation on a trial workspace.")
    gui.add_argument("--workspace", metavar="W", help="trial workspace folder")
    gui.add_argument("--user", help="reader name (default: $MDAREAD_USER or the login)")
    gui.add_argument("--role", help="reader | adjudicator | data_manager (default: reader)")
    _case_options(gui)
    gui.set_defaults(func=run_gui)

    demo = subparsers.add_parser(
        "demo", help="the workstation on the built-in sample trial",
        description="Import the sample trial into a fresh temporary workspace and open the "
                    "workstation on it.")
    demo.add_argument("--sample", metavar="DIR",
                      help="sample trial folder (default: the repository's sample_dicom/)")
    demo.add_argument("--keep", metavar="W",
                      help="create the demo workspace in W (new folder) and keep it")
    demo.add_argument("--user", help="reader name (default: $MDAREAD_USER, else 'demo reader')")
    _case_options(demo)
    demo.set_defaults(func=run_demo)


def _case_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="open a case, save the window as PNG when loaded, and exit")
    parser.add_argument("--subject", metavar="ID", help="subject to open (trial ID)")
    parser.add_argument("--timepoint", metavar="LABEL", help="follow-up to show beside baseline")


def run_gui(args: argparse.Namespace) -> int:
    from mdaread.app import run_workstation
    from mdaread.workflow.worklist import InMemorySource

    if not args.workspace:
        if args.screenshot:
            from mdaread.errors import InputError

            raise InputError("--screenshot needs --workspace W (or use `mdaread demo`)")
        return run_workstation(InMemorySource("no workspace"),
                               message="No workspace open: start with "
                                       "`mdaread gui --workspace W` or `mdaread demo`")
    from mdaread.storage import open_workspace
    from mdaread.workflow.workspace_service import resolve_actor
    from mdaread.workflow.workspace_source import WorkspaceSource

    actor = resolve_actor(args.user, args.role, default_role="reader")
    with open_workspace(args.workspace) as ws:
        source = WorkspaceSource(ws, actor, name=f"{Path(args.workspace).name} ({actor.user})")
        return run_workstation(source, subject=args.subject, timepoint=args.timepoint,
                               screenshot=args.screenshot)


def run_demo(args: argparse.Namespace) -> int:
    import tempfile

    from mdaread.workflow.demo import ensure_sample_trial

    if args.sample:
        sample = Path(args.sample)
    else:
        sys.stderr.write("mdaread demo: looking for the sample trial "
                         "(generated into the cache on the first run)\n")
        sample = ensure_sample_trial(progress=_progress)
        sys.stderr.write(f"\nmdaread demo: sample trial {sample}\n")
    if args.keep:
        return _demo_in(Path(args.keep), sample, args)
    with tempfile.TemporaryDirectory(prefix="mdaread-demo-") as tmp:
        return _demo_in(Path(tmp) / "workspace", sample, args)


def _demo_in(folder: Path, sample: Path, args: argparse.Namespace) -> int:
    from mdaread.app import run_workstation
    from mdaread.storage import open_workspace
    from mdaread.workflow.demo import build_demo_workspace, truth_landmarks
    from mdaread.workflow.workspace_source import WorkspaceSource

    build_demo_workspace(folder, sample, progress=_progress)
    sys.stderr.write("\n")
    with open_workspace(folder) as ws:
        source = WorkspaceSource(ws, demo_actor(args.user), name="sample trial (demo)",
                                 extra_landmarks=truth_landmarks(sample))
        return run_workstation(source, subject=args.subject, timepoint=args.timepoint,
                               screenshot=args.screenshot)


def demo_actor(user: str | None) -> Actor:
    """Who signs in the demo: ``--user``, else $MDAREAD_USER, else "demo reader" (role reader);
    a reader who set MDAREAD_USER expects their own name on what they sign."""
    from mdaread.storage import Actor
    from mdaread.workflow.workspace_service import resolve_actor

    if user or os.environ.get("MDAREAD_USER"):
        return resolve_actor(user, "reader")
    return Actor("demo reader", "reader")


def _progress(fraction: float, message: str) -> None:
    sys.stderr.write(f"\rmdaread demo: {100 * fraction:5.1f}% {message[:60]:<60}")
    sys.stderr.flush()
