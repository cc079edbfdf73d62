"""Git ingestion end to end: sync, attribution by the dated roster, bots, co-authors, reverts,
idempotent and incremental re-sync, the unattributed queue, and bad repositories."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from partnerscope.engagements.models import Assignment, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence import services
from partnerscope.evidence.models import Commit, Contribution, FileChange, Repository, SyncRun
from partnerscope.evidence.queries import summary_by_vendor, unattributed_queue
from partnerscope.evidence.sync import run_sync
from partnerscope.orgs.models import Membership
from tests.evidence.gitrepo import GitRepo


def _register(world, path, **fields) -> Repository:
    return services.save_repository(
        membership=world.owner_m,
        instance=Repository(
            engagement=world.engagement_a, name=fields.pop("name", path.name), source=str(path), **fields
        ),
    )


def _sync(repository: Repository) -> SyncRun:
    run = services.queue_sync(repository)
    return run_sync(run)


def _history(root) -> GitRepo:
    """Max moves from Alpha to Beta on 2024-07-01; Ana is Alpha's; a bot and an unknown author."""
    repo = GitRepo(root / "app")
    repo.commit("Ana Alpha", "ana@alpha.test", "2024-02-01", {"app.py": "a\nb\nc\n"}, "first")
    repo.commit("Max Mover", "MAX@mover.test", "2024-03-10", {"app.py": "a\nB\nc\nd\n"}, "max at alpha")
    bad = repo.commit("Ana Alpha", "ana@alpha.test", "2024-04-01", {"bad.py": "oops\n"}, "a bad idea")
    repo.commit(
        "Ben Beta", "ben@beta.test", "2024-04-02", {"bad.py": None},
        f'Revert "a bad idea"\n\nThis reverts commit {bad}.',
    )  # fmt: skip
    repo.commit("Max Mover", "max@mover.test", "2024-08-15", {"app.py": "a\nB\nc\nd\ne\n"}, "max at beta")
    repo.commit(
        "Ben Beta", "ben@beta.test", "2024-09-01", {"pair.py": "x\n"},
        "pairing\n\nCo-authored-by: Ana Alpha <ana@alpha.test>\nCo-authored-by: Ben Beta <ben@beta.test>",
    )  # fmt: skip
    repo.commit("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "2024-09-02",
                {"package-lock.json": "{}\n", "requirements.txt": "x==2\n"}, "Bump x")  # fmt: skip
    repo.commit("Una Known", "una@freelance.test", "2024-09-03", {"u.py": "u\n"}, "who am I")
    return repo


def _by_vendor(world, membership=None, **filters):
    return {g.key: g for g in summary_by_vendor(membership or world.owner_m, **filters)}


def test_it_reads_and_attributes_a_history_by_the_dated_roster(world, roots):
    _history(roots)
    repository = _register(world, roots / "app")
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    assert run.new_commits == 8 and run.message.startswith("Read 8 commits, 8 new.")
    assert Commit.objects.filter(repository=repository).count() == 8

    by_sha = {c.subject: c for c in Commit.objects.filter(repository=repository)}
    max_alpha = Contribution.objects.get(commit=by_sha["max at alpha"])
    max_beta = Contribution.objects.get(commit=by_sha["max at beta"])
    # The mover: each commit credited to the vendor of its date, e-mail matched case-insensitively.
    assert (max_alpha.vendor, max_alpha.status) == (world.vendor_a, "vendor")
    assert (max_beta.vendor, max_beta.status) == (world.vendor_b, "vendor")
    assert Contribution.objects.get(commit=by_sha["Bump x"]).status == "bot"
    assert Contribution.objects.get(commit=by_sha["who am I"]).status == "unattributed"

    pair = Contribution.objects.filter(commit=by_sha["pairing"])
    assert {(c.email, c.role, c.vendor_id) for c in pair} == {
        ("ben@beta.test", "author", world.vendor_b.id),
        ("ana@alpha.test", "co-author", world.vendor_a.id),
    }

    groups = _by_vendor(world)
    alpha, beta = groups[f"vendor:{world.vendor_a.uid}"], groups[f"vendor:{world.vendor_b.uid}"]
    # Alpha: first, max at alpha, a bad idea, and pairing as co-author.
    assert (alpha.commits, alpha.contributors, alpha.co_authored) == (4, 2, 1)
    # The revert counts against the reverted commit's author (Ana, Alpha), not the reverter.
    assert (alpha.reverted, alpha.authored) == (1, 3)
    assert (beta.commits, beta.reverted) == (3, 0)
    assert groups["bot"].commits == 1 and groups["unattributed"].commits == 1
    # Excluded globs: package-lock.json does not count as changed lines.
    bump = by_sha["Bump x"]
    assert (bump.files_changed, bump.additions) == (1, 1)
    assert FileChange.objects.get(commit=bump, path="package-lock.json").excluded


