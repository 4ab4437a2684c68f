"""Header-only reading of DICOM files into per-frame records (no pixel data is read).

A classic image (CT/MR Image Storage) gives one :class:`FrameInfo`; an enhanced multi-frame image
gives one per frame, built from its shared and per-frame functional groups. Positions are patient
LPS mm (DICOM's patient frame), orientations are the six direction cosines of
ImageOrientationPatient (row direction then column direction).
"""

from __future__ import annotations

import functools
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from mdaread.errors import DicomError
from mdaread.io import checks
from mdaread.io.checks import BadValue, SkipFile
from mdaread.io.values import RawHeader, as_list, rounded
from mdaread.io.values import to_int as _int
from mdaread.model.phi_screen import HeaderIdentifiers, screen

# pydicom reports damaged values as UserWarnings on stderr; the scan reports every problem as a
# skip reason or a candidate warning instead, so the command line keeps its one-line errors.
warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\..*)?$")

# Transfer syntaxes whose pixel bytes can be read straight from the file with numpy.
NATIVE_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
UNDEFINED_LENGTH = 0xFFFFFFFF
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
PIXEL_DATA_TAGS = {(0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0009)}


@dataclass
class FrameInfo:
    """One 2-D frame: where it is (LPS mm), how it is stored, and the keys that split series.

    ``pixel_spacing`` is DICOM's (row spacing, column spacing) in mm, i.e. the step along j then
    along i. ``frame`` is the 0-based frame index in a multi-frame file, or None.
    ``pixel_offset`` is the byte offset of the Pixel Data element in the file (native
    little-endian syntaxes only; -1 otherwise).
    """

    path: Path
    frame: int | None
    series_uid: str
    rows: int
    columns: int
    position: tuple[float, float, float]
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, float]
    slope: float = 1.0
    intercept: float = 0.0
    # SliceThickness and SpacingBetweenSlices (mm) as written (possibly NaN or absurd: only a
    # single slice uses them, through checks.usable_step, with a warning when they are not)
    slice_thickness: float | None = None
    slice_step: float | None = None
    instance_number: int | None = None
    transfer_syntax: str = ""
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    n_frames: int = 1
    pixel_offset: int = -1
    enhanced: bool = False
    # Keys that separate volumes sharing one Series Instance UID.
    split_keys: dict[str, Any] = field(default_factory=dict)
    # Series-level description copied once per file (modality, description, UIDs …).
    series: dict[str, Any] = field(default_factory=dict)


def _looks_like_raw_dicom(path: Path) -> bool:
    """True when a file without the DICM preamble starts like a bare DICOM data set."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    # A bare data set (e.g. ACR-NEMA style) starts with an element of group 0x0008 or 0x0002,
    # little-endian; anything else (text, images) is not DICOM.
    return len(head) == 8 and head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0


def read_header(path: Path) -> tuple[Dataset, int, int]:
    """Read a file's header up to the pixel data; return (dataset, pixel offset, file size).

    Raises SkipFile with a one-line reason for files that are not DICOM or cannot be parsed.
    The pixel offset is where the pixel data element starts (file size when there is none).
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SkipFile("not a regular file")  # a FIFO or device would block the open()
        size = info.st_size
        with open(path, "rb") as fh:
            try:
                ds = pydicom.dcmread(fh, stop_before_pixels=True)
            except InvalidDicomError:
                if not _looks_like_raw_dicom(path):
                    raise SkipFile("not DICOM") from None
                fh.seek(0)
                ds = pydicom.dcmread(fh, stop_before_pixels=True, force=True)
            offset = fh.tell()
    except SkipFile:
        raise
    except PermissionError:
        raise SkipFile("unreadable: permission denied") from None
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from None
    except Exception as exc:  # pydicom raises many types on damaged headers
        raise SkipFile(f"damaged DICOM header ({type(exc).__name__}: {_short(exc)})") from None
    return ds, offset, size


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:120]


