"""The arithmetic of a unit's score, as pure functions over plain values (docs/reports.md states
the rules; the tests compute them by hand).

Deduction model (扣分制): start from the standard's full score; a failed item loses the points its
answer names, or else ``deduction_per_instance`` × instances (at least one), never more than the
item's maximum. An item whose rule deducts nothing per instance loses its whole maximum.

Weighted model (加权): each applicable item earns points out of its maximum (a pass earns the
maximum unless the answer names fewer, a fail earns the maximum less the deduction above unless
the answer names the points); the score is the full score × Σ weight × earned/maximum ÷ Σ weight.
不适用 items leave both sums, so a unit is never marked down for what it does not have.

In both, an item with no answer is treated as found wanting nothing and proving nothing:
no deduction in the deduction model, no points in the weighted one; it is counted as unanswered
so the score sheet shows it. Order outcomes then deduct (:func:`order_deduction`), the total
never goes below zero, and the result is rounded half-up to 0.01, the precision circulars print
and ranking compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

ZERO = Decimal(0)
CENT = Decimal("0.01")

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "na"


@dataclass(frozen=True)
class ItemRule:
    code: str
    max_score: Decimal
    deduction_per_instance: Decimal = ZERO
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class AnswerFact:
    """The answer that counts for one item (the latest given in the round)."""

    result: str
    instances: int = 0
    #: Points deducted (deduction model) or earned (weighted model), when the inspector named them.
    score: Decimal | None = None


@dataclass(frozen=True)
class OrderRule:
    """What order outcomes cost, per round; all zero unless the round's configuration says."""

    overdue: Decimal = ZERO
    escalated: Decimal = ZERO
    rejected: Decimal = ZERO
    #: The most the outcomes may deduct together; None for no cap.
    cap: Decimal | None = None


@dataclass(frozen=True)
class OrderFacts:
    #: Orders that missed a deadline (answered late, escalated by the scheduler, or still open past it).
    overdue: int = 0
    #: Escalation steps (督办 levels climbed) over the unit's orders.
    escalations: int = 0
    #: Times a rectification was sent back at 复查 (退回返工).
    rejections: int = 0


@dataclass(frozen=True)
class UnitScore:
    #: Per item code: points deducted (deduction model) or earned (weighted model); None for 不适用.
    items: dict[str, Decimal | None]
    #: The checklist's score before order outcomes.
    checklist: Decimal
    orders: Decimal
    total: Decimal
    unanswered: int = 0
    failed: int = 0
    notes: tuple[str, ...] = field(default=())


def _clamp(value: Decimal, high: Decimal) -> Decimal:
    return min(max(value, ZERO), high)


def round_score(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def item_deduction(rule: ItemRule, answer: AnswerFact | None) -> Decimal:
    if answer is None or answer.result != FAIL:
        return ZERO
    if answer.score is not None:
        return _clamp(answer.score, rule.max_score)
    if rule.deduction_per_instance <= 0:
        return rule.max_score
    return _clamp(rule.deduction_per_instance * max(answer.instances, 1), rule.max_score)


def item_points(rule: ItemRule, answer: AnswerFact | None) -> Decimal | None:
    """Points earned in the weighted model; None when the item does not apply."""
    if answer is None:
        return ZERO
    if answer.result == NOT_APPLICABLE:
        return None
    if answer.score is not None:
        return _clamp(answer.score, rule.max_score)
    if answer.result == PASS:
        return rule.max_score
    return rule.max_score - item_deduction(rule, answer)


def order_deduction(rule: OrderRule, facts: OrderFacts) -> Decimal:
    total = rule.overdue * facts.overdue + rule.escalated * facts.escalations + rule.rejected * facts.rejections
    return min(total, rule.cap) if rule.cap is not None else total


def deduction_score(full_score: Decimal, rules: Sequence[ItemRule],
                    answers: Mapping[str, AnswerFact]) -> tuple[Decimal, dict[str, Decimal | None]]:
    items: dict[str, Decimal | None] = {}
    for rule in rules:
        answer = answers.get(rule.code)
        items[rule.code] = None if answer is not None and answer.result == NOT_APPLICABLE \
            else item_deduction(rule, answer)
    return full_score - sum((v for v in items.values() if v is not None), ZERO), items


def weighted_score(full_score: Decimal, rules: Sequence[ItemRule],
                   answers: Mapping[str, AnswerFact]) -> tuple[Decimal, dict[str, Decimal | None]]:
    items: dict[str, Decimal | None] = {}
    weighted = total_weight = ZERO
    for rule in rules:
        points = item_points(rule, answers.get(rule.code))
        items[rule.code] = points
        if points is None or rule.max_score <= 0:
            continue
        weighted += rule.weight * points / rule.max_score
        total_weight += rule.weight
    # Nothing applicable: nothing was found wanting either.
    score = full_score if total_weight == 0 else full_score * weighted / total_weight
    return score, items


def score_unit(model: str, full_score: Decimal, rules: Sequence[ItemRule], answers: Mapping[str, AnswerFact],
               order_rule: OrderRule = OrderRule(), order_facts: OrderFacts = OrderFacts()) -> UnitScore:
    """``model`` is ``"deduction"`` or ``"weighted"`` (:class:`server.standards.models.ScoringModel`)."""
    if model == "deduction":
        checklist, items = deduction_score(full_score, rules, answers)
    elif model == "weighted":
        checklist, items = weighted_score(full_score, rules, answers)
    else:
        raise ValueError(f"unknown scoring model {model!r}")
    checklist = round_score(max(checklist, ZERO))
    orders = round_score(order_deduction(order_rule, order_facts))
    return UnitScore(items=items, checklist=checklist, orders=orders, total=max(checklist - orders, ZERO),
                     unanswered=sum(1 for r in rules if r.code not in answers),
                     failed=sum(1 for a in answers.values() if a.result == FAIL))
