"""The ticket half of client-side wait: time work items spend in a status or with a label that
means they wait for the client, replayed from their changelog."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.store import store_work_items
from partnerscope.evidence.models import Connection
from partnerscope.evidence.patterns import matcher
from partnerscope.metrics import engine
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.waits import waiting_hours
from tests.metrics.conftest import at, work_item

UTC = datetime.UTC
WAITS = matcher(["waiting for customer", "awaiting-client"])
APRIL = datetime.date(2024, 4, 1)


def hour(h: int) -> float:
    """Seconds since 1970, as the engine reads times."""
    return (datetime.datetime(2024, 4, 1, tzinfo=UTC) + datetime.timedelta(hours=h)).timestamp()


def test_a_jira_status_round_trip_counts_the_hours_in_the_waiting_status():
    events = [(hour(2), "status", "To Do", "In Progress"), (hour(5), "status", "In Progress", "Waiting for Customer"),
              (hour(9), "status", "Waiting for Customer", "In Progress"), (hour(12), "status", "In Progress", "Done")]  # fmt: skip
    assert waiting_hours(hour(0), hour(12), "Done", [], events, WAITS) == pytest.approx(4.0)


def test_waiting_until_resolution_counts_up_to_it_and_changes_outside_the_item_life_are_clipped():
    events = [(hour(-3), "status", "To Do", "Waiting for customer"), (hour(20), "status", "x", "Done")]
    # The item was created at hour 0 already waiting (the change before it is clipped to its
    # creation); resolved at hour 10, with the closing change recorded later.
    assert waiting_hours(hour(0), hour(10), "Done", [], events, WAITS) == pytest.approx(10.0)


def test_single_label_events_and_a_label_present_from_creation():
    # GitHub: "awaiting-client" added at 1 h, removed at 3 h, added again at 6 h, still there
    # when resolved at 8 h: 2 + 2 hours.
    events = [(hour(1), "label", "", "awaiting-client"), (hour(3), "label", "awaiting-client", ""),
              (hour(6), "label", "", "Awaiting-Client")]  # fmt: skip
    assert waiting_hours(hour(0), hour(8), "closed", ["awaiting-client"], events, WAITS) == pytest.approx(4.0)
    # Created with the label (no event adds it), removed at 5 h.
    events = [(hour(5), "labels", "awaiting-client", "")]
    assert waiting_hours(hour(0), hour(8), "closed", [], events, WAITS) == pytest.approx(5.0)


def test_jira_whole_label_lists_and_a_status_and_label_overlapping_count_once():
    events = [(hour(1), "labels", "backend", "backend awaiting-client"),
              (hour(2), "status", "In Progress", "Waiting for customer"),
              (hour(4), "labels", "backend awaiting-client", "backend"),
              (hour(7), "status", "Waiting for customer", "In Progress")]  # fmt: skip
    # Waiting from 1 h (label) to 7 h (status left): 6 hours, not 3 + 5.
    assert waiting_hours(hour(0), hour(9), "Done", ["backend"], events, WAITS) == pytest.approx(6.0)


def test_an_item_that_never_waited_is_zero():
    events = [(hour(1), "status", "To Do", "In Progress"), (hour(2), "assignee", "", "ana")]
    assert waiting_hours(hour(0), hour(3), "Done", ["bug"], events, WAITS) == 0.0


def resolved_item(key: str, created: datetime.datetime, hours: int, events: list[dict], labels=()) -> dict:
    resolved = created + datetime.timedelta(hours=hours)
    return {
        **work_item(key, "Task", created), "workflow_status": "Done", "category": "done", "resolved_at": resolved,
        "updated_at": resolved, "labels": list(labels), "events": events, "acted_on": resolved.date(),
    }  # fmt: skip


def status_event(key: str, n: int, when: datetime.datetime, before: str, after: str) -> dict:
    return {"external_id": f"{key}-{n}", "at": when, "field": "status", "from_value": before,
            "to_value": after, "actor": "ida-inhouse"}  # fmt: skip


def test_the_kpi_takes_the_median_of_the_items_that_waited_and_follows_the_connection_settings(evidence):
    connection = Connection.objects.get(engagement=evidence.engagement_a)
    start = at(2, month=4)
    rows = []
    for i, waited in enumerate((2, 6, 10)):
        key = f"W-{i}"
        rows.append(resolved_item(key, start, 24, [
            status_event(key, 1, start + datetime.timedelta(hours=1), "In Progress", "Waiting for customer"),
            status_event(key, 2, start + datetime.timedelta(hours=1 + waited), "Waiting for customer", "In Progress"),
        ]))  # fmt: skip
    rows.append(resolved_item("N-1", start, 5, [status_event("N-1", 1, start, "To Do", "In Progress")]))
    store_work_items(connection, rows)
    engine.full_recompute(evidence.org.id)

    def stored():
        return MetricValue.objects.get(
            organization=evidence.org, kpi="ticket_client_wait", vendor_key=evidence.vendor_a.id,
            engagement_key=0, period_kind="month", period_start=APRIL,
        )  # fmt: skip

    wait = stored()
    assert (wait.value, wait.sample) == (pytest.approx(6.0), 3)  # N-1 never waited: not a sample
    # The drill-down lists the items that waited, with their hours.
    from partnerscope.metrics.kpis import catalogue
    from partnerscope.metrics.provenance import evidence_for

    found = evidence_for(wait, catalogue(evidence.org.id)["ticket_client_wait"])
    listed = [r for g in found.groups for r in g.records]
    assert sorted(r.hours for r in listed) == pytest.approx([2.0, 6.0, 10.0])
    assert all(" W-" in r.label for r in listed)

    # The client names another status: the months of the connection's items are marked, and
    # the incremental recompute finds no waiting left.
    DirtyCell.objects.all().delete()
    connection.refresh_from_db()
    connection.client_wait_states = "blocked by client"
    save_connection(membership=evidence.owner_m, instance=connection)
    assert (APRIL, "items") in set(DirtyCell.objects.values_list("month", "source"))
    engine.recompute_dirty(evidence.org.id)
    assert stored().status == MetricValue.Status.NO_DATA
