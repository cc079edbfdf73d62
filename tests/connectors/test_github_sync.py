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


def test_deployments_ship_several_pull_requests_and_incidents_point_at_their_deployment(world, settings):
    from partnerscope.evidence.models import DeploymentCommit

    settings.TRACKER_RUNS_DAYS = 3650
    t0 = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)

    def iso(delta_hours: float) -> str:
        return (t0 + datetime.timedelta(hours=delta_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    project = GeneratedProject(prs=0, issues=0, seed=5)

    def pr(hours, merged, sha, login, title):
        node = project.add_pr(t0 + datetime.timedelta(hours=hours))
        node.update(
            title=title, state="MERGED", isDraft=False, mergedAt=iso(merged), closedAt=iso(merged),
            updatedAt=iso(merged), mergeCommit={"oid": sha}, author={"__typename": "User", "login": login},
        )  # fmt: skip

    def deploy(hours, sha):
        node = project.add_deployment(t0 + datetime.timedelta(hours=hours))
        node.update(
            environment="production", commitOid=sha, ref={"name": "main"}, updatedAt=iso(hours + 0.2),
            latestStatus={"state": "SUCCESS", "createdAt": iso(hours + 0.2), "logUrl": ""},
        )  # fmt: skip

    pr(0, 1, "1" * 40, "ana-alpha", "Add cart")
    pr(2, 3, "2" * 40, "ben-beta", "Faster search")
    deploy(5, "2" * 40)
    pr(6, 7, "3" * 40, "ida-inhouse", 'Revert "Add cart"')
    deploy(8, "3" * 40)
    issue = project.add_issue(t0 + datetime.timedelta(hours=9))
    issue.update(
        labels={"nodes": [{"name": "incident"}]}, state="CLOSED", stateReason="COMPLETED", closedAt=iso(10),
        updatedAt=iso(10), assignees={"nodes": [{"login": "ben-beta"}]}, timelineItems={"nodes": []},
    )  # fmt: skip
    with FakeGitHub(project, token=TOKEN) as server:
        connection = connect(world, server)
        assert sync(connection).status == "succeeded"
    first, second = Deployment.objects.filter(connection=connection).order_by("created_at")
    shipped = lambda d: set(DeploymentCommit.objects.filter(deployment=d).values_list("sha", flat=True))  # noqa: E731
    assert shipped(first) == {"1" * 40, "2" * 40}  # two pull requests in one deployment
    assert shipped(second) == {"3" * 40}
    revert = Incident.objects.get(connection=connection, source="revert")
    # Charged to the author of the reverted change, and to the deployment that shipped it.
    assert (revert.actor, revert.vendor_id, revert.caused_by_id) == ("ana-alpha", world.vendor_a.id, first.id)
    incident = Incident.objects.get(connection=connection, source="issue")
    assert incident.caused_by_id == second.id and incident.resolved_at == t0 + datetime.timedelta(hours=10)


def test_unknown_usernames_wait_in_the_queue_and_one_mapping_attributes_their_records(world, fake):
    from partnerscope.evidence.connector_services import map_username
    from partnerscope.evidence.queries import unattributed_usernames

    connection = connect(world, fake)
    sync(connection)
    queue = {e.login: e for e in unattributed_usernames(world.owner_m)}
    assert "ida-inhouse" in queue and "ana-alpha" not in queue
    assert queue["ida-inhouse"].records == (
        PullRequest.objects.filter(actor="ida-inhouse").count()
        + Review.objects.filter(actor="ida-inhouse").count()
        + WorkItem.objects.filter(actor="ida-inhouse").count()
        + Deployment.objects.filter(actor="ida-inhouse").count()
    )
    client = Client()
    client.force_login(world.users["manager"])
    page = client.get("/o/acme/evidence/unattributed/").content.decode()
    assert 'data-login="ida-inhouse"' in page
    # Vendor users never see the queue.
    vendor = Client()
    vendor.force_login(world.users["vendor_a"])
    assert vendor.get("/o/acme/evidence/unattributed/").status_code == 404

    map_username(membership=world.owner_m, kind="github", login="Ida-Inhouse", person=world.inhouse)
    assert "ida-inhouse" not in {e.login for e in unattributed_usernames(world.owner_m)}
    assert set(PullRequest.objects.filter(actor="ida-inhouse").values_list("status", flat=True)) <= {
        "inhouse",
        "bot",
    }
    assert PullRequest.objects.filter(actor="ida-inhouse", status="inhouse").exists()
