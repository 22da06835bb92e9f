"""Lists written back as the spreadsheets their imports read: XLSX, or CSV UTF-8 with a BOM
(Excel opens it as UTF-8 only with one)."""

from __future__ import annotations

import csv
import io
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
    sheet.freeze_panes = "A2"
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()
