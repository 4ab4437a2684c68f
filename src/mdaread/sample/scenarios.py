"""The sample trial's scripted subjects: how each lesion evolves and what a reader should call it.

Every outcome of ../shared/mda-criteria.md appears among the first four subjects (so a small copy
of the trial still covers them); subjects 5–8 add an all-MR subject with CR by normalised signal,
NE (an artifact hides the index lesion) and clean PD by growth, an equivocal new lesion later
called definite, and a clean PR by shrinkage. Subjects beyond eight
repeat the scripts with new geometry.

The expected categories below were worked out by hand from the rules under the default protocol
(measurable ≥ 10 mm, PR ≤ −50 %, PD ≥ +25 %, unconfirmed window 183 days, PD carried forward);
they are deliberately NOT computed by mdaread.criteria, which a test checks against them.
SPD figures in the comments are long × perp summed over the subject's baseline lesions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mdaread.model.vocabulary import TIMEPOINT_LABELS

LABELS = TIMEPOINT_LABELS
NOMINAL_DAYS = (-7, 30, 91, 182, 365)  # the sample's scan schedule: baseline a week before

# How a lesion looks when rendered (mdaread.sample.lesions draws each of these).
LOOKS = ("lytic", "lytic_rim", "partial_fill", "filled", "blastic", "mixed", "gone")


@dataclass(frozen=True)
class State:
    """One baseline lesion at one timepoint: true axial diameters (mm), look, reader's signs."""

    long_mm: float
    perp_mm: float
    look: str
    signs: tuple[str, ...] = ()
    evaluable: bool = True
    ne_reason: str | None = None  # artifact | not_imaged | cement_obscures | other


@dataclass(frozen=True)
class Lesion:
    """A baseline lesion in a vertebral body; ``offset`` is its centre relative to the body centre
    (baseline LPS mm), ``theta_deg`` turns its long axis in the axial plane from +x toward +y."""

    id: str
    level: str
    phenotype: str  # lytic | blastic | mixed
    treated_index: bool
    offset: tuple[float, float, float]
    theta_deg: float
    states: tuple[State, State, State, State, State]
    well_defined: bool = True


@dataclass(frozen=True)
class NewLesion:
    """A lesion absent at baseline. ``states[t]`` is None where it is not (yet) seen, else
    (status equivocal | definite, long_mm, perp_mm)."""

    id: str
    level: str
    phenotype: str  # sclerotic | lytic | mixed | soft_tissue
    offset: tuple[float, float, float]
    states: tuple[tuple[str, float, float] | None, ...]


@dataclass(frozen=True)
class Scenario:
    """A subject's script: arm, centre, treated levels, modality per timepoint, lesions, the
    reader's per-timepoint flags, and the expected (category, final category) per follow-up."""

    story: str
    arm: str
    centre: str
    treated_levels: tuple[str, ...]
    modalities: tuple[str, str, str, str, str]
    lesions: tuple[Lesion, ...]
    expected: tuple[tuple[str, str], tuple[str, str], tuple[str, str], tuple[str, str]]
    new_lesions: tuple[NewLesion, ...] = ()
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label → flag names
    artifacts: tuple[str, ...] = ()  # labels of CT timepoints with streaks across the lesion


def _s(long_mm: float, perp_mm: float, look: str, *signs: str) -> State:
    return State(long_mm, perp_mm, look, tuple(signs))


