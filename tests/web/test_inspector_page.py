"""An inspector's page lists the findings they reported, wherever the server routed them: a patrol
finding handed to another team's unit or left to triage no longer reaches their phone."""

from __future__ import annotations

import re

from tests.sync.test_routed_away import SOUTH, WEST, _patrol, _zone
from tests.web.test_session import _log_in
from tests.world import finding_fields


def test_the_inspector_follows_reports_routed_away_and_to_triage_but_not_anothers(client, world, phone, session):
    routed_to = _zone(session, world)
    alice = phone("alice")
    street = alice.create("finding", _patrol(SOUTH + 0.004, WEST + 0.004, "门前占道摆摊"))
    triage = alice.create("finding", _patrol(30.0, 100.0, "无主垃圾堆"))
    assert all(r["deleted"] for r in alice.push())
    bob = phone("bob")
    bob.create("finding", finding_fields(world.units[2].id, description="第二组自己的发现"))
    bob.push()

    _log_in(client, "alice")
    page = client.get("/console/me").get_data(as_text=True)
    assert "我上报的问题" in page and "第二组自己的发现" not in page
    rows = dict(re.findall(r'<tr><td data-label="发现时间">.*?</td>\s*<td data-label="责任单位">([^<]*)</td>'
                           r'.*?<td data-label="问题描述">(.*?)</td>', page, re.S))
    assert {unit: re.sub(r"<[^>]+>", "", cell) for unit, cell in rows.items()} == {
        routed_to.name: "门前占道摆摊", "待分派": "无主垃圾堆"}
    assert "待分派</td>" in page and "整改中" in page  # the triage order's status, the routed one's
    # Each links to its order, which the order page shows them (they reported its finding).
    linked = re.findall(r'href="/console/orders/([0-9a-f-]{36})"', page)
    assert len(linked) == 2
    for order_id in linked:
        assert client.get(f"/console/orders/{order_id}").status_code == 200
    assert {street, triage} == {r["id"] for r in alice.store.handed_over()}
