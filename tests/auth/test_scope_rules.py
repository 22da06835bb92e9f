"""The scope module on its own: reaches, the read rule, its SQL rendering and the write table."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from server.auth import scope
from server.auth.models import Role
from server.campaigns.models import Campaign
from server.findings.models import Finding, Severity
from tests import factories
from tests.world import make_secret_round


@pytest.fixture
def rules(world, session, hasher):  # type: ignore[no-untyped-def]
    secret = make_secret_round(session, world)
    other = factories.campaign(session)
    sup2 = factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="sup2")
    session.commit()
    reach = {name: scope.reach_of(session, user) for name, user in {**world.users, "sup2": sup2}.items()}
    return world, secret, reach


def case(world, unit, round_id=None, owner=None):  # type: ignore[no-untyped-def]
    return scope.Case(world.campaign.id, world.units[unit].id if unit is not None else None, round_id,
                      world.users[owner].id if owner else None)


def test_reaches(rules):
    world, secret, reach = rules
    u = [unit.id for unit in world.units]
    assert reach["alice"].units == {u[0], u[1]} and reach["alice"].secret == frozenset()
    assert reach["bob"].units == {u[0], u[2]} and reach["bob"].secret == {(secret.id, u[0])}
    assert reach["liaison"].units == {u[0]} and reach["liaison"].secret == frozenset()
    assert reach["sup"].units == frozenset()  # staff go by campaign


def test_the_read_rule(rules, session):
    world, secret, reach = rules
    ordinary, hidden, triage = case(world, 0), case(world, 0, secret.id), case(world, None, owner="alice")
    assert [scope.reads(session, reach[n], ordinary) for n in ("alice", "liaison", "liaison2", "sup", "sup2")] == \
        [True, True, False, True, False]
    assert [scope.reads(session, reach[n], hidden) for n in ("alice", "bob", "liaison", "sup", "sup2")] == \
        [False, True, False, True, False]
    assert [scope.reads(session, reach[n], triage) for n in ("alice", "bob", "sup", "sup2")] == \
        [True, False, True, False]
    secret.findings_issued_at = dt.datetime(2026, 10, 31, tzinfo=dt.timezone.utc)
    session.commit()
    issued = scope.reach_of(session, world.users["liaison"])
    assert scope.reads(session, issued, hidden) and not scope.reads(session, reach["alice"], hidden)


def test_the_sql_rendering_agrees_with_the_rule(rules, session, clock):
    world, secret, reach = rules
    facts = [(0, None, "alice"), (0, secret.id, "bob"), (None, None, "alice"), (2, None, "bob"), (1, None, "sup")]
    for index, (unit, round_id, owner) in enumerate(facts):
        unit_id = world.units[unit].id if unit is not None else None
        session.add(Finding(id=uuid.uuid4(), campaign_id=world.campaign.id, unit_id=unit_id, round_id=round_id,
                            category="环境卫生", description=f"#{index}", severity=Severity.NORMAL,
                            reported_by=world.users[owner].id, observed_at=clock.now(), version=1, field_meta={}))
    session.commit()
    for name, who in reach.items():
        listed = set(session.scalars(sa.select(Finding.description).where(scope.findings_condition(who))))
        expected = {f.description for f in session.scalars(sa.select(Finding))
                    if scope.reads(session, who, scope.finding_case(f))}
        assert listed == expected, name


def test_writes_need_the_role_the_scope_and_for_some_the_ownership(rules, session):
    world, secret, reach = rules
    mine = case(world, 0, owner="alice")
    assert scope.may(session, reach["alice"], "finding.update", mine)
    assert not scope.may(session, reach["liaison"], "finding.update", mine)  # reads it, may not edit
    assert scope.refusal(session, reach["liaison"], "finding.update", mine) == "forbidden"
    assert not scope.may(session, reach["bob"], "finding.delete", mine)  # sees unit 0 through 暗访, not its reporter
    assert scope.may(session, reach["sup"], "finding.delete", mine)
    assert not scope.may(session, reach["liaison2"], "order.respond", mine)
    assert scope.refusal(session, reach["liaison2"], "order.respond", mine) == "not_in_scope"
    # a create must land where the caller works: being its author does not count
    assert not scope.may(session, reach["alice"], "finding.create", case(world, 2))
    assert scope.may(session, reach["alice"], "finding.create", case(world, None))
    assert not scope.may(session, reach["sup2"], "finding.create", case(world, None))


def test_the_office_setup_is_the_campaigns_supervisors_and_admins(rules, session, hasher):
    world, _secret, reach = rules
    admin = factories.user(session, hasher, Role.ADMIN, username="root")
    other = reach["sup2"].campaign_id
    session.commit()
    mine, theirs = world.campaign.id, other

    def listed(who) -> set[int]:  # type: ignore[no-untyped-def]
        return set(session.scalars(sa.select(Campaign.id).where(scope.campaign_condition(who, Campaign.id))))

    # an inspector or a liaison reaches no campaign's setup, not even their own campaign's
    assert [listed(reach[n]) for n in ("alice", "liaison", "sup", "sup2")] == [set(), set(), {mine}, {theirs}]
    assert listed(admin) >= {mine, theirs}
    assert scope.manages(reach["sup"], "round.update", mine)
    assert not scope.manages(reach["sup"], "round.update", theirs)
    assert not scope.manages(reach["alice"], "round.update", mine)
    assert scope.manages(admin, "round.enter_results", theirs)
    # the office's actions are not a case's, and a case's are not taken in a campaign
    with pytest.raises(AssertionError):
        scope.may(session, reach["sup"], "round.update", scope.Case(mine, None, None, None))
    with pytest.raises(AssertionError):
        scope.manages(reach["sup"], "order.void", mine)


def test_the_account_rule_and_its_sql_agree(world, session, hasher):
    """Who manages whose account (:func:`scope.manages_account`), and the people lists' condition
    (:func:`scope.accounts_condition`) from it: every caller against every kind of account."""
    from server.auth.models import User

    other = factories.campaign(session)
    people = {**world.users, "root": factories.user(session, hasher, Role.ADMIN, username="root"),
              "fellow": factories.user(session, hasher, Role.SUPERVISOR, campaign=world.campaign, username="fellow"),
              "sup2": factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="sup2"),
              "carol": factories.user(session, hasher, Role.INSPECTOR, campaign=other, username="carol")}
    session.commit()
    managed = {"root": set(people), "sup": {"alice", "bob", "liaison", "liaison2"}, "sup2": {"carol"},
               "alice": set(), "liaison": set()}
    for caller, expected in managed.items():
        who = people[caller]
        by_rule = {name for name, user in people.items() if all(
            scope.manages_account(who, action, user.role, user.campaign_id)
            for action, rule in scope.WRITES.items() if rule.ownership is scope.Ownership.ACCOUNT)}
        by_sql = set(session.scalars(sa.select(User.username).where(scope.accounts_condition(who))))
        assert by_rule == by_sql == expected, caller
    # creating: a supervisor never a staff account, nor one in another campaign
    sup = people["sup"]
    assert [scope.manages_account(sup, "user.create", role, world.campaign.id) for role in Role] == \
        [role in (Role.INSPECTOR, Role.LIAISON) for role in Role]
    assert not scope.manages_account(sup, "user.create", Role.INSPECTOR, other.id)
    assert not scope.manages_account(sup, "user.create", Role.INSPECTOR, None)
