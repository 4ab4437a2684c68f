"""Benchmark: click-to-mask (workflow.measure_service.propose) on a 512×512×300 CT vs region growing
by scikit-image ``flood`` and SimpleITK ``ConfidenceConnected`` on the same crop, in one process.

The CT is the real Siemens thoracolumbar CT of ../shared/testdata/totalsegmentator (512² at
0.977 mm, 2 mm slices: clinical resolution) with lesions of known size inserted into T12 (lytic,
sclerotic, lytic with a cement sphere over one pole; tests/realdata_lesions.py), its 20 slices
then mirrored end to end into 300 (int16, as loaded). Each lesion is clicked at its centre in the
middle copy. Timed per click, ``--repeat`` rounds alternating the methods, median reported:

- ``propose``: everything a click runs (cement search, crop, segmentation, diameters, volume);
- ``flood``: crop of the same box (``search_radius_mm`` around the seed), Gaussian smoothing of the
  same sigma, ``skimage.segmentation.flood`` from the seed with tolerance half the contrast
  (given from the truth: a baseline with the answer's contrast handed to it);
- ``sitk-cc``: the same crop to SimpleITK, ``ConfidenceConnected`` (multiplier 2.5, 5 iterations,
  initial radius 2 voxels).

The baselines only make a mask: no cement, no partial volume, no diameters. Their volume (voxel
count) is shown beside ours against the truth. The machine may be shared: read the ratios.
Target (issue 12): propose ≤ 0.3 s median.

    .venv/bin/python benchmarks/measure.py [--testdata DIR] [--repeat 7] [--slices 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from mdaread.io import load_path  # noqa: E402
from mdaread.model.measurement import SegmentationSettings  # noqa: E402
from mdaread.model.volume import Volume  # noqa: E402
from mdaread.workflow.measure_service import propose  # noqa: E402
from realdata_lesions import CT_DIR, Ellipsoid, insert_lesion  # noqa: E402

LESIONS = [
    ("lytic", Ellipsoid((245, 333, 5), (8.0, 5.5, 5.0), 30.0), 30.0, 0.0),
    ("sclerotic", Ellipsoid((252, 330, 8), (8.0, 5.5, 5.0), -25.0), 900.0, 0.0),
    ("lytic+cement", Ellipsoid((250, 332, 8), (11.0, 5.5, 5.0), 10.0), 30.0, 3.5),
]


def tiled(volume: Volume, slices: int) -> Volume:
    """``volume``'s slices mirrored end to end up to ``slices`` (int16, same in-plane grid)."""
    array = np.rint(np.asarray(volume.array, dtype=np.float32)).astype(np.int16)
    pieces: list[np.ndarray] = []
    n = 0
    while n < slices:
        pieces.append(array if len(pieces) % 2 == 0 else array[::-1])
        n += array.shape[0]
    out = np.ascontiguousarray(np.concatenate(pieces)[:slices])
    return Volume(array=out, affine=volume.affine, modality="CT", series_uid="2.25.42")


def _crop(volume: Volume, seed_kji: tuple[int, int, int],
          radius_mm: float) -> tuple[np.ndarray, tuple[int, int, int]]:
    sz, sy, sx = volume.spacing[2], volume.spacing[1], volume.spacing[0]
    half = np.ceil(radius_mm / np.array([sz, sy, sx])).astype(int)
    lo = np.maximum(np.array(seed_kji) - half, 0)
    hi = np.minimum(np.array(seed_kji) + half + 1, volume.shape)
    box = np.asarray(volume.array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], dtype=np.float32)
    seed = tuple(int(v) for v in np.array(seed_kji) - lo)
    return box, (seed[0], seed[1], seed[2])


def flood_baseline(volume: Volume, seed_kji: tuple[int, int, int], settings: SegmentationSettings,
                   tolerance: float) -> int:
    from scipy import ndimage
    from skimage.segmentation import flood

    box, seed = _crop(volume, seed_kji, settings.search_radius_mm)
    sigma = [settings.smoothing_mm / s for s in (volume.spacing[2], volume.spacing[1],
                                                 volume.spacing[0])]
    smooth = ndimage.gaussian_filter(box, sigma, mode="nearest")
    return int(flood(smooth, seed, tolerance=tolerance).sum())


