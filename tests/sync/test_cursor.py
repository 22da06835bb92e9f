"""Cursors: signed, per device, and refused with 'start over' once older than the tombstones."""

from __future__ import annotations

import datetime as dt

from server.scheduling import JOBS, run_job
from tests.factories import PASSWORD
from tests.world import finding_fields


def test_a_forged_or_foreign_cursor_is_refused(world, phone):
    alice, other = phone("alice"), phone("alice")
    alice.pull()
    status, body = other.transport.request("GET", "/api/v1/sync/pull", params={"cursor": alice.store.get("cursor")},
                                           token=other.store.get("token"))
    assert status == 400 and body["code"] == "cursor_invalid"
    status, body = alice.transport.request("GET", "/api/v1/sync/pull", params={"cursor": "eyJzIjo5OTl9.forged"},
                                           token=alice.store.get("token"))
    assert status == 400 and body["code"] == "cursor_invalid"


def test_an_old_pull_too_old_for_the_tombstones_must_start_over(world, phone, app, clock):
    alice, idle = phone("alice"), phone("alice")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    idle.pull()
    alice.delete("finding", finding)
    alice.sync()
    clock.advance(dt.timedelta(days=app.config["SYNC_TOMBSTONE_DAYS"] + 1))
    purge = next(job for job in JOBS if job.id == "sync.purge_tombstones")
    assert run_job(app, purge) >= 1
    idle.login("alice", PASSWORD)  # months later: the token expired too; the cursor is kept
    status, body = idle.transport.request("GET", "/api/v1/sync/pull", params={"cursor": idle.store.get("cursor")},
                                          token=idle.store.get("token"))
    assert status == 410 and body["code"] == "cursor_expired"
    assert idle.store.outbox_depth() == 0
    fresh = phone("alice")
    fresh.pull()
    assert fresh.store.records("finding") == {}
