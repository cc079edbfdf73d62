"""Alerts: stored in the app, sent by e-mail (Django's mail backend) and by signed webhooks.

Each alert is stored once (its dedupe key), then one delivery per channel and recipient is
queued for the task worker, so a recompute never waits on a mail server or a webhook receiver.
Webhook bodies are signed with HMAC-SHA256 of the raw body under the endpoint's secret
(header ``X-Partnerscope-Signature: sha256=<hex>``), and a failed delivery is retried with
growing delays up to ``MAX_ATTEMPTS``; receiver addresses pass the same outbound-URL guard as
the tracker connectors (no private or loopback hosts unless an owner allowed it).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from partnerscope.evidence.connectors.secrets import decrypt_token
from partnerscope.evidence.connectors.urlguard import UnsafeURL, check_url, guarded_transport
from partnerscope.metrics.models import Alert, AlertDelivery, WebhookEndpoint
from partnerscope.orgs.models import Membership
from partnerscope.orgs.roles import ROLE_PERMS, Perm

MAX_ATTEMPTS = 5
RETRY_DELAYS = (60, 300, 1800, 7200)  # seconds before attempts 2, 3, 4 and 5


def recipients(organization_id: int) -> list[str]:
    """Client members who can act on an alert: those who may edit (owners and managers)."""
    roles = [role for role, perms in ROLE_PERMS.items() if Perm.EDIT in perms]
    return sorted(
        set(
            Membership.objects.filter(
                organization_id=organization_id, role__in=roles, user__is_active=True, vendor__isnull=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def raise_alert(*, organization_id: int, dedupe_key: str, **fields) -> int:
    """Store the alert unless it exists; queue its deliveries. Returns 1 if it is new."""
    alert, created = Alert.objects.get_or_create(
        organization_id=organization_id, dedupe_key=dedupe_key, defaults=fields
    )
    if not created:
        return 0
    deliveries = [
        AlertDelivery(organization_id=organization_id, alert=alert, channel="email", target=email)
        for email in recipients(organization_id)
    ]
    deliveries += [
        AlertDelivery(
            organization_id=organization_id, alert=alert, channel="webhook", target=hook.url, webhook=hook
        )
        for hook in WebhookEndpoint.objects.filter(organization_id=organization_id, active=True)
    ]
    AlertDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(lambda: _enqueue(alert.id))
    return 1


def _enqueue(alert_id: int) -> None:
    from partnerscope.metrics.tasks import deliver_alert

    deliver_alert.enqueue(alert_id)


def payload(alert: Alert) -> dict:
    return {
        "event": f"alert.{alert.kind}",
        "id": alert.uid,
        "organization": alert.organization.slug,
        "vendor": alert.vendor.name if alert.vendor_id else None,
        "vendor_id": alert.vendor.uid if alert.vendor_id else None,
        "period_kind": alert.period_kind,
        "period_start": alert.period_start.isoformat(),
        "title": alert.title,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(delivery: AlertDelivery) -> bool:
    """One attempt. Returns True when delivered; records the error otherwise."""
    alert = delivery.alert
    delivery.attempts += 1
    try:
        if delivery.channel == "email":
            send_mail(
                subject=f"[partnerscope] {alert.title}",
                message=f"{alert.message}\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[delivery.target],
            )
        else:
            hook = delivery.webhook
            check_url(hook.url, allow_private=hook.allow_private_host)
            body = json.dumps(payload(alert), sort_keys=True).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Partnerscope-Event": f"alert.{alert.kind}",
                "X-Partnerscope-Delivery": str(delivery.id),
                "X-Partnerscope-Signature": sign(decrypt_token(hook.secret_encrypted), body),
            }
            transport = guarded_transport(hook.allow_private_host)
            with httpx.Client(transport=transport, timeout=10, follow_redirects=False) as client:
                response = client.post(hook.url, content=body, headers=headers)
            if response.status_code >= 300:
                raise RuntimeError(f"the receiver answered HTTP {response.status_code}")
    except (UnsafeURL, httpx.HTTPError, RuntimeError, OSError, ValueError) as exc:
        delivery.last_error = str(exc)[:500]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = AlertDelivery.Status.FAILED
        delivery.save(update_fields=["attempts", "last_error", "status"])
        return False
    delivery.status, delivery.delivered_at, delivery.last_error = (
        AlertDelivery.Status.SENT,
        timezone.now(),
        "",
    )
    delivery.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
    return True


def deliver_pending(alert_id: int) -> datetime.timedelta | None:
    """Attempt every pending delivery of an alert; the delay before the next try, if any."""
    pending = AlertDelivery.objects.select_related("alert__organization", "alert__vendor", "webhook").filter(
        alert_id=alert_id, status=AlertDelivery.Status.PENDING
    )
    retry = None
    for delivery in pending:
        if not deliver(delivery) and delivery.status == AlertDelivery.Status.PENDING:
            delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
            retry = min(retry or delay, delay)
    return None if retry is None else datetime.timedelta(seconds=retry)
