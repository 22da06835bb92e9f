"""Ranking within a group and placing units in tiers, as pure functions (rules in docs/reports.md).

- Higher score ranks first. Equal scores (to 0.01) share a rank, the next rank skipping as many
  places as shared it (1, 2, 2, 4); within a tie units are listed by unit code, which is stable
  and meaningless, so no one gains from the listing order.
- Thresholds: a unit is in the first tier (best first) whose minimum score it reaches.
- Quotas: tier *i* holds at most ``floor((q1 + … + qi) × n)`` of the *n* ranked units counted from
  the top; the last tier takes the rest. Tied units are never split: a tie that does not fit
  entirely within a tier's quota moves to the next tier together, so "at most 20%" stays true.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Generic, Sequence, TypeVar

K = TypeVar("K")


@dataclass(frozen=True)
class Tier:
    name: str
    #: As the circular prints it before the list, e.g. 好的部门、单位; the name when empty.
    label: str = ""
    min_score: Decimal | None = None
    quota: Decimal | None = None

    @property
    def heading(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Entry(Generic[K]):
    key: K
    score: Decimal
    #: Orders a tie; the unit code.
    tie_key: str


@dataclass(frozen=True)
class Placed(Generic[K]):
    key: K
    score: Decimal
    rank: int
    tier: str


def ranked(entries: Sequence[Entry[K]]) -> list[tuple[Entry[K], int]]:
    """Entries best first with their competition rank (1, 2, 2, 4)."""
    ordered = sorted(entries, key=lambda e: (-e.score, e.tie_key))
    result: list[tuple[Entry[K], int]] = []
    for position, entry in enumerate(ordered, start=1):
        rank = result[-1][1] if result and result[-1][0].score == entry.score else position
        result.append((entry, rank))
    return result


def by_thresholds(entries: Sequence[Entry[K]], tiers: Sequence[Tier]) -> list[Placed[K]]:
    placed = []
    for entry, rank in ranked(entries):
        tier = next((t for t in tiers if t.min_score is None or entry.score >= t.min_score), tiers[-1])
        placed.append(Placed(entry.key, entry.score, rank, tier.name))
    return placed


def quota_capacities(count: int, tiers: Sequence[Tier]) -> list[int]:
    """How many units, counted from the top, the tiers up to each one may hold together."""
    capacities, cumulative = [], Decimal(0)
    for tier in tiers[:-1]:
        cumulative += tier.quota or Decimal(0)
        capacities.append(math.floor(cumulative * count))
    return [*capacities, count]


def by_quotas(entries: Sequence[Entry[K]], tiers: Sequence[Tier]) -> list[Placed[K]]:
    ordered = ranked(entries)
    capacities = quota_capacities(len(ordered), tiers)
    placed: list[Placed[K]] = []
    tier_index = 0
    for _score, tie in groupby(ordered, key=lambda pair: pair[0].score):
        group = list(tie)
        while tier_index < len(tiers) - 1 and len(placed) + len(group) > capacities[tier_index]:
            tier_index += 1
        placed.extend(Placed(e.key, e.score, rank, tiers[tier_index].name) for e, rank in group)
    return placed