VP, SBRT = "RFA+VP", "RFA+VP+SBRT"
CT5 = ("CT", "CT", "CT", "CT", "CT")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(  # SPD 432 → 432 (0 %) → 352 rim → 300 partial fill-in → 300 complete fill-in
        story="lytic L2 lesion heals: SD, PR by sclerotic rim, PR by partial fill-in, "
              "CR by complete sclerotic fill-in",
        arm=VP, centre="C1", treated_levels=("L2",), modalities=CT5,
        lesions=(Lesion("L1", "L2", "lytic", True, (5.0, 3.0, 0.0), 20.0, (
            _s(24, 18, "lytic"), _s(24, 18, "lytic"), _s(22, 16, "lytic_rim", "sclerotic_rim"),
            _s(20, 15, "partial_fill", "partial_fill_in"),
            _s(20, 15, "filled", "complete_fill_in"))),),
        expected=(("SD", "SD"), ("PR", "PR"), ("PR", "PR"), ("CR", "CR")),
    ),
    Scenario(  # SPD 252 → 252 (0 %) → 374 (+48 %, flagged) → 108 (−57 %) → 88 (−65 %)
        story="mixed T9 lesion after SBRT: SD on MR, pseudoprogression at 3 months (PD "
              "unconfirmed) that resolves, then PR by shrinkage on MR and CT",
        arm=SBRT, centre="C2", treated_levels=("T9",), modalities=("CT", "MR", "CT", "MR", "CT"),
        lesions=(Lesion("L1", "T9", "mixed", True, (-3.0, 1.0, 0.0), -15.0, (
            _s(18, 14, "mixed"), _s(18, 14, "mixed"), _s(22, 17, "mixed"),
            _s(12, 9, "mixed"), _s(11, 8, "mixed"))),),
        flags={"3m": ("possible_pseudoprogression",)},
        expected=(("SD", "SD"), ("PDu", "SD"), ("PR", "PR"), ("PR", "PR")),
    ),
    Scenario(  # SPD 374+180=554 → 554 → 500; new sclerotic foci from 1 m, new lytic at 6 m
        story="lytic L4 and blastic L5: osteoblastic flare (new sclerotic foci with a sclerotic "
              "rim, PR by the flare rule) at 1 and 3 months, then a definite new lytic lesion (PD)",
        arm=VP, centre="C3", treated_levels=("L4", "L5"), modalities=CT5,
        lesions=(
            Lesion("L1", "L4", "lytic", True, (5.0, 2.0, 0.0), 10.0, (
                _s(22, 17, "lytic"), _s(22, 17, "lytic_rim", "sclerotic_rim"),
                _s(20, 16, "lytic_rim", "sclerotic_rim"), _s(20, 16, "lytic_rim", "sclerotic_rim"),
                _s(20, 16, "lytic_rim", "sclerotic_rim"))),
            Lesion("L2", "L5", "blastic", False, (-6.0, 1.0, 0.0), 0.0, (
                _s(15, 12, "blastic"), _s(15, 12, "blastic"), _s(15, 12, "blastic"),
                _s(15, 12, "blastic"), _s(15, 12, "blastic"))),
        ),
        new_lesions=(
            NewLesion("N1", "L3", "sclerotic", (-9.0, -5.0, 2.0),
                      (None, ("definite", 8, 7), ("definite", 8, 7), ("definite", 8, 7),
                       ("definite", 8, 7))),
            NewLesion("N2", "S1", "sclerotic", (6.0, -4.0, 0.0),
                      (None, ("definite", 7, 6), ("definite", 7, 6), ("definite", 7, 6),
                       ("definite", 7, 6))),
            NewLesion("N3", "L3", "lytic", (8.0, 4.0, -2.0),
                      (None, None, None, ("definite", 12, 10), ("definite", 16, 13))),
        ),
        expected=(("PR", "PR"), ("PR", "PR"), ("PD", "PD"), ("PD", "PD")),
    ),
    Scenario(  # SPD 192 → 266 (+38.5 %, flagged) → 352 (+83 %, flagged) → 391 → 450
        story="mixed L1 lesion grows: PD unconfirmed at 1 and 3 months (flare / "
              "pseudoprogression flagged), confirmed by further growth at 6 months (MR)",
        arm=SBRT, centre="C1", treated_levels=("L1",), modalities=("CT", "CT", "CT", "MR", "CT"),
        lesions=(Lesion("L1", "L1", "mixed", True, (3.0, 2.0, 0.0), 0.0, (
            _s(16, 12, "mixed"), _s(19, 14, "mixed"), _s(22, 16, "mixed"),
            _s(23, 17, "mixed"), _s(25, 18, "mixed"))),),
        flags={"1m": ("possible_flare",), "3m": ("possible_pseudoprogression",)},
        expected=(("PDu", "PD"), ("PDu", "PD"), ("PD", "PD"), ("PD", "PD")),
    ),
    Scenario(  # SPD 192 → 192 → 165 (−14 %) → 154 (−20 %) → 0 with signal normalised
        story="lytic T6 lesion followed on MR only: SD, SD, SD, then CR by normalised signal",
        arm=VP, centre="C2", treated_levels=("T6",), modalities=("MR", "MR", "MR", "MR", "MR"),
        lesions=(Lesion("L1", "T6", "lytic", True, (3.0, 1.0, 0.0), 30.0, (
            _s(16, 12, "lytic"), _s(16, 12, "lytic"), _s(15, 11, "lytic"), _s(14, 11, "lytic"),
            _s(0, 0, "gone", "signal_normalized"))),),
        expected=(("SD", "SD"), ("SD", "SD"), ("SD", "SD"), ("CR", "CR")),
    ),
    Scenario(  # SPD 320 → (index not evaluable) → 374 (+16.9 %) → 520 (+62.5 %) → 567
        story="lytic L3 lesion grows without flags: NE at 1 month (streak artifact hides the "
              "treated index lesion), SD (MR), PD by growth, PD",
        arm=SBRT, centre="C3", treated_levels=("L3",), modalities=("CT", "CT", "MR", "CT", "CT"),
        lesions=(Lesion("L1", "L3", "lytic", True, (-4.0, 2.0, 0.0), -25.0, (
            _s(20, 16, "lytic"), State(20, 16, "lytic", (), False, "artifact"),
            _s(22, 17, "lytic"), _s(26, 20, "lytic"), _s(27, 21, "lytic"))),),
        artifacts=("1m",),
        expected=(("NE", "NE"), ("SD", "SD"), ("PD", "PD"), ("PD", "PD")),
    ),
    Scenario(  # SPD 208 unchanged; new lytic T7 lesion equivocal at 3 m, definite at 6 m
        story="blastic T8 lesion stable; an equivocal new lytic lesion in T7 at 3 months is "
              "definite at 6 months: PD, dated back to 3 months",
        arm=VP, centre="C1", treated_levels=("T8",), modalities=CT5,
        lesions=(Lesion("L1", "T8", "blastic", True, (2.0, 1.0, 0.0), 15.0, (
            _s(16, 13, "blastic"), _s(16, 13, "blastic"), _s(16, 13, "blastic"),
            _s(16, 13, "blastic"), _s(16, 13, "blastic"))),),
        new_lesions=(NewLesion("N1", "T7", "lytic", (4.0, -2.0, 0.0),
                               (None, None, ("equivocal", 6, 5), ("definite", 11, 9),
                                ("definite", 14, 11))),),
        expected=(("SD", "SD"), ("SD", "PD"), ("PD", "PD"), ("PD", "PD")),
    ),
    Scenario(  # SPD 432 → 414 (−4 %) → 180 (−58 %) → 130 (−70 %) → 120 (−72 %)
        story="mixed L5 lesion shrinks: SD, then PR by shrinkage",
        arm=SBRT, centre="C2", treated_levels=("L5",), modalities=CT5,
        lesions=(Lesion("L1", "L5", "mixed", True, (4.0, 2.0, 0.0), 5.0, (
            _s(24, 18, "mixed"), _s(23, 18, "mixed"), _s(15, 12, "mixed"),
            _s(13, 10, "mixed"), _s(12, 10, "mixed"))),),
        expected=(("SD", "SD"), ("PR", "PR"), ("PR", "PR"), ("PR", "PR")),
    ),
)


def scenario_for(index: int) -> Scenario:
    """The script of subject ``index`` (0-based): the eight scripts repeat in order."""
    return SCENARIOS[index % len(SCENARIOS)]


def subject_id(index: int) -> str:
    """Pseudonymous trial ID of subject ``index`` (0-based): MDA-001, MDA-002, …"""
    return f"MDA-{index + 1:03d}"
