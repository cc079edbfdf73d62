"""What a GitHub sync reads since its cursors, page by page.

- Pull requests: GraphQL, newest update first, 50 a page with their commits, reviews, comments
  and labels; it stops at the first one not updated since the cursor. The cursor moves only
  when the whole sync has finished (pages before it are idempotent, so a crash re-reads them).
- Issues: GraphQL, ``filterBy: {since}``, oldest update first: the cursor moves with each page,
  in its transaction, so a crash resumes after the last stored page.
- Deployments: GraphQL, newest first, back to the cursor (the oldest one still running, whose
  status may still change).
- Workflow runs: REST, created since the cursor, with an ETag: when nothing changed GitHub
  answers 304, which costs no rate limit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from partnerscope.evidence.connectors.github import mapping, queries
from partnerscope.evidence.connectors.github.client import GitHubClient
from partnerscope.evidence.connectors.payload import field, items, moment
from partnerscope.evidence.connectors.store import (
    save_cursor,
    store_deployments,
    store_pull_requests,
    store_work_items,
)
from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
from partnerscope.evidence.patterns import matcher

# A deployment or run still "running" this long after the newest one is abandoned, not worth
# reading again at every sync.
RUNNING_LOOKBACK = datetime.timedelta(days=2)
PR_PAGE = 50
ISSUE_PAGE = 100
DEPLOYMENT_PAGE = 100


def _iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _resume_from(running: list[datetime.datetime], newest: datetime.datetime) -> datetime.datetime:
    """Where the next sync starts reading: the oldest recent record still running, else the newest."""
    return min([r for r in running if r >= newest - RUNNING_LOOKBACK] + [newest])


class GitHubSync:
    def __init__(self, connection, client: GitHubClient, progress: Callable[[str, int], None]) -> None:
        self.connection = connection
        self.client = client
        self.progress = progress
        self.records = 0
        self.is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines())
        self.production = matcher(connection.glob_list("production_environments"))
        self.hotfix = matcher(connection.glob_list("hotfix_refs"))
        self.incident_labels = matcher(connection.glob_list("incident_labels"))
        self.final_cursor: dict = {}

    def run(self) -> None:
        self.pull_requests()
        self.issues()
        self.deployments()
        self.workflow_runs()

    def _count(self, phase: str, n: int) -> None:
        self.records += n
        self.progress(phase, self.records)

    def pull_requests(self) -> None:
        since = _parse(self.connection.cursor.get("pull_requests"))
        newest, after = since, None
        while True:
            repo = self.client.graphql("PullRequests", queries.PULL_REQUESTS, cursor=after, pageSize=PR_PAGE)
            page = field(repo, "pullRequests", dict, where="GitHub's pull request page")
            rows, reached = [], False
            for node in items(page, "nodes", where="GitHub's pull request page"):
                updated = moment(node, "updatedAt", where=f"pull request #{node.get('number', '?')}")
                if since is not None and updated < since:
                    reached = True
                    break
                row = mapping.pull_request(node, self.is_bot)
                if field(node, "reviews.pageInfo.hasNextPage", bool, where="a pull request", optional=True):
                    row["reviews"] += self._more_reviews(
                        row, field(node, "reviews.pageInfo.endCursor", str, where="a pull request")
                    )
                rows.append(row)
                newest = updated if newest is None or updated > newest else newest
            store_pull_requests(self.connection, rows)
            self._count("Reading pull requests", len(rows))
            info = field(page, "pageInfo", dict, where="GitHub's pull request page")
            if reached or not info.get("hasNextPage"):
                break
            after = field(info, "endCursor", str, where="GitHub's pull request page")
        if newest is not None:
            # Every page of this step is stored: the cursor can move now, whatever later steps do.
            save_cursor(self.connection, pull_requests=_iso(newest))

    def _more_reviews(self, row: dict, after: str) -> list[dict]:
        found = []
        while after:
            repo = self.client.graphql(
                "PullRequestReviews", queries.MORE_REVIEWS, number=row["number"], cursor=after
            )
            reviews = field(repo, "pullRequest.reviews", dict, where=f"pull request #{row['number']}")
            found += mapping.reviews_of(
                items(reviews, "nodes", where="reviews"), row["actor"], self.is_bot, "reviews"
            )
            info = reviews.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return found

    def issues(self) -> None:
        since = self.connection.cursor.get("issues")
        after = None
        while True:
            repo = self.client.graphql(
                "Issues", queries.ISSUES, cursor=after, since=since, pageSize=ISSUE_PAGE
            )
            page = field(repo, "issues", dict, where="GitHub's issue page")
            rows = [
                mapping.issue(node, self.is_bot, incident_labels=self.incident_labels)
                for node in items(page, "nodes", where="GitHub's issue page")
            ]
            with transaction.atomic():
                store_work_items(self.connection, rows)
                if rows:
                    # Oldest update first: everything up to this page's last update is stored.
                    save_cursor(self.connection, issues=_iso(max(r["updated_at"] for r in rows)))
            self._count("Reading issues", len(rows))
            info = field(page, "pageInfo", dict, where="GitHub's issue page")
            if not info.get("hasNextPage"):
                break
            after = field(info, "endCursor", str, where="GitHub's issue page")

    def deployments(self) -> None:
        since = _parse(self.connection.cursor.get("deployments"))
        after, newest, running = None, None, []
        while True:
            repo = self.client.graphql(
                "Deployments", queries.DEPLOYMENTS, cursor=after, pageSize=DEPLOYMENT_PAGE
            )
            page = field(repo, "deployments", dict, where="GitHub's deployment page")
            rows, reached = [], False
            for node in items(page, "nodes", where="GitHub's deployment page"):
                row = mapping.deployment(node, self.is_bot, production=self.production, hotfix=self.hotfix)
                if since is not None and row["created_at"] < since:
                    reached = True
                    break
                rows.append(row)
                newest = row["created_at"] if newest is None or row["created_at"] > newest else newest
                if row["outcome"] == "running":
                    running.append(row["created_at"])
            store_deployments(self.connection, rows)
            self._count("Reading deployments", len(rows))
            info = field(page, "pageInfo", dict, where="GitHub's deployment page")
            if reached or not info.get("hasNextPage"):
                break
            after = field(info, "endCursor", str, where="GitHub's deployment page")
        # Next time, read back to the oldest deployment still running: its status will change.
        if newest is not None:
            save_cursor(self.connection, deployments=_iso(_resume_from(running, newest)))

    def workflow_runs(self) -> None:
        cursor = self.connection.cursor
        # The first sync reads TRACKER_RUNS_DAYS of CI history (a busy repository has millions of runs).
        lookback = datetime.timedelta(days=settings.TRACKER_RUNS_DAYS)
        since = _parse(cursor.get("runs")) or (datetime.datetime.now(datetime.UTC) - lookback).replace(
            microsecond=0
        )
        path = f"/repos/{self.client.owner}/{self.client.name}/actions/runs"
        created = f">={_iso(since)}"
        etag = cursor.get("runs_etag") if cursor.get("runs_created") == created else None
        first_created = created
        newest, running, first_etag = None, [], None
        while True:
            seen, oldest = 0, None
            for body, page_etag in self.client.rest_pages(
                path, {"per_page": 100, "created": created}, etag=etag
            ):
                first_etag = first_etag or page_etag
                runs = items(body, "workflow_runs", where="GitHub's workflow run page")
                rows = [
                    mapping.workflow_run(r, self.is_bot, production=self.production, hotfix=self.hotfix)
                    for r in runs
                ]
                store_deployments(self.connection, rows)
                self._count("Reading workflow runs", len(rows))
                for row in rows:
                    seen += 1
                    newest = row["created_at"] if newest is None or row["created_at"] > newest else newest
                    oldest = row["created_at"] if oldest is None or row["created_at"] < oldest else oldest
                    if row["outcome"] == "running":
                        running.append(row["created_at"])
            # GitHub returns at most 1,000 runs for a filtered search: continue below the oldest.
            if seen < 1000 or oldest is None:
                break
            created, etag = f"{_iso(since)}..{_iso(oldest)}", None
        if newest is not None:
            start = _iso(_resume_from(running, newest))
            # The ETag is worth keeping only if the next sync asks the very same question.
            same = f">={start}" == first_created
            save_cursor(
                self.connection,
                runs=start,
                runs_created=f">={start}",
                runs_etag=(first_etag or "") if same else "",
            )
