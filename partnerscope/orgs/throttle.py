"""Sign-in throttling per (username, client IP), without permanent lockout.

Failures older than the window stop counting. The client IP is REMOTE_ADDR only:
X-Forwarded-For is chosen by the client and would let it reset its own counter.
"""

import datetime

from django.conf import settings
from django.utils import timezone

from partnerscope.orgs.models import LoginFailure


def _key(username: str) -> str:
    return username.strip().lower()[:150]


def is_throttled(username: str, ip: str | None) -> bool:
    since = timezone.now() - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(username=_key(username), ip=ip, at__gte=since).count()
    return recent >= settings.LOGIN_FAILURE_LIMIT


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=_key(username), ip=ip)
    # Keep the table small: rows past the window no longer matter.
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    LoginFailure.objects.filter(at__lt=cutoff).delete()
