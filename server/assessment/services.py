"""Reading a round out of the database into a :class:`RoundResult`, and changing its configuration."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.assessment import config as configs
from server.assessment.messages import say
from server.assessment.models import EnteredResult, RankingExclusion, RoundAssessment, TierMethod
from server.assessment.ranking import Entry, by_quotas, by_thresholds
from server.assessment.results import (EXCLUDED, NOT_VISITED, SCORED, ItemColumn, RankingGroup, RoundResult,
                                       UnitResult)
from server.assessment.scoring import AnswerFact, ItemRule, OrderFacts, round_score, score_unit
from server.audit.models import AuditEvent
from server.audit.services import record
from server.auth.models import User
from server.campaigns.models import AssessmentGroup, Campaign
from server.clock import Clock
from server.errors import ValidationFailed
from server.findings.models import Finding
from server.orders.models import Escalation, Order, OrderStatus, Response
from server.rounds.models import Assignment, Round, Team
from server.standards.models import Standard, StandardItem, StandardSection
from server.units.models import Unit
from server.visits.models import Answer, Visit


def config_for(session: Session, round_id: int) -> RoundAssessment:
    return session.get(RoundAssessment, round_id) or configs.default_config(round_id)


def exclusions_for(session: Session, round_id: int) -> list[RankingExclusion]:
    return list(session.scalars(sa.select(RankingExclusion).where(RankingExclusion.round_id == round_id)
                                .order_by(RankingExclusion.position, RankingExclusion.unit_id)))


def update_config(session: Session, clock: Clock, round_: Round, user: User | None,
                  values: dict[str, Any]) -> RoundAssessment:
    """Replace the fields given in ``values`` (``exclusions`` replaces the whole list). Does not commit."""
    current = config_for(session, round_.id)
    method = TierMethod(values.get("tier_method", current.tier_method))
    tiers = values.get("tiers", current.tiers)
    if "tier_method" in values and "tiers" not in values and method is not current.tier_method:
        raise ValidationFailed("Changing how tiers are set needs the tiers that go with it.",
                               errors=[{"field": "tiers", "message": say("tiers_with_method")}])
    configs.check_tiers(method, tiers)
    if "groups" in values:
        _check_group_tiers(session, round_, values["groups"],
                           values.get("rank_by_group", current.rank_by_group))
    if "sources" in values:
        _check_sources(session, round_, values["sources"])
    if session.get(RoundAssessment, round_.id) is None:
        session.add(current)
    if "sources" in values:
        current.sources = [{"round_id": s["round_id"], "weight": str(s["weight"])} for s in values["sources"]]
    current.tier_method = method
    current.tiers = configs.stored_tiers(tiers)
    if "groups" in values:
        current.group_tiers = [{"name": g["name"], "tier_method": TierMethod(g["tier_method"]).value,
                                "tiers": configs.stored_tiers(g["tiers"])} for g in values["groups"]]
    for name in ("rank_by_group", "requirements", "closing"):
        if name in values:
            setattr(current, name, values[name])
    if "order_deductions" in values:
        current.order_deductions = {k: str(v) for k, v in values["order_deductions"].items() if v is not None}
    current.updated_by = user.id if user else None
    if "exclusions" in values:
        _replace_exclusions(session, round_, values["exclusions"])
    session.flush()
    record(session, clock, "assessment.configured", actor_id=user.id if user else None, entity="round",
           entity_id=round_.id, data={"fields": sorted(values)})
    return current


def _check_sources(session: Session, round_: Round, sources: list[dict[str, Any]]) -> None:
    """Rounds of the same campaign, each once, none combining rounds itself, and this round
    not combined into another: one level, so no result depends on itself."""
    errors: list[dict[str, str]] = []
    ids = [s["round_id"] for s in sources]
    rounds = {r.id: r for r in session.scalars(sa.select(Round).where(Round.id.in_(ids)))} if ids else {}
    combining = {a.round_id: a.sources for a in session.scalars(
        sa.select(RoundAssessment).where(RoundAssessment.round_id.in_([*ids, round_.id])))}
    for index, round_id in enumerate(ids):
        found = rounds.get(round_id)
        if found is None or found.campaign_id != round_.campaign_id or round_id == round_.id:
            errors.append({"field": f"sources.{index}.round_id", "message": say("source_not_another_round")})
        elif round_id in ids[:index]:
            errors.append({"field": f"sources.{index}.round_id", "message": say("source_twice")})
        elif combining.get(round_id):
            errors.append({"field": f"sources.{index}.round_id", "message": say("source_combines_rounds")})
    if sources:
        users = [a.round_id for a in session.scalars(sa.select(RoundAssessment).where(
            RoundAssessment.round_id != round_.id)) if any(s["round_id"] == round_.id for s in a.sources or [])]
        if users:
            errors.append({"field": "sources", "message": say("source_combined_elsewhere", round=users[0])})
    if errors:
        raise ValidationFailed("The rounds cannot be combined.", errors=errors)


def _combined(session: Session, sources: list[dict[str, Any]], as_of: dt.datetime
              ) -> dict[int, tuple[Decimal, dict[str, Decimal | None]]]:
    """Per unit, its weighted mean score over the source rounds that scored it, and each source's
    score by round id. A round that did not score a unit leaves the mean: it is not a zero."""
    parts: dict[int, dict[str, Decimal | None]] = defaultdict(dict)
    weights = {str(s["round_id"]): Decimal(s["weight"]) for s in sources}
    for source in sources:
        result = assess_round(session, session.get_one(Round, source["round_id"]), as_of)
        for unit in result.units:
            if unit.status == SCORED and unit.score is not None:
                parts[unit.unit_id][str(source["round_id"])] = unit.score
    combined = {}
    for unit_id, scores in parts.items():
        total = sum((weights[r] for r in scores), Decimal(0))
        mean = sum((weights[r] * s for r, s in scores.items() if s is not None), Decimal(0)) / total
        combined[unit_id] = (round_score(mean), {r: scores.get(r) for r in weights})
    return combined


def _check_group_tiers(session: Session, round_: Round, groups: list[dict[str, Any]], rank_by_group: bool) -> None:
    """Each group named once, an assessment group of the round's campaign, with tiers that place
    every unit; and the round ranked by group, or the groups' tiers would never apply."""
    known = set(session.scalars(sa.select(AssessmentGroup.name)
                                .where(AssessmentGroup.campaign_id == round_.campaign_id)))
    errors: list[dict[str, str]] = []
    if groups and not rank_by_group:
        errors.append({"field": "groups", "message": say("groups_need_rank_by_group")})
    names = [g["name"] for g in groups]
    for index, group in enumerate(groups):
        if group["name"] not in known:
            said = say("not_a_group", groups="、".join(sorted(known))) if known else say("no_groups")
            errors.append({"field": f"groups.{index}.name", "message": said})
        elif group["name"] in names[:index]:
            errors.append({"field": f"groups.{index}.name", "message": say("group_twice")})
        errors += configs.tier_problems(TierMethod(group["tier_method"]), group["tiers"], f"groups.{index}.tiers")
    if errors:
        raise ValidationFailed("The groups' tiers cannot be used.", errors=errors)


