"""Benchmark: mdaread.registration.register_rigid vs elastix's default rigid parameter map.

Same pairs for both: every baseline → follow-up pair of the sample trial (truth.json) and the
largest real volume in ../shared/testdata (a sagittal T1 MR) moved by known rigid transforms.
For each pair: wall time of each method, their ratio, and TRE (largest error over the 8 corners
of a 40 mm box around the treated vertebra / volume centre). Volumes are loaded before timing.

    .venv/bin/python benchmarks/registration.py [--sample DIR] [--max-pairs N] [--no-elastix]
        [--elastix-cache FILE]

``--elastix-cache FILE`` stores elastix's (time, TRE) per pair in FILE and reuses them on the next
run, so that tuning our side does not re-run elastix each time (delete FILE to re-measure).

elastix comes from itk-elastix, installed for this benchmark only
(`.venv/bin/pip install itk-elastix`); without it the elastix columns are skipped with a message.
elastix runs on the whole images with `GetDefaultParameterMap("rigid")`, as a user would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mdaread.geometry import rigid  # noqa: E402
from mdaread.model.volume import Volume  # noqa: E402

REAL_SERIES = ROOT.parent / "shared" / "testdata" / "dcm_qa_decubitus" / "In" / "HFS" / \
    "3_t1_fl2d_sag"


@dataclass
class Pair:
    name: str
    fixed: Volume
    moving: Volume
    truth: np.ndarray
    centre: np.ndarray
    limit_mm: float

    @property
    def kind(self) -> str:
        """``CT-CT``, ``CT-MR`` (baseline CT, follow-up MR) or ``MR-MR`` (MR baseline): the TRE
        limit is 1 mm for CT-CT and 2 mm with MR."""
        modalities = [v.modality if v.modality in ("CT", "MR") else "MR"
                      for v in (self.fixed, self.moving)]
        return "-".join(modalities)


def sample_pairs(root: Path, max_pairs: int | None) -> list[Pair]:
    """Baseline → every follow-up series of every subject in ``root``/truth.json."""
    from mdaread.io import load_path

    truth_file = root / "truth.json"
    if not truth_file.is_file():
        print(f"(no sample trial at {root}: write one with `mdaread sample {root}`)")
        return []
    cache: dict[str, Volume] = {}

    def load(folder: str) -> Volume:
        if folder not in cache:
            cache[folder] = load_path(root / folder)
        return cache[folder]

    pairs = []
    for subject in json.loads(truth_file.read_text())["subjects"]:
        centre = np.asarray(subject["vertebral_body_centres_baseline_lps"][
            subject["treated_levels"][0]], float)
        base = subject["timepoints"][0]
        for tp in subject["timepoints"][1:]:
            for series in tp["series"]:
                if max_pairs is not None and len(pairs) >= max_pairs:
                    return pairs
                both_ct = base["modality"] == "CT" and tp["modality"] == "CT"
                name = f"{base['series'][0]['folder']} -> {series['folder'].split('/')[-1]}"
                pairs.append(Pair(name, load(base["series"][0]["folder"]),
                                  load(series["folder"]), np.asarray(tp["baseline_to_timepoint"]),
                                  centre, 1.0 if both_ct else 2.0))
    return pairs


def real_pairs() -> list[Pair]:
    """The real sagittal T1 moved by two known transforms onto a shifted field of view."""
    from scipy import ndimage

    from mdaread.io import load_path

    if not REAL_SERIES.is_dir():
        print(f"(no real series at {REAL_SERIES})")
        return []
    real = load_path(REAL_SERIES)
    centre = real.center_world()
    pairs = []
    for n, (angles, shift) in enumerate([([3.0, -2.0, 4.0], [8.0, -6.0, 10.0]),
                                         ([-4.0, 3.0, -2.0], [-15.0, 12.0, -20.0])]):
        truth = rigid.rigid_matrix(np.radians(angles), shift, centre)
        affine = real.affine.copy()
        affine[:3, 3] += [5.0, -7.0, 9.0]
        k, j, i = real.shape
        kk, jj, ii = np.meshgrid(np.arange(k), np.arange(j), np.arange(i), indexing="ij")
        ijk = np.stack([ii, jj, kk], axis=-1).reshape(-1, 3).astype(np.float64)
        src = real.world_to_index(rigid.apply(rigid.invert(truth),
                                              ijk @ affine[:3, :3].T + affine[:3, 3]))
        values = ndimage.map_coordinates(real.array.astype(np.float32), src[:, ::-1].T, order=1)
        moving = Volume(array=values.reshape(real.shape), affine=affine, modality="MR")
        pairs.append(Pair(f"real sagittal T1 #{n + 1}", real, moving, truth, centre, 2.0))
    return pairs


def run_mdaread(pair: Pair) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (both threads), TRE mm and the quality call."""
    from mdaread.registration import register_rigid

    start, cpu = time.perf_counter(), time.process_time()
    result = register_rigid(pair.fixed, pair.moving, center_lps=pair.centre)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, cpu, rigid.tre_box(result.matrix, pair.truth, pair.centre), result.quality


