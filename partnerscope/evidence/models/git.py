"""Evidence from git: repositories, sync runs, commits, per-file changes and contributions.

Ingestion writes ``Commit`` and ``FileChange`` rows (natural key: repository and sha) and one
``Contribution`` per author and co-author. Attribution is separate: it fills a contribution's
person, assignment and vendor from the dated roster, and can be rerun from the roster alone.
"""

from __future__ import annotations

import datetime
import os
import socket

from django.conf import settings
from django.db import models
from django.utils import timezone

from partnerscope.orgs.scoping import TenantModel, TenantQuerySet

# Generated and vendored paths whose lines say nothing about the work (editable per repository).
DEFAULT_EXCLUDE_GLOBS = "\n".join(
    [
        "vendor/*",
        "third_party/*",
        "node_modules/*",
        "dist/*",
        "build/*",
        "*.min.js",
        "*.min.css",
        "*.map",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Cargo.lock",
        "go.sum",
        "*_pb2.py",
        "*.pb.go",
        "*.generated.*",
    ]
)

# Matched (shell-style, case-insensitive) against an author's name and e-mail.
DEFAULT_BOT_PATTERNS = "\n".join(
    [
        "*[bot]",
        "*[bot]@*",
        "dependabot*",
        "renovate*",
        "github-actions*",
        "snyk-bot*",
        "greenkeeper*",
        "pre-commit-ci*",
        "mergify*",
        "semantic-release-bot*",
        "allcontributors*",
        "*-bot@*",
        "bot@*",
    ]
)


