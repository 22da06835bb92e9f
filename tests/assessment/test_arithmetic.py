"""Scoring, ranking and tiers on examples computed by hand, and properties of the quota rule."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from server.assessment.ranking import Entry, Tier, by_quotas, by_thresholds, quota_capacities, ranked
from server.assessment.scoring import AnswerFact, ItemRule, OrderFacts, OrderRule, score_unit

RULES = [ItemRule("1.1", D(6), D("0.5")), ItemRule("1.2", D(5), D(1)), ItemRule("2.1", D(5), D(5)),
         ItemRule("2.2", D(4), D(0))]


def test_deduction_model_caps_each_item_at_its_maximum():
    answers = {
        "1.1": AnswerFact("fail", instances=3),  # 3 × 0.5 = 1.5
        "1.2": AnswerFact("fail", instances=9),  # 9 × 1 = 9, capped at 5
        "2.1": AnswerFact("pass"),
        "2.2": AnswerFact("fail"),  # no per-instance rule: the whole 4
    }
    score = score_unit("deduction", D(100), RULES, answers)
    assert score.items == {"1.1": D("1.5"), "1.2": D(5), "2.1": D(0), "2.2": D(4)}
    assert score.checklist == score.total == D("89.50")  # 100 − 1.5 − 5 − 4
    assert score.failed == 3 and score.unanswered == 0


def test_deduction_named_by_the_inspector_wins_and_na_deducts_nothing():
    answers = {"1.1": AnswerFact("fail", instances=3, score=D(2)), "2.1": AnswerFact("na")}
    score = score_unit("deduction", D(100), RULES, answers)
    assert score.items["1.1"] == D(2) and score.items["2.1"] is None
    assert score.total == D(98) and score.unanswered == 2


def test_weighted_model_normalises_over_applicable_items():
    rules = [ItemRule("a", D(10), D(2), weight=D("0.25")), ItemRule("b", D(10), D(2), weight=D("0.40")),
             ItemRule("c", D(10), D(2), weight=D("0.35")), ItemRule("d", D(10), D(2), weight=D(1))]
    answers = {"a": AnswerFact("pass"),  # 10/10
               "b": AnswerFact("fail", instances=2),  # 10 − 4 = 6/10
               "c": AnswerFact("pass", score=D(5)),  # 5/10
               "d": AnswerFact("na")}  # out of both sums
    score = score_unit("weighted", D(100), rules, answers)
    # 100 × (0.25 × 1 + 0.40 × 0.6 + 0.35 × 0.5) / 1.00 = 66.5
    assert score.total == D("66.50")
    assert score.items == {"a": D(10), "b": D(6), "c": D(5), "d": None}


def test_weighted_rounds_half_up_to_cents():
    rules = [ItemRule("a", D(3), weight=D(1)), ItemRule("b", D(3), weight=D(2))]
    score = score_unit("weighted", D(100), rules, {"a": AnswerFact("pass"), "b": AnswerFact("fail")})
    assert score.total == D("33.33")  # 100 × 1/3


def test_order_outcomes_deduct_up_to_the_cap_and_never_below_zero():
    rule = OrderRule(overdue=D("0.5"), escalated=D(1), rejected=D(2), cap=D(5))
    few = score_unit("deduction", D(100), RULES, {}, rule, OrderFacts(overdue=1, escalations=1, rejections=1))
    assert few.orders == D("3.50") and few.total == D("96.50")
    many = score_unit("deduction", D(100), RULES, {}, rule, OrderFacts(overdue=10, escalations=10))
    assert many.orders == D(5) and many.total == D(95)
    tiny = score_unit("deduction", D(4), RULES, {}, OrderRule(overdue=D(3)), OrderFacts(overdue=3))
    assert tiny.total == D(0)


def test_ties_share_a_rank_and_list_by_code():
    entries = [Entry("x", D(90), "G4-003"), Entry("y", D(95), "G4-009"), Entry("z", D(90), "G4-001"),
               Entry("w", D(80), "G4-002")]
    assert [(e.key, rank) for e, rank in ranked(entries)] == [("y", 1), ("z", 2), ("x", 2), ("w", 4)]


def test_thresholds():
    tiers = [Tier("好", min_score=D(90)), Tier("较好", min_score=D(80)), Tier("一般", min_score=D(60)), Tier("较差")]
    entries = [Entry(i, score, f"U{i}") for i, score in enumerate([D(90), D("89.99"), D(80), D(60), D("59.5")])]
    assert [p.tier for p in by_thresholds(entries, tiers)] == ["好", "较好", "较好", "一般", "较差"]


def test_quota_with_a_tie_at_the_boundary_moves_the_whole_tie_down():
    # 10 units, at most 20% 优秀 → 2 places; the 2nd and 3rd tie, so only the 1st is 优秀.
    tiers = [Tier("优秀", quota=D("0.2")), Tier("良好", quota=D("0.5")), Tier("一般")]
    scores = [D(99), D(95), D(95), D(90), D(88), D(85), D(80), D(80), D(70), D(60)]
    placed = by_quotas([Entry(i, s, f"U{i:02}") for i, s in enumerate(scores)], tiers)
    assert quota_capacities(10, tiers) == [2, 7, 10]
    # 良好 may hold up to 7 from the top; the 80s tie at places 7–8, so both go to 一般.
    assert [p.tier for p in placed] == ["优秀"] + ["良好"] * 5 + ["一般"] * 4
    assert [p.rank for p in placed] == [1, 2, 2, 4, 5, 6, 7, 7, 9, 10]


def test_quota_without_ties_fills_each_tier_exactly():
    tiers = [Tier("优秀", quota=D("0.2")), Tier("良好")]
    placed = by_quotas([Entry(i, D(100 - i), f"U{i:02}") for i in range(10)], tiers)
    assert [p.tier for p in placed] == ["优秀"] * 2 + ["良好"] * 8


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=60),
       st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=3))
def test_quotas_are_never_exceeded_and_ties_never_split(scores, percents):
    if sum(percents) > 100:
        percents = [1] * len(percents)
    tiers = [Tier(f"T{i}", quota=D(p) / 100) for i, p in enumerate(percents)] + [Tier("rest")]
    placed = by_quotas([Entry(i, D(s), f"U{i:03}") for i, s in enumerate(scores)], tiers)
    capacities = quota_capacities(len(scores), tiers)
    order = [t.name for t in tiers]
    for index, tier in enumerate(tiers[:-1]):
        upto = sum(1 for p in placed if order.index(p.tier) <= index)
        assert upto <= capacities[index]
    for score in set(scores):
        assert len({p.tier for p in placed if p.score == D(score)}) == 1
    # Better scores never sit in a worse tier.
    ranks = [order.index(p.tier) for p in placed]
    assert ranks == sorted(ranks)
