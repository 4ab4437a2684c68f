"""The MD Anderson bone response criteria as pure functions over recorded observations.

Specification: ``mda-criteria.md``. Entry points: ``parse_batch`` (batch JSON → settings and
subjects), ``assess_subject`` (every timepoint's category and final category),
``assess_timepoint`` (steps 0–6 at one timepoint), ``results_to_batch_json`` and ``dcr_summary``.
"""

from mdaread.criteria.batch import (
    parse_batch,
    parse_protocol,
    parse_subject,
    parse_timepoint,
    results_to_batch_json,
)
from mdaread.criteria.dcr import DcrRow, dcr_summary, wilson_interval
from mdaread.criteria.result import TimepointResult
from mdaread.criteria.spd import ReferenceState, reference_state
from mdaread.criteria.subject import assess_subject
from mdaread.criteria.timepoint import assess_timepoint
from mdaread.criteria.validate import validate_subject
from mdaread.criteria.vocabulary import CEMENT_REMINDER, RULE_HELP, SIGN_HELP, applicable_signs

CRITERIA_VERSION = "mdaread-mda-1"
"""Version of these rules (stored with every read beside the protocol settings)."""

__all__ = [
    "CEMENT_REMINDER",
    "CRITERIA_VERSION",
    "RULE_HELP",
    "SIGN_HELP",
    "DcrRow",
    "ReferenceState",
    "TimepointResult",
    "applicable_signs",
    "assess_subject",
    "assess_timepoint",
    "dcr_summary",
    "parse_batch",
    "parse_protocol",
    "parse_subject",
    "parse_timepoint",
    "reference_state",
    "results_to_batch_json",
    "validate_subject",
    "wilson_interval",
]
