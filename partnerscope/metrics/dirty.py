"""Marking cells dirty when evidence changes, and queueing the recompute that cleans them.

Attribution is the one place every piece of evidence passes through when it arrives and again
when the roster changes, so it calls ``mark_rows`` with the rows it just attributed; the
months those rows fall in, per engagement, become dirty. A recompute task is queued when the
transaction commits (at most one waits at a time).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from partnerscope.metrics.periods import month_start

# For each evidence model: the path to its engagement and the dates whose months it counts in.
DATES = {
    "contribution": ("repository__engagement_id", ["authored_date"]),
    "pullrequest": ("connection__engagement_id", ["created_at", "merged_at", "closed_at"]),
    "review": ("connection__engagement_id", ["submitted_at", "pull_request__merged_at"]),
    "workitem": ("connection__engagement_id", ["created_at", "resolved_at"]),
    "deployment": ("connection__engagement_id", ["created_at", "finished_at"]),
    "incident": ("connection__engagement_id", ["started_at", "resolved_at"]),
}


def mark(organization_id: int, cells) -> int:
    """Mark (engagement id, date) pairs dirty. Returns how many month cells were new."""
    from partnerscope.metrics.models import DirtyCell

    wanted = {(eng, month_start(day)) for eng, day in cells if eng is not None and day is not None}
    if not wanted:
        return 0
    DirtyCell.objects.bulk_create(
        [DirtyCell(organization_id=organization_id, engagement_id=eng, month=m) for eng, m in wanted],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: queue_recompute(organization_id))
    return len(wanted)


def mark_rows(rows) -> int:
    """Mark the months of an attributed evidence queryset dirty (one GROUP BY per date)."""
    from partnerscope.metrics.measures import MonthOf, month_value

    model = rows.model._meta.model_name
    if model not in DATES:
        return 0
    engagement, dates = DATES[model]
    pairs, organization_ids = set(), set()
    for date_field in dates:
        grouped = (
            rows.filter(**{f"{date_field}__isnull": False})
            .annotate(month=MonthOf(date_field))
            .values_list("organization_id", F(engagement), "month")
            .distinct()
            .order_by()
        )
        for organization_id, eng, month in grouped:
            organization_ids.add(organization_id)
            pairs.add((organization_id, eng, month_value(month)))
    total = 0
    for organization_id in organization_ids:
        total += mark(organization_id, [(eng, day) for org, eng, day in pairs if org == organization_id])
    return total


def queue_recompute(organization_id: int) -> None:
    """Queue an incremental recompute unless one is already waiting."""
    from partnerscope.metrics.models import MetricsRun
    from partnerscope.metrics.tasks import recompute_metrics

    with transaction.atomic():
        if MetricsRun.objects.filter(
            organization_id=organization_id, full=False, status=MetricsRun.Status.QUEUED
        ).exists():
            return
        run = MetricsRun.objects.create(organization_id=organization_id, full=False)
    recompute_metrics.enqueue(run.id)
