"""A fortnight of patrol work ending today, made with a moving clock the way the people at work
would have made it: the inspectors on their phones, the units and the office at the console.

- **Inspectors** each carry a phone of the reference client (:class:`sample_client.Device`,
  with its own local store, outbox and sequence) registered as their device. What they do is
  captured on it and reaches the server as its sync push, numbered, timed and settled by the
  client's own code: every morning findings, each naming its before-photo by SHA-256; a visit
  (检查) with its checklist answers; in the evening 复查 (``verify``) or 退回 (``reject``) of the
  answered orders of their team's units. A street finding with no unit is sent with its
  position only, as a phone sends it: the server routes it to the unit whose zone holds it
  (门前四包), or leaves it in triage. As the client's engine does, records go first and photos
  after: the finding's create raises its order at once and the finding waits in
  ``awaiting_media`` until its photo arrives, which happens through
  :func:`server.attachments.services.receive_photo` with the phone and its owner, where every
  finished tus upload ends (:func:`server.attachments.uploads.finish`).
- **Liaisons** (the supervisor, for a unit without one) answer at the console, with an
  after-photo uploaded first; the **supervisor** assigns triage orders, parks and voids there.
  Each is the console's own step (:mod:`server.orders.steps`: scope, write rule, service, one
  commit), from a browser registered as the console's login registers it.
- **Every night** the escalation sweep and the reminders run, as the scheduler would. Two
  units never answer and the office lets the ladder (督办) climb for them; one ignores a
  four-hour problem from the first morning, so whatever holidays the fortnight holds, orders
  stand overdue at every level. The last morning leaves an order in each status whatever the
  dice said; the day ends at the real time of the load, and a bulletin is issued for the
  fortnight.

The phones reach the server in-process (:class:`_Link`): it does what ``POST
/api/v1/sync/push`` does once the token is checked (``server.sync.views.push``) — the body
read by the protocol's schema, the push service, one commit, the answer in the protocol's
schema. Not over HTTP (:class:`sample_client.WSGITransport`) on purpose: the demo loads inside
the ``xuncha demo`` / ``xuncha dev`` command's app context, and a WSGI request made from there
shares that context, its request-scoped session and its cached scope with every other request
(Flask pushes no context of its own when one is active); the server's clock would have to be
swapped for the moving one; and every phone would log in, one argon2 hash each. What the push
writes is the same either way: the records, their receipts and feed, the device's sync state.

Deterministic: every id, choice and photo comes from one seeded generator, and orders are
taken in the order their findings were made, never by their (random) ids. Made once: only
while the demo campaign has no findings yet (the loader's rule, never change what exists,
holds for work someone did while trying the app).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import uuid
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

import media
from sample_client.device import Device
from server.attachments.services import receive_photo
from server.auth import scope
from server.auth.models import Role, User
from server.auth.services import DeviceInfo, register_device
from server.campaigns.models import Campaign
from server.clock import FrozenClock
from server.findings.models import Finding
from server.orders import escalation, services, steps
from server.orders.models import Order, OrderStatus
from server.reports.services import issue_bulletin
from server.rounds.models import Assignment, Round, TeamMember
from server.standards.models import StandardItem
from server.sync.push import push
from server.units.models import Zone, ZoneKind
from sync_protocol.messages import PushRequestSchema, PushResponseSchema

DAYS = 14
#: Problems with their measure words in the default policy, as patrols report them.
CATEGORIES = ("乱堆杂物", "野广告", "占道经营", "暴露垃圾")
PLACES = ("巴山中路", "兴安公园南门", "香溪路口", "金州广场", "育才路", "汉江大道")
SEVERITIES = ("normal", "normal", "serious", "urgent")
#: Where street findings without a unit are made: south of every demo zone, so they wait in triage.
TRIAGE_LATITUDES, TRIAGE_LONGITUDES = (32.672, 32.680), (109.02, 109.05)
#: Fixed, so every demo looks the same.
SEED = 2008
PUSH_PATH = "/api/v1/sync/push"
#: Mutations per push; the server's XUNCHA_SYNC_MAX_BATCH is 1000 by default.
BATCH = 500


def load_fortnight(session: Session, now: dt.datetime, campaign: Campaign, round_: Round,
                   users: dict[str, User], storage: media.Storage, limits: media.Limits) -> dict[str, int]:
    """Make the fortnight ending at ``now`` unless the campaign has findings already; returns
    what was made. Commits step by step, as the work would have been."""
    if session.scalar(sa.select(sa.func.count()).select_from(Finding)
                      .where(Finding.campaign_id == campaign.id)):
        return {}
    zone = ZoneInfo(campaign.timezone)
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=DAYS)
    # The phones are registered the morning the work begins.
    clock = FrozenClock(dt.datetime(first.year, first.month, first.day, 8, tzinfo=zone))
    work = _Work(session, clock, campaign, round_, users, storage, limits, zone)
    work.at(first, 9)
    # Left unanswered from the first morning, on a four-hour limit: whatever holidays the
    # fortnight holds, its order has time to climb every level of the ladder.
    work.finding(min(work.silent), category="暴露垃圾", severity="urgent")
    for offset in range(DAYS, 0, -1):
        work.day(today - dt.timedelta(days=offset))
    work.today(now)
    supervisor = users["supervisor"]
    issue_bulletin(session, work.clock, campaign, first, today - dt.timedelta(days=1), supervisor)
    session.commit()
    work.made["bulletins"] += 1
    return dict(work.made)


class _Link:
    """A phone's way to the server, in-process: ``POST /api/v1/sync/push`` as the server answers
    it for this user's token on this device. The only request the demo's phones make."""

    def __init__(self, session: Session, clock: FrozenClock, user: User, device_id: uuid.UUID) -> None:
        self.session, self.clock, self.user, self.device_id = session, clock, user, device_id

    def exchange(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                 token: str | None = None) -> tuple[int, Any, dict[str, str]]:
        if (method, path) != ("POST", PUSH_PATH):
            raise NotImplementedError(f"the demo's phones only push, not {method} {path}")
        answer = push(self.session, self.clock, self.user, self.device_id, PushRequestSchema().load(body),
                      max_batch=BATCH)
        self.session.commit()
        return 200, PushResponseSchema().dump(answer), {}

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _headers = self.exchange(method, path, **kwargs)
        return status, body

    def send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError("the demo receives photos as a finished upload does (see the module docstring)")


class _Phone:
    """An inspector's phone: the reference client's device, and the photos it took and has not
    uploaded yet."""

    def __init__(self, work: _Work, user: User, device_id: uuid.UUID) -> None:
        self.work, self.user, self.device_id = work, user, device_id
        self.device = Device(_Link(work.session, work.clock, user, device_id), device_id=device_id,
                             clock=work.clock.now, batch_size=BATCH)
        self.photos: dict[str, bytes] = {}

    def photo(self, data: bytes) -> str:
        """Keep a photo for upload; it is named by its SHA-256, as records name it."""
        sha256 = hashlib.sha256(data).hexdigest()
        self.photos[sha256] = data
        return sha256

    def sync(self) -> list[dict[str, Any]]:
        """Push the outbox, then upload the photos (records first, as the client's engine does).
        Everything the demo's phones send must apply: a refusal is a mistake in the demo."""
        results = self.device.push()
        refused = [r for r in results if r["outcome"] != "applied"]
        if refused:
            raise RuntimeError(f"the server refused what {self.user.username}'s phone sent: {refused}")
        for data in self.photos.values():
            self.work.receive(data, self.user, self.device_id)
        self.photos.clear()
        self.work.session.commit()
        return results


class _Work:
    def __init__(self, session: Session, clock: FrozenClock, campaign: Campaign, round_: Round,
                 users: dict[str, User], storage: media.Storage, limits: media.Limits, zone: ZoneInfo) -> None:
        self.session, self.clock, self.campaign, self.round = session, clock, campaign, round_
        self.users, self.storage, self.limits, self.zone = users, storage, limits, zone
        self.rng = random.Random(SEED)
        self.made: Counter[str] = Counter()
        self.reaches: dict[int, scope.Reach] = {}
        # The liaisons' units first: their accounts then have orders to answer.
        liaison_units = [u.unit_id for _, u in sorted(users.items()) if u.unit_id is not None]
        assigned = list(session.scalars(sa.select(Assignment.unit_id).where(Assignment.round_id == round_.id)
                                        .order_by(Assignment.unit_id)))
        self.units = liaison_units + [u for u in assigned if u not in liaison_units][:10]
        #: Units that leave their orders unanswered, and the office lets the ladder (督办) climb.
        self.silent = set(self.units[-2:])
        # Each inspector's phone; who works on each unit (its team), and which team that is.
        inspectors = [u for _, u in sorted(users.items()) if u.role is Role.INSPECTOR]
        self.phones = {u.id: _Phone(self, u, register_device(session, clock, u, DeviceInfo(
            id=self.new_id(), name=f"{u.display_name}的手机", platform="android", app_version="demo")).id)
            for u in inspectors}
        self.crew: dict[int, list[_Phone]] = {}
        self.team_of: dict[int, int] = {}
        self.visits: dict[int, list[int]] = {u.id: [] for u in inspectors}
        for unit_id, team_id, user_id in session.execute(
                sa.select(Assignment.unit_id, Assignment.team_id, TeamMember.user_id)
                .join(TeamMember, TeamMember.team_id == Assignment.team_id)
                .where(Assignment.round_id == round_.id).order_by(Assignment.unit_id, TeamMember.user_id)):
            if user_id in self.phones:
                self.crew.setdefault(unit_id, []).append(self.phones[user_id])
                self.team_of[unit_id] = team_id
                self.visits[user_id].append(unit_id)
        # A console login registers the browser as a device; the console's steps name it.
        self.browsers = {u.id: register_device(session, clock, u, DeviceInfo(
            id=self.new_id(), name="浏览器", platform="web")).id
            for _, u in sorted(users.items()) if u.role in (Role.SUPERVISOR, Role.LIAISON)}
        # 门前四包: a problem in front of a unit is reported where it is, and routed to the unit.
        self.frontages = {z.unit_id: z for z in session.scalars(
            sa.select(Zone).where(Zone.campaign_id == campaign.id, Zone.kind == ZoneKind.FRONTAGE)
            .order_by(Zone.code))}
        self.items = list(session.scalars(sa.select(StandardItem.id).where(
            StandardItem.standard_id == round_.standard_id).order_by(StandardItem.position)))
        session.commit()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.clock.set(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone))

    def day(self, day: dt.date) -> None:
        rng, supervisor = self.rng, self.users["supervisor"]
        self.at(day, 9, 30)
        for _ in range(rng.randrange(3, 6)):
            self.finding(rng.choice([*self.units, *self.units, None]))
        self.sync()

        self.at(day, 10)
        phones = list(self.phones.values())
        self.visit(phones[day.toordinal() % len(phones)])

        self.at(day, 11)
        for order in self.orders(OrderStatus.TRIAGE):
            if rng.random() < 0.6:
                unit_id = rng.choice(self.units)
                self.console(supervisor, order, "order.assign", lambda s, o, f, u: services.assign(
                    s, self.clock, o, u, unit_id=unit_id, device_id=self.browsers[u.id]))

        self.at(day, 15)
        for order in self.heeded(OrderStatus.ISSUED):
            if rng.random() < 0.35:
                self.respond(order)

        self.at(day, 17)
        for order in self.orders(OrderStatus.RESPONDED):
            roll = rng.random()
            phone = rng.choice(self.crew[order.unit_id])
            if roll < 0.55:
                phone.device.command("order", str(order.id), "verify", {"note": "复查合格，予以销号"})
            elif roll < 0.8:
                phone.device.command("order", str(order.id), "reject", {"reason": "复查仍有问题，退回返工"})
        self.sync()
        for order in self.heeded(OrderStatus.ISSUED):
            roll = rng.random()
            if roll < 0.03:
                self.park(order)
            elif roll < 0.05:
                self.void(order)

        self.at(day, 23, 30)
        self.night()

    def today(self, now: dt.datetime) -> None:
        """This morning's work, not yet looked at: a finding waiting for triage, answers waiting
        for 复查, an order parked and one voided; then the sweep at ``now``."""
        self.clock.set(now - dt.timedelta(hours=2))
        self.finding(None)
        for unit_id in self.units[:5]:
            self.finding(unit_id)
        self.sync()
        # Whatever the fortnight held, every status has an order: the units answered these,
        # and the office banked (挂账) and voided one each.
        issued = self.heeded(OrderStatus.ISSUED)
        for order in issued[:3]:
            self.respond(order)
        self.park(issued[3])
        self.void(issued[4])
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
                                         .order_by(Finding.observed_at, Finding.id, Order.issued_at)))

    def heeded(self, status: OrderStatus) -> list[Order]:
        """The orders in ``status`` of the units that do answer theirs."""
        return [order for order in self.orders(status) if order.unit_id not in self.silent]

    # -- on the phones ---------------------------------------------------------------------------

    def sync(self) -> None:
        """Every phone with something to send syncs; what the server took is counted."""
        for phone in self.phones.values():
            if phone.device.unsent() or phone.photos:
                self.made["photos"] += len(phone.photos)
                for result in phone.sync():
                    if result["op"] == "create":
                        self.made[{"finding": "findings", "visit": "visits", "answer": "answers"}[result["entity"]]] += 1

    def finding(self, unit_id: int | None, *, category: str | None = None, severity: str | None = None) -> None:
        """A finding with its before-photo, captured on the phone of someone who works on the
        unit. In front of a unit (门前四包) it is sent by its position only; the server finds
        the unit. A street finding elsewhere has no unit and waits for the supervisor."""
        rng = self.rng
        category, place = category or rng.choice(CATEGORIES), rng.choice(PLACES)
        phone = rng.choice(self.crew[unit_id] if unit_id is not None else list(self.phones.values()))
        frontage = self.frontages.get(unit_id) if unit_id is not None else None
        if frontage is not None:
            unit_id, place = None, frontage.name
            latitude, longitude = (frontage.min_lat + frontage.max_lat) / 2, (frontage.min_lon + frontage.max_lon) / 2
        elif unit_id is None:
            latitude, longitude = rng.uniform(*TRIAGE_LATITUDES), rng.uniform(*TRIAGE_LONGITUDES)
        else:
            latitude, longitude = 32.68 + rng.random() * 0.02, 109.02 + rng.random() * 0.03
        sha256 = phone.photo(self.jpeg(f"{category}\n{place}", (180, 90, 60)))
        phone.device.create("finding", {
            "round_id": self.round.id, "unit_id": unit_id, "category": category,
            "description": f"{place}发现{category}", "severity": severity or rng.choice(SEVERITIES),
            "latitude": latitude, "longitude": longitude, "location_text": place, "photos": [sha256]},
            record_id=str(self.new_id()))

    def visit(self, phone: _Phone) -> None:
        """A visit to one of the team's units: opened, its checklist answered, closed 40 minutes
        later (检查记录); then the phone syncs."""
        units = self.visits[phone.user.id]
        if not units or not self.items:
            return
        rng = self.rng
        unit_id = units[rng.randrange(len(units))]
        visit_id = str(self.new_id())
        phone.device.create("visit", {"round_id": self.round.id, "unit_id": unit_id, "team_id": self.team_of[unit_id],
                                      "started_at": self.clock.now().isoformat(), "methods": "实地查看"},
                            record_id=visit_id)
        for item_id in rng.sample(self.items, min(4, len(self.items))):
            failed = rng.random() < 0.3
            phone.device.create("answer", {
                "visit_id": visit_id, "item_id": item_id, "result": "fail" if failed else "pass",
                "instances": rng.randrange(1, 4) if failed else 0, "note": "现场存在问题" if failed else ""},
                record_id=str(self.new_id()))
        self.clock.advance(dt.timedelta(minutes=40))
        phone.device.update("visit", visit_id, {"ended_at": self.clock.now().isoformat(), "status": "submitted"})
        self.sync()

    # -- at the console ----------------------------------------------------------------------------

    def console(self, user: User, order: Order, action: str, act: steps.Act) -> None:
        if user.id not in self.reaches:
            self.reaches[user.id] = scope.reach_of(self.session, user)
        steps.take(self.session, self.reaches[user.id], user, order.id, action, act)

    def respond(self, order: Order) -> None:
        """The unit's liaison answers with an after-photo (the supervisor, for a unit without one);
        the photo is uploaded before the form is sent, as the console's page does."""
        responder = next((u for u in self.users.values() if u.unit_id == order.unit_id), self.users["supervisor"])
        browser = self.browsers[responder.id]
        sha256 = self.receive(self.jpeg("整改后", (60, 150, 90)), responder, browser)
        self.made["photos"] += 1
        response_id = self.new_id()
        self.console(responder, order, "order.respond", lambda s, o, f, u: steps.respond(
            s, self.clock, o, u, response_id=response_id, measures="已组织人员清理整改", photos=[sha256],
            device_id=browser))
        self.made["responses"] += 1

    def void(self, order: Order) -> None:
        self.console(self.users["supervisor"], order, "order.void", lambda s, o, f, u: services.void(
            s, self.clock, o, u, reason="重复上报", device_id=self.browsers[u.id]))

    def park(self, order: Order) -> None:
        review_at = self.clock.now() + dt.timedelta(days=30)
        self.console(self.users["supervisor"], order, "order.park", lambda s, o, f, u: services.park(
            s, self.clock, o, u, review_at=review_at, reason="需纳入年度改造计划", device_id=self.browsers[u.id]))

    # -- photos ------------------------------------------------------------------------------------

    def receive(self, data: bytes, user: User, device_id: uuid.UUID) -> str:
        """A photo uploaded by ``user`` from ``device_id``, received as a finished upload is."""
        return receive_photo(self.session, self.clock, self.storage, data, limits=self.limits,
                             timezone=str(self.zone), device_id=device_id, user_id=user.id).sha256

    def jpeg(self, caption: str, colour: tuple[int, int, int]) -> bytes:
        """A JPEG of the scene, different every time."""
        image = Image.new("RGB", (640, 480), colour)
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = self.rng.randrange(600), self.rng.randrange(440)
            draw.rectangle((x, y, x + self.rng.randrange(20, 120), y + self.rng.randrange(20, 90)),
                           fill=tuple(self.rng.randrange(256) for _ in range(3)))
        draw.text((20, 20), f"{self.clock.now():%Y-%m-%d %H:%M}", fill=(255, 255, 255))
        data = io.BytesIO()
        image.save(data, "JPEG", quality=80)
        return data.getvalue()
