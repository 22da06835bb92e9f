"""A fortnight of patrol work ending today, made through the real services with a moving clock.

Every morning the inspectors report findings with photos (generated JPEGs through the photo
pipeline into the media store); in the afternoon units respond, and inspectors verify or reject;
the supervisor parks, voids and assigns; every night the escalation sweep and the reminders run,
as the scheduler would. The last day ends at the real time of the load, and a bulletin is issued
for the fortnight. So the orders span every status and the escalation ladder has climbed.

Made once: only while the demo campaign has no findings yet (the loader's rule, never change
what exists, holds for work someone did while trying the app).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

import media
from server.attachments.models import PhotoRole
from server.attachments.services import attach, receive_photo, refresh_media_status
from server.auth.models import User
from server.auth.services import DeviceInfo, register_device
from server.campaigns.models import Campaign
from server.clock import FrozenClock
from server.findings.models import Finding, FindingStatus, Severity
from server.orders import escalation, services
from server.orders.models import Order, OrderStatus
from server.reports.services import issue_bulletin
from server.rounds.models import Assignment, Round, TeamMember
from server.standards.models import StandardItem
from server.sync.push import push
from sync_protocol.messages import PushRequestSchema
from sync_protocol.version import PROTOCOL_VERSION

DAYS = 14
#: Problems with their measure words in the default policy, as patrols report them.
CATEGORIES = ("乱堆杂物", "野广告", "占道经营", "暴露垃圾")
PLACES = ("巴山中路", "兴安公园南门", "香溪路口", "金州广场", "育才路", "汉江大道")
#: Fixed, so every demo looks the same.
SEED = 2008


def load_fortnight(session: Session, now: dt.datetime, campaign: Campaign, round_: Round,
                   users: dict[str, User], storage: media.Storage, limits: media.Limits) -> dict[str, int]:
    """Make the fortnight ending at ``now`` unless the campaign has findings already; returns
    what was made. Commits day by day, as the work would have been."""
    if session.scalar(sa.select(sa.func.count()).select_from(Finding)
                      .where(Finding.campaign_id == campaign.id)):
        return {}
    zone = ZoneInfo(campaign.timezone)
    today = now.astimezone(zone).date()
    work = _Work(session, FrozenClock(now), campaign, round_, users, storage, limits, zone)
    for offset in range(DAYS, 0, -1):
        work.day(today - dt.timedelta(days=offset))
    work.today(now)
    supervisor = users["supervisor"]
    issue_bulletin(session, work.clock, campaign, today - dt.timedelta(days=DAYS), today - dt.timedelta(days=1),
                   supervisor)
    session.commit()
    work.made["bulletins"] += 1
    return dict(work.made)


class _Work:
    def __init__(self, session: Session, clock: FrozenClock, campaign: Campaign, round_: Round,
                 users: dict[str, User], storage: media.Storage, limits: media.Limits, zone: ZoneInfo) -> None:
        self.session, self.clock, self.campaign, self.round = session, clock, campaign, round_
        self.users, self.storage, self.limits, self.zone = users, storage, limits, zone
        self.rng = random.Random(SEED)
        self.made: Counter[str] = Counter()
        # The liaisons' units first: their accounts then have orders to answer.
        liaison_units = [u.unit_id for u in users.values() if u.unit_id is not None]
        assigned = list(session.scalars(sa.select(Assignment.unit_id).where(Assignment.round_id == round_.id)
                                        .order_by(Assignment.unit_id)))
        self.units = liaison_units + [u for u in assigned if u not in liaison_units][:10]
        self.inspectors = [u for name, u in sorted(users.items()) if name.startswith("inspector")]
        # Each inspector's phone, and the units of their team they visit in turn.
        self.phones = {u.id: [register_device(session, clock, u, DeviceInfo(
            id=uuid.UUID(int=self.rng.getrandbits(128), version=4), name=f"{u.display_name}的手机",
            platform="android", app_version="demo")).id, 0] for u in self.inspectors}
        self.visits = {u.id: list(session.scalars(
            sa.select(Assignment.unit_id).join(TeamMember, TeamMember.team_id == Assignment.team_id)
            .where(Assignment.round_id == round_.id, TeamMember.user_id == u.id).order_by(Assignment.unit_id)))
            for u in self.inspectors}
        self.items = list(session.scalars(sa.select(StandardItem.id).where(
            StandardItem.standard_id == round_.standard_id).order_by(StandardItem.position)))

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.clock.set(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone))

    def day(self, day: dt.date) -> None:
        rng, session = self.rng, self.session
        self.at(day, 9, 30)
        for _ in range(rng.randrange(3, 6)):
            self.finding(rng.choice([*self.units, *self.units, None]))
        session.commit()

        self.at(day, 10)
        self.visit(self.inspectors[day.toordinal() % len(self.inspectors)])
        session.commit()

        self.at(day, 11)
        for order in self.orders(OrderStatus.TRIAGE):
            if rng.random() < 0.6:
                services.assign(session, self.clock, order, self.users["supervisor"], unit_id=rng.choice(self.units))
        session.commit()

        self.at(day, 15)
        for order in self.orders(OrderStatus.ISSUED):
            if rng.random() < 0.35:
                self.respond(order)
        session.commit()

        self.at(day, 17)
        for order in self.orders(OrderStatus.RESPONDED):
            roll = rng.random()
            inspector = rng.choice(self.inspectors)
            if roll < 0.55:
                services.verify(session, self.clock, order, inspector, note="复查合格，予以销号")
            elif roll < 0.8:
                services.reject(session, self.clock, order, inspector, reason="复查仍有问题，退回返工")
        for order in self.orders(OrderStatus.ISSUED):
            roll = rng.random()
            if roll < 0.03:
                services.park(session, self.clock, order, self.users["supervisor"],
                              review_at=self.clock.now() + dt.timedelta(days=30), reason="需纳入年度改造计划")
            elif roll < 0.05:
                services.void(session, self.clock, order, self.users["supervisor"], reason="重复上报")
        session.commit()

        self.at(day, 23, 30)
        self.night()

    def today(self, now: dt.datetime) -> None:
        """This morning's work, not yet looked at: a finding waiting for triage, answers waiting
        for 复查, an order parked; then the sweep at ``now``."""
        self.clock.set(now - dt.timedelta(hours=2))
        self.finding(None)
        self.finding(self.units[0])
        issued = self.orders(OrderStatus.ISSUED)
        for order in issued[:3]:
            self.respond(order)
        # One more for the issue bank (挂账), so it is never empty whatever the fortnight held.
        services.park(self.session, self.clock, issued[3], self.users["supervisor"],
                      review_at=now + dt.timedelta(days=30), reason="需纳入年度改造计划")
        self.session.commit()
        self.clock.set(now)
        self.night()

    def night(self) -> None:
        self.made["escalation_steps"] += escalation.escalate_overdue(self.session, self.clock).steps
        self.made["reminders"] += escalation.send_reminders(self.session, self.clock)
        self.session.commit()
        # The sweep writes orders with Core statements: the orders this session holds are stale
        # now, and the next day's steps must start from what the sweep wrote.
        self.session.expire_all()

    def orders(self, status: OrderStatus) -> list[Order]:
        return list(self.session.scalars(sa.select(Order).join(Finding, Finding.id == Order.finding_id)
                                         .where(Order.status == status, Finding.campaign_id == self.campaign.id)
                                         .order_by(Order.id)))

    def visit(self, inspector: User) -> None:
        """A visit with its answers (检查记录), sent from the inspector's phone as a sync push."""
        units = self.visits[inspector.id]
        if not units or not self.items:
            return
        rng, now = self.rng, self.clock.now()
        visit_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        unit_id = units[rng.randrange(len(units))]
        team_id = self.session.scalar(sa.select(Assignment.team_id).where(
            Assignment.round_id == self.round.id, Assignment.unit_id == unit_id))
        mutations = [("visit", visit_id, {"round_id": self.round.id, "unit_id": unit_id, "team_id": team_id,
                                          "started_at": now.isoformat(), "status": "submitted",
                                          "ended_at": (now + dt.timedelta(minutes=40)).isoformat(),
                                          "methods": "实地查看"})]
        for item_id in rng.sample(self.items, min(4, len(self.items))):
            failed = rng.random() < 0.3
            mutations.append(("answer", uuid.UUID(int=rng.getrandbits(128), version=4), {
                "visit_id": str(visit_id), "item_id": item_id, "result": "fail" if failed else "pass",
                "instances": rng.randrange(1, 4) if failed else 0, "note": "现场存在问题" if failed else ""}))
        phone = self.phones[inspector.id]
        batch = []
        for entity, record_id, fields in mutations:
            phone[1] += 1
            batch.append({"seq": phone[1], "entity": entity, "id": str(record_id), "op": "create",
                          "fields": fields, "device_time": now.isoformat()})
        request = PushRequestSchema().load({"protocol": PROTOCOL_VERSION, "device_id": str(phone[0]),
                                            "sent_at": now.isoformat(), "mutations": batch,
                                            "telemetry": {"outbox_depth": 0, "app_version": "demo"}})
        answer = push(self.session, self.clock, inspector, phone[0], request, max_batch=len(batch))
        self.made["visits"] += 1
        self.made["answers"] += sum(r["outcome"] == "applied" and r["entity"] == "answer" for r in answer["results"])

    def finding(self, unit_id: int | None) -> None:
        rng, session = self.rng, self.session
        inspector = rng.choice(self.inspectors)
        category = rng.choice(CATEGORIES)
        place = rng.choice(PLACES)
        finding = Finding(id=uuid.UUID(int=rng.getrandbits(128), version=4), campaign_id=self.campaign.id,
                          round_id=self.round.id, unit_id=unit_id, category=category,
                          description=f"{place}发现{category}", location_text=place,
                          severity=rng.choice([Severity.NORMAL, Severity.NORMAL, Severity.SERIOUS, Severity.URGENT]),
                          latitude=32.68 + rng.random() * 0.02, longitude=109.02 + rng.random() * 0.03,
                          reported_by=inspector.id, observed_at=self.clock.now(), version=1,
                          status=FindingStatus.AWAITING_MEDIA, field_meta={})
        session.add(finding)
        session.flush()
        sha256 = self.photo(f"{category}\n{place}", (180, 90, 60))
        attach(session, self.clock, [sha256], role=PhotoRole.BEFORE, finding_id=finding.id)
        refresh_media_status(session, finding)
        services.raise_order(session, self.clock, finding, actor_id=inspector.id)
        self.made["findings"] += 1

    def respond(self, order: Order) -> None:
        responder = next((u for u in self.users.values() if u.unit_id == order.unit_id), self.users["supervisor"])
        response = services.respond(self.session, self.clock, order, responder, response_id=uuid.UUID(
            int=self.rng.getrandbits(128), version=4), measures="已组织人员清理整改")
        attach(self.session, self.clock, [self.photo("整改后", (60, 150, 90))], role=PhotoRole.AFTER,
               response_id=response.id)
        self.made["responses"] += 1

    def photo(self, caption: str, colour: tuple[int, int, int]) -> str:
        """A JPEG of the scene, different every time, through the upload pipeline."""
        image = Image.new("RGB", (640, 480), colour)
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = self.rng.randrange(600), self.rng.randrange(440)
            draw.rectangle((x, y, x + self.rng.randrange(20, 120), y + self.rng.randrange(20, 90)),
                           fill=tuple(self.rng.randrange(256) for _ in range(3)))
        draw.text((20, 20), f"{self.clock.now():%Y-%m-%d %H:%M}", fill=(255, 255, 255))
        data = io.BytesIO()
        image.save(data, "JPEG", quality=80)
        photo = receive_photo(self.session, self.clock, self.storage, data.getvalue(), limits=self.limits,
                              timezone=str(self.zone))
        self.made["photos"] += 1
        return photo.sha256
