"""Rigid registration of a follow-up to the baseline around the treated vertebra.

The only package that imports SimpleITK. Every matrix is 4×4 and maps baseline (fixed) LPS mm to
follow-up (moving) LPS mm. Public API:

- :func:`register_rigid` — intensity-based 6-DOF registration in a ball around a vertebra;
- :func:`landmark_rigid` — the point-based fallback (≥ 3 pairs), refinable with register_rigid;
- :func:`resample_to_fixed` / :func:`fixed_region` — the follow-up on the baseline grid;
- :func:`blend`, :func:`checkerboard`, :func:`difference` — numpy overlays for the viewer;
- :class:`RegistrationResult` — matrix, metric, iterations, seconds, quality, warnings.
"""

from mdaread.registration.intensity import register_rigid
from mdaread.registration.landmarks import landmark_rigid
from mdaread.registration.overlay import blend, checkerboard, difference
from mdaread.registration.resample import fixed_region, resample_to_fixed
from mdaread.registration.result import RegistrationResult

__all__ = [
    "RegistrationResult",
    "blend",
    "checkerboard",
    "difference",
    "fixed_region",
    "landmark_rigid",
    "register_rigid",
    "resample_to_fixed",
]