def _itk_image(volume: Volume):  # type: ignore[no-untyped-def]
    import itk

    image = itk.image_from_array(np.ascontiguousarray(volume.array, dtype=np.float32))
    image.SetOrigin(volume.origin)
    image.SetSpacing(volume.spacing)
    image.SetDirection(itk.matrix_from_array(np.ascontiguousarray(volume.direction)))
    return image


def _elastix_matrix(parameter_map) -> np.ndarray:  # type: ignore[no-untyped-def]
    """4×4 fixed → moving matrix of elastix's EulerTransform result (ITK Euler3D convention)."""
    import SimpleITK as sitk

    from mdaread.registration.convert import to_matrix

    params = [float(v) for v in parameter_map["TransformParameters"]]
    centre = [float(v) for v in parameter_map["CenterOfRotationPoint"]]
    transform = sitk.Euler3DTransform()
    transform.SetCenter(centre)
    if parameter_map.get("ComputeZYX", ("false",))[0] == "true":
        transform.SetComputeZYX(True)
    transform.SetParameters(params)
    return to_matrix(transform)


def run_elastix(pair: Pair) -> tuple[float, float]:
    import itk

    fixed, moving = _itk_image(pair.fixed), _itk_image(pair.moving)
    parameters = itk.ParameterObject.New()
    parameters.AddParameterMap(parameters.GetDefaultParameterMap("rigid"))
    start = time.perf_counter()
    _, result = itk.elastix_registration_method(fixed, moving, parameter_object=parameters,
                                                log_to_console=False)
    wall = time.perf_counter() - start
    matrix = _elastix_matrix(result.GetParameterMap(0))
    return wall, rigid.tre_box(matrix, pair.truth, pair.centre)


