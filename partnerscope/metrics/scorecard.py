"""A vendor's scorecard and the side-by-side comparison, built from stored values only.

The page, the API and the CSV/XLSX export all read these structures, so they always agree.
Each builder issues a fixed number of queries whatever the number of criteria or periods.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count
from django.db.models.fields.json import KeyTransform

from partnerscope.metrics import periods
from partnerscope.metrics.columns import fetch_rows
from partnerscope.metrics.kpis import Kpi, catalogue
from partnerscope.metrics.models import Criterion, Dispute, MetricValue, Score, ScorecardTemplate
from partnerscope.metrics.scoring import CriterionResult, score_cell

TREND_PERIODS = 12


class CardValue(NamedTuple):
    """The fields of a stored value a scorecard shows, exports and returns through the API (a
    card reads twelve periods of values: plain tuples, not model instances)."""

    id: int
    uid: str
    kpi: str
    version: int
    period_kind: str
    period_start: datetime.date
    value: float | None
    sample: int
    ci_low: float | None
    ci_high: float | None
    p75: float | None
    p90: float | None
    status: str
    digest: str
    computed_at: datetime.datetime
    excluded: bool
    annotation: str


@dataclass
class Row:
    kpi: Kpi
    result: CriterionResult
    trend: list[dict]
    open_disputes: int = 0
    chart: str = ""

    @property
    def value(self) -> CardValue | None:
        return self.result.value


@dataclass
class Scorecard:
    template: ScorecardTemplate
    vendor_id: int
    engagement_id: int
    kind: str
    start: datetime.date
    score: float | None
    standing: str
    weight_with_data: int
    rows: list[Row]
    score_trend: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return periods.label(self.kind, self.start)

    @property
    def left_out(self) -> list[Row]:
        return [r for r in self.rows if not r.result.included]


def latest_period(organization_id: int, kind: str) -> datetime.date:
    """The newest period the last recompute found evidence in, or the current one. Read from
    the all-engagement cells (through their unique index, a few thousand entries) rather than
    from the values (an ordered scan of every value cost 60 ms at sixty vendors)."""
    from partnerscope.metrics.models import CellMeasures

    newest = (
        CellMeasures.objects.filter(organization_id=organization_id, engagement_key=0, period_kind=kind)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    return newest or periods.start_of(kind, datetime.date.today())


def build_scorecard(
    membership,
    template: ScorecardTemplate,
    vendor_id: int,
    kind: str,
    start: datetime.date,
    engagement_id: int = 0,
) -> Scorecard:
    criteria = list(Criterion.objects.filter(template=template))
    kpis = catalogue(membership.organization_id, [c.kpi for c in criteria])
    window = periods.trailing(kind, start, TREND_PERIODS)
    values = (
        MetricValue.objects.visible_to(membership)
        .filter(
            vendor_key=vendor_id, engagement_key=engagement_id, period_kind=kind, period_start__in=window,
            kpi__in=[c.kpi for c in criteria],
        )
    )  # fmt: skip
    by_period: dict[datetime.date, dict[str, CardValue]] = {p: {} for p in window}
    for value in map(CardValue._make, values.values_list(*CardValue._fields)):
        by_period[value.period_start][value.kpi] = value
    result = score_cell(criteria, by_period[start], kpis, template.bands)
    # Open disputes of the period shown, counted in one query (a prefetch built a queryset per
    # value of all twelve periods).
    open_disputes = dict(
        Dispute.objects.filter(
            value__in=[v.id for v in by_period[start].values()], status=Dispute.Status.OPEN
        )
        .values_list("value_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for criterion_result in result.rows:
        criterion = criterion_result.criterion
        kpi = kpis.get(criterion.kpi)
        if kpi is None:
            continue
        trend = []
        for period in window:
            v = by_period[period].get(criterion.kpi)
            usable = v is not None and v.value is not None and v.status != MetricValue.Status.NO_DATA
            trend.append(
                {
                    "period": periods.label(kind, period),
                    "value": v.value * kpi.scale if usable else None,
                    "low": v.ci_low * kpi.scale if usable and v.ci_low is not None else None,
                    "high": v.ci_high * kpi.scale if usable and v.ci_high is not None else None,
                    "sample": v.sample if v is not None else 0,
                }
            )
        value = criterion_result.value
        rows.append(
            Row(kpi, criterion_result, trend, open_disputes.get(value.id, 0) if value is not None else 0)
        )
    scores = dict(
        Score.objects.visible_to(membership).filter(
            template=template, vendor_key=vendor_id, engagement_key=engagement_id, period_kind=kind,
            period_start__in=window,
        ).values_list("period_start", "score")
    )  # fmt: skip
    score_trend = [{"period": periods.label(kind, p), "value": scores.get(p)} for p in window]
    return Scorecard(
        template, vendor_id, engagement_id, kind, start, result.score, result.standing, result.weight_with_data,
        rows, score_trend,
    )  # fmt: skip


# The stored fields the comparison reads (hundreds of values a page: plain rows, not models).
SHOWN_FIELDS = ["uid", "kpi", "vendor_key", "value", "ci_low", "ci_high", "status", "sample"]


class ComparisonCell(NamedTuple):
    """One vendor's value of one KPI: one tuple per value (a page holds hundreds)."""

    uid: str  # the stored value's, for its drill-down
    status: str
    sample: int
    shown: float | None  # in the KPI's unit (%, hours...); None: no data
    low: float | None
    high: float | None


