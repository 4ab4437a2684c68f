"""`mdaread agreement W [--json]`: agreement of primary reads with re-reads and adjudications
(per reader pair and intra-reader) on final categories, and Bland–Altman of SPD."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "agreement", help="agreement of primary reads with re-reads and adjudications",
        description="Agreement between the signed reads of a workspace, per reader pair: "
                    "primary vs reread (the same reader: intra-reader), primary vs "
                    "adjudication, reread vs reread. On final categories, NE or unresolved "
                    "PDu in either read left out: percent agreement, Cohen's kappa, linearly "
                    "weighted kappa on CR > PR > SD > PD, kappa for disease control vs PD "
                    "(95 %% intervals), the confusion matrix, Bland-Altman of SPD (mm²).")
    parser.add_argument("workspace", metavar="W", help="trial workspace folder")
    parser.add_argument("--subject", nargs="+", metavar="ID", help="only these subjects")
    parser.add_argument("--user", help="who asks (default: env MDAREAD_USER, else the login)")
    parser.add_argument("--role", choices=("reader", "adjudicator", "data_manager"),
                        help="role acted in (default: env MDAREAD_ROLE, else data_manager); "
                             "only the data manager sees agreement figures")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json, printable
    from mdaread.storage import open_workspace
    from mdaread.workflow.agreement import workspace_agreement
    from mdaread.workflow.workspace_service import resolve_actor

    actor = resolve_actor(args.user, args.role)
    with open_workspace(args.workspace) as ws:
        comparisons = workspace_agreement(ws, actor, args.subject)
    if args.json:
        print_json({"comparisons": [c.to_json() for c in comparisons]})
        return 0
    if not comparisons:
        print("no comparisons: the workspace holds no signed reread or adjudication read of a "
              "timepoint that also has a signed primary read")
        return 0
    for c in comparisons:
        s = c.to_json()
        print(f"{printable(c.reader_a)} ({c.purpose_a}) vs {printable(c.reader_b)} "
              f"({c.purpose}), {c.kind}: n {s['n']}, left out {s['n_left_out']} "
              f"(NE {s['left_out']['ne']}, PDu {s['left_out']['pdu']}, "
              f"one-sided {s['left_out']['one_sided']})")
        for name, key in (("agreement", "percent_agreement"), ("kappa", "kappa"),
                          ("weighted kappa", "weighted_kappa"), ("kappa DC vs PD", "kappa_dc_pd")):
            print(f"  {name:<15} {_estimate(s[key], percent=key == 'percent_agreement')}")
        print("  confusion (rows a, columns b)   " + "  ".join(f"{x:>3}" for x in
                                                               s["confusion"]["categories"]))
        for cat, row in zip(s["confusion"]["categories"], s["confusion"]["counts"], strict=True):
            print(f"  {cat:<31} " + "  ".join(f"{v:>3}" for v in row))
        ba = s["spd_bland_altman"]
        if ba["sd"] is None:
            print(f"  SPD Bland-Altman: {ba['n']} pairs (too few)")
        else:
            print(f"  SPD Bland-Altman (b - a, mm²): n {ba['n']}, bias {ba['bias']:.1f} "
                  f"[{ba['bias_ci_low']:.1f}, {ba['bias_ci_high']:.1f}], limits "
                  f"{ba['loa_low']:.1f} to {ba['loa_high']:.1f}")
    return 0


def _estimate(e: dict[str, Any], percent: bool = False) -> str:
    if e["value"] is None:
        return "undefined"
    scale, unit = (100.0, " %") if percent else (1.0, "")
    return (f"{e['value'] * scale:.{1 if percent else 3}f}{unit} "
            f"(95 % CI {e['ci_low'] * scale:.{1 if percent else 3}f} to "
            f"{e['ci_high'] * scale:.{1 if percent else 3}f})")
