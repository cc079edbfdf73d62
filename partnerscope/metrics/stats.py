"""Small statistics the metric rules ask for: Wilson intervals and exact percentiles."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

Z95 = 1.959963984540054


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion: fair across vendors of different sizes, and
    sensible at 0 % and 100 % where the normal approximation collapses to a point."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), on sorted input."""
    n = len(sorted_values)
    if n == 0:
        return None
    position = (n - 1) * q
    low = math.floor(position)
    high = min(low + 1, n - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class SampleChunk:
    """One month's durations of one cell: hours as an array and the record ids' additive digest
    terms (count, sum, hash sum; see measures.digest_of). Quarters and "all engagements" cells
    are lists of chunks, so millions of samples are copied once, as arrays."""

    hours: np.ndarray
    n: int
    id_sum: int
    id_hash: int


def pack_chunks(named: dict[str, list[SampleChunk]]) -> bytes:
    """One month cell's durations as bytes to store beside its measures, so an incremental
    recompute can add a quarter or a vendor's engagements up without reading their evidence
    again: a JSON header (name, count, id sum, id hash per duration), a newline, then the hours
    of each duration in header order as little-endian float64."""

    header, arrays = [], []
    for name, chunks in sorted(named.items()):
        hours = joined_hours(chunks)
        header.append([name, len(hours), sum(c.id_sum for c in chunks), sum(c.id_hash for c in chunks)])
        arrays.append(hours.astype("<f8", copy=False).tobytes())
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"".join(arrays)


def unpack_chunks(blob: bytes) -> dict[str, SampleChunk]:
    import numpy as np

    blob = bytes(blob)  # PostgreSQL gives a memoryview
    head, _, body = blob.partition(b"\n")
    hours = np.frombuffer(body, dtype="<f8")
    out, offset = {}, 0
    for name, n, id_sum, id_hash in json.loads(head):
        out[name] = SampleChunk(hours[offset : offset + n], n, id_sum, id_hash)
        offset += n
    if offset != len(hours):
        raise ValueError(f"stored samples hold {len(hours)} hours, their header names {offset}")
    return out


def joined_hours(chunks: list[SampleChunk]) -> np.ndarray:
    import numpy as np

    return chunks[0].hours if len(chunks) == 1 else np.concatenate([c.hours for c in chunks])


def sorted_hours(chunks: list[SampleChunk]) -> np.ndarray:
    import numpy as np

    return np.sort(joined_hours(chunks), kind="stable")
