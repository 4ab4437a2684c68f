"""`mdaread assess FILE.json [--json]`: the MDA criteria on recorded observations (batch form)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "assess",
        help="MD Anderson categories from recorded observations (batch JSON)",
        description="Run the MD Anderson bone response criteria on a batch file of recorded "
                    "observations (format: mda-criteria.md) and print every timepoint's "
                    "category, final category and deciding rule.",
    )
    parser.add_argument("file", metavar="FILE.json", help="observations in the batch form")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.criteria import assess_subject, results_to_batch_json

    protocol, subjects = load_batch(Path(args.file))
    results = [assess_subject(subject, protocol) for subject in subjects]
    if args.json:
        print_json(results_to_batch_json(subjects, results))
        return 0
    from mdaread.criteria.report import format_table

    print(format_table(subjects, results, protocol))
    return 0


def load_batch(path: Path) -> tuple[Any, list[Any]]:
    """Read and parse a batch file; every problem is an InputError naming the file."""
    from mdaread.criteria import parse_batch
    from mdaread.errors import CriteriaInputError
    from mdaread.jsonfile import read_json_file

    data = read_json_file(path)
    try:
        return parse_batch(data)
    except CriteriaInputError as exc:
        raise CriteriaInputError(f"{path}: {exc}") from None
