"""State changes of vendors and their profile records (skills, rates, contacts...)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from partnerscope.orgs.records import delete_record, save_record
from partnerscope.vendors.models import Contact, RateCardLine, Skill, VendorEmailDomain


def overlapping(qs, valid_from, valid_to):
    """Rows of ``qs`` whose [valid_from, valid_to] period (open end = None) meets the given one."""
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    return qs


def _rate_line_rules(line: RateCardLine) -> None:
    clash = (
        overlapping(
            RateCardLine.objects.filter(
                vendor_id=line.vendor_id,
                role__iexact=line.role,
                seniority=line.seniority,
                currency=line.currency,
                unit=line.unit,
            ).exclude(pk=line.pk),
            line.valid_from,
            line.valid_to,
        )
        .order_by("valid_from")
        .first()
    )
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else "open-ended"
        raise ValidationError(
            {
                "valid_from": (
                    f"Overlaps the existing rate for {clash.role} ({clash.get_seniority_display()}), "
                    f"valid {clash.valid_from.isoformat()} to {until}: end that line first."
                )
            }
        )


def _domain_rules(domain: VendorEmailDomain) -> None:
    domain.domain = domain.domain.strip().lower()


def _contact_rules(contact: Contact) -> None:
    # One primary contact per vendor: marking a new one demotes the previous.
    if contact.is_primary:
        Contact.objects.filter(vendor_id=contact.vendor_id, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False
        )


RULES = {RateCardLine: _rate_line_rules, VendorEmailDomain: _domain_rules, Contact: _contact_rules}


def save_vendor_record(*, membership, instance, remote_addr=None):
    """Create or update a vendor or one of its profile records."""
    if isinstance(instance, VendorEmailDomain):
        instance.domain = (instance.domain or "").strip().lower()
    with transaction.atomic():
        old_paths = None
        if isinstance(instance, Skill) and not instance._state.adding:
            old_paths = Skill.objects.filter(pk=instance.pk).values_list("paths", flat=True).first()
        saved = save_record(
            membership=membership, instance=instance, rules=RULES.get(type(instance)), remote_addr=remote_addr
        )
        if old_paths is not None and old_paths != saved.paths:
            from partnerscope.metrics.dirty import mark_engagement

            # Skill coverage from the evidence matches changed files against these globs.
            for engagement in saved.required_by.all():
                mark_engagement(engagement)
    return saved


def delete_vendor_record(*, membership, instance, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)
