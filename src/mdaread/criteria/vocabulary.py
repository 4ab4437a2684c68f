"""The words of the criteria: rule names, which signs apply to which lesion, error messages."""

from __future__ import annotations

from mdaread.errors import CriteriaInputError
from mdaread.model.observations import CR_SIGNS, PD_SIGNS, PR_SIGNS

# Rule names: stable identifiers of the step that decided a category (documented in the README).
RULE_NO_SCAN = "no_scan"                  # step 0
RULE_PD_NEW_LESION = "pd_new_lesion"      # step 1 triggers, in this order of precedence
RULE_PD_EPIDURAL = "pd_epidural"
RULE_PD_SIGN = "pd_sign"
RULE_PD_SPD = "pd_spd"
RULE_FLARE = "flare"                      # step 2
RULE_CR = "cr"                            # step 3
RULE_PR_SPD = "pr_spd"                    # step 4, quantitative
RULE_PR_SIGN = "pr_sign"                  # step 4, a PR or CR sign
RULE_NE_NONEVALUABLE = "ne_nonevaluable"  # step 5
RULE_SD = "sd"                            # step 6
RULE_NE_NO_EVALUABLE = "ne_no_evaluable"  # step 6
RULE_REFERENCE = "reference"              # the reference timepoint (no category)
RULE_BEFORE_REFERENCE = "before_reference"
RULE_OVERRIDE = "reader_override"         # the reader's category replaced the computed one

# What set a final category when it differs from the per-timepoint one.
FINAL_PDU_CONFIRMED = "pdu_confirmed"
FINAL_PDU_RESOLVED = "pdu_resolved"
FINAL_PD_BACKDATED = "pd_backdated"
FINAL_PD_CARRIED_FORWARD = "pd_carried_forward"

PD_TRIGGER_RULES = (RULE_PD_NEW_LESION, RULE_PD_EPIDURAL, RULE_PD_SIGN, RULE_PD_SPD)

WARNING_EARLY = "early"
WARNING_MODALITY_MISMATCH = "modality_mismatch"
WARNING_CEMENT = "cement_present"

DISEASE_CONTROL = frozenset({"CR", "PR", "SD", "PDu"})
"""Final categories counted as disease control (a final PDu is one still unresolved)."""

RESPONSE_SIGNS = CR_SIGNS | PR_SIGNS
ALWAYS_APPLICABLE = frozenset({"new_soft_tissue", "qualitative_increase"})
SUBJECTIVE_SIGNS = frozenset({"subjective_decrease_50", "subjective_increase_25"})


def applicable_signs(phenotype: str, well_defined: bool, modality: str) -> frozenset[str]:
    """The signs a reader may record for a tracked lesion, per the spec's table.

    CT: ``complete_fill_in``, ``sclerotic_rim`` and ``partial_fill_in`` for lytic or mixed
    lesions, ``density_normalized`` for blastic or mixed ones; MR: ``signal_normalized`` (MRI
    response is otherwise only SPD). ``subjective_*`` only for ill-defined lesions. The PD signs
    ``new_soft_tissue`` and ``qualitative_increase`` apply to every lesion.
    """
    signs = set(ALWAYS_APPLICABLE)
    if modality == "CT":
        if phenotype in ("lytic", "mixed"):
            signs |= {"complete_fill_in", "sclerotic_rim", "partial_fill_in"}
        if phenotype in ("blastic", "mixed"):
            signs.add("density_normalized")
    elif modality == "MR":
        signs.add("signal_normalized")
    if not well_defined:
        signs |= SUBJECTIVE_SIGNS
    return frozenset(signs)


SIGN_KIND = {**{s: "CR" for s in CR_SIGNS}, **{s: "PR" for s in PR_SIGNS},
             **{s: "PD" for s in PD_SIGNS}}
"""Sign → the category it supports."""


def input_error(subject: str, timepoint: str | None, key: str, problem: str) -> CriteriaInputError:
    """A CriteriaInputError whose one-line message names subject, timepoint and key."""
    where = f"subject {subject}"
    if timepoint is not None:
        where += f", timepoint {timepoint}"
    return CriteriaInputError(f"{where}, key {key}: {problem}")


SIGN_HELP = {
    "complete_fill_in": "CR (CT, lytic): the lytic lesion is completely filled in by sclerosis",
    "density_normalized": "CR (CT, blastic): bone density has returned to normal",
    "signal_normalized": "CR (MR): marrow signal has returned to normal on every sequence",
    "sclerotic_rim": "PR (CT, lytic): a sclerotic rim has formed around the lytic lesion",
    "partial_fill_in": "PR (CT, lytic): the lytic lesion is partly filled in by sclerosis",
    "subjective_decrease_50": "PR (ill-defined lesion): size decreased by at least 50 % by eye",
    "subjective_increase_25": "PD (ill-defined lesion): size increased by at least 25 % by eye",
    "new_soft_tissue": "PD: a new lytic or soft-tissue component",
    "qualitative_increase": "PD: the lesion has clearly grown or worsened",
}
"""One line per sign, for the guided read (cement is never fill-in or increased density)."""

CEMENT_REMINDER = ("This vertebra holds PMMA cement: cement is never sclerotic fill-in or "
                   "increased density; exclude it from measurements.")

RULE_HELP = {
    RULE_NO_SCAN: "no scan available at this timepoint",
    RULE_PD_NEW_LESION: "a definite new bone lesion (not flare)",
    RULE_PD_EPIDURAL: "epidural progression",
    RULE_PD_SIGN: "a lesion shows a sign of progression",
    RULE_PD_SPD: "sum of products increased at or above the PD threshold",
    RULE_FLARE: "new sclerotic lesions with other signs of response: osteoblastic flare",
    RULE_CR: "every lesion shows complete response and no new lesion",
    RULE_PR_SPD: "sum of products decreased at or below the PR threshold",
    RULE_PR_SIGN: "a lesion shows a sign of partial or complete response",
    RULE_NE_NONEVALUABLE: "the treated index lesion, or half the reference SPD, is not evaluable",
    RULE_SD: "no response and no progression",
    RULE_NE_NO_EVALUABLE: "no evaluable lesion",
    RULE_REFERENCE: "the reference timepoint: no category",
    RULE_BEFORE_REFERENCE: "before the reference timepoint: no category",
    RULE_OVERRIDE: "the reader's category (with a reason) replaced the computed one",
}
"""One line per rule name, for showing the deciding rule."""
