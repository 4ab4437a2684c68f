"""DICOM SR of one signed read: a TID 1500 Measurement Report (Comprehensive 3D SR, highdicom).

Content, per read (one subject × timepoint × reader):

- the observer (the reader's workspace account) and the procedure (CT or MR, unspecified region);
- one Measurement Group (TID 1501) per tracked lesion, with the TID 1502 time point context
  (label, baseline or post-treatment, order, days since treatment) and a tracking identifier
  ``<subject> lesion <id>`` whose UID is derived from trial, subject and lesion only — the same
  at every timepoint; the vertebral level as finding site (SNOMED CT vertebra codes; S1–S5 as
  sacrum); the long and perpendicular diameters as lengths (mm) with, when the measurement has
  end points, a SCOORD3D polyline through them in the source series' frame of reference and a
  reference to the image of that plane; phenotype, treated index, evaluability and signs as
  qualitative evaluations;
- one more group ``<subject> MDA response`` holding the timepoint's MDA category (Response
  Evaluation), the computed and final categories when they differ, the deciding rule, and the
  SPD with its change.

Codes outside DICOM's vocabularies use the local scheme ``99MDAREAD`` (identified in the SR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from highdicom.coding_schemes import CodingSchemeIdentificationItem
from highdicom.sr import (
    AlgorithmIdentification,
    CodedConcept,
    Comprehensive3DSR,
    CoordinatesForMeasurement3D,
    FindingSite,
    LongitudinalTemporalOffsetFromEvent,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    QualitativeEvaluation,
    SourceImageForMeasurementGroup,
    TimePointContext,
    TrackingIdentifier,
)
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from mdaread import __version__
from mdaread.criteria.vocabulary import RULE_HELP
from mdaread.export.dicom_common import (
    LOCAL_SCHEME,
    LOCAL_SCHEME_NAME,
    MANUFACTURER,
    Identity,
    deidentify,
    dicom_uid,
    evidence,
    local_code,
    person_name,
    safe_name,
)
from mdaread.model.references import Point, SeriesReference

SR_SERIES_NUMBER = 9001
CATEGORY_MEANINGS = {
    "CR": "Complete response (MDA)", "PR": "Partial response (MDA)",
    "SD": "Stable disease (MDA)", "PD": "Progressive disease (MDA)",
    "PDu": "Progressive disease, unconfirmed (MDA)", "NE": "Not evaluable (MDA)",
}
FINAL_MEANINGS = {
    "pdu_confirmed": "PDu confirmed as PD by a later timepoint",
    "pdu_resolved": "PDu resolved by a later timepoint",
    "pd_backdated": "PD backdated to the first PDu",
    "pd_carried_forward": "PD carried forward from an earlier timepoint",
}
MDA_METHOD = local_code("MDA", "MD Anderson bone response criteria")
TREATMENT_EVENT = local_code("treatment", "Radiofrequency ablation and vertebroplasty")
RESPONSE_EVALUATION = CodedConcept("112020", "DCM", "Response Evaluation")
COMPUTED_CATEGORY = local_code("computed", "Computed MDA category")
FINAL_CATEGORY = local_code("final", "Final MDA category")
DECIDING_RULE = local_code("rule", "Deciding rule")
SPD = local_code("spd", "Sum of products of diameters")
SPD_CHANGE = local_code("spd_change", "Change of SPD from the reference timepoint")
PHENOTYPE = local_code("phenotype", "Lesion phenotype")
TREATED_INDEX = local_code("treated_index", "Treated index lesion")
EVALUABLE = local_code("evaluable", "Lesion evaluable")
SIGN = local_code("sign", "Response sign")


@dataclass(frozen=True)
class SrLesion:
    """One tracked lesion at this read. Diameters mm; ``endpoints_lps``: long axis then
    perpendicular end points (four LPS mm points) or () when the read stored none;
    ``series_uid``: the series measured on ("" unknown)."""

    lesion_id: str
    level: str
    phenotype: str
    treated_index: bool
    evaluable: bool | None
    long_mm: float | None
    perp_mm: float | None
    method: str | None
    endpoints_lps: tuple[Point, ...]
    series_uid: str
    signs: tuple[str, ...]


@dataclass(frozen=True)
class SrRead:
    """One signed read as its SR tells it. ``order`` is the timepoint's 1-based protocol order,
    ``days`` since treatment; ``series`` the timepoint's source series (evidence)."""

    subject: str
    timepoint: str
    order: int
    is_baseline: bool
    days: int | None
    read_id: int
    purpose: str
    reader: str
    signed_at: str
    modality: str
    category: str | None
    computed_category: str | None
    final_category: str | None
    rule: str | None
    spd_mm2: float | None
    spd_change_pct: float | None
    lesions: tuple[SrLesion, ...]
    series: tuple[SeriesReference, ...]


