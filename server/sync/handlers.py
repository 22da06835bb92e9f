"""Applying one pushed mutation, entity by entity, through the domain services.

A handler returns an :class:`Applied` or raises :class:`Rejected` (can never apply: kept in
quarantine) or :class:`Refused` (the record's state does not allow it now: a conflict).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import PhotoRole
from server.attachments.services import attach, refresh_media_status
from server.auth import scope
from server.auth.models import User
from server.clock import Clock
from server.errors import AppError, flatten_messages
from server.findings.models import Finding, FindingStatus, Severity
from server.orders import services as orders
from server.orders.models import Order, OrderRequest, RequestKind, Response
from server.rounds.models import Round
from server.sync.models import ScopeSnapshot, SyncConflict
from server.sync.scope import reach_from_keys
from server.units.models import Unit
from server.units.services import unit_for_location
from server.visits.models import Answer, AnswerResult, Visit, VisitStatus
from server.worktime.limits import Limit
from sync_protocol.entities import ENTITIES, MUTABLE, schema
from sync_protocol.merge import merge_fields, stamp_fields
from sync_protocol.messages import Op, Outcome
from sync_protocol.problems import ProblemCode


class Rejected(Exception):
    def __init__(self, code: ProblemCode, detail: str, errors: list[dict[str, Any]] | None = None,
                 status: int = 422) -> None:
        super().__init__(detail)
        self.code, self.detail, self.errors, self.status = code, detail, errors, status


class Refused(Exception):
    def __init__(self, code: ProblemCode, detail: str, record: Any) -> None:
        super().__init__(detail)
        self.code, self.detail, self.record = code, detail, record


@dataclass
class Context:
    session: Session
    clock: Clock
    user: User
    device_id: uuid.UUID
    #: When the change was made, in server time (device time corrected by its offset).
    at: dt.datetime
    seq: int
    #: For the whole push (scope does not change within one transaction): the caller's reach,
    #: and for each action on a record whether it is allowed late.
    standing: dict[Any, Any] = field(default_factory=dict)
    #: Units read by this push, held so the session's weak identity map keeps them.
    units: dict[int, Unit | None] = field(default_factory=dict)
    #: Model → ids of the batch's creates that already exist, looked up in one query per model.
    existing: dict[type, set[uuid.UUID]] = field(default_factory=dict)


@dataclass
class Applied:
    outcome: Outcome
    record: Any
    late: bool = False


def result(mutation: dict[str, Any], outcome: Outcome, **extra: Any) -> dict[str, Any]:
    """The answer to one mutation, as the push response and its stored receipt hold it."""
    return {"seq": mutation["seq"], "entity": mutation["entity"], "id": str(mutation["id"]),
            "op": mutation["op"].value, "outcome": outcome.value, **extra}


def apply(ctx: Context, mutation: dict[str, Any]) -> Applied:
    spec = ENTITIES.get(mutation["entity"])
    if spec is None:
        raise Rejected(ProblemCode.UNKNOWN_ENTITY, f"Devices cannot push {mutation['entity']!r}; "
                       f"they push {', '.join(sorted(ENTITIES))}.")
    op = mutation["op"]
    if op not in spec.ops:
        raise Rejected(ProblemCode.INVALID_FIELDS, f"{mutation['entity']} does not take op {op.value!r}.")
    if op is Op.COMMAND:
        commands = spec.commands or {}
        if mutation["command"] not in commands:
            raise Rejected(ProblemCode.INVALID_FIELDS, f"Unknown command {mutation['command']!r}; "
                           f"known: {', '.join(sorted(commands))}.")
        fields = load_fields(commands[mutation["command"]], mutation["fields"])
        return COMMANDS[mutation["command"]](ctx, mutation["id"], fields)
    if op is Op.CREATE:
        return CREATORS[mutation["entity"]](ctx, mutation["id"], load_fields(spec.create, mutation["fields"]))
    if op is Op.UPDATE:
        return _update(ctx, mutation)
    return _delete(ctx, mutation)


def load_fields(cls: type[ma.Schema] | None, fields: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """A mutation's fields validated by the entity's schema; :class:`Rejected` if they do not validate."""
    assert cls is not None
    try:
        return schema(cls, partial=partial).load(fields)
    except ma.ValidationError as exc:
        raise Rejected(ProblemCode.INVALID_FIELDS, "The mutation's fields did not validate.",
                       list(flatten_messages(exc.messages, ("fields",)))) from None


def reach(ctx: Context) -> scope.Reach:
    if "reach" not in ctx.standing:
        ctx.standing["reach"] = scope.reach_of(ctx.session, ctx.user)
    return ctx.standing["reach"]


def _authorize(ctx: Context, action: str, case: scope.Case) -> bool:
    """The one check of every mutation kind (:mod:`server.auth.scope`); True when it is late.

    A change captured offline while the record was in the user's scope is delivered all the
    same after the unit moved on (flagged late), if this device had pulled it under that scope:
    the scope then is the one its snapshots hold, under the same rules.
    """
    key = (action, case)
    if key not in ctx.standing:
        now = reach(ctx)
        if scope.may(ctx.session, now, action, case):
            ctx.standing[key] = False
        elif not now.staff and scope.may(ctx.session, _earlier_reach(ctx), action, case):
            ctx.standing[key] = True
        elif scope.refusal(ctx.session, now, action, case) == "forbidden":
            raise Rejected(ProblemCode.FORBIDDEN, f"This user's role may not take this step ({action}).",
                           status=403)
        else:
            raise Rejected(ProblemCode.NOT_IN_SCOPE, "This record is not one this user may change.", status=403)
    return ctx.standing[key]


def readable(ctx: Context, record: Any) -> bool:
    """May this push's answer carry a copy of the record? Never one the caller may not read."""
    return scope.reads_record(ctx.session, reach(ctx), record)


