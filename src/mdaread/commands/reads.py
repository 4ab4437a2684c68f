"""`mdaread reads import|list`: reads recorded elsewhere (batch form) into a workspace, and the
reads a workspace holds (never the randomisation arm). Heavy imports stay inside the handlers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mdaread.commands.workspace import add_actor_arguments

PURPOSES = ("primary", "reread", "adjudication")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reads", help="import reads (batch JSON) into a workspace, list its reads",
        description="Reads of a trial workspace: import observations recorded elsewhere in the "
                    "batch form of the criteria, or list the reads.")
    sub = parser.add_subparsers(dest="reads_command", metavar="ACTION", required=True)

    imp = sub.add_parser("import", help="observations (batch JSON) become reads")
    imp.add_argument("workspace", metavar="W", help="trial workspace folder")
    imp.add_argument("file", metavar="FILE.json", help="observations in the batch form")
    imp.add_argument("--reader", required=True, metavar="NAME", help="who made these reads")
    imp.add_argument("--purpose", choices=PURPOSES, default="primary",
                     help="primary (default) or reread, as a reader; adjudication, as an "
                          "adjudicator")
    imp.add_argument("--sign", action="store_true",
                     help="sign every read (else they stay drafts)")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(func=run_import)

    lst = sub.add_parser("list", help="the workspace's reads")
    lst.add_argument("workspace", metavar="W", help="trial workspace folder")
    lst.add_argument("--subject", metavar="ID", help="only this subject")
    lst.add_argument("--all", action="store_true", help="include superseded reads")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    add_actor_arguments(lst)
    lst.set_defaults(func=run_list)


def run_import(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.errors import CriteriaInputError, InputError
    from mdaread.jsonfile import read_json_file
    from mdaread.storage import Actor, open_workspace
    from mdaread.workflow.reads_import import PURPOSE_ROLE, import_reads

    path = Path(args.file)
    data = read_json_file(path)
    try:
        actor = Actor(args.reader, PURPOSE_ROLE[args.purpose])
    except ValueError as exc:  # an empty or blank --reader
        raise InputError(f"--reader {args.reader!r}: {exc}") from None
    with open_workspace(args.workspace) as ws:
        try:
            rows = import_reads(ws, actor, data, purpose=args.purpose, sign=args.sign)
        except CriteriaInputError as exc:
            raise CriteriaInputError(f"{path}: {exc}") from None
        except InputError as exc:  # the file names what the workspace lacks or already holds
            raise InputError(f"{path}: {exc}") from None
    if args.json:
        print_json({"reads": [r.to_json() for r in rows]})
        return 0
    status = "signed" if args.sign else "draft"
    print(f"imported {len(rows)} {status} {args.purpose} reads by {args.reader}")
    for r in rows:
        print(f"  {r.subject:<10} {r.timepoint:<9} read {r.read_id:<5} {r.category or '-':<4} "
              f"final {r.final_category or '-':<4} {r.rule}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.storage import open_workspace
    from mdaread.workflow.reads_import import list_read_rows
    from mdaread.workflow.workspace_service import resolve_actor

    actor = resolve_actor(args.user, args.role)
    with open_workspace(args.workspace) as ws:
        rows = list_read_rows(ws, actor, args.subject, include_superseded=args.all)
    if args.json:
        print_json({"reads": [r.to_json() for r in rows]})
        return 0
    if not rows:
        print("no reads")
        return 0
    head = ("id", "subject", "timepoint", "reader", "purpose", "status", "category",
            "override", "final", "rule")
    table = [head] + [(str(r.read_id), r.subject, r.timepoint, r.reader, r.purpose, r.status,
                       r.category or "-", r.override_category or "-", r.final_category or "-",
                       r.rule or "-") for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(head))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
