"""Running a recompute's evidence readers side by side, each thread on its own connection.

A reader is one GROUP BY or one timing query and the Python that turns its rows into cells.
Run one after another, the process waits on the database for most of a recompute's reading
(six tenths of an incremental recompute on PostgreSQL) while a core stays idle; two threads
let one reader's rows be turned into cells while the database works on the next query (Python
lets go of the interpreter while a query runs, on both databases).

Other connections see only committed rows, so readers run side by side only within
``side_by_side()`` entered outside any transaction: the recompute entry points enter it, and a
recompute called inside a transaction (a test's, a caller's) reads on its own connection, one
reader after another.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections


@dataclass(frozen=True)
class Reader:
    label: str  # what it reads (an error it raises says so)
    read: Callable[[], object]
    cost: float = 0  # its usual share of a recompute: the costliest start first


# Threads for readers here, and what prepares each thread's connection.
_setup: ContextVar[tuple[int, Callable[[], None]]] = ContextVar("readers", default=(1, lambda: None))


def read_threads() -> int:
    """Threads for readers (``METRICS_READ_THREADS``, default 2 or fewer cores: one thread
    turns rows into cells while the database answers the other, and more only queue behind
    the interpreter)."""
    return max(1, settings.METRICS_READ_THREADS)


@contextmanager
def side_by_side(session: Callable[[], None] = lambda: None):
    """Within: ``run`` may use several threads. ``session`` prepares each thread's connection
    (the recompute's database settings). Outside a transaction only: a reader on another
    connection would not see what this one has not committed."""
    threads = 1 if connection.in_atomic_block else read_threads()
    token = _setup.set((threads, session))
    try:
        yield threads
    finally:
        _setup.reset(token)


def run(readers: list[Reader]) -> Iterator[tuple[Reader, object]]:
    """Each reader with its result, as they finish (in order when one thread reads). The
    caller merges the results on its own thread and reports progress from it."""
    threads, session = _setup.get()
    threads = min(threads, len(readers))
    if threads <= 1:
        for reader in readers:
            yield reader, reader.read()
        return
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for reader in readers:
        todo.put(reader)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        try:
            session()
            while not stop.is_set():
                try:
                    reader = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put((reader, reader.read(), None))
                except BaseException as exc:  # handed to the caller's thread, raised there
                    done.put((reader, None, exc))
                    return
        except BaseException as exc:
            done.put((None, None, exc))
        finally:
            connections.close_all()  # this thread's connections only (they are per thread)

    workers = [threading.Thread(target=work, name=f"reader-{i}", daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        for _ in readers:
            reader, result, error = done.get()
            if error is not None:
                if reader is not None:
                    error.add_note(f"in the reader thread {reader.label.lower()}")
                raise error
            yield reader, result
    finally:
        stop.set()
        for worker in workers:
            worker.join()
