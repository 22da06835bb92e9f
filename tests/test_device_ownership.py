"""A device is its owner's (issue 13): the takeover a liaison tried, refused at its first
step, and how a shared team phone changes hands."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from sample_client import Device, WSGITransport
from server.auth.models import AuthToken, Device as DeviceRow, Role
from server.sync.models import SyncReceipt
from tests import factories
from tests.factories import PASSWORD
from tests.test_auth import bearer, login
from tests.world import finding_fields
from sync_protocol.version import PROTOCOL_VERSION


@pytest.fixture
def sup2(session, hasher, world):  # type: ignore[no-untyped-def]
    other = factories.campaign(session)
    user = factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="sup2")
    session.commit()
    return user


def test_the_device_takeover_is_refused_at_its_first_step(world, phone, client, session, sup2):
    alice = phone("alice")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    liaison = phone("liaison")
    liaison.pull()

    # 1. The liaison looks for the inspector's device id: not in the order's history, nor in
    #    anything it pulls.
    order = next(i for (e, i) in liaison.store.records("order"))
    detail = client.get(f"/api/v1/orders/{order}", headers=bearer(liaison.store.get("token"))).get_json()
    assert detail["history"] and all(step["device_id"] is None for step in detail["history"])
    pulled = liaison.store.records()
    assert pulled[("finding", finding)] and not any("device_id" in record for record in pulled.values())

    # 2. Given the id all the same, logging in with it is refused, for a user of another
    #    campaign too; nothing is issued and the device stays the inspector's.
    tokens = session.scalar(sa.select(sa.func.count()).select_from(AuthToken))
    for name in ("liaison", "sup2"):
        answer = login(client, name, device_id=alice.device_id)
        assert answer.status_code == 409 and answer.content_type == "application/problem+json"
        assert answer.get_json()["code"] == "device_taken" and "alice" not in answer.get_data(as_text=True)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuthToken)) == tokens
    assert session.get(DeviceRow, uuid.UUID(alice.device_id)).user_id == world.users["alice"].id

    # 3. The inspector's phone goes on as before: nothing was set on its sequence.
    alice.update("finding", finding, {"description": "补充：墙边杂物已堆放多日"})
    assert [r["outcome"] for r in alice.push()] == ["applied"]


def test_an_app_told_its_id_is_taken_makes_a_new_one(world, app, clock):
    owner = Device(WSGITransport(app), clock=clock.now)
    owner.login("alice", PASSWORD)
    other = Device(WSGITransport(app), clock=clock.now, device_id=uuid.UUID(owner.device_id))
    other.login("bob", PASSWORD)
    assert other.device_id != owner.device_id


def test_a_shared_phone_changes_hands_once_its_outbox_is_drained(world, app, client, session, clock):
    phone = Device(WSGITransport(app), clock=clock.now)
    phone.login("alice", PASSWORD)
    alice_token = phone.store.get("token")
    finding = phone.create("finding", finding_fields(world.units[0].id))
    phone.sync()
    phone.create("finding", finding_fields(world.units[1].id, description="未发送"))

    # A release naming a mutation the server never took is refused; nothing changes.
    early = client.post(f"/api/v1/devices/{phone.device_id}/release", json={"last_seq": 2},
                        headers=bearer(alice_token))
    assert early.status_code == 409 and early.get_json()["code"] == "outbox_not_drained"
    assert early.get_json()["acknowledged_seq"] == 1
    # Only from the phone itself, by its owner.
    bob_elsewhere = login(client, "bob").get_json()["token"]
    assert client.post(f"/api/v1/devices/{phone.device_id}/release", json={"last_seq": 0},
                       headers=bearer(bob_elsewhere)).status_code == 404

    phone.release()  # pushes the outbox first
    assert client.get("/api/v1/auth/me", headers=bearer(alice_token)).status_code == 401
    assert phone.store.records() == {}

    phone.login("bob", PASSWORD)
    session.rollback()
    assert session.get(DeviceRow, uuid.UUID(phone.device_id)).user_id == world.users["bob"].id
    # Nothing alice's pushes earned is answered to bob: a re-sent low sequence gets no receipt
    # and no copy, and is not applied as bob.
    assert session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)
                          .where(SyncReceipt.device_id == uuid.UUID(phone.device_id))) == 0
    status, body = phone.transport.request("POST", "/api/v1/sync/push", token=phone.store.get("token"), body={
        "protocol": PROTOCOL_VERSION, "device_id": phone.device_id, "sent_at": clock.now().isoformat(), "telemetry": {},
        "mutations": [{"seq": 1, "entity": "finding", "id": finding, "op": "update", "base_version": 1,
                       "device_time": clock.now().isoformat(), "fields": {"description": "bob 改"}}]})
    assert status == 200
    [answer] = body["results"]
    assert answer["outcome"] == "rejected" and answer["problem"]["code"] == "sequence_invalid"
    assert "server" not in answer
    # and bob's own captures go on from the device's mark
    phone.create("finding", finding_fields(world.units[2].id, description="bob 的发现"))
    assert [r["outcome"] for r in phone.push()] == ["applied"]


def test_alice_cannot_release_with_another_devices_token(world, client):
    first = login(client, "alice", device_id=uuid.uuid4()).get_json()
    second = login(client, "alice", device_id=uuid.uuid4()).get_json()
    answer = client.post(f"/api/v1/devices/{first['device_id']}/release", json={"last_seq": 0},
                         headers=bearer(second["token"]))
    assert answer.status_code == 404 and answer.get_json()["code"] == "not_found"
