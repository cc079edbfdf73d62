"""Authentication, CSRF, headers, errors and deployment checks from SECURITY.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.authz_policy import ORG_URLS
from tests.conftest import PASSWORD, client_for
from tests.test_authorization_matrix import _objects

ROOT = Path(__file__).resolve().parent.parent


def _login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


@pytest.mark.parametrize("name", sorted(n for n, (_, _, methods) in ORG_URLS.items() if "POST" in methods))
def test_it_refuses_every_unsafe_route_without_a_csrf_token(world, name):
    perm, obj, _ = ORG_URLS[name]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    url = reverse(name, kwargs={"org_slug": "acme", **_objects(world, "own")[obj]})
    assert client.post(url, {}).status_code == 403


def test_it_refuses_sign_in_and_sign_out_without_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    assert _login(client, "owner@acme.test", PASSWORD).status_code == 403
    client.force_login(world.users["owner"])
    assert client.post(reverse("logout")).status_code == 403


def test_it_signs_in_and_rotates_the_session(world):
    client = Client()
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    response = _login(client, "owner@acme.test", PASSWORD)
    assert response.status_code == 302
    assert client.session.session_key != before


def test_it_gives_the_same_answer_for_unknown_users_and_wrong_passwords(world):
    unknown = _login(Client(), "nobody@acme.test", "wrong-password-1")
    wrong = _login(Client(), "owner@acme.test", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].errors == wrong.context["form"].errors


def test_it_throttles_per_username_and_ip_without_locking_out_others(world, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        _login(client, "owner@acme.test", "wrong-password-1")
    # Even the right password is refused from this address for now...
    response = _login(client, "owner@acme.test", PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    # ...a spoofed X-Forwarded-For does not reset the counter...
    response = _login(client, "owner@acme.test", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert "Too many failed sign-ins" in response.content.decode()
    # ...but the same user from another address, and another user here, still sign in.
    assert _login(Client(), "owner@acme.test", PASSWORD, ip="10.0.0.2").status_code == 302
    assert _login(Client(), "viewer@acme.test", PASSWORD).status_code == 302


def test_it_lets_the_throttle_expire(world, settings):
    from partnerscope.orgs.models import LoginFailure

    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        _login(Client(), "owner@acme.test", "wrong-password-1")
    assert "Too many" in _login(Client(), "owner@acme.test", PASSWORD).content.decode()
    LoginFailure.objects.update(at="2000-01-01T00:00:00Z")
    assert _login(Client(), "owner@acme.test", PASSWORD).status_code == 302


def test_sign_out_ends_the_session(world):
    client = client_for(world, "owner")
    assert client.get("/o/acme/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/o/acme/").status_code == 302


def test_a_deactivated_users_session_stops_working(world):
    client = client_for(world, "viewer")
    assert client.get("/o/acme/").status_code == 200
    world.users["viewer"].is_active = False
    world.users["viewer"].save()
    assert client.get("/o/acme/").status_code == 302


def test_it_sends_security_headers_and_no_store_on_tenant_pages(world):
    response = client_for(world, "owner").get("/o/acme/vendors/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"


def test_a_server_error_shows_no_traceback(world, settings, monkeypatch):
    from partnerscope.vendors import views

    def explode(*args, **kwargs):
        raise RuntimeError("secret-path /etc/partnerscope SELECT * FROM vendors_vendor")

    monkeypatch.setattr(views.Vendor.objects, "visible_to", explode)
    client = client_for(world, "owner")
    client.raise_request_exception = False
    response = client.get("/o/acme/vendors/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret-path" not in body and "SELECT" not in body and "Traceback" not in body


def test_pages_never_include_assets_from_other_hosts(world):
    body = client_for(world, "owner").get("/o/acme/").content.decode()
    assert 'src="http' not in body and 'href="http' not in body.replace('href="http://testserver', "")
    assert "/static/django_htmx/" in body


def _manage(*args, **env):
    # The browser tests' async-safety switch must not leak into a production-like check.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deployment_checklist_passes_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PARTNERSCOPE_SECRET_KEY="x9" * 32 + "-a-long-random-production-key",
        PARTNERSCOPE_HTTPS="1",
        PARTNERSCOPE_DEBUG="0",
        PARTNERSCOPE_DATA_DIR=str(tmp_path),
        PARTNERSCOPE_ALLOWED_HOSTS="partnerscope.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_models_and_migrations_agree(tmp_path):
    result = _manage("makemigrations", "--check", "--dry-run", PARTNERSCOPE_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,x"]
)
def test_a_tracker_link_that_is_not_http_is_never_stored_so_no_page_links_it(world, url):
    """Links come from trackers and from uploaded exports; pages put them in href."""
    import datetime

    from partnerscope.evidence.connectors.store import store_work_items
    from partnerscope.evidence.models import Connection, WorkItem
    from tests.metrics.conftest import work_item

    connection = Connection.objects.get(engagement=world.engagement_a)
    when = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
    store_work_items(connection, [{**work_item("X-1", "Bug", when), "url": url},
                                  {**work_item("X-2", "Bug", when), "url": "https://tracker.example.test/X-2"}])  # fmt: skip
    assert dict(WorkItem.objects.filter(key__in=["X-1", "X-2"]).values_list("key", "url")) == {
        "X-1": "", "X-2": "https://tracker.example.test/X-2",
    }  # fmt: skip
    page = client_for(world, "viewer").get(reverse("work_item_list", args=[world.org.slug])).content.decode()
    assert "javascript:" not in page.lower() and "data:text" not in page
