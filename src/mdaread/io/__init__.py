"""DICOM ingestion (header-only scan → series candidates → Volume) and NIfTI in/out.

The only package importing pydicom and nibabel. Public API (see docs/contracts.md):
``scan_path``, ``load_series``, ``load_path``, ``write_nifti``, ``read_nifti``.
"""

from mdaread.io.load import load_path, load_series
from mdaread.io.nifti import read_nifti, write_nifti
from mdaread.io.scan import scan_path

__all__ = ["load_path", "load_series", "read_nifti", "scan_path", "write_nifti"]
