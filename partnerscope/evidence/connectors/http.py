"""HTTP for connectors: timeouts, retries, rate limits, conditional requests, safe redirects.

- Server errors (5xx) and network errors are retried with exponential backoff.
- Rate limits: 429, or 403 with a rate-limit signal, waits ``Retry-After`` or until the reset
  time the headers give (GitHub ``x-ratelimit-*``, GitLab ``RateLimit-*``, Jira
  ``X-RateLimit-*``/``Retry-After``); when the remaining budget reads 0, the next request waits
  for the reset first. A wait longer than TRACKER_MAX_WAIT_SECONDS stops the sync with a
  message instead.
- ``If-None-Match`` with a stored ETag: a 304 costs no rate limit on GitHub.
- Redirects are followed only within the same scheme, host and port.
- Every request's host is checked again (urlguard), and the token never appears in a message.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import httpx
from django.conf import settings

from partnerscope.evidence.connectors.urlguard import UnsafeURL, check_url, guarded_transport, same_origin

RATE_LIMIT_WORDS = ("rate limit", "abuse detection", "too many requests")


class SourceError(Exception):
    """Something the user must read: what failed, in words, without secrets."""


class Http:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        allow_private: bool = False,
        secret: str = "",
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = check_url(base_url, allow_private=allow_private)
        self.allow_private = allow_private
        self.secret = secret
        self.sleep = sleep
        self.requests = 0
        self.waited_s = 0.0
        self._reset_at: float | None = None
        self.client = httpx.Client(
            headers={"User-Agent": "partnerscope", **headers},
            timeout=httpx.Timeout(settings.TRACKER_TIMEOUT_SECONDS),
            follow_redirects=False,
            transport=transport or guarded_transport(allow_private),
        )

    def close(self) -> None:
        self.client.close()

    def _clean(self, text: str) -> str:
        return text.replace(self.secret, "[token]") if self.secret else text

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        etag: str | None = None,
        headers: dict | None = None,
    ) -> httpx.Response:
        url = self.url(path)
        extra = dict(headers or {})
        if etag:
            extra["If-None-Match"] = etag
        failures = waits = redirects = 0
        while True:
            if not same_origin(url, self.base_url):
                raise SourceError(
                    f"The server redirected to another host ({httpx.URL(url).host}); not followed."
                )
            try:
                check_url(url.split("?", 1)[0], allow_private=self.allow_private)
            except UnsafeURL as exc:
                raise SourceError(str(exc)) from None
            self._wait_for_reset()
            try:
                response = self.client.request(method, url, params=params, json=json_body, headers=extra)
            except UnsafeURL as exc:
                raise SourceError(str(exc)) from None
            except httpx.TransportError as exc:
                failures += 1
                if failures > settings.TRACKER_RETRIES:
                    raise SourceError(
                        self._clean(f"Could not reach {httpx.URL(url).host}: {exc.__class__.__name__} {exc}")
                    ) from None
                self._pause(min(60.0, 2.0 ** (failures - 1)))
                continue
            self.requests += 1
            self._note_budget(response)
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and "location" in response.headers:
                redirects += 1
                if redirects > 3:
                    raise SourceError("Too many redirects.")
                url = urljoin(url, response.headers["location"])
                params = None  # the new location carries its own query
                continue
            if self._is_rate_limited(response):
                waits += 1
                wait = self._rate_limit_wait(response)
                if waits > 5 or wait > settings.TRACKER_MAX_WAIT_SECONDS:
                    raise SourceError(
                        f"The server's rate limit is used up (retry in {round(wait)} s); the sync stopped "
                        "and will continue from here next time."
                    )
                self._pause(wait)
                continue
            if status >= 500:
                failures += 1
                if failures > settings.TRACKER_RETRIES:
                    raise SourceError(
                        f"The server failed {failures} times (HTTP {status}) on {httpx.URL(url).path}."
                    )
                self._pause(min(60.0, 2.0 ** (failures - 1)))
                continue
            if status == 401:
                raise SourceError(
                    "The server rejected the token (HTTP 401): it is wrong, expired or revoked."
                )
            if status == 403:
                raise SourceError(f"The token may not read this (HTTP 403): {self._message(response)}")
            if status == 404:
                raise SourceError(
                    f"Not found (HTTP 404) at {httpx.URL(url).path}: check the project name and that the "
                    "token can see it."
                )
            if status >= 400:
                raise SourceError(
                    f"The server refused the request (HTTP {status}): {self._message(response)}"
                )
            return response

    def get_json(self, path: str, **kwargs) -> Any:
        return self.json(self.request("GET", path, **kwargs))

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError(
                f"The server sent a malformed page (not JSON) for {response.request.url.path}; nothing from "
                "it was stored."
            ) from None

    # -- rate limits ---------------------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        self.waited_s += seconds
        self.sleep(seconds)

    @staticmethod
    def _header(response: httpx.Response, *names: str) -> str | None:
        for name in names:
            if name in response.headers:
                return response.headers[name]
        return None

    def _reset_time(self, response: httpx.Response) -> float | None:
        raw = self._header(response, "x-ratelimit-reset", "ratelimit-reset")
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            try:  # Jira Cloud sends an ISO time
                return datetime.datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError:
                return None
        # Epoch seconds (GitHub, GitLab); a small number is "seconds from now".
        return value if value > 1_000_000_000 else time.time() + value

    def _note_budget(self, response: httpx.Response) -> None:
        remaining = self._header(response, "x-ratelimit-remaining", "ratelimit-remaining")
        if remaining is not None and remaining.strip() == "0" and response.status_code < 400:
            self._reset_at = self._reset_time(response)
        else:
            self._reset_at = None

    def _wait_for_reset(self) -> None:
        if self._reset_at is None:
            return
        wait = max(0.0, self._reset_at - time.time()) + 1
        self._reset_at = None
        if wait > settings.TRACKER_MAX_WAIT_SECONDS:
            raise SourceError(
                f"The server's rate limit is used up (it resets in {round(wait)} s); the sync stopped and "
                "will continue from here next time."
            )
        self._pause(wait)

    def _is_rate_limited(self, response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        if response.status_code != 403:
            return False
        if self._header(response, "retry-after") is not None:
            return True
        if (self._header(response, "x-ratelimit-remaining", "ratelimit-remaining") or "").strip() == "0":
            return True
        return any(word in response.text[:2000].lower() for word in RATE_LIMIT_WORDS)

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        retry_after = self._header(response, "retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                except (TypeError, ValueError):
                    when = None  # neither seconds nor a date: the reset headers or the default
                if when is not None:
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=datetime.UTC)
                    return max(0.0, when.timestamp() - time.time())
        reset = self._reset_time(response)
        if reset is not None:
            return max(0.0, reset - time.time()) + 1
        return 60.0  # GitHub's advice for a secondary limit without headers

    def _message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return self._clean(response.text[:200].strip() or response.reason_phrase)
        if isinstance(body, dict):
            for key in ("message", "error", "errorMessages"):
                if body.get(key):
                    value = body[key]
                    return self._clean(
                        str(value if not isinstance(value, list) else "; ".join(map(str, value)))[:300]
                    )
            if isinstance(body.get("errors"), dict) and body["errors"]:  # Jira: {"errors": {field: message}}
                return self._clean("; ".join(f"{k}: {v}" for k, v in body["errors"].items())[:300])
        return self._clean(str(body)[:200])
