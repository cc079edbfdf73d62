"""One bulk upsert for the engine's many rows (KPI values, scores), on SQLite and PostgreSQL.

A recompute writes tens of thousands of rows. Building model instances for them cost more than
the SQL, and so did multi-row VALUES lists (thousands of placeholders to parse), so rows go in
as plain tuples: on PostgreSQL by COPY into a temporary table and one INSERT … SELECT … ON
CONFLICT (per-row statements cost ~130 µs each there, COPY a few); on SQLite through
executemany, which is a prepared loop inside SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


def upsert(
    table: str, columns: Sequence[str], key: Sequence[str], updated: Sequence[str], rows: Iterable[tuple]
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order, already adapted for the database) into
    ``table``; a row whose ``key`` exists updates ``updated`` and keeps everything else."""
    quote = connection.ops.quote_name
    names = ", ".join(map(quote, columns))
    target = quote(table)
    tail = f" ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET " + ", ".join(
        f"{quote(c)} = excluded.{quote(c)}" for c in updated
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            load = quote(f"{table}_load")
            cursor.execute(f"CREATE TEMP TABLE {load} AS SELECT {names} FROM {target} WITH NO DATA")  # noqa: S608 - names from the model
            with cursor.cursor.copy(f"COPY {load} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {load}" + tail)  # noqa: S608
            cursor.execute(f"DROP TABLE {load}")
        else:
            placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
            cursor.executemany(f"INSERT INTO {target} ({names}) VALUES {placeholder}" + tail, list(rows))  # noqa: S608
