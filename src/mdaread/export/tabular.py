"""Tables to CSV and XLSX, byte for byte the same on every run.

CSV: UTF-8, ``\\n`` line ends, every field quoted only when needed; floats in Python's shortest
round-trip form, booleans ``true``/``false``, empty for None. XLSX (openpyxl): one sheet per
table, typed cells (numbers, booleans, UTC date-times), bold frozen header; the workbook's
created/modified properties and every zip entry's time are set to ``stamp`` (the latest signed
time of the content), so no export time is written.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from mdaread.export.tables import Cell, Column, Table

EPOCH = datetime(1980, 1, 1)
"""The earliest time a zip entry can hold: the stamp when the content has no signed time."""


def csv_text(value: Cell, column: Column) -> str:
    """One CSV field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(table: Table, path: Path) -> None:
    """``table`` as CSV at ``path`` (header row of column names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_text(v, c) for v, c in zip(row, table.columns, strict=True)])
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def parse_utc(text: str) -> datetime:
    """A stored UTC instant (``…Z``) as a naive datetime (Excel has no time zones)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _xlsx_value(value: Cell, column: Column) -> Cell | datetime:
    if column.kind == "utc" and isinstance(value, str) and value:
        return parse_utc(value)
    return value


def _sheet(workbook: Workbook, table: Table, first: bool) -> None:
    sheet = workbook.active if first else workbook.create_sheet()
    assert sheet is not None
    sheet.title = table.name
    sheet.append([c.name for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_xlsx_value(v, c) for v, c in zip(row, table.columns, strict=True)])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(10, len(column.name) + 2)
        if column.kind == "utc":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    sheet.freeze_panes = "A2"


def write_xlsx(tables: Sequence[Table], path: Path, stamp: datetime | None) -> None:
    """Every table as one sheet of one workbook at ``path``; ``stamp`` (naive UTC) is the
    workbook's created and modified time (EPOCH when None)."""
    when = max(stamp or EPOCH, EPOCH)
    workbook = Workbook()
    for index, table in enumerate(tables):
        _sheet(workbook, table, index == 0)
    workbook.properties.creator = "mdaread"
    workbook.properties.created = when
    workbook.properties.modified = when
    raw = io.BytesIO()
    # ExcelWriter, not Workbook.save: save() stamps 'modified' with the current time
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    path.write_bytes(_fixed_zip(raw.getvalue(), when))


def _fixed_zip(data: bytes, when: datetime) -> bytes:
    """The same zip with every entry's time set to ``when`` (zipfile stamps the current time)."""
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
