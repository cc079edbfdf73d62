"""The metric engine: measures per cell by set-based SQL, KPI values with provenance, stored.

``recompute(organization_id, scope)`` reads evidence once per measure (a GROUP BY each), adds
months up into quarters and engagements up into "all engagements of the vendor" (counts, sums
and the id digests are additive; durations are kept as samples so medians are exact), computes
every KPI of the catalogue for every cell and upserts the values. Scores and alerts follow
(scoring.py). Pages and the API only ever read the stored rows.

Incremental recompute: evidence writers call ``dirty.mark`` with the engagement and dates they
touched; ``recompute_dirty`` reads the evidence of those (engagement, month) pairs only. Each
engagement's month cell keeps its measures' additive parts and its durations (``CellMeasures
.parts`` and ``.samples``), so the quarters and the "all engagements" cells the new evidence
changes are added up from stored months instead of from evidence (a quarter's median needs
every sample of its months; the stored durations are those samples).
"""

from __future__ import annotations

import datetime
import functools
import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from partnerscope.metrics import kpis as kpi_catalogue
from partnerscope.metrics import periods, readers
from partnerscope.metrics.bulk import upsert
from partnerscope.metrics.measures import (
    EVERYTHING,
    PEOPLE_AT_A_TIME,
    CellAggregate,
    Scope,
    calendar_weeks,
    chunks,
    deployment_cells,
    duration_groups,
    grouped_cells,
    measure_groups,
    roster_cells,
    sharing_deployment_vendors,
)
from partnerscope.metrics.models import CellMeasures, DirtyCell, MetricValue, Score
from partnerscope.metrics.skills import skill_cells
from partnerscope.metrics.sprints import sprint_cells
from partnerscope.metrics.stats import SampleChunk, pack_chunks, unpack_chunks

Progress = Callable[[str, int, int], None]
ALL = 0  # engagement_key of "all engagements of the vendor"; vendor_key 0 is in-house


@dataclass
class RecomputeResult:
    cells: int = 0
    values: int = 0
    scores: int = 0
    alerts: int = 0


def _noop(phase: str, done: int, total: int) -> None:
    pass


def _period_values(kind: str, start: datetime.date) -> dict[str, float]:
    days = periods.days_in(kind, start)
    return {
        "days": float(days), "weeks": days / 7, "months": 1.0 if kind == periods.MONTH else 3.0,
        "calendar_weeks": float(calendar_weeks(start, periods.next_start(kind, start))),
    }  # fmt: skip


# Which kinds of evidence (DirtyCell.Source) each reader depends on, by measure base or
# duration name: an incremental recompute re-reads only the readers fed by the evidence that
# changed (a git sync does not re-read work items). A reader not listed is always read.
READS = {
    "contributions": {"git"}, "reverted_contributions": {"git"},
    "bug_introducing_contributions": {"git"}, "covered_contributions": {"git"}, "_merged": {"prs", "git"},
    "closed_prs": {"prs"}, "resolved_items": {"items"}, "reported_items": {"items"}, "ci_runs": {"deployments"},
    "deployments": {"deployments", "incidents", "git", "prs"}, "roster": {"roster"},
    "lead_time": {"deployments", "prs"}, "deploy_time": {"deployments", "prs"}, "pickup_time": {"prs"},
    "review_time": {"prs"}, "client_wait": {"prs"}, "coding_time": {"prs"}, "issue_lead_time": {"items"},
    "ticket_client_wait": {"items"},
    "recovery_time": {"incidents", "deployments", "git", "prs"}, "deploy_days": {"deployments", "git", "prs"},
    "time_to_staff": {"prs", "roster"},
    "ramp_up": {"prs", "roster"},
    "skills": {"git", "roster"},
    "sprints": {"items"},
}  # fmt: skip


# Durations read on the deployments' thread, after measuring them (see _readers).
SHARE_DEPLOYMENT_VENDORS = frozenset({"recovery_time", "deploy_days"})

