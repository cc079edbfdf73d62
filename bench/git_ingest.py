"""Benchmark: git ingestion against `git log` itself, measured in the same run.

    python bench/git_ingest.py [PATH_TO_REPO] [--ref BRANCH] [--skip-parallel] [--skip-line-pass]
                               [--fix-sample N]

Without a path it generates a small repository (for `make bench` and CI). It ingests the
repository into a fresh SQLite database through the product's own sync (parse, store,
attribute), and times `git log --numstat --no-renames` alone on the same mirror, so a busy
machine shows in both. The last line printed is one JSON object with every figure and ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(path: Path, commits: int = 3000) -> None:
    """A repository of `commits` commits by a dozen authors, written with fast-import."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    lines = []
    authors = [(f"Dev {i}", f"dev{i}@{'alpha' if i % 3 else 'beta'}.example") for i in range(12)]
    for n in range(commits):
        name, email = authors[n % len(authors)]
        when = 1_600_000_000 + n * 3600
        body = f"change {n}\n".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(
            f"author {name} <{email}> {when} +0000\ncommitter {name} <{email}> {when} +0000\n".encode()
        )
        # Every seventh commit a declared fix, so the bug-fix tracing has work.
        message = f"fix: commit {n}\n" if n % 7 == 3 else f"commit {n}\n"
        lines.append(f"data {len(message)}\n{message}".encode())
        for f in range(1 + n % 4):
            content = body * (1 + (n + f) % 7)
            lines.append(
                f"M 100644 inline src/mod{(n + f) % 50}/file{f}.py\ndata {len(content)}\n".encode() + content
            )
        lines.append(b"\n")
    subprocess.run(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"], input=b"".join(lines), check=True
    )


