"""A fortnight of simulated work driven through the order services with a moving clock: findings
every morning (some with no unit yet, assigned later; some found again where an order was
closed), answers and checks in the afternoon, the escalation sweep every night. The bulletin
for the fortnight must equal what the test counted as it went."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from server.findings.models import Finding, FindingStatus, Severity
from server.orders import escalation, services
from server.orders.models import Order, OrderStatus
from tests.assessment.conftest import bearer  # noqa: F401  (a fixture)
from tests.factories import PASSWORD
from tests.orders.conftest import local

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
#: The default policy's measure words; 暴露垃圾 has none, so it counts in 起.
WORDS = {"乱堆杂物": ("清理乱堆杂物", "起"), "野广告": ("清除野广告", "条"),
         "占道经营": ("治理占道经营", "人次"), "暴露垃圾": ("", "起")}
UNASSIGNED = "待分派"


@pytest.fixture
def fortnight(app, session, clock, world):  # type: ignore[no-untyped-def]
    rng = random.Random(17)
    names = {u.id: u.name for u in world.units}
    responders = {world.units[0].id: world.users["liaison"], world.units[1].id: world.users["liaison2"],
                  world.units[2].id: world.users["sup"]}
    finding_unit: dict[uuid.UUID, int | None] = {}
    category_of: dict[uuid.UUID, str] = {}
    place: dict[uuid.UUID, tuple[float, float]] = {}
    closed: dict[uuid.UUID, dt.datetime] = {}  # order → when
    climbed: set[uuid.UUID] = set()
    rebounds: set[uuid.UUID] = set()
    orders: list[uuid.UUID] = []
    assigned: set[uuid.UUID] = set()  # findings first without a unit
    steps = 0
    spot = 0

    def new_finding(unit_id: int | None, category: str, at: tuple[float, float] | None = None) -> Order:
        nonlocal spot
        spot += 1
        latitude, longitude = at or (32.0 + spot * 0.01, 109.0)
        finding = Finding(id=uuid.uuid4(), campaign_id=world.campaign.id, unit_id=unit_id, category=category,
                          description="现场发现", severity=Severity.NORMAL, status=FindingStatus.COMPLETE,
                          latitude=latitude, longitude=longitude, reported_by=world.users["alice"].id,
                          observed_at=clock.now(), version=1, field_meta={})
        session.add(finding)
        session.flush()
        # Found again where an order of the same unit and problem was closed (the test's own rule).
        again = unit_id is not None and any(
            finding_unit[o_finding] == unit_id and category_of[o_finding] == category
            and place[o_finding] == (latitude, longitude) and when >= clock.now() - dt.timedelta(days=30)
            for o_finding, when in ((session.get(Order, o).finding_id, t) for o, t in closed.items()))
        order = services.raise_order(session, clock, finding, actor_id=world.users["alice"].id)
        finding_unit[finding.id], category_of[finding.id], place[finding.id] = unit_id, category, (latitude, longitude)
        orders.append(order.id)
        if again:
            rebounds.add(order.id)
        return order

    with app.app_context():
        day = START
        while day <= END:
            clock.set(local(day.year, day.month, day.day, 9, 0))
            for _ in range(rng.randrange(2, 6)):
                unit_id = rng.choice([*names, None])
                new_finding(unit_id, rng.choice(list(WORDS)))
            # Found again at the place of an order closed earlier.
            done = [o for o in closed if finding_unit[session.get(Order, o).finding_id] is not None]
            if done and rng.random() < 0.5:
                earlier = session.get(Order, rng.choice(done))
                finding = session.get(Finding, earlier.finding_id)
                new_finding(earlier.unit_id, finding.category, (finding.latitude, finding.longitude))
            session.commit()

            clock.set(local(day.year, day.month, day.day, 11, 0))
            for order in session.scalars(sa.select(Order).where(Order.status == OrderStatus.TRIAGE)):
                if rng.random() < 0.5:
                    unit_id = rng.choice(list(names))
                    assigned.add(order.finding_id)
                    services.assign(session, clock, order, world.users["sup"], unit_id=unit_id)
                    finding_unit[order.finding_id] = unit_id
            session.commit()

            clock.set(local(day.year, day.month, day.day, 16, 0))
            for order in session.scalars(sa.select(Order).where(Order.status == OrderStatus.ISSUED)
                                         .order_by(Order.id)).all():
                if rng.random() < 0.15:
                    services.respond(session, clock, order, responders[order.unit_id], response_id=uuid.uuid4(),
                                     measures="已清理")
            for order in session.scalars(sa.select(Order).where(Order.status == OrderStatus.RESPONDED)
                                         .order_by(Order.id)).all():
                if rng.random() < 0.7:
                    services.verify(session, clock, order, world.users["alice"])
                    closed[order.id] = clock.now()
            session.commit()

            clock.set(local(day.year, day.month, day.day, 23, 30))
            levels = dict(session.execute(sa.select(Order.id, Order.level)).all())
            steps += escalation.escalate_overdue(session, clock).steps
            session.commit()
            climbed |= {i for i, level in session.execute(sa.select(Order.id, Order.level)) if level > levels[i]}
            day += dt.timedelta(days=1)
        clock.set(local(2026, 11, 16, 8, 0))
        late = {i for i, due in session.execute(sa.select(Order.id, Order.due_at)
                                                 .where(Order.status == OrderStatus.ISSUED))
                if due is not None and due < clock.now()}
    return {"names": names, "finding_unit": finding_unit, "category_of": category_of, "orders": orders,
            "closed": closed, "climbed": climbed, "late": late, "rebounds": rebounds, "assigned": assigned,
            "steps": steps}


def test_the_fortnights_bulletin_equals_the_work_counted_as_it_happened(client, bearer, session, fortnight):  # noqa: F811
    f = fortnight
    response = client.get(f"/api/v1/bulletins?start={START}&end={END}", headers=bearer("sup", PASSWORD))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    finding_of = dict(session.execute(sa.select(Order.id, Order.finding_id)).all())

    def unit_name(order_or_finding: uuid.UUID, *, finding: bool = False) -> str:
        unit_id = f["finding_unit"][order_or_finding if finding else finding_of[order_or_finding]]
        return f["names"].get(unit_id, UNASSIGNED)

    def category(order_id: uuid.UUID) -> str:
        return f["category_of"][finding_of[order_id]]

    overdue = f["climbed"] | f["late"]
    on_time = set(f["closed"]) - f["climbed"]
    expected = {
        "found": (Counter(f["category_of"].values()),
                  Counter(unit_name(i, finding=True) for i in f["finding_unit"])),
        **{name: (Counter(category(o) for o in ids), Counter(unit_name(o) for o in ids))
           for name, ids in (("rectified", set(f["closed"])), ("escalated", f["climbed"]), ("overdue", overdue),
                             ("on_time", on_time), ("rebounds", f["rebounds"]))},
    }
    for measure, (by_category, by_unit) in expected.items():
        assert body["totals"][measure] == sum(by_category.values()), measure
        assert {r["name"]: r[measure] for r in body["by_category"] if r[measure]} == dict(by_category), measure
        assert {r["name"]: r[measure] for r in body["by_unit"] if r[measure]} == dict(by_unit), measure
    for measure in expected:
        assert body["totals"][measure] > 0, f"the fortnight should exercise {measure}"
    # Findings reported without a unit and assigned since count under their unit (above), and
    # orders that climbed twice count once.
    assert f["assigned"] and f["steps"] > len(f["climbed"])
    assert sum(r["escalated"] for r in body["by_level"]) == f["steps"]

    assert (body["ordered"], body["ordered_closed"]) == (len(f["orders"]), len(f["closed"]))
    assert body["rectification_rate"] == pytest.approx(len(f["closed"]) / len(f["orders"]))
    assert body["on_time_rate"] == pytest.approx(len(on_time) / len(f["closed"]))
    words = {r["name"]: (r["action"], r["word"]) for r in body["by_category"]}
    assert words == {c: WORDS[c] for c in words}

    page = client.get(f"/api/v1/bulletins/html?start={START}&end={END}", headers=bearer("sup", PASSWORD))
    text = page.get_data(as_text=True)
    rectified = expected["rectified"][0]
    for name, (action, word) in WORDS.items():
        if rectified[name] and action:
            assert f"{action}{rectified[name]}{word}" in text
    assert f"升级督办{len(f['climbed'])}起" in text and f"反弹{len(f['rebounds'])}起" in text
