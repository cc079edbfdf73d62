"""Mapping GitHub payloads to evidence rows: every field the metrics use."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.connectors.github import mapping
from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.patterns import matcher

UTC = datetime.UTC
IS_BOT = matcher(["dependabot*", "renovate*"])


def node(**overrides) -> dict:
    base = {
        "number": 7, "title": "Squash me", "state": "MERGED", "isDraft": False,
        "createdAt": "2025-03-03T10:00:00Z", "updatedAt": "2025-03-05T09:00:00Z",
        "mergedAt": "2025-03-05T08:00:00Z", "closedAt": "2025-03-05T08:00:00Z",
        "url": "https://github.com/acme/app/pull/7", "additions": 40, "deletions": 5, "changedFiles": 3,
        "author": {"__typename": "User", "login": "Ana-Alpha"},
        "labels": {"nodes": [{"name": "feature"}]},
        # Squash-merged: the merge commit is not one of the pull request's commits.
        "mergeCommit": {"oid": "f" * 40},
        "commits": {"totalCount": 2, "nodes": [
            {"commit": {"oid": "a" * 40, "authoredDate": "2025-03-01T09:00:00Z", "author": {"email": "Ana@alpha.test", "user": {"login": "ana-alpha"}}}},
            {"commit": {"oid": "b" * 40, "authoredDate": "2025-03-02T09:00:00Z", "author": {"email": "ana@alpha.test", "user": None}}},
        ]},
        "reviews": {"totalCount": 5, "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [
            {"databaseId": 1, "author": {"__typename": "User", "login": "ben-beta"}, "state": "CHANGES_REQUESTED", "submittedAt": "2025-03-03T12:00:00Z", "comments": {"totalCount": 2}},
            {"databaseId": 2, "author": {"__typename": "User", "login": "ana-alpha"}, "state": "COMMENTED", "submittedAt": "2025-03-03T13:00:00Z", "comments": {"totalCount": 1}},
            {"databaseId": 3, "author": {"__typename": "Bot", "login": "coderabbit"}, "state": "COMMENTED", "submittedAt": "2025-03-03T11:00:00Z", "comments": {"totalCount": 9}},
            {"databaseId": 4, "author": {"__typename": "User", "login": "ida-inhouse"}, "state": "PENDING", "submittedAt": None, "comments": {"totalCount": 0}},
            {"databaseId": 5, "author": {"__typename": "User", "login": "ida-inhouse"}, "state": "APPROVED", "submittedAt": "2025-03-04T10:00:00Z", "comments": {"totalCount": 0}},
        ]},
        "comments": {"nodes": [
            {"databaseId": 10, "author": {"__typename": "User", "login": "ana-alpha"}, "createdAt": "2025-03-03T10:30:00Z"},
            {"databaseId": 11, "author": {"__typename": "User", "login": "ida-inhouse"}, "createdAt": "2025-03-03T10:45:00Z"},
        ]},
        "timelineItems": {"nodes": []},
    }  # fmt: skip
    base.update(overrides)
    return base


def test_a_squash_merged_pull_request_keeps_its_first_commit_time():
    row = mapping.pull_request(node(), IS_BOT)
    assert row["first_commit_at"] == datetime.datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert row["merge_commit_sha"] == "f" * 40
    assert (row["state"], row["actor"], row["acted_on"]) == ("merged", "ana-alpha", datetime.date(2025, 3, 3))
    assert (row["additions"], row["deletions"], row["changed_files"], row["commit_count"]) == (40, 5, 3, 2)
    assert row["ready_at"] == row["created_at"]  # never a draft
    assert row["labels"] == ["feature"]
    assert [c["author_email"] for c in row["commits"]] == ["ana@alpha.test", "ana@alpha.test"]


def test_the_authors_own_comments_and_pending_reviews_are_not_reviews_and_bots_are_marked():
    reviews = {r["external_id"]: r for r in mapping.pull_request(node(), IS_BOT)["reviews"]}
    assert set(reviews) == {"1", "3", "5", "comment-11"}
    assert reviews["1"]["state"] == "changes_requested" and reviews["1"]["comment_count"] == 2
    assert reviews["3"]["is_bot"] and not reviews["5"]["is_bot"]
    assert reviews["comment-11"]["is_comment"] and reviews["comment-11"]["actor"] == "ida-inhouse"


def test_a_draft_is_ready_for_review_when_it_left_draft():
    row = mapping.pull_request(
        node(isDraft=False, timelineItems={"nodes": [{"createdAt": "2025-03-04T08:00:00Z"}]}), IS_BOT
    )
    assert row["ready_at"] == datetime.datetime(2025, 3, 4, 8, tzinfo=UTC)
    assert mapping.pull_request(node(isDraft=True, state="OPEN"), IS_BOT)["ready_at"] is None


def test_a_bot_author_is_a_bot_whatever_its_login():
    row = mapping.pull_request(node(author={"__typename": "Bot", "login": "dependabot"}), IS_BOT)
    assert row["is_bot"] and row["actor"] == "dependabot"
    assert mapping.pull_request(node(author=None), IS_BOT)["actor"] == ""  # a deleted account


@pytest.mark.parametrize(
    "overrides, field",
    [({"number": "7"}, "number"), ({"createdAt": "yesterday"}, "createdAt"), ({"title": None}, "title")],
)
def test_a_malformed_field_is_named(overrides, field):
    with pytest.raises(SourceError, match=field):
        mapping.pull_request(node(**overrides), IS_BOT)


def issue_node(**overrides) -> dict:
    base = {
        "number": 31, "databaseId": 9031, "title": "Checkout down", "url": "https://github.com/acme/app/issues/31",
        "state": "CLOSED", "stateReason": "COMPLETED",
        "createdAt": "2025-04-01T10:00:00Z", "updatedAt": "2025-04-02T10:00:00Z", "closedAt": "2025-04-02T09:00:00Z",
        "author": {"__typename": "User", "login": "ida-inhouse"},
        "assignees": {"nodes": [{"login": "ben-beta"}]},
        "labels": {"nodes": [{"name": "Incident"}, {"name": "bug"}, {"name": "priority: high"}]},
        "milestone": {"title": "Sprint 12"},
        "timelineItems": {"nodes": [
            {"__typename": "AssignedEvent", "id": "e1", "createdAt": "2025-04-01T10:05:00Z", "actor": {"login": "ida-inhouse"}, "assignee": {"login": "ana-alpha"}},
            {"__typename": "UnassignedEvent", "id": "e2", "createdAt": "2025-04-01T12:00:00Z", "actor": {"login": "ida-inhouse"}, "assignee": {"login": "ana-alpha"}},
            {"__typename": "AssignedEvent", "id": "e3", "createdAt": "2025-04-01T12:00:01Z", "actor": {"login": "ida-inhouse"}, "assignee": {"login": "Ben-Beta"}},
            {"__typename": "ClosedEvent", "id": "e4", "createdAt": "2025-04-02T09:00:00Z", "actor": {"login": "ben-beta"}, "closer": {"__typename": "PullRequest", "number": 30}},
            {"__typename": "LabeledEvent", "id": "e5", "createdAt": "2025-04-01T10:01:00Z", "actor": {"login": "ida-inhouse"}, "label": {"name": "Incident"}},
        ]},
    }  # fmt: skip
    base.update(overrides)
    return base


def test_an_issue_keeps_its_changelog_links_and_is_charged_to_its_assignee_at_resolution():
    row = mapping.issue(issue_node(), IS_BOT, incident_labels=matcher(["incident"]))
    assert row["is_incident"] and row["item_type"] == "Bug" and row["priority"] == "priority: high"
    assert (row["workflow_status"], row["category"], row["resolution"]) == ("closed", "done", "completed")
    assert row["resolved_at"] == datetime.datetime(2025, 4, 2, 9, tzinfo=UTC)
    assert (row["actor"], row["acted_on"]) == ("ben-beta", datetime.date(2025, 4, 2))
    assert row["links"] == ["pr:30"] and row["sprint"] == "Sprint 12"
    fields = [(e["field"], e["from_value"], e["to_value"]) for e in row["events"]]
    assert ("assignee", "", "ana-alpha") in fields and ("status", "open", "closed") in fields


def test_an_issue_closed_as_not_planned_is_not_resolved():
    row = mapping.issue(issue_node(stateReason="NOT_PLANNED"), IS_BOT, incident_labels=matcher([]))
    assert row["resolved_at"] is None and row["resolution"] == "not_planned" and not row["is_incident"]


def test_deployments_and_workflow_runs():
    production, hotfix = matcher(["prod*", "deploy production"]), matcher(["hotfix/*"])
    row = mapping.deployment(
        {"databaseId": 5, "environment": "production", "createdAt": "2025-05-01T10:00:00Z",
         "updatedAt": "2025-05-01T10:07:00Z", "commitOid": "c" * 40, "ref": {"name": "hotfix/login"},
         "creator": {"__typename": "User", "login": "ben-beta"},
         "latestStatus": {"state": "FAILURE", "createdAt": "2025-05-01T10:06:00Z", "logUrl": "https://ci.test/5"}},
        IS_BOT, production=production, hotfix=hotfix,
    )  # fmt: skip
    assert (row["is_production"], row["is_hotfix"], row["outcome"]) == (True, True, "failure")
    assert row["finished_at"] == datetime.datetime(2025, 5, 1, 10, 6, tzinfo=UTC)
    run = mapping.workflow_run(
        {"id": 77, "name": "Deploy production", "head_branch": "main", "head_sha": "d" * 40, "status": "in_progress",
         "conclusion": None, "html_url": "https://github.com/acme/app/actions/runs/77",
         "created_at": "2025-05-02T10:00:00Z", "updated_at": "2025-05-02T10:01:00Z", "actor": {"login": "dependabot[bot]"}},
        IS_BOT, production=production, hotfix=hotfix,
    )  # fmt: skip
    assert (run["is_production"], run["outcome"], run["finished_at"], run["is_bot"]) == (
        True,
        "running",
        None,
        True,
    )
