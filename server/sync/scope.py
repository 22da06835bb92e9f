"""Scope keys: which devices a synced record goes to; the scope rules of
:mod:`server.auth.scope` rendered as keys on the feed's rows.

Every record in the feed carries one key; a device pulls the rows whose key is in the set
its user may see now. When that set changes (a unit assigned to another team, an
unannounced round whose findings are issued), the difference is delivered as rows
(keys gained) and tombstones (keys lost).

==============  ===========================================  =============================
key             records                                      who
==============  ===========================================  =============================
c:<campaign>    groups, standards, sections, items           everyone in the campaign
u:<unit>        the unit, its zones                          its liaison; inspectors assigned
r:<round>       the round, its teams, members, assignments   inspectors of the round
w:<unit>        visits and answers                           inspectors assigned
o:<unit>        findings, orders, responses, photos          the unit's liaison; inspectors
t:<campaign>    findings and orders waiting for triage       supervisors
...:s<round>    w/o keys of an unannounced round (暗访)       inspectors; the unit only once
                                                             the round's findings are issued
p:<user>        the user's own notifications                 that user only, whatever the role
==============  ===========================================  =============================

Supervisors and admins see whole campaigns and are served by campaign, not by key (plus their own
p: key: notifications belong to no campaign).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Role
from server.auth.services import Caller
from server.auth.scope import UNANNOUNCED, Reach, reach_of, unannounced


def campaign_key(campaign_id: int) -> str:
    return f"c:{campaign_id}"


def unit_key(unit_id: int) -> str:
    return f"u:{unit_id}"


def round_key(round_id: int) -> str:
    return f"r:{round_id}"


def work_key(unit_id: int, secret_round: int | None) -> str:
    return f"w:{unit_id}" + (f":s{secret_round}" if secret_round else "")


def person_key(user_id: int) -> str:
    return f"p:{user_id}"


def case_key(unit_id: int | None, campaign_id: int, secret_round: int | None) -> str:
    if unit_id is None:
        return f"t:{campaign_id}"
    return f"o:{unit_id}" + (f":s{secret_round}" if secret_round else "")


@dataclass(frozen=True)
class Scope:
    """What a user's devices receive: whole campaigns, or a set of keys."""

    campaigns: frozenset[int] = frozenset()
    keys: frozenset[str] = frozenset()

    def as_list(self) -> list[str]:
        return sorted({f"campaign:{c}" for c in self.campaigns} | self.keys)

    @classmethod
    def from_list(cls, items: list[str]) -> Scope:
        campaigns = frozenset(int(i.split(":", 1)[1]) for i in items if i.startswith("campaign:"))
        return cls(campaigns=campaigns, keys=frozenset(i for i in items if not i.startswith("campaign:")))


def scope_of(session: Session, caller: Caller) -> Scope:
    """What the caller's devices receive now: the caller's reach (:mod:`server.auth.scope`, in at
    most one read) rendered as keys."""
    own = frozenset({person_key(caller.user_id)})
    if caller.role is Role.ADMIN:
        from server.campaigns.models import Campaign

        return Scope(campaigns=frozenset(session.scalars(sa.select(Campaign.id))), keys=own)
    if caller.role is Role.SUPERVISOR:
        return Scope(campaigns=frozenset({caller.campaign_id}) if caller.campaign_id else frozenset(), keys=own)
    reach = reach_of(session, caller)
    keys = set(own) | ({campaign_key(caller.campaign_id)} if caller.campaign_id else set())
    for unit_id in reach.units:
        keys |= {unit_key(unit_id), case_key(unit_id, 0, None)}
    if caller.role is Role.INSPECTOR:
        keys |= {round_key(round_id) for round_id in reach.rounds}
        keys |= {work_key(unit_id, None) for unit_id in reach.units}
        keys |= {work_key(unit_id, round_id) for round_id, unit_id in reach.secret}
    keys |= {case_key(unit_id, 0, round_id) for round_id, unit_id in reach.secret}
    return Scope(keys=frozenset(keys))


SECRET_ROUNDS = UNANNOUNCED


def secret_round(session: Session, round_id: int | None) -> int | None:
    """The round's id if it is unannounced, so its records get the secret key suffix."""
    return round_id if unannounced(session, round_id) else None


def reach_from_keys(reach: Reach, keys: set[str]) -> Reach:
    """The reach a device's earlier scope keys stood for (the case keys carry units and
    unannounced rounds), for the same user."""
    units: set[int] = set()
    secret: set[tuple[int, int]] = set()
    for key in keys:
        kind, _, rest = key.partition(":")
        if kind != "o":
            continue
        unit, _, round_ = rest.partition(":s")
        if round_:
            secret.add((int(round_), int(unit)))
        else:
            units.add(int(unit))
    return replace(reach, units=frozenset(units), secret=frozenset(secret))
