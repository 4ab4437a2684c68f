"""Header-only reading of a series' identifiers and geometry for the DICOM objects mdaread
writes (SR, SEG): :class:`mdaread.model.references.SeriesReference`.

Only UIDs, dates, times and geometry are read; nothing else of the source headers leaves this
module, so names, IDs and descriptions can never reach an export through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mdaread.errors import DicomError
from mdaread.io import checks
from mdaread.io.checks import SkipFile
from mdaread.io.headers import read_header
from mdaread.io.values import RawHeader
from mdaread.io.values import to_int as _int
from mdaread.model.references import ImageReference, SeriesReference


def _text(h: RawHeader, keyword: str) -> str:
    value = h.get(keyword, "")
    return value if isinstance(value, str) else ""


def read_series_reference(paths: Sequence[str | Path], series_uid: str) -> SeriesReference:
    """The reference record of the single-frame images ``paths`` of series ``series_uid``.

    DicomError (one line, naming the file) for an unreadable file, a file of another series, a
    multi-frame image, or images that do not share one grid (rows, columns, spacing,
    orientation, frame of reference).
    """
    if not paths:
        raise DicomError(f"series {series_uid}: no image files")
    images: list[ImageReference] = []
    first: SeriesReference | None = None
    for raw_path in paths:
        path = Path(raw_path)
        try:
            ds, _, _ = read_header(path)
            h = RawHeader(ds)
            if _text(h, "SeriesInstanceUID") != series_uid:
                raise SkipFile(f"belongs to series {_text(h, 'SeriesInstanceUID')!r}, "
                               f"not {series_uid}")
            if (_int(h.get("NumberOfFrames", 1)) or 1) > 1:
                raise SkipFile("multi-frame image (only single-frame series are referenced)")
            sop_uid, sop_class = _text(h, "SOPInstanceUID"), _text(h, "SOPClassUID")
            if not sop_uid or not sop_class:
                raise SkipFile("no SOP Instance UID or SOP Class UID")
            position = checks.position(h.get("ImagePositionPatient"))
            here = SeriesReference(
                series_uid=series_uid, study_uid=_text(h, "StudyInstanceUID"),
                frame_of_reference_uid=_text(h, "FrameOfReferenceUID"),
                modality=_text(h, "Modality"), series_number=_int(h.get("SeriesNumber")),
                study_date=_text(h, "StudyDate"), study_time=_text(h, "StudyTime"),
                rows=checks.dimension(h.get("Rows"), "Rows"),
                columns=checks.dimension(h.get("Columns"), "Columns"),
                pixel_spacing=checks.pixel_spacing(h.get("PixelSpacing")),
                orientation=_six(checks.orientation(h.get("ImageOrientationPatient"))),
                slice_thickness=checks.loose_float(h.get("SliceThickness")), images=())
        except SkipFile as exc:
            raise DicomError(f"{path}: {exc}") from None
        if first is None:
            first = here
        elif _grid(here) != _grid(first):
            raise DicomError(f"{path}: not on the grid of the other images of series "
                             f"{series_uid} (rows, columns, spacing, orientation or frame of "
                             "reference differ)")
        images.append(ImageReference(sop_class, sop_uid, _int(h.get("InstanceNumber")),
                                     position))
    assert first is not None
    n = first.normal
    images.sort(key=lambda im: sum(im.position_lps[i] * n[i] for i in range(3)))
    uids = [im.sop_instance_uid for im in images]
    if len(set(uids)) != len(uids):
        raise DicomError(f"series {series_uid}: two files share one SOP Instance UID")
    return SeriesReference(**{**first.__dict__, "images": tuple(images)})


def _six(values: Sequence[float]) -> tuple[float, float, float, float, float, float]:
    a, b, c, d, e, f = (float(v) for v in values)
    return (a, b, c, d, e, f)


def _grid(ref: SeriesReference) -> tuple[object, ...]:
    return (ref.rows, ref.columns, ref.pixel_spacing, tuple(round(v, 4) for v in ref.orientation),
            ref.frame_of_reference_uid, ref.study_uid)