# Each reader's usual cost, in seconds of an incremental recompute at the large benchmark on
# PostgreSQL: the costliest start first (readers not listed last).
READ_COST = {
    "lead_time": 0.5, "deployments": 0.36, "_merged": 0.23, "pickup_time": 0.2, "contributions": 0.2,
    "closed_prs": 0.12, "reverted_contributions": 0.09, "coding_time": 0.05, "roster": 0.03, "ramp_up": 0.01,
    "time_to_staff": 0.01, "skills": 0.01, "sprints": 0.01, "bug_introducing_contributions": 0.01,
    "covered_contributions": 0.01,
}  # fmt: skip


def _needed(reader: str, sources: set[str] | None) -> bool:
    return sources is None or "all" in sources or reader not in READS or bool(READS[reader] & sources)


def collect(organization_id: int, scope: Scope, progress: Progress = _noop, sources: set[str] | None = None):
    """Measures and duration samples per (engagement, vendor, month), and the names of those
    read: all of them, or (``sources``) those fed by these kinds of evidence. The readers run
    side by side when the caller allows it (readers.side_by_side); their results are merged here,
    on the caller's thread, which also reports the progress."""
    month_measures: dict[tuple, dict[str, CellAggregate]] = defaultdict(dict)
    # Each month's durations of a cell become one chunk (hours as an array, the ids' digest
    # summed once): quarters and "all engagements" cells are then made of chunks.
    month_samples: dict[tuple, dict[str, SampleChunk]] = defaultdict(dict)
    covered: set[str] = set()
    jobs = _readers(organization_id, scope, sources)
    # One phase for all readers: side by side, a reader's own time is not the phase's.
    progress("Reading evidence", 0, len(jobs))
    for done, (_, (measured, timed)) in enumerate(readers.run(jobs), start=1):
        for name, cells in measured.items():
            covered.add(name)
            for key, aggregate in cells.items():
                month_measures[key][name] = aggregate
        for name, columns in timed.items():
            covered.add(name)
            for key, chunk in columns.by_cell().items():
                month_samples[key][name] = chunk
        progress("Reading evidence", done, len(jobs))
    return month_measures, month_samples, covered


def _readers(organization_id: int, scope: Scope, sources: set[str] | None) -> list[readers.Reader]:
    """One reader per query (a GROUP BY of measures sharing a base, the deployments, the
    roster, a timing), each returning ({measure: cells}, {duration: columns}). The slowest
    first: with two threads, a slow reader started last would leave one thread idle at the end."""
    out = []
    for group in measure_groups():
        if _needed(group[0].base.__name__, sources):
            label = "Measuring " + ", ".join(m.label.lower() for m in group)
            read = functools.partial(_measured, organization_id, scope, group)
            out.append(readers.Reader(label, read, READ_COST.get(group[0].base.__name__, 0)))
    timings = [(d, read) for d, read in duration_groups() if any(_needed(x.name, sources) for x in d)]
    # Recovery time and deployment days ask about the deployments that measuring the deployments
    # has just looked up (sharing_deployment_vendors): they read on its thread, after it.
    shared = [(d, read) for d, read in timings if any(x.name in SHARE_DEPLOYMENT_VENDORS for x in d)]
    if _needed("deployments", sources):
        for timing in shared:
            timings.remove(timing)
        label = "Measuring deployments" + "".join(f", {x.label.lower()}" for d, _ in shared for x in d)
        read = functools.partial(_deployments, organization_id, scope, shared)
        out.append(readers.Reader(label, read, READ_COST["deployments"]))
    if _needed("roster", sources):
        read = functools.partial(_roster, organization_id, scope)
        out.append(readers.Reader("Reading the roster", read, READ_COST["roster"]))
    if _needed("skills", sources):
        read = functools.partial(_skills, organization_id, scope)
        out.append(readers.Reader("Reading skill coverage", read, READ_COST["skills"]))
    if _needed("sprints", sources):
        read = functools.partial(_sprints, organization_id, scope)
        out.append(readers.Reader("Reading sprints", read, READ_COST["sprints"]))
    for durations, read in timings:
        label = "Timing " + ", ".join(d.label.lower() for d in durations)
        cost = max(READ_COST.get(d.name, 0) for d in durations)
        out.append(readers.Reader(label, functools.partial(_timed, organization_id, scope, read), cost))
    return sorted(out, key=lambda job: -job.cost)


