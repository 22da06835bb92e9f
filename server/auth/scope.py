"""Who may read and write what: the one statement of the scope rules (issue 13).

Every path asks this module: REST reads (as SQL conditions), pull (as feed keys, rendered by
:mod:`server.sync.scope` from the same :class:`Reach`), photo reads, REST steps and every push
mutation kind (:func:`may`). A caller may write only what it may read, and reads only its
scope; a record outside it is answered as if it did not exist (404, or ``not_in_scope`` with no
copy of the record on a push).

What a caller reaches (:class:`Reach`, read in at most one query):

- admin: everything;
- supervisor: everything in their campaign, nothing of another campaign;
- inspector: the units assigned to their teams in active rounds, and those rounds;
- liaison: their own unit, and the rounds that visit it.

Which records of those (a *case* is a finding and what hangs on it: its order, the order's
responses and requests, their photos; *work* is a visit and its answers):

- a case or work of an unannounced round (暗访) is seen only by the inspectors on that round's
  teams assigned to the unit, the campaign's supervisors and admins; the unit's liaison sees
  a case only once the round's findings are issued, and never the work;
- a triage case (no unit yet) is seen by its reporter and the campaign's supervisors;
- any other case by whoever reaches its unit, and by its reporter; work likewise, except
  liaisons.

What each role may write is the table :data:`WRITES`: a role, a scope (the record must be
readable; a create must land in the caller's reach, not merely be its own), and for some
actions ownership (the reporter, or staff).

Setting a campaign up (the campaign, its standards, rounds, teams, assignments and results
entered without phones) is the office's: admins for every campaign, supervisors for their own
(:func:`manages`, :func:`campaign_condition`); inspectors and liaisons reach none of it.
Accounts (:func:`manages_account`, one rule for the API, the console and imports): everyone
changes their own password; admins create, import, disable and enable any account, reset its
password and set up its phone; a supervisor does the same for the inspectors and liaisons of their
own campaign only, never for an admin, another supervisor or another campaign's people. An
account a supervisor cannot see (an admin's, another campaign's) is 404; one they see but do not
manage (a fellow supervisor's) is 403.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import PhotoRef
from server.auth.models import FIELD_ROLES, Role, User
from server.auth.permissions import GRANTS, Permission
from server.findings.models import Finding
from server.orders.models import Order, OrderRequest, Response
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team, TeamMember
from server.units.models import Unit
from server.visits.models import Answer, Visit

STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})


class Who(Protocol):
    """A user record or a token's caller: what the rules need to know of either."""

    role: Role
    campaign_id: int | None
    unit_id: int | None


def _user_id(who: Who) -> int:
    return who.user_id if hasattr(who, "user_id") else who.id  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reach:
    """The units and unannounced rounds a caller reaches, as plain values."""

    user_id: int
    role: Role
    campaign_id: int | None
    unit_id: int | None
    #: Units whose ordinary records the caller sees (inspectors, liaisons; staff go by campaign).
    units: frozenset[int] = frozenset()
    #: (round, unit) pairs of unannounced rounds whose records the caller sees.
    secret: frozenset[tuple[int, int]] = frozenset()
    #: Active rounds the inspector works in (assigned units only).
    rounds: frozenset[int] = frozenset()

    @property
    def staff(self) -> bool:
        return self.role in STAFF


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


def reach_of(session: Session, who: Who) -> Reach:
    """What the caller reaches now, in at most one read."""
    base = dict(user_id=_user_id(who), role=who.role, campaign_id=who.campaign_id, unit_id=who.unit_id)
    connection = session.connection()
    if who.role is Role.INSPECTOR:
        rows = connection.execute(_INSPECTED, {"user_id": base["user_id"]}).all()
        return Reach(**base, units=frozenset(u for _, u, _ in rows),
                     secret=frozenset((r, u) for r, u, mode in rows if mode is RoundMode.UNANNOUNCED),
                     rounds=frozenset(r for r, _, _ in rows))
    if who.role is Role.LIAISON and who.unit_id is not None:
        issued = connection.execute(_ISSUED_SECRETLY, {"unit_id": who.unit_id}).scalars()
        return Reach(**base, units=frozenset({who.unit_id}), secret=frozenset((r, who.unit_id) for r in issued))
    return Reach(**base)


