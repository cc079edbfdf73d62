"""Predictability: what a sprint committed to against what it delivered, per cell.

A closed sprint counts in the month it ended (completed, else its planned end). Its committed
items are those in it when it started: the item's sprints now, taken back through the
changelog's sprint changes (an item added or created after the start was not committed; one
removed after the start was). Delivered: a committed item resolved (done) by the end. Each item counts for the
vendor it is attributed to (its resolver, else its assignee, on the date of its tracker record),
so a sprint shared by two vendors counts for each of them with its own items.

The velocity of a (sprint, vendor) is its delivered committed items; the cells keep the number
of sprints, the sum of velocities and the sum of their squares, which add up over months and
engagements, so a quarter's coefficient of variation is exact.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import F
from django.db.models.functions import Coalesce

from partnerscope.evidence.models import Sprint, WorkItem, WorkItemEvent, WorkItemSprint
from partnerscope.metrics.measures import (
    ATTRIBUTED,
    CellAggregate,
    Scope,
    _aware,
    aggregate_of,
    chunks,
)
from partnerscope.metrics.periods import month_start

SPRINT_MEASURES = ("committed_items", "delivered_items", "sprints", "sprint_velocity", "sprint_velocity_sq")


def _sprints(organization_id: int, scope: Scope) -> list[tuple]:
    """(id, engagement, external id, start, end) of the closed sprints ending in the scope."""
    qs = (
        Sprint.objects.filter(organization_id=organization_id, state="closed", started_at__isnull=False)
        .annotate(done=Coalesce("completed_at", "ends_at"), eng=F("connection__engagement_id"))
        .filter(done__isnull=False, done__gt=F("started_at"))
    )
    if scope.engagement_ids is not None:
        qs = qs.filter(eng__in=scope.engagement_ids)
    if scope.start:
        qs = qs.filter(done__gte=_aware(scope.start))
    if scope.end:
        qs = qs.filter(done__lt=_aware(scope.end))
    return list(qs.values_list("id", "eng", "connection_id", "external_id", "started_at", "done"))


def _in_at(now: bool, changes: list[tuple], sprint: str, moment: datetime.datetime) -> bool:
    """Was the item in ``sprint`` at ``moment``? ``changes``: its sprint changes (at, from ids,
    to ids), oldest first; ``now``: whether it is in the sprint today."""
    before = [c for c in changes if c[0] <= moment]
    if before:
        return sprint in before[-1][2]
    if changes:
        return sprint in changes[0][1]
    return now


def sprint_cells(organization_id: int, scope: Scope) -> tuple[dict[str, dict], dict[str, dict]]:
    """({measure: cells} for SPRINT_MEASURES, {measure: {cell: record ids}}): the committed
    and delivered work items, and the sprints."""
    sprints = _sprints(organization_id, scope)
    if not sprints:
        return {}, {}
    by_connection = defaultdict(set)
    for _, _, connection_id, external_id, *_ in sprints:
        by_connection[connection_id].add(external_id)
    # The items now in these sprints, and those whose changelog names one of them.
    members = defaultdict(set)
    for item_id, sprint_id in WorkItemSprint.objects.filter(
        sprint_id__in=[s[0] for s in sprints]
    ).values_list("work_item_id", "sprint_id"):
        members[sprint_id].add(item_id)
    changes = defaultdict(list)
    mentions = defaultdict(set)  # (connection, sprint external id) -> items whose changelog names it
    for item_id, connection_id, at, before, after in (
        WorkItemEvent.objects.filter(
            organization_id=organization_id, field="sprint", work_item__connection_id__in=list(by_connection)
        )
        .order_by("at", "id")
        .values_list("work_item_id", "work_item__connection_id", "at", "from_value", "to_value")
    ):
        ids_before, ids_after = set(before.split(",")) - {""}, set(after.split(",")) - {""}
        changes[item_id].append((at, ids_before, ids_after))
        for external_id in (ids_before | ids_after) & by_connection[connection_id]:
            mentions[(connection_id, external_id)].add(item_id)
    candidates = {item for found in mentions.values() for item in found}
    candidates |= {item for found in members.values() for item in found}
    items = {}
    for batch in chunks(sorted(candidates), 10_000):  # lists SQLite's bound on parameters allows
        for item_id, vkey, created, resolved, category in WorkItem.objects.filter(
            id__in=batch, status__in=ATTRIBUTED, is_bot=False
        ).values_list("id", Coalesce("vendor_id", 0), "created_at", "resolved_at", "category"):
            items[item_id] = (vkey, created, resolved, category)
    records: dict[str, dict] = {
        name: defaultdict(list) for name in ("committed_items", "delivered_items", "sprints")
    }
    velocity: dict[tuple, list[int]] = defaultdict(list)
    for sprint_id, eng, connection_id, external_id, started, done in sprints:
        month = month_start(done.astimezone(datetime.UTC).date())
        delivered = defaultdict(int)
        seen = set()
        for item_id in sorted(members[sprint_id] | mentions[(connection_id, external_id)]):
            item = items.get(item_id)
            # Created after the start (straight into the sprint): added, not committed.
            if item is None or item[1] > started:
                continue
            if not _in_at(item_id in members[sprint_id], changes[item_id], external_id, started):
                continue
            vkey, _, resolved, category = item
            key = (eng, vkey, month)
            records["committed_items"][key].append(item_id)
            seen.add(vkey)
            if category == WorkItem.Category.DONE and resolved is not None and resolved <= done:
                records["delivered_items"][key].append(item_id)
                delivered[vkey] += 1
        for vkey in seen:
            key = (eng, vkey, month)
            records["sprints"][key].append(sprint_id)
            velocity[key].append(delivered[vkey])
    cells = {
        name: {key: aggregate_of(ids, repeats=True) for key, ids in records[name].items()} for name in records
    }
    cells["sprint_velocity"] = {k: CellAggregate(float(sum(v)), len(v), 0, 0) for k, v in velocity.items()}
    cells["sprint_velocity_sq"] = {
        k: CellAggregate(float(sum(x * x for x in v)), len(v), 0, 0) for k, v in velocity.items()
    }
    return cells, records
