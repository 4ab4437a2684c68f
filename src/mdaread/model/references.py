"""What a DICOM object written by mdaread needs to know of its source images: identifiers and
geometry only. numpy-free, stdlib only.

These records are deliberately narrow: they carry UIDs, dates and geometry, never a name, an ID
or free text from the source headers, so nothing identifying can travel from a source header into
an export through them (the export writes pseudonymous identities of its own).
Positions are patient LPS mm; orientations are ImageOrientationPatient's six direction cosines.
"""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float, float]


@dataclass(frozen=True)
class ImageReference:
    """One source image (a single-frame CT/MR Image object)."""

    sop_class_uid: str
    sop_instance_uid: str
    instance_number: int | None
    position_lps: Point


@dataclass(frozen=True)
class SeriesReference:
    """One source series: its identifiers, its grid and its images in slice order.

    ``images`` are sorted along the slice normal (increasing ``k`` of the series' Volume, the
    order in which io loads it). ``pixel_spacing`` is DICOM's (row spacing, column spacing) mm.
    ``study_date`` is ``YYYYMMDD`` ("" when absent), ``study_time`` ``HHMMSS[.ffffff]`` ("").
    """

    series_uid: str
    study_uid: str
    frame_of_reference_uid: str
    modality: str
    series_number: int | None
    study_date: str
    study_time: str
    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    orientation: tuple[float, float, float, float, float, float]
    slice_thickness: float | None
    images: tuple[ImageReference, ...]

    @property
    def normal(self) -> Point:
        """The slice normal (row direction × column direction)."""
        r, c = self.orientation[:3], self.orientation[3:]
        return (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])

    def nearest_image(self, point: Point) -> ImageReference:
        """The image whose plane is nearest to ``point`` (LPS mm) along the slice normal."""
        n = self.normal

        def distance(image: ImageReference) -> float:
            p = image.position_lps
            return abs(sum((point[i] - p[i]) * n[i] for i in range(3)))

        return min(self.images, key=distance)
