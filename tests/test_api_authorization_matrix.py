"""Every API operation × every token holder against the policy table in authz_policy.py."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client

from partnerscope.api.router import api
from partnerscope.engagements.models import Assignment, Identity
from partnerscope.evidence.connectors.secrets import encrypt_token
from partnerscope.evidence.models import Connection, ConnectorRun, Repository, SyncRun
from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import Membership
from partnerscope.vendors.models import (
    CaseStudy,
    Certification,
    Contact,
    RateCardLine,
    VendorEmailDomain,
    VendorLocation,
    VendorSkill,
)
from partnerscope.vendors.services import save_vendor_record
from tests.authz_policy import API_OPERATIONS, API_TOKEN_SCOPES, API_VIEW_INTERNAL, ROLE_PERMS

CHILD_MODELS = {
    "skills": VendorSkill,
    "locations": VendorLocation,
    "domains": VendorEmailDomain,
    "certifications": Certification,
    "case-studies": CaseStudy,
    "contacts": Contact,
    "rates": RateCardLine,
}


def operations() -> dict[str, tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {
        op["operationId"]: (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    }


OPERATIONS = operations()


def test_it_has_a_policy_row_for_every_api_operation():
    assert set(OPERATIONS) == set(API_OPERATIONS), (
        f"missing: {sorted(set(OPERATIONS) - set(API_OPERATIONS))}, "
        f"stale: {sorted(set(API_OPERATIONS) - set(OPERATIONS))}"
    )


def _path_kwargs(world, scope: str) -> dict:
    vendor = world.vendor_a if scope == "own" else world.other_vendor
    person = world.person_a if scope == "own" else world.other_person
    engagement = world.engagement_a if scope == "own" else world.other_engagement
    owner_m = world.owner_m if scope == "own" else Membership.objects.get(user=world.users["outsider"])
    extra = {
        "locations": VendorLocation(vendor=vendor, city="Lodz", country="Poland", timezone="Europe/Warsaw"),
        "domains": VendorEmailDomain(vendor=vendor, domain=f"{vendor.uid}.test"),
        "case-studies": CaseStudy(vendor=vendor, title="Checkout rebuild"),
    }
    for instance in extra.values():
        save_vendor_record(membership=owner_m, instance=instance)
    if scope == "own":
        repository = Repository.objects.get(engagement=engagement)
    else:
        repository = Repository.objects.create(
            organization_id=world.other_org.id,
            engagement=engagement,
            name="x",
            source="https://git.example.test/x.git",
        )
    run = SyncRun.objects.create(organization_id=repository.organization_id, repository=repository)
    connection = Connection.objects.create(
        organization_id=repository.organization_id, engagement=engagement, name=f"matrix {scope}",
        kind="github", project="acme/matrix", token_encrypted=encrypt_token("ghp_matrix"),
    )  # fmt: skip
    connector_run = ConnectorRun.objects.create(
        organization_id=repository.organization_id, connection=connection
    )
    kwargs = {
        "vendor": {"uid": vendor.uid},
        "engagement": {"uid": engagement.uid},
        "person": {"uid": person.uid},
        "identity": {"uid": person.uid, "identity_uid": Identity.objects.filter(person=person).first().uid},
        "assignment": {
            "uid": person.uid,
            "assignment_uid": Assignment.objects.filter(person=person).first().uid,
        },
        "repository": {"uid": repository.uid},
        "syncrun": {"uid": run.uid},
        "connection": {"uid": connection.uid},
        "connectorrun": {"uid": connector_run.uid},
    }
    from tests.test_authorization_matrix import metrics_objects

    kwargs.update(metrics_objects(vendor))
    from tests.sourcing.objects import sourcing_objects

    kwargs.update(sourcing_objects(owner_m, vendor, person))
    for kind, model in CHILD_MODELS.items():
        kwargs[f"vendor_{kind}"] = {
            "uid": vendor.uid,
            "child_uid": model.objects.filter(vendor=vendor).first().uid,
        }
    return kwargs


def _call(client: Client, method: str, path: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method in ("POST", "PATCH"):
        return getattr(client, method.lower())(path, data="{}", content_type="application/json", **headers)
    return getattr(client, method.lower())(path, **headers)


def expected(persona: str, method: str, obj: str | None, operation_id: str = "") -> set[int]:
    if persona in ("anonymous", "deactivated", "revoked"):
        return {401}
    role = "manager" if persona == "manager_read" else persona
    perms = ROLE_PERMS[role]
    need = "view" if method == "GET" else "edit"
    if operation_id in API_VIEW_INTERNAL:
        need = "view_internal"
    if need not in perms:
        # Vendors must not learn the operation exists for them; client members get 403.
        return {403} if "view_internal" in perms else {404}
    if need == "edit" and API_TOKEN_SCOPES[persona] == "read":
        return {403}
    if persona == "vendor_b" and obj is not None:
        return {404}
    # Allowed: read, or a write with an empty body (201 for optional-only inputs, 422 otherwise;
    # 202 queued; 204 deleted; 409 already queued or ended; 422 when linked records protect it).
    return {200} if method == "GET" else {200, 201, 202, 204, 409, 422}


@pytest.mark.parametrize("operation_id", sorted(API_OPERATIONS))
def test_it_answers_each_token_as_the_policy_says(world, operation_id):
    method, template = OPERATIONS[operation_id]
    obj = API_OPERATIONS[operation_id]
    own, foreign = _path_kwargs(world, "own"), _path_kwargs(world, "foreign")

    tokens: dict[str, str | None] = {"anonymous": None}
    for persona, scope in API_TOKEN_SCOPES.items():
        user = world.users["manager" if persona == "manager_read" else persona]
        membership = Membership.objects.get(user=user, organization=world.org)
        tokens[persona] = org_services.create_token(membership=membership, name="m", scope=scope)[1]
    gone = Membership.objects.get(user=world.users["deactivated"])
    gone.user.is_active = True  # tokens are made while active, then the user is deactivated
    tokens["deactivated"] = org_services.create_token(membership=gone, name="m", scope="read")[1]
    gone.user.is_active = False
    revoked, tokens["revoked"] = org_services.create_token(membership=world.owner_m, name="r", scope="write")
    org_services.revoke_token(membership=world.owner_m, token=revoked)
    outsider_m = Membership.objects.get(user=world.users["outsider"])
    outsider_token = org_services.create_token(membership=outsider_m, name="o", scope="write")[1]

    def fill(kwargs):
        return re.sub(r"\{(\w+)\}", lambda m: kwargs[m.group(1)], template)

    failures = []
    client = Client()
    for persona, token in tokens.items():
        path = fill(own.get(obj, {})) if obj else template
        with transaction.atomic():
            response = _call(client, method, path, token)
            transaction.set_rollback(True)
        want = expected(persona, method, obj, operation_id)
        if response.status_code not in want:
            failures.append(f"{persona} {method} {path}: {response.status_code}, expected {want}")
    if obj is not None:
        # Another tenant's object answers exactly as a record that does not exist: same status,
        # same body (a 422 for an empty body comes before any lookup, so it says nothing).
        missing = {key: "z" * 16 for key in own[obj]}
        probes = [("outsider", outsider_token, own[obj])] + [
            (persona, tokens[persona], foreign[obj]) for persona in ("owner", "manager", "viewer", "vendor_a")
        ]
        for persona, token, kwargs in probes:
            answers = []
            for probe in (kwargs, missing):
                with transaction.atomic():
                    response = _call(client, method, fill(probe), token)
                    transaction.set_rollback(True)
                answers.append((response.status_code, response.content))
            if answers[0] != answers[1] or answers[0][0] not in {403, 404, 422}:
                failures.append(
                    f"{persona} {method} {fill(kwargs)} (other tenant): {answers[0]} vs missing {answers[1]}"
                )
    assert not failures, "\n".join(failures)
