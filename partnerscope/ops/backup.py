"""Backup and restore of the whole database, with row counts and a checksum to compare.

SQLite: the sqlite3 online backup API copies a consistent snapshot while the server and the
worker keep running. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, with the
connection taken from ``settings.DATABASES`` and the password passed in the environment.

``summarize`` counts the rows of every PartnerScope table (and the user accounts) and hashes
their contents in primary-key order, so a restored database can be compared with its source.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Summary:
    """Row count and content hash per table, and one checksum over all of them."""

    tables: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for table in sorted(self.tables):
            count, table_hash = self.tables[table]
            digest.update(f"{table}:{count}:{table_hash}\n".encode())
        return digest.hexdigest()

    @property
    def total_rows(self) -> int:
        return sum(count for count, _ in self.tables.values())

    def counts(self) -> dict[str, int]:
        return {table: count for table, (count, _) in self.tables.items()}

    def lines(self) -> list[str]:
        width = max((len(t) for t in self.tables), default=10)
        rows = [f"  {table:<{width}}  {count:>8}" for table, (count, _) in sorted(self.tables.items())]
        return [*rows, f"  {'total':<{width}}  {self.total_rows:>8}", f"  checksum sha256:{self.checksum}"]


def data_tables() -> dict[str, str]:
    """Table name -> primary-key column of every PartnerScope model, plus the user accounts."""
    tables = {}
    # Many-to-many tables (an engagement's required skills) are data too.
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if meta.app_config.name.startswith("partnerscope.") or meta.label_lower == "auth.user":
            tables[meta.db_table] = meta.pk.column
    return dict(sorted(tables.items()))


def _canonical(value):
    # Django's SQLite connection parses dates and booleans that a plain sqlite3 connection
    # (reading a backup file) returns as stored text and integers: hash the stored form.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return str(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _row_digest(rows) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(_canonical(v) for v in row)).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _summarize_cursor(cursor, tables: dict[str, str], quote) -> Summary:
    summary = Summary()
    for table, pk in tables.items():
        cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {quote(pk)}")  # noqa: S608 - model names
        rows = cursor.fetchall()
        summary.tables[table] = (len(rows), _row_digest(rows))
    return summary


def summarize(using: str = "default") -> Summary:
    """Counts and checksum of the live database behind the ``using`` alias."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    tables = {t: pk for t, pk in data_tables().items() if t in existing}
    with connection.cursor() as cursor:
        return _summarize_cursor(cursor, tables, connection.ops.quote_name)


def summarize_sqlite_file(path: str | os.PathLike) -> Summary:
    """Counts and checksum of a SQLite file (a backup), read-only."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables = {t: pk for t, pk in data_tables().items() if t in existing}
        return _summarize_cursor(conn.cursor(), tables, lambda name: '"' + name.replace('"', '""') + '"')
    finally:
        conn.close()


def is_empty(using: str = "default") -> bool:
    """True when no PartnerScope table and no user account holds a row (a fresh database)."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in data_tables():
            if table in existing:
                cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 - model names
                if cursor.fetchone() is not None:
                    return False
    return True


def pending_migrations(using: str = "default") -> list[str]:
    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def vendor_of(using: str = "default") -> str:
    return connections[using].vendor


def ensure_sqlite_dir(using: str = "default") -> None:
    """Create the directory of a SQLite database file (the data dir) if it is missing."""
    settings_dict = connections[using].settings_dict
    if connections[using].vendor != "sqlite":
        return
    name = str(settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        return
    Path(name).parent.mkdir(parents=True, exist_ok=True)


# --- SQLite ---------------------------------------------------------------------------------


def _raw_sqlite(using: str) -> sqlite3.Connection:
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A backup or restore cannot run inside a database transaction.")
    connection.ensure_connection()
    return connection.connection


def _check_sqlite_file(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}).") from None
    if not result or result[0] != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result[0] if result else 'no answer'}.")
    if "django_migrations" not in tables or "orgs_organization" not in tables:
        raise BackupError(f"{path} is a SQLite database but not a PartnerScope backup.")


