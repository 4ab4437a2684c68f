"""Semi-automatic measurement: seeded lesion masks, cement masks, fill-in evidence.

Qt-free; the only package importing scikit-image. Points in patient LPS mm, masks on the
series' own grid (``GridMask``: a box of the ``[k, j, i]`` array), thresholds in
``SegmentationSettings`` (stored with each result so it can be recomputed).

- ``segment_lesion(volume, seed_lps, settings=None, cement_mask=None) -> LesionSegmentation``
- ``segment_cement(volume, settings=None, vertebra_hint=None) -> CementSegmentation``
- ``bidimensional_from_mask(mask, affine=None) -> BidimensionalMeasurement``
- ``fill_in_evidence(baseline_mask, baseline_volume, followup_volume, transform,
  settings=None) -> FillInEvidence``

Bad seeds raise ``mdaread.errors.SegmentationError`` with a one-line message.
"""

from mdaread.model.measurement import (
    BidimensionalMeasurement,
    CementSegmentation,
    FillInEvidence,
    GridMask,
    IntensityStats,
    LesionSegmentation,
    SegmentationSettings,
)
from mdaread.segmentation.bidimensional import bidimensional_from_mask
from mdaread.segmentation.cement import segment_cement
from mdaread.segmentation.fill_in import fill_in_evidence
from mdaread.segmentation.lesion import segment_lesion

__all__ = [
    "BidimensionalMeasurement",
    "CementSegmentation",
    "FillInEvidence",
    "GridMask",
    "IntensityStats",
    "LesionSegmentation",
    "SegmentationSettings",
    "bidimensional_from_mask",
    "fill_in_evidence",
    "segment_cement",
    "segment_lesion",
]