def test_a_vendor_user_sees_only_its_own_numbers(world, roots):
    _history(roots)
    _sync(_register(world, roots / "app"))
    membership = Membership.objects.get(user=world.users["vendor_b"])
    assert set(_by_vendor(world, membership)) == {f"vendor:{world.vendor_b.uid}"}
    assert unattributed_queue(membership) == []
    assert not Commit.objects.visible_to(membership).filter(subject="first").exists()
    assert Commit.objects.visible_to(membership).filter(subject="max at beta").exists()


def test_resync_is_a_no_op_and_one_new_commit_is_read_alone(world, roots):
    repo = _history(roots)
    repository = _register(world, roots / "app")
    _sync(repository)
    before = sorted(Contribution.objects.values_list("commit__sha", "email", "status", "vendor_id"))
    run = _sync(Repository.objects.get(pk=repository.pk))
    assert run.status == "succeeded" and "up to date" in run.message
    assert sorted(Contribution.objects.values_list("commit__sha", "email", "status", "vendor_id")) == before

    repo.commit("Ana Alpha", "ana@alpha.test", "2024-10-01", {"new.py": "n\n"}, "one more")
    run = _sync(Repository.objects.get(pk=repository.pk))
    assert run.new_commits == 1 and run.message.startswith("Read 1 commit, 1 new.")
    assert Repository.objects.get(pk=repository.pk).commit_count == 9


def test_a_roster_change_reattributes_without_reading_git_again(world, roots):
    _history(roots)
    repository = _register(world, roots / "app")
    _sync(repository)
    unknown = Contribution.objects.get(email="una@freelance.test")
    assert unknown.status == "unattributed"
    entry = next(e for e in unattributed_queue(world.owner_m) if e.email == "una@freelance.test")
    assert entry.commits == 1 and entry.suggestion is None

    # Map her to a new person at vendor B: one click, attributed at once.
    person = services.map_identity(
        membership=world.owner_m, email="una@freelance.test", vendor=world.vendor_b
    )
    unknown.refresh_from_db()
    assert (unknown.status, unknown.vendor_id, unknown.person_id) == ("vendor", world.vendor_b.id, person.id)

    # Ending Max's Beta assignment before his commit makes that commit unattributed again.
    max_beta = Assignment.objects.get(person=world.mover, vendor=world.vendor_b)
    max_beta.valid_to = datetime.date(2024, 8, 1)
    save_roster_record(membership=world.owner_m, instance=max_beta)
    assert Contribution.objects.get(commit__subject="max at beta").status == "unattributed"

    # Deleting Ana's e-mail identity unattributes her commits; a git-name identity restores them.
    identity = Identity.objects.get(value="ana@alpha.test")
    from partnerscope.engagements.services import delete_roster_record

    delete_roster_record(membership=world.owner_m, instance=identity)
    assert set(Contribution.objects.filter(email="ana@alpha.test").values_list("status", flat=True)) == {
        "unattributed"
    }
    save_roster_record(
        membership=world.owner_m, instance=Identity(person=world.person_a, kind="git_name", value="Ana Alpha")
    )
    assert set(Contribution.objects.filter(email="ana@alpha.test").values_list("status", flat=True)) == {
        "vendor"
    }


def test_in_house_staff_count_as_in_house(world, roots):
    repo = GitRepo(roots / "inhouse")
    repo.commit("Ida Inhouse", "ida@acme.test", "2024-05-05", {"x": "1\n"}, "ida")
    _sync(_register(world, roots / "inhouse"))
    assert Contribution.objects.get().status == "inhouse"
    assert set(_by_vendor(world)) == {"inhouse"}


