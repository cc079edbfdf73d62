"""Sourcing and planning: requests for a partner with their ranking and decision log, the
hire-vs-outsource cost model, and capacity plans solved as an optimisation.

All of it is client-only (``vendor_q = None``): a vendor membership sees none of these rows,
and every page and API operation answers 404 to vendor users.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from partnerscope.engagements.models import Engagement, Person
from partnerscope.evidence.models.git import RunBase
from partnerscope.orgs.scoping import TenantModel
from partnerscope.vendors.models import (
    Seniority,
    Skill,
    Vendor,
    VendorSkill,
    currency_validator,
    validate_timezone,
)


class Criterion(models.TextChoices):
    SKILL_COVERAGE = "skill_coverage", "Skill coverage"
    PAST_PERFORMANCE = "past_performance", "Past performance"
    COST = "cost", "Cost (rate card)"
    CAPACITY = "capacity", "Capacity"
    TIMEZONE_OVERLAP = "timezone_overlap", "Time-zone overlap"
    CERTIFICATIONS = "certifications", "Certifications"
    ATTRITION = "attrition", "Attrition"


# +1: more is better; -1: less is better.
CRITERION_DIRECTIONS = {
    Criterion.SKILL_COVERAGE: 1,
    Criterion.PAST_PERFORMANCE: 1,
    Criterion.COST: -1,
    Criterion.CAPACITY: 1,
    Criterion.TIMEZONE_OVERLAP: 1,
    Criterion.CERTIFICATIONS: 1,
    Criterion.ATTRITION: -1,
}

DEFAULT_WEIGHTS = {
    Criterion.SKILL_COVERAGE: 25,
    Criterion.PAST_PERFORMANCE: 20,
    Criterion.COST: 20,
    Criterion.CAPACITY: 10,
    Criterion.TIMEZONE_OVERLAP: 10,
    Criterion.CERTIFICATIONS: 5,
    Criterion.ATTRITION: 10,
}


class Method(models.TextChoices):
    TOPSIS = "topsis", "TOPSIS (vector normalisation)"
    VIKOR = "vikor", "VIKOR"
    PROMETHEE_II = "promethee_ii", "PROMETHEE II"


class WeightSource(models.TextChoices):
    DIRECT = "direct", "Set directly"
    AHP = "ahp", "Pairwise comparisons (AHP)"


# Times of day are stored as "HH:MM" text: they travel as they are through forms, JSON and the
# audit log, and compare correctly as text.
clock_validator = RegexValidator(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "Enter a time as HH:MM, e.g. 09:00.")


def clock(value: str) -> datetime.time:
    hours, minutes = value.split(":")
    return datetime.time(int(hours), int(minutes))


def _default_weights() -> dict:
    return {str(k): v for k, v in DEFAULT_WEIGHTS.items()}


def _default_mix() -> dict:
    return {Seniority.MID.value: 50, Seniority.SENIOR.value: 50}


class SourcingRequest(TenantModel):
    """A need for an outside partner: skills, dates, budget, constraints; then its ranking."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    start_date = models.DateField()
    duration_months = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    seniority_mix = models.JSONField(
        default=_default_mix, help_text="Share of the headcount per seniority, in %, summing to 100"
    )
    budget_ceiling = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="For the whole duration, in the request's currency; empty for no ceiling",
    )
    currency = models.CharField(max_length=3, validators=[currency_validator], default="EUR")
    exchange_rates = models.TextField(
        blank=True,
        help_text="One line per other currency on the rate cards, e.g. “USD 0.92” (1 USD = 0.92 in "
        "the request's currency)",
    )
    required_overlap_hours = models.DecimalField(
        "required time-zone overlap (hours)",
        max_digits=4,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    client_timezone = models.CharField(
        "our time zone", max_length=64, default="UTC", validators=[validate_timezone]
    )
    workday_start = models.CharField(
        "our working day starts",
        max_length=5,
        default="09:00",
        validators=[clock_validator],
        help_text="HH:MM",
    )
    workday_end = models.CharField(
        "our working day ends", max_length=5, default="17:00", validators=[clock_validator], help_text="HH:MM"
    )
    required_certifications = models.TextField(
        blank=True, help_text="One per line, e.g. “ISO 27001”; valid at the start date"
    )
    engagement_model = models.CharField(
        "preferred engagement model", max_length=24, choices=Engagement.Model.choices, blank=True
    )
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.TOPSIS)
    weights = models.JSONField(default=_default_weights, help_text="Criterion → weight in %")
    weight_source = models.CharField(max_length=8, choices=WeightSource.choices, default=WeightSource.DIRECT)
    pairwise = models.JSONField(
        default=dict, blank=True, help_text="AHP judgements: “criterion_a>criterion_b” → Saaty value"
    )
    chosen_vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    vendor_q = None  # client-only

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(workday_end__gt=models.F("workday_start")), name="sourcing_workday_order"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.workday_start and self.workday_end and self.workday_end <= self.workday_start:
            raise ValidationError({"workday_end": "The working day must end after it starts."})

    @property
    def end_date(self) -> datetime.date:
        month = self.start_date.month - 1 + self.duration_months
        year = self.start_date.year + month // 12
        return datetime.date(year, month % 12 + 1, 1) - datetime.timedelta(days=1)

    @property
    def total_headcount(self) -> int:
        return sum(need.headcount for need in self.skills.all())

    def certification_list(self) -> list[str]:
        return [line.strip() for line in self.required_certifications.splitlines() if line.strip()]