def _replace_exclusions(session: Session, round_: Round, exclusions: list[dict[str, Any]]) -> None:
    ids = [e["unit_id"] for e in exclusions]
    in_round = set(round_unit_ids(session, round_.id))
    errors = [{"field": f"exclusions.{i}.unit_id", "message": say("excluded_not_in_round")}
              for i, unit_id in enumerate(ids) if unit_id not in in_round]
    errors += [{"field": f"exclusions.{i}.unit_id", "message": say("excluded_twice")}
               for i, unit_id in enumerate(ids) if unit_id in ids[:i]]
    if errors:
        raise ValidationFailed("The exclusions name units they cannot.", errors=errors)
    session.execute(sa.delete(RankingExclusion).where(RankingExclusion.round_id == round_.id))
    session.add_all(RankingExclusion(round_id=round_.id, unit_id=e["unit_id"], reason=e["reason"].strip(),
                                     position=i) for i, e in enumerate(exclusions))


def round_unit_ids(session: Session, round_id: int) -> list[int]:
    """The units a round assesses: those assigned to its teams, and any it visited besides."""
    assigned = sa.select(Assignment.unit_id).where(Assignment.round_id == round_id)
    visited = sa.select(Visit.unit_id).where(Visit.round_id == round_id)
    return list(session.scalars(sa.union(assigned, visited)))


# -- reading a round ---------------------------------------------------------------------------

def _items(session: Session, standard_id: int) -> list[StandardItem]:
    return list(session.scalars(
        sa.select(StandardItem).join(StandardSection, StandardSection.id == StandardItem.section_id)
        .where(StandardItem.standard_id == standard_id)
        .order_by(StandardSection.position, StandardItem.position, StandardItem.id)))


