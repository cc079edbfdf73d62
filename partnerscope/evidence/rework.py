"""Code rework: lines a commit deletes or rewrites that were written less than 21 days before.

A pass over `git log -p --unified=0` of non-merge commits, oldest first. Each added line is
remembered by a hash of its content with its date; a deleted line whose content was added in
the 21 days before the deleting commit is rework. Matching by content rather than by line
number keeps it right across branches (a side branch's line numbers mean nothing on another),
and only the last 21 days are kept in memory, so memory stays small whatever the history.
Blank lines and lines of punctuation alone ("}", "end") are ignored: they match everywhere.

The pass is incremental: for new commits it needs only the 21 days of history before them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

WINDOW = datetime.timedelta(days=21)
HEADER = b"\x1e"
LOG_FORMAT = "%x1e%H%x00%aI%x00"
TRIVIAL = re.compile(rb"^[\s{}()\[\];,.:'\"`<>/*#=+-]*(end|else|fi|done|pass|return)?[\s;{}()]*$")


def rework_command(tip: str, since: datetime.datetime | None) -> list[str]:
    args = [
        "log", "--reverse", "--topo-order", "--no-merges", "-p", "--unified=0", "--no-renames",
        "--no-color", "--no-ext-diff", "--no-textconv", f"--format={LOG_FORMAT}",
    ]  # fmt: skip
    if since is not None:
        args.append(f"--since={since.isoformat()}")
    return [*args, "--end-of-options", tip, "--"]


@dataclass(slots=True)
class CommitRework:
    sha: str
    rework_lines: int


def _path(raw: bytes) -> bytes:
    raw = raw.rstrip(b"\t\n")
    if raw.startswith(b'"'):
        raw = raw.strip(b'"')
    return raw[2:] if raw[:2] in (b"a/", b"b/") else raw


def scan(stream, is_excluded=lambda path: False) -> Iterator[CommitRework]:
    """Yield each commit's rework lines, oldest first."""
    recent: dict[tuple[bytes, int], datetime.datetime] = {}
    sha: str | None = None
    when: datetime.datetime | None = None
    path = b""
    skip = False
    rework = 0
    in_hunk = False
    for line in stream:
        if line.startswith(HEADER):
            if sha is not None:
                yield CommitRework(sha, rework)
            sha_raw, _, rest = line[1:].partition(b"\0")
            sha = sha_raw.decode("ascii")
            when = datetime.datetime.fromisoformat(rest.split(b"\0", 1)[0].decode("ascii"))
            rework = 0
            in_hunk = False
            # Forget what is older than the window, now and then (dates only grow, roughly).
            if len(recent) > 50_000:
                cutoff = when - WINDOW
                recent = {k: v for k, v in recent.items() if v >= cutoff}
            continue
        if line.startswith(b"diff --git "):
            in_hunk = False
            continue
        if not in_hunk:
            if line.startswith(b"--- ") and line[4:].strip() != b"/dev/null":
                path = _path(line[4:])
            elif line.startswith(b"+++ "):
                target = line[4:].strip()
                if target != b"/dev/null":
                    path = _path(line[4:])
                skip = is_excluded(path.decode("utf-8", "backslashreplace"))
            elif line.startswith(b"@@"):
                in_hunk = True
            continue
        if line.startswith(b"@@"):
            continue
        sign = line[:1]
        if skip or sign not in (b"+", b"-"):
            continue
        content = line[1:].rstrip(b"\n")
        if TRIVIAL.match(content):
            continue
        key = (path, hash(content.strip()))
        if sign == b"-":
            added = recent.pop(key, None)
            if added is not None and when - added < WINDOW:
                rework += 1
        else:
            recent[key] = when
    if sha is not None:
        yield CommitRework(sha, rework)


def update_rework(repository, mirror: str, tips: list[str], *, progress=None) -> int:
    """Fill ``Commit.rework_lines`` for the commits that lack it. Returns how many were filled."""
    from django.db import connection, transaction
    from django.db.models import Min

    from partnerscope.evidence import gitsafe
    from partnerscope.evidence.models import Commit
    from partnerscope.evidence.patterns import matcher

    pending = Commit.objects.filter(repository=repository, rework_lines__isnull=True, parent_count__lte=1)
    oldest = pending.aggregate(first=Min("authored_at"))["first"]
    if oldest is None:
        return 0
    # Only the 21 days before the oldest unmeasured commit matter; the first pass reads all.
    since = oldest - WINDOW - datetime.timedelta(days=1) if repository.lines_tip else None
    is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
    sql = "UPDATE evidence_commit SET rework_lines = %s WHERE repository_id = %s AND sha = %s AND rework_lines IS NULL"
    filled = 0
    for tip in tips:
        process = gitsafe.stream_git(mirror, *rework_command(tip, since))
        try:
            batch = []
            for result in scan(process.stdout, is_excluded):
                batch.append((result.rework_lines, repository.id, result.sha))
                if len(batch) >= 1000:
                    filled += _write(connection, transaction, sql, batch)
                    if progress:
                        progress(filled)
            filled += _write(connection, transaction, sql, batch)
            gitsafe.finish_stream(process)
        finally:
            process.kill_all()
    return filled


def _write(connection, transaction, sql, batch) -> int:
    if not batch:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, batch)
    count = len(batch)
    batch.clear()
    return count
