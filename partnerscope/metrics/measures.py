"""Measures: the counts, sums and duration samples KPIs are made of, per cell.

A cell is (engagement, vendor, month); vendor 0 is the in-house baseline. Each measure is one
queryset over evidence, annotated with the cell it falls in (``eng``, ``vkey``, ``day``), the
record it counts (``rid``) and, for sums and durations, a value (``val``). The same queryset
answers two questions, so they cannot drift apart:

* the engine groups it by cell in SQL (counts, sums and an order-free digest of the record ids);
* the drill-down filters it to one cell and lists the records behind a value.

Rules from METRICS.md live here: attribution at the event date (the evidence row's vendor was
set from the dated roster), bots and unattributed rows excluded, reviews only from someone
other than the author, failed deployments are not incidents, squash merges use the first
commit the host reports.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from partnerscope.engagements.models import Assignment
from partnerscope.evidence.models import (
    BugIntroduction,
    Commit,
    Connection,
    Contribution,
    Deployment,
    DeploymentCommit,
    Incident,
    PullRequest,
    Repository,
    Review,
    WorkItem,
)
from partnerscope.metrics.columns import SampleColumns, fetch_rows, fetch_table, month_index, month_of_index
from partnerscope.metrics.periods import add_months, month_start

ATTRIBUTED = ("vendor", "inhouse")
# Order-free digest of a set of ids, computable by GROUP BY on SQLite and PostgreSQL alike:
# count, sum and a sum of a multiplicative hash modulo a prime. Months add up to quarters.
HASH_MULTIPLIER, HASH_PRIME = 2654435761, 4294967291


@dataclass(frozen=True)
class Scope:
    """Which cells to compute: some engagements (None = all) over [start, end) months."""

    engagement_ids: frozenset[int] | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None


EVERYTHING = Scope()


@dataclass
class CellAggregate:
    value: float = 0.0
    n: int = 0
    id_sum: int = 0
    id_hash: int = 0

    def add(self, other: CellAggregate) -> None:
        self.value += other.value
        self.n += other.n
        self.id_sum += other.id_sum
        self.id_hash += other.id_hash

    @property
    def digest(self) -> str:
        return digest_of(self.n, self.id_sum, self.id_hash)


def digest_of(n: int, id_sum: int, id_hash: int) -> str:
    return hashlib.sha256(f"{n}:{id_sum}:{id_hash % HASH_PRIME}".encode()).hexdigest()[:16]


def digest_ids(ids) -> str:
    ids = list(ids)
    return digest_of(len(ids), sum(ids), sum(i * HASH_MULTIPLIER % HASH_PRIME for i in ids))


class MonthOf(Func):
    """The first day of the month of a date or UTC timestamp, natively on each database.
    (Django's TruncMonth on SQLite calls back into Python for every row.)"""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="strftime('%%%%Y-%%%%m-01', %(expressions)s)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-01')",
            **extra,
        )


class MonthIndex(Func):
    """The month of a UTC timestamp as a number, year × 12 + month − 1 (columns.month_index):
    duration rows are read as numbers only, straight into arrays."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="(CAST(strftime('%%%%Y', %(expressions)s) AS INTEGER) * 12 "
            "+ CAST(strftime('%%%%m', %(expressions)s) AS INTEGER) - 1)",
            **extra,
        )  # fmt: skip

    def as_postgresql(self, compiler, connection, **extra):
        # date_part (a double) rather than EXTRACT (a numeric, slower to compute for millions of
        # rows); a date is taken as it is, a timestamp at UTC.
        source = self.source_expressions[0]
        utc = (
            ""
            if isinstance(getattr(source, "output_field", None), DateField)
            and not isinstance(source.output_field, DateTimeField)
            else " AT TIME ZONE 'UTC'"
        )
        return self.as_sql(
            compiler, connection,
            template=f"(date_part('year', %(expressions)s{utc})::integer * 12 "
            f"+ date_part('month', %(expressions)s{utc})::integer - 1)",
            **extra,
        )  # fmt: skip


class Hours(Func):
    """end − start in hours, as a float computed by the database: no timestamp has to be parsed
    in Python. Exact to well under a millisecond (julianday is a double on SQLite; PostgreSQL
    subtracts timestamps exactly)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 24.0)", arg_joiner=") - julianday(",
            **extra,
        )  # fmt: skip

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s))::double precision / 3600.0)", arg_joiner=" - ",
            **extra,
        )  # fmt: skip


class Epoch(Func):
    """A UTC timestamp as seconds since 1970 (a float), computed by the database: Python then
    subtracts floats instead of parsing timestamps (SQLite returns them as text)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::double precision", **extra
        )


class Unindexed(Func):
    """A column as a value no index can serve (``+column`` on SQLite). Reading a whole
    organization, SQLite otherwise walks its organization index row by row and fetches each
    row out of order: 6.3 s instead of a 0.8 s table scan for two million contributions.
    PostgreSQL plans from statistics and gets the column as it is."""

    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def of_organization(qs: QuerySet, organization_id: int, scope: Scope) -> QuerySet:
    """The organization's rows; for an unbounded scope (a full recompute) read by table scan."""
    if scope.start or scope.end:
        return qs.filter(organization_id=organization_id)
    return qs.alias(tenant=Unindexed("organization_id")).filter(tenant=organization_id)


@functools.lru_cache(maxsize=1024)
def month_value(value) -> datetime.date:
    """A month as the databases give it ('2024-03-01' from SQLite and to_char, a date or a
    datetime) as a date. Cached: a full recompute converts a million, of a few dozen months."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime.datetime) else value


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def within(qs: QuerySet, scope: Scope, datetime_day: bool = True) -> QuerySet:
    """Rows annotated with ``eng`` and ``day`` restricted to the scope's engagements and months."""
    if scope.engagement_ids is not None:
        qs = qs.filter(eng__in=scope.engagement_ids)
    if scope.start:
        qs = qs.filter(day__gte=_aware(scope.start) if datetime_day else scope.start)
    if scope.end:
        qs = qs.filter(day__lt=_aware(scope.end) if datetime_day else scope.end)
    return qs


