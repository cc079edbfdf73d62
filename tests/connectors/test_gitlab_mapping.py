"""Mapping GitLab payloads to evidence rows: every field the metrics use, from hand-written
payloads in GitLab's shapes."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.connectors.gitlab import mapping
from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
from partnerscope.evidence.patterns import matcher

UTC = datetime.UTC
IS_BOT = matcher(DEFAULT_BOT_PATTERNS.splitlines() + mapping.BOT_GLOBS)


def note(number, body, login, at, *, system=False, kind="Note", bot=False) -> dict:
    author = {"username": login, "bot": bot} if login else None
    return {"id": f"gid://gitlab/{kind}/{number}", "body": body, "system": system, "createdAt": at, "author": author}  # fmt: skip


def node(**overrides) -> dict:
    base = {
        "iid": "7", "title": "Squash me", "state": "merged", "draft": False,
        "createdAt": "2025-03-03T10:00:00Z", "updatedAt": "2025-03-05T09:00:00Z",
        "mergedAt": "2025-03-05T08:00:00Z", "closedAt": None,
        "webUrl": "https://gitlab.com/acme/platform/shop/-/merge_requests/7",
        # Squash-merged with a merge commit: REST names both; the squash commit is what landed.
        "mergeCommitSha": "f" * 40, "squashCommitSha": "e" * 40, "commitCount": 2,
        "diffStatsSummary": {"additions": 40, "deletions": 5, "fileCount": 3},
        "author": {"username": "Ana-Alpha", "bot": False},
        "labels": {"nodes": [{"title": "feature"}]},
        # GitLab lists a merge request's commits newest first, with the author's offset.
        "commits": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [
            {"sha": "b" * 40, "authoredDate": "2025-03-02T11:00:00+02:00", "authorEmail": "ana@alpha.test", "author": None},
            {"sha": "a" * 40, "authoredDate": "2025-03-01T09:00:00Z", "authorEmail": "Ana@Alpha.test", "author": {"username": "Ana-Alpha"}},
        ]},
        "notes": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [
            note(1, "added 1 commit", "ana-alpha", "2025-03-03T10:05:00Z", system=True),
            note(2, "Please have a look", "ana-alpha", "2025-03-03T10:30:00Z"),
            note(3, "Why this loop?", "ben-beta", "2025-03-03T12:00:00Z", kind="DiffNote"),
            note(4, "changed the description", "ben-beta", "2025-03-03T12:01:00Z", system=True),
            note(5, "requested changes", "ben-beta", "2025-03-03T12:02:00Z", system=True),
            note(6, "approved this merge request", "ana-alpha", "2025-03-04T09:00:00Z", system=True),
            note(7, "approved this merge request", "ida-inhouse", "2025-03-04T10:00:00Z", system=True),
            note(8, "Coverage dropped 0.1 %", "project_42_bot_5d1e2a", "2025-03-03T10:45:00Z"),
            note(9, "Ran the linters", "lint-checker", "2025-03-03T10:46:00Z", bot=True),
            note(10, "Looks fine", "ghost", "2025-03-03T10:47:00Z"),
        ]},
    }  # fmt: skip
    base.update(overrides)
    return base


def test_a_squash_merged_merge_request_keeps_its_first_commit_time():
    row = mapping.pull_request(node(), IS_BOT)
    assert row["first_commit_at"] == datetime.datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert row["merge_commit_sha"] == "e" * 40
    assert (row["number"], row["state"], row["actor"], row["acted_on"]) == (7, "merged", "ana-alpha", datetime.date(2025, 3, 3))  # fmt: skip
    assert (row["additions"], row["deletions"], row["changed_files"], row["commit_count"]) == (40, 5, 3, 2)
    assert row["labels"] == ["feature"] and row["ready_at"] == row["created_at"]
    commits = {c["sha"][0]: c for c in row["commits"]}
    assert commits["a"]["author_email"] == "ana@alpha.test" and commits["a"]["author_login"] == "ana-alpha"
    assert commits["b"]["authored_at"] == datetime.datetime(2025, 3, 2, 9, tzinfo=UTC)
    assert set(row) == set(PR_ROW_KEYS)


PR_ROW_KEYS = ["number", "title", "url", "state", "draft", "created_at", "updated_at", "ready_at", "first_commit_at", "merged_at", "closed_at", "merge_commit_sha", "additions", "deletions", "changed_files", "commit_count", "labels", "actor", "acted_on", "is_bot", "commits", "reviews"]  # fmt: skip


def test_a_merge_commit_is_kept_and_a_fast_forward_merge_waits_for_rest():
    assert mapping.pull_request(node(squashCommitSha=None), IS_BOT)["merge_commit_sha"] == "f" * 40
    assert (
        mapping.pull_request(node(squashCommitSha=None, mergeCommitSha=None), IS_BOT)["merge_commit_sha"]
        == ""
    )
    rest = {"iid": 7, "merge_commit_sha": None, "squash_commit_sha": None, "sha": "c" * 40}
    assert mapping.landed_sha_of_rest(rest, "merge request !7") == "c" * 40
    assert mapping.landed_sha_of_rest({**rest, "squash_commit_sha": "d" * 40}, "merge request !7") == "d" * 40


def test_approvals_are_reviews_with_their_time_and_the_authors_own_notes_are_not():
    reviews = {r["external_id"]: r for r in mapping.pull_request(node(), IS_BOT)["reviews"]}
    # Not reviews: the author's comment and approval (2, 6), system notes other than approvals
    # and requests for changes (1, 4).
    assert set(reviews) == {"comment-3", "note-5", "note-7", "comment-8", "comment-9", "comment-10"}
    approval = reviews["note-7"]
    assert (approval["state"], approval["is_comment"], approval["actor"]) == (
        "approved",
        False,
        "ida-inhouse",
    )
    assert approval["submitted_at"] == datetime.datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert approval["acted_on"] == datetime.date(2025, 3, 4)
    assert reviews["note-5"]["state"] == "changes_requested"
    assert reviews["comment-3"]["is_comment"] and reviews["comment-3"]["state"] == "commented"
    assert reviews["comment-3"]["comment_count"] == 1 and reviews["comment-3"]["actor"] == "ben-beta"
    # Bots by their username (a project access token's user) or by GitLab's flag.
    assert reviews["comment-8"]["is_bot"] and reviews["comment-9"]["is_bot"]
    assert not reviews["comment-3"]["is_bot"]
    # A deleted user's note is a person's, unknown: no actor, not a bot.
    assert (reviews["comment-10"]["actor"], reviews["comment-10"]["is_bot"]) == ("", False)


def test_a_draft_is_ready_for_review_when_it_was_marked_ready():
    notes = {"nodes": [note(20, "marked this merge request as **ready**", "ana-alpha", "2025-03-04T08:00:00Z", system=True)]}  # fmt: skip
    row = mapping.pull_request(node(notes=notes), IS_BOT)
    assert row["ready_at"] == datetime.datetime(2025, 3, 4, 8, tzinfo=UTC)
    assert (
        mapping.pull_request(node(draft=True, state="opened", notes={"nodes": []}), IS_BOT)["ready_at"]
        is None
    )
    assert mapping.pull_request(node(state="locked"), IS_BOT)["state"] == "open"


@pytest.mark.parametrize(
    "author, login, bot",
    [
        ({"username": "project_42_bot_5d1e2a", "bot": False}, "project_42_bot_5d1e2a", True),
        ({"username": "Renovate-Bot", "bot": False}, "renovate-bot", True),
        ({"username": "release-tool", "bot": True}, "release-tool", True),
        ({"username": "ben-beta", "bot": False}, "ben-beta", False),
        (None, "", False),
    ],
)
def test_bot_authors_by_name_or_flag(author, login, bot):
    row = mapping.pull_request(node(author=author), IS_BOT)
    assert (row["actor"], row["is_bot"]) == (login, bot)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"iid": "x"}, "iid"),
        ({"iid": None}, "iid"),
        ({"createdAt": "yesterday"}, "createdAt"),
        ({"title": None}, "title"),
        ({"commitCount": "2"}, "commitCount"),
        ({"commits": {"nodes": [{"authoredDate": "2025-03-01T09:00:00Z"}]}}, "sha"),
    ],
)
def test_a_malformed_field_is_named_with_its_record(overrides, field):
    with pytest.raises(SourceError, match=field) as error:
        mapping.pull_request(node(**overrides), IS_BOT)
    assert "merge request !" in str(error.value)


def issue_node(**overrides) -> dict:
    base = {
        "id": "gid://gitlab/Issue/9031", "iid": "31", "title": "Checkout down",
        "webUrl": "https://gitlab.com/acme/platform/shop/-/issues/31", "state": "closed", "type": "INCIDENT",
        "createdAt": "2025-04-01T10:00:00Z", "updatedAt": "2025-04-02T10:00:00Z", "closedAt": "2025-04-02T09:00:00Z",
        "moved": False, "closedAsDuplicateOf": None,
        "author": {"username": "ida-inhouse", "bot": False},
        "assignees": {"nodes": [{"username": "Ben-Beta"}]},
        "labels": {"nodes": [{"title": "priority::high"}, {"title": "backend"}]},
        "milestone": {"title": "Sprint 12"},
        "notes": {"nodes": [
            note(40, "assigned to @ana-alpha", "ida-inhouse", "2025-04-01T10:05:00Z", system=True),
            note(41, "assigned to @Ben-Beta and unassigned @ana-alpha", "ida-inhouse", "2025-04-01T12:00:00Z", system=True),
            note(42, "I am on it", "ben-beta", "2025-04-01T12:30:00Z"),
            note(43, "closed via merge request !30", "ben-beta", "2025-04-02T09:00:00Z", system=True),
        ]},
    }  # fmt: skip
    base.update(overrides)
    return base


def test_an_issue_keeps_its_changelog_links_and_is_charged_to_its_assignee_at_resolution():
    row = mapping.issue(issue_node(), IS_BOT, incident_labels=matcher(["incident"]))
    assert row["is_incident"] and row["item_type"] == "Incident" and row["priority"] == "priority::high"
    assert (row["key"], row["external_id"], row["sprint"]) == ("31", "9031", "Sprint 12")
    assert (row["workflow_status"], row["category"], row["resolution"]) == ("closed", "done", "completed")
    assert row["resolved_at"] == datetime.datetime(2025, 4, 2, 9, tzinfo=UTC)
    assert (row["actor"], row["acted_on"], row["reporter"]) == (
        "ben-beta",
        datetime.date(2025, 4, 2),
        "ida-inhouse",
    )
    assert row["links"] == ["pr:30"]
    changes = [(e["external_id"], e["field"], e["from_value"], e["to_value"]) for e in row["events"]]
    assert changes == [
        ("note-40-a0", "assignee", "", "ana-alpha"),
        ("note-41-a0", "assignee", "", "ben-beta"),
        ("note-41-u0", "assignee", "ana-alpha", ""),
        ("note-43", "status", "open", "closed"),
    ]
    assert set(row) == set(ITEM_ROW_KEYS)


ITEM_ROW_KEYS = ["key", "external_id", "title", "url", "item_type", "priority", "workflow_status", "category", "resolution", "created_at", "updated_at", "resolved_at", "assignee", "reporter", "sprint", "fix_versions", "labels", "links", "is_incident", "actor", "acted_on", "is_bot", "events", "sprints", "sprints_known"]  # fmt: skip


def test_a_close_without_a_note_is_dated_from_closed_at():
    """Since GitLab 13.x a close is a resource state event, which GraphQL's notes do not list."""
    notes = {"nodes": issue_node()["notes"]["nodes"][:3]}
    row = mapping.issue(issue_node(notes=notes, type="ISSUE"), IS_BOT, incident_labels=matcher(["incident"]))
    closes = [e for e in row["events"] if e["field"] == "status"]
    assert [(e["at"], e["to_value"], e["actor"]) for e in closes] == [
        (datetime.datetime(2025, 4, 2, 9, tzinfo=UTC), "closed", "")
    ]
    assert not row["is_incident"] and row["item_type"] == "Issue" and row["links"] == []


