"""The working-day calendar page over the Flask test client: the year as deadlines count it, and
an admin loading the official schedule, which moves a provisional deadline and tells the unit."""

from __future__ import annotations

import html
import io
import re

import sqlalchemy as sa

from server.auth.models import Role
from server.orders.models import Order
from server.worktime.models import HolidayYear
from tests import factories
from tests.orders.conftest import as_local, local, notices, raise_order  # noqa: F401 (a fixture)
from tests.test_bad_input import row_counts
from tests.web.test_session import _csrf, _log_in
from tests.worktime.test_api import BODY_2027

#: BODY_2027 as a clerk types it under the textarea's header line, 休/班.
TYPED_2027 = "日期,类型,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n2027-01-10,班,调休上班\n"


def _admin(session, hasher):  # type: ignore[no-untyped-def]
    factories.user(session, hasher, Role.ADMIN, username="root", display_name="管理员")
    session.commit()


def test_loading_a_schedule_moves_a_provisional_deadline_and_tells_the_unit(client, session, hasher, clock, world,
                                                                              raise_order):  # noqa: F811
    # Five working days from the last Wednesday of 2026 run into 2027, still the package's estimate.
    clock.set(local(2026, 12, 30, 10, 0))
    order = raise_order(0)
    assert order.due_provisional and as_local(order.due_at).date().isoformat() == "2027-01-07"
    _admin(session, hasher)
    _log_in(client, "root")
    page = client.get("/console/holidays?year=2027").get_data(as_text=True)
    assert 'class="status provisional"' in page and 'id="load-form"' in page
    assert 'data-date="2027-01-04"' in page and 'class="work" data-date="2027-01-04"' in page

    clock.set(local(2026, 12, 30, 11, 0))
    token = _csrf(client, "/console/holidays?year=2027")
    loaded = client.post("/console/holidays/2027", data={"csrf_token": token, "days": TYPED_2027,
                                                         "source": BODY_2027["source"]})
    assert loaded.status_code == 302 and loaded.headers["Location"] == "/console/holidays?year=2027"
    page = html.unescape(client.get(loaded.headers["Location"]).get_data(as_text=True))
    assert "确认 1 个暂定期限，其中 1 个调整并已通知责任单位" in page  # the flash
    assert 'class="status confirmed"' in page and BODY_2027["source"] in page and "管理员 于" in page
    assert 'class="holiday" data-date="2027-01-04" title="元旦"' in page
    assert 'class="makeup" data-date="2027-01-10" title="调休上班"' in page
    [row] = re.findall(r'<table class="people" id="moved-orders">.*?</table>', page, re.S)
    assert "市审计局" in row and "2027-01-07 17:30" in row and "2027-01-08 17:30" in row
    assert f"/console/orders/{order.id}" in row and world.users["liaison"].display_name in row

    session.expire_all()
    moved = session.get(Order, order.id)
    assert not moved.due_provisional and as_local(moved.due_at).date().isoformat() == "2027-01-08"
    [told] = notices(session, world.users["liaison"].id, "order.rescheduled")
    assert told.data["order_id"] == str(order.id)

    # a supervisor sees the calendar and what the load did in their campaign, and may not load
    client.post("/console/logout", data={"csrf_token": token})
    _log_in(client, "sup")
    page = client.get("/console/holidays?year=2027").get_data(as_text=True)
    assert 'id="moved-orders"' in page and 'id="load-form"' not in page
    token = _csrf(client, "/console/holidays?year=2027")
    assert client.post("/console/holidays/2027", data={"csrf_token": token, "days": TYPED_2027}).status_code == 403


def test_a_bad_schedule_is_refused_by_its_lines_and_nothing_is_loaded(client, session, hasher, world):
    _admin(session, hasher)
    _log_in(client, "root")
    token = _csrf(client, "/console/holidays?year=2027")
    before = row_counts(session)
    # a 班 on a Tuesday (line 3 of the text, under its header), and a date of another year
    typed = "日期,类型,名称\n2027-01-01,休,元旦\n2027-01-05,班,调休上班\n2028-01-01,休,元旦\n"
    refused = client.post("/console/holidays/2027", data={"csrf_token": token, "days": typed})
    assert refused.status_code == 422
    page = html.unescape(refused.get_data(as_text=True))
    problems = re.findall(r"<li>(line \d+[^<]*)</li>", page)
    assert len(problems) == 2 and problems[0].startswith("line 3, kind: 2027-01-05 is a weekday")
    assert problems[1].startswith("line 4, date: 2028-01-01 is not in 2027")
    assert typed.strip() in page  # the text comes back to be corrected
    unreadable = client.post("/console/holidays/2027", data={
        "csrf_token": token, "file": (io.BytesIO(b"date,kind\n2027-13-01,off\n"), "假期.csv")},
        content_type="multipart/form-data")
    assert unreadable.status_code == 422 and "is not a date" in html.unescape(unreadable.get_data(as_text=True))
    wrong_kind = client.post("/console/holidays/2027", data={
        "csrf_token": token, "file": (io.BytesIO(b"x"), "schedule.docx")}, content_type="multipart/form-data")
    assert wrong_kind.status_code == 422
    nothing = client.post("/console/holidays/2027", data={"csrf_token": token, "days": "日期,类型,名称\n"})
    assert nothing.status_code == 422
    assert row_counts(session) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(HolidayYear)) == 0


def test_a_schedule_file_is_loaded_as_the_cli_reads_it(client, session, hasher, world, tmp_path):
    from tests.test_imports import write_xlsx

    _admin(session, hasher)
    _log_in(client, "root")
    token = _csrf(client, "/console/holidays?year=2027")
    sheet = write_xlsx(tmp_path / "2027.xlsx", [["日期", "类型", "名称"], ["2027-01-01", "休", "元旦"],
                                                 ["2027-01-04", "休", "元旦"], ["2027-01-10", "班", "调休上班"]])
    loaded = client.post("/console/holidays/2027", data={
        "csrf_token": token, "file": (io.BytesIO(sheet.read_bytes()), "2027.xlsx")},
        content_type="multipart/form-data")
    assert loaded.status_code == 302
    page = client.get(loaded.headers["Location"]).get_data(as_text=True)
    assert "2027.xlsx" in page and "确认了 0 个暂定期限" in page
    days_off = re.search(r'<ul class="days" id="days-off">(.*?)</ul>', page, re.S).group(1)
    assert "2027-01-04 元旦" in days_off
