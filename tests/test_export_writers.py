"""mdaread.export without a workspace: tables, CSV/XLSX bytes, the staging folder."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from mdaread.errors import InputError
from mdaread.export import (
    MANIFEST_NAME,
    EndpointEntry,
    dcr_table,
    staged,
    write_csv,
    write_xlsx,
)
from mdaread.export.tables import Column, Table

ENTRIES = [EndpointEntry("S1", "B", "3m", "PR"), EndpointEntry("S2", "A", "3m", "NE"),
           EndpointEntry("S3", "A", "3m", "SD"), EndpointEntry("S4", "A", "3m", "PD"),
           EndpointEntry("S1", "B", "baseline", None), EndpointEntry("S2", "A", "1m", "PDu")]


def test_dcr_table_unblinded_rows_per_arm_with_sensitivity() -> None:
    rows = dcr_table(ENTRIES, unblinded=True).rows
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("A", "1m", False), ("A", "1m", True), ("A", "3m", False), ("A", "3m", True),
        ("B", "3m", False), ("B", "3m", True)]
    a3, a3_ne = rows[2], rows[3]
    assert a3[3:6] == (2, 1, 1)  # n excludes NE; SD counts, PD not
    assert a3[6] == 0.5
    assert a3_ne[3:7] == (3, 1, 1, 1 / 3)


def test_dcr_table_blinded_pools_and_drops_sensitivity() -> None:
    rows = dcr_table(ENTRIES, unblinded=False).rows
    assert [(r[0], r[1], r[2]) for r in rows] == [("all", "1m", False), ("all", "3m", False)]
    assert rows[1][3:6] == (3, 2, 1)


TABLE = Table("t", (Column("name", "text", ""), Column("x", "float", ""),
                    Column("ok", "bool", ""), Column("at", "utc", "")),
              (("a,b", 0.1, True, "2026-01-02T03:04:05.500000Z"), ("é", None, None, None)))


def test_csv_fields(tmp_path: Path) -> None:
    write_csv(TABLE, tmp_path / "t.csv")
    data = (tmp_path / "t.csv").read_bytes()
    assert b"\r" not in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [["name", "x", "ok", "at"],
                    ["a,b", "0.1", "true", "2026-01-02T03:04:05.500000Z"], ["é", "", "", ""]]


def test_xlsx_is_deterministic_and_typed(tmp_path: Path) -> None:
    stamp = datetime(2026, 1, 2, 3, 4, 6)  # zip times have 2 s steps
    write_xlsx([TABLE], tmp_path / "a.xlsx", stamp)
    write_xlsx([TABLE], tmp_path / "b.xlsx", stamp)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 1, 2, 3, 4, 6)}
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    sheet = book["t"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["B2"].value == 0.1 and sheet["C2"].value is True
    assert sheet["D2"].value == datetime(2026, 1, 2, 3, 4, 5, 500000)
    assert book.properties.created == book.properties.modified == stamp


def test_a_failed_export_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "E"
    with pytest.raises(RuntimeError), staged(out) as stage:
        (stage / "half.csv").write_text("a,b\n", encoding="utf-8")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_earlier_one(tmp_path: Path) -> None:
    out = tmp_path / "E"
    with staged(out) as stage:
        (stage / MANIFEST_NAME).write_text("{}", encoding="utf-8")
        (stage / "old.csv").write_text("old", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), staged(out) as stage:
        (stage / "new.csv").write_text("new", encoding="utf-8")
        raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "old.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["E"]
    with staged(out) as stage:  # a successful one replaces it whole
        (stage / MANIFEST_NAME).write_text("{}", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == [MANIFEST_NAME]
    assert [p.name for p in tmp_path.iterdir()] == ["E"]


def test_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "E").mkdir()
    (tmp_path / "E" / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"), staged(tmp_path / "E"):
        pass
    (tmp_path / "F").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"), staged(tmp_path / "F"):
        pass
    with pytest.raises(InputError, match="no such folder"), staged(tmp_path / "G" / "H"):
        pass
    assert (tmp_path / "E" / "thesis.docx").read_text(encoding="utf-8") == "precious"
