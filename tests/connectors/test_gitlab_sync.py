"""A GitLab sync against the local fake server, through the real runner: full, incremental,
rate limits, bad pages, attribution and what vendors see."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.test import Client

from partnerscope.engagements.models import Identity
from partnerscope.engagements.services import save_roster_record
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
from tests.fakes.gitlab import BOT, FakeGitLab, GeneratedGitLabProject

TOKEN = "glpat-fake-token-for-tests"


@pytest.fixture
def fake(settings):
    settings.TRACKER_RUNS_DAYS = 3650
    project = GeneratedGitLabProject(mrs=120, issues=150, deployments=30, pipelines=40, seed=3)
    with FakeGitLab(project, token=TOKEN) as server:
        yield server


@pytest.fixture
def identities(world):
    for person, login in ((world.person_a, "ana-alpha"), (world.person_b, "ben-beta"), (world.inhouse, "ida-inhouse")):  # fmt: skip
        save_roster_record(
            membership=world.owner_m, instance=Identity(person=person, kind="gitlab", value=login)
        )


def connect(world, server, **fields) -> Connection:
    values = {"name": "gl", "kind": "gitlab", "project": "acme/platform/shop", **fields}
    instance = Connection(
        engagement=world.engagement_a, base_url=server.base_url, allow_private_host=True, **values
    )
    return save_connection(membership=world.owner_m, instance=instance, token=TOKEN)


def sync(connection, sleeps=None):
    run = queue_connection_sync(Connection.objects.get(pk=connection.pk))
    return run_connector_sync(run, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_a_full_sync_reads_everything_and_attributes_it(world, identities, fake):
    connection = connect(world, fake)
    run = sync(connection)
    assert run.status == "succeeded", run.message
    project = fake.project
    mrs = PullRequest.objects.filter(connection=connection)
    assert mrs.count() == len(project.merge_requests)
    assert WorkItem.objects.filter(connection=connection).count() == len(project.issues)
    assert Deployment.objects.filter(connection=connection, kind="deployment").count() == len(
        project.deployments
    )
    assert Deployment.objects.filter(connection=connection, kind="pipeline").count() == len(project.pipelines)
    commits = sum(len(c) for c in project.commits.values())
    assert PullRequestCommit.objects.filter(pull_request__connection=connection).count() == commits
    assert WorkItemEvent.objects.filter(work_item__connection=connection).count() > 0
    # A page of 50 merge requests is one request with their commits and notes.
    assert fake.request_count(operation="MergeRequests") == 3 and fake.request_count(operation="Issues") == 2
    # Every issue is new: its resource state, label and milestone events are read, one request each.
    issues = len(project.issues)
    for operation in ("resource_state_events", "resource_label_events", "resource_milestone_events"):
        assert fake.request_count(operation=operation) == issues, operation
    assert run.requests - 3 * issues <= 10, run.requests
    # Attribution by the dated roster: ana-alpha works for vendor A, ben-beta for vendor B.
    ana = mrs.filter(actor="ana-alpha").first()
    assert ana is not None and ana.status == "vendor" and ana.vendor_id == world.vendor_a.id
    reviews = Review.objects.filter(pull_request__connection=connection)
    assert reviews.filter(actor="ben-beta").exclude(vendor=world.vendor_b).count() == 0
    assert reviews.filter(state="approved").exists() and reviews.filter(is_comment=True).exists()
    assert not reviews.filter(actor=BOT).exclude(is_bot=True).exists()
    assert mrs.filter(actor=BOT, is_bot=True, status="bot").exists()
    assert mrs.filter(actor="zoe-unknown", status="unattributed").exists()
    assert mrs.filter(actor="ida-inhouse", status="inhouse").exists()
    # Every merged merge request knows the commit that landed it, fast-forward merges included.
    assert not mrs.filter(state="merged", merge_commit_sha="").exists()
    ff = next(i for i, s in project.mr_shas.items() if s["squash_commit_sha"] and not s["merge_commit_sha"])
    assert mrs.get(number=ff).merge_commit_sha == project.mr_shas[ff]["squash_commit_sha"]
    assert Incident.objects.filter(connection=connection, source="issue").count() == (
        WorkItem.objects.filter(connection=connection, is_incident=True).count()
    )
    assert WorkItem.objects.filter(connection=connection, item_type="Incident").exists()
    connection.refresh_from_db()
    assert set(connection.cursor) == {"merge_requests", "issues", "deployments", "pipelines"}


def test_an_incremental_sync_reads_only_what_changed_and_changes_nothing_else(world, identities, fake):
    connection = connect(world, fake)
    first = sync(connection)
    before = {p.number: p.title for p in PullRequest.objects.filter(connection=connection)}
    items_before = {w.key: w.title for w in WorkItem.objects.filter(connection=connection)}
    changed = fake.project.touch(0.05, datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    assert changed > 0
    fake.reset_counts()
    second = sync(connection)
    assert second.status == "succeeded", second.message
    # One page each of merge requests, issues, deployments and pipelines (and, when a touched
    # merge request was fast-forwarded, one request for its squash commit); the resource events
    # of the touched issues only.
    for operation in ("MergeRequests", "Issues", "deployments", "pipelines"):
        assert fake.request_count(operation=operation) == 1, operation
    touched = len(fake.project.last_touched["issues"])
    for operation in ("resource_state_events", "resource_label_events", "resource_milestone_events"):
        assert fake.request_count(operation=operation) == touched, operation
    assert (
        second.requests == 4 + 3 * touched + fake.request_count(operation="merge_requests") <= 5 + 3 * touched
    )
    assert second.requests < first.requests
    after = {p.number: p.title for p in PullRequest.objects.filter(connection=connection)}
    assert {n for n in after if after[n] != before[n]} == set(fake.project.last_touched["mrs"])
    items_after = {w.key: w.title for w in WorkItem.objects.filter(connection=connection)}
    assert {k for k in items_after if items_after[k] != items_before[k]} == {
        str(i) for i in fake.project.last_touched["issues"]
    }
    # A third sync with nothing new: the same rows.
    counts = (PullRequest.objects.count(), Review.objects.count(), WorkItemEvent.objects.count())
    assert sync(connection).status == "succeeded"
    assert (PullRequest.objects.count(), Review.objects.count(), WorkItemEvent.objects.count()) == counts


@pytest.mark.parametrize(
    "kind, on", [("502", "MergeRequests"), ("rate_limit", "Issues"), ("rate_limit", "deployments")]
)
def test_rate_limits_and_server_errors_are_waited_out(world, fake, kind, on):
    connection = connect(world, fake)
    fake.fail_next(kind, times=2, on=on)
    sleeps = []
    run = sync(connection, sleeps)
    assert run.status == "succeeded", run.message
    assert sleeps, "it should have waited before retrying"
    assert fake.request_count(status=429 if kind == "rate_limit" else 502) == 2
    assert PullRequest.objects.filter(connection=connection).count() == len(fake.project.merge_requests)


def test_a_malformed_page_fails_clearly_and_keeps_the_cursor(world, fake):
    connection = connect(world, fake)
    fake.fail_next("malformed", on="MergeRequests")
    run = sync(connection)
    assert run.status == "failed" and "malformed" in run.message.lower()
    connection.refresh_from_db()
    assert "merge_requests" not in connection.cursor and connection.status == "failed"
    assert sync(connection).status == "succeeded"


def test_a_failure_mid_sync_keeps_the_pages_stored_before_it(world, fake):
    connection = connect(world, fake)
    fake.fail_next("malformed", on="Issues")
    run = sync(connection)
    assert run.status == "failed"
    connection.refresh_from_db()
    # The merge requests were stored, and their cursor moved with their pages.
    assert set(connection.cursor) == {"merge_requests"}
    assert PullRequest.objects.filter(connection=connection).count() == len(fake.project.merge_requests)
    fake.reset_counts()
    assert sync(connection).status == "succeeded"
    assert fake.request_count(operation="MergeRequests") == 1  # resumed from the cursor


@pytest.mark.parametrize(
    "on, words", [("deployments", ["'id'", "deployment"]), ("MergeRequests", ["'iid'", "merge request"])]
)
def test_a_mistyped_field_names_the_field_and_the_record(world, fake, on, words):
    connection = connect(world, fake)
    fake.fail_next("bad_field", on=on)
    run = sync(connection)
    assert run.status == "failed"
    assert all(word in run.message for word in words), run.message


def test_graphql_errors_and_a_missing_project_are_said_in_words(world, fake):
    connection = connect(world, fake)
    fake.fail_next("graphql_error", on="Issues")
    run = sync(connection)
    assert run.status == "failed" and "complexity" in run.message and "Issues" in run.message
    missing = connect(world, fake, name="other", project="acme/nope")
    run = sync(missing)
    assert run.status == "failed" and "no project 'acme/nope'" in run.message


def test_a_redirect_to_another_host_is_not_followed(world, fake):
    connection = connect(world, fake)
    fake.fail_next("redirect_other_host", on="pipelines")
    run = sync(connection)
    assert run.status == "failed" and "another host" in run.message


def test_a_wrong_token_says_so_without_showing_it(world, fake):
    connection = connect(world, fake)
    save_connection(membership=world.owner_m, instance=connection, token="glpat-wrong-token-value")
    run = sync(connection)
    assert run.status == "failed" and "rejected the token" in run.message
    assert "glpat-wrong-token-value" not in run.message


def stored_events(connection) -> dict[str, set]:
    rows = WorkItemEvent.objects.filter(work_item__connection=connection)
    found: dict[str, set] = {}
    for key, *event in rows.values_list(
        "work_item__key", "external_id", "field", "from_value", "to_value", "actor"
    ):
        found.setdefault(key, set()).add(tuple(event))
    return found


def test_reopens_and_label_changes_come_from_resource_events_and_stay_when_an_issue_is_unchanged(world, fake):
    connection = connect(world, fake)
    assert sync(connection).status == "succeeded"
    project, events = fake.project, stored_events(connection)
    for iid in project.issues:
        expected = {
            (f"state-{e['id']}", "status", *(("open", "closed") if e["state"] == "closed" else ("closed", "open")), e["user"]["username"])
            for e in project.state_events[iid]
        } | {
            (f"label-{e['id']}", "labels", *(("", e["label"]["name"]) if e["action"] == "add" else (e["label"]["name"], "")), e["user"]["username"])
            for e in project.label_events[iid]
        }  # fmt: skip
        assert expected <= events.get(str(iid), set()), iid
    reopened = [i for i in project.issues if any(e["state"] == "reopened" for e in project.state_events[i])]
    assert reopened and all(("closed", "open") in {(e[2], e[3]) for e in events[str(i)]} for i in reopened)
    # Issues read again unchanged (the sync starts a second before its cursor) keep their events.
    connection.refresh_from_db()
    newest = max(project.issues.values(), key=lambda n: n["updatedAt"])
    fake.reset_counts()
    assert sync(connection).status == "succeeded"
    assert (
        fake.request_count(operation="Issues") == 1
        and fake.request_count(operation="resource_label_events") == 0
    )
    assert stored_events(connection)[newest["iid"]] == events[newest["iid"]]
    # A touched issue (a label added) is read with its events again: the new one is there.
    fake.project.touch(0.02, datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    assert sync(connection).status == "succeeded"
    for iid in fake.project.last_touched["issues"]:
        added = fake.project.label_events[iid][-1]
        assert (f"label-{added['id']}", "labels", "", "triaged", added["user"]["username"]) in stored_events(
            connection
        )[str(iid)]
        assert "triaged" in WorkItem.objects.get(connection=connection, key=str(iid)).labels


def test_a_malformed_resource_event_fails_clearly_and_stores_nothing_of_its_page(world, fake):
    connection = connect(world, fake)
    fake.fail_next("bad_field", on="resource_state_events")
    run = sync(connection)
    assert run.status == "failed"
    assert "a state event of issue #" in run.message and "'created_at'" in run.message, run.message
    assert not WorkItem.objects.filter(connection=connection).exists()
    connection.refresh_from_db()
    assert "issues" not in connection.cursor
    assert sync(connection).status == "succeeded"


def test_long_lists_of_commits_and_notes_are_read_to_the_end(world, settings):
    settings.TRACKER_RUNS_DAYS = 3650
    project = GeneratedGitLabProject(mrs=0, issues=0, seed=9, commits_per_mr=130, notes_per_mr=230)
    node = project.add_mr(datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC))
    iid = int(node["iid"])
    with FakeGitLab(project, token=TOKEN) as server:
        connection = connect(world, server)
        assert sync(connection).status == "succeeded"
        assert server.request_count(operation="MergeRequestCommits") == 1
        assert server.request_count(operation="MergeRequestNotes") == 2
    mr = PullRequest.objects.get(connection=connection, number=iid)
    assert mr.commits.count() == 130 and mr.commit_count == 130
    oldest = min(datetime.datetime.fromisoformat(c["authoredDate"]) for c in project.commits[iid])
    assert mr.first_commit_at == oldest  # the oldest commit came in the second page
    author = node["author"]["username"]
    comments = [n for n in project.notes[iid] if not n["system"] and n["author"]["username"] != author]
    assert Review.objects.filter(pull_request=mr, is_comment=True).count() == len(comments)


def test_vendor_users_see_only_their_own_merge_requests(world, identities, fake):
    connection = connect(world, fake)
    sync(connection)
    vendor_m = Membership.objects.get(user=world.users["vendor_b"])
    _, token = org_services.create_token(membership=vendor_m, name="t", scope="read")
    body = Client().get("/api/v1/pull-requests?limit=500", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert {item["vendor"] for item in body["items"]} == {world.vendor_b.uid}
    mine = [item for item in body["items"] if item["connection"] == connection.uid]
    expected = PullRequest.objects.filter(connection=connection, actor="ben-beta", is_bot=False).count()
    assert len(mine) == expected > 0


def test_offset_pages_skip_nothing_when_a_record_changes_during_the_read(world, settings):
    """Page n+1 of an offset list would skip a record when one already read is updated and jumps
    to the end; the sync asks again from the newest update it read instead."""
    settings.TRACKER_RUNS_DAYS = 3650
    project = GeneratedGitLabProject(mrs=0, issues=0, deployments=250, seed=4)
    changed = []

    def change_one_already_read(run):
        if run.phase == "Reading deployments" and not changed:
            with project.lock:
                oldest = min(project.deployments, key=lambda d: d["updated_at"])
                now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
                index = project.deployments.index(oldest)
                project.deployments[index] = {
                    **oldest,
                    "status": "failed",
                    "updated_at": now.replace("+00:00", "Z"),
                }
            changed.append(oldest["id"])

    with FakeGitLab(project, token=TOKEN) as server:
        connection = connect(world, server)
        run = run_connector_sync(
            queue_connection_sync(connection), sleep=lambda s: None, on_progress=change_one_already_read
        )
        assert run.status == "succeeded", run.message
        assert server.request_count(operation="deployments") <= 4
    stored = Deployment.objects.filter(connection=connection, kind="deployment")
    assert stored.count() == 250
    assert stored.get(external_id=str(changed[0])).outcome == "failure"  # read again after its change


def test_dated_milestones_are_sprints_and_predictability_follows_their_events(world, identities, fake):
    """The fake plans half its issues into the milestone running when they were created (after
    its start: not committed), half into the next one; some join days later, some move from the
    milestone before, some are taken out of theirs (committed when that happened after the
    start). Closed milestones count in the month their due day ends, for the vendor of each item."""
    from partnerscope.evidence.models import Sprint, WorkItemSprint
    from partnerscope.metrics import engine
    from partnerscope.metrics.models import MetricValue
    from tests.fakes.gitlab import parse

    connection = connect(world, fake)
    assert sync(connection).status == "succeeded"
    project = fake.project
    stored = {s.external_id: s for s in Sprint.objects.filter(connection=connection)}
    named = {m["milestone"]["id"] for events in project.milestone_events.values() for m in events}
    named |= {int(n["milestone"]["id"].rsplit("/", 1)[-1]) for n in project.issues.values() if n["milestone"]}
    assert set(stored) == {str(n) for n in named}
    for milestone in project.milestones:
        sprint = stored.get(milestone["id"].rsplit("/", 1)[-1])
        if sprint is not None:
            assert sprint.started_at == parse(milestone["startDate"])
            assert sprint.ends_at == parse(milestone["dueDate"]) + datetime.timedelta(days=1)
            assert sprint.state == milestone["state"]
    in_now = sum(1 for n in project.issues.values() if n["milestone"])
    assert WorkItemSprint.objects.filter(sprint__connection=connection).count() == in_now

    # Predictability of each vendor's items, month by month, from the fake's own story.
    engine.full_recompute(world.org.id)
    starts = {int(m["id"].rsplit("/", 1)[-1]): parse(m["startDate"]) for m in project.milestones}
    cases = Counter()
    for vendor in (world.vendor_a, world.vendor_b):
        items = {int(i.key): i for i in WorkItem.objects.filter(connection=connection, vendor=vendor)}
        expected: dict = {}
        for milestone in project.milestones:
            if milestone["state"] != "closed":
                continue
            number = int(milestone["id"].rsplit("/", 1)[-1])
            begin = parse(milestone["startDate"])
            end = parse(milestone["dueDate"]) + datetime.timedelta(days=1)
            for iid, item in items.items():
                events = [e for e in project.milestone_events[iid] if parse(e["created_at"]) <= begin]
                if not (events and events[-1]["action"] == "add" and events[-1]["milestone"]["id"] == number):
                    continue  # not in it when it started
                month = end.date().replace(day=1)
                committed, delivered = expected.get(month, (0, 0))
                done = item.category == "done" and item.resolved_at is not None and item.resolved_at <= end
                expected[month] = (committed + 1, delivered + done)
        assert expected and any(c > d for c, d in expected.values())
        values = MetricValue.objects.filter(
            organization=world.org, kpi="predictability", vendor_key=vendor.id, engagement_key=0,
            period_kind="month",
        )  # fmt: skip
        got = {v.period_start: (v.denominator, v.numerator) for v in values if v.denominator}
        assert got == expected, vendor
        for iid in items:
            events = project.milestone_events[iid]
            if events and events[-1]["action"] == "remove":
                out_at, start = parse(events[-1]["created_at"]), starts[events[-1]["milestone"]["id"]]
                cases["out before the start" if out_at < start else "out after the start"] += 1
            elif len(events) == 3:
                cases["moved"] += 1
            elif events and parse(events[0]["created_at"]) > parse(project.issues[iid]["createdAt"]):
                cases["joined late"] += 1
    # The story has every case: taken out before the start (not committed) and after it
    # (committed), joined late, moved from the milestone before.
    assert len(cases) == 4, cases
