from __future__ import annotations

import json

import sqlalchemy as sa

from server.worktime.models import HolidayYear, OfficialDay

CSV_2027 = "日期,类型,名称\n2027-01-01,休,元旦\n2027/1/4,休,元旦\n2027年1月10日,班,调休上班\n"


def test_show_a_package_year(run_cli):
    result = run_cli("holidays", "show", "--year", "2026")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2026: confirmed (package: holidays ")
    assert "  2026-10-01 星期四 国庆节" in lines
    assert "  2026-09-20 星期日 调休上班" in lines


def test_load_a_csv_and_show_it(run_cli, tmp_path, session):
    before = run_cli("holidays", "show", "--year", "2027")
    assert before.output.startswith("2027: provisional")
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8-sig")
    result = run_cli("holidays", "load", str(path), "--year", "2027", "--source", "国办发明电〔2026〕X号")
    assert result.exit_code == 0, result.output
    assert result.output == "2027: 2 days off and 1 make-up working days loaded from 2027.csv; the year is confirmed\n"
    shown = run_cli("holidays", "show", "--year", "2027").output.splitlines()
    assert shown[0] == "2027: confirmed (official: 国办发明电〔2026〕X号)"
    assert shown[1:] == ["days off (2):", "  2027-01-01 星期五 元旦", "  2027-01-04 星期一 元旦",
                         "make-up working days (1):", "  2027-01-10 星期日 调休上班"]
    assert session.get(HolidayYear, 2027).loaded_by is None


def test_load_json(run_cli, tmp_path, session):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps({"source": "通知", "days": [{"date": "2027-01-01", "kind": "off", "name": "元旦"}]}))
    result = run_cli("holidays", "load", str(path), "--year", "2027")
    assert result.exit_code == 0, result.output
    assert session.get(HolidayYear, 2027).source == "通知"


def test_a_bad_file_is_reported_by_line_and_loads_nothing(run_cli, tmp_path, session):
    path = tmp_path / "2027.csv"
    path.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-02-30,休,春节\n2027-02-06,放,春节\n", encoding="utf-8")
    result = run_cli("holidays", "load", str(path), "--year", "2027")
    assert result.exit_code == 2
    assert "2027.csv: 2 problem(s); nothing was loaded" in result.output
    assert "line 3, column 日期: '2027-02-30' is not a date" in result.output
    assert "line 4, column 类型: '放' is not one of" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(OfficialDay)) == 0


def test_schedule_problems_point_at_the_file_line(run_cli, tmp_path, session):
    path = tmp_path / "2027.csv"
    path.write_text("date,kind\n2027-01-01,off\n2028-01-01,off\n2027-02-10,work\n", encoding="utf-8")
    result = run_cli("holidays", "load", str(path), "--year", "2027")
    assert result.exit_code == 2
    assert "line 3, date: 2028-01-01 is not in 2027" in result.output
    assert "line 4, kind: 2027-02-10 is a weekday" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(HolidayYear)) == 0


def test_unknown_columns_and_file_types(run_cli, tmp_path):
    csv_path = tmp_path / "2027.csv"
    csv_path.write_text("day,kind\n2027-01-01,off\n", encoding="utf-8")
    assert "column day: unknown column" in run_cli("holidays", "load", str(csv_path), "--year", "2027").output
    txt_path = tmp_path / "2027.txt"
    txt_path.write_text("x")
    assert "use .csv (UTF-8), .xlsx or .json" in run_cli("holidays", "load", str(txt_path), "--year", "2027").output


def test_load_an_excel_workbook_with_real_date_cells(run_cli, tmp_path, session):
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["日期", "安排", "节日"])
    sheet.append([dt.datetime(2027, 1, 1), "休", "元旦"])
    sheet.append([dt.date(2027, 1, 10), "班", ""])
    path = tmp_path / "2027.xlsx"
    workbook.save(path)
    result = run_cli("holidays", "load", str(path), "--year", "2027")
    assert result.exit_code == 0, result.output
    days = session.scalars(sa.select(OfficialDay).order_by(OfficialDay.date)).all()
    assert [(d.date, d.working, d.name) for d in days] == [(dt.date(2027, 1, 1), False, "元旦"),
                                                          (dt.date(2027, 1, 10), True, "")]


def test_a_bad_json_file_names_the_field(run_cli, tmp_path, session):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps([{"date": "2027-01-01", "kind": "holiday"}]))
    result = run_cli("holidays", "load", str(path), "--year", "2027")
    assert result.exit_code == 2
    assert "days.0.kind: Must be one of: off, work." in result.output
    path.write_text("{not json")
    assert "not a UTF-8 JSON file" in run_cli("holidays", "load", str(path), "--year", "2027").output
    assert session.scalar(sa.select(sa.func.count()).select_from(HolidayYear)) == 0