def add_commit(source: Path, ref: str, path: str = "") -> None:
    """A new commit on the source branch: the same tree, or ``path`` with one line more."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "New", "GIT_AUTHOR_EMAIL": "new@example.test",
           "GIT_COMMITTER_NAME": "New", "GIT_COMMITTER_EMAIL": "new@example.test"}  # fmt: skip

    def git(*args, input=None):
        return subprocess.run(
            ["git", "--git-dir", str(source), *args], input=input, capture_output=True, check=True, env=env
        ).stdout

    tree = git("rev-parse", f"{ref}^{{tree}}").decode().strip()
    if path:
        blob = git("hash-object", "-w", "--stdin", input=git("show", f"{ref}:{path}") + b"one more line\n")
        index = str(source / "bench-index")
        env["GIT_INDEX_FILE"] = index
        git("read-tree", tree)
        git("update-index", "--cacheinfo", f"100644,{blob.decode().strip()},{path}")
        tree = git("write-tree").decode().strip()
        os.unlink(index)
    new = git("commit-tree", tree, "-p", ref, "-m", "one more").decode().strip()
    git("update-ref", ref, new)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", nargs="?", help="a local git repository (default: generate a small one)")
    parser.add_argument("--ref", help="branch to read (default: the repository's default branch)")
    parser.add_argument(
        "--skip-parallel", action="store_true", help="do not measure the two-process ingestion"
    )
    parser.add_argument(
        "--skip-line-pass", action="store_true", help="do not measure rework and surviving lines"
    )
    parser.add_argument(
        "--fix-sample", type=int, default=200, help="fix-like commits traced against full-file blame (SZZ)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ps-bench-git-"))
    sources = work / "sources"
    sources.mkdir()
    source = sources / "repo.git"
    if args.repo:
        # A private copy (hard-linked objects on the same disk), so the benchmark can add a commit.
        branch = ["--single-branch", "--branch", args.ref] if args.ref else []
        subprocess.run(["git", "clone", "-q", "--bare", *branch, "--", args.repo, str(source)], check=True)
    else:
        generate(source)

    os.environ.update(
        PARTNERSCOPE_DATA_DIR=str(work / "data"),
        PARTNERSCOPE_GIT_LOCAL_ROOTS=str(sources),
        PARTNERSCOPE_GIT_PROCESSES="1",  # the product's sync in one process; two are measured below
        DJANGO_SETTINGS_MODULE="partnerscope.settings",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from partnerscope.engagements.models import Engagement
    from partnerscope.evidence import gitsafe
    from partnerscope.evidence.models import Commit, Contribution, FileChange, Repository
    from partnerscope.evidence.services import queue_sync, save_repository
    from partnerscope.evidence.sync import mirror_path, run_sync
    from partnerscope.orgs.models import Membership
    from partnerscope.orgs.services import create_organization
    from partnerscope.vendors.models import Vendor

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench@example.test")
    create_organization(slug="bench", name="Bench", owner=owner)
    m = Membership.objects.get(user=owner)
    from partnerscope.engagements.services import save_roster_record
    from partnerscope.vendors.services import save_vendor_record

    vendor = save_vendor_record(membership=m, instance=Vendor(name="Bench Vendor"))
    engagement = save_roster_record(
        membership=m,
        instance=Engagement(vendor=vendor, name="Bench", model="dedicated_team", start_date="1990-01-01"),
    )
    _roster(m, source, args.ref)

    repository = save_repository(
        membership=m,
        instance=Repository(engagement=engagement, name="repo", source=str(source), refs=args.ref or ""),
    )
    mirror = mirror_path(repository)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(source), allow_local_paths=True),
        str(mirror),
        timeout_s=3600,
        max_bytes=1 << 40,
    )
    gitsafe.run_git(str(mirror), "commit-graph", "write", "--reachable", timeout_s=3600)
    ref = args.ref or gitsafe.default_branch(str(mirror))
    ref = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
    commits = gitsafe.rev_count(str(mirror), ref)

    def git_log_alone():
        with open(os.devnull, "wb") as sink:
            subprocess.run(
                gitsafe.git_command("log", "--numstat", "--no-renames", "--end-of-options", ref, "--", git_dir=str(mirror)),
                stdout=sink, env=gitsafe.git_env(), check=True,
            )  # fmt: skip

    git_log_s, _ = timed(git_log_alone)

    def sync():
        # Ingestion alone (parse, store, attribute); the line-level pass is measured below.
        return run_sync(queue_sync(Repository.objects.get(pk=repository.pk)), line_passes=False)

    ingest_s, run = timed(sync)
    assert run.status == "succeeded", run.message
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stored = Commit.objects.filter(repository=repository).count()
    files = FileChange.objects.count()
    attributed = Contribution.objects.filter(status="vendor").count()

    noop_s, run = timed(sync)
    assert "up to date" in run.message, run.message

    # One new commit on the source branch, then a re-sync (fetch, read, store, attribute).
    add_commit(source, ref)
    one_commit_s, run = timed(sync)
    assert run.new_commits == 1, run.message

    result = {
        "repository": args.repo or "generated",
        "commits": commits,
        "stored_commits": stored,
        "file_changes": files,
        "vendor_contributions": attributed,
        "git_log_s": round(git_log_s, 3),
        "ingest_s": round(ingest_s, 3),
        "ratio_vs_git_log": round(ingest_s / git_log_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "noop_resync_s": round(noop_s, 3),
        "one_commit_resync_s": round(one_commit_s, 3),
    }
    print("partial:", json.dumps(result), file=sys.stderr, flush=True)
    # Before the line pass's one-commit re-sync, which then finds the fixes already traced.
    _bug_fixes(result, mirror, repository, args.fix_sample)
    if not args.skip_line_pass:
        _line_pass(result, mirror, source, ref, repository)
    if not args.skip_parallel:
        from partnerscope.evidence.attribution import attribute_repository
        from partnerscope.evidence.parallel import ingest_in_parallel

        Commit.objects.filter(repository=repository).delete()
        Repository.objects.filter(pk=repository.pk).update(cursor={})
        tip = gitsafe.list_refs(str(mirror))[ref]

        def parallel_ingest():
            fresh = Repository.objects.get(pk=repository.pk)
            ingest_in_parallel(fresh, str(mirror), [tip], [], run_id=None, processes=2)
            attribute_repository(fresh, only_pending=True)

        parallel_s, _ = timed(parallel_ingest)
        result["ingest_parallel_s"] = round(parallel_s, 3)
        result["ratio_parallel_vs_git_log"] = round(parallel_s / git_log_s, 3)
        result["parallel_stored_commits"] = Commit.objects.filter(repository=repository).count()
    shutil.rmtree(work, ignore_errors=True)  # the mirror and database copies are large
    print(json.dumps(result))


def _line_pass(result: dict, mirror, source, ref: str, repository, blame_sample: int = 40) -> None:
    """The first line-level pass (one diff walk: rework and surviving lines, then the
    reconciliation with the tip), against `git log -p --unified=0` alone; and how often its
    owner of a line agrees with `git blame` on a sample of files."""
    import random

    from django.db.models import Count

    from partnerscope.evidence import gitsafe
    from partnerscope.evidence.linepass import update_line_signals
    from partnerscope.evidence.models import Commit, LineOwnership, Repository, SurvivingLines
    from partnerscope.evidence.survival import agreement

    def git_log_patch_alone():
        with open(os.devnull, "wb") as sink:
            subprocess.run(
                gitsafe.git_command("log", "--no-merges", "-p", "--unified=0", "--no-renames", "--end-of-options", ref, "--", git_dir=str(mirror)),
                stdout=sink, env=gitsafe.git_env(), check=True,
            )  # fmt: skip

    git_log_patch_s, _ = timed(git_log_patch_alone)
    # From scratch, whatever the sync before measured.
    Commit.objects.filter(repository=repository).update(rework_lines=None)
    LineOwnership.objects.filter(repository=repository).delete()
    SurvivingLines.objects.filter(repository=repository).delete()
    Repository.objects.filter(pk=repository.pk).update(lines_tip="")
    fresh = Repository.objects.get(pk=repository.pk)
    head = gitsafe.list_refs(str(mirror))[ref]
    line_pass_s, _ = timed(lambda: update_line_signals(fresh, str(mirror), [head]))
    files = list(
        SurvivingLines.objects.filter(repository=repository)
        .values("path")
        .annotate(n=Count("id"))
        .order_by("path")
        .values_list("path", flat=True)
    )
    sample = random.Random(1).sample(files, min(blame_sample, len(files)))
    by_walk = []
    for path in sample:
        rows = SurvivingLines.objects.filter(repository=repository, path=path).values_list("email", "lines")
        by_walk.append((path, dict(rows)))
    # A re-sync after one commit that changes one file, line-level pass included.
    from partnerscope.evidence.services import queue_sync
    from partnerscope.evidence.sync import run_sync

    add_commit(source, ref, path=files[0])
    one_commit_lines_s, run = timed(lambda: run_sync(queue_sync(Repository.objects.get(pk=repository.pk))))
    assert run.new_commits == 1, run.message
    result.update(
        one_commit_resync_with_line_pass_s=round(one_commit_lines_s, 3),
        git_log_patch_s=round(git_log_patch_s, 3),
        line_pass_s=round(line_pass_s, 3),
        line_pass_ratio=round(line_pass_s / git_log_patch_s, 3),
        surviving_files=len(files),
        blame_agreement=round(agreement(by_walk, str(mirror), head), 4),
        blame_sample_files=len(sample),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def _bug_fixes(result: dict, mirror, repository, sample: int) -> None:
    """SZZ tracing against what a classic implementation asks git for, in the same run.

    The baseline is git alone doing a full-file ``git blame -w`` of each file a fix deleted
    lines from, at the fix's parent (after the same ``git diff-tree``), as tools that blame
    whole files do; ours blames only the deleted lines (``-L``). Measured on a sample of the
    commits whose subject mentions "fix" (a real history rarely declares them the Conventional
    Commits way), sequentially (``fix_trace_s``) and through the product's pass with its
    threads and storing (``fix_pass_s``); then the pass over the fixes its rules find, and its
    cost on a sync with nothing new to trace."""
    import random

    from django.test import override_settings

    from partnerscope.evidence import gitsafe, szz
    from partnerscope.evidence.models import BugFix, BugIntroduction, Commit, Repository
    from partnerscope.evidence.patterns import matcher

    fresh = Repository.objects.get(pk=repository.pk)
    is_excluded = matcher(fresh.glob_list("exclude_globs"), anywhere=True)
    fix_like = list(
        Commit.objects.filter(repository=repository, parent_count=1, reverts_sha="", subject__icontains="fix")
        .order_by("id")
        .values_list("sha", flat=True)
    )
    chosen = random.Random(2).sample(fix_like, min(sample, len(fix_like)))
    traced_lines = blamed = 0

    def ours():
        nonlocal traced_lines, blamed
        for sha in chosen:
            found, lines, _ = szz.trace(str(mirror), sha, is_excluded)
            traced_lines += lines
            blamed += len(found)

    def full_file_blame():
        for sha in chosen:
            by_path, _ = szz.deleted_lines(str(mirror), sha, is_excluded)
            for path in by_path:
                with open(os.devnull, "wb") as sink:
                    subprocess.run(
                        gitsafe.git_command("blame", "--porcelain", "-w", f"{sha}^", "--", path, git_dir=str(mirror)),
                        stdout=sink, env=gitsafe.git_env(), check=True,
                    )  # fmt: skip

    baseline_s, _ = timed(full_file_blame)
    ours_s, _ = timed(ours)

    # The product's pass over the same sample (its threads, storing and marking): the sampled
    # commits stand in for the fixes it would find.
    ids = dict(Commit.objects.filter(repository=repository, sha__in=chosen).values_list("sha", "id"))
    found_by_rules = szz.candidates
    szz.candidates = lambda repository: {ids[sha]: szz.Candidate("conventional") for sha in chosen}
    # With the product's default threads (the cores, up to 4), not the one process the
    # ingestion above is measured with.
    threads = min(4, os.cpu_count() or 1)
    try:
        with override_settings(GIT_PROCESSES=threads):
            pass_s, _ = timed(
                lambda: szz.update_bug_fixes(Repository.objects.get(pk=repository.pk), str(mirror))
            )
    finally:
        szz.candidates = found_by_rules
    sample_introductions = BugIntroduction.objects.filter(fix__repository=repository).count()
    BugFix.objects.filter(repository=repository).delete()
    with override_settings(GIT_PROCESSES=threads):
        first_s, (fixes, _) = timed(
            lambda: szz.update_bug_fixes(Repository.objects.get(pk=repository.pk), str(mirror))
        )
        noop_s, (again, _) = timed(
            lambda: szz.update_bug_fixes(Repository.objects.get(pk=repository.pk), str(mirror))
        )
    assert again == 0
    result.update(
        fix_sample=len(chosen),
        fix_sample_lines=traced_lines,
        fix_sample_blamed=blamed,
        fix_full_blame_s=round(baseline_s, 3),
        fix_trace_s=round(ours_s, 3),
        fix_trace_ratio=round(ours_s / baseline_s, 3) if baseline_s else None,
        fix_trace_ms_each=round(1000 * ours_s / len(chosen), 2) if chosen else None,
        fix_pass_threads=threads,
        fix_pass_s=round(pass_s, 3),
        fix_pass_ratio=round(pass_s / baseline_s, 3) if baseline_s else None,
        fix_pass_introductions=sample_introductions,
        declared_fixes=fixes,
        declared_fixes_traced_s=round(first_s, 3),
        bug_introductions=BugIntroduction.objects.filter(fix__repository=repository).count(),
        bug_fixes_stored=BugFix.objects.filter(repository=repository).count(),
        fix_noop_s=round(noop_s, 3),
    )


def _roster(membership, source: Path, ref: str | None) -> None:
    """Put the ten most frequent authors on the roster, so attribution does real work."""
    from partnerscope.engagements.models import Assignment, Identity, Person
    from partnerscope.engagements.services import save_roster_record
    from partnerscope.vendors.models import Vendor

    vendor = Vendor.objects.get()
    out = subprocess.run(
        ["git", "--git-dir", str(source), "shortlog", "-sne", ref or "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines()[:10]:
        name, _, email = line.split("\t", 1)[1].rpartition(" <")
        person = save_roster_record(membership=membership, instance=Person(name=name[:160]))
        save_roster_record(
            membership=membership,
            instance=Identity(person=person, kind="email", value=email.rstrip(">").lower()),
        )
        save_roster_record(
            membership=membership, instance=Assignment(person=person, vendor=vendor, valid_from="1970-01-01")
        )


if __name__ == "__main__":
    main()
