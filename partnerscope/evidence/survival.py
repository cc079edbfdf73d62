"""Surviving lines: who wrote each line of the code at the tip, counted in the diff walk.

Knowledge concentration comes from these counts: the smallest set of people holding half of
the surviving lines (the bus factor), and the share of the codebase whose main author is
vendor staff (the exit risk).

``git blame`` of every file answers the question too, but it walks each file's history again:
about 47 x the time of reading the diffs once on git/git. Instead the same walk that measures
rework (diffwalk.py, oldest commit first) keeps, per file, the multiset of its live lines
(content hash -> authors): a removed line takes one owner out, an added line puts its author
in. Within a commit, a line removed from one place and added in another (a move, a renamed
file) keeps its author, as ``git blame -M -C`` would say. The walk follows every branch, so at
the end the count is reconciled with the files at the tip: each line of a tip file takes an
owner of the same content; the few lines no commit of the walk explains (written in a merge
that resolved a conflict) go to the last author of the file.

The multisets are stored per file (``LineOwnership``), so the next sync walks only the new
commits and reconciles only the files they touched. ``blame`` stays as the reference this
count is checked against (tests, bench/git_ingest.py).
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable

from django.db import transaction

from partnerscope.evidence import gitsafe
from partnerscope.evidence.diffwalk import CommitDiff
from partnerscope.evidence.models import LineOwnership, Repository, SurvivingLines
from partnerscope.evidence.patterns import matcher

SHA = re.compile(rb"^[0-9a-f]{40,64} ")
HEX = re.compile(r"^[0-9a-f]{40,64}$")
MAX_FILE_BYTES = 1_000_000  # bigger files are data, not code someone maintains
BINARY_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".jar", ".woff", ".woff2", ".ttf", ".so", ".dll", ".exe", ".bin")  # fmt: skip
READ_CHUNK_BYTES = 4_000_000
HOT_FILES = 512  # files kept unpacked during the walk (see LineOwners)

# A multiset of lines: content hash -> owner index, or a list of owner indexes when the same
# content appears more than once (most lines appear once: no list for them saves memory).
Lines = dict[int, "int | list[int]"]


def _push(lines: Lines, digest: int, owner: int) -> None:
    held = lines.get(digest)
    if held is None:
        lines[digest] = owner
    elif held.__class__ is int:
        lines[digest] = [held, owner]
    else:
        held.append(owner)


def _pop(lines: Lines, digest: int) -> int | None:
    held = lines.get(digest)
    if held is None:
        return None
    if held.__class__ is int:
        del lines[digest]
        return held
    owner = held.pop()
    if len(held) == 1:
        lines[digest] = held[0]
    return owner


class LineOwners:
    """The live lines of every file and who wrote them, updated commit by commit.

    Memory stays small on long histories: only the files touched most recently are kept as
    dictionaries; the others are packed into arrays of 8 bytes a line until touched again.
    """

    def __init__(
        self, load: Callable[[str], tuple[list[str], bytes, bytes] | None] | None = None, hot_files: int = 0
    ) -> None:
        self.hot: dict[str, Lines] = {}  # insertion order = least recently used first
        self.cold: dict[str, array] = {}
        self.hot_files = hot_files or HOT_FILES
        self.emails: list[str] = []
        self.email_ids: dict[str, int] = {}
        self.last_author: dict[str, int] = {}
        self.load = load  # reads a file's stored multiset (incremental passes)

    def owner_id(self, email: str) -> int:
        found = self.email_ids.get(email)
        if found is None:
            found = self.email_ids[email] = len(self.emails)
            self.emails.append(email)
        return found

    def paths(self) -> set[str]:
        return set(self.hot) | set(self.cold)

    def _file(self, path: str) -> Lines:
        lines = self.hot.pop(path, None)
        if lines is None:
            packed = self.cold.pop(path, None)
            if packed is not None:
                lines = {}
                for value in packed:
                    _push(lines, value >> 32, value & 0xFFFFFFFF)
            else:
                stored = self.load(path) if self.load else None
                lines = self.decode(*stored) if stored else {}
        self.hot[path] = lines
        return lines

    def _evict(self) -> None:
        hot = self.hot
        while len(hot) > self.hot_files:
            path = next(iter(hot))
            packed = array("Q")
            for digest, held in hot.pop(path).items():
                if held.__class__ is int:
                    packed.append(digest << 32 | held)
                else:
                    packed.extend([digest << 32 | owner for owner in held])
            self.cold[path] = packed

    def apply(self, commit: CommitDiff) -> None:
        if not commit.files:
            return
        author = self.owner_id(commit.email)
        moved: Lines = {}
        files = [(change, self._file(change.path)) for change in commit.files]
        for change, lines in files:
            for removed in (change.removed, change.removed_trivial):
                for digest in removed:
                    owner = _pop(lines, digest)
                    if owner is not None:
                        _push(moved, digest, owner)
        for change, lines in files:
            for digest in change.added:
                owner = _pop(moved, digest) if moved else None
                _push(lines, digest, author if owner is None else owner)
            self.last_author[change.path] = author
        if len(self.hot) > self.hot_files:
            self._evict()

    def reconcile(self, path: str, content: bytes | None) -> tuple[Counter, tuple | None]:
        """The file's lines at the tip (``content``; None: not counted), each with an owner
        taken from the walk. Returns ({e-mail: lines}, the stored form) and forgets the file."""
        walked = self._file(path)
        del self.hot[path]
        if content is None:
            return Counter(), None
        fallback = self.last_author.get(path)
        if fallback is None:
            fallback = self.owner_id("")
        lines: Lines = {}
        counts: Counter = Counter()
        parts = content.split(b"\n")
        if parts and parts[-1] == b"":
            parts.pop()
        for digest in map(zlib.crc32, parts):
            owner = _pop(walked, digest)
            if owner is None:
                owner = fallback
            _push(lines, digest, owner)
            counts[owner] += 1
        return Counter({self.emails[owner]: n for owner, n in counts.items()}), self.encode(lines)

    # Storage: per file, its e-mails and two arrays (hash, index into those e-mails), little-endian.

    def encode(self, lines: Lines) -> tuple[list[str], bytes, bytes] | None:
        if not lines:
            return None
        local: dict[int, int] = {}
        digests, owners = array("I"), array("I")
        for digest, held in lines.items():
            for owner in (held,) if held.__class__ is int else held:
                digests.append(digest)
                owners.append(local.setdefault(owner, len(local)))
        emails = [""] * len(local)
        for owner, index in local.items():
            emails[index] = self.emails[owner]
        if sys.byteorder == "big":
            digests.byteswap()
            owners.byteswap()
        return emails, digests.tobytes(), owners.tobytes()

    def decode(self, emails: list[str], digests_raw: bytes, owners_raw: bytes) -> Lines:
        digests, owners = array("I"), array("I")
        digests.frombytes(bytes(digests_raw))
        owners.frombytes(bytes(owners_raw))
        if sys.byteorder == "big":
            digests.byteswap()
            owners.byteswap()
        ids = [self.owner_id(email) for email in emails]
        lines: Lines = {}
        for digest, owner in zip(digests, owners, strict=True):
            _push(lines, digest, ids[owner])
        return lines


def files_at(mirror: str, tip: str) -> dict[str, tuple[str, int]]:
    """{path: (blob id, size)} of the files at the tip."""
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
            files[path.decode("utf-8", "backslashreplace")] = (parts[2].decode("ascii"), int(parts[3]))
    return files


def counted(path: str, size: int, is_excluded) -> bool:
    return size <= MAX_FILE_BYTES and not path.lower().endswith(BINARY_SUFFIXES) and not is_excluded(path)


def read_blobs(mirror: str, wanted: list[tuple[str, str, int]]):
    """Yield (path, content or None for binary) for [(path, blob id, size)], a chunk at a time."""
    start = 0
    while start < len(wanted):
        chunk, size = [], 0
        while start < len(wanted) and (not chunk or size + wanted[start][2] <= READ_CHUNK_BYTES):
            chunk.append(wanted[start])
            size += wanted[start][2]
            start += 1
        out = gitsafe.run_git(
            mirror, "cat-file", "--batch", input=b"".join(oid.encode() + b"\n" for _, oid, _ in chunk)
        )
        at = 0
        for path, _oid, _size in chunk:
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            if len(header) != 3 or header[1] != b"blob":
                raise gitsafe.GitError(f"Could not read the file {path!r} at the tip.")
            length = int(header[2])
            content = out[header_end + 1 : header_end + 1 + length]
            at = header_end + 1 + length + 1
            yield path, (None if b"\0" in content[:8000] else content)


class SurvivalPass:
    """One pass over new commits for a repository: load, apply the walk, reconcile, store."""

    def __init__(self, repository: Repository, mirror: str) -> None:
        self.repository = repository
        self.mirror = mirror
        self.is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
        stored = LineOwnership.objects.filter(repository=repository)
        self.since = repository.lines_tip
        if not (self.since and stored.exists() and gitsafe.has_commit(mirror, self.since)):
            self.since = ""  # the first pass (or the old tip is gone): walk everything
        self.owners = LineOwners(load=self._load if self.since else None)

    @property
    def revisions_from(self) -> list[str]:
        return [f"^{self.since}"] if self.since else []

    def _load(self, path: str):
        row = (
            LineOwnership.objects.filter(repository=self.repository, path=path)
            .values_list("emails", "digests", "owners")
            .first()
        )
        return row

    def apply(self, commit: CommitDiff) -> None:
        self.owners.apply(commit)

    def finish(self, tip: str, progress: Callable[[int, int], None] | None = None) -> int:
        """Reconcile with the files at ``tip`` and store it all with ``lines_tip`` in one
        transaction. Returns how many files were reconciled."""
        present = files_at(self.mirror, tip)
        if self.since:
            changed = gitsafe.run_git(
                self.mirror, "diff", "--name-only", "-z", "--no-renames", "--end-of-options", self.since, tip, "--",
                timeout_s=600,
            )  # fmt: skip
            todo = self.owners.paths() | {
                p.decode("utf-8", "backslashreplace") for p in changed.split(b"\0") if p
            }
        else:
            todo = self.owners.paths() | set(present)
        counts: dict[str, tuple[Counter, tuple | None]] = {}
        wanted = []
        for path in sorted(todo):
            if path in present and counted(path, present[path][1], self.is_excluded):
                wanted.append((path, *present[path]))
            else:
                counts[path] = self.owners.reconcile(path, None)
        for done, (path, content) in enumerate(read_blobs(self.mirror, wanted), 1):
            counts[path] = self.owners.reconcile(path, content)
            if progress and done % 500 == 0:
                progress(done, len(wanted))
        self._store(tip, counts)
        return len(wanted)

    def _store(self, tip: str, counts: dict[str, tuple[Counter, tuple | None]]) -> None:
        repository = self.repository
        org = repository.organization_id
        with transaction.atomic():
            ownership = LineOwnership.objects.filter(repository=repository)
            surviving = SurvivingLines.objects.filter(repository=repository)
            if self.since:
                paths = list(counts)
                for start in range(0, len(paths), 500):
                    ownership.filter(path__in=paths[start : start + 500]).delete()
                    surviving.filter(path__in=paths[start : start + 500]).delete()
            else:
                ownership.delete()
                surviving.delete()
            rows = []
            for path, (_, encoded) in counts.items():
                if encoded is not None:
                    emails, digests, owners = encoded
                    rows.append(
                        LineOwnership(
                            organization_id=org,
                            repository=repository,
                            path=path,
                            emails=emails,
                            digests=digests,
                            owners=owners,
                        )
                    )
            LineOwnership.objects.bulk_create(rows, batch_size=500)
            SurvivingLines.objects.bulk_create(
                (
                    SurvivingLines(
                        organization_id=org, repository=repository, path=path, email=email, lines=n
                    )
                    for path, (by_email, _) in counts.items()
                    for email, n in by_email.items()
                    if n
                ),
                batch_size=1000,
            )
            Repository.objects.filter(pk=repository.pk).update(lines_tip=tip)
        repository.lines_tip = tip


def blame(mirror: str, tip: str, path: str) -> Counter:
    """{author e-mail: surviving lines} of one file by ``git blame``: the reference the
    streaming count is checked against."""
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


def agreement(by_walk: Iterable[tuple[str, Counter]], mirror: str, tip: str) -> float:
    """Share of lines whose owner the walk and ``git blame`` agree on, over the given files."""
    same = total = 0
    for path, counts in by_walk:
        reference = blame(mirror, tip, path)
        same += sum(min(n, reference.get(email, 0)) for email, n in counts.items())
        total += sum(reference.values())
    return same / total if total else 1.0
