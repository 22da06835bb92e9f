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
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.orm import Session

from server.auth.services import purge_expired_tokens
from server.clock import Clock
from server.db import Database
from server.gcpause import gc_paused
from server.notifications.jobs import deliver_notifications

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


def sweep_media_temporary(session: Session, clock: Clock) -> int:
    from flask import current_app

    from server.attachments.storage import sweep_temporary

    return sweep_temporary(current_app.extensions["xuncha.media"], clock.now())


def expire_partial_uploads(session: Session, clock: Clock) -> int:
    from flask import current_app

    from server.attachments.uploads import expire_uploads

    return expire_uploads(current_app.config["MEDIA_ROOT"], clock.now())


def escalate_orders(session: Session, clock: Clock) -> Any:
    from server.orders.escalation import escalate_overdue

    return escalate_overdue(session, clock)


def remind_orders(session: Session, clock: Clock) -> int:
    from server.orders.escalation import send_reminders

    return send_reminders(session, clock)


def digest_for_supervisors(session: Session, clock: Clock) -> int:
    from server.orders.escalation import daily_digest

    return daily_digest(session, clock)


def purge_rate_limits(session: Session, clock: Clock) -> int:
    from server.auth.throttle_storage import purge_expired

    return purge_expired(session)


def flag_stale_devices(session: Session, clock: Clock) -> int:
    from server.orders.escalation import flag_stale_devices as flag

    return flag(session, clock)


JOBS: tuple[Job, ...] = (
    Job("auth.purge_expired_tokens", purge_expired_tokens, IntervalTrigger(hours=1),
        "Delete login tokens that expired or were revoked more than 30 days ago."),
    Job("auth.purge_rate_limits", purge_rate_limits, IntervalTrigger(hours=1),
        "Delete throttle counters whose window ended (XUNCHA_RATELIMIT_STORAGE_URI=database)."),
    Job("sync.purge_tombstones", purge_sync_tombstones, IntervalTrigger(hours=24),
        "Forget deletions older than XUNCHA_SYNC_TOMBSTONE_DAYS; older cursors must start over."),
    Job("uploads.expire_partial", expire_partial_uploads, IntervalTrigger(hours=1),
        "Delete unfinished photo uploads older than XUNCHA_UPLOAD_EXPIRY_HOURS."),
    Job("media.sweep_temporary", sweep_media_temporary, IntervalTrigger(hours=24),
        "Delete temporary files of photo writes cut off by a crash (filesystem media storage)."),
    Job("notifications.deliver", deliver_notifications, IntervalTrigger(minutes=1),
        "Send due notices by email and webhook, one digest per person; retry failures, dead-letter the hopeless."),
    Job("orders.escalate", escalate_orders, IntervalTrigger(minutes=5),
        "Escalate orders past their deadline to the next level (督办), one step per missed deadline."),
    Job("orders.remind", remind_orders, IntervalTrigger(minutes=5),
        "Remind units (and then their heads) as the policy's share of an order's time passes."),
    Job("orders.daily_digest", digest_for_supervisors, CronTrigger(hour=8, minute=30),
        "Each morning at 08:30 in XUNCHA_TIMEZONE: the supervisors' digest of what waits for them."),
    Job("devices.flag_stale", flag_stale_devices, IntervalTrigger(hours=1),
        "Tell supervisors of phones holding unsynced work longer than XUNCHA_DEVICE_STALE_HOURS."),
)


def run_job(app: Flask, job: Job) -> Any:
    """Run one job in its own transaction, inside the app context."""
    with app.app_context():
        database: Database = app.extensions["xuncha.db"]
        clock: Clock = app.extensions["xuncha.clock"]
        with gc_paused(), database.session() as session, session.begin():
            result = job.func(session, clock)
        log.info("job %s done: %s", job.id, result)
        return result


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    tz = ZoneInfo(app.config["TIMEZONE"])
    for job in JOBS:
        trigger = job.trigger
        if isinstance(trigger, CronTrigger):
            # A wall-clock time means the campaign's time, whatever zone the server runs in.
            trigger = CronTrigger(**{f.name: str(f) for f in trigger.fields if not f.is_default}, timezone=tz)
        # Interval jobs run at once on start (catching up after downtime); a daily job keeps its hour.
        first = {"next_run_time": dt.datetime.now(dt.timezone.utc)} if isinstance(trigger, IntervalTrigger) else {}
        scheduler.add_job(run_job, trigger, args=(app, job), id=job.id, name=job.description,
                          replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=int(dt.timedelta(hours=1).total_seconds()), **first)
    return scheduler
