"""The supervisors' sync endpoints stay within their campaign (issue 13): devices, quarantine
(list, replay, dismiss), conflicts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Role
from server.sync.models import QuarantinedMutation
from tests import factories
from tests.test_auth import bearer
from tests.world import finding_fields


@pytest.fixture
def two(world, session, hasher):  # type: ignore[no-untyped-def]
    """A second campaign with an inspector on one of its units and a supervisor."""
    campaign = factories.campaign(session)
    unit = factories.unit(session, campaign)
    carol = factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="carol")
    factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="sup2")
    factories.user(session, hasher, Role.ADMIN, username="root")
    rnd = factories.round_(session, campaign)
    factories.team(session, rnd, members=[carol], units=[unit])
    session.commit()
    return {"unit": unit}


def rejected_once(phone, username, unit_id):  # type: ignore[no-untyped-def]
    """A device of ``username`` whose finding for a unit it does not work on was quarantined."""
    device = phone(username)
    device.create("finding", finding_fields(unit_id))
    [result] = device.push()
    assert result["outcome"] == "rejected"
    return device


def headers(phone, username):  # type: ignore[no-untyped-def]
    return bearer(phone(username).store.get("token"))


def test_each_supervisor_reviews_only_its_campaigns_quarantine(world, two, phone, client, session):
    rejected_once(phone, "alice", two["unit"].id)  # campaign 1's inspector, campaign 2's unit
    rejected_once(phone, "carol", world.units[0].id)
    sup, sup2, root = headers(phone, "sup"), headers(phone, "sup2"), headers(phone, "root")
    mine = client.get("/api/v1/sync/quarantine", headers=sup).get_json()
    theirs = client.get("/api/v1/sync/quarantine", headers=sup2).get_json()
    assert [q["user_id"] for q in mine] == [world.users["alice"].id]
    assert len(theirs) == 1 and theirs[0]["user_id"] != world.users["alice"].id
    assert len(client.get("/api/v1/sync/quarantine", headers=root).get_json()) == 2

    # Another campaign's entry does not exist for this supervisor: neither replayed nor dismissed.
    assert client.post(f"/api/v1/sync/quarantine/{mine[0]['id']}/replay", headers=sup2).status_code == 404
    gone = client.post(f"/api/v1/sync/quarantine/{mine[0]['id']}/dismiss", json={"reason": "x"}, headers=sup2)
    assert gone.status_code == 404
    session.rollback()
    assert set(session.scalars(sa.select(QuarantinedMutation.status))) == {"open"}

    dismissed = client.post(f"/api/v1/sync/quarantine/{mine[0]['id']}/dismiss",
                            json={"reason": "录入错误，已当面核实"}, headers=sup)
    assert dismissed.status_code == 200
    assert (dismissed.get_json()["status"], dismissed.get_json()["resolution"]) == ("dismissed", "录入错误，已当面核实")
    assert client.get("/api/v1/sync/quarantine", headers=sup).get_json() == []
    assert len(client.get("/api/v1/sync/quarantine?status=dismissed", headers=sup).get_json()) == 1
    again = client.post(f"/api/v1/sync/quarantine/{mine[0]['id']}/dismiss", json={"reason": "x"}, headers=sup)
    assert again.status_code == 409
    session.rollback()
    assert session.scalar(sa.select(AuditEvent.reason).where(AuditEvent.action == "sync.dismissed")) == \
        "录入错误，已当面核实"


def test_a_dismissal_needs_a_reason(world, two, phone, client):
    rejected_once(phone, "alice", two["unit"].id)
    sup = headers(phone, "sup")
    item = client.get("/api/v1/sync/quarantine", headers=sup).get_json()[0]
    answer = client.post(f"/api/v1/sync/quarantine/{item['id']}/dismiss", json={}, headers=sup)
    assert answer.status_code == 422
    assert len(client.get("/api/v1/sync/quarantine", headers=sup).get_json()) == 1


def test_the_device_list_is_the_campaigns_and_says_whose(world, two, phone, client):
    alice = phone("alice")
    alice.sync()
    phone("carol").sync()
    listed = client.get("/api/v1/sync/devices", headers=headers(phone, "sup")).get_json()
    assert {d["username"] for d in listed} == {"alice", "sup"}
    mine = next(d for d in listed if d["device_id"] == alice.device_id)
    assert (mine["platform"], mine["user_id"], mine["display_name"]) == ("sample", world.users["alice"].id,
                                                                          world.users["alice"].display_name)
    assert mine["last_push_at"] is None and mine["last_pull_at"] is not None
    everyone = client.get("/api/v1/sync/devices", headers=headers(phone, "root")).get_json()
    assert {d["username"] for d in everyone} == {"alice", "carol", "sup", "root"}


def test_conflicts_are_listed_to_the_campaign_of_the_devices_that_met(world, two, phone, client):
    first, second = phone("alice"), phone("alice")
    finding = first.create("finding", finding_fields(world.units[0].id))
    first.sync()
    second.pull()
    first.update("finding", finding, {"description": "甲"})
    second.update("finding", finding, {"description": "乙"})
    first.push()
    [merged] = second.push()
    assert merged["outcome"] == "merged"
    assert len(client.get("/api/v1/sync/conflicts", headers=headers(phone, "sup")).get_json()) == 1
    assert client.get("/api/v1/sync/conflicts", headers=headers(phone, "sup2")).get_json() == []