def pulled(ctx: Context, case: scope.Case | None) -> bool:
    """Do the pusher's devices receive a record of this case by pull? Pulls bring records by where
    they are (server.sync.scope renders no author keys), so what the caller reads only as its
    author — a patrol finding routed to another team's unit or left to triage — is not theirs
    to hold."""
    return case is None or scope.reads(ctx.session, reach(ctx), case, as_owner=False)


def _earlier_reach(ctx: Context) -> scope.Reach:
    if "earlier" not in ctx.standing:
        keys = ctx.session.scalars(sa.select(ScopeSnapshot.keys).where(ScopeSnapshot.device_id == ctx.device_id))
        ctx.standing["earlier"] = reach_from_keys(reach(ctx), {k for snapshot in keys for k in snapshot})
    return ctx.standing["earlier"]


def _unit(ctx: Context, unit_id: int) -> Unit | None:
    if unit_id not in ctx.units:
        ctx.units[unit_id] = ctx.session.get(Unit, unit_id)
    return ctx.units[unit_id]


def _stored(ctx: Context, model: type, record_id: uuid.UUID) -> Any:
    """The record with this id as stored, without flushing what this push has pending: a create
    checks for an earlier copy, and waiting to flush lets the batch's rows go out together."""
    known = ctx.existing.get(model)
    if known is not None and record_id not in known:
        return None
    with ctx.session.no_autoflush:
        return ctx.session.get(model, record_id)


CREATED_MODELS: dict[str, type] = {"visit": Visit, "answer": Answer, "finding": Finding}


def existing_ids(session: Session, mutations: list[dict[str, Any]]) -> dict[type, set[uuid.UUID]]:
    """For each model the batch creates, which of the ids it names are taken already."""
    wanted: dict[type, list[uuid.UUID]] = {}
    for mutation in mutations:
        model = CREATED_MODELS.get(mutation["entity"])
        if model is not None and mutation["op"] is Op.CREATE:
            wanted.setdefault(model, []).append(mutation["id"])
    return {model: set(session.scalars(sa.select(model.id).where(model.id.in_(ids))))
            for model, ids in wanted.items()}


def _same_id_elsewhere(ctx: Context, model: type, record_id: uuid.UUID, mine: Callable[[Any], bool]) -> Applied:
    """A create whose id exists: the same record re-sent (duplicate) or someone else's (refused)."""
    existing = ctx.session.get(model, record_id)
    if existing is not None and mine(existing):
        return Applied(Outcome.DUPLICATE, existing)
    raise Rejected(ProblemCode.ID_TAKEN, f"The id {record_id} already belongs to another record.", status=409)


# -- creates ---------------------------------------------------------------------------------

