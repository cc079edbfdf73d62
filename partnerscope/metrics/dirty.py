"""Marking cells dirty when evidence changes, and queueing the recompute that cleans them.

Attribution is the one place every piece of evidence passes through when it arrives and again
when the roster changes, so it calls ``mark_rows`` with the rows it just attributed; the
months those rows fall in, per engagement, become dirty. A recompute task is queued when the
transaction commits (at most one waits at a time).
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import F

from partnerscope.metrics.periods import add_months, month_start

# For each evidence model: the path to its engagement and the dates whose months it counts in.
DATES = {
    "contribution": ("repository__engagement_id", ["authored_date"]),
    "pullrequest": ("connection__engagement_id", ["created_at", "merged_at", "closed_at"]),
    "review": ("connection__engagement_id", ["submitted_at", "pull_request__merged_at"]),
    "workitem": ("connection__engagement_id", ["created_at", "resolved_at"]),
    "deployment": ("connection__engagement_id", ["created_at", "finished_at"]),
    "incident": ("connection__engagement_id", ["started_at", "resolved_at"]),
}
# Evidence also counted per calendar week (deployment days per week), in the month of the
# week's Thursday: a change to it may change the month beside its own.
WEEKLY = frozenset({"deployment"})
# What kind of evidence each model is: a recompute re-reads only the measures it feeds.
SOURCES = {
    "contribution": "git", "pullrequest": "prs", "review": "prs", "workitem": "items", "deployment": "deployments",
    "incident": "incidents",
}  # fmt: skip


def mark(organization_id: int, cells, source: str = "all") -> int:
    """Mark (engagement id, date) pairs dirty for evidence of ``source`` (DirtyCell.Source).
    Returns how many month cells were marked."""
    from partnerscope.metrics.models import DirtyCell

    wanted = {(eng, month_start(day)) for eng, day in cells if eng is not None and day is not None}
    if not wanted:
        return 0
    DirtyCell.objects.bulk_create(
        [
            DirtyCell(organization_id=organization_id, engagement_id=eng, month=m, source=source)
            for eng, m in wanted
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: queue_recompute(organization_id))
    return len(wanted)


def mark_rows(rows) -> int:
    """Mark the months of an attributed evidence queryset dirty (one GROUP BY per date)."""
    from partnerscope.metrics.measures import WEEK_REACH, MonthOf, month_value

    model = rows.model._meta.model_name
    if model not in DATES:
        return 0
    engagement, dates = DATES[model]
    pairs, organization_ids = set(), set()
    for date_field in dates:
        months = {"month": MonthOf(date_field)}
        if model in WEEKLY:
            # Its week may count in the month beside (the days within three days of its Thursday).
            months["before"] = MonthOf(F(date_field) - WEEK_REACH)
            months["after"] = MonthOf(F(date_field) + WEEK_REACH)
        grouped = (
            rows.filter(**{f"{date_field}__isnull": False})
            .annotate(**months)
            .values_list("organization_id", F(engagement), *months)
            .distinct()
            .order_by()
        )
        for organization_id, eng, *found in grouped:
            organization_ids.add(organization_id)
            pairs.update((organization_id, eng, month_value(month)) for month in found)
    for organization_id, eng, day in _reverted_cells(rows) | _deployed_cells(rows):
        organization_ids.add(organization_id)
        pairs.add((organization_id, eng, day))
    total = 0
    for organization_id in organization_ids:
        cells = [(eng, day) for org, eng, day in pairs if org == organization_id]
        total += mark(organization_id, cells, SOURCES[model])
    return total


def _reverted_cells(rows):
    """A revert counts against what it reverts, in the month that was merged or authored: a
    revert arriving later changes that earlier month's cells too. Reverts are a few percent of
    the rows, looked up in batches."""
    from partnerscope.evidence.connectors.derive import REVERT_TITLE
    from partnerscope.evidence.models import Contribution, PullRequest
    from partnerscope.metrics.measures import chunks

    model = rows.model._meta.model_name
    found = set()
    if model == "contribution":
        reverts = defaultdict(set)
        for organization_id, repository_id, sha in (
            rows.filter(commit__reverts_sha__gt="")
            .values_list("organization_id", "repository_id", "commit__reverts_sha")
            .distinct()
            .order_by()
        ):
            reverts[(organization_id, repository_id)].add(sha)
        for (organization_id, repository_id), shas in reverts.items():
            for batch in chunks(sorted(shas), 500):
                found |= {
                    (organization_id, eng, day)
                    for eng, day in Contribution.objects.filter(
                        repository_id=repository_id, commit__sha__in=batch
                    ).values_list("repository__engagement_id", "authored_date")
                }
                found |= {
                    (organization_id, eng, merged.date())
                    for eng, merged in PullRequest.objects.filter(
                        organization_id=organization_id, merge_commit_sha__in=batch, merged_at__isnull=False
                    ).values_list("connection__engagement_id", "merged_at")
                }
    elif model == "pullrequest":
        titles = defaultdict(set)
        for organization_id, connection_id, title in rows.filter(
            state=PullRequest.State.MERGED, title__startswith='Revert "'
        ).values_list("organization_id", "connection_id", "title"):
            match = REVERT_TITLE.match(title)
            if match:
                titles[(organization_id, connection_id)].add(match.group(1))
        for (organization_id, connection_id), originals in titles.items():
            for batch in chunks(sorted(originals), 500):
                found |= {
                    (organization_id, eng, merged.date())
                    for eng, merged in PullRequest.objects.filter(
                        connection_id=connection_id, title__in=batch, merged_at__isnull=False
                    ).values_list("connection__engagement_id", "merged_at")
                }
    return found


def _deployed_cells(rows):
    """A change counts in the month of the deployment that shipped it (deployments with vendor
    changes, lead and deploy time): a commit or PR arriving after that deployment changes the
    deployment's month too. Looked up by sha through the (organization, sha) index."""
    from partnerscope.evidence.models import DeploymentCommit
    from partnerscope.metrics.measures import chunks, week_thursday

    model = rows.model._meta.model_name
    if model not in ("contribution", "pullrequest"):
        return set()
    sha = "commit__sha" if model == "contribution" else "merge_commit_sha"
    shas = defaultdict(set)
    for organization_id, value in (
        rows.exclude(**{sha: ""}).values_list("organization_id", sha).distinct().order_by()
    ):
        shas[organization_id].add(value)
    found = set()
    for organization_id, values in shas.items():
        for batch in chunks(sorted(values), 500):
            for eng, finished, created in DeploymentCommit.objects.filter(
                organization_id=organization_id, sha__in=batch
            ).values_list(
                "deployment__connection__engagement_id", "deployment__finished_at", "deployment__created_at"
            ):
                day = (finished or created).astimezone(datetime.UTC).date()
                found.add((organization_id, eng, day))
                found.add((organization_id, eng, week_thursday(day)))  # its week's month
    return found