def sr_file_name(read: SrRead) -> str:
    """``<subject>_<timepoint>_<purpose>_r<read id>.dcm`` from trial IDs and labels only."""
    return (f"{safe_name(read.subject)}_{safe_name(read.timepoint)}_{safe_name(read.purpose)}"
            f"_r{read.read_id}.dcm")


def lesion_tracking_uid(trial: str, subject: str, lesion_id: str) -> str:
    """The tracking UID of a lesion: the same at every timepoint and in every read."""
    return str(dicom_uid(trial, "lesion", subject, lesion_id))


def build_sr(read: SrRead, who: Identity) -> Comprehensive3DSR:
    """The SR document of ``read`` (ValueError when it has no source series to reference)."""
    if not read.series or not any(s.images for s in read.series):
        raise ValueError(f"{read.subject} {read.timepoint}: no source images to reference")
    context = _time_point(read)
    groups: list[MeasurementsAndQualitativeEvaluations] = [
        _lesion_group(read, lesion, who, context) for lesion in read.lesions]
    groups.append(_response_group(read, who, context))
    procedure = (codes.cid100.MRIUnspecifiedBodyRegion if read.modality == "MR"
                 else codes.cid100.CTUnspecifiedBodyRegion)
    report = MeasurementReport(
        observation_context=ObservationContext(observer_person_context=ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=PersonObserverIdentifyingAttributes(
                name=person_name(read.reader)))),
        procedure_reported=procedure, imaging_measurements=groups)
    files = [ds for s in read.series for ds in evidence(s, who)]
    sr = Comprehensive3DSR(
        evidence=files, content=report[0],
        # the SR joins the study of its first image (highdicom): one SR series per study
        series_instance_uid=dicom_uid(who.trial, "sr series", read.subject,
                                      files[0].StudyInstanceUID),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=dicom_uid(who.trial, "sr", read.subject, read.timepoint,
                                   read.read_id),
        instance_number=read.read_id,
        manufacturer=MANUFACTURER, is_complete=True, is_final=True, is_verified=True,
        verifying_observer_name=person_name(read.reader), verifying_organization=MANUFACTURER,
        series_description=f"MDA bone response {read.timepoint}"[:64],
        coding_schemes=[CodingSchemeIdentificationItem(
            designator=LOCAL_SCHEME, name=LOCAL_SCHEME_NAME)],
        software_versions=__version__)
    deidentify(sr, who, read.signed_at)
    return sr


def _time_point(read: SrRead) -> TimePointContext:
    offset = None
    if read.days is not None:
        offset = LongitudinalTemporalOffsetFromEvent(
            value=read.days, unit=codes.UCUM.Day, event_type=TREATMENT_EVENT)
    kind = codes.cid6146.Baseline if read.is_baseline else codes.cid6146.Posttreatment
    return TimePointContext(
        time_point=read.timepoint, time_point_type=kind, time_point_order=read.order,
        subject_time_point_identifier=f"{read.subject} {read.timepoint}"[:64],
        protocol_time_point_identifier=read.timepoint, temporal_offset_from_event=offset)


def vertebra_code(level: str) -> Code | None:
    """SNOMED CT code of a vertebra (``T5`` → 56401006 T5 vertebra); the sacrum for S1–S5."""
    if level.startswith("S"):
        return codes.SCT.Sacrum
    try:
        return getattr(codes.SCT, f"{level}Vertebra")
    except AttributeError:
        return None


def _yes_no(value: bool) -> Code:
    return codes.SCT.Yes if value else codes.SCT.No


