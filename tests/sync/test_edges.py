"""Edges found by reading the protocol against the code: each a promise that could break."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from sample_client import NetworkError
from server.orders.models import Order, OrderStatus
from server.sync.models import QuarantinedMutation
from tests.world import finding_fields, order_for_unit_finding, respond
from tests.test_auth import bearer


def test_a_reference_to_a_missing_record_is_rejected_not_a_wedged_queue(world, phone):
    alice = phone("alice")
    visit = alice.create("visit", {"round_id": world.round.id, "unit_id": world.units[0].id,
                                   "started_at": "2026-10-23T09:00:00+08:00"})
    alice.create("answer", {"visit_id": visit, "item_id": 999999, "result": "fail"})
    alice.create("finding", finding_fields(world.units[0].id))
    outcomes = [(r["outcome"], (r.get("problem") or {}).get("code")) for r in alice.push()]
    assert outcomes == [("applied", None), ("rejected", "invalid_fields"), ("applied", None)]
    assert alice.store.outbox_depth() == 0


def test_a_sequence_below_the_mark_that_never_arrived_is_kept_not_applied(world, phone, client, session):
    alice = phone("alice")
    token = bearer(alice.store.get("token"))

    def send(seq: int):  # type: ignore[no-untyped-def]
        mutation = {"seq": seq, "entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                    "fields": finding_fields(world.units[0].id), "device_time": "2026-10-23T09:00:00+08:00"}
        body = {"protocol": 1, "device_id": alice.device_id, "sent_at": "2026-10-23T09:00:00+08:00",
                "mutations": [mutation]}
        return client.post("/api/v1/sync/push", json=body, headers=token).get_json()["results"][0]

    assert send(5)["outcome"] == "applied"
    late = send(3)
    assert late["outcome"] == "rejected" and late["problem"]["code"] == "sequence_invalid"
    assert send(3)["outcome"] == "rejected"  # asked again: the same answer, kept once
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(QuarantinedMutation)) == 1


def test_responding_twice_with_the_same_response_is_a_duplicate(world, phone):
    alice, liaison = phone("alice"), phone("liaison")
    order_id = order_for_unit_finding(world, alice, liaison)
    response = {"response_id": str(uuid.uuid4()), "measures": "已清理"}
    liaison.command("order", order_id, "respond", response)
    assert liaison.push()[0]["outcome"] == "applied"
    reinstalled = phone("liaison")
    reinstalled.command("order", order_id, "respond", response)
    assert reinstalled.push()[0]["outcome"] == "duplicate"


def test_an_inspector_of_another_team_cannot_verify(world, phone, session):
    alice, bob, liaison = phone("alice"), phone("bob"), phone("liaison")
    order_id = order_for_unit_finding(world, alice, liaison)
    respond(liaison, order_id)
    bob.command("order", order_id, "verify", {})
    result = bob.push()[0]
    assert result["outcome"] == "rejected" and result["problem"]["code"] == "not_in_scope"
    assert "server" not in result  # a refusal never shows the record to someone outside its scope
    session.rollback()
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.RESPONDED


def test_deleting_a_finding_withdraws_its_order_from_the_unit(world, phone, session):
    alice, liaison = phone("alice"), phone("liaison")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    liaison.pull()
    assert len(liaison.store.records("order")) == 1
    alice.delete("finding", finding)
    alice.sync()
    liaison.pull()
    assert liaison.store.records("order") == {} and liaison.store.records("finding") == {}
    session.rollback()
    assert session.scalar(sa.select(Order.status)) is OrderStatus.VOIDED


def test_times_go_out_in_utc_whatever_offset_they_came_with(world, phone):
    alice, reader = phone("alice"), phone("alice")
    alice.create("visit", {"round_id": world.round.id, "unit_id": world.units[0].id,
                           "started_at": "2026-10-23T09:00:00+08:00"})
    alice.sync()
    reader.pull()
    visit = next(iter(reader.store.records("visit").values()))
    assert visit["started_at"] == "2026-10-23T01:00:00+00:00"


def test_telemetry_not_sent_is_kept(world, phone, client, session):
    from server.sync.models import DeviceSyncState

    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id))
    alice.push()
    body = {"protocol": 1, "device_id": alice.device_id, "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "mutations": []}
    client.post("/api/v1/sync/push", json=body, headers=bearer(alice.store.get("token")))
    session.rollback()
    assert session.get(DeviceSyncState, uuid.UUID(alice.device_id)).telemetry["outbox_depth"] == 1


def test_the_same_new_id_twice_in_one_batch_is_a_duplicate_the_second_time(world, phone, session):
    from server.findings.models import Finding

    alice = phone("alice")
    record_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.create("finding", finding_fields(world.units[0].id), record_id=record_id)
    assert [r["outcome"] for r in alice.push()] == ["applied", "duplicate"]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 1


def test_an_answer_resent_after_another_phone_deleted_the_record_leaves_no_ghost(world, phone, session):
    from server.findings.models import Finding, FindingStatus

    lost = {"once": False}
    first = phone("alice")
    second = phone("alice", drop=lambda method, path: path.endswith("/push") and lost.pop("once", False))
    record_id = first.create("finding", finding_fields(world.units[0].id))
    first.push()
    second.pull()
    first.update("finding", record_id, {"description": "墙边杂物已部分清理"})
    first.push()
    second.update("finding", record_id, {"description": "墙边仍有杂物"})  # offline, on the old version
    lost["once"] = True
    try:
        second.push()  # merged, but the answer (with the server's copy) is lost
    except NetworkError:
        pass
    first.delete("finding", record_id)
    first.push()
    second.pull()  # the tombstone, while the edit still waits to be answered
    answer = second.push()[0]
    # The stored answer is re-sent as it was (merged), with the record as it is now (voided) and
    # said to be gone, not the copy taken before the delete, which the phone would keep for ever.
    assert answer["outcome"] == "merged" and answer["deleted"] is True
    assert answer["server"]["status"] == "voided" and answer["server"]["description"] == "墙边杂物已部分清理"
    second.pull()
    assert second.store.record("finding", record_id) is None
    session.rollback()
    assert session.get(Finding, uuid.UUID(record_id)).status is FindingStatus.VOIDED


def test_a_phones_first_pull_drops_what_it_pushed_and_another_phone_deleted(world, phone):
    early = phone("alice")  # captures offline before it has ever pulled
    other = phone("alice")
    kept = early.create("finding", finding_fields(world.units[0].id))
    gone = early.create("finding", finding_fields(world.units[0].id, description="楼道内堆放纸箱"))
    early.push()
    other.pull()
    other.delete("finding", gone)
    other.push()
    unsent = early.create("finding", finding_fields(world.units[0].id, description="消防通道被占用"))
    early.pull()  # its first pull skips tombstones: the snapshot rule removes the deleted one
    assert early.store.record("finding", gone) is None
    assert early.store.record("finding", kept)["description"] == "办公楼西侧杂物堆积墙边"
    assert early.store.record("finding", unsent) is not None  # still in the outbox: kept


def test_a_create_and_delete_in_one_push_leave_tombstones_in_the_feed(world, phone, session):
    from server.orders.models import Order
    from server.sync.models import SyncRow

    alice, watcher = phone("alice"), phone("alice")
    watcher.pull()
    record_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.delete("finding", record_id)
    assert [r["outcome"] for r in alice.push()] == ["applied", "applied"]

    session.rollback()
    order_id = str(session.scalar(sa.select(Order.id).where(Order.finding_id == uuid.UUID(record_id))))
    rows = session.execute(sa.select(SyncRow.entity, SyncRow.entity_id, SyncRow.deleted)
                           .where(SyncRow.entity_id.in_([record_id, order_id]))).all()
    # Every committed change is in the feed (§8.4): the finding and the order raised and voided
    # with it each end as a tombstone.
    assert sorted(map(tuple, rows)) == sorted([("finding", record_id, True), ("order", order_id, True)])
    assert watcher.pull() == 2
    assert watcher.store.record("finding", record_id) is None
