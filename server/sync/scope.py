"""Scope keys: which devices a synced record goes to.

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

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Role
from server.auth.services import Caller
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, TeamMember


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


#: Read on every pull page, so built once: (round, unit, mode) of each active round the
#: inspector's teams are assigned in.
_INSPECTED = (sa.select(Assignment.round_id, Assignment.unit_id, Round.mode)
              .join(TeamMember, TeamMember.team_id == Assignment.team_id)
              .join(Round, Round.id == Assignment.round_id)
              .where(TeamMember.user_id == sa.bindparam("user_id"), Round.status == RoundStatus.ACTIVE))
#: The unannounced rounds of a unit whose findings are issued: its liaison sees them from then on.
_ISSUED_SECRETLY = (sa.select(Assignment.round_id).join(Round, Round.id == Assignment.round_id)
                    .where(Assignment.unit_id == sa.bindparam("unit_id"), Round.mode == RoundMode.UNANNOUNCED,
                           Round.findings_issued_at.is_not(None)))


def scope_of(session: Session, caller: Caller) -> Scope:
    """What the caller's devices receive now: worked out afresh on every pull, in at most one read."""
    own = frozenset({person_key(caller.user_id)})
    if caller.role is Role.ADMIN:
        from server.campaigns.models import Campaign

        return Scope(campaigns=frozenset(session.scalars(sa.select(Campaign.id))), keys=own)
    if caller.role is Role.SUPERVISOR:
        return Scope(campaigns=frozenset({caller.campaign_id}) if caller.campaign_id else frozenset(), keys=own)
    keys = set(own) | ({campaign_key(caller.campaign_id)} if caller.campaign_id else set())
    connection = session.connection()
    if caller.role is Role.INSPECTOR:
        for round_id, unit_id, mode in connection.execute(_INSPECTED, {"user_id": caller.user_id}):
            secret = round_id if mode is RoundMode.UNANNOUNCED else None
            keys |= {round_key(round_id), unit_key(unit_id), work_key(unit_id, None),
                     case_key(unit_id, 0, None), work_key(unit_id, secret), case_key(unit_id, 0, secret)}
    elif caller.role is Role.LIAISON and caller.unit_id is not None:
        keys |= {unit_key(caller.unit_id), case_key(caller.unit_id, 0, None)}
        issued = connection.execute(_ISSUED_SECRETLY, {"unit_id": caller.unit_id}).scalars()
        keys |= {case_key(caller.unit_id, 0, round_id) for round_id in issued}
    return Scope(keys=frozenset(keys))


SECRET_ROUNDS = "xuncha.secret_rounds"


def secret_round(session: Session, round_id: int | None) -> int | None:
    """The round's id if it is unannounced, so its records get the secret key suffix.

    Remembered for the session's current commit (the feed clears it): publishing a batch of
    findings would otherwise read the same round once per record.
    """
    if round_id is None:
        return None
    known: dict[int, bool] = session.info.setdefault(SECRET_ROUNDS, {})
    if round_id not in known:
        found = session.get(Round, round_id)
        known[round_id] = found is not None and found.mode is RoundMode.UNANNOUNCED
    return round_id if known[round_id] else None
