"""A streaming parser of ``git log -p --unified=0``: each commit's removed and added lines.

One walk over the history feeds both line-level signals (rework.py, survival.py), so the
first sync of a long history reads its diffs once. Only changed lines are in the stream
(``--unified=0``); each is known by a CRC-32 of its content without the trailing newline,
which is stable across processes (survival persists it).
"""

from __future__ import annotations

import datetime
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from partnerscope.evidence.gitlog import prefetch

HEADER = b"\x1e"
LOG_FORMAT = "%x1e%H%x00%aI%x00%ae"
TRIVIAL = re.compile(rb"^[\s{}()\[\];,.:'\"`<>/*#=+-]*(end|else|fi|done|pass|return)?[\s;{}()]*$")
# A cheap test first: only lines that are empty or a keyword once punctuation is stripped can
# match TRIVIAL, and most lines are not.
_PUNCTUATION = b" \t\r\f\v{}()[];,.:'\"`<>/*#=+-"
_KEYWORDS = {b"", b"end", b"else", b"fi", b"done", b"pass", b"return"}
_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}


def diff_command(revisions: Iterable[str], since: datetime.datetime | None = None) -> list[str]:
    """Non-merge commits oldest first (parents before children), with zero-context diffs."""
    args = [
        "log", "--reverse", "--topo-order", "--no-merges", "-p", "--unified=0", "--no-renames",
        "--no-color", "--no-ext-diff", "--no-textconv", f"--format={LOG_FORMAT}",
    ]  # fmt: skip
    if since is not None:
        args.append(f"--since={since.isoformat()}")
    return [*args, "--end-of-options", *revisions, "--"]


@dataclass(slots=True)
class FileDiff:
    """A file's changed lines in one commit, as CRC-32 hashes of their content (4 bytes each:
    a commit that adds a whole library must not cost its text in memory). Removed lines that
    are only punctuation or a closing keyword are kept apart: they match everywhere, so they
    never count as rework."""

    path: str
    removed: array = field(default_factory=lambda: array("I"))
    removed_trivial: array = field(default_factory=lambda: array("I"))
    added: array = field(default_factory=lambda: array("I"))


@dataclass(slots=True)
class CommitDiff:
    sha: str
    when: datetime.datetime
    email: str
    files: list[FileDiff] = field(default_factory=list)


def unquote_path(raw: bytes) -> str:
    """A path as git prints it in diff headers: C-quoted when it holds special bytes."""
    raw = raw.rstrip(b"\t")
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        body, out, i = raw[1:-1], bytearray(), 0
        while i < len(body):
            ch = body[i : i + 1]
            if ch == b"\\" and i + 1 < len(body):
                nxt = body[i + 1 : i + 2]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    i += 2
                    continue
                if body[i + 1 : i + 4].isdigit():
                    out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                    i += 4
                    continue
            out += ch
            i += 1
        raw = bytes(out)
    if raw[:2] in (b"a/", b"b/"):
        raw = raw[2:]
    return raw.decode("utf-8", "backslashreplace")


def _lines(stream, chunk_size: int) -> Iterator[bytes]:
    tail = b""
    # A short queue: git outruns this parser, and a long one would only hold memory.
    for chunk in prefetch(stream, chunk_size, depth=4):
        parts = (tail + chunk).split(b"\n")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail


def parse_diffs(stream, is_excluded=lambda path: False, *, chunk_size: int = 1 << 20) -> Iterator[CommitDiff]:
    """Yield each commit of a ``diff_command`` stream with the lines it removed and added.

    Files matching ``is_excluded`` (generated, vendored) and binary files carry no lines.
    """
    commit: CommitDiff | None = None
    current: FileDiff | None = None
    removed = removed_trivial = added = None
    crc32, trivial, keywords = zlib.crc32, TRIVIAL.match, _KEYWORDS
    in_hunk = False
    old_path = b""
    for line in _lines(stream, chunk_size):
        first = line[:1]
        if in_hunk:
            # The hot path: changed lines of a hunk.
            if first == b"+":
                if added is not None:
                    added.append(crc32(line[1:]))
                continue
            if first == b"-":
                if removed is not None:
                    content = line[1:]
                    if content.strip(_PUNCTUATION) in keywords and trivial(content):
                        removed_trivial.append(crc32(content))
                    else:
                        removed.append(crc32(content))
                continue
            if first == b"@" or first == b"\\" or first == b"":
                continue
            in_hunk = False  # a new file or a new commit follows
        if first == HEADER:
            if commit is not None:
                yield commit
            sha, when, email = line[1:].split(b"\0", 2)
            commit = CommitDiff(
                sha.decode("ascii"),
                datetime.datetime.fromisoformat(when.decode("ascii")),
                email.decode("utf-8", "backslashreplace").strip().lower(),
            )
            current = removed = removed_trivial = added = None
            continue
        if commit is None:
            continue
        if line.startswith(b"diff --git "):
            current = removed = removed_trivial = added = None
            old_path = b""
        elif line.startswith(b"--- "):
            old_path = line[4:]
        elif line.startswith(b"+++ "):
            new_path = line[4:]
            path = unquote_path(old_path if new_path == b"/dev/null" else new_path)
            if is_excluded(path):
                current = removed = removed_trivial = added = None
            else:
                current = FileDiff(path)
                commit.files.append(current)
                removed, removed_trivial, added = current.removed, current.removed_trivial, current.added
        elif first == b"@":
            in_hunk = True
    if commit is not None:
        yield commit
