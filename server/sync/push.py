"""Push: apply a device's batch of mutations exactly once, answering each one.

Exactly once: the device's state row is the first thing the transaction writes, which
serialises pushes of one device; mutations at or below its ``last_seq`` are answered from
their stored receipts; every new one is applied in its own savepoint and its receipt is
written in the same transaction, so after a crash either both exist or neither does.

Never wedged: a mutation that cannot apply is answered ``rejected``, kept in quarantine,
and the device's sequence still moves past it.

Concurrent pushes: before anything is decided, every existing record the batch changes is
locked and read again (:mod:`server.sync.locks`), so versions, field stamps, results and feed
rows come from the rows as committed by whoever came first. A push that meets another
transaction anyway (a lock timeout, a deadlock with a writer outside that order) is run again
whole by its caller (:func:`server.db.run_retrying`); :class:`Busy` when that keeps failing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import User
from server.clock import Clock
from server.db import model_of, upsert
from server.errors import AppError
from server.sync import bulk, feed, locks
from server.auth.scope import case_of
from server.sync.handlers import Applied, Context, Refused, Rejected, apply, existing_ids, pulled, readable, result
from server.sync.models import DevicePush, DeviceSyncState, QuarantinedMutation, SyncConflict, SyncReceipt
from sync_protocol.merge import clock_offset, effective_time
from sync_protocol.messages import Outcome
from sync_protocol.problems import ProblemCode
from sync_protocol.version import PROTOCOL_VERSION, SUPPORTED_VERSIONS


class ProtocolUnsupported(AppError):
    status = 426
    code = ProblemCode.PROTOCOL_UNSUPPORTED
    title = "This version of the app is too old (or too new) for the server"


class DeviceMismatch(AppError):
    status = 403
    code = ProblemCode.DEVICE_MISMATCH
    title = "The push names another device than the one logged in"


class SequenceInvalid(AppError):
    status = 422
    code = ProblemCode.SEQUENCE_INVALID
    title = "Mutation sequence numbers must strictly increase"


class BatchTooLarge(AppError):
    status = 413
    code = ProblemCode.BATCH_TOO_LARGE
    title = "Too many mutations in one push"


class Busy(AppError):
    status = 503
    code = ProblemCode.SYNC_BUSY
    title = "The server is busy with other pushes of the same records"

    def __init__(self, detail: str) -> None:
        # Jittered, so devices turned away together do not come back together.
        super().__init__(detail, headers={"Retry-After": str(random.randint(1, 5))})


def check_protocol(version: int) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise ProtocolUnsupported(
            f"The server speaks sync protocol {', '.join(map(str, sorted(SUPPORTED_VERSIONS)))}; "
            f"this app sent {version}. Update the app; its unsynced data stays on the phone until then.",
            supported=sorted(SUPPORTED_VERSIONS))


def push(session: Session, clock: Clock, user: User, device_id: uuid.UUID, request: dict[str, Any], *,
         max_batch: int, lock_timeout_ms: int | None = None) -> dict[str, Any]:
    check_protocol(request["protocol"])
    if request["device_id"] != device_id:
        raise DeviceMismatch(f"This token belongs to device {device_id}; the push names {request['device_id']}.")
    mutations = request["mutations"]
    if len(mutations) > max_batch:
        raise BatchTooLarge(f"{len(mutations)} mutations; send at most {max_batch} per push.", limit=max_batch)
    seqs = [m["seq"] for m in mutations]
    if any(b <= a for a, b in zip(seqs, seqs[1:])):
        raise SequenceInvalid("Send the outbox in order, each mutation with a larger seq than the one before.")

    now = clock.now()
    if lock_timeout_ms is not None and session.get_bind().dialect.name == "postgresql":
        # A lock held too long (a stuck transaction) fails this attempt instead of the request
        # hanging; the caller runs the push again (server.db.run_retrying).
        session.execute(sa.text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
    state = _lock_state(session, device_id)
    offset = clock_offset(now, request["sent_at"])
    standing: dict[Any, Any] = {}
    units: dict[int, Any] = {}
    probe = Context(session, clock, user, device_id, now, 0, standing, units)
    answered = _receipts(session, device_id, [s for s in seqs if s <= state.last_seq], probe)
    fresh = [m for m in mutations if m["seq"] > state.last_seq]
    # Every record the batch changes, locked in the global order and read again before any of
    # it is read for a decision (server.sync.locks). Held for the whole push.
    held = locks.lock_batch(session, fresh)  # noqa: F841 - keeps the locked copies in the session
    existing = existing_ids(session, fresh)
    first_seq = state.last_seq

    def context(mutation: dict[str, Any], careful: bool = False) -> Context:
        return Context(session, clock, user, device_id, effective_time(mutation["device_time"], offset, now),
                       mutation["seq"], standing, units, {} if careful else existing)

    def apply_all(careful: bool) -> list[dict[str, Any]]:
        state.last_seq = first_seq
        results = []
        for mutation in mutations:
            ctx = context(mutation, careful)
            if mutation["seq"] <= first_seq:
                results.append(_answered_again(session, ctx, mutation, answered.get(mutation["seq"])))
                continue
            answer = apply_one(session, ctx, mutation) if careful else _apply_quickly(session, ctx, mutation)
            session.add(SyncReceipt(device_id=device_id, seq=mutation["seq"], result=answer, received_at=now))
            state.last_seq = mutation["seq"]
            results.append(answer)
        return results

    # The common batch, new findings only, is written in bulk. Otherwise, optimistically, the
    # whole batch in one savepoint with one flush, so rows go out in batches; the first
    # mutation that does not apply cleanly sends the whole batch round again, each mutation
    # in its own savepoint, where one failure cannot touch the others.
    results = None
    if len(fresh) == len(mutations) and bulk.plain(mutations, existing):
        results = bulk.apply(session, context, mutations, now)
        if results is not None:
            state.last_seq = mutations[-1]["seq"]
    if results is None:
        attempt = session.begin_nested()
        try:
            results = apply_all(careful=False)
            session.flush()
            attempt.commit()
        except (_Careful, sa.exc.IntegrityError):
            attempt.rollback()
            results = apply_all(careful=True)

    telemetry = request["telemetry"]
    state.last_push_at = now
    state.clock_offset_ms = int(offset / dt.timedelta(milliseconds=1))
    state.telemetry = {**state.telemetry, **{k: v for k, v in telemetry.items() if v not in (None, "")}}
    session.add(DevicePush(device_id=device_id, received_at=now, clock_offset_ms=state.clock_offset_ms,
                           mutations=len(mutations), outbox_depth=telemetry.get("outbox_depth"),
                           oldest_unsynced_age_s=telemetry.get("oldest_unsynced_age_s"),
                           app_version=telemetry.get("app_version") or "",
                           schema_version=telemetry.get("schema_version")))
    return {"protocol": PROTOCOL_VERSION, "results": results, "acknowledged_seq": state.last_seq,
            "server_time": now}


def _lock_state(session: Session, device_id: uuid.UUID) -> DeviceSyncState:
    # The first lock of the global order (server.sync.locks): on PostgreSQL the row lock queues
    # a second push of the same device.
    insert = upsert(session, DeviceSyncState)
    session.execute(insert.values(device_id=device_id, last_seq=0, telemetry={}).on_conflict_do_nothing())
    return session.scalars(sa.select(DeviceSyncState).where(DeviceSyncState.device_id == device_id)
                           .with_for_update()).one()


def _receipts(session: Session, device_id: uuid.UUID, seqs: list[int], probe: Context) -> dict[int, dict[str, Any]]:
    if not seqs:
        return {}
    rows = session.execute(sa.select(SyncReceipt.seq, SyncReceipt.result).where(
        SyncReceipt.device_id == device_id, SyncReceipt.seq.in_(seqs)))
    return {seq: _refreshed(session, result, probe) for seq, result in rows}


def _refreshed(session: Session, answer: dict[str, Any], probe: Context) -> dict[str, Any]:
    """A stored answer, re-sent with the record as it is now: the same outcome, but a copy
    taken before another device changed or deleted the record would overwrite what the phone
    has pulled since, and a deleted record would come back as a ghost. A record the caller may
    no longer read, or its devices no longer pull, is answered as pulls answer it: gone."""
    if "server" not in answer and "deleted" not in answer:
        return answer
    model = next((m for m, spec in feed.REGISTRY.items() if spec.entity == answer["entity"]), None)
    record = session.get(model, _record_id(model, answer)) if model is not None else None
    fresh = {k: v for k, v in answer.items() if k not in ("server", "deleted")}
    fresh.update(_seen(probe, record) if record is not None else {"deleted": True})
    return fresh


def _seen(ctx: Context, record: Any) -> dict[str, Any]:
    """What an answer says of a record as it is now: its copy where the caller may read it, and
    ``deleted: true`` where the caller's devices will not hold it — voided, or where no pull of
    theirs brings it (:func:`pulled`). The phone then drops its copy, as on a tombstone; left
    there it would be a ghost no pull ever corrects."""
    if not readable(ctx, record):
        return {"deleted": True}
    view = _server_view(record)
    if not pulled(ctx, case_of(ctx.session, record)):
        view["deleted"] = True
    return view


def _settled(ctx: Context, mutation: dict[str, Any], applied: Applied) -> dict[str, Any]:
    """What the answer to an applied mutation says of its record: the server's copy when it
    differs from the device's (merged, duplicate), and whether the device keeps it at all. Only
    a finding can land outside the pusher's pulls (routed by its place), or a late change."""
    if applied.outcome in (Outcome.MERGED, Outcome.DUPLICATE):
        return _seen(ctx, applied.record)
    # The copy is serialised only for the rare record that leaves the phone, not for every finding.
    if (applied.late or mutation["entity"] == "finding") and not pulled(ctx, case_of(ctx.session, applied.record)):
        return _seen(ctx, applied.record)
    return {}


