"""Attribution: each contribution gets the person, assignment and vendor of its date.

Set-based SQL over stored contributions, so a roster change re-attributes without reading any
source again. A contribution's person comes from an e-mail identity (or, failing that, a git
author-name identity); its assignment is the one covering the commit's date; the vendor is that
assignment's (none = in-house). No covering assignment means "unattributed": never guessed.
"""

from __future__ import annotations

from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from partnerscope.engagements.models import Assignment, Identity
from partnerscope.evidence.models import Contribution
from partnerscope.metrics.dirty import mark_rows


def attribute(contributions) -> int:
    """Re-attribute the given contributions queryset. Returns the number of rows updated."""
    email_person = Identity.objects.filter(
        organization_id=OuterRef("organization_id"), kind=Identity.Kind.EMAIL, value=OuterRef("email")
    ).values("person_id")[:1]
    name_person = Identity.objects.filter(
        organization_id=OuterRef("organization_id"), kind=Identity.Kind.GIT_NAME, value=OuterRef("name")
    ).values("person_id")[:1]
    covering = (
        Assignment.objects.filter(person_id=OuterRef("person_id"), valid_from__lte=OuterRef("authored_date"))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("authored_date")))
        .order_by("-valid_from", "-id")
        .values("id")[:1]
    )
    vendor_of = Assignment.objects.filter(id=OuterRef("assignment_id")).values("vendor_id")[:1]
    # The months these commits count in wait for a metrics recompute. Marked first: the rows
    # may be chosen by their status (only the pending ones), which the updates below change.
    mark_rows(contributions)
    # One statement per column: each reads what the previous one wrote (within one UPDATE,
    # SQL reads the old values).
    contributions.update(person_id=Coalesce(Subquery(email_person), Subquery(name_person)))
    contributions.update(assignment_id=Subquery(covering))
    contributions.update(vendor_id=Subquery(vendor_of))
    updated = contributions.update(
        status=Case(
            When(is_bot=True, then=Value(Contribution.Status.BOT)),
            When(assignment_id__isnull=True, then=Value(Contribution.Status.UNATTRIBUTED)),
            When(vendor_id__isnull=True, then=Value(Contribution.Status.INHOUSE)),
            default=Value(Contribution.Status.VENDOR),
        )
    )
    return updated


def attribute_repository(repository, *, only_pending: bool = False) -> int:
    rows = Contribution.objects.filter(repository=repository)
    if only_pending:
        rows = rows.filter(status=Contribution.Status.PENDING)
    return attribute(rows)


def reattribute_person(organization_id: int, person_id: int | None, values: list[str] = ()) -> int:
    """After a roster change: the contributions of this person, and of any identity value given
    (an identity just added or removed), get attributed again."""
    condition = Q(email__in=[v.lower() for v in values]) | Q(name__in=list(values))
    if person_id is not None:
        condition |= Q(person_id=person_id)
    # Freeze the rows first: the updates change person_id, which the condition reads.
    ids = list(
        Contribution.objects.filter(condition, organization_id=organization_id).values_list("id", flat=True)
    )
    updated = 0
    for start in range(0, len(ids), 5000):
        updated += attribute(Contribution.objects.filter(id__in=ids[start : start + 5000]))
    return updated


def attribute_actors(rows) -> int:
    """The same for tracker records (pull requests, reviews, work items, deployments,
    incidents): the actor's username identity of the record's system, on the record's date."""
    model = rows.model
    person = Identity.objects.filter(
        organization_id=OuterRef("organization_id"), kind=OuterRef("actor_kind"), value=OuterRef("actor")
    ).values("person_id")[:1]
    covering = (
        Assignment.objects.filter(person_id=OuterRef("person_id"), valid_from__lte=OuterRef("acted_on"))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("acted_on")))
        .order_by("-valid_from", "-id")
        .values("id")[:1]
    )
    vendor_of = Assignment.objects.filter(id=OuterRef("assignment_id")).values("vendor_id")[:1]
    mark_rows(rows)  # first, as above: the rows may be chosen by what the updates change
    rows.update(person_id=Subquery(person))
    rows.update(assignment_id=Subquery(covering))
    rows.update(vendor_id=Subquery(vendor_of))
    updated = rows.update(
        status=Case(
            When(is_bot=True, then=Value(model.Status.BOT)),
            When(assignment_id__isnull=True, then=Value(model.Status.UNATTRIBUTED)),
            When(vendor_id__isnull=True, then=Value(model.Status.INHOUSE)),
            default=Value(model.Status.VENDOR),
        )
    )
    return updated


def tracker_models():
    from partnerscope.evidence.models import Deployment, Incident, PullRequest, Review, WorkItem

    return (PullRequest, Review, WorkItem, Deployment, Incident)


def reattribute_actors(organization_id: int, person_id: int | None, values: list[str] = ()) -> int:
    """After a roster change, the tracker records of this person or of these usernames."""
    condition = Q(actor__in=[v.lower() for v in values] + list(values))
    if person_id is not None:
        condition |= Q(person_id=person_id)
    updated = 0
    for model in tracker_models():
        ids = list(
            model.objects.filter(condition, organization_id=organization_id).values_list("id", flat=True)
        )
        for start in range(0, len(ids), 5000):
            updated += attribute_actors(model.objects.filter(id__in=ids[start : start + 5000]))
    return updated