def mark_assignment(assignment) -> int:
    """A roster change moves capacity (FTE, headcount, leavers) in every month the assignment
    covers, evidence or not; the month before it starts too (a renewal starting the next day
    means the previous assignment's person did not leave)."""
    if assignment.engagement_id is None:
        return 0
    today = datetime.date.today()
    last = min(assignment.valid_to or today, today)
    month = month_start(assignment.valid_from - datetime.timedelta(days=1))
    cells = []
    while month <= last:
        cells.append((assignment.engagement_id, month))
        month = add_months(month, 1)
    return mark(assignment.organization_id, cells, "roster")


def mark_engagement(engagement) -> int:
    """A change to what an engagement requires (its skills, or a required skill's globs) changes
    its skill coverage in every month it has had people or evidence: from its start, or its
    first assignment if earlier, to today."""
    from partnerscope.engagements.models import Assignment

    first = Assignment.objects.filter(engagement_id=engagement.id).order_by("valid_from").first()
    month = month_start(min(engagement.start_date, first.valid_from if first else engagement.start_date))
    today = datetime.date.today()
    cells = []
    while month <= today:
        cells.append((engagement.id, month))
        month = add_months(month, 1)
    return mark(engagement.organization_id, cells, "roster")


def mark_person(person_id: int) -> int:
    """A person's skills count in every month of their assignments to engagements."""
    from partnerscope.engagements.models import Assignment

    return sum(
        mark_assignment(a)
        for a in Assignment.objects.filter(person_id=person_id, engagement_id__isnull=False)
    )


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
