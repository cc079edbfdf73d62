"""partnerscope capacity: list capacity plans, or solve them now with a progress bar."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from partnerscope.sourcing.capacity import run_solve
from partnerscope.sourcing.models import CapacityPlan, PlanLine, PlanRun
from partnerscope.sourcing.services import queue_solve


class Command(BaseCommand):
    help = (
        "List capacity plans, or solve them in this process with a progress bar (the page's Solve "
        "does the same in the worker). A solve reads as the organization's first owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "solve"])
        parser.add_argument("plans", nargs="*", metavar="ID", help="plan ids (from the page URL)")
        parser.add_argument("--org", metavar="SLUG", help="only plans of this organization")

    def handle(self, *args, action, plans, org, **options):
        qs = CapacityPlan.objects.select_related("organization").order_by("organization__slug", "name")
        if org:
            qs = qs.filter(organization__slug=org)
        if plans:
            qs = qs.filter(uid__in=plans)
            missing = set(plans) - set(qs.values_list("uid", flat=True))
            if missing:
                raise CommandError(f"No capacity plan with id {', '.join(sorted(missing))}.")
        if action == "list":
            self._list(qs)
            return
        if not plans:
            raise CommandError("Name the plans to solve by id (partnerscope capacity list shows them).")
        failed = sum(not self._solve(plan) for plan in qs)
        if failed:
            raise CommandError(f"{failed} plan{'s' if failed > 1 else ''} did not solve.")

    def _list(self, qs) -> None:
        table = Table("id", "organization", "plan", "months", "status", "cost", "unmet FTE-months", "adopted")
        for plan in qs:
            table.add_row(
                plan.uid,
                plan.organization.slug,
                plan.name,
                f"{plan.start_month:%Y-%m} + {plan.months}",
                plan.get_status_display(),
                f"{plan.total_cost:,.0f} {plan.currency}" if plan.total_cost is not None else "—",
                f"{plan.unmet_fte_months:g}" if plan.unmet_fte_months is not None else "—",
                f"{plan.adopted_at:%Y-%m-%d}" if plan.adopted_at else "",
            )
        Console(file=self.stdout, width=160).print(table)

    def _solve(self, plan: CapacityPlan) -> bool:
        from partnerscope.orgs.models import Membership

        owner = (
            Membership.objects.filter(organization=plan.organization, role="owner")
            .select_related("user")
            .first()
        )
        if owner is None:
            self.stderr.write(f"{plan}: its organization has no owner to solve as.")
            return False
        try:
            run = queue_solve(plan, user=owner.user, claim=True)
        except ValidationError as exc:
            self.stderr.write(f"{plan}: {' '.join(exc.messages)}")
            return False
        with Progress(
            TextColumn(f"[bold]{plan.name}[/] {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as progress:
            bar = progress.add_task("starting", total=None)

            def show(current, progress=progress, bar=bar) -> None:
                progress.update(
                    bar,
                    description=current.phase,
                    completed=current.progress_done,
                    total=current.progress_total,
                )

            run = run_solve(run, on_progress=show)
        plan.refresh_from_db()
        self.stdout.write(f"{plan}: {run.message}")
        if plan.status == CapacityPlan.Status.SOLVED:
            vendors = (
                PlanLine.objects.filter(plan=plan, kind=PlanLine.Kind.VENDOR)
                .values("vendor_name")
                .distinct()
                .count()
            )
            self.stdout.write(
                f"  cost {plan.total_cost:,.0f} {plan.currency}, {vendors} vendors, "
                f"{plan.unmet_fte_months:g} FTE-months unmet, gap {100 * (plan.gap or 0):.3f} %"
            )
            for line in plan.binding:
                self.stdout.write(f"  binding: {line}")
        for line in plan.conflicts:
            self.stdout.write(f"  conflict: {line}")
        return run.status == PlanRun.Status.SUCCEEDED and plan.status == CapacityPlan.Status.SOLVED
