"""Importing a GitHub export (gh … --json) when no API access is allowed."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from partnerscope.evidence.connectors.runner import run_connector_import
from partnerscope.evidence.models import Connection, ConnectorRun, Incident, PullRequest, Review, WorkItem

PRS = [
    {
        "number": 12, "title": "Add cart", "state": "MERGED", "isDraft": False, "url": "https://github.com/acme/ana-alpha/pull/12",
        "author": {"id": "U_1", "is_bot": False, "login": "ana-alpha", "name": "Ana"},
        "createdAt": "2025-02-03T10:00:00Z", "updatedAt": "2025-02-04T10:00:00Z",
        "closedAt": "2025-02-04T09:00:00Z", "mergedAt": "2025-02-04T09:00:00Z",
        "additions": 120, "deletions": 4, "changedFiles": 5, "labels": [{"id": "L1", "name": "feature"}],
        "mergeCommit": {"oid": "9" * 40},
        "commits": [{"oid": "1" * 40, "messageHeadline": "cart", "authoredDate": "2025-02-01T08:00:00Z",
                     "committedDate": "2025-02-01T08:00:00Z", "authors": [{"name": "Ana", "email": "ana@alpha.test", "id": "U_1", "login": "ana-alpha"}]}],
        "reviews": [{"id": "PRR_1", "author": {"login": "ben-beta"}, "authorAssociation": "MEMBER", "body": "",
                     "submittedAt": "2025-02-03T15:00:00Z", "state": "APPROVED", "commit": {"oid": "1" * 40}},
                    {"id": "PRR_2", "author": {"login": "ana-alpha"}, "state": "COMMENTED", "submittedAt": "2025-02-03T16:00:00Z"}],
        "comments": [],
    },
    {
        "number": 13, "title": "Bump lodash", "state": "OPEN", "isDraft": False, "url": "",
        "author": {"is_bot": True, "login": "app/dependabot"}, "createdAt": "2025-02-05T10:00:00Z",
        "updatedAt": "2025-02-05T10:00:00Z", "closedAt": None, "mergedAt": None, "additions": 1, "deletions": 1,
        "changedFiles": 1, "labels": [], "mergeCommit": None, "commits": [], "reviews": [], "comments": [],
    },
]  # fmt: skip
ISSUES = [
    {
        "number": 14, "title": "Checkout is down", "state": "CLOSED", "stateReason": "COMPLETED",
        "author": {"login": "ida-inhouse"}, "labels": [{"name": "incident"}], "assignees": [{"login": "ben-beta"}],
        "milestone": {"number": 1, "title": "Sprint 4", "description": "", "dueOn": None},
        "createdAt": "2025-02-06T10:00:00Z", "updatedAt": "2025-02-06T12:00:00Z", "closedAt": "2025-02-06T12:00:00Z",
        "url": "https://github.com/acme/ana-alpha/issues/14",
    },
]  # fmt: skip


def upload(client, connection, *files):
    return client.post(
        f"/o/acme/connections/{connection.uid}/import/",
        {"files": [SimpleUploadedFile(name, data, content_type="application/json") for name, data in files]},
    )


def test_a_gh_export_imports_like_an_api_sync(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    client = Client()
    client.force_login(world.users["manager"])
    response = upload(
        client,
        connection,
        ("prs.json", json.dumps(PRS).encode()),
        ("issues.json", json.dumps(ISSUES).encode()),
    )
    assert response.status_code == 302
    run = ConnectorRun.objects.get(connection=connection, status="queued")
    run = run_connector_import(run)
    assert run.status == "succeeded", run.message
    pr = PullRequest.objects.get(connection=connection, number=12)
    assert (pr.status, pr.vendor_id, pr.merge_commit_sha) == ("vendor", world.vendor_a.id, "9" * 40)
    assert pr.first_commit_at.isoformat().startswith("2025-02-01T08:00")
    assert list(Review.objects.filter(pull_request=pr).values_list("actor", "state")) == [
        ("ben-beta", "approved")
    ]
    assert PullRequest.objects.get(connection=connection, number=13).status == "bot"
    item = WorkItem.objects.get(connection=connection, key="14")
    assert (item.actor, item.vendor_id, item.is_incident, item.sprint) == (
        "ben-beta",
        world.vendor_b.id,
        True,
        "Sprint 4",
    )
    assert Incident.objects.filter(connection=connection, source="issue", key="14").exists()
    # The same files again change nothing.
    upload(client, connection, ("prs.json", json.dumps(PRS).encode()))
    run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert PullRequest.objects.filter(connection=connection).count() == 3  # two imported + the fixture's


def test_a_malformed_record_imports_nothing_and_names_the_file_and_record(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    broken = [PRS[0], {**PRS[1], "createdAt": "last tuesday"}]
    client = Client()
    client.force_login(world.users["owner"])
    upload(
        client,
        connection,
        ("issues.json", json.dumps(ISSUES).encode()),
        ("prs.json", json.dumps(broken).encode()),
    )
    run = run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert run.status == "failed"
    assert "prs.json" in run.message and "#13" in run.message and "createdAt" in run.message
    assert not PullRequest.objects.filter(connection=connection, number=12).exists()
    assert not WorkItem.objects.filter(connection=connection).exists()


def test_a_file_that_is_not_json_is_refused_clearly(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    client = Client()
    client.force_login(world.users["owner"])
    upload(client, connection, ("prs.json", b"<html>export</html>"))
    run = run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert run.status == "failed" and "prs.json: not a JSON file" in run.message


def test_a_page_without_files_says_so(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    client = Client()
    client.force_login(world.users["owner"])
    response = client.post(f"/o/acme/connections/{connection.uid}/import/", {})
    assert response.status_code == 400 and b"Choose at least one export file" in response.content


def test_an_export_never_rolls_back_newer_data_or_drops_what_it_does_not_carry(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    client = Client()
    client.force_login(world.users["owner"])
    upload(client, connection, ("prs.json", json.dumps(PRS).encode()))
    run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    pr = PullRequest.objects.get(connection=connection, number=12)
    assert Review.objects.filter(pull_request=pr).count() == 1
    # An older snapshot of the same pull request, without reviews or commits in it.
    older = {k: v for k, v in PRS[0].items() if k not in ("reviews", "comments", "commits")}
    older.update(title="Add cart (draft title)", updatedAt="2025-02-03T11:00:00Z")
    newer_number = {**older, "number": 99, "title": "New one", "updatedAt": "2025-02-09T11:00:00Z",
                    "url": "https://github.com/acme/ana-alpha/pull/99"}  # fmt: skip
    upload(client, connection, ("old.json", json.dumps([older, newer_number]).encode()))
    run = run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert run.status == "succeeded", run.message
    pr.refresh_from_db()
    assert pr.title == "Add cart" and Review.objects.filter(pull_request=pr).count() == 1
    assert PullRequest.objects.get(connection=connection, number=99).title == "New one"


def test_an_export_of_another_repository_is_refused(world):
    connection = Connection.objects.get(engagement=world.engagement_a)
    other = [{**PRS[0], "url": "https://github.com/someone/else/pull/12"}]
    client = Client()
    client.force_login(world.users["owner"])
    upload(client, connection, ("prs.json", json.dumps(other).encode()))
    run = run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))
    assert run.status == "failed" and "another repository" in run.message and "prs.json" in run.message