class SkillNeed(TenantModel):
    """One skill a request needs: minimum level and headcount; optional skills only count in
    the ranking, required ones are a gate."""

    request = models.ForeignKey(SourcingRequest, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    min_level = models.PositiveSmallIntegerField(
        "minimum level", choices=VendorSkill.Level.choices, default=VendorSkill.Level.PRACTITIONER
    )
    headcount = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    required = models.BooleanField(default=True, help_text="A gate: vendors without it are left out")

    vendor_q = None

    class Meta:
        ordering = ["-required", "skill__name"]
        constraints = [models.UniqueConstraint(fields=["request", "skill"], name="unique_request_skill")]

    def __str__(self) -> str:
        return f"{self.headcount} × {self.skill} (level ≥ {self.min_level})"


class Evaluation(TenantModel):
    """One ranking of a request's candidates as it was computed and shown: the gates, the
    criteria matrix, every intermediate table and the sensitivity. Immutable once made."""

    request = models.ForeignKey(SourcingRequest, on_delete=models.CASCADE, related_name="evaluations")
    method = models.CharField(max_length=16, choices=Method.choices)
    weights = models.JSONField(help_text="Criterion → weight in % as used")
    weight_source = models.CharField(max_length=8, choices=WeightSource.choices)
    ahp = models.JSONField(null=True, blank=True, help_text="λmax, CI, CR and the derived weights")
    result = models.JSONField(help_text="Gates, criteria matrix, intermediate tables, ranking, sensitivity")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    vendor_q = None

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} ranking of {self.request}"

    @property
    def ranking(self) -> list[dict]:
        return self.result.get("ranking", [])


class Decision(TenantModel):
    """The decision log: who shortlisted, removed or chose which vendor, when, with the ranking
    they saw (a copy, so later changes to vendors or weights cannot rewrite it)."""

    class Action(models.TextChoices):
        SHORTLISTED = "shortlisted", "Shortlisted"
        REMOVED = "removed", "Removed from the shortlist"
        CHOSEN = "chosen", "Chosen"

    request = models.ForeignKey(SourcingRequest, on_delete=models.CASCADE, related_name="decisions")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vendor_name = models.CharField(max_length=200)
    action = models.CharField(max_length=12, choices=Action.choices)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snapshot = models.JSONField(help_text="The ranking the actor saw")

    vendor_q = None

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.vendor_name}"


class VendorCapacity(TenantModel):
    """What the client knows about a vendor's ability to staff up: people on the bench now,
    how long it takes to add more, how fast a team may grow. Headcount per skill is on the
    vendor's skills (``VendorSkill.headcount``)."""

    vendor = models.OneToOneField(Vendor, on_delete=models.CASCADE, related_name="capacity")
    bench_fte = models.DecimalField(
        "bench (FTE)",
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="People free to start at once",
    )
    lead_time_months = models.PositiveSmallIntegerField(
        "ramp-up lead time (months)",
        default=1,
        validators=[MaxValueValidator(24)],
        help_text="Months before people beyond the bench can start",
    )
    max_growth_fte_per_month = models.DecimalField(
        "maximum growth (FTE per month)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Empty: no limit beyond the headcount per skill",
    )
    notes = models.TextField(blank=True)

    vendor_q = None

    class Meta:
        ordering = ["vendor__name"]
        verbose_name_plural = "vendor capacities"

    def __str__(self) -> str:
        return f"capacity of {self.vendor}"


