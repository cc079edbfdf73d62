"""Saving and deleting tenant records: the one path every create, edit and delete takes.

Checks the actor's permission, pins the record to the actor's organization, refuses references
to records of another organization (with the same words as a missing record), validates the
model, runs the caller's domain rules, then saves and writes the audit event in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models, transaction

from partnerscope.orgs import audit
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm
from partnerscope.orgs.scoping import TenantModel


def vendor_uid_of(instance: models.Model) -> str:
    """The vendor a record belongs to, for the vendor's history page."""
    from partnerscope.vendors.models import Vendor

    if isinstance(instance, Vendor):
        return instance.uid
    vendor = getattr(instance, "vendor", None) if hasattr(instance, "vendor_id") else None
    return vendor.uid if vendor is not None else ""


def check_references(instance: TenantModel, organization_id: int) -> None:
    """Every tenant record this one points to must belong to the same organization."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.name == "organization":
            continue
        target = field.related_model
        if not issubclass(target, TenantModel):
            continue
        related_id = getattr(instance, field.attname)
        if related_id is None:
            continue
        if not target.objects.filter(pk=related_id, organization_id=organization_id).exists():
            errors[field.name] = f"Select a valid {target._meta.verbose_name}: that one does not exist."
    if errors:
        raise ValidationError(errors)


def _action(instance: models.Model, verb: str) -> str:
    return f"partnerscope.{instance._meta.model_name}.{verb}"


def _check_many(many: dict[str, list], organization_id: int) -> None:
    """Records chosen for a many-to-many field belong to the same organization, as for keys."""
    errors = {}
    for name, values in many.items():
        if any(getattr(value, "organization_id", organization_id) != organization_id for value in values):
            errors[name] = "Select valid choices: one of them does not exist."
    if errors:
        raise ValidationError(errors)


def save_record(
    *,
    membership,
    instance: TenantModel,
    rules: Callable[[TenantModel], None] | None = None,
    remote_addr: str | None = None,
    many: dict[str, list] | None = None,
) -> TenantModel:
    """``many``: many-to-many fields to set ({name: records}), part of the same audit event."""
    check_perm(membership, Perm.EDIT)
    many = many or {}
    if instance._state.adding:
        instance.organization_id = membership.organization_id
        before = None
    else:
        if instance.organization_id != membership.organization_id:
            raise ValidationError("That record does not exist.")
        before = audit.snapshot(type(instance).objects.get(pk=instance.pk))
    check_references(instance, membership.organization_id)
    _check_many(many, membership.organization_id)
    instance.full_clean()
    with transaction.atomic():
        if rules is not None:
            # Inside the transaction, so checks against other rows see a consistent state.
            rules(instance)
        created = instance._state.adding
        instance.save()
        for name, values in many.items():
            getattr(instance, name).set(values)
        after = audit.snapshot(instance)
        if before == after:
            return instance
        audit.record(
            actor=membership.user,
            organization=membership.organization,
            action=_action(instance, "created" if created else "updated"),
            obj=instance,
            before=before,
            after=after,
            vendor_uid=vendor_uid_of(instance),
            remote_addr=remote_addr,
        )
    return instance


def delete_record(*, membership, instance: TenantModel, remote_addr: str | None = None) -> None:
    check_perm(membership, Perm.EDIT)
    if instance.organization_id != membership.organization_id:
        raise ValidationError("That record does not exist.")
    before = audit.snapshot(instance)
    vendor_uid = vendor_uid_of(instance)
    with transaction.atomic():
        try:
            instance.delete()
        except models.ProtectedError as exc:
            names = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
            raise ValidationError(
                f"{instance} cannot be deleted while it has {', '.join(names)}; remove those first."
            ) from None
        audit.record(
            actor=membership.user,
            organization=membership.organization,
            action=_action(instance, "deleted"),
            obj=instance,
            before=before,
            after=None,
            vendor_uid=vendor_uid,
            remote_addr=remote_addr,
        )
