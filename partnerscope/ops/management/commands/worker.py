import os
import signal
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string


def database_task_backend() -> bool:
    """True when background tasks are queued in the database (so a worker has work to do)."""
    from django_tasks_db import DatabaseBackend

    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    try:
        return issubclass(import_string(backend), DatabaseBackend)
    except ImportError:
        return False


def _stop_when_orphaned(parent_pid: int) -> None:
    """Shut down gracefully (as on SIGTERM) once the process that started us is gone.

    Compared with our parent pid, not probed with kill(): we are re-parented when it dies, even
    if its pid is reused later.
    """
    while os.getppid() == parent_pid:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Run the background worker. It takes queued tasks (imports, report builds, e-mails) from "
        "the database and runs them one at a time until Ctrl+C or SIGTERM (the current task "
        "finishes first). `serve` starts one for you; run more for more throughput."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait before checking again when the queue is empty (default: 1).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the tasks queued now, then exit (for cron jobs and tests).",
        )
        parser.add_argument(
            "--queue",
            default="*",
            help="Comma-separated queue names to take tasks from (default: all queues).",
        )
        parser.add_argument(
            "--parent-pid",
            type=int,
            metavar="PID",
            help="Exit once PID, the process that started this worker, has exited (used by `serve`).",
        )

    def handle(self, *, interval, batch, queue, parent_pid, **options):
        if not database_task_backend():
            raise CommandError(
                f"Tasks run with {settings.TASKS['default']['BACKEND']}, not in the database, so "
                f"there is no queue for a worker (unset PARTNERSCOPE_TASK_BACKEND to use one)."
            )
        if parent_pid is not None:
            threading.Thread(
                target=_stop_when_orphaned, args=(parent_pid,), daemon=True, name="parent-watch"
            ).start()
        call_command(
            "db_worker",
            queue_name=queue,
            interval=interval,
            batch=batch,
            reload=False,
            startup_delay=not batch,
            verbosity=options["verbosity"],
        )