def reach_of_user(user: Who) -> Reach:
    """The reach of staff, which needs no read (by campaign); others: :func:`reach_of`."""
    assert user.role in STAFF, "inspectors and liaisons reach units: use reach_of"
    return Reach(user_id=_user_id(user), role=user.role, campaign_id=user.campaign_id, unit_id=user.unit_id)


# -- facts about a record ------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """What the rules need to know of a record: a case (finding, order, response, request,
    photo) or, with ``work``, a visit or answer."""

    campaign_id: int | None
    unit_id: int | None
    round_id: int | None
    #: The reporter of the finding, or the inspector of the visit.
    owner_id: int | None
    work: bool = False


UNANNOUNCED = "xuncha.secret_rounds"


def unannounced(session: Session, round_id: int | None) -> bool:
    """Whether the round is unannounced (暗访), remembered for the session's current commit (the
    feed clears it): publishing a batch of findings would otherwise read the round per record."""
    if round_id is None:
        return False
    known: dict[int, bool] = session.info.setdefault(UNANNOUNCED, {})
    if round_id not in known:
        found = session.get(Round, round_id)
        known[round_id] = found is not None and found.mode is RoundMode.UNANNOUNCED
    return known[round_id]


def reads(session: Session, reach: Reach, case: Case, *, as_owner: bool = True) -> bool:
    """May the caller read the record? With ``as_owner=False`` its own authorship does not count:
    a create must land where the caller works, not merely be the caller's."""
    if reach.role is Role.ADMIN:
        return True
    if reach.role is Role.SUPERVISOR:
        return case.campaign_id is not None and case.campaign_id == reach.campaign_id
    if as_owner and case.owner_id is not None and case.owner_id == reach.user_id:
        return True
    if case.unit_id is None or (case.work and reach.role is Role.LIAISON):
        return False
    if unannounced(session, case.round_id):
        return (case.round_id, case.unit_id) in reach.secret
    return case.unit_id in reach.units


# -- the same rules as SQL conditions ------------------------------------------------------------

