"""Predictability and velocity variation from sprints: an item counts as committed when it was in
the sprint at its start (by the changelog), as delivered when it was done by the sprint's end.

Sprints of Alpha's tracker (closed): S0 5-16 February, S1 4-15 March, S2 18-29 March."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.connectors.store import store_work_items
from partnerscope.evidence.models import Connection, Sprint
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from tests.metrics.conftest import work_item
from tests.metrics.test_engine import _stored_state

UTC = datetime.UTC
FEB, MARCH, APRIL, Q1 = (datetime.date(2024, m, 1) for m in (2, 3, 4, 1))


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2024, month, day, 9, tzinfo=UTC)


SPRINTS = {
    "0": (at(2, 5), at(2, 16)),
    "1": (at(3, 4), at(3, 15)),
    "2": (at(3, 18), at(3, 29)),
}


def sprint(number: str, *, completed=None) -> dict:
    start, end = SPRINTS[number]
    return {"external_id": number, "name": f"Sprint {number}", "state": "closed", "started_at": start,
            "ends_at": end, "completed_at": completed or end}  # fmt: skip


def moved(key: str, when: datetime.datetime, before: str, after: str, n: int = 0) -> dict:
    return {"external_id": f"{key}-s{n}", "at": when, "actor": "ana-alpha", "field": "sprint",
            "from_value": before, "to_value": after}  # fmt: skip


def item(key, *, created=None, resolved=None, sprints=(), events=(), login="ana-alpha", bot=False) -> dict:
    row = work_item(key, "Story", created or at(2, 1), login)
    if resolved is not None:
        row.update(resolved_at=resolved, category="done", workflow_status="Done", acted_on=resolved.date())
    row.update(sprints=[sprint(s) for s in sprints], events=list(events), is_bot=bot)
    return row


def rows() -> list[dict]:
    return [
        item("P-0", resolved=at(2, 14), sprints=["0"], events=[moved("P-0", at(2, 2), "", "0")]),
        item("P-1", resolved=at(3, 10), sprints=["1"], events=[moved("P-1", at(3, 2), "", "1")]),
        item("P-2", resolved=at(3, 20), sprints=["1"], events=[moved("P-2", at(3, 2), "", "1")]),
        # Added to S1 two days after it started and done in it: not committed, so not delivered.
        item("P-3", resolved=at(3, 12), sprints=["1"], events=[moved("P-3", at(3, 6), "", "1")]),
        # In S1 at its start, moved to S2 during it: committed to both, done in S2.
        item(
            "P-4",
            resolved=at(3, 25),
            sprints=["2"],
            events=[moved("P-4", at(3, 2), "", "1"), moved("P-4", at(3, 8), "1", "2", 1)],
        ),  # fmt: skip
        # Created into S2 before it started (no changelog entry): committed, done.
        item("P-5", created=at(3, 1), resolved=at(3, 28), sprints=["2"]),
        # Created into S2 after it started: not committed.
        item("P-6", created=at(3, 20), resolved=at(3, 21), sprints=["2"]),
        # A bot's item counts for no one.
        item("P-7", resolved=at(3, 21), sprints=["2"], login="helper[bot]", bot=True),
    ]


@pytest.fixture
def sprinted(evidence):
    store_work_items(Connection.objects.get(engagement=evidence.engagement_a), rows())
    return evidence


def value(world, kpi, start, kind="month") -> MetricValue:
    return MetricValue.objects.get(
        organization=world.org, kpi=kpi, vendor_key=world.vendor_a.id, engagement_key=0, period_kind=kind,
        period_start=start,
    )  # fmt: skip


def test_sprints_and_their_items_are_stored(sprinted):
    stored = Sprint.objects.filter(connection__engagement=sprinted.engagement_a).order_by("external_id")
    assert [(s.external_id, s.started_at, s.done_at) for s in stored] == [
        (n, *SPRINTS[n]) for n in ("0", "1", "2")
    ]
    assert sorted(stored.get(external_id="2").item_links.values_list("work_item__key", flat=True)) == [
        "P-4", "P-5", "P-6", "P-7",
    ]  # fmt: skip


def test_committed_and_delivered_items_by_the_changelog(sprinted):
    w = sprinted
    engine.full_recompute(w.org.id)
    march = value(w, "predictability", MARCH)
    # S1: P-1, P-2, P-4 committed, P-1 done by its end. S2: P-4, P-5 committed, both done.
    assert (march.numerator, march.denominator, march.status) == (3, 5, "ok")
    assert march.value == pytest.approx(0.6)
    assert march.ci_low < 0.6 < march.ci_high  # a rate: with its Wilson interval
    # The quarter: S0's P-0 too. Velocities per sprint 1, 1, 2: CV = sqrt(3·6 − 16) / 4.
    quarter = value(w, "predictability", Q1, kind="quarter")
    assert (quarter.numerator, quarter.denominator) == (4, 6)
    cv = value(w, "velocity_cv", Q1, kind="quarter")
    assert (cv.value, cv.sample, cv.status) == (pytest.approx(2**0.5 / 4), 3, "ok")
    assert value(w, "velocity_cv", MARCH).status == "insufficient"  # two sprints: below three
    # The drill-down lists the committed items and verifies.
    found = evidence_for(march, catalogue(w.org.id)["predictability"])
    groups = {g.name: g for g in found.groups}
    assert groups["committed_items"].count == 5
    assert sorted(r.label.split(": ")[1].split()[0] for r in groups["delivered_items"].records) == [
        "P-1", "P-4", "P-5",
    ]  # fmt: skip
    assert found.verified


def test_a_changed_item_or_sprint_marks_the_sprints_month_and_the_incremental_recompute_agrees(sprinted):
    w = sprinted
    connection = Connection.objects.get(engagement=w.engagement_a)
    engine.full_recompute(w.org.id)
    DirtyCell.objects.all().delete()
    # P-2 was in fact done on 14 March, inside S1.
    changed = [r for r in rows() if r["key"] == "P-2"]
    changed[0].update(resolved_at=at(3, 14), acted_on=at(3, 14).date())
    store_work_items(connection, changed)
    assert (w.engagement_a.id, MARCH) in set(DirtyCell.objects.values_list("engagement_id", "month"))
    engine.recompute_dirty(w.org.id)
    assert (value(w, "predictability", MARCH).numerator, value(w, "predictability", MARCH).denominator) == (
        4,
        5,
    )
    # S1 was completed late, on 2 April: it now counts in April, and March loses it.
    late = [r for r in rows() if r["key"] == "P-1"]
    late[0]["sprints"] = [sprint("1", completed=at(4, 2))]
    store_work_items(connection, late)
    engine.recompute_dirty(w.org.id)
    march = value(w, "predictability", MARCH)
    assert (march.numerator, march.denominator) == (2, 2)  # S2 alone
    assert value(w, "predictability", APRIL).denominator == 3
    incremental = _stored_state(w.org)
    engine.full_recompute(w.org.id)
    assert _stored_state(w.org) == incremental


def test_no_closed_sprint_no_predictability(evidence):
    engine.full_recompute(evidence.org.id)
    assert not MetricValue.objects.filter(kpi__in=["predictability", "velocity_cv"]).exists()
