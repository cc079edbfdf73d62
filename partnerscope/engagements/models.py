from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from partnerscope.orgs.scoping import TenantModel
from partnerscope.vendors.models import Seniority, Skill, Vendor, currency_validator


class Engagement(TenantModel):
    """A contract or SOW between the client and one vendor."""

    class Model(models.TextChoices):
        FIXED_PRICE = "fixed_price", "Fixed price"
        TIME_AND_MATERIALS = "time_and_materials", "Time and materials"
        DEDICATED_TEAM = "dedicated_team", "Dedicated team"
        MANAGED_SERVICE = "managed_service", "Managed service"
        STAFF_AUGMENTATION = "staff_augmentation", "Staff augmentation"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        ENDED = "ended", "Ended"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="engagements")
    name = models.CharField(max_length=200)
    reference = models.CharField(max_length=60, blank=True, help_text="Contract or SOW number")
    model = models.CharField(max_length=24, choices=Model.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Leave empty for open-ended")
    budget = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, validators=[currency_validator], default="EUR")
    baseline_fte = models.DecimalField(
        "baseline FTE",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    flex_band_pct = models.PositiveSmallIntegerField(
        "flex band (± %)",
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="How far capacity may move around the baseline without renegotiation",
    )
    notice_period_days = models.PositiveIntegerField(default=30, validators=[MaxValueValidator(3650)])
    minimum_commitment = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Minimum spend committed over the contract, in the engagement currency",
    )
    description = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Client-only; never shown to vendor users.")
    required_skills = models.ManyToManyField(
        Skill,
        blank=True,
        related_name="required_by",
        help_text="What the team must cover; skill coverage measures the assigned people against it",
    )

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="engagement_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def flex_range(self) -> tuple[float, float] | None:
        if self.baseline_fte is None:
            return None
        base = float(self.baseline_fte)
        band = base * self.flex_band_pct / 100
        return (round(base - band, 2), round(base + band, 2))


class Person(TenantModel):
    """Someone whose work is evidence: in-house staff or a vendor's engineer.

    Which vendor a person works for is not a field: it is the dated roster (``Assignment``), so a
    person who moves from one vendor to another keeps one record and each date has one answer.
    """

    name = models.CharField(max_length=160)
    email = models.EmailField(blank=True, help_text="Main work address")
    title = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)

    # A vendor sees the people it has (or had) assigned, nobody else.
    vendor_q = staticmethod(
        lambda vendor_id: models.Q(id__in=Assignment.objects.filter(vendor_id=vendor_id).values("person_id"))
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name

    def assignment_on(self, day) -> Assignment | None:
        return (
            self.assignments.filter(valid_from__lte=day)
            .filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=day))
            .select_related("vendor", "engagement")
            .first()
        )


class Identity(TenantModel):
    """How a person appears in a source system: an e-mail, a git name, a host username."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        GIT_NAME = "git_name", "Git author name"
        GITHUB = "github", "GitHub username"
        GITLAB = "gitlab", "GitLab username"
        JIRA = "jira", "Jira account"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(
        max_length=254,
        help_text="The e-mail address, git author name or username as the system shows it; for Jira the "
        "account id (Cloud, e.g. 557058:f3a…) or the username (Server and Data Center)",
    )

    vendor_q = staticmethod(
        lambda vendor_id: models.Q(
            person_id__in=Assignment.objects.filter(vendor_id=vendor_id).values("person_id")
        )
    )

    class Meta:
        ordering = ["kind", "value"]
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "value"], name="unique_identity")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Assignment(TenantModel):
    """One line of the dated roster: who worked where, on what, from when to when.

    ``vendor`` empty means in-house staff. Rules (checked in the service): a person works for
    one employer at a time, is not assigned twice to the same engagement over the same days,
    is not allocated above 100 % on any day, and an engagement's assignments name its vendor.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="assignments")
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(max_length=80, blank=True, help_text="e.g. Backend engineer")
    seniority = models.CharField(max_length=16, choices=Seniority.choices, blank=True)
    rate = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, blank=True, validators=[currency_validator])
    allocation_pct = models.PositiveSmallIntegerField(
        "allocation (%)", default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Leave empty while it lasts")
    key_person = models.BooleanField(
        default=False, help_text="Named in the contract as key personnel (key-person retention counts them)"
    )
    requested_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day the client approved the staffing request this assignment fills (time to staff "
        "counts business days from it to the person's first merged change)",
    )

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="assignment_to_after_from",
            )
        ]
        indexes = [models.Index(fields=["organization", "person", "valid_from"])]

    def __str__(self) -> str:
        employer = self.vendor.name if self.vendor_id else "in-house"
        where = f" on {self.engagement}" if self.engagement_id else ""
        return f"{self.person} · {employer}{where} from {self.valid_from}"

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return self.valid_from <= today and (self.valid_to is None or self.valid_to >= today)
