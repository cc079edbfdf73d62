"""Scorecard pages on crafted evidence: values, drill-down with provenance, disputes, exports,
comparison, templates, custom KPIs, alerts; vendor users see only their own."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partnerscope.metrics import engine, services
from partnerscope.metrics.models import Alert, Dispute, KpiDefinition, MetricValue, ScorecardTemplate
from tests.conftest import client_for

MARCH = datetime.date(2024, 3, 1)


@pytest.fixture
def computed(evidence):
    engine.full_recompute(evidence.org.id)
    return evidence


def url(name, *args, **query):
    base = reverse(name, args=["acme", *args])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_scorecard_shows_values_samples_and_no_data_left_out(computed):
    client = client_for(computed, "owner")
    response = client.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2024-03"))
    assert response.status_code == 200
    card = response.context["card"]
    rows = {r.kpi.key: r for r in card.rows}
    assert rows["review_discipline"].result.included
    assert rows["review_discipline"].result.shown == pytest.approx(400 / 7)
    assert "not enough data" in rows["change_failure_rate"].result.reason
    # Ana and Max on the roster in March: 2 people, below the minimum sample of 5.
    assert rows["attrition"].result.reason == "not enough data (2 < 5)"
    included = [r for r in card.rows if r.result.included]
    assert card.weight_with_data == sum(r.result.criterion.weight for r in included)
    expected = sum(r.result.points * r.result.criterion.weight for r in included) / card.weight_with_data
    assert card.score == pytest.approx(expected)
    body = response.content.decode()
    assert "Left out of the weighting" in body
    # Charts are images from the chart URL: SVG rendered on the server, for those who may see them.
    chart = url("chart", card.rows[0].chart)
    assert f'src="{chart}"' in body
    image = client.get(chart)
    assert image.status_code == 200 and image["Content-Type"] == "image/svg+xml"
    assert image.content.startswith(b"<svg") and "default-src 'none'" in image["Content-Security-Policy"]
    assert client_for(computed, "vendor_a").get(chart).status_code == 200
    assert client_for(computed, "vendor_b").get(chart).status_code == 404
    assert client.get(url("chart", "0" * 40)).status_code == 404


def test_an_empty_period_has_no_score_not_zero(computed):
    client = client_for(computed, "owner")
    response = client.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2025-01"))
    assert response.context["card"].score is None
    assert 'data-testid="score">no data<' in response.content.decode()


def test_scorecard_page_makes_a_fixed_number_of_queries(computed):
    client = client_for(computed, "owner")
    target = url("scorecard", computed.vendor_a.uid, kind="month", period="2024-03")
    client.get(target)  # warm the chart cache
    with CaptureQueriesContext(connection) as small:
        client.get(target)
    engine.full_recompute(computed.org.id)
    # More engagements in the selector (an engagement's deferred vendor id was a query each).
    from partnerscope.engagements.models import Engagement

    Engagement.objects.bulk_create(
        Engagement(organization=computed.org, vendor=computed.vendor_a, name=f"Extra {i}", model="fixed_price",
                   start_date=MARCH)
        for i in range(4)
    )  # fmt: skip
    # Many more periods with values: the page must not issue more queries.
    with CaptureQueriesContext(connection) as again:
        response = client.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2024-07"))
    assert ">Extra 3</option>" in response.content.decode()
    # Session, user, membership, vendor, templates, engagements, criteria, values, disputes, scores
    # and the session's save: built-in KPIs only, so no custom definitions are read.
    assert len(small) == len(again) <= 13
    compare = url("compare", kind="month", period="2024-03")
    client.get(compare)
    with CaptureQueriesContext(connection) as comparing:
        client.get(compare)
    # More vendors, more columns: the same queries.
    from partnerscope.vendors.models import Vendor

    Vendor.objects.bulk_create([Vendor(organization=computed.org, name=f"Extra {i}") for i in range(5)])
    with CaptureQueriesContext(connection) as comparing_more:
        response = client.get(compare)
    assert "<strong>Extra 4</strong>" in response.content.decode()
    assert len(comparing) == len(comparing_more) <= 10


def test_drill_down_lists_the_counted_records_and_verifies_the_digest(computed):
    value = MetricValue.objects.get(
        organization=computed.org, kpi="review_discipline", vendor_key=computed.vendor_a.id, engagement_key=0,
        period_kind="month", period_start=MARCH,
    )  # fmt: skip
    response = client_for(computed, "vendor_a").get(url("metric_value", value.uid))
    assert response.status_code == 200
    provenance = response.context["provenance"]
    assert provenance.verified
    groups = {g.name: g for g in provenance.groups}
    assert groups["approved_merged_prs"].count == 4 and groups["merged_prs"].count == 7
    assert "Ana Alpha · Alpha Soft (dated roster)" in {r.attribution for r in groups["merged_prs"].records}
    assert client_for(computed, "vendor_b").get(url("metric_value", value.uid)).status_code == 404


def test_vendor_disputes_a_value_and_the_client_upholds_it(computed):
    value = MetricValue.objects.get(
        organization=computed.org, kpi="review_discipline", vendor_key=computed.vendor_a.id, engagement_key=0,
        period_kind="month", period_start=MARCH,
    )  # fmt: skip
    vendor = client_for(computed, "vendor_a")
    response = vendor.post(url("dispute_open", value.uid), {"comment": "PR #6 was approved in a call"})
    assert response.status_code == 302
    dispute = Dispute.objects.get(value=value)
    assert dispute.status == "open"
    # The open dispute marks its row of the scorecard, and only that row.
    open_card = vendor.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2024-03")).context[
        "card"
    ]
    assert {r.kpi.key: r.open_disputes for r in open_card.rows if r.open_disputes} == {"review_discipline": 1}
    assert client_for(computed, "vendor_b").get(url("dispute_list")).context["rows"].count() == 0
    assert vendor.get(url("dispute_list")).context["rows"].count() == 1
    owner = client_for(computed, "owner")
    bad = owner.post(url("dispute_resolve", dispute.uid), {"decision": "upheld", "reason": "fair"})
    assert bad.status_code == 400 and "annotated or left out" in bad.content.decode()
    done = owner.post(
        url("dispute_resolve", dispute.uid), {"decision": "upheld", "outcome": "exclude", "reason": "Agreed."}
    )
    assert done.status_code == 302
    value.refresh_from_db()
    assert value.excluded and value.annotation == "Agreed."
    card = owner.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2024-03")).context["card"]
    row = next(r for r in card.rows if r.kpi.key == "review_discipline")
    assert not row.result.included and "dispute" in row.result.reason
    from partnerscope.orgs.models import AuditEvent

    assert set(AuditEvent.objects.filter(object_type="dispute").values_list("action", flat=True)) == {
        "partnerscope.dispute.created",
        "partnerscope.dispute.resolved",
    }


def test_exports_are_neutralised_against_formula_injection(computed):
    computed.vendor_a.name = "=HYPERLINK(1)"
    computed.vendor_a.save(update_fields=["name"])
    client = client_for(computed, "owner")
    response = client.get(
        url("scorecard_export", computed.vendor_a.uid, "csv", kind="month", period="2024-03")
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Vendor" and rows[1][0] == "'=HYPERLINK(1)"
    assert any(r[3] == "review_discipline" for r in rows)
    xlsx = client.get(url("scorecard_export", computed.vendor_a.uid, "xlsx", kind="month", period="2024-03"))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A2"].value == "'=HYPERLINK(1)" and sheet["A2"].data_type == "s"
    assert client.get(url("scorecard_export", computed.vendor_a.uid, "pdf")).status_code == 404
    assert (
        client.get(url("scorecard_export", computed.vendor_a.uid, "csv", period="nonsense")).status_code
        == 400
    )


def test_compare_shows_raw_values_with_intervals_and_the_baseline(computed):
    response = client_for(computed, "viewer").get(
        url("compare", kind="month", period="2024-03") + "&kpi=review_discipline"
    )
    comparison = response.context["comparison"]
    assert [name for _, name in comparison.columns][-1] == "In-house baseline"
    cell = comparison.cells[("review_discipline", computed.vendor_a.id)]
    assert cell.shown == pytest.approx(400 / 7) and cell.low < cell.shown < cell.high
    # The row as shown: the value links to its drill-down, with interval and sample.
    page = response.content.decode()
    row = page[page.index(f"<strong>{computed.vendor_a.name}</strong>") :].split("</tr>")[0]
    drill_down = url("metric_value", cell.uid).split("?")[0]
    assert f'<a href="{drill_down}">57.14</a>' in row
    assert f"{cell.low:.1f}–{cell.high:.1f}" in row and "n = 7" in row
    assert "<strong>In-house baseline</strong>" in page
    # One chart per KPI with values, client-only like the page.
    [(kpi, key)] = response.context["charts"]
    assert kpi.key == "review_discipline" and f'src="{url("chart", key)}"' in page
    assert client_for(computed, "viewer").get(url("chart", key)).status_code == 200
    assert client_for(computed, "vendor_a").get(url("chart", key)).status_code == 404
    assert client_for(computed, "vendor_a").get(url("compare")).status_code == 404


def test_template_weights_must_add_up_and_bands_cover_zero(computed):
    client = client_for(computed, "manager")
    response = client.post(
        url("template_create"),
        {
            "name": "Strict",
            "bands": "Top 90, Rest 0",
            "criteria": "review_discipline, 1, 95, 60, 60\nlead_time, -1, 48, 200, 30",
        },
    )
    assert response.status_code == 400 and "add up to 90" in response.content.decode()
    response = client.post(
        url("template_create"),
        {"name": "Strict", "bands": "Top 90, Rest 10", "criteria": "review_discipline, 1, 95, 60, 100"},
    )
    assert "must start at 0" in response.content.decode()
    response = client.post(
        url("template_create"),
        {
            "name": "Strict",
            "bands": "Top 90, Rest 0",
            "criteria": "review_discipline, 1, 95, 60, 60\nlead_time, -1, 48, 200, 40",
        },
    )
    assert response.status_code == 302
    assert ScorecardTemplate.objects.get(name="Strict").criteria.count() == 2


def test_custom_kpi_is_versioned_and_stored_values_name_the_version(computed):
    client = client_for(computed, "owner")
    bad = client.post(url("kpi_create"), {"key": "x", "name": "X", "kind": "ratio", "formula": "merged_prs / nope",
                                          "sample_measure": "merged_prs", "min_sample": 1, "direction": 1})  # fmt: skip
    assert bad.status_code == 400 and "unknown measure" in bad.content.decode()
    for formula in ("reverted_prs / merged_prs", "if(merged_prs >= 5, reverted_prs / merged_prs, 0)"):
        response = client.post(url("kpi_create"), {"key": "pr_reverts", "name": "PR reverts", "kind": "ratio",
                                                   "formula": formula, "sample_measure": "merged_prs",
                                                   "min_sample": 1, "direction": -1})  # fmt: skip
        assert response.status_code == 302
    assert list(KpiDefinition.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, True),
    ]
    engine.full_recompute(computed.org.id)
    value = MetricValue.objects.get(
        kpi="custom.pr_reverts", vendor_key=computed.vendor_a.id, engagement_key=0, period_kind="month",
        period_start=MARCH,
    )  # fmt: skip
    assert value.version == 2 and value.value == 0.0 and value.sample == 7
    # A scorecard whose template names the custom KPI shows it (its definition is read then).
    template = ScorecardTemplate.objects.get(organization=computed.org)
    services.save_template(
        membership=computed.owner_m, template=template, name=template.name, description="", bands=template.bands,
        criteria=[{"kpi": "custom.pr_reverts", "direction": -1, "target": 5, "threshold": 10, "weight": 100}],
    )  # fmt: skip
    page = client.get(url("scorecard", computed.vendor_a.uid, kind="month", period="2024-03"))
    assert [row.kpi.key for row in page.context["card"].rows] == ["custom.pr_reverts"]
    assert "PR reverts" in page.content.decode()


def test_a_threshold_crossing_raises_one_alert_with_deliveries(computed, settings):
    import datetime as dt

    from partnerscope.metrics.models import AlertDelivery
    from partnerscope.metrics.scoring import rescore

    # Make March 2024 "recent" and give the template a criterion whose threshold March crosses.
    template = ScorecardTemplate.objects.get(organization=computed.org)
    services.save_template(
        membership=computed.owner_m, template=template, name=template.name, description="", bands=template.bands,
        criteria=[{"kpi": "review_discipline", "direction": 1, "target": 95, "threshold": 60, "weight": 100}],
    )  # fmt: skip
    Alert.objects.all().delete()
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2024, 3, 20, tzinfo=dt.UTC)):
        _, raised = rescore(computed.org.id)
        _, again = rescore(computed.org.id)
    assert raised >= 1 and again == 0
    alert = Alert.objects.get(kind="threshold", period_kind="month", period_start=MARCH)
    assert alert.vendor_id == computed.vendor_a.id and "Review discipline" in alert.title
    channels = set(AlertDelivery.objects.filter(alert=alert).values_list("channel", "target"))
    assert ("email", "owner@acme.test") in channels and ("email", "manager@acme.test") in channels
    assert client_for(computed, "vendor_a").get(url("alert_list")).status_code == 404


def test_api_lists_values_of_one_vendor_and_never_another_vendors(computed):
    from tests.api.conftest import ApiClient, api_secret

    owner = ApiClient(api_secret(computed, "owner", "read"))
    listed = owner.get(f"/metric-values?vendor={computed.vendor_a.uid}&kind=month&limit=500").json()
    assert (
        listed["count"]
        == MetricValue.objects.filter(vendor_key=computed.vendor_a.id, period_kind="month").count()
    )
    assert {item["vendor"] for item in listed["items"]} == {computed.vendor_a.uid}
    assert owner.get("/metric-values?vendor=nosuchvendor000").json()["count"] == 0
    # A vendor user naming another vendor gets nothing, not that vendor's values.
    vendor_b = ApiClient(api_secret(computed, "vendor_b", "read"))
    assert vendor_b.get(f"/metric-values?vendor={computed.vendor_a.uid}").json()["count"] == 0
    assert vendor_b.get(f"/metric-values?vendor={computed.vendor_b.uid}").json()["count"] > 0
