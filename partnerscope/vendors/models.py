from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from partnerscope.orgs.scoping import TenantModel

# Certifications expiring within this many days are flagged "expiring soon".
CERT_EXPIRY_WARNING_DAYS = 60

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as EUR or USD.")
domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a domain such as example.com (lowercase, no @ or scheme).",
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/Warsaw.")


class Seniority(models.TextChoices):
    JUNIOR = "junior", "Junior"
    MID = "mid", "Mid"
    SENIOR = "senior", "Senior"
    LEAD = "lead", "Lead"
    PRINCIPAL = "principal", "Principal"


MAX_SKILL_GLOBS = 40


def skill_paths_validator(value: str) -> None:
    """A skill's globs: a few short lines, so matching every changed file against them stays cheap."""
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    if len(lines) > MAX_SKILL_GLOBS:
        raise ValidationError(f"At most {MAX_SKILL_GLOBS} globs; this has {len(lines)}.")
    for number, line in enumerate(lines, start=1):
        if len(line) > 200:
            raise ValidationError(f"Line {number} is longer than 200 characters.")
        if line.strip("*?/") == "":
            raise ValidationError(f"Line {number} ({line!r}) would match every file.")


class Skill(TenantModel):
    """The organization's skill taxonomy (seeded with common skills, editable)."""

    name = models.CharField(max_length=80)
    category = models.CharField(max_length=40, blank=True)
    paths = models.TextField(
        blank=True,
        validators=[skill_paths_validator],
        help_text="Files whose change shows the skill, one glob a line (e.g. *.py, android/*); "
        "empty: shown only by the roster",
    )

    vendor_q = staticmethod(lambda vendor_id: models.Q())  # the taxonomy itself is not secret

    class Meta:
        ordering = ["category", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_skill_name")]

    def __str__(self) -> str:
        return self.name

    def glob_list(self) -> list[str]:
        return [line.strip() for line in self.paths.splitlines() if line.strip()]


class Vendor(TenantModel):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ONBOARDING = "onboarding", "Onboarding"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        OFFBOARDED = "offboarded", "Offboarded"

    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    website = models.URLField(blank=True)
    headquarters_country = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Client-only; never shown to vendor users.")

    vendor_q = staticmethod(lambda vendor_id: models.Q(id=vendor_id))

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_vendor_name")]

    def __str__(self) -> str:
        return self.name


class VendorChild(TenantModel):
    """A record that belongs to one vendor; vendor users see their own vendor's."""

    vendor_q = staticmethod(lambda vendor_id: models.Q(vendor_id=vendor_id))

    class Meta:
        abstract = True


class VendorEmailDomain(VendorChild):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, validators=[domain_validator])

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"], name="unique_vendor_domain")
        ]

    def __str__(self) -> str:
        return self.domain


class VendorLocation(VendorChild):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="locations")
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=80)
    timezone = models.CharField(
        max_length=64, validators=[validate_timezone], help_text="IANA name, e.g. Europe/Warsaw"
    )
    headcount = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["country", "city"]

    def __str__(self) -> str:
        return f"{self.city}, {self.country}"

    def utc_offset_hours(self) -> float:
        offset = datetime.datetime.now(zoneinfo.ZoneInfo(self.timezone)).utcoffset()
        return offset.total_seconds() / 3600 if offset is not None else 0.0


class VendorSkill(VendorChild):
    class Level(models.IntegerChoices):
        FOUNDATIONAL = 1, "1 · Foundational"
        WORKING = 2, "2 · Working"
        PRACTITIONER = 3, "3 · Practitioner"
        ADVANCED = 4, "4 · Advanced"
        EXPERT = 5, "5 · Expert"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="vendor_skills")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.PRACTITIONER)
    headcount = models.PositiveIntegerField(default=0, help_text="People with this skill available")

    class Meta:
        ordering = ["skill__name"]
        constraints = [models.UniqueConstraint(fields=["vendor", "skill"], name="unique_vendor_skill")]

    def __str__(self) -> str:
        return f"{self.skill} (level {self.level})"


class Certification(VendorChild):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="certifications")
    name = models.CharField(
        max_length=120, help_text="e.g. ISO/IEC 27001, SOC 2 Type II, AWS Advanced Partner"
    )
    issuer = models.CharField(max_length=120, blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text="Certificate number or link")
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, help_text="Leave empty if it does not expire")

    class Meta:
        ordering = ["expires_on", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.issued_on and self.expires_on and self.expires_on < self.issued_on:
            raise ValidationError({"expires_on": "The expiry date is before the issue date."})

    @property
    def status(self) -> str:
        if self.expires_on is None:
            return "valid"
        today = timezone.localdate()
        if self.expires_on < today:
            return "expired"
        if self.expires_on <= today + datetime.timedelta(days=CERT_EXPIRY_WARNING_DAYS):
            return "expiring"
        return "valid"


class CaseStudy(VendorChild):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="case_studies")
    title = models.CharField(max_length=200)
    client_industry = models.CharField(max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1970)])
    summary = models.TextField(blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["-year", "title"]
        verbose_name_plural = "case studies"

    def __str__(self) -> str:
        return self.title


class Contact(VendorChild):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=120, blank=True, help_text="e.g. Account manager, Delivery lead")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


class RateCardLine(VendorChild):
    class Unit(models.TextChoices):
        HOUR = "hour", "per hour"
        DAY = "day", "per day"
        MONTH = "month", "per month"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="rate_lines")
    role = models.CharField(max_length=80, help_text="e.g. Backend engineer, QA engineer")
    seniority = models.CharField(max_length=16, choices=Seniority.choices)
    currency = models.CharField(max_length=3, validators=[currency_validator])
    rate = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.HOUR)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Leave empty for open-ended")

    class Meta:
        ordering = ["role", "seniority", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.role} {self.get_seniority_display()}: {self.rate} {self.currency} {self.get_unit_display()}"

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return self.valid_from <= today and (self.valid_to is None or self.valid_to >= today)