def _measured(organization_id, scope, group):
    return grouped_cells(organization_id, scope, group), {}


def _timed(organization_id, scope, read):
    return {}, read(organization_id, scope)


def _deployments(organization_id, scope, shared):
    timed = {}
    with sharing_deployment_vendors():
        prod, failed, _ = deployment_cells(organization_id, scope)
        for _, read in shared:
            timed.update(read(organization_id, scope))
    return {"prod_deployments": prod, "failed_deployments": failed}, timed


def _roster(organization_id, scope):
    roster, _ = roster_cells(organization_id, scope)
    return roster, {}


def _skills(organization_id, scope):
    measured, _ = skill_cells(organization_id, scope)
    return measured, {}


def _sprints(organization_id, scope):
    measured, _ = sprint_cells(organization_id, scope)
    return measured, {}


def roll_up(month_measures, month_samples):
    """Cells at both levels (one engagement, all engagements) and both period kinds. Counts
    and sums add up; headcounts are people at a time, so a quarter takes its largest month."""
    monthly: dict[tuple, dict[str, CellAggregate]] = defaultdict(dict)
    for (eng, vkey, month), named in month_measures.items():
        for eng_key in (eng, ALL):
            cell = monthly[(eng_key, vkey, month)]
            for name, aggregate in named.items():
                cell.setdefault(name, CellAggregate()).add(aggregate)
    measures: dict[tuple, dict[str, CellAggregate]] = {}
    for (eng_key, vkey, month), named in monthly.items():
        measures[(eng_key, vkey, periods.MONTH, month)] = named
        quarter = measures.setdefault((eng_key, vkey, periods.QUARTER, periods.quarter_start(month)), {})
        for name, aggregate in named.items():
            if name in PEOPLE_AT_A_TIME:
                current = quarter.get(name)
                if current is None or aggregate.value > current.value:
                    quarter[name] = CellAggregate(aggregate.value, aggregate.n, 0, 0)
            else:
                quarter.setdefault(name, CellAggregate()).add(aggregate)
    samples: dict[tuple, dict[str, list[SampleChunk]]] = defaultdict(lambda: defaultdict(list))
    for (eng, vkey, month), named in month_samples.items():
        for kind in periods.KINDS:
            start = periods.start_of(kind, month)
            for eng_key in (eng, ALL):
                cell = samples[(eng_key, vkey, kind, start)]
                for name, chunk in named.items():
                    cell[name].append(chunk)
    return measures, samples


def recompute(organization_id: int, scope: Scope = EVERYTHING, progress: Progress = _noop) -> RecomputeResult:
    """Compute and store every KPI for every cell in ``scope`` (whole quarters only)."""
    month_measures, month_samples, _ = collect(organization_id, scope, progress)
    measures, samples = roll_up(month_measures, month_samples)
    in_scope = Q()
    if scope.start:
        in_scope &= Q(period_start__gte=scope.start)
    if scope.end:
        in_scope &= Q(period_start__lt=scope.end)
    return _compute_and_store(
        organization_id, measures, samples, set(measures) | set(samples), in_scope, progress
    )


