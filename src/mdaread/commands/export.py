"""`mdaread export W --out DIR`: response tables, DCR summary and manifest of a workspace."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="response tables, DCR summary (CSV, XLSX), plots, DICOM SR and a manifest",
        description="Export the signed reads of a trial workspace into a folder: the per "
                    "subject × timepoint table, the per lesion × timepoint table and the DCR "
                    "summary (CSV and XLSX), plots, one de-identified DICOM SR per signed "
                    "read, with manifest.json (SHA-256 of each file and the audit head). "
                    "The folder is written whole or not at all.")
    parser.add_argument("workspace", metavar="W", help="trial workspace folder")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write (new, empty or an earlier export: replaced)")
    parser.add_argument("--format", metavar="LIST",
                        help="comma-separated formats: csv,xlsx,plots,sr (default: all)")
    parser.add_argument("--subject", nargs="+", metavar="ID", help="only these subjects")
    parser.add_argument("--unblinded", action="store_true",
                        help="with the arm: DCR per arm and the NE-as-failure rows "
                             "(data manager only)")
    parser.add_argument("--user", help="who exports (default: env MDAREAD_USER, else the login)")
    parser.add_argument("--role", choices=("reader", "adjudicator", "data_manager"),
                        help="role acted in (default: env MDAREAD_ROLE, else data_manager)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.storage import open_workspace
    from mdaread.workflow.export import export_trial, parse_formats
    from mdaread.workflow.workspace_service import resolve_actor

    actor = resolve_actor(args.user, args.role)
    formats = parse_formats(args.format)
    with open_workspace(args.workspace) as ws:
        report = export_trial(ws, actor, args.out, formats=formats, subjects=args.subject,
                              unblinded=args.unblinded)
    if args.json:
        print_json(report.to_json())
        return 0
    print(f"exported {report.n_reads} signed reads to {report.out} in {report.seconds:.2f} s "
          f"(audit head {report.audit_head[:16]})")
    for path, size in report.files:
        print(f"  {size:>9}  {path}")
    for warning in report.warnings:
        print(f"mdaread: warning: {warning}", file=sys.stderr)
    return 0