def units_condition(reach: Reach, unit_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """A condition on any column holding a unit id, true where the caller reaches that unit."""
    if reach.role is Role.ADMIN:
        return sa.true()
    if reach.role is Role.SUPERVISOR:
        if unit_id is Unit.id:
            return Unit.campaign_id == reach.campaign_id
        return unit_id.in_(sa.select(Unit.id).where(Unit.campaign_id == reach.campaign_id))
    return unit_id.in_(sorted(reach.units))


def case_condition(reach: Reach, *, campaign_id: sa.ColumnElement[int], unit_id: sa.ColumnElement[int],
                   round_id: sa.ColumnElement[int], owner_id: sa.ColumnElement[int],
                   work: bool = False) -> sa.ColumnElement[bool]:
    """:func:`reads` as a condition on the columns holding a record's facts."""
    if reach.role is Role.ADMIN:
        return sa.true()
    if reach.role is Role.SUPERVISOR:
        return campaign_id == reach.campaign_id
    mine = owner_id == reach.user_id
    if work and reach.role is Role.LIAISON:
        return mine
    secret_rounds = sa.select(Round.id).where(Round.mode == RoundMode.UNANNOUNCED)
    ordinary = sa.and_(unit_id.in_(sorted(reach.units)),
                       sa.or_(round_id.is_(None), round_id.not_in(secret_rounds)))
    secret = [sa.and_(round_id == r, unit_id == u) for r, u in sorted(reach.secret)]
    return sa.or_(mine, ordinary, *secret)


def rounds_condition(reach: Who) -> sa.ColumnElement[bool]:
    """Rounds the caller sees: staff by campaign; inspectors the active rounds of their teams;
    liaisons the rounds visiting their unit, an unannounced one once its findings are issued."""
    if reach.role is Role.ADMIN:
        return sa.true()
    if reach.role is Role.SUPERVISOR:
        return Round.campaign_id == reach.campaign_id
    if reach.role is Role.INSPECTOR:
        mine = (sa.select(Team.round_id)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(TeamMember.user_id == _user_id(reach)))
        return sa.and_(Round.status == RoundStatus.ACTIVE, Round.id.in_(mine))
    visiting_my_unit = sa.select(Assignment.round_id).where(Assignment.unit_id == reach.unit_id)
    return sa.and_(
        Round.id.in_(visiting_my_unit),
        sa.or_(Round.mode != RoundMode.UNANNOUNCED, Round.findings_issued_at.is_not(None)),
    )


def campaign_condition(who: Who, campaign_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """A condition on a column holding a campaign id, for staff views over a campaign's records
    (devices, quarantine, conflicts, users) and its setup (the campaign, standards, a round's
    teams and assignments): admins every campaign, supervisors their own, nobody else any."""
    if who.role is Role.ADMIN:
        return sa.true()
    if who.role is Role.SUPERVISOR and who.campaign_id is not None:
        return campaign_id == who.campaign_id
    return sa.false()


def sees_unit(session: Session, reach: Reach, unit_id: int) -> bool:
    if reach.role is Role.ADMIN:
        return True
    if reach.role is Role.SUPERVISOR:
        unit = session.get(Unit, unit_id)
        return unit is not None and unit.campaign_id == reach.campaign_id
    return unit_id in reach.units


# -- writing ----------------------------------------------------------------------------------

class Ownership(enum.Enum):
    ANY = "anyone in scope"
    OWNER_OR_STAFF = "its reporter, or staff"
    UNIT_OR_STAFF = "the order's unit (its liaison), or staff"
    #: Not a record of a case: the campaign it belongs to (:func:`manages`).
    CAMPAIGN = "their campaign's (supervisors)"
    SELF = "their own account"
    #: An account: its role and campaign (:func:`manages_account`).
    ACCOUNT = "their campaign's inspectors and liaisons (supervisors)"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    #: A create: the record must land in the caller's reach (authorship does not count).
    create: bool = False
    ownership: Ownership = Ownership.ANY
    note: str = ""


_FIELD = frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN})
_EVERYONE = frozenset(Role)
_OFFICE = GRANTS[Permission.MANAGE_ASSESSMENTS]
_ACCOUNTS = GRANTS[Permission.MANAGE_USERS]

