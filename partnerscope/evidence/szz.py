"""Bug-introducing changes, SZZ-style: the lines a bug fix deleted or changed, traced by
``git blame`` to the commits that wrote them.

Which commits fix a bug, strongest evidence first:

- **linked**: a bug (a work item of type bug or defect) of the engagement's trackers links to
  the commit, or to a pull request that holds it or was merged as it (GitHub's and GitLab's
  "closed by");
- **key**: the commit's subject names a bug's key ("MOB-112 handle empty basket");
- **conventional**: the author declared it a fix, in Conventional Commits form ("fix: ...",
  "fix(api)!: ..."). A free-text "fix" anywhere in a subject is not enough: "fix typo" and
  "prefix" would blame whoever wrote the typo.

For each fix, the lines it deleted or changed (zero-context diff against its parent) are blamed
at the parent with whitespace ignored. Blank and punctuation-only lines are left out, as in the
rework count: they match everywhere. Refinements from the SZZ literature, each cheap:

- a line written after the bug was reported cannot have caused it (linked and key fixes);
- a fix touching more than ``MAX_FIX_FILES`` files or deleting more than ``MAX_FIX_LINES``
  lines is a refactoring or a mass change, not a fix: it is recorded with a note, not traced;
- reverts are the revert rate's business, not fixes; merges change no lines of their own.

Lines a fix only adds (a missing check) point at no line, so SZZ cannot blame them on anyone:
the count is a floor. Blame per fix is costly but done once: a fix's parent never changes.
Each sync traces the fixes not traced yet, and forgets the ones that no longer qualify (a bug
link removed), marking the introducing commits' months dirty either way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from partnerscope.evidence import gitsafe
from partnerscope.evidence.commitdiff import line_changes
from partnerscope.evidence.models import (
    BugFix,
    BugIntroduction,
    Commit,
    Contribution,
    PullRequest,
    PullRequestCommit,
    Repository,
    WorkItem,
)
from partnerscope.evidence.patterns import matcher
from partnerscope.evidence.survival import HEX

CONVENTIONAL_FIX = re.compile(r"^(?:fix|bugfix|hotfix)(?:\([^)]{0,80}\))?!?:\s", re.IGNORECASE)
ISSUE_KEY = re.compile(r"\b([A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,9})\b")
SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")
MAX_FIX_FILES = 50
MAX_FIX_LINES = 1000
BATCH = 50  # fixes stored per transaction

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Candidate:
    reason: str
    bug_id: int | None = None
    reported_at: object = None  # the latest report among its bugs (the most it can allow)


def _bugs(repository: Repository):
    return WorkItem.objects.filter(
        WorkItem.bug_q(),
        organization_id=repository.organization_id,
        connection__engagement_id=repository.engagement_id,
    )


def candidates(repository: Repository) -> dict[int, Candidate]:
    """{commit id: why it is a bug fix} for the repository's non-merge, non-revert commits."""
    found: dict[int, Candidate] = {}
    commits = Commit.objects.filter(repository=repository, parent_count=1, reverts_sha="")
    bugs = list(_bugs(repository).values_list("id", "key", "created_at", "links", "connection_id"))

    def add(commit_id: int, reason: str, bug_id: int | None, reported_at) -> None:
        held = found.get(commit_id)
        if held is None or (held.reason != BugFix.Reason.LINKED and reason == BugFix.Reason.LINKED):
            found[commit_id] = Candidate(reason, bug_id, reported_at)
        elif held.reason == reason and held.reported_at and reported_at and reported_at > held.reported_at:
            found[commit_id] = Candidate(reason, held.bug_id, reported_at)

    # Linked: shas named by the bug, and the commits of the pull requests it names.
    by_sha: dict[str, list[tuple[int, object]]] = {}
    by_pr: dict[tuple[int, int], list[tuple[int, object]]] = {}
    for bug_id, _key, created_at, links, connection_id in bugs:
        for link in links or []:
            kind, _, ref = str(link).partition(":")
            if kind == "commit" and ref:
                by_sha.setdefault(ref.lower(), []).append((bug_id, created_at))
            elif kind == "pr" and ref.isdigit():
                by_pr.setdefault((connection_id, int(ref)), []).append((bug_id, created_at))
    if by_pr:
        prs = PullRequest.objects.filter(
            organization_id=repository.organization_id, connection_id__in={c for c, _ in by_pr}
        ).filter(number__in={n for _, n in by_pr})
        pr_bugs = {}
        for pr_id, connection_id, number, merge_sha in prs.values_list(
            "id", "connection_id", "number", "merge_commit_sha"
        ):
            linked = by_pr.get((connection_id, number))
            if linked:
                pr_bugs[pr_id] = linked
                if merge_sha:
                    by_sha.setdefault(merge_sha.lower(), []).extend(linked)
        for pr_id, sha in PullRequestCommit.objects.filter(pull_request_id__in=pr_bugs).values_list(
            "pull_request_id", "sha"
        ):
            by_sha.setdefault(sha.lower(), []).extend(pr_bugs[pr_id])
    if by_sha:
        shas = sorted(sha for sha in by_sha if len(sha) >= 40)
        for start in range(0, len(shas), 500):
            for commit_id, sha in commits.filter(sha__in=shas[start : start + 500]).values_list("id", "sha"):
                for bug_id, created_at in by_sha[sha]:
                    add(commit_id, BugFix.Reason.LINKED, bug_id, created_at)
        # GitLab's "closed via commit 1a2b3c4d" names a commit by its first characters.
        for short in sorted(sha for sha in by_sha if 7 <= len(sha) < 40 and SHORT_SHA.match(sha)):
            found_ids = list(commits.filter(sha__startswith=short).values_list("id", flat=True)[:2])
            if len(found_ids) == 1:
                for bug_id, created_at in by_sha[short]:
                    add(found_ids[0], BugFix.Reason.LINKED, bug_id, created_at)

    # Named in the subject, or declared a fix.
    keys = {key.upper(): (bug_id, created_at) for bug_id, key, created_at, _, _ in bugs if "-" in key}
    for commit_id, subject in commits.values_list("id", "subject"):
        if keys:
            for key in ISSUE_KEY.findall(subject.upper()):
                if key in keys:
                    add(commit_id, BugFix.Reason.KEY, *keys[key])
        if commit_id not in found and CONVENTIONAL_FIX.match(subject):
            add(commit_id, BugFix.Reason.CONVENTIONAL, None, None)
    return found


