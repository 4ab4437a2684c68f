"""Write a Volume as a DICOM series (one single-frame CT or MR Image Storage object per slice).

Used by the synthetic sample trial and the benchmarks. Geometry comes from the Volume's affine
(``(i, j, k, 1)`` → LPS mm): ImageOrientationPatient is the unit i (row) and j (column)
directions, ImagePositionPatient of slice k is the affine applied to ``(0, 0, k)``, PixelSpacing is
``[row spacing (j), column spacing (i)]``. Files are written with their file meta, in explicit VR
little endian, or losslessly compressed (RLE Lossless or JPEG-LS Lossless) when asked.

CT values are stored unsigned as HU + 1024 in 12 bits (RescaleIntercept −1024, slope 1); MR values
are stored as they are (unsigned 12 bits, no rescale).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEGLSLossless,
    MRImageStorage,
    RLELossless,
)

from mdaread.errors import InputError
from mdaread.model.volume import Volume

COMPRESSIONS = {"none": ExplicitVRLittleEndian, "rle": RLELossless, "jpegls": JPEGLSLossless}
CT_OFFSET = 1024  # stored = HU + 1024, so −1024 … 3071 HU fits 12 unsigned bits


def derived_uid(*parts: object) -> str:
    """A DICOM UID under the 2.25 root (ISO/IEC 9834-8) derived from ``parts`` by SHA-256, so
    the same inputs always give the same UID (≤ 64 characters)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


# Fixed, not pydicom's (which carries its version): files stay byte-identical across upgrades.
IMPLEMENTATION_UID = UID(derived_uid("mdaread", "implementation class"))


@dataclass
class SeriesInfo:
    """Identifiers and dates shared by every object of one series.

    Dates are ``YYYYMMDD``, times ``HHMMSS``. ``sop_uid`` maps a 1-based instance number to that
    slice's SOP Instance UID (default: derived from the series UID). ``mr`` holds the MR
    acquisition attributes (ScanningSequence, SequenceVariant, RepetitionTime, EchoTime, …).
    """

    patient_id: str
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    study_date: str
    study_time: str
    series_number: int
    series_description: str
    study_id: str = "1"
    accession_number: str = ""
    institution: str = ""
    window: tuple[float, float] = (400.0, 1800.0)  # centre, width
    slice_thickness: float | None = None
    spacing_between_slices: float | None = None
    sop_uid: Callable[[int], str] | None = None
    mr: dict[str, object] = field(default_factory=dict)


def write_ct_series(volume: Volume, folder: str | Path, info: SeriesInfo,
                    compression: str = "none") -> list[Path]:
    """Write ``volume`` (HU, integer-valued, −1024…3071) as CT Image Storage files
    ``IM_0001.dcm`` … in ``folder`` (created). Returns the paths in slice order."""
    hu = np.asarray(volume.array)
    if hu.min() < -CT_OFFSET or hu.max() > 4095 - CT_OFFSET:
        raise InputError(f"{folder}: CT values outside −1024…3071 HU cannot be stored in 12 bits")
    stored = (np.rint(hu).astype(np.int32) + CT_OFFSET).astype(np.uint16)
    ds = _base_dataset(volume, info, CTImageStorage, "CT")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.KVP = "120"
    ds.AcquisitionNumber = 1
    ds.RescaleIntercept = str(-CT_OFFSET)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.ConvolutionKernel = "STANDARD"
    return _write_slices(ds, volume, stored, Path(folder), info, compression)


