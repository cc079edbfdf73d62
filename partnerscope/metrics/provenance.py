"""The evidence behind a stored value, and the check that it still gives the same value.

For a value of cell (engagement, vendor, period) the drill-down re-runs the very querysets the
engine grouped (measures.py), filtered to that cell, and lists their records with how each was
attributed. Recomputing the digest from those record ids and comparing it with the stored one
tells the reader whether the value is reproducible from today's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from partnerscope.engagements.models import Assignment
from partnerscope.evidence.models import (
    BugIntroduction,
    Commit,
    Contribution,
    CoverageReport,
    Deployment,
    Incident,
    PullRequest,
    Sprint,
    WorkItem,
)
from partnerscope.metrics import periods
from partnerscope.metrics.kpis import Kpi
from partnerscope.metrics.measures import (
    DURATIONS,
    HASH_MULTIPLIER,
    HASH_PRIME,
    MEASURES,
    PYTHON_MEASURES,
    ROSTER_MEASURES,
    UNDIGESTED,
    Scope,
    deployment_cells,
    digest_of,
    roster_cells,
)
from partnerscope.metrics.models import MetricValue
from partnerscope.metrics.skills import SKILL_MEASURES, skill_cells
from partnerscope.metrics.sprints import SPRINT_MEASURES, sprint_cells
from partnerscope.vendors.models import Skill

MAX_LISTED = 200


@dataclass
class EvidenceRecord:
    label: str
    url: str
    when: object
    actor: str
    attribution: str
    hours: float | None = None  # a duration KPI's sample (the API gives durations in hours)
    shown: float | None = None  # the same in the KPI's unit (days, weeks...), for the page


@dataclass
class EvidenceGroup:
    name: str
    label: str
    description: str
    count: int
    records: list[EvidenceRecord] = field(default_factory=list)


@dataclass
class Provenance:
    groups: list[EvidenceGroup]
    digest: str
    verified: bool


def _scope(value: MetricValue) -> Scope:
    end = periods.next_start(value.period_kind, value.period_start)
    engagements = frozenset({value.engagement_key}) if value.engagement_key else None
    return Scope(engagement_ids=engagements, start=value.period_start, end=end)


def _attribution(status: str, person, vendor) -> str:
    who = person.name if person is not None else "unknown person"
    if status == "vendor":
        return f"{who} · {vendor.name if vendor else 'vendor'} (dated roster)"
    if status == "inhouse":
        return f"{who} · in-house (dated roster)"
    return status or "not attributed yet"


def _records(kind: str, ids: list[int], hours: dict[int, float] | None = None) -> list[EvidenceRecord]:
    ids = ids[:MAX_LISTED]
    out = []
    if kind in ("commit", "bug_commit", "coverage_commit"):
        authors = {
            c.commit_id: c
            for c in Contribution.objects.filter(commit_id__in=ids, role="author").select_related(
                "person", "vendor"
            )
        }
        # What the KPI saw in each commit besides its author: the fix that blamed it, or its
        # coverage report's count.
        notes = {}
        if kind == "bug_commit":
            notes = {commit_id: f"blamed by {fixes}" for commit_id, fixes in _blaming_fixes(ids).items()}
        elif kind == "coverage_commit":
            notes = {
                commit_id: f"{covered} of {lines} new lines covered"
                for commit_id, covered, lines in CoverageReport.objects.filter(commit_id__in=ids).values_list(
                    "commit_id", "new_covered", "new_lines"
                )
            }
        for commit in Commit.objects.filter(id__in=ids).select_related("repository").order_by("authored_at"):
            c = authors.get(commit.id)
            label = f"{commit.repository.name} {commit.sha[:10]} {commit.subject[:80]}"
            if commit.id in notes:
                label += f" — {notes[commit.id]}"
            out.append(
                EvidenceRecord(
                    label, "", commit.authored_at, commit.author_name,
                    _attribution(c.status, c.person, c.vendor) if c else "",
                )
            )  # fmt: skip
        return out
    model = {
        "pull_request": PullRequest,
        "work_item": WorkItem,
        "deployment": Deployment,
        "incident": Incident,
    }.get(kind)
    if model is not None:
        rows = model.objects.filter(id__in=ids).select_related("person", "vendor", "connection")
        for row in rows.order_by("-id"):
            when = (
                getattr(row, "merged_at", None)
                or getattr(row, "resolved_at", None)
                or getattr(row, "created_at", None)
                or getattr(row, "started_at", None)
            )
            out.append(
                EvidenceRecord(
                    f"{row.connection.name}: {row}", row.url, when, row.actor,
                    _attribution(row.status, row.person, row.vendor),
                    hours.get(row.id) if hours else None,
                )
            )  # fmt: skip
        return out
    if kind == "sprint":
        for sprint in Sprint.objects.filter(id__in=ids).select_related("connection").order_by("started_at"):
            out.append(
                EvidenceRecord(
                    f"{sprint.connection.name}: {sprint.name}", "", sprint.done_at, "", "closed sprint"
                )
            )
        return out
    if kind == "skill":
        for skill in Skill.objects.filter(id__in=ids):
            globs = ", ".join(skill.glob_list())
            out.append(EvidenceRecord(skill.name, "", None, "", f"files: {globs}" if globs else "no paths"))
        return out
    for assignment in Assignment.objects.filter(id__in=ids).select_related("person", "vendor"):
        out.append(
            EvidenceRecord(
                f"{assignment.person.name}: {assignment.role or 'assignment'} at {assignment.allocation_pct} %",
                "", assignment.valid_from, "", _attribution("vendor" if assignment.vendor_id else "inhouse",
                                                           assignment.person, assignment.vendor),
                hours.get(assignment.id) if hours else None,
            )
        )  # fmt: skip
    return out


def _blaming_fixes(ids: list[int]) -> dict[int, str]:
    """{introducing commit id: the fixes that blamed it, in words} for the drill-down."""
    found: dict[int, list[str]] = {}
    rows = (
        BugIntroduction.objects.filter(commit_id__in=ids)
        .select_related("fix__commit", "fix__bug")
        .order_by("fix__commit__authored_at")
    )
    for row in rows:
        fix = row.fix
        why = f"bug {fix.bug.key}" if fix.bug else fix.get_reason_display()
        found.setdefault(row.commit_id, []).append(
            f"fix {fix.commit.sha[:10]} ({why}; {row.lines} line{'' if row.lines == 1 else 's'})"
        )
    return {commit_id: ", ".join(fixes) for commit_id, fixes in found.items()}


def _reader_of(name: str) -> str:
    """Which Python reader (python_ids' key) gives a measure's record ids."""
    if name in SKILL_MEASURES:
        return "skills"
    if name in SPRINT_MEASURES:
        return "sprints"
    return "deployments" if "deployments" in name else "roster"


def evidence_for(value: MetricValue, kpi: Kpi) -> Provenance:
    scope = _scope(value)
    org, vkey = value.organization_id, value.vendor_key
    groups, n, s, h = [], 0, 0, 0
    if kpi.kind == "duration":
        duration = DURATIONS[kpi.duration]
        samples = [x for x in duration.samples(org, scope) if x.vkey == vkey]
        ids = [x.rid for x in samples]
        # Deployment days are days, not lengths: each record's own date says which.
        lengths = None if kpi.days_per_week else {x.rid: x.hours for x in samples}
        records = _records(duration.record, sorted(set(ids)), lengths)
        for record in records:
            record.shown = record.hours * kpi.scale if record.hours is not None else None
        groups.append(
            EvidenceGroup(duration.name, duration.label, duration.description, len(samples), records)
        )
        n, s, h = len(ids), sum(ids), sum(i * HASH_MULTIPLIER % HASH_PRIME for i in ids)
    else:
        python_ids = {}
        for name in kpi.measures_used:
            if name in ("prod_deployments", "failed_deployments") and "deployments" not in python_ids:
                python_ids["deployments"] = deployment_cells(org, scope)[2]
            if name in ROSTER_MEASURES and "roster" not in python_ids:
                python_ids["roster"] = roster_cells(org, scope)[1]
            if name in SKILL_MEASURES and "skills" not in python_ids:
                python_ids["skills"] = skill_cells(org, scope)[1]
            if name in SPRINT_MEASURES and "sprints" not in python_ids:
                python_ids["sprints"] = sprint_cells(org, scope)[1]
        for name in kpi.measures_used:
            if name in MEASURES:
                measure = MEASURES[name]
                ids = measure.record_ids(org, scope, vkey)
                unique, count = sorted(set(ids)), len(ids)
                label, description, kind = measure.label, measure.description, measure.record
            else:
                measure = PYTHON_MEASURES[name]
                source = python_ids.get(_reader_of(name), {}).get(name, {})
                # As the engine adds them up: each month cell's distinct records, summed.
                cells = [
                    sorted(rows) if measure.repeats else sorted(set(rows))
                    for (_, key, _), rows in source.items()
                    if key == vkey
                ]
                ids = [i for rows in cells for i in rows]
                unique, count = sorted(set(ids)), len(ids)
                label, description, kind = measure.label, measure.description, measure.record
            groups.append(EvidenceGroup(name, label, description, count, _records(kind, unique)))
            if name in UNDIGESTED:
                continue
            n += count
            s += sum(ids)
            h += sum(i * HASH_MULTIPLIER % HASH_PRIME for i in ids)
    digest = digest_of(n, s, h)
    return Provenance(groups, digest, bool(value.digest) and digest == value.digest)
