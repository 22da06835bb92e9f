"""The assessment API on a small campaign: units not visited, validation, weighted standards,
order outcomes, ranking per group, and who may see what."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import sqlalchemy as sa

from server.assessment.models import RoundAssessment
from server.auth.models import Role
from server.orders.models import Escalation, Order, OrderStatus
from server.standards.models import ScoringModel
from tests import factories
from tests.assessment.conftest import add_finding, add_visit, items_of
from tests.factories import PASSWORD

AT = dt.datetime(2026, 10, 23, 2, 0, tzinfo=dt.timezone.utc)


def _visit(session, world, unit_index: int, answers):  # type: ignore[no-untyped-def]
    items = items_of(session, world.standard.id)
    add_visit(session, round_id=world.round.id, unit_id=world.units[unit_index].id,
              inspector_id=world.users["alice"].id, at=AT,
              answers={items[i].id: answer for i, answer in answers.items()})


def _scores(client, bearer, world):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/rounds/{world.round.id}/scores", headers=bearer("sup", PASSWORD))
    assert response.status_code == 200, response.get_json()
    return {u["name"]: u for u in response.get_json()["units"]}


def test_a_unit_not_visited_is_reported_not_scored_zero(client, bearer, session, world):
    _visit(session, world, 0, {0: ("fail", 1, Decimal(2))})
    _visit(session, world, 1, {})
    session.commit()
    units = _scores(client, bearer, world)
    assert units["市审计局"]["score"] == "98.00" and units["市审计局"]["rank"] == 2
    assert units["市新华书店"]["score"] == "100.00" and units["市新华书店"]["rank"] == 1
    assert units["市财政局"] == {**units["市财政局"], "status": "not_visited", "score": None, "rank": None,
                              "tier": None}
    headers = bearer("sup", PASSWORD)
    circular = client.post(f"/api/v1/rounds/{world.round.id}/circulars", headers=headers, json={}).get_json()
    paragraphs = [p for s in circular["document"]["sections"] for p in s["paragraphs"]]
    # Counted once in the text, named once in the attachment.
    assert "本次检查应检查3个单位，实际检查2个，1个单位未检查（名单见附件）。" in paragraphs
    assert not any("市财政局" in p for p in paragraphs)
    [table] = circular["document"]["attachments"]
    assert [row for row in table["rows"] if "市财政局" in row] == [["3", "市财政局", "", "", "未检查"]]


def test_weighted_standard_scores_by_weight(client, bearer, session, world):
    world.standard.scoring_model = ScoringModel.WEIGHTED
    items = items_of(session, world.standard.id)
    items[0].weight, items[1].weight, items[2].weight = Decimal(2), Decimal(1), Decimal(1)
    # 5-point items: item 0 earns 2.5/5, item 1 passes, item 2 does not apply.
    _visit(session, world, 0, {0: ("fail", 0, Decimal("2.5")), 1: ("pass", 0, None), 2: ("na", 0, None)})
    session.commit()
    unit = _scores(client, bearer, world)["市审计局"]
    # 100 × (2 × 0.5 + 1 × 1) / 3
    assert unit["score"] == "66.67"
    assert unit["items"] == {"1.1": "2.50", "1.2": "5.00", "1.3": None}


def test_overdue_and_escalated_orders_deduct_as_configured(client, bearer, session, clock, world):
    headers = bearer("sup", PASSWORD)
    _visit(session, world, 0, {})
    finding = add_finding(session, campaign_id=world.campaign.id, unit_id=world.units[0].id,
                          reporter_id=world.users["alice"].id, at=AT, round_id=world.round.id)
    before = clock.now() - dt.timedelta(days=2)
    order = Order(id=uuid.uuid4(), finding_id=finding.id, unit_id=world.units[0].id, level=2,
                  status=OrderStatus.ISSUED, issued_at=before, due_at=clock.now() - dt.timedelta(hours=1))
    session.add(order)
    session.flush()
    # The scheduler's step (escalated_by empty): a missed deadline, so overdue as well.
    session.add(Escalation(order_id=order.id, level=2, escalated_at=before + dt.timedelta(days=1),
                           previous_due_at=before + dt.timedelta(days=1), due_at=order.due_at))
    session.commit()
    assert _scores(client, bearer, world)["市审计局"]["score"] == "100.00"  # nothing configured yet
    response = client.put(f"/api/v1/rounds/{world.round.id}/assessment", headers=headers,
                          json={"order_deductions": {"overdue": "1", "escalated": "0.5", "cap": "10"}})
    assert response.status_code == 200, response.get_json()
    unit = _scores(client, bearer, world)["市审计局"]
    assert unit["order_facts"] == {"overdue": 1, "escalations": 1, "rejections": 0}
    assert unit["orders"] == "1.50" and unit["score"] == "98.50"


def test_ranking_per_group_with_quotas(client, bearer, session, world):
    groups = [factories.group(session, world.campaign, name=n, position=p)
              for p, n in enumerate(("重点任务组", "共性任务组"), start=1)]
    extra = [factories.unit(session, world.campaign, name=f"市测试单位{i}") for i in range(3)]
    factories.team(session, world.round, units=extra)
    for unit, group in zip([*world.units, *extra], [0, 0, 0, 1, 1, 1]):
        unit.group_id = groups[group].id
    for index, instances in ((0, 1), (1, 1), (2, 3)):
        _visit(session, world, index, {0: ("fail", 0, Decimal(instances))})
    items = items_of(session, world.standard.id)
    for unit, lost in zip(extra, (0, 2, 4)):
        add_visit(session, round_id=world.round.id, unit_id=unit.id, inspector_id=world.users["alice"].id, at=AT,
                  answers={items[0].id: ("fail", 0, Decimal(lost))} if lost else {})
    session.commit()
    headers = bearer("sup", PASSWORD)
    response = client.put(f"/api/v1/rounds/{world.round.id}/assessment", headers=headers, json={
        "tier_method": "quotas", "tiers": [{"name": "优秀", "quota": "0.34"}, {"name": "良好"}]})
    assert response.status_code == 200, response.get_json()
    units = _scores(client, bearer, world)
    # 重点任务组: 99, 99, 97 — one place for 优秀, but two tie for it: both go to 良好.
    assert [(units[n]["rank"], units[n]["tier"]) for n in ("市审计局", "市新华书店", "市财政局")] == [
        (1, "良好"), (1, "良好"), (3, "良好")]
    assert [(units[f"市测试单位{i}"]["rank"], units[f"市测试单位{i}"]["tier"]) for i in range(3)] == [
        (1, "优秀"), (2, "良好"), (3, "良好")]
    circular = client.post(f"/api/v1/rounds/{world.round.id}/circulars", headers=headers, json={}).get_json()
    ranking = circular["document"]["sections"][2]
    assert [s["heading"] for s in ranking["subsections"]] == ["重点任务组", "共性任务组"]
    assert ranking["subsections"][1]["paragraphs"] == ["1、优秀：市测试单位0。", "2、良好：市测试单位1、市测试单位2。"]


def test_bad_configuration_is_refused_and_changes_nothing(client, bearer, session, world):
    headers = bearer("sup", PASSWORD)
    url = f"/api/v1/rounds/{world.round.id}/assessment"
    cases = [
        {"tiers": [{"name": "好", "min_score": "80"}, {"name": "较好", "min_score": "90"}, {"name": "差"}]},
        {"tier_method": "quotas", "tiers": [{"name": "优秀", "quota": "0.8"}, {"name": "良好", "quota": "0.5"},
                                            {"name": "一般"}]},
        {"tiers": [{"name": "好"}, {"name": "好"}]},
        {"exclusions": [{"unit_id": 999999, "reason": "因体制问题未解决"}]},
        {"exclusions": [{"unit_id": world.units[0].id, "reason": "  "}]},
        {"tier_method": "quotas"},
        {"requirements": "要" * 20001},
    ]
    for body in cases:
        response = client.put(url, headers=headers, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"]
    # In English, as the API always said it; the console says the same in Chinese by its key.
    assert client.put(url, headers=headers, json=cases[0]).get_json()["errors"] == [
        {"field": "tiers.1.min_score", "message": "minimum scores must fall from the best tier to the worst"}]
    assert client.put(url, headers=headers, json=cases[3]).get_json()["errors"] == [
        {"field": "exclusions.0.unit_id", "message": "not a unit of this round"}]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(RoundAssessment)) == 0
    assert client.get(url, headers=headers).get_json()["tiers"][0] == {
        "name": "好", "label": "好的部门、单位", "min_score": "90.00"}


def test_who_may_do_what(client, bearer, session, hasher, world):
    sup = bearer("sup", PASSWORD)
    for username in ("alice", "liaison"):
        headers = bearer(username, PASSWORD)
        assert client.get(f"/api/v1/rounds/{world.round.id}/scores", headers=headers).status_code == 403
        assert client.post(f"/api/v1/rounds/{world.round.id}/circulars", headers=headers, json={}).status_code == 403
    other = factories.campaign(session)
    factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="stranger")
    session.commit()
    outsider = bearer("stranger", PASSWORD)
    assert client.get(f"/api/v1/rounds/{world.round.id}/scores", headers=outsider).status_code == 404
    circular = client.post(f"/api/v1/rounds/{world.round.id}/circulars", headers=sup, json={}).get_json()
    assert client.get(f"/api/v1/circulars/{circular['id']}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/circulars/{circular['id']}/html", headers=bearer("liaison", PASSWORD)).status_code == 404
    assert client.post(f"/api/v1/circulars/{circular['id']}/publish", headers=sup).status_code == 200
    assert client.get(f"/api/v1/circulars/{circular['id']}/html", headers=bearer("liaison", PASSWORD)).status_code == 200
    assert client.post(f"/api/v1/circulars/{circular['id']}/publish", headers=sup).status_code == 409
