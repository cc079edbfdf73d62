"""Time a work item spends waiting for the client: the ticket half of client-side wait.

A tracker says an item waits for the client by a status ("Waiting for customer") or by a label
("awaiting-client"); each connection names its own, as globs (``client_wait_states``). The
item's changelog is replayed from its creation to its resolution: it waits while its status or
any of its labels matches. Issue lead time counts that time against the vendor; this KPI shows
how much of it was the client's.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from partnerscope.evidence.models import Connection, WorkItemEvent
from partnerscope.evidence.patterns import matcher
from partnerscope.metrics.columns import month_of_index
from partnerscope.metrics.measures import Epoch, MonthIndex, Sample, Scope, resolved_items, within

STATUS_FIELDS = ("status",)
# GitHub records one label per event ("label"), GitLab too ("labels"); Jira writes the whole
# list before and after ("labels", space-separated).
LABEL_FIELDS = ("label", "labels")


def waiting_hours(
    created: float,
    resolved: float,
    status: str,
    labels: list[str],
    events: list[tuple],
    waits,
) -> float:
    """Hours between ``created`` and ``resolved`` (seconds since 1970) in which the item waited
    for the client.

    ``status`` and ``labels`` are the item's state now; ``events`` its (at in seconds, field,
    from, to) changes in time order; ``waits(*values)`` tells whether a status or label means waiting.
    The state at creation is found by undoing the changes from the state now, so an item
    created with a waiting label counts from its first moment."""
    changes = [e for e in events if e[1] in STATUS_FIELDS or e[1] in LABEL_FIELDS]
    # The state at creation: the first status change's "from", else the status now; the
    # labels now, with every change undone.
    first_status = next((e for e in changes if e[1] in STATUS_FIELDS), None)
    current_status = first_status[2] if first_status else status
    current_labels = {label.lower() for label in labels}
    for _, field, before, after in reversed(changes):
        if field in LABEL_FIELDS:
            current_labels = _relabel(field, after, before, current_labels)  # undone: after → before
    total = 0.0
    since = created
    waiting = waits(current_status, *current_labels)
    for at, field, before, after in changes:
        at = min(max(at, created), resolved)
        if field in STATUS_FIELDS:
            current_status = after
        else:
            current_labels = _relabel(field, before, after, current_labels)
        now_waiting = waits(current_status, *current_labels)
        if waiting and not now_waiting:
            total += at - since
        elif now_waiting and not waiting:
            since = at
        waiting = now_waiting
    if waiting:
        total += resolved - since
    return total / 3600


def _relabel(field: str, before: str, after: str, labels: set[str]) -> set[str]:
    """The labels after a change from ``before`` to ``after`` (swap them to undo it): Jira's
    whole space-separated lists are taken as written, one label added or removed (GitHub,
    GitLab, Jira's single label) is applied to ``labels``."""
    if field == "labels" and " " in before + after:
        return {label.lower() for label in after.split()}
    if after and not before:
        return labels | {after.lower()}
    if before and not after:
        return labels - {before.lower()}
    return {label.lower() for label in after.split()}  # Jira: one label replaced by one


def ticket_wait_samples(organization_id: int, scope: Scope) -> list[Sample]:
    """One sample per work item resolved in scope (attributed as for issue lead time) that
    waited for the client at all: the hours it waited, in the month it was resolved.

    Only items that may have waited are read: those with a status or label change, labels, or
    a status now that some connection's list matches. On a tracker without such states that is
    none of them, and this costs two small queries."""
    items = within(resolved_items(organization_id, scope), scope)
    globs = {
        c.id: matcher(c.glob_list("client_wait_states"))
        for c in Connection.objects.filter(organization_id=organization_id).only("id", "client_wait_states")
    }
    statuses = set(items.values_list("workflow_status", flat=True).distinct().order_by())
    waiting_statuses = [x for x in statuses if any(waits(x) for waits in globs.values())]
    changes = WorkItemEvent.objects.filter(field__in=STATUS_FIELDS + LABEL_FIELDS)
    candidates = items.filter(
        Q(workflow_status__in=waiting_statuses) | ~Q(labels=[]) | Q(id__in=changes.values("work_item_id"))
    ).annotate(month=MonthIndex("day"), created=Epoch("created_at"), resolved=Epoch("day"))
    rows = list(
        candidates.values_list("rid", "eng", "vkey", "connection_id", "month", "created", "resolved",
                               "workflow_status", "labels")
    )  # fmt: skip
    if not rows:
        return []
    events: dict[int, list[tuple]] = defaultdict(list)
    for item, at, field, before, after in (
        changes.filter(work_item_id__in=candidates.values("id"))
        .annotate(epoch=Epoch("at"))
        .order_by("at", "id")
        .values_list("work_item_id", "epoch", "field", "from_value", "to_value")
    ):
        events[item].append((at, field, before, after))
    out = []
    for rid, eng, vkey, connection_id, month, created, resolved, status, labels in rows:
        if resolved < created:  # a clock skew between systems, not a negative duration
            continue
        hours = waiting_hours(
            created, resolved, status, labels or [], events.get(rid, []), globs[connection_id]
        )
        if hours > 0:
            out.append(Sample(rid, eng, vkey, month_of_index(month), hours))
    return out
