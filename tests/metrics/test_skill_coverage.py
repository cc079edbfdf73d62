"""Skill coverage: an engagement's required skills against the people the vendor assigned to it
(the roster) and against the files their commits changed (the evidence), in skill-months.

The crafted world (conftest): Alpha's engagement has Ana (from 2024-01-01, open-ended) and Max
(until 2024-06-30, then at Beta). In March 2024 Ana commits a1 to a4, Ida (in-house) commits r1
and a bot commits b1 to Alpha's repository."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from partnerscope.engagements.models import Engagement
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.models import Commit, FileChange
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import catalogue
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from partnerscope.sourcing.models import PersonSkill
from partnerscope.sourcing.services import delete_person_skill, save_person_skill
from partnerscope.vendors.models import Skill
from partnerscope.vendors.services import save_vendor_record
from tests.conftest import client_for
from tests.metrics.test_engine import _stored_state

JAN, MARCH, JULY = datetime.date(2024, 1, 1), datetime.date(2024, 3, 1), datetime.date(2024, 7, 1)


def value(world, kpi, start, *, vendor=None, kind="month", engagement=None) -> MetricValue | None:
    vendor = world.vendor_a if vendor is None else vendor
    return MetricValue.objects.filter(
        organization=world.org, kpi=kpi, vendor_key=vendor.id if vendor else 0, period_kind=kind,
        period_start=start, engagement_key=engagement.id if engagement else 0,
    ).first()  # fmt: skip


def skill(world, name) -> Skill:
    return Skill.objects.get(organization=world.org, name=name)


@pytest.fixture
def skilled(evidence):
    """Alpha's engagement requires Python (*.py), TypeScript (*.ts, *.tsx) and UX design (no
    paths). Ana has Python, Max UX design. Ana's a1 changed a Python file, a2 a TypeScript one,
    a3 only docs; Ida's r1 a Python file; the bot's b1 a TypeScript one."""
    w, m = evidence, evidence.owner_m
    save_roster_record(
        membership=m, instance=w.engagement_a,
        required_skills=[skill(w, "Python"), skill(w, "TypeScript"), skill(w, "UX design")],
    )  # fmt: skip
    save_person_skill(
        membership=m, instance=PersonSkill(person=w.person_a, skill=skill(w, "Python"), share_pct=50)
    )
    save_person_skill(
        membership=m, instance=PersonSkill(person=w.mover, skill=skill(w, "UX design"), share_pct=50)
    )
    for sha, path in (("a1", "src/shop/cart.py"), ("a2", "web/src/Cart.tsx"), ("a3", "README.md"),
                      ("r1", "src/shop/cart.py"), ("b1", "web/src/deps.ts")):  # fmt: skip
        commit = Commit.objects.get(sha=sha)
        FileChange.objects.create(
            organization_id=w.org.id, commit=commit, path=path, additions=1, deletions=0
        )
    # Max's last commit at Alpha (June) changed generated TypeScript (excluded) and a text file.
    m1 = Commit.objects.get(sha="m1")
    FileChange.objects.create(organization_id=w.org.id, commit=m1, path="web/gen/api.ts", excluded=True)
    FileChange.objects.create(organization_id=w.org.id, commit=m1, path="notes.txt")
    return w


def test_the_seeded_skills_know_their_files(world):
    assert skill(world, "Python").glob_list() == ["*.py", "*.pyi"]
    assert skill(world, "UX design").glob_list() == []


def test_skill_coverage_from_the_roster_and_from_the_commits(skilled):
    w = skilled
    engine.full_recompute(w.org.id)
    march = value(w, "skill_coverage", MARCH, engagement=w.engagement_a)
    # Python (Ana) and UX design (Max) of three required skills.
    assert (march.value, march.sample, march.status) == (pytest.approx(2 / 3), 3, "ok")
    shown = value(w, "skill_evidence", MARCH, engagement=w.engagement_a)
    # Python by a1 and TypeScript by a2: both skills with paths. UX design has none to show.
    assert (shown.value, shown.sample) == (1.0, 2)
    # June: an excluded file shows nothing.
    assert value(w, "skill_evidence", datetime.date(2024, 6, 1)).value == 0.0
    # January: the same people, no commits: the roster covers two of three, the commits none.
    assert value(w, "skill_coverage", JAN).value == pytest.approx(2 / 3)
    assert value(w, "skill_evidence", JAN).value == 0.0
    # July: Max has moved to Beta; Alpha keeps Ana's Python only. Beta's engagement requires
    # nothing, so Max's skill counts nowhere there.
    assert value(w, "skill_coverage", JULY).value == pytest.approx(1 / 3)
    assert value(w, "skill_coverage", JULY, vendor=w.vendor_b) is None
    # The quarter adds its months' skill-months: roster 6 of 9, evidence 2 of 6.
    quarter = value(w, "skill_coverage", JAN, kind="quarter")
    assert (quarter.value, quarter.sample) == (pytest.approx(6 / 9), 9)
    assert value(w, "skill_evidence", JAN, kind="quarter").value == pytest.approx(2 / 6)
    # In-house: Ida co-authored a2 (TypeScript) and wrote r1 (Python), a co-author counting as
    # an author does; nobody in-house is assigned to the engagement.
    inhouse = value(w, "skill_evidence", MARCH, vendor=False, engagement=w.engagement_a)
    assert inhouse.value == 1.0
    assert value(w, "skill_coverage", MARCH, vendor=False, engagement=w.engagement_a).value == 0.0


def test_the_drill_down_lists_the_people_and_the_commits_and_verifies(skilled):
    w = skilled
    engine.full_recompute(w.org.id)
    kpis = catalogue(w.org.id)
    shown = evidence_for(value(w, "skill_evidence", MARCH, engagement=w.engagement_a), kpis["skill_evidence"])
    groups = {g.name: g for g in shown.groups}
    assert sorted(r.label.split()[-1] for r in groups["exercised_skills"].records) == ["a1", "a2"]
    assert sorted(r.label for r in groups["path_skills"].records) == ["Python", "TypeScript"]
    assert shown.verified
    roster = evidence_for(
        value(w, "skill_coverage", MARCH, engagement=w.engagement_a), kpis["skill_coverage"]
    )
    groups = {g.name: g for g in roster.groups}
    assert sorted(r.label.split(":")[0] for r in groups["rostered_skills"].records) == [
        "Ana Alpha",
        "Max Mover",
    ]
    assert [r.label for r in groups["required_skills"].records if r.attribution == "no paths"] == [
        "UX design"
    ]
    assert roster.verified
    # The vendor's own page of the value.
    march = value(w, "skill_evidence", MARCH)
    response = client_for(w, "vendor_a").get(reverse("metric_value", args=[w.org.slug, march.uid]))
    assert response.status_code == 200
    assert "Required skills shown by commits" in response.content.decode()


def test_changes_to_skills_mark_their_months_and_the_incremental_recompute_agrees(skilled):
    w, m = skilled, skilled.owner_m
    engine.full_recompute(w.org.id)
    DirtyCell.objects.all().delete()
    # Ana learns TypeScript: every month of her assignment is marked.
    save_person_skill(
        membership=m, instance=PersonSkill(person=w.person_a, skill=skill(w, "TypeScript"), share_pct=50)
    )
    assert (w.engagement_a.id, MARCH) in set(DirtyCell.objects.values_list("engagement_id", "month"))
    engine.recompute_dirty(w.org.id)
    assert value(w, "skill_coverage", MARCH).value == 1.0
    assert value(w, "skill_coverage", JULY).value == pytest.approx(2 / 3)
    # TypeScript's globs no longer match a2's file: the engagements requiring it are marked.
    typescript = skill(w, "TypeScript")
    typescript.paths = "*.ts"
    save_vendor_record(membership=m, instance=typescript)
    engine.recompute_dirty(w.org.id)
    assert value(w, "skill_evidence", MARCH).value == 0.5
    # The engagement no longer requires UX design.
    save_roster_record(
        membership=m, instance=Engagement.objects.get(pk=w.engagement_a.pk),
        required_skills=[skill(w, "Python"), typescript],
    )  # fmt: skip
    engine.recompute_dirty(w.org.id)
    assert value(w, "skill_coverage", JAN).value == 1.0  # Ana holds both skills still required
    delete_person_skill(membership=m, instance=PersonSkill.objects.get(person=w.person_a, skill=typescript))
    engine.recompute_dirty(w.org.id)
    assert value(w, "skill_coverage", MARCH).value == 0.5
    incremental = _stored_state(w.org)
    engine.full_recompute(w.org.id)
    assert _stored_state(w.org) == incremental


def test_an_engagement_without_required_skills_has_no_coverage(evidence):
    engine.full_recompute(evidence.org.id)
    assert not MetricValue.objects.filter(kpi__in=["skill_coverage", "skill_evidence"]).exists()


def test_required_skills_are_chosen_in_the_engagement_form_and_shown(world):
    client = client_for(world, "owner")
    url = reverse("engagement_edit", args=[world.org.slug, world.engagement_a.uid])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["vendor"] = world.vendor_a.uid
    data["required_skills"] = [skill(world, "Python").uid, skill(world, "Android").uid]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert sorted(world.engagement_a.required_skills.values_list("name", flat=True)) == ["Android", "Python"]
    save_person_skill(
        membership=world.owner_m, instance=PersonSkill(person=world.person_a, skill=skill(world, "Python"))
    )
    detail = reverse("engagement_detail", args=[world.org.slug, world.engagement_a.uid])
    page = client.get(detail).content.decode()
    assert "Required skills" in page and "Ana Alpha" in page
    # The vendor sees the skills, not who on the roster holds them (people's skills are client-only).
    vendor_page = client_for(world, "vendor_a").get(detail).content.decode()
    assert "Android" in vendor_page and "Held by people" not in vendor_page
    # Another organization's skill is not a choice.
    foreign = Skill.objects.get(organization=world.other_org, name="Python")
    data["required_skills"] = [foreign.uid]
    response = client.post(url, data)
    assert response.status_code == 400 and "required_skills" in response.context["form"].errors


def test_a_skill_glob_that_matches_everything_is_refused_naming_the_field(world):
    client = client_for(world, "owner")
    python = skill(world, "Python")
    url = reverse("skill_edit", args=[world.org.slug, python.uid])
    response = client.post(url, {"name": "Python", "category": "Languages", "paths": "*.py\n**"})
    assert response.status_code == 400
    assert "would match every file" in str(response.context["form"].errors["paths"])
    python.refresh_from_db()
    assert python.paths == "*.py\n*.pyi"
