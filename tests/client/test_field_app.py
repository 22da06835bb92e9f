"""The reference client's library against the app in-process: captures offline, sync, photos
over tus, retries, hand-over of a shared phone."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from sample_client import NetworkError, WSGITransport
from sample_client.app import FieldApp
from sample_client.engine import Backoff
from sample_client.errors import ClientError, GaveUp, HandOverRefused, SyncStopped
from sample_client.faults import FaultyLink
from server.attachments.models import Photo
from server.findings.models import Finding
from server.orders.models import Order
from tests.factories import PASSWORD


def _field_app(app, home, link=None, **kw):  # type: ignore[no-untyped-def]
    waits: list[float] = []
    phone = FieldApp(home, transport=link or WSGITransport(app), sleep=waits.append,
                     backoff=Backoff(base=0.01, cap=0.1), **kw)
    phone.waits = waits  # type: ignore[attr-defined]
    return phone


def test_a_visit_captured_offline_arrives_once_with_its_photos(app, world, session, tmp_path, camera):
    link = FaultyLink(WSGITransport(app), compress=False)
    phone = _field_app(app, tmp_path / "phone", link, attempts=3)
    phone.login("alice", PASSWORD)
    phone.pull()
    assert {u["id"] for u in phone.my_units()} == {world.units[0].id, world.units[1].id}

    link.online = False
    visit = phone.start_visit(world.units[0].id)
    item = min(i["id"] for i in phone.records("item"))
    phone.answer(item, "fail", instances=1, score="1.00", note="杂物堆积")
    findings = [phone.add_finding("环境卫生", f"办公楼西侧杂物堆积{n}", photos=[camera()]) for n in range(3)]
    phone.end_visit()
    try:
        phone.sync()
        raise AssertionError("a phone with no signal cannot sync")
    except GaveUp:
        pass
    assert phone.status()["outbox"] == 6 and phone.status()["photos_pending"] == 3
    assert len(phone.waits) == 2  # backed off between its three attempts

    link.online = True
    report = phone.sync()
    assert report.pushed == 6 and report.photos_sent == 3 and not report.rejected
    status = phone.status()
    assert status["outbox"] == 0 and status["photos_pending"] == 0 and status["last_sync"]
    session.rollback()
    held = session.scalars(sa.select(Finding).where(Finding.visit_id == uuid.UUID(visit))).all()
    assert sorted(str(f.id) for f in held) == sorted(findings)
    assert {f.status.value for f in held} == {"complete"}
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 3
    # The pull after the push brought the server's copies, orders included.
    assert {o["finding_id"] for o in phone.records("order")} == set(findings)


def test_a_signed_score_is_refused_on_the_phone_before_it_can_deduct_nothing(app, world, tmp_path):
    phone = _field_app(app, tmp_path / "phone")
    phone.login("alice", PASSWORD)
    phone.pull()
    phone.start_visit(world.units[0].id)
    item = min(i["id"] for i in phone.records("item"))
    depth = phone.status()["outbox"]
    for score in ("-1.00", "one", "1.234"):
        try:
            phone.answer(item, "fail", instances=1, score=score)
            raise AssertionError(f"score {score!r} taken")
        except ClientError as error:
            assert "never negative" in str(error)
    assert phone.status()["outbox"] == depth
    phone.answer(item, "fail", instances=1, score="2.50")
    assert phone.status()["outbox"] == depth + 1


def test_lost_answers_are_resent_and_applied_once(app, world, session, tmp_path, camera):
    link = FaultyLink(WSGITransport(app), loss=0.5, compress=False)
    link.rng.seed(3)
    phone = _field_app(app, tmp_path / "phone", link, attempts=30, batch_size=2)
    phone.login("alice", PASSWORD)
    phone.pull()
    phone.start_visit(world.units[1].id)
    made = {phone.add_finding("市容秩序", f"门前占道{n}", photos=[camera()]) for n in range(6)}
    phone.end_visit()
    phone.sync()
    assert link.lost > 0 and phone.engine.stats.retries > 0
    session.rollback()
    assert {str(i) for i in session.scalars(sa.select(Finding.id))} == made
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 6


def test_a_shared_phone_changes_hands_only_once_its_outbox_is_sent(app, world, session, tmp_path):
    phone = _field_app(app, tmp_path / "phone")
    phone.login("alice", PASSWORD)
    phone.pull()
    phone.start_visit(world.units[0].id)
    try:
        phone.login("bob", PASSWORD)
        raise AssertionError("bob must not push alice's visit as his own")
    except HandOverRefused:
        pass
    phone.sync()
    phone.login("bob", PASSWORD)
    phone.pull()
    assert {u["id"] for u in phone.my_units()} == {world.units[2].id}  # alice's scope is gone


def test_rejections_are_kept_and_shown(app, world, tmp_path):
    phone = _field_app(app, tmp_path / "phone")
    phone.login("alice", PASSWORD)
    phone.device.create("visit", {"round_id": world.round.id, "unit_id": world.units[2].id,
                                  "started_at": "2026-10-23T09:00:00+08:00"})  # bob's unit
    report = phone.sync()
    assert [r["problem"]["code"] for r in report.rejected] == ["not_in_scope"]
    assert [c["problem"]["code"] for c in phone.conflicts()] == ["not_in_scope"]
    assert phone.status()["outbox"] == 0 and phone.status()["conflicts"] == 1




class _Recorder(FaultyLink):
    """Records each request; ``cut_patch`` loses the n-th PATCH on the way (a lost signal)."""

    def __init__(self, inner, cut_patch: int | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(inner, compress=False)
        self.sent: list[tuple[str, dict[str, str], int]] = []
        self.cut_patch = cut_patch

    def send(self, method, path, *, data=None, headers=None):  # type: ignore[no-untyped-def]
        patches = sum(m == "PATCH" for m, _h, _n in self.sent)
        if method == "PATCH" and self.cut_patch is not None and patches + 1 == self.cut_patch:
            self.sent.append(("LOST", headers or {}, len(data or b"")))
            raise NetworkError("the signal went in the middle of the upload")
        self.sent.append((method, headers or {}, len(data or b"")))
        return super().send(method, path, data=data, headers=headers)


def test_a_photo_upload_cut_at_half_sends_only_the_rest_next_time(app, world, session, tmp_path, camera):
    photo = camera(900)
    size = photo.stat().st_size
    half = (size + 1) // 2
    first = _Recorder(WSGITransport(app), cut_patch=2)
    with _field_app(app, tmp_path / "phone", first, attempts=1, chunk_bytes=half) as phone:
        phone.login("alice", PASSWORD)
        phone.pull()
        phone.start_visit(world.units[0].id)
        phone.add_finding("环境卫生", "墙边杂物", photos=[photo])
        try:
            phone.sync()
            raise AssertionError("the upload was cut")
        except GaveUp:
            pass
        kept = phone.store.photos()[0]
        assert kept["status"] == "pending" and kept["offset"] == half and kept["upload_url"]

    # The app was closed (killed); the next run resumes from the server's offset.
    again = _Recorder(WSGITransport(app))
    with _field_app(app, tmp_path / "phone", again, chunk_bytes=half) as phone:
        phone.sync()
        assert phone.store.photos()[0]["status"] == "done"
        assert phone.photos.sent_bytes == size - half
    patches = [(h, n) for m, h, n in again.sent if m == "PATCH"]
    assert [(h["Upload-Offset"], n) for h, n in patches] == [(str(half), size - half)]
    assert not [m for m, _h, _n in again.sent if m == "POST" and _h.get("Upload-Length")]  # no new upload
    session.rollback()
    stored = session.scalars(sa.select(Photo)).one()
    assert stored.size_bytes == size and stored.sha256 == kept["sha256"]


def test_retry_after_is_honoured_before_resending(app, world, tmp_path):
    """A 503 with Retry-After (a proxy, or a busy server): the phone waits at least that long."""

    class Busy(FaultyLink):
        pushes = 0

        def send(self, method, path, *, data=None, headers=None):  # type: ignore[no-untyped-def]
            if path.startswith("/api/v1/sync/push") and Busy.pushes < 2:
                Busy.pushes += 1
                return 503, {"Retry-After": "7", "Content-Type": "application/problem+json"}, \
                    b'{"code": "sync_busy", "status": 503}'
            return super().send(method, path, data=data, headers=headers)

    with _field_app(app, tmp_path / "phone", Busy(WSGITransport(app), compress=False)) as phone:
        phone.login("alice", PASSWORD)
        phone.device.create("finding", {"unit_id": world.units[0].id, "category": "环境卫生", "description": "杂物"})
        phone.sync()
        assert phone.waits[:2] == [7.0, 7.0] and phone.status()["outbox"] == 0


def test_months_offline_the_phone_logs_in_again_and_starts_its_pull_over(app, world, session, clock, tmp_path):
    """The token lapsed (401: log in again, same device id) and the cursor is older than the
    tombstones (410: push, drop pulled data, pull from scratch); what was captured goes."""
    from server.scheduling import JOBS, run_job

    with _field_app(app, tmp_path / "other") as other, \
            _field_app(app, tmp_path / "idle", password=PASSWORD, clock=clock.now) as idle:
        other.login("alice", PASSWORD)
        idle.login("alice", PASSWORD)
        other.pull()
        idle.pull()
        other.start_visit(world.units[0].id)
        gone = other.add_finding("环境卫生", "墙边杂物")
        other.sync()
        idle.pull()
        device_id, token = idle.device.device_id, idle.store.get("token")
        assert ("finding", gone) in idle.store.records()
        idle.start_visit(world.units[1].id)
        kept = idle.add_finding("环境卫生", "绿化带垃圾")  # captured offline, months ago
        other.device.delete("finding", gone)
        other.sync()
        clock.advance(dt.timedelta(days=app.config["SYNC_TOMBSTONE_DAYS"] + 1))
        assert run_job(app, next(job for job in JOBS if job.id == "sync.purge_tombstones")) >= 1
        report = idle.sync()
        assert report.pushed == 2 and idle.status()["outbox"] == 0
        assert idle.device.device_id == device_id and idle.store.get("token") != token  # logged in again
        assert ("finding", gone) not in idle.store.records()  # its tombstone was purged: only a fresh pull knows
        assert ("finding", kept) in idle.store.records()
    session.rollback()
    assert session.get(Finding, uuid.UUID(kept)) is not None


def test_a_revoked_phone_stops_syncing_and_keeps_its_captures(app, world, session, hasher, tmp_path):
    from server.auth.models import Role
    from tests import factories

    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    with _field_app(app, tmp_path / "admin") as admin, \
            _field_app(app, tmp_path / "phone", password=PASSWORD) as phone:
        admin.login("root", PASSWORD)
        phone.login("alice", PASSWORD)
        phone.pull()
        phone.start_visit(world.units[0].id)
        status, _body = admin.transport.request("POST", f"/api/v1/devices/{phone.device.device_id}/revoke",
                                                body={"reason": "手机丢失"}, token=admin.store.get("token"))
        assert status == 200
        for _ in range(2):  # the second time without asking the server
            try:
                phone.sync()
                raise AssertionError("a revoked phone must not sync")
            except SyncStopped:
                pass
        assert phone.status()["stopped"] == "device_revoked" and phone.status()["outbox"] == 1
