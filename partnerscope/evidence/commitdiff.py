"""One commit's changed lines by number, from ``git diff-tree -U0``: the lines it deleted or
changed (numbered in its parent's files) and the lines it added (numbered in its own).

Bug-fix tracing (szz.py) blames the first at the parent; coverage on new code (coverage.py)
looks the second up in the commit's coverage report. Blank and punctuation-only deleted lines
are left out (they match everywhere, as in the rework count); added lines are all kept, since a
coverage report says itself which lines can run. Renames are followed (``-M``): a file moved
and changed by a fix deletes only its changed lines, not all of them, and moved code is no
commit's new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from partnerscope.evidence import gitsafe
from partnerscope.evidence.diffwalk import _KEYWORDS, _PUNCTUATION, TRIVIAL, unquote_path

HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class LineChanges:
    deleted: dict[str, list[int]] = field(default_factory=dict)  # old path -> line numbers
    added: dict[str, list[int]] = field(default_factory=dict)  # new path -> line numbers
    files: int = 0  # files the commit changes, excluded ones included


def line_changes(mirror: str, sha: str, is_excluded) -> LineChanges:
    """The commit's changed lines against its parent (a root commit: against nothing); excluded
    and binary files carry none."""
    out = gitsafe.run_git(
        mirror, "diff-tree", "-p", "--unified=0", "-M", "--no-color", "--no-ext-diff",
        "--no-textconv", "--no-commit-id", "--root", "--end-of-options", sha, timeout_s=600,
    )  # fmt: skip
    changes = LineChanges()
    deleted: list[int] | None = None
    added: list[int] | None = None
    old_at = new_at = old_left = new_left = 0
    old_path = b""
    for line in out.split(b"\n"):
        first = line[:1]
        if old_left or new_left:
            # Inside a hunk, its counts say which lines are changed lines (a deleted line
            # "-- x" must not be read as a file header).
            if first == b"-" and old_left:
                old_left -= 1
                content = line[1:]
                if deleted is not None and not (
                    content.strip(_PUNCTUATION) in _KEYWORDS and TRIVIAL.match(content)
                ):
                    deleted.append(old_at)
                old_at += 1
                continue
            if first == b"+" and new_left:
                new_left -= 1
                if added is not None:
                    added.append(new_at)
                new_at += 1
                continue
            if first == b"\\":
                continue
            old_left = new_left = 0
        if line.startswith(b"diff --git "):
            changes.files += 1
            deleted = added = None
            old_path = b""
        elif line.startswith(b"--- "):
            old_path = line[4:]
        elif line.startswith(b"+++ "):
            new_path = line[4:]
            deleted = added = None
            if old_path and old_path != b"/dev/null":
                path = unquote_path(old_path)
                if not is_excluded(path):
                    deleted = changes.deleted.setdefault(path, [])
            if new_path != b"/dev/null":
                path = unquote_path(new_path)
                if not is_excluded(path):
                    added = changes.added.setdefault(path, [])
        elif first == b"@":
            match = HUNK.match(line)
            if match:
                old_at, new_at = int(match.group(1)), int(match.group(3))
                old_left = 1 if match.group(2) is None else int(match.group(2))
                new_left = 1 if match.group(4) is None else int(match.group(4))
    changes.deleted = {path: numbers for path, numbers in changes.deleted.items() if numbers}
    changes.added = {path: numbers for path, numbers in changes.added.items() if numbers}
    return changes
