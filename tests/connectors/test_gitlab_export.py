"""Importing a GitLab export (REST lists as ``glab api --paginate`` saves them) when no API access is
allowed. The files are fetched from the fake server's REST API, so they have GitLab's shapes, and
the rows they give are compared with an API sync of the same project."""

from __future__ import annotations

import datetime
import json

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from partnerscope.evidence.connector_services import queue_connection_sync, save_connection, start_import
from partnerscope.evidence.connectors.runner import run_connector_import, run_connector_sync
from partnerscope.evidence.models import (
    Connection,
    ConnectorRun,
    Deployment,
    PullRequest,
    PullRequestCommit,
    Review,
    WorkItem,
    WorkItemEvent,
)
from tests.fakes.gitlab import FakeGitLab, GeneratedGitLabProject

TOKEN = "glpat-fake-token-for-tests"
PROJECT = "acme/platform/shop"


@pytest.fixture
def fake(settings):
    settings.TRACKER_RUNS_DAYS = 3650
    project = GeneratedGitLabProject(mrs=30, issues=40, deployments=12, pipelines=15, seed=5)
    with FakeGitLab(project, token=TOKEN) as server:
        yield server


def connect(world, server, name: str) -> Connection:
    instance = Connection(
        engagement=world.engagement_a, name=name, kind="gitlab", project=PROJECT,
        base_url=server.base_url, allow_private_host=True,
    )  # fmt: skip
    return save_connection(membership=world.owner_m, instance=instance, token=TOKEN)


class Glab:
    """What ``glab api --paginate <path>`` saves: each page's JSON, one after the other."""

    def __init__(self, server: FakeGitLab):
        self.client = httpx.Client(
            base_url=f"{server.base_url}/api/v4/projects/{server.project.id}",
            headers={"PRIVATE-TOKEN": TOKEN},
        )

    def __call__(self, path: str) -> bytes:
        pages, url = [], path
        while url:
            response = self.client.get(url)
            response.raise_for_status()
            pages.append(response.text + "\n")
            url = response.links.get("next", {}).get("url")
        return "".join(pages).encode()


def export(server: FakeGitLab, *, mr_children=("notes", "commits", "approvals"), issue_children=True) -> list:
    """The files of an export: the four lists (several pages each), and a file per merge request
    and issue for each of their children, named as the import page suggests."""
    glab, project = Glab(server), server.project
    files = [
        ("merge_requests.json", glab("merge_requests?state=all&per_page=20")),
        ("issues.json", glab("issues?scope=all&per_page=25")),
        ("deployments.json", glab("deployments?per_page=10")),
        ("pipelines.json", glab("pipelines?per_page=10")),
    ]
    for iid in project.merge_requests:
        for child in mr_children:
            files.append((f"mr-{iid}-{child}.json", glab(f"merge_requests/{iid}/{child}?per_page=100")))
    if issue_children:
        for iid in project.issues:
            for child, short in (("notes", "notes"), ("resource_state_events", "state"), ("resource_label_events", "labels"), ("resource_milestone_events", "milestones")):  # fmt: skip
                files.append((f"issue-{iid}-{short}.json", glab(f"issues/{iid}/{child}?per_page=100")))
    return files


def import_files(world, connection, files) -> ConnectorRun:
    run = start_import(membership=world.owner_m, connection=connection, files=files, enqueue=False)
    return run_connector_import(run)


def pr_rows(connection) -> dict:
    rows = PullRequest.objects.filter(connection=connection)
    fields = ["number", "title", "url", "state", "draft", "created_at", "updated_at", "ready_at", "first_commit_at", "merged_at", "closed_at", "merge_commit_sha", "commit_count", "actor", "is_bot", "status", "vendor_id"]  # fmt: skip
    return {row["number"]: {**row, "labels": sorted(row["labels"])} for row in rows.values(*fields, "labels")}


def review_rows(connection) -> set:
    rows = Review.objects.filter(pull_request__connection=connection)
    return set(rows.values_list("pull_request__number", "external_id", "state", "is_comment", "submitted_at", "actor", "is_bot"))  # fmt: skip


def item_rows(connection) -> dict:
    rows = WorkItem.objects.filter(connection=connection)
    fields = ["key", "external_id", "title", "url", "item_type", "workflow_status", "category", "resolution", "created_at", "updated_at", "resolved_at", "assignee", "reporter", "sprint", "links", "is_incident", "actor", "acted_on", "status"]  # fmt: skip
    return {row["key"]: {**row, "labels": sorted(row["labels"])} for row in rows.values(*fields, "labels")}


def event_rows(connection) -> set:
    rows = WorkItemEvent.objects.filter(work_item__connection=connection)
    return set(
        rows.values_list("work_item__key", "external_id", "at", "field", "from_value", "to_value", "actor")
    )


def deployment_rows(connection) -> set:
    rows = Deployment.objects.filter(connection=connection)
    return set(rows.values_list("kind", "external_id", "environment", "is_production", "is_hotfix", "outcome", "sha", "created_at", "finished_at", "actor"))  # fmt: skip


