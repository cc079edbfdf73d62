"""Time to staff: business days from an approved staffing request (the roster's "staffing request
approved on") to the person's first merged PR on the engagement."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partnerscope.engagements.models import Assignment, Identity
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connectors.store import store_pull_requests
from partnerscope.evidence.models import Connection
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import MetricValue
from partnerscope.metrics.provenance import evidence_for
from tests.conftest import client_for, pull_request_row

UTC = datetime.UTC


def staffed(world, vendor, start: datetime.date) -> MetricValue | None:
    return MetricValue.objects.filter(
        organization=world.org, kpi="time_to_staff", vendor_key=vendor.id, engagement_key=0, period_kind="month",
        period_start=start,
    ).first()  # fmt: skip


def request(world, person, requested_on: datetime.date, **match) -> Assignment:
    assignment = Assignment.objects.get(person=person, **match)
    assignment.requested_on = requested_on
    return save_roster_record(membership=world.owner_m, instance=assignment)


def test_business_days_from_the_request_to_the_first_merged_pr(evidence):
    # Ana's request was approved on Monday 2023-12-18; her first merged PR is the world's #1,
    # merged on Friday 2024-03-01: ten weeks and Monday to Thursday, 54 business days.
    request(evidence, evidence.person_a, datetime.date(2023, 12, 18))
    # Max's move to Beta (from 2024-07-01) was requested on Friday 2024-06-14; he has merged
    # nothing there yet: no sample.
    request(evidence, evidence.mover, datetime.date(2024, 6, 14), vendor=evidence.vendor_b)
    engine.full_recompute(evidence.org.id)
    march = staffed(evidence, evidence.vendor_a, datetime.date(2024, 3, 1))
    assert (march.value, march.sample, march.status) == (54 * 24, 1, MetricValue.Status.OK)
    kpi = catalogue(evidence.org.id)["time_to_staff"]
    assert kpi.display(march.value) == "54.0 business days"
    # No other month has Ana's sample: only the first merge counts (#2-#7 merged later in March).
    months = MetricValue.objects.filter(
        kpi="time_to_staff", status=MetricValue.Status.OK, period_kind="month", engagement_key=0
    )
    assert list(months) == [march]
    # The drill-down lists that PR, with its business days.
    found = evidence_for(march, kpi)
    [record] = found.groups[0].records
    assert (record.shown, record.hours) == (pytest.approx(54.0), 54 * 24) and "#1" in record.label
    assert found.verified
    # The value's page lists it in the KPI's unit.
    page = (
        client_for(evidence, "owner").get(reverse("metric_value", args=["acme", march.uid])).content.decode()
    )
    assert '<th class="num">Business days</th>' in page and '<td class="num">54.0</td>' in page
    assert staffed(evidence, evidence.vendor_b, datetime.date(2024, 7, 1)) is None

    # Max merges his first PR on Beta's project on Wednesday 2024-07-10: the incremental
    # recompute finds 18 business days for Beta in July.
    save_roster_record(
        membership=evidence.owner_m,
        instance=Identity(person=evidence.mover, kind="github", value="max-mover"),
    )
    beta = Connection.objects.get(engagement=evidence.engagement_b)
    created = datetime.datetime(2024, 7, 9, 9, tzinfo=UTC)
    store_pull_requests(
        beta, [pull_request_row(40, "max-mover", created, merged_at=created + datetime.timedelta(hours=25))]
    )
    engine.recompute_dirty(evidence.org.id)
    july = staffed(evidence, evidence.vendor_b, datetime.date(2024, 7, 1))
    assert (july.value, july.sample) == (18 * 24, 1)


def test_a_request_approved_after_the_assignment_starts_is_refused(evidence):
    with pytest.raises(ValidationError) as refused:
        request(evidence, evidence.person_a, datetime.date(2024, 1, 2))
    assert "requested_on" in refused.value.message_dict
