"""The one access-scoping mechanism.

Every tenant model uses ``TenantQuerySet``; every page, API handler, export and task reads
through ``Model.objects.visible_to(membership)``. It filters by the membership's organization
and, for a vendor membership, by the model's ``vendor_q(vendor_id)``. Whatever is not clearly
allowed is empty: no membership, an inactive user, a vendor membership without a vendor, or a
model that does not say how vendors see it (``vendor_q`` is None) all give no rows.
"""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from partnerscope.orgs.models import Membership


UID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


# Standard base32 spelled in UID_ALPHABET (which leaves out the look-alikes l, o, 0 and 1).
_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", UID_ALPHABET)


def new_uid() -> str:
    """An opaque, URL-safe public id: 16 characters of base32 (80 bits of the system's random
    source)."""
    return new_uids(1)[0]


def new_uids(count: int) -> list[str]:
    """``count`` uids from one read of the random source and one encoding: the metrics engine
    makes a hundred thousand at a time (10 random bytes are exactly 16 base32 characters)."""
    text = base64.b32encode(secrets.token_bytes(10 * count)).decode().translate(_FROM_BASE32)
    return [text[i : i + 16] for i in range(0, 16 * count, 16)]


class TenantQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership | None) -> TenantQuerySet:
        if membership is None or not membership.is_usable():
            return self.none()
        qs = self.filter(organization_id=membership.organization_id)
        if membership.is_vendor:
            vendor_q = getattr(self.model, "vendor_q", None)
            if membership.vendor_id is None or vendor_q is None:
                return self.none()
            qs = qs.filter(vendor_q(membership.vendor_id))
        return qs

    def get_visible_or_404(self, membership: Membership | None, **lookup):
        """The single-object lookup: outside the actor's scope answers 404, never 403."""
        try:
            return self.visible_to(membership).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404(f"No {self.model._meta.verbose_name} matches the given query.") from None


class TenantModel(models.Model):
    """Base of every tenant-owned table: a direct organization key and an opaque public id."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )
    uid = models.CharField(max_length=16, unique=True, default=new_uid, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    # How a vendor membership sees this model: a function of the vendor id returning a Q, or
    # None for client-only data. Subclasses must set it explicitly.
    vendor_q = None

    class Meta:
        abstract = True
