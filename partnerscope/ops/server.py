"""The web server: waitress serving the Django application, as `partnerscope serve` runs it and
as the page benchmark measures it (one function, so the benchmark times what users get)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

# Request threads. The interpreter runs one thread at a time, so threads beyond a few only add
# waiting: under eight concurrent clients on two cores, 8 threads gave the scorecard and the
# comparison a p95 near 200 ms, 4 threads about 120 ms, and the trivial page 70 ms against
# 52 ms (bench/metrics.py, large scale). A client beyond four waits in waitress's queue, which
# is shorter than waiting for the interpreter among eight. Waitress's own default is also 4.
DEFAULT_THREADS = 4


def make_server(host: str, port: int, threads: int = DEFAULT_THREADS):
    """A waitress server for the application, ready to ``run()``. Before it is made, every URL
    module is imported (otherwise the first request pays for it: seconds on a busy machine),
    and the objects that live as long as the process are frozen out of the garbage collector."""
    from django.urls import get_resolver
    from waitress.server import create_server

    from partnerscope.wsgi import application

    get_resolver().url_patterns  # noqa: B018 - imports every URL module and its views
    # A full collection walked every module, class and function loaded so far: 90 ms with the
    # whole app loaded, a pause for every request in flight. Frozen, they are never walked again
    # (they are never garbage); collections then only look at what requests create.
    gc.collect()
    gc.freeze()
    return create_server(application, host=host, port=port, threads=threads, ident="PartnerScope")


def serve_in_thread(server) -> Callable[[], None]:
    """Serve ``server`` on a daemon thread (the benchmark and the tests do); returns the function
    that stops it. Stopping ends the loop before it closes the socket: closed under a running
    ``select``, the thread died with "Bad file descriptor"."""
    stopping = threading.Event()

    def loop():
        while not stopping.is_set():
            # One poll at a time, so the flag is looked at within the timeout.
            server.asyncore.loop(
                timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
            )

    thread = threading.Thread(target=loop, name="partnerscope-server", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join()
        server.task_dispatcher.shutdown()
        server.close()

    return stop
