"""Plots of the response (PNG and SVG, matplotlib's Agg canvas, no pyplot global state).

- ``dcr``: disease control rate per arm over the protocol's timepoints, Wilson 95 % bars;
- ``spider``: SPD change (%) per subject over days since treatment, points coloured by category;
- ``waterfall``: each subject's best (lowest) SPD change over the follow-ups, bars coloured by
  the subject's best overall response (best final category: CR, PR, SD, PDu, PD, NE).

Only the endpoint reads are drawn. Arms get colours (and a legend) only when ``unblinded``;
blinded plots pool the subjects and show no arm. Deterministic: fixed SVG id salt, no date in the
SVG metadata, fixed size and DPI, subjects in trial-ID order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mdaread.export.records import TimepointRow
from mdaread.export.tables import Table
from mdaread.model.vocabulary import timepoint_rank

CATEGORY_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#4575b4", "PDu": "#fdae61",
                    "PD": "#d73027", "NE": "#999999"}
ARM_COLOURS = ("#7b3294", "#008837", "#e66101", "#0571b0")
PR_LINE, PD_LINE = -50.0, 25.0
"""The SPD change thresholds drawn as reference lines (protocol defaults)."""
PLOT_NAMES = ("dcr", "spider", "waterfall")
SIZE_IN, DPI = (7.0, 4.5), 120
RC: Any = {"svg.hashsalt": "mdaread", "svg.fonttype": "path", "font.family": "DejaVu Sans",
      "axes.spines.top": False, "axes.spines.right": False}


def _figure() -> Figure:
    figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _arm_colour(arms: Sequence[str], arm: str | None) -> str:
    return ARM_COLOURS[arms.index(arm) % len(ARM_COLOURS)] if arm in arms else "#555555"


def dcr_figure(dcr: Table) -> Figure:
    """The DCR rows (not the NE-as-failure ones) as points with Wilson 95 % bars per arm."""
    names = [c.name for c in dcr.columns]
    rows = [dict(zip(names, r, strict=True)) for r in dcr.rows if not r[names.index(
        "ne_as_failure")]]
    labels = sorted({str(r["timepoint"]) for r in rows}, key=timepoint_rank)
    arms = sorted({str(r["arm"]) for r in rows})
    figure = _figure()
    axes = figure.add_subplot()
    width = 0.12 * (len(arms) - 1)
    for a, arm in enumerate(arms):
        mine = [r for r in rows if r["arm"] == arm and r["dcr"] is not None]
        x = [labels.index(str(r["timepoint"])) - width / 2 + (0.12 * a) for r in mine]
        y = [100 * float(r["dcr"]) for r in mine]  # type: ignore[arg-type]
        low = [v - 100 * float(r["ci_low"]) for v, r in zip(y, mine, strict=True)]  # type: ignore[arg-type]
        high = [100 * float(r["ci_high"]) - v for v, r in zip(y, mine, strict=True)]  # type: ignore[arg-type]
        colour = _arm_colour(arms, arm) if len(arms) > 1 or arm != "all" else "#333333"
        axes.errorbar(x, y, yerr=[low, high], fmt="o-", capsize=4, color=colour,
                      label=arm if arm != "all" else "all subjects")
        for xi, yi, r in zip(x, y, mine, strict=True):
            axes.annotate(f"{r['disease_control']}/{r['n']}", (xi, yi), textcoords="offset "
                          "points", xytext=(6, -12), fontsize=8, color=colour)
    axes.set_xticks(range(len(labels)), labels)
    axes.set_ylim(-2, 105)
    axes.set_ylabel("disease control rate (%)")
    axes.set_xlabel("timepoint")
    axes.set_title("Disease control rate with Wilson 95 % intervals")
    axes.legend(loc="lower left", fontsize=8, frameon=False, title="disease control / n",
                title_fontsize=8)
    return figure


def _series(rows: Sequence[TimepointRow]) -> dict[str, list[TimepointRow]]:
    """Endpoint reads with an SPD change, per subject, in day order."""
    out: dict[str, list[TimepointRow]] = {}
    for row in sorted(rows, key=lambda r: (r.trial_id, r.actual_day or 0)):
        if row.in_endpoint and row.spd_change_pct is not None:
            out.setdefault(row.trial_id, []).append(row)
    return out


def _reference_day(rows: Sequence[TimepointRow], subject: str) -> int | None:
    """The day of the subject's reference read (the endpoint read without a category)."""
    days = [r.actual_day for r in rows if r.trial_id == subject and r.in_endpoint
            and r.category is None and r.actual_day is not None]
    return days[0] if days else None


