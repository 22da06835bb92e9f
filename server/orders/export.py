"""The filtered queue as a spreadsheet: CSV (UTF-8 with a BOM, which zh-CN Excel needs to read
it as UTF-8) or XLSX, Chinese headers, times in the campaign's zone.

Both are produced from :func:`server.orders.queue.every_row`, a page of rows at a time; the
CSV is streamed as it is read, the XLSX is built by openpyxl's write-only workbook (rows are
not kept as cells) and is bounded by QUEUE_EXPORT_MAX_ROWS like the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from typing import Any, Iterable, Iterator

from openpyxl import Workbook

STATUS_NAMES = {"triage": "待分派", "issued": "整改中", "responded": "待复查", "closed": "已销号",
                "parked": "挂账", "voided": "作废"}
REQUEST_NAMES = {"extension": "延期申请", "return": "回退申请", "park": "挂账申请", "void": "作废申请"}
FLAG_NAMES = {"reused_before_photo": "疑似重复使用整改前照片", "reused_elsewhere": "疑似与其他问题照片重复",
              "taken_before_order": "拍摄时间早于下达", "far_from_finding": "拍摄地点偏离"}

#: (header, how to read it from a queue row)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "id"), ("责任单位", "unit_name"), ("问题类别", "category"), ("问题描述", "description"),
    ("地点", "location_text"), ("等级", "level_name"), ("状态", "status"), ("发现时间", "observed_at"),
    ("下达时间", "issued_at"), ("整改期限", "due_at"), ("是否超期", "overdue"), ("销号时间", "closed_at"),
    ("待办", "pending_requests"), ("照片提示", "flags"),
)


def _cell(key: str, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if key == "status":
        return STATUS_NAMES.get(value.value, value.value)
    if key == "overdue":
        return "是" if value else "否"
    if key == "pending_requests":
        return "、".join(REQUEST_NAMES.get(k, k) for k in value)
    if key == "flags":
        return "、".join(FLAG_NAMES.get(k, k) for k in value)
    return str(value)


def cells(rows: Iterable[dict[str, Any]], tz: str) -> Iterator[list[Any]]:
    zone = zoneinfo.ZoneInfo(tz)
    yield [header for header, _ in COLUMNS]
    for row in rows:
        yield [_cell(key, row.get(key), zone) for _, key in COLUMNS]


def csv_chunks(rows: Iterable[dict[str, Any]], tz: str) -> Iterator[str]:
    """The CSV a line at a time (for a streamed response), opening with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for line in cells(rows, tz):
        writer.writerow(line)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_bytes(rows: Iterable[dict[str, Any]], tz: str, *, title: str = "问题清单") -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for line in cells(rows, tz):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
