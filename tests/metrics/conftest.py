"""Crafted evidence with known answers, on top of the persona world (tests/conftest.py).

March 2024, engagement A (vendor Alpha Soft), GitHub project of ana-alpha:

* the world's PR #1 by ana: merged, no review;
* PRs #2-#7 by ana, merged 2024-03-1x; #2-#5 approved by ida (in-house), #6 approved only by
  ana herself (the author: not a review), #7 approved by a bot (not a review); ida requested
  changes on #2 first; PR #8 by ana closed unmerged.
* Deployments to production: D1 (2024-03-20) ships #2, #3 and #4 (a multi-PR deployment),
  D2 (2024-03-25) ships #5, followed by an incident resolved 6 hours later; a failed
  deployment run D3 (outcome failure) is not an incident and not counted.
* PR #2 was squash-merged: its first commit (host API) is 2024-03-10 00:00, 24 h before it was
  created; its lead time runs from that first commit.

CI: ana's runs in March, 6 finished of which 2 failed, one cancelled; a bot's failed run.
Work items reported in March, assigned to ana: "Bug", "bug", "Defect" and a "Story".

Git, engagement A's repository, March 2024: ana authors four commits (one co-authored by ida,
one later reverted by ida's revert commit), a bot commits once. Max Mover moves from Alpha to
Beta on 2024-07-01: his commit of 2024-06-30 counts for Alpha, that of 2024-07-01 for Beta.
"""

from __future__ import annotations

import datetime

import pytest

from partnerscope.engagements.models import Identity
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.attribution import attribute_repository
from partnerscope.evidence.connectors.store import store_deployments, store_pull_requests, store_work_items
from partnerscope.evidence.models import (
    Commit,
    Connection,
    Contribution,
    Deployment,
    DeploymentCommit,
    Incident,
    Repository,
)
from tests.conftest import pull_request_row

UTC = datetime.UTC


def at(day: int, hour: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2024, month, day, hour, tzinfo=UTC)


def review(external_id: str, login: str, state: str, when: datetime.datetime, *, is_comment=False, bot=False):
    return {
        "external_id": external_id, "state": state, "is_comment": is_comment, "submitted_at": when,
        "comment_count": 0, "actor": login, "acted_on": when.date(), "is_bot": bot,
    }  # fmt: skip


def work_item(key: str, item_type: str, when: datetime.datetime, login: str = "ana-alpha") -> dict:
    return {
        "key": key, "external_id": key, "title": f"Item {key}", "url": "", "item_type": item_type,
        "priority": "Medium", "workflow_status": "In Progress", "category": "in_progress", "resolution": "",
        "created_at": when, "updated_at": when, "resolved_at": None, "assignee": login, "reporter": login,
        "sprint": "", "fix_versions": [], "labels": [], "links": [], "is_incident": False, "actor": login,
        "acted_on": when.date(), "is_bot": False, "events": [],
    }  # fmt: skip


def deployment_row(external_id: str, when: datetime.datetime, outcome: str = "success") -> dict:
    """A production deployment by ana, as the connectors store it."""
    return {
        "external_id": external_id, "kind": "deployment", "environment": "production", "is_production": True,
        "is_hotfix": False, "outcome": outcome, "sha": "", "ref": "main", "name": "deploy",
        "created_at": when, "finished_at": when, "updated_at": when, "url": "", "actor": "ana-alpha",
        "acted_on": when.date(), "is_bot": False,
    }  # fmt: skip


def make_commit(repository, sha, email, name, when: datetime.datetime, *, coauthor=None, reverts="", adds=10, dels=0,
                bot=False, rework=None):  # fmt: skip
    commit = Commit.objects.create(
        organization_id=repository.organization_id, repository=repository, sha=sha, author_name=name,
        author_email=email, authored_at=when, authored_date=when.date(), committed_at=when,
        subject=f"Revert {reverts}" if reverts else f"work {sha}", parent_count=1, additions=adds,
        deletions=dels, reverts_sha=reverts, rework_lines=rework,
    )  # fmt: skip
    people = [(email, name, "author")] + ([(coauthor[0], coauthor[1], "co-author")] if coauthor else [])
    for address, who, role in people:
        Contribution.objects.create(
            organization_id=repository.organization_id, commit=commit, repository=repository, role=role,
            name=who, email=address, authored_date=when.date(), is_bot=bot,
        )  # fmt: skip
    return commit


