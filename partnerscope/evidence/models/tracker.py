"""Evidence from GitHub, GitLab and Jira: pull requests, reviews, work items, deployments, incidents.

A ``Connection`` is one project on one system for one engagement, with its token (encrypted,
see connectors/secrets.py) and its cursor. Each evidence row has a natural key within its
connection, so a re-sync updates in place. Rows made by a person carry the actor's username on
that system; attribution (attribution.py) fills person, assignment and vendor from the dated
roster, exactly as for commits, and can rerun from the roster alone.
"""

from __future__ import annotations

from django.db import models

from partnerscope.evidence.models.git import EvidenceModel, RunBase
from partnerscope.orgs.scoping import TenantModel

DEFAULT_PRODUCTION = "prod\nproduction\nprod-*\nproduction-*\nlive"
DEFAULT_INCIDENT_LABELS = "incident\nsev1\nsev2\nsev-1\nsev-2\noutage\nIncident"
DEFAULT_HOTFIX = "hotfix/*\nhotfix-*\nhotfix"
# Statuses and labels that say a work item waits for the client (Jira Service Management's
# "Waiting for customer", a label on GitHub or GitLab).
# Labels that say a bug was found in production: it escaped testing (defect escape rate).
DEFAULT_FOUND_IN_PRODUCTION = (
    "found-in:prod*\nfound-in::prod*\nfound-in-prod*\nfound in prod*\nenv:prod*\nenv::prod*\n"
    "environment:prod*\nproduction\nprod\nproduction bug\nproduction-bug\nescaped\nescaped defect\n"
    "escaped-defect"
)
DEFAULT_CLIENT_WAIT = (
    "waiting for customer\nwaiting for client\nwaiting on customer\nwaiting on client\nawaiting customer\n"
    "awaiting client\nwaiting-for-client\nawaiting-client\nwaiting-for-customer\nblocked by client"
)


class Connection(TenantModel):
    """A GitHub repository, GitLab project or Jira project that feeds one engagement."""

    class Kind(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        JIRA = "jira", "Jira"

    class Status(models.TextChoices):
        NEW = "new", "Not synced yet"
        SYNCING = "syncing", "Syncing"
        OK = "ok", "Up to date"
        FAILED = "failed", "Last sync failed"

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="connections"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    base_url = models.URLField(
        blank=True,
        help_text="Empty for github.com and gitlab.com; your server's address when self-hosted "
        "(GitHub Enterprise: https://host; Jira: https://yours.atlassian.net)",
    )
    project = models.CharField(
        max_length=200,
        help_text="owner/repository (GitHub), group/project (GitLab) or the project key (Jira)",
    )
    # Fernet token (connectors/secrets.py); never shown again, never logged.
    token_encrypted = models.TextField(blank=True, editable=False)
    token_hint = models.CharField(max_length=12, blank=True, editable=False)
    account_email = models.CharField(
        max_length=255,
        blank=True,
        help_text="Jira Cloud only: the e-mail of the account the API token belongs to (Jira Server and "
        "Data Center use the token alone)",
    )
    production_environments = models.TextField(
        default=DEFAULT_PRODUCTION,
        blank=True,
        help_text="Environment names that are production, one glob a line",
    )
    incident_labels = models.TextField(
        default=DEFAULT_INCIDENT_LABELS,
        blank=True,
        help_text="Labels or issue types that make an issue an incident, one glob a line",
    )
    hotfix_refs = models.TextField(
        default=DEFAULT_HOTFIX, blank=True, help_text="Branch names of hotfix deployments, one glob a line"
    )
    client_wait_states = models.TextField(
        default=DEFAULT_CLIENT_WAIT,
        blank=True,
        help_text="Statuses or labels that mean a work item waits for the client, one glob a line",
    )
    found_in_production_labels = models.TextField(
        default=DEFAULT_FOUND_IN_PRODUCTION,
        blank=True,
        help_text="Labels that mean a bug was found in production (it escaped testing), one glob a line",
    )
    allow_private_host = models.BooleanField(
        default=False,
        help_text="Allow a server on a private or loopback address (owners only; off unless the "
        "tracker runs inside your network)",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    # {kind of record: the newest "updated" time fully read, or an ETag map}.
    cursor = models.JSONField(default=dict, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(engagement__vendor_id=vendor_id))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "engagement", "name"], name="unique_connection_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def glob_list(self, field: str) -> list[str]:
        return [line.strip() for line in getattr(self, field).splitlines() if line.strip()]

    @property
    def identity_kind(self) -> str:
        return self.kind  # Identity kinds github/gitlab/jira name usernames on these systems


class ConnectorRun(RunBase):
    """One sync of a connection."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests made")
    records = models.PositiveIntegerField(default=0, help_text="Records stored or updated")

    vendor_q = staticmethod(lambda vendor_id: models.Q(connection__engagement__vendor_id=vendor_id))

    class Meta(RunBase.Meta):
        pass

    def __str__(self) -> str:
        return f"sync of {self.connection} ({self.status})"

    @property
    def progress_unit(self) -> str:
        return "records"


class Attributed(EvidenceModel):
    """A record made by someone on a tracker: attributed to the vendor of its actor at its date."""

    class Status(models.TextChoices):
        PENDING = "", "Not attributed yet"
        VENDOR = "vendor", "Vendor"
        INHOUSE = "inhouse", "In-house"
        UNATTRIBUTED = "unattributed", "Unattributed"
        BOT = "bot", "Bot"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    # The actor's username on the system (lower case), its identity kind, and the event's date.
    actor = models.CharField(max_length=255, blank=True)
    actor_kind = models.CharField(max_length=10)
    acted_on = models.DateField()
    is_bot = models.BooleanField(default=False)
    person = models.ForeignKey("engagements.Person", null=True, on_delete=models.SET_NULL, related_name="+")
    assignment = models.ForeignKey(
        "engagements.Assignment", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor = models.ForeignKey("vendors.Vendor", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        abstract = True


class PullRequest(Attributed):
    """A GitHub pull request or GitLab merge request; attributed to its author at creation."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        MERGED = "merged", "Merged"

    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    state = models.CharField(max_length=8, choices=State.choices)
    draft = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Ready for review: when it left draft (its creation if it never was one).
    ready_at = models.DateTimeField(null=True)
    first_commit_at = models.DateTimeField(null=True)
    merged_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    merge_commit_sha = models.CharField(max_length=64, blank=True)
    additions = models.PositiveIntegerField(default=0)
    deletions = models.PositiveIntegerField(default=0)
    changed_files = models.PositiveIntegerField(default=0)
    commit_count = models.PositiveIntegerField(default=0)
    labels = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["connection", "number"], name="unique_pull_request")]
        indexes = [
            models.Index(fields=["organization", "vendor", "created_at"]),
            models.Index(fields=["connection", "merge_commit_sha"]),
            # The metric engine reads the PRs merged or closed in a period (incremental recompute)
            # and the PRs behind the merge commits a deployment shipped.
            models.Index(fields=["organization", "merged_at"]),
            models.Index(fields=["organization", "closed_at"]),
            models.Index(fields=["organization", "merge_commit_sha"]),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title[:60]}"