def _create_visit(ctx: Context, record_id: uuid.UUID, f: dict[str, Any]) -> Applied:
    if _stored(ctx, Visit, record_id) is not None:
        return _same_id_elsewhere(ctx, Visit, record_id, lambda v: v.inspector_id == ctx.user.id)
    round_ = ctx.session.get(Round, f["round_id"])
    unit = _unit(ctx, f["unit_id"])
    if round_ is None or unit is None or round_.campaign_id != unit.campaign_id:
        raise Rejected(ProblemCode.INVALID_FIELDS, "Unknown round or unit, or not of the same campaign.",
                       [{"field": "fields.round_id", "message": "no such round for this unit"}])
    late = _authorize(ctx, "visit.create", scope.Case(unit.campaign_id, unit.id, round_.id, None, work=True))
    visit = Visit(id=record_id, round_id=round_.id, unit_id=unit.id, team_id=f["team_id"],
                  inspector_id=ctx.user.id, device_id=ctx.device_id, started_at=f["started_at"],
                  ended_at=f["ended_at"], methods=f["methods"], notes=f["notes"],
                  status=VisitStatus(f["status"]), version=1,
                  field_meta=stamp_fields({}, MUTABLE["visit"], version=1, at=ctx.at, device=str(ctx.device_id)))
    ctx.session.add(visit)
    return Applied(Outcome.APPLIED, visit, late)


def _create_answer(ctx: Context, record_id: uuid.UUID, f: dict[str, Any]) -> Applied:
    if _stored(ctx, Answer, record_id) is not None:
        return _same_id_elsewhere(ctx, Answer, record_id, lambda a: a.answered_by == ctx.user.id)
    visit = ctx.session.get(Visit, f["visit_id"])
    if visit is None:
        raise Rejected(ProblemCode.RECORD_MISSING, f"No visit {f['visit_id']}; push the visit first.", status=404)
    late = _authorize(ctx, "answer.create", scope.visit_case(ctx.session, visit))
    answer = Answer(id=record_id, visit_id=visit.id, item_id=f["item_id"], result=AnswerResult(f["result"]),
                    instances=f["instances"], score=f["score"], note=f["note"], answered_by=ctx.user.id,
                    answered_at=ctx.at)
    ctx.session.add(answer)
    return Applied(Outcome.APPLIED, answer, late)


def _create_finding(ctx: Context, record_id: uuid.UUID, f: dict[str, Any]) -> Applied:
    session = ctx.session
    if _stored(ctx, Finding, record_id) is not None:
        return _same_id_elsewhere(ctx, Finding, record_id, lambda x: x.reported_by == ctx.user.id)
    row, late = finding_row(ctx, record_id, f)
    finding = Finding(**row)
    session.add(finding)
    if f["photos"]:
        session.flush()
        attach(session, ctx.clock, f["photos"], role=PhotoRole.BEFORE, finding_id=finding.id,
               device_id=ctx.device_id)
        refresh_media_status(session, finding)
    orders.raise_order(session, ctx.clock, finding, actor_id=ctx.user.id, device_id=ctx.device_id)
    return Applied(Outcome.APPLIED, finding, late)