def _record_id(model: type, answer: dict[str, Any]) -> Any:
    # The stored answer names the record as sent; a respond's copy is of its order (same id).
    key = sa.inspect(model).primary_key[0]
    return uuid.UUID(answer["id"]) if isinstance(key.type, sa.Uuid) else int(answer["id"])


def _server_copy(record: Any) -> dict[str, Any] | None:
    spec = feed.REGISTRY.get(model_of(record))
    return json.loads(feed.payload(record, spec)) if spec else None


def _server_view(record: Any) -> dict[str, Any]:
    """What a result says of the record as the server holds it: its copy, and whether it is gone.

    A deleted record (a voided finding or order) comes as its voided copy with ``deleted:
    true``: the device learns what happened to it, and removes it as a pull would (its
    tombstone may be behind the device's cursor already, so no pull would remove it).
    """
    spec = feed.REGISTRY.get(model_of(record))
    if spec is not None and spec.gone(record):
        return {"server": _server_copy(record), "deleted": True}
    return {"server": _server_copy(record)}


def _answered_again(session: Session, ctx: Context, mutation: dict[str, Any],
                    receipt: dict[str, Any] | None) -> dict[str, Any]:
    """A mutation at or below the device's mark: its stored answer if it is the one answered
    then; otherwise it is kept, not applied (a supervisor can replay it).

    Never received (no receipt): applying it now could undo later edits the device made. A
    receipt for another record or op under the same ``seq``: the app reused a number, and
    answering the old receipt would tell it a change was applied that never was (§7.2).
    """
    if receipt is not None and (receipt["entity"], receipt["id"], receipt["op"]) == (
            mutation["entity"], str(mutation["id"]), mutation["op"].value):
        return receipt
    ctx.seq = mutation["seq"]
    if receipt is None:
        rejected = Rejected(ProblemCode.SEQUENCE_INVALID, "This mutation arrived after later ones from the same "
                            "device were applied; it is kept for a supervisor to replay.")
    else:
        rejected = Rejected(ProblemCode.SEQUENCE_INVALID, f"Sequence {mutation['seq']} was used already by this "
                            f"device for a {receipt['op']} of {receipt['entity']} {receipt['id']}; this mutation "
                            "was not applied and is kept for a supervisor to replay. Never reuse a seq.")
    exists = session.scalar(sa.select(sa.exists().where(QuarantinedMutation.device_id == ctx.device_id,
                                                        QuarantinedMutation.seq == mutation["seq"])))
    return _quarantine(session, ctx, mutation, rejected, store=not exists)


