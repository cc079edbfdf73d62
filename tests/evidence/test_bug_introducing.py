"""Bug-introducing changes (SZZ) on a crafted history with known answers.

Engagement A's repository:

* 2024-02-01 Ana (Alpha) writes calc.py (A1); 2024-02-05 Max (Alpha until June) writes
  util.py (M1); 2024-02-10 Ida (in-house) adds to calc.py (I1).
* 2024-03-01 Ana writes notes.py (A2); 2024-03-25 Ana adds a line to util.py (A3).
* 2024-04-01 Ida, "fix: rounding in calc": changes two of Ana's lines and one of Ida's, and
  deletes a blank line (never blamed) -> A1 and I1.
* 2024-04-10 Ida, "APP-7 guard util against empty input" (APP-7 a bug reported 2024-03-20):
  changes one of Max's lines and Ana's line of 03-25 -> M1 only (A3 came after the report).
* 2024-04-12 Ida, "Fix typo in util": free text, not a fix -> nobody.
* 2024-05-02 Ida, "handle the notes timeout": a fix only once GitHub bug #9 links it -> A2.
"""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence import szz
from partnerscope.evidence.connectors.store import store_work_items
from partnerscope.evidence.models import BugFix, BugIntroduction, Connection
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import BUILTIN
from partnerscope.metrics.models import DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from tests.evidence.gitrepo import GitRepo
from tests.evidence.test_git_ingestion import _register, _sync
from tests.metrics.conftest import work_item

UTC = datetime.UTC
FEB, MARCH = datetime.date(2024, 2, 1), datetime.date(2024, 3, 1)


def code(tag: str, numbers) -> str:
    return "".join(f"{tag}_{n} = compute({n})\n" for n in numbers)


@pytest.fixture
def history(roots):
    repo = GitRepo(roots / "szz")
    ana, max_, ida = (
        ("Ana Alpha", "ana@alpha.test"),
        ("Max Mover", "max@mover.test"),
        ("Ida", "ida@acme.test"),
    )
    calc = code("a", range(6)) + "\n" + code("a", range(6, 10))
    shas = {"A1": repo.commit(*ana, "2024-02-01", {"calc.py": calc}, "ana writes calc")}
    shas["M1"] = repo.commit(*max_, "2024-02-05", {"util.py": code("m", range(6))}, "max writes util")
    calc += code("i", range(5))
    shas["I1"] = repo.commit(*ida, "2024-02-10", {"calc.py": calc}, "ida extends calc")
    shas["A2"] = repo.commit(*ana, "2024-03-01", {"notes.py": code("n", range(4))}, "ana writes notes")
    util = code("m", range(6)) + code("late", [1])
    shas["A3"] = repo.commit(*ana, "2024-03-25", {"util.py": util}, "ana extends util")
    # Two of Ana's lines, the blank line and one of Ida's change.
    calc = code("a", range(4)) + code("fixed", [4, 5]) + code("a", range(6, 10)) + code("i", range(4))
    calc += code("fixed_i", [4])
    shas["F1"] = repo.commit(*ida, "2024-04-01", {"calc.py": calc}, "fix: rounding in calc")
    util = code("m", range(5)) + code("guarded", [5]) + code("guarded_late", [1])
    shas["F2"] = repo.commit(*ida, "2024-04-10", {"util.py": util}, "APP-7 guard util against empty input")
    util = code("m", range(4)) + code("typo", [4]) + code("guarded", [5]) + code("guarded_late", [1])
    shas["T"] = repo.commit(*ida, "2024-04-12", {"util.py": util}, "Fix typo in util")
    notes = code("n", range(3)) + code("timeout", [3])
    shas["F3"] = repo.commit(*ida, "2024-05-02", {"notes.py": notes}, "handle the notes timeout")
    repo.shas = shas
    return repo


def _bug(key: str, reported: datetime.datetime, links=()) -> dict:
    return {**work_item(key, "Bug", reported), "links": list(links)}


def _introductions() -> dict[str, set[tuple[str, int]]]:
    found: dict[str, set[tuple[str, int]]] = {}
    for fix, blamed, lines in BugIntroduction.objects.values_list(
        "fix__commit__subject", "commit__subject", "lines"
    ):
        found.setdefault(fix, set()).add((blamed, lines))
    return found


def _rate(world, start, vendor_key):
    return MetricValue.objects.get(
        organization=world.org, kpi="bug_introducing_rate", vendor_key=vendor_key, engagement_key=0,
        period_kind="month", period_start=start,
    )  # fmt: skip


