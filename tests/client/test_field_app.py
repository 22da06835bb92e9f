"""The reference client's library against the app in-process: captures offline, sync, photos
over tus, retries, hand-over of a shared phone."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from sample_client import WSGITransport
from sample_client.app import FieldApp
from sample_client.engine import Backoff
from sample_client.errors import GaveUp, HandOverRefused
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
    phone.answer(item, "fail", instances=1, score="-1.00", note="杂物堆积")
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


