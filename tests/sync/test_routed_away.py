"""A capture that lands where its phone's pulls never reach: a patrol finding the server routes
to another team's unit, or leaves to triage (outside every zone), and a change applied late.
The push answers it as gone (``deleted: true``, with the server's copy for its author), so the
phone holds exactly what a fresh install of the same user pulls; the reporter still reads it
through the API, and its new holders pull it."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from sample_client import NetworkError
from server.findings.models import Finding
from server.rounds.models import Assignment
from server.units.models import Zone, ZoneKind
from tests.orders.test_api import as_user  # noqa: F401
from tests.world import finding_fields

#: A frontage (门前四包) of the third unit, which only the second team (bob's) inspects.
WEST, SOUTH = 109.031, 32.682


def _zone(session, world):  # type: ignore[no-untyped-def]
    ring = [[WEST, SOUTH], [WEST + 0.009, SOUTH], [WEST + 0.009, SOUTH + 0.008], [WEST, SOUTH + 0.008], [WEST, SOUTH]]
    unit = world.units[2]
    session.add(Zone(campaign_id=world.campaign.id, unit_id=unit.id, code="Z3", name=f"{unit.name}门前",
                     kind=ZoneKind.FRONTAGE, geometry={"type": "Polygon", "coordinates": [ring]},
                     min_lon=WEST, min_lat=SOUTH, max_lon=WEST + 0.009, max_lat=SOUTH + 0.008))
    session.commit()
    return unit


def _patrol(latitude: float, longitude: float, description: str) -> dict:  # type: ignore[type-arg]
    return {"category": "占道经营", "description": description, "latitude": latitude, "longitude": longitude}


def _held(device, entity="finding"):  # type: ignore[no-untyped-def]
    return {i for (_e, i) in device.store.records(entity)}


def test_a_patrol_finding_routed_to_another_teams_unit_leaves_the_phone_as_a_fresh_install_would(
        world, phone, session, client, as_user):
    routed_to = _zone(session, world)
    alice = phone("alice")
    alice.pull()
    street = alice.create("finding", _patrol(SOUTH + 0.004, WEST + 0.004, "门前占道摆摊"))
    triage = alice.create("finding", _patrol(30.0, 100.0, "无主垃圾堆"))
    own = alice.create("finding", finding_fields(world.units[0].id))
    results = {r["id"]: r for r in alice.push()}

    assert {i: r["outcome"] for i, r in results.items()} == {street: "applied", triage: "applied", own: "applied"}
    assert results[street]["deleted"] is True and results[street]["server"]["unit_id"] == routed_to.id
    assert results[triage]["deleted"] is True and results[triage]["server"]["unit_id"] is None
    assert "deleted" not in results[own] and "server" not in results[own]
    alice.pull()
    assert _held(alice) == {own}
    fresh = phone("alice")
    fresh.pull()
    assert fresh.store.records() == alice.store.records()

    # Where they went, they are pulled: bob's team holds the unit, the supervisor the campaign.
    bob, supervisor = phone("bob"), phone("sup")
    bob.pull()
    supervisor.pull()
    assert street in _held(bob) and triage not in _held(bob)
    assert {street, triage, own} <= _held(supervisor)
    # Its reporter still reads it through the API, as the read rules say.
    for finding_id in (street, triage):
        answer = client.get(f"/api/v1/findings/{finding_id}", headers=as_user("alice"))
        assert answer.status_code == 200, answer.get_json()


def test_a_lost_answer_is_sent_again_as_gone(world, phone, session):
    _zone(session, world)
    lost: list[int] = []
    alice = phone("alice", drop=lambda method, path: path.endswith("/push") and not lost and not lost.append(1))
    street = alice.create("finding", _patrol(SOUTH + 0.004, WEST + 0.004, "门前占道摆摊"))
    try:
        alice.push()
        raise AssertionError("the first answer is lost")
    except NetworkError:
        pass
    assert _held(alice) == {street}  # the phone still holds its optimistic copy
    (again,) = alice.push()
    assert again["outcome"] == "applied" and again["deleted"] is True
    assert _held(alice) == set()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding).where(Finding.id == uuid.UUID(again["id"]))) == 1


def test_a_late_finding_for_a_unit_that_moved_away_is_applied_and_leaves_the_phone(world, phone, session):
    alice = phone("alice")
    alice.pull()
    later = alice.create("finding", finding_fields(world.units[1].id, description="离线时新发现"))
    session.execute(sa.update(Assignment).where(Assignment.unit_id == world.units[1].id)
                    .values(team_id=world.team_b.id))
    session.commit()
    (answer,) = alice.push()
    assert (answer["outcome"], answer.get("late"), answer.get("deleted")) == ("applied", True, True)
    alice.pull()
    fresh = phone("alice")
    fresh.pull()
    assert later not in _held(alice) and fresh.store.records() == alice.store.records()
    bob = phone("bob")
    bob.pull()
    assert later in _held(bob)
