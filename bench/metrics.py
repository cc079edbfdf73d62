"""Benchmark: the metric engine on a large synthetic organization, against DuckDB as the floor.

    python bench/metrics.py [--scale small|medium|large] [--db sqlite,postgres] [--seed N]

For each database (each in a process of its own: Django reads its database once) it:

1. generates an organization deterministic by seed — vendors, engagements, people with a dated
   roster (some move vendors), repositories and tracker connections — and loads evidence through
   the product's own writers: commits through the git ingestion's batch writer and attribution,
   pull requests with reviews, work items and deployments through the connectors' store
   functions (which attribute each page and mark cells dirty, as a sync does), bug fixes traced
   to the commits that introduced them and coverage reports of builds;
2. times a full recompute of every KPI for every cell (``recompute_s``);
3. exports the same rows to Parquet and times DuckDB computing the same aggregations — the
   per engagement × vendor × month and quarter counts, sums and exact medians, at both levels
   (one engagement, all of a vendor's) — over them (``duckdb_floor_s``, ``ratio_vs_floor``);
4. adds one day of new evidence (commits and pull requests, through the same writers) and
   times the incremental recompute of the cells it marked (``incremental_s``);
5. serves the product on loopback with the server ``partnerscope serve`` runs (its default
   threads, ``server_threads``) and has 8 concurrent clients fetch a vendor's scorecard and the
   comparison page, and the trivial page of the same server (``page_p95_ms``,
   ``trivial_p95_ms``, ``page_ratio``), each page alone, in three rounds that take turns. The
   trivial page is the emptiest signed-in page (the API token list), which pays the same
   session and tenant work; ``/healthz``, below every middleware, is reported beside it
   (``page_ratio_vs_healthz``).

PostgreSQL runs when it answers on 127.0.0.1:5432 (or ``--pg-url``); it uses a scratch database
``ps_bench_metrics`` created and dropped here. The last line is one JSON object: ``scale``, then
each database's figures prefixed ``sqlite_`` / ``postgres_``.

Sizes: small (default, for `make bench`) ≈ 40k commits; large is the issue's organization:
60 vendors, 3,000 people, 1,000 repositories, 2M commits, 400k pull requests with 1.2M reviews,
600k issues, 20k deployments over 36 months.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {
    #        vendors people repos  commits    prs   issues deployments months
    "small": (6, 120, 20, 40_000, 8_000, 12_000, 400, 12),
    "medium": (20, 600, 150, 300_000, 60_000, 90_000, 3_000, 24),
    "large": (60, 3_000, 1_000, 2_000_000, 400_000, 600_000, 20_000, 36),
}
PG_DB = "ps_bench_metrics"
UTC = datetime.UTC


# --- the child process: one database -------------------------------------------------------


def setup_django(db: str, work: Path, pg_url: str) -> None:
    os.environ.update(
        PARTNERSCOPE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="partnerscope.settings"
    )
    if db == "postgres":
        os.environ["DATABASE_URL"] = f"{pg_url.rsplit('/', 1)[0]}/{PG_DB}"
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Generator:
    """A synthetic organization, deterministic by seed."""

    def __init__(self, scale: str, seed: int):
        (self.n_vendors, self.n_people, self.n_repos, self.n_commits, self.n_prs, self.n_issues,
         self.n_deployments, self.months) = SCALES[scale]  # fmt: skip
        self.seed, self.rng = seed, random.Random(seed)
        today = datetime.date.today().replace(day=1)
        index = today.year * 12 + today.month - 1 - self.months
        self.start = datetime.date(index // 12, index % 12 + 1, 1)
        self.days = (today - self.start).days

    def moment(self, day_offset: float) -> datetime.datetime:
        return datetime.datetime.combine(self.start, datetime.time(), tzinfo=UTC) + datetime.timedelta(
            days=day_offset
        )

    def build_org(self):
        from django.contrib.auth import get_user_model

        from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
        from partnerscope.evidence.connectors.secrets import encrypt_token
        from partnerscope.evidence.models import Connection, Repository
        from partnerscope.orgs.models import Membership
        from partnerscope.orgs.services import create_organization
        from partnerscope.vendors.models import Vendor

        owner = get_user_model().objects.create_user(
            "owner@bench.test", "owner@bench.test", "bench-password-1"
        )
        org = create_organization(slug="bench", name="Bench", owner=owner)
        self.org, self.membership = org, Membership.objects.get(user=owner)
        rng = self.rng
        vendors = Vendor.objects.bulk_create(
            [Vendor(organization=org, name=f"Vendor {i:02d}") for i in range(self.n_vendors)]
        )
        engagements = Engagement.objects.bulk_create(
            [
                Engagement(organization=org, vendor=v, name=f"{v.name} engagement {j}", model="dedicated_team",
                           start_date=self.start, currency="EUR", baseline_fte=5)
                for i, v in enumerate(vendors)
                for j in range(1 + (i % 3 == 0))
            ]
        )  # fmt: skip
        self.engagements = engagements
        people = Person.objects.bulk_create(
            [
                Person(organization=org, name=f"Person {i}", email=f"p{i}@bench.test")
                for i in range(self.n_people)
            ]
        )
        identities, assignments = [], []
        self.staff: dict[int, list[tuple[Person, str, str]]] = {e.id: [] for e in engagements}
        self.inhouse: list[tuple] = []
        for i, person in enumerate(people):
            email, login = f"p{i}@bench.test", f"user{i}"
            identities += [
                Identity(organization=org, person=person, kind="email", value=email),
                Identity(organization=org, person=person, kind="github", value=login),
            ]
            if i % 10 == 0:  # in-house staff, reviewing everyone's work
                assignments.append(
                    Assignment(organization=org, person=person, valid_from=self.start, allocation_pct=100)
                )
                self.inhouse.append((person, email, login))
                continue
            engagement = engagements[i % len(engagements)]
            if i % 37 == 0:  # a mover: half the period with another vendor's engagement
                other = engagements[(i + 1) % len(engagements)]
                middle = self.start + datetime.timedelta(days=self.days // 2)
                assignments += [
                    Assignment(organization=org, person=person, vendor_id=engagement.vendor_id, engagement=engagement,
                               valid_from=self.start, valid_to=middle - datetime.timedelta(days=1)),
                    Assignment(organization=org, person=person, vendor_id=other.vendor_id, engagement=other,
                               valid_from=middle),
                ]  # fmt: skip
            else:
                leaves = rng.random() < 0.1
                valid_to = (
                    self.start + datetime.timedelta(days=rng.randrange(30, self.days)) if leaves else None
                )
                assignments.append(
                    Assignment(organization=org, person=person, vendor_id=engagement.vendor_id, engagement=engagement,
                               valid_from=self.start, valid_to=valid_to, allocation_pct=rng.choice((50, 100, 100)))
                )  # fmt: skip
            self.staff[engagement.id].append((person, email, login))
        Identity.objects.bulk_create(identities, batch_size=2000)
        Assignment.objects.bulk_create(assignments, batch_size=2000)
        self.repos = Repository.objects.bulk_create(
            [
                Repository(organization=org, engagement=engagements[r % len(engagements)], name=f"repo-{r}",
                           source=f"/nonexistent/repo-{r}.git")
                for r in range(self.n_repos)
            ]
        )  # fmt: skip
        self.connections = Connection.objects.bulk_create(
            [
                Connection(organization=org, engagement=e, name=f"gh-{e.id}", kind="github", project=f"bench/{e.id}",
                           token_encrypted=encrypt_token("ghp_bench"))
                for e in engagements
            ]
        )  # fmt: skip
        return org

    def attach(self, org) -> None:
        """Rebuild the generator's view of an organization restored from a snapshot (the same
        staff lists, in the same order, as ``build_org`` made)."""
        from partnerscope.engagements.models import Assignment, Engagement
        from partnerscope.evidence.models import Connection, Repository

        self.org = org
        self.engagements = list(Engagement.objects.filter(organization=org).order_by("id"))
        assignments = list(
            Assignment.objects.filter(organization=org)
            .select_related("person")
            .order_by("person_id", "valid_from")
        )
        # The loaded organization's own dates, so a snapshot saved in another month still works.
        self.start = min(a.valid_from for a in assignments)
        end = datetime.date(self.start.year + (self.start.month - 1 + self.months) // 12,
                            (self.start.month - 1 + self.months) % 12 + 1, 1)  # fmt: skip
        self.days = (end - self.start).days
        self.staff, self.inhouse = {}, []
        for assignment in assignments:
            person = assignment.person
            entry = (person, person.email, "user" + person.email.split("@")[0][1:])
            if assignment.engagement_id is None:
                self.inhouse.append(entry)
            elif assignment.valid_from == self.start:  # a mover is listed under their first engagement
                self.staff.setdefault(assignment.engagement_id, []).append(entry)
        self.repos = list(Repository.objects.filter(organization=org).order_by("id"))
        self.connections = list(Connection.objects.filter(organization=org).order_by("id"))
        for connection in self.connections:
            self.staff.setdefault(connection.engagement_id, [])

    def commits(self, repo, count: int, day_from: float, day_to: float, tag: str = ""):
        from partnerscope.evidence.gitlog import ParsedCommit

        rng = self.rng
        staff = self.staff[repo.engagement_id] or self.inhouse
        out, shas = [], []
        for k in range(count):
            who = rng.choice(staff) if rng.random() < 0.85 else rng.choice(self.inhouse)
            if rng.random() < 0.03:
                name, email = "dependabot[bot]", "49699333+dependabot[bot]@users.noreply.test"
            else:
                name, email = who[0].name, who[1]
            when = self.moment(rng.uniform(day_from, day_to))
            sha = f"{repo.id:08x}{tag}{k:024x}".ljust(40, "0")[:40]
            message = f"change {k}"
            if shas and rng.random() < 0.01:
                message = f'Revert "x"\n\nThis reverts commit {rng.choice(shas)}.'
            if rng.random() < 0.05:
                co = rng.choice(self.inhouse)
                message += f"\n\nCo-authored-by: {co[0].name} <{co[1]}>"
            added, deleted = rng.randrange(1, 120), rng.randrange(0, 40)
            out.append(
                ParsedCommit(sha=sha, parents=["0" * 40], author_name=name, author_email=email, authored_at=when,
                             authored_date=when.date(), committed_at=when, message=message,
                             files=[(f"src/{k % 50}.py", added, deleted)])
            )  # fmt: skip
            shas.append(sha)
        return out

    def load_commits(self, per_repo_range=None, tag=""):
        from django.db import transaction

        from partnerscope.evidence.attribution import attribute_repository
        from partnerscope.evidence.ingest import CommitWriter

        per_repo = self.n_commits // self.n_repos
        for repo in self.repos:
            commits = self.commits(repo, per_repo, *(per_repo_range or (0, self.days)), tag=tag)
            commits.sort(key=lambda c: c.authored_at)
            writer = CommitWriter(repo)
            with transaction.atomic():
                for start in range(0, len(commits), 1000):
                    writer.write_batch(commits[start : start + 1000])
                attribute_repository(repo, only_pending=True)

    def pull_requests(self, connection, first_number: int, count: int, day_from: float, day_to: float):
        rng = self.rng
        staff = self.staff[connection.engagement_id] or self.inhouse
        rows = []
        for k in range(count):
            author = rng.choice(staff)
            created = self.moment(rng.uniform(day_from, day_to))
            first_commit = created - datetime.timedelta(hours=rng.uniform(1, 72))
            state = "merged" if rng.random() < 0.85 else rng.choice(("closed", "open"))
            merged = created + datetime.timedelta(hours=rng.uniform(2, 120)) if state == "merged" else None
            reviews = []
            for r in range(3):
                reviewer = rng.choice(self.inhouse) if rng.random() < 0.6 else rng.choice(staff)
                at = created + datetime.timedelta(hours=rng.uniform(0.5, 48))
                review_state = (
                    "approved" if r == 2 else rng.choice(("commented", "changes_requested", "approved"))
                )
                reviews.append(
                    {"external_id": f"{first_number + k}-{r}", "state": review_state, "is_comment": False,
                     "submitted_at": at, "comment_count": 1, "actor": reviewer[2], "acted_on": at.date(),
                     "is_bot": False}
                )  # fmt: skip
            number = first_number + k
            rows.append(
                {"number": number, "title": f"Change {number}", "url": "", "state": state, "draft": False,
                 "created_at": created, "updated_at": merged or created, "ready_at": created,
                 "first_commit_at": first_commit, "merged_at": merged,
                 "closed_at": merged or (created + datetime.timedelta(days=3) if state == "closed" else None),
                 "merge_commit_sha": f"{connection.id:06x}{number:034x}" if merged else "", "additions": 40,
                 "deletions": 8, "changed_files": 3, "commit_count": 2, "labels": [], "actor": author[2],
                 "acted_on": created.date(), "is_bot": False, "commits": [], "reviews": reviews}
            )  # fmt: skip
        return rows

    def load_quality(self):
        """Bug fixes traced to the commits that introduced their bugs, and coverage reports of
        builds, for the commits already loaded: about 4 % of commits are fixes blaming one to
        three of the 200 commits before them, and 30 % have a coverage report. Fixes are stored
        by the tracing's own writer (szz._store; the blame itself needs a real repository);
        coverage reports as rows (their reader needs one too). A generator of its own, so the
        rest of the organization stays what earlier runs measured."""
        from collections import Counter

        from partnerscope.evidence import szz
        from partnerscope.evidence.models import Commit, CoverageReport

        rng = random.Random(self.seed + 1)  # noqa: S311 - synthetic data
        for repo in self.repos:
            rows = list(
                Commit.objects.filter(repository=repo, parent_count__lte=1)
                .order_by("authored_at", "id")
                .values_list("id", "sha")
            )
            traced = []
            for index in range(len(rows) // 10, len(rows)):
                if rng.random() < 0.04:
                    earlier = rows[max(0, index - 200) : index]
                    blamed = Counter(
                        {
                            sha: rng.randint(1, 6)
                            for _, sha in rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))
                        }
                    )
                    traced.append(
                        (rows[index][0], szz.Candidate("conventional"), blamed, sum(blamed.values()), "")
                    )
            for start in range(0, len(traced), 500):
                szz._store(repo, traced[start : start + 500])
            reports = []
            for commit_id, _ in rows:
                if rng.random() < 0.3:
                    new_lines = rng.randint(1, 120)
                    reports.append(
                        CoverageReport(organization_id=repo.organization_id, commit_id=commit_id, repository=repo,
                                       format="lcov", file_name="lcov.info", lines_valid=5000, lines_covered=4000,
                                       new_lines=new_lines, new_covered=round(new_lines * rng.uniform(0.4, 1.0)))
                    )  # fmt: skip
            CoverageReport.objects.bulk_create(reports, batch_size=2000)

    def load_tracker(self):
        from partnerscope.evidence.connectors.store import (
            store_deployments,
            store_pull_requests,
            store_work_items,
        )
        from partnerscope.evidence.models import Deployment, DeploymentCommit, Incident, PullRequest

        rng = self.rng
        per_conn_prs = self.n_prs // len(self.connections)
        per_conn_issues = self.n_issues // len(self.connections)
        per_conn_deploys = max(1, self.n_deployments // len(self.connections))
        for connection in self.connections:
            # A sync stores pages in the order the host's API lists them, by last update (GitHub
            # newest first, GitLab and Jira oldest first), so a month's rows lie together; rows
            # generated at random times and stored as generated would spread every month over
            # every page of the table. Generated as before (the same rows for a seed), stored
            # oldest update first.
            prs = []
            for start in range(0, per_conn_prs, 500):
                prs += self.pull_requests(connection, start + 1, min(500, per_conn_prs - start), 0, self.days)
            prs.sort(key=lambda row: row["updated_at"])
            for start in range(0, len(prs), 500):
                store_pull_requests(connection, prs[start : start + 500])
            staff = self.staff[connection.engagement_id] or self.inhouse
            items = []
            for start in range(0, per_conn_issues, 500):
                rows = []
                for k in range(start, min(start + 500, per_conn_issues)):
                    created = self.moment(rng.uniform(0, self.days))
                    done = rng.random() < 0.7
                    resolved = created + datetime.timedelta(days=rng.uniform(0.2, 30)) if done else None
                    who = rng.choice(staff)
                    rows.append(
                        {"key": f"B-{k}", "external_id": str(k), "title": f"Issue {k}", "url": "",
                         "item_type": rng.choice(("Bug", "Story", "Task")), "priority": "Medium",
                         "workflow_status": "Done" if done else "In Progress",
                         "category": "done" if done else "in_progress", "resolution": "Done" if done else "",
                         "created_at": created, "updated_at": resolved or created, "resolved_at": resolved,
                         "assignee": who[2], "reporter": who[2], "sprint": "", "fix_versions": [], "labels": [],
                         "links": [], "is_incident": False, "actor": who[2],
                         "acted_on": (resolved or created).date(), "is_bot": False, "events": []}
                    )  # fmt: skip
                items += rows
            items.sort(key=lambda row: row["updated_at"])
            for start in range(0, len(items), 500):
                store_work_items(connection, items[start : start + 500])
            rows = []
            for k in range(per_conn_deploys):
                at = self.moment(self.days * (k + 1) / (per_conn_deploys + 1))
                rows.append(
                    {"external_id": f"d{k}", "kind": "deployment", "environment": "production", "is_production": True,
                     "is_hotfix": False, "outcome": "success" if rng.random() < 0.95 else "failure", "sha": "",
                     "ref": "main", "name": "deploy", "created_at": at, "finished_at": at, "updated_at": at,
                     "url": "", "actor": rng.choice(staff)[2], "acted_on": at.date(), "is_bot": False}
                )  # fmt: skip
            store_deployments(connection, rows)
            # Each successful deployment ships the merge commits merged since the previous one.
            merged = list(
                PullRequest.objects.filter(connection=connection, state="merged")
                .order_by("merged_at")
                .values_list("merge_commit_sha", "merged_at")
            )
            shipped, incidents, previous, i = [], [], None, 0
            for deployment in Deployment.objects.filter(connection=connection, outcome="success").order_by(
                "created_at"
            ):
                while i < len(merged) and merged[i][1] <= deployment.created_at:
                    shipped.append(DeploymentCommit(organization_id=connection.organization_id, deployment=deployment,
                                                    sha=merged[i][0]))  # fmt: skip
                    i += 1
                if previous is not None and rng.random() < 0.12:
                    incidents.append(
                        Incident(organization_id=connection.organization_id, connection=connection, source="issue",
                                 key=f"INC-{deployment.id}", title="Outage", started_at=deployment.created_at,
                                 resolved_at=deployment.created_at + datetime.timedelta(hours=rng.uniform(1, 30)),
                                 caused_by=deployment, actor="", actor_kind="github",
                                 acted_on=deployment.created_at.date())
                    )  # fmt: skip
                previous = deployment
            DeploymentCommit.objects.bulk_create(shipped, batch_size=2000)
            Incident.objects.bulk_create(incidents, batch_size=2000)


def export_parquet(directory: Path) -> dict:
    """The rows the engine reads, to Parquet, one file per table (what DuckDB's floor reads)."""
    import duckdb
    from django.db import connection

    tables = {
        "contribution": "SELECT c.id, c.commit_id, c.role, c.vendor_id, c.status, c.is_bot, c.authored_date, "
        "r.engagement_id, m.additions, m.deletions, m.sha, m.reverts_sha, m.repository_id, m.parent_count "
        "FROM evidence_contribution c JOIN evidence_repository r ON r.id = c.repository_id "
        "JOIN evidence_commit m ON m.id = c.commit_id",
        "pr": "SELECT p.id, p.vendor_id, p.status, p.is_bot, p.actor, p.state, p.created_at, p.ready_at, "
        "p.first_commit_at, p.merged_at, p.closed_at, p.merge_commit_sha, n.engagement_id "
        "FROM evidence_pullrequest p JOIN evidence_connection n ON n.id = p.connection_id",
        "review": "SELECT id, pull_request_id, actor, is_bot, state, is_comment, status, submitted_at FROM evidence_review",
        "item": "SELECT w.id, w.vendor_id, w.status, w.is_bot, w.category, w.created_at, w.resolved_at, n.engagement_id "
        "FROM evidence_workitem w JOIN evidence_connection n ON n.id = w.connection_id",
        "deployment": "SELECT d.id, d.is_production, d.outcome, d.created_at, d.finished_at, n.engagement_id "
        "FROM evidence_deployment d JOIN evidence_connection n ON n.id = d.connection_id",
        "deploycommit": "SELECT deployment_id, sha FROM evidence_deploymentcommit",
        "incident": "SELECT id, caused_by_id, resolved_at FROM evidence_incident",
        "bugintro": "SELECT commit_id, authored_date FROM evidence_bugintroduction",
        "coverage": "SELECT commit_id, new_lines, new_covered FROM evidence_coveragereport",
    }
    sizes = {}
    duck = duckdb.connect()
    for name, sql in tables.items():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        sizes[name] = len(rows)
        import pandas

        frame = pandas.DataFrame.from_records(rows, columns=columns)
        for column in ("created_at", "ready_at", "first_commit_at", "merged_at", "closed_at", "submitted_at",
                       "resolved_at", "finished_at"):  # fmt: skip
            if column in frame:
                frame[column] = pandas.to_datetime(frame[column], utc=True, format="ISO8601")
        if "authored_date" in frame:
            frame["authored_date"] = pandas.to_datetime(frame["authored_date"])
        duck.register("frame", frame)
        target = directory / f"{name}.parquet"  # our temporary directory, not input
        duck.execute(f"COPY (SELECT * FROM frame) TO '{target}' (FORMAT parquet)")  # noqa: S608
        duck.unregister("frame")
    duck.close()
    return sizes


DUCK_SQL = """
CREATE TEMP VIEW c AS SELECT *, coalesce(vendor_id, 0) AS vkey FROM read_parquet('{d}/contribution.parquet')
  WHERE status IN ('vendor', 'inhouse') AND NOT is_bot AND parent_count <= 1;
CREATE TEMP VIEW p AS SELECT *, coalesce(vendor_id, 0) AS vkey FROM read_parquet('{d}/pr.parquet')
  WHERE status IN ('vendor', 'inhouse') AND NOT is_bot;
CREATE TEMP VIEW r AS SELECT * FROM read_parquet('{d}/review.parquet');
CREATE TEMP VIEW w AS SELECT *, coalesce(vendor_id, 0) AS vkey FROM read_parquet('{d}/item.parquet')
  WHERE status IN ('vendor', 'inhouse') AND NOT is_bot AND category = 'done' AND resolved_at IS NOT NULL;
CREATE TEMP VIEW dep AS SELECT *, coalesce(finished_at, created_at) AS done FROM read_parquet('{d}/deployment.parquet')
  WHERE is_production AND outcome = 'success';
CREATE TEMP VIEW dc AS SELECT * FROM read_parquet('{d}/deploycommit.parquet');
CREATE TEMP VIEW inc AS SELECT * FROM read_parquet('{d}/incident.parquet');
CREATE TEMP VIEW bi AS SELECT * FROM read_parquet('{d}/bugintro.parquet');
CREATE TEMP VIEW cov AS SELECT * FROM read_parquet('{d}/coverage.parquet');
"""

# The same aggregations as the engine: per (engagement, vendor, month) and rolled up to
# quarters and to all engagements, with exact medians (GROUPING SETS over the raw rows).
DUCK_QUERIES = [
    # git measures
    """SELECT engagement_id, vkey, {p} AS period, count(DISTINCT commit_id),
         sum(CASE WHEN role = 'author' THEN additions + deletions END),
         count(DISTINCT CASE WHEN role = 'author' THEN commit_id END)
       FROM c GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    """SELECT engagement_id, c.vkey, {p} AS period, count(*) FROM c
       WHERE role = 'author' AND EXISTS (SELECT 1 FROM c r2 WHERE r2.repository_id = c.repository_id
         AND r2.reverts_sha = c.sha) GROUP BY GROUPING SETS ((engagement_id, c.vkey, period), (c.vkey, period))""",
    # bug-introducing commits; coverage of the new lines of commits with a report
    """SELECT engagement_id, vkey, {p} AS period, count(*) FROM c
       WHERE role = 'author' AND commit_id IN (SELECT commit_id FROM bi)
       GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    """SELECT engagement_id, vkey, {p} AS period, count(*), sum(cov.new_lines), sum(cov.new_covered)
       FROM c JOIN cov ON cov.commit_id = c.commit_id WHERE role = 'author' AND cov.new_lines > 0
       GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    # pull request measures
    """SELECT engagement_id, vkey, {pm} AS period, count(*) FILTER (WHERE state = 'merged'),
         count(*) FILTER (WHERE state = 'merged' AND EXISTS (SELECT 1 FROM r WHERE r.pull_request_id = p.id
           AND r.state = 'approved' AND NOT r.is_comment AND NOT r.is_bot AND r.actor <> p.actor)),
         sum((SELECT count(*) FROM r WHERE r.pull_request_id = p.id AND r.state = 'changes_requested'
           AND r.status = 'inhouse' AND NOT r.is_bot AND r.actor <> p.actor)) FILTER (WHERE state = 'merged')
       FROM p WHERE merged_at IS NOT NULL GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    """SELECT engagement_id, vkey, {pc} AS period, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM r
         WHERE r.pull_request_id = p.id AND r.state = 'changes_requested' AND r.status = 'inhouse'
         AND NOT r.is_bot AND r.actor <> p.actor))
       FROM p WHERE state IN ('merged', 'closed') AND coalesce(closed_at, merged_at) IS NOT NULL
       GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    # PR durations: exact medians and percentiles
    """WITH first_review AS (SELECT pull_request_id, min(submitted_at) AS at,
           min(submitted_at) FILTER (WHERE r.status = 'inhouse') AS client_at
         FROM r JOIN p ON p.id = r.pull_request_id
         WHERE NOT r.is_bot AND r.actor <> p.actor GROUP BY pull_request_id)
       SELECT engagement_id, vkey, {pm} AS period,
         quantile_cont(epoch(created_at - first_commit_at) / 3600, [0.5, 0.75, 0.9]),
         quantile_cont(epoch(f.at - coalesce(ready_at, created_at)) / 3600, [0.5, 0.75, 0.9]),
         quantile_cont(epoch(merged_at - f.at) / 3600, [0.5, 0.75, 0.9]),
         quantile_cont(epoch(f.client_at - coalesce(ready_at, created_at)) / 3600, [0.5, 0.75, 0.9])
       FROM p LEFT JOIN first_review f ON f.pull_request_id = p.id WHERE merged_at IS NOT NULL
       GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    # lead time and deploy time: first production deployment containing the merge commit
    """WITH first_deploy AS (SELECT dc.sha, min(dep.done) AS at FROM dc JOIN dep ON dep.id = dc.deployment_id GROUP BY dc.sha)
       SELECT engagement_id, vkey, {pd} AS period,
         quantile_cont(epoch(f.at - first_commit_at) / 3600, [0.5, 0.75, 0.9]),
         quantile_cont(epoch(f.at - merged_at) / 3600, [0.5, 0.75, 0.9])
       FROM p JOIN first_deploy f ON f.sha = p.merge_commit_sha WHERE merged_at IS NOT NULL
       GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    # deployments with vendor changes, failures, recovery
    """WITH shipped AS (SELECT DISTINCT dep.id, dep.engagement_id, dep.done, p.vkey FROM dep
         JOIN dc ON dc.deployment_id = dep.id JOIN p ON p.merge_commit_sha = dc.sha)
       SELECT engagement_id, vkey, {ps} AS period, count(*),
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM inc WHERE inc.caused_by_id = shipped.id)),
         quantile_cont((SELECT epoch(min(inc.resolved_at) - shipped.done) / 3600 FROM inc
           WHERE inc.caused_by_id = shipped.id), 0.5)
       FROM shipped GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
    # deployment days per week: distinct days with a deployment of vendor changes per calendar
    # week (Monday weeks, in the period of their Thursday), the days of all engagements joined
    # for the vendor's own cell; quantiles over those weeks (the engine also counts the weeks
    # without a deployment as 0: a few per cell, left out here)
    """WITH days AS (SELECT DISTINCT dep.engagement_id, p.vkey, CAST(dep.done AS DATE) AS day FROM dep
         JOIN dc ON dc.deployment_id = dep.id JOIN p ON p.merge_commit_sha = dc.sha),
       weeks AS (SELECT engagement_id, vkey, date_trunc('week', day) + INTERVAL 3 DAY AS thursday,
         count(DISTINCT day) AS n FROM days
         GROUP BY GROUPING SETS ((engagement_id, vkey, thursday), (vkey, thursday)))
       SELECT engagement_id, vkey, {pt} AS period, quantile_cont(n, [0.5, 0.75, 0.9])
       FROM weeks GROUP BY engagement_id, vkey, period""",
    # issue lead time
    """SELECT engagement_id, vkey, {pw} AS period, count(*),
         quantile_cont(epoch(resolved_at - created_at) / 3600, [0.5, 0.75, 0.9])
       FROM w GROUP BY GROUPING SETS ((engagement_id, vkey, period), (vkey, period))""",
]