def _lesion_group(read: SrRead, lesion: SrLesion, who: Identity,
                  context: TimePointContext) -> MeasurementsAndQualitativeEvaluations:
    series = _series_of(read, lesion)
    coordinates = len(lesion.endpoints_lps) == 4 and series is not None
    measurements = []
    for name, value, ends in ((codes.SCT.LongAxis, lesion.long_mm, lesion.endpoints_lps[:2]),
                              (codes.SCT.PerpendicularAxis, lesion.perp_mm,
                               lesion.endpoints_lps[2:4])):
        if value is None:
            continue
        where = None
        if coordinates and series is not None:
            where = [CoordinatesForMeasurement3D(
                graphic_type="POLYLINE", graphic_data=np.asarray(ends, dtype=np.float64),
                frame_of_reference_uid=series.frame_of_reference_uid)]
        measurements.append(Measurement(name=name, value=float(value),
                                        unit=codes.UCUM.Millimeter,
                                        referenced_coordinates=where))
    evaluations = [QualitativeEvaluation(TREATED_INDEX, _yes_no(lesion.treated_index))]
    if lesion.phenotype:
        evaluations.append(QualitativeEvaluation(
            PHENOTYPE, local_code(lesion.phenotype, lesion.phenotype)))
    if lesion.evaluable is not None:
        evaluations.append(QualitativeEvaluation(EVALUABLE, _yes_no(lesion.evaluable)))
    for sign in lesion.signs:
        evaluations.append(QualitativeEvaluation(SIGN, local_code(sign,
                                                                  sign.replace("_", " "))))
    images = None
    if coordinates and series is not None and series.images:
        middle = _middle(lesion.endpoints_lps)
        image = series.nearest_image(middle)
        images = [SourceImageForMeasurementGroup(image.sop_class_uid, image.sop_instance_uid)]
    site = vertebra_code(lesion.level)
    algorithm = None
    if lesion.method == "semi-auto":
        algorithm = AlgorithmIdentification(name="mdaread seeded segmentation",
                                            version=__version__)
    return MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(
            uid=lesion_tracking_uid(who.trial, read.subject, lesion.lesion_id),
            identifier=f"{read.subject} lesion {lesion.lesion_id}"[:64]),
        time_point_context=context, finding_type=codes.SCT.Lesion, method=MDA_METHOD,
        algorithm_id=algorithm,
        finding_sites=[FindingSite(site)] if site is not None else None,
        measurements=measurements or None, qualitative_evaluations=evaluations,
        source_images=images)


def _series_of(read: SrRead, lesion: SrLesion) -> SeriesReference | None:
    """The series a lesion was measured on: its own, else the read's only one."""
    for series in read.series:
        if lesion.series_uid and series.series_uid == lesion.series_uid:
            return series
    return read.series[0] if len(read.series) == 1 and not lesion.series_uid else None


def _middle(points: Sequence[Point]) -> Point:
    n = len(points)
    return (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n,
            sum(p[2] for p in points) / n)


def _category(code: str) -> CodedConcept:
    return local_code(code, CATEGORY_MEANINGS.get(code, code))


def _response_group(read: SrRead, who: Identity,
                    context: TimePointContext) -> MeasurementsAndQualitativeEvaluations:
    evaluations = []
    if read.category:
        evaluations.append(QualitativeEvaluation(RESPONSE_EVALUATION, _category(read.category)))
    if read.computed_category and read.computed_category != read.category:
        evaluations.append(QualitativeEvaluation(COMPUTED_CATEGORY,
                                                 _category(read.computed_category)))
    if read.final_category and read.final_category != read.category:
        evaluations.append(QualitativeEvaluation(FINAL_CATEGORY, _category(read.final_category)))
    if read.rule:
        meaning = RULE_HELP.get(read.rule) or FINAL_MEANINGS.get(read.rule) or read.rule
        evaluations.append(QualitativeEvaluation(DECIDING_RULE, local_code(read.rule, meaning)))
    measurements = []
    if read.spd_mm2 is not None:
        measurements.append(Measurement(name=SPD, value=read.spd_mm2,
                                        unit=codes.UCUM.SquareMillimeter))
    if read.spd_change_pct is not None:
        measurements.append(Measurement(name=SPD_CHANGE, value=read.spd_change_pct,
                                        unit=codes.UCUM.Percent))
    return MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(
            uid=dicom_uid(who.trial, "response", read.subject),
            identifier=f"{read.subject} MDA response"[:64]),
        time_point_context=context, method=MDA_METHOD, measurements=measurements or None,
        qualitative_evaluations=evaluations or None)
