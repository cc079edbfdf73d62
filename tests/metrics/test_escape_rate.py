"""Defect escape rate: bugs found in production ÷ bugs, "found in production" read from the
labels each connection names (METRICS.md: it needs a "found in" label mapping)."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.store import store_work_items
from partnerscope.evidence.models import Connection, WorkItem
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from partnerscope.metrics.stats import wilson
from tests.metrics.conftest import at, work_item

MARCH = datetime.date(2024, 3, 1)


def labelled(key: str, item_type: str, labels: list[str]) -> dict:
    return {**work_item(key, item_type, at(12)), "labels": labels}


def escape_rate(world) -> MetricValue:
    return MetricValue.objects.get(
        organization=world.org, kpi="defect_escape_rate", vendor_key=world.vendor_a.id, engagement_key=0,
        period_kind="month", period_start=MARCH,
    )  # fmt: skip


def test_bugs_labelled_found_in_production_over_bugs_and_a_changed_list_follows(evidence):
    connection = Connection.objects.get(engagement=evidence.engagement_a)
    # The fixture's March bugs B-1, B-2 (bug) and B-3 (defect), all ana's; two of them now carry
    # labels of the default list (any case, a scoped GitLab label); a story labelled
    # "production" is not a bug.
    store_work_items(
        connection,
        [labelled("B-1", "Bug", ["Found-in:Production", "ui"]), labelled("B-2", "bug", ["env::prod"]),
         labelled("S-1", "Story", ["production"])],
    )  # fmt: skip
    flagged = dict(WorkItem.objects.filter(connection=connection).values_list("key", "found_in_production"))
    assert flagged == {"B-1": True, "B-2": True, "B-3": False, "S-1": True}
    engine.full_recompute(evidence.org.id)
    rate = escape_rate(evidence)
    assert (rate.numerator, rate.denominator, rate.sample) == (2, 3, 3)
    assert rate.value == pytest.approx(2 / 3)
    assert rate.status == MetricValue.Status.INSUFFICIENT  # three bugs: fewer than five
    assert (rate.ci_low, rate.ci_high) == tuple(pytest.approx(x) for x in wilson(2, 3))
    # The drill-down lists the escaped bugs and all bugs.
    found = evidence_for(rate, catalogue(evidence.org.id)["defect_escape_rate"])
    listed = {g.name: sorted({w for r in g.records for w in r.label.split() if w[:2] in ("B-", "S-")}) for g in found.groups}  # fmt: skip
    assert listed == {"escaped_bugs": ["B-1", "B-2"], "bugs": ["B-1", "B-2", "B-3"]}
    assert found.verified

    # The client's tracker marks escapes with one label only: the stored flags follow, the
    # items' months are marked, and the incremental recompute counts what the new list says.
    DirtyCell.objects.all().delete()
    connection.refresh_from_db()
    connection.found_in_production_labels = "escaped*"
    save_connection(membership=evidence.owner_m, instance=connection)
    assert not WorkItem.objects.filter(connection=connection, found_in_production=True).exists()
    assert (MARCH, "items") in set(DirtyCell.objects.values_list("month", "source"))
    store_work_items(connection, [labelled("B-3", "Defect", ["Escaped-Defect"])])
    engine.recompute_dirty(evidence.org.id)
    rate = escape_rate(evidence)
    assert (rate.numerator, rate.denominator, rate.value) == (1, 3, pytest.approx(1 / 3))


def test_the_migration_flags_items_stored_before_the_flag_existed(evidence):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("partnerscope.evidence.migrations.0009_found_in_production")
    connection = Connection.objects.get(engagement=evidence.engagement_a)
    WorkItem.objects.filter(connection=connection, key="B-1").update(labels=["found-in:prod"])
    WorkItem.objects.filter(connection=connection, key="B-2").update(labels=["frontend"])
    migration.derive_flags(apps, None)
    flagged = set(WorkItem.objects.filter(found_in_production=True).values_list("key", flat=True))
    assert flagged == {"B-1"}