#: Who may take each action on a record they may read. Order steps name the roles the order
#: state machine (server.orders.services) admits; it also checks who responded and the state.
WRITES: dict[str, Rule] = {
    "visit.create": Rule(_FIELD, create=True),
    "visit.update": Rule(_FIELD),
    "answer.create": Rule(_FIELD, note="on a visit the caller may update"),
    "finding.create": Rule(_FIELD, create=True, note="a triage finding (no unit): anyone in the campaign"),
    "finding.update": Rule(_FIELD, note="a triage finding: its reporter or supervisors"),
    "finding.delete": Rule(_FIELD, ownership=Ownership.OWNER_OR_STAFF),
    "photo.create.finding": Rule(_FIELD, note="as updating the finding"),
    "photo.create.response": Rule(frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN}),
                                  ownership=Ownership.UNIT_OR_STAFF),
    "order.respond": Rule(frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN}),
                          ownership=Ownership.UNIT_OR_STAFF),
    "order.request": Rule(frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN}),
                          ownership=Ownership.UNIT_OR_STAFF),
    "order.verify": Rule(_FIELD, note="not by the person who responded"),
    "order.reject": Rule(_FIELD, note="not by the person who responded"),
    "order.assign": Rule(STAFF), "order.extend": Rule(STAFF), "order.escalate": Rule(STAFF),
    "order.park": Rule(STAFF), "order.resume": Rule(STAFF), "order.void": Rule(STAFF),
    "order_request.decide": Rule(STAFF),
    "order.comment": Rule(_EVERYONE, note="anyone who may read the order; append-only"),
    "round.issue_findings": Rule(STAFF),
    # the office's setup; the roles are the permissions' (one list), the campaign is checked here
    "campaign.create": Rule(GRANTS[Permission.CREATE_CAMPAIGNS]),
    "campaign.update": Rule(_OFFICE, ownership=Ownership.CAMPAIGN),
    "unit.import": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="matched by code"),
    "zone.import": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="for units of that campaign"),
    "standard.import": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="a new version once published"),
    "standard.publish": Rule(_OFFICE, ownership=Ownership.CAMPAIGN),
    "round.create": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="against a standard of that campaign"),
    "round.update": Rule(_OFFICE, ownership=Ownership.CAMPAIGN),
    "round.import_teams": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="members of that campaign"),
    "round.import_assignments": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="units of that campaign"),
    "round.enter_results": Rule(_OFFICE, ownership=Ownership.CAMPAIGN, note="units of that campaign"),
    # accounts
    "account.change_password": Rule(GRANTS[Permission.READ_OWN_ACCOUNT], ownership=Ownership.SELF,
                                    note="giving the current password"),
    "user.create": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT),
    "user.import": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT,
                        note="every row: an account they may create, or change"),
    "user.reset_password": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT),
    "user.disable": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT, note="not their own account"),
    "user.enable": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT),
    "user.enrol": Rule(_ACCOUNTS, ownership=Ownership.ACCOUNT,
                       note="an inspector's or liaison's phone, by a one-time code"),
}


def may(session: Session, reach: Reach, action: str, case: Case) -> bool:
    """May the caller take ``action`` on (or create) the record ``case`` describes?"""
    rule = WRITES[action]
    assert rule.ownership not in (Ownership.CAMPAIGN, Ownership.SELF), f"{action}: not a case's, use manages"
    if reach.role not in rule.roles:
        return False
    if rule.create and case.unit_id is None:
        # A patrol finding waiting for triage lands in the caller's own campaign, and names an
        # unannounced round only if the caller is on its team (its zone may route it to a unit).
        if unannounced(session, case.round_id) and not reach.staff and \
                case.round_id not in {round_id for round_id, _ in reach.secret}:
            return False
        return reach.role is Role.ADMIN or (case.campaign_id is not None and case.campaign_id == reach.campaign_id)
    # Authorship lets the reporter read its finding wherever it went, but write only to a triage
    # finding: a unit's records are changed by those working on the unit (or late, push).
    if not reads(session, reach, case, as_owner=not rule.create and case.unit_id is None):
        return False
    if rule.ownership is Ownership.OWNER_OR_STAFF:
        return reach.staff or case.owner_id == reach.user_id
    if rule.ownership is Ownership.UNIT_OR_STAFF:
        return reach.staff or (reach.role is Role.LIAISON and case.unit_id == reach.unit_id)
    return True


# -- the office's setup of a campaign -----------------------------------------------------------

def manages(who: Who, action: str, campaign_id: int | None) -> bool:
    """May the caller take the office's ``action`` (:data:`WRITES`) in the campaign?"""
    rule = WRITES[action]
    assert rule.ownership is Ownership.CAMPAIGN, f"{action} is not taken in a campaign"
    if who.role not in rule.roles:
        return False
    return who.role is Role.ADMIN or (campaign_id is not None and campaign_id == who.campaign_id)


# -- accounts -------------------------------------------------------------------------------------

def manages_account(who: Who, action: str, role: Role, campaign_id: int | None) -> bool:
    """May the caller take the account ``action`` (:data:`WRITES`) on an account of ``role`` in
    ``campaign_id``, or create one? Admins any; supervisors their campaign's inspectors and liaisons
    (:data:`FIELD_ROLES`): never a staff account, so a supervisor cannot make or take over an
    account as strong as their own."""
    rule = WRITES[action]
    assert rule.ownership is Ownership.ACCOUNT, f"{action} is not taken on an account"
    if who.role not in rule.roles:
        return False
    if who.role is Role.ADMIN:
        return True
    return role in FIELD_ROLES and campaign_id is not None and campaign_id == who.campaign_id


