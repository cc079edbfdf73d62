"""Duration samples as columns: one numpy array per field instead of an object per sample.

A full recompute of the large benchmark reads about two and a half million durations. As
Python objects, each was built, appended to its cell's list and copied into an array again;
as columns they come from the database rows in one conversion and are cut into per-cell
chunks (stats.SampleChunk) by one sort.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    import numpy as np

    from partnerscope.metrics.measures import Sample, Scope
    from partnerscope.metrics.stats import SampleChunk


def month_index(day: datetime.date) -> int:
    """Months since year 0: how the columns (and MonthIndex in SQL) number months."""
    return day.year * 12 + day.month - 1


@functools.lru_cache(maxsize=4096)
def month_of_index(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class SampleColumns:
    """Durations of one kind: the record each belongs to, its cell (engagement, vendor key,
    month index) and its length in hours."""

    rid: np.ndarray
    eng: np.ndarray
    vkey: np.ndarray
    month: np.ndarray
    hours: np.ndarray

    @classmethod
    def empty(cls) -> SampleColumns:
        import numpy as np

        ints = np.zeros(0, dtype=np.int64)
        return cls(ints, ints, ints, ints, np.zeros(0, dtype=np.float64))

    @classmethod
    def from_table(cls, table: np.ndarray, hours_column: int) -> SampleColumns:
        """From a float table whose first four columns are rid, eng, vkey, month index: the
        rows whose ``hours_column`` is a duration (not NULL, so NaN; not negative: a clock
        skew between systems is not a negative duration)."""
        import numpy as np

        picked = table[table[:, hours_column] >= 0]  # NaN compares false
        ints = picked[:, :4].astype(np.int64)
        return cls(ints[:, 0], ints[:, 1], ints[:, 2], ints[:, 3], picked[:, hours_column].copy())

    @classmethod
    def from_samples(cls, samples: list[Sample]) -> SampleColumns:
        import numpy as np

        if not samples:
            return cls.empty()
        return cls(
            np.array([s.rid for s in samples], dtype=np.int64),
            np.array([s.eng for s in samples], dtype=np.int64),
            np.array([s.vkey for s in samples], dtype=np.int64),
            np.array([month_index(s.month) for s in samples], dtype=np.int64),
            np.array([s.hours for s in samples], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.rid)

    def samples(self) -> list[Sample]:
        """As objects (the drill-down lists a cell's records one by one)."""
        from partnerscope.metrics.measures import Sample

        return [
            Sample(int(r), int(e), int(v), month_of_index(int(m)), float(h))
            for r, e, v, m, h in zip(self.rid, self.eng, self.vkey, self.month, self.hours, strict=True)
        ]

    def in_scope(self, scope: Scope) -> SampleColumns:
        """Those of cells in ``scope`` (durations counted in the month of another date than
        the one the rows were read by)."""
        import numpy as np

        mask = np.ones(len(self), dtype=bool)
        if scope.engagement_ids is not None:
            mask &= np.isin(self.eng, list(scope.engagement_ids))
        if scope.start:
            mask &= self.month >= month_index(scope.start)
        if scope.end:
            mask &= self.month < month_index(scope.end)
        if mask.all():
            return self
        return SampleColumns(
            self.rid[mask], self.eng[mask], self.vkey[mask], self.month[mask], self.hours[mask]
        )

    def by_cell(self) -> dict[tuple[int, int, datetime.date], SampleChunk]:
        """One chunk per (engagement, vendor key, month): hours in record order within a cell,
        so the same samples give the same stored bytes whatever order the rows came in."""
        import numpy as np

        from partnerscope.metrics.measures import HASH_MULTIPLIER, HASH_PRIME
        from partnerscope.metrics.stats import SampleChunk

        if not len(self):
            return {}
        order = np.lexsort((self.hours, self.rid, self.month, self.vkey, self.eng))
        eng, vkey, month = self.eng[order], self.vkey[order], self.month[order]
        rid, hours = self.rid[order], self.hours[order]
        boundary = (eng[1:] != eng[:-1]) | (vkey[1:] != vkey[:-1]) | (month[1:] != month[:-1])
        starts = np.concatenate(([0], np.flatnonzero(boundary) + 1))
        ends = np.append(starts[1:], len(rid))
        # (id mod prime) × multiplier < 1.2e19 fits an unsigned 64-bit integer, and so does the
        # sum of a few million hashes below 2^32 (measures.digest_of's terms).
        prime = np.uint64(HASH_PRIME)
        hashes = rid.astype(np.uint64) % prime * np.uint64(HASH_MULTIPLIER) % prime
        id_sums = np.add.reduceat(rid, starts)
        id_hashes = np.add.reduceat(hashes, starts)
        out = {}
        for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            key = (int(eng[start]), int(vkey[start]), month_of_index(int(month[start])))
            out[key] = SampleChunk(hours[start:end], end - start, int(id_sums[i]), int(id_hashes[i]))
        return out


def fetch_rows(queryset, fields: list[str]) -> list[tuple]:
    """``queryset.values_list(*fields)`` as the database cursor gives it: plain tuples, without
    the ORM's per-row work (the fields must need no conversion: numbers and text)."""
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_table(queryset, fields: list[str]) -> np.ndarray:
    """The rows of ``queryset.values_list(*fields)`` as a float table (NULL as NaN): the fields
    must be numbers (ids, epochs, hours, MonthIndex)."""
    import numpy as np

    # No ORDER BY: the models' default orderings would sort every row read for nothing (a
    # sixth of reading the work items' lead times in a full recompute on SQLite).
    rows = fetch_rows(queryset.order_by(), fields)
    if not rows:
        return np.zeros((0, len(fields)), dtype=np.float64)
    return np.array(rows, dtype=np.float64)
