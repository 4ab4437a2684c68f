"""Rigid registration of a follow-up to the baseline around the treated vertebra.

The only package that imports SimpleITK. Every matrix is 4×4 and maps baseline (fixed) LPS mm to
follow-up (moving) LPS mm. Public API:

- :func:`register_rigid` — intensity-based 6-DOF registration in a ball around a vertebra;
- :func:`landmark_rigid` — the point-based fallback (≥ 3 pairs), refinable with register_rigid;
- :func:`resample_to_fixed` / :func:`fixed_region` — the follow-up on the baseline grid;
- :func:`blend`, :func:`checkerboard`, :func:`difference` — numpy overlays for the viewer;
- :class:`RegistrationResult` — matrix, metric, iterations, seconds, quality, warnings.

Names are imported on first use, so that the numpy-only parts (overlays, results, landmarks)
do not load SimpleITK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdaread.registration.intensity import register_rigid
    from mdaread.registration.landmarks import landmark_rigid
    from mdaread.registration.overlay import blend, checkerboard, difference
    from mdaread.registration.resample import fixed_region, resample_to_fixed
    from mdaread.registration.result import RegistrationResult

_HOMES = {
    "register_rigid": "intensity",
    "landmark_rigid": "landmarks",
    "blend": "overlay",
    "checkerboard": "overlay",
    "difference": "overlay",
    "fixed_region": "resample",
    "resample_to_fixed": "resample",
    "RegistrationResult": "result",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mdaread.registration' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mdaread.registration.{home}"), name)