def rest_user(username: str) -> dict:
    return {"id": 1, "username": username, "name": username.title(), "state": "active",
            "avatar_url": "https://www.gravatar.com/avatar/x", "web_url": f"https://gitlab.com/{username}"}  # fmt: skip


def state_event(number, state, login, at, commit=None) -> dict:
    """A resource state event as GET …/issues/:iid/resource_state_events lists it."""
    return {"id": number, "user": rest_user(login), "created_at": at, "resource_type": "Issue",
            "resource_id": 9031, "source_commit": commit, "source_merge_request_id": None, "state": state}  # fmt: skip


def label_event(number, action, name, login, at) -> dict:
    """A resource label event as GET …/issues/:iid/resource_label_events lists it."""
    label = {"id": 73, "name": name, "color": "#34495E", "description": ""} if name else None
    return {"id": number, "user": rest_user(login), "created_at": at, "resource_type": "Issue",
            "resource_id": 9031, "label": label, "action": action}  # fmt: skip


def test_resource_events_give_reopens_and_label_changes_and_a_close_counts_once():
    """Closes and reopens are resource state events since GitLab 13, label changes resource label
    events since 11.2; a close both noted and recorded (around the switch) is one close."""
    state = [
        state_event(142, "closed", "ben-beta", "2025-04-01T15:00:00.077Z"),
        state_event(143, "reopened", "Ida-Inhouse", "2025-04-01T16:00:00.000Z"),
        state_event(144, "closed", "ben-beta", "2025-04-02T09:00:20.500Z", commit="c" * 40),
    ]
    labels = [
        label_event(201, "add", "backend", "ida-inhouse", "2025-04-01T10:00:00.000Z"),
        label_event(202, "add", "needs-info", "ida-inhouse", "2025-04-01T11:00:00.000Z"),
        label_event(203, "remove", "needs-info", "ben-beta", "2025-04-01T13:00:00.000Z"),
        label_event(204, "add", None, "ben-beta", "2025-04-01T13:30:00.000Z"),  # a label deleted since
    ]
    row = mapping.issue(
        issue_node(), IS_BOT, incident_labels=matcher([]), state_events=state, label_events=labels
    )
    changes = [
        (e["external_id"], e["field"], e["from_value"], e["to_value"], e["actor"]) for e in row["events"]
    ]
    assert changes == [
        ("label-201", "labels", "", "backend", "ida-inhouse"),
        ("note-40-a0", "assignee", "", "ana-alpha", "ida-inhouse"),
        ("label-202", "labels", "", "needs-info", "ida-inhouse"),
        ("note-41-a0", "assignee", "", "ben-beta", "ida-inhouse"),
        ("note-41-u0", "assignee", "ana-alpha", "", "ida-inhouse"),
        ("label-203", "labels", "needs-info", "", "ben-beta"),
        ("state-142", "status", "open", "closed", "ben-beta"),
        ("state-143", "status", "closed", "open", "ida-inhouse"),
        # The note "closed via merge request !30" at 09:00:00 is this event: counted once.
        ("state-144", "status", "open", "closed", "ben-beta"),
    ]  # fmt: skip
    assert row["events"][-1]["at"] == datetime.datetime(2025, 4, 2, 9, 0, 20, 500000, tzinfo=UTC)
    assert row["links"] == ["pr:30", f"commit:{'c' * 40}"]
    # Still resolved by its assignee when it closed the last time, on that day.
    assert (row["actor"], row["resolved_at"]) == ("ben-beta", datetime.datetime(2025, 4, 2, 9, tzinfo=UTC))


