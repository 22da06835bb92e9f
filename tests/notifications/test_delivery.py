"""The outbox job against real servers: an SMTP server and a webhook receiver run by the test."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from server.notifications.services import deliver_due, notify
from server.notifications.texts import case_text
from server.notifications.webhook import verify_signature
from server.scheduling import JOBS, run_job
from tests.notifications.conftest import WEBHOOK_SECRET, free_port, login

DEADLINE = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.timezone.utc)  # 17:30 in Shanghai, a Friday


def remind(app, session, clock, user, *, unit="市审计局", finding="办公楼西侧杂物堆积墙边", key=None):  # type: ignore[no-untyped-def]
    body = case_text(unit=unit, finding=finding, level="黄色（整改通知）", deadline=DEADLINE, tz="Asia/Shanghai",
                     lead="整改期限将到，请尽快整改并上传整改后照片。")
    notices = notify(session, clock, user_ids=[user.id], kind="order.reminder", title=f"{unit}整改提醒",
                     body=body, data={"unit": unit, "deadline": DEADLINE}, dedupe_key=key, config=app.config)
    session.commit()
    return notices


def run(app, clock):  # type: ignore[no-untyped-def]
    return deliver_due(app.extensions["xuncha.db"].sessionmaker, clock, app.config)


def deliveries(session):  # type: ignore[no-untyped-def]
    session.rollback()
    return list(session.scalars(sa.select(Delivery).order_by(Delivery.id)))


def test_an_email_with_a_chinese_subject_arrives_decoded(app, session, clock, people, smtp):
    remind(app, session, clock, people["alice"])

    report = run(app, clock)

    assert (report.sent, report.messages) == (1, 1)
    [mail] = smtp.messages
    assert mail["Subject"] == "【巡查】市审计局整改提醒"
    assert mail["To"].addresses[0].display_name == "张敏"
    assert smtp.envelopes[0].rcpt_tos == ["alice@example.cn"]
    text = mail.get_content()
    assert "责任单位：市审计局" in text and "问题：办公楼西侧杂物堆积墙边" in text
    assert "整改期限：11月27日（周五）17:30" in text
    [row] = deliveries(session)
    assert row.status is DeliveryStatus.SENT and row.attempts == 1 and row.sent_at == clock.now()
    assert mail["Message-ID"] == f"<{row.message_id}@example.cn>"
    # Sent is sent: the next run has nothing to do.
    assert run(app, clock).messages == 0 and len(smtp.messages) == 1


def test_notices_due_together_for_one_person_go_out_as_one_digest(app, session, clock, people, smtp):
    remind(app, session, clock, people["alice"], unit="市审计局")
    remind(app, session, clock, people["alice"], unit="市新华书店", finding="门前占道经营")
    remind(app, session, clock, people["sup"], unit="市财政局")

    report = run(app, clock)

    assert (report.sent, report.messages) == (3, 2)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    digest = by_recipient["alice@example.cn"]
    assert digest["Subject"] == "【巡查】您有 2 条待办提醒"
    text = digest.get_content()
    assert text.startswith("您有 2 条待办提醒：")
    assert "1. 市审计局整改提醒" in text and "2. 市新华书店整改提醒" in text and "门前占道经营" in text
    assert by_recipient["sup@example.cn"]["Subject"] == "【巡查】市财政局整改提醒"
    alice_rows = [d for d in deliveries(session) if d.user_id == people["alice"].id]
    assert len({d.message_id for d in alice_rows}) == 1  # one message, both rows


def test_a_webhook_that_fails_twice_gets_the_notice_once_signed(app, session, clock, people, webhook):
    receiver = webhook(500, 500, 200)
    app.config["NOTIFY_RETRY_BASE_SECONDS"] = 60
    [notice] = remind(app, session, clock, people["bob"])  # bob has no email: webhook only
    [row] = deliveries(session)
    assert row.channel is DeliveryChannel.WEBHOOK

    assert run(app, clock).retrying == 1
    [row] = deliveries(session)
    assert (row.attempts, row.next_attempt_at, row.last_error) == (
        1, clock.now() + dt.timedelta(seconds=60), "webhook answered HTTP 500")
    assert run(app, clock).messages == 0  # not due yet: no request
    assert len(receiver.requests) == 1

    clock.advance(dt.timedelta(seconds=61))
    assert run(app, clock).retrying == 1
    [row] = deliveries(session)
    assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=120)  # backoff doubles
    clock.advance(dt.timedelta(seconds=121))
    assert run(app, clock).sent == 1
    clock.advance(dt.timedelta(hours=1))
    assert run(app, clock).messages == 0

    assert [r["status"] for r in receiver.requests] == [500, 500, 200]
    delivered = receiver.requests[-1]
    headers, body = delivered["headers"], delivered["body"]
    assert verify_signature(WEBHOOK_SECRET, headers["X-Xuncha-Timestamp"], body, headers["X-Xuncha-Signature"])
    assert not verify_signature(WEBHOOK_SECRET, headers["X-Xuncha-Timestamp"], body + b" ",
                                headers["X-Xuncha-Signature"])
    assert not verify_signature("another-secret-0123456789", headers["X-Xuncha-Timestamp"], body,
                                headers["X-Xuncha-Signature"])
    payload = receiver.bodies()[-1]
    assert payload["digest"] is False and payload["title"] == "市审计局整改提醒"
    assert payload["recipient"]["username"] == "bob"
    assert [n["id"] for n in payload["notifications"]] == [notice.id]
    assert payload["notifications"][0]["data"]["deadline"] == "2026-11-27T09:30:00+00:00"
    [row] = deliveries(session)
    assert row.status is DeliveryStatus.SENT and row.attempts == 3
    assert headers["X-Xuncha-Message"] == row.message_id == payload["id"]


def test_an_old_or_malformed_timestamp_fails_verification():
    body, timestamp = b'{"id":"x"}', "1700000000"
    from server.notifications.webhook import sign

    signature = sign(WEBHOOK_SECRET, timestamp, body)
    assert verify_signature(WEBHOOK_SECRET, timestamp, body, signature, now=1700000100)
    assert not verify_signature(WEBHOOK_SECRET, timestamp, body, signature, now=1700000000 + 301)
    assert not verify_signature(WEBHOOK_SECRET, "soon", body, signature)


def test_a_hopeless_webhook_is_dead_lettered_shown_to_admins_and_resent(app, client, session, clock, people,
                                                                         webhook):
    receiver = webhook(500)
    app.config.update(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_BASE_SECONDS=10)
    remind(app, session, clock, people["bob"])
    reports = []
    for _ in range(5):
        reports.append(run(app, clock))
        clock.advance(dt.timedelta(hours=1))
    assert [(r.retrying, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    assert len(receiver.requests) == 3
    [row] = deliveries(session)
    assert row.status is DeliveryStatus.DEAD

    admin = login(client, "root")
    listed = client.get("/api/v1/admin/deliveries?status=dead", headers=admin)
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert (item["id"], item["status"], item["attempts"], item["channel"]) == (row.id, "dead", 3, "webhook")
    assert item["last_error"] == "webhook answered HTTP 500" and item["title"] == "市审计局整改提醒"
    assert client.get("/api/v1/admin/deliveries?status=pending", headers=admin).get_json()["items"] == []
    bad = client.get("/api/v1/admin/deliveries?status=lost", headers=admin)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert client.get("/api/v1/admin/deliveries", headers=login(client, "sup")).status_code == 403
    assert client.post(f"/api/v1/admin/deliveries/{row.id}/resend", headers=login(client, "sup")).status_code == 403

    receiver.statuses[:] = [200]
    resent = client.post(f"/api/v1/admin/deliveries/{row.id}/resend", headers=admin)
    assert resent.status_code == 200
    assert (resent.get_json()["status"], resent.get_json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/admin/deliveries/{row.id}/resend", headers=admin)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert client.post("/api/v1/admin/deliveries/999999/resend", headers=admin).status_code == 404
    session.rollback()
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "notification.resent"))
    assert event.actor_id == people["admin"].id and event.entity_id == str(row.id)
    assert event.data["attempts"] == 3

    assert run(app, clock).sent == 1
    assert [r["status"] for r in receiver.requests] == [500, 500, 500, 200]


def test_an_unreachable_mail_server_is_retried_not_lost(app, session, clock, people):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, SMTP_TIMEOUT=2)
    remind(app, session, clock, people["alice"])
    assert run(app, clock).retrying == 1
    [row] = deliveries(session)
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_error.startswith("SMTP 127.0.0.1:")


def test_the_scheduler_job_delivers_to_every_configured_channel(app, session, clock, people, smtp, webhook):
    receiver = webhook(200)
    remind(app, session, clock, people["alice"])  # email and webhook
    remind(app, session, clock, people["bob"])  # no email: webhook only
    assert len(deliveries(session)) == 3

    job = next(job for job in JOBS if job.id == "notifications.deliver")
    report = run_job(app, job)

    assert (report.sent, report.messages) == (3, 3)
    assert len(smtp.messages) == 1 and len(receiver.requests) == 2
    assert {d.status for d in deliveries(session)} == {DeliveryStatus.SENT}


def test_a_small_batch_never_cuts_a_persons_digest_in_two(app, session, clock, people, webhook):
    receiver = webhook(200)
    app.config["NOTIFY_BATCH_SIZE"] = 2
    for unit in ("市审计局", "市新华书店", "市财政局"):
        remind(app, session, clock, people["alice"], unit=unit)
    remind(app, session, clock, people["bob"])

    report = run(app, clock)

    assert (report.sent, report.messages) == (4, 2)
    sizes = sorted(len(body["notifications"]) for body in receiver.bodies())
    assert sizes == [1, 3]
