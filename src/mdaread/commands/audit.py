"""`mdaread audit verify W` and `mdaread audit export W out.csv`: check and export the
workspace's hash-chained audit trail."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="verify or export a workspace's audit trail",
                                   description="The append-only, hash-chained audit trail.")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="walk the hash chain; exit 1 at the first broken row")
    verify.add_argument("workspace", metavar="W")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument("--anchor", metavar="HASH",
                        help="a head hash noted earlier: the chain must still contain it")
    verify.set_defaults(func=run_verify)
    export = sub.add_parser("export", help="write the audit trail as CSV (data manager)")
    export.add_argument("workspace", metavar="W")
    export.add_argument("out", metavar="out.csv")
    export.add_argument("--user", help="who acts (default: env MDAREAD_USER, else the login)")
    export.add_argument("--role", choices=("reader", "adjudicator", "data_manager"),
                        help="role acted in (default: env MDAREAD_ROLE, else data_manager)")
    export.set_defaults(func=run_export)


def run_verify(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.storage import open_workspace

    # unchecked: a damaged file is reported below (integrity_check, exit 1) where it can be read
    with open_workspace(args.workspace, check=False) as ws:
        check = ws.verify_audit()
        integrity = ws.integrity_check()
        if check.ok and args.anchor:
            check = _check_anchor(check, args.anchor, {r.hash for r in ws.audit_rows()})
    if args.json:
        print_json({"ok": check.ok and integrity == "ok", "rows": check.n_rows,
                    "first_broken": check.first_broken, "message": check.problem,
                    "head": check.head or None,
                    "integrity_check": integrity})
    else:
        print(check.problem)
        if check.ok:
            print(f"head {check.head}")
        if integrity != "ok":
            print(f"PRAGMA integrity_check: {integrity}")
    return 0 if check.ok and integrity == "ok" else 1


def _check_anchor(check: Any, anchor: str, hashes: set[str]) -> Any:
    """An intact chain that lost an earlier head hash was rewritten wholesale."""
    from mdaread.storage import AuditCheck

    if anchor.strip().lower() in hashes:
        return check
    return AuditCheck(check.n_rows, 1, f"anchor {anchor[:16]}… is not in the chain: the audit "
                                       "trail was rewritten since it was noted")


def run_export(args: argparse.Namespace) -> int:
    from mdaread.errors import InputError
    from mdaread.storage import open_workspace
    from mdaread.workflow.workspace_service import resolve_actor

    actor = resolve_actor(args.user, args.role)
    if actor.role != "data_manager":
        # the trail holds the randomisation (arm) in its before/after values
        raise InputError(f"{args.workspace}: audit export is for the data manager role")
    with open_workspace(args.workspace) as ws:
        try:
            n = ws.export_audit_csv(args.out)
        except OSError as exc:
            raise InputError(f"{args.out}: cannot write ({exc.strerror})") from exc
    print(f"wrote {n} audit rows to {args.out}")
    return 0