def frames_from_file(path: Path) -> list[FrameInfo]:
    """Header-only: every frame of one file, or SkipFile with the reason it is not loadable."""
    ds, offset, size = read_header(path)
    try:
        return _frames_from_dataset(path, ds, offset, size)
    except BadValue as exc:
        exc.series_uid = _series_uid(ds)
        raise
    except SkipFile:
        raise
    except Exception as exc:  # a malformed value deep in a header must not abort a scan
        bad = BadValue(f"damaged DICOM header ({type(exc).__name__}: {_short(exc)})")
        bad.series_uid = _series_uid(ds)
        raise bad from None


def _series_uid(ds: Dataset) -> str:
    """The Series Instance UID of a damaged header, when it can still be read ("" if not)."""
    try:
        return str(RawHeader(ds).get("SeriesInstanceUID", "")).strip()
    except Exception:
        return ""


def _frames_from_dataset(path: Path, ds: Dataset, offset: int, size: int) -> list[FrameInfo]:
    h = RawHeader(ds)
    sop_class = str(h.get("SOPClassUID", ""))
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not syntax:  # a bare data set without file meta: implicit VR little endian
        syntax = _syntax_from_encoding(ds)
    if sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        raise SkipFile("DICOMDIR index (not an image)")
    if sop_class.startswith(SECONDARY_CAPTURE_PREFIX):
        raise SkipFile("secondary capture (derived screenshot, not a volume slice)")
    image_type = [str(v).upper() for v in as_list(h.get("ImageType"))]
    if "LOCALIZER" in image_type:
        raise SkipFile("localizer (scout) image")
    if h.get("Rows") is None or h.get("Columns") is None:
        raise SkipFile("no pixel data (not an image)")
    checks.dimension(h.get("Rows"), "Rows")
    checks.dimension(h.get("Columns"), "Columns")
    _check_pixel_element(path, h, offset, size, syntax)
    problem = undecodable(syntax)
    if problem:
        raise SkipFile(problem)
    samples = _int(h.get("SamplesPerPixel", 1)) or 1
    if samples != 1:
        raise SkipFile(f"unsupported: colour image ({samples} samples per pixel)")
    photometric = str(h.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if not photometric.startswith("MONOCHROME"):
        raise SkipFile(f"unsupported: {photometric} image (not greyscale)")
    bits = _int(h.get("BitsAllocated", 16))
    if bits not in (8, 16, 32):
        raise SkipFile(f"unsupported: {bits} bits allocated per pixel")
    if "PerFrameFunctionalGroupsSequence" in ds:
        return _enhanced_frames(path, ds, h, offset, syntax)
    return [_classic_frame(path, ds, h, offset, syntax)]


@functools.lru_cache(maxsize=64)
def undecodable(syntax: str) -> str:
    """Why pixel data in ``syntax`` cannot be decoded here ("" when it can)."""
    if syntax in NATIVE_LITTLE_ENDIAN:
        return ""
    from pydicom.pixels import get_decoder

    name = pydicom.uid.UID(syntax).name if syntax else "unknown"
    try:
        available = get_decoder(syntax).is_available
    except NotImplementedError:
        return f"unsupported transfer syntax: {name} (no decoder exists)"
    except Exception:
        return f"unsupported transfer syntax: {name}"
    return "" if available else f"unsupported transfer syntax: {name} (decoder not installed)"


def _syntax_from_encoding(ds: Dataset) -> str:
    """The transfer syntax a file without file meta was actually read with."""
    implicit, little = ds.original_encoding
    if little:
        return "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1"
    return BIG_ENDIAN


def _check_pixel_element(
    path: Path, ds: RawHeader, offset: int, size: int, syntax: str
) -> None:
    """SkipFile when the pixel data element is absent; BadValue when it cannot hold what the
    header says: native data shorter than Rows × Columns × …, or cut off; native data stored
    encapsulated (undefined length), or compressed data not encapsulated (the transfer syntax
    does not describe the bytes, e.g. a rewritten TransferSyntaxUID)."""
    if syntax == DEFLATED:
        return  # the offset is inside the inflated stream; decoding will tell
    if offset >= size:
        raise SkipFile("no pixel data")
    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(16)
    if len(head) < 8:
        raise BadValue("truncated: pixel data element cut off")
    little = syntax != BIG_ENDIAN
    order: Any = "little" if little else "big"
    tag = (int.from_bytes(head[0:2], order), int.from_bytes(head[2:4], order))
    if tag not in PIXEL_DATA_TAGS:
        raise SkipFile("no pixel data")
    if tag != (0x7FE0, 0x0010):
        raise SkipFile("unsupported: floating-point pixel data")
    implicit = syntax == "1.2.840.10008.1.2"
    length = int.from_bytes(head[4:8] if implicit else head[8:12], order)
    start = offset + (8 if implicit else 12)
    name = pydicom.uid.UID(syntax).name if syntax else "unknown"
    if syntax not in NATIVE_LITTLE_ENDIAN and syntax != BIG_ENDIAN:
        if undecodable(syntax):
            return  # refused next, for its transfer syntax
        if length != UNDEFINED_LENGTH or head[12:16] != b"\xfe\xff\x00\xe0":
            raise BadValue(f"pixel data is not encapsulated as TransferSyntaxUID {name} "
                           "requires (compressed frames in items)")
        return
    if length == UNDEFINED_LENGTH:
        raise BadValue(f"pixel data is encapsulated (compressed) but TransferSyntaxUID says "
                       f"{name}")
    expected = _expected_bytes(ds)
    if length < expected:  # Rows × Columns × … larger than the pixel data: never allocate it
        raise BadValue(f"pixel data holds {length} bytes, Rows × Columns × frames × "
                       f"BitsAllocated needs {expected}")
    if size - start < expected:
        have = max(size - start, 0)
        raise BadValue(f"truncated: pixel data has {have} of {expected} bytes")


def _expected_bytes(ds: RawHeader) -> int:
    rows = _int(ds.get("Rows")) or 0
    cols = _int(ds.get("Columns")) or 0
    frames = _int(ds.get("NumberOfFrames", 1)) or 1
    bits = _int(ds.get("BitsAllocated", 16)) or 16
    samples = _int(ds.get("SamplesPerPixel", 1)) or 1
    return rows * cols * frames * samples * max(bits // 8, 1)


def _identifiers(ds: Dataset) -> HeaderIdentifiers:
    def text(keyword: str) -> str:
        try:
            return str(ds.get(keyword, "") or "")
        except Exception:  # a damaged value: nothing to screen for
            return ""

    try:
        others = [str(v).strip() for v in as_list(ds.get("OtherPatientIDs"))]
    except Exception:
        others = []
    return HeaderIdentifiers(
        patient_name=text("PatientName"),
        patient_ids=tuple(v.strip() for v in (text("PatientID"), text("AccessionNumber"), *others)
                          if v.strip()),
        birth_date=text("PatientBirthDate"))


def _screened_description(ds: Dataset) -> tuple[str, tuple[str, ...]]:
    """SeriesDescription without the header's identifiers and dates (mdaread.model.phi_screen):
    the workspace and its audit trail keep it, and neither can be rewritten."""
    raw = str(ds.get("SeriesDescription", "") or "")
    if not raw:
        return raw, ()
    result = screen(raw, _identifiers(ds))
    return result.text, result.removed


def _series_fields(ds: Dataset, h: RawHeader) -> dict[str, Any]:
    description, removed = _screened_description(ds)
    return {
        "modality": str(h.get("Modality", "")),
        "description": description,
        "description_removed": list(removed),
        "study_uid": str(h.get("StudyInstanceUID", "")),
        "frame_of_reference_uid": str(h.get("FrameOfReferenceUID", "")),
        "patient_id": str(ds.get("PatientID", "")),
        "study_date": str(h.get("StudyDate", "")),
        "series_number": _int(h.get("SeriesNumber")),
    }


def _base_keys(ds: RawHeader) -> dict[str, Any]:
    return {
        "series_number": _int(ds.get("SeriesNumber")),
        "acquisition": _int(ds.get("AcquisitionNumber")),
        "echo_number": _int(ds.get("EchoNumbers")),
        "echo_time": rounded(ds.get("EchoTime")),
        "temporal": _int(ds.get("TemporalPositionIdentifier")),
        "trigger_time": rounded(ds.get("TriggerTime")),
        "image_type": "\\".join(str(v) for v in as_list(ds.get("ImageType"))),
        "b_value": rounded(ds.get("DiffusionBValue")),
    }


def _pixel_format(ds: RawHeader) -> dict[str, int]:
    """BitsAllocated, BitsStored, PixelRepresentation and NumberOfFrames (FrameInfo fields)."""
    allocated = _int(ds.get("BitsAllocated", 16)) or 16
    return {
        "bits_allocated": allocated,
        "bits_stored": _int(ds.get("BitsStored", allocated)) or allocated,
        "pixel_representation": _int(ds.get("PixelRepresentation", 0)) or 0,
        "n_frames": _int(ds.get("NumberOfFrames", 1)) or 1,
    }


def _geometry(item: Dataset | RawHeader, what: str, path: Path) -> tuple[Any, Any, Any]:
    """Position, orientation and pixel spacing, each checked (BadValue names the tag)."""
    raw_position = item.get("ImagePositionPatient")
    raw_orientation = item.get("ImageOrientationPatient")
    if raw_position is None or raw_orientation is None:
        raise SkipFile(f"no image position/orientation{what} (not a volume slice)")
    if item.get("PixelSpacing") is None:
        raise SkipFile(f"no valid pixel spacing{what}")
    try:
        position = checks.position(raw_position)
        orientation = checks.orientation(raw_orientation)
        spacing = checks.pixel_spacing(item.get("PixelSpacing"))
    except BadValue as exc:
        raise BadValue(f"{exc}{what}") from None
    return position, orientation, spacing


def _classic_frame(
    path: Path, ds: Dataset, h: RawHeader, offset: int, syntax: str
) -> FrameInfo:
    position, orientation, spacing = _geometry(h, "", path)
    fmt = _pixel_format(h)
    if fmt["n_frames"] > 1:
        raise SkipFile(
            f"unsupported: {fmt['n_frames']}-frame image without per-frame functional groups"
        )
    return FrameInfo(
        path=path,
        frame=None,
        series_uid=str(h.get("SeriesInstanceUID", "")),
        rows=checks.dimension(h.get("Rows"), "Rows"),
        columns=checks.dimension(h.get("Columns"), "Columns"),
        position=position,
        orientation=orientation,
        pixel_spacing=(spacing[0], spacing[1]),
        slope=checks.rescale(h.get("RescaleSlope"), "RescaleSlope"),
        intercept=checks.rescale(h.get("RescaleIntercept"), "RescaleIntercept"),
        slice_thickness=checks.loose_float(h.get("SliceThickness")),
        slice_step=checks.loose_float(h.get("SpacingBetweenSlices")),
        instance_number=_int(h.get("InstanceNumber")),
        transfer_syntax=syntax,
        pixel_offset=offset if syntax in NATIVE_LITTLE_ENDIAN else -1,
        split_keys=_base_keys(h),
        series=_series_fields(ds, h),
        bits_allocated=fmt["bits_allocated"],
        bits_stored=fmt["bits_stored"],
        pixel_representation=fmt["pixel_representation"],
        n_frames=fmt["n_frames"],
    )


def _group_item(groups: Dataset | None, name: str) -> Dataset | None:
    if groups is None:
        return None
    seq = groups.get(name)
    if not seq:
        return None
    return seq[0]


def _functional(shared: Dataset | None, per_frame: Dataset, name: str) -> Dataset | None:
    """A functional group macro item: the per-frame one when present, else the shared one."""
    return _group_item(per_frame, name) or _group_item(shared, name)


def _enhanced_frames(
    path: Path, ds: Dataset, h: RawHeader, offset: int, syntax: str
) -> list[FrameInfo]:
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    per_frame_seq = ds.PerFrameFunctionalGroupsSequence
    fmt = _pixel_format(h)
    if len(per_frame_seq) != fmt["n_frames"]:
        raise SkipFile(
            f"damaged enhanced header: {len(per_frame_seq)} frame groups for "
            f"{fmt['n_frames']} frames"
        )
    series = _series_fields(ds, h)
    base = _base_keys(h)
    frames = []
    for index, item in enumerate(per_frame_seq):
        frames.append(_enhanced_frame(path, ds, shared, item, index, offset, syntax, fmt))
        frames[-1].series = series
        frames[-1].split_keys = {**base, **frames[-1].split_keys}
    return frames


def _enhanced_frame(
    path: Path, ds: Dataset, shared: Dataset | None, item: Dataset, index: int,
    offset: int, syntax: str, fmt: dict[str, int],
) -> FrameInfo:
    position_item = _functional(shared, item, "PlanePositionSequence")
    orientation_item = _functional(shared, item, "PlaneOrientationSequence")
    measures = _functional(shared, item, "PixelMeasuresSequence")
    if position_item is None or orientation_item is None or measures is None:
        raise SkipFile(f"no plane position/orientation for frame {index + 1}")
    geo = Dataset()
    geo.ImagePositionPatient = position_item.get("ImagePositionPatient")
    geo.ImageOrientationPatient = orientation_item.get("ImageOrientationPatient")
    geo.PixelSpacing = measures.get("PixelSpacing")
    position, orientation, spacing = _geometry(geo, f" for frame {index + 1}", path)
    transform = _functional(shared, item, "PixelValueTransformationSequence")
    content = _functional(shared, item, "FrameContentSequence") or Dataset()
    echo = _functional(shared, item, "MREchoSequence") or Dataset()
    frame_type = (
        _functional(shared, item, "MRImageFrameTypeSequence")
        or _functional(shared, item, "CTImageFrameTypeSequence")
        or Dataset()
    )
    keys = {
        "file": str(path),  # one enhanced file holds one acquisition: never merge two files
        "temporal": _int(content.get("TemporalPositionIndex")),
        "stack": str(content.get("StackID", "")),
        "echo_time": rounded(echo.get("EffectiveEchoTime")),
        "image_type": "\\".join(str(v) for v in frame_type.get("FrameType", [])),
    }
    slope = checks.rescale(transform.get("RescaleSlope"), "RescaleSlope") if transform else 1.0
    intercept = (checks.rescale(transform.get("RescaleIntercept"), "RescaleIntercept")
                 if transform else 0.0)
    return FrameInfo(
        path=path,
        frame=index,
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        rows=checks.dimension(ds.get("Rows"), "Rows"),
        columns=checks.dimension(ds.get("Columns"), "Columns"),
        position=position,
        orientation=orientation,
        pixel_spacing=(spacing[0], spacing[1]),
        slope=slope,
        intercept=intercept,
        slice_thickness=checks.loose_float(measures.get("SliceThickness")),
        slice_step=checks.loose_float(measures.get("SpacingBetweenSlices")),
        instance_number=_int(ds.get("InstanceNumber")),
        transfer_syntax=syntax,
        pixel_offset=offset if syntax in NATIVE_LITTLE_ENDIAN else -1,
        enhanced=True,
        split_keys=keys,
        bits_allocated=fmt["bits_allocated"],
        bits_stored=fmt["bits_stored"],
        pixel_representation=fmt["pixel_representation"],
        n_frames=fmt["n_frames"],
    )


def read_dicomdir(path: Path) -> list[Path]:
    """The image files a DICOMDIR references (paths relative to its folder), in record order."""
    try:
        ds = pydicom.dcmread(path, force=True)
        records = ds.DirectoryRecordSequence
    except Exception as exc:
        raise DicomError(f"{path}: cannot read DICOMDIR ({_short(exc)})") from None
    files = []
    for record in records:
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        files.append(path.parent.joinpath(*[str(p) for p in parts]))
    return files
