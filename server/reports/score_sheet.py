"""The score sheet (考核得分表) as XLSX: one row per unit, one column per checklist item, the
totals, rank and tier; the header frozen and filters on, so it sorts and filters in Excel/WPS."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from server.assessment.results import EXCLUDED, NOT_VISITED, RoundResult

STATUS_TEXT = {NOT_VISITED: "未检查", EXCLUDED: "暂未排序"}
FIXED_BEFORE = ("排名", "单位", "编码", "考核组别")
FIXED_AFTER = ("细则得分", "整改扣分", "总分", "等次", "说明")


def write_score_sheet(result: RoundResult) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "得分表"
    deducts = result.scoring_model == "deduction"
    item_headers = [f"{i.code} {i.category}（{'扣分' if deducts else '得分'}，满分{i.max_score.normalize():f}）"
                    for i in result.items]
    headers = [*FIXED_BEFORE, *item_headers, *FIXED_AFTER]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for unit in result.in_order():
        note = STATUS_TEXT.get(unit.status, "")
        if unit.reason:
            note = f"{note}：{unit.reason}"
        sheet.append([unit.rank, unit.name, unit.code, unit.group,
                      *(unit.items.get(i.code) for i in result.items),
                      unit.checklist, unit.orders, unit.score, unit.tier, note])
    last = get_column_letter(len(headers))
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{last}{sheet.max_row}"
    sheet.column_dimensions["B"].width = 24
    for index in range(len(FIXED_BEFORE) + 1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 12
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
