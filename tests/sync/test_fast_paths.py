"""The fast paths: a batch of new findings written in bulk, and pull pages built from bytes.

Each must give devices exactly what the careful path gives them: the same feed rows, the same
answers, the same audit trail, the same bytes.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from sample_client import NetworkError
from server.audit.models import AuditEvent
from server.findings.models import Finding, FindingStatus
from server.orders.models import Order
from server.sync import feed
from server.sync.models import QuarantinedMutation, SyncReceipt, SyncRow
from tests.world import finding_fields


def feed_rows(session, entity):  # type: ignore[no-untyped-def]
    session.rollback()
    return {r.entity_id: r for r in session.scalars(sa.select(SyncRow).where(SyncRow.entity == entity))}


def test_a_batch_of_new_findings_is_published_as_the_database_holds_it(world, phone, session):
    alice = phone("alice")
    ids = [alice.create("finding", finding_fields(world.units[i % 2].id, description=f"杂物堆积墙边（{i}）",
                                                  latitude=32.04 + i / 1000, longitude=118.78))
           for i in range(6)]
    assert [r["outcome"] for r in alice.push()] == ["applied"] * 6

    rows = feed_rows(session, "finding")
    assert set(rows) == set(ids)
    for finding_id in ids:
        finding = session.get(Finding, uuid.UUID(finding_id))
        assert finding.status is FindingStatus.COMPLETE and finding.version == 1
        # The stored payload is what the feed makes of the record read back from the database.
        assert json.loads(rows[finding_id].payload) == json.loads(feed.payload(finding, feed.REGISTRY[Finding]))
        assert rows[finding_id].scope_key == f"o:{finding.unit_id}"
    orders = feed_rows(session, "order")
    placed = {o.finding_id: o for o in session.scalars(sa.select(Order))}
    assert {str(f) for f in placed} == set(ids)
    assert all(orders[str(o.id)].scope_key == f"o:{o.unit_id}" for o in placed.values())
    raised = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "order.raised"))
    assert raised == 6
    device = uuid.UUID(alice.device_id)
    assert session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)
                          .where(SyncReceipt.device_id == device)) == 6

    # Another device of the team receives them, each once, with the bulk-written fields.
    other = phone("alice")
    other.pull()
    held = {i: d for (e, i), d in other.store.records("finding").items()}
    assert set(held) == set(ids) and held[ids[3]]["description"] == "杂物堆积墙边（3）"


def test_orders_raised_in_bulk_are_published_and_announced_as_the_database_holds_them(world, phone, session):
    from server.notifications.models import Notification

    alice, liaison = phone("alice"), phone("liaison")
    ids = [alice.create("finding", finding_fields(world.units[0].id, description=f"门前堆物（{i}）"))
           for i in range(4)]
    alice.create("finding", finding_fields(world.units[1].id))
    assert [r["outcome"] for r in alice.push()] == ["applied"] * 5

    rows = feed_rows(session, "order")
    orders = session.scalars(sa.select(Order)).all()
    assert len(orders) == 5 and {o.status.value for o in orders} == {"issued"}
    assert len({(o.due_at, o.time_limit, o.policy_version) for o in orders}) == 1  # raised at one instant
    for order in orders:
        assert json.loads(rows[str(order.id)].payload) == json.loads(feed.payload(order, feed.REGISTRY[Order]))
    # Each unit's liaison hears of each of its orders once, and has them on the phone.
    told = session.scalars(sa.select(Notification).where(Notification.user_id == world.users["liaison"].id,
                                                         Notification.kind == "order.issued")).all()
    assert sorted(n.data["finding_id"] for n in told) == sorted(ids)
    liaison.pull()
    assert len(liaison.store.records("order")) == 4 and len(liaison.store.records("notification")) == 4


def test_a_bulk_batch_sent_again_is_answered_from_its_receipts(world, phone, session):
    lost = []
    alice = phone("alice", drop=lambda method, path: path.endswith("/push") and not lost and not lost.append(1))
    for i in range(3):
        alice.create("finding", finding_fields(world.units[0].id, description=f"楼道管线杂乱（{i}）"))
    with pytest.raises(NetworkError):
        alice.push()  # applied in bulk, but the answer is lost
    assert alice.store.outbox_depth() == 3
    assert [r["outcome"] for r in alice.push()] == ["applied"] * 3  # the same answers, from the receipts
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 3
    assert alice.store.outbox_depth() == 0


def test_one_unusual_finding_sends_the_batch_the_careful_way(world, phone, session):
    alice = phone("alice")
    good = alice.create("finding", finding_fields(world.units[0].id))
    alice.create("finding", finding_fields(world.units[2].id))  # bob's unit, never alice's
    last = alice.create("finding", finding_fields(world.units[1].id))
    outcomes = [(r["outcome"], (r.get("problem") or {}).get("code")) for r in alice.push()]
    assert outcomes == [("applied", None), ("rejected", "not_in_scope"), ("applied", None)]
    rows = feed_rows(session, "finding")
    assert set(rows) == {good, last}
    assert session.scalar(sa.select(sa.func.count()).select_from(QuarantinedMutation)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2


def test_an_id_repeated_within_a_batch_is_caught_by_the_careful_path(world, phone, client, session):
    alice = phone("alice")
    same = str(uuid.uuid4())
    mutations = [{"seq": seq, "entity": "finding", "id": same, "op": "create",
                  "fields": finding_fields(world.units[0].id), "device_time": "2026-10-23T09:00:00+08:00"}
                 for seq in (1, 2)]
    body = {"protocol": 1, "device_id": alice.device_id, "sent_at": "2026-10-23T09:00:00+08:00",
            "mutations": mutations}
    answer = client.post("/api/v1/sync/push", json=body,
                         headers={"Authorization": f"Bearer {alice.store.get('token')}"}).get_json()
    assert [r["outcome"] for r in answer["results"]] == ["applied", "duplicate"]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_pulled_text_arrives_byte_for_byte(world, phone):
    alice = phone("alice")
    tricky = '反斜杠 \\ 引号 " 换行\n制表\t 表情 🚮 \\u00e9 字面'
    finding_id = alice.create("finding", finding_fields(world.units[0].id, description=tricky,
                                                        location_text="市府大院3号楼西侧通道\\"))
    alice.push()
    reader = phone("alice")
    reader.pull()
    data = reader.store.records("finding")[("finding", finding_id)]
    assert data["description"] == tricky and data["location_text"] == "市府大院3号楼西侧通道\\"


def test_pages_merge_several_scope_keys_in_sequence_order(world, phone):
    alice = phone("alice")
    # Alternating between two units: two scope keys with interleaved sequences.
    ids = {alice.create("finding", finding_fields(world.units[i % 2].id, description=f"卫生死角（{i}）"))
           for i in range(9)}
    alice.push()
    reader = phone("alice")
    seqs: list[int] = []
    findings: list[str] = []
    cursor = ""
    while True:
        body = reader._call("GET", "/api/v1/sync/pull", params={"cursor": cursor, "limit": 4})
        assert len(body["changes"]) <= 4
        seqs += [c["seq"] for c in body["changes"]]
        findings += [c["id"] for c in body["changes"] if c["entity"] == "finding"]
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert sorted(findings) == sorted(ids)


def test_a_copy_read_in_bulk_gives_way_to_the_sessions_own_changed_instance(world, phone, session):
    alice = phone("alice")
    finding_id = uuid.UUID(alice.create("finding", finding_fields(world.units[0].id)))
    alice.push()
    session.rollback()
    copy = feed.bulk_record(session, Finding, finding_id)
    assert copy is None  # nothing known without asking the database
    stale = session.get(Finding, finding_id)
    snapshot = Finding(**{c: getattr(stale, c) for c in Finding.__table__.columns.keys()})
    session.expunge(stale)
    feed.read_in_bulk(session, [snapshot])
    assert feed.bulk_record(session, Finding, finding_id) is snapshot
    live = session.get(Finding, finding_id)
    live.unit_id = world.units[1].id
    assert feed.bulk_record(session, Finding, finding_id) is live
    session.rollback()
