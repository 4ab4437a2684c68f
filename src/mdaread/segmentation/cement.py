"""PMMA cement near a treated vertebra: mask, volume and leakage outside the vertebral body.

CT: cement is every voxel at or above ``settings.cement_min_hu`` in a box of ``CEMENT_RADIUS_MM``
around the hint. The vertebral body is found slice by slice (patient-axial CT slices): bone
(≥ ``BONE_HU``, cement left out) opened by a 3 mm disc to cut the pedicles and ribs, the largest
piece near the hint, its convex hull (which covers the cement bolus inside it); slices are
stacked up and down from the hint while the piece keeps at least half the body's largest area
(the discs stop it). Leakage is cement more than 1 mm outside that body and at least 4 mm thick
(an opening by a 2 mm ball: the needle track through the pedicle and hairline threads are not
counted), when it adds up to ``settings.leak_min_ml``.

MR: cement is a signal void (below ``settings.mr_void_fraction`` of the box's median) thicker than
the cortex (opened by a 1.5 mm ball) within 25 mm of the hint; leakage is not assessed on MR.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import convex_hull_image

from mdaread.model.measurement import CementSegmentation, GridMask, Point, SegmentationSettings
from mdaread.model.volume import Volume
from mdaread.segmentation import grid
from mdaread.segmentation.grid import F32, Bool, Box

CEMENT_RADIUS_MM = 45.0
BONE_HU = 150.0
BODY_OPENING_MM = 3.0
BODY_SEARCH_MM = 15.0
LEAK_OPENING_MM = 2.0
LEAK_MARGIN_MM = 1.0
MR_OPENING_MM = 1.5
MR_REACH_MM = 25.0


def segment_cement(volume: Volume, settings: SegmentationSettings | None = None,
                   vertebra_hint: Point | None = None) -> CementSegmentation:
    """Cement around ``vertebra_hint`` (LPS mm; the treated body's centre, or a point in it;
    default: the image centre). Returns its mask on the series grid, volume (mL) and leakage."""
    settings = settings or SegmentationSettings()
    hint = vertebra_hint if vertebra_hint is not None else tuple(volume.center_world())
    hint_lps = (float(hint[0]), float(hint[1]), float(hint[2]))
    centre = grid.seed_index(volume, hint_lps)
    box = grid.box_around(volume, centre, CEMENT_RADIUS_MM)
    raw = np.asarray(volume.array[box.slices], dtype=np.float32)
    spacing = grid.spacing_kji(volume)
    hint_box = tuple(int(v) for v in centre - np.array(box.lo))
    voxel_ml = float(abs(np.linalg.det(volume.affine[:3, :3]))) / 1000.0
    if volume.modality != "CT":
        mask = _mr_voids(raw, spacing, hint_box, settings)
        return CementSegmentation(
            mask=_grid_mask(mask, box, volume), volume_ml=float(mask.sum()) * voxel_ml,
            leakage=False, leakage_ml=0.0, leakage_mask=None, body_mask=None, settings=settings,
            warnings=("cement leakage is not assessed on MR (signal voids only)",))
    cement = raw >= settings.cement_min_hu
    warnings: list[str] = []
    body = _vertebral_body(raw, cement, spacing, hint_box)
    if not body.any():
        warnings.append("vertebral body not found near the hint: leakage not assessed")
        leak = np.zeros_like(cement)
    else:
        outside = cement & ~grid.within_mm(body, LEAK_MARGIN_MM, spacing)
        leak = ndimage.binary_opening(outside, grid.ball(LEAK_OPENING_MM, spacing))
        leak = ndimage.binary_dilation(leak, grid.ball(LEAK_OPENING_MM, spacing)) & outside
    leak_ml = float(leak.sum()) * voxel_ml
    leakage = bool(body.any()) and leak_ml >= settings.leak_min_ml and leak_ml > 0
    if _is_oblique(volume):
        warnings.append("the CT is not axial: the vertebral body was found on its own slices")
    return CementSegmentation(
        mask=_grid_mask(cement, box, volume), volume_ml=float(cement.sum()) * voxel_ml,
        leakage=leakage, leakage_ml=leak_ml if leakage else 0.0,
        leakage_mask=_grid_mask(leak, box, volume) if leakage else None,
        body_mask=_grid_mask(body, box, volume) if body.any() else None,
        settings=settings, warnings=tuple(warnings))


def _grid_mask(mask: Bool, box: Box, volume: Volume) -> GridMask:
    return GridMask(mask, box.lo, volume.shape, volume.affine)


def _is_oblique(volume: Volume) -> bool:
    return bool(abs(volume.direction[2, 2]) < np.cos(np.radians(1.0)))


def _vertebral_body(raw: F32, cement: Bool, spacing: tuple[float, float, float],
                    hint: tuple[int, ...]) -> Bool:
    """The body as a stack of convex slice outlines around the hint (see the module note)."""
    smooth = ndimage.gaussian_filter(raw, [0.6 / s for s in spacing], mode="nearest")
    bone = (smooth >= BONE_HU) & ~grid.within_mm(cement, 1.0, spacing)
    disc = grid.ball(BODY_OPENING_MM, (1e9, spacing[1], spacing[2]))[0]
    jj, ii = np.indices(raw.shape[1:])
    near: Bool = np.asarray(((jj - hint[1]) * spacing[1]) ** 2
                            + ((ii - hint[2]) * spacing[2]) ** 2 <= BODY_SEARCH_MM ** 2)
    outlines: dict[int, Bool] = {}

    def area(k: int) -> float:
        """The slice's outline area (voxels), computed once and only for slices visited."""
        if k not in outlines:
            piece = _body_piece(bone[k], cement[k], disc, near)
            outlines[k] = piece if piece is not None else np.zeros_like(bone[k])
        return float(outlines[k].sum())

    k0 = int(hint[0])
    window = range(max(k0 - 3, 0), min(k0 + 4, raw.shape[0]))
    areas = [area(k) for k in window]
    body = np.zeros_like(bone)
    if max(areas) == 0:
        return body
    ref = max(areas)
    start = window[int(np.argmax(areas))]
    for step in (1, -1):
        k = start
        while 0 <= k < raw.shape[0] and area(k) >= 0.5 * ref:
            body[k] = outlines[k]
            k += step
    return body


