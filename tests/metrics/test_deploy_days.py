"""Deployment days per week: the median over a period's calendar weeks of the days with a
successful production deployment containing vendor changes, a week without one counting 0; a
week counts in the month of its Thursday.

The crafted world (conftest) deploys vendor changes on Wednesday 2024-03-20 (D1) and Monday
2024-03-25 (D2); March 2024 has four Thursdays (7, 14, 21, 28)."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from django.urls import reverse

from partnerscope.evidence.connectors.store import store_deployments
from partnerscope.evidence.models import Connection, Deployment, DeploymentCommit
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import BUILTIN, catalogue, compute
from partnerscope.metrics.measures import calendar_weeks, week_thursday
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from partnerscope.metrics.stats import SampleChunk
from tests.conftest import client_for
from tests.metrics.conftest import deployment_row
from tests.metrics.test_engine import _stored_state

UTC = datetime.UTC
MARCH, APRIL, MAY = datetime.date(2024, 3, 1), datetime.date(2024, 4, 1), datetime.date(2024, 5, 1)


def days(world, start, kind="month") -> MetricValue | None:
    return MetricValue.objects.filter(
        organization=world.org, kpi="deploy_days", vendor_key=world.vendor_a.id, engagement_key=0,
        period_kind=kind, period_start=start,
    ).first()  # fmt: skip


def deploy(world, key: str, when: datetime.datetime, sha: str) -> Deployment:
    connection = Connection.objects.get(engagement=world.engagement_a)
    store_deployments(connection, [deployment_row(key, when)])
    deployment = Deployment.objects.get(connection=connection, external_id=key)
    DeploymentCommit.objects.create(organization_id=world.org.id, deployment=deployment, sha=sha)
    return deployment


def test_calendar_weeks_count_in_the_month_of_their_thursday():
    assert week_thursday(datetime.date(2024, 3, 1)) == datetime.date(2024, 2, 29)  # a Friday
    assert week_thursday(datetime.date(2024, 4, 29)) == datetime.date(2024, 5, 2)  # a Monday
    assert calendar_weeks(MARCH, APRIL) == 4
    assert calendar_weeks(MAY, datetime.date(2024, 6, 1)) == 5
    assert calendar_weeks(datetime.date(2024, 1, 1), APRIL) == 13  # the quarter: its months' weeks
    assert calendar_weeks(datetime.date(2024, 2, 1), MARCH) == 5  # a leap February: 1, 8, 15, 22, 29


def test_days_with_a_deployment_per_week_with_empty_weeks_as_zero(evidence):
    engine.full_recompute(evidence.org.id)
    march = days(evidence, MARCH)
    # Weeks of March: 4-10 none, 11-17 none, 18-24 D1, 25-31 D2: [0, 0, 1, 1].
    assert (march.value, march.sample, march.status) == (0.5, 4, "ok")
    assert march.p75 == pytest.approx(1.0)
    kpi = catalogue(evidence.org.id)["deploy_days"]
    assert kpi.display(march.value) == "0.50 days per week"
    # The quarter: 13 weeks, two with a deployment.
    quarter = days(evidence, datetime.date(2024, 1, 1), kind="quarter")
    assert (quarter.value, quarter.sample) == (0.0, 13)
    # A month without a vendor deployment has no value: "no data", not 0.
    assert days(evidence, APRIL) is None
    # The drill-down lists each day's first deployment; the digest matches the stored one.
    found = evidence_for(march, kpi)
    records = found.groups[0].records
    assert sorted(r.when.date() for r in records) == [datetime.date(2024, 3, 20), datetime.date(2024, 3, 25)]
    assert all(r.shown is None for r in records)  # days, not lengths
    assert found.verified
    # The vendor's own page of the value: the days, no length column.
    response = client_for(evidence, "vendor_a").get(
        reverse("metric_value", args=[evidence.org.slug, march.uid])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "0.50 days per week" in page and "2024-03-25" in page and "Days per week</th>" not in page


def test_a_second_deployment_on_the_same_day_is_the_same_day(evidence):
    engine.full_recompute(evidence.org.id)
    deploy(evidence, "d1-again", datetime.datetime(2024, 3, 20, 15, tzinfo=UTC), f"m{3:039d}")
    deploy(evidence, "d-thu", datetime.datetime(2024, 3, 21, 9, tzinfo=UTC), f"m{4:039d}")
    engine.recompute_dirty(evidence.org.id)
    march = days(evidence, MARCH)
    # Weeks: [0, 0, 2 (Wed 20, Thu 21), 1]: the median of 0, 0, 1, 2 is 0.5; p90 ~ 1.7.
    assert (march.value, march.sample) == (0.5, 4)
    assert march.p90 == pytest.approx(1.7)
    frequency = MetricValue.objects.get(
        organization=evidence.org, kpi="deployment_frequency", vendor_key=evidence.vendor_a.id,
        engagement_key=0, period_kind="month", period_start=MARCH,
    )  # fmt: skip
    assert frequency.sample == 4  # every deployment counts there


def test_a_week_across_two_months_counts_in_the_month_of_its_thursday(evidence):
    """Monday 2024-04-29 is in April, its week (Thursday 2 May) in May: the deployment counts
    in April's deployment frequency and in May's deployment days. Stored alone, it marks May
    too, and the incremental recompute agrees with a full one."""
    engine.full_recompute(evidence.org.id)
    DirtyCell.objects.all().delete()
    deploy(evidence, "d-apr", datetime.datetime(2024, 4, 29, 10, tzinfo=UTC), f"m{3:039d}")
    marked = set(DirtyCell.objects.values_list("engagement_id", "month"))
    assert {(evidence.engagement_a.id, APRIL), (evidence.engagement_a.id, MAY)} <= marked
    engine.recompute_dirty(evidence.org.id)
    assert days(evidence, APRIL) is None
    may = days(evidence, MAY)
    # Five weeks in May (2, 9, 16, 23, 30), one with a deployment day: [0, 0, 0, 0, 1].
    assert (may.value, may.sample) == (0.0, 5)
    assert may.p90 == pytest.approx(0.6)
    # The week's Wednesday 1 May is the same week: two days.
    deploy(evidence, "d-may", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC), f"m{4:039d}")
    engine.recompute_dirty(evidence.org.id)
    may = days(evidence, MAY)
    assert may.p90 == pytest.approx(1.2)
    # May's drill-down reads May and the days of its weeks beyond it: the Monday in April too.
    found = evidence_for(may, catalogue(evidence.org.id)["deploy_days"])
    assert sorted(r.when.date() for r in found.groups[0].records) == [
        datetime.date(2024, 4, 29),
        datetime.date(2024, 5, 1),
    ]
    assert found.verified
    incremental = _stored_state(evidence.org)
    engine.full_recompute(evidence.org.id)
    assert _stored_state(evidence.org) == incremental


def test_the_same_day_in_two_engagements_is_one_day_of_the_vendor():
    """The "all engagements" cell joins its engagements' days: a day deployed in both counts
    once in its week."""
    wed, thu = datetime.date(2024, 3, 20).toordinal(), datetime.date(2024, 3, 21).toordinal()
    chunks = [
        SampleChunk(np.array([wed, thu], dtype=np.float64), 2, 0, 0),  # engagement A
        SampleChunk(np.array([wed], dtype=np.float64), 1, 0, 0),  # engagement B, the same Wednesday
    ]
    computed = compute(BUILTIN["deploy_days"], {}, {"deploy_days": chunks}, {"calendar_weeks": 4.0})
    # [0, 0, 0, 2]: the median is 0, the top week has 2 days (not 3).
    assert (computed.value, computed.sample) == (0.0, 4)
    assert computed.p90 == pytest.approx(1.4)
