"""Alerts reach people: e-mail through Django's mail backend, and webhooks signed with HMAC,
retried when the receiver fails, refused when the address is private and not allowed."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partnerscope.metrics import services
from partnerscope.metrics.alerts import MAX_ATTEMPTS, deliver_pending, raise_alert
from partnerscope.metrics.models import AlertDelivery


class Receiver:
    """A local webhook receiver: answers the queued statuses in turn, records what it got."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/partnerscope"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver([500, 200])
    yield r
    r.close()


def _alert(world, key="k1"):
    return raise_alert(
        organization_id=world.org.id, dedupe_key=key, kind="threshold", vendor_id=world.vendor_a.id, template=None,
        period_kind="month", period_start=datetime.date(2024, 3, 1), title="Review discipline crossed its threshold",
        message="Review discipline is 40.0 % in 2024-03.",
    )  # fmt: skip


def test_a_private_receiver_needs_an_owner_and_the_flag(world, receiver):
    manager = world.owner_m.__class__.objects.get(user=world.users["manager"])
    with pytest.raises(ValidationError) as refused:
        services.create_webhook(membership=world.owner_m, name="ops", url=receiver.url)
    assert "url" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.create_webhook(membership=manager, name="ops", url=receiver.url, allow_private_host=True)
    assert "allow_private_host" in refused.value.message_dict


def test_email_and_a_signed_webhook_with_a_retry(world, receiver, django_capture_on_commit_callbacks):
    hook, secret = services.create_webhook(
        membership=world.owner_m, name="ops", url=receiver.url, allow_private_host=True
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert _alert(world) == 1
        assert _alert(world) == 0  # the same event again: one alert
    alert_id = AlertDelivery.objects.first().alert_id

    retry = deliver_pending(alert_id)
    assert retry == datetime.timedelta(seconds=60)  # the receiver answered 500: try again later
    assert {m.to[0] for m in mail.outbox} == {"owner@acme.test", "manager@acme.test"}
    assert "Review discipline" in mail.outbox[0].subject
    failed = AlertDelivery.objects.get(channel="webhook")
    assert (failed.status, failed.attempts) == ("pending", 1) and "HTTP 500" in failed.last_error

    assert deliver_pending(alert_id) is None
    delivered = AlertDelivery.objects.get(channel="webhook")
    assert delivered.status == "sent" and delivered.attempts == 2
    assert len(mail.outbox) == 2  # e-mails are not sent twice

    headers, body = receiver.received[-1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Partnerscope-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "alert.threshold" and payload["vendor"] == "Alpha Soft"
    assert secret not in body.decode() and hook.secret_encrypted != secret


def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_attempt(world):
    failing = Receiver([503] * MAX_ATTEMPTS)
    try:
        services.create_webhook(
            membership=world.owner_m, name="down", url=failing.url, allow_private_host=True
        )
        _alert(world, "k2")
        alert_id = AlertDelivery.objects.first().alert_id
        for _ in range(MAX_ATTEMPTS - 1):
            assert deliver_pending(alert_id) is not None
        assert deliver_pending(alert_id) is None
        delivery = AlertDelivery.objects.get(channel="webhook")
        assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
        assert len(failing.received) == MAX_ATTEMPTS
    finally:
        failing.close()
