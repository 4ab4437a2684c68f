"""The fuzz test's seed corpus: small real series from ../shared/testdata, the repository's
sample_dicom/ and pydicom's own test files, each a list of file bytes (never modified here).

Every seed is read once per process and kept in memory; :mod:`fuzz_mutate` builds each case
from one seed (plus, for mixed folders, files of a second one)."""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pydicom

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("MDAREAD_TESTDATA")
                or REPO_ROOT.parent / "shared" / "testdata").resolve()  # as in conftest.py
SAMPLE = REPO_ROOT / "sample_dicom"
D2N = "dicom2nifti/tests/data"
CORNERSTONE = "cornerstoneWADOImageLoader/testImages"


@dataclass(frozen=True)
class Seed:
    """A real series (or single file): its name, weight in the draw and the files' bytes."""

    name: str
    weight: float
    files: tuple[tuple[str, bytes], ...]


def _first(folder: Path, count: int) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())[:count]


def _read(paths: list[Path]) -> tuple[tuple[str, bytes], ...]:
    return tuple((p.name, p.read_bytes()) for p in paths)


def _reencoded(paths: list[Path], implicit: bool) -> tuple[tuple[str, bytes], ...]:
    """Compressed files decoded and written natively (explicit or implicit VR little endian)."""
    out = []
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.decompress()
        if implicit:
            ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=False)
        out.append((path.name, buffer.getvalue()))
    return tuple(out)


def _testdata_seeds() -> list[Seed]:
    if not TESTDATA.is_dir():
        return []
    t = TESTDATA
    seeds = [
        Seed("d2n-non-isotropic", 3,
             _read(_first(t / D2N / "generic/anatomical/002_non_isotropic", 4))),
        Seed("hitachi-implicit", 3, _read(_first(t / D2N / "hitachi/anatomical/001", 4))),
        Seed("d2n-rle", 1, _read(_first(t / D2N / "generic/compressed_rle/001", 3))),
        Seed("d2n-jpegls", 1, _read(_first(t / D2N / "generic/compressed_jpegls/001", 3))),
        Seed("d2n-j2k", 1, _read(_first(t / D2N / "generic/compressed_j2k/001", 3))),
        Seed("d2n-jpeg-lossless", 1, _read(_first(t / D2N / "generic/compressed_jpeg/001", 3))),
        Seed("enhanced-xa10", 2, _read([t / "dcm_qa_enh/In/Siemens/XA10/6_1.dcm"])),
        Seed("enhanced-agfa", 1, _read([t / "dcm_qa_agfa/Agfa/011-0001.img"])),
        Seed("echoes", 1, _read(_first(t / "dcmstack/test/data/dcmstack/2D_16Echo_qT2", 4))),
        Seed("no-pixel-data", 0.3, _read([t / CORNERSTONE / "no-pixel-data.dcm"])),
        Seed("fragmented-jpeg", 0.5,
             _read([t / CORNERSTONE / "CT0012.fragmented_no_bot_jpeg_baseline.51.dcm"])),
    ]
    for path in sorted((t / CORNERSTONE).glob("CTImage.dcm*")):
        syntax = path.name.split("_")[-1].removesuffix(".dcm") if "_" in path.name else "implicit"
        seeds.append(Seed(f"ct-{syntax}", 0.25, _read([path])))
    return seeds


def _pydicom_seeds() -> list[Seed]:
    from pydicom.data import get_testdata_file

    seeds = []
    for name, weight in (("CT_small.dcm", 2), ("MR_small.dcm", 1), ("MR_truncated.dcm", 0.5),
                         ("no_meta.dcm", 0.5), ("MR_small_bigendian.dcm", 1),
                         ("MR_small_RLE.dcm", 0.5), ("JPEG2000.dcm", 0.5)):
        found = get_testdata_file(name, download=False)  # never the network (see testdata)
        if found:
            seeds.append(Seed(f"pydicom-{name.removesuffix('.dcm')}", weight,
                              _read([Path(str(found))])))
    return seeds


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[Seed, ...]:
    """Every seed available on this machine (the sample is always there)."""
    ct = _first(SAMPLE / "MDA-001" / "3m_CT", 5)
    seeds = [
        Seed("sample-ct-jpegls", 6, _read(ct)),
        Seed("sample-mr-jpegls", 2, _read(_first(SAMPLE / "MDA-002" / "1m_MR_T1", 4))),
        Seed("sample-ct-explicit", 5, _reencoded(ct, implicit=False)),
        Seed("sample-ct-implicit", 2, _reencoded(ct[:3], implicit=True)),
    ]
    return tuple(seeds + _testdata_seeds() + _pydicom_seeds())
