"""Token authentication and the permission answers (401, 403, 404)."""

import pytest
from django.core.exceptions import ValidationError

from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import ApiToken
from tests.api.conftest import ApiClient, api_membership, api_secret
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Bearer ps_write_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Token ps_write_x",
        "Basic b3duZXI6cGFzc3dvcmQ=",
    ],
)
def test_no_or_bad_token_is_401(world, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = ApiClient().get("/vendors", **extra)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_is_not_api_auth(world):
    # Only bearer tokens authenticate the API: a browser session (and so CSRF) plays no part.
    response = client_for(world, "owner").get("/api/v1/me")
    assert response.status_code == 401


def test_writes_need_no_csrf_token(world):
    secret = api_secret(world, "owner", "write")
    client = ApiClient(secret, enforce_csrf_checks=True)
    assert client.post("/vendors", {"name": "No CSRF Needed"}).status_code == 201


def test_revoked_token_is_401(world):
    m = api_membership(world, "owner")
    token, secret = org_services.create_token(membership=m, name="ci", scope="read")
    client = ApiClient(secret)
    assert client.get("/me").status_code == 200
    org_services.revoke_token(membership=m, token=token)
    assert client.get("/me").status_code == 401


def test_deactivated_users_token_stops_working(world):
    secret = api_secret(world, "manager", "write")
    client = ApiClient(secret)
    assert client.get("/vendors").status_code == 200
    user = world.users["manager"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/vendors").status_code == 401
    assert client.post("/vendors", {"name": "Too late"}).status_code == 401


def test_removing_the_membership_kills_its_token(world):
    secret = api_secret(world, "manager", "write")
    client = ApiClient(secret)
    assert client.get("/me").status_code == 200
    target = api_membership(world, "manager")
    org_services.remove_member(membership=world.owner_m, target=target)
    assert not ApiToken.objects.filter(membership_id=target.pk).exists()
    assert client.get("/me").status_code == 401
    # Re-adding the user does not revive the old token.
    org_services.add_member(actor=None, organization=world.org, user=world.users["manager"], role="manager")
    assert client.get("/me").status_code == 401


def test_me_describes_the_token(world, api_as):
    body = api_as("owner", "read").get("/me").json()
    assert body == {
        "username": "owner@acme.test",
        "organization": {"slug": "acme", "name": "Acme"},
        "role": "owner",
        "vendor": None,
        "token_scope": "read",
        "permissions": ["view", "view_internal"],
    }
    body = api_as("vendor_a").get("/me").json()
    assert body["role"] == "vendor"
    assert body["vendor"] == world.vendor_a.uid
    assert body["permissions"] == ["view"]


@pytest.mark.parametrize("persona", ["owner", "manager", "viewer"])
def test_read_token_cannot_write(world, api_as, persona):
    client = api_as(persona, "read")
    vendor = world.vendor_a.uid
    assert client.post("/vendors", {"name": "Nope"}).status_code == 403
    assert client.patch(f"/vendors/{vendor}", {"name": "Nope"}).status_code == 403
    assert client.delete(f"/vendors/{vendor}").status_code == 403
    # Refused before the body is read: an invalid body is still 403, not 422.
    assert client.post("/vendors", {"bogus": 1}).status_code == 403
    assert client.post(f"/vendors/{vendor}/rates", {}).status_code == 403
    assert client.get(f"/vendors/{vendor}").status_code == 200


def test_viewer_cannot_get_a_write_token(world):
    with pytest.raises(ValidationError, match="cannot write"):
        api_secret(world, "viewer", "write")


def test_vendor_user_writes_are_404(world, api_as):
    client = api_as("vendor_a")
    own = world.vendor_a.uid
    rate = world.vendor_a.rate_lines.get()
    responses = [
        client.post("/vendors", {"name": "Mine"}),
        client.patch(f"/vendors/{own}", {"description": "changed"}),
        client.delete(f"/vendors/{own}"),
        client.post(f"/vendors/{own}/contacts", {"name": "New AM"}),
        client.patch(f"/vendors/{own}/rates/{rate.uid}", {"rate": "1.00"}),
        client.delete(f"/vendors/{own}/rates/{rate.uid}"),
        client.post("/skills", {"name": "COBOL"}),
        client.post("/people", {"name": "Someone"}),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all(r.json() == {"detail": "Not found."} for r in responses)
    world.vendor_a.refresh_from_db()
    assert world.vendor_a.description == ""


def test_other_tenants_records_are_404(world, api_as):
    client = api_as("owner")
    other = world.other_vendor
    rate = other.rate_lines.get()
    assert client.get(f"/vendors/{other.uid}").status_code == 404
    assert client.get(f"/vendors/{other.uid}/rates").status_code == 404
    assert client.patch(f"/vendors/{other.uid}/rates/{rate.uid}", {"rate": "1"}).status_code == 404
    # A child of another tenant under one of our own vendors: still 404.
    assert client.patch(f"/vendors/{world.vendor_a.uid}/rates/{rate.uid}", {"rate": "1"}).status_code == 404
    assert client.get(f"/engagements/{world.other_engagement.uid}").status_code == 404
    assert client.get(f"/people/{world.other_person.uid}").status_code == 404
    assert client.delete(f"/people/{world.other_person.uid}").status_code == 404
    uids = {v["uid"] for v in client.get("/vendors").json()["items"]}
    assert other.uid not in uids
    rate.refresh_from_db()
    assert rate.rate == 60
