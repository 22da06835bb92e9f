"""The fast path of a push: a batch of new findings written with one statement per table.

Most pushes are an inspector's new findings. Through the ORM each costs a unit of work
for the finding and its receipt and a re-read of every attribute for the feed; here the
batch is validated once, each finding becomes a row once, and the rows go out in one
executemany per table. The feed publishes the same rows with its own rules and payload
code (:func:`server.sync.feed.written_in_bulk`), and each finding's order is raised by the
order workflow as for any other finding, so its rules and audit trail stay in one place.

Anything this path does not handle plainly makes it step aside before it has written
anything that stays: another kind of mutation, fields that do not validate, an id that
exists, a change that arrives late, a finding that lands outside the pusher's pulls, photos to
attach, or any refusal of the database. The batch then takes the ordinary path, which answers
each of those properly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import insert_rows, unattached, with_defaults
from server.findings.models import Finding
from server.orders import services as orders
from server.sync import feed
from server.auth import scope
from server.sync.handlers import Context, Rejected, finding_row, load_fields, pulled, result
from server.sync.models import SyncReceipt
from sync_protocol.entities import ENTITIES
from sync_protocol.messages import Op, Outcome


def plain(mutations: list[dict[str, Any]], existing: dict[type, set[uuid.UUID]]) -> bool:
    """Whether the batch is new findings only, none of whose ids is taken: worth trying here."""
    return bool(mutations) and not any(existing.values()) and all(
        m["entity"] == "finding" and m["op"] is Op.CREATE for m in mutations)


def apply(session: Session, context: Callable[[dict[str, Any]], Context], mutations: list[dict[str, Any]],
          received_at: dt.datetime) -> list[dict[str, Any]] | None:
    """Apply a plain batch and write its receipts; None (and nothing written) if it is not plain."""
    rows: list[dict[str, Any]] = []
    contexts: list[Context] = []
    for mutation in mutations:
        ctx = context(mutation)
        try:
            fields = load_fields(ENTITIES["finding"].create, mutation["fields"])
            if fields["photos"]:
                return None  # attaching photos and waiting for them is the ordinary path's
            row, late = finding_row(ctx, mutation["id"], fields)
        except Rejected:
            return None
        if late or not pulled(ctx, scope.Case(row["campaign_id"], row["unit_id"], row["round_id"], row["reported_by"])):
            # A late change is audited, and one the pusher's devices will not pull is answered
            # as gone (server.sync.push), on the ordinary path.
            return None
        rows.append(with_defaults(Finding.__table__, row))
        contexts.append(ctx)

    results = [result(m, Outcome.APPLIED) for m in mutations]
    attempt = session.begin_nested()
    try:
        insert_rows(session, Finding.__table__, rows)
        findings = [unattached(Finding, row) for row in rows]  # copies: read by the order workflow and the feed
        pusher = contexts[0]  # one device, one user, one clock: the push's
        raised = orders.raise_orders(session, pusher.clock, findings, actor_id=pusher.user.id,
                                     device_id=pusher.device_id, in_bulk=True)
        insert_rows(session, SyncReceipt.__table__, [
            {"device_id": ctx.device_id, "seq": m["seq"], "result": answer, "received_at": received_at}
            for ctx, m, answer in zip(contexts, mutations, results)])
        session.flush()
    except sa.exc.IntegrityError:
        attempt.rollback()
        return None
    attempt.commit()
    feed.written_in_bulk(session, [*findings, *raised])
    return results
