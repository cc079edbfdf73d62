"""partnerscope sync: read new git history and tracker records now, with a progress bar."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from partnerscope.evidence.connector_services import queue_connection_sync
from partnerscope.evidence.connectors.runner import run_connector_sync
from partnerscope.evidence.models import Connection, ConnectorRun, Repository, SyncRun
from partnerscope.evidence.services import queue_sync
from partnerscope.evidence.sync import run_sync


class Command(BaseCommand):
    help = (
        "Sync git repositories and tracker connections now, in this process, with a progress bar. "
        "The pages' 'Sync now' does the same in the worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "sources", nargs="*", metavar="ID", help="repository or connection ids (from the page URL)"
        )
        parser.add_argument("--org", metavar="SLUG", help="only sources of this organization")
        parser.add_argument("--all", action="store_true", help="every repository and connection (of --org)")

    def handle(self, *args, **options):
        repositories = Repository.objects.select_related("organization", "engagement")
        connections = Connection.objects.select_related("organization", "engagement")
        if options["org"]:
            repositories = repositories.filter(organization__slug=options["org"])
            connections = connections.filter(organization__slug=options["org"])
        if options["sources"]:
            repositories = repositories.filter(uid__in=options["sources"])
            connections = connections.filter(uid__in=options["sources"])
            found = set(repositories.values_list("uid", flat=True)) | set(
                connections.values_list("uid", flat=True)
            )
            missing = set(options["sources"]) - found
            if missing:
                raise CommandError(f"No repository or connection with id {', '.join(sorted(missing))}.")
        elif not options["all"]:
            raise CommandError("Name repositories or connections by id, or pass --all.")
        failed = 0
        for repository in repositories.order_by("organization__slug", "name"):
            failed += not self._run(
                repository, lambda r=repository: queue_sync(r, claim=True), run_sync, SyncRun
            )
        for connection in connections.order_by("organization__slug", "name"):
            failed += not self._run(
                connection,
                lambda c=connection: queue_connection_sync(c, claim=True),
                run_connector_sync,
                ConnectorRun,
            )
        if failed:
            raise CommandError(f"{failed} source{'s' if failed > 1 else ''} did not sync.")

    def _run(self, source, queue, execute, model) -> bool:
        try:
            run = queue()
        except ValidationError as exc:
            self.stderr.write(f"{source}: {' '.join(exc.messages)}")
            return False
        with Progress(
            TextColumn(f"[bold]{source.name}[/] {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        ) as progress:
            bar = progress.add_task("starting", total=None)

            def show(current, progress=progress, bar=bar) -> None:
                progress.update(
                    bar,
                    description=current.phase,
                    completed=current.progress_done,
                    total=current.progress_total,
                )

            run = execute(run, on_progress=show)
            progress.update(bar, description=run.get_status_display())
        self.stdout.write(f"{source}: {run.get_status_display()}. {run.message}")
        return run.status == model.Status.SUCCEEDED