def finding_row(ctx: Context, record_id: uuid.UUID, f: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The new finding's columns from its validated fields, and whether the change is late.

    The one place a pushed finding is routed and checked against the user's scope, whether
    it is then written through the ORM or in bulk.
    """
    session = ctx.session
    campaign_id = ctx.user.campaign_id
    unit_id, round_id = f["unit_id"], f["round_id"]
    if f["visit_id"] is not None:
        visit = session.get(Visit, f["visit_id"])
        if visit is None:
            raise Rejected(ProblemCode.RECORD_MISSING, f"No visit {f['visit_id']}; push the visit first.",
                           status=404)
        unit_id, round_id = visit.unit_id, visit.round_id
    if unit_id is not None:
        unit = _unit(ctx, unit_id)
        if unit is None:
            raise Rejected(ProblemCode.INVALID_FIELDS, f"No unit {unit_id}.",
                           [{"field": "fields.unit_id", "message": "no such unit"}])
        campaign_id = unit.campaign_id
    if round_id is not None and f["visit_id"] is None:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.campaign_id != (campaign_id or round_.campaign_id):
            raise Rejected(ProblemCode.INVALID_FIELDS, "Unknown round, or not of the finding's campaign.",
                           [{"field": "fields.round_id", "message": "no such round for this unit"}])
        campaign_id = campaign_id or round_.campaign_id
    # Checked as the device stated it: routing a patrol finding to a unit is the server's doing.
    late = _authorize(ctx, "finding.create", scope.Case(campaign_id, unit_id, round_id, None))
    if unit_id is None and f["latitude"] is not None and f["longitude"] is not None and campaign_id is not None:
        # A patrol finding answers to the unit whose zone it lies in; anywhere else, to triage.
        unit_id = unit_for_location(session, campaign_id, f["longitude"], f["latitude"])
    if campaign_id is None:
        raise Rejected(ProblemCode.INVALID_FIELDS, "A finding needs a unit, a visit or a user in a campaign.")
    row = dict(id=record_id, visit_id=f["visit_id"], round_id=round_id, campaign_id=campaign_id,
               unit_id=unit_id, item_id=f["item_id"], category=f["category"], description=f["description"],
               severity=Severity(f["severity"]), latitude=f["latitude"], longitude=f["longitude"],
               location_text=f["location_text"], reported_by=ctx.user.id, device_id=ctx.device_id,
               observed_at=ctx.at, version=1,
               # Complete unless it names photos: then it waits for them (refresh_media_status).
               status=FindingStatus.AWAITING_MEDIA if f["photos"] else FindingStatus.COMPLETE,
               field_meta=stamp_fields({}, MUTABLE["finding"], version=1, at=ctx.at, device=str(ctx.device_id)))
    return row, late


def _create_photo(ctx: Context, record_id: uuid.UUID, f: dict[str, Any]) -> Applied:
    session = ctx.session
    if f["finding_id"] is not None:
        finding = session.get(Finding, f["finding_id"])
        if finding is None:
            raise Rejected(ProblemCode.RECORD_MISSING, f"No finding {f['finding_id']}.", status=404)
        late = _authorize(ctx, "photo.create.finding", scope.finding_case(finding))
        attach(session, ctx.clock, [f["sha256"]], role=PhotoRole(f["role"]), finding_id=finding.id,
               device_id=ctx.device_id, ref_id=record_id)
        refresh_media_status(session, finding)
        return Applied(Outcome.APPLIED, finding, late)
    response = session.get(Response, f["response_id"])
    if response is None:
        raise Rejected(ProblemCode.RECORD_MISSING, f"No response {f['response_id']}.", status=404)
    late = _authorize(ctx, "photo.create.response", scope.response_case(session, response))
    attach(session, ctx.clock, [f["sha256"]], role=PhotoRole.AFTER, response_id=response.id,
           device_id=ctx.device_id, ref_id=record_id)
    return Applied(Outcome.APPLIED, response, late)


CREATORS: dict[str, Callable[[Context, uuid.UUID, dict[str, Any]], Applied]] = {
    "visit": _create_visit, "answer": _create_answer, "finding": _create_finding, "photo": _create_photo,
}

_MERGEABLE: dict[str, type] = {"visit": Visit, "finding": Finding}


# -- updates and deletes ---------------------------------------------------------------------

def _update(ctx: Context, mutation: dict[str, Any]) -> Applied:
    entity = mutation["entity"]
    model = _MERGEABLE[entity]
    record = ctx.session.get(model, mutation["id"])
    if record is None:
        raise Rejected(ProblemCode.RECORD_MISSING, f"No {entity} {mutation['id']}.", status=404)
    case = scope.finding_case(record) if entity == "finding" else scope.visit_case(ctx.session, record)
    late = _authorize(ctx, f"{entity}.update", case)
    if getattr(record, "status", None) is FindingStatus.VOIDED:
        raise Refused(ProblemCode.RECORD_MISSING, f"The {entity} was deleted; the edit is kept for review.",
                      record)
    unknown = set(mutation["fields"]) - MUTABLE[entity]
    if unknown:
        raise Rejected(ProblemCode.INVALID_FIELDS, "These fields cannot be changed after creation.",
                       [{"field": f"fields.{name}", "message": "not changeable"} for name in sorted(unknown)])
    create_schema = ENTITIES[entity].create
    fields = load_fields(create_schema, mutation["fields"], partial=True)
    fields = {k: v for k, v in fields.items() if k in mutation["fields"]}
    current = {name: _plain(getattr(record, name)) for name in fields}
    merged = merge_fields(current, record.field_meta, {k: _plain(v) for k, v in fields.items()},
                          base_version=mutation["base_version"], at=ctx.at, device=str(ctx.device_id))
    if merged.taken:
        record.version += 1
        for name in merged.taken:
            setattr(record, name, _typed(entity, name, fields[name]))
        record.field_meta = stamp_fields(record.field_meta, merged.taken, version=record.version, at=ctx.at,
                                         device=str(ctx.device_id))
    if merged.concurrent:
        ctx.session.add(SyncConflict(
            entity=entity, entity_id=str(record.id), device_id=ctx.device_id, seq=ctx.seq,
            kind="concurrent_edit", needs_person=False, created_at=ctx.clock.now(),
            detail={"lost": merged.lost, "overwritten": merged.overwritten, "by_user": ctx.user.id}))
        return Applied(Outcome.MERGED, record, late)
    return Applied(Outcome.APPLIED, record, late)


def _plain(value: Any) -> Any:
    if isinstance(value, (Severity, VisitStatus)):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _typed(entity: str, name: str, value: Any) -> Any:
    if name == "severity":
        return Severity(value)
    if name == "status" and entity == "visit":
        return VisitStatus(value)
    return value


def _delete(ctx: Context, mutation: dict[str, Any]) -> Applied:
    finding = ctx.session.get(Finding, mutation["id"])
    if finding is None:
        raise Rejected(ProblemCode.RECORD_MISSING, f"No finding {mutation['id']}.", status=404)
    late = _authorize(ctx, "finding.delete", scope.finding_case(finding))
    if finding.status is FindingStatus.VOIDED:
        return Applied(Outcome.DUPLICATE, finding)
    finding.status = FindingStatus.VOIDED
    finding.version += 1
    orders.void_for_finding(ctx.session, ctx.clock, finding, actor_id=ctx.user.id, device_id=ctx.device_id)
    return Applied(Outcome.APPLIED, finding, late)


# -- order commands --------------------------------------------------------------------------

def _order(ctx: Context, order_id: uuid.UUID) -> Order:
    order = ctx.session.get(Order, order_id)
    if order is None:
        raise Rejected(ProblemCode.RECORD_MISSING, f"No order {order_id}.", status=404)
    return order


def _step(action: str, step: Callable[..., Outcome | None]) -> Callable[[Context, uuid.UUID, dict[str, Any]], Applied]:
    def run(ctx: Context, order_id: uuid.UUID, fields: dict[str, Any]) -> Applied:
        order = _order(ctx, order_id)
        late = _authorize(ctx, action, scope.order_case(ctx.session, order))
        try:
            outcome = step(ctx, order, fields) or Outcome.APPLIED
        except orders.IllegalTransition as exc:
            raise Refused(exc.code, exc.detail or exc.title, order) from None
        except AppError as exc:
            raise Rejected(exc.code, exc.detail or exc.title, status=exc.status) from None
        return Applied(outcome, order, late)

    return run


def _respond(ctx: Context, order: Order, f: dict[str, Any]) -> Outcome | None:
    existing = ctx.session.get(Response, f["response_id"])
    if existing is not None:
        if existing.order_id == order.id and existing.responder_id == ctx.user.id:
            return Outcome.DUPLICATE  # the same response sent again (a re-installed app)
        raise Rejected(ProblemCode.ID_TAKEN, f"The response id {f['response_id']} is taken.", status=409)
    response = orders.respond(ctx.session, ctx.clock, order, ctx.user, response_id=f["response_id"],
                              measures=f["measures"], device_id=ctx.device_id)
    attach(ctx.session, ctx.clock, f["photos"], role=PhotoRole.AFTER, response_id=response.id,
           device_id=ctx.device_id)
    return None


def _request(ctx: Context, order: Order, f: dict[str, Any]) -> Outcome | None:
    existing = ctx.session.get(OrderRequest, f["request_id"])
    if existing is not None:
        if existing.order_id == order.id and existing.requested_by == ctx.user.id:
            return Outcome.DUPLICATE
        raise Rejected(ProblemCode.ID_TAKEN, f"The request id {f['request_id']} is taken.", status=409)
    orders.request(ctx.session, ctx.clock, order, ctx.user, kind=RequestKind(f["kind"]), reason=f["reason"],
                   extra=Limit.parse(f["extra"]) if f["extra"] else None, review_at=f["review_at"],
                   request_id=f["request_id"], device_id=ctx.device_id)
    return None


COMMANDS: dict[str, Callable[[Context, uuid.UUID, dict[str, Any]], Applied]] = {
    "respond": _step("order.respond", _respond),
    "verify": _step("order.verify", lambda ctx, order, f: orders.verify(ctx.session, ctx.clock, order, ctx.user,
                                                        note=f["note"], device_id=ctx.device_id)),
    "reject": _step("order.reject", lambda ctx, order, f: orders.reject(ctx.session, ctx.clock, order, ctx.user,
                                                        reason=f["reason"], device_id=ctx.device_id)),
    "request": _step("order.request", _request),
}
