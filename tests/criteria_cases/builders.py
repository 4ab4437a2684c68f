"""Small builders of batch-form dicts for the criteria tests (mda-criteria.md's format)."""

from __future__ import annotations

from typing import Any

from mdaread.criteria import assess_subject, parse_batch
from mdaread.criteria.result import TimepointResult


def base(lid: str = "L1", long: float | None = 30, perp: float | None = 20, *,
         level: str = "L2", phenotype: str = "lytic", well_defined: bool = True,
         treated_index: bool = False) -> dict[str, Any]:
    """A baseline lesion record."""
    return {"id": lid, "level": level, "phenotype": phenotype, "well_defined": well_defined,
            "long_mm": long, "perp_mm": perp, "treated_index": treated_index}


def fu(lid: str = "L1", long: float | None = None, perp: float | None = None, *,
       signs: tuple[str, ...] = (), evaluable: bool = True,
       parts: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """A follow-up lesion record."""
    rec: dict[str, Any] = {"id": lid, "evaluable": evaluable, "signs": list(signs)}
    if long is not None:
        rec["long_mm"], rec["perp_mm"] = long, perp
    if parts is not None:
        rec["parts"] = [{"long_mm": a, "perp_mm": b} for a, b in parts]
    return rec


def new(level: str = "T9", status: str = "definite", phenotype: str = "lytic",
        lid: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"level": level, "status": status, "phenotype": phenotype}
    if lid is not None:
        rec["id"] = lid
    return rec


def tp(label: str, days: float, lesions: list[dict[str, Any]] | None = None, *,
       modality: str = "CT", **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"label": label, "days": days, "modality": modality}
    if lesions is not None:
        rec["lesions"] = lesions
    rec.update(extra)
    return rec


def baseline(*lesions: dict[str, Any], modality: str = "CT", **extra: Any) -> dict[str, Any]:
    return tp("baseline", 0, list(lesions) or [base(treated_index=True)], modality=modality,
              **extra)


def batch(*timepoints: dict[str, Any], protocol: dict[str, Any] | None = None,
          subject: str = "S01") -> dict[str, Any]:
    return {"protocol": protocol or {},
            "subjects": [{"subject": subject, "timepoints": list(timepoints)}]}


def assess(*timepoints: dict[str, Any],
           protocol: dict[str, Any] | None = None) -> dict[str, TimepointResult]:
    """Parse one subject's timepoints and assess it; results by label."""
    settings, subjects = parse_batch(batch(*timepoints, protocol=protocol))
    return {r.label: r for r in assess_subject(subjects[0], settings)}
