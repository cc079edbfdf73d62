"""Skill coverage: an engagement's required skills against its people, per cell.

Two views of the same question (METRICS.md, "Skill coverage"):

* from the roster: a required skill is covered in a month when someone the vendor had assigned to
  the engagement that month has it (``PersonSkill``);
* from the evidence: a required skill with path globs (``Skill.paths``) is shown in a month when
  one of the vendor's commits to the engagement's repositories that month changed a matching
  file (excluded paths left out, as everywhere).

Counts are skill-months, so they add up: a quarter's coverage is the covered skill-months of its
months over the required ones, and the "all engagements" cell adds its engagements'. Required
skills are the engagement's current list (changing it marks every month of the engagement).
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import F

from partnerscope.engagements.models import Assignment, Engagement
from partnerscope.evidence.models import Contribution
from partnerscope.evidence.patterns import compile_globs
from partnerscope.metrics.measures import (
    ATTRIBUTED,
    CellAggregate,
    Scope,
    _vkey,
    aggregate_of,
    assigned_months,
)
from partnerscope.metrics.periods import month_start
from partnerscope.vendors.models import Skill

SKILL_MEASURES = ("required_skills", "rostered_skills", "path_skills", "exercised_skills")


def _required(organization_id: int, scope: Scope) -> dict[int, list[Skill]]:
    through = Engagement.required_skills.through.objects.filter(engagement__organization_id=organization_id)
    if scope.engagement_ids is not None:
        through = through.filter(engagement_id__in=scope.engagement_ids)
    required = defaultdict(list)
    for row in through.select_related("skill"):
        required[row.engagement_id].append(row.skill)
    return required


def skill_cells(organization_id: int, scope: Scope) -> tuple[dict[str, dict], dict[str, dict]]:
    """({measure: cells} for SKILL_MEASURES, {measure: {cell: record ids}}): the ids are the
    skills required, the assignments of the people who hold one, and for each skill shown by
    the evidence the first commit that showed it."""
    from partnerscope.sourcing.models import PersonSkill

    required = _required(organization_id, scope)
    if not required:
        return {}, {}
    records: dict[str, dict] = {name: defaultdict(list) for name in SKILL_MEASURES}
    covered: dict[tuple, set[int]] = defaultdict(set)
    shown: dict[tuple, dict[int, int]] = defaultdict(dict)

    assignments = Assignment.objects.filter(organization_id=organization_id, engagement_id__in=list(required))
    rows = list(
        assignments.values_list("id", "person_id", "engagement_id", "vendor_id", "valid_from", "valid_to")
    )
    held = defaultdict(set)
    for person_id, skill_id in PersonSkill.objects.filter(
        organization_id=organization_id, person_id__in={row[1] for row in rows}
    ).values_list("person_id", "skill_id"):
        held[person_id].add(skill_id)
    today = datetime.date.today()
    for assignment_id, person, eng, vendor, valid_from, valid_to in rows:
        wanted = {skill.id for skill in required[eng]} & held[person]
        for month, _ in assigned_months(valid_from, valid_to, scope, today):
            key = (eng, vendor or 0, month)
            covered.setdefault(key, set())
            if wanted:
                covered[key] |= wanted
                records["rostered_skills"][key].append(assignment_id)

    # The evidence: one row per changed file of each counted commit of the engagements whose
    # required skills have globs; a (cell, skill) found once needs no more matching.
    patterns = {
        eng: [
            (skill.id, compile_globs(skill.glob_list(), anywhere=True))
            for skill in skills
            if skill.glob_list()
        ]
        for eng, skills in required.items()
    }
    with_paths = [eng for eng, skills in patterns.items() if skills]
    if with_paths:
        changes = (
            Contribution.objects.filter(
                organization_id=organization_id, status__in=ATTRIBUTED, is_bot=False, commit__parent_count__lte=1,
                repository__engagement_id__in=with_paths, commit__files__excluded=False,
            )
            .annotate(eng=F("repository__engagement_id"), vkey=_vkey())
        )  # fmt: skip
        if scope.start:
            changes = changes.filter(authored_date__gte=scope.start)
        if scope.end:
            changes = changes.filter(authored_date__lt=scope.end)
        matched: dict[tuple[int, str], list[int]] = {}
        for eng, vkey, day, commit_id, path in changes.values_list(
            "eng", "vkey", "authored_date", "commit_id", "commit__files__path"
        ).order_by("commit_id"):
            key = (eng, vkey, month_start(day))
            found = shown[key]
            if len(found) == len(patterns[eng]):
                continue
            skills = matched.get((eng, path))
            if skills is None:
                skills = matched[(eng, path)] = [sid for sid, pattern in patterns[eng] if pattern.match(path)]
            for skill_id in skills:
                found.setdefault(skill_id, commit_id)  # rows come by commit: the first one stays
    for key, found in shown.items():
        if found:
            records["exercised_skills"][key].extend(found.values())

    cells: dict[str, dict] = {name: {} for name in SKILL_MEASURES}
    for key in set(covered) | {key for key, found in shown.items() if found}:
        eng = key[0]
        skill_ids = [skill.id for skill in required[eng]]
        path_ids = [sid for sid, _ in patterns[eng]]
        records["required_skills"][key] = skill_ids
        records["path_skills"][key] = path_ids
        cells["required_skills"][key] = CellAggregate(float(len(skill_ids)), len(skill_ids), 0, 0)
        cells["path_skills"][key] = CellAggregate(float(len(path_ids)), len(path_ids), 0, 0)
        cells["rostered_skills"][key] = aggregate_of(
            records["rostered_skills"].get(key, []), len(covered.get(key, ()))
        )
        cells["exercised_skills"][key] = aggregate_of(
            records["exercised_skills"].get(key, []), len(shown.get(key, {}))
        )
    return cells, records