class EvidenceModel(models.Model):
    """Base of evidence rows: tenant-owned and scoped, but no public uid (they are many)."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantQuerySet.as_manager()
    vendor_q = None

    class Meta:
        abstract = True


class Repository(TenantModel):
    class Status(models.TextChoices):
        NEW = "new", "Never synced"
        SYNCING = "syncing", "Syncing"
        OK = "ok", "Synced"
        FAILED = "failed", "Last sync failed"

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.PROTECT, related_name="repositories"
    )
    name = models.CharField(max_length=120)
    source = models.CharField(
        max_length=500, help_text="An https:// or ssh:// clone URL, or an absolute path on the server"
    )
    refs = models.CharField(
        max_length=500,
        blank=True,
        help_text="Branches to read, separated by spaces; empty = the default branch",
    )
    exclude_globs = models.TextField(
        default=DEFAULT_EXCLUDE_GLOBS, blank=True, help_text="Generated or vendored paths, one glob a line"
    )
    bot_patterns = models.TextField(
        default=DEFAULT_BOT_PATTERNS, blank=True, help_text="Author names or e-mails of bots, one glob a line"
    )
    detect_renames = models.BooleanField(default=False, help_text="Follow renames (slightly slower)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    default_branch = models.CharField(max_length=200, blank=True)
    # The tips already ingested, {ref: sha}; the next sync reads only what is not reachable from them.
    cursor = models.JSONField(default=dict, blank=True)
    # The tip the line-level passes (rework, surviving lines) have reached.
    lines_tip = models.CharField(max_length=64, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    commit_count = models.PositiveIntegerField(default=0)

    vendor_q = staticmethod(lambda vendor_id: models.Q(engagement__vendor_id=vendor_id))

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "engagement", "name"], name="unique_repository_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def glob_list(self, field: str) -> list[str]:
        return [line.strip() for line in getattr(self, field).splitlines() if line.strip()]


class RunBase(TenantModel):
    """One sync of a source: queued, running with progress, then its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=60, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="The outcome, or what went wrong, in words")
    cancel_requested = models.BooleanField(default=False)
    # Which process runs it, so a run whose process died (kill -9, reboot) can be told apart
    # from one still working, and the next sync can resume.
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def is_abandoned(self, stale_after: datetime.timedelta = datetime.timedelta(minutes=15)) -> bool:
        """Claimed by a process that is gone (same host), or running but silent for too long
        (another host). A run queued for the worker and not yet claimed is not abandoned."""
        if self.status not in (self.Status.QUEUED, self.Status.RUNNING) or not self.worker_host:
            return False
        if self.worker_host == socket.gethostname() and self.worker_pid:
            try:
                os.kill(self.worker_pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            return False
        return self.updated_at < timezone.now() - stale_after

    progress_unit = "items"

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


class SyncRun(RunBase):
    """One sync of a repository."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="sync_runs")
    new_commits = models.PositiveIntegerField(default=0)

    vendor_q = staticmethod(lambda vendor_id: models.Q(repository__engagement__vendor_id=vendor_id))

    class Meta(RunBase.Meta):
        pass

    def __str__(self) -> str:
        return f"sync of {self.repository} ({self.status})"

    @property
    def progress_unit(self) -> str:
        if self.phase.startswith("Tracing"):
            return "fixes"
        return "files" if self.phase.startswith("Counting") else "commits"


class Commit(EvidenceModel):
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)
    author_name = models.CharField(max_length=255)
    author_email = models.CharField(max_length=255)
    authored_at = models.DateTimeField()
    # The author's local calendar date: the date attribution uses.
    authored_date = models.DateField()
    committed_at = models.DateTimeField()
    subject = models.CharField(max_length=300)
    parent_count = models.PositiveSmallIntegerField()
    # Lines and files outside the excluded globs; merges carry none (see docs/ARCHITECTURE.md).
    additions = models.PositiveIntegerField(default=0)
    deletions = models.PositiveIntegerField(default=0)
    files_changed = models.PositiveIntegerField(default=0)
    reverts_sha = models.CharField(max_length=64, blank=True)
    # Deleted or rewritten lines that were written less than 21 days before (see rework.py);
    # empty until the line pass has seen the commit, and for merges.
    rework_lines = models.PositiveIntegerField(null=True, blank=True)

    vendor_q = staticmethod(
        lambda vendor_id: models.Q(
            id__in=Contribution.objects.filter(vendor_id=vendor_id).values("commit_id")
        )
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "sha"], name="unique_commit_sha")]
        indexes = [
            models.Index(fields=["repository", "authored_date"]),
            models.Index(fields=["repository", "reverts_sha"]),
        ]

    def __str__(self) -> str:
        return f"{self.sha[:10]} {self.subject[:60]}"

    @property
    def is_merge(self) -> bool:
        return self.parent_count > 1


class FileChange(EvidenceModel):
    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="files")
    path = models.TextField()
    additions = models.PositiveIntegerField(null=True, help_text="Empty for binary files")
    deletions = models.PositiveIntegerField(null=True)
    excluded = models.BooleanField(default=False)

    vendor_q = staticmethod(
        lambda vendor_id: models.Q(
            commit_id__in=Contribution.objects.filter(vendor_id=vendor_id).values("commit_id")
        )
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "path"], name="unique_file_change")]


class Contribution(EvidenceModel):
    """An author or co-author of a commit, and the vendor the roster gives them on its date."""

    class Role(models.TextChoices):
        AUTHOR = "author", "Author"
        CO_AUTHOR = "co-author", "Co-author"

    class Status(models.TextChoices):
        PENDING = "", "Not attributed yet"
        VENDOR = "vendor", "Vendor"
        INHOUSE = "inhouse", "In-house"
        UNATTRIBUTED = "unattributed", "Unattributed"
        BOT = "bot", "Bot"

    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="contributions")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    name = models.CharField(max_length=255)
    email = models.CharField(max_length=255)
    authored_date = models.DateField()
    is_bot = models.BooleanField(default=False)
    person = models.ForeignKey("engagements.Person", null=True, on_delete=models.SET_NULL, related_name="+")
    assignment = models.ForeignKey(
        "engagements.Assignment", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor = models.ForeignKey("vendors.Vendor", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "email"], name="unique_contribution")]
        indexes = [
            models.Index(fields=["organization", "email"]),
            models.Index(fields=["repository", "status"]),
            models.Index(fields=["organization", "vendor", "authored_date"]),
            # The metric engine reads a period of every vendor's work (an incremental recompute).
            models.Index(fields=["organization", "authored_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> on {self.commit_id}"


class SurvivingLines(EvidenceModel):
    """Lines of a file at the tip, by who wrote them (see survival.py): knowledge concentration."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="surviving_lines")
    path = models.TextField()
    email = models.CharField(max_length=255)
    lines = models.PositiveIntegerField()

    vendor_q = None  # who holds the codebase (the exit risk) is the client's concern

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "path", "email"], name="unique_surviving_lines")
        ]
        indexes = [models.Index(fields=["repository", "email"])]


