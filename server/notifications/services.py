"""Notifying people, and delivering the notices: the outbox and its scheduler job.

:func:`notify` writes notices and their outbox rows in the caller's transaction, so they
exist exactly when the event that caused them does. :func:`deliver_due` (the
``notifications.deliver`` job) sends what is due in three short steps: claim rows and
commit, talk to the mail server or webhook with no transaction open, record the results.
A claim is a lease on the rows (``claim_token``, ``next_attempt_at`` moved forward): two
schedulers never send the same row, and the rows of a scheduler that died mid-send become
due again when the lease runs out, so a notice is never lost (though after such a crash it
may arrive twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import User
from server.clock import Clock
from server.db import BULK_MIN_ROWS, insert_rows, new_id, unattached
from server.errors import Conflict, NotFound
from server.notifications.channels import Channel, Item, Message, Recipient, SendFailed, configured_channels
from server.notifications.models import Delivery, DeliveryChannel, DeliveryStatus, Notification
from server.notifications.texts import message_text
from server.sync import feed

log = logging.getLogger(__name__)

#: Rows per INSERT batch and per IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 500
#: A concurrent notify with the same dedupe keys makes our insert fail; we look again this often.
_INSERT_TRIES = 3
TITLE_MAX = 200
ERROR_MAX = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class Notice:
    """One event to tell some people of; see :func:`notify` for the fields."""

    user_ids: Sequence[int]
    kind: str
    title: str
    body: str
    data: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


def notify(session: Session, clock: Clock, *, user_ids: Iterable[int], kind: str, title: str, body: str,
           data: Mapping[str, Any], dedupe_key: str | None = None,
           config: Mapping[str, Any] | None = None) -> list[Notification]:
    """Notify ``user_ids`` in the caller's transaction (nothing is committed here).

    ``kind`` is dotted (``order.reminder``); ``title`` and ``body`` are the Chinese texts
    (see :mod:`server.notifications.texts`); ``data`` what the app links to (datetimes, UUIDs
    and enums are stored as text). A person who already has a notice with ``dedupe_key``
    gets no second one, even from another process at the same moment, so a job may safely
    repeat a step. Inactive users are skipped. Each notice also gets an outbox row per
    channel the person can be reached on: email when they have an address and SMTP is set
    up, the webhook when one is configured (``config``, by default the current app's).
    Returns the notices created.
    """
    notice = Notice(tuple(user_ids), kind, title, body, data, dedupe_key)
    return notify_many(session, clock, [notice], config=config)


def notify_many(session: Session, clock: Clock, notices: Iterable[Notice], *,
                config: Mapping[str, Any] | None = None) -> list[Notification]:
    """:func:`notify` for many events at once: a sweep over thousands of orders costs a few
    statements per 500 notices instead of several per order."""
    if config is None and has_app_context():
        config = current_app.config
    # Outside an app (a script with no config given) the notices are in-app only.
    channels = set(configured_channels(config)) if config is not None else set()
    wanted = _unique_rows(notices)
    emails = _active_recipients(session, {user_id for _n, user_id in wanted})
    wanted = [(n, user_id) for n, user_id in wanted if user_id in emails]
    created: list[Notification] = []
    for chunk in _chunks(wanted, CHUNK):
        created += _insert(session, clock, chunk, emails, channels)
    return created


def _unique_rows(notices: Iterable[Notice]) -> list[tuple[Notice, int]]:
    rows, seen = [], set()
    for notice in notices:
        if len(notice.kind) > 64 or (notice.dedupe_key is not None and len(notice.dedupe_key) > 128):
            raise ValueError("a notice kind has at most 64 characters and a dedupe_key at most 128")
        for user_id in notice.user_ids:
            key = (user_id, notice.dedupe_key if notice.dedupe_key is not None else id(notice))
            if key not in seen:
                seen.add(key)
                rows.append((notice, user_id))
    return rows


def _active_recipients(session: Session, user_ids: set[int]) -> dict[int, str]:
    """The email address (maybe empty) of each active user among ``user_ids``."""
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(user_ids), CHUNK):
        found.update(session.execute(sa.select(User.id, User.email).where(User.id.in_(chunk), User.active)).all())
    missing = user_ids - set(found)
    if missing:
        log.info("not notifying %d inactive or unknown users: %s", len(missing), sorted(missing)[:20])
    return found


def _insert(session: Session, clock: Clock, rows: list[tuple[Notice, int]], emails: dict[int, str],
            channels: set[DeliveryChannel]) -> list[Notification]:
    """Insert one chunk in a savepoint, hoping no dedupe key is taken (the usual case: callers
    notify on a change of state). If one is, because the step was notified before or another
    transaction is doing it now, the unique constraint refuses the chunk: roll the savepoint
    back, leave out the keys taken and try again."""
    fresh = rows
    for attempt in range(_INSERT_TRIES):
        if attempt:
            fresh = _not_yet_notified(session, rows)
        if not fresh:
            return []
        try:
            with session.begin_nested():
                return _write(session, clock, fresh, emails, channels)
        except IntegrityError:
            if attempt == _INSERT_TRIES - 1:
                raise
            log.info("a concurrent notify took some dedupe keys; retrying without them")
    raise AssertionError("unreachable")


def _not_yet_notified(session: Session, rows: list[tuple[Notice, int]]) -> list[tuple[Notice, int]]:
    keys = {n.dedupe_key for n, _u in rows if n.dedupe_key is not None}
    if not keys:
        return rows
    taken = set(session.execute(
        sa.select(Notification.user_id, Notification.dedupe_key)
        .where(Notification.dedupe_key.in_(keys), Notification.user_id.in_({u for _n, u in rows}))))
    return [(n, u) for n, u in rows if n.dedupe_key is None or (u, n.dedupe_key) not in taken]


def _write(session: Session, clock: Clock, rows: list[tuple[Notice, int]], emails: dict[int, str],
           channels: set[DeliveryChannel]) -> list[Notification]:
    now = clock.now()
    values = [{"user_id": user_id, "kind": n.kind, "title": _clip(n.title, TITLE_MAX), "body": n.body,
               "data": _jsonable(dict(n.data)), "dedupe_key": n.dedupe_key, "created_at": now, "read_at": None}
              for n, user_id in rows]
    # One multi-row INSERT per chunk with the ids back (a sweep writes thousands); the sync
    # feed publishes the notices to the person's phones from the same values at commit.
    ids = _insert_returning_ids(session, Notification.__table__, values)
    created = [unattached(Notification, {"id": ident, **row}) for ident, row in zip(ids, values)]
    outbox = [{"notification_id": n.id, "user_id": n.user_id, "channel": channel,
               "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": "",
               "message_id": "", "created_at": now}
              for n in created for channel in _reachable(channels, emails[n.user_id])]
    if outbox:
        insert_rows(session, Delivery.__table__, outbox)  # outbox rows are not synced: written as they are
    feed.written_in_bulk(session, created)  # last: a failed statement above leaves nothing staged
    return created


def _insert_returning_ids(session: Session, table: sa.Table, values: list[dict[str, Any]]) -> list[int]:
    """Insert the rows with one executemany and return their new ids, in the rows' order."""
    if session.get_bind().dialect.name == "postgresql":
        if len(values) < BULK_MIN_ROWS:  # a request's few notices: one statement
            return list(session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                        values).scalars())
        # The ids are drawn from the column's sequence first, so the rows go out with COPY:
        # INSERT ... RETURNING would send one huge statement text per page that the driver
        # parses again every time.
        ids = list(session.execute(sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id")))
                                   .select_from(sa.func.generate_series(1, len(values)))).scalars())
        insert_rows(session, table, [{"id": ident, **row} for ident, row in zip(ids, values)])
        return ids
    # SQLite hands out rowids one above the largest in insertion order, and the transaction
    # holds the database's only write lock from its first write, so the rows just written are
    # the last len(values) ids. (Asking SQLite for RETURNING in order costs a statement per row.)
    insert_rows(session, table, values)
    last = session.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
    return list(range(last - len(values) + 1, last + 1))


