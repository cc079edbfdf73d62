"""Helpers shared by the handlers: audience, pagination, references by uid, writes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from ninja import Schema

from partnerscope.api.errors import field_error
from partnerscope.api.schemas import PageParams, internal


def out_schema(request, internal_schema: type[Schema], public_schema: type[Schema]) -> type[Schema]:
    return internal_schema if internal(request) else public_schema


def render(request, obj, internal_schema: type[Schema], public_schema: type[Schema]) -> Schema:
    return out_schema(request, internal_schema, public_schema).from_orm(obj)


def paginate(qs: models.QuerySet, page: PageParams) -> dict[str, Any]:
    """One page in a deterministic order: the model's ordering, then the primary key.

    The items are the model objects themselves: the operation's page schema validates each one
    once, so item resolvers only ever see models. (Building schemas here had the page validate
    them a second time, with every resolver handed an already-built schema.)
    """
    qs = qs.order_by(*qs.model._meta.ordering, "pk")
    count = qs.count()
    return {"count": count, "items": list(qs[page.offset : page.offset + page.limit])}


def resolve(model: type[models.Model], membership, uid: str | None, field: str):
    """A referenced record, looked up only among those the caller may see.

    Another tenant's uid and a made-up one give the same 422, naming the body field.
    """
    if uid is None:
        return None
    obj = model.objects.visible_to(membership).filter(uid=uid).first()
    if obj is None:
        raise field_error(field, f"Select a valid {model._meta.verbose_name}: that one does not exist.")
    return obj


def assign(instance: models.Model, data: dict[str, Any], refs: dict[str, type[models.Model]], membership):
    """Copy payload fields onto the instance, resolving uid references in ``refs``."""
    for name, value in data.items():
        if name in refs:
            setattr(instance, name, resolve(refs[name], membership, value, name))
        else:
            setattr(instance, name, value)
    return instance


def remote_addr(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def current_q(prefix: str = "") -> models.Q:
    """Dated rows in force today: started, and not ended before today."""
    today = timezone.localdate()
    return models.Q(**{f"{prefix}valid_from__lte": today}) & (
        models.Q(**{f"{prefix}valid_to__isnull": True}) | models.Q(**{f"{prefix}valid_to__gte": today})
    )
