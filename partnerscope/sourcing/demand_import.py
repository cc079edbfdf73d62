"""Reading a demand grid from CSV: all of it or nothing, every error naming its row and column.

Two shapes are accepted, told apart by the header:

* wide: ``skill,2025-07,2025-08,…`` — one row per skill, one column per month;
* long: ``skill,month,fte`` — one row per cell.

Skills are matched by name (case-insensitive) against the organization's taxonomy; months are
``YYYY-MM`` inside the plan's horizon; FTE are numbers from 0 to 10,000. A skill and month given
twice is an error naming both rows. Row numbers count the header as row 1, as spreadsheets do.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import io
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

MAX_BYTES = 1024 * 1024
MAX_ROWS = 20_000
MAX_FTE = Decimal(10_000)
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class DemandFileError(ValidationError):
    pass


def _error(filename: str, message: str) -> DemandFileError:
    return DemandFileError({"file": f"{filename}: {message}"})


def check_size(size: int, filename: str) -> None:
    """Refuse an oversized upload before reading it."""
    if size > MAX_BYTES:
        raise _error(filename, f"the file is {size // 1024} KB; at most {MAX_BYTES // 1024} KB.")


def parse_month(text: str) -> datetime.date | None:
    match = MONTH.match(text.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        return None
    return datetime.date(year, month, 1)


def parse_fte(text: str) -> Decimal | None:
    cleaned = text.strip()
    if cleaned == "":
        return Decimal(0)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_FTE:
        return None
    return value.quantize(Decimal("0.01"))


def read_demand_csv(data: bytes, filename: str, *, skills: dict[str, object], months: list[datetime.date]):
    """{(skill, month): fte} from the file; ``skills`` maps lower-case names to Skill records."""
    check_size(len(data), filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(filename, f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.") from None
    if "\x00" in text:
        raise _error(filename, "contains NUL bytes: it is not a CSV file.")
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise _error(filename, "the file is empty.")
    if len(rows) > MAX_ROWS:
        raise _error(filename, f"{len(rows)} rows; at most {MAX_ROWS}.")
    header = [cell.strip().lower() for cell in rows[0]]
    horizon = set(months)
    span = f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"
    if header[:3] == ["skill", "month", "fte"]:
        cells = _read_long(rows, filename, skills, horizon, span)
    elif header and header[0] == "skill":
        cells = _read_wide(rows, filename, skills, horizon, span)
    else:
        raise _error(
            filename,
            "row 1: the header must start with “skill”, then months (2025-07,2025-08,…) or “month,fte”.",
        )
    return cells


def _skill(name: str, skills, where: str, filename: str):
    found = skills.get(name.strip().lower())
    if found is None:
        close = difflib.get_close_matches(name.strip().lower(), list(skills), n=1)
        hint = f" (did you mean {skills[close[0]]}?)" if close else ""
        label = name.strip() or "(empty)"
        raise _error(filename, f"{where}: unknown skill “{label}”{hint}; add it under Skills first.")
    return found


def _read_wide(rows, filename, skills, horizon, span):
    header = rows[0]
    columns = []
    for index, cell in enumerate(header[1:], start=2):
        if not cell.strip():
            raise _error(filename, f"row 1, column {index}: the month is empty.")
        month = parse_month(cell)
        if month is None:
            raise _error(
                filename, f"row 1, column {index}: “{cell.strip()[:20]}” is not a month like 2025-07."
            )
        if month not in horizon:
            raise _error(
                filename, f"row 1, column {index} ({cell.strip()}): outside the plan's months ({span})."
            )
        if month in columns:
            raise _error(filename, f"row 1, column {index}: {cell.strip()} appears twice.")
        columns.append(month)
    cells, seen = {}, {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise _error(
                filename, f"row {number}: {len(row)} values but the header has {len(header)} columns."
            )
        skill = _skill(row[0], skills, f"row {number}, column 1", filename)
        if skill.id in seen:
            raise _error(filename, f"row {number}: {skill} is also on row {seen[skill.id]}.")
        seen[skill.id] = number
        for index, month in enumerate(columns, start=2):
            raw = row[index - 1] if index - 1 < len(row) else ""
            fte = parse_fte(raw)
            if fte is None:
                raise _error(
                    filename,
                    f"row {number}, column {index} ({skill}, {month:%Y-%m}): “{raw.strip()[:20]}” is not an "
                    f"FTE from 0 to {MAX_FTE:,}.",
                )
            cells[(skill, month)] = fte
    return cells


def _read_long(rows, filename, skills, horizon, span):
    cells, seen = {}, {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) < 3:
            raise _error(filename, f"row {number}: expected skill, month and fte; got {len(row)} values.")
        if len(row) > 3 and any(cell.strip() for cell in row[3:]):
            raise _error(filename, f"row {number}, column 4: unexpected value; only skill, month and fte.")
        skill = _skill(row[0], skills, f"row {number}, column 1", filename)
        month = parse_month(row[1])
        if month is None:
            raise _error(
                filename, f"row {number}, column 2: “{row[1].strip()[:20]}” is not a month like 2025-07."
            )
        if month not in horizon:
            raise _error(
                filename, f"row {number}, column 2 ({row[1].strip()}): outside the plan's months ({span})."
            )
        fte = parse_fte(row[2])
        if fte is None or row[2].strip() == "":
            raise _error(
                filename,
                f"row {number}, column 3: “{row[2].strip()[:20]}” is not an FTE from 0 to {MAX_FTE:,}.",
            )
        key = (skill.id, month)
        if key in seen:
            raise _error(filename, f"row {number}: {skill} in {month:%Y-%m} is also on row {seen[key]}.")
        seen[key] = number
        cells[(skill, month)] = fte
    return cells