def _compute_and_store(
    organization_id, measures, samples, keys, cells: Q, progress: Progress
) -> RecomputeResult:
    """KPI values for ``keys``, stored; then every value in ``cells`` this did not write becomes
    "no data", and the scores of ``cells`` follow."""
    from partnerscope.metrics.scoring import rescore

    catalogue = kpi_catalogue.catalogue(organization_id)
    kpis = [(kpi, kpi.measures_used) for kpi in catalogue.values()]
    now = timezone.now()
    progress("Computing KPI values", 0, len(keys))
    rows, cell_rows = [], []
    for done, key in enumerate(sorted(keys)):
        eng_key, vkey, kind, start = key
        named = measures.get(key, {})
        parts = blob = None
        if eng_key != ALL and kind == periods.MONTH:
            parts = json.dumps({name: [a.value, a.n, a.id_sum, a.id_hash] for name, a in named.items()})
            blob = pack_chunks(samples[key]) if samples.get(key) else None
        ordered = sorted(named.items())
        cell_rows.append(
            (organization_id, eng_key, vkey, kind, start, json.dumps({name: a.value for name, a in ordered}),
             json.dumps({name: a.digest for name, a in ordered}), parts, blob)
        )  # fmt: skip
        period_values = _period_values(kind, start)
        cell_samples = samples.get(key, {})
        for kpi, reads in kpis:
            # A cell holding none of the evidence a KPI reads gets no row for it (the KPI
            # would compute to "no data" anyway): most cells lack some kinds of evidence.
            if not (
                kpi.duration in cell_samples if kpi.kind == "duration" else any(n in named for n in reads)
            ):
                continue
            computed = kpi_catalogue.compute(kpi, named, cell_samples, period_values)
            rows.append(
                (kpi.key, kpi.version, eng_key or None, eng_key, vkey or None, vkey, kind, start, computed.value,
                 computed.sample, computed.numerator, computed.denominator, computed.ci_low, computed.ci_high,
                 computed.p75, computed.p90, computed.status, computed.digest)
            )  # fmt: skip
        if done % 500 == 0:
            progress("Computing KPI values", done, len(keys))
    progress("Storing values", 0, 1)
    result = RecomputeResult(cells=len(cell_rows), values=len(rows))
    with transaction.atomic():  # the recompute's settings hold already (_reading)
        _store(organization_id, cells, rows, cell_rows, now)
        progress("Scoring", 0, 1)
        result.scores, result.alerts = rescore(organization_id, cells=cells)
    return result


@dataclass(frozen=True)
class DirtyQuarter:
    """What new evidence changes in one quarter: the month cells of the dirty (engagement,
    month) pairs, those engagements' quarter cells, and the "all engagements" month and
    quarter cells of every vendor found in them (before or after the change)."""

    quarter: datetime.date
    dirty: frozenset[tuple[int, datetime.date]]
    vendor_keys: frozenset[int]

    # Derived once: ``holds`` asks for them for every cell of the quarter.
    @functools.cached_property
    def engagements(self) -> set[int]:
        return {eng for eng, _ in self.dirty}

    @functools.cached_property
    def months(self) -> dict[datetime.date, set[int]]:
        out: dict[datetime.date, set[int]] = defaultdict(set)
        for eng, month in self.dirty:
            out[month].add(eng)
        return out

    def holds(self, key: tuple) -> bool:
        eng_key, vkey, kind, start = key
        if kind == periods.QUARTER:
            return start == self.quarter and (
                eng_key in self.engagements if eng_key else vkey in self.vendor_keys
            )
        if eng_key == ALL:
            return vkey in self.vendor_keys and start in self.months
        return (eng_key, start) in self.dirty

    def q(self) -> Q:
        """The same cells as a filter on stored rows (values, cell measures, scores)."""
        vendors_all = Q(engagement_key=ALL, vendor_key__in=self.vendor_keys)
        cells = Q(period_kind=periods.QUARTER, period_start=self.quarter) & (
            Q(engagement_key__in=self.engagements) | vendors_all
        )
        for month, engagements in self.months.items():
            cells |= Q(period_kind=periods.MONTH, period_start=month) & (
                Q(engagement_key__in=engagements) | vendors_all
            )
        return cells


def _read_scope(organization_id: int, dirty: set[tuple[int, datetime.date]]) -> Scope:
    """One read covering the dirty pairs of a quarter: their months, and their engagements when
    they are a few of the organization's. It may cover pairs that are not dirty (their stored
    cells are used instead): each read has a fixed cost of some twenty queries, and filtering
    on most engagements makes PostgreSQL read their whole history repository by repository
    rather than the months through the period indexes (0.9 s against 0.3 s for the commits of
    a month of the large benchmark)."""
    from partnerscope.engagements.models import Engagement

    months = sorted({month for _, month in dirty})
    engagements = frozenset(eng for eng, _ in dirty)
    if len(engagements) * 10 > Engagement.objects.filter(organization_id=organization_id).count():
        engagements = None
    return Scope(engagements, months[0], periods.next_start(periods.MONTH, months[-1]))


