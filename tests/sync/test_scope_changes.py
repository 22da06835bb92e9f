"""Scope that grows or shrinks: rows arrive, tombstones arrive, late edits are kept."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.rounds.models import Assignment
from server.sync.models import SyncConflict
from tests.world import finding_fields, make_secret_round


def ids(device, entity):  # type: ignore[no-untyped-def]
    return {i for (e, i) in device.store.records(entity)}


def move_unit(session, unit_id, team_id):  # type: ignore[no-untyped-def]
    session.execute(sa.update(Assignment).where(Assignment.unit_id == unit_id).values(team_id=team_id))
    session.commit()


def test_reassigning_a_unit_sends_tombstones_to_the_old_team_and_rows_to_the_new(world, phone, session):
    alice, bob = phone("alice"), phone("bob")
    moving = world.units[1]
    finding = alice.create("finding", finding_fields(moving.id))
    staying = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    bob.pull()
    assert finding not in ids(bob, "finding")

    move_unit(session, moving.id, world.team_b.id)
    alice.pull()
    bob.pull()
    assert ids(alice, "finding") == {staying}
    assert str(moving.id) not in ids(alice, "unit")
    assert ids(bob, "finding") == {finding}
    assert str(moving.id) in ids(bob, "unit")
    # and back again
    move_unit(session, moving.id, world.team_a.id)
    alice.pull()
    bob.pull()
    assert ids(alice, "finding") == {staying, finding}
    assert ids(bob, "finding") == set()


def test_an_offline_edit_to_a_unit_that_moved_away_is_accepted_late_and_flagged(world, phone, session):
    alice = phone("alice")
    finding = alice.create("finding", finding_fields(world.units[1].id))
    alice.sync()
    alice.update("finding", finding, {"description": "整改前补充说明"})  # offline, before the move
    later = alice.create("finding", finding_fields(world.units[1].id, description="离线时新发现"))
    move_unit(session, world.units[1].id, world.team_b.id)
    results = alice.push()
    assert [(r["outcome"], r.get("late")) for r in results] == [("applied", True), ("applied", True)]
    bob = phone("bob")
    bob.pull()
    descriptions = {d["description"] for d in bob.store.records("finding").values()}
    assert descriptions == {"整改前补充说明", "离线时新发现"}
    assert later in ids(bob, "finding")


def test_unannounced_round_reaches_the_unit_only_once_findings_are_issued(world, phone, session):
    secret = make_secret_round(session, world)
    bob, liaison = phone("bob"), phone("liaison")
    visit = bob.create("visit", {"round_id": secret.id, "unit_id": world.units[0].id,
                                 "started_at": "2026-10-24T10:00:00+08:00", "methods": "暗访询问"})
    finding = bob.create("finding", {**finding_fields(world.units[0].id), "visit_id": visit})
    bob.sync()
    liaison.pull()
    assert ids(liaison, "finding") == set() and ids(liaison, "order") == set()
    assert ids(liaison, "round") == set() and ids(liaison, "visit") == set()

    secret = session.merge(secret)
    secret.findings_issued_at = dt.datetime(2026, 10, 31, tzinfo=dt.timezone.utc)
    session.commit()
    liaison.pull()
    assert ids(liaison, "finding") == {finding}
    assert len(ids(liaison, "order")) == 1
    assert ids(liaison, "visit") == set()  # the unit sees what is wrong, not how it was inspected


def test_edits_made_on_a_version_that_already_included_the_other_apply_cleanly(world, phone, session):
    alice, sup = phone("alice"), phone("sup")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    sup.pull()
    sup.update("finding", finding, {"description": "督查员修改"})
    sup.sync()
    alice.pull()  # alice sees the supervisor's version first
    alice.update("finding", finding, {"description": "检查员在新版本上修改"})
    assert alice.push()[0]["outcome"] == "applied"
    assert session.scalar(sa.select(sa.func.count()).select_from(SyncConflict)) == 0
