from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.auth.models import Role
from server.worktime.models import HolidayYear
from tests import factories
from tests.factories import PASSWORD

BODY_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "days": [
        {"date": "2027-01-01", "kind": "off", "name": "元旦"},
        {"date": "2027-01-04", "kind": "off", "name": "元旦"},
        {"date": "2027-01-10", "kind": "work", "name": "调休上班"},
    ],
}


@pytest.fixture
def headers(client, session, hasher, world):  # type: ignore[no-untyped-def]
    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()

    def login(username: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/login", json={
            "username": username, "password": PASSWORD,
            "device": {"name": "测试机", "platform": "android", "app_version": "1.0"}})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return login


def test_anyone_logged_in_reads_a_year(client, headers):
    response = client.get("/api/v1/holidays/2026", headers=headers("liaison"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["confirmed"] is True and body["origin"] == "package" and body["loaded_at"] is None
    assert {"date": "2026-09-20", "name": "调休上班"} in body["make_up_days"]
    assert {"date": "2026-10-01", "name": "国庆节"} in body["days_off"]
    assert client.get("/api/v1/holidays/2027", headers=headers("alice")).get_json()["confirmed"] is False


def test_reading_needs_a_login(client):
    response = client.get("/api/v1/holidays/2026")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_an_admin_loads_a_year(client, headers, world, clock):
    response = client.put("/api/v1/holidays/2027", json=BODY_2027, headers=headers("root"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["confirmed"] is True and body["origin"] == "official" and body["reference"] == BODY_2027["source"]
    assert body["days_off"] == [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-04", "name": "元旦"}]
    assert body["make_up_days"] == [{"date": "2027-01-10", "name": "调休上班"}]
    assert body["loaded_at"].startswith(clock.now().strftime("%Y-%m-%dT%H:%M"))
    again = client.get("/api/v1/holidays/2027", headers=headers("sup")).get_json()
    assert again == body


def test_only_an_admin_loads(client, headers, session):
    response = client.put("/api/v1/holidays/2027", json=BODY_2027, headers=headers("sup"))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "forbidden"
    assert session.scalar(sa.select(sa.func.count()).select_from(HolidayYear)) == 0


@pytest.mark.parametrize("body,field", [
    ({"days": [{"date": "2027-02-30", "kind": "off"}]}, "days.0.date"),
    ({"days": [{"date": "2027-02-05", "kind": "holiday"}]}, "days.0.kind"),
    ({"days": [{"date": "2027-02-05", "kind": "off", "extra": 1}]}, "days.0.extra"),
    ({"source": "x"}, "days"),
    ({"days": [{"date": "2028-01-01", "kind": "off", "name": "元旦"}]}, "days.0.date"),
    ({"days": [{"date": "2027-02-10", "kind": "work"}, {"date": "2027-02-05", "kind": "off"}]}, "days.0.kind"),
    ({"days": [{"date": "2027-01-01", "kind": "off"}] * 367}, "days"),
])
def test_bad_input_is_a_problem_and_changes_nothing(client, headers, session, body, field):
    admin = headers("root")
    assert client.put("/api/v1/holidays/2027", json=BODY_2027, headers=admin).status_code == 200
    response = client.put("/api/v1/holidays/2027", json=body, headers=admin)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation_failed"
    assert field in [e["field"] for e in problem["errors"]], problem
    assert client.get("/api/v1/holidays/2027", headers=admin).get_json()["reference"] == BODY_2027["source"]


def test_a_year_outside_the_calendar(client, headers):
    response = client.get("/api/v1/holidays/2200", headers=headers("alice"))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "year"
