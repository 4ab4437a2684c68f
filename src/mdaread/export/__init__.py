"""What leaves the workstation: response tables (CSV, XLSX), the DCR summary, the manifest.

Qt-free and workspace-free: the workflow (``mdaread.workflow.export``) reads the workspace into
the records of ``mdaread.export.records`` and calls the writers here. Every writer is
deterministic (the same records give the same bytes) and writes into the staging folder of
``staged`` so that a failed export leaves nothing half-written.
"""

from mdaread.export.manifest import AuditHead, write_manifest
from mdaread.export.records import EndpointEntry, LesionRow, TimepointRow
from mdaread.export.staging import MANIFEST_NAME, check_target, staged
from mdaread.export.tables import (
    DCR_COLUMNS,
    LESION_COLUMNS,
    TIMEPOINT_COLUMNS,
    Column,
    Table,
    dcr_table,
    lesion_table,
    timepoint_table,
)
from mdaread.export.tabular import parse_utc, write_csv, write_xlsx

__all__ = [
    "DCR_COLUMNS",
    "LESION_COLUMNS",
    "MANIFEST_NAME",
    "TIMEPOINT_COLUMNS",
    "AuditHead",
    "Column",
    "EndpointEntry",
    "LesionRow",
    "Table",
    "TimepointRow",
    "check_target",
    "dcr_table",
    "lesion_table",
    "parse_utc",
    "staged",
    "timepoint_table",
    "write_csv",
    "write_manifest",
    "write_xlsx",
]