def deleted_lines(mirror: str, sha: str, is_excluded) -> tuple[dict[str, list[int]], int]:
    """({path: line numbers at the parent the commit deleted or changed}, files changed),
    leaving out excluded and binary files and blank or punctuation-only lines."""
    changes = line_changes(mirror, sha, is_excluded)
    return changes.deleted, changes.files


def _ranges(numbers: list[int]) -> list[str]:
    out, start, end = [], None, None
    for n in sorted(set(numbers)):
        if start is not None and n == end + 1:
            end = n
            continue
        if start is not None:
            out.append(f"{start},{end}")
        start = end = n
    if start is not None:
        out.append(f"{start},{end}")
    return out


def blame_lines(mirror: str, sha: str, path: str, numbers: list[int]) -> Counter:
    """{sha: lines} that wrote the given lines of ``path`` at the parent of ``sha``
    (whitespace ignored)."""
    if not HEX.match(sha):
        # blame takes no --end-of-options: only a full object id (and "^") may reach it.
        raise gitsafe.GitError(f"Not an object id: {sha[:80]!r}")
    args = ["blame", "--porcelain", "-w"]
    for span in _ranges(numbers):
        args += ["-L", span]
    out = gitsafe.run_git(mirror, *args, f"{sha}^", "--", path, timeout_s=600)
    found: Counter = Counter()
    current = ""
    for line in out.split(b"\n"):
        if line.startswith(b"\t"):
            found[current] += 1
        elif len(line) > 40 and line[40:41] == b" " and HEX.match(line[:40].decode("ascii", "replace")):
            current = line[:40].decode("ascii")
    return found


def trace(mirror: str, sha: str, is_excluded) -> tuple[Counter, int, str]:
    """({introducing sha: lines}, lines traced, note) for one fix commit."""
    try:
        by_path, files = deleted_lines(mirror, sha, is_excluded)
    except gitsafe.GitError as exc:
        # A commit git cannot diff (gone from a re-cloned mirror) must not fail every later sync.
        return Counter(), 0, f"Not traced: {exc}"[:200]
    total = sum(len(numbers) for numbers in by_path.values())
    if files > MAX_FIX_FILES:
        return Counter(), 0, f"Not traced: it changes {files} files (a fix changes at most {MAX_FIX_FILES})."
    if total > MAX_FIX_LINES:
        return Counter(), 0, f"Not traced: it deletes {total} lines (a fix deletes at most {MAX_FIX_LINES})."
    if not by_path:
        return Counter(), 0, "Nothing to trace: it only adds lines."
    blamed: Counter = Counter()
    try:
        for path, numbers in sorted(by_path.items()):
            blamed.update(blame_lines(mirror, sha, path, numbers))
    except gitsafe.GitError as exc:
        # One fix git cannot blame (a timeout, an odd path) must not fail every later sync.
        return Counter(), 0, f"Not traced: {exc}"[:200]
    return blamed, total, ""


