"""Lists written back as the spreadsheets their imports read: XLSX, or CSV UTF-8 with a BOM
(Excel opens it as UTF-8 only with one)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Sequence

FORMATS = ("xlsx", "csv")
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


def table_bytes(rows: Sequence[Sequence[object]], fmt: str, *, title: str = "Sheet1") -> bytes:
    """``rows``, the header first, as a file of format ``fmt`` (``xlsx`` or ``csv``)."""
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                # openpyxl takes any text starting with "=" for a formula: such a name would come
                # back empty (nothing computed it) and would run in Excel. A list holds text only.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def format_of(path: Path) -> str | None:
    """The format a file's name asks for (``xlsx`` or ``csv``), None for any other suffix."""
    fmt = path.suffix.lower().lstrip(".")
    return fmt if fmt in FORMATS else None


def plain(value: Decimal) -> Decimal:
    """A stored number as the clerk typed it: 10, not 10.00 or 1E+1 (a number in XLSX, text in CSV)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
