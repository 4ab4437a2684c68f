"""`mdaread levels W [--subject ID] [--json]`: the vertebral levels readers labelled in a workspace.

Read-only: labels are made in the workstation (Label menu of the registration toolbar).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "levels", help="list the vertebral levels readers labelled in a workspace",
        description="The vertebral level labels of a workspace (one per series and level): "
                    "subject, timepoint, series, level, centre in LPS mm, who and when.")
    parser.add_argument("workspace", metavar="W")
    parser.add_argument("--subject", metavar="ID", help="only this subject (trial ID)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.errors import InputError
    from mdaread.storage import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.subject is not None and not ws.list_timepoints(args.subject):
            raise InputError(f"{args.workspace}: no subject {args.subject!r} with timepoints")
        series = {s.id: s for s in ws.list_series(subject=args.subject)}
        labels_ = {t.id: t.label for t in ws.list_timepoints(args.subject)}
        rows = [{"subject": series[r.series_id].subject,
                 "timepoint": labels_[series[r.series_id].timepoint_id],
                 "series_uid": series[r.series_id].series_uid, "level": r.level,
                 "center": r.center, "labelled_by": r.labelled_by,
                 "labelled_at": r.labelled_at}
                for r in ws.list_level_labels(subject=args.subject)]
    if args.json:
        print_json({"labels": rows})
        return 0
    for row in rows:
        x, y, z = row["center"]
        print(f"{row['subject']}  {row['timepoint']:<8}  {row['level']:<3}  "
              f"LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm  series {row['series_uid']}  "
              f"by {row['labelled_by']} at {row['labelled_at']}")
    if not rows:
        print("no level labels")
    return 0