def test_an_export_of_the_rest_lists_imports_like_an_api_sync(world, fake):
    synced = connect(world, fake, "synced")
    run = run_connector_sync(queue_connection_sync(synced), sleep=lambda s: None)
    assert run.status == "succeeded", run.message
    imported = connect(world, fake, "imported")
    run = import_files(world, imported, export(fake))
    assert run.status == "succeeded", run.message
    assert run.message.startswith("Imported 30 pull requests, 40 issues and 27 deployments;"), run.message
    assert pr_rows(imported) == pr_rows(synced)
    assert review_rows(imported) == review_rows(synced)
    commits = PullRequestCommit.objects.filter(pull_request__connection__in=[synced, imported])
    by_connection = {}
    for connection_id, number, sha, at, email in commits.values_list("pull_request__connection", "pull_request__number", "sha", "authored_at", "author_email"):  # fmt: skip
        by_connection.setdefault(connection_id, set()).add((number, sha, at, email))
    assert by_connection[imported.id] == by_connection[synced.id]  # REST gives no GitLab username
    assert item_rows(imported) == item_rows(synced)
    assert event_rows(imported) == event_rows(synced)
    statuses = {e[3:6] for e in event_rows(imported)}
    assert ("status", "closed", "open") in statuses and ("labels", "", "needs-info") in statuses
    assert deployment_rows(imported) == deployment_rows(synced)
    # The same files again change nothing.
    counts = (Review.objects.count(), WorkItemEvent.objects.count(), Deployment.objects.count())
    assert import_files(world, imported, export(fake)).status == "succeeded"
    assert (Review.objects.count(), WorkItemEvent.objects.count(), Deployment.objects.count()) == counts


def test_approvals_alone_are_reviews_dated_when_approved_and_lists_alone_keep_what_a_sync_stored(world, fake):
    connection = connect(world, fake, "gl")
    assert run_connector_sync(queue_connection_sync(connection), sleep=lambda s: None).status == "succeeded"
    stored = {p.number: p for p in PullRequest.objects.filter(connection=connection)}
    reviews_before = review_rows(connection)
    # The lists alone, without any merge request's notes, commits or approvals: nothing is lost.
    files = export(fake, mr_children=(), issue_children=False)
    run = import_files(world, connection, files)
    assert run.status == "succeeded", run.message
    assert review_rows(connection) == reviews_before
    for pr in PullRequest.objects.filter(connection=connection):
        before = stored[pr.number]
        assert (pr.additions, pr.deletions, pr.changed_files, pr.first_commit_at, pr.ready_at) == (
            before.additions, before.deletions, before.changed_files, before.first_commit_at, before.ready_at,
        )  # fmt: skip
        assert pr.commits.count() == before.commit_count
    assert WorkItemEvent.objects.filter(work_item__connection=connection).count() > 0
    # Approvals without notes, into a connection that has nothing: approvals dated when approved.
    fresh = connect(world, fake, "fresh")
    run = import_files(world, fresh, export(fake, mr_children=("approvals",), issue_children=False))
    assert run.status == "succeeded", run.message
    approvals = {
        (number, actor, at) for number, _, state, _, at, actor, _ in review_rows(fresh) if state == "approved"
    }
    expected = {
        (number, actor, at)
        for number, _, state, _, at, actor, _ in review_rows(connection)
        if state == "approved" and actor != stored[number].actor
    }
    assert approvals == expected and approvals
    assert {r[1].split("-")[0] for r in review_rows(fresh)} == {"approval"}
    assert not WorkItemEvent.objects.filter(work_item__connection=fresh).exists()  # no changelog given


def test_an_approval_without_a_time_is_dated_at_the_merge(world, fake):
    connection = connect(world, fake, "gl")
    iid = next(i for i, n in fake.project.merge_requests.items() if n["state"] == "merged")
    node = fake.project.merge_requests[iid]
    author = node["author"]["username"]
    approver = next(u for u in ("ana-alpha", "ben-beta", "ida-inhouse") if u != author)
    mr = fake.project.rest_mr(iid)
    mr["approved_by"] = [
        {"user": {"id": 7, "username": approver, "name": "X", "state": "active"}}
    ]  # GitLab 16
    run = import_files(world, connection, [("mrs.json", json.dumps([mr]).encode())])
    assert run.status == "succeeded", run.message
    review = Review.objects.get(pull_request__connection=connection)
    merged = datetime.datetime.fromisoformat(node["mergedAt"].replace("Z", "+00:00"))
    assert (review.state, review.actor, review.submitted_at, review.external_id) == (
        "approved", approver, merged, f"approval-{approver}",
    )  # fmt: skip


def test_json_lines_and_a_single_array_are_read_too(world, fake):
    connection = connect(world, fake, "gl")
    project = fake.project
    issues = [project.rest_issue(i) for i in project.issues]
    lines = "\n".join(json.dumps(item) for item in issues).encode()
    deployments = json.dumps(project.deployments, indent=2).encode()
    run = import_files(world, connection, [("issues.ndjson", lines), ("deployments.json", deployments)])
    assert run.status == "succeeded", run.message
    assert WorkItem.objects.filter(connection=connection).count() == len(issues)
    assert Deployment.objects.filter(connection=connection, kind="deployment").count() == len(
        project.deployments
    )
    # No notes nor events in the files: an issue closed without a note gets its close from closed_at.
    closed = WorkItem.objects.filter(connection=connection, workflow_status="closed")
    assert closed.exists() and not WorkItemEvent.objects.filter(work_item__connection=connection).exists()


