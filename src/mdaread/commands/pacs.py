"""`mdaread pacs query|retrieve`: studies and series on a PACS, a series into a workspace.

The server is a DICOMweb base URL (``http[s]://host:port/dicom-web``) or a DIMSE node
``AE@host:port``. Credentials only from the environment: $MDAREAD_PACS_USER with
$MDAREAD_PACS_PASSWORD (basic) or $MDAREAD_PACS_TOKEN (bearer); never stored, never audited.
"""

from __future__ import annotations

import argparse
from typing import Any

from mdaread.commands.workspace import EXIT_ATTENTION, add_actor_arguments

SERVER_HELP = "DICOMweb base URL (http[s]://host:port/dicom-web) or DIMSE node AE@host:port"


def _server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", metavar="URL_OR_NODE", help=SERVER_HELP)
    parser.add_argument("--pacs-user", metavar="NAME",
                        help="PACS user for basic authentication (default: env "
                             "MDAREAD_PACS_USER; the password only from MDAREAD_PACS_PASSWORD)")
    parser.add_argument("--calling-ae", metavar="AE", default="MDAREAD",
                        help="this workstation's AE title for DIMSE (default MDAREAD)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pacs", help="query a PACS and retrieve a series into a workspace",
        description="Query and retrieve over DICOMweb (URL) or DIMSE (AE@host:port).")
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    query = sub.add_parser("query", help="studies → series with instance counts")
    _server(query)
    query.add_argument("--patient", metavar="ID", default="", help="PatientID (exact)")
    query.add_argument("--modality", metavar="MOD", default="", help="e.g. CT or MR")
    query.add_argument("--since", metavar="YYYY-MM-DD", default="",
                       help="studies on or after this date")
    query.add_argument("--json", action="store_true", help="machine-readable output")
    query.set_defaults(func=run_query)

    get = sub.add_parser("retrieve", help="fetch a series into W/pacs_cache and import it")
    _server(get)
    get.add_argument("--series", metavar="UID", required=True, help="SeriesInstanceUID")
    get.add_argument("--into", metavar="W", required=True, help="the workspace folder")
    get.add_argument("--mapping", metavar="map.csv",
                     help="explicit timepoints: timepoint + series_uid/study_uid [+ subject]")
    get.add_argument("--ids", metavar="patient_to_trial.csv",
                     help="PatientID to trial ID: patient_id,trial_id")
    get.add_argument("--json", action="store_true", help="machine-readable output")
    add_actor_arguments(get)
    get.set_defaults(func=run_retrieve)


def _node(args: argparse.Namespace) -> Any:
    from mdaread.pacs import credentials_from_env, open_node

    return open_node(args.server, credentials_from_env(args.pacs_user),
                     calling_ae=args.calling_ae)


def run_query(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.commands.workspace import _escaped_print
    from mdaread.pacs import QueryFilter
    from mdaread.workflow.pacs_retrieve import query_pacs

    flt = QueryFilter(args.patient, args.modality.upper(), args.since)
    node = _node(args)
    studies = query_pacs(node, flt)
    if args.json:
        print_json({"server": node.label, "studies": [s.to_json() for s in studies]})
        return 0
    say = _escaped_print()  # IDs and descriptions come from the server
    say(f"{node.label}: {len(studies)} studies")
    for study in studies:
        say(f"{study.patient_id:<12} {study.study_date:<8} {len(study.series):>3} series "
            f"{study.n_instances if study.n_instances is not None else '?':>5} instances  "
            f"{study.study_uid}  {study.description}")
        for s in study.series:
            count = s.n_instances if s.n_instances is not None else "?"
            say(f"    {s.modality:<3} #{s.number:<4} {count:>5} instances  {s.series_uid}  "
                f"{s.description}")
    return 0


def run_retrieve(args: argparse.Namespace) -> int:
    from mdaread.commands.output import print_json
    from mdaread.commands.workspace import _print_import
    from mdaread.pacs import check_uid
    from mdaread.storage import open_workspace
    from mdaread.workflow.ingest import read_id_map, read_timepoint_map
    from mdaread.workflow.pacs_retrieve import retrieve_series
    from mdaread.workflow.workspace_service import resolve_actor

    check_uid(args.series)
    actor = resolve_actor(args.user, args.role)
    ids = read_id_map(args.ids) if args.ids else None
    mapping = read_timepoint_map(args.mapping) if args.mapping else None
    node = _node(args)
    with open_workspace(args.into) as ws:
        report = retrieve_series(ws, actor, node, args.series, ids=ids, mapping=mapping)
    if args.json:
        print_json(report.to_json())
    elif report.ingest is None:
        print(f"series {args.series} is already in the workspace; not fetched")
    else:
        how = (f"fetched {report.fetched} instances from {node.label}"
               if report.status == "fetched" else "complete in the cache; not fetched again")
        print(f"series {args.series}: {how} → {report.folder}")
        _print_import(report.ingest)
    return EXIT_ATTENTION if report.needs_attention else 0