def _reachable(channels: set[DeliveryChannel], email: str) -> list[DeliveryChannel]:
    return [c for c in sorted(channels, key=lambda c: c.value) if c is not DeliveryChannel.EMAIL or email]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
            return dict(value)  # the usual notice data: nothing to convert
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    return value


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


# --- delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one run of :func:`deliver_due` did, counted in outbox rows (``messages``: emails and
    webhook calls made, a digest counting once)."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    messages: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in dataclasses.fields(self))


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    channel: DeliveryChannel
    attempts: int
    recipient: Recipient
    item: Item


def deliver_due(session_factory: Callable[[], Session], clock: Clock, config: Mapping[str, Any], *,
                channels: Mapping[DeliveryChannel, Channel] | None = None) -> DeliveryReport:
    """Send every due outbox row, a person's rows on one channel as one message (a digest when
    there are several), and record the outcome: sent; or retried after
    NOTIFY_RETRY_BASE_SECONDS × 2^(attempts-1); or, after NOTIFY_MAX_ATTEMPTS, dead.

    Safe to run in several processes at once. ``channels`` replaces the configured ones.
    """
    channels = configured_channels(config) if channels is None else channels
    report = DeliveryReport()
    while True:
        token, claimed = _claim(session_factory, clock, config)
        if not claimed:
            return report
        results = _send(claimed, channels)
        _record(session_factory, clock, config, token, results, report)
        if len(claimed) < config["NOTIFY_BATCH_SIZE"]:
            return report


