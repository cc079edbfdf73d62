"""Ramp-up: weeks until a person new to an engagement merges, in a week, 70 % of the PRs a week
the team merged in the twelve weeks before they started."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.engagements.models import Assignment, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connectors.store import store_pull_requests
from partnerscope.evidence.models import Connection
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import MetricValue
from partnerscope.metrics.provenance import evidence_for
from tests.conftest import pull_request_row

UTC = datetime.UTC
MARCH, APRIL = datetime.date(2024, 3, 1), datetime.date(2024, 4, 1)


def ramp(world, start, vendor=None) -> MetricValue | None:
    return MetricValue.objects.filter(
        organization=world.org, kpi="ramp_up", vendor_key=(vendor or world.vendor_a).id, engagement_key=0,
        period_kind="month", period_start=start,
    ).first()  # fmt: skip


def test_weeks_until_a_newcomer_reaches_seventy_percent_of_the_team_pace(evidence):
    m = evidence.owner_m
    nora = save_roster_record(membership=m, instance=Person(name="Nora New", email="nora@alpha.test"))
    save_roster_record(membership=m, instance=Identity(person=nora, kind="github", value="nora-alpha"))
    for start, end in (
        (datetime.date(2024, 3, 4), datetime.date(2024, 3, 31)),
        (datetime.date(2024, 4, 15), None),
    ):
        save_roster_record(
            membership=m,
            instance=Assignment(person=nora, vendor=evidence.vendor_a, engagement=evidence.engagement_a,
                                valid_from=start, valid_to=end),
        )  # fmt: skip
    # The team in the twelve weeks before Monday 2024-03-04: Ana (from 2024-01-01, nine weeks,
    # one merged PR: the world's #1 on 2024-03-01) and Max (nine weeks, none): a median pace of
    # 1/18 PR a week, so one merged PR in a week is enough. Nora's first merges on Wednesday of
    # her third week; her return on 2024-04-15, two weeks after she left, is not a new start,
    # so the PR she merges that first week is no second sample.
    alpha = Connection.objects.get(engagement=evidence.engagement_a)
    merges = [
        (40, datetime.datetime(2024, 3, 19, 9, tzinfo=UTC)),
        (41, datetime.datetime(2024, 4, 16, 9, tzinfo=UTC)),
    ]
    store_pull_requests(
        alpha,
        [
            pull_request_row(n, "nora-alpha", at, merged_at=at + datetime.timedelta(days=1))
            for n, at in merges
        ],
    )
    engine.full_recompute(evidence.org.id)
    march = ramp(evidence, MARCH)
    assert (march.value, march.sample) == (3 * 7 * 24, 1)
    kpi = catalogue(evidence.org.id)["ramp_up"]
    assert kpi.display(march.value) == "3.00 weeks"
    assert ramp(evidence, APRIL) is None
    found = evidence_for(march, kpi)
    [record] = found.groups[0].records
    assert record.label.startswith("Nora New") and record.shown == pytest.approx(3.0)
    assert found.verified
    # Max's move to Beta on 2024-07-01 makes him new there, but Beta's team merged nothing in
    # the twelve weeks before: no pace to reach, no sample.
    assert not MetricValue.objects.filter(
        kpi="ramp_up", vendor_key=evidence.vendor_b.id, value__isnull=False
    ).exists()
