"""The order page and its steps over the Flask test client, on the real services."""

from __future__ import annotations

import re
import uuid

from server.orders.models import Order, OrderStatus
from tests.web.test_session import _csrf, _log_in
from tests.world import finding_fields, order_for_unit_finding


def test_the_unit_responds_and_the_supervisor_rejects_then_verifies(client, world, phone, session):
    order_id = order_for_unit_finding(world, phone("alice"), phone("liaison"))
    _log_in(client, "liaison")
    page = client.get(f"/console/orders/{order_id}").get_data(as_text=True)
    assert "办公楼西侧杂物堆积墙边" in page and 'id="respond-form"' in page and "verify-form" not in page
    token = _csrf(client, f"/console/orders/{order_id}")
    answer = client.post(f"/console/orders/{order_id}/respond", data={"measures": "已清理杂物", "csrf_token": token})
    assert answer.status_code == 302
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.RESPONDED
    client.post("/console/logout", data={"csrf_token": token})

    _log_in(client, "sup")
    page = client.get(f"/console/orders/{order_id}").get_data(as_text=True)
    assert "已清理杂物" in page and 'id="reject-form"' in page
    token = _csrf(client, f"/console/orders/{order_id}")
    assert client.post(f"/console/orders/{order_id}/reject", data={"csrf_token": token}).status_code == 422
    client.post(f"/console/orders/{order_id}/reject", data={"reason": "墙角仍有杂物", "csrf_token": token})
    page = client.get(f"/console/orders/{order_id}").get_data(as_text=True)
    assert "复查未通过，退回" in page and "墙角仍有杂物" in page and re.search(r"新期限：\d{4}-\d\d-\d\d", page)
    session.commit()  # a new snapshot
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.ISSUED


def test_another_units_liaison_gets_404_and_changes_nothing(client, world, phone, session):
    order_id = order_for_unit_finding(world, phone("alice"), phone("liaison"))
    _log_in(client, "liaison2")
    assert client.get(f"/console/orders/{order_id}").status_code == 404
    token = _csrf(client, "/console/unit/orders")
    assert client.post(f"/console/orders/{order_id}/respond",
                       data={"measures": "x", "csrf_token": token}).status_code == 404
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.ISSUED


def test_a_bad_photo_hash_is_refused(client, world, phone, session):
    order_id = order_for_unit_finding(world, phone("alice"), phone("liaison"))
    _log_in(client, "liaison")
    token = _csrf(client, "/console/unit/orders")
    answer = client.post(f"/console/orders/{order_id}/respond",
                         data={"measures": "x", "photos": "../../etc/passwd", "csrf_token": token})
    assert answer.status_code == 422
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.ISSUED


def test_the_queue_keeps_its_filters_in_the_url_and_counts_by_status(client, world, phone):
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id, category="杂物乱堆", description="楼道杂物"))
    alice.create("finding", finding_fields(world.units[0].id, category="占道经营", description="门前摆摊"))
    alice.create("finding", finding_fields(world.units[1].id, category="杂物乱堆", description="书店西侧杂物"))
    alice.sync()
    _log_in(client, "sup")
    everything = client.get("/console/queue").get_data(as_text=True)
    assert all(d in everything for d in ("楼道杂物", "门前摆摊", "书店西侧杂物"))
    page = client.get(f"/console/queue?unit_id={world.units[0].id}&category=杂物乱堆").get_data(as_text=True)
    assert "楼道杂物" in page and "门前摆摊" not in page and "书店西侧杂物" not in page
    assert re.search(r"整改中 <b>1</b>", page)
    assert "楼道杂物" not in client.get("/console/queue?status=closed").get_data(as_text=True)


def test_comments_join_the_timeline_and_bulk_steps_and_exports_keep_the_queues_filter(client, world, phone, session):
    alice, liaison = phone("alice"), phone("liaison")
    for _ in range(2):
        alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    liaison.pull()
    order_id, other_id = [i for (_e, i) in liaison.store.records("order")]
    _log_in(client, "liaison")
    token = _csrf(client, f"/console/orders/{order_id}")
    client.post(f"/console/orders/{order_id}/comment", data={"text": "已安排周五前清理", "csrf_token": token})
    for oid in (order_id, other_id):
        client.post(f"/console/orders/{oid}/respond", data={"measures": "已清理", "csrf_token": token})
    assert "已安排周五前清理" in client.get(f"/console/orders/{order_id}").get_data(as_text=True)
    assert "bulk-form" not in client.get("/console/queue").get_data(as_text=True)  # a unit takes no bulk steps
    client.post("/console/logout", data={"csrf_token": token})

    _log_in(client, "sup")
    queue = client.get("/console/queue?status=responded").get_data(as_text=True)
    assert "/api/v1/orders/export/csv?status=responded" in queue
    # The export itself is the API's (tests/orders); here: the link names this view's filter.
    token = _csrf(client, "/console/queue")
    answer = client.post("/console/queue/bulk", data={
        "action": "verify", "order_id": [order_id, other_id], "csrf_token": token,
        "back": "/console/queue?status=responded"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/queue?status=responded"
    assert "成功 2 件，未处理 0 件" in client.get(answer.headers["Location"]).get_data(as_text=True)
    session.commit()
    assert {session.get(Order, uuid.UUID(i)).status for i in (order_id, other_id)} == {OrderStatus.CLOSED}
    refused = client.post("/console/queue/bulk", data={"action": "reject", "order_id": [order_id],
                                                       "csrf_token": token})
    assert refused.status_code == 422  # a rejection needs a reason; nothing was touched
