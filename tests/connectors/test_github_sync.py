"""A GitHub sync against the local fake server: full, incremental, rate limits, bad pages."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from partnerscope.evidence.connector_services import queue_connection_sync, save_connection
from partnerscope.evidence.connectors.runner import run_connector_sync
from partnerscope.evidence.models import (
    Connection,
    Deployment,
    Incident,
    PullRequest,
    PullRequestCommit,
    Review,
    WorkItem,
    WorkItemEvent,
)
from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import Membership
from tests.fakes.github import FakeGitHub, GeneratedProject

TOKEN = "ghp_fake_token_for_tests"


@pytest.fixture
def fake(settings):
    settings.TRACKER_RUNS_DAYS = 3650
    server = FakeGitHub(GeneratedProject(prs=120, issues=150, deployments=30, runs=40, seed=3), token=TOKEN)
    server.start()
    yield server
    server.stop()


def connect(world, fake, **fields) -> Connection:
    return save_connection(
        membership=world.owner_m,
        instance=Connection(
            engagement=world.engagement_a, name="fake", kind="github", project="acme/app",
            base_url=fake.base_url, allow_private_host=True, **fields,
        ),
        token=TOKEN,
    )  # fmt: skip


def sync(connection, sleeps=None):
    run = queue_connection_sync(Connection.objects.get(pk=connection.pk))
    return run_connector_sync(run, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_a_full_sync_reads_everything_with_few_requests(world, fake):
    connection = connect(world, fake)
    run = sync(connection)
    assert run.status == "succeeded", run.message
    project = fake.project
    prs = PullRequest.objects.filter(connection=connection)
    assert prs.count() == len(project.pull_requests)
    assert WorkItem.objects.filter(connection=connection).count() == len(project.issues)
    assert Deployment.objects.filter(connection=connection, kind="deployment").count() == len(
        project.deployments
    )
    assert Deployment.objects.filter(connection=connection, kind="workflow_run").count() == len(project.runs)
    expected_commits = sum(len(n["commits"]["nodes"]) for n in project.pull_requests.values())
    assert PullRequestCommit.objects.filter(pull_request__connection=connection).count() == expected_commits
    assert WorkItemEvent.objects.filter(work_item__connection=connection).count() > 0
    # One request brings 50 pull requests with their reviews and commits.
    assert run.requests < 30, run.requests
    # Attribution by the dated roster: the fixture maps ana-alpha to vendor A, ben-beta to vendor B.
    ana = prs.filter(actor="ana-alpha").first()
    assert ana is not None and ana.status == "vendor" and ana.vendor_id == world.vendor_a.id
    assert (
        Review.objects.filter(pull_request__connection=connection, actor="ben-beta")
        .exclude(vendor=world.vendor_b)
        .count()
        == 0
    )
    assert prs.filter(is_bot=True, status="bot").exists()
    assert Incident.objects.filter(connection=connection, source="issue").count() == (
        WorkItem.objects.filter(connection=connection, is_incident=True).count()
    )


def test_an_incremental_sync_reads_only_what_changed_and_changes_nothing_else(world, fake):
    connection = connect(world, fake)
    first = sync(connection)
    before = {p.number: p.title for p in PullRequest.objects.filter(connection=connection)}
    changed = fake.project.touch(0.05, datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    assert changed > 0
    second = sync(connection)
    assert second.status == "succeeded", second.message
    # One page each of pull requests, issues and deployments, and one conditional runs request.
    assert second.requests == 4 < first.requests, (second.requests, first.requests)
    after = {p.number: p.title for p in PullRequest.objects.filter(connection=connection)}
    touched = set(fake.project.last_touched["prs"])
    assert {n for n in after if after[n] != before[n]} == touched
    # A third sync with nothing new: the same rows.
    counts = (PullRequest.objects.count(), Review.objects.count(), WorkItemEvent.objects.count())
    fake.reset_counts()
    third = sync(connection)
    assert third.status == "succeeded"
    assert fake.request_count(status=304) == 1  # the runs list had not changed: no rate limit spent
    assert (PullRequest.objects.count(), Review.objects.count(), WorkItemEvent.objects.count()) == counts


@pytest.mark.parametrize(
    "kind, on",
    [
        ("502", "PullRequests"),
        ("rate_limit", "Issues"),
        ("secondary", "Deployments"),
        ("graphql_rate_limited", "PullRequests"),
    ],
)
def test_rate_limits_and_server_errors_are_waited_out(world, fake, kind, on):
    connection = connect(world, fake)
    fake.fail_next(kind, times=2, on=on)
    sleeps = []
    run = sync(connection, sleeps)
    assert run.status == "succeeded", run.message
    assert sleeps, "it should have waited before retrying"
    assert PullRequest.objects.filter(connection=connection).count() == len(fake.project.pull_requests)


def test_a_malformed_page_fails_clearly_and_keeps_the_cursor(world, fake):
    connection = connect(world, fake)
    fake.fail_next("malformed", on="PullRequests")
    run = sync(connection)
    assert run.status == "failed" and "malformed" in run.message.lower()
    connection.refresh_from_db()
    assert "pull_requests" not in connection.cursor and connection.status == "failed"
    assert sync(connection).status == "succeeded"


def test_a_mistyped_field_names_the_field_and_the_record(world, fake):
    connection = connect(world, fake)
    fake.fail_next("bad_field", on="Deployments")
    run = sync(connection)
    assert run.status == "failed"
    assert "databaseId" in run.message and "deployment" in run.message


def test_a_redirect_to_another_host_is_not_followed(world, fake):
    connection = connect(world, fake)
    fake.fail_next("redirect_other_host", on="PullRequests")
    run = sync(connection)
    assert run.status == "failed" and "another host" in run.message


def test_a_wrong_token_says_so_without_showing_it(world, fake):
    connection = connect(world, fake)
    save_connection(membership=world.owner_m, instance=connection, token="ghp_wrong_token_value")
    run = sync(connection)
    assert run.status == "failed" and "rejected the token" in run.message
    assert "ghp_wrong_token_value" not in run.message


def test_a_private_server_needs_the_owners_permission(world, fake):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="private"):
        save_connection(
            membership=world.owner_m,
            instance=Connection(
                engagement=world.engagement_a,
                name="x",
                kind="github",
                project="acme/app",
                base_url=fake.base_url,
            ),
            token=TOKEN,
        )


def test_vendor_users_see_only_their_own_records(world, fake):
    connection = connect(world, fake)
    sync(connection)
    vendor_m = Membership.objects.get(user=world.users["vendor_b"])
    _, token = org_services.create_token(membership=vendor_m, name="t", scope="read")
    client = Client()
    body = client.get("/api/v1/pull-requests?limit=500", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["count"] > 0
    assert {item["vendor"] for item in body["items"]} == {world.vendor_b.uid}
    page = Client()
    page.force_login(world.users["vendor_b"])
    html = page.get("/o/acme/pull-requests/").content.decode()
    assert "ana-alpha" not in html and "ben-beta" in html
