"""Code rework: lines a commit deletes or rewrites that were written less than 21 days before.

Fed by the diff walk (diffwalk.py) of non-merge commits, oldest first. Each added line is
remembered by its file and a hash of its content, with its date; a deleted line whose content
was added to that file in the 21 days before the deleting commit is rework. Matching by
content rather than by line number keeps it right across branches (a side branch's line
numbers mean nothing on another), and only the last 21 days are kept in memory, so memory stays
small whatever the history. Lines of punctuation alone ("}", "end") and blank lines are never
counted: they match everywhere.

The pass is incremental: for new commits it needs only the 21 days of history before them.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.db.models import Min

from partnerscope.evidence import gitsafe
from partnerscope.evidence.diffwalk import CommitDiff, diff_command, parse_diffs
from partnerscope.evidence.models import Commit, Repository
from partnerscope.evidence.patterns import matcher

WINDOW = datetime.timedelta(days=21)
UPDATE_SQL = (
    "UPDATE evidence_commit SET rework_lines = %s "
    "WHERE repository_id = %s AND sha = %s AND rework_lines IS NULL"
)


class ReworkMeter:
    """The 21-day memory of added lines, and the count for each commit fed to it."""

    def __init__(self) -> None:
        self.recent: dict[int, datetime.datetime] = {}
        self.path_ids: dict[str, int] = {}
        self.prune_at = 50_000

    def measure(self, commit: CommitDiff) -> int:
        when = commit.when
        recent = self.recent
        if len(recent) > self.prune_at:
            # Forget what is older than the window (dates only grow, roughly).
            cutoff = when - WINDOW
            self.recent = recent = {k: v for k, v in recent.items() if v >= cutoff}
            self.prune_at = max(50_000, 2 * len(recent))
        rework = 0
        path_ids = self.path_ids
        for change in commit.files:
            # One int key per (file, content): the file id above the 32 bits of the hash.
            base = path_ids.setdefault(change.path, len(path_ids)) << 32
            for digest in change.removed:
                added = recent.pop(base | digest, None)
                if added is not None and when - added < WINDOW:
                    rework += 1
            for digest in change.removed_trivial:
                recent.pop(base | digest, None)
            for digest in change.added:
                recent[base | digest] = when
        return rework


class ReworkWriter:
    """Store each commit's count in batches; only commits not measured yet are written."""

    def __init__(self, repository: Repository, batch_size: int = 1000) -> None:
        self.repository_id = repository.id
        self.batch: list[tuple[int, int, str]] = []
        self.batch_size = batch_size
        self.written = 0

    def add(self, sha: str, rework: int) -> None:
        self.batch.append((rework, self.repository_id, sha))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(UPDATE_SQL, self.batch)
        self.written += len(self.batch)
        self.batch.clear()


def update_rework(repository: Repository, mirror: str, tips: list[str]) -> int:
    """Fill ``Commit.rework_lines`` for the commits that lack it. Returns how many were measured."""
    pending = Commit.objects.filter(repository=repository, rework_lines__isnull=True, parent_count__lte=1)
    oldest = pending.aggregate(first=Min("authored_at"))["first"]
    if oldest is None:
        return 0
    # Only the 21 days before the oldest unmeasured commit matter.
    since = oldest - WINDOW - datetime.timedelta(days=1) if repository.lines_tip else None
    is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
    writer = ReworkWriter(repository)
    for tip in tips:
        meter = ReworkMeter()
        with gitsafe.stream_git(mirror, *diff_command([tip], since)) as process:
            for commit in parse_diffs(process.stdout, is_excluded):
                writer.add(commit.sha, meter.measure(commit))
            writer.flush()
            gitsafe.finish_stream(process)
    return writer.written
