"""Surviving lines: who last wrote each line of the code at the tip (git blame).

Knowledge concentration comes from these counts: the smallest set of people holding half of
the surviving lines (the bus factor), and the share of the codebase whose main author is
vendor staff (the exit risk). Incremental: after the first pass, only files changed since the
last tip are blamed again. Blame runs in a few threads (the work is in the git processes).
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction

from partnerscope.evidence import gitsafe
from partnerscope.evidence.models import Repository, SurvivingLines
from partnerscope.evidence.patterns import matcher

SHA = re.compile(rb"^[0-9a-f]{40,64} ")
HEX = re.compile(r"^[0-9a-f]{40,64}$")
MAX_BLAME_BYTES = 1_000_000  # bigger files are data, not code someone maintains
BINARY_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".jar", ".woff", ".woff2", ".ttf", ".so", ".dll", ".exe", ".bin")  # fmt: skip


def files_at(mirror: str, tip: str) -> dict[str, int]:
    """{path: size} of the blobs at the tip."""
    out = gitsafe.run_git(
        mirror, "ls-tree", "-r", "-l", "-z", "--full-tree", "--end-of-options", tip, timeout_s=600
    )
    files = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 4 and parts[1] == b"blob" and parts[3] != b"-":
            files[path.decode("utf-8", "backslashreplace")] = int(parts[3])
    return files


def changed_files(mirror: str, old: str, new: str) -> set[str]:
    out = gitsafe.run_git(
        mirror, "diff", "--name-only", "-z", "--no-renames", "--end-of-options", old, new, "--", timeout_s=600
    )
    return {p.decode("utf-8", "backslashreplace") for p in out.split(b"\0") if p}


def blame(mirror: str, tip: str, path: str) -> Counter:
    """{author e-mail: surviving lines} for one file."""
    # blame takes no --end-of-options; the tip is a full object id, so it cannot be an option.
    if not HEX.match(tip):
        raise gitsafe.GitError(f"Not an object id: {tip[:80]!r}")
    out = gitsafe.run_git(mirror, "blame", "--porcelain", tip, "--", path, timeout_s=600)
    mails: dict[bytes, str] = {}
    counts: Counter = Counter()
    current = b""
    for line in out.split(b"\n"):
        if line.startswith(b"\t"):
            counts[current] += 1
        elif SHA.match(line):
            current = line.split(b" ", 1)[0]
        elif line.startswith(b"author-mail "):
            mails[current] = line[12:].strip().strip(b"<>").decode("utf-8", "backslashreplace").lower()
    result: Counter = Counter()
    for sha, n in counts.items():
        result[mails.get(sha, "")] += n
    return result


def update_surviving_lines(
    repository: Repository, mirror: str, tip: str, *, workers: int = 2, progress=None
) -> int:
    """Blame what changed since the last pass (everything the first time). Returns files blamed."""
    is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
    present = files_at(mirror, tip)
    if repository.lines_tip and gitsafe.has_commit(mirror, repository.lines_tip):
        todo = changed_files(mirror, repository.lines_tip, tip)
    else:
        todo = set(present) | set(
            SurvivingLines.objects.filter(repository=repository).values_list("path", flat=True)
        )
    wanted = sorted(
        p for p in todo
        if p in present and present[p] <= MAX_BLAME_BYTES and not p.lower().endswith(BINARY_SUFFIXES) and not is_excluded(p)
    )  # fmt: skip
    with transaction.atomic():
        SurvivingLines.objects.filter(repository=repository, path__in=list(todo)).delete()
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(wanted), 200):
            chunk = wanted[start : start + 200]
            results = list(pool.map(lambda p: (p, blame(mirror, tip, p)), chunk))
            rows = [
                SurvivingLines(
                    organization_id=repository.organization_id,
                    repository=repository,
                    path=p,
                    email=e,
                    lines=n,
                )
                for p, counts in results
                for e, n in counts.items()
                if n
            ]
            SurvivingLines.objects.bulk_create(rows, batch_size=1000)
            done += len(chunk)
            if progress:
                progress(done, len(wanted))
    return done
