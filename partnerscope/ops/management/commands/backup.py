from django.core.management.base import BaseCommand, CommandError

from partnerscope.ops import backup as ops_backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to a file. A consistent copy while the server may keep "
        "running (SQLite: the online backup API; PostgreSQL: pg_dump --format=custom); prints the "
        "row count of every table and a checksum to compare with after a restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH", help="The backup file to create (must not exist yet).")
        parser.add_argument("--overwrite", action="store_true", help="Replace PATH if it already exists.")
        parser.add_argument(
            "--database", default="default", help="The database alias to back up (default: default)."
        )

    def handle(self, *, path, overwrite, database, **options):
        try:
            summary = ops_backup.backup(path, using=database, overwrite=overwrite)
        except ops_backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Backed up the {database} database to {path}"))
        self.stdout.write("\n".join(summary.lines()))