def _quarantine(session: Session, ctx: Context, mutation: dict[str, Any], exc: Rejected, *,
                store: bool = True) -> dict[str, Any]:
    problem = {"type": exc.code.type_uri, "code": exc.code.value, "title": exc.detail, "status": exc.status}
    if exc.errors:
        problem["errors"] = exc.errors
    extra = {}
    # Never to someone outside the record's scope: the refusal must not leak the record.
    current = None if exc.code is ProblemCode.NOT_IN_SCOPE else _current(session, mutation)
    if current is not None and readable(ctx, current):
        # The device's optimistic copy is wrong (a refused delete or edit): here is the real one.
        extra["server"] = _server_copy(current)
    if store:
        # The edit time is kept, so a replay later competes with other edits as of when it was made.
        kept = {**_jsonable(mutation), "effective_time": ctx.at.astimezone(dt.timezone.utc).isoformat()}
        session.add(QuarantinedMutation(device_id=ctx.device_id, user_id=ctx.user.id, seq=mutation["seq"],
                                        mutation=kept, problem=problem, received_at=ctx.clock.now()))
    return result(mutation, Outcome.REJECTED, problem=problem, **extra)


def _current(session: Session, mutation: dict[str, Any]) -> Any:
    model = next((m for m, spec in feed.REGISTRY.items() if spec.entity == mutation["entity"]), None)
    if model is None or mutation["op"].value == "create":
        return None
    found = session.get(model, mutation["id"])
    return None if found is None or feed.REGISTRY[model].gone(found) else found


