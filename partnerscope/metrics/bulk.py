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
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    updated: Sequence[str],
    rows: Iterable[tuple],
    constants: dict[str, object] | None = None,
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order, already adapted for the database) into
    ``table``; a row whose ``key`` exists updates ``updated`` and keeps everything else.
    ``constants``: columns with the same value in every row (adapted too), sent once instead of
    with each row (a sixth of the columns of a value row: times, flags)."""
    constants = constants or {}
    quote = connection.ops.quote_name
    every = [*columns, *constants]
    names = ", ".join(map(quote, every))
    target = quote(table)
    tail = f" ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET " + ", ".join(
        f"{quote(c)} = excluded.{quote(c)}" for c in updated
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            load = quote(f"{table}_load")
            varying = ", ".join(map(quote, columns))
            cursor.execute(f"CREATE TEMP TABLE {load} AS SELECT {varying} FROM {target} WITH NO DATA")  # noqa: S608 - names from the model
            with cursor.cursor.copy(f"COPY {load} ({varying}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            fixed = "".join(", %s" for _ in constants)
            cursor.execute(
                f"INSERT INTO {target} ({names}) SELECT {varying}{fixed} FROM {load}" + tail,  # noqa: S608
                list(constants.values()),
            )
            cursor.execute(f"DROP TABLE {load}")
        else:
            placeholder = "(" + ", ".join(["%s"] * len(every)) + ")"
            fixed = tuple(constants.values())
            cursor.executemany(
                f"INSERT INTO {target} ({names}) VALUES {placeholder}" + tail,  # noqa: S608
                [row + fixed for row in rows] if fixed else list(rows),
            )
