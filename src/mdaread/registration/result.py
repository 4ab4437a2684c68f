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
        """The stable --json form (see README.md, section Registration)."""
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


    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegistrationResult:
        """The inverse of :meth:`to_json` (for results kept in a workspace). Raises ValueError
        for a payload without a 4×4 rigid ``matrix`` or with an unknown ``quality``."""
        matrix = np.asarray(data["matrix"], dtype=np.float64)
        if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
            raise ValueError("registration matrix must be 4x4 finite numbers")
        metric = data.get("metric")
        cx, cy, cz = (float(v) for v in data.get("center", (0.0, 0.0, 0.0)))
        return cls(
            matrix=matrix,
            metric=float("nan") if metric is None else float(metric),
            iterations=int(data.get("iterations", 0)),
            seconds=float(data.get("seconds", 0.0)),
            quality=str(data["quality"]),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            converged=bool(data.get("converged", True)),
            stop_condition=str(data.get("stop_condition", "")),
            method=str(data.get("method", "intensity")),
            center_lps=(cx, cy, cz),
            radius_mm=float(data.get("radius_mm", 40.0)),
            residual_mm=None if data.get("residual_mm") is None else float(data["residual_mm"]),
            details=dict(data.get("details", {})),
        )


def _finite(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)
