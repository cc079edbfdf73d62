"""Audit events: every service that changes state records one, in the same transaction."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.db import models

from partnerscope.orgs.models import AuditEvent, Organization

# Never copied into the audit log.
SECRET_FIELDS = {"password", "key_hash", "token_hash", "token_encrypted"}


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def snapshot(obj: models.Model | None) -> dict[str, Any] | None:
    """The record's editable fields as JSON values; related records by their readable name."""
    if obj is None:
        return None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name in {
            "id",
            "organization",
            "uid",
            "created_at",
            "updated_at",
        }:
            continue
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, field.name)
            data[field.name] = str(related) if related is not None else None
        else:
            data[field.name] = _json_value(getattr(obj, field.attname))
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(str(related) for related in getattr(obj, field.name).all())
    return data


def record(
    *,
    actor,
    organization: Organization,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    vendor_uid: str = "",
    remote_addr: str | None = None,
) -> AuditEvent:
    object_repr = str(obj)[:200] if obj is not None else ""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_uid=getattr(obj, "uid", "") or "",
        object_repr=object_repr,
        vendor_uid=vendor_uid,
        before=before,
        after=after,
        remote_addr=remote_addr,
    )