def write_mr_series(volume: Volume, folder: str | Path, info: SeriesInfo,
                    compression: str = "none") -> list[Path]:
    """Write ``volume`` (non-negative integers ≤ 4095) as MR Image Storage files in ``folder``.
    ``info.mr`` supplies the sequence attributes; sensible spin-echo defaults fill the rest."""
    values = np.asarray(volume.array)
    if values.min() < 0 or values.max() > 4095:
        raise InputError(f"{folder}: MR values outside 0…4095 cannot be stored in 12 bits")
    stored = np.rint(values).astype(np.uint16)
    ds = _base_dataset(volume, info, MRImageStorage, "MR")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    mr: dict[str, object] = {
        "ScanningSequence": "SE", "SequenceVariant": "SK", "ScanOptions": "",
        "MRAcquisitionType": "2D", "RepetitionTime": "500", "EchoTime": "10",
        "EchoTrainLength": "3", "ImagedNucleus": "1H", "MagneticFieldStrength": "1.5",
        "AcquisitionNumber": 1,
    }
    mr.update(info.mr)
    for keyword, value in mr.items():
        setattr(ds, keyword, value)
    if info.spacing_between_slices is not None:
        ds.SpacingBetweenSlices = _ds(info.spacing_between_slices)
    return _write_slices(ds, volume, stored, Path(folder), info, compression)


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _base_dataset(volume: Volume, info: SeriesInfo, sop_class: str, modality: str) -> Dataset:
    """Patient, study, series, frame of reference, equipment, plane and pixel attributes."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.PatientName = info.patient_id  # pseudonymous: the trial ID, never a real name
    ds.PatientID = info.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "synthetic phantom, pseudonymous trial ID"
    ds.StudyInstanceUID = info.study_uid
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = info.study_date
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = info.study_time
    ds.ReferringPhysicianName = ""
    ds.StudyID = info.study_id
    ds.AccessionNumber = info.accession_number
    ds.StudyDescription = "SPINE"
    ds.Modality = modality
    ds.SeriesInstanceUID = info.series_uid
    ds.SeriesNumber = info.series_number
    ds.SeriesDescription = info.series_description
    ds.BodyPartExamined = "SPINE"
    ds.PatientPosition = "HFS"
    ds.FrameOfReferenceUID = info.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "mdaread synthetic phantom"
    ds.InstitutionName = info.institution
    ds.ManufacturerModelName = "mdaread sample"
    direction = volume.direction
    ds.ImageOrientationPatient = [_ds(v) for v in (*direction[:, 0], *direction[:, 1])]
    sx, sy, sz = volume.spacing
    ds.PixelSpacing = [_ds(sy), _ds(sx)]
    ds.SliceThickness = _ds(info.slice_thickness if info.slice_thickness is not None else sz)
    ds.WindowCenter = _ds(info.window[0])
    ds.WindowWidth = _ds(info.window[1])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.LossyImageCompression = "00"
    return ds


def _write_slices(ds: Dataset, volume: Volume, stored: np.ndarray, folder: Path,
                  info: SeriesInfo, compression: str) -> list[Path]:
    """Fill the per-slice attributes into the one dataset and save each slice."""
    if compression not in COMPRESSIONS:
        raise InputError(f"unknown compression {compression!r}; use one of {sorted(COMPRESSIONS)}")
    folder.mkdir(parents=True, exist_ok=True)
    normal = np.cross(volume.direction[:, 0], volume.direction[:, 1])
    sop_class = str(ds.SOPClassUID)
    paths = []
    encoder: _SliceEncoder | None = None
    for k in range(volume.shape[0]):
        number = k + 1
        if info.sop_uid is not None:
            sop_uid = info.sop_uid(number)
        else:
            sop_uid = derived_uid(info.series_uid, "instance", number)
        position = volume.index_to_world([0.0, 0.0, float(k)])
        ds.SOPInstanceUID = sop_uid
        ds.InstanceNumber = number
        ds.ImagePositionPatient = [_ds(v) for v in position]
        ds.SliceLocation = _ds(float(position @ normal))
        ds.file_meta = _file_meta(sop_class, sop_uid)
        _set_pixels(ds, np.ascontiguousarray(stored[k]), compression)
        encoder = encoder or _SliceEncoder(ds)
        path = folder / f"IM_{number:04d}.dcm"
        path.write_bytes(encoder.file_bytes(ds))
        paths.append(path)
    return paths


_PER_SLICE = ("SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "SliceLocation",
              "PixelData")


def _encode(dataset: Dataset) -> bytes:
    """Elements of ``dataset`` in explicit VR little endian (no file meta, no preamble)."""
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, dataset)
    return fp.getvalue()


class _SliceEncoder:
    """Writes the files of one series fast: the elements every slice shares are encoded once,
    only the per-slice ones (_PER_SLICE) for each file. The bytes are exactly those of
    ``Dataset.save_as(path, enforce_file_format=True)``."""

    def __init__(self, ds: Dataset) -> None:
        self.tags = sorted(ds.data_element(keyword).tag for keyword in _PER_SLICE)  # type: ignore[union-attr]
        runs: list[Dataset] = [Dataset()]
        for element in ds:  # in tag order
            if element.tag in self.tags:
                runs.append(Dataset())
            else:
                runs[-1].add(element)
        self.shared = [_encode(run) for run in runs]

    def file_bytes(self, ds: Dataset) -> bytes:
        meta = DicomBytesIO()
        meta.is_little_endian, meta.is_implicit_VR = True, False
        write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
        parts = [b"\0" * 128, b"DICM", meta.getvalue()]
        for shared, tag in zip(self.shared, self.tags, strict=False):
            single = Dataset()
            single.add(ds[tag])
            parts += [shared, _encode(single)]
        parts.append(self.shared[-1])
        return b"".join(parts)


def _set_pixels(ds: Dataset, pixels: np.ndarray, compression: str) -> None:
    """Store one slice, encoded as asked. An encoder that cannot shrink a slice (tiny or pure
    noise: CharLS then refuses with "destination buffer too small") leaves that slice in explicit
    VR little endian — still lossless, and a series may mix transfer syntaxes."""
    if compression != "none":
        try:
            ds.compress(COMPRESSIONS[compression], pixels, generate_instance_uid=False)
            return
        except (RuntimeError, ValueError):
            pass
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OW"
    ds["PixelData"].is_undefined_length = False


def _file_meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    """The file meta group (Part 10 header) of one object."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian  # compress() replaces it when asked
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MDAREAD_SAMPLE"
    return meta
