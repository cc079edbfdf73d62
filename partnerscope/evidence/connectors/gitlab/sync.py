"""What a GitLab sync reads since its cursors, page by page.

Every list is read oldest update first from the cursor (``updatedAfter`` / ``updated_after``), so
each cursor moves with its page, in the page's transaction: a crash resumes after the last stored
page, and a record that changes later shows up again at the end of a later read.

- Merge requests: GraphQL, 50 a page with their commits, notes and labels (one request a page);
  a page with newly seen fast-forward merges adds one REST request for their squash commits.
- Issues: GraphQL, 100 a page with their notes (assignments, closes). GraphQL has no resource
  events, so for each issue of the page that changed since it was stored (all of them on a first
  sync) two REST requests read its resource state events (closes, reopens) and resource label
  events; an unchanged issue read again keeps the events stored with it.
- Deployments and pipelines: REST, 100 a page. The first sync reads TRACKER_RUNS_DAYS of pipelines.

Each read starts OVERLAP before its cursor: whether GitLab's "after" is inclusive, and how it
rounds, does not matter then, and the few records read twice are stored idempotently.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import transaction

from partnerscope.evidence.connectors.gitlab import mapping, queries
from partnerscope.evidence.connectors.gitlab.client import GitLabClient
from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import field, items, moment
from partnerscope.evidence.connectors.store import (
    save_cursor,
    store_deployments,
    store_pull_requests,
    store_work_items,
)
from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS, PullRequest, WorkItem
from partnerscope.evidence.patterns import matcher

MR_PAGE = 50
ISSUE_PAGE = 100
REST_PAGE = 100
OVERLAP = datetime.timedelta(seconds=1)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _iso(value: datetime.datetime) -> str:
    """UTC with the microseconds GitLab's REST times carry: a cursor rounded down to the second
    would re-read everything updated in that second at every sync."""
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _where(node) -> str:
    return f"merge request !{node.get('iid', '?') if isinstance(node, dict) else '?'}"


class GitLabSync:
    def __init__(self, connection, client: GitLabClient, progress: Callable[[str, int], None]) -> None:
        self.connection = connection
        self.client = client
        self.progress = progress
        self.records = 0
        self.is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines() + mapping.BOT_GLOBS)
        self.production = matcher(connection.glob_list("production_environments"))
        self.hotfix = matcher(connection.glob_list("hotfix_refs"))
        self.incident_labels = matcher(connection.glob_list("incident_labels"))
        # Every cursor moves with its page (save_cursor); nothing is left for the end.
        self.final_cursor: dict = {}

    def run(self) -> None:
        self.merge_requests()
        self.issues()
        self.deployments()
        self.pipelines()

    def _count(self, phase: str, n: int) -> None:
        self.records += n
        self.progress(phase, self.records)

    def _since(self, key: str) -> datetime.datetime | None:
        stored = _parse(self.connection.cursor.get(key))
        return stored - OVERLAP if stored else None

    def _advance(self, key: str, rows: list[dict]) -> None:
        """Move a cursor to the newest update stored (in the page's transaction). Never back: the
        records re-read in the overlap are older than the cursor."""
        if not rows:
            return
        newest = max(r["updated_at"] for r in rows)
        stored = _parse(self.connection.cursor.get(key))
        if stored is None or newest > stored:
            save_cursor(self.connection, **{key: _iso(newest)})

    # -- GraphQL ---------------------------------------------------------------------------------

    def _graphql_pages(self, operation: str, query: str, key: str, cursor: str, size: int) -> Iterator[list]:
        """The nodes of each page of ``project.<key>`` updated since the cursor, oldest first. GitLab's
        page cursors are keysets (update time, id): a change during the read skips nothing."""
        since = self._since(cursor)
        after = None
        where = f"GitLab's {key} page"
        while True:
            project = self.client.graphql(
                operation,
                query,
                updatedAfter=_iso(since) if since else None,
                after=after,
                pageSize=size,
            )
            page = field(project, key, dict, where=where)
            yield items(page, "nodes", where=where)
            info = field(page, "pageInfo", dict, where=where)
            if not info.get("hasNextPage"):
                return
            after = field(info, "endCursor", str, where=where)

    def merge_requests(self) -> None:
        pages = self._graphql_pages(
            "MergeRequests", queries.MERGE_REQUESTS, "mergeRequests", "merge_requests", MR_PAGE
        )
        for nodes in pages:
            rows = [mapping.pull_request(self._complete(node), self.is_bot) for node in nodes]
            self._fill_landed_shas(rows)
            with transaction.atomic():
                store_pull_requests(self.connection, rows)
                self._advance("merge_requests", rows)
            self._count("Reading merge requests", len(rows))

    def _complete(self, node: dict) -> dict:
        """The node with all its commits and notes when the first hundred were not all."""
        where = _where(node)
        for key, operation, query in (
            ("commits", "MergeRequestCommits", queries.MERGE_REQUEST_COMMITS),
            ("notes", "MergeRequestNotes", queries.MERGE_REQUEST_NOTES),
        ):
            info = field(node, f"{key}.pageInfo", dict, where=where, optional=True) or {}
            if not info.get("hasNextPage"):
                continue
            found, after = items(node, key, where=where), field(info, "endCursor", str, where=where)
            iid = str(mapping.iid_of(node, where))
            while after:
                project = self.client.graphql(operation, query, iid=iid, after=after)
                more = field(project, f"mergeRequest.{key}", dict, where=where)
                found += items(more, "nodes", where=where)
                info = field(more, "pageInfo", dict, where=where)
                after = field(info, "endCursor", str, where=where) if info.get("hasNextPage") else None
            node = {**node, key: {"nodes": found}}
        return node

    def _fill_landed_shas(self, rows: list[dict]) -> None:
        """Fast-forward merges have no merge commit, and GraphQL has no squash commit: their landed
        commit comes from what an earlier sync stored (it never changes once merged), else from
        one REST request for the page's others."""
        wanted = [r["number"] for r in rows if r["state"] == "merged" and not r["merge_commit_sha"]]
        if not wanted:
            return
        landed = dict(
            PullRequest.objects.filter(connection=self.connection, number__in=wanted)
            .exclude(merge_commit_sha="")
            .values_list("number", "merge_commit_sha")
        )
        missing = sorted(set(wanted) - set(landed))
        if missing:
            body, _ = self.client.rest(
                "/merge_requests", {"iids[]": missing, "state": "merged", "per_page": REST_PAGE}
            )
            if not isinstance(body, list):
                raise SourceError("Malformed data from GitLab: the merge request list is not a list.")
            for item in body:
                where = _where(item)
                landed[mapping.iid_of(item, where)] = mapping.landed_sha_of_rest(item, where)
        for row in rows:
            if not row["merge_commit_sha"]:
                row["merge_commit_sha"] = landed.get(row["number"], "")

    def issues(self) -> None:
        for nodes in self._graphql_pages("Issues", queries.ISSUES, "issues", "issues", ISSUE_PAGE):
            changed = self._changed_issues(nodes)
            rows = []
            for node in nodes:
                iid = mapping.iid_of(node, f"issue #{node.get('iid', '?')}")
                if iid in changed:
                    state = self.client.rest_all(
                        f"/issues/{iid}/resource_state_events", {}, f"state events of issue #{iid}"
                    )
                    labels = self.client.rest_all(
                        f"/issues/{iid}/resource_label_events", {}, f"label events of issue #{iid}"
                    )
                    # A milestone with dates is a sprint: these say when the issue joined or left
                    # one (an issue moved out after the start was committed to it, so issues
                    # without a milestone now are asked too).
                    milestones = self.client.rest_all(
                        f"/issues/{iid}/resource_milestone_events", {}, f"milestone events of issue #{iid}"
                    )
                    row = mapping.issue(
                        node,
                        self.is_bot,
                        incident_labels=self.incident_labels,
                        state_events=state,
                        label_events=labels,
                        milestone_events=milestones,
                    )
                else:
                    row = mapping.issue(node, self.is_bot, incident_labels=self.incident_labels)
                    row["events"] = None  # stored with the resource events of the same version: kept
                rows.append(row)
            with transaction.atomic():
                store_work_items(self.connection, rows)
                self._advance("issues", rows)
            self._count("Reading issues", len(rows))

    def _changed_issues(self, nodes: list) -> set[int]:
        """The iids of the page's issues not stored yet, or stored in another version (an update
        time of their own: a close, a reopen or a label change moves it too)."""
        if any(not isinstance(node, dict) for node in nodes):
            raise SourceError("Malformed data from GitLab: an issue in the page is not an object.")
        updated = {
            mapping.iid_of(node, f"issue #{node.get('iid', '?')}"): moment(
                node, "updatedAt", where=f"issue #{node.get('iid', '?')}"
            )
            for node in nodes
        }
        stored = dict(
            WorkItem.objects.filter(
                connection=self.connection, key__in=[str(i) for i in updated]
            ).values_list("key", "updated_at")
        )
        return {iid for iid, at in updated.items() if stored.get(str(iid)) != at}

    # -- REST ------------------------------------------------------------------------------------

    def _rest_pages(self, path: str, key: str, since: datetime.datetime) -> Iterator[list]:
        """Items updated since ``since``, oldest update first, a page at a time.

        These endpoints have only offset pages, and a record updated while they are read jumps to
        the end and moves every later one a place back: asking for page n+1 would skip one. So each
        request asks again from just below the newest update read (page 1), and only a page that
        made no progress in time (all within OVERLAP) is followed by its next page.
        """
        page = 1
        while True:
            # GitLab's DeploymentsFinder wants the updated_at filter and sort together, always.
            params = {
                "updated_after": _iso(since),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": REST_PAGE,
                "page": page,
            }
            body, more = self.client.rest(path, params)
            if not isinstance(body, list):
                raise SourceError(f"Malformed data from GitLab: the {key} list is not a list.")
            yield body
            if not more or not body:
                return
            where = f"GitLab's {key} page"
            newest = max(moment(item, "updated_at", where=where) for item in body)
            if newest - OVERLAP > since:
                since, page = newest - OVERLAP, 1
            else:
                page += 1

    def _store_rest(self, path: str, key: str, since, convert, phase: str) -> None:
        for body in self._rest_pages(path, key, since):
            rows = [
                convert(item, self.is_bot, production=self.production, hotfix=self.hotfix) for item in body
            ]
            with transaction.atomic():
                store_deployments(self.connection, rows)
                self._advance(key, rows)
            self._count(phase, len(rows))

    def deployments(self) -> None:
        since = self._since("deployments") or EPOCH
        self._store_rest("/deployments", "deployments", since, mapping.deployment, "Reading deployments")

    def pipelines(self) -> None:
        # The first sync reads TRACKER_RUNS_DAYS of CI history (a busy project has millions of pipelines).
        lookback = datetime.timedelta(days=settings.TRACKER_RUNS_DAYS)
        since = self._since("pipelines") or datetime.datetime.now(datetime.UTC) - lookback
        self._store_rest("/pipelines", "pipelines", since, mapping.pipeline, "Reading pipelines")