def _claim(session_factory: Callable[[], Session], clock: Clock,
           config: Mapping[str, Any]) -> tuple[uuid.UUID, list[_Claimed]]:
    """Lease up to NOTIFY_BATCH_SIZE due rows, whole people at a time: taken by recipient, and
    the last recipient's remaining due rows with them, so no one's digest is cut in two."""
    token = uuid.uuid4()
    now = clock.now()
    lease = {"claim_token": token, "next_attempt_at": now + dt.timedelta(seconds=config["NOTIFY_CLAIM_SECONDS"])}
    is_due = (Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
    with session_factory() as session, session.begin():
        first = _take(session, sa.select(Delivery.id).where(*is_due)
                      .order_by(Delivery.user_id, Delivery.id).limit(config["NOTIFY_BATCH_SIZE"]), is_due, lease)
        if first:
            _take(session, sa.select(Delivery.id).where(*is_due, Delivery.user_id == first[-1][1]), is_due, lease)
        rows = session.execute(
            sa.select(Delivery.id, Delivery.channel, Delivery.attempts, User.id, User.username, User.display_name,
                      User.email, Notification.id, Notification.kind, Notification.title, Notification.body,
                      Notification.data, Notification.created_at)
            .join(Notification, Notification.id == Delivery.notification_id)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.claim_token == token)
            .order_by(Delivery.user_id, Delivery.channel, Notification.id))
        claimed = [_Claimed(d_id, channel, attempts, Recipient(u_id, username, name, email),
                            Item(n_id, kind, title, body, data, created_at))
                   for (d_id, channel, attempts, u_id, username, name, email,
                        n_id, kind, title, body, data, created_at) in rows]
    return token, claimed


def _take(session: Session, due: sa.Select[Any], is_due: tuple[sa.ColumnElement[bool], ...],
          lease: dict[str, Any]) -> list[Any]:
    """Lease the rows ``due`` selects; returns (id, user_id) of those taken, by user and id."""
    # SKIP LOCKED: rows another scheduler is claiming right now are left to it, not waited for
    # (PostgreSQL; SQLite has one writer at a time and ignores it). The outer conditions are
    # checked again on each row, so one claimed by a transaction that committed meanwhile is
    # not taken twice.
    taken = session.execute(sa.update(Delivery)
                            .where(Delivery.id.in_(due.with_for_update(skip_locked=True)), *is_due)
                            .values(lease).returning(Delivery.id, Delivery.user_id)
                            .execution_options(synchronize_session=False)).all()
    return sorted(taken, key=lambda row: (row[1], row[0]))


@dataclass(frozen=True)
class _Result:
    claimed: _Claimed
    message_id: str
    failure: SendFailed | None


