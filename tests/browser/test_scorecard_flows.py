"""Scorecard → drill-down → dispute, in Chromium: the vendor contests a value, the client upholds it."""

from __future__ import annotations

from playwright.sync_api import expect

from partnerscope.metrics import engine
from partnerscope.metrics.models import Dispute
from tests.browser.test_main_flows import sign_in
from tests.metrics.conftest import evidence  # noqa: F401 - the crafted evidence fixture


def test_vendor_drills_into_a_value_and_disputes_it_and_the_client_upholds_it(evidence, live_server, page):  # noqa: F811
    world = evidence
    engine.full_recompute(world.org.id)

    sign_in(page, live_server, "am@alpha.test")
    page.click("nav >> text=Scorecards")
    expect(page.locator("main")).to_contain_text("Alpha Soft")
    expect(page.locator("main")).not_to_contain_text("Beta Works")
    page.goto(f"{live_server.url}/o/acme/scorecards/vendor/{world.vendor_a.uid}/?kind=month&period=2024-03")
    expect(page.locator("[data-testid=score]")).not_to_have_text("no data")
    # The trend charts: SVG rendered on the server, loaded as images.
    chart = page.locator("main img.chart").first
    expect(chart).to_be_visible()
    expect(chart).to_have_js_property("complete", True)
    assert chart.evaluate("i => i.naturalWidth") > 0
    page.click("[data-testid=value-review_discipline]")
    expect(page.locator("[data-testid=verified]")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Approved merged PRs")
    expect(page.locator("main")).to_contain_text("Ana Alpha · Alpha Soft (dated roster)")
    page.fill("#id_comment", "PR #6 was approved in a call; the tool cannot see that.")
    page.click("button:has-text('Open a dispute')")
    expect(page.locator(".messages")).to_contain_text("Dispute opened")
    value_url = page.url
    assert Dispute.objects.filter(status="open").count() == 1

    page.context.clear_cookies()
    sign_in(page, live_server, "owner@acme.test")
    page.goto(value_url)
    page.click("text=Resolve")
    page.select_option("#id_decision", "upheld")
    page.select_option("#id_outcome", "annotate")
    page.fill("#id_reason", "Confirmed with the reviewer.")
    page.click("button:has-text('Resolve')")
    expect(page.locator("main")).to_contain_text("Confirmed with the reviewer.")
    assert Dispute.objects.get().status == "upheld"