def test_with_resource_events_no_close_is_made_up_from_closed_at():
    notes = {"nodes": issue_node()["notes"]["nodes"][:3]}  # no close note
    state = [state_event(150, "closed", "ben-beta", "2025-04-02T09:00:00.000Z")]
    row = mapping.issue(
        issue_node(notes=notes), IS_BOT, incident_labels=matcher([]), state_events=state, label_events=[]
    )
    assert [(e["external_id"], e["to_value"]) for e in row["events"] if e["field"] == "status"] == [
        ("state-150", "closed")
    ]
    # An older server wrote a reopen as "opened"; "merged" and "locked" are not an issue's.
    older = [
        state_event(151, "opened", "ben-beta", "2025-04-01T20:00:00Z"),
        state_event(152, "locked", "ben-beta", "2025-04-01T21:00:00Z"),
    ]
    row = mapping.issue(issue_node(notes=notes), IS_BOT, incident_labels=matcher([]), state_events=older)
    assert [
        (e["external_id"], e["from_value"], e["to_value"]) for e in row["events"] if e["field"] == "status"
    ] == [
        ("state-151", "closed", "open"),
        ("closed-20250402T090000", "open", "closed"),  # the last close, from closedAt
    ]


@pytest.mark.parametrize(
    "state, labels, message",
    [
        ([{"id": 1, "state": "closed", "created_at": "soon"}], [], "a state event of issue #31 has 'created_at' = 'soon'"),
        ([], [{"id": "x", "action": "add", "label": {"name": "a"}, "created_at": "2025-04-01T10:00:00Z"}],
         "a label event of issue #31 has 'id' = 'x', not a int"),
        ([], [{"id": 3, "label": {"name": "a"}, "created_at": "2025-04-01T10:00:00Z"}], "a label event of issue #31 has no 'action'"),
        (["closed"], [], "the resource state events of issue #31 are not a list of objects"),
    ],
)  # fmt: skip
def test_a_malformed_resource_event_is_named_with_its_issue(state, labels, message):
    with pytest.raises(SourceError, match=message):
        mapping.issue(
            issue_node(), IS_BOT, incident_labels=matcher([]), state_events=state, label_events=labels
        )


