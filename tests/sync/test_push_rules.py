"""Exactly once, never wedged, bad input refused: the push endpoint's promises."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from sample_client import NetworkError
from server.findings.models import Finding
from server.orders.models import Order
from server.sync.models import DevicePush, DeviceSyncState, QuarantinedMutation, SyncReceipt
from tests.world import finding_fields
from tests.test_auth import bearer

PROBLEM = "application/problem+json"


def count(session, model):  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh transaction sees what the requests committed
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_batch_resent_after_a_lost_answer_is_answered_again_and_applied_once(world, phone, session):
    losses = {"left": 1}

    def lose_first_answer(method: str, path: str) -> bool:
        if path.endswith("/sync/push") and losses["left"]:
            losses["left"] -= 1
            return True
        return False

    alice = phone("alice", drop=lose_first_answer)
    ids = [alice.create("finding", finding_fields(world.units[0].id)) for _ in range(3)]
    with pytest.raises(NetworkError):
        alice.push()
    assert alice.store.outbox_depth() == 3  # nothing acknowledged, nothing dropped
    assert count(session, Finding) == 3  # but the server did apply them
    results = alice.push()
    assert [r["outcome"] for r in results] == ["applied"] * 3
    assert [r["id"] for r in results] == ids
    assert count(session, Finding) == 3 and count(session, Order) == 3
    assert count(session, SyncReceipt) == 3


def test_seqs_already_taken_are_answered_from_receipts_even_in_a_mixed_batch(world, phone, client, session):
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id))
    first = alice.store.outbox(10)
    alice.push()
    alice.create("finding", finding_fields(world.units[1].id))
    second = alice.store.outbox(10)
    body = {"protocol": 1, "device_id": alice.device_id, "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "mutations": first + second}
    response = client.post("/api/v1/sync/push", json=body, headers=bearer(alice.store.get("token")))
    assert [r["outcome"] for r in response.get_json()["results"]] == ["applied", "applied"]
    assert response.get_json()["acknowledged_seq"] == 2
    assert count(session, Finding) == 2


def test_a_bad_mutation_is_rejected_alone_quarantined_and_the_queue_moves_on(world, phone, session):
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id))
    alice.create("rocket", {"fuel": "lots"})
    alice.create("finding", {"unit_id": world.units[0].id, "category": 7})
    alice.create("finding", finding_fields(world.units[2].id))  # bob's unit, never alice's
    alice.create("finding", finding_fields(world.units[1].id))
    results = alice.push()
    assert [r["outcome"] for r in results] == ["applied", "rejected", "rejected", "rejected", "applied"]
    assert [r["problem"]["code"] for r in results if r["outcome"] == "rejected"] == [
        "unknown_entity", "invalid_fields", "not_in_scope"]
    invalid = results[2]["problem"]["errors"]
    assert {e["field"] for e in invalid} == {"fields.category", "fields.description"}
    assert alice.store.outbox_depth() == 0 and len(alice.store.rejected()) == 3
    assert count(session, Finding) == 2
    assert count(session, QuarantinedMutation) == 3
    session.rollback()  # a fresh transaction sees what the requests committed
    assert session.get(DeviceSyncState, uuid.UUID(alice.device_id)).last_seq == 5


def test_supervisors_see_and_replay_quarantined_mutations(world, phone, client, session):
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[2].id))  # not alice's unit (yet)
    assert alice.push()[0]["outcome"] == "rejected"
    sup = bearer(phone("sup").store.get("token"))
    listed = client.get("/api/v1/sync/quarantine", headers=sup).get_json()
    assert len(listed) == 1 and listed[0]["problem"]["code"] == "not_in_scope"
    assert client.get("/api/v1/sync/quarantine", headers=bearer(alice.store.get("token"))).status_code == 403

    from tests import factories
    factories.team(session, session.merge(world.round), members=[session.merge(world.users["alice"])], units=[],
                   name="补充组")
    session.commit()
    # Still not alice's: replay fails again and the mutation stays in quarantine.
    again = client.post(f"/api/v1/sync/quarantine/{listed[0]['id']}/replay", headers=sup).get_json()
    assert again["outcome"] == "rejected"
    assert len(client.get("/api/v1/sync/quarantine", headers=sup).get_json()) == 1

    from server.rounds.models import Assignment
    session.execute(sa.update(Assignment).where(Assignment.unit_id == world.units[2].id)
                    .values(team_id=world.team_a.id))
    session.commit()
    item = client.get("/api/v1/sync/quarantine", headers=sup).get_json()[0]
    replayed = client.post(f"/api/v1/sync/quarantine/{item['id']}/replay", headers=sup).get_json()
    assert replayed["outcome"] == "applied"
    assert client.get("/api/v1/sync/quarantine", headers=sup).get_json() == []
    assert count(session, Finding) == 1


def _push(client, device, mutations, **overrides):  # type: ignore[no-untyped-def]
    body = {"protocol": 1, "device_id": device.device_id,
            "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(), "mutations": mutations, **overrides}
    return client.post("/api/v1/sync/push", json=body, headers=bearer(device.store.get("token")))


def _mutation(seq, unit_id, **overrides):  # type: ignore[no-untyped-def]
    return {"seq": seq, "entity": "finding", "id": str(uuid.uuid4()), "op": "create",
            "fields": finding_fields(unit_id), "device_time": "2026-10-23T09:00:00+08:00", **overrides}


@pytest.mark.parametrize("case", ["malformed", "wrong_types", "oversize", "other_device", "bad_order", "old_app"])
def test_bad_batches_are_refused_whole_and_change_nothing(world, phone, client, session, app, case):
    alice = phone("alice")
    unit = world.units[0].id
    token = bearer(alice.store.get("token"))
    app.config["SYNC_MAX_BATCH"] = 3
    if case == "malformed":
        response = client.post("/api/v1/sync/push", data=b'{"protocol": 1, "mutations": [', headers=token,
                               content_type="application/json")
        expected = (400, "malformed_request")
    elif case == "wrong_types":
        response = _push(client, alice, [_mutation("one", unit)])
        expected = (422, "validation_failed")
        assert response.get_json()["errors"][0]["field"] == "mutations.0.seq"
    elif case == "oversize":
        response = _push(client, alice, [_mutation(i, unit) for i in range(1, 5)])
        expected = (413, "batch_too_large")
    elif case == "other_device":
        response = _push(client, alice, [_mutation(1, unit)], device_id=str(uuid.uuid4()))
        expected = (403, "device_mismatch")
    elif case == "bad_order":
        response = _push(client, alice, [_mutation(2, unit), _mutation(1, unit)])
        expected = (422, "sequence_invalid")
    else:
        response = _push(client, alice, [_mutation(1, unit)], protocol=99)
        expected = (426, "protocol_unsupported")
        assert response.get_json()["supported"] == [1]
    assert (response.status_code, response.get_json()["code"]) == expected
    assert response.content_type == PROBLEM
    assert count(session, Finding) == 0 and count(session, SyncReceipt) == 0 and count(session, DevicePush) == 0


def test_an_id_owned_by_another_record_is_refused(world, phone, session):
    alice, bob = phone("alice"), phone("bob")
    taken = alice.create("finding", finding_fields(world.units[0].id))
    alice.push()
    bob.create("finding", finding_fields(world.units[2].id, description="另一处问题"), record_id=taken)
    result = bob.push()[0]
    assert result["outcome"] == "rejected" and result["problem"]["code"] == "id_taken"
    session.rollback()  # a fresh transaction sees what the requests committed
    kept = session.get(Finding, uuid.UUID(taken))
    assert kept.unit_id == world.units[0].id and kept.description == "办公楼西侧杂物堆积墙边"


def test_a_re_installed_app_resending_its_own_record_gets_duplicate(world, phone, session):
    alice = phone("alice")
    record_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.push()
    reinstalled = phone("alice")
    reinstalled.create("finding", finding_fields(world.units[0].id), record_id=record_id)
    result = reinstalled.push()[0]
    assert result["outcome"] == "duplicate" and result["server"]["id"] == record_id
    assert count(session, Finding) == 1


def test_clock_offset_and_telemetry_are_recorded_per_push(world, phone, session):
    ahead = phone("alice", skew=dt.timedelta(hours=24))
    ahead.create("finding", finding_fields(world.units[0].id))
    ahead.push()
    session.rollback()  # a fresh transaction sees what the requests committed
    state = session.get(DeviceSyncState, uuid.UUID(ahead.device_id))
    assert state.clock_offset_ms == -24 * 3600 * 1000
    assert state.telemetry["outbox_depth"] == 1
    push = session.scalar(sa.select(DevicePush))
    assert push.clock_offset_ms == -24 * 3600 * 1000 and push.mutations == 1 and push.outbox_depth == 1


def test_a_seq_reused_for_another_mutation_is_refused_and_kept(world, phone, client, session):
    device = phone("alice")
    first = _mutation(1, world.units[0].id)
    assert _push(client, device, [first]).json["results"][0]["outcome"] == "applied"
    assert _push(client, device, [first]).json["results"][0]["outcome"] == "applied"  # re-sent: its answer

    reused = _mutation(1, world.units[0].id)  # the same number, another record
    answer = _push(client, device, [reused]).json["results"][0]
    assert (answer["outcome"], answer["id"], answer["problem"]["code"]) == ("rejected", reused["id"], "sequence_invalid")
    assert first["id"] in answer["problem"]["title"] and "Never reuse" in answer["problem"]["title"]
    assert count(session, Finding) == 1
    kept = session.scalars(sa.select(QuarantinedMutation)).one()
    assert (kept.seq, kept.mutation["id"]) == (1, reused["id"])
