"""The main flows in a real browser: the owner builds the register, a vendor sees only itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username)


def test_owner_creates_a_vendor_an_engagement_and_a_person_with_an_assignment(world, live_server, page):
    sign_in(page, live_server, "owner@acme.test")

    page.click("nav >> text=Vendors")
    page.click("text=New vendor")
    page.fill("#id_name", "Delta Devs")
    page.fill("#id_headquarters_country", "Portugal")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Delta Devs")
    expect(page.locator(".messages")).to_contain_text("Vendor created")

    page.click("nav >> text=Engagements")
    page.click("a.btn:has-text('New engagement')")
    page.select_option("#id_vendor", label="Delta Devs")
    page.fill("#id_name", "Delta checkout rebuild")
    page.select_option("#id_model", value="time_and_materials")
    page.fill("#id_start_date", "2025-01-01")
    page.fill("#id_baseline_fte", "4")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text("Delta checkout rebuild")

    page.click("nav >> text=People")
    page.click("a.btn:has-text('New person')")
    page.fill("#id_name", "Dora Delta")
    page.fill("#id_email", "dora@delta.test")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text("Dora Delta")

    page.click("a:has-text('Add assignment')")
    page.select_option("#id_vendor", label="Delta Devs")
    page.select_option("#id_engagement", label="Delta checkout rebuild")
    page.fill("#id_role", "Backend engineer")
    page.fill("#id_valid_from", "2025-02-01")
    page.click("button:has-text('Save')")
    expect(page.locator("main")).to_contain_text("Delta checkout rebuild")
    expect(page.locator("main")).to_contain_text("Backend engineer")

    # A contradictory assignment (another employer over the same days) is refused in the page.
    page.click("a:has-text('Add assignment')")
    page.select_option("#id_vendor", label="Alpha Soft")
    page.fill("#id_valid_from", "2025-03-01")
    page.click("button:has-text('Save')")
    expect(page.locator(".errorlist, .formerrors").first).to_contain_text("one employer at a time")


def test_a_vendor_user_sees_only_its_own_vendor(world, live_server, page):
    sign_in(page, live_server, "am@alpha.test")
    page.click("nav >> text=Our profile")
    rows = page.locator("table#vendors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alpha Soft")
    expect(page.locator("main")).not_to_contain_text("Beta Works")

    response = page.goto(f"{live_server.url}/o/acme/vendors/{world.vendor_b.uid}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/o/acme/members/")
    assert response.status == 404

    page.goto(f"{live_server.url}/o/acme/people/")
    expect(page.locator("main")).to_contain_text("Ana Alpha")
    expect(page.locator("main")).not_to_contain_text("Ben Beta")
    expect(page.locator("main")).not_to_contain_text("Ida Inhouse")


def test_the_layout_works_at_phone_width(world, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/vendors/")
    # The menu collapses behind a toggle and the page does not scroll sideways.
    expect(page.locator(".mainnav")).to_be_hidden()
    page.click("label.navtoggle-label")
    expect(page.locator(".mainnav")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    context.close()


def test_owner_registers_and_syncs_a_repository_and_maps_an_unknown_author(
    world, live_server, page, settings, tmp_path
):
    from tests.evidence.gitrepo import GitRepo

    settings.GIT_LOCAL_ROOTS = [str(tmp_path)]
    settings.DATA_DIR = tmp_path / "data"
    # Run the sync task at once instead of in a separate worker process.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    repo = GitRepo(tmp_path / "shop")
    repo.commit("Ana Alpha", "ana@alpha.test", "2024-05-01", {"a.py": "a\n"}, "ana's change")
    repo.commit("Nina New", "nina@alpha.test", "2024-05-02", {"b.py": "b\n"}, "nina's change")

    sign_in(page, live_server, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/engagements/{world.engagement_a.uid}/")
    page.click("a:has-text('Register repository')")
    page.fill("#id_name", "shop")
    page.fill("#id_source", str(tmp_path / "shop"))
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("shop")
    page.click("button:has-text('Sync now')")
    expect(page.locator(".sync")).to_contain_text("Succeeded")
    expect(page.locator("#evidence-groups")).to_contain_text("Alpha Soft")
    expect(page.locator("#evidence-groups")).to_contain_text("Unattributed")

    page.click("#evidence-groups >> text=Unattributed")
    row = page.locator("tr[data-email='nina@alpha.test']")
    expect(row).to_contain_text("Alpha Soft")  # suggested from the e-mail domain
    row.locator("select[name$='-vendor']").select_option(label="Alpha Soft")
    row.locator("button:has-text('Map')").click()
    expect(page.locator(".messages")).to_contain_text("attributed again")
    expect(page.locator("main")).to_contain_text("Every author identity is covered")


def test_owner_connects_github_imports_an_export_and_a_vendor_sees_only_its_pull_requests(
    world, live_server, page, tmp_path
):
    import json

    from partnerscope.evidence.connectors.runner import run_connector_import
    from partnerscope.evidence.models import ConnectorRun

    sign_in(page, live_server, "owner@acme.test")
    page.click("nav >> text=Evidence")
    page.click("a.btn:has-text('Connections')")
    page.click("a.btn:has-text('Connect a tracker')")
    page.select_option("#id_engagement", label="Beta mobile app")
    page.fill("#id_name", "Beta GitHub 2")
    page.select_option("#id_kind", value="github")
    page.fill("#id_project", "acme/beta-mobile")
    page.fill("#id_token", "ghp_browser_secret_1234")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Beta GitHub 2")
    expect(page.locator("main")).to_contain_text("…1234")
    expect(page.locator("main")).not_to_contain_text("ghp_browser_secret_1234")

    export = [
        {"number": 40 + n, "title": f"Screen {n}", "state": "MERGED", "isDraft": False, "url": "",
         "author": {"login": "ben-beta"}, "createdAt": f"2025-03-0{n + 1}T10:00:00Z",
         "updatedAt": f"2025-03-0{n + 1}T12:00:00Z", "closedAt": f"2025-03-0{n + 1}T12:00:00Z",
         "mergedAt": f"2025-03-0{n + 1}T12:00:00Z", "additions": 3, "deletions": 1, "changedFiles": 1,
         "labels": [], "mergeCommit": None, "commits": [], "reviews": [], "comments": []}
        for n in range(3)
    ]  # fmt: skip
    file = tmp_path / "prs.json"
    file.write_text(json.dumps(export))
    page.click("a.btn:has-text('Import an export')")
    page.set_input_files("#id_files", str(file))
    page.click("button:has-text('Import')")
    expect(page.locator(".messages")).to_contain_text("Import queued")
    run_connector_import(ConnectorRun.objects.get(status="queued"))  # what the worker does
    page.reload()
    expect(page.locator("main")).to_contain_text("Imported 3 pull requests")

    page.click("text=Sign out")
    sign_in(page, live_server, "am@alpha.test")
    page.goto(f"{live_server.url}/o/acme/pull-requests/")
    rows = page.locator("table#pull-requests tbody tr")
    expect(rows).to_have_count(1)  # vendor A's fixture pull request, none of Beta's
    expect(page.locator("main")).not_to_contain_text("Screen 1")
