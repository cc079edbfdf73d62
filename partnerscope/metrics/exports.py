"""A scorecard as CSV or XLSX. Every text cell is neutralised against formula injection:
a vendor or KPI name starting with = + - @ (or a tab or carriage return) would otherwise run
as a formula when the file is opened in a spreadsheet."""

from __future__ import annotations

import csv
import io

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Vendor", "Period", "Criterion", "KPI", "Value", "Unit", "Sample", "95% low", "95% high", "Target",
          "Threshold", "Weight", "Points", "Status", "Definition", "Digest"]  # fmt: skip


def neutralise(value):
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def rows(vendor, card) -> list[list]:
    out = [HEADER]
    for row in card.rows:
        v, criterion, kpi = row.value, row.result.criterion, row.kpi
        scale = kpi.scale
        out.append(
            [vendor.name, card.label, criterion.label or kpi.name, kpi.key,
             round(row.result.shown, 4) if row.result.shown is not None else "", kpi.unit,
             v.sample if v else 0,
             round(v.ci_low * scale, 4) if v and v.ci_low is not None else "",
             round(v.ci_high * scale, 4) if v and v.ci_high is not None else "",
             criterion.target, criterion.threshold, criterion.weight,
             round(row.result.points, 1) if row.result.points is not None else "",
             "included" if row.result.included else row.result.reason,
             f"{kpi.key}@{v.version}" if v else "", v.digest if v else ""]
        )  # fmt: skip
    out.append([vendor.name, card.label, "Weighted score", "", round(card.score, 1) if card.score is not None else "no data",
                "", "", "", "", "", "", card.weight_with_data, "", card.standing or "no data", card.template.name, ""])  # fmt: skip
    return [[neutralise(cell) for cell in line] for line in out]


def scorecard_csv(vendor, card) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows(vendor, card))
    return buffer.getvalue()


def scorecard_xlsx(vendor, card) -> bytes:
    from openpyxl import Workbook  # imported here: a second of start-up for the one export that needs it

    book = Workbook()
    sheet = book.active
    sheet.title = "Scorecard"
    for line in rows(vendor, card):
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
