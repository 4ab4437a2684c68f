"""Load a 512×512×300 int16 CT series with mdaread, SimpleITK and dcm2niix; print ratios.

    .venv/bin/python benchmarks/load.py [--rounds 7] [--slices 300]

The series is written once with plain pydicom (uncompressed, explicit VR little endian) into
benchmarks/_data/ (gitignored). mdaread (scan_path + load_series: every header and every pixel)
and SimpleITK (GetGDCMSeriesFileNames + ImageSeriesReader) alternate in this process; dcm2niix
(`-z n`, uncompressed NIfTI) runs as a subprocess. Medians of the rounds are compared; the machine
may be shared, so read ratios, not absolute times. Targets: mdaread ≤ 1.0× SimpleITK and
≤ 1.5× dcm2niix.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SIZE = 512


def generate(folder: Path, slices: int) -> None:
    """Write the CT series with pydicom (once; a marker file says it is complete)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    marker = folder / ".complete"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    body = ((xx - 256) / 200.0) ** 2 + ((yy - 256) / 150.0) ** 2 < 1.0
    series_uid, study_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    for k in range(slices):
        image = np.where(body, 1064, 24).astype(np.int16)  # stored = HU + 1024
        image += rng.integers(-20, 20, size=image.shape, dtype=np.int16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientID = "BENCH-001"
        ds.PatientName = "BENCH-001"
        ds.StudyDate, ds.StudyTime = "20260101", "120000"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImagePositionPatient = [-250.0, -250.0, -300.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.9765625, 0.9765625]
        ds.SliceThickness = 1.25
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1
        ds.PixelData = image.tobytes()
        ds.save_as(folder / f"IM{k + 1:04d}.dcm", enforce_file_format=True)
    marker.write_text("ok\n")


def load_mdaread(folder: Path) -> np.ndarray:
    from mdaread.io import load_series, scan_path

    result = scan_path(folder)
    return load_series(result.series[0]).array


def load_sitk(folder: Path) -> np.ndarray:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return sitk.GetArrayFromImage(reader.Execute())


def dcm2niix_binary() -> str:
    local = Path(sys.executable).parent / "dcm2niix"
    found = str(local) if local.exists() else shutil.which("dcm2niix")
    if not found:
        raise SystemExit("dcm2niix not found (pip install dcm2niix)")
    return found


def run_dcm2niix(folder: Path, binary: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "-z", "n", "-b", "n", "-f", "bench", "-o", out, str(folder)],
                       check=True, capture_output=True)


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()
    folder = DATA / f"ct{SIZE}x{args.slices}"
    generate(folder, args.slices)
    binary = dcm2niix_binary()
    ours, theirs = load_mdaread(folder), load_sitk(folder)  # warm the page cache, check values
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert np.array_equal(ours.astype(np.int32), theirs.astype(np.int32)), "values differ"
    times: dict[str, list[float]] = {
        "mdaread": [], "SimpleITK": [], "dcm2niix": [], "load only": [],
    }
    from mdaread.io import load_series, scan_path

    candidate = scan_path(folder).series[0]
    for _ in range(args.rounds):
        times["mdaread"].append(timed(lambda: load_mdaread(folder)))
        times["load only"].append(timed(lambda: load_series(candidate)))
        times["SimpleITK"].append(timed(lambda: load_sitk(folder)))
        times["dcm2niix"].append(timed(lambda: run_dcm2niix(folder, binary)))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"series: {args.slices} × {SIZE}×{SIZE} int16, explicit VR LE, {folder}")
    for name, value in median.items():
        spread = f"{min(times[name]):.3f}–{max(times[name]):.3f}"
        print(f"{name:10s} median {value:.3f} s  (range {spread} s, {args.rounds} rounds)")
    print("(mdaread = scan_path + load_series; 'load only' = load_series on a scanned candidate)")
    print(f"mdaread / SimpleITK = {median['mdaread'] / median['SimpleITK']:.2f}  (target ≤ 1.0)")
    print(f"mdaread / dcm2niix  = {median['mdaread'] / median['dcm2niix']:.2f}  (target ≤ 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
