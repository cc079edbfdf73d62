"""Writes parsed commits into the evidence tables, batch by batch.

Each batch (commits, their file changes and contributions, and the run's progress) commits in
one transaction, with natural-key upserts that ignore rows already there, so a run killed at
any moment and run again ends with exactly the rows of an uninterrupted run. Raw multi-row SQL
(portable between SQLite and PostgreSQL) keeps the writer well below git's own speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from partnerscope.evidence.gitlog import ParsedCommit
from partnerscope.evidence.models import Repository
from partnerscope.evidence.patterns import matcher

BATCH = 1000
COMMIT_COLUMNS = (
    "organization_id", "repository_id", "sha", "author_name", "author_email", "authored_at",
    "authored_date", "committed_at", "subject", "parent_count", "additions", "deletions",
    "files_changed", "reverts_sha",
)  # fmt: skip
FILE_COLUMNS = ("organization_id", "commit_id", "path", "additions", "deletions", "excluded")
CONTRIBUTION_COLUMNS = (
    "organization_id", "commit_id", "repository_id", "role", "name", "email", "authored_date",
    "is_bot", "status",
)  # fmt: skip


@dataclass
class IngestStats:
    seen: int = 0
    inserted: int = 0
    implausible_dates: list[str] = field(default_factory=list)


class Cancelled(Exception):
    pass


class CommitWriter:
    def __init__(self, repository: Repository):
        self.repository = repository
        self.org_id = repository.organization_id
        self.is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
        self.is_bot = matcher(repository.glob_list("bot_patterns"))
        ops = connection.ops
        self.adapt_dt = ops.adapt_datetimefield_value
        self.adapt_date = ops.adapt_datefield_value
        quote = connection.ops.quote_name
        self._commit_sql_head = (
            f"INSERT INTO evidence_commit ({', '.join(map(quote, COMMIT_COLUMNS))}) VALUES "  # noqa: S608
        )
        self._commit_sql_tail = " ON CONFLICT (repository_id, sha) DO NOTHING RETURNING id, sha"
        self._row = "(" + ", ".join(["%s"] * len(COMMIT_COLUMNS)) + ")"
        self._file_sql = _insert_sql("evidence_filechange", FILE_COLUMNS, "commit_id, path")
        self._contribution_sql = _insert_sql(
            "evidence_contribution", CONTRIBUTION_COLUMNS, "commit_id, email"
        )

    def _commit_values(self, c: ParsedCommit) -> tuple[list, list]:
        additions = deletions = files_changed = 0
        file_rows = []
        for path, added, deleted in c.files:
            excluded = self.is_excluded(path)
            file_rows.append((path, added, deleted, excluded))
            if not excluded:
                files_changed += 1
                additions += added or 0
                deletions += deleted or 0
        values = [
            self.org_id, self.repository.id, c.sha, c.author_name[:255], c.author_email[:255],
            self.adapt_dt(c.authored_at), self.adapt_date(c.authored_date), self.adapt_dt(c.committed_at),
            c.subject[:300], len(c.parents), additions, deletions, files_changed, c.reverted_sha(),
        ]  # fmt: skip
        return values, file_rows

    def write_batch(self, commits: list[ParsedCommit]) -> int:
        """Insert the commits not stored yet, with their files and contributions. Returns the count."""
        params: list = []
        files_by_sha = {}
        for c in commits:
            values, file_rows = self._commit_values(c)
            params.extend(values)
            files_by_sha[c.sha] = file_rows
        by_sha = {c.sha: c for c in commits}
        sql = self._commit_sql_head + ", ".join([self._row] * len(commits)) + self._commit_sql_tail
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            new = cursor.fetchall()
            file_params = []
            contribution_params = []
            for commit_id, sha in new:
                c = by_sha[sha]
                for path, added, deleted, excluded in files_by_sha[sha]:
                    file_params.append((self.org_id, commit_id, path, added, deleted, excluded))
                day = self.adapt_date(c.authored_date)
                people = [("author", c.author_name, c.author_email)]
                people += [("co-author", n, e.lower()) for n, e in c.co_authors()]
                for role, name, email in people:
                    bot = self.is_bot(name, email)
                    contribution_params.append(
                        (self.org_id, commit_id, self.repository.id, role, name[:255], email[:255], day, bot,
                         "bot" if bot else "")
                    )  # fmt: skip
            if file_params:
                cursor.executemany(self._file_sql, file_params)
            if contribution_params:
                cursor.executemany(self._contribution_sql, contribution_params)
        return len(new)


def _insert_sql(table: str, columns: tuple[str, ...], conflict: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "  # noqa: S608 - constants
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({conflict}) DO NOTHING"
    )


def ingest(
    repository: Repository,
    commits: Iterable[ParsedCommit],
    *,
    checkpoint: Callable[[IngestStats], None] | None = None,
    batch_size: int = BATCH,
    plausible: tuple | None = None,
) -> IngestStats:
    """Store ``commits`` in batches; ``checkpoint`` runs inside each batch's transaction (progress
    and cancellation: raise ``Cancelled`` there to stop after a whole batch)."""
    writer = CommitWriter(repository)
    stats = IngestStats()
    batch: list[ParsedCommit] = []

    def flush():
        with transaction.atomic():
            stats.inserted += writer.write_batch(batch)
            stats.seen += len(batch)
            if checkpoint is not None:
                checkpoint(stats)
        batch.clear()

    for commit in commits:
        implausible = plausible is not None and not (plausible[0] <= commit.authored_date <= plausible[1])
        if implausible and len(stats.implausible_dates) < 5:
            stats.implausible_dates.append(f"{commit.sha[:10]} dated {commit.authored_date.isoformat()}")
        batch.append(commit)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return stats