def _sqlite_backup(dest: Path, using: str) -> Summary:
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    source = _raw_sqlite(using)
    target = sqlite3.connect(partial)
    try:
        # One step (pages=-1): the copy is a single consistent snapshot, even with the WAL
        # receiving writes from the server and the worker meanwhile.
        source.backup(target)
        # A self-contained file: no -wal/-shm side files when the backup is opened later.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
    partial.chmod(0o600)  # it holds password hashes
    try:
        _check_sqlite_file(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
    return summarize_sqlite_file(dest)


def _sqlite_restore(source_path: Path, using: str) -> Summary:
    _check_sqlite_file(source_path)
    expected = summarize_sqlite_file(source_path)
    target = _raw_sqlite(using)
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(target)
    finally:
        source.close()
    restored = summarize(using)
    if restored.checksum != expected.checksum:
        raise BackupError(
            "The restored database does not match the backup (checksums differ); "
            "restore again with no server or worker running."
        )
    return restored


# --- PostgreSQL -----------------------------------------------------------------------------

_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


def _pg_conninfo_value(value: str) -> str:
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def pg_invocation(settings_dict: dict) -> tuple[str, dict[str, str]]:
    """The ``dbname=...`` conninfo and the environment for pg_dump/pg_restore.

    The database name is quoted as a conninfo value (so no name is read as options or as a
    connection string); host, port, user and password travel in PG* environment variables,
    never on the command line where other local users could read them.
    """
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        value = settings_dict.get(key)
        if value not in (None, ""):
            env[var] = str(value)
    for option, var in _PG_OPTION_ENV.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            env[var] = str(value)
    name = settings_dict.get("NAME")
    if not name:
        raise BackupError("settings.DATABASES has no database NAME to back up.")
    return f"dbname={_pg_conninfo_value(name)}", env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH. Install the PostgreSQL client tools of your server's major "
            f"version (e.g. the postgresql-client package)."
        )
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
        raise BackupError(f"{Path(cmd[0]).name} failed: {message}")


def _pg_backup(dest: Path, using: str) -> Summary:
    pg_dump = _pg_tool("pg_dump")
    connection = connections[using]
    conninfo, env = pg_invocation(connection.settings_dict)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    # Count the rows in the very snapshot pg_dump copies: export it from a repeatable-read
    # transaction held open while pg_dump runs.
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        cmd = [
            pg_dump,
            "--format=custom",
            "--no-owner",
            f"--snapshot={snapshot}",
            f"--file={partial}",
            "--",
            conninfo,
        ]
        try:
            _run(cmd, env)
        except BackupError:
            partial.unlink(missing_ok=True)
            raise
        summary = summarize(using)
    partial.chmod(0o600)
    os.replace(partial, dest)
    return summary


def _pg_restore(source_path: Path, using: str) -> Summary:
    pg_restore = _pg_tool("pg_restore")
    connection = connections[using]
    conninfo, env = pg_invocation(connection.settings_dict)
    _run([pg_restore, "--list", "--", str(source_path)], env)  # a readable custom-format dump?
    connection.close()  # hold no locks on the tables being replaced
    cmd = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={conninfo}",
        "--",
        str(source_path),
    ]
    _run(cmd, env)
    return summarize(using)


# --- Entry points ---------------------------------------------------------------------------


def backup(dest: str | os.PathLike, *, using: str = "default", overwrite: bool = False) -> Summary:
    """Write a consistent copy of the database to ``dest``; returns what it holds."""
    dest = Path(dest).expanduser().resolve()
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; choose a new file name (or pass --overwrite).")
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory; give a file name such as {dest / 'partnerscope.backup'}.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    vendor = connections[using].vendor
    if vendor == "sqlite":
        return _sqlite_backup(dest, using)
    if vendor == "postgresql":
        return _pg_backup(dest, using)
    raise BackupError(f"Backups of {vendor} databases are not supported (SQLite and PostgreSQL are).")


def restore(source: str | os.PathLike, *, using: str = "default", force: bool = False) -> Summary:
    """Replace the database's contents with the backup at ``source``; returns what it holds."""
    source = Path(source).expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file.")
    vendor = connections[using].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"Restoring {vendor} databases is not supported (SQLite and PostgreSQL are).")
    ensure_sqlite_dir(using)
    if not force and not is_empty(using):
        raise BackupError(
            "The database already holds data; restoring would replace all of it. Stop the server and "
            "the worker, take a backup of the current data if you may need it, then run restore again "
            "with --force."
        )
    if vendor == "sqlite":
        return _sqlite_restore(source, using)
    return _pg_restore(source, using)
