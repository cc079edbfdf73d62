"""Scores and standings from stored KPI values, and the alerts their changes raise.

A criterion turns a KPI value into points: 100 at or beyond its target, 0 at or beyond its
threshold, linear in between (targets and thresholds are in the units pages show: %, hours,
days). The weighted score averages the points of the criteria that have data, weighted by
their weights; criteria without data (no data, not enough data, or excluded by an upheld
dispute) are left out of the weighting and the page says so. A period where no criterion has
data has no score, never 0 and never 100.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from partnerscope.metrics import periods
from partnerscope.metrics.bulk import upsert
from partnerscope.metrics.columns import fetch_rows
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.measures import EVERYTHING, Scope, month_value
from partnerscope.metrics.models import Alert, Criterion, MetricValue, Score, ScorecardTemplate


def points(value: float, direction: int, target: float, threshold: float) -> float:
    if direction > 0:
        if value >= target:
            return 100.0
        if value <= threshold:
            return 0.0
        return 100.0 * (value - threshold) / (target - threshold)
    if value <= target:
        return 100.0
    if value >= threshold:
        return 0.0
    return 100.0 * (threshold - value) / (threshold - target)


def ranked_bands(bands: list[dict]) -> list[dict]:
    """Bands from the highest minimum down: the order standings are looked up in."""
    return sorted(bands, key=lambda b: -b["min"])


def standing_of(score: float | None, bands: list[dict], *, ranked: bool = False) -> tuple[str, int | None]:
    """The highest band the score reaches and its rank. ``ranked``: the bands are already in
    ranked_bands order (a recompute scores thousands of cells with one template's bands)."""
    if score is None:
        return "", None
    for rank, band in enumerate(bands if ranked else ranked_bands(bands)):
        if score >= band["min"]:
            return band["name"], rank
    return "", None


@dataclass
class CriterionResult:
    criterion: Criterion
    value: MetricValue | None
    shown: float | None = None
    points: float | None = None
    included: bool = False
    reason: str = ""
    crossed: bool = False


@dataclass
class ScoreResult:
    score: float | None
    standing: str
    rank: int | None
    weight_with_data: int
    sample: int
    rows: list[CriterionResult] = field(default_factory=list)


def score_cell(
    criteria: list[Criterion], values: dict[str, MetricValue], kpis: dict, bands, *, ranked: bool = False
) -> ScoreResult:
    rows, total, weights, sample = [], 0.0, 0, 0
    for criterion in criteria:
        value = values.get(criterion.kpi)
        kpi = kpis.get(criterion.kpi)
        row = CriterionResult(criterion, value)
        if kpi is None:
            row.reason = "KPI no longer defined"
        elif value is None or value.status == MetricValue.Status.NO_DATA or value.value is None:
            row.reason = "no data"
        elif value.status == MetricValue.Status.INSUFFICIENT:
            row.shown = value.value * kpi.scale
            row.reason = f"not enough data ({value.sample} < {kpi.min_sample})"
        elif value.excluded:
            row.shown = value.value * kpi.scale
            row.reason = "excluded by an upheld dispute"
        else:
            row.shown = value.value * kpi.scale
            row.points = points(row.shown, criterion.direction, criterion.target, criterion.threshold)
            row.included = True
            row.crossed = row.points == 0.0
            total += row.points * criterion.weight
            weights += criterion.weight
            sample += value.sample
        rows.append(row)
    score = total / weights if weights else None
    standing, rank = standing_of(score, bands, ranked=ranked)
    return ScoreResult(score, standing, rank, weights, sample, rows)


class StoredValue(NamedTuple):
    """The fields of a stored value scoring reads: the engine scores tens of thousands of
    values a run, and model instances for them cost more than the scoring."""

    kpi: str
    value: float | None
    status: str
    sample: int
    excluded: bool


SCORE_KEY = ("template_id", "engagement_key", "vendor_key", "period_kind", "period_start")
SCORE_UPDATED = ("score", "standing", "standing_rank", "weight_with_data", "sample", "computed_at")


def rescore(organization_id: int, scope: Scope = EVERYTHING, cells: Q | None = None) -> tuple[int, int]:
    """Recompute stored scores of every template in ``scope`` (and among ``cells``, a filter on
    the cell columns, when given); raise alerts. Returns counts."""
    kpis = catalogue(organization_id)
    templates = list(ScorecardTemplate.objects.filter(organization_id=organization_id))
    scores = alerts = 0
    now = timezone.now()
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    for template in templates:
        criteria = list(Criterion.objects.filter(template=template))
        if not criteria:
            continue
        values = MetricValue.objects.filter(
            organization_id=organization_id, kpi__in={c.kpi for c in criteria}
        )
        if scope.start:
            values = values.filter(period_start__gte=scope.start)
        if scope.end:
            values = values.filter(period_start__lt=scope.end)
        if cells is not None:
            values = values.filter(cells)
        named_cells: dict[tuple, dict[str, StoredValue]] = defaultdict(dict)
        # Plain rows (tens of thousands): dates come back as text on SQLite, parsed once each
        # (month_value caches them).
        for eng_key, vkey, kind, start, kpi, value, status, sample, excluded in fetch_rows(
            values.order_by(),
            ["engagement_key", "vendor_key", "period_kind", "period_start", "kpi", "value", "status", "sample",
             "excluded"],
        ):  # fmt: skip
            named_cells[(eng_key, vkey, kind, month_value(start))][kpi] = StoredValue(
                kpi, value, status, sample, bool(excluded)
            )
        bands = ranked_bands(template.bands)
        rows, results = [], {}
        for (eng_key, vkey, kind, start), named in sorted(named_cells.items()):
            result = score_cell(criteria, named, kpis, bands, ranked=True)
            rows.append(
                (organization_id, template.id, eng_key or None, eng_key, vkey or None, vkey, kind,
                 ops.adapt_datefield_value(start), result.score, result.standing, result.rank,
                 result.weight_with_data, result.sample, stamp)
            )  # fmt: skip
            results[(eng_key, vkey, kind, start)] = result
        upsert(
            Score._meta.db_table,
            ("organization_id", "template_id", "engagement_id", "engagement_key", "vendor_id", "vendor_key",
             "period_kind", "period_start", "score", "standing", "standing_rank", "weight_with_data", "sample",
             "computed_at"),
            SCORE_KEY, SCORE_UPDATED, rows,
        )  # fmt: skip
        scores += len(rows)
        # Alerts only for the current and the previous period: a first computation over years
        # of history must not flood anyone with drops that are long over.
        today = timezone.now().date()
        recent = [
            (vkey, kind, start, result)
            for (eng_key, vkey, kind, start), result in results.items()
            if vkey and not eng_key and start >= periods.previous_start(kind, periods.start_of(kind, today))
        ]
        previous_scores, previous_values = _previous_cells(template, criteria, recent)
        for vkey, kind, start, result in recent:
            before = (vkey, kind, periods.previous_start(kind, start))
            previous = results.get((0, *before)) or previous_scores.get(before)
            alerts += _raise_alerts(
                template, vkey, kind, start, result, kpis, previous, previous_values[before]
            )
    return scores, alerts


def _previous_cells(template, criteria, recent) -> tuple[dict, dict]:
    """The stored scores and criterion values of the periods before the recent cells, read in
    two queries for all vendors (one pair per vendor made an incremental recompute slow)."""
    values: dict[tuple, dict] = defaultdict(dict)
    if not recent:
        return {}, values
    periods_before = Q()
    for kind, start in {(kind, periods.previous_start(kind, start)) for _, kind, start, _ in recent}:
        periods_before |= Q(period_kind=kind, period_start=start)
    vendors = {vkey for vkey, *_ in recent}
    scores = {
        (s.vendor_key, s.period_kind, s.period_start): s
        for s in Score.objects.filter(
            periods_before, template=template, engagement_key=0, vendor_key__in=vendors
        )
    }
    for v in MetricValue.objects.filter(
        periods_before, organization_id=template.organization_id, engagement_key=0, vendor_key__in=vendors,
        kpi__in={c.kpi for c in criteria}, status=MetricValue.Status.OK,
    ):  # fmt: skip
        values[(v.vendor_key, v.period_kind, v.period_start)][v.kpi] = v
    return scores, values


def _rank(score) -> int | None:
    return score.rank if isinstance(score, ScoreResult) else score.standing_rank


def _raise_alerts(template, vendor_id, kind, start, result: ScoreResult, kpis, previous, before: dict) -> int:
    """Alerts for a vendor's all-engagement cell: its standing dropped since the previous
    period (``previous``: that period's score), or a criterion's KPI crossed its threshold
    (it did not the period before: ``before``, that period's values by KPI)."""
    from partnerscope.metrics.alerts import raise_alert

    previous_start = periods.previous_start(kind, start)
    label = periods.label(kind, start)
    raised = 0
    if (
        previous is not None
        and _rank(previous) is not None
        and result.rank is not None
        and result.rank > _rank(previous)
    ):
        raised += raise_alert(
            organization_id=template.organization_id,
            kind=Alert.Kind.STANDING_DROP,
            vendor_id=vendor_id,
            template=template,
            period_kind=kind,
            period_start=start,
            title=f"Standing dropped from {previous.standing} to {result.standing} in {label}",
            message=(
                f"The {template.name} score is {result.score:.0f} in {label}, "
                f"down from {previous.score:.0f} in {periods.label(kind, previous_start)}."
            ),
            dedupe_key=f"drop:{template.id}:{vendor_id}:{kind}:{start}:{result.standing}",
        )
    crossed = [row for row in result.rows if row.crossed]
    if crossed:
        for row in crossed:
            old = before.get(row.criterion.kpi)
            kpi = kpis[row.criterion.kpi]
            if old is not None and old.value is not None:
                old_points = points(old.value * kpi.scale, row.criterion.direction, row.criterion.target,
                                    row.criterion.threshold)  # fmt: skip
                if old_points == 0.0:
                    continue  # already beyond the threshold: not a new crossing
            raised += raise_alert(
                organization_id=template.organization_id,
                kind=Alert.Kind.THRESHOLD,
                vendor_id=vendor_id,
                template=template,
                period_kind=kind,
                period_start=start,
                title=f"{kpi.name} crossed its threshold in {label}",
                message=(
                    f"{kpi.name} is {kpi.display(row.value.value)} in {label} "
                    f"(threshold {row.criterion.threshold:g}, target {row.criterion.target:g})."
                ),
                dedupe_key=f"threshold:{template.id}:{vendor_id}:{row.criterion.kpi}:{kind}:{start}",
            )
    return raised
