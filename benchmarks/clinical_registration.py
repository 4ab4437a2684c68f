"""Benchmark: register_rigid on clinical-size pairs vs a plain SimpleITK recipe, same run.

Pairs (benchmarks/clinical.py: the sample generator on a clinical grid, truth exactly rigid):
CT→CT (512² × 400 at 0.7 × 1.0 mm), CT→MR (follow-up sagittal 512² × 18 at 3.6 mm) and
MR→MR, for ``--subjects`` subjects. The SimpleITK reference (issue 15): crop a 40 mm ball
around the vertebra, resample both to 1.5 mm, Mattes MI, regular-step gradient descent,
Euler3D about the centre, 2 levels (shrink 2/1), from identity — timed including the crops.
Both are timed on volumes already in memory. TRE: the largest error over the 8 corners of a
40 mm box around the treated vertebra.

    .venv/bin/python benchmarks/clinical_registration.py [--subjects 2] [--kinds CT-CT,CT-MR,MR-MR]
        [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from clinical import clinical_subject  # also puts src/ on the path

from mdaread.geometry import rigid
from mdaread.model.volume import Volume


def simpleitk_reference(fixed: Volume, moving: Volume, centre: np.ndarray) -> np.ndarray:
    """The plain recipe of the module docstring; 4×4 baseline → follow-up matrix."""
    import SimpleITK as sitk

    from mdaread.registration import region as rg
    from mdaread.registration.convert import to_matrix, to_sitk

    def cut(volume: Volume, half: float) -> sitk.Image:
        sub = rg.crop(volume, centre, half)
        assert sub is not None
        image = to_sitk(sub)
        return rg.resample(image, rg.grid(centre, half, 1.5))

    fixed_img, moving_img = cut(fixed, 40.0), cut(moving, 50.0)
    mask = rg.sphere_mask(fixed_img, centre, 40.0)
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(32)
    reg.SetMetricFixedMask(mask)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(0.5, 1)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(2.0, 0.01, 200, relaxationFactor=0.5)
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([2, 1])
    reg.SetSmoothingSigmasPerLevel([1.5, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    transform = sitk.Euler3DTransform()
    transform.SetCenter(tuple(float(v) for v in centre))
    reg.SetInitialTransform(transform, inPlace=True)
    reg.SetNumberOfThreads(rg.THREADS)
    reg.Execute(fixed_img, moving_img)
    return to_matrix(transform)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=2)
    parser.add_argument("--kinds", default="CT-CT,CT-MR,MR-MR")
    parser.add_argument("--repeats", type=int, default=3,
                        help="median wall time of this many runs of each method (alternating)")
    args = parser.parse_args()
    from mdaread.registration import register_rigid

    rows = []
    print(f"{'pair':18s} {'ours s':>7s} {'TRE mm':>7s} {'sitk s':>7s} {'TRE mm':>7s} "
          f"{'ratio':>6s}")
    for index in range(args.subjects):
        ct, mr = clinical_subject(index, "CT"), clinical_subject(index, "MR")
        pairs = {"CT-CT": (ct.baseline, ct.follow_up, ct.truth, ct.centre),
                 "MR-MR": (mr.baseline, mr.follow_up, mr.truth, mr.centre),
                 # baseline CT ↔ follow-up MR: the MR follow-up is in the MR subject's frame
                 "CT-MR": (ct.baseline, mr.follow_up, mr.truth, ct.centre)}
        for kind in args.kinds.split(","):
            fixed, moving, truth, centre = pairs[kind]
            walls, ref_walls = [], []
            for _ in range(args.repeats):  # alternating, so that a busy moment hits both
                start = time.perf_counter()
                ours = register_rigid(fixed, moving, center_lps=centre).matrix
                walls.append(time.perf_counter() - start)
                start = time.perf_counter()
                ref = simpleitk_reference(fixed, moving, centre)
                ref_walls.append(time.perf_counter() - start)
            wall, ref_wall = statistics.median(walls), statistics.median(ref_walls)
            row = {"kind": kind, "wall": wall, "ref": ref_wall,
                   "tre": rigid.tre_box(ours, truth, centre),
                   "ref_tre": rigid.tre_box(ref, truth, centre)}
            rows.append(row)
            print(f"{kind + ' #' + str(index):18s} {wall:7.2f} {row['tre']:7.3f} {ref_wall:7.2f} "
                  f"{row['ref_tre']:7.3f} {wall / ref_wall:6.2f}", flush=True)
    for kind in args.kinds.split(","):
        sub = [r for r in rows if r["kind"] == kind]
        print(f"{kind}: ours median {statistics.median(r['wall'] for r in sub):.2f} s, "
              f"SimpleITK {statistics.median(r['ref'] for r in sub):.2f} s, ratio median "
              f"{statistics.median(r['wall'] / r['ref'] for r in sub):.2f}; TRE max ours "
              f"{max(r['tre'] for r in sub):.3f} mm, "
              f"SimpleITK {max(r['ref_tre'] for r in sub):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