def _send(claimed: list[_Claimed], channels: Mapping[DeliveryChannel, Channel]) -> list[_Result]:
    groups: dict[tuple[int, DeliveryChannel], list[_Claimed]] = defaultdict(list)
    for row in claimed:
        groups[(row.recipient.user_id, row.channel)].append(row)
    by_channel: dict[DeliveryChannel, list[tuple[Message, list[_Claimed]]]] = defaultdict(list)
    for (_user, channel), rows in groups.items():
        items = tuple(row.item for row in rows)
        text = message_text(items)
        message = Message(id=new_id().hex, recipient=rows[0].recipient, subject=text.subject, text=text.body,
                          items=items)
        by_channel[channel].append((message, rows))

    results: list[_Result] = []
    for channel, batch in by_channel.items():
        sender = channels.get(channel)
        if sender is None:  # turned off since the notices were written: kept, and dead in the end
            off = SendFailed(f"the {channel.value} channel is not configured")
            failures: list[SendFailed | None] = [off] * len(batch)
        else:
            failures = sender.send([message for message, _rows in batch])
        for (message, rows), failure in zip(batch, failures, strict=True):
            results += [_Result(row, message.id, failure) for row in rows]
    return results


def _record(session_factory: Callable[[], Session], clock: Clock, config: Mapping[str, Any], token: uuid.UUID,
            results: list[_Result], report: DeliveryReport) -> None:
    now = clock.now()
    updates = []
    report.messages += len({r.message_id for r in results if r.failure is None})
    for result in results:
        attempts = result.claimed.attempts + 1
        values: dict[str, Any] = {"_id": result.claimed.delivery_id, "attempts": attempts, "claim_token": None}
        if result.failure is None:
            values |= {"status": DeliveryStatus.SENT, "sent_at": now, "message_id": result.message_id,
                       "last_error": "", "next_attempt_at": now}
            report.sent += 1
        elif attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
            values |= {"status": DeliveryStatus.DEAD, "sent_at": None, "message_id": "",
                       "last_error": _clip(str(result.failure), ERROR_MAX), "next_attempt_at": now}
            report.dead += 1
            log.warning("notification delivery %s dead after %d attempts: %s",
                        result.claimed.delivery_id, attempts, result.failure)
        else:
            delay = dt.timedelta(seconds=config["NOTIFY_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1))
            values |= {"status": DeliveryStatus.PENDING, "sent_at": None, "message_id": "",
                       "last_error": _clip(str(result.failure), ERROR_MAX), "next_attempt_at": now + delay}
            report.retrying += 1
        updates.append(values)
    table = Delivery.__table__
    # Only the claimant records: after a lease ran out another run may have taken the row.
    statement = (sa.update(table).where(table.c.id == sa.bindparam("_id"), table.c.claim_token == token)
                 .values({name: sa.bindparam(name) for name in
                          ("attempts", "claim_token", "status", "sent_at", "message_id", "last_error",
                           "next_attempt_at")}))
    with session_factory() as session, session.begin():
        for chunk in _chunks(updates, CHUNK):
            session.connection().execute(statement, chunk)


# --- the person's feed, and the admin's dead letters -----------------------------------------


def mark_read(session: Session, clock: Clock, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notices read (again is harmless); someone else's is not found."""
    notice = session.get(Notification, notification_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound(f"No notification {notification_id}.")
    if notice.read_at is None:
        notice.read_at = clock.now()
    return notice


def mark_all_read(session: Session, clock: Clock, user: User) -> int:
    """Mark every unread notice of the user read; returns how many. Through the ORM, so each
    change reaches the user's phones."""
    unread = session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                           Notification.read_at.is_(None))).all()
    now = clock.now()
    for notice in unread:
        notice.read_at = now
    return len(unread)


def resend(session: Session, clock: Clock, delivery_id: int, actor_id: int) -> Delivery:
    """Give a dead delivery a fresh set of attempts, due now; recorded in the audit trail."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    if delivery.status is not DeliveryStatus.DEAD:
        raise Conflict(f"Delivery {delivery_id} is {delivery.status.value}; only a dead one can be resent.")
    record(session, clock, "notification.resent", actor_id=actor_id, entity="delivery", entity_id=delivery.id,
           data={"channel": delivery.channel.value, "attempts": delivery.attempts,
                 "last_error": delivery.last_error, "notification_id": delivery.notification_id})
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    delivery.claim_token = None
    return delivery
