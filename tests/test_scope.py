"""Who sees which units and rounds: the one scope mechanism, seen through the API."""

from __future__ import annotations

import datetime as dt

import pytest

from server.auth.models import Role
from server.rounds.models import RoundMode, RoundStatus
from tests import factories
from tests.test_auth import bearer, login


@pytest.fixture
def world(session, hasher):  # type: ignore[no-untyped-def]
    campaign = factories.campaign(session)
    other_campaign = factories.campaign(session)
    units = [factories.unit(session, campaign) for _ in range(4)]
    foreign = factories.unit(session, other_campaign)
    alice = factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="alice")
    bob = factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username="bob")
    active = factories.round_(session, campaign, name="明查")
    factories.team(session, active, members=[alice], units=units[:2])
    factories.team(session, active, members=[bob], units=units[2:3])
    planned = factories.round_(session, campaign, name="下一轮", status=RoundStatus.PLANNED)
    factories.team(session, planned, members=[alice], units=units[3:4])
    secret = factories.round_(session, campaign, name="暗访", mode=RoundMode.UNANNOUNCED)
    factories.team(session, secret, members=[bob], units=units[:1])
    factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="sup")
    factories.user(session, hasher, Role.LIAISON, campaign=campaign, unit=units[0], username="liaison0")
    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    return {"units": units, "foreign": foreign, "active": active, "planned": planned, "secret": secret}


def unit_ids(client, username):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/units", headers=bearer(login(client, username).get_json()["token"]))
    assert response.status_code == 200
    return {u["id"] for u in response.get_json()["items"]}


def round_names(client, username):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/rounds", headers=bearer(login(client, username).get_json()["token"]))
    return {r["name"] for r in response.get_json()["items"]}


def test_inspectors_see_the_units_of_their_teams_in_active_rounds(client, world):
    u = world["units"]
    # alice's planned-round unit stays hidden until that round is active
    assert unit_ids(client, "alice") == {u[0].id, u[1].id}
    # bob also has u0 through the active unannounced round
    assert unit_ids(client, "bob") == {u[0].id, u[2].id}


def test_supervisors_see_their_campaign_and_admins_everything(client, world):
    campaign_units = {u.id for u in world["units"]}
    assert unit_ids(client, "sup") == campaign_units
    assert unit_ids(client, "root") == campaign_units | {world["foreign"].id}


def test_a_liaison_sees_only_their_unit(client, world):
    token = login(client, "liaison0").get_json()["token"]
    assert unit_ids(client, "liaison0") == {world["units"][0].id}
    other = world["units"][1].id
    response = client.get(f"/api/v1/units/{other}", headers=bearer(token))
    assert response.status_code == 404  # out of scope looks exactly like absent
    assert client.get(f"/api/v1/units/{other}/zones", headers=bearer(token)).status_code == 404
    assert client.get(f"/api/v1/units/{world['units'][0].id}", headers=bearer(token)).status_code == 200


def test_unannounced_round_stays_hidden_from_the_unit_until_findings_are_issued(client, world, session):
    assert round_names(client, "liaison0") == {"明查"}
    secret = world["secret"]
    token = login(client, "liaison0").get_json()["token"]
    assert client.get(f"/api/v1/rounds/{secret.id}", headers=bearer(token)).status_code == 404
    secret = session.merge(secret)
    secret.findings_issued_at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    session.commit()
    assert round_names(client, "liaison0") == {"明查", "暗访"}
    detail = client.get(f"/api/v1/rounds/{secret.id}", headers=bearer(token)).get_json()
    assert detail["teams"] == []  # the unit learns of the round, not who inspected


def test_round_detail_lists_teams_for_inspectors(client, world):
    token = login(client, "alice").get_json()["token"]
    assert round_names(client, "alice") == {"明查"}
    detail = client.get(f"/api/v1/rounds/{world['active'].id}", headers=bearer(token)).get_json()
    assert len(detail["teams"]) == 2
    assert sorted(len(t["unit_ids"]) for t in detail["teams"]) == [1, 2]


def test_pages_walk_every_visible_unit_once(client, world):
    token = bearer(login(client, "root").get_json()["token"])
    seen, after = [], None
    while True:
        query = "/api/v1/units?limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=token).get_json()
        seen += [u["id"] for u in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5
