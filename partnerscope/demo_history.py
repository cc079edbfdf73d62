"""Git history for the demo: repositories whose commits follow the demo roster.

Each demo engagement with a team gets a repository under <data dir>/repos/, written with
`git fast-import`: the people assigned on each day commit on it (so attribution has real work,
including the person who moved vendors), plus an in-house reviewer, a freelancer nobody mapped
yet (the unattributed queue, with a vendor suggested by e-mail domain), a dependency bot,
pair-programmed commits, a revert, and fixes ("fix: ...") that correct recent lines (bug-
introducing changes). Then the repositories are registered and synced through the same
services as any other, and CI's coverage reports of the last months' builds are uploaded.
"""

from __future__ import annotations

import datetime
import random
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

from partnerscope.engagements.models import Assignment, Engagement, Identity
from partnerscope.evidence.models import Repository
from partnerscope.evidence.services import queue_sync, save_repository
from partnerscope.evidence.sync import run_sync

# Bumped whenever the generated history changes, so a data directory's older demo
# repositories are written again rather than reused.
HISTORY_VERSION = "2"
REPOSITORIES = {"Payments platform team": "payments-platform", "Mobile app rebuild": "mobile-app"}
FILES = [
    "src/api/handlers.py",
    "src/core/ledger.py",
    "src/core/rules.py",
    "web/app.ts",
    "tests/test_ledger.py",
    "README.md",
]
EXTRA_AUTHORS = [
    ("Ola Nowak", "ola.nowak@vistula-software.example"),  # vendor staff nobody put on the roster
    ("Sam Freelance", "sam@freelance.example"),
]
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")


def _emails(organization_id: int) -> dict[int, str]:
    """Each person's first e-mail identity."""
    emails: dict[int, str] = {}
    for person_id, value in (
        Identity.objects.filter(organization_id=organization_id, kind=Identity.Kind.EMAIL)
        .order_by("-id")
        .values_list("person_id", "value")
    ):
        emails[person_id] = value
    return emails


def _commits(engagement: Engagement, rng: random.Random) -> list[tuple]:
    """(author name, e-mail, day, files, message) in date order, following the roster."""
    today = datetime.date.today()
    start, end = engagement.start_date, min(engagement.end_date or today, today)
    assignments = list(Assignment.objects.filter(engagement=engagement).select_related("person"))
    inhouse = list(
        Assignment.objects.filter(
            organization_id=engagement.organization_id, vendor__isnull=True
        ).select_related("person")[:2]
    )
    emails = _emails(engagement.organization_id)
    commits = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            for a in assignments:
                if a.valid_from <= day and (a.valid_to is None or a.valid_to >= day) and rng.random() < 0.35:
                    email = emails.get(a.person_id)
                    if email:
                        files = rng.sample(FILES, rng.randint(1, 3))
                        verb, topic = rng.choice(VERBS), rng.choice(TOPICS)
                        # Fixes are declared the Conventional Commits way, so SZZ traces them.
                        message = f"fix: {topic}" if verb == "Fix" else f"{verb} {topic}"
                        commits.append((a.person.name, email, day, files, message))
            for a in inhouse:
                if rng.random() < 0.05 and (email := emails.get(a.person_id)):
                    commits.append((a.person.name, email, day, ["README.md"], "Document the release process"))
            if day > end - datetime.timedelta(days=90) and rng.random() < 0.08:
                name, email = rng.choice(EXTRA_AUTHORS)
                commits.append((name, email, day, ["src/core/rules.py"], "Tune fraud rules"))
            if day.weekday() == 0 and rng.random() < 0.5:
                commits.append((*BOT, day, ["requirements.txt"], "Bump django from 5.2.1 to 5.2.2"))
        day += datetime.timedelta(days=1)
    return commits


VERBS = ["Add", "Fix", "Refactor", "Speed up", "Test", "Handle", "Validate", "Log"]
TOPICS = [
    "ledger posting",
    "refund flow",
    "currency rounding",
    "idempotency keys",
    "webhook retries",
    "settlement report",
]