def test_fixes_are_traced_to_the_commits_that_wrote_their_lines(world, history, roots):
    connection = Connection.objects.get(engagement=world.engagement_a)
    store_work_items(connection, [_bug("APP-7", datetime.datetime(2024, 3, 20, tzinfo=UTC))])
    repository = _register(world, roots / "szz")
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    fixes = dict(BugFix.objects.values_list("commit__subject", "reason"))
    assert fixes == {"fix: rounding in calc": "conventional", "APP-7 guard util against empty input": "key"}
    assert _introductions() == {
        "fix: rounding in calc": {("ana writes calc", 2), ("ida extends calc", 1)},
        # Ana's line of 03-25 was written after APP-7 was reported: not its cause.
        "APP-7 guard util against empty input": {("max writes util", 1)},
    }
    key_fix = BugFix.objects.get(reason="key")
    assert key_fix.bug.key == "APP-7" and key_fix.traced_lines == 2
    assert BugFix.objects.get(reason="conventional").traced_lines == 3  # the blank line is not traced

    engine.full_recompute(world.org.id)
    february = _rate(world, FEB, world.vendor_a.id)
    assert (february.numerator, february.denominator) == (2, 2)  # A1 and Max's M1, both Alpha's
    march = _rate(world, MARCH, world.vendor_a.id)
    assert (march.numerator, march.denominator) == (0, 2)
    inhouse = _rate(world, FEB, 0)
    assert (inhouse.numerator, inhouse.denominator) == (1, 1)

    # The drill-down names the fix that blamed each commit, and verifies.
    provenance = evidence_for(february, BUILTIN["bug_introducing_rate"])
    assert provenance.verified
    blamed = next(g for g in provenance.groups if g.name == "bug_introducing_commits")
    labels = sorted(r.label for r in blamed.records)
    assert len(labels) == 2
    assert (
        "ana writes calc — blamed by fix" in labels[0] and "(Conventional Commits fix; 2 lines)" in labels[0]
    )
    assert "max writes util — blamed by fix" in labels[1] and "(bug APP-7; 1 line)" in labels[1]


def test_a_bug_linked_later_traces_its_fix_at_the_next_sync_and_marks_the_blamed_month(world, history, roots):
    repository = _register(world, roots / "szz")
    _sync(repository)
    engine.full_recompute(world.org.id)
    assert _rate(world, MARCH, world.vendor_a.id).numerator == 0
    DirtyCell.objects.all().delete()

    # GitHub bug #9 is closed by Ida's commit: the next sync (no new commits) traces it.
    connection = Connection.objects.get(engagement=world.engagement_a)
    # As GitLab's "closed via commit 1a2b3c4d" names it: by its first characters.
    linked = _bug("9", datetime.datetime(2024, 4, 20, tzinfo=UTC), [f"commit:{history.shas['F3'][:8]}"])
    store_work_items(connection, [linked])
    DirtyCell.objects.all().delete()  # the bug's own months; what follows is the trace's
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    assert BugFix.objects.get(reason="linked").commit.sha == history.shas["F3"]
    assert _introductions()["handle the notes timeout"] == {("ana writes notes", 1)}
    assert set(DirtyCell.objects.values_list("engagement_id", "month")) == {(world.engagement_a.id, MARCH)}
    engine.recompute_dirty(world.org.id)
    march = _rate(world, MARCH, world.vendor_a.id)
    assert (march.numerator, march.denominator) == (1, 2)
    incremental = _values(world)
    engine.full_recompute(world.org.id)
    assert _values(world) == incremental

    # The link goes away: the fix is forgotten and March is marked again.
    DirtyCell.objects.all().delete()
    store_work_items(connection, [{**linked, "links": []}])
    DirtyCell.objects.all().delete()
    _sync(repository)
    assert not BugFix.objects.filter(reason="linked").exists()
    assert set(DirtyCell.objects.values_list("engagement_id", "month")) == {(world.engagement_a.id, MARCH)}
    engine.recompute_dirty(world.org.id)
    assert _rate(world, MARCH, world.vendor_a.id).numerator == 0


def _values(world):
    return {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (v.value, v.sample, v.digest)
        for v in MetricValue.objects.filter(organization=world.org, kpi="bug_introducing_rate")
    }


