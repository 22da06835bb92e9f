"""The scheduler's job table, and the process that runs it.

It is started only by ``xuncha scheduler`` (its own process), never by ``create_app`` or
a web worker: each gunicorn worker would otherwise run every job once more. Jobs decide
from the database state and the clock alone, so a second scheduler process or a
catch-up after downtime does no harm.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.orm import Session

from server.auth.services import purge_expired_tokens
from server.clock import Clock
from server.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    #: Stable: APScheduler and the logs know a job by it across restarts.
    id: str
    func: Callable[[Session, Clock], Any]
    trigger: Any
    description: str


def purge_sync_tombstones(session: Session, clock: Clock) -> int:
    from flask import current_app

    from server.sync.pull import purge_tombstones

    return purge_tombstones(session, clock, dt.timedelta(days=current_app.config["SYNC_TOMBSTONE_DAYS"]))


def expire_partial_uploads(session: Session, clock: Clock) -> int:
    from flask import current_app

    from server.attachments.uploads import expire_uploads

    return expire_uploads(current_app.config["MEDIA_ROOT"], clock.now())


JOBS: tuple[Job, ...] = (
    Job("auth.purge_expired_tokens", purge_expired_tokens, IntervalTrigger(hours=1),
        "Delete login tokens that expired or were revoked more than 30 days ago."),
    Job("sync.purge_tombstones", purge_sync_tombstones, IntervalTrigger(hours=24),
        "Forget deletions older than XUNCHA_SYNC_TOMBSTONE_DAYS; older cursors must start over."),
    Job("uploads.expire_partial", expire_partial_uploads, IntervalTrigger(hours=1),
        "Delete unfinished photo uploads older than XUNCHA_UPLOAD_EXPIRY_HOURS."),
)


def run_job(app: Flask, job: Job) -> Any:
    """Run one job in its own transaction, inside the app context."""
    with app.app_context():
        database: Database = app.extensions["xuncha.db"]
        clock: Clock = app.extensions["xuncha.clock"]
        with database.session() as session, session.begin():
            result = job.func(session, clock)
        log.info("job %s done: %s", job.id, result)
        return result


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    for job in JOBS:
        scheduler.add_job(run_job, job.trigger, args=(app, job), id=job.id, name=job.description,
                          replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=int(dt.timedelta(hours=1).total_seconds()),
                          next_run_time=dt.datetime.now(dt.timezone.utc))
    return scheduler