def _body_piece(bone: Bool, cement: Bool, disc: Bool, near: Bool) -> Bool | None:
    """The convex outline of the largest opened-bone piece touching ``near``, with the slice's
    cement inside that outline; None when no bone is near."""
    opened = ndimage.binary_opening(bone, disc)
    labels, n = ndimage.label(opened)
    if n == 0:
        return None
    touching = np.unique(labels[near & opened])
    touching = touching[touching > 0]
    if touching.size == 0:
        return None
    sizes = ndimage.sum(opened, labels, touching)
    piece = labels == touching[int(np.argmax(sizes))]
    hull: Bool = convex_hull_image(piece)
    return hull


def _mr_voids(raw: F32, spacing: tuple[float, float, float], hint: tuple[int, ...],
              settings: SegmentationSettings) -> Bool:
    smooth = ndimage.gaussian_filter(raw, [0.6 / s for s in spacing], mode="nearest")
    voids = smooth < settings.mr_void_fraction * float(np.median(smooth))
    voids = ndimage.binary_opening(voids, grid.ball(MR_OPENING_MM, spacing))
    labels, n = ndimage.label(voids)
    if n == 0:
        return voids
    kk, jj, ii = np.indices(raw.shape)
    dist2 = sum(((a - h) * s) ** 2 for a, h, s in zip((kk, jj, ii), hint, spacing, strict=True))
    reach = dist2 <= MR_REACH_MM ** 2
    keep = np.unique(labels[voids & reach])
    result: Bool = np.isin(labels, keep[keep > 0])
    return result
