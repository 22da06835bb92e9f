"""A round's assessment as plain values: what the API returns, the circular is written from, the
score sheet lists, and a published circular keeps as its snapshot (:func:`to_json`/:func:`from_json`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from server.assessment.ranking import Tier

SCORED, NOT_VISITED, EXCLUDED = "scored", "not_visited", "excluded"


@dataclass
class ItemColumn:
    code: str
    text: str
    category: str
    max_score: Decimal


@dataclass
class UnitResult:
    unit_id: int
    code: str
    name: str
    #: The assessment group's name; empty for a unit in none.
    group: str
    #: scored, not_visited (never silently 0) or excluded (暂未排序, with ``reason``).
    status: str
    reason: str = ""
    visits: int = 0
    score: Decimal | None = None
    checklist: Decimal | None = None
    orders: Decimal | None = None
    #: Per item code: deducted (deduction model) or earned (weighted) points; None where 不适用.
    items: dict[str, Decimal | None] = field(default_factory=dict)
    rank: int | None = None
    tier: str | None = None
    unanswered: int = 0
    failed: int = 0
    order_facts: dict[str, int] = field(default_factory=dict)
    #: Whether the office entered this unit's result (score sheet, tier given directly).
    entered: bool = False
    #: 综合评议: points added to (or taken off) the score, and why.
    adjustment: Decimal | None = None
    adjustment_reason: str = ""
    note: str = ""
    #: Where the office listed the unit among those not ranked, which the circular keeps.
    excluded_position: int | None = None
    #: For a result combining rounds: each source round's score by round id (None: not scored there).
    parts: dict[str, Decimal | None] = field(default_factory=dict)


@dataclass
class RankingGroup:
    #: Empty when the round is ranked as one list.
    name: str
    #: unit ids, best first
    unit_ids: list[int]
    #: The group's own tiers; empty when it uses the round's.
    tiers: list[Tier] = field(default_factory=list)


@dataclass
class RoundResult:
    round_id: int
    round_name: str
    campaign: str
    office: str
    standard: str
    scoring_model: str
    full_score: Decimal
    starts_on: dt.date
    ends_on: dt.date
    as_of: dt.datetime
    teams: int
    methods: list[str]
    tier_method: str
    tiers: list[Tier]
    rank_by_group: bool
    items: list[ItemColumn]
    units: list[UnitResult]
    ranking: list[RankingGroup]
    #: The rounds an annual result combines, each {"name", "weight"}; empty for a round of its own.
    sources: list[dict[str, str]] = field(default_factory=list)

    def unit(self, unit_id: int) -> UnitResult:
        return next(u for u in self.units if u.unit_id == unit_id)

    def in_order(self) -> list[UnitResult]:
        """The ranked units as listed, then the others: excluded before not visited, by code."""
        ranked = [self.unit(i) for g in self.ranking for i in g.unit_ids]
        seen = {u.unit_id for u in ranked}
        return ranked + sorted((u for u in self.units if u.unit_id not in seen), key=lambda u: (u.status, u.code))

    def with_status(self, status: str) -> list[UnitResult]:
        return [u for u in self.units if u.status == status]

    def tiers_of(self, group: RankingGroup) -> list[Tier]:
        return group.tiers or self.tiers

    def all_tiers(self) -> list[Tier]:
        """Every tier name used, the round's first, then those only groups have, in order."""
        tiers = {t.name: t for t in self.tiers}
        for group in self.ranking:
            for tier in group.tiers:
                tiers.setdefault(tier.name, tier)
        return list(tiers.values())


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(result: RoundResult) -> dict[str, Any]:
    return _plain(dataclasses.asdict(result))


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def from_json(data: dict[str, Any]) -> RoundResult:
    units = [UnitResult(**{**u, "score": _dec(u["score"]), "checklist": _dec(u["checklist"]),
                           "orders": _dec(u["orders"]), "items": {k: _dec(v) for k, v in u["items"].items()},
                           "adjustment": _dec(u.get("adjustment")),
                           "parts": {k: _dec(v) for k, v in u.get("parts", {}).items()}})
             for u in data["units"]]
    return RoundResult(
        **{**data, "full_score": Decimal(data["full_score"]), "starts_on": dt.date.fromisoformat(data["starts_on"]),
           "ends_on": dt.date.fromisoformat(data["ends_on"]), "as_of": dt.datetime.fromisoformat(data["as_of"]),
           "tiers": _tier_list(data["tiers"]),
           "items": [ItemColumn(**{**i, "max_score": Decimal(i["max_score"])}) for i in data["items"]],
           "units": units, "ranking": [RankingGroup(**{**g, "tiers": _tier_list(g.get("tiers", []))})
                                        for g in data["ranking"]]})


def _tier_list(data: list[dict[str, Any]]) -> list[Tier]:
    return [Tier(t["name"], t["label"], _dec(t["min_score"]), _dec(t["quota"])) for t in data]
