"""Scorecards through the API: standings, a vendor's scorecard, stored values with their
provenance and evidence, KPI definitions, disputes; recompute and dispute resolution for
client editors. Vendor users read only their own vendor's values, scores and disputes
(the same ``visible_to`` scoping as the pages)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.metrics import periods, services
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import Dispute, MetricValue, Score, ScorecardTemplate
from partnerscope.metrics.provenance import evidence_for
from partnerscope.metrics.scorecard import build_scorecard, latest_period
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Vendor

router = Router(tags=["scorecards"])
write = TokenAuth(perm=Perm.EDIT)


class PeriodParams(Schema):
    kind: str = Field("quarter", description='"month" or "quarter"')
    period: str | None = Field(None, description="2026-03 or 2026-Q1; default: the newest with values")
    template: str | None = Field(None, description="Scorecard template uid; default: the default template")


def _period(request, params: PeriodParams) -> tuple[str, datetime.date]:
    if params.kind not in periods.KINDS:
        raise ValidationError({"kind": 'Use "month" or "quarter".'})
    if params.period:
        try:
            return params.kind, periods.parse(params.kind, params.period)
        except ValueError as exc:
            raise ValidationError({"period": str(exc)}) from None
    return params.kind, latest_period(request.auth.organization_id, params.kind)


def _template(request, uid: str | None) -> ScorecardTemplate:
    templates = ScorecardTemplate.objects.visible_to(request.auth)
    template = templates.filter(uid=uid).first() if uid else templates.order_by("-is_default", "id").first()
    if template is None:
        raise Http404("No scorecard template.")
    return template


class ScoreOut(Schema):
    vendor: str = Field(description="Vendor uid")
    vendor_name: str
    period: str
    score: float | None = Field(description="0-100; null = no data (never scored as 0 or 100)")
    standing: str
    weight_with_data: int = Field(description="Weights of the criteria that had data, out of 100")
    sample: int


class MetricValueOut(Schema):
    uid: str
    kpi: str
    version: int = Field(description="Version of the KPI definition that computed it")
    vendor: str | None = Field(description="Vendor uid; null = in-house baseline")
    engagement: str | None = Field(description="Engagement uid; null = all engagements")
    period_kind: str
    period_start: datetime.date
    value: float | None = Field(description="Fractions for rates, hours for durations (see unit)")
    unit: str
    sample: int
    ci_low: float | None
    ci_high: float | None
    p75: float | None
    p90: float | None
    status: str = Field(description='"ok", "insufficient" (below the minimum sample) or "no_data"')
    digest: str = Field(description="Digest of the ids of the records counted")
    computed_at: datetime.datetime
    excluded: bool
    annotation: str


def _value_out(value, kpis, vendor_uid: str | None = None, engagement_uid: str | None = None) -> dict:
    """A stored value (a model instance with its vendor and engagement, or a scorecard's
    CardValue with their uids given)."""
    if isinstance(value, MetricValue):
        vendor_uid = value.vendor.uid if value.vendor_id else None
        engagement_uid = value.engagement.uid if value.engagement_id else None
    kpi = kpis.get(value.kpi)
    return {
        "uid": value.uid, "kpi": value.kpi, "version": value.version, "vendor": vendor_uid, "engagement": engagement_uid,
        "period_kind": value.period_kind, "period_start": value.period_start, "value": value.value,
        "unit": {"%": "fraction", "% a year": "fraction a year"}.get(kpi.unit, kpi.unit) if kpi else "",
        "sample": value.sample, "ci_low": value.ci_low, "ci_high": value.ci_high, "p75": value.p75, "p90": value.p90,
        "status": value.status, "digest": value.digest, "computed_at": value.computed_at,
        "excluded": value.excluded, "annotation": value.annotation,
    }  # fmt: skip


class CriterionOut(Schema):
    kpi: str
    name: str
    value: MetricValueOut | None
    shown: float | None = Field(
        description="The value in the unit of target and threshold (%, hours, days...)"
    )
    target: float
    threshold: float
    weight: int
    points: float | None
    included: bool
    reason: str = Field(description="Why the criterion is left out of the weighting, if it is")


class ScorecardOut(Schema):
    vendor: str
    template: str
    period: str
    engagement: str | None
    score: float | None
    standing: str
    weight_with_data: int
    criteria: list[CriterionOut]


class EvidenceRecordOut(Schema):
    label: str
    url: str
    when: datetime.datetime | datetime.date | None
    actor: str
    attribution: str
    hours: float | None


class EvidenceGroupOut(Schema):
    measure: str
    label: str
    count: int
    records: list[EvidenceRecordOut] = Field(description="At most the first 200")


class MetricValueDetailOut(MetricValueOut):
    verified: bool = Field(description="Whether today's evidence reproduces the stored digest")
    evidence: list[EvidenceGroupOut]


class KpiOut(Schema):
    key: str
    name: str
    version: int
    kind: str
    unit: str
    direction: int
    description: str
    source: str
    formula: str
    min_sample: int


class DisputeOut(Schema):
    uid: str
    value: str = Field(description="Metric value uid")
    comment: str
    status: str
    outcome: str
    reason: str
    created_at: datetime.datetime
    resolved_at: datetime.datetime | None


def _dispute_out(d: Dispute) -> dict:
    return {
        "uid": d.uid, "value": d.value.uid, "comment": d.comment, "status": d.status, "outcome": d.outcome,
        "reason": d.reason, "created_at": d.created_at, "resolved_at": d.resolved_at,
    }  # fmt: skip


class DisputeResolveIn(s.In):
    decision: str = Field(description='"upheld" or "rejected"')
    outcome: str = Field("", description='When upheld: "annotate" or "exclude" (left out of the score)')
    reason: str = Field(description="Read by the vendor")


class RecomputeIn(s.In):
    full: bool = Field(True, description="Everything (true) or only cells changed evidence marked (false)")


class RecomputeOut(Schema):
    uid: str
    full: bool
    status: str


ValuePage = s.page_of("MetricValuePage", MetricValueOut)
DisputePage = s.page_of("DisputePage", DisputeOut)


@router.get("/scores", response={200: list[ScoreOut], **s.ERRORS}, summary="Standings of every vendor")
def list_scores(request, params: Query[PeriodParams]):
    """The weighted score and standing of each vendor you may see, all engagements together."""
    kind, start = _period(request, params)
    template = _template(request, params.template)
    vendors = {v.id: v for v in Vendor.objects.visible_to(request.auth)}
    scores = Score.objects.visible_to(request.auth).filter(
        template=template,
        engagement_key=0,
        period_kind=kind,
        period_start=start,
        vendor_key__in=list(vendors),
    )
    return [
        {"vendor": vendors[x.vendor_key].uid, "vendor_name": vendors[x.vendor_key].name,
         "period": periods.label(kind, start), "score": x.score, "standing": x.standing,
         "weight_with_data": x.weight_with_data, "sample": x.sample}
        for x in scores.order_by("-score")
    ]  # fmt: skip


@router.get(
    "/vendors/{uid}/scorecard", response={200: ScorecardOut, **s.ERRORS}, summary="A vendor's scorecard"
)
def get_scorecard(request, uid: str, params: Query[PeriodParams], engagement: str | None = None):
    vendor = Vendor.objects.get_visible_or_404(request.auth, uid=uid)
    kind, start = _period(request, params)
    template = _template(request, params.template)
    engagement_id = 0
    if engagement:
        match = vendor.engagements.filter(uid=engagement).first()
        if match is None:
            raise ValidationError({"engagement": "No such engagement of this vendor."})
        engagement_id = match.id
    card = build_scorecard(request.auth, template, vendor.id, kind, start, engagement_id)
    kpis = catalogue(request.auth.organization_id)
    return {
        "vendor": vendor.uid, "template": template.uid, "period": card.label, "engagement": engagement,
        "score": card.score, "standing": card.standing, "weight_with_data": card.weight_with_data,
        "criteria": [
            {"kpi": r.kpi.key, "name": r.kpi.name,
             "value": _value_out(r.value, kpis, vendor.uid, engagement) if r.value else None,
             "shown": r.result.shown, "target": r.result.criterion.target,
             "threshold": r.result.criterion.threshold, "weight": r.result.criterion.weight,
             "points": r.result.points, "included": r.result.included, "reason": r.result.reason}
            for r in card.rows
        ],
    }  # fmt: skip


@router.get("/metric-values", response={200: ValuePage, **s.ERRORS}, summary="List stored metric values")
def list_metric_values(
    request, page: Query[s.PageParams], kpi: str | None = None, vendor: str | None = None,
    kind: str | None = None, since: datetime.date | None = None,
):  # fmt: skip
    """Values of all engagements and per engagement; ``vendor`` is a vendor uid."""
    qs = MetricValue.objects.visible_to(request.auth).select_related("vendor", "engagement").order_by("id")
    if kpi:
        qs = qs.filter(kpi=kpi)
    if vendor:
        # By the vendor's key, which the values' (organization, vendor key, period) index serves.
        vendor_ids = Vendor.objects.visible_to(request.auth).filter(uid=vendor).values("id")
        qs = qs.filter(vendor_key__in=vendor_ids)
    if kind:
        qs = qs.filter(period_kind=kind)
    if since:
        qs = qs.filter(period_start__gte=since)
    kpis = catalogue(request.auth.organization_id)
    return {
        "count": qs.count(),
        "items": [_value_out(v, kpis) for v in qs[page.offset : page.offset + page.limit]],
    }


@router.get(
    "/metric-values/{uid}",
    response={200: MetricValueDetailOut, **s.ERRORS},
    summary="A value and its evidence",
)
def get_metric_value(request, uid: str):
    value = MetricValue.objects.select_related("vendor", "engagement").get_visible_or_404(
        request.auth, uid=uid
    )
    kpis = catalogue(request.auth.organization_id)
    kpi = kpis.get(value.kpi)
    provenance = evidence_for(value, kpi) if kpi else None
    return {
        **_value_out(value, kpis),
        "verified": bool(provenance and provenance.verified),
        "evidence": [
            {
                "measure": g.name,
                "label": g.label,
                "count": g.count,
                "records": [r.__dict__ for r in g.records],
            }
            for g in (provenance.groups if provenance else [])
        ],
    }


@router.get("/kpis", response={200: list[KpiOut], **s.ERRORS}, summary="KPI definitions")
def list_kpis(request):
    return [
        {"key": k.key, "name": k.name, "version": k.version, "kind": k.kind, "unit": k.unit, "direction": k.direction,
         "description": k.description, "source": k.source, "formula": k.formula, "min_sample": k.min_sample}
        for k in catalogue(request.auth.organization_id).values()
    ]  # fmt: skip


@router.get("/disputes", response={200: DisputePage, **s.ERRORS}, summary="List disputes of metric values")
def list_disputes(request, page: Query[s.PageParams], status: str | None = None):
    qs = Dispute.objects.visible_to(request.auth).select_related("value").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return {
        "count": qs.count(),
        "items": [_dispute_out(d) for d in qs[page.offset : page.offset + page.limit]],
    }


@router.post(
    "/disputes/{uid}/resolve", auth=write, response={200: DisputeOut, 409: s.ErrorOut, **s.ERRORS},
    summary="Uphold or reject a dispute",
)  # fmt: skip
def resolve_dispute(request, uid: str, payload: DisputeResolveIn):
    dispute = Dispute.objects.select_related("value").get_visible_or_404(request.auth, uid=uid)
    if dispute.status != Dispute.Status.OPEN:
        return Status(409, {"detail": "This dispute is already resolved."})
    return _dispute_out(services.resolve_dispute(membership=request.auth, dispute=dispute, **payload.dict()))


@router.post(
    "/metrics/recompute", auth=write, response={202: RecomputeOut, 409: s.ErrorOut, **s.ERRORS},
    summary="Recompute metric values in the background",
)  # fmt: skip
def start_metrics_recompute(request, payload: RecomputeIn):
    try:
        run = services.start_recompute(membership=request.auth, full=payload.full)
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return Status(202, {"uid": run.uid, "full": run.full, "status": run.status})
