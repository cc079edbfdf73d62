"""Rework and knowledge concentration on a crafted history with known answers."""

from __future__ import annotations

import pytest

from partnerscope.evidence.models import Commit, Repository, SurvivingLines
from partnerscope.evidence.queries import knowledge_concentration, summary_by_vendor
from partnerscope.orgs.models import Membership
from tests.evidence.gitrepo import GitRepo
from tests.evidence.test_git_ingestion import _register, _sync


def lines(tag: str, numbers) -> str:
    return "".join(f"value_{tag}_{n} = compute({n})\n" for n in numbers)


@pytest.fixture
def history(roots):
    repo = GitRepo(roots / "signals")
    # Ana (vendor A) writes ten lines on day 1.
    repo.commit("Ana Alpha", "ana@alpha.test", "2024-03-01", {"f.py": lines("a", range(10))}, "ana writes f")
    # Ben (vendor B) rewrites four of them nine days later: rework.
    f = lines("b", range(4)) + lines("a", range(4, 10))
    repo.commit("Ben Beta", "ben@beta.test", "2024-03-10", {"f.py": f}, "ben rewrites the start")
    # Carl (nobody's) rewrites three of Ana's lines forty days later: not rework.
    f = lines("b", range(4)) + lines("c", range(4, 7)) + lines("a", range(7, 10))
    repo.commit("Carl Unknown", "carl@nowhere.test", "2024-04-20", {"f.py": f}, "carl rewrites the middle")
    # Ida (in-house) owns another file of ten lines.
    repo.commit("Ida Inhouse", "ida@acme.test", "2024-04-21", {"g.py": lines("i", range(10))}, "ida writes g")
    return repo


def test_rework_counts_rewrites_of_lines_younger_than_21_days(world, history, roots):
    repository = _register(world, roots / "signals")
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    rework = dict(Commit.objects.values_list("subject", "rework_lines"))
    assert rework == {
        "ana writes f": 0,
        "ben rewrites the start": 4,
        "carl rewrites the middle": 0,
        "ida writes g": 0,
    }
    groups = {g.key: g for g in summary_by_vendor(world.owner_m, repository=repository)}
    beta = groups[f"vendor:{world.vendor_b.uid}"]
    assert (beta.rework_lines, beta.rework_base) == (4, 8)  # four deleted, four added
    assert groups[f"vendor:{world.vendor_a.uid}"].rework_rate == 0


def test_knowledge_concentration_from_the_surviving_lines(world, history, roots):
    repository = _register(world, roots / "signals")
    _sync(repository)
    by_email = dict(SurvivingLines.objects.filter(path="f.py").values_list("email", "lines"))
    assert by_email == {"ana@alpha.test": 3, "ben@beta.test": 4, "carl@nowhere.test": 3}
    knowledge = knowledge_concentration(world.owner_m, repository)
    assert knowledge.total_lines == 20
    # Ida 10 alone is half of 20.
    assert knowledge.bus_factor == 1
    # f.py's main author is Ben (vendor B): its 10 lines of 20 are at risk; g.py is in-house.
    assert knowledge.exit_risk == pytest.approx(0.5)
    assert knowledge.holders[0].label == "Ida Inhouse" and knowledge.holders[0].status == "inhouse"
    shares = dict(knowledge.vendor_shares)
    assert shares["Alpha Soft"] == pytest.approx(0.15) and shares["Beta Works"] == pytest.approx(0.2)
    # Client-only: a vendor user gets nothing.
    vendor_m = Membership.objects.get(user=world.users["vendor_a"])
    assert knowledge_concentration(vendor_m, repository) is None


def test_line_signals_are_incremental(world, history, roots):
    repository = _register(world, roots / "signals")
    _sync(repository)
    history.commit(
        "Ben Beta",
        "ben@beta.test",
        "2024-04-25",
        {"g.py": lines("i", range(9)) + lines("b", [99])},
        "ben edits g",
    )
    run = _sync(Repository.objects.get(pk=repository.pk))
    assert run.new_commits == 1
    assert Commit.objects.get(subject="ben edits g").rework_lines == 1  # Ida's line was 4 days old
    assert dict(SurvivingLines.objects.filter(path="g.py").values_list("email", "lines")) == {
        "ida@acme.test": 9,
        "ben@beta.test": 1,
    }
    assert SurvivingLines.objects.filter(path="f.py").count() == 3  # untouched, not blamed again
