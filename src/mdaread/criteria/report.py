"""A readable text table of criteria results (the `mdaread assess` output without --json)."""

from __future__ import annotations

from mdaread.criteria.dcr import dcr_summary
from mdaread.criteria.result import TimepointResult
from mdaread.model.observations import ProtocolSettings, SubjectObservations

_HEADER = ("subject", "timepoint", "days", "category", "final", "rule", "final rule",
           "SPD mm²", "change %", "warnings")


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(subjects: list[SubjectObservations], results: list[list[TimepointResult]],
                 protocol: ProtocolSettings) -> str:
    """One line per timepoint (numbers rounded for display only), then a DCR summary when the
    subjects carry an ``arm``."""
    rows = [_HEADER]
    for subject, per_subject in zip(subjects, results, strict=True):
        for r in per_subject:
            rows.append((subject.subject, r.label, f"{r.days:g}", r.category or "-",
                         r.final_category or "-", r.rule,
                         r.final_rule if r.final_rule != r.rule else "",
                         _number(r.spd_mm2, 1), _number(r.spd_change_pct, 1),
                         ",".join(r.warnings)))
    widths = [max(len(row[c]) for row in rows) for c in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    settings = ", ".join(f"{k}={v}" for k, v in protocol.to_dict().items())
    lines.append(f"protocol: {settings}")
    lines.extend(_dcr_lines(subjects, results))
    return "\n".join(lines)


def _dcr_lines(subjects: list[SubjectObservations],
               results: list[list[TimepointResult]]) -> list[str]:
    entries = [(s.subject, s.arm, r.label, r.final_category)
               for s, per_subject in zip(subjects, results, strict=True) if s.arm
               for r in per_subject]
    if not entries:
        return []
    lines = ["", "disease control rate (final CR/PR/SD/unresolved PDu ÷ non-NE; Wilson 95%)"]
    for row in dcr_summary(entries):
        what = "NE as failure" if row.ne_as_failure else "primary"
        rate = "-" if row.rate is None else (
            f"{100 * row.rate:.1f}% [{100 * (row.ci_low or 0):.1f}, "
            f"{100 * (row.ci_high or 0):.1f}]")
        lines.append(f"  {row.arm:<14} {row.label:<10} {what:<14} {row.dc}/{row.n}  {rate}"
                     f"  NE={row.ne}")
    return lines