def test_a_pull_request_linked_bug_makes_its_commits_fixes(world, history, roots):
    from partnerscope.evidence.connectors.store import store_pull_requests
    from tests.conftest import pull_request_row

    connection = Connection.objects.get(engagement=world.engagement_a)
    merged = datetime.datetime(2024, 5, 3, tzinfo=UTC)
    row = pull_request_row(12, "ana-alpha", merged, merged_at=merged, closed_at=merged, merge_commit_sha="")
    row["commits"] = [
        {
            "sha": history.shas["F3"],
            "authored_at": merged,
            "author_email": "ida@acme.test",
            "author_login": "",
        }
    ]
    store_pull_requests(connection, [row])
    store_work_items(connection, [_bug("9", datetime.datetime(2024, 4, 20, tzinfo=UTC), ["pr:12"])])
    _sync(_register(world, roots / "szz"))
    assert BugFix.objects.get(reason="linked").commit.sha == history.shas["F3"]


def test_a_fix_too_big_to_be_one_is_recorded_not_traced(world, history, roots, monkeypatch):
    monkeypatch.setattr(szz, "MAX_FIX_LINES", 2)
    _sync(_register(world, roots / "szz"))
    big = BugFix.objects.get(reason="conventional")
    assert big.traced_lines == 0 and "deletes 3 lines" in big.note
    assert not BugIntroduction.objects.filter(fix=big).exists()
    assert BugFix.objects.count() == 1  # no bug APP-7 in this story: only the declared fix


def test_deleted_lines_reads_hunks_not_look_alike_headers(roots, tmp_path):
    repo = GitRepo(roots / "odd")
    repo.commit("A", "a@x.test", "2024-01-01", {"x.sql": "-- keep\n-- drop me\nselect 1;\n"}, "one")
    sha = repo.commit("A", "a@x.test", "2024-01-02", {"x.sql": "-- keep\nselect 2;\n"}, "fix: two")
    lines, files = szz.deleted_lines(str(repo.path / ".git"), sha, lambda path: False)
    # "-- drop me" deleted shows as "--- drop me": still a deleted line, not a header.
    assert lines == {"x.sql": [2, 3]} and files == 1


def test_only_declared_fixes_count_not_free_text():
    match = szz.CONVENTIONAL_FIX.match
    assert match("fix: rounding") and match("fix(api)!: drop nulls") and match("Hotfix: login")
    assert not match("Fix typo in util") and not match("prefix: x") and not match("fixture: add")


def test_the_repository_page_shows_the_fixes_to_client_users_only(world, history, roots):
    from django.urls import reverse

    from tests.conftest import client_for

    store_work_items(
        Connection.objects.get(engagement=world.engagement_a),
        [_bug("APP-7", datetime.datetime(2024, 3, 20, tzinfo=UTC))],
    )
    repository = _register(world, roots / "szz")
    _sync(repository)
    url = reverse("repository_detail", args=[world.org.slug, repository.uid])
    page = client_for(world, "viewer").get(url).content.decode()
    assert 'id="bug-fixes"' in page and "1 conventional commits fix" in page and "1 names a bug" in page
    assert "APP-7" in page and "fix: rounding in calc" in page
    vendor_page = client_for(world, "vendor_a").get(url)
    assert vendor_page.status_code == 200 and "bug-fixes" not in vendor_page.content.decode()


def test_a_fix_git_cannot_blame_is_noted_and_the_sync_goes_on(world, history, roots, monkeypatch):
    from partnerscope.evidence import gitsafe

    def failing(*args, **kwargs):
        raise gitsafe.GitError("git blame timed out after 600 s.", code="timeout")

    monkeypatch.setattr(szz, "blame_lines", failing)
    run = _sync(_register(world, roots / "szz"))
    assert run.status == "succeeded", run.message
    fix = BugFix.objects.get(reason="conventional")
    assert fix.note == "Not traced: git blame timed out after 600 s." and fix.traced_lines == 0


def test_a_fix_that_renames_a_file_blames_only_the_lines_it_changed(world, roots):
    repo = GitRepo(roots / "moved")
    body = code("a", range(20))
    repo.commit("Ana Alpha", "ana@alpha.test", "2024-02-01", {"old.py": body}, "ana writes old")
    repo.git("mv", "old.py", "new.py")
    (repo.path / "new.py").write_text(body.replace("a_7 = compute(7)", "a_7 = compute(8)"))
    repo.commit(
        "Ida", "ida@acme.test", "2024-04-01", {"new.py": (repo.path / "new.py").read_text()}, "fix: seven"
    )
    _sync(_register(world, roots / "moved"))
    fix = BugFix.objects.get()
    assert fix.traced_lines == 1
    assert _introductions() == {"fix: seven": {("ana writes old", 1)}}
