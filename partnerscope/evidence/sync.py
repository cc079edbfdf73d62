"""One repository sync: mirror, read the new history, store it, attribute it, move the cursor.

Runs in the background worker (``tasks.sync_repository``) or in the CLI; both report progress
through the ``SyncRun`` row, which the page polls. Every failure ends as a message in words on
the run, never as a half-written history: batches are idempotent and the cursor moves last.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partnerscope.evidence import gitsafe, parallel
from partnerscope.evidence.attribution import attribute_repository
from partnerscope.evidence.gitlog import log_command, parse_log
from partnerscope.evidence.ingest import Cancelled, IngestStats, ingest
from partnerscope.evidence.linepass import update_line_signals
from partnerscope.evidence.models import Commit, Repository, SyncRun
from partnerscope.evidence.szz import update_bug_fixes

log = logging.getLogger("partnerscope.evidence")


def mirror_path(repository: Repository) -> Path:
    return Path(settings.DATA_DIR) / "mirrors" / str(repository.organization_id) / f"{repository.uid}.git"


def _source(repository: Repository) -> gitsafe.Source:
    from partnerscope.evidence.services import check_source

    return check_source(repository.source)


def _update_mirror(repository: Repository, run: SyncRun, mirror: Path) -> None:
    caps = {"timeout_s": settings.GIT_TIMEOUT_SECONDS, "max_bytes": settings.GIT_MAX_BYTES}
    if (mirror / "HEAD").exists():
        _phase(run, "Fetching updates")
        # The source is checked again now: a path may have been swapped for a link since.
        gitsafe.fetch_mirror(str(mirror), source=_source(repository), **caps)
    else:
        _phase(run, "Cloning the repository")
        mirror.parent.mkdir(parents=True, exist_ok=True)
        gitsafe.mirror_clone(_source(repository), str(mirror), **caps)
    if gitsafe.is_shallow(str(mirror)):
        raise gitsafe.GitError(
            "The repository is a shallow clone: its history is cut off, so commits would be missing. "
            "Register the full repository instead."
        )


def _tips(repository: Repository, mirror: Path) -> dict[str, str]:
    refs = gitsafe.list_refs(str(mirror))
    if not refs:
        raise gitsafe.GitError("The repository is empty: it has no branches yet.")
    wanted = repository.refs.split() or [gitsafe.default_branch(str(mirror)) or ""]
    tips = {}
    for name in wanted:
        full = name if name.startswith("refs/") else f"refs/heads/{name}"
        if full not in refs:
            known = ", ".join(
                sorted(r.removeprefix("refs/heads/") for r in refs if r.startswith("refs/heads/"))[:10]
            )
            raise gitsafe.GitError(f"The branch {name!r} does not exist in the repository (it has: {known}).")
        tips[full] = refs[full]
    return tips


def _phase(run: SyncRun, phase: str, **fields) -> None:
    run.phase = phase
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=["phase", *fields, "updated_at"])


def run_sync(
    run: SyncRun, *, on_progress: Callable[[SyncRun], None] | None = None, line_passes: bool = True
) -> SyncRun:
    repository = run.repository
    mirror = mirror_path(repository)
    run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
    run.worker_host, run.worker_pid = socket.gethostname(), os.getpid()
    run.save(update_fields=["status", "started_at", "worker_host", "worker_pid", "updated_at"])
    Repository.objects.filter(pk=repository.pk).update(status=Repository.Status.SYNCING)
    process = None
    try:
        _update_mirror(repository, run, mirror)
        tips = _tips(repository, mirror)
        known = [sha for sha in repository.cursor.values() if gitsafe.has_commit(str(mirror), sha)]
        if sorted(tips.values()) == sorted(repository.cursor.values()):
            if line_passes and repository.lines_tip != next(iter(tips.values())):
                _line_passes(repository, run, mirror, tips, on_progress)
                _trace_bug_fixes(repository, run, mirror, on_progress)
                return _finish(
                    run, repository, tips, IngestStats(), "No new commits; line-level signals updated."
                )
            if line_passes:
                # A bug linked since the last sync can make an old commit a fix.
                _trace_bug_fixes(repository, run, mirror, on_progress)
            return _finish(run, repository, tips, IngestStats(), "Already up to date: no new commits.")
        # A commit-graph makes counting (progress totals) and walking much cheaper; --split
        # adds a layer for the new commits only.
        gitsafe.run_git(
            str(mirror),
            "commit-graph",
            "write",
            "--reachable",
            "--split",
            timeout_s=settings.GIT_TIMEOUT_SECONDS,
        )
        total = gitsafe.rev_count(str(mirror), list(tips.values()), exclude=known)
        _phase(run, "Reading the history", progress_total=total, progress_done=0)
        if on_progress:
            on_progress(run)

        def checkpoint(stats: IngestStats) -> None:
            # Inside the batch's transaction: progress always matches the stored rows.
            fresh = SyncRun.objects.only("cancel_requested").get(pk=run.pk)
            if fresh.cancel_requested:
                raise Cancelled
            run.progress_done, run.new_commits = stats.seen, stats.inserted
            run.save(update_fields=["progress_done", "new_commits", "updated_at"])
            if on_progress:
                on_progress(run)

        plausible = (datetime.date(1990, 1, 1), timezone.localdate() + datetime.timedelta(days=1))
        processes = parallel.default_processes()
        if total >= parallel.MIN_COMMITS_TO_SPLIT and processes > 1:
            stats = parallel.ingest_in_parallel(
                repository,
                str(mirror),
                list(tips.values()),
                known,
                run_id=run.pk,
                processes=processes,
                plausible=plausible,
            )
        else:
            process = gitsafe.stream_git(
                str(mirror), *log_command(tips.values(), known, renames=repository.detect_renames)
            )
            stats = ingest(
                repository,
                parse_log(process.stdout),
                checkpoint=checkpoint,
                plausible=plausible,
                batch_size=settings.GIT_BATCH_COMMITS,
            )
            gitsafe.finish_stream(process)
            process = None
        if line_passes:
            _line_passes(repository, run, mirror, tips, on_progress)
            _trace_bug_fixes(repository, run, mirror, on_progress)
        message = f"Read {stats.seen} commit{'' if stats.seen == 1 else 's'}, {stats.inserted} new."
        if stats.implausible_dates:
            message += (
                " Some commits carry implausible dates and were kept as dated (attribution uses "
                f"that date): {', '.join(stats.implausible_dates)}."
            )
        return _finish(run, repository, tips, stats, message)
    except Cancelled:
        return _end(run, repository, SyncRun.Status.CANCELLED, "Cancelled; the commits read so far are kept.")
    except gitsafe.GitError as exc:
        return _end(run, repository, SyncRun.Status.FAILED, str(exc))
    except Exception:
        log.exception("sync of repository %s failed", repository.pk)
        return _end(
            run, repository, SyncRun.Status.FAILED, "The sync failed on an internal error; it was logged."
        )
    finally:
        if process is not None:
            process.kill_all()


def _line_passes(repository: Repository, run: SyncRun, mirror: Path, tips: dict, on_progress) -> None:
    """Rework (new commits) and surviving lines (commits since the last pass)."""

    def show(phase: str, done: int, total: int | None) -> None:
        if SyncRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            raise Cancelled
        _phase(run, phase, progress_done=done, progress_total=total)
        if on_progress:
            on_progress(run)

    update_line_signals(repository, str(mirror), list(tips.values()), progress=show)


def _trace_bug_fixes(repository: Repository, run: SyncRun, mirror: Path, on_progress) -> None:
    """Bug-introducing changes: blame the lines of the fixes not traced yet (szz.py)."""

    def show(done: int, total: int) -> None:
        if SyncRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            raise Cancelled
        _phase(run, "Tracing bug fixes", progress_done=done, progress_total=total)
        if on_progress:
            on_progress(run)

    update_bug_fixes(repository, str(mirror), progress=show)


def _finish(run: SyncRun, repository: Repository, tips: dict, stats: IngestStats, message: str) -> SyncRun:
    _phase(run, "Attributing contributions")
    with transaction.atomic():
        # The cursor moves in the same transaction as the attribution of what was read.
        attribute_repository(repository, only_pending=True)
        Repository.objects.filter(pk=repository.pk).update(
            cursor=tips,
            lines_tip=repository.lines_tip,
            status=Repository.Status.OK,
            last_synced_at=timezone.now(),
            last_error="",
            commit_count=Commit.objects.filter(repository=repository).count(),
        )
        run.status, run.message, run.finished_at = SyncRun.Status.SUCCEEDED, message, timezone.now()
        run.phase = "Done"
        run.save(update_fields=["status", "message", "finished_at", "phase", "updated_at"])
    repository.cursor = tips
    return run


def _end(run: SyncRun, repository: Repository, status: str, message: str) -> SyncRun:
    failed = status == SyncRun.Status.FAILED
    Repository.objects.filter(pk=repository.pk).update(
        status=Repository.Status.FAILED
        if failed
        else (Repository.Status.OK if repository.cursor else Repository.Status.NEW),
        last_error=message if failed else "",
    )
    run.status, run.message, run.finished_at, run.phase = status, message, timezone.now(), ""
    run.save(update_fields=["status", "message", "finished_at", "phase", "updated_at"])
    return run