def _stored_months(organization_id: int, quarter: datetime.date):
    """The engagements' month cells of a quarter as the last recompute left them, or None when
    some were written before their parts were kept."""
    stored = CellMeasures.objects.filter(
        organization_id=organization_id,
        period_kind=periods.MONTH,
        period_start__gte=quarter,
        period_start__lt=periods.next_start(periods.QUARTER, quarter),
    ).exclude(engagement_key=ALL)
    rows = list(stored.values_list("engagement_key", "vendor_key", "period_start", "parts", "samples"))
    if any(parts is None for *_, parts, _ in rows):
        return None
    return rows


def recompute_quarter_cells(
    organization_id: int,
    quarter: datetime.date,
    dirty,
    progress: Progress = _noop,
    sources: set[str] | None = None,
):
    """Recompute what the dirty (engagement, month) pairs of one quarter change (DirtyQuarter):
    their evidence of the kinds in ``sources`` is read again; their other measures, and
    everything else they add up with, come from stored months."""
    stored = _stored_months(organization_id, quarter)
    if stored is None:  # months stored by an older version: read the quarter's evidence once
        return recompute(
            organization_id, Scope(start=quarter, end=periods.next_start(periods.QUARTER, quarter)), progress
        )
    fresh_measures, fresh_samples, covered = collect(
        organization_id, _read_scope(organization_id, dirty), progress, sources
    )
    month_measures = {key: named for key, named in fresh_measures.items() if (key[0], key[2]) in dirty}
    month_samples = {key: named for key, named in fresh_samples.items() if (key[0], key[2]) in dirty}
    vendor_keys = {vkey for _, vkey, _ in set(month_measures) | set(month_samples)}
    engagements = {eng for eng, _ in dirty}  # DirtyQuarter needs the vendors found below first
    # A vendor whose evidence the dirty months held before may have lost it: its cells change too.
    vendor_keys |= {vkey for eng, vkey, month, *_ in stored if (eng, month) in dirty}
    for eng, vkey, month, parts, blob in stored:
        key = (eng, vkey, month)
        if (eng, month) in dirty:
            # What was not read again is as stored: the measures of other kinds of evidence.
            kept = {name: CellAggregate(*p) for name, p in (parts or {}).items() if name not in covered}
            if kept:
                month_measures[key] = {**kept, **month_measures.get(key, {})}
            kept_samples = {n: c for n, c in unpack_chunks(blob).items() if n not in covered} if blob else {}
            if kept_samples:
                month_samples[key] = {**kept_samples, **month_samples.get(key, {})}
            continue
        if eng not in engagements and vkey not in vendor_keys:
            continue
        if parts:
            month_measures[key] = {name: CellAggregate(*p) for name, p in parts.items()}
        if blob is not None:
            month_samples[key] = unpack_chunks(blob)
    cells = DirtyQuarter(quarter, frozenset(dirty), frozenset(vendor_keys))
    measures, samples = roll_up(month_measures, month_samples)
    keys = {key for key in set(measures) | set(samples) if cells.holds(key)}
    return _compute_and_store(organization_id, measures, samples, keys, cells.q(), progress)


def _store(organization_id, cells: Q, rows, cell_rows, now) -> None:
    """Upsert the values; values in ``cells`` the evidence no longer supports become "no data"
    (kept, not deleted: a dispute or an alert may point at them)."""
    stale = MetricValue.objects.filter(cells, organization_id=organization_id)
    CellMeasures.objects.filter(cells, organization_id=organization_id).delete()
    _upsert_values(organization_id, rows, now)
    # What this run did not write is no longer supported by the evidence.
    stale.exclude(computed_at=now).update(
        value=None, sample=0, numerator=None, denominator=None, ci_low=None, ci_high=None, p75=None,
        p90=None, status=MetricValue.Status.NO_DATA, digest="", computed_at=now,
    )  # fmt: skip
    # Plain rows, as for values: twelve thousand model instances with their JSON and sample
    # blobs took 2.5 s to insert on PostgreSQL through the ORM; COPY takes a fraction.
    starts = {start: connection.ops.adapt_datefield_value(start) for start in {row[4] for row in cell_rows}}
    upsert(
        CellMeasures._meta.db_table, CELL_COLUMNS, CELL_COLUMNS[:5], CELL_COLUMNS[5:],
        ((*row[:4], starts[row[4]], *row[5:]) for row in cell_rows),
    )  # fmt: skip


