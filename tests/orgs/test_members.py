"""Invitations, role changes, removals and API tokens through the pages, with their audit trail."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from partnerscope.orgs.models import ApiToken, AuditEvent, Invitation, Membership
from tests.conftest import client_for


def _invite(client, **data):
    return client.post(reverse("member_invite", kwargs={"org_slug": "acme"}), data)


def _link(response) -> str:
    return re.search(r'id="invitation-link">([^<]+)<', response.content.decode()).group(1)


def test_an_invited_vendor_user_joins_and_sees_only_its_vendor(world):
    owner = client_for(world, "owner")
    response = _invite(owner, email="Lead@Alpha.test", role="vendor", vendor=world.vendor_a.uid)
    assert response.status_code == 200
    link = _link(response)
    assert Invitation.objects.get(email="lead@alpha.test").token_hash not in link  # only the hash is kept

    newcomer = Client()
    response = newcomer.post(
        link,
        {
            "full_name": "Lea Lead",
            "password": "a-long-new-password-7",
            "password_again": "a-long-new-password-7",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="lead@alpha.test")
    assert (membership.role, membership.vendor_id) == ("vendor", world.vendor_a.id)
    assert AuditEvent.objects.filter(action="partnerscope.invitation.accepted").exists()

    # The link works once.
    assert newcomer.get(link).status_code == 404
    assert newcomer.login(username="lead@alpha.test", password="a-long-new-password-7")
    listed = newcomer.get(reverse("vendor_list", kwargs={"org_slug": "acme"})).context["table"].rows
    assert {v.id for v in listed} == {world.vendor_a.id}


def test_an_invitation_checks_role_vendor_and_password(world):
    owner = client_for(world, "owner")
    response = _invite(owner, email="x@alpha.test", role="vendor")
    assert response.status_code == 400
    assert "bound to one vendor" in response.content.decode()
    response = _invite(owner, email="y@acme.test", role="viewer", vendor=world.vendor_a.uid)
    assert response.status_code == 400
    response = _invite(owner, email="viewer@acme.test", role="viewer")
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    # Another tenant's vendor cannot be chosen: it is not among the choices.
    response = _invite(owner, email="z@gamma.test", role="vendor", vendor=world.other_vendor.uid)
    assert response.status_code == 400
    assert not Invitation.objects.filter(email="z@gamma.test").exists()

    link = _link(_invite(owner, email="weak@acme.test", role="viewer"))
    response = Client().post(link, {"password": "123", "password_again": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not get_user_model().objects.filter(username="weak@acme.test").exists()


def test_a_revoked_invitation_no_longer_works(world):
    owner = client_for(world, "owner")
    link = _link(_invite(owner, email="late@acme.test", role="viewer"))
    invitation = Invitation.objects.get(email="late@acme.test")
    owner.post(reverse("invitation_revoke", kwargs={"org_slug": "acme", "uid": invitation.uid}))
    assert Client().get(link).status_code == 404


def test_the_last_owner_cannot_be_demoted_or_removed(world):
    owner = client_for(world, "owner")
    response = owner.post(
        reverse("member_edit", kwargs={"org_slug": "acme", "uid": world.owner_m.uid}), {"role": "viewer"}
    )
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    response = owner.post(reverse("member_remove", kwargs={"org_slug": "acme", "uid": world.owner_m.uid}))
    assert response.status_code == 400
    assert Membership.objects.filter(pk=world.owner_m.pk, role="owner").exists()


def test_a_role_change_is_audited_with_before_and_after(world):
    owner = client_for(world, "owner")
    target = Membership.objects.get(user=world.users["viewer"])
    response = owner.post(
        reverse("member_edit", kwargs={"org_slug": "acme", "uid": target.uid}), {"role": "manager"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="partnerscope.membership.updated", object_uid=target.uid)
    assert (event.before["role"], event.after["role"]) == ("viewer", "manager")
    assert event.actor == world.users["owner"]


def test_a_token_is_shown_once_and_stored_hashed(world):
    viewer = client_for(world, "viewer")
    response = viewer.post(
        reverse("token_create", kwargs={"org_slug": "acme"}), {"name": "BI", "scope": "read"}
    )
    secret = re.search(r'id="token-secret">([^<]+)<', response.content.decode()).group(1)
    assert secret.startswith("ps_read_")
    token = ApiToken.objects.get(name="BI")
    assert secret not in (token.key_hash, token.prefix) and secret.startswith(token.prefix)
    listing = viewer.get(reverse("token_list", kwargs={"org_slug": "acme"})).content.decode()
    assert secret not in listing and token.prefix in listing
    # A viewer cannot mint a write token.
    response = viewer.post(
        reverse("token_create", kwargs={"org_slug": "acme"}), {"name": "W", "scope": "write"}
    )
    assert response.status_code == 400
    assert "cannot write" in response.content.decode()
    # Revoked: the next API call fails.
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/me").status_code == 200
    viewer.post(reverse("token_revoke", kwargs={"org_slug": "acme", "uid": token.uid}))
    assert api.get("/api/v1/me").status_code == 401