def _fast_import(path: Path, commits: list[tuple], rng: random.Random) -> None:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    marks_file = path / "demo-marks"
    chunks: list[bytes] = []
    contents: dict[str, list[str]] = {}
    continuing = False

    def flush():
        subprocess.run(
            ["git", "--git-dir", str(path), "fast-import", "--quiet", f"--export-marks={marks_file}"],
            input=b"".join(chunks), check=True,
        )  # fmt: skip
        chunks.clear()

    for n, (name, email, day, files, message) in enumerate(commits, 1):
        when = int(datetime.datetime.combine(day, datetime.time(9 + n % 8, n % 60), datetime.UTC).timestamp())
        body = message
        if n % 37 == 0 and n < len(commits) and commits[n][1] != email:
            body += f"\n\nCo-authored-by: {commits[n][0]} <{commits[n][1]}>"
        if n % 101 == 0:
            # A revert names the sha of the commit before it: write what we have to learn it.
            flush()
            continuing = True
            marks = dict(line.split() for line in marks_file.read_text().splitlines())
            body = f'Revert "{commits[n - 2][4]}"\n\nThis reverts commit {marks[f":{n - 1}"]}.'
        data = body.encode() + b"\n"
        chunks.append(f"commit refs/heads/main\nmark :{n}\nauthor {name} <{email}> {when} +0000\n".encode())
        chunks.append(f"committer {name} <{email}> {when} +0000\ndata {len(data)}\n".encode() + data)
        if continuing:
            chunks.append(b"from refs/heads/main^0\n")
            continuing = False
        for file in files:
            lines = contents.setdefault(file, [])
            if message.startswith("fix: ") and len(lines) > 1:
                # A fix corrects a recent line: the line's author wrote the bug.
                at = rng.randrange(max(0, len(lines) - 15), len(lines))
                lines[at] = f"# corrected by {message} ({n})"
            lines.append(f"# {message} ({n})")
            if len(lines) > 40 and rng.random() < 0.5:
                del lines[rng.randrange(len(lines))]
            text = ("\n".join(lines) + "\n").encode()
            chunks.append(f"M 100644 inline {file}\ndata {len(text)}\n".encode() + text)
        chunks.append(b"\n")
    if chunks:
        flush()
    marks_file.unlink(missing_ok=True)


def load_demo_history(membership) -> list[Repository]:
    """Write, register and sync the demo repositories. Returns them."""
    rng = random.Random(7)  # the same demo every time  # noqa: S311 - not for security
    root = Path(settings.DATA_DIR) / "repos"
    root.mkdir(parents=True, exist_ok=True)
    repositories = []
    for engagement in Engagement.objects.visible_to(membership).filter(name__in=REPOSITORIES):
        path = root / f"{REPOSITORIES[engagement.name]}.git"
        stamp = path / "partnerscope-demo-version"
        if path.exists() and (not stamp.exists() or stamp.read_text().strip() != HISTORY_VERSION):
            # Written by an older demo: its history is not the one this demo describes.
            shutil.rmtree(path)
        if not path.exists():
            _fast_import(path, _commits(engagement, rng), rng)
            stamp.write_text(HISTORY_VERSION + "\n")
        repository = save_repository(
            membership=membership,
            instance=Repository(engagement=engagement, name=REPOSITORIES[engagement.name], source=str(path)),
        )
        run_sync(queue_sync(repository, user=membership.user, claim=True))
        _upload_coverage(membership, repository, rng)
        repositories.append(repository)
    return repositories


COVERAGE_DAYS = 120
# How much of its new code each team's tests run, by e-mail domain (in-house: the default).
COVERAGE_HABITS = {"vistula-software.example": 0.88, "kaveri-tech.example": 0.72}


def _upload_coverage(membership, repository: Repository, rng: random.Random) -> int:
    """CI's coverage reports (LCOV) of the last months' builds, uploaded as CI would: each lists
    the lines its commit added, most of which the team's tests ran."""
    from partnerscope.evidence.commitdiff import line_changes
    from partnerscope.evidence.models import Commit
    from partnerscope.evidence.services import import_coverage
    from partnerscope.evidence.sync import mirror_path

    since = datetime.date.today() - datetime.timedelta(days=COVERAGE_DAYS)
    mirror = str(mirror_path(repository))
    uploaded = 0
    commits = Commit.objects.filter(repository=repository, parent_count=1, authored_date__gte=since)
    for sha, email in commits.order_by("authored_at").values_list("sha", "author_email"):
        habit = COVERAGE_HABITS.get(email.rpartition("@")[2], 0.8)
        records = []
        for path, numbers in line_changes(mirror, sha, lambda path: False).added.items():
            if not path.endswith((".py", ".ts")):
                continue  # no tests measure the README or requirements
            hits = "".join(f"DA:{n},{int(rng.random() < habit)}\n" for n in numbers)
            records.append(f"SF:/builds/northwind/{repository.name}/{path}\n{hits}end_of_record\n")
        if records:
            data = ("TN:\n" + "".join(records)).encode()
            import_coverage(
                membership=membership, repository=repository, commit=sha, name="lcov.info", data=data
            )
            uploaded += 1
    return uploaded
