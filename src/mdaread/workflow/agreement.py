"""Agreement between the reads of a workspace (Qt-free): which reads are paired, on what.

Only current (not superseded) signed reads count; drafts never. Per subject × timepoint the
latest signed read of each (reader, purpose) stands for it. Comparisons:

- every primary reader × every ``reread`` reader (the same reader: intra-reader, else
  inter-reader) — ``purpose`` ``reread``;
- every primary reader × every ``adjudication`` reader — ``purpose`` ``adjudication``;
- two different ``reread`` readers with each other — ``purpose`` ``reread``,
  ``purpose_a`` ``reread``.

Each pairs the timepoints both reads cover, on their **final** categories (the latest
assessment's, recomputed when a later timepoint was signed, else the read's own); statistics
in ``mdaread.criteria.agreement``. SPD (mm², the assessment's ``spd_mm2``) is paired at every
timepoint both reads measured (baseline included), NE in either read left out. A comparison
with no timepoint in common is not listed.

Who may see it: the data manager only — the figures disclose each reader's categories to the
others (and, in a re-read, the original read), which a reader's session must not obtain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdaread.criteria.agreement import AgreementSummary, agreement_summary
from mdaread.errors import InputError
from mdaread.model.vocabulary import timepoint_rank
from mdaread.storage import Actor, ReadRecord, WorkspaceRepository
from mdaread.workflow.reads_service import latest_assessments

PURPOSES = ("primary", "reread", "adjudication")


@dataclass(frozen=True)
class PairedTimepoint:
    """One subject × timepoint both reads cover: final categories and SPD (mm²) of a and b."""

    subject: str
    timepoint: str
    read_a: int
    read_b: int
    category_a: str | None
    category_b: str | None
    spd_a: float | None
    spd_b: float | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Comparison:
    """Reader a's reads of ``purpose_a`` against reader b's reads of ``purpose``."""

    reader_a: str
    purpose_a: str
    reader_b: str
    purpose: str
    timepoints: list[PairedTimepoint] = field(default_factory=list)
    summary: AgreementSummary | None = None

    @property
    def kind(self) -> str:
        return "intra-reader" if self.reader_a == self.reader_b else "inter-reader"

    def to_json(self) -> dict[str, Any]:
        summary = self.summary.to_dict() if self.summary else {}
        return {"reader_a": self.reader_a, "purpose_a": self.purpose_a,
                "reader_b": self.reader_b, "purpose": self.purpose, "kind": self.kind,
                **summary, "timepoints": [t.to_json() for t in self.timepoints]}


@dataclass(frozen=True)
class _Read:
    read: ReadRecord
    final_category: str | None
    spd_mm2: float | None


def workspace_agreement(ws: WorkspaceRepository, actor: Actor,
                        subjects: list[str] | None = None) -> list[Comparison]:
    """Every comparison the workspace's signed reads allow (see the module docstring), ordered
    by purpose, then reader a, then reader b. InputError unless ``actor`` is the data manager
    or a subject named is not in the workspace."""
    if actor.role != "data_manager":
        raise InputError(f"{actor.user} acts as {actor.role}: agreement figures show every "
                         "reader's categories; only the data manager sees them "
                         "(--role data_manager)")
    known = {s.trial_id for s in ws.list_subjects(actor)}
    for wanted in subjects or []:
        if wanted not in known:
            raise InputError(f"{ws.path}: no subject {wanted!r} in the workspace")
    chosen = sorted(set(subjects) if subjects else known)
    by_key: dict[tuple[str, str, str, str], Comparison] = {}
    for subject in chosen:
        for cell in _cells(ws, subject):
            for (reader_a, purpose_a), (reader_b, purpose_b) in _pairs(cell):
                a, b = cell[(reader_a, purpose_a)], cell[(reader_b, purpose_b)]
                key = (reader_a, purpose_a, reader_b, purpose_b)
                comparison = by_key.setdefault(key, Comparison(*key))
                comparison.timepoints.append(PairedTimepoint(
                    subject, a.read.timepoint_label, a.read.id, b.read.id, a.final_category,
                    b.final_category, a.spd_mm2, b.spd_mm2))
    out = [c for c in by_key.values() if c.timepoints]
    for comparison in out:
        comparison.summary = _summary(comparison.timepoints)
    return sorted(out, key=lambda c: (PURPOSES.index(c.purpose), PURPOSES.index(c.purpose_a),
                                      c.reader_a, c.reader_b))


def _cells(ws: WorkspaceRepository, subject: str) -> list[dict[tuple[str, str], _Read]]:
    """Per timepoint (protocol order): (reader, purpose) → its latest current signed read."""
    latest = latest_assessments(ws, subject)
    cells: dict[int, dict[tuple[str, str], _Read]] = {}
    labels: dict[int, str] = {}
    for read in sorted(ws.list_reads(subject, status="signed", current_only=True),
                       key=lambda r: r.id):
        if read.purpose not in PURPOSES:
            continue
        assessment = latest.get(read.id)
        final = assessment.final_category if assessment else read.final_category
        spd = (assessment.details if assessment else {}).get("spd_mm2")
        number = float(spd) if isinstance(spd, int | float) and not isinstance(spd, bool) \
            else None
        cells.setdefault(read.timepoint_id, {})[(read.reader, read.purpose)] = \
            _Read(read, final, number)
        labels[read.timepoint_id] = read.timepoint_label
    return [cells[t] for t in sorted(cells, key=lambda t: timepoint_rank(labels[t]))]


def _pairs(cell: dict[tuple[str, str], _Read]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    keys = sorted(cell)
    primary = [k for k in keys if k[1] == "primary"]
    reread = [k for k in keys if k[1] == "reread"]
    adjudication = [k for k in keys if k[1] == "adjudication"]
    out = [(a, b) for a in primary for b in reread + adjudication]
    out += [(a, b) for i, a in enumerate(reread) for b in reread[i + 1:]]
    return out


def _summary(timepoints: list[PairedTimepoint]) -> AgreementSummary:
    pairs = [(t.category_a, t.category_b) for t in timepoints]
    spd = [(t.spd_a, t.spd_b) for t in timepoints
           if t.spd_a is not None and t.spd_b is not None and "NE" not in (t.category_a,
                                                                           t.category_b)]
    return agreement_summary(pairs, [(a, b) for a, b in spd if a is not None and b is not None])