def sitk_baseline(volume: Volume, seed_kji: tuple[int, int, int],
                  settings: SegmentationSettings) -> int:
    import SimpleITK as sitk

    box, seed = _crop(volume, seed_kji, settings.search_radius_mm)
    image = sitk.GetImageFromArray(box)
    image.SetSpacing(tuple(float(s) for s in volume.spacing))
    sigma = settings.smoothing_mm
    smooth = sitk.SmoothingRecursiveGaussian(image, sigma) if sigma else image
    mask = sitk.ConfidenceConnected(smooth, seedList=[(seed[2], seed[1], seed[0])],
                                    numberOfIterations=5, multiplier=2.5,
                                    initialNeighborhoodRadius=2, replaceValue=1)
    return int(sitk.GetArrayViewFromImage(mask).sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("MDAREAD_TESTDATA") or ROOT.parent / "shared" / "testdata")
    parser.add_argument("--testdata", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()
    folder = args.testdata / CT_DIR
    if not folder.is_dir():
        print(f"measure benchmark: error: {folder}: real CT not found", file=sys.stderr)
        return 2
    ct = load_path(folder)
    settings = SegmentationSettings()
    voxel_ml = float(abs(np.linalg.det(ct.affine[:3, :3]))) / 1000.0
    copy_k = (args.slices // ct.shape[0]) // 2 // 2 * 2 * ct.shape[0]  # unmirrored, mid-way
    print(f"CT {ct.shape[2]}×{ct.shape[1]}×{args.slices} int16, spacing "
          f"{ct.spacing[0]:.3f}×{ct.spacing[1]:.3f}×{ct.spacing[2]:.1f} mm; lesions in the copy "
          f"at k {copy_k}–{copy_k + ct.shape[0] - 1}; {args.repeat} rounds, medians")
    print(f"{'lesion':>13} {'propose':>9} {'flood':>8} {'sitk-cc':>8} {'÷flood':>7} "
          f"{'÷sitk':>6}   volume mL: {'truth':>6} {'ours':>6} {'flood':>6} {'sitk':>6}")
    ours_all: list[float] = []
    for name, lesion, value, cement_mm in LESIONS:
        case = insert_lesion(ct, lesion, value, cement_radius_mm=cement_mm,
                             rim_mm=settings.cement_rim_mm)
        volume = tiled(case.volume, args.slices)
        dz = copy_k * ct.spacing[2] * float(np.sign(ct.affine[2, 2]))
        seed_lps = (case.seed_lps[0], case.seed_lps[1], case.seed_lps[2] + dz)
        i, j, k = lesion.centre_ijk
        seed_kji = (k + copy_k, j, i)
        tolerance = abs(value - float(np.median(np.asarray(ct.array)[k, j - 12:j + 13,
                                                                     i - 12:i + 13]))) / 2
        times: dict[str, list[float]] = {"propose": [], "flood": [], "sitk": []}
        volumes: dict[str, float] = {}
        for _ in range(args.repeat):
            start = time.perf_counter()
            proposal = propose(volume, seed_lps, settings)
            times["propose"].append(time.perf_counter() - start)
            volumes["ours"] = proposal.lesion.volume_ml
            start = time.perf_counter()
            count = flood_baseline(volume, seed_kji, settings, tolerance)
            times["flood"].append(time.perf_counter() - start)
            volumes["flood"] = count * voxel_ml
            start = time.perf_counter()
            count = sitk_baseline(volume, seed_kji, settings)
            times["sitk"].append(time.perf_counter() - start)
            volumes["sitk"] = count * voxel_ml
        med = {key: statistics.median(v) for key, v in times.items()}
        ours_all.extend(times["propose"])
        print(f"{name:>13} {med['propose'] * 1000:7.0f}ms {med['flood'] * 1000:6.0f}ms "
              f"{med['sitk'] * 1000:6.0f}ms {med['propose'] / med['flood']:6.2f}× "
              f"{med['propose'] / med['sitk']:5.2f}×   {'':>10} {case.truth_ml:6.3f} "
              f"{volumes['ours']:6.3f} {volumes['flood']:6.3f} {volumes['sitk']:6.3f}")
    overall = statistics.median(ours_all)
    print(f"propose median over all clicks: {overall * 1000:.0f} ms (target ≤ 300 ms: "
          f"{'met' if overall <= 0.3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
