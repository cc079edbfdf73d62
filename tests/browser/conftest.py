"""Browser tests drive Debian's Chromium through Playwright against a live server.

Without Chromium they skip with the reason; CI sets PARTNERSCOPE_REQUIRE_BROWSER=1, which turns
a missing browser into a failure instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are still
# plain synchronous code, so Django's async-safety guard would refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PARTNERSCOPE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("PARTNERSCOPE_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def one_request_at_a_time_on_a_shared_connection(django_db_setup):
    """On SQLite the test database lives in memory, and the live server's request threads all
    use the test's one connection to it: the browser loading a page's chart images at once
    then had two requests open a transaction on it together ("cannot start a transaction
    within a transaction", seen under CI's load). There the server takes one request at a time
    (Django then closes each HTTP connection after its response). After ``django_db_setup``:
    before it, the connection still names the database file of the settings."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield
        return

    class OneAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):  # the threaded one's keyword
            super().__init__(*args, **kwargs)

    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = OneAtATime
    try:
        yield
    finally:
        LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def browser():
    missing = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:  # pragma: no cover - the dev extra installs it
            missing = "the playwright package is not installed"
    if missing:
        if REQUIRED:
            pytest.fail(f"PARTNERSCOPE_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
