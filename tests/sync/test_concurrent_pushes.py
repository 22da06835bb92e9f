"""Two pushes that touch the same findings at the same instant, on PostgreSQL, where two
transactions really run at once (issue 14).

Overlap is forced, not hoped for: a gate connection holds the findings' row locks while both
pushes start, and the test waits (polling ``pg_blocking_pids``) until both pushes are queued
behind it before it lets go. Whatever the push reads before its first lock, it has read by
then; whatever it writes, it writes after the other push has started too.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from sample_client import Device
from server.auth.models import Role
from server.findings.models import Finding
from server.rounds.models import TeamMember
from server.sync import feed
from server.sync.models import SyncRow
from tests import factories
from tests.world import finding_fields


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("two transactions run at once on PostgreSQL only (SQLite has one writer)")


@pytest.fixture
def carol(world, session, hasher):  # type: ignore[no-untyped-def]
    """A second inspector of alice's team: both see the team's units and edit its findings."""
    user = factories.user(session, hasher, Role.INSPECTOR, campaign=world.campaign, username="carol")
    session.add(TeamMember(team_id=world.team_a.id, user_id=user.id))
    session.commit()
    return user


class Gate:
    """A transaction of the test's own that holds row locks while pushes queue up behind it."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.connection = self.engine.connect()
        self.transaction = self.connection.begin()
        # Polled from a connection of its own: pg_stat_activity is a snapshot per transaction.
        self.watcher = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def hold(self, finding_ids: list[str]) -> None:
        self.connection.execute(sa.text("SELECT id FROM findings WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
                                {"ids": [uuid.UUID(i) for i in finding_ids]})

    def wait_until_blocked(self, count: int, pushes: list[Pushing], timeout: float = 30) -> None:
        """Until ``count`` other sessions of this database wait on a lock (behind the gate, or
        behind each other)."""
        deadline = time.monotonic() + timeout
        while True:
            finished = [p for p in pushes if not p.is_alive()]
            assert not finished, f"a push finished without waiting: {finished[0].error or finished[0].results}"
            blocked = self.watcher.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND cardinality(pg_blocking_pids(pid)) > 0")).scalar_one()
            if blocked >= count:
                return
            if time.monotonic() > deadline:
                activity = self.watcher.execute(sa.text(
                    "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid), query "
                    "FROM pg_stat_activity WHERE datname = current_database()")).all()
                raise AssertionError(f"only {blocked} of {count} pushes wait on a lock: {activity}")
            time.sleep(0.01)

    def release(self) -> None:
        self.transaction.commit()

    def close(self) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()
        self.watcher.close()
        self.engine.dispose()


@pytest.fixture
def gate(database_url_for_tests):  # type: ignore[no-untyped-def]
    opened = Gate(database_url_for_tests)
    yield opened
    opened.close()


class Pushing(threading.Thread):
    """One device's push in a thread of its own; its answers, or what it raised."""

    def __init__(self, device: Device) -> None:
        super().__init__()
        self.device = device
        self.results: list[dict[str, Any]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.results = self.device.push()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def outcome(self) -> list[dict[str, Any]]:
        self.join(timeout=60)
        assert not self.is_alive(), "the push never finished"
        assert self.error is None, repr(self.error)
        return self.results


def overlapped(gate: Gate, finding_ids: list[str], *devices: Device) -> list[list[dict[str, Any]]]:
    """Push every device's outbox at once; each push starts only when the one before it waits
    behind the gate's locks, so they are queued in the order given."""
    gate.hold(finding_ids)
    pushes = []
    for n, device in enumerate(devices, start=1):
        pushes.append(Pushing(device))
        pushes[-1].start()
        gate.wait_until_blocked(n, pushes)
    gate.release()
    return [p.outcome() for p in pushes]


def shared_finding(world: Any, alice: Device, carol: Device) -> str:
    finding_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    carol.pull()
    return finding_id


def last_feed_row(session: Any, finding_id: str) -> SyncRow:
    session.rollback()
    return session.scalars(sa.select(SyncRow).where(SyncRow.entity == "finding", SyncRow.entity_id == finding_id)
                           .order_by(SyncRow.seq.desc()).limit(1)).one()


def stored(session: Any, finding_id: str) -> Finding:
    session.rollback()
    return session.get(Finding, uuid.UUID(finding_id), populate_existing=True)


def test_edits_of_two_fields_at_once_both_count(world, carol, phone: Callable[..., Device], gate, session):
    alice, other = phone("alice"), phone("carol")
    finding_id = shared_finding(world, alice, other)
    before = stored(session, finding_id)
    version, meta = before.version, dict(before.field_meta)

    alice.update("finding", finding_id, {"category": "市容秩序"})
    other.update("finding", finding_id, {"description": "门前堆放纸箱"})
    first, second = overlapped(gate, [finding_id], alice, other)

    assert [r["outcome"] for r in first + second] == ["applied", "applied"]
    finding = stored(session, finding_id)
    assert (finding.category, finding.description) == ("市容秩序", "门前堆放纸箱")
    assert finding.version == version + 2
    stamps = {name: finding.field_meta[name]["version"] for name in ("category", "description")}
    assert sorted(stamps.values()) == [version + 1, version + 2]
    assert finding.field_meta["description"]["device"] == other.device_id != meta["description"]["device"]
    assert finding.field_meta["category"]["device"] == alice.device_id
    row = last_feed_row(session, finding_id)
    published = json.loads(row.payload)
    assert not row.deleted
    assert published == json.loads(feed.payload(finding, feed.REGISTRY[Finding]))  # the row as stored
    assert published["version"] == finding.version
    assert (published["category"], published["description"]) == ("市容秩序", "门前堆放纸箱")


def test_an_update_based_on_the_version_before_a_delete_is_a_conflict(world, carol, phone, gate, session):
    alice, other = phone("alice"), phone("carol")
    finding_id = shared_finding(world, alice, other)
    version = stored(session, finding_id).version

    alice.delete("finding", finding_id)
    other.update("finding", finding_id, {"description": "门前堆放纸箱"})  # from the version before the delete
    deleted, updated = overlapped(gate, [finding_id], alice, other)

    assert deleted[0]["outcome"] == "applied"
    assert updated[0]["outcome"] == "conflict"
    assert updated[0]["problem"]["code"] == "record_missing"
    assert updated[0]["server"]["status"] == "voided" and updated[0]["server"]["id"] == finding_id
    finding = stored(session, finding_id)
    assert finding.status.value == "voided" and finding.version == version + 1
    assert finding.description != "门前堆放纸箱"
    assert last_feed_row(session, finding_id).deleted
    other.pull()
    assert other.store.record("finding", finding_id) is None


def test_crossed_batches_both_apply_without_a_server_error(world, carol, phone, gate, session):
    alice, other = phone("alice"), phone("carol")
    f1 = shared_finding(world, alice, other)
    f2 = shared_finding(world, alice, other)
    f1, f2 = sorted([f1, f2])
    versions = {f: stored(session, f).version for f in (f1, f2)}

    for finding_id in (f1, f2):
        alice.update("finding", finding_id, {"category": "市容秩序"})
    for finding_id in (f2, f1):
        other.update("finding", finding_id, {"description": "门前堆放纸箱"})
    forward, backward = overlapped(gate, [f1, f2], alice, other)

    assert [r["outcome"] for r in forward + backward] == ["applied"] * 4
    for finding_id in (f1, f2):
        finding = stored(session, finding_id)
        assert (finding.category, finding.description) == ("市容秩序", "门前堆放纸箱")
        assert finding.version == versions[finding_id] + 2
        assert json.loads(last_feed_row(session, finding_id).payload)["version"] == finding.version


def test_a_push_that_keeps_waiting_is_answered_503_and_applies_nothing(
        world, carol, phone, gate, session, app_config, clock):
    from server import create_app
    from sample_client import WSGITransport
    from sync_protocol.version import PROTOCOL_VERSION
    from tests.factories import PASSWORD

    impatient = create_app({**app_config, "SYNC_LOCK_TIMEOUT_MS": 50, "SYNC_RETRY_ATTEMPTS": 2}, clock=clock)
    try:
        alice = phone("alice")
        other = Device(WSGITransport(impatient), clock=clock.now)
        other.login("carol", PASSWORD)
        finding_id = shared_finding(world, alice, other)
        version = stored(session, finding_id).version
        other.update("finding", finding_id, {"description": "门前堆放纸箱"})
        gate.hold([finding_id])  # a transaction that holds the finding longer than the push waits

        response = impatient.test_client().post("/api/v1/sync/push", headers={
            "Authorization": f"Bearer {other.store.get('token')}"}, json={
            "protocol": PROTOCOL_VERSION, "device_id": other.device_id, "sent_at": clock.now().isoformat(),
            "telemetry": {}, "mutations": other.store.outbox(10)})
        assert response.status_code == 503
        assert response.content_type == "application/problem+json"
        assert response.json["code"] == "sync_busy"
        assert 1 <= int(response.headers["Retry-After"]) <= 5
        gate.release()
        assert stored(session, finding_id).version == version  # nothing of it was applied

        assert [r["outcome"] for r in other.push()] == ["applied"]  # sent again: applied once
        assert stored(session, finding_id).version == version + 1
    finally:
        impatient.extensions["xuncha.db"].dispose()


def test_a_sweep_and_a_delete_of_the_same_order_neither_wait_for_each_other_nor_lose_a_step(
        world, app, clock, phone, gate, session):
    import datetime as dt

    from server.orders.models import Order, OrderStatus
    from server.scheduling import JOBS, run_job
    from tests.factories import PASSWORD

    alice = phone("alice")
    finding_id = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    session.rollback()
    order = session.scalars(sa.select(Order).where(Order.finding_id == uuid.UUID(finding_id))).one()
    order_id, level = order.id, order.level
    clock.advance(dt.timedelta(days=60))  # overdue: the sweep escalates it
    alice.login("alice", PASSWORD)  # the token expired meanwhile

    alice.delete("finding", finding_id)
    gate.hold([finding_id])
    deleting = Pushing(alice)
    deleting.start()
    gate.wait_until_blocked(1, [deleting])  # the push waits for the finding, holding no order
    # The sweep takes the order meanwhile (it never waits for a row a push holds) and commits.
    run_job(app, next(job for job in JOBS if job.id == "orders.escalate"))
    session.rollback()
    escalated = session.get(Order, order_id, populate_existing=True)
    assert escalated.level > level
    swept = escalated.version
    gate.release()

    assert [r["outcome"] for r in deleting.outcome()] == ["applied"]
    session.rollback()
    voided = session.get(Order, order_id, populate_existing=True)
    # The delete read the order under its lock, after the sweep: both steps count.
    assert voided.status is OrderStatus.VOIDED and voided.level == escalated.level
    assert voided.version == swept + 1
    row = session.scalars(sa.select(SyncRow).where(SyncRow.entity == "order", SyncRow.entity_id == str(order_id))
                          .order_by(SyncRow.seq.desc()).limit(1)).one()
    assert row.deleted


def test_an_attempt_that_timed_out_is_run_again_whole_and_applies_once(
        world, carol, phone, gate, session, app_config, clock, caplog):
    import logging

    from server import create_app
    from sample_client import WSGITransport
    from tests.factories import PASSWORD

    patient = create_app({**app_config, "SYNC_LOCK_TIMEOUT_MS": 50, "SYNC_RETRY_ATTEMPTS": 100}, clock=clock)
    try:
        alice = phone("alice")
        other = Device(WSGITransport(patient), clock=clock.now)
        other.login("carol", PASSWORD)
        finding_id = shared_finding(world, alice, other)
        version = stored(session, finding_id).version
        other.update("finding", finding_id, {"description": "门前堆放纸箱"})
        other.create("finding", finding_fields(world.units[0].id))  # written before the lock wait, each attempt
        gate.hold([finding_id])
        caplog.set_level(logging.WARNING, logger="server.db")
        pushing = Pushing(other)
        pushing.start()
        deadline = time.monotonic() + 30
        while not any("55P03" in r.getMessage() for r in caplog.records):  # a first attempt gave up
            assert pushing.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        gate.release()

        assert [r["outcome"] for r in pushing.outcome()] == ["applied", "applied"]
        assert stored(session, finding_id).version == version + 1
        session.rollback()
        assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 2  # the create, once
    finally:
        patient.extensions["xuncha.db"].dispose()