def accounts_condition(who: Who) -> sa.ColumnElement[bool]:
    """:func:`manages_account` as a condition on :class:`User`: the people the caller manages."""
    if who.role is Role.ADMIN:
        return sa.true()
    if who.role is Role.SUPERVISOR and who.campaign_id is not None:
        roles = sorted(FIELD_ROLES, key=lambda role: role.value)
        return sa.and_(User.campaign_id == who.campaign_id, User.role.in_(roles))
    return sa.false()


# -- the facts of each kind of record ------------------------------------------------------------

def finding_case(finding: Finding) -> Case:
    return Case(finding.campaign_id, finding.unit_id, finding.round_id, finding.reported_by)


def order_case(session: Session, order: Order) -> Case:
    """An order is seen where its finding is, at the unit it is addressed to now."""
    finding = session.get(Finding, order.finding_id)
    assert finding is not None, "orders cascade with their finding"
    return Case(finding.campaign_id, order.unit_id, finding.round_id, finding.reported_by)


def response_case(session: Session, response: Response) -> Case:
    order = session.get(Order, response.order_id)
    assert order is not None, "responses cascade with their order"
    return order_case(session, order)


def visit_case(session: Session, visit: Visit) -> Case:
    round_ = session.get(Round, visit.round_id)
    return Case(round_.campaign_id if round_ else None, visit.unit_id, visit.round_id, visit.inspector_id, work=True)


def findings_condition(reach: Reach) -> sa.ColumnElement[bool]:
    return case_condition(reach, campaign_id=Finding.campaign_id, unit_id=Finding.unit_id,
                          round_id=Finding.round_id, owner_id=Finding.reported_by)


def orders_condition(reach: Reach) -> sa.ColumnElement[bool]:
    """A condition on Order joined with its Finding."""
    return case_condition(reach, campaign_id=Finding.campaign_id, unit_id=Order.unit_id,
                          round_id=Finding.round_id, owner_id=Finding.reported_by)


def visits_condition(reach: Reach) -> sa.ColumnElement[bool]:
    """:func:`reads` for work (visits, answers), on Visit joined with its Round."""
    return case_condition(reach, campaign_id=Round.campaign_id, unit_id=Visit.unit_id, round_id=Visit.round_id,
                          owner_id=Visit.inspector_id, work=True)


def visible_orders(reach: Reach) -> sa.Select[tuple[Order]]:
    return sa.select(Order).join(Finding, Finding.id == Order.finding_id).where(orders_condition(reach))


def photo_named_in_scope(reach: Reach, sha256: str) -> sa.Exists:
    """Whether a finding or a response the caller may read names the photo."""
    by_finding = (sa.select(PhotoRef.id).join(Finding, Finding.id == PhotoRef.finding_id)
                  .where(PhotoRef.sha256 == sha256, findings_condition(reach)))
    by_response = (sa.select(PhotoRef.id).join(Response, Response.id == PhotoRef.response_id)
                   .join(Order, Order.id == Response.order_id).join(Finding, Finding.id == Order.finding_id)
                   .where(PhotoRef.sha256 == sha256, orders_condition(reach)))
    return sa.exists(by_finding.union_all(by_response).subquery().select())


def case_of(session: Session, record: object) -> Case | None:
    """The facts of any record a device may be sent a copy of; None for one that is not a case."""
    if isinstance(record, Finding):
        return finding_case(record)
    if isinstance(record, Order):
        return order_case(session, record)
    if isinstance(record, Response):
        return response_case(session, record)
    if isinstance(record, Visit):
        return visit_case(session, record)
    if isinstance(record, Answer):
        visit = session.get(Visit, record.visit_id)
        return visit_case(session, visit) if visit is not None else None
    if isinstance(record, OrderRequest):
        order = session.get(Order, record.order_id)
        return order_case(session, order) if order is not None else None
    if isinstance(record, PhotoRef):
        if record.finding_id is not None:
            finding = session.get(Finding, record.finding_id)
            return finding_case(finding) if finding is not None else None
        response = session.get(Response, record.response_id)
        return response_case(session, response) if response is not None else None
    return None


