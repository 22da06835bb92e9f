"""A bearer token is checked against the database on every request, a sync's pages included:
whatever ends it (logout, revocation, expiry, a disabled account or device, all possibly
done by another process) holds from the very next request."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.auth.models import AuthToken, Device, Role, User
from server.auth.services import LAST_USED_RESOLUTION
from tests import factories
from tests.factories import PASSWORD

#: Pages of one row, so a sync of the liaison's unit takes several requests.
PAGE = {"limit": 1}


@pytest.fixture
def people(session, hasher) -> dict[str, User]:  # type: ignore[no-untyped-def]
    campaign = factories.campaign(session)
    unit = factories.unit(session, campaign)
    found = {"admin": factories.user(session, hasher, Role.ADMIN, username="admin"),
             "liaison": factories.user(session, hasher, Role.LIAISON, campaign=campaign, unit=unit,
                                       username="liai")}
    session.commit()
    return found


def _login(client: FlaskClient, username: str) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                       "device": {"id": str(uuid.uuid4()), "platform": "android"}})
    assert response.status_code == 200
    return response.get_json()


def _pull(client: FlaskClient, token: str, cursor: str = "") -> Any:
    return client.get("/api/v1/sync/pull", query_string={**PAGE, "cursor": cursor},
                      headers={"Authorization": f"Bearer {token}"})


def _first_page(client: FlaskClient) -> tuple[dict[str, Any], str]:
    """The liaison's login and the cursor after the first page of a sync that has more."""
    login = _login(client, "liai")
    first = _pull(client, login["token"])
    assert first.status_code == 200 and first.get_json()["has_more"]
    return login, first.get_json()["cursor"]


def _set(session: Session, model: type, key: Any, **values: Any) -> None:
    """A change made elsewhere (the console, the CLI, another worker): its own transaction."""
    session.execute(sa.update(model).where(model.id == key).values(**values))
    session.commit()


Ending = Callable[[Session, dict[str, Any], dt.datetime], None]
ENDINGS: dict[str, tuple[Ending, int, str]] = {
    "token revoked": (lambda s, login, now: _set(s, AuthToken, login["token_id"], revoked_at=now), 401, "revoked"),
    "token expired": (lambda s, login, now: _set(s, AuthToken, login["token_id"], expires_at=now), 401, "expired"),
    "account disabled": (lambda s, login, now: _set(s, User, login["user"]["id"], active=False), 401, "disabled"),
    "device revoked": (lambda s, login, now: _set(s, Device, uuid.UUID(login["device_id"]), revoked_at=now),
                       403, "revoked"),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_next_page_of_a_sync_is_refused_once_the_token_is_ended(client, people, session, clock, ending):
    end, status, word = ENDINGS[ending]
    login, cursor = _first_page(client)
    end(session, login, clock.now())
    refused = _pull(client, login["token"], cursor)
    assert refused.status_code == status and word in refused.get_json()["detail"]


def test_a_logout_ends_the_sync_of_that_token_only(client, people):
    login, cursor = _first_page(client)
    other = _login(client, "liai")["token"]
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {login['token']}"}).status_code == 204
    assert _pull(client, login["token"], cursor).status_code == 401
    assert _pull(client, other).status_code == 200


def test_an_admin_revocation_holds_from_the_next_page(client, people):
    login, cursor = _first_page(client)
    admin = _login(client, "admin")["token"]
    revoked = client.post(f"/api/v1/auth/tokens/{login['token_id']}/revoke", json={},
                          headers={"Authorization": f"Bearer {admin}"})
    assert revoked.get_json() == {"revoked": 1}
    assert _pull(client, login["token"], cursor).status_code == 401


def test_pulls_note_when_a_token_and_its_device_were_last_used(client, people, session, clock):
    login, cursor = _first_page(client)
    token_id, device_id = login["token_id"], uuid.UUID(login["device_id"])

    def last_used() -> tuple[dt.datetime | None, dt.datetime | None]:
        session.rollback()  # a fresh look at what the requests committed
        return (session.get(AuthToken, token_id).last_used_at, session.get(Device, device_id).last_seen_at)

    assert last_used() == (clock.now(), clock.now())
    noted = clock.now()
    clock.advance(LAST_USED_RESOLUTION - dt.timedelta(seconds=1))
    cursor = _pull(client, login["token"], cursor).get_json()["cursor"]
    assert last_used() == (noted, noted)  # not written on every request
    clock.advance(dt.timedelta(seconds=1))
    assert _pull(client, login["token"], cursor).status_code == 200
    assert last_used() == (clock.now(), clock.now())


def test_views_get_the_callers_records(client, people):
    """Views other than pull read the user and token records; they still come with the request."""
    login = _login(client, "liai")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login['token']}"}).get_json()
    assert (me["user"]["username"], me["token_id"], me["device_id"]) == ("liai", login["token_id"],
                                                                         login["device_id"])
