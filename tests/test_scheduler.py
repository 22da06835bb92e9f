"""The scheduler's job table and its runner (the jobs of later features add their own tests)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.auth.models import AuthToken, Role
from server.auth.services import issue_token, register_device, DeviceInfo
from server.scheduling import JOBS, build_scheduler, run_job
from tests import factories


def test_jobs_have_stable_unique_ids(app):
    ids = [job.id for job in JOBS]
    assert len(ids) == len(set(ids))
    scheduler = build_scheduler(app)
    assert {job.id for job in scheduler.get_jobs()} == set(ids)
    assert not scheduler.running  # building never starts it; only `xuncha scheduler` does


def test_create_app_starts_no_scheduler(app):
    assert not any("scheduler" in key for key in app.extensions)


def test_token_purge_keeps_recent_ones(app, session, hasher, clock):
    user = factories.user(session, hasher, Role.INSPECTOR)
    device = register_device(session, clock, user, DeviceInfo())
    old = issue_token(session, clock, user, device, dt.timedelta(days=1)).record.id
    clock.advance(dt.timedelta(days=20))
    fresh = issue_token(session, clock, user, device, dt.timedelta(days=1)).record.id
    session.commit()
    clock.advance(dt.timedelta(days=12))  # old expired 31 days ago, fresh 11 days ago

    purge = next(job for job in JOBS if job.id == "auth.purge_expired_tokens")
    assert run_job(app, purge) == 1
    session.rollback()  # a fresh transaction sees what the requests committed
    assert set(session.scalars(sa.select(AuthToken.id))) == {fresh}
    assert old != fresh


def test_scheduler_once_from_the_command_line(run_cli):
    result = run_cli("scheduler", "--once")
    assert result.exit_code == 0, result.output
    assert "auth.purge_expired_tokens: 0" in result.output
