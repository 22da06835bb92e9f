"""The dashboard's counts on real orders: open, overdue, closed, rates, ageing, the week."""

from __future__ import annotations

import datetime as dt

from server.auth.scope import reach_of, reach_of_user
from server.web.dashboard import dashboard
from tests.web.test_session import _csrf, _log_in
from tests.world import finding_fields


def test_counts_rates_and_ageing_follow_the_orders(client, world, phone, session, clock):
    alice = phone("alice")
    for unit, category in ((0, "杂物乱堆"), (0, "杂物乱堆"), (1, "占道经营")):
        alice.create("finding", finding_fields(world.units[unit].id, category=category))
    alice.sync()
    liaison = phone("liaison")
    liaison.pull()
    order_ids = [i for (_e, i) in liaison.store.records("order")]
    import uuid

    liaison.command("order", order_ids[0], "respond", {"response_id": str(uuid.uuid4()), "measures": "已清理"})
    liaison.push()
    sup = phone("sup")
    sup.pull()
    sup.command("order", order_ids[0], "verify", {"note": ""})
    assert sup.push()[0]["outcome"] == "applied"
    clock.advance(dt.timedelta(days=20))

    board = dashboard(session, reach_of_user(world.users["sup"]), now=clock.now(), tz="Asia/Shanghai")
    assert (board.totals.total, board.totals.closed, board.totals.open, board.totals.overdue) == (3, 1, 2, 2)
    assert board.by_category["杂物乱堆"].closed == 1 and board.by_category["占道经营"].overdue == 1
    audit = board.by_unit["市审计局"]
    assert audit.rectification_rate == 0.5 and audit.on_time_rate == 1.0
    assert board.by_unit["市新华书店"].on_time_rate is None
    assert sum(board.ageing.values()) == 2 and set(board.ageing) == {"age.more"}
    assert sum(issued for _d, issued, _c in board.week) == 0  # all issued three weeks ago
    assert board.rebounds == 0

    liaison_view = dashboard(session, reach_of(session, world.users["liaison2"]), now=clock.now(), tz="Asia/Shanghai")
    assert liaison_view.totals.total == 1  # a unit counts only its own orders

    _log_in(client, "sup")
    page = client.get("/console/dashboard").get_data(as_text=True)
    assert "市审计局" in page and "50.0%" in page and 'id="rebounds">0<' in page
    assert client.get("/console/map").status_code == 200
    client.post("/console/logout", data={"csrf_token": _csrf(client, "/console/dashboard")})


def test_an_inspector_sees_their_rounds_units_and_phones(client, world, phone):
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    _log_in(client, "alice")
    page = client.get("/console/", follow_redirects=True).get_data(as_text=True)
    assert "第一检查组" in page and "市审计局、市新华书店" in page and "第二检查组" not in page
    devices = page[page.index('id="devices"'):]
    assert devices.count("<tr>") == 2  # the header and the one phone; the browser login is not a phone
    row = devices[devices.index("<tbody>"):]
    assert "2026-10-23 09:00" in row  # its last push and pull, in the campaign's time zone
