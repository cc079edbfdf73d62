"""State changes of engagements and the roster (people, identities, dated assignments)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.orgs.records import delete_record, save_record
from partnerscope.vendors.services import overlapping


def _period(a) -> str:
    return f"{a.valid_from.isoformat()} to {a.valid_to.isoformat() if a.valid_to else 'open-ended'}"


def _assignment_rules(a: Assignment) -> None:
    errors: dict[str, str] = {}
    if a.engagement_id is not None:
        engagement = Engagement.objects.get(pk=a.engagement_id)
        if a.vendor_id is not None and engagement.vendor_id != a.vendor_id:
            errors["vendor"] = (
                f"The engagement {engagement} is with {engagement.vendor}; an assignment to it must "
                f"name that vendor (or none, for in-house staff)."
            )
        if a.valid_from < engagement.start_date:
            errors["valid_from"] = f"Starts before the engagement does ({engagement.start_date.isoformat()})."
        elif engagement.end_date and (a.valid_to is None or a.valid_to > engagement.end_date):
            errors["valid_to"] = f"Must end by the engagement's end date ({engagement.end_date.isoformat()})."
    if a.requested_on is not None and a.requested_on > a.valid_from:
        errors["requested_on"] = (
            "Must be on or before the day the assignment starts: the request comes first."
        )
    if errors:
        raise ValidationError(errors)

    others = list(
        overlapping(
            Assignment.objects.filter(person_id=a.person_id).exclude(pk=a.pk),
            a.valid_from,
            a.valid_to,
        ).select_related("vendor", "engagement")
    )
    for other in others:
        if other.vendor_id != a.vendor_id:
            employer = other.vendor.name if other.vendor_id else "in-house"
            raise ValidationError(
                {
                    "valid_from": (
                        f"Contradicts the assignment {_period(other)} with {employer}: a person works "
                        f"for one employer at a time, so each commit has one vendor. End that "
                        f"assignment first."
                    )
                }
            )
        if other.engagement_id == a.engagement_id:
            where = f"the engagement {other.engagement}" if other.engagement_id else "no engagement"
            raise ValidationError({"valid_from": f"Overlaps the assignment {_period(other)} on {where}."})
    # Allocation: the busiest day inside the new period must stay within 100 %. Allocation only
    # changes at period starts, so checking each start inside the period is enough.
    checkpoints = {a.valid_from} | {o.valid_from for o in others if o.valid_from > a.valid_from}
    for day in sorted(checkpoints):
        total = a.allocation_pct + sum(
            o.allocation_pct
            for o in others
            if o.valid_from <= day and (o.valid_to is None or o.valid_to >= day)
        )
        if total > 100:
            raise ValidationError(
                {
                    "allocation_pct": f"On {day.isoformat()} this person would be allocated {total} % (over 100 %)."
                }
            )


def _identity_rules(identity: Identity) -> None:
    identity.value = identity.value.strip()
    if identity.kind in (Identity.Kind.EMAIL, Identity.Kind.GITHUB, Identity.Kind.GITLAB):
        # E-mail addresses and GitHub/GitLab usernames are case-insensitive.
        identity.value = identity.value.lower()
    if identity.kind == Identity.Kind.EMAIL and "@" not in identity.value:
        raise ValidationError({"value": "An e-mail identity needs an address such as ana@example.com."})


def _engagement_rules(engagement: Engagement) -> None:
    if engagement.pk is None:
        return
    # Existing assignments must stay consistent with a changed vendor or dates.
    if engagement.assignments.exclude(vendor_id=engagement.vendor_id).exclude(vendor__isnull=True).exists():
        raise ValidationError(
            {
                "vendor": "People are assigned to this engagement under its current vendor; end or move them first."
            }
        )
    early = engagement.assignments.filter(valid_from__lt=engagement.start_date).first()
    if early is not None:
        raise ValidationError(
            {
                "start_date": f"{early.person} is assigned from {early.valid_from.isoformat()}, before this start date."
            }
        )
    if engagement.end_date:
        late = engagement.assignments.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=engagement.end_date)
        ).first()
        if late is not None:
            raise ValidationError(
                {"end_date": f"{late.person}'s assignment runs past this end date; end it first."}
            )


RULES = {Assignment: _assignment_rules, Identity: _identity_rules, Engagement: _engagement_rules}


def _reattribute(organization_id: int, person_ids, values=()) -> None:
    """Evidence follows the roster: contributions of the people and identity values touched
    are attributed again, in the same transaction as the roster change."""
    from partnerscope.evidence.attribution import reattribute_actors, reattribute_person

    for person_id in dict.fromkeys(person_ids):
        reattribute_person(organization_id, person_id, list(values))
        reattribute_actors(organization_id, person_id, list(values))
        values = ()


def save_roster_record(*, membership, instance, remote_addr=None, required_skills=None):
    """Create or update an engagement, person, identity or assignment. ``required_skills``
    (an engagement's, when given) replaces the engagement's required skills."""
    if isinstance(instance, Identity):
        _identity_rules(instance)  # normalise before uniqueness is validated
    many = {"required_skills": list(required_skills)} if required_skills is not None else None
    with transaction.atomic():
        old = None if instance._state.adding else type(instance).objects.filter(pk=instance.pk).first()
        old_skills = (
            set(old.required_skills.values_list("id", flat=True))
            if many is not None and isinstance(old, Engagement)
            else set()
        )
        saved = save_record(
            membership=membership, instance=instance, rules=RULES.get(type(instance)), remote_addr=remote_addr,
            many=many,
        )  # fmt: skip
        if many is not None and {skill.id for skill in many["required_skills"]} != old_skills:
            from partnerscope.metrics.dirty import mark_engagement

            mark_engagement(saved)  # skill coverage, in every month of the engagement
        if isinstance(saved, (Identity, Assignment)):
            people = [saved.person_id] + ([old.person_id] if old is not None else [])
            values = (
                [saved.value] + ([old.value] if old is not None else [])
                if isinstance(saved, Identity)
                else []
            )
            _reattribute(saved.organization_id, people, values)
        if isinstance(saved, Assignment):
            _mark_capacity(saved, old)
    return saved


def _mark_capacity(*assignments) -> None:
    from partnerscope.metrics.dirty import mark_assignment

    for assignment in assignments:
        if assignment is not None:
            mark_assignment(assignment)


def delete_roster_record(*, membership, instance, remote_addr=None) -> None:
    with transaction.atomic():
        if isinstance(instance, Person):
            # Its identities go with it; their values find the contributions to re-attribute.
            people, values = [None], list(instance.identities.values_list("value", flat=True))
            _mark_capacity(*instance.assignments.all())  # they go with the person
        elif isinstance(instance, (Identity, Assignment)):
            people = [instance.person_id]
            values = [instance.value] if isinstance(instance, Identity) else []
        else:
            people, values = [], []
        delete_record(membership=membership, instance=instance, remote_addr=remote_addr)
        _reattribute(instance.organization_id, people, values)
        if isinstance(instance, Assignment):
            _mark_capacity(instance)
