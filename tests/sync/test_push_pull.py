"""Push and pull through real HTTP requests (WSGI, in-process) on a real database."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.findings.models import Finding
from server.orders.models import Order, OrderStatus
from tests.world import finding_fields


def entities(device, entity):  # type: ignore[no-untyped-def]
    return {i: d for (e, i), d in device.store.records(entity).items()}


def test_a_finding_reaches_the_team_and_the_unit_but_no_one_else(world, phone, session):
    alice = phone("alice")
    finding_id = alice.create("finding", finding_fields(world.units[0].id))
    results = alice.push()
    assert [r["outcome"] for r in results] == ["applied"]
    assert alice.store.outbox_depth() == 0

    finding = session.get(Finding, uuid.UUID(finding_id))
    assert finding.unit_id == world.units[0].id and finding.description == "办公楼西侧杂物堆积墙边"
    order = session.scalar(sa.select(Order).where(Order.finding_id == finding.id))
    assert order.status is OrderStatus.ISSUED and order.unit_id == world.units[0].id

    other_phone_of_alice = phone("alice")
    other_phone_of_alice.pull()
    assert set(entities(other_phone_of_alice, "finding")) == {finding_id}
    assert {d["name"] for d in entities(other_phone_of_alice, "unit").values()} == {"市审计局", "市新华书店"}
    liaison = phone("liaison")
    liaison.pull()
    assert set(entities(liaison, "finding")) == {finding_id}
    assert set(entities(liaison, "order")) == {str(order.id)}
    assert entities(liaison, "visit") == {} and entities(liaison, "round") == {}
    for outsider in ("bob", "liaison2"):
        device = phone(outsider)
        device.pull()
        assert entities(device, "finding") == {}


def test_pull_pages_never_skip_or_repeat(world, phone):
    alice = phone("alice")
    ids = {alice.create("finding", finding_fields(world.units[i % 2].id)) for i in range(25)}
    alice.push()
    reader = phone("alice", page_size=4)
    seen = []
    while True:
        body = reader._call("GET", "/api/v1/sync/pull", params={"cursor": reader.store.get("cursor", ""), "limit": 4})
        seen += [(c["entity"], c["id"]) for c in body["changes"]]
        reader.store.put("cursor", body["cursor"])
        assert len(body["changes"]) <= 4
        if not body["has_more"]:
            break
    assert len(seen) == len(set(seen))
    assert {i for e, i in seen if e == "finding"} == ids


def test_updates_and_deletes_arrive_as_new_versions_and_tombstones(world, phone):
    alice, reader = phone("alice"), phone("alice")
    finding_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    reader.pull()
    alice.update("finding", finding_id, {"description": "杂物已部分清理"})
    alice.sync()
    reader.pull()
    assert entities(reader, "finding")[finding_id]["description"] == "杂物已部分清理"
    assert entities(reader, "finding")[finding_id]["version"] == 2
    alice.delete("finding", finding_id)
    alice.sync()
    reader.pull()
    assert finding_id not in entities(reader, "finding")
    # A device that starts afterwards never hears of it at all.
    fresh = phone("alice")
    fresh.pull()
    assert finding_id not in entities(fresh, "finding")