EVIDENCE_TABLES = (
    "evidence_commit", "evidence_contribution", "evidence_pullrequest", "evidence_review", "evidence_workitem",
    "evidence_deployment", "evidence_deploymentcommit", "evidence_incident", "engagements_assignment",
)  # fmt: skip


# What a full recompute rewrites: left without statistics (a first recompute fills empty
# tables), the first incremental recompute after it found a score's values by scanning the
# whole value table (scoring took 0.5 s instead of 0.1 s at the large benchmark), until
# autovacuum came by, a minute or more later.
DERIVED_TABLES = tuple(m._meta.db_table for m in (MetricValue, CellMeasures, Score))


def refresh_statistics(tables=EVIDENCE_TABLES) -> None:
    """PostgreSQL plans from table statistics; right after a large sync they can still say a
    table is empty (autovacuum has not run yet), and the planner then picks nested loops over
    millions of rows. A sampled ANALYZE costs well under a second, so a full recompute runs it,
    on the evidence before reading it and on what it wrote after."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Tables that changed by more than a tenth since their last analysis, and tables without
        # statistics: a database restored from a dump starts with empty counters and none, and
        # then looks unchanged. (A copy made from a template database keeps the template's
        # statistics, with counters starting at zero: nothing to analyse again.)
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables t WHERE relname = ANY(%s) "
            "AND (n_mod_since_analyze > 0.1 * GREATEST(n_live_tup, 1000) "
            "OR NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = t.schemaname AND s.tablename = t.relname))",
            [list(tables)],
        )
        changed = [name for (name,) in cursor.fetchall()]
        if changed:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in changed))


CELL_COLUMNS = (
    "organization_id", "engagement_key", "vendor_key", "period_kind", "period_start", "measures", "digests", "parts",
    "samples",
)  # fmt: skip
VALUE_COLUMNS = (
    "kpi", "version", "engagement_id", "engagement_key", "vendor_id", "vendor_key", "period_kind", "period_start",
    "value", "sample", "numerator", "denominator", "ci_low", "ci_high", "p75", "p90", "status", "digest",
)  # fmt: skip
VALUE_KEY = ("organization_id", "kpi", "engagement_key", "vendor_key", "period_kind", "period_start")


def _upsert_values(organization_id: int, rows: list[tuple], now) -> None:
    """A new row gets a fresh uid; an existing one keeps its uid, disputes and annotation."""
    from partnerscope.orgs.scoping import new_uids

    ops = connection.ops
    columns = ("uid", *VALUE_COLUMNS)
    # The foreign keys follow from the keys (engagement_key, vendor_key) and never change on
    # an update; naming them in the update made SQLite check foreign keys for every row
    # inserted, which doubled the time of storing (4.3 → 2.0 s for 180,000 values).
    updated = [c for c in VALUE_COLUMNS if c not in (*VALUE_KEY, "engagement_id", "vendor_id")] + [
        "computed_at",
        "updated_at",
    ]
    stamp = ops.adapt_datetimefield_value(now)
    starts = {start: ops.adapt_datefield_value(start) for start in {row[7] for row in rows}}
    upsert(
        MetricValue._meta.db_table, columns, VALUE_KEY, updated,
        ((uid, *row[:7], starts[row[7]], *row[8:]) for uid, row in zip(new_uids(len(rows)), rows, strict=True)),
        constants={"organization_id": organization_id, "created_at": stamp, "updated_at": stamp, "computed_at": stamp,
                   "excluded": False, "annotation": ""},
    )  # fmt: skip


def full_recompute(organization_id: int, progress: Progress = _noop) -> RecomputeResult:
    from partnerscope.metrics.defaults import ensure_default_template

    ensure_default_template(organization_id)
    refresh_statistics()
    # Every mark waiting now points at evidence this recompute reads; marks made while it runs
    # wait for the next one.
    marks = list(DirtyCell.objects.filter(organization_id=organization_id).values_list("id", flat=True))
    with _reading():
        result = recompute(organization_id, Scope(), progress)
    _forget(marks)
    refresh_statistics(DERIVED_TABLES)
    return result


@contextmanager
def _reading():
    """A recompute reads its evidence and computes outside any transaction of its own; only
    storing and scoring are one transaction (``_compute_and_store``). So its progress is
    committed as it goes (the page's bar moves), SQLite's single writer is held for the seconds
    of storing rather than the whole recompute, and the readers may run side by side on
    connections of their own (readers.py), which see only committed rows. Evidence committed
    while it reads marks its cells again, for the next recompute.

    The recompute's PostgreSQL settings hold for this connection until the end (reset after),
    or, inside a caller's transaction, until that transaction ends."""
    inside = connection.in_atomic_block
    _recompute_session("LOCAL" if inside else "SESSION")
    try:
        with readers.side_by_side(_reader_session):
            yield
    finally:
        if not inside and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("; ".join(f"RESET {name}" for name, _ in RECOMPUTE_SETTINGS))


def _forget(marks: list[int]) -> None:
    """Delete dirty marks by id, in lists SQLite's bound on parameters allows."""
    for ids in chunks(marks, 10_000):
        DirtyCell.objects.filter(id__in=ids).delete()


def _reader_session() -> None:
    """A reader thread's connection: the recompute's settings, for the session (it is closed
    when the readers are done)."""
    _recompute_session("SESSION")


# PostgreSQL settings for a recompute. JIT off: compiling a query to machine code costs tens to
# hundreds of milliseconds a query, more than reading a month through an index takes (0.5 s of
# an incremental recompute at the large benchmark, and 0.24 s per whole-table GROUP BY). A larger
# work_mem: with the default 4 MB, grouping two million contributions sorted 140 MB on disk and
# hashed the commits in 16 batches. A random page cost of 1.1 (SSD or cached data, not the
# spinning disks of the default 4): otherwise a month's 55,000 contributions joined every commit
# by a scan instead of 55,000 key lookups (the large benchmark's month reads: 1.14 → 0.64 s; the
# whole-table reads gained too). No synchronous commit: what a recompute writes is derived from
# the evidence, so committing it need not wait for the write-ahead log to reach the disk (a
# crash in that moment loses the transaction; the dirty marks are deleted after it commits, so
# the next recompute redoes it).
RECOMPUTE_SETTINGS = (("jit", "off"), ("work_mem", "'256MB'"), ("random_page_cost", "1.1"),
                      ("synchronous_commit", "off"))  # fmt: skip


def _recompute_session(scope: str) -> None:
    """The recompute's settings: LOCAL for the transaction (until it ends), SESSION for the
    connection."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("; ".join(f"SET {scope} {name} = {value}" for name, value in RECOMPUTE_SETTINGS))


def recompute_dirty(organization_id: int, progress: Progress = _noop) -> RecomputeResult:
    """Recompute the cells the dirty (engagement, month) marks change, a quarter at a time. The
    marks are taken first, so evidence marked while this runs waits for the next run instead
    of being lost."""
    marks = list(
        DirtyCell.objects.filter(organization_id=organization_id).values_list(
            "id", "engagement_id", "month", "source"
        )
    )
    total = RecomputeResult()
    if not marks:
        return total
    quarters: dict[datetime.date, set] = defaultdict(set)
    sources: dict[datetime.date, set] = defaultdict(set)
    for _, eng, month, source in marks:
        quarters[periods.quarter_start(month)].add((eng, month))
        sources[periods.quarter_start(month)].add(source)
    with _reading():
        for quarter, dirty in sorted(quarters.items()):
            # Each quarter is stored in a transaction of its own: if a later one fails, the
            # marks stay and the next run redoes all of them, the stored ones to the same values.
            result = recompute_quarter_cells(organization_id, quarter, dirty, progress, sources[quarter])
            total.cells += result.cells
            total.values += result.values
            total.scores += result.scores
            total.alerts += result.alerts
    _forget([pk for pk, *_ in marks])
    return total