class PullRequestCommit(EvidenceModel):
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)
    authored_at = models.DateTimeField()
    author_email = models.CharField(max_length=255, blank=True)
    author_login = models.CharField(max_length=255, blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(pull_request__vendor_id=vendor_id))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pull_request", "sha"], name="unique_pr_commit")]


class Review(Attributed):
    """A review verdict on a pull request by someone other than its author."""

    class State(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        COMMENTED = "commented", "Commented"
        DISMISSED = "dismissed", "Dismissed"

    # Indexed with the time below (a PR's first response is its reviews' first by time).
    pull_request = models.ForeignKey(
        PullRequest, on_delete=models.CASCADE, related_name="reviews", db_index=False
    )
    external_id = models.CharField(max_length=100)
    state = models.CharField(max_length=20, choices=State.choices)
    # A conversation comment by someone other than the author: it counts as a first response.
    is_comment = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    comment_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pull_request", "external_id"], name="unique_review")]
        # The metric engine takes each PR's first review or comment by someone else (pickup,
        # review time, client wait): in time order, the first that qualifies ends the lookup,
        # instead of reading and sorting all of the PR's reviews (7.9 s against 15.5 s for
        # 400,000 PRs on PostgreSQL).
        indexes = [models.Index(fields=["pull_request", "submitted_at"])]


class WorkItem(Attributed):
    """An issue or work item; attributed to its assignee (else its reporter) at its last change."""

    # Types that make an item a bug, any case: defect density and escape rate count them, and
    # bug-fix tracing (szz.py) looks for the commits that fix them.
    BUG_TYPES = ("bug", "defect")

    @staticmethod
    def bug_q() -> models.Q:
        condition = models.Q()
        for name in WorkItem.BUG_TYPES:
            condition |= models.Q(item_type__iexact=name)
        return condition

    class Category(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    key = models.CharField(max_length=100)
    external_id = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    item_type = models.CharField(max_length=60, blank=True)
    priority = models.CharField(max_length=60, blank=True)
    # The tracker's own status name ("In review"); ``status`` is the attribution, as everywhere.
    workflow_status = models.CharField(max_length=60)
    category = models.CharField(max_length=12, choices=Category.choices)
    resolution = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True)
    assignee = models.CharField(max_length=255, blank=True)
    reporter = models.CharField(max_length=255, blank=True)
    sprint = models.CharField(max_length=200, blank=True)
    # The releases it is planned for or shipped in (Jira's fixVersions), by name.
    fix_versions = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=list, blank=True)
    # Pull request numbers and commit shas the item links to.
    links = models.JSONField(default=list, blank=True)
    is_incident = models.BooleanField(default=False)
    # A label of the connection's "found in production" list: for a bug, an escaped defect.
    # Derived when stored (and again when the list changes) so the engine counts it in SQL.
    found_in_production = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="unique_work_item")]
        indexes = [
            models.Index(fields=["organization", "vendor", "created_at"]),
            # The metric engine reads the items reported or resolved in a period.
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["organization", "resolved_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title[:60]}"


class Sprint(EvidenceModel):
    """A sprint of a tracker (a Jira Software sprint, or a GitLab milestone with dates), as its
    issues describe it: what predictability measures items against."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sprints")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=12, blank=True, help_text="future, active or closed")
    started_at = models.DateTimeField(null=True)
    ends_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(connection__engagement__vendor_id=vendor_id))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="unique_sprint")]

    def __str__(self) -> str:
        return self.name

    @property
    def done_at(self):
        """When it ended: completed, or its planned end for a sprint closed without a date."""
        return self.completed_at or self.ends_at


class WorkItemSprint(EvidenceModel):
    """A sprint a work item is in now (the changelog says when it joined or left one)."""

    work_item = models.ForeignKey("WorkItem", on_delete=models.CASCADE, related_name="sprint_links")
    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="item_links")

    vendor_q = staticmethod(lambda vendor_id: models.Q(work_item__vendor_id=vendor_id))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["work_item", "sprint"], name="unique_work_item_sprint")
        ]


class WorkItemEvent(EvidenceModel):
    """One change of a work item's status, assignee, labels or sprints (the changelog; a sprint
    change holds sprint ids, comma-separated)."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="events")
    external_id = models.CharField(max_length=100)
    at = models.DateTimeField()
    field = models.CharField(max_length=30)
    from_value = models.CharField(max_length=255, blank=True)
    to_value = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=255, blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(work_item__vendor_id=vendor_id))

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work_item", "external_id"], name="unique_work_item_event")
        ]