@pytest.fixture
def evidence(world):
    m = world.owner_m
    save_roster_record(
        membership=m, instance=Identity(person=world.inhouse, kind="github", value="ida-inhouse")
    )
    connection = Connection.objects.get(engagement=world.engagement_a)
    rows = []
    for number in range(2, 8):
        created = at(9 + number)
        reviews = []
        if number == 2:
            reviews.append(
                review("r2a", "ida-inhouse", "changes_requested", created + datetime.timedelta(hours=2))
            )
        if number <= 5:
            reviews.append(
                review(f"r{number}", "ida-inhouse", "approved", created + datetime.timedelta(hours=4))
            )
        elif number == 6:
            reviews.append(review("r6", "ana-alpha", "approved", created + datetime.timedelta(hours=1)))
            reviews.append(
                review("c6", "ana-alpha", "commented", created + datetime.timedelta(hours=1), is_comment=True)
            )
        else:
            reviews.append(
                review("r7", "helper[bot]", "approved", created + datetime.timedelta(hours=1), bot=True)
            )
        rows.append(
            pull_request_row(
                number, "ana-alpha", created, merge_commit_sha=f"m{number:039d}", reviews=reviews,
                first_commit_at=created - datetime.timedelta(hours=24) if number == 2 else created,
                merged_at=created + datetime.timedelta(hours=8), closed_at=created + datetime.timedelta(hours=8),
            )
        )  # fmt: skip
    rows.append(pull_request_row(8, "ana-alpha", at(20), state="closed", merged_at=None, merge_commit_sha=""))
    store_pull_requests(connection, rows)

    store_deployments(
        connection,
        [deployment_row("d1", at(20)), deployment_row("d2", at(25)), deployment_row("d3", at(26), "failure")],
    )
    # CI runs in March: ana's six finished runs, two failed; a cancelled run and a bot's failed
    # run are not counted (nor is the failed production deployment d3: not a CI run).
    runs = [("r1", "success"), ("r2", "success"), ("r3", "failure"), ("r4", "success"), ("r5", "failure"),
            ("r6", "success"), ("r7", "cancelled")]  # fmt: skip
    store_deployments(
        connection,
        [{**deployment_row(key, at(10 + i), outcome), "kind": "workflow_run", "environment": "", "is_production": False}
         for i, (key, outcome) in enumerate(runs)]
        + [{**deployment_row("r8", at(18), "failure"), "kind": "workflow_run", "environment": "",
            "is_production": False, "actor": "dependabot[bot]", "is_bot": True}],
    )  # fmt: skip
    # Work items reported in March, assigned to ana: two bugs, a "Defect" (a bug by another
    # name), a story; none resolved, so issue lead time is untouched.
    store_work_items(connection, [work_item(key, kind, at(12)) for key, kind in
                                  (("B-1", "Bug"), ("B-2", "bug"), ("B-3", "Defect"), ("S-1", "Story"))])  # fmt: skip
    d1, d2 = (Deployment.objects.get(connection=connection, external_id=x) for x in ("d1", "d2"))
    for dep, numbers in ((d1, (2, 3, 4)), (d2, (5,))):
        for number in numbers:
            DeploymentCommit.objects.create(
                organization_id=dep.organization_id, deployment=dep, sha=f"m{number:039d}"
            )
    Incident.objects.create(
        organization_id=connection.organization_id, connection=connection, source="issue", key="INC-1",
        title="Checkout down", started_at=at(25, 2), resolved_at=at(25, 6), caused_by=d2, actor="ida-inhouse",
        actor_kind="github", acted_on=at(25).date(),
    )  # fmt: skip

    repo_a = Repository.objects.get(engagement=world.engagement_a)
    repo_b = Repository.objects.get(engagement=world.engagement_b)
    make_commit(repo_a, "a1", "ana@alpha.test", "Ana Alpha", at(4), adds=30, dels=10, rework=8)
    make_commit(
        repo_a,
        "a2",
        "ana@alpha.test",
        "Ana Alpha",
        at(5),
        coauthor=("ida@acme.test", "Ida"),
        adds=20,
        rework=2,
    )
    make_commit(repo_a, "a3", "ana@alpha.test", "Ana Alpha", at(6), adds=10)
    make_commit(repo_a, "a4", "ana@alpha.test", "Ana Alpha", at(7), adds=40)
    make_commit(repo_a, "r1", "ida@acme.test", "Ida", at(8), reverts="a4", adds=0, dels=40)
    make_commit(repo_a, "b1", "dependabot[bot]@users.noreply.test", "dependabot[bot]", at(9), bot=True)
    make_commit(repo_a, "m1", "max@mover.test", "Max Mover", datetime.datetime(2024, 6, 30, 12, tzinfo=UTC))
    make_commit(repo_b, "m2", "max@mover.test", "Max Mover", datetime.datetime(2024, 7, 1, 12, tzinfo=UTC))
    attribute_repository(repo_a)
    attribute_repository(repo_b)
    return world
