"""A round's assessment configuration read into the values the arithmetic takes, with the
defaults a round without one uses, and the checks a new configuration must pass."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Sequence

from server.assessment.messages import say
from server.assessment.models import RoundAssessment, TierMethod
from server.assessment.ranking import Tier
from server.assessment.scoring import OrderRule
from server.errors import ValidationFailed

#: Seed 002's four tiers; the thresholds are a starting point the supervisor is expected to set.
DEFAULT_TIERS: tuple[dict[str, Any], ...] = (
    {"name": "好", "label": "好的部门、单位", "min_score": "90"},
    {"name": "较好", "label": "较好的部门、单位", "min_score": "80"},
    {"name": "一般", "label": "一般的部门、单位", "min_score": "60"},
    {"name": "较差", "label": "较差的部门、单位"},
)

DEFAULT_REQUIREMENTS = ("各部门、各单位要针对本次检查中提出的问题和反馈的意见，高度重视，查找原因，"
                        "制定整改措施，限期整改到位。")


def default_config(round_id: int) -> RoundAssessment:
    """What a round is assessed with until a supervisor configures it (not added to a session)."""
    return RoundAssessment(round_id=round_id, tier_method=TierMethod.THRESHOLDS, tiers=list(DEFAULT_TIERS),
                           group_tiers=[], sources=[], rank_by_group=True, order_deductions={},
                           requirements=DEFAULT_REQUIREMENTS,
                           closing="")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _tiers(stored: Sequence[Mapping[str, Any]]) -> list[Tier]:
    return [Tier(name=t["name"], label=t.get("label") or "", min_score=_decimal(t.get("min_score")),
                 quota=_decimal(t.get("quota"))) for t in stored]


def tiers_of(config: RoundAssessment) -> list[Tier]:
    return _tiers(config.tiers)


def group_tiers_of(config: RoundAssessment) -> dict[str, tuple[TierMethod, list[Tier]]]:
    """The groups placed in tiers of their own, with their method and tiers."""
    return {g["name"]: (TierMethod(g["tier_method"]), _tiers(g["tiers"])) for g in config.group_tiers or []}


def stored_tiers(tiers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tiers as the configuration keeps them: numbers as strings, unset keys left out."""
    return [{k: (str(v) if v is not None and k in ("min_score", "quota") else v) for k, v in t.items()
             if v is not None} for t in tiers]


def order_rule_of(config: RoundAssessment) -> OrderRule:
    d = config.order_deductions or {}
    return OrderRule(overdue=_decimal(d.get("overdue")) or Decimal(0),
                     escalated=_decimal(d.get("escalated")) or Decimal(0),
                     rejected=_decimal(d.get("rejected")) or Decimal(0), cap=_decimal(d.get("cap")))


def check_tiers(method: TierMethod, tiers: Sequence[Mapping[str, Any]], field: str = "tiers") -> None:
    """Refuse a tier list that could place a unit nowhere, or twice; ``field`` names it in errors."""
    errors = tier_problems(method, tiers, field)
    if errors:
        raise ValidationFailed("The tiers cannot place every unit exactly once.", errors=errors)


def tier_problems(method: TierMethod, tiers: Sequence[Mapping[str, Any]], field: str = "tiers"
                  ) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    names = [t["name"] for t in tiers]
    if len(set(names)) != len(names):
        errors.append({"field": field, "message": say("tier_names_differ")})
    if method is TierMethod.THRESHOLDS:
        previous: Decimal | None = None
        for index, tier in enumerate(tiers[:-1]):
            minimum = _decimal(tier.get("min_score"))
            if minimum is None:
                errors.append({"field": f"{field}.{index}.min_score",
                               "message": say("tier_without_minimum")})
            elif previous is not None and minimum >= previous:
                errors.append({"field": f"{field}.{index}.min_score",
                               "message": say("minimums_not_falling")})
            else:
                previous = minimum
    else:
        total = Decimal(0)
        for index, tier in enumerate(tiers[:-1]):
            quota = _decimal(tier.get("quota"))
            if quota is None or not Decimal(0) < quota <= 1:
                errors.append({"field": f"{field}.{index}.quota",
                               "message": say("tier_without_quota")})
            else:
                total += quota
        if total > 1:
            errors.append({"field": field, "message": say("quotas_above_one")})
    return errors
