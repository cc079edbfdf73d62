"""kill -9 during a sync, then resume: exactly the rows of an uninterrupted run.

Each run is a real `partnerscope sync` process on its own database (a SQLite file, or a fresh
PostgreSQL database when DATABASE_URL names PostgreSQL), killed with SIGKILL at different points.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.evidence.gitrepo import generate_history

ROOT = Path(__file__).resolve().parents[2]
SETUP = """
from django.contrib.auth import get_user_model
from partnerscope.orgs.services import create_organization
from partnerscope.orgs.models import Membership
from partnerscope.vendors.models import Vendor
from partnerscope.vendors.services import save_vendor_record
from partnerscope.engagements.models import Engagement, Person, Identity, Assignment
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.models import Repository
from partnerscope.evidence.services import save_repository
owner = get_user_model().objects.create_user("o@crash.test")
create_organization(slug="crash", name="Crash", owner=owner)
m = Membership.objects.get(user=owner)
v = save_vendor_record(membership=m, instance=Vendor(name="Alpha"))
e = save_roster_record(membership=m, instance=Engagement(vendor=v, name="E", model="dedicated_team", start_date="2000-01-01"))
p = save_roster_record(membership=m, instance=Person(name="Dev 1"))
save_roster_record(membership=m, instance=Identity(person=p, kind="email", value="dev1@alpha.test"))
save_roster_record(membership=m, instance=Assignment(person=p, vendor=v, valid_from="2000-01-01"))
r = save_repository(membership=m, instance=Repository(engagement=e, name="app", source=SOURCE, uid="crashrepo0000001"))
"""
DIGEST = """
import hashlib
from array import array
from partnerscope.evidence.models import Commit, FileChange, Contribution, LineOwnership, SurvivingLines
h = hashlib.sha256()
for row in Commit.objects.order_by("sha").values_list("sha", "author_email", "authored_date", "additions", "deletions", "files_changed", "parent_count", "rework_lines"):
    h.update(repr(row).encode())
for row in FileChange.objects.order_by("commit__sha", "path").values_list("commit__sha", "path", "additions", "deletions", "excluded"):
    h.update(repr(row).encode())
for row in Contribution.objects.order_by("commit__sha", "email").values_list("commit__sha", "email", "role", "status", "vendor__name"):
    h.update(repr(row).encode())
for row in SurvivingLines.objects.order_by("path", "email").values_list("path", "email", "lines"):
    h.update(repr(row).encode())
for path, emails, digests, owners in LineOwnership.objects.order_by("path").values_list("path", "emails", "digests", "owners"):
    lines = sorted(zip(array("I", bytes(digests)), (emails[i] for i in array("I", bytes(owners)))))
    h.update(repr((path, lines)).encode())
print(Commit.objects.count(), FileChange.objects.count(), Contribution.objects.count(), h.hexdigest())
"""


class Database:
    """A database of its own for the subprocesses: a SQLite file, or a new PostgreSQL database.
    Made from ``template`` (a migrated Database) when given: a copy instead of a migrate."""

    def __init__(self, tmp: Path, name: str, template: Database | None = None):
        self.env = {
            **os.environ,
            "PARTNERSCOPE_DATA_DIR": str(tmp / name),
            "PARTNERSCOPE_GIT_LOCAL_ROOTS": str(tmp / "src"),
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.pg_name = None
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            self.pg_name = f"ps_crash_{uuid.uuid4().hex[:10]}"
            source = f' TEMPLATE "{template.pg_name}"' if template is not None else ""
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.pg_name}"{source}')
            # This test holds no database of its own: an open session to the test database
            # would keep pytest-django from dropping it at the end of the run.
            connection.close()
            self.env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            self.env.pop("DATABASE_URL", None)
            if template is not None:
                shutil.copytree(template.env["PARTNERSCOPE_DATA_DIR"], self.env["PARTNERSCOPE_DATA_DIR"])

    def manage(self, *args, check=True, **kwargs):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=300, check=check, **kwargs,
        )  # fmt: skip

    def count(self, table: str) -> int:
        """Rows in a table, read directly (a management command per poll would be too slow)."""
        try:
            if self.pg_name:
                import psycopg

                with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            import sqlite3

            with sqlite3.connect(
                Path(self.env["PARTNERSCOPE_DATA_DIR"]) / "partnerscope.sqlite3", timeout=5
            ) as conn:
                return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - a constant
        except Exception:  # the table may be locked or not there yet: try again
            return 0

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code).stdout.strip()

    def drop(self):
        if self.pg_name:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            connection.close()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory, django_db_blocker):
    """One migrated database per test run; each crash test copies it (a migrate costs seconds,
    and these tests make eight databases)."""
    with django_db_blocker.unblock():
        template = Database(tmp_path_factory.mktemp("crash-template"), "template")
    template.manage("migrate", "-v0")
    yield template
    with django_db_blocker.unblock():
        template.drop()


@pytest.fixture
def databases(tmp_path, django_db_blocker, migrated):
    made = []

    def make(name):
        with django_db_blocker.unblock():
            db = Database(tmp_path, name, migrated)
        made.append(db)
        db.shell(SETUP.replace("SOURCE", repr(str(tmp_path / "src" / "app.git"))))
        return db

    yield make
    with django_db_blocker.unblock():
        for db in made:
            db.drop()


def _run_and_kill(db: Database, rows: str, threshold: int) -> bool:
    """Run a sync and SIGKILL it (git and the parser, mid-batch) once ``rows`` reach
    ``threshold``. False if it finished first."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync", "crashrepo0000001"], cwd=ROOT, env=db.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    killed = False
    while process.poll() is None and time.monotonic() < deadline:
        if db.count(rows) >= threshold:
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.02)
    process.wait()
    return killed


def test_kill_9_during_sync_then_resume_gives_the_same_rows(tmp_path, databases):
    generate_history(tmp_path / "src" / "app.git", 2500)
    reference = databases("reference")
    reference.manage("sync", "crashrepo0000001")
    expected = reference.shell(DIGEST)
    assert expected.startswith("2500 ")

    crashed = databases("crashed")
    crashed.env["PARTNERSCOPE_GIT_BATCH_COMMITS"] = "100"
    kills = 0
    for step in (1, 500, 500):
        killed = _run_and_kill(crashed, "evidence_commit", crashed.count("evidence_commit") + step)
        kills += killed
        if not killed:
            break  # it finished on its own: nothing left to interrupt
    assert kills >= 1, "the sync finished before it could be killed: make the history longer"
    if killed:
        cursor = crashed.shell(
            "from partnerscope.evidence.models import Repository; print(Repository.objects.get().cursor)"
        )
        assert cursor == "{}", "a killed sync must not have moved the cursor"
    # Once more, killed in the line-level pass, once it has stored some rework counts.
    assert _run_and_kill(crashed, "evidence_commit WHERE rework_lines IS NOT NULL", 1), (
        "not killed in the line pass"
    )
    assert crashed.count("evidence_lineownership") == 0, "surviving lines move only when the pass completes"

    result = crashed.manage("sync", "crashrepo0000001", check=False)
    assert "Succeeded" in result.stdout, result.stdout + result.stderr
    assert crashed.shell(DIGEST) == expected
    # And once more: an unchanged repository is a no-op that changes nothing.
    assert "up to date" in crashed.manage("sync", "crashrepo0000001").stdout
    assert crashed.shell(DIGEST) == expected