def spider_figure(rows: Sequence[TimepointRow], unblinded: bool) -> Figure:
    """SPD change per subject over days; lines by arm when unblinded, markers by category."""
    series = _series(rows)
    arms = sorted({r.arm for r in rows if r.arm}) if unblinded else []
    figure = _figure()
    axes = figure.add_subplot()
    for subject, points in series.items():
        days = [p.actual_day or 0 for p in points]
        change = [float(p.spd_change_pct or 0.0) for p in points]
        colour = _arm_colour(arms, points[0].arm) if unblinded else "#888888"
        start = _reference_day(rows, subject)
        line_days, line_change = ([start, *days], [0.0, *change]) if start is not None \
            and start < days[0] else (days, change)
        axes.plot(line_days, line_change, "-", color=colour, linewidth=1.2, zorder=1)
        for d, c, p in zip(days, change, points, strict=True):
            axes.scatter([d], [c], s=30, zorder=2, edgecolors="black", linewidths=0.4,
                         color=CATEGORY_COLOURS.get(p.final_category or "", "white"))
        axes.annotate(subject, (days[-1], change[-1]), textcoords="offset points",
                      xytext=(4, 0), fontsize=7)
    _thresholds(axes)
    _category_legend(axes, arms)
    axes.margins(x=0.12)  # room for the subject labels at the right end
    axes.set_xlabel("days since treatment")
    axes.set_ylabel("SPD change from reference (%)")
    axes.set_title("SPD change per subject")
    return figure


def _thresholds(axes: Axes) -> None:
    for value, text in ((PR_LINE, "PR −50 %"), (PD_LINE, "PD +25 %")):
        axes.axhline(value, color="#bbbbbb", linestyle="--", linewidth=0.8)
        axes.annotate(text, (0, value), xycoords=("axes fraction", "data"),
                      xytext=(2, 2), textcoords="offset points", fontsize=7, color="#777777")
    axes.axhline(0, color="#444444", linewidth=0.6)


def _category_legend(axes: Axes, arms: Sequence[str]) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=colour, markeredgecolor="black",
                      label=name) for name, colour in CATEGORY_COLOURS.items()]
    handles += [Line2D([], [], color=_arm_colour(arms, arm), label=arm) for arm in arms]
    axes.legend(handles=handles, fontsize=7, frameon=False, loc="upper left",
                bbox_to_anchor=(1.0, 1.0))


BEST_ORDER = ("CR", "PR", "SD", "PDu", "PD", "NE")
"""Best overall response: the first of these among a subject's final categories."""


def best_changes(rows: Sequence[TimepointRow]) -> list[tuple[str, float, str | None, str | None]]:
    """(subject, best SPD change %, best overall response, arm) per subject, sorted from the
    largest change to the smallest (the waterfall's order), ties by trial ID. The best change
    is the lowest over the follow-ups; the best response the best final category over them."""
    best = []
    for subject, points in _series(rows).items():
        follow_ups = [p for p in points if p.category is not None] or points
        top = min(float(p.spd_change_pct or 0.0) for p in follow_ups)
        finals = {p.final_category for p in follow_ups}
        response = next((c for c in BEST_ORDER if c in finals), None)
        best.append((subject, top, response, follow_ups[0].arm))
    return sorted(best, key=lambda b: (-b[1], b[0]))


def waterfall_figure(rows: Sequence[TimepointRow], unblinded: bool) -> Figure:
    """Best SPD change per subject as bars coloured by best overall response; arm marks
    under the bars when unblinded."""
    best = best_changes(rows)
    arms = sorted({r.arm for r in rows if r.arm}) if unblinded else []
    figure = _figure()
    axes = figure.add_subplot()
    x = list(range(len(best)))
    axes.bar(x, [b[1] for b in best], color=[CATEGORY_COLOURS.get(b[2] or "", "white")
                                              for b in best], edgecolor="black", linewidth=0.4)
    if unblinded:
        axes.scatter(x, [-105.0] * len(best), marker="s", s=40,
                     color=[_arm_colour(arms, b[3]) for b in best])
    axes.set_xticks(x, [b[0] for b in best], rotation=90, fontsize=7)
    _thresholds(axes)
    _category_legend(axes, arms)
    axes.set_ylim(-110, max([30.0] + [b[1] + 5 for b in best]))
    axes.set_ylabel("best SPD change from reference (%)")
    axes.set_title("Best SPD change per subject (colour: best overall response)")
    return figure


def save(figure: Figure, stem: Path) -> list[Path]:
    """``stem.png`` and ``stem.svg``; the SVG has no date and fixed ids."""
    with mpl.rc_context(RC):
        png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
        figure.savefig(png, format="png", metadata={"Software": None})
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]


def write_plots(folder: Path, rows: Sequence[TimepointRow], dcr: Table,
                unblinded: bool) -> list[Path]:
    """The three plots into ``folder`` (created), PNG + SVG each."""
    folder.mkdir(exist_ok=True)
    with mpl.rc_context(RC):
        figures = {"dcr": dcr_figure(dcr), "spider": spider_figure(rows, unblinded),
                   "waterfall": waterfall_figure(rows, unblinded)}
    written: list[Path] = []
    for name in PLOT_NAMES:
        written += save(figures[name], folder / name)
    return written
