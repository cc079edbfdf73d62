"""GitHub evidence for the demo: pull requests and issues that follow the demo roster.

The demo cannot call GitHub, so each demo repository gets a connection whose records come from
an export in the shape `gh pr list --json …` / `gh issue list --json …` produce, imported
through the same path a user without API access would take (connectors/github/export.py).
The people assigned on each day open pull requests, their teammates and an in-house reviewer
review them, a few changes are reverted, bugs and incidents are filed and resolved, and a
freelancer nobody put on the roster shows up in the unattributed queue.
"""

from __future__ import annotations

import datetime
import json
import random

from partnerscope.demo_history import REPOSITORIES, TOPICS, VERBS
from partnerscope.engagements.models import Assignment, Engagement, Identity
from partnerscope.evidence.connector_services import save_connection, start_import
from partnerscope.evidence.connectors.runner import run_connector_import
from partnerscope.evidence.models import Connection

FREELANCER = "sam-freelance"


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _export(engagement: Engagement, rng: random.Random) -> tuple[list[dict], list[dict]]:
    today = datetime.date.today()
    start, end = engagement.start_date, min(engagement.end_date or today, today)
    logins = dict(
        Identity.objects.filter(
            organization_id=engagement.organization_id, kind=Identity.Kind.GITHUB
        ).values_list("person_id", "value")
    )
    team = [a for a in Assignment.objects.filter(engagement=engagement) if a.person_id in logins]
    inhouse = [
        a
        for a in Assignment.objects.filter(organization_id=engagement.organization_id, vendor__isnull=True)
        if a.person_id in logins
    ]
    prs, issues, number = [], [], 0
    day = start
    while day <= end:
        if day.weekday() < 5:
            on_duty = [a for a in team if a.valid_from <= day and (a.valid_to is None or a.valid_to >= day)]
            reviewers = [
                logins[a.person_id]
                for a in inhouse
                if a.valid_from <= day and (a.valid_to is None or a.valid_to >= day)
            ]
            for a in on_duty:
                if rng.random() < 0.18:
                    number += 1
                    prs.append(
                        _pull_request(number, logins[a.person_id], day, on_duty, logins, reviewers, rng)
                    )
            if day > end - datetime.timedelta(days=60) and rng.random() < 0.05:
                number += 1
                prs.append(_pull_request(number, FREELANCER, day, on_duty, logins, reviewers, rng))
            if prs and rng.random() < 0.01 and prs[-1]["state"] == "MERGED":
                number += 1
                original = prs[-1]
                revert = _pull_request(
                    number, original["author"]["login"], day, on_duty, logins, reviewers, rng
                )
                revert["title"] = f'Revert "{original["title"]}"'
                prs.append(revert)
            if on_duty and rng.random() < 0.2:
                number += 1
                issues.append(_issue(number, day, on_duty, logins, rng))
        day += datetime.timedelta(days=1)
    return prs, issues


def _pull_request(number, login, day, on_duty, logins, reviewers, rng) -> dict:
    created = datetime.datetime.combine(day, datetime.time(9 + rng.randint(0, 7)), datetime.UTC)
    merged = created + datetime.timedelta(hours=rng.randint(2, 96))
    state = "MERGED" if rng.random() < 0.85 else rng.choice(["CLOSED", "OPEN"])
    if merged > datetime.datetime.now(datetime.UTC):
        state, merged = "OPEN", created  # not merged yet: nothing in the demo happens in the future
    peers = [logins[a.person_id] for a in on_duty if logins[a.person_id] != login] + reviewers
    reviews = []
    for k, reviewer in enumerate(rng.sample(peers, min(len(peers), rng.randint(1, 2)))):
        verdict = "CHANGES_REQUESTED" if k == 0 and rng.random() < 0.25 else "APPROVED"
        at = created + (merged - created) * (k + 1) / 3
        reviews.append(
            {
                "id": f"PRR_{number}_{k}",
                "author": {"login": reviewer},
                "state": verdict,
                "submittedAt": _iso(at),
            }
        )
    first = created - datetime.timedelta(hours=rng.randint(1, 30))
    return {
        "number": number,
        "title": f"{rng.choice(VERBS)} {rng.choice(TOPICS)}",
        "state": state,
        "isDraft": False,
        "url": "",
        "author": {"login": login, "is_bot": False},
        "createdAt": _iso(created),
        "updatedAt": _iso(merged),
        "closedAt": _iso(merged) if state != "OPEN" else None,
        "mergedAt": _iso(merged) if state == "MERGED" else None,
        "additions": rng.randint(5, 600),
        "deletions": rng.randint(0, 200),
        "changedFiles": rng.randint(1, 15),
        "labels": [],
        "mergeCommit": {"oid": f"{rng.getrandbits(160):040x}"} if state == "MERGED" else None,
        "commits": [
            {
                "oid": f"{rng.getrandbits(160):040x}",
                "authoredDate": _iso(first + datetime.timedelta(hours=h)),
                "authors": [{"login": login, "email": ""}],
            }
            for h in range(rng.randint(1, 4))
        ],  # fmt: skip
        "reviews": reviews if state != "OPEN" or rng.random() < 0.5 else [],
        "comments": [],
    }


def _issue(number, day, on_duty, logins, rng) -> dict:
    created = datetime.datetime.combine(day, datetime.time(10), datetime.UTC)
    kind = rng.choices(["bug", "incident", "enhancement"], [5, 1, 4])[0]
    closed = created + datetime.timedelta(hours=rng.randint(1, 240))
    done = closed <= datetime.datetime.now(datetime.UTC) and rng.random() < 0.8
    assignee = logins[rng.choice(on_duty).person_id]
    return {
        "number": number,
        "title": {
            "bug": "Wrong total on refunds",
            "incident": "Payments failing in production",
            "enhancement": "Export settlements as CSV",
        }[kind],  # fmt: skip
        "state": "CLOSED" if done else "OPEN",
        "stateReason": "COMPLETED" if done else "",
        "author": {"login": assignee},
        "labels": [{"name": kind}]
        + ([{"name": "priority: high"}] if kind != "enhancement" and rng.random() < 0.5 else [])
        # Every fourth bug was found in production (the defect escape rate); by number, not
        # by a draw, so the rest of the demo stays as it was.
        + ([{"name": "found-in:production"}] if kind == "bug" and number % 4 == 0 else []),
        "assignees": [{"login": assignee}],
        "milestone": None,
        "createdAt": _iso(created),
        "updatedAt": _iso(closed if done else created),
        "closedAt": _iso(closed) if done else None,
        "url": "",
    }


def load_demo_trackers(membership) -> list[Connection]:
    """A GitHub connection per demo repository, filled from a generated export."""
    rng = random.Random(11)  # the same demo every time  # noqa: S311 - not for security
    connections = []
    for engagement in Engagement.objects.visible_to(membership).filter(name__in=REPOSITORIES):
        repo = REPOSITORIES[engagement.name]
        connection = save_connection(
            membership=membership,
            instance=Connection(
                engagement=engagement, name=f"{repo} on GitHub", kind="github", project=f"northwind/{repo}"
            ),
            # A placeholder: the demo imports an export; a sync would need a real token.
            token="demo-placeholder-token",  # noqa: S106 - not a credential
        )
        prs, issues = _export(engagement, rng)
        run = start_import(
            membership=membership,
            connection=connection,
            files=[("prs.json", json.dumps(prs).encode()), ("issues.json", json.dumps(issues).encode())],
            enqueue=False,
        )
        run_connector_import(run)
        connections.append(connection)
    return connections
