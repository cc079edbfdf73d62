"""Jira sprints for the demo: the mobile rebuild's Jira Software project.

The demo cannot call Jira, so its issues are written in the shape Jira Cloud's search answers
(fields, the Sprint field's objects, the changelog), turned into rows by the Jira connector's
own mapping and stored as a sync stores a page. Two-week sprints run from the engagement's
start; at each sprint's planning the team on the roster commits to a few issues each, most get
done inside the sprint, some spill over, and a few are pulled in after the sprint started (not
committed), so predictability and velocity variation have something to say.
"""

from __future__ import annotations

import datetime
import random

from partnerscope.engagements.models import Assignment, Engagement, Identity
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.jira import mapping
from partnerscope.evidence.connectors.store import store_work_items
from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS, Connection
from partnerscope.evidence.patterns import matcher

ENGAGEMENT = "Mobile app rebuild"
PROJECT = "MOB"
# The demo makes no requests, and a connection's address must resolve when it is saved: the
# demo's Jira is "on this machine" (an owner-approved private address), so a sync started by
# hand fails at once with a connection error instead of reaching anyone's real site.
SITE = "https://localhost"
SPRINT_FIELD = "customfield_10020"
SPRINT_DAYS = 14
WORK = [
    "Offline cart",
    "Push opt-in",
    "Card scanner",
    "Order history",
    "Dark mode",
    "Deep links",
    "Refund flow",
]


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _user(account_id: str, name: str) -> dict:
    return {"accountId": account_id, "displayName": name, "accountType": "atlassian", "active": True}


def _sprint(number: int, begin: datetime.datetime, now: datetime.datetime) -> dict:
    end = begin + datetime.timedelta(days=SPRINT_DAYS)
    state = "closed" if end <= now else "active" if begin <= now else "future"
    sprint = {"id": number, "name": f"{PROJECT} Sprint {number}", "state": state, "boardId": 7,
              "startDate": _stamp(begin), "endDate": _stamp(end)}  # fmt: skip
    if state == "closed":
        sprint["completeDate"] = _stamp(end + datetime.timedelta(hours=3))
    return sprint


def _issue(key, number, sprint, created, added, resolved, assignee, reporter, rng) -> dict:
    """One issue as Jira Cloud's search returns it with ``expand=changelog``."""
    histories = [
        {"id": f"{number}1", "author": reporter, "created": _stamp(added),
         "items": [{"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT_FIELD, "from": "", "fromString": "",
                    "to": str(sprint["id"]), "toString": sprint["name"]}]},
    ]  # fmt: skip
    done = resolved is not None
    if done:
        histories.append(
            {"id": f"{number}2", "author": assignee, "created": _stamp(resolved),
             "items": [{"field": "status", "fieldtype": "jira", "from": "3", "fromString": "In Progress",
                        "to": "10001", "toString": "Done"}]}
        )  # fmt: skip
    fields = {
        "summary": f"{rng.choice(WORK)}: {rng.choice(['screen', 'API', 'tests', 'edge cases'])}",
        "issuetype": {"name": rng.choice(["Story", "Story", "Task", "Bug"])},
        "status": {"name": "Done" if done else "In Progress",
                   "statusCategory": {"key": "done" if done else "indeterminate"}},
        "priority": {"name": "Medium"}, "resolution": {"name": "Done"} if done else None,
        "created": _stamp(created), "updated": _stamp(resolved or added),
        "resolutiondate": _stamp(resolved) if done else None,
        "assignee": assignee, "reporter": reporter, "labels": [], "fixVersions": [], "issuelinks": [],
        SPRINT_FIELD: [sprint],
    }  # fmt: skip
    return {"id": str(20_000 + number), "key": key, "fields": fields,
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                          "histories": list(reversed(histories))}}  # fmt: skip


def load_demo_sprints(membership) -> Connection | None:
    engagement = Engagement.objects.visible_to(membership).filter(name=ENGAGEMENT).first()
    if engagement is None:
        return None
    rng = random.Random(17)  # the same demo every time  # noqa: S311 - not for security
    connection = save_connection(
        membership=membership,
        instance=Connection(engagement=engagement, name=f"{PROJECT} on Jira", kind="jira", project=PROJECT,
                            base_url=SITE, allow_private_host=True, account_email="jira-sync@northwind.example"),
        token="demo-placeholder-token",  # noqa: S106 - a placeholder: the demo makes no requests
    )  # fmt: skip
    team = list(
        Assignment.objects.filter(engagement=engagement, vendor__isnull=False).select_related("person")
    )
    users = {}
    for assignment in team:
        person = assignment.person
        if person.id not in users:
            account = f"712020:{person.email.split('@')[0]}"
            save_roster_record(
                membership=membership, instance=Identity(person=person, kind="jira", value=account)
            )
            users[person.id] = _user(account, person.name)
    lead = users[team[0].person_id] if team else _user("712020:pm", "Product owner")
    now = datetime.datetime.now(datetime.UTC)
    begin = datetime.datetime.combine(engagement.start_date, datetime.time(9), datetime.UTC)
    last = min(engagement.end_date or now.date(), now.date())
    nodes, number, sprint_number = [], 0, 0
    while begin.date() <= last:
        sprint_number += 1
        sprint = _sprint(sprint_number, begin, now)
        end = begin + datetime.timedelta(days=SPRINT_DAYS)
        on_duty = [
            a
            for a in team
            if a.valid_from <= begin.date() and (a.valid_to is None or a.valid_to >= end.date())
        ]
        for assignment in on_duty:
            for pulled_in in [False] * rng.randint(2, 4) + [True] * (rng.random() < 0.3):
                number += 1
                created = begin - datetime.timedelta(days=rng.randint(1, 20)) if not pulled_in else begin
                created += datetime.timedelta(hours=rng.randint(1, 6)) if pulled_in else datetime.timedelta()
                added = created + datetime.timedelta(hours=1)
                finish = begin + datetime.timedelta(
                    days=rng.uniform(1, SPRINT_DAYS * (1.4 if rng.random() < 0.2 else 0.95))
                )
                resolved = finish if finish <= now else None
                nodes.append(_issue(f"{PROJECT}-{number}", number, sprint, created, added, resolved,
                                    users[assignment.person_id], lead, rng))  # fmt: skip
        begin = end
    is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines())
    incident = matcher(connection.glob_list("incident_labels"))
    rows = [
        mapping.issue(
            node, site=SITE, is_bot_name=is_bot, incident_labels=incident, sprint_field_id=SPRINT_FIELD
        )
        for node in nodes
    ]
    for start in range(0, len(rows), 100):  # a page at a time, as a sync stores them
        store_work_items(connection, rows[start : start + 100])
    return connection
