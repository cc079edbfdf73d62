"""Readers side by side (metrics/readers.py): the evidence is committed (transactional tests), so
reader threads on their own connections see it; what they store is what one reader at a time
stores, an error in a thread reaches the caller with nothing written, and the threads' own
connections are closed when they are done."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections, transaction

from partnerscope.metrics import engine, readers
from partnerscope.metrics.models import DirtyCell, MetricValue
from tests.metrics.test_engine import _stored_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threads_seen(monkeypatch):
    """The names of the threads that ran a GROUP BY of measures."""
    seen: set[str] = set()
    grouped = engine.grouped_cells

    def recording(*args, **kwargs):
        seen.add(threading.current_thread().name)
        return grouped(*args, **kwargs)

    monkeypatch.setattr(engine, "grouped_cells", recording)
    return seen


def test_readers_side_by_side_store_what_one_reader_at_a_time_stores(evidence, settings, threads_seen):
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at, review

    org = evidence.org
    settings.METRICS_READ_THREADS = 1
    engine.full_recompute(org.id)
    assert threads_seen == {threading.main_thread().name}
    one_at_a_time = _stored_state(org)

    settings.METRICS_READ_THREADS = 2
    threads_seen.clear()
    engine.full_recompute(org.id)
    # Off this thread; whether both threads got a GROUP BY depends on timing (one can take
    # them all while the other starts), and that two run at once is the finish-order test's.
    assert threads_seen and threads_seen <= {"reader-0", "reader-1"}
    assert _stored_state(org) == one_at_a_time

    # One day of new evidence, recomputed incrementally by two threads: as a full recompute.
    threads_seen.clear()
    store_pull_requests(
        Connection.objects.get(engagement=evidence.engagement_a),
        [
            pull_request_row(
                41, "ana-alpha", at(12), reviews=[review("r41", "ida-inhouse", "approved", at(13))]
            )
        ],
    )
    assert DirtyCell.objects.exists()
    engine.recompute_dirty(org.id)
    assert threads_seen and threads_seen <= {"reader-0", "reader-1"}
    incremental = _stored_state(org)
    assert incremental != one_at_a_time  # the new PR counted
    settings.METRICS_READ_THREADS = 1
    engine.full_recompute(org.id)
    assert _stored_state(org) == incremental


def test_a_recompute_inside_a_transaction_reads_on_its_own_connection(evidence, settings, threads_seen):
    """Rows this connection has not committed are invisible to other connections, so inside a
    transaction the readers run one after another here."""
    settings.METRICS_READ_THREADS = 2
    with transaction.atomic():
        engine.full_recompute(evidence.org.id)
    assert threads_seen == {threading.main_thread().name}
    assert MetricValue.objects.filter(organization=evidence.org).exists()


def test_a_reader_failing_in_its_thread_fails_the_recompute_and_writes_nothing(
    evidence, settings, monkeypatch
):
    settings.METRICS_READ_THREADS = 2
    calls = []

    def broken(*args, **kwargs):
        calls.append(threading.current_thread().name)
        raise RuntimeError("the evidence could not be read")

    monkeypatch.setattr(engine, "roster_cells", broken)
    with pytest.raises(RuntimeError, match="could not be read") as raised:
        engine.full_recompute(evidence.org.id)
    assert calls and calls[0].startswith("reader-")
    assert raised.value.__notes__ == ["in the reader thread reading the roster"]
    assert not MetricValue.objects.filter(organization=evidence.org).exists()
    assert DirtyCell.objects.filter(organization=evidence.org).exists()  # still waiting


def test_reader_threads_close_their_connections(settings):
    settings.METRICS_READ_THREADS = 2
    opened = []

    def read():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        opened.append(connections["default"])  # this thread's own
        return threading.current_thread().name

    jobs = [readers.Reader(f"job {i}", read) for i in range(6)]
    with readers.side_by_side() as threads:
        assert threads == 2
        names = [result for _, result in readers.run(jobs)]
    assert set(names) <= {"reader-0", "reader-1"} and len(names) == 6
    assert connections["default"] not in opened
    # Closed when their thread finished; Django ignores closing an in-memory SQLite database's
    # connection (it would drop the database), so there the run on PostgreSQL says it.
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        assert all(c.connection is None for c in opened)


def test_readers_report_in_the_order_they_finish_and_all_of_them(settings):
    settings.METRICS_READ_THREADS = 2
    release = threading.Event()

    def slow():
        release.wait(5)
        return "slow"

    def fast():
        release.set()
        return "fast"

    jobs = [readers.Reader("slow", slow, cost=2), readers.Reader("fast", fast, cost=1)]
    with readers.side_by_side():
        order = [result for _, result in readers.run(jobs)]
    assert order == ["fast", "slow"]  # the slow one waited for the fast one, on another thread
    # Outside side_by_side: in order, on this thread.
    assert [result for _, result in readers.run(jobs[::-1])] == ["fast", "slow"]


def test_a_recompute_commits_its_progress_and_lets_evidence_be_written_while_it_reads(evidence, settings):
    """Only storing and scoring are one transaction: while the evidence is read, the run's
    progress is visible to the page (another connection), and a sync can write (on SQLite, a
    writer waiting for the recompute's lock would time out). The mark that sync makes is not
    consumed by this recompute: it waits for the next one."""
    from partnerscope.metrics.models import MetricsRun
    from partnerscope.metrics.services import run_recompute

    settings.METRICS_READ_THREADS = 2
    DirtyCell.objects.all().delete()
    run = MetricsRun.objects.create(organization=evidence.org, full=True)
    seen, errors = [], []

    def elsewhere():
        try:
            seen.append(MetricsRun.objects.values_list("phase", flat=True).get(pk=run.pk))
            if len(seen) == 1:
                DirtyCell.objects.create(
                    organization=evidence.org, engagement_id=evidence.engagement_a.id,
                    month=datetime.date(2024, 3, 1), source="git",
                )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported below, with the phase it failed in
            errors.append(exc)
        finally:
            connections.close_all()

    def progress(phase, done, total):
        if phase in ("Reading evidence", "Computing KPI values"):
            other = threading.Thread(target=elsewhere)
            other.start()
            other.join()

    run = run_recompute(run, progress=progress)
    assert run.status == MetricsRun.Status.SUCCEEDED, run.message
    assert not errors
    assert seen and set(seen) <= {"Reading evidence", "Computing KPI values"}
    assert DirtyCell.objects.filter(organization=evidence.org, source="git").count() == 1


def test_the_recompute_settings_hold_while_it_reads_and_are_reset_after():
    if connection.vendor != "postgresql":
        pytest.skip("the settings are PostgreSQL's")
    names = [name for name, _ in engine.RECOMPUTE_SETTINGS]

    def current():
        with connection.cursor() as cursor:
            values = []
            for name in names:
                cursor.execute(f"SHOW {name}")
                values.append(cursor.fetchone()[0])
            return values

    before = current()
    with engine._reading():
        assert current() == ["off", "256MB", "1.1", "off"]
    assert current() == before
    with transaction.atomic():  # inside a caller's transaction: until it ends
        with engine._reading():
            pass
        assert current() == ["off", "256MB", "1.1", "off"]
    assert current() == before
