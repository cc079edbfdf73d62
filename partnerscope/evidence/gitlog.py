"""A streaming parser of ``git log -z --numstat`` output. Pure Python, no Django.

The history is never held in memory: ``parse_log`` reads the pipe in chunks and yields one
``ParsedCommit`` at a time. Bytes that are not UTF-8 (a few real commits have them) are decoded
with backslash escapes, so their meaning survives in the database.
"""

from __future__ import annotations

import datetime
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# One record per commit: RS, then NUL-separated fields, then git's own NUL, then numstat
# entries "added<TAB>deleted<TAB>path" each ended by NUL (renames: "a<TAB>d<TAB>", old, new).
RECORD = b"\x1e"
FIELDS = ("%H", "%P", "%an", "%ae", "%aI", "%cI", "%B")
LOG_FORMAT = "%x1e" + "%x00".join(FIELDS) + "%x00"

CO_AUTHOR = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>\s]+)>\s*$", re.IGNORECASE | re.MULTILINE)
REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,64})")


def log_command(tips: Iterable[str], exclude: Iterable[str] = (), *, renames: bool = False) -> list[str]:
    """The ``git log`` arguments for the commits reachable from ``tips`` but not ``exclude``."""
    args = ["log", "-z", "--numstat", f"--format={LOG_FORMAT}", "--no-color", "--no-abbrev"]
    args.append("-M" if renames else "--no-renames")
    # Revisions after --end-of-options: a branch may be named like an option ("--output=x").
    args += ["--end-of-options", *tips, *(f"^{sha}" for sha in exclude), "--"]
    return args


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


@dataclass(slots=True)
class ParsedCommit:
    sha: str
    parents: list[str]
    author_name: str
    author_email: str
    authored_at: datetime.datetime
    authored_date: datetime.date
    committed_at: datetime.datetime
    message: str
    # (path, added, deleted); added/deleted are None for binary files.
    files: list[tuple[str, int | None, int | None]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    def co_authors(self) -> list[tuple[str, str]]:
        """(name, e-mail) from Co-authored-by trailers, without the author and duplicates."""
        seen = {self.author_email.lower()}
        found = []
        for name, email in CO_AUTHOR.findall(self.message):
            if email.lower() not in seen:
                seen.add(email.lower())
                found.append((name, email))
        return found

    def reverted_sha(self) -> str:
        match = REVERTS.search(self.message)
        return match.group(1) if match else ""


def _parse_time(raw: bytes) -> tuple[datetime.datetime, datetime.date]:
    text = raw.decode("ascii", "replace")
    moment = datetime.datetime.fromisoformat(text)
    return moment.astimezone(datetime.UTC), moment.date()


def prefetch(stream, chunk_size: int, depth: int = 32) -> Iterator[bytes]:
    """Read the pipe in a thread, so git never waits while we write to the database.

    Without it git and the writer take turns (git blocks on a full pipe while a batch
    commits); with it they overlap. At most ``depth`` chunks wait in memory.
    """
    chunks: queue.Queue = queue.Queue(maxsize=depth)

    def reader() -> None:
        try:
            while chunk := stream.read(chunk_size):
                chunks.put(chunk)
        finally:
            chunks.put(b"")

    threading.Thread(target=reader, name="git-log-reader", daemon=True).start()
    while chunk := chunks.get():
        yield chunk


def _tokens(stream, chunk_size: int) -> Iterator[bytes]:
    tail = b""
    for chunk in prefetch(stream, chunk_size):
        parts = (tail + chunk).split(b"\0")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail


def parse_log(stream, *, chunk_size: int = 1 << 20) -> Iterator[ParsedCommit]:
    """Yield the commits of a ``git log`` stream made with ``log_command``."""
    tokens = _tokens(stream, chunk_size)
    current: ParsedCommit | None = None
    pending_rename: list[bytes] | None = None
    for token in tokens:
        if token.startswith(RECORD) and len(token) >= 41:
            if current is not None:
                yield current
            header = [token[1:]]
            for _ in range(len(FIELDS) - 1):
                header.append(next(tokens))
            sha, parents, name, email, authored, committed, message = header
            authored_at, authored_date = _parse_time(authored)
            committed_at, _ = _parse_time(committed)
            current = ParsedCommit(
                sha=sha.decode("ascii"),
                parents=parents.decode("ascii").split(),
                author_name=decode(name),
                author_email=decode(email).strip().lower(),
                authored_at=authored_at,
                authored_date=authored_date,
                committed_at=committed_at,
                message=decode(message),
            )
            pending_rename = None
            continue
        if current is None:
            continue
        if pending_rename is not None:
            pending_rename.append(token)
            if len(pending_rename) == 3:  # counts, old path, new path
                added, deleted = _counts(pending_rename[0])
                current.files.append((decode(pending_rename[2]), added, deleted))
                pending_rename = None
            continue
        entry = token.lstrip(b"\n")
        if not entry:
            continue
        parts = entry.split(b"\t", 2)
        if len(parts) != 3:
            continue
        if parts[2] == b"":
            pending_rename = [entry]
            continue
        added, deleted = _counts(entry)
        current.files.append((decode(parts[2]), added, deleted))
    if current is not None:
        yield current


def _counts(entry: bytes) -> tuple[int | None, int | None]:
    added, deleted, _ = entry.split(b"\t", 2)
    if added == b"-":
        return None, None  # binary
    return int(added), int(deleted)