def test_an_issue_closed_as_a_duplicate_or_moved_is_not_resolved():
    for overrides, resolution in (
        ({"closedAsDuplicateOf": {"iid": "3"}}, "duplicate"),
        ({"moved": True}, "moved"),
    ):
        row = mapping.issue(issue_node(**overrides), IS_BOT, incident_labels=matcher([]))
        assert (row["resolution"], row["resolved_at"]) == (resolution, None)


def test_an_open_issue_takes_its_workflow_from_a_scoped_label_and_incidents_from_labels():
    labels = {"nodes": [{"title": "workflow::In review"}, {"title": "Incident"}, {"title": "bug"}]}
    row = mapping.issue(
        issue_node(state="opened", closedAt=None, type=None, labels=labels, notes={"nodes": []}, assignees={"nodes": []}),
        IS_BOT,
        incident_labels=matcher(["incident"]),
    )  # fmt: skip
    assert (row["workflow_status"], row["category"], row["resolution"]) == ("In review", "todo", "")
    assert row["is_incident"] and row["item_type"] == "Bug" and row["resolved_at"] is None
    assert (row["actor"], row["assignee"], row["events"]) == ("ida-inhouse", "", [])


def test_deployments_and_pipelines():
    production, hotfix = matcher(["production", "prod-*"]), matcher(["hotfix/*"])
    row = mapping.deployment(
        {"id": 41, "iid": 1, "ref": "hotfix/login", "sha": "c" * 40, "status": "failed",
         "created_at": "2025-05-01T10:00:00.222Z", "updated_at": "2025-05-01T10:07:12.414Z",
         "user": {"id": 1, "username": "Ben-Beta", "name": "Ben", "state": "active"},
         "environment": {"id": 9, "name": "production"},
         "deployable": {"id": 657, "status": "failed", "finished_at": "2025-05-01T10:06:00.000Z",
                        "web_url": "https://gitlab.com/acme/platform/shop/-/jobs/657"}},
        IS_BOT, production=production, hotfix=hotfix,
    )  # fmt: skip
    assert (row["kind"], row["external_id"], row["environment"], row["actor"]) == ("deployment", "41", "production", "ben-beta")  # fmt: skip
    assert (row["is_production"], row["is_hotfix"], row["outcome"]) == (True, True, "failure")
    assert row["finished_at"] == datetime.datetime(2025, 5, 1, 10, 6, tzinfo=UTC)
    assert row["url"].endswith("/jobs/657")
    running = mapping.deployment(
        {"id": 42, "ref": "main", "status": "running", "created_at": "2025-05-01T11:00:00Z",
         "updated_at": "2025-05-01T11:00:01Z", "user": {"username": "project_42_bot_5d1e2a"},
         "environment": {"name": "staging"}, "deployable": None},
        IS_BOT, production=production, hotfix=hotfix,
    )  # fmt: skip
    assert (running["outcome"], running["finished_at"], running["is_bot"], running["is_production"]) == (
        "running", None, True, False,
    )  # fmt: skip
    pipeline = mapping.pipeline(
        {"id": 47, "iid": 12, "status": "success", "source": "push", "ref": "production", "sha": "d" * 40,
         "name": None, "web_url": "https://gitlab.com/acme/platform/shop/-/pipelines/47",
         "created_at": "2025-05-02T10:00:00.085Z", "updated_at": "2025-05-02T10:04:35.169Z"},
        IS_BOT, production=production, hotfix=hotfix,
    )  # fmt: skip
    assert (pipeline["kind"], pipeline["name"], pipeline["environment"]) == ("pipeline", "pipeline 47", "")
    assert (pipeline["is_production"], pipeline["outcome"], pipeline["actor"]) == (True, "success", "")
    assert pipeline["finished_at"] == pipeline["updated_at"]


