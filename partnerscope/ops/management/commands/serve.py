import ipaddress
import os
import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from partnerscope.ops.backup import ensure_sqlite_dir
from partnerscope.ops.management.commands.worker import database_task_backend
from partnerscope.ops.server import DEFAULT_THREADS, make_server


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def display_url(host: str, port: int) -> str:
    if host in {"0.0.0.0", ""}:  # noqa: S104 - only naming it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = (
        "Run the web app and one background worker. Applies database migrations, starts the "
        "worker, serves the app with waitress on 127.0.0.1:8000 and stops both on Ctrl+C or SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: 127.0.0.1).")
        parser.add_argument(
            "--port", type=int, default=8000, help="Port to listen on (default: 8000; 0 picks a free one)."
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"Request-handling threads (default: {DEFAULT_THREADS}).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start a background worker (run `partnerscope worker` separately).",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="Allow listening on a non-loopback address. Only behind a TLS-terminating reverse "
            "proxy, with PARTNERSCOPE_HTTPS=1 and PARTNERSCOPE_ALLOWED_HOSTS set.",
        )

    def handle(self, *, host, port, threads, no_worker, no_migrate, public, **options):
        if not is_loopback(host) and not public:
            raise CommandError(
                f"Refusing to listen on {host}: that makes the server reachable from other machines, "
                f"and it speaks plain HTTP, so passwords and session cookies would cross the network "
                f"unencrypted. Serve it behind a TLS-terminating reverse proxy (set PARTNERSCOPE_HTTPS=1 "
                f"and PARTNERSCOPE_ALLOWED_HOSTS), then pass --public to confirm."
            )
        if not 0 <= port <= 65535:
            raise CommandError(f"--port {port} is not a TCP port (0-65535).")
        if threads < 1:
            raise CommandError("--threads must be at least 1.")

        ensure_sqlite_dir()
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrations are applied.")

        try:
            server = make_server(host, port, threads)
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}); is another server using "
                f"it? Pick another with --port."
            ) from None

        worker = None
        if not no_worker:
            if database_task_backend():
                worker = subprocess.Popen(
                    [sys.executable, "-m", "partnerscope.cli", "worker", f"--parent-pid={os.getpid()}"],
                    # Its own process group: Ctrl+C reaches only the server, which then stops
                    # the worker once, gracefully (a second signal would abort a running task).
                    start_new_session=True,
                )
                self.stdout.write(f"Background worker started (pid {worker.pid}).")
            else:
                self.stdout.write("Tasks run in-process (no database queue), so no worker is started.")

        def _on_signal(signum, frame):
            raise KeyboardInterrupt  # waitress then shuts down as on Ctrl+C

        # Both explicitly: a shell starting us in the background may have set SIGINT to ignored.
        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        url = display_url(host, server.effective_port)
        self.stdout.write(self.style.SUCCESS(f"PartnerScope is running at {url}  (Ctrl+C to stop)"))
        self.stdout.flush()
        try:
            server.run()  # returns on Ctrl+C (SIGINT) or SIGTERM
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.close()
            if worker is not None:
                _stop(worker)
        self.stdout.write("PartnerScope stopped.")


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
