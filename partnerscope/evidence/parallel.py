"""Reading a long history with several processes.

`git log` is single-threaded, so an initial sync of a long history is split into ranges along
the first-parent line: range k is what checkpoint k reaches and checkpoint k+1 does not, so
every commit falls in exactly one range. Worker processes take ranges from a queue (newer
commits cost more to diff, so more ranges than workers keeps them evenly busy), each running
its own `git log` and writing its own batches; the idempotent batch writes make the order
irrelevant and a crash resumable as for one process.
"""

from __future__ import annotations

import multiprocessing
import queue

from django.conf import settings
from django.db import connections
from django.db.models import F

from partnerscope.evidence import gitsafe
from partnerscope.evidence.gitlog import log_command, parse_log
from partnerscope.evidence.ingest import Cancelled, IngestStats, ingest
from partnerscope.evidence.models import Repository, SyncRun

# Below this many commits one process is faster than starting several.
MIN_COMMITS_TO_SPLIT = 20_000


def plan_ranges(
    mirror: str, tips: list[str], exclude: list[str], parts: int
) -> list[tuple[list[str], list[str]]]:
    """(include, exclude) revision lists covering tips minus exclude, in `parts` ranges."""
    if len(tips) != 1:
        return [(tips, exclude)]
    line = gitsafe.run_git(
        mirror, "rev-list", "--first-parent", "--end-of-options", tips[0], *(f"^{e}" for e in exclude), "--"
    ).split()
    if len(line) < parts * 2:
        return [(tips, exclude)]
    # Checkpoints at equal steps of the first-parent line, newest first.
    step = len(line) // parts
    points = [line[i * step].decode() for i in range(parts)]
    ranges = []
    for k, point in enumerate(points):
        stop = [points[k + 1]] if k + 1 < len(points) else []
        ranges.append(([point], stop + list(exclude)))
    return ranges


def _worker(
    repository_id: int, run_id: int | None, mirror: str, jobs, results, renames: bool, plausible
) -> None:
    # Each process opens its own database connection: the parent's must not be shared.
    connections.close_all()
    repository = Repository.objects.get(pk=repository_id)
    total = IngestStats()

    def range_checkpoint():
        """Progress as increments (the workers share one run row), checked for cancellation."""
        last = {"seen": 0, "inserted": 0}

        def checkpoint(stats: IngestStats) -> None:
            if run_id is None:
                return
            if SyncRun.objects.filter(pk=run_id, cancel_requested=True).exists():
                raise Cancelled
            SyncRun.objects.filter(pk=run_id).update(
                progress_done=F("progress_done") + (stats.seen - last["seen"]),
                new_commits=F("new_commits") + (stats.inserted - last["inserted"]),
            )
            last.update(seen=stats.seen, inserted=stats.inserted)

        return checkpoint

    try:
        while True:
            job = jobs.get()
            if job is None:
                break
            include, exclude = job
            process = gitsafe.stream_git(mirror, *log_command(include, exclude, renames=renames))
            try:
                stats = ingest(
                    repository, parse_log(process.stdout), checkpoint=range_checkpoint(), plausible=plausible
                )
                gitsafe.finish_stream(process)
            finally:
                process.kill_all()
            total.seen += stats.seen
            total.inserted += stats.inserted
            total.implausible_dates += stats.implausible_dates
        results.put(("ok", total.seen, total.inserted, total.implausible_dates[:5]))
    except Cancelled:
        results.put(("cancelled", total.seen, total.inserted, []))
    except gitsafe.GitError as exc:
        results.put(("error", 0, 0, [str(exc)]))
    except Exception as exc:  # reported to the parent, which logs and fails the run
        results.put(("crash", 0, 0, [repr(exc)]))
    finally:
        connections.close_all()


def ingest_in_parallel(
    repository: Repository,
    mirror: str,
    tips: list[str],
    exclude: list[str],
    *,
    run_id: int | None,
    processes: int,
    plausible: tuple | None = None,
) -> IngestStats:
    ranges = plan_ranges(mirror, tips, exclude, parts=processes * 4)
    context = multiprocessing.get_context("fork")
    jobs, results = context.Queue(), context.Queue()
    for job in ranges:
        jobs.put(job)
    for _ in range(processes):
        jobs.put(None)
    connections.close_all()  # never fork an open connection
    workers = [
        context.Process(
            target=_worker,
            args=(repository.id, run_id, mirror, jobs, results, repository.detect_renames, plausible),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = []
    while len(outcomes) < len(workers):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            # A worker that died without reporting (killed, or failed before its first line)
            # must not leave the sync waiting forever.
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead and results.empty():
                for worker in workers:
                    worker.kill()
                raise RuntimeError(f"an ingestion worker exited with code {dead[0].exitcode}") from None
    for worker in workers:
        worker.join()
    total = IngestStats()
    for status, seen, inserted, notes in outcomes:
        if status == "cancelled":
            raise Cancelled
        if status == "error":
            raise gitsafe.GitError(notes[0])
        if status == "crash":
            raise RuntimeError(f"an ingestion worker failed: {notes[0]}")
        total.seen += seen
        total.inserted += inserted
        total.implausible_dates += notes
    return total


def default_processes() -> int:
    return max(1, settings.GIT_PROCESSES)
