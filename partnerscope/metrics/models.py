"""Stored metric values with their provenance, scorecard templates, scores, disputes, alerts.

Pages and the API read these rows; only the engine (engine.py) writes values and scores.
A cell is (engagement, vendor, period): ``engagement_key`` 0 is "all engagements of the
vendor" and ``vendor_key`` 0 is the in-house baseline. The keys are plain integers so the
unique constraints hold on every database (a NULL never equals another NULL); the nullable
foreign keys beside them are for joins and for the vendor scoping.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from partnerscope.evidence.models import RunBase
from partnerscope.orgs.scoping import TenantModel, TenantQuerySet

PERIOD_KINDS = [("month", "Month"), ("quarter", "Quarter")]
DIRECTIONS = [(1, "Higher is better"), (-1, "Lower is better")]

DEFAULT_BANDS = [
    {"name": "Excellent", "min": 85},
    {"name": "Good", "min": 70},
    {"name": "Watch", "min": 50},
    {"name": "At risk", "min": 0},
]


# The engine's bulk-written tables (values, cell measures, scores) reference their owners
# without database constraints: their rows are derived from evidence that references them,
# written by the engine alone, and deleted with their owners by Django's cascade (on_delete is
# Django's, not the database's). See MetricValue.
DERIVED = {"db_constraint": False}


class MetricsRow(models.Model):
    """Tenant-owned rows without a public id (there are many and no page names them)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    objects = TenantQuerySet.as_manager()
    vendor_q = None

    class Meta:
        abstract = True


class KpiDefinition(TenantModel):
    """A custom KPI: a formula over named measures. Each edit is a new version; stored values
    name the version they used, so an old value can always be explained."""

    class Kind(models.TextChoices):
        RATIO = "ratio", "Ratio (formula)"
        RATE = "rate", "Rate with a 95 % interval (numerator ÷ denominator)"

    key = models.SlugField(max_length=60, help_text="Short name used in formulas and exports")
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RATIO)
    formula = models.CharField(max_length=500, blank=True, help_text="e.g. reverted_prs / merged_prs")
    numerator = models.CharField(max_length=60, blank=True, help_text="Rates: the measure counted")
    denominator = models.CharField(max_length=60, blank=True, help_text="Rates: the measure it is out of")
    sample_measure = models.CharField(
        max_length=60, help_text="The measure whose count is the sample size (e.g. merged_prs)"
    )
    min_sample = models.PositiveIntegerField(default=5, validators=[MaxValueValidator(100000)])
    direction = models.SmallIntegerField(choices=DIRECTIONS, default=1)
    unit = models.CharField(max_length=30, blank=True)
    created_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")

    vendor_q = staticmethod(lambda vendor_id: models.Q())  # definitions are open to vendors

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key", "version"], name="unique_kpi_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def kpi_key(self) -> str:
        from partnerscope.metrics.kpis import CUSTOM_PREFIX

        return f"{CUSTOM_PREFIX}{self.key}"


class MetricValue(TenantModel):
    class Status(models.TextChoices):
        OK = "ok", "OK"
        INSUFFICIENT = "insufficient", "Not enough data"
        NO_DATA = "no_data", "No data"

    # A recompute writes a hundred thousand values and every index costs each write: no index
    # of their own for the keys the unique constraint starts with (organization) or that only
    # a rare cascade reads (engagement, vendor: pages read by the keys instead). Nor database
    # foreign-key constraints (DERIVED): PostgreSQL checked three per value when the recompute
    # committed, 1.7 s of a full recompute; deleting an organization, engagement or vendor
    # still deletes its values, through Django's cascade. On PostgreSQL the table's pages are
    # filled to 60 % (migration 0006), so that a recompute's update fits beside the old row and
    # touches no index.
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", editable=False, db_index=False,
        **DERIVED,
    )  # fmt: skip
    kpi = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        **DERIVED,
    )
    engagement_key = models.BigIntegerField()
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, on_delete=models.CASCADE, related_name="+", db_index=False, **DERIVED
    )
    vendor_key = models.BigIntegerField()
    period_kind = models.CharField(max_length=8, choices=PERIOD_KINDS)
    period_start = models.DateField()
    value = models.FloatField(null=True)
    sample = models.PositiveIntegerField(default=0)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    p75 = models.FloatField(null=True)
    p90 = models.FloatField(null=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    # Provenance: the window is the period; the digest identifies the set of records counted.
    digest = models.CharField(max_length=16)
    computed_at = models.DateTimeField()
    # Set when a dispute is upheld: an annotation, or the value left out of the score.
    excluded = models.BooleanField(default=False)
    annotation = models.TextField(blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kpi", "engagement_key", "vendor_key", "period_kind", "period_start"],
                name="unique_metric_value",
            )
        ]
        indexes = [models.Index(fields=["organization", "vendor_key", "period_kind", "period_start"])]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_start}"


class CellMeasures(MetricsRow):
    """The measures of one cell, kept so custom KPIs and provenance checks need no re-scan."""

    # The unique constraint starts with the organization: no index of its own to maintain.
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False, **DERIVED
    )
    engagement_key = models.BigIntegerField()
    vendor_key = models.BigIntegerField()
    period_kind = models.CharField(max_length=8, choices=PERIOD_KINDS)
    period_start = models.DateField()
    measures = models.JSONField(default=dict)
    digests = models.JSONField(default=dict)
    # One engagement's month cells only: each measure's additive parts [value, n, id sum,
    # id hash] and its durations (stats.pack_chunks). An incremental recompute adds quarters
    # and vendors' engagements up from these instead of reading their evidence again; None
    # means "written before these were kept" and makes it read the whole quarter.
    parts = models.JSONField(null=True, blank=True)
    samples = models.BinaryField(null=True, blank=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_key=vendor_id))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "engagement_key", "vendor_key", "period_kind", "period_start"],
                name="unique_cell_measures",
            )
        ]


