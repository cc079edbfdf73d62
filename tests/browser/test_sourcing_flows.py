"""Sourcing and planning in a real browser: a request is ranked, shortlisted and explained; a
capacity plan's demand is entered in the grid, solved in the background and shown."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from partnerscope.vendors.models import Skill, VendorLocation
from partnerscope.vendors.services import save_vendor_record
from tests.browser.test_main_flows import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_request_shortlist_and_explanation(world, live_server, page):
    m = world.owner_m
    for vendor, city, zone in (
        (world.vendor_a, "Warsaw", "Europe/Warsaw"),
        (world.vendor_b, "Pune", "Asia/Kolkata"),
    ):
        save_vendor_record(
            membership=m, instance=VendorLocation(vendor=vendor, city=city, country="-", timezone=zone)
        )
    sign_in(page, live_server, "manager@acme.test")
    page.click("nav >> text=Sourcing")
    page.click("a.btn:has-text('New request')")
    page.fill("#id_title", "Backend squad for payments")
    page.fill("#id_start_date", (datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    page.fill("#id_duration_months", "6")
    page.fill("#id_required_overlap_hours", "3")
    page.fill("#id_client_timezone", "Europe/Berlin")
    page.fill("#id_mix_mid", "0")
    page.fill("#id_mix_senior", "100")
    page.select_option("#id_skills-0-skill", label="Python")
    page.select_option("#id_skills-0-min_level", value="4")
    page.fill("#id_skills-0-headcount", "3")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Backend squad for payments")

    # Weights that do not add up are refused on the page, with nothing ranked.
    page.click("a.btn:has-text('Rank candidates')")
    page.fill("#id_weight_cost", "60")
    page.click("button:has-text('Rank')")
    expect(page.locator(".formerrors")).to_contain_text("add up to 140 %")
    page.fill("#id_weight_cost", "20")
    page.select_option("#id_method", value="topsis")
    page.click("button:has-text('Rank')")

    expect(page.locator("h1")).to_have_text("Ranking")
    ranking = page.locator("table#ranking tbody tr")
    expect(ranking).to_have_count(2)
    expect(page.locator("table#gates")).to_contain_text("8 h from Warsaw")
    expect(page.locator("table#ranking")).to_contain_text("no history")  # no scorecards: its own state
    top = ranking.first
    top_name = top.locator("b").first.inner_text()
    top.locator("input[name=note]").fill("Strong references")
    top.locator("button:has-text('Shortlist')").click()
    expect(page.locator(".messages")).to_contain_text(f"Shortlisted: {top_name}")
    page.locator("table#ranking tbody tr").first.locator("button:has-text('Choose')").click()
    expect(page.locator(".messages")).to_contain_text(f"Chosen: {top_name}")

    page.click("a:has-text('Explain this ranking')")
    for table in ("criteria", "matrix", "normalized", "weighted", "distances", "sensitivity"):
        expect(page.locator(f"table#{table}")).to_be_visible()
    expect(page.locator("table#weighted")).to_contain_text("Anti-ideal")

    page.click("a:has-text('Backend squad for payments')")
    log = page.locator("table#decision-log")
    expect(log).to_contain_text("Shortlisted")
    expect(log).to_contain_text("Chosen")
    expect(log).to_contain_text("Strong references")
    expect(page.locator(".pagehead")).to_contain_text(f"chosen: {top_name}")


def test_a_capacity_plan_is_entered_solved_and_shown(world, live_server, page, settings):
    # Solve in the request instead of a separate worker process.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    python = Skill.objects.visible_to(world.owner_m).get(name="Python")
    sign_in(page, live_server, "owner@acme.test")
    page.click("nav >> text=Planning")
    page.click("a.btn:has-text('New plan')")
    page.fill("#id_name", "Autumn plan")
    page.fill("#id_start_month", "2030-09")
    page.fill("#id_months", "3")
    page.click("button:has-text('Save')")

    expect(page.locator("h1")).to_have_text("Demand by skill and month")
    page.select_option("select[name=new_0_skill]", value=python.uid)
    page.fill("input[name=new_0_2030-09]", "4")
    page.fill("input[name=new_0_2030-10]", "oops")
    page.fill("input[name=new_0_2030-11]", "40")
    page.click("button:has-text('Save demand')")
    expect(page.locator("#demand-errors")).to_contain_text("Python, 2030-10: “oops” is not an FTE")
    page.fill("input[name=new_0_2030-10]", "8")
    page.click("button:has-text('Save demand')")

    expect(page.locator("h1")).to_have_text("Autumn plan")
    page.click("button:has-text('Solve')")
    # The solve is a background task: the worker picks it up, loads HiGHS and solves; allow for a busy machine.
    expect(page.locator(".sync")).to_contain_text("Succeeded", timeout=60_000)
    expect(page.locator("#plan-status")).to_have_text("Solved")
    expect(page.locator("table#plan-sources")).to_contain_text("Alpha Soft")
    # 40 Python FTE in November, 24 on offer: the rest is shown as unmet, with the limit that binds.
    expect(page.locator("table#plan-sources")).to_contain_text("Unmet")
    expect(page.locator("#binding")).to_contain_text("(capacity)")
    expect(page.locator(".chart img").first).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "Adopt this plan as the plan of record?"
    page.click("button:has-text('Adopt')")
    expect(page.locator(".messages")).to_contain_text("Adopted “Autumn plan”")