def _mark(commit_ids) -> None:
    from partnerscope.metrics.dirty import mark_rows

    ids = sorted(set(commit_ids))
    for start in range(0, len(ids), 500):
        mark_rows(Contribution.objects.filter(commit_id__in=ids[start : start + 500]))


def update_bug_fixes(
    repository: Repository, mirror: str, progress: Progress | None = None
) -> tuple[int, int]:
    """Trace the repository's new bug fixes and forget those that no longer qualify.
    Returns (fixes traced, fixes forgotten). ``progress(done, total)`` may raise to cancel:
    fixes are stored a batch at a time, each batch with its introductions in one transaction.

    Blame is git's work, not Python's: the fixes of a batch are traced on as many threads as
    the sync may run git processes (``PARTNERSCOPE_GIT_PROCESSES``)."""
    wanted = candidates(repository)
    stored = dict(BugFix.objects.filter(repository=repository).values_list("commit_id", "reason"))
    stale = [commit_id for commit_id, reason in stored.items() if commit_id not in wanted]
    changed = [c for c, candidate in wanted.items() if c in stored and stored[c] != candidate.reason]
    if stale or changed:
        gone = stale + changed
        with transaction.atomic():
            for start in range(0, len(gone), 500):
                batch = gone[start : start + 500]
                blamed = BugIntroduction.objects.filter(fix__commit_id__in=batch).values_list(
                    "commit_id", flat=True
                )
                _mark(list(blamed))
                BugFix.objects.filter(repository=repository, commit_id__in=batch).delete()
    todo = sorted(c for c in wanted if c not in stored or c in changed)
    if not todo:
        return 0, len(stale)
    is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
    shas = {}
    for start in range(0, len(todo), 500):
        shas.update(Commit.objects.filter(id__in=todo[start : start + 500]).values_list("id", "sha"))
    with ThreadPoolExecutor(max_workers=max(1, settings.GIT_PROCESSES)) as pool:
        for start in range(0, len(todo), BATCH):
            if progress:
                progress(start, len(todo))
            batch = todo[start : start + BATCH]
            traced = pool.map(lambda commit_id: trace(mirror, shas[commit_id], is_excluded), batch)
            _store(repository, [(c, wanted[c], *found) for c, found in zip(batch, traced, strict=True)])
    if progress:
        progress(len(todo), len(todo))
    return len(todo), len(stale)


def _store(repository, traced: list[tuple[int, Candidate, Counter, int, str]]) -> None:
    """Store a batch of traced fixes: [(fix commit id, why, {sha: lines}, lines traced, note)]."""
    org = repository.organization_id
    shas = sorted({sha for _, _, blamed, _, _ in traced for sha in blamed})
    commits = {}
    for start in range(0, len(shas), 500):
        rows = Commit.objects.filter(repository=repository, sha__in=shas[start : start + 500])
        for row in rows.values("id", "sha", "authored_at", "authored_date", "parent_count"):
            commits[row["sha"]] = row
    introductions: list[tuple[int, dict[int, tuple]]] = []
    for commit_id, candidate, blamed, _, _ in traced:
        found = {}
        for sha, lines in blamed.items():
            row = commits.get(sha)
            if row is None or row["id"] == commit_id or row["parent_count"] > 1:
                continue  # not read, or a merge: a conflict resolution is no author's change
            if candidate.reported_at and row["authored_at"] >= candidate.reported_at:
                continue  # written after the bug was reported: not its cause
            found[row["id"]] = (row["authored_date"], lines)
        introductions.append((commit_id, found))
    with transaction.atomic():
        fixes = BugFix.objects.bulk_create(
            [
                BugFix(
                    organization_id=org,
                    repository=repository,
                    commit_id=commit_id,
                    reason=candidate.reason,
                    bug_id=candidate.bug_id,
                    reported_at=candidate.reported_at,
                    traced_lines=lines,
                    note=note,
                )  # fmt: skip
                for commit_id, candidate, _, lines, note in traced
            ]
        )
        BugIntroduction.objects.bulk_create(
            [
                BugIntroduction(organization_id=org, fix=fix, commit_id=cid, authored_date=day, lines=n)
                for fix, (_, found) in zip(fixes, introductions, strict=True)
                for cid, (day, n) in found.items()
            ],
            batch_size=500,
        )
        _mark({cid for _, found in introductions for cid in found})