def duckdb_floor(directory: Path) -> tuple[float, int]:
    import duckdb

    duck = duckdb.connect()
    duck.execute(DUCK_SQL.format(d=directory))
    rows = 0
    started = time.perf_counter()
    for trunc in ("month", "quarter"):
        periods = {
            "p": f"date_trunc('{trunc}', authored_date)",
            "pm": f"date_trunc('{trunc}', merged_at)",
            "pc": f"date_trunc('{trunc}', coalesce(closed_at, merged_at))",
            "pd": f"date_trunc('{trunc}', f.at)",
            "ps": f"date_trunc('{trunc}', done)",
            "pw": f"date_trunc('{trunc}', resolved_at)",
            "pt": f"date_trunc('{trunc}', thursday)",
        }
        for query in DUCK_QUERIES:
            rows += len(duck.execute(query.format(**periods)).fetchall())
    elapsed = time.perf_counter() - started
    duck.close()
    return elapsed, rows


def serve_and_measure(org_slug: str, vendor_uid: str, requests_per_client: int) -> dict:
    """waitress on loopback; 8 clients; p95 of the scorecard, the comparison and /healthz."""
    import httpx
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from partnerscope.ops.server import DEFAULT_THREADS, make_server, serve_in_thread

    user = get_user_model().objects.get(username="owner@bench.test")
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    # The server `partnerscope serve` runs, with its default threads.
    server = make_server("127.0.0.1", 0)
    port = server.effective_port
    stop_server = serve_in_thread(server)
    base = f"http://127.0.0.1:{port}"
    pages = {
        "scorecard": f"/o/{org_slug}/scorecards/vendor/{vendor_uid}/?kind=quarter",
        "compare": f"/o/{org_slug}/scorecards/compare/?kind=quarter",
        # The trivial page: the same server's emptiest signed-in page (the user's API tokens,
        # none), so it pays the same session, tenant and template work as the pages measured.
        "trivial": f"/o/{org_slug}/tokens/",
        "healthz": "/healthz",  # below every middleware: reported for reference
    }
    timings = {name: [] for name in pages}
    rounds = 3
    per_round = max(1, requests_per_client // rounds)

    # Eight clients that stay connected, as eight users' browsers do, made and connected before
    # anything is timed: making a client loads its TLS certificates (milliseconds of the same
    # interpreter), and eight of them made at the start of every round slowed the first request
    # of each (24 of 480, right at the 95th percentile).
    clients = [
        httpx.Client(base_url=base, cookies={settings.SESSION_COOKIE_NAME: session.session_key}, timeout=300)
        for _ in range(8)
    ]
    for name in pages:
        # The first request of a page renders its charts (cached, as between recomputes).
        clients[0].get(pages[name]).raise_for_status()
    for c in clients:
        c.get(pages["healthz"]).raise_for_status()  # each connection open

    def client(c, name, count, start):
        start.wait()
        for _ in range(count):
            started = time.perf_counter()
            response = c.get(pages[name])
            timings[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)

    # Each page is measured alone (8 clients on it), in rounds that take turns, so a slow spell
    # of the machine falls on every page alike instead of on whichever page it came during.
    for _ in range(rounds):
        for name in pages:
            start = threading.Barrier(8)
            threads = [threading.Thread(target=client, args=(c, name, per_round, start)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    for c in clients:
        c.close()
    stop_server()

    def p95(values):
        return statistics.quantiles(values, n=20)[-1] * 1000

    out = {f"{name}_p95_ms": round(p95(values), 1) for name, values in timings.items()}
    page = max(out["scorecard_p95_ms"], out["compare_p95_ms"])
    return {
        **out,
        "page_p95_ms": page,
        "trivial_p95_ms": out["trivial_p95_ms"],
        "page_ratio": round(page / out["trivial_p95_ms"], 2),
        "page_ratio_vs_healthz": round(page / out["healthz_p95_ms"], 2),
        "server_threads": DEFAULT_THREADS,
    }


def snapshot_name(scale: str, seed: int) -> str:
    return f"ps_bench_snap_{scale}_{seed}"


def child(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"ps-bench-metrics-{args.db}-"))
    # A snapshot of the loaded organization (--snapshot-dir): loading the large scale takes far
    # longer than measuring it, so a saved load is restored instead when there is one.
    saved = Path(args.snapshot_dir) / f"{args.db}-{args.scale}-{args.seed}" if args.snapshot_dir else None
    restored = saved is not None and (saved / "generator.json").exists()
    try:
        if restored and args.db == "sqlite":
            shutil.copytree(saved / "data", work / "data")
        setup_django(args.db, work, args.pg_url)
        from django.db import connection

        from partnerscope.metrics import engine
        from partnerscope.metrics.models import DirtyCell, MetricValue
        from partnerscope.orgs.models import Organization

        gen = Generator(args.scale, args.seed)
        if restored:
            meta = json.loads((saved / "generator.json").read_text())
            org = Organization.objects.get(slug="bench")
            gen.attach(org)
            gen.rng.setstate((meta["rng"][0], tuple(meta["rng"][1]), meta["rng"][2]))
            load_s = meta["load_s"]
        else:
            started = time.perf_counter()
            org = gen.build_org()
            gen.load_commits()
            gen.load_quality()
            gen.load_tracker()
            load_s = time.perf_counter() - started
            DirtyCell.objects.all().delete()  # loading marked everything; the full recompute is timed below
            if connection.vendor == "postgresql":
                # What autovacuum does within minutes of a bulk load: the recompute is measured on
                # a database in its steady state, not on pages whose visibility every first read
                # must still settle (a copy made straight after the load was 15 % slower).
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM (ANALYZE)")
            if saved is not None:
                save_snapshot(args, saved, work, gen, load_s)
        if args.load_only:
            return {"vendor": connection.vendor, "load_s": round(load_s, 1), "snapshot": str(saved)}

        full_phases = PhaseTimer()
        recompute_s, result = timed(lambda: engine.full_recompute(org.id, full_phases))
        full_phases.stop()
        parquet = work / "parquet"
        parquet.mkdir()
        sizes = export_parquet(parquet)
        floor_s, floor_rows = duckdb_floor(parquet)

        # One day of new evidence, through the same writers: commits and pull requests.
        day = gen.days - 1
        repos, connections = gen.repos, gen.connections
        gen.n_commits = max(len(repos), gen.n_commits // gen.days)
        gen.load_commits((day, day + 0.99), tag="n")
        from partnerscope.evidence.connectors.store import store_pull_requests

        per_day = max(1, gen.n_prs // gen.days // len(connections))
        for c in connections:
            store_pull_requests(c, gen.pull_requests(c, 10_000_000, per_day, day, day + 0.99))
        dirty = DirtyCell.objects.count()
        phases = PhaseTimer()
        incremental_s, incremental = timed(lambda: engine.recompute_dirty(org.id, phases))
        phases.stop()

        vendor = org.__class__.objects.get(pk=org.pk)
        from partnerscope.vendors.models import Vendor

        busiest = Vendor.objects.filter(organization=vendor).order_by("id").first()
        pages = serve_and_measure(org.slug, busiest.uid, args.requests)
        return {
            "vendor": connection.vendor,
            "commits": sizes["contribution"],
            "pull_requests": sizes["pr"],
            "reviews": sizes["review"],
            "work_items": sizes["item"],
            "deployments": sizes["deployment"],
            "bug_introductions": sizes["bugintro"],
            "coverage_reports": sizes["coverage"],
            "load_s": round(load_s, 1),
            "values": MetricValue.objects.count(),
            "cells": result.cells,
            "recompute_s": round(recompute_s, 2),
            "duckdb_floor_s": round(floor_s, 3),
            "duckdb_rows": floor_rows,
            "ratio_vs_floor": round(recompute_s / floor_s, 2),
            # Where the full recompute spent its time, by the engine's progress phases.
            "recompute_phases": full_phases.slowest(8),
            "incremental_dirty_cells": dirty,
            "incremental_cells": incremental.cells,
            "incremental_s": round(incremental_s, 2),
            # Where the incremental recompute spent its time, by the engine's progress phases.
            "incremental_phases": phases.slowest(8),
            **pages,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def save_snapshot(args, saved: Path, work: Path, gen, load_s: float) -> None:
    from django.db import connection

    saved.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        shutil.rmtree(saved / "data", ignore_errors=True)
        shutil.copytree(work / "data", saved / "data")
    else:
        import psycopg

        connection.close()
        name = snapshot_name(args.scale, args.seed)
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {PG_DB}")
    state = gen.rng.getstate()
    (saved / "generator.json").write_text(
        json.dumps({"rng": [state[0], list(state[1]), state[2]], "load_s": load_s})
    )


class PhaseTimer:
    """The engine's progress callback, timing each phase it reports."""

    def __init__(self):
        self.current, self.since, self.seconds = None, 0.0, {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.current:
            self.stop()
            self.current, self.since = phase, time.perf_counter()

    def stop(self) -> None:
        if self.current is not None:
            self.seconds[self.current] = (
                self.seconds.get(self.current, 0.0) + time.perf_counter() - self.since
            )
            self.current = None

    def slowest(self, count: int) -> dict:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return {name[:40]: round(seconds, 2) for name, seconds in ranked}


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# --- the parent process -------------------------------------------------------------------------


def postgres_ready(pg_url: str, template: str = "") -> str:
    """'' when the scratch database could be (re)created (from ``template``, a saved load, when
    it exists), else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            exists = (
                template
                and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
            )
            conn.execute(f"CREATE DATABASE {PG_DB}" + (f" TEMPLATE {template}" if exists else ""))
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {pg_url}: {str(exc).strip()[:200]}"
    return ""


def drop_postgres(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=60, help="requests per client and page")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--snapshot-dir",
        help="save the loaded organization here (PostgreSQL: as a template database) and reuse it next time",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="load (and save the snapshot), measure nothing"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.db = args.child
        print(json.dumps(child(args)))
        return
    figures = {"scale": args.scale, "seed": args.seed}
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        if db == "postgres":
            saved = args.snapshot_dir and Path(args.snapshot_dir) / f"postgres-{args.scale}-{args.seed}"
            template = (
                snapshot_name(args.scale, args.seed) if saved and (saved / "generator.json").exists() else ""
            )
            reason = postgres_ready(args.pg_url, template)
            if reason:
                figures["postgres_skipped"] = reason
                print(f"postgres: skipped ({reason})", file=sys.stderr)
                continue
        command = [sys.executable, __file__, "--child", db, "--scale", args.scale, "--seed", str(args.seed),
                   "--requests", str(args.requests), "--pg-url", args.pg_url]  # fmt: skip
        if args.snapshot_dir:
            command += ["--snapshot-dir", args.snapshot_dir]
        if args.load_only:
            command.append("--load-only")
        try:
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        except subprocess.CalledProcessError as exc:
            sys.stderr.write(exc.stderr)
            raise SystemExit(f"{db}: the benchmark failed") from None
        finally:
            if db == "postgres":
                drop_postgres(args.pg_url)
        result = json.loads(out.strip().splitlines()[-1])
        print(f"{db}: {result}", file=sys.stderr)
        figures.update({f"{db}_{k}": v for k, v in result.items()})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
