"""Several devices push edits of the same few findings at the same instant against a live
server, round after round, one of them deleting; then every device pulls to the end (issue 14).

The devices' clocks are their own (skewed by hours) and every request and answer is recorded,
so each edit's corrected time is known exactly as the server computed it: ``device_time +
(server_time - sent_at)``, from the push's own ``sent_at`` and the ``server_time`` of its
answer. From that record alone the test knows what the server must hold:

- each field holds the value of the applied edit with the latest corrected time;
- each finding's version is 1 + the edits that took their field + 1 for a delete;
- the feed's last change of each finding is the row as stored (a tombstone once deleted);
- every device holds exactly what the server publishes; no answer is a 5xx.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from sample_client import Device, HttpTransport
from server.auth.models import Role
from server.findings.models import Finding, FindingStatus
from server.rounds.models import TeamMember
from server.sync import feed
from server.sync.models import SyncRow
from tests import factories
from tests.factories import PASSWORD
from tests.sync.test_crash_and_concurrency import _free_port, _serve
from tests.world import finding_fields

pytestmark = pytest.mark.slow

FIELDS = ("category", "description", "location_text")
ROUNDS = 6
EDITS_PER_ROUND = 3


class Recorder:
    """A transport that keeps every request body and every answer."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, Any, int, Any]] = []

    def exchange(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        status, body, headers = self.inner.exchange(method, path, **kwargs)
        self.calls.append((path, kwargs.get("body"), status, body))
        return status, body, headers

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _headers = self.exchange(method, path, **kwargs)
        return status, body

    def send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        return self.inner.send(method, path, **kwargs)


class FakeClock:
    """A device clock the test sets: hours off the server's, moved on by the test alone."""

    def __init__(self, skew: dt.timedelta) -> None:
        self.skew = skew
        self.now = dt.datetime.now(dt.timezone.utc) + skew

    def __call__(self) -> dt.datetime:
        return self.now


def test_devices_pushing_at_the_same_instant_converge_on_the_latest_edits(
        world, app, session, hasher, database_url_for_tests, tmp_path):
    for name in ("carol", "dave"):
        user = factories.user(session, hasher, Role.INSPECTOR, campaign=world.campaign, username=name)
        session.add(TeamMember(team_id=world.team_a.id, user_id=user.id))
    session.commit()
    port = _free_port()
    server = _serve(database_url_for_tests, port, tmp_path / "instance")
    rng = random.Random()
    try:
        devices: list[tuple[Device, FakeClock, Recorder]] = []
        for name in ("alice", "alice", "carol", "carol", "dave", "sup"):
            clock = FakeClock(dt.timedelta(hours=rng.uniform(-24, 24)))
            recorder = Recorder(HttpTransport(f"http://127.0.0.1:{port}", timeout=60))
            device = Device(recorder, clock=clock, batch_size=1000)  # type: ignore[arg-type]
            device.login(name, PASSWORD)
            devices.append((device, clock, recorder))
        reporter = devices[0][0]
        findings = [reporter.create("finding", finding_fields(world.units[0].id)) for _ in range(3)]
        reporter.push()
        for device, _clock, _recorder in devices:
            device.pull()

        edits: dict[tuple[str, int], tuple[str, str, str]] = {}  # (device, seq) → finding, field, value
        for round_ in range(ROUNDS):
            # Captured offline, one after another, 100 µs apart on each device's own clock.
            for index, (device, clock, _recorder) in enumerate(devices):
                clock.now = dt.datetime.now(dt.timezone.utc) + clock.skew
                for n in range(EDITS_PER_ROUND):
                    clock.now += dt.timedelta(microseconds=100)
                    finding_id, name = rng.choice(findings), rng.choice(FIELDS)
                    if device.store.record("finding", finding_id) is None:
                        continue  # deleted on this phone already
                    value = f"r{round_}-d{index}-{n}"
                    seq = device.store.get("next_seq", 1)
                    device.update("finding", finding_id, {name: value})
                    edits[device.device_id, seq] = (finding_id, name, value)
                if round_ == 1 and index == len(devices) - 1:
                    clock.now += dt.timedelta(microseconds=100)
                    device.delete("finding", findings[2])  # the supervisor withdraws one
                clock.now += dt.timedelta(milliseconds=1)
            _all_at_once([device for device, _clock, _recorder in devices])

        for device, _clock, _recorder in devices:
            device.pull()

        statuses = [status for _d, _c, recorder in devices for (_p, _b, status, _a) in recorder.calls]
        assert all(status < 500 for status in statuses), statuses
        expected = _expected(devices, edits)
        session.rollback()
        for finding_id in findings:
            finding = session.get(Finding, uuid.UUID(finding_id), populate_existing=True)
            want = expected[finding_id]
            deleted = finding.status is FindingStatus.VOIDED
            assert deleted == want["deleted"], finding_id
            assert finding.version == want["version"], (finding_id, want)
            last = session.scalars(sa.select(SyncRow).where(SyncRow.entity == "finding",
                                                            SyncRow.entity_id == finding_id)
                                   .order_by(SyncRow.seq.desc()).limit(1)).one()
            if deleted:
                assert last.deleted
                assert all(device.store.record("finding", finding_id) is None for device, _c, _r in devices)
                continue
            for name, candidates in want["fields"].items():
                latest = max(at for at, _value in candidates)
                assert getattr(finding, name) == next(v for at, v in candidates if at == latest), (finding_id, name)
                assert dt.datetime.fromisoformat(finding.field_meta[name]["at"]) == latest
            published = json.loads(last.payload)
            assert not last.deleted and published == json.loads(feed.payload(finding, feed.REGISTRY[Finding]))
            for device, _clock, _recorder in devices:
                assert device.store.record("finding", finding_id) == published
    finally:
        server.kill()
        server.wait(timeout=10)


def _all_at_once(devices: list[Device]) -> None:
    start = threading.Barrier(len(devices))
    errors: list[BaseException] = []

    def push(device: Device) -> None:
        try:
            start.wait(timeout=30)
            device.push()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(device,)) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def _expected(devices: list[tuple[Device, FakeClock, Recorder]],
              edits: dict[tuple[str, int], tuple[str, str, str]]) -> dict[str, dict[str, Any]]:
    """What the server must hold, from the recorded pushes: per finding, each field's applied
    edits with their corrected times, the version and whether it was deleted."""
    state: dict[str, dict[str, Any]] = {}
    for device, _clock, recorder in devices:
        for path, body, status, answer in recorder.calls:
            if not path.endswith("/sync/push") or status != 200:
                continue
            sent_at = dt.datetime.fromisoformat(body["sent_at"])
            server_time = dt.datetime.fromisoformat(answer["server_time"])
            times = {m["seq"]: dt.datetime.fromisoformat(m["device_time"]) for m in body["mutations"]}
            for result in answer["results"]:
                record = state.setdefault(result["id"], {"fields": {}, "version": 1, "deleted": False})
                if result["op"] == "delete" and result["outcome"] == "applied":
                    record["deleted"] = True
                    record["version"] += 1
                if result["op"] != "update" or result["outcome"] not in ("applied", "merged"):
                    continue
                _finding_id, name, value = edits[device.device_id, result["seq"]]
                at = min(times[result["seq"]] + (server_time - sent_at), server_time)
                record["fields"].setdefault(name, []).append((at, value))
                # One field per edit: it counts when it was taken (a merged edit may have lost).
                taken = result["outcome"] == "applied" or (result.get("server") or {}).get(name) == value
                record["version"] += taken
    return state
