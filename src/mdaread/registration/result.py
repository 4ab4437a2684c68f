"""RegistrationResult: what a registration returns (and what `mdaread register --json` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

QUALITIES = ("ok", "poor", "failed")


@dataclass(frozen=True, eq=False)
class RegistrationResult:
    """A rigid mapping of the baseline onto a follow-up and how much to trust it.

    ``matrix`` is 4×4 and maps a point in FIXED (baseline) LPS mm to the corresponding point in
    MOVING (follow-up) LPS mm. ``metric`` is the final Mattes mutual information as SimpleITK
    reports it (negative; lower is better) for an intensity registration, or the RMS landmark
    residual in mm for a landmark fit. ``quality`` is ``ok``, ``poor`` (usable after a look:
    the warnings say why) or ``failed`` (keep the unregistered mapping). ``details`` holds the
    numbers behind the quality call (overlap fraction, normalised MI, …).
    """

    matrix: npt.NDArray[np.float64]
    metric: float
    iterations: int
    seconds: float
    quality: str
    warnings: tuple[str, ...] = ()
    converged: bool = True
    stop_condition: str = ""
    method: str = "intensity"
    center_lps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius_mm: float = 40.0
    residual_mm: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quality not in QUALITIES:
            raise ValueError(f"quality must be one of {QUALITIES}, got {self.quality!r}")

    @property
    def ok(self) -> bool:
        """True only when the quality is ``ok``."""
        return self.quality == "ok"

    def to_json(self) -> dict[str, Any]:
        """The stable --json form (see docs/readme/registration.md)."""
        return {
            "matrix": [[float(v) for v in row] for row in np.asarray(self.matrix)],
            "metric": _finite(self.metric),
            "seconds": round(float(self.seconds), 4),
            "warnings": list(self.warnings),
            "iterations": int(self.iterations),
            "quality": self.quality,
            "converged": bool(self.converged),
            "stop_condition": self.stop_condition,
            "method": self.method,
            "center": [float(v) for v in self.center_lps],
            "radius_mm": float(self.radius_mm),
            "residual_mm": _finite(self.residual_mm),
            "details": {k: _finite(v) if isinstance(v, float) else v
                        for k, v in self.details.items()},
        }


def _finite(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)
