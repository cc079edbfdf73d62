"""Mapping Jira payloads to work item rows, the JQL a sync sends, and which Jira a client calls."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.jira import mapping
from partnerscope.evidence.connectors.jira.client import JiraClient, is_cloud
from partnerscope.evidence.connectors.jira.sync import jql
from partnerscope.evidence.models.tracker import DEFAULT_INCIDENT_LABELS
from partnerscope.evidence.patterns import matcher

UTC = datetime.UTC
IS_BOT = matcher(["*[bot]", "*-bot@*"])
INCIDENT = matcher(DEFAULT_INCIDENT_LABELS.splitlines())
SITE = "https://acme.atlassian.net"
ANA = {"accountId": "557058:ana", "displayName": "Ana Alpha", "accountType": "atlassian"}
BEN = {"accountId": "557058:Ben", "displayName": "Ben Beta", "accountType": "atlassian"}
QA = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Quinn QA", "accountType": "atlassian"}
APP = {"accountId": "557058:f58131cb", "displayName": "Automation for Jira", "accountType": "app"}


def history(history_id: str, at: str, author: dict, *items: dict) -> dict:
    return {"id": history_id, "author": author, "created": at, "items": list(items)}


def assign(before: dict | None, after: dict | None) -> dict:
    raw = lambda user: user and user["accountId"]  # noqa: E731
    return {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "from": raw(before), "to": raw(after),
            "fromString": before and before["displayName"], "toString": after and after["displayName"],
            "tmpFromAccountId": raw(before), "tmpToAccountId": raw(after)}  # fmt: skip


def status(before: str, after: str) -> dict:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": before, "to": "2", "toString": after}  # fmt: skip


def node(**fields) -> dict:
    base = {
        "summary": "Checkout fails on Safari",
        "issuetype": {"id": "10004", "name": "Bug"},
        "priority": {"id": "2", "name": "High"},
        "status": {"id": "10002", "name": "Done", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
        "resolution": {"id": "10000", "name": "Fixed"},
        "resolutiondate": "2025-03-05T23:30:00.000-0500",
        "created": "2025-03-01T09:00:00.000-0500",
        "updated": "2025-03-06T10:00:00.000-0500",
        "assignee": QA,
        "reporter": ANA,
        "labels": ["customer", "Sev1"],
        "issuelinks": [
            {"id": "1", "type": {"name": "Blocks"}, "outwardIssue": {"id": "10004", "key": "SHOP-124"}},
            {"id": "2", "type": {"name": "Relates"}, "inwardIssue": {"id": "10001", "key": "OPS-9"}},
        ],
        "fixVersions": [
            {
                "self": f"{SITE}/rest/api/3/version/10100",
                "id": "10100",
                "name": "2025.03",
                "archived": False,
                "released": True,
                "releaseDate": "2025-03-10",
            },
            {
                "self": f"{SITE}/rest/api/3/version/10101",
                "id": "10101",
                "name": "2025.04",
                "archived": False,
                "released": False,
            },
        ],  # fmt: skip
        "customfield_10020": [
            {"id": 41, "name": "SHOP Sprint 6", "state": "closed"},
            {"id": 42, "name": "SHOP Sprint 7", "state": "active"},
        ],
    }
    base.update(fields)
    histories = [  # newest first, as a search embeds them
        history("10050", "2025-03-06T10:00:00.000-0500", ANA, assign(BEN, QA)),
        history("10040", "2025-03-05T23:30:00.000-0500", BEN, status("In Progress", "Done"),
                {"field": "resolution", "fieldtype": "jira", "fromString": None, "toString": "Fixed"}),
        history("10030", "2025-03-02T10:00:00.000-0500", BEN, status("To Do", "In Progress"),
                {"field": "Status", "fieldtype": "custom", "fromString": "a", "toString": "b"},
                {"field": "labels", "fieldtype": "jira", "fromString": "customer", "toString": "customer Sev1"}),
        history("10020", "2025-03-01T09:05:00.000-0500", ANA, assign(None, BEN)),
    ]  # fmt: skip
    return {"id": "10003", "key": "SHOP-123", "fields": base,
            "changelog": {"startAt": 0, "maxResults": 4, "total": 4, "histories": histories}}  # fmt: skip


def row(issue: dict, **kwargs) -> dict:
    return mapping.issue(issue, site=SITE, is_bot_name=IS_BOT, incident_labels=INCIDENT, **kwargs)


def test_a_resolved_issue_belongs_to_its_assignee_at_resolution_on_the_utc_date():
    r = row(node(), sprint_field_id="customfield_10020")
    # Resolved by Ben, then handed to QA: Ben's, on the day it was resolved (in UTC: March 6).
    assert (r["actor"], r["assignee"], r["reporter"]) == ("557058:Ben", QA["accountId"], "557058:ana")
    assert r["acted_on"] == datetime.date(2025, 3, 6)
    assert r["resolved_at"] == datetime.datetime(2025, 3, 6, 4, 30, tzinfo=UTC)
    assert (r["key"], r["external_id"], r["url"]) == ("SHOP-123", "10003", f"{SITE}/browse/SHOP-123")
    assert (r["item_type"], r["priority"], r["workflow_status"], r["category"], r["resolution"]) == (
        "Bug", "High", "Done", "done", "Fixed",
    )  # fmt: skip
    assert r["sprint"] == "SHOP Sprint 7"  # the active one
    assert r["fix_versions"] == ["2025.03", "2025.04"]
    assert r["labels"] == ["customer", "Sev1"] and r["is_incident"]  # "sev1" matches, in any case
    assert r["links"] == ["SHOP-124", "OPS-9"]
    assert not r["is_bot"]


def test_the_changelog_becomes_events_of_status_assignee_resolution_and_labels_oldest_first():
    events = row(node())["events"]
    assert [(e["external_id"], e["field"], e["from_value"], e["to_value"], e["actor"]) for e in events] == [
        ("10020-0", "assignee", "", "557058:Ben", "557058:ana"),
        ("10030-0", "status", "To Do", "In Progress", "557058:Ben"),
        ("10030-2", "labels", "customer", "customer Sev1", "557058:Ben"),  # the custom "Status" is not Jira's
        ("10040-0", "status", "In Progress", "Done", "557058:Ben"),
        ("10040-1", "resolution", "", "Fixed", "557058:Ben"),
        ("10050-0", "assignee", "557058:Ben", QA["accountId"], "557058:ana"),
    ]
    assert events[0]["at"] == datetime.datetime(2025, 3, 1, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "category, resolved, expected",
    [("new", None, "todo"), ("indeterminate", None, "in_progress"), ("done", "2025-03-02T00:00:00.000+0000", "done"),
     ("undefined", None, "todo"), ("undefined", "2025-03-02T00:00:00.000+0000", "done")],
)  # fmt: skip
def test_status_categories(category, resolved, expected):
    fields = {"status": {"name": "Whatever", "statusCategory": {"key": category}}, "resolutiondate": resolved}
    assert row(node(**fields))["category"] == expected


def test_an_open_issue_is_its_assignees_else_its_reporters_and_an_app_is_a_bot():
    fields = {
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "resolution": None,
        "resolutiondate": None,
    }
    r = row(node(**fields))
    assert (r["actor"], r["acted_on"], r["resolved_at"]) == (QA["accountId"], datetime.date(2025, 3, 1), None)
    unassigned = node(**fields, assignee=None, reporter=APP)
    unassigned["changelog"] = {"total": 0, "histories": []}
    r = row(unassigned)
    assert (r["actor"], r["is_bot"]) == (APP["accountId"], True)


def test_an_issue_unassigned_when_resolved_falls_back_to_its_assignee_then_reporter():
    issue = node(assignee=None)
    issue["changelog"]["histories"].insert(
        0, history("10060", "2025-03-05T23:00:00.000-0500", ANA, assign(BEN, None))
    )
    issue["changelog"]["histories"] = [h for h in issue["changelog"]["histories"] if h["id"] != "10050"]
    assert row(issue)["actor"] == "557058:ana"  # nobody then, nobody now: the reporter


def test_an_issue_only_reassigned_after_resolution_was_its_first_assignees():
    issue = node()
    issue["changelog"]["histories"] = issue["changelog"]["histories"][:3]  # no assignment before
    assert row(issue)["actor"] == "557058:Ben"  # the "from" of the first change after it


def test_data_center_names_people_by_username_and_reads_greenhopper_sprints():
    jdoe = {
        "name": "JDoe",
        "key": "JIRAUSER10100",
        "displayName": "Jane Doe",
        "emailAddress": "jdoe@acme.test",
    }
    bot = {"name": "ci", "key": "ci", "displayName": "CI", "emailAddress": "ci-bot@acme.test"}
    sprints = [
        "com.atlassian.greenhopper.service.sprint.Sprint@1[id=1,rapidViewId=3,state=CLOSED,name=Sprint 4, the long one,startDate=2025-01-01T00:00:00.000Z,endDate=<null>,completeDate=<null>,sequence=1,goal=]",
        "com.atlassian.greenhopper.service.sprint.Sprint@2[id=2,rapidViewId=3,state=FUTURE,name=Sprint 5]",
    ]  # fmt: skip
    issue = node(assignee=None, reporter=bot, customfield_10020=sprints)
    issue["changelog"]["histories"] = [
        history("1", "2025-03-05T10:00:00.000+0100", jdoe, status("In Progress", "Done")),
        history("2", "2025-03-01T10:00:00.000+0100", bot, {"field": "assignee", "fieldtype": "jira",
                "from": None, "to": "JIRAUSER10100", "fromString": None, "toString": "Jane Doe"}),
    ]  # fmt: skip
    r = row(issue, sprint_field_id="customfield_10020")
    assert r["actor"] == "JDoe"  # the key in the changelog is the username the issue shows
    assert [e["to_value"] for e in r["events"] if e["field"] == "assignee"] == ["JDoe"]
    assert r["reporter"] == "ci"
    assert r["sprint"] == "Sprint 5"  # no active sprint: the latest
    assert mapping.sprint_name(sprints[:1]) == "Sprint 4, the long one"
    # The sprints with their dates (predictability); "<null>" is no date.
    assert r["sprints"] == [
        {"external_id": "1", "name": "Sprint 4, the long one", "state": "closed",
         "started_at": datetime.datetime(2025, 1, 1, tzinfo=UTC), "ends_at": None, "completed_at": None},
        {"external_id": "2", "name": "Sprint 5", "state": "future", "started_at": None, "ends_at": None,
         "completed_at": None},
    ]  # fmt: skip
    unassigned = node(assignee=None, reporter=bot, resolutiondate=None)
    unassigned["changelog"]["histories"] = []
    assert row(unassigned)["is_bot"]  # by its e-mail pattern


def test_a_missing_or_mistyped_field_names_the_field_and_the_issue():
    broken = node()
    del broken["fields"]["summary"]
    with pytest.raises(SourceError, match=r"issue SHOP-123 has no 'summary'"):
        row(broken)
    with pytest.raises(SourceError, match=r"issue SHOP-123 has 'created' = 'last tuesday', not a date"):
        row(node(created="last tuesday"))
    with pytest.raises(SourceError, match=r"issue SHOP-123 has a label that is not text"):
        row(node(labels=["ok", 7]))
    with pytest.raises(SourceError, match=r"has no 'key'"):
        row({"id": "1", "fields": {}})
    with pytest.raises(SourceError, match=r"a fix version of issue SHOP-123 has 'name' = '7', not a str"):
        row(node(fixVersions=[{"id": "1", "name": 7}]))
    with pytest.raises(
        SourceError, match=r"issue SHOP-123 has an entry in 'fixVersions' that is not an object"
    ):
        row(node(fixVersions=["2025.03"]))


def test_an_issue_without_fix_versions_has_none():
    assert row(node(fixVersions=[]))["fix_versions"] == []
    issue = node()
    del issue["fields"]["fixVersions"]  # a site where the field is hidden from the screen
    assert row(issue)["fix_versions"] == []


def test_a_partial_changelog_and_the_sprint_field_are_recognised():
    issue = node()
    assert not mapping.changelog_is_partial(issue)
    issue["changelog"]["total"] = 140
    assert mapping.changelog_is_partial(issue)
    fields = [
        {"id": "summary", "name": "Summary", "custom": False},
        {"id": "customfield_10100", "name": "Sprint", "custom": True, "schema": {"type": "string"}},
        {"id": "customfield_10020", "name": "Sprints", "custom": True,
         "schema": {"type": "array", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
    ]  # fmt: skip
    assert mapping.sprint_field(fields) == "customfield_10020"  # by its type, not its name
    assert mapping.sprint_field(fields[:2]) == "customfield_10100"
    assert mapping.sprint_field(fields[:1]) == ""


def test_the_jql_starts_a_minute_before_the_cursor_in_the_cursors_zone():
    assert jql("SHOP", None) == 'project = "SHOP" ORDER BY updated ASC'
    assert jql("SHOP", "2025-03-06T00:00:31-05:00") == (
        'project = "SHOP" AND updated >= "2025-03-05 23:59" ORDER BY updated ASC'
    )


def test_cloud_or_data_center_and_how_the_token_is_sent():
    assert is_cloud("https://acme.atlassian.net", "")
    assert is_cloud("https://jira.acme.test", "bot@acme.test")
    assert not is_cloud("https://jira.acme.test/jira", "")
    cloud_without_email = SimpleNamespace(
        base_url="https://acme.atlassian.net", account_email="", project="SHOP"
    )
    with pytest.raises(SourceError, match="e-mail of the account"):
        JiraClient(cloud_without_email, "secret")
    data_center = SimpleNamespace(
        base_url="http://127.0.0.1:9", account_email="", project="SHOP", allow_private_host=True
    )
    client = JiraClient(data_center, "pat-123")
    assert (client.api, client.http.client.headers["Authorization"]) == ("/rest/api/2", "Bearer pat-123")
    client.close()
    cloud = SimpleNamespace(base_url="http://127.0.0.1:9", account_email="bot@acme.test", project="SHOP",
                            allow_private_host=True)  # fmt: skip
    client = JiraClient(cloud, "tok")
    assert (client.api, client.http.client.headers["Authorization"]) == (
        "/rest/api/3",
        "Basic Ym90QGFjbWUudGVzdDp0b2s=",
    )
    client.close()


def test_sprint_objects_and_sprint_changes_keep_ids_and_dates():
    sprints = [
        {"id": 41, "name": "SHOP Sprint 6", "state": "closed", "startDate": "2025-02-17T09:00:00.000Z",
         "endDate": "2025-03-03T09:00:00.000Z", "completeDate": "2025-03-03T15:30:00.000Z", "boardId": 1},
        {"id": 42, "name": "SHOP Sprint 7", "state": "active", "startDate": "2025-03-03T09:00:00.000Z",
         "endDate": "2025-03-17T09:00:00.000Z"},
        {"name": "no id"},
    ]  # fmt: skip
    issue = node(customfield_10020=sprints)
    issue["changelog"]["histories"].append(
        history("10010", "2025-02-20T09:00:00.000+0000", ANA, {"field": "Sprint", "fieldtype": "custom",
                "from": "41", "fromString": "SHOP Sprint 6", "to": "41, 42", "toString": "SHOP Sprint 6, SHOP Sprint 7"})
    )  # fmt: skip
    r = row(issue, sprint_field_id="customfield_10020")
    assert [(s["external_id"], s["state"], s["completed_at"]) for s in r["sprints"]] == [
        ("41", "closed", datetime.datetime(2025, 3, 3, 15, 30, tzinfo=UTC)),
        ("42", "active", None),
    ]
    assert r["sprints"][1]["started_at"] == datetime.datetime(2025, 3, 3, 9, tzinfo=UTC)
    changes = [
        (e["external_id"], e["from_value"], e["to_value"]) for e in r["events"] if e["field"] == "sprint"
    ]
    assert changes == [("10010-0", "41", "41,42")]
    bad = node(customfield_10020=[{"id": 43, "startDate": "soon"}])
    with pytest.raises(SourceError, match="sprint 43 of issue SHOP-123"):
        row(bad, sprint_field_id="customfield_10020")