class DirtyCell(MetricsRow):
    """Evidence of one kind changed for this engagement in this month: its cells wait for a
    recompute, which re-reads only the measures that kind of evidence feeds."""

    class Source(models.TextChoices):
        GIT = "git", "Commits"
        PRS = "prs", "Pull requests and reviews"
        ITEMS = "items", "Work items"
        DEPLOYMENTS = "deployments", "Deployments and CI runs"
        INCIDENTS = "incidents", "Incidents"
        ROSTER = "roster", "Roster"
        ALL = "all", "Everything"

    engagement_id = models.BigIntegerField()
    month = models.DateField()
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ALL)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "engagement_id", "month", "source"], name="unique_dirty_cell_source"
            )
        ]


class MetricsRun(RunBase):
    """A recompute of metric values: everything, or the dirty cells."""

    full = models.BooleanField(default=False)
    cells = models.PositiveIntegerField(default=0)

    vendor_q = None

    class Meta(RunBase.Meta):
        pass

    def __str__(self) -> str:
        return f"{'full' if self.full else 'incremental'} recompute ({self.status})"

    progress_unit = "steps"


class ScorecardTemplate(TenantModel):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # [{"name": "Excellent", "min": 85}, ...] highest first; the top band includes 100.
    bands = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)

    vendor_q = staticmethod(lambda vendor_id: models.Q())  # vendors see how they are scored

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_template_name")]

    def __str__(self) -> str:
        return self.name


class Criterion(TenantModel):
    template = models.ForeignKey(ScorecardTemplate, on_delete=models.CASCADE, related_name="criteria")
    kpi = models.CharField(max_length=80, help_text="The KPI this criterion scores")
    label = models.CharField(max_length=120, blank=True)
    direction = models.SmallIntegerField(choices=DIRECTIONS)
    target = models.FloatField(help_text="At or beyond the target: 100 points")
    threshold = models.FloatField(help_text="At or beyond the threshold: 0 points, and an alert")
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    position = models.PositiveSmallIntegerField(default=0)

    vendor_q = staticmethod(lambda vendor_id: models.Q())

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label or self.kpi


class Score(MetricsRow):
    # As for values: the unique constraint starts with the template, and engagement and vendor
    # are read by their keys (only a cascade reads the foreign keys); no database constraints.
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", **DERIVED
    )
    template = models.ForeignKey(
        ScorecardTemplate, on_delete=models.CASCADE, related_name="scores", db_index=False, **DERIVED
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        **DERIVED,
    )
    engagement_key = models.BigIntegerField()
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, on_delete=models.CASCADE, related_name="+", db_index=False, **DERIVED
    )
    vendor_key = models.BigIntegerField()
    period_kind = models.CharField(max_length=8, choices=PERIOD_KINDS)
    period_start = models.DateField()
    score = models.FloatField(null=True)
    standing = models.CharField(max_length=40, blank=True)
    standing_rank = models.PositiveSmallIntegerField(null=True)
    weight_with_data = models.PositiveSmallIntegerField(default=0)
    sample = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template", "engagement_key", "vendor_key", "period_kind", "period_start"],
                name="unique_score",
            )
        ]


class Dispute(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        REJECTED = "rejected", "Rejected"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        ANNOTATE = "annotate", "Value annotated"
        EXCLUDE = "exclude", "Value left out of the score"

    value = models.ForeignKey(MetricValue, on_delete=models.CASCADE, related_name="disputes")
    opened_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True)

    vendor_q = staticmethod(lambda vendor_id: models.Q(value__vendor_id=vendor_id))

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dispute of {self.value.kpi} {self.value.period_start} ({self.status})"


class Alert(TenantModel):
    class Kind(models.TextChoices):
        STANDING_DROP = "standing_drop", "Standing dropped"
        THRESHOLD = "threshold", "KPI crossed its threshold"

    kind = models.CharField(max_length=14, choices=Kind.choices)
    vendor = models.ForeignKey("vendors.Vendor", null=True, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(ScorecardTemplate, null=True, on_delete=models.SET_NULL, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PERIOD_KINDS)
    period_start = models.DateField()
    title = models.CharField(max_length=300)
    message = models.TextField()
    # One alert per event, however often the cell is recomputed.
    dedupe_key = models.CharField(max_length=200)
    read_at = models.DateTimeField(null=True)

    vendor_q = None  # client-only

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "dedupe_key"], name="unique_alert")]

    def __str__(self) -> str:
        return self.title


class WebhookEndpoint(TenantModel):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    # Fernet-encrypted signing secret (evidence/connectors/secrets.py); shown once at creation.
    secret_encrypted = models.TextField(editable=False)
    active = models.BooleanField(default=True)
    allow_private_host = models.BooleanField(
        default=False, help_text="Allow a receiver on a private or loopback address (owners only)"
    )

    vendor_q = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(MetricsRow):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10)  # email | webhook
    target = models.CharField(max_length=500)
    webhook = models.ForeignKey(
        WebhookEndpoint, null=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
