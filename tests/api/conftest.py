"""API fixtures on top of the persona ``world``: a token per persona and a JSON client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import Membership

BASE = "/api/v1"


@pytest.fixture(autouse=True)
def api_fast_passwords(settings):
    """The persona world creates ten users; hashing their passwords for real takes seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class ApiClient:
    """Django's test client speaking JSON with ``Authorization: Bearer <secret>``."""

    def __init__(self, secret: str | None = None, **client_kwargs):
        self.secret = secret
        self.client = Client(**client_kwargs)

    def request(self, method: str, path: str, body=None, **extra):
        if self.secret is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.secret}")
        kwargs = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.client, method.lower())(f"{BASE}{path}", **kwargs, **extra)

    def get(self, path, **extra):
        return self.request("GET", path, **extra)

    def post(self, path, body=None, **extra):
        return self.request("POST", path, body, **extra)

    def patch(self, path, body=None, **extra):
        return self.request("PATCH", path, body, **extra)

    def delete(self, path, **extra):
        return self.request("DELETE", path, **extra)


def api_membership(world, persona: str) -> Membership:
    org = world.other_org if persona == "outsider" else world.org
    return Membership.objects.get(organization=org, user=world.users[persona])


def api_secret(world, persona: str, scope: str) -> str:
    _, secret = org_services.create_token(membership=api_membership(world, persona), name="t", scope=scope)
    return secret


@pytest.fixture
def api_as(world):
    """``api_as("owner")`` (write token), ``api_as("viewer", "read")``, ``api_as(None)`` (no token)."""

    def make(persona: str | None, scope: str | None = None) -> ApiClient:
        if persona is None:
            return ApiClient()
        if scope is None:
            scope = "write" if persona in {"owner", "manager", "outsider"} else "read"
        return ApiClient(api_secret(world, persona, scope))

    return make
