"""partnerscope recompute: compute every metric value, score and alert now, with a progress bar."""

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from partnerscope.metrics.models import MetricsRun
from partnerscope.metrics.services import run_recompute
from partnerscope.orgs.models import Organization


class Command(BaseCommand):
    help = (
        "Recompute metric values, scores and alerts in this process, with a progress bar: all of them "
        "(the default) or, with --changed, only the cells new evidence marked. The worker does the "
        "latter on its own after every sync."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="only this organization (default: every one)")
        parser.add_argument("--changed", action="store_true", help="only cells marked by changed evidence")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization {options['org']!r}.")
        failed = 0
        for organization in organizations:
            run = MetricsRun.objects.create(organization=organization, full=not options["changed"])
            columns = [TextColumn(f"{organization.slug}: {{task.description}}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn()]  # fmt: skip
            with Progress(*columns, transient=False) as bar:
                task = bar.add_task("starting", total=None)

                def report(phase, done, total, bar=bar, task=task):
                    bar.update(task, description=phase, completed=done, total=total or None)

                run = run_recompute(run, progress=report)
            self.stdout.write(f"{organization.slug}: {run.get_status_display().lower()}. {run.message}")
            failed += run.status != MetricsRun.Status.SUCCEEDED
        if failed:
            raise CommandError(f"{failed} recompute{'s' if failed > 1 else ''} failed.")