@dataclass
class Comparison:
    kind: str
    start: datetime.date
    kpis: list[Kpi]
    columns: list[tuple[int, str]]  # (vendor key, name); 0 = in-house baseline
    cells: dict[tuple[str, int], ComparisonCell]
    fte: dict[int, float]


def build_comparison(
    membership, kind: str, start: datetime.date, vendors, kpi_keys: list[str], kpis_all: dict | None = None
) -> Comparison:
    """Raw values and intervals per vendor and the in-house baseline (all engagements), plus
    each vendor's FTE-months where the roster gives capacity. ``vendors``: (id, name) pairs."""
    from partnerscope.metrics.models import CellMeasures

    kpis_all = kpis_all if kpis_all is not None else catalogue(membership.organization_id)
    kpis = [kpis_all[k] for k in kpi_keys if k in kpis_all]
    columns = [*vendors, (0, "In-house baseline")]
    keys = [c[0] for c in columns]
    values = MetricValue.objects.visible_to(membership).filter(
        engagement_key=0,
        period_kind=kind,
        period_start=start,
        vendor_key__in=keys,
        kpi__in=[k.key for k in kpis],
    )
    # Hundreds of rows of numbers and text, which need no conversion: read as the cursor gives
    # them (the ORM's per-row work was a fifth of the page).
    values = fetch_rows(values.order_by(), SHOWN_FIELDS)
    cells = {}
    scales = {k.key: k.scale for k in kpis}
    no_data = MetricValue.Status.NO_DATA
    for uid, kpi, vendor_key, value, low, high, status, sample in values:
        if value is None or status == no_data:
            cells[(kpi, vendor_key)] = ComparisonCell(uid, status, sample, None, None, None)
            continue
        scale = scales[kpi]
        cells[(kpi, vendor_key)] = ComparisonCell(
            uid,
            status,
            sample,
            value * scale,
            low * scale if low is not None else None,
            high * scale if high is not None else None,
        )
    fte = dict(
        CellMeasures.objects.visible_to(membership)
        .filter(engagement_key=0, period_kind=kind, period_start=start, vendor_key__in=keys)
        .values_list("vendor_key", KeyTransform("fte_months", "measures"))
    )
    return Comparison(kind, start, kpis, columns, cells, {k: v for k, v in fte.items() if v})
