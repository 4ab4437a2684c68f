"""`mdaread workspace init|import|status|randomisation`: the trial workspace from the shell.

Who acts: ``--user NAME --role ROLE`` (or env MDAREAD_USER / MDAREAD_ROLE); the default role is
data_manager. Every change is recorded in the workspace's audit trail under that name.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_ATTENTION = 1


def add_actor_arguments(parser: argparse.ArgumentParser) -> None:
    """--user and --role, as every workspace command takes them."""
    parser.add_argument("--user", help="who acts (default: env MDAREAD_USER, else the login)")
    parser.add_argument("--role", choices=("reader", "adjudicator", "data_manager"),
                        help="role acted in (default: env MDAREAD_ROLE, else data_manager)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "workspace", help="create a trial workspace, import scans, show status",
        description="The trial workspace: a folder holding workspace.sqlite.")
    sub = parser.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)

    init = sub.add_parser("init", help="create a new workspace folder")
    init.add_argument("workspace", metavar="W")
    init.add_argument("--protocol", metavar="settings.json", help="protocol settings (JSON)")
    add_actor_arguments(init)
    init.set_defaults(func=run_init)

    imp = sub.add_parser("import", help="scan a folder/DICOMDIR and attach its series")
    imp.add_argument("workspace", metavar="W")
    imp.add_argument("path", metavar="PATH")
    imp.add_argument("--mapping", metavar="map.csv",
                     help="explicit timepoints: timepoint + series_uid/study_uid [+ subject]")
    imp.add_argument("--ids", metavar="patient_to_trial.csv",
                     help="PatientID to trial ID: patient_id,trial_id")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    add_actor_arguments(imp)
    imp.set_defaults(func=run_import)

    status = sub.add_parser("status", help="subjects × timepoints: scans and read status")
    status.add_argument("workspace", metavar="W")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    add_actor_arguments(status)
    status.set_defaults(func=run_status)

    rand = sub.add_parser("randomisation", help="load subject,arm,centre,treatment_date")
    rand.add_argument("workspace", metavar="W")
    rand.add_argument("csv", metavar="list.csv")
    add_actor_arguments(rand)
    rand.set_defaults(func=run_randomisation)


def run_init(args: argparse.Namespace) -> int:
    from mdaread.storage import SCHEMA_VERSION, create_workspace
    from mdaread.workflow.workspace_service import load_protocol_file, resolve_actor

    actor = resolve_actor(args.user, args.role)
    protocol = load_protocol_file(args.protocol) if args.protocol else None
    create_workspace(args.workspace, actor, protocol=protocol).close()
    print(f"created workspace {args.workspace} (schema version {SCHEMA_VERSION})")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.storage import open_workspace
    from mdaread.workflow.ingest import ingest_path, read_id_map, read_timepoint_map
    from mdaread.workflow.workspace_service import resolve_actor

    actor = resolve_actor(args.user, args.role)
    ids = read_id_map(args.ids) if args.ids else None
    mapping = read_timepoint_map(args.mapping) if args.mapping else None
    with open_workspace(args.workspace) as ws:
        report = ingest_path(ws, actor, args.path, ids=ids, mapping=mapping)
    if args.json:
        print_json(report.to_json())
    else:
        _print_import(report)
    return EXIT_ATTENTION if report.needs_attention else 0


def _print_import(report: Any) -> None:
    say = _escaped_print()  # subject IDs, reasons and paths come from headers
    say(f"added {len(report.added)}, unchanged {len(report.unchanged)}, relinked "
        f"{len(report.relinked)}, conflicts {len(report.conflicts)}, ambiguous "
        f"{len(report.ambiguous)}, files skipped {len(report.skipped)}")
    for o in report.added:
        say(f"  added      {o.subject:<10} {o.timepoint:<8} {o.modality:<3} "
            f"{o.n_files:>4} files  {o.series_uid}")
    if report.unmatched_mapping:
        say(f"  mapping rows matching no scanned series: {len(report.unmatched_mapping)} "
            f"(first: timepoint {report.unmatched_mapping[0].timepoint}, "
            f"{report.unmatched_mapping[0].series_uid or report.unmatched_mapping[0].study_uid})")
    for group in ("conflicts", "ambiguous"):
        for o in getattr(report, group):
            say(f"  {group[:-1] if group == 'conflicts' else group:<10} {o.subject or '?':<10} "
                f"{o.series_uid}  {o.reason}  ({o.first_file})")


def run_status(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.storage import open_workspace
    from mdaread.workflow.workspace_service import resolve_actor, workspace_status

    actor = resolve_actor(args.user, args.role)
    with open_workspace(args.workspace) as ws:
        rows = workspace_status(ws, actor)
    _warn_if_open_to_others(args.workspace)
    if args.json:
        print_json({"subjects": [r.to_json() for r in rows]})
        return 0
    _print_status(rows)
    return 0


def _warn_if_open_to_others(folder: str) -> None:
    from mdaread.commands.output import printable
    from mdaread.storage import files_open_to_others

    for path, mode in files_open_to_others(folder):
        fix = "chmod o-rwx" if path.is_dir() else "chmod 600"
        sys.stderr.write(f"mdaread: warning: {printable(str(path))} is readable by other local "
                         f"users (mode {mode:04o}); the workspace holds subject data: {fix} it\n")


_MARK = {"not read": "scan", "draft": "draft", "signed": "signed"}


def _print_status(rows: list[Any]) -> None:
    say = _escaped_print()  # subject IDs come from headers
    if not rows:
        say("no subjects")
        return
    labels = [t.label for t in rows[0].timepoints]
    extra = sorted({t.label for r in rows for t in r.timepoints} - set(labels))
    labels += extra
    show_arm = any(r.arm for r in rows)
    head = f"{'subject':<12}{'centre':<8}" + (f"{'arm':<14}" if show_arm else "")
    say((head + "".join(f"{label:<9}" for label in labels)).rstrip())
    for r in rows:
        cells = {t.label: t for t in r.timepoints}
        line = f"{r.subject:<12}{r.centre or '-':<8}" + (f"{r.arm or '-':<14}" if show_arm else "")
        for label in labels:
            t = cells.get(label)
            empty = t is None or (t.n_series == 0 and not t.reads)
            text = "-" if t is None or empty else _MARK[t.read_status]
            line += f"{text:<9}"
        say(line.rstrip())
    say("cells: - no scan, scan = scans present not read, draft, signed (primary read)")


def run_randomisation(args: argparse.Namespace) -> int:
    from mdaread.storage import open_workspace
    from mdaread.workflow.workspace_service import load_randomisation, resolve_actor

    actor = resolve_actor(args.user, args.role)
    with open_workspace(args.workspace) as ws:
        report = load_randomisation(ws, actor, args.csv)
    print(f"randomisation: {len(report.created)} created, {len(report.updated)} updated, "
          f"{len(report.unchanged)} unchanged")
    return 0


def _escaped_print() -> Any:
    """``print`` of one line escaped by ``output.printable`` (control and override
    characters)."""
    from mdaread.commands.output import printable

    def show(line: str = "") -> None:
        print(printable(line))
    return show
