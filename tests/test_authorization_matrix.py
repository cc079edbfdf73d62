"""Every URL × every persona × every applicable operation against the policy table.

Fails when a URL name has no row in the policy, so a new page cannot ship unchecked.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from partnerscope.engagements.models import Assignment, Identity
from partnerscope.evidence.connectors.secrets import encrypt_token
from partnerscope.evidence.models import Connection, ConnectorRun, Repository, SyncRun
from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import Membership
from partnerscope.vendors.models import RateCardLine, Skill
from tests.authz_policy import LIST_VENDOR_IDS, ORG_URLS, PUBLIC_URLS, ROLE_PERMS, TOKEN_REVOKE
from tests.conftest import PERSONAS, client_for
from tests.sourcing.objects import sourcing_objects

NON_MEMBERS = {"anonymous", "outsider", "deactivated"}


def all_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= all_url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_it_has_a_policy_row_for_every_url():
    web_names = {n for n in all_url_names() if not n.startswith("api:")}
    missing = web_names - set(ORG_URLS) - set(PUBLIC_URLS)
    assert not missing, f"URLs without a row in tests/authz_policy.py: {sorted(missing)}"
    stale = (set(ORG_URLS) | set(PUBLIC_URLS)) - web_names
    assert not stale, f"policy rows for URLs that no longer exist: {sorted(stale)}"


def _objects(world, scope: str) -> dict:
    """kwargs for each object kind: 'own' (vendor A, acme) or 'foreign' (the other tenant)."""
    if scope == "own":
        org_membership = world.owner_m
        vendor, engagement, person = world.vendor_a, world.engagement_a, world.person_a
    else:
        org_membership = Membership.objects.get(user=world.users["outsider"])
        vendor, engagement, person = world.other_vendor, world.other_engagement, world.other_person
    rate = RateCardLine.objects.get(vendor=vendor)
    identity = Identity.objects.filter(person=person).first()
    assignment = Assignment.objects.filter(person=person).first()
    skill = Skill.objects.filter(organization_id=vendor.organization_id).first()
    membership = Membership.objects.get(user=world.users["manager"]) if scope == "own" else org_membership
    invitation, _ = org_services.invite(
        membership=org_membership, email=f"new-{scope}@example.test", role="viewer"
    )
    token_holder = Membership.objects.get(user=world.users["viewer"]) if scope == "own" else org_membership
    token, _ = org_services.create_token(membership=token_holder, name="matrix", scope="read")
    repository = Repository.objects.create(
        organization_id=vendor.organization_id,
        engagement=engagement,
        name="app",
        source="https://example.test/app.git",
    )
    run = SyncRun.objects.create(organization_id=vendor.organization_id, repository=repository)
    connection = Connection.objects.create(
        organization_id=vendor.organization_id, engagement=engagement, name="matrix", kind="github",
        project="acme/matrix", token_encrypted=encrypt_token("ghp_matrix"),
    )  # fmt: skip
    connector_run = ConnectorRun.objects.create(organization_id=vendor.organization_id, connection=connection)
    metrics = metrics_objects(vendor)
    return {
        None: {},
        "vendor": {"uid": vendor.uid},
        "vendor_kind": {"uid": vendor.uid, "kind": "rates"},
        "vendor_child": {"uid": vendor.uid, "kind": "rates", "child_uid": rate.uid},
        "skill": {"uid": skill.uid},
        "engagement": {"uid": engagement.uid},
        "person": {"uid": person.uid},
        "identity": {"uid": person.uid, "identity_uid": identity.uid},
        "assignment": {"uid": person.uid, "assignment_uid": assignment.uid},
        "membership": {"uid": membership.uid},
        "invitation": {"uid": invitation.uid},
        "token": {"uid": token.uid},
        "repository": {"uid": repository.uid},
        "syncrun": {"uid": run.uid},
        "connection": {"uid": connection.uid},
        "connectorrun": {"uid": connector_run.uid},
        "vendor_export": {"uid": vendor.uid, "fmt": "csv"},
        **metrics,
        **sourcing_objects(org_membership, vendor, person),
    }


def metrics_objects(vendor) -> dict:
    """A stored value of the vendor, a dispute of it, the default template, a webhook, a run."""
    import datetime

    from django.utils import timezone

    from partnerscope.metrics.defaults import ensure_default_template
    from partnerscope.metrics.models import Dispute, MetricsRun, MetricValue, WebhookEndpoint

    org_id = vendor.organization_id
    template = ensure_default_template(org_id)
    value = MetricValue.objects.create(
        organization_id=org_id, kpi="review_discipline", version=1, engagement=None, engagement_key=0,
        vendor=vendor, vendor_key=vendor.id, period_kind="month", period_start=datetime.date(2024, 3, 1),
        value=0.5, sample=10, numerator=5, denominator=10, status="ok", digest="x", computed_at=timezone.now(),
    )  # fmt: skip
    dispute = Dispute.objects.create(organization_id=org_id, value=value, comment="wrong")
    hook = WebhookEndpoint.objects.create(
        organization_id=org_id,
        name="hook",
        url="https://hooks.example.test/x",
        secret_encrypted=encrypt_token("s"),
    )
    run = MetricsRun.objects.create(organization_id=org_id, full=True)
    from partnerscope.metrics import charts

    chart = charts.register(org_id, vendor.id, charts.trend_spec([{"period": "2024-03", "value": 1.0}]))
    return {
        "chart": {"key": chart},
        "metricvalue": {"uid": value.uid},
        "dispute": {"uid": dispute.uid},
        "template": {"uid": template.uid},
        "webhook": {"uid": hook.uid},
        "metricsrun": {"uid": run.uid},
    }


def expected_status(name: str, persona: str, method: str) -> set[int]:
    perm, obj, _ = ORG_URLS[name]
    if persona in ("anonymous", "deactivated"):
        return {302}  # to the sign-in page: the deactivated user's session no longer counts
    if persona == "outsider":
        return {404}
    if name == "token_revoke":
        allowed = TOKEN_REVOKE[persona]
        if not allowed:
            return {404}
    else:
        perms = ROLE_PERMS[persona]
        if perm not in perms:
            # Vendors must not learn that client-only pages exist; client members get 403.
            return {403} if "view_internal" in perms else {404}
        if persona == "vendor_b" and obj is not None and obj not in ("skill",):
            return {404}  # the own object belongs to vendor A
    if method == "GET":
        return {200}
    return {200, 302, 400}  # POST with an empty form: redirect (delete) or a form error


def request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, {})


@pytest.mark.parametrize("name", sorted(ORG_URLS))
def test_it_answers_each_persona_as_the_policy_says(world, name):
    perm, obj, methods = ORG_URLS[name]
    own = _objects(world, "own")[obj]
    foreign = _objects(world, "foreign")[obj]
    failures = []
    for persona in PERSONAS:
        client = client_for(world, persona)
        for method in methods:
            url = reverse(name, kwargs={"org_slug": "acme", **own})
            # Each request in a savepoint rolled back afterwards, so a delete by one persona
            # does not change what the next one sees.
            with transaction.atomic():
                response = request(client, method, url)
                transaction.set_rollback(True)
            expected = expected_status(name, persona, method)
            if response.status_code not in expected:
                failures.append(f"{persona} {method} {url}: {response.status_code}, expected {expected}")
            if persona in NON_MEMBERS and response.status_code == 302:
                assert "/accounts/login/" in response["Location"], (persona, url)
            if obj is not None and persona not in NON_MEMBERS:
                # Another tenant's object through this organization's URL: always 404.
                foreign_url = reverse(name, kwargs={"org_slug": "acme", **foreign})
                with transaction.atomic():
                    response = request(client, method, foreign_url)
                    transaction.set_rollback(True)
                # 404, or the same refusal as for any object when the role lacks the permission
                # (checked before any lookup, so it says nothing about the object).
                allowed = {404} | (expected & {403, 404})
                if response.status_code not in allowed:
                    failures.append(
                        f"{persona} {method} {foreign_url} (other tenant): {response.status_code}"
                    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(PUBLIC_URLS))
def test_it_answers_public_urls(world, name):
    kwargs, expected = PUBLIC_URLS[name]
    for persona, status in expected.items():
        response = client_for(world, persona).get(reverse(name, kwargs=kwargs))
        assert response.status_code == status, (persona, name, response.status_code)


@pytest.mark.parametrize("name", sorted(LIST_VENDOR_IDS))
def test_it_lists_exactly_the_vendors_each_persona_may_see(world, name):
    everyone = {world.vendor_a.id, world.vendor_b.id}
    expected = {
        "owner": everyone,
        "manager": everyone,
        "viewer": everyone,
        "vendor_a": {world.vendor_a.id},
        "vendor_b": {world.vendor_b.id},
    }
    for persona, vendor_ids in expected.items():
        response = client_for(world, persona).get(reverse(name, kwargs={"org_slug": "acme"}))
        assert response.status_code == 200
        assert LIST_VENDOR_IDS[name](response.context) == vendor_ids, persona


def test_it_lists_people_by_their_vendor_at_any_date(world):
    from partnerscope.engagements.models import Person

    expected = {
        "owner": {world.person_a.id, world.person_b.id, world.mover.id, world.inhouse.id},
        "viewer": {world.person_a.id, world.person_b.id, world.mover.id, world.inhouse.id},
        "vendor_a": {world.person_a.id, world.mover.id},
        "vendor_b": {world.person_b.id, world.mover.id},
    }
    for persona, ids in expected.items():
        membership = Membership.objects.get(user=world.users[persona], organization=world.org)
        assert set(Person.objects.visible_to(membership).values_list("id", flat=True)) == ids, persona


def test_a_vendor_user_with_no_vendor_sees_nothing(world):
    from partnerscope.vendors.models import Vendor

    membership = Membership.objects.get(user=world.users["vendor_a"])
    membership.vendor_id = None  # the None == None trap: must deny, not match vendor-less rows
    assert not Vendor.objects.visible_to(membership).exists()
    assert not Assignment.objects.visible_to(membership).exists()


def test_role_change_and_removal_take_effect_on_the_next_request(world):
    client = client_for(world, "manager")
    url = reverse("vendor_create", kwargs={"org_slug": "acme"})
    assert client.get(url).status_code == 200
    target = Membership.objects.get(user=world.users["manager"])
    org_services.change_role(membership=world.owner_m, target=target, role="viewer")
    assert client.get(url).status_code == 403
    org_services.remove_member(membership=world.owner_m, target=target)
    assert client.get(url).status_code == 404
