"""Rework and knowledge concentration on a crafted history with known answers."""

from __future__ import annotations

import datetime

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


def _ownership(repository) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for path, email, n in SurvivingLines.objects.filter(repository=repository).values_list(
        "path", "email", "lines"
    ):
        found.setdefault(path, {})[email] = n
    return found


def test_a_renamed_file_and_moved_lines_keep_their_author(world, roots):
    repo = GitRepo(roots / "moves")
    repo.commit("Ana Alpha", "ana@alpha.test", "2024-03-01", {"f.py": lines("a", range(10))}, "ana writes f")
    repo.commit("Ben Beta", "ben@beta.test", "2024-03-02", {"f.py": None, "h.py": lines("a", range(10)) + lines("b", [1])}, "ben renames")  # fmt: skip
    # Ida moves three of Ana's lines to a new file.
    repo.commit("Ida Inhouse", "ida@acme.test", "2024-03-03", {"h.py": lines("a", range(7)) + lines("b", [1]), "k.py": lines("a", range(7, 10))}, "ida moves")  # fmt: skip
    repository = _register(world, roots / "moves")
    assert _sync(repository).status == "succeeded"
    assert _ownership(repository) == {
        "h.py": {"ana@alpha.test": 7, "ben@beta.test": 1},
        "k.py": {"ana@alpha.test": 3},
    }


def _random_history(repo: GitRepo, rng, authors, start: int, commits: int, files: dict[str, list[str]]):
    """Commits that insert, delete and rewrite lines of unique content at random places."""
    for n in range(start, start + commits):
        name, email = authors[n % len(authors)]
        changed = {}
        for path in rng.sample(sorted(files), k=min(2, len(files))):
            body = files[path]
            for _ in range(rng.randint(1, 3)):
                op = rng.random()
                at = rng.randint(0, len(body))
                if op < 0.5 or not body:
                    body[at:at] = [f"{path}_{n}_{at}_{i} = {rng.random()}" for i in range(rng.randint(1, 6))]
                elif op < 0.75:
                    del body[min(at, len(body) - 1) : at + rng.randint(1, 4)]
                else:
                    body[min(at, len(body) - 1)] = f"rewritten_{n}_{at} = {rng.random()}"
            changed[path] = "".join(f"{line}\n" for line in body)
        when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=n)
        repo.commit(name, email, when.isoformat(), changed, f"c{n}")


AUTHORS = [("Ana Alpha", "ana@alpha.test"), ("Ben Beta", "ben@beta.test"), ("Ida Inhouse", "ida@acme.test")]


@pytest.mark.parametrize("hot_files", [512, 1], ids=["unpacked", "packed-between-commits"])
def test_streaming_count_matches_git_blame_across_a_merged_branch(world, roots, monkeypatch, hot_files):
    import random

    from partnerscope.evidence import survival
    from partnerscope.evidence.survival import blame

    monkeypatch.setattr(survival, "HOT_FILES", hot_files)
    from partnerscope.evidence.sync import mirror_path

    rng = random.Random(7)
    repo = GitRepo(roots / "random")
    files = {f"m{i}.py": [] for i in range(4)}
    _random_history(repo, rng, AUTHORS, 0, 30, files)
    # A side branch changes two files while main changes the two others, then merges back.
    repo.git("checkout", "-q", "-b", "side")
    side = {p: files[p] for p in ("m0.py", "m1.py")}
    _random_history(repo, rng, AUTHORS[1:], 30, 12, side)
    repo.git("checkout", "-q", "main")
    main_only = {p: [line for line in (repo.path / p).read_text().splitlines()] for p in ("m2.py", "m3.py")}
    _random_history(repo, rng, AUTHORS[:1], 42, 8, main_only)
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side", env={"GIT_AUTHOR_NAME": "M", "GIT_AUTHOR_EMAIL": "m@acme.test"})  # fmt: skip
    repository = _register(world, roots / "random")
    assert _sync(repository).status == "succeeded"
    tip = repo.git("rev-parse", "HEAD")
    mirror = str(mirror_path(repository))
    walked = _ownership(repository)
    assert set(walked) == set(files)
    for path in files:
        assert walked[path] == dict(blame(mirror, tip, path)), path


def test_an_incremental_pass_gives_what_a_full_pass_gives(world, roots, monkeypatch):
    import random

    from partnerscope.evidence import survival

    monkeypatch.setattr(survival, "HOT_FILES", 2)
    rng = random.Random(11)
    repo = GitRepo(roots / "grow")
    files = {f"g{i}.py": [] for i in range(5)}
    _random_history(repo, rng, AUTHORS, 0, 25, files)
    first = _register(world, roots / "grow")
    _sync(first)
    _random_history(repo, rng, AUTHORS, 25, 15, files)
    repo.commit("Ben Beta", "ben@beta.test", "2024-03-01", {"g4.py": None}, "drop g4")
    incremental = _sync(Repository.objects.get(pk=first.pk))
    assert incremental.new_commits == 16
    fresh = _register(world, roots / "grow", name="grow-fresh")
    _sync(fresh)
    assert "g4.py" not in _ownership(first)
    assert _ownership(first) == _ownership(fresh)