def _elastix_available(wanted: bool) -> bool:
    if not wanted:
        return False
    try:
        start = time.perf_counter()
        import itk

        itk.ParameterObject.New()  # itk loads lazily: pay the import here, not in a timing
        print(f"(itk-elastix loaded in {time.perf_counter() - start:.1f} s)")
        return True
    except ImportError:
        print("(itk-elastix is not installed: elastix columns skipped; "
              "`.venv/bin/pip install itk-elastix` to compare)")
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "sample_dicom",
                        help="sample trial folder (default: sample_dicom)")
    parser.add_argument("--max-pairs", type=int, default=None,
                        help="at most this many sample-trial pairs")
    parser.add_argument("--no-elastix", action="store_true", help="time mdaread only")
    parser.add_argument("--elastix-cache", type=Path, default=None,
                        help="JSON file of elastix results per pair, reused when present")
    args = parser.parse_args()
    cache = (json.loads(args.elastix_cache.read_text())
             if args.elastix_cache is not None and args.elastix_cache.is_file() else {})
    use_elastix = bool(cache) or _elastix_available(not args.no_elastix)
    pairs = sample_pairs(args.sample, args.max_pairs) + real_pairs()
    if not pairs:
        print("no pairs to register")
        return 1
    print(f"{'pair':52s} {'ours s':>7s} {'cpu s':>6s} {'TRE mm':>7s} {'quality':>7s}"
          + (f" {'elastix s':>9s} {'TRE mm':>7s} {'ratio':>6s}" if use_elastix else ""))
    rows = []
    for pair in pairs:
        wall, cpu, tre, quality = run_mdaread(pair)
        line = f"{pair.name[:52]:52s} {wall:7.2f} {cpu:6.2f} {tre:7.3f} {quality:>7s}"
        row = {"wall": wall, "tre": tre, "limit": pair.limit_mm, "kind": pair.kind}
        if use_elastix:
            if pair.name not in cache:
                cache[pair.name] = run_elastix(pair)
            e_wall, e_tre = cache[pair.name]
            row.update(e_wall=e_wall, e_tre=e_tre)
            line += f" {e_wall:9.2f} {e_tre:7.3f} {e_wall / wall:6.1f}"
        print(line, flush=True)
        rows.append(row)
    if args.elastix_cache is not None and cache:
        args.elastix_cache.write_text(json.dumps(cache, indent=1))
    _summary(rows, use_elastix)
    return 0


def _summary(rows: list[dict[str, Any]], use_elastix: bool) -> None:
    walls = [r["wall"] for r in rows]
    print(f"\nmdaread: {len(rows)} pairs, median {statistics.median(walls):.2f} s, "
          f"max {max(walls):.2f} s, {sum(w <= 1.0 for w in walls)}/{len(rows)} pairs ≤ 1 s; "
          f"within the TRE limit (1 mm CT-CT, 2 mm with MR): "
          f"{sum(r['tre'] <= r['limit'] for r in rows)}/{len(rows)}; "
          f"max TRE {max(r['tre'] for r in rows):.3f} mm")
    if use_elastix:
        e_walls = [r["e_wall"] for r in rows]
        ratios = [r["e_wall"] / r["wall"] for r in rows]
        print(f"elastix: median {statistics.median(e_walls):.2f} s, max TRE "
              f"{max(r['e_tre'] for r in rows):.3f} mm; elastix/mdaread time ratio median "
              f"{statistics.median(ratios):.1f} (min {min(ratios):.1f}); mdaread TRE ≤ elastix "
              f"TRE + 0.1 mm in {sum(r['tre'] <= r['e_tre'] + 0.1 for r in rows)}/{len(rows)} "
              "pairs")
    for kind in sorted({r["kind"] for r in rows}):
        _summary_line(kind, [r for r in rows if r["kind"] == kind], use_elastix)
    if len({r["kind"] for r in rows}) > 1:
        _summary_line("all", rows, use_elastix)


def _summary_line(kind: str, sub: list[dict[str, Any]], use_elastix: bool) -> None:
    """Median/max TRE and time of one kind of pair, and whether ours is no worse than elastix
    (median and max TRE both ≤ elastix's)."""
    tres, walls = [r["tre"] for r in sub], [r["wall"] for r in sub]
    line = (f"{kind:6s} ({len(sub):2d} pairs): ours TRE median/max "
            f"{statistics.median(tres):.3f}/{max(tres):.3f} mm, time median/max "
            f"{statistics.median(walls):.2f}/{max(walls):.2f} s")
    if use_elastix:
        e_tres = [r["e_tre"] for r in sub]
        e_med, e_max = statistics.median(e_tres), max(e_tres)
        verdict = ("no worse" if statistics.median(tres) <= e_med and max(tres) <= e_max
                   else "WORSE")
        line += (f"; elastix {e_med:.3f}/{e_max:.3f} mm, time median "
                 f"{statistics.median(r['e_wall'] for r in sub):.2f} s → ours {verdict}")
    print(line)


if __name__ == "__main__":
    sys.exit(main())
