from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from partnerscope import demo
from partnerscope.engagements.models import Engagement, Person
from partnerscope.ops.backup import ensure_sqlite_dir
from partnerscope.orgs.models import Organization
from partnerscope.vendors.models import Vendor


class Command(BaseCommand):
    help = (
        'Load the demo organization "Northwind Labs" and print its logins. Vendors, engagements, '
        "a dated roster and five users, built through the same services as the app so the audit "
        "log shows its history; an existing demo is kept unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo organization and all its records, then create it afresh (dates "
            "move with today).",
        )
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Only print the demo logins; load or change nothing.",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )

    def handle(self, *, reset, print_logins, no_migrate, **options):
        if print_logins:
            if reset:
                raise CommandError("--print-logins changes nothing, so it cannot be combined with --reset.")
            self._print_logins(demo.demo_logins(), demo.demo_password())
            return
        ensure_sqlite_dir()
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        result = demo.load_demo(reset=reset)
        org = result.organization
        if result.created:
            counts = (
                f"{Vendor.objects.filter(organization=org).count()} vendors, "
                f"{Engagement.objects.filter(organization=org).count()} engagements, "
                f"{Person.objects.filter(organization=org).count()} people"
            )
            verb = "Recreated" if reset else "Created"
            self.stdout.write(self.style.SUCCESS(f"{verb} the demo organization {org.name} ({counts})."))
        else:
            self.stdout.write(
                f"The demo organization {org.name} is already loaded; kept as is (--reset recreates it)."
            )
        self._print_logins(result.logins, result.password)

    def _print_logins(self, logins, password):
        exists = Organization.objects.filter(slug=demo.DEMO_SLUG).exists() if self._db_ready() else False
        if not exists:
            self.stdout.write("The demo is not loaded yet; `partnerscope demo` loads it.")
        self.stdout.write(f"Demo logins (password: {password}):")
        width = max(len(login.email) for login in logins)
        for login in logins:
            who = f"{login.role} of {login.vendor}" if login.vendor else login.role
            self.stdout.write(f"  {login.email:<{width}}  {who}")

    def _db_ready(self) -> bool:
        from django.db import connection

        return Organization._meta.db_table in connection.introspection.table_names()
