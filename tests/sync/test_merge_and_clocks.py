"""Concurrent edits, workflow commands and clocks a day off."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.findings.models import Finding
from server.orders.models import Order, OrderStatus
from server.sync.models import SyncConflict
from tests.world import finding_fields, order_for_unit_finding, respond


def test_concurrent_text_edits_keep_the_later_one_and_record_the_loser(world, phone, session, clock):
    alice, sup = phone("alice"), phone("sup")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.sync()
    sup.pull()
    alice.update("finding", finding, {"description": "周一离线修改"})  # made first, pushed last
    clock.advance(dt.timedelta(hours=2))
    sup.update("finding", finding, {"description": "周一下午督查修改"})
    sup.sync()
    result = alice.push()[0]
    assert result["outcome"] == "merged"
    assert result["server"]["description"] == "周一下午督查修改"
    session.rollback()  # a fresh transaction sees what the requests committed
    assert session.get(Finding, uuid.UUID(finding)).description == "周一下午督查修改"
    conflict = session.scalar(sa.select(SyncConflict))
    assert conflict.kind == "concurrent_edit" and conflict.detail["lost"] == {"description": "周一离线修改"}
    alice.pull()
    assert alice.store.record("finding", finding)["description"] == "周一下午督查修改"


def _scenario(world, phone, session, clock, skew):  # type: ignore[no-untyped-def]
    """Alice edits offline in the morning with a skewed clock; the supervisor edits at noon."""
    alice, sup = phone("alice", skew=skew), phone("sup")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    assert [r["outcome"] for r in alice.push()] == ["applied"], skew
    alice.pull()
    sup.pull()
    clock.advance(dt.timedelta(hours=1))
    alice.update("finding", finding, {"description": "上午修改", "location_text": "西侧墙边"})
    clock.advance(dt.timedelta(hours=3))
    sup.update("finding", finding, {"description": "中午修改"})
    sup.sync()
    clock.advance(dt.timedelta(hours=3))
    alice.sync()
    session.rollback()  # a fresh transaction sees what the requests committed
    row = session.get(Finding, uuid.UUID(finding))
    return row.description, row.location_text, alice.store.record("finding", finding)["description"]


def test_device_clocks_a_day_off_change_nothing(world, phone, session, clock):
    start = clock.now()
    outcomes = []
    for skew in (dt.timedelta(0), dt.timedelta(hours=24), dt.timedelta(hours=-24)):
        clock.set(start)
        outcomes.append(_scenario(world, phone, session, clock, skew))
    assert outcomes == [("中午修改", "西侧墙边", "中午修改")] * 3


def test_rejecting_a_closed_order_is_a_conflict_not_an_overwrite(world, phone, session):
    alice, liaison, sup = phone("alice"), phone("liaison"), phone("sup")
    order_id = order_for_unit_finding(world, alice, liaison)
    assert respond(liaison, order_id, "已清理杂物")["outcome"] == "applied"
    sup.pull()
    sup.command("order", order_id, "verify", {"note": "复查合格"})
    assert sup.push()[0]["outcome"] == "applied"
    alice.pull()
    alice.command("order", order_id, "reject", {"reason": "仍有杂物"})  # alice had not seen the close
    result = alice.push()[0]
    assert result["outcome"] == "conflict" and result["problem"]["code"] == "illegal_transition"
    assert result["server"]["status"] == "closed"
    session.rollback()  # a fresh transaction sees what the requests committed
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.CLOSED
    conflict = session.scalar(sa.select(SyncConflict))
    assert conflict.needs_person and conflict.detail["mutation"]["command"] == "reject"


def test_a_liaison_cannot_respond_for_another_unit(world, phone):
    alice, other = phone("alice"), phone("liaison2")
    order_id = order_for_unit_finding(world, alice, phone("sup"))
    result = respond(other, order_id, "不是我们的")
    assert result["outcome"] == "rejected" and result["problem"]["code"] == "not_in_scope"


def test_a_finding_waits_for_its_photos_and_pull_names_the_missing_ones(world, phone, session):
    from server.attachments.models import Photo
    from server.findings.models import FindingStatus

    alice = phone("alice")
    sha = "ab" * 32
    finding = alice.create("finding", finding_fields(world.units[0].id, photos=[sha]))
    alice.push()
    session.rollback()  # a fresh transaction sees what the requests committed
    assert session.get(Finding, uuid.UUID(finding)).status is FindingStatus.AWAITING_MEDIA
    body = alice._call("GET", "/api/v1/sync/pull", params={"cursor": ""})
    assert body["missing_photos"] == [sha]
    session.rollback()
    session.add(Photo(sha256=sha, size_bytes=1, content_type="image/jpeg", width=1, height=1,
                      received_at=dt.datetime.now(dt.timezone.utc)))
    session.commit()
    assert alice._call("GET", "/api/v1/sync/pull", params={"cursor": ""})["missing_photos"] == []
    alice.create("photo", {"sha256": sha, "finding_id": finding})  # naming it again adds nothing
    alice.push()
    session.rollback()  # a fresh transaction sees what the requests committed
    finding_row = session.get(Finding, uuid.UUID(finding))
    from server.attachments.services import refresh_media_status

    refresh_media_status(session, finding_row)
    assert finding_row.status is FindingStatus.COMPLETE
