"""The three export tables: columns (name, cell kind, meaning) and rows built from records.

Cell kinds: ``text``, ``int``, ``float``, ``bool``, ``utc`` (an instant, UTC ISO 8601 text in the
CSV, a date-time cell in the XLSX). The column lists are the single source of the README's
column documentation (a test checks that every column is described there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from mdaread.criteria import dcr_summary
from mdaread.export.records import EndpointEntry, LesionRow, TimepointRow
from mdaread.model.vocabulary import timepoint_rank

Cell = str | int | float | bool | None
KINDS = ("text", "int", "float", "bool", "utc")
POOLED_ARM = "all"
"""The arm of a blinded DCR row: every subject pooled (the arm stays hidden)."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    doc: str


@dataclass(frozen=True)
class Table:
    """A named table (file stem and sheet name) with its columns and rows of cells."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _c(name: str, kind: str, doc: str) -> Column:
    assert kind in KINDS, kind
    return Column(name, kind, doc)


TIMEPOINT_COLUMNS: tuple[Column, ...] = (
    _c("trial_id", "text", "pseudonymous subject ID"),
    _c("centre", "text", "centre of the subject (randomisation list)"),
    _c("arm", "text", "randomised arm; only with --unblinded"),
    _c("timepoint", "text", "timepoint label (baseline, 1m, 3m, 6m, 12m)"),
    _c("nominal_day", "int", "protocol day since treatment of the timepoint"),
    _c("actual_day", "int", "scan date − treatment date in days, else the read's days"),
    _c("modality", "text", "modality the read was made on (CT | MR)"),
    _c("series_uids", "text", "series instance UIDs of the timepoint, sorted, ';'-separated"),
    _c("reader", "text", "who signed the read"),
    _c("purpose", "text", "primary | reread | adjudication"),
    _c("read_id", "int", "the workspace's read number"),
    _c("signed_at", "utc", "when the read was signed (UTC, ISO 8601)"),
    _c("in_endpoint", "bool", "this read counts in the DCR (adjudication, else primary)"),
    _c("spd_mm2", "float", "sum of products of the measurable lesions (mm²)"),
    _c("spd_change_pct", "float", "SPD change from the reference (%), unrounded"),
    _c("computed_category", "text", "category the criteria engine gave (steps 0–6)"),
    _c("category", "text", "per-timepoint category: the reader's override, else computed"),
    _c("final_category", "text", "category after the across-timepoint rules (current)"),
    _c("rule", "text", "the rule that decided the category"),
    _c("override_category", "text", "the reader's override category, if any"),
    _c("override_reason", "text", "the reader's reason for the override"),
    _c("early", "bool", "category given before 8 weeks (WHO); empty without a category"),
    _c("warnings", "text", "criteria warnings, ';'-separated (e.g. modality_mismatch)"),
    _c("cement_levels", "text", "vertebrae holding cement at this scan, ';'-separated"),
    _c("cement_leakage", "bool", "cement leakage recorded by the read; empty when not recorded"),
)

LESION_COLUMNS: tuple[Column, ...] = (
    _c("trial_id", "text", "pseudonymous subject ID"),
    _c("timepoint", "text", "timepoint label"),
    _c("reader", "text", "who signed the read"),
    _c("purpose", "text", "primary | reread | adjudication"),
    _c("read_id", "int", "the workspace's read number"),
    _c("lesion_id", "text", "tracked lesion label (stable across timepoints)"),
    _c("level", "text", "vertebral level of the lesion"),
    _c("phenotype", "text", "lytic | blastic | mixed (at baseline)"),
    _c("treated_index", "bool", "the treated index lesion"),
    _c("well_defined", "bool", "well defined at baseline"),
    _c("measurable", "bool", "well defined and both baseline diameters ≥ measurable_min_mm"),
    _c("in_spd", "bool", "counted in this timepoint's SPD"),
    _c("evaluable", "bool", "evaluable at this timepoint (empty at baseline)"),
    _c("ne_reason", "text", "why not evaluable (artifact, not_imaged, cement_obscures, other)"),
    _c("long_mm", "float", "longest diameter (mm)"),
    _c("perp_mm", "float", "longest perpendicular diameter (mm)"),
    _c("product_mm2", "float", "long × perpendicular (mm²); sum over the parts of a split lesion"),
    _c("method", "text", "manual | semi-auto; empty when only the diameters were recorded"),
    _c("series_uid", "text", "series the lesion was measured on, when recorded"),
    _c("signs", "text", "response signs recorded, ';'-separated"),
    _c("volume_ml", "float", "segmented lesion volume (ml), when a segmentation is stored"),
    _c("fill_in_fraction", "float", "fraction of the baseline lesion now sclerotic, when stored"),
    _c("hu_change", "float", "mean HU change in the lesion since baseline, when stored"),
)

DCR_COLUMNS: tuple[Column, ...] = (
    _c("arm", "text", "randomised arm with --unblinded; 'all' (every subject) otherwise"),
    _c("timepoint", "text", "timepoint label"),
    _c("ne_as_failure", "bool", "sensitivity row counting NE as failure (only with --unblinded)"),
    _c("n", "int", "denominator: subjects with a category, NE left out (NE counted when "
                   "ne_as_failure)"),
    _c("disease_control", "int", "subjects with final category CR, PR, SD or PDu"),
    _c("ne", "int", "subjects whose final category is NE"),
    _c("dcr", "float", "disease control rate, disease_control / n"),
    _c("ci_low", "float", "Wilson 95 % interval, lower bound"),
    _c("ci_high", "float", "Wilson 95 % interval, upper bound"),
)

assert [c.name for c in TIMEPOINT_COLUMNS] == [f.name for f in fields(TimepointRow)]
assert [c.name for c in LESION_COLUMNS] == [f.name for f in fields(LesionRow)]


def _cells(row: object, columns: Sequence[Column]) -> tuple[Cell, ...]:
    return tuple(getattr(row, c.name) for c in columns)


def timepoint_table(rows: Iterable[TimepointRow], unblinded: bool) -> Table:
    """The per subject × timepoint table; without ``unblinded`` the arm column is left out."""
    columns = tuple(c for c in TIMEPOINT_COLUMNS if unblinded or c.name != "arm")
    return Table("timepoints", columns, tuple(_cells(r, columns) for r in rows))


def lesion_table(rows: Iterable[LesionRow]) -> Table:
    """The per lesion × timepoint table."""
    return Table("lesions", LESION_COLUMNS, tuple(_cells(r, LESION_COLUMNS) for r in rows))


def dcr_table(entries: Iterable[EndpointEntry], unblinded: bool) -> Table:
    """The DCR summary per arm × timepoint (criteria.dcr_summary), arms sorted, timepoints in
    protocol order. Blinded: one pooled arm, no NE-as-failure rows."""
    ordered = sorted(entries, key=lambda e: (e.arm or "" if unblinded else POOLED_ARM,
                                             timepoint_rank(e.timepoint), e.trial_id))
    summary = dcr_summary((e.trial_id, (e.arm or "") if unblinded else POOLED_ARM, e.timepoint,
                           e.final_category) for e in ordered)
    rows = tuple((r.arm, r.label, r.ne_as_failure, r.n, r.dc, r.ne, r.rate, r.ci_low, r.ci_high)
                 for r in summary if unblinded or not r.ne_as_failure)
    return Table("dcr", DCR_COLUMNS, rows)
