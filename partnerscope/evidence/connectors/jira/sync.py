"""What a Jira sync reads since its cursor, page by page.

- Issues: one search, ``project = KEY AND updated >= "<cursor>" ORDER BY updated ASC``, 100 a
  page with their changelog (one request a page; an issue whose changelog the page cuts short
  costs one more). Oldest update first, so the cursor moves with each page, in its transaction,
  and a crash resumes after the last stored page.
- The cursor keeps the time of the newest update read as Jira wrote it, in the time zone of the
  token's account, because JQL reads a date in that zone too; it has minute precision, so each
  sync starts a minute earlier than the cursor and reads that minute again (idempotently).
- The Sprint field is a custom field whose id differs per site: found once with ``GET /field``
  and kept in the cursor (which is cleared when the connection's project or address changes).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.jira import mapping
from partnerscope.evidence.connectors.jira.client import JiraClient, PagesShifted
from partnerscope.evidence.connectors.store import save_cursor, store_work_items
from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
from partnerscope.evidence.patterns import matcher

FIELDS = ["summary", "issuetype", "priority", "status", "resolution", "resolutiondate", "created", "updated", "assignee", "reporter", "labels", "issuelinks", "fixVersions"]  # fmt: skip
# Searches started again when issues move under a Data Center offset search (see client.py).
RESTARTS = 3


def jql(project: str, since: str | None) -> str:
    """The search; ``since`` is the cursor, an ISO time in the zone Jira reads JQL dates in."""
    quoted = project.replace("\\", "\\\\").replace('"', '\\"')
    clauses = [f'project = "{quoted}"']
    if since:
        start = datetime.datetime.fromisoformat(since) - datetime.timedelta(minutes=1)
        clauses.append(f'updated >= "{start:%Y-%m-%d %H:%M}"')
    return " AND ".join(clauses) + " ORDER BY updated ASC"


class JiraSync:
    def __init__(self, connection, client: JiraClient, progress: Callable[[str, int], None]) -> None:
        self.connection = connection
        self.client = client
        self.progress = progress
        self.records = 0
        self.is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines())
        self.incident_labels = matcher(connection.glob_list("incident_labels"))
        self.sprint_field = ""
        self.final_cursor: dict = {}

    def run(self) -> None:
        self.sprint_field = self._sprint_field()
        for _ in range(RESTARTS + 1):
            try:
                self.issues()
                return
            except PagesShifted:
                continue  # again from the cursor, which the pages stored so far have moved
        raise SourceError(
            "Issues kept changing while they were read; the sync stopped and will continue from here "
            "next time."
        )

    def _count(self, phase: str, n: int) -> None:
        self.records += n
        self.progress(phase, self.records)

    def _sprint_field(self) -> str:
        known = self.connection.cursor.get("sprint_field")
        if isinstance(known, str):
            return known
        found = mapping.sprint_field(self.client.fields())
        self.final_cursor["sprint_field"] = found
        return found

    def issues(self) -> None:
        fields = FIELDS + ([self.sprint_field] if self.sprint_field else [])
        query = jql(self.client.project, self.connection.cursor.get("issues"))
        for page in self.client.search_pages(query, fields):
            rows = [self._row(node) for node in page]
            with transaction.atomic():
                store_work_items(self.connection, rows)
                if rows:
                    # Oldest update first: everything up to this page's last update is stored.
                    newest = max(r["updated_at"] for r in rows)
                    save_cursor(self.connection, issues=newest.isoformat(timespec="seconds"))
            self._count("Reading issues", len(rows))

    def _row(self, node) -> dict:
        histories = None
        if isinstance(node, dict) and mapping.changelog_is_partial(node) and isinstance(node.get("key"), str):
            histories = self.client.full_changelog(node["key"])
        return mapping.issue(
            node,
            site=self.connection.base_url,
            is_bot_name=self.is_bot,
            incident_labels=self.incident_labels,
            sprint_field_id=self.sprint_field,
            histories=histories,
        )
