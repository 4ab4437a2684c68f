"""What an export is made of: one row per read (subject × timepoint) and per lesion × timepoint.

Plain records built by the workflow from the workspace (this package never opens it). Instants
are UTC ISO 8601 strings as the workspace stores them; diameters in mm, products in mm², days
since treatment in whole days. ``None`` is an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimepointRow:
    """One signed read of one subject's timepoint (see ``tables.TIMEPOINT_COLUMNS``)."""

    trial_id: str
    centre: str | None
    arm: str | None
    timepoint: str
    nominal_day: int | None
    actual_day: int | None
    modality: str | None
    series_uids: str
    reader: str
    purpose: str
    read_id: int
    signed_at: str | None
    in_endpoint: bool
    spd_mm2: float | None
    spd_change_pct: float | None
    computed_category: str | None
    category: str | None
    final_category: str | None
    rule: str | None
    override_category: str | None
    override_reason: str | None
    early: bool | None
    warnings: str
    cement_levels: str
    cement_leakage: bool | None


@dataclass(frozen=True)
class LesionRow:
    """One tracked lesion at one signed read (see ``tables.LESION_COLUMNS``)."""

    trial_id: str
    timepoint: str
    reader: str
    purpose: str
    read_id: int
    lesion_id: str
    level: str
    phenotype: str
    treated_index: bool
    well_defined: bool
    measurable: bool | None
    in_spd: bool
    evaluable: bool | None
    ne_reason: str | None
    long_mm: float | None
    perp_mm: float | None
    product_mm2: float | None
    method: str | None
    series_uid: str | None
    signs: str
    volume_ml: float | None
    fill_in_fraction: float | None
    hu_change: float | None


@dataclass(frozen=True)
class EndpointEntry:
    """One subject × timepoint counted in the DCR: the final category of its endpoint read."""

    trial_id: str
    arm: str | None
    timepoint: str
    final_category: str | None
