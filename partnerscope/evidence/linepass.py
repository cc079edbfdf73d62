"""The line-level pass: rework and surviving lines from one walk of the diffs.

The first pass reads the whole history of the main branch once and feeds both signals. Later
passes measure rework for the new commits (with the 21 days before them) and move the
surviving lines forward over the commits since the last pass only.
"""

from __future__ import annotations

from collections.abc import Callable

from partnerscope.evidence import gitsafe
from partnerscope.evidence.diffwalk import diff_command, parse_diffs
from partnerscope.evidence.models import Commit, Repository
from partnerscope.evidence.rework import ReworkMeter, ReworkWriter, update_rework
from partnerscope.evidence.survival import SurvivalPass

Progress = Callable[[str, int, int | None], None]


def update_line_signals(
    repository: Repository, mirror: str, tips: list[str], *, progress: Progress | None = None
) -> None:
    """Bring rework and surviving lines up to ``tips`` (the first is the main branch).

    ``progress(phase, done, total)`` may raise to cancel; what is stored stays consistent
    (rework counts are per commit; the surviving lines move only when the pass completes).
    """
    main_tip = tips[0]
    survival = SurvivalPass(repository, mirror)
    is_excluded = survival.is_excluded
    if survival.since:
        if progress:
            progress("Measuring rework", 0, None)
        update_rework(repository, mirror, tips)
        revisions = [main_tip, *survival.revisions_from]
        measure = None
    else:
        # The first pass: one walk of the main branch's diffs feeds both signals.
        revisions = [main_tip]
        pending = set(
            Commit.objects.filter(
                repository=repository, rework_lines__isnull=True, parent_count__lte=1
            ).values_list("sha", flat=True)
        )
        meter, writer = ReworkMeter(), ReworkWriter(repository)

        def measure(commit) -> None:
            rework = meter.measure(commit)
            if commit.sha in pending:
                writer.add(commit.sha, rework)

    phase = "Reading the diffs (rework, surviving lines)" if measure else "Counting surviving lines"
    total = gitsafe.rev_count(
        mirror, revisions[0], exclude=[survival.since] if survival.since else [], no_merges=True
    )
    if progress:
        progress(phase, 0, total)
    with gitsafe.stream_git(mirror, *diff_command(revisions)) as process:
        for done, commit in enumerate(parse_diffs(process.stdout, is_excluded), 1):
            if measure:
                measure(commit)
            survival.apply(commit)
            if progress and done % 1000 == 0:
                progress(phase, done, total)
        gitsafe.finish_stream(process)
    if measure:
        writer.flush()
        if len(tips) > 1:
            update_rework(repository, mirror, tips[1:])

    def reconciling(done: int, total: int) -> None:
        if progress:
            progress("Counting surviving lines at the tip", done, total)

    survival.finish(main_tip, reconciling)
