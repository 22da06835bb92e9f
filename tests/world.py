"""A small campaign (units, two teams, a round, one user per role), and phones wired to the test app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from sample_client import Device, WSGITransport
from server.auth.models import Role
from server.rounds.models import Round, RoundMode
from tests import factories
from tests.factories import PASSWORD


@dataclass
class World:
    campaign: Any
    units: list[Any]
    round: Any
    team_a: Any
    team_b: Any
    standard: Any
    users: dict[str, Any]


@pytest.fixture
def world(session, hasher) -> World:  # type: ignore[no-untyped-def]
    campaign = factories.campaign(session)
    units = [factories.unit(session, campaign, name=name) for name in ("市审计局", "市新华书店", "市财政局")]
    users = {
        "alice": factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="alice"),
        "bob": factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="bob"),
        "sup": factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="sup"),
        "liaison": factories.user(session, hasher, Role.LIAISON, campaign=campaign, unit=units[0], username="liaison"),
        "liaison2": factories.user(session, hasher, Role.LIAISON, campaign=campaign, unit=units[1],
                                   username="liaison2"),
    }
    standard = factories.standard(session, campaign)
    rnd = factories.round_(session, campaign, standard)
    team_a = factories.team(session, rnd, members=[users["alice"]], units=units[:2], name="第一检查组")
    team_b = factories.team(session, rnd, members=[users["bob"]], units=units[2:], name="第二检查组")
    session.commit()
    return World(campaign, units, rnd, team_a, team_b, standard, users)


@pytest.fixture
def phone(app, clock) -> Callable[..., Device]:  # type: ignore[no-untyped-def]
    """``phone("alice")``: a logged-in device; ``skew`` shifts its clock, ``drop`` loses answers."""

    def make(username: str, *, skew: dt.timedelta = dt.timedelta(0), drop: Any = None, **kwargs: Any) -> Device:
        device = Device(WSGITransport(app, drop=drop), clock=lambda: clock.now() + skew, **kwargs)
        device.login(username, PASSWORD)
        return device

    return make


def finding_fields(unit_id: int, **extra: Any) -> dict[str, Any]:
    return {"unit_id": unit_id, "category": "环境卫生", "description": "办公楼西侧杂物堆积墙边", **extra}


def make_secret_round(session, world: World) -> Round:  # type: ignore[no-untyped-def]
    rnd = factories.round_(session, world.campaign, world.standard, name="暗访", mode=RoundMode.UNANNOUNCED)
    factories.team(session, rnd, members=[world.users["bob"]], units=[world.units[0]], name="暗访组")
    session.commit()
    return rnd


def order_for_unit_finding(world: World, reporter: Any, receiver: Any) -> str:
    """The reporter records a finding on unit 0 and syncs; the receiver pulls its order's id."""
    reporter.create("finding", finding_fields(world.units[0].id))
    reporter.sync()
    receiver.pull()
    return next(i for (e, i) in receiver.store.records("order"))


def respond(liaison: Any, order_id: str, measures: str = "已清理") -> dict[str, Any]:
    import uuid

    liaison.command("order", order_id, "respond", {"response_id": str(uuid.uuid4()), "measures": measures})
    return liaison.push()[0]