def reads_record(session: Session, reach: Reach, record: object) -> bool:
    """May the caller be sent a copy of this record? Unknown kinds: only staff of any campaign."""
    case = case_of(session, record)
    if case is None:
        return reach.staff
    return reads(session, reach, case)


def refusal(session: Session, reach: Reach, action: str, case: Case) -> str:
    """Why :func:`may` said no: ``forbidden`` when the caller may read the record (its role or
    ownership does not allow the action), ``not_in_scope`` when it may not (nothing is said of it)."""
    if reads(session, reach, case):
        return "forbidden"
    return "not_in_scope"


# -- the rules as docs/api.md shows them -------------------------------------------------------

#: The read rules of :func:`reads` and :func:`rounds_condition` in words, per kind of record.
READS: dict[str, dict[Role, str]] = {
    "unit, its zones": {Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's",
                        Role.INSPECTOR: "assigned to their teams in active rounds", Role.LIAISON: "their own"},
    "round": {Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's",
              Role.INSPECTOR: "the active rounds of their teams",
              Role.LIAISON: "those visiting their unit; 暗访 once its findings are issued"},
    "finding, order, response, request, photo": {
        Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's, triage included",
        Role.INSPECTOR: "of the units they reach and those they reported; 暗访 only on that round's team",
        Role.LIAISON: "their unit's; 暗访 once its findings are issued"},
    "visit, answer": {Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's",
                      Role.INSPECTOR: "as findings", Role.LIAISON: "none"},
    "device, quarantine, conflict": {Role.ADMIN: "all", Role.SUPERVISOR: "of their campaign's users",
                                     Role.INSPECTOR: "none (their own device: release it)",
                                     Role.LIAISON: "none (their own device: release it)"},
    "campaign, standard; a round's teams, assignments and results as the office sets them": {
        Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's", Role.INSPECTOR: "none", Role.LIAISON: "none"},
    "user account": {Role.ADMIN: "all", Role.SUPERVISOR: "their campaign's", Role.INSPECTOR: "their own",
                     Role.LIAISON: "their own"},
    # the lists a clerk keeps, exported as the files their imports read back
    "units file (export)": {Role.ADMIN: "a campaign's", Role.SUPERVISOR: "their campaign's", Role.INSPECTOR: "none",
                            Role.LIAISON: "none"},
    "users file (export; never a password)": {
        Role.ADMIN: "a campaign's accounts, and the admins",
        Role.SUPERVISOR: "their campaign's inspectors and liaisons",
        Role.INSPECTOR: "none", Role.LIAISON: "none"},
}

_COLUMNS = (Role.ADMIN, Role.SUPERVISOR, Role.INSPECTOR, Role.LIAISON)


def rules_markdown() -> str:
    """The "Who may do what" tables of docs/api.md, made from READS and WRITES."""
    lines = ["| reads | " + " | ".join(r.value for r in _COLUMNS) + " |", "|---" * (len(_COLUMNS) + 1) + "|"]
    lines += [f"| {kind} | " + " | ".join(rules[r] for r in _COLUMNS) + " |" for kind, rules in READS.items()]
    lines += ["", "| writes (REST; those on cases and work by push too) | " + " | ".join(r.value for r in _COLUMNS) + " | and |",
              "|---" * (len(_COLUMNS) + 2) + "|"]
    for action, rule in WRITES.items():
        cells = ["yes" if role in rule.roles else "—" for role in _COLUMNS]
        terms = [] if rule.ownership is Ownership.ANY else [rule.ownership.value]
        terms += ["where they work (not merely their own)"] if rule.create else []
        terms += [rule.note] if rule.note else []
        lines.append(f"| `{action}` | " + " | ".join(cells) + f" | {'; '.join(terms)} |")
    return "\n".join(lines) + "\n"