class PersonSkill(TenantModel):
    """A person's skill. Skill coverage counts the skills of the people assigned to an
    engagement; capacity planning counts in-house people's, at the share of their time the skill
    can take (the roster says when they are in-house and at what allocation)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    share_pct = models.PositiveSmallIntegerField(
        "share of their time (%)",
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="For in-house people: the share capacity planning counts for this skill",
    )

    vendor_q = None

    class Meta:
        ordering = ["person__name", "skill__name"]
        constraints = [models.UniqueConstraint(fields=["person", "skill"], name="unique_person_skill")]

    def __str__(self) -> str:
        return f"{self.person}: {self.skill} ({self.share_pct} %)"


class CostScenario(TenantModel):
    """A saved hire-vs-outsource comparison: its inputs and the Monte Carlo summary."""

    name = models.CharField(max_length=200)
    role = models.CharField(max_length=120, blank=True, help_text="The role or skill compared")
    inputs = models.JSONField(help_text="Input name → value or [low, likely, high]")
    n_draws = models.PositiveIntegerField(
        "Monte Carlo draws", default=10000, validators=[MinValueValidator(100), MaxValueValidator(200000)]
    )
    seed = models.PositiveIntegerField(default=0)
    distribution = models.CharField(
        max_length=12,
        choices=[("triangular", "Triangular"), ("pert", "PERT (beta)")],
        default="triangular",
        help_text="How a range (low, likely, high) is drawn",
    )
    result = models.JSONField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    vendor_q = None

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CapacityPlan(TenantModel):
    """Demand by skill and month against in-house and vendor supply, solved as a MILP.

    A scenario is a plan derived from another (``scenario_of``) with its demand scaled; plans
    sit side by side on the comparison page. The solved plan is stored in ``PlanLine`` rows.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Not solved yet"
        SOLVING = "solving", "Solving"
        SOLVED = "solved", "Solved"
        INFEASIBLE = "infeasible", "Infeasible"
        FAILED = "failed", "Failed"
        STALE = "stale", "Changed since solved"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    start_month = models.DateField(help_text="The first month of the plan (its first day)")
    months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    currency = models.CharField(max_length=3, validators=[currency_validator], default="EUR")
    exchange_rates = models.TextField(
        blank=True, help_text="One line per other currency on the rate cards, e.g. “USD 0.92”"
    )
    unmet_penalty = models.DecimalField(
        "penalty per unmet FTE-month",
        max_digits=12,
        decimal_places=2,
        default=30000,
        validators=[MinValueValidator(0)],
        help_text="What a month of missing capacity costs the business; unmet demand is shown, never hidden",
    )
    quality_floor = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(9)],
        help_text="Vendors whose standing is below this band get no more work than they have now",
    )
    mip_gap = models.DecimalField(
        "optimality gap",
        max_digits=6,
        decimal_places=5,
        default=Decimal("0.001"),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.5"))],
    )
    time_limit_s = models.PositiveIntegerField(
        "time limit (seconds)", default=60, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    scenario_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="scenarios", editable=False
    )
    scenario_rule = models.CharField(max_length=200, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False)
    solver_status = models.CharField(max_length=60, blank=True, editable=False)
    gap = models.FloatField(null=True, blank=True, editable=False)
    objective = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, editable=False)
    total_cost = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, editable=False)
    unmet_fte_months = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    binding = models.JSONField(default=list, blank=True, editable=False)
    conflicts = models.JSONField(default=list, blank=True, editable=False)
    inputs = models.JSONField(
        default=dict, blank=True, editable=False, help_text="The supply and terms the solve used"
    )
    solved_at = models.DateTimeField(null=True, blank=True, editable=False)
    adopted_at = models.DateTimeField(null=True, blank=True, editable=False)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    vendor_q = None

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_month and self.start_month.day != 1:
            self.start_month = self.start_month.replace(day=1)

    def month_starts(self) -> list[datetime.date]:
        return [add_months(self.start_month, i) for i in range(self.months)]

    @property
    def is_adopted(self) -> bool:
        return self.adopted_at is not None


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


class DemandLine(TenantModel):
    plan = models.ForeignKey(CapacityPlan, on_delete=models.CASCADE, related_name="demand")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    fte = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(0)])

    vendor_q = None

    class Meta:
        ordering = ["skill__name", "month"]
        constraints = [models.UniqueConstraint(fields=["plan", "skill", "month"], name="unique_demand_cell")]

    def __str__(self) -> str:
        return f"{self.skill} {self.month:%Y-%m}: {self.fte}"


class PlanRun(RunBase):
    """One solve of a capacity plan, in the worker or the command line, with its progress."""

    plan = models.ForeignKey(CapacityPlan, on_delete=models.CASCADE, related_name="runs")

    vendor_q = None
    progress_unit = "steps"

    class Meta(RunBase.Meta):
        pass

    def __str__(self) -> str:
        return f"solve of {self.plan} ({self.status})"


class PlanLine(TenantModel):
    """One cell of a solved plan: FTE from a vendor or in-house for a skill and month, with its
    cost, or the demand left unmet."""

    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        INHOUSE = "inhouse", "In-house"
        UNMET = "unmet", "Unmet"

    plan = models.ForeignKey(CapacityPlan, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vendor_name = models.CharField(max_length=200, blank=True, help_text="Kept if the vendor is deleted")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    fte = models.DecimalField(max_digits=10, decimal_places=3)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    vendor_q = None

    class Meta:
        ordering = ["kind", "vendor__name", "skill__name", "month"]
        indexes = [models.Index(fields=["plan", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.skill} {self.month:%Y-%m}: {self.fte}"