def _latest_answers(session: Session, round_id: int, items: dict[int, str]) -> dict[int, dict[str, AnswerFact]]:
    """Per unit, per item code, the answer given last in the round: a re-inspection (复查) visit
    in the same round supersedes what the first visit found."""
    rows = session.execute(
        sa.select(Visit.unit_id, Answer.item_id, Answer.result, Answer.instances, Answer.score)
        .join(Visit, Visit.id == Answer.visit_id).where(Visit.round_id == round_id)
        .order_by(Answer.answered_at, Answer.id))
    answers: dict[int, dict[str, AnswerFact]] = defaultdict(dict)
    for unit_id, item_id, result, instances, score in rows:
        if item_id in items:
            answers[unit_id][items[item_id]] = AnswerFact(result.value, instances or 0, score)
    return answers


def _order_facts(session: Session, round_id: int, as_of: dt.datetime) -> dict[int, OrderFacts]:
    """Per unit, the outcomes of the orders raised from this round's findings, as of ``as_of``."""
    orders = session.execute(
        sa.select(Order.id, Order.unit_id, Order.status, Order.due_at)
        .join(Finding, Finding.id == Order.finding_id)
        .where(Finding.round_id == round_id, Order.unit_id.is_not(None), Order.status != OrderStatus.VOIDED,
               Order.issued_at <= as_of)).all()
    if not orders:
        return {}
    ids = [o.id for o in orders]
    late = set(session.scalars(sa.select(Response.order_id).where(
        Response.order_id.in_(ids), Response.late.is_(True), Response.responded_at <= as_of)))
    steps = Counter[Any]()
    missed = set()
    for order_id, by in session.execute(sa.select(Escalation.order_id, Escalation.escalated_by).where(
            Escalation.order_id.in_(ids), Escalation.escalated_at <= as_of)):
        steps[order_id] += 1
        if by is None:  # the scheduler escalates only on a missed deadline
            missed.add(order_id)
    rejections = Counter(session.scalars(sa.select(AuditEvent.entity_id).where(
        AuditEvent.entity == "order", AuditEvent.action == "order.rejected",
        AuditEvent.entity_id.in_([str(i) for i in ids]), AuditEvent.occurred_at <= as_of)))
    per_unit: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for order in orders:
        counts = per_unit[order.unit_id]
        open_late = order.status is OrderStatus.ISSUED and order.due_at is not None and order.due_at < as_of
        counts[0] += order.id in late or order.id in missed or open_late
        counts[1] += steps[order.id]
        counts[2] += rejections[str(order.id)]
    return {unit_id: OrderFacts(*counts) for unit_id, counts in per_unit.items()}


def _methods(session: Session, round_id: int) -> list[str]:
    counts: Counter[str] = Counter()
    for text in session.scalars(sa.select(Visit.methods).where(Visit.round_id == round_id)):
        counts.update(m for m in re.split(r"[、，,；;\s]+", text or "") if m)
    return [m for m, _ in counts.most_common()]


def _enter(result: UnitResult, entered: EnteredResult, full_score: Decimal) -> None:
    """Apply what the office entered: its score replaces the phones', then the adjustment."""
    result.entered, result.note = True, entered.note
    if entered.score is not None:
        result.score = result.checklist = entered.score
        result.orders = None
    if entered.adjustment and result.score is not None:
        result.adjustment, result.adjustment_reason = entered.adjustment, entered.adjustment_reason
        result.score = min(max(result.score + entered.adjustment, Decimal(0)), full_score)
    result.status = SCORED if result.score is not None or entered.tier else NOT_VISITED


def _listing(members: list[UnitResult], tier_of: dict[int, str], tier_names: list[str],
             position: dict[int, int]) -> list[UnitResult]:
    """Best first: tier by tier; within a tier by score, then in the order the office entered
    the units (which alone orders units it gave only a tier), then by code. Sets rank and tier:
    equal scores in the same tier share a rank (1, 2, 2, 4), otherwise the rank is the place."""
    index = {name: i for i, name in enumerate(tier_names)}

    def key(r: UnitResult) -> tuple[Any, ...]:
        return (index.get(tier_of[r.unit_id], len(index)), r.score is None, -(r.score or 0),
                r.unit_id not in position, position.get(r.unit_id, 0), r.code)

    listed = sorted(members, key=key)
    for place, r in enumerate(listed, start=1):
        r.tier = tier_of[r.unit_id]
        previous = listed[place - 2] if place > 1 else None
        shares = (previous is not None and previous.tier == r.tier and r.score is not None
                  and previous.score == r.score)
        r.rank = previous.rank if shares and previous is not None else place
    return listed


