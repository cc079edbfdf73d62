"""partnerscope sync: read new git history now, with a progress bar."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from partnerscope.evidence.models import Repository, SyncRun
from partnerscope.evidence.services import queue_sync
from partnerscope.evidence.sync import run_sync


class Command(BaseCommand):
    help = (
        "Sync git repositories now, in this process, with a progress bar: mirror or fetch, read the "
        "new commits, store and attribute them. The page's 'Sync now' does the same in the worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "repositories", nargs="*", metavar="REPO", help="repository ids (from the page URL)"
        )
        parser.add_argument("--org", metavar="SLUG", help="only repositories of this organization")
        parser.add_argument("--all", action="store_true", help="every repository (of --org, if given)")

    def handle(self, *args, **options):
        repositories = Repository.objects.select_related("organization", "engagement")
        if options["org"]:
            repositories = repositories.filter(organization__slug=options["org"])
        if options["repositories"]:
            repositories = repositories.filter(uid__in=options["repositories"])
            missing = set(options["repositories"]) - set(repositories.values_list("uid", flat=True))
            if missing:
                raise CommandError(f"No repository with id {', '.join(sorted(missing))}.")
        elif not options["all"]:
            raise CommandError("Name repositories by id, or pass --all.")
        failed = 0
        for repository in repositories.order_by("organization__slug", "name"):
            try:
                run = queue_sync(repository, claim=True)
            except ValidationError as exc:
                self.stderr.write(f"{repository}: {' '.join(exc.messages)}")
                failed += 1
                continue
            with Progress(
                TextColumn(f"[bold]{repository.name}[/] {{task.description}}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            ) as progress:
                bar = progress.add_task("starting", total=None)

                def show(current: SyncRun, progress=progress, bar=bar) -> None:
                    progress.update(
                        bar,
                        description=current.phase,
                        completed=current.progress_done,
                        total=current.progress_total,
                    )

                run = run_sync(run, on_progress=show)
                progress.update(bar, description=run.get_status_display())
            self.stdout.write(f"{repository}: {run.get_status_display()}. {run.message}")
            failed += run.status != SyncRun.Status.SUCCEEDED
        if failed:
            raise CommandError(f"{failed} repositories did not sync.")
