from django.core.management.base import BaseCommand, CommandError

from partnerscope.ops import backup as ops_backup


class Command(BaseCommand):
    help = (
        "Restore the database from a file made by `backup`. Stop the server and the worker "
        "first. Refuses to overwrite a database that holds data unless --force is given; "
        "prints the restored row counts and checksum, which match the ones `backup` printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH", help="The backup file written by `backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that already holds organizations, users or records.",
        )
        parser.add_argument(
            "--database", default="default", help="The database alias to restore into (default: default)."
        )

    def handle(self, *, path, force, database, **options):
        try:
            summary = ops_backup.restore(path, using=database, force=force)
        except ops_backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored the {database} database from {path}"))
        self.stdout.write("\n".join(summary.lines()))
        pending = ops_backup.pending_migrations(database)
        if pending:
            self.stdout.write(
                f"The backup predates {len(pending)} migration(s); `serve` applies them on start, "
                f"or run `partnerscope migrate` now."
            )
