from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from partnerscope.orgs.roles import ROLE_PERMS, SCOPE_PERMS, Role, TokenScope
from partnerscope.orgs.scoping import TenantModel

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
)


class Organization(models.Model):
    """The tenant root: one client company."""

    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )

    vendor_q = None  # memberships are client-admin data

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org"),
            models.CheckConstraint(
                condition=(
                    models.Q(role="vendor", vendor__isnull=False)
                    | (~models.Q(role="vendor") & models.Q(vendor__isnull=True))
                ),
                name="vendor_role_iff_vendor",
            ),
        ]

    # Set by API authentication: the token's scope caps the role's permissions.
    token_scope: str | None = None

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    @property
    def is_vendor(self) -> bool:
        return self.role == Role.VENDOR

    def is_usable(self) -> bool:
        """Null edge cases are denied: an inactive user, or a vendor role without a vendor."""
        if not self.user.is_active or self.role not in ROLE_PERMS:
            return False
        return not (self.is_vendor and self.vendor_id is None)

    def has_perm(self, perm: str) -> bool:
        if not self.is_usable():
            return False
        allowed = perm in ROLE_PERMS[self.role]
        if self.token_scope is not None:
            allowed = allowed and perm in SCOPE_PERMS.get(self.token_scope, frozenset())
        return allowed


def hash_secret(secret: str) -> str:
    # Secrets here are 256-bit random strings, so a fast hash is enough (no dictionary to try).
    return hashlib.sha256(secret.encode()).hexdigest()


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    vendor_q = None

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ApiToken(TenantModel):
    """An organization-bound API token. The secret is shown once; only its hash is kept."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    prefix = models.CharField(max_length=24, help_text="The first characters, to recognise a token")
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    vendor_q = None

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(TenantModel):
    """Who changed what, when, with the record's fields before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_uid = models.CharField(max_length=16, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The vendor record this change belongs to, so a vendor's history can be listed with its
    # sub-records (skills, rates, contacts...).
    vendor_uid = models.CharField(max_length=16, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    vendor_q = None  # history shows internal notes and rates: client-only

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "object_type", "object_uid"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    @property
    def verb(self) -> str:
        return self.action.rsplit(".", 1)[-1]

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for the fields that differ."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class LoginFailure(models.Model):
    """Failed sign-ins per (username, IP), for throttling without permanent lockout."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