def assess_round(session: Session, round_: Round, as_of: dt.datetime) -> RoundResult:
    """Score every unit of the round, rank the scored ones that are not excluded, and place them."""
    config = config_for(session, round_.id)
    standard = session.get_one(Standard, round_.standard_id)
    campaign = session.get_one(Campaign, round_.campaign_id)
    items = _items(session, standard.id)
    rules = [ItemRule(i.code, i.max_score, i.deduction_per_instance, i.weight) for i in items]
    combined = _combined(session, config.sources, as_of) if config.sources else None
    unit_ids = round_unit_ids(session, round_.id)
    if combined is not None:
        unit_ids = sorted({*unit_ids, *combined})
    units = session.execute(
        sa.select(Unit, AssessmentGroup).outerjoin(AssessmentGroup, AssessmentGroup.id == Unit.group_id)
        .where(Unit.id.in_(unit_ids)).order_by(Unit.code)).all() if unit_ids else []
    visits = dict(session.execute(sa.select(Visit.unit_id, sa.func.count()).where(Visit.round_id == round_.id)
                                  .group_by(Visit.unit_id)).all())
    answers = _latest_answers(session, round_.id, {i.id: i.code for i in items})
    facts = _order_facts(session, round_.id, as_of)
    excluded = {e.unit_id: (position, e.reason) for position, e in enumerate(exclusions_for(session, round_.id))}
    entered = {e.unit_id: e for e in session.scalars(sa.select(EnteredResult)
                                                     .where(EnteredResult.round_id == round_.id))}
    order_rule = configs.order_rule_of(config)

    results: list[UnitResult] = []
    group_order: dict[str, int] = {}
    for unit, group in units:
        group_name = group.name if group else ""
        group_order[group_name] = group.position if group else 10**6
        result = UnitResult(unit_id=unit.id, code=unit.code, name=unit.name, group=group_name,
                            status=SCORED, visits=visits.get(unit.id, 0))
        if combined is not None:
            score, parts = combined.get(unit.id, (None, {}))
            result.score, result.checklist, result.parts = score, score, parts
            if score is None:
                result.status = NOT_VISITED
        elif result.visits:
            unit_facts = facts.get(unit.id, OrderFacts())
            scored = score_unit(standard.scoring_model.value, standard.full_score, rules,
                                answers.get(unit.id, {}), order_rule, unit_facts)
            result.score, result.checklist, result.orders = scored.total, scored.checklist, scored.orders
            result.items, result.unanswered, result.failed = scored.items, scored.unanswered, scored.failed
            result.order_facts = {"overdue": unit_facts.overdue, "escalations": unit_facts.escalations,
                                  "rejections": unit_facts.rejections}
        else:
            result.status = NOT_VISITED
        if unit.id in entered:
            _enter(result, entered[unit.id], standard.full_score)
        if unit.id in excluded:
            result.status = EXCLUDED
            result.excluded_position, result.reason = excluded[unit.id]
        results.append(result)

    tiers = configs.tiers_of(config)
    own_tiers = configs.group_tiers_of(config) if config.rank_by_group else {}
    given = {unit_id: e.tier for unit_id, e in entered.items() if e.tier}
    position = {unit_id: e.position for unit_id, e in entered.items()}
    ranking: list[RankingGroup] = []
    group_names = sorted(group_order, key=lambda g: (group_order[g], g)) if config.rank_by_group else [""]
    for name in group_names:
        members = [r for r in results if r.status == SCORED and (not config.rank_by_group or r.group == name)]
        method, group_tiers = own_tiers.get(name, (config.tier_method, tiers))
        place = by_quotas if method is TierMethod.QUOTAS else by_thresholds
        placed = place([Entry(r.unit_id, r.score, r.code) for r in members
                        if r.score is not None and r.unit_id not in given], group_tiers)
        tier_of = {**{p.key: p.tier for p in placed}, **given}
        listed = _listing([r for r in members if r.unit_id in tier_of], tier_of, [t.name for t in group_tiers],
                          position)
        ranking.append(RankingGroup(name=name, unit_ids=[r.unit_id for r in listed],
                                    tiers=group_tiers if name in own_tiers else []))

    return RoundResult(
        round_id=round_.id, round_name=round_.name, campaign=campaign.name, office=campaign.office,
        standard=standard.name, scoring_model=standard.scoring_model.value, full_score=standard.full_score,
        starts_on=round_.starts_on, ends_on=round_.ends_on, as_of=as_of,
        teams=session.scalar(sa.select(sa.func.count()).select_from(Team).where(Team.round_id == round_.id)) or 0,
        methods=_methods(session, round_.id), tier_method=config.tier_method.value, tiers=tiers,
        rank_by_group=config.rank_by_group,
        items=[ItemColumn(i.code, i.text, i.category, i.max_score) for i in items],
        units=results, ranking=ranking,
        sources=[{"name": session.get_one(Round, s["round_id"]).name, "weight": str(s["weight"])}
                 for s in config.sources or []])