def rest_mr(fake, **changes) -> dict:
    return {**fake.project.rest_mr(1), **changes}


@pytest.mark.parametrize(
    "files, message",
    [
        ([("mrs.json", b"<html>export</html>")], "mrs.json: not a JSON file"),
        ([("mrs.json", b"")], "mrs.json: the file is empty."),
        ([("mrs.json", b'[{"name": "x"}]')], "mrs.json, item 1: not one of GitLab's merge requests, issues"),
        ([("mrs.json", b"[1]")], "mrs.json, item 1: not an object."),
        (lambda fake: [("ok.json", json.dumps([rest_mr(fake)]).encode()), ("mrs.json", (json.dumps([rest_mr(fake, iid=2, web_url="")]) + json.dumps([rest_mr(fake, iid=3, created_at="last tuesday", web_url="")])).encode())],
         "mrs.json, item 2 (merge request !3): merge request !3 has 'created_at' = 'last tuesday', not a date and time."),
        (lambda fake: [("mrs.json", json.dumps([rest_mr(fake, labels=[7])]).encode())],
         "mrs.json, item 1 (merge request !1): 'labels' holds a label that is not text."),
        (lambda fake: [("mrs.json", json.dumps([rest_mr(fake)]).encode()), ("commits.json", json.dumps([fake.project.rest_commit(fake.project.commits[1][0])]).encode())],
         "commits.json, item 1 (a commit): the file's name must say which merge request it belongs to, like mr-12-commits.json."),
        (lambda fake: [("mr-1-commits.json", json.dumps([{**fake.project.rest_commit(fake.project.commits[1][0]), "authored_date": None}]).encode()), ("mrs.json", json.dumps([rest_mr(fake)]).encode())],
         "mr-1-commits.json, item 1 (a commit of merge request !1): a commit of merge request !1 has no 'authored_date'."),
        (lambda fake: [("notes.json", json.dumps([fake.project.rest_note(fake.project.notes[2][0], "MergeRequest", 2, 155000002)]).encode()), ("mrs.json", json.dumps([rest_mr(fake)]).encode())],
         "notes.json, item 1: it belongs to merge request !2, which none of the files holds"),
        (lambda fake: [("issues.json", json.dumps([fake.project.rest_issue(1)]).encode()), ("events.json", json.dumps([{**fake.project.label_events[1][0], "resource_id": 1}] if fake.project.label_events[1] else [{"id": 5, "resource_type": "Issue", "resource_id": 1, "action": "add", "label": None, "created_at": "2024-01-01T00:00:00Z"}]).encode())],
         "events.json, item 1: it belongs to the issue with id 1, which none of the files holds"),
        (lambda fake: [("issues.json", json.dumps([{**fake.project.rest_issue(1), "web_url": "https://gitlab.example.com/someone/else/-/issues/1"}]).encode())],
         "issues.json, item 1: its address https://gitlab.example.com/someone/else/-/issues/1 is not in acme/platform/shop; is this the export of another project?"),
        (lambda fake: [("deployments.json", json.dumps([{**fake.project.deployments[0], "id": "x"}]).encode())],
         "deployments.json, item 1 (deployment x): deployment x has 'id' = 'x', not a int."),
    ],
)  # fmt: skip
def test_bad_files_import_nothing_and_name_the_file_record_and_field(world, fake, files, message):
    connection = connect(world, fake, "gl")
    files = files(fake) if callable(files) else files
    run = import_files(world, connection, files)
    assert run.status == "failed"
    assert run.message.startswith("Nothing was imported. ") and message in run.message, run.message
    assert not PullRequest.objects.filter(connection=connection).exists()
    assert not WorkItem.objects.filter(connection=connection).exists()


def test_the_import_page_offers_gitlab_exports_with_help(world, fake):
    connection = connect(world, fake, "gl")
    client = Client()
    client.force_login(world.users["manager"])
    detail = client.get(f"/o/acme/connections/{connection.uid}/")
    assert f"/o/acme/connections/{connection.uid}/import/".encode() in detail.content
    page = client.get(f"/o/acme/connections/{connection.uid}/import/")
    assert page.status_code == 200
    assert b"glab api --paginate" in page.content and b"mr-12-notes.json" in page.content
    files = export(fake, mr_children=("notes",), issue_children=False)[:5]
    response = client.post(
        f"/o/acme/connections/{connection.uid}/import/",
        {"files": [SimpleUploadedFile(name, data, content_type="application/json") for name, data in files]},
    )
    assert response.status_code == 302
    run = run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert run.status == "succeeded", run.message
    assert PullRequest.objects.filter(connection=connection).count() == 30
    assert Review.objects.filter(pull_request__connection=connection, is_comment=True).exists()
    assert not PullRequestCommit.objects.filter(pull_request__connection=connection).exists()