def test_bad_repositories_get_a_clear_message_and_nothing_half_written(world, roots):
    (roots / "plain").mkdir(parents=True)
    with pytest.raises(ValidationError, match="(?i)not a git repository"):
        _register(world, roots / "plain")
    with pytest.raises(ValidationError, match="under one of"):
        _register(world, roots.parent)
    with pytest.raises(ValidationError):
        _register(world, roots / "missing")

    GitRepo(roots / "empty")
    run = _sync(_register(world, roots / "empty"))
    assert run.status == "failed" and "empty" in run.message.lower()
    assert not Commit.objects.exists()

    repo = GitRepo(roots / "odd")
    repo.commit("Zoë \udcff", "z@odd.test", "1970-01-01", {"blob.bin": bytes(range(256)) * 4000}, "epoch")
    repo.commit("Fut Ure", "f@odd.test", "2099-01-01", {"a.txt": "a\n"}, "from the future")
    repository = _register(world, roots / "odd", name="odd")
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    assert "implausible dates" in run.message and "1970-01-01" in run.message
    binary = FileChange.objects.get(path="blob.bin")
    assert (binary.additions, binary.deletions) == (None, None)

    missing_branch = _register(world, roots / "odd", name="odd-branch", refs="release")
    run = _sync(missing_branch)
    assert run.status == "failed" and "'release' does not exist" in run.message


def test_a_cancelled_sync_keeps_whole_batches_and_resumes(world, roots, monkeypatch):
    repo = GitRepo(roots / "long")
    for day in range(1, 26):
        repo.commit("Ana Alpha", "ana@alpha.test", f"2024-01-{day:02d}", {"f.txt": f"{day}\n"}, f"c{day}")
    repository = _register(world, roots / "long")
    from partnerscope.evidence import ingest

    monkeypatch.setattr(ingest, "BATCH", 10)
    original = ingest.ingest

    def cancel_after_first_batch(*args, **kwargs):
        checkpoint = kwargs["checkpoint"]
        calls = []

        def wrapped(stats):
            calls.append(stats.seen)
            if len(calls) == 2:
                SyncRun.objects.update(cancel_requested=True)
            checkpoint(stats)

        kwargs["checkpoint"] = wrapped
        kwargs["batch_size"] = 10
        return original(*args, **kwargs)

    monkeypatch.setattr("partnerscope.evidence.sync.ingest", cancel_after_first_batch)
    run = _sync(repository)
    assert run.status == "cancelled"
    assert Commit.objects.count() == 10  # the first whole batch; the second rolled back
    assert Repository.objects.get(pk=repository.pk).cursor == {}

    monkeypatch.setattr("partnerscope.evidence.sync.ingest", original)
    run = _sync(Repository.objects.get(pk=repository.pk))
    assert run.status == "succeeded"
    assert Commit.objects.count() == 25 and run.new_commits == 15
    assert Contribution.objects.filter(status="vendor").count() == 25


def test_a_person_deleted_from_the_roster_leaves_their_commits_unattributed(world, roots):
    _history(roots)
    _sync(_register(world, roots / "app"))
    from partnerscope.engagements.services import delete_roster_record

    # Assignments protect nothing here: a person's assignments go with them.
    person = Person.objects.get(pk=world.person_b.pk)
    delete_roster_record(membership=world.owner_m, instance=person)
    assert set(Contribution.objects.filter(email="ben@beta.test").values_list("status", flat=True)) == {
        "unattributed"
    }


def test_a_known_email_cannot_be_mapped_to_a_second_person(world, roots):
    repo = GitRepo(roots / "late")
    # Ida is in-house from 2023; a commit from 2022 is hers but no assignment covers it.
    repo.commit("Ida Inhouse", "ida@acme.test", "2022-06-01", {"x": "1\n"}, "before her assignment")
    _sync(_register(world, roots / "late"))
    entry = next(e for e in unattributed_queue(world.owner_m) if e.email == "ida@acme.test")
    assert entry.person_id == world.inhouse.id
    with pytest.raises(ValidationError, match="already belongs to Ida Inhouse"):
        services.map_identity(membership=world.owner_m, email="ida@acme.test", vendor=None)
    assert Person.objects.filter(name="Ida Inhouse").count() == 1


def test_a_commit_two_people_of_one_vendor_wrote_counts_its_lines_once(world, roots):
    repo = GitRepo(roots / "pair")
    repo.commit(
        "Ana Alpha", "ana@alpha.test", "2024-03-15", {"p.py": "one = 1\ntwo = 2\nthree = 3\n"},
        "pairing within Alpha\n\nCo-authored-by: Max Mover <max@mover.test>",
    )  # fmt: skip
    _sync(_register(world, roots / "pair"))
    alpha = _by_vendor(world)[f"vendor:{world.vendor_a.uid}"]
    assert (alpha.commits, alpha.contributors, alpha.changed_lines) == (1, 2, 3)