class LineOwnership(EvidenceModel):
    """The live lines of a file at ``Repository.lines_tip`` and who wrote each (survival.py).

    The state the next line-level pass continues from, so it walks only new commits: the
    CRC-32 of each line and the index of its author in ``emails``, as two little-endian
    arrays of 32-bit integers.
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="line_ownership")
    path = models.TextField()
    emails = models.JSONField(default=list)
    digests = models.BinaryField()
    owners = models.BinaryField()

    vendor_q = None  # internal state behind SurvivingLines; never shown as such

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "path"], name="unique_line_ownership")]


class BugFix(EvidenceModel):
    """A commit that fixes a bug, and what tracing its deleted lines back found (szz.py)."""

    class Reason(models.TextChoices):
        LINKED = "linked", "Linked to a bug"
        KEY = "key", "Names a bug"
        CONVENTIONAL = "conventional", "Conventional Commits fix"

    commit = models.OneToOneField(Commit, on_delete=models.CASCADE, related_name="bug_fix")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    # The bug it fixes, when the tracker says so; its report date bounds what can have caused it.
    bug = models.ForeignKey("evidence.WorkItem", null=True, on_delete=models.SET_NULL, related_name="+")
    reported_at = models.DateTimeField(null=True)
    traced_lines = models.PositiveIntegerField(default=0)
    # Why nothing was traced (a root commit, too big to be a fix): shown, never guessed around.
    note = models.CharField(max_length=200, blank=True)

    vendor_q = None  # read through the values it feeds (provenance), never listed to vendors

    def __str__(self) -> str:
        return f"fix {self.commit_id} ({self.reason})"


class BugIntroduction(EvidenceModel):
    """A commit that wrote lines a bug fix deleted or changed: blamed by tracing the fix."""

    fix = models.ForeignKey(BugFix, on_delete=models.CASCADE, related_name="introductions")
    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="+")
    # The introducing commit's authored date: the engine reads a period's rows by it.
    authored_date = models.DateField()
    lines = models.PositiveIntegerField()

    vendor_q = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fix", "commit"], name="unique_bug_introduction")]
        indexes = [models.Index(fields=["organization", "authored_date"])]


class CoverageReport(EvidenceModel):
    """CI's coverage report of a commit's build, read for the lines the commit added
    (coverage.py). Only the counts are kept; a new upload for the commit replaces them."""

    class Format(models.TextChoices):
        LCOV = "lcov", "LCOV"
        COBERTURA = "cobertura", "Cobertura XML"

    commit = models.OneToOneField(Commit, on_delete=models.CASCADE, related_name="coverage_report")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=10, choices=Format.choices)
    file_name = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(auto_now=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The whole report: lines that can run, and those that ran.
    lines_valid = models.PositiveIntegerField()
    lines_covered = models.PositiveIntegerField()
    # The commit's new code: lines it added that the report lists, and those with hits.
    new_lines = models.PositiveIntegerField()
    new_covered = models.PositiveIntegerField()

    # A vendor sees the reports of commits its staff wrote.
    vendor_q = staticmethod(
        lambda vendor_id: models.Q(
            commit_id__in=Contribution.objects.filter(vendor_id=vendor_id).values("commit_id")
        )
    )

    def __str__(self) -> str:
        return f"coverage of {self.commit_id}: {self.new_covered}/{self.new_lines} new lines"