class _Careful(Exception):
    """A mutation did not apply cleanly: the batch must be applied one savepoint at a time."""


def _apply_quickly(session: Session, ctx: Context, mutation: dict[str, Any]) -> dict[str, Any]:
    ctx.seq = mutation["seq"]
    try:
        applied = apply(ctx, mutation)
    except (Rejected, Refused) as exc:
        raise _Careful() from exc
    if applied.late:
        raise _Careful()  # late changes are audited on the careful path
    return result(mutation, applied.outcome, **_settled(ctx, mutation, applied))


def apply_one(session: Session, ctx: Context, mutation: dict[str, Any]) -> dict[str, Any]:
    """Apply one mutation in its own savepoint and answer it: whatever fails is rolled back
    alone and answered (rejected and quarantined, or a conflict kept for a person)."""
    ctx.seq = mutation["seq"]
    savepoint = session.begin_nested()
    try:
        applied: Applied = apply(ctx, mutation)
        session.flush()
    except sa.exc.IntegrityError:
        # A reference to a record that does not exist (an unknown item or team id): the database
        # caught it. Rejected like any bad field, so the device's queue moves on.
        savepoint.rollback()
        return _quarantine(session, ctx, mutation, Rejected(
            ProblemCode.INVALID_FIELDS, "The mutation refers to a record that does not exist."))
    except Rejected as exc:
        savepoint.rollback()
        return _quarantine(session, ctx, mutation, exc)
    except Refused as exc:
        savepoint.rollback()
        view = _server_view(exc.record) if readable(ctx, exc.record) else {}
        problem = {"type": exc.code.type_uri, "code": exc.code.value, "title": exc.detail, "status": 409}
        session.add(SyncConflict(entity=mutation["entity"], entity_id=str(mutation["id"]), device_id=ctx.device_id,
                                 seq=mutation["seq"], kind=exc.code.value, needs_person=True,
                                 created_at=ctx.clock.now(),
                                 detail={"mutation": _jsonable(mutation), "server": view.get("server")}))
        return result(mutation, Outcome.CONFLICT, problem=problem, **view)
    savepoint.commit()
    if applied.late:
        record(session, ctx.clock, "sync.late_change", actor_id=ctx.user.id, device_id=ctx.device_id,
               entity=mutation["entity"], entity_id=mutation["id"],
               reason="pushed after the unit left the user's scope", data={"seq": mutation["seq"]})
    extra = _settled(ctx, mutation, applied)
    if applied.late:
        extra["late"] = True
    return result(mutation, applied.outcome, **extra)


def _jsonable(mutation: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(mutation, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return str(value)
