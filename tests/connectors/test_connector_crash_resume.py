"""kill -9 during a GitHub, GitLab or Jira sync, then resume: the same rows as an uninterrupted sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from tests.evidence.test_crash_resume import ROOT, Database, migrated  # noqa: F401 - a fixture
from tests.fakes.github import FakeGitHub, GeneratedProject
from tests.fakes.gitlab import FakeGitLab, GeneratedGitLabProject
from tests.fakes.jira import FakeJira, GeneratedJiraProject

TOKEN = "ghp_crash_token"  # noqa: S105 - the fake servers'
EMAIL = "sync@crash.test"

SETUP = """
from django.contrib.auth import get_user_model
from partnerscope.orgs.services import create_organization
from partnerscope.orgs.models import Membership
from partnerscope.vendors.models import Vendor
from partnerscope.vendors.services import save_vendor_record
from partnerscope.engagements.models import Engagement, Person, Identity, Assignment
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.models import Connection
from partnerscope.evidence.connector_services import save_connection
owner = get_user_model().objects.create_user("o@crash.test")
create_organization(slug="crash", name="Crash", owner=owner)
m = Membership.objects.get(user=owner)
v = save_vendor_record(membership=m, instance=Vendor(name="Alpha"))
e = save_roster_record(membership=m, instance=Engagement(vendor=v, name="E", model="dedicated_team", start_date="2000-01-01"))
p = save_roster_record(membership=m, instance=Person(name="Ana"))
save_roster_record(membership=m, instance=Identity(person=p, kind=KIND, value=IDENTITY))
save_roster_record(membership=m, instance=Assignment(person=p, vendor=v, valid_from="2000-01-01"))
save_connection(membership=m, instance=Connection(engagement=e, name="tracker", kind=KIND, project=PROJECT,
    base_url=BASE, allow_private_host=True, account_email=EMAIL, uid="crashconn0000001"), token=TOKEN)
"""

DIGEST = """
import hashlib
from partnerscope.evidence.models import PullRequest, Review, PullRequestCommit, WorkItem, WorkItemEvent, Deployment, Incident, Connection
h = hashlib.sha256()
for model, fields in (
    (PullRequest, ("number", "title", "updated_at", "state", "actor", "status", "vendor__name", "first_commit_at", "merge_commit_sha")),
    (Review, ("pull_request__number", "external_id", "state", "actor", "status")),
    (PullRequestCommit, ("pull_request__number", "sha")),
    (WorkItem, ("key", "updated_at", "workflow_status", "actor", "status", "is_incident", "fix_versions")),
    (WorkItemEvent, ("work_item__key", "external_id", "field", "from_value", "to_value")),
    (Deployment, ("kind", "external_id", "outcome", "is_production")),
    (Incident, ("source", "key", "caused_by__external_id")),
):
    for row in model.objects.order_by(*fields).values_list(*fields):
        h.update(repr(row).encode())
print(PullRequest.objects.count(), WorkItem.objects.count(), Deployment.objects.count(), h.hexdigest())
"""


@dataclass
class Case:
    """One system: its fake project, the connection's fields, and where to kill its sync."""

    kind: str
    project: str
    identity: str
    counts: str  # the digest's first three numbers: pull requests, work items, deployments
    kills: tuple  # (table, rows stored when the sync is killed)

    def fake(self):
        if self.kind == "github":
            project = GeneratedProject(prs=1200, issues=1200, deployments=200, runs=200, seed=9)
            return FakeGitHub(project, token=TOKEN)
        if self.kind == "gitlab":
            project = GeneratedGitLabProject(mrs=1000, issues=800, deployments=200, pipelines=200, seed=9)
            return FakeGitLab(project, token=TOKEN, rate_limit=10**9)
        return FakeJira(GeneratedJiraProject(issues=2500, seed=9), token=TOKEN, email=EMAIL)


CASES = {
    "github": Case(
        "github", "acme/app", "ana-alpha", "1200 1200 400",
        (("evidence_pullrequest", 200), ("evidence_pullrequest", 700), ("evidence_workitem", 400)),
    ),
    # Merge requests and issues move their cursors page by page; the issues' resource events are
    # read between the pages.
    "gitlab": Case(
        "gitlab", "acme/platform/shop", "ana-alpha", "1000 800 400",
        (("evidence_pullrequest", 300), ("evidence_workitem", 200), ("evidence_workitem", 500)),
    ),
    "jira": Case(
        "jira", "SHOP", "557058:ana", "0 2500 0",
        (("evidence_workitem", 600), ("evidence_workitem", 1400), ("evidence_workitemevent", 6000)),
    ),
}  # fmt: skip


@pytest.fixture(params=list(CASES))
def case(request):
    return CASES[request.param]


@pytest.fixture
def server(case):
    with case.fake() as fake:
        yield fake


@pytest.fixture
def databases(tmp_path, django_db_blocker, server, case, migrated):  # noqa: F811 - the imported fixture
    made = []

    def make(name):
        with django_db_blocker.unblock():
            db = Database(tmp_path, name, migrated)
        db.env["PARTNERSCOPE_TRACKER_RUNS_DAYS"] = "3650"
        made.append(db)
        values = {"BASE": server.base_url, "TOKEN": TOKEN, "KIND": case.kind, "PROJECT": case.project,
                  "IDENTITY": case.identity, "EMAIL": EMAIL if case.kind == "jira" else ""}  # fmt: skip
        script = SETUP
        for placeholder, value in values.items():
            script = script.replace(placeholder, repr(value))
        db.shell(script)
        return db

    yield make
    with django_db_blocker.unblock():
        for db in made:
            db.drop()


def test_kill_9_during_a_tracker_sync_then_resume_gives_the_same_rows(databases, case):
    reference = databases("reference")
    assert "Succeeded" in reference.manage("sync", "crashconn0000001").stdout
    expected = reference.shell(DIGEST)
    assert expected.startswith(case.counts + " ")

    crashed = databases("crashed")
    kills = 0
    for table, threshold in case.kills:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "sync", "crashconn0000001"], cwd=ROOT, env=crashed.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if crashed.count(table) >= threshold:
                os.killpg(process.pid, signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.02)
        process.wait()
    assert kills >= 2, "the sync finished before it could be killed: make the project larger"
    cursor = crashed.shell(
        "from partnerscope.evidence.models import Connection; print(sorted(Connection.objects.get().cursor))"
    )
    if case.kind == "github" and "pull_requests" in cursor:
        # A step's cursor moves only once all of its pages are stored.
        assert crashed.count("evidence_pullrequest") == 1200, (
            "the pull request cursor moved past unstored pages"
        )
    assert crashed.shell(DIGEST) != expected, "the killed syncs stored everything: kill them earlier"

    result = crashed.manage("sync", "crashconn0000001", check=False)
    assert "Succeeded" in result.stdout, result.stdout + result.stderr
    assert crashed.shell(DIGEST) == expected