class Deployment(Attributed):
    """A deployment (GitHub deployment, Actions run, GitLab deployment or pipeline)."""

    class Kind(models.TextChoices):
        DEPLOYMENT = "deployment", "Deployment"
        WORKFLOW_RUN = "workflow_run", "Workflow run"
        PIPELINE = "pipeline", "Pipeline"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"
        RUNNING = "running", "Running"
        CANCELLED = "cancelled", "Cancelled"
        OTHER = "other", "Other"

    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    environment = models.CharField(max_length=200, blank=True)
    is_production = models.BooleanField(default=False)
    is_hotfix = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    sha = models.CharField(max_length=64, blank=True)
    ref = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()
    url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "external_id"], name="unique_deployment")
        ]
        indexes = [models.Index(fields=["organization", "is_production", "created_at"])]

    def __str__(self) -> str:
        return f"{self.environment or self.name} {self.sha[:10]} ({self.outcome})"


class DeploymentCommit(EvidenceModel):
    """A commit a production deployment shipped: those since the previous successful one."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)

    vendor_q = staticmethod(lambda vendor_id: models.Q(deployment__vendor_id=vendor_id))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "sha"], name="unique_deployment_commit")]
        indexes = [models.Index(fields=["organization", "sha"])]


class Incident(Attributed):
    """Something that went wrong in production: an incident issue, a revert, a hotfix deployment.

    Linked to the production deployment that most likely caused it (the last successful one
    before it started), which the change failure rate counts.
    """

    class Source(models.TextChoices):
        ISSUE = "issue", "Incident issue"
        REVERT = "revert", "Revert"
        HOTFIX = "hotfix", "Hotfix deployment"

    source = models.CharField(max_length=8, choices=Source.choices)
    key = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True)
    work_item = models.ForeignKey(WorkItem, null=True, on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(Deployment, null=True, on_delete=models.CASCADE, related_name="+")
    caused_by = models.ForeignKey(Deployment, null=True, on_delete=models.SET_NULL, related_name="incidents")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "source", "key"], name="unique_incident")
        ]
        indexes = [models.Index(fields=["organization", "vendor", "started_at"])]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.title[:60]}"