@dataclass(frozen=True)
class Measure:
    """A count or sum per cell over evidence: a base queryset, the condition a row must meet
    and, for sums, the value summed. Measures over the same base are computed by one GROUP BY
    (``grouped_cells``), with one aggregate per condition, so the engine scans each table once."""

    name: str
    label: str
    description: str
    record: str  # what the drill-down lists: commit, pull_request, deployment, work_item, incident
    # Both take (organization id, scope): the scope lets them use an index where ``within``
    # (which filters on the annotated ``day``) cannot.
    base: Callable[[int, Scope], QuerySet]  # annotated eng, vkey, day and rid
    when: Callable[[int, Scope], Q] | None = None
    value: Callable[[], object] | None = None  # an expression: makes the measure a sum
    datetime_day: bool = True

    @property
    def kind(self) -> str:
        return "sum" if self.value is not None else "count"

    def rows(self, organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
        qs = self.base(organization_id, scope)
        if self.when is not None:
            qs = qs.filter(self.when(organization_id, scope))
        return qs.annotate(val=self.value()) if self.value is not None else qs

    def _scoped(self, organization_id: int, scope: Scope) -> QuerySet:
        return within(self.rows(organization_id, scope), scope, self.datetime_day)

    def cells(self, organization_id: int, scope: Scope) -> dict[tuple, CellAggregate]:
        return grouped_cells(organization_id, scope, [self])[self.name]

    def record_ids(self, organization_id: int, scope: Scope, vendor_key: int) -> list[int]:
        return sorted(
            self._scoped(organization_id, scope).filter(vkey=vendor_key).values_list("rid", flat=True)
        )


def grouped_cells(organization_id: int, scope: Scope, measures: list[Measure]) -> dict[str, dict]:
    """Measures sharing one base, per cell, from a single GROUP BY. Each measure's condition is
    evaluated once per row, as a column of an inner query, and the outer aggregates read that
    column (written as aggregate FILTERs, SQL repeats a condition's EXISTS subquery for every
    aggregate that names it: three times per row for count, id sum and id hash). Measures with
    the same condition share their count and digest."""
    base = measures[0]
    assert all(m.base is base.base and m.datetime_day == base.datetime_day for m in measures)
    flags, values, names = {}, {}, {}
    conditions: dict[tuple, str] = {}
    for i, measure in enumerate(measures):
        key = measure.when
        if key not in conditions:
            tag = conditions[key] = f"c{len(conditions)}"
            if measure.when is not None:
                flags[tag] = Case(When(measure.when(organization_id, scope), then=Value(1)), default=Value(0))
        if measure.value is not None:
            values[f"v{i}"] = measure.value()
        names[measure.name] = (conditions[key], i)
    inner = (
        within(base.base(organization_id, scope), scope, base.datetime_day)
        .annotate(month=MonthIndex("day"), **flags, **values)  # a number: cheaper to group than text
        .values("eng", "vkey", "month", "rid", *flags, *values)
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    quote = connection.ops.quote_name
    columns, aggregates = [], []
    for tag in conditions.values():
        picked = f"CASE WHEN {quote(tag)} = 1 THEN rid END" if tag in flags else "rid"
        hashed = f"({picked}) * {HASH_MULTIPLIER} %% {HASH_PRIME}"  # %% : the query has parameters
        aggregates += [f"COUNT({picked})", f"SUM({picked})", f"SUM({hashed})"]
        columns += [f"{tag}_n", f"{tag}_s", f"{tag}_h"]
    for tag, i in names.values():
        if f"v{i}" in values:
            value = quote(f"v{i}")
            aggregates.append(
                f"SUM(CASE WHEN {quote(tag)} = 1 THEN {value} END)" if tag in flags else f"SUM({value})"
            )
            columns.append(f"v{i}")
    # A fence keeps the database from merging the inner query into the outer one, which would
    # copy each condition back into every aggregate (LIMIT on SQLite, OFFSET 0 on PostgreSQL).
    fence = " OFFSET 0" if connection.vendor == "postgresql" else " LIMIT -1"
    grouped = (
        f"SELECT eng, vkey, month, {', '.join(aggregates)} FROM ({sql}{fence}) cells "  # noqa: S608 - built from constants
        "GROUP BY eng, vkey, month"
    )
    out: dict[str, dict] = {m.name: {} for m in measures}
    with connection.cursor() as cursor:
        cursor.execute(grouped, params)
        for eng, vkey, month, *aggregated in cursor.fetchall():
            row = dict(zip(columns, aggregated, strict=True))
            key = (eng, vkey, month_of_index(month))
            for measure in measures:
                tag, i = names[measure.name]
                n = row[f"{tag}_n"]
                if not n:
                    continue
                value = row[f"v{i}"] if measure.value is not None else n
                out[measure.name][key] = CellAggregate(
                    float(value or 0), n, int(row[f"{tag}_s"] or 0), int(row[f"{tag}_h"] or 0)
                )
    return out


def measure_groups() -> list[list[Measure]]:
    """The catalogue's measures grouped by base: one query each."""
    groups: dict[Callable, list[Measure]] = {}
    for measure in MEASURES.values():
        groups.setdefault(measure.base, []).append(measure)
    return list(groups.values())


def _vkey():
    return Coalesce(F("vendor_id"), Value(0))


# --- git ---------------------------------------------------------------------------------


def contributions(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    # Authors and co-authors; merge commits and bots left out.
    return (
        of_organization(Contribution.objects.all(), organization_id, scope)
        .filter(status__in=ATTRIBUTED, is_bot=False, commit__parent_count__lte=1)
        .annotate(
            eng=F("repository__engagement_id"), vkey=_vkey(), day=F("authored_date"), rid=F("commit_id")
        )
    )


def _first_of_commit(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    """The contribution that stands for its commit in its vendor's count: the author's, or, for
    a commit whose author is not counted for that vendor, the co-author's with the lowest id.
    A commit with two authors of one vendor counts once without a DISTINCT aggregate, which
    would make the database sort every contribution (two million rows) instead of hashing;
    only co-author rows, a few percent, probe for another one."""
    counted_before = (
        Contribution.objects.filter(commit_id=OuterRef("commit_id"), status__in=ATTRIBUTED, is_bot=False)
        .annotate(other_vkey=_vkey())
        .filter(Q(role=Contribution.Role.AUTHOR) | Q(id__lt=OuterRef("id")), other_vkey=OuterRef("vkey"))
    )
    return Q(role=Contribution.Role.AUTHOR) | ~Exists(counted_before)


def _authored(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return Q(role=Contribution.Role.AUTHOR)


def _authored_line_passed(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return Q(role=Contribution.Role.AUTHOR, commit__rework_lines__isnull=False)


def _lines():
    return F("commit__additions") + F("commit__deletions")


def _rework():
    return F("commit__rework_lines")


def reverting_commits(organization_id: int, since: datetime.date | None = None) -> QuerySet:
    """Commits that revert another ("This reverts commit <sha>"), read through the
    (repository, reverts_sha) index one repository at a time: a percent of the commits, found
    without reading the others. ``since``: only reverts authored from that day (a revert comes
    after what it reverts, so the reverts of a period's commits are authored in or after it)."""
    reverting = Commit.objects.filter(repository__organization_id=organization_id, reverts_sha__gt="")
    return reverting.filter(authored_date__gte=since) if since else reverting


def reverted_contributions(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    # Attributed to the author of the reverted change, not to whoever reverted it. The reverted
    # commits are found from the few reverting ones (a probe of the unique (repository, sha)
    # each), not by probing for a revert of every commit.
    reverted = Commit.objects.filter(
        repository_id=OuterRef("repository_id"), sha=OuterRef("reverts_sha")
    ).values("id")[:1]
    targets = (
        reverting_commits(organization_id, scope.start).annotate(target=Subquery(reverted)).values("target")
    )
    return contributions(organization_id, scope).filter(role=Contribution.Role.AUTHOR, commit_id__in=targets)


def bug_introducing_contributions(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    """Vendor-authored commits a traced bug fix blamed lines on (evidence/szz.py), in the month
    they were written: like a revert, counted for the author of the change, not the fixer."""
    introduced = BugIntroduction.objects.filter(organization_id=organization_id)
    if scope.start:
        introduced = introduced.filter(authored_date__gte=scope.start)
    if scope.end:
        introduced = introduced.filter(authored_date__lt=scope.end)
    return contributions(organization_id, scope).filter(
        role=Contribution.Role.AUTHOR, commit_id__in=introduced.values("commit_id")
    )


def covered_contributions(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    """Vendor-authored commits whose build's coverage report lists lines they added
    (evidence/coverage.py): the sample of coverage on new code."""
    return contributions(organization_id, scope).filter(
        role=Contribution.Role.AUTHOR, commit__coverage_report__new_lines__gt=0
    )


# --- pull requests -------------------------------------------------------------------------


def _prs(organization_id: int, scope: Scope) -> QuerySet:
    return (
        of_organization(PullRequest.objects.all(), organization_id, scope)
        .filter(status__in=ATTRIBUTED, is_bot=False)
        .annotate(eng=F("connection__engagement_id"), vkey=_vkey(), rid=F("id"))
    )


def _merged(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    return (
        _prs(organization_id, scope)
        .filter(state=PullRequest.State.MERGED, merged_at__isnull=False)
        .annotate(day=F("merged_at"))
    )


def closed_prs(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    qs = _prs(organization_id, scope).filter(state__in=(PullRequest.State.MERGED, PullRequest.State.CLOSED))
    if scope.start or scope.end:
        # The day is closed_at, or merged_at where the host leaves closed_at empty on a merge;
        # said on the indexed columns too, a period's rows are read by index.
        qs = qs.filter(
            _between("closed_at", scope) | (Q(closed_at__isnull=True) & _between("merged_at", scope))
        )
    return qs.annotate(day=Coalesce("closed_at", "merged_at")).filter(day__isnull=False)


def _between(field: str, scope: Scope) -> Q:
    condition = Q()
    if scope.start:
        condition &= Q(**{f"{field}__gte": _aware(scope.start)})
    if scope.end:
        condition &= Q(**{f"{field}__lt": _aware(scope.end)})
    return condition


def _review_by_other(**extra) -> QuerySet:
    # Not the author's own comment, not a bot: DevLake counts either as a review, we don't.
    return Review.objects.filter(pull_request_id=OuterRef("id"), is_bot=False, **extra).exclude(
        actor=OuterRef("actor")
    )


def _approved(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return Q(Exists(_review_by_other(state=Review.State.APPROVED, is_comment=False)))


def _changes_requested(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return Q(Exists(_review_by_other(state=Review.State.CHANGES_REQUESTED, status="inhouse")))


def _client_change_requests():
    """Changes requested on a PR by client reviewers (not its author, not bots): each one sends
    the PR into another round of review."""
    requests = (
        _review_by_other(state=Review.State.CHANGES_REQUESTED, status="inhouse")
        .order_by()
        .values("pull_request_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(requests, output_field=BigIntegerField()), Value(0))


def _reverted_prs(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    """Merged PRs reverted by a commit ("This reverts commit <merge sha>") or by a merged
    ``Revert "<title>"`` PR of the same project. Revert PRs are few: their originals are looked
    up once by title, so no row is compared with every other row."""
    from partnerscope.evidence.connectors.derive import REVERT_TITLE

    reverting = reverting_commits(organization_id).values("reverts_sha")
    # A revert is merged after the PR it reverts, so for PRs merged in scope only reverts merged
    # since the scope's start matter (an incremental recompute reads a few by index).
    reverts = PullRequest.objects.filter(
        organization_id=organization_id, state=PullRequest.State.MERGED, title__startswith='Revert "'
    )
    if scope.start:
        reverts = reverts.filter(merged_at__gte=_aware(scope.start))
    originals = set()
    for connection_id, title in reverts.values_list("connection_id", "title"):
        match = REVERT_TITLE.match(title)
        if match:
            originals.add((connection_id, match.group(1)))
    titled = []
    if originals:
        candidates = PullRequest.objects.filter(
            organization_id=organization_id, title__in={t for _, t in originals}
        ).filter(_between("merged_at", scope))
        titled = [
            pk
            for pk, connection_id, title in candidates.values_list("id", "connection_id", "title")
            if (connection_id, title) in originals
        ]
    return (Q(merge_commit_sha__in=reverting) & ~Q(merge_commit_sha="")) | Q(id__in=titled)


# --- work items ----------------------------------------------------------------------------


def resolved_items(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    return (
        of_organization(WorkItem.objects.all(), organization_id, scope)
        .filter(
            status__in=ATTRIBUTED,
            is_bot=False,
            category=WorkItem.Category.DONE,
            resolved_at__isnull=False,
        )
        .annotate(eng=F("connection__engagement_id"), vkey=_vkey(), rid=F("id"), day=F("resolved_at"))
    )


def reported_items(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    # Work items by the day they were reported; attributed like every work item (assignee at the
    # last change, else reporter), so a bug assigned to vendor staff is the vendor's.
    return (
        of_organization(WorkItem.objects.all(), organization_id, scope)
        .filter(status__in=ATTRIBUTED, is_bot=False)
        .annotate(eng=F("connection__engagement_id"), vkey=_vkey(), rid=F("id"), day=F("created_at"))
    )


def _bug(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return WorkItem.bug_q()


def _escaped_bug(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return _bug(organization_id, scope) & Q(found_in_production=True)


# --- CI runs -----------------------------------------------------------------------------------


def ci_runs(organization_id: int, scope: Scope = EVERYTHING) -> QuerySet:
    """Finished CI runs (workflow runs, pipelines) triggered by attributed people. Production
    deployments are not CI runs: the change failure rate counts those."""
    return (
        of_organization(Deployment.objects.all(), organization_id, scope)
        .filter(
            kind__in=(Deployment.Kind.WORKFLOW_RUN, Deployment.Kind.PIPELINE),
            outcome__in=(Deployment.Outcome.SUCCESS, Deployment.Outcome.FAILURE),
            status__in=ATTRIBUTED,
            is_bot=False,
        )
        .annotate(eng=F("connection__engagement_id"), vkey=_vkey(), rid=F("id"), day=_done_at())
    )


def _failed_run(organization_id: int, scope: Scope = EVERYTHING) -> Q:
    return Q(outcome=Deployment.Outcome.FAILURE)


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("commits", "Commits", "Commits by vendor authors and co-authors (bots and merges excluded)",
                "commit", contributions, _first_of_commit, datetime_day=False),
        Measure("authored_commits", "Authored commits", "Commits whose author is vendor staff",
                "commit", contributions, _authored, datetime_day=False),
        Measure("changed_lines", "Changed lines", "Lines added plus deleted by vendor-authored commits",
                "commit", contributions, _authored, _lines, datetime_day=False),
        Measure("rework_lines", "Rework lines", "Changed lines rewriting lines written < 21 days before",
                "commit", contributions, _authored_line_passed, _rework, datetime_day=False),
        Measure("rework_base_lines", "Lines checked for rework", "Changed lines of commits the line pass has seen",
                "commit", contributions, _authored_line_passed, _lines, datetime_day=False),
        Measure("reverted_commits", "Reverted commits", "Vendor-authored commits later reverted",
                "commit", reverted_contributions, datetime_day=False),
        Measure("bug_introducing_commits", "Bug-introducing commits",
                "Vendor-authored commits that wrote lines a later bug fix deleted or changed (traced by blame)",
                "bug_commit", bug_introducing_contributions, datetime_day=False),
        Measure("reported_commits", "Commits with coverage",
                "Vendor-authored commits whose build's coverage report lists lines they added",
                "coverage_commit", covered_contributions, datetime_day=False),
        Measure("coverable_new_lines", "New lines that can run",
                "Lines vendor-authored commits added that their coverage report lists",
                "coverage_commit", covered_contributions, value=lambda: F("commit__coverage_report__new_lines"),
                datetime_day=False),
        Measure("covered_new_lines", "New lines covered",
                "Of those, lines the build's tests ran (hits in the report)",
                "coverage_commit", covered_contributions, value=lambda: F("commit__coverage_report__new_covered"),
                datetime_day=False),
        Measure("merged_prs", "Merged PRs", "Pull requests by vendor authors merged in the period",
                "pull_request", _merged),
        Measure("approved_merged_prs", "Approved merged PRs",
                "Merged PRs with an approval by someone other than the author (bots excluded)",
                "pull_request", _merged, _approved),
        Measure("client_change_requests", "Changes requested by the client on merged PRs",
                "Reviews by client reviewers requesting changes, on merged PRs (each one is another review "
                "round)", "pull_request", _merged, value=_client_change_requests),
        Measure("reverted_prs", "Reverted PRs", "Merged PRs later reverted (revert commit or revert PR)",
                "pull_request", _merged, _reverted_prs),
        Measure("closed_prs", "Closed PRs", "Pull requests merged or closed unmerged in the period",
                "pull_request", closed_prs),
        Measure("changes_requested_prs", "PRs with changes requested",
                "Closed PRs on which a client reviewer requested changes", "pull_request",
                closed_prs, _changes_requested),
        Measure("resolved_items", "Resolved work items", "Work items resolved by vendor staff",
                "work_item", resolved_items),
        Measure("bugs", "Bugs reported", "Work items of type bug or defect reported in the period, assigned to "
                "vendor staff", "work_item", reported_items, _bug),
        Measure("escaped_bugs", "Bugs found in production",
                "Bugs reported in the period and assigned to vendor staff that carry a \"found in production\" "
                "label of the connection's list", "work_item", reported_items, _escaped_bug),
        Measure("ci_runs", "CI runs", "Finished CI runs (workflow runs, pipelines) triggered by vendor staff",
                "deployment", ci_runs),
        Measure("failed_ci_runs", "Failed CI runs", "Of those, runs that failed", "deployment", ci_runs,
                _failed_run),
    ]
}  # fmt: skip


# --- measures computed outside GROUP BY: deployments (a deployment can carry several vendors'
# changes) and the roster (FTE-months are a sum over days) ------------------------------------


@dataclass
class PythonMeasure:
    name: str
    label: str
    description: str
    record: str
    kind: str = "count"
    # A record may count more than once in a cell (an item committed to two sprints ending in
    # the same month): its digest and drill-down keep every occurrence.
    repeats: bool = False


PYTHON_MEASURES = {
    m.name: m
    for m in [
        PythonMeasure("prod_deployments", "Production deployments",
                      "Successful production deployments containing vendor changes", "deployment"),
        PythonMeasure("failed_deployments", "Failed production deployments",
                      "Of those, deployments followed by a linked incident, revert or hotfix", "deployment"),
        PythonMeasure("fte_months", "FTE-months", "Assigned capacity: allocation × share of the month assigned",
                      "assignment", kind="sum"),
        PythonMeasure("headcount", "Headcount", "People assigned at any time in the period", "assignment"),
        PythonMeasure("leavers", "Leavers", "People whose assignment to the engagement ended in the period",
                      "assignment"),
        PythonMeasure("key_people", "Key people", "Key people (named in the contract) assigned at any time in "
                      "the period", "assignment"),
        PythonMeasure("key_leavers", "Key people who left", "Key people whose assignment to the engagement "
                      "ended in the period", "assignment"),
        # Predictability (sprints.py): closed sprints, in the month each ended.
        PythonMeasure("committed_items", "Committed work items", "Work items in a closed sprint when it started "
                      "(by the changelog), for the vendor each is attributed to; once per sprint",
                      "work_item", repeats=True),
        PythonMeasure("delivered_items", "Delivered committed items", "Of those, items resolved (done) by the "
                      "sprint's end", "work_item", repeats=True),
        PythonMeasure("sprints", "Sprints", "Closed sprints the vendor had committed items in", "sprint"),
        PythonMeasure("sprint_velocity", "Sprint velocity, summed", "Delivered committed items, summed over "
                      "those sprints", "sprint", kind="sum"),
        PythonMeasure("sprint_velocity_sq", "Sprint velocity squared, summed", "The squares of each sprint's "
                      "delivered committed items, summed (for the velocity's spread)", "sprint", kind="sum"),
        # Skill coverage (skills.py): skill-months, so months add up to quarters.
        PythonMeasure("required_skills", "Required skills", "The engagement's required skills, in each month "
                      "the vendor had people or commits on it", "skill"),
        PythonMeasure("rostered_skills", "Required skills on the roster", "Required skills held by someone the "
                      "vendor had assigned to the engagement that month (people's skills)", "assignment"),
        PythonMeasure("path_skills", "Required skills with paths", "Required skills whose globs say which "
                      "changed files show them", "skill"),
        PythonMeasure("exercised_skills", "Required skills shown by commits", "Required skills with paths for "
                      "which a commit of the vendor to the engagement's repositories that month changed a "
                      "matching file (the first such commit listed)", "commit"),
    ]
}  # fmt: skip

ALL_MEASURE_NAMES = tuple(MEASURES) + tuple(PYTHON_MEASURES)
# People counts from the roster: no record ids of their own (the roster's history is their
# provenance), so they stay out of value digests.
UNDIGESTED = frozenset({
    "headcount", "leavers", "key_people", "key_leavers", "required_skills", "path_skills", "sprint_velocity",
    "sprint_velocity_sq",
})  # fmt: skip


def _done_at():
    return Coalesce("finished_at", "created_at")


def production_deployments(organization_id: int, scope: Scope) -> QuerySet:
    qs = Deployment.objects.filter(
        organization_id=organization_id, is_production=True, outcome=Deployment.Outcome.SUCCESS
    ).annotate(eng=F("connection__engagement_id"), day=_done_at())
    qs = within(qs, scope)
    return qs


# Deployments looked up by id in a list up to this many (a list keeps SQLite under its 32,766
# bound parameters); more are read through the query that selects them.
SHA_LIMIT = 20_000


# Within one recompute (``sharing_deployment_vendors``), the vendors found behind each
# deployment: recovery time asks again about the failed deployments that measuring the
# deployments has just looked up (a second second of probes on the large benchmark).
_known_vendors: ContextVar[dict[int, set[int]] | None] = ContextVar("known_deployment_vendors", default=None)


@contextmanager
def sharing_deployment_vendors():
    token = _known_vendors.set({})
    try:
        yield
    finally:
        _known_vendors.reset(token)


def deployment_vendors(organization_id: int, deployments: QuerySet) -> dict[int, set[int]]:
    """Deployment id -> vendor keys whose changes it shipped: the merge commits of attributed
    pull requests (any of the organization's) and the commits of attributed contributions in
    the repositories of the deployment's engagement."""
    known = _known_vendors.get()
    if known is None:
        return _deployment_vendors(organization_id, deployments)
    wanted = set(deployments.values_list("id", flat=True))
    missing = wanted - known.keys()
    if missing:
        found = _deployment_vendors(
            organization_id,
            deployments
            if missing == wanted or len(missing) > SHA_LIMIT
            else Deployment.objects.filter(id__in=missing),
        )
        known.update({pk: found.get(pk, set()) for pk in missing})
    return {pk: known[pk] for pk in wanted if known[pk]}


def _deployment_vendors(organization_id: int, deployments: QuerySet) -> dict[int, set[int]]:
    """Two joins from the shipped shas, each giving distinct (deployment, vendor key) pairs: the
    database probes the (organization, merge_commit_sha) index of pull requests, and the unique
    (repository, sha) of commits in the repositories of the deployment's engagement, then their
    contributions. Python sees a few rows per deployment instead of every shipped sha (338,000
    rows at the large benchmark, whose sets cost more than the probes). A merge commit is not a
    change of whoever merged (as for every commit measure): a client merging a vendor's pull
    request does not make its deployment one of in-house changes."""
    ids_sql, ids_params = deployments.values("id").query.sql_with_params()
    t = {
        m: connection.ops.quote_name(m._meta.db_table)
        for m in (DeploymentCommit, Deployment, Connection, Repository, Commit, Contribution, PullRequest)
    }
    attributed = list(ATTRIBUTED)
    # SQLite keeps the tables of a CROSS JOIN in the order written: from the shipped shas out.
    # Without statistics it would otherwise walk every pull request and probe the shas.
    join = "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"
    out: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT dc.deployment_id, COALESCE(pr.vendor_id, 0) FROM {t[DeploymentCommit]} dc "  # noqa: S608 - model tables
            f"{join} {t[PullRequest]} pr ON pr.organization_id = %s AND pr.merge_commit_sha = dc.sha "
            f"WHERE dc.deployment_id IN ({ids_sql}) AND pr.status IN (%s, %s) AND pr.is_bot = %s",
            [organization_id, *ids_params, *attributed, False],
        )
        for deployment_id, vkey in cursor.fetchall():
            out[deployment_id].add(vkey)
        cursor.execute(
            f"SELECT DISTINCT dc.deployment_id, COALESCE(co.vendor_id, 0) FROM {t[DeploymentCommit]} dc "  # noqa: S608 - model tables
            f"{join} {t[Deployment]} d ON d.id = dc.deployment_id "
            f"{join} {t[Connection]} conn ON conn.id = d.connection_id "
            f"{join} {t[Repository]} r ON r.engagement_id = conn.engagement_id "
            f"{join} {t[Commit]} c ON c.repository_id = r.id AND c.sha = dc.sha AND c.parent_count <= 1 "
            f"{join} {t[Contribution]} co ON co.commit_id = c.id "
            f"WHERE dc.deployment_id IN ({ids_sql}) AND co.status IN (%s, %s) AND co.is_bot = %s",
            [*ids_params, *attributed, False],
        )
        for deployment_id, vkey in cursor.fetchall():
            out[deployment_id].add(vkey)
    return out


def chunks(items: list, size: int):
    """Lists of at most ``size`` items (parameter lists stay under SQLite's bound)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def aggregate_of(ids: list[int], value: float | None = None, *, repeats: bool = False) -> CellAggregate:
    """A cell's count (or ``value``) with the order-free digest of its record ids: each id
    once, or every occurrence when a record may count more than once (PythonMeasure.repeats)."""
    kept = list(ids) if repeats else sorted(set(ids))
    return CellAggregate(
        float(len(kept)) if value is None else float(value),
        len(kept),
        sum(kept),
        sum(i * HASH_MULTIPLIER % HASH_PRIME for i in kept),
    )


def _to_cell_aggregates(records: dict[tuple, list[int]], values: dict[tuple, float] | None = None):
    return {key: aggregate_of(ids, values[key] if values else None) for key, ids in records.items()}


def deployment_cells(organization_id: int, scope: Scope) -> tuple[dict, dict, dict]:
    """(prod_deployments, failed_deployments, record ids per cell and measure)."""
    deployments = production_deployments(organization_id, scope)
    vendors = deployment_vendors(organization_id, deployments)
    failed = set(
        Incident.objects.filter(caused_by_id__in=deployments.values("id")).values_list(
            "caused_by_id", flat=True
        )
    )
    prod, bad = defaultdict(list), defaultdict(list)
    for deployment_id, eng, day in deployments.values_list("id", "eng", "day"):
        for vkey in vendors.get(deployment_id, ()):
            key = (eng, vkey, month_start(day.astimezone(datetime.UTC).date()))
            prod[key].append(deployment_id)
            if deployment_id in failed:
                bad[key].append(deployment_id)
    return (
        _to_cell_aggregates(prod),
        _to_cell_aggregates(bad),
        {"prod_deployments": prod, "failed_deployments": bad},
    )


# A calendar week (Monday to Sunday) counts in the month of its Thursday, as ISO 8601 gives a
# week to the year of its Thursday: every week falls in exactly one month, so a quarter's weeks
# are its months' weeks. A week's days lie within three days of its Thursday.
WEEK_REACH = datetime.timedelta(days=3)


def week_thursday(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=3 - day.weekday())


def calendar_weeks(start: datetime.date, end: datetime.date) -> int:
    """The weeks that count in [start, end): its Thursdays."""
    first = start + datetime.timedelta(days=(3 - start.weekday()) % 7)
    return 0 if first >= end else ((end - first).days - 1) // 7 + 1


def deployment_day_samples(organization_id: int, scope: Scope) -> list[Sample]:
    """One sample per day with a successful production deployment containing a vendor's changes,
    per engagement and vendor: its record is the day's first such deployment, its value the
    day's ordinal (date.toordinal), and it counts in the month of its week's Thursday. The KPI
    groups the days into weeks (the days of several engagements are one vendor's days once)
    and counts the weeks without a deployment as 0 (kpis.compute).

    The weeks at the scope's edges reach into the months beside it, so deployments are read
    three days beyond it; the vendors behind the deployments of the scope itself are those
    measuring the deployments has just looked up (sharing_deployment_vendors)."""
    widened = Scope(
        scope.engagement_ids,
        scope.start - WEEK_REACH if scope.start else None,
        scope.end + WEEK_REACH if scope.end else None,
    )
    deployments = production_deployments(organization_id, widened)
    vendors = deployment_vendors(organization_id, deployments)
    first: dict[tuple, tuple[datetime.datetime, int]] = {}
    for deployment_id, eng, done in deployments.values_list("id", "eng", "day"):
        for vkey in vendors.get(deployment_id, ()):
            key = (eng, vkey, done.astimezone(datetime.UTC).date())
            if key not in first or (done, deployment_id) < first[key]:
                first[key] = (done, deployment_id)
    out = []
    for (eng, vkey, day), (_, deployment_id) in first.items():
        month = month_start(week_thursday(day))
        if _in_scope(scope, month, eng):
            out.append(Sample(deployment_id, eng, vkey, month, float(day.toordinal())))
    return out


ROSTER_MEASURES = ("fte_months", "headcount", "leavers", "key_people", "key_leavers")
# Measures that count people at a time, not events: a quarter takes its largest month.
PEOPLE_AT_A_TIME = frozenset({"headcount", "key_people"})


def assigned_months(valid_from, valid_to, scope: Scope, today: datetime.date):
    """(month, share of the month assigned) for each month of the scope an assignment covers.
    Only periods that have begun: a planned assignment is not capacity yet."""
    last = min(valid_to or today, today)
    if last < valid_from:
        return
    first_month = month_start(valid_from)
    month = max(first_month, scope.start) if scope.start else first_month
    stop = min(month_start(last), add_months(scope.end, -1)) if scope.end else month_start(last)
    while month <= stop:
        following = add_months(month, 1)
        days = (min(last, following - datetime.timedelta(days=1)) - max(valid_from, month)).days + 1
        if days > 0:
            yield month, days / (following - month).days
        month = following


def roster_cells(organization_id: int, scope: Scope) -> tuple[dict[str, dict], dict]:
    """({measure: cells} for ROSTER_MEASURES, record ids of fte_months) from the dated roster."""
    assignments = Assignment.objects.filter(organization_id=organization_id, engagement_id__isnull=False)
    if scope.engagement_ids is not None:
        assignments = assignments.filter(engagement_id__in=scope.engagement_ids)
    rows = list(
        assignments.values_list(
            "id",
            "person_id",
            "engagement_id",
            "vendor_id",
            "allocation_pct",
            "valid_from",
            "valid_to",
            "key_person",
        )
    )
    # A person "leaves" an engagement when an assignment ends and no other assignment of theirs
    # to the same engagement starts the next day (a renewal or a change of role is not leaving).
    starts = defaultdict(set)
    for _, person, eng, _, _, valid_from, *_ in rows:
        starts[(person, eng)].add(valid_from)
    today = datetime.date.today()
    fte, heads, leavers, ids = defaultdict(float), defaultdict(list), defaultdict(list), defaultdict(list)
    key_heads, key_leavers = defaultdict(list), defaultdict(list)
    for assignment_id, person, eng, vendor, allocation, valid_from, valid_to, key_person in rows:
        vkey = vendor or 0
        for month, share in assigned_months(valid_from, valid_to, scope, today):
            key = (eng, vkey, month)
            fte[key] += allocation / 100 * share
            heads[key].append(person)
            ids[key].append(assignment_id)
            if key_person:
                key_heads[key].append(person)
        if (
            valid_to
            and valid_to < today
            and valid_to + datetime.timedelta(days=1) not in starts[(person, eng)]
        ):
            key = (eng, vkey, month_start(valid_to))
            if (not scope.start or key[2] >= scope.start) and (not scope.end or key[2] < scope.end):
                leavers[key].append(person)
                if key_person:
                    key_leavers[key].append(person)

    def people(cells):
        return {k: CellAggregate(float(len(set(v))), len(set(v)), 0, 0) for k, v in cells.items()}

    cells = {
        "fte_months": _to_cell_aggregates(ids, fte), "headcount": people(heads), "leavers": people(leavers),
        "key_people": people(key_heads), "key_leavers": people(key_leavers),
    }  # fmt: skip
    return cells, {"fte_months": ids}


# --- duration samples ----------------------------------------------------------------------


@dataclass
class Sample:
    """One duration: the record it belongs to, its cell and its length in hours."""

    rid: int
    eng: int
    vkey: int
    month: datetime.date
    hours: float


@dataclass(frozen=True)
class Duration:
    name: str
    label: str
    description: str
    record: str
    # Reads this duration's samples, and those of durations read by the same query: name -> columns.
    collect: Callable[[int, Scope], dict[str, SampleColumns]] = field(repr=False)

    def samples(self, organization_id: int, scope: Scope) -> list[Sample]:
        return self.collect(organization_id, scope)[self.name].samples()


def _hours(delta: datetime.timedelta) -> float:
    # Exact: total_seconds, never .seconds (which drops the days: the 23 h-for-a-day trap).
    return delta.total_seconds() / 3600


def _first_deploys(organization_id: int, shas=None) -> QuerySet:
    """(sha, first successful production deployment time) of every deployed sha, or of ``shas``
    (a list or a query)."""
    # Every sha: the whole table, read by a scan (of_organization); some: through their index.
    rows = (
        of_organization(DeploymentCommit.objects.all(), organization_id, EVERYTHING)
        if shas is None
        else DeploymentCommit.objects.filter(organization_id=organization_id, sha__in=shas)
    )
    rows = rows.filter(deployment__is_production=True, deployment__outcome=Deployment.Outcome.SUCCESS)
    done = Coalesce("deployment__finished_at", "deployment__created_at")
    return rows.values("sha").annotate(
        first=Min(done), first_epoch=Min(Epoch(done)), month=MonthIndex(Min(done))
    )


def first_deploys(organization_id: int, scope: Scope) -> dict[str, tuple[float, int]]:
    """sha -> (epoch, month index) of its first successful production deployment, for the shas
    first deployed in the scope's months: lead and deploy times belong to the month of that
    deployment.

    For a period, the shas its deployments shipped are the candidates. Most were shipped once,
    by that deployment, which is then their first; only the few shipped again (a redeploy,
    another connection deploying the same repository) are grouped over all their deployments,
    since their first may lie before the period. Grouping every candidate looked up each one's
    deployments: for a month of the large benchmark, 9,600 shas and 69,000 buffer reads, against
    33,000 this way (what matters when the month's pages are not cached).
    """
    if not (scope.start or scope.end):
        return {
            sha: (first, month)
            for sha, first, month in fetch_rows(
                _first_deploys(organization_id), ["sha", "first_epoch", "month"]
            )
        }
    in_scope = production_deployments(organization_id, Scope(start=scope.start, end=scope.end))
    shipped = DeploymentCommit.objects.filter(deployment_id__in=in_scope.values("id"))
    done = Coalesce("deployment__finished_at", "deployment__created_at")
    first: dict[str, tuple[float, int]] = {}
    for sha, epoch, month in fetch_rows(
        shipped.annotate(epoch=Epoch(done), month=MonthIndex(done)), ["sha", "epoch", "month"]
    ):
        if sha not in first or epoch < first[sha][0]:
            first[sha] = (epoch, month)
    # Counted on the (organization, sha) index alone: rows of any deployment, so a sha whose
    # other row is not a successful production deployment is grouped too, and left as it was.
    repeated = list(
        DeploymentCommit.objects.filter(organization_id=organization_id, sha__in=shipped.values("sha"))
        .values("sha")
        .annotate(rows=Count("*"))
        .filter(rows__gt=1)
        .values_list("sha", flat=True)
    )
    for shas in chunks(repeated, 10_000):
        for sha, epoch, month in fetch_rows(
            _first_deploys(organization_id, shas), ["sha", "first_epoch", "month"]
        ):
            if (not scope.start or month >= month_index(scope.start)) and (
                not scope.end or month < month_index(scope.end)
            ):
                first[sha] = (epoch, month)
            else:
                first.pop(sha, None)  # first deployed before the period (or after: not in it)
    return first


def deployed_samples(organization_id: int, scope: Scope) -> dict[str, SampleColumns]:
    """Lead time (first production deployment containing the merge commit − the PR's first
    commit, the host's, which survives squash merges) and deploy time (that deployment −
    merged), in the month of the deployment: one read of the PRs for both, matched here against
    the first deployments by sha (a hash join; a subquery per PR cost PostgreSQL 4 s). Times
    come as epoch seconds, so nothing is parsed (SQLite gives timestamps as text: 800,000 of
    them in a full recompute)."""
    import numpy as np

    first_deploy = first_deploys(organization_id, scope)
    if not first_deploy:
        return {"lead_time": SampleColumns.empty(), "deploy_time": SampleColumns.empty()}
    rows = _merged(organization_id, scope).exclude(merge_commit_sha="")
    if len(first_deploy) <= SHA_LIMIT:
        # A period's few shas: probes of the (organization, merge_commit_sha) index. Beyond
        # that (a full recompute) every merged PR is read once and matched here.
        rows = rows.filter(merge_commit_sha__in=list(first_deploy))
    rows = rows.annotate(started=Epoch("first_commit_at"), merged=Epoch("merged_at"))
    # (rid, eng, vkey, month of the deployment, first commit, merged, deployed) per shipped PR.
    shipped = [
        (rid, eng, vkey, found[1], started, merged, found[0])
        for rid, eng, vkey, sha, started, merged in fetch_rows(
            rows, ["rid", "eng", "vkey", "merge_commit_sha", "started", "merged"]
        )
        if (found := first_deploy.get(sha)) is not None
    ]
    table = np.array(shipped, dtype=np.float64).reshape(-1, 7)
    # Hours from the first commit and from the merge to the deployment (NaN where unknown).
    table[:, 4:6] = (table[:, 6:7] - table[:, 4:6]) / 3600
    return {
        name: SampleColumns.from_table(table, column).in_scope(scope)
        for name, column in (("lead_time", 4), ("deploy_time", 5))
    }


def _in_scope(scope: Scope, month: datetime.date, eng: int) -> bool:
    if scope.engagement_ids is not None and eng not in scope.engagement_ids:
        return False
    return (not scope.start or month >= scope.start) and (not scope.end or month < scope.end)


def _month(moment: datetime.datetime) -> datetime.date:
    return month_start(moment.astimezone(datetime.UTC).date())


def _merged_in_scope(organization_id: int, scope: Scope) -> QuerySet:
    qs = _merged(organization_id, scope)
    qs = within(qs, scope)
    return qs


def _first_response(**extra):
    responses = _review_by_other(**extra).order_by("submitted_at").values("submitted_at")[:1]
    return Subquery(responses)


def _samples(rows) -> SampleColumns:
    """Rows annotated with rid, eng, vkey, month (MonthIndex) and hours (Hours)."""
    return SampleColumns.from_table(fetch_table(rows, ["rid", "eng", "vkey", "month", "hours"]), 4)


def coding_time_samples(organization_id: int, scope: Scope) -> SampleColumns:
    rows = _merged_in_scope(organization_id, scope).filter(first_commit_at__isnull=False)
    return _samples(rows.annotate(month=MonthIndex("day"), hours=Hours("created_at", "first_commit_at")))


def response_samples(organization_id: int, scope: Scope) -> dict[str, SampleColumns]:
    """Pickup time (first review or comment by someone else − ready for review), review time
    (merged − that first response) and client wait (first response by a client reviewer −
    ready for review): the responses are looked up once per PR for all three. (One GROUP BY
    over the reviews joined to the PRs was faster on the large benchmark but, on a PostgreSQL
    database without statistics yet, planned a nested loop that ran for minutes.)

    The times come as epoch seconds and the hours are taken here: written in SQL, each use of
    the first response (in pickup, in review, in a filter) repeated its lookup, four per PR
    where two are needed. A PR nobody responded to gives NaN, which no column keeps."""
    rows = _merged_in_scope(organization_id, scope).annotate(
        month=MonthIndex("day"),
        ready=Epoch(Coalesce("ready_at", "created_at")),
        merged=Epoch("day"),
        response=Epoch(_first_response()),
        client_response=Epoch(_first_response(status="inhouse")),
    )
    table = fetch_table(
        rows, ["rid", "eng", "vkey", "month", "ready", "merged", "response", "client_response"]
    )
    ready, merged, response, client = (table[:, i].copy() for i in range(4, 8))
    table[:, 4] = (response - ready) / 3600  # pickup
    table[:, 5] = (merged - response) / 3600  # review
    table[:, 6] = (client - ready) / 3600  # client wait
    return {
        name: SampleColumns.from_table(table, column)
        for name, column in (("pickup_time", 4), ("review_time", 5), ("client_wait", 6))
    }


def issue_lead_time_samples(organization_id: int, scope: Scope) -> SampleColumns:
    rows = within(resolved_items(organization_id, scope), scope)
    return _samples(rows.annotate(month=MonthIndex("day"), hours=Hours("day", "created_at")))


def recovery_time_samples(organization_id: int, scope: Scope) -> list[Sample]:
    """Incident resolved − the failed deployment finished, for each vendor whose changes the
    failed deployment shipped; in the month the incident was resolved."""
    incidents = Incident.objects.filter(
        organization_id=organization_id, caused_by__isnull=False, resolved_at__isnull=False
    )
    if scope.start:
        incidents = incidents.filter(resolved_at__gte=_aware(scope.start))
    if scope.end:
        incidents = incidents.filter(resolved_at__lt=_aware(scope.end))
    incidents = incidents.annotate(
        eng=F("connection__engagement_id"),
        failed_at=Coalesce("caused_by__finished_at", "caused_by__created_at"),
    )
    rows = list(incidents.values_list("id", "eng", "caused_by_id", "resolved_at", "failed_at"))
    if not rows:
        return []
    deployments = Deployment.objects.filter(id__in={r[2] for r in rows})
    vendors = deployment_vendors(organization_id, deployments)
    out = []
    for rid, eng, caused_by, resolved, failed_at in rows:
        month = _month(resolved)
        if resolved < failed_at or not _in_scope(scope, month, eng):
            continue
        for vkey in vendors.get(caused_by, ()):
            out.append(Sample(rid, eng, vkey, month, _hours(resolved - failed_at)))
    return out


def time_to_staff_samples(organization_id: int, scope: Scope) -> list[Sample]:
    """Business days from the approval of the staffing request an assignment fills
    (``Assignment.requested_on``) to the person's first PR on the engagement merged after it, for
    the assignment's vendor (0: an in-house hire), in the month of that merge. An assignment
    that ended before the person merged anything has no sample. Weekends are not business days;
    public holidays are not known here.

    A PR stored later with an earlier merge moves the sample to an earlier month: the new PR's
    month is marked, the month it leaves waits for the next full recompute."""
    first = (
        PullRequest.objects.filter(
            person_id=OuterRef("person_id"), connection__engagement_id=OuterRef("engagement_id"),
            status__in=ATTRIBUTED, is_bot=False, merged_at__gte=OuterRef("requested_on"),
        )
        .order_by("merged_at", "id")
    )  # fmt: skip
    assignments = Assignment.objects.filter(
        organization_id=organization_id, requested_on__isnull=False, engagement__isnull=False
    )
    if scope.engagement_ids is not None:
        assignments = assignments.filter(engagement_id__in=scope.engagement_ids)
    rows = assignments.annotate(
        pr=Subquery(first.values("id")[:1]), merged=Subquery(first.values("merged_at")[:1])
    ).values_list("engagement_id", "vendor_id", "requested_on", "valid_to", "pr", "merged")
    import numpy as np

    out = []
    for eng, vendor_id, requested_on, valid_to, pr, merged in rows:
        if pr is None:
            continue
        month, merged_on = _month(merged), merged.astimezone(datetime.UTC).date()
        if (valid_to is not None and merged_on > valid_to) or not _in_scope(scope, month, eng):
            continue
        days = int(np.busday_count(requested_on, merged_on))
        out.append(Sample(pr, eng, vendor_id or 0, month, days * 24.0))  # stored in hours, as every duration
    return out


RAMP_SHARE = 0.7  # of the team's weekly merged PRs (METRICS.md)
RAMP_WEEKS = 26  # a newcomer not at that pace within half a year gives no sample
TEAM_WEEKS = 12  # the team's pace: its weeks on the engagement before the newcomer started
TEAM_MIN_WEEKS = 4  # a teammate counts toward that pace after four weeks on it
CONTINUED_WITHIN = datetime.timedelta(days=90)  # back on an engagement within this: not new
WEEK_SECONDS = 7 * 86400


def ramp_up_samples(organization_id: int, scope: Scope) -> list[Sample]:
    """Weeks until a newcomer's merged PRs in a week reach 70 % of the team's: for each person
    who joined an engagement (an assignment not continuing one of theirs on it that ended
    within 90 days), the team's pace is the median, over the others assigned to it for at least
    four of the twelve weeks before, of their merged PRs a week there; the newcomer's weeks are
    counted from the start, and the first week at 70 % of that pace is the sample, in the
    month that week ends, for the newcomer's vendor. No team pace (nobody before, or no PRs)
    or no such week within 26 weeks (or before the assignment ended): no sample.

    Like time to staff, a PR stored after a newer recompute moves the sample only when its
    own month is the one recomputed; the next full recompute settles every sample."""
    import numpy as np

    assignments = list(
        Assignment.objects.filter(organization_id=organization_id, engagement__isnull=False).values_list(
            "id", "person_id", "engagement_id", "vendor_id", "valid_from", "valid_to"
        )
    )
    by_person_engagement = defaultdict(list)
    for row in assignments:
        by_person_engagement[(row[1], row[2])].append(row)
    earliest = scope.start - datetime.timedelta(weeks=RAMP_WEEKS) if scope.start else None
    newcomers = [
        row
        for row in assignments
        if (scope.engagement_ids is None or row[2] in scope.engagement_ids)
        and (earliest is None or row[4] >= earliest)
        and (scope.end is None or row[4] < scope.end)
        and not any(
            other[0] != row[0] and other[5] is not None and row[4] - CONTINUED_WITHIN <= other[5] < row[4]
            for other in by_person_engagement[(row[1], row[2])]
        )
    ]
    # Each newcomer's teammates from the roster alone: (person, from, to) epochs of the others
    # on the engagement for at least four of the twelve weeks before the start. Newcomers
    # without a team (everyone who started with the engagement) are done before any PR is read.
    spans = defaultdict(list)  # engagement -> (person, from epoch, to epoch or None)
    for _, person, eng, _, valid_from, valid_to in assignments:
        spans[eng].append((person, _epoch(valid_from), _epoch(valid_to + datetime.timedelta(days=1)) if valid_to else None))  # fmt: skip
    teams = []
    for row in newcomers:
        start = _epoch(row[4])
        window = start - TEAM_WEEKS * WEEK_SECONDS
        mates = []
        for mate, since, until in spans[row[2]]:
            begin, end = max(since, window), min(until if until is not None else start, start)
            if mate != row[1] and end - begin >= TEAM_MIN_WEEKS * WEEK_SECONDS:
                mates.append((mate, begin, end))
        if mates:
            teams.append((row, start, mates))
    if not teams:
        return []
    first = min(row[4] for row, _, _ in teams) - datetime.timedelta(weeks=TEAM_WEEKS)
    prs = (
        of_organization(PullRequest.objects.all(), organization_id, EVERYTHING)
        .filter(
            status__in=ATTRIBUTED, is_bot=False, merged_at__isnull=False, person__isnull=False,
            connection__engagement_id__in={row[2] for row, _, _ in teams}, merged_at__gte=_aware(first),
        )
        .annotate(eng=F("connection__engagement_id"), merged=Epoch("merged_at"))
    )  # fmt: skip
    merged_by = _merges_by_person(fetch_table(prs, ["eng", "person_id", "merged"]))
    out = []
    for (assignment_id, person, eng, vendor_id, valid_from, valid_to), start, mates in teams:
        pace = float(
            np.median(
                [
                    _merged_between(merged_by.get((eng, m)), a, b) / ((b - a) / WEEK_SECONDS)
                    for m, a, b in mates
                ]
            )
        )
        if pace <= 0:
            continue
        times = merged_by.get((eng, person))
        last = _epoch(valid_to + datetime.timedelta(days=1)) if valid_to else None
        for week in range(1, RAMP_WEEKS + 1):
            week_end = start + week * WEEK_SECONDS
            if last is not None and week_end > last:
                break
            if _merged_between(times, week_end - WEEK_SECONDS, week_end) >= RAMP_SHARE * pace:
                month = month_start(valid_from + datetime.timedelta(weeks=week, days=-1))
                if _in_scope(scope, month, eng):
                    out.append(Sample(assignment_id, eng, vendor_id or 0, month, week * 7 * 24.0))
                break
    return out


def _merges_by_person(table):
    """(engagement, person) -> their merge epochs, sorted: one sort of the (engagement, person,
    epoch) rows, cut where the pair changes."""
    import numpy as np

    if not len(table):
        return {}
    table = table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]
    pairs = table[:, :2].astype(np.int64)
    cuts = np.flatnonzero(np.any(pairs[1:] != pairs[:-1], axis=1)) + 1
    starts, ends = np.concatenate(([0], cuts)).tolist(), np.concatenate((cuts, [len(table)])).tolist()
    merged = table[:, 2].copy()
    return {(int(pairs[a, 0]), int(pairs[a, 1])): merged[a:b] for a, b in zip(starts, ends, strict=True)}


def _merged_between(times, begin: float, end: float) -> int:
    """How many of the sorted epochs fall in [begin, end)."""
    if times is None:
        return 0
    return int(times.searchsorted(end, "left") - times.searchsorted(begin, "left"))


def _epoch(day: datetime.date) -> float:
    return _aware(day).timestamp()


def ticket_wait_samples(organization_id: int, scope: Scope) -> list[Sample]:
    from partnerscope.metrics.waits import ticket_wait_samples as read  # waits builds on this module

    return read(organization_id, scope)


def _single(
    name: str, read: Callable[[int, Scope], SampleColumns | list[Sample]]
) -> Callable[[int, Scope], dict[str, SampleColumns]]:
    """A duration read by a query of its own, in the shape of those read together (readers of
    a few samples return them as objects)."""

    def collect(organization_id: int, scope: Scope) -> dict[str, SampleColumns]:
        samples = read(organization_id, scope)
        return {name: samples if isinstance(samples, SampleColumns) else SampleColumns.from_samples(samples)}

    return collect


DURATIONS: dict[str, Duration] = {
    d.name: d
    for d in [
        Duration("lead_time", "Lead time for changes", "First production deployment − first commit of the PR",
                 "pull_request", deployed_samples),
        Duration("coding_time", "PR coding time", "PR created − first commit", "pull_request", _single("coding_time", coding_time_samples)),
        Duration("pickup_time", "PR pickup time",
                 "First review or comment by someone else − ready for review", "pull_request", response_samples),
        Duration("review_time", "PR review time", "Merged − first review", "pull_request", response_samples),
        Duration("client_wait", "Client review wait",
                 "First review or comment by a client reviewer − ready for review", "pull_request",
                 response_samples),
        Duration("deploy_time", "PR deploy time", "First production deployment − merged", "pull_request",
                 deployed_samples),
        Duration("issue_lead_time", "Issue lead time", "Resolved − created, work items resolved by the vendor",
                 "work_item", _single("issue_lead_time", issue_lead_time_samples)),
        Duration("ticket_client_wait", "Ticket client wait",
                 "Time a work item resolved by the vendor spent waiting for the client", "work_item",
                 _single("ticket_client_wait", ticket_wait_samples)),
        Duration("deploy_days", "Deployment days",
                 "Days with a successful production deployment containing the vendor's changes (each day's "
                 "first such deployment is listed)", "deployment", _single("deploy_days", deployment_day_samples)),
        Duration("recovery_time", "Failed deployment recovery time",
                 "Incident resolved − failed deployment finished", "incident", _single("recovery_time", recovery_time_samples)),
        Duration("time_to_staff", "Time to staff",
                 "Staffing request approved → the person's first merged PR on the engagement (business days)",
                 "pull_request", _single("time_to_staff", time_to_staff_samples)),
        Duration("ramp_up", "Ramp-up",
                 "Weeks from a newcomer's start until their merged PRs in a week reach 70 % of the team's pace",
                 "assignment", _single("ramp_up", ramp_up_samples)),
    ]
}  # fmt: skip


def duration_groups() -> list[tuple[list[Duration], Callable[[int, Scope], dict[str, SampleColumns]]]]:
    """Durations by the collector that reads them: one query each."""
    groups: dict[Callable, list[Duration]] = {}
    for duration in DURATIONS.values():
        groups.setdefault(duration.collect, []).append(duration)
    return [(durations, collect) for collect, durations in groups.items()]