@pytest.mark.parametrize(
    "convert, item, field",
    [
        (mapping.deployment, {"id": "x", "created_at": "2025-05-01T10:00:00Z"}, "'id'"),
        (
            mapping.pipeline,
            {"id": 5, "created_at": "2025-05-01T10:00:00Z", "updated_at": None},
            "'updated_at'",
        ),
    ],
)
def test_a_malformed_rest_item_is_named(convert, item, field):
    with pytest.raises(SourceError, match=field):
        convert(item, IS_BOT, production=matcher([]), hotfix=matcher([]))


def milestone_event(number, action, milestone_id, at, title="Sprint 3") -> dict:
    milestone = {"id": milestone_id, "iid": 3, "title": title, "state": "closed", "start_date": "2025-03-03",
                 "due_date": "2025-03-16"} if milestone_id else None  # fmt: skip
    return {"id": number, "user": {"username": "ana-alpha"}, "created_at": at, "resource_type": "Issue",
            "resource_id": 9031, "milestone": milestone, "action": action}  # fmt: skip


def test_a_dated_milestone_is_a_sprint_and_its_events_are_sprint_changes():
    node = issue_node(milestone={"id": "gid://gitlab/Milestone/61", "title": "Sprint 3", "startDate": "2025-03-03T00:00:00Z",
                                 "dueDate": "2025-03-16T00:00:00Z", "state": "closed"})  # fmt: skip
    events = [
        milestone_event(2, "add", 60, "2025-02-20T09:00:00.000Z", "Sprint 2"),
        milestone_event(3, "remove", 60, "2025-03-05T09:00:00.000Z", "Sprint 2"),
        milestone_event(4, "add", 61, "2025-03-05T09:00:00.000Z"),
        milestone_event(5, "add", None, "2025-03-06T09:00:00.000Z"),  # a milestone deleted since
    ]
    row = mapping.issue(node, IS_BOT, incident_labels=matcher(["incident"]), milestone_events=events)
    assert row["sprints"] == [{
        "external_id": "61", "name": "Sprint 3", "state": "closed",
        "started_at": datetime.datetime(2025, 3, 3, tzinfo=datetime.UTC),
        # The end of its due day.
        "ends_at": datetime.datetime(2025, 3, 17, tzinfo=datetime.UTC), "completed_at": None,
    }]  # fmt: skip
    changes = [
        (e["external_id"], e["from_value"], e["to_value"]) for e in row["events"] if e["field"] == "sprint"
    ]
    assert changes == [("milestone-2", "", "60"), ("milestone-3", "60", ""), ("milestone-4", "", "61")]
    # Without its events the milestone is not a sprint (when it joined is unknown); without
    # both dates neither.
    assert mapping.issue(node, IS_BOT, incident_labels=matcher(["incident"]))["sprints"] is None
    undated = issue_node(milestone={"id": "gid://gitlab/Milestone/62", "title": "Backlog", "startDate": None,
                                    "dueDate": None, "state": "active"})  # fmt: skip
    assert (
        mapping.issue(undated, IS_BOT, incident_labels=matcher(["incident"]), milestone_events=[])["sprints"]
        == []
    )


def test_a_removal_without_its_add_still_says_the_issue_was_in_the_milestone():
    events = [milestone_event(7, "remove", 60, "2025-03-05T09:00:00.000Z", "Sprint 2")]
    row = mapping.issue(issue_node(), IS_BOT, incident_labels=matcher(["incident"]), milestone_events=events)
    assert [(e["from_value"], e["to_value"]) for e in row["events"] if e["field"] == "sprint"] == [("60", "")]


def test_a_malformed_milestone_event_names_the_issue():
    bad = [{**milestone_event(2, "add", 60, "2025-02-20T09:00:00.000Z"), "created_at": "soon"}]
    with pytest.raises(SourceError, match="a milestone event of issue #31"):
        mapping.issue(issue_node(), IS_BOT, incident_labels=matcher(["incident"]), milestone_events=bad)
