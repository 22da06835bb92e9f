"""Setting up an inspector's phone with a one-time QR code instead of a typed password, over real
HTTP on a real database: issued by an admin or the campaign's supervisor, exchanged once for a
token bound to the phone, lapsing after its time, audited."""

from __future__ import annotations

import base64
import datetime as dt
import io
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import qrcode
import sqlalchemy as sa
from PIL import Image

from server.audit.models import AuditEvent
from server.auth.models import EnrolmentCode
from server.auth.services import hash_token
from tests import factories
from tests.test_auth import PROBLEM, bearer, login, world  # noqa: F401  (the fixture)

PHONE = {"id": str(uuid.uuid4()), "name": "巡查手机", "platform": "android", "app_version": "1.0"}


def _issue(client, token: str, user_id: int):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/users/{user_id}/enrolment", headers=bearer(token))


def _enrol(client, code: str, device=PHONE):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/enrol", json={"code": code, "device": device})


@pytest.fixture
def supervisor(client, world):  # type: ignore[no-untyped-def]
    return login(client, "sup").get_json()["token"]


def test_a_supervisor_sets_up_an_inspectors_phone_with_a_qr_code(client, world, session, clock, supervisor):
    inspector = world["inspector"]
    issued = _issue(client, supervisor, inspector.id)
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()
    assert dt.datetime.fromisoformat(body["expires_at"]) == clock.now() + dt.timedelta(minutes=15)
    uri = urlparse(body["uri"])
    assert (uri.scheme, uri.netloc) == ("xuncha", "enrol")
    assert parse_qs(uri.query) == {"server": ["http://localhost"], "code": [body["code"]]}
    # The PNG is the QR code of that URI, as the qrcode package draws it.
    with Image.open(io.BytesIO(base64.b64decode(body["qr_png"]))) as png:
        assert png.format == "PNG"
        expected = qrcode.make(body["uri"], box_size=8, border=4).get_image().convert("L")
        assert png.convert("L").tobytes() == expected.tobytes()
    stored = session.scalars(sa.select(EnrolmentCode)).all()
    assert [row.code_hash for row in stored] == [hash_token(body["code"])]  # never the code itself
    session.rollback()

    enrolled = _enrol(client, body["code"])
    assert enrolled.status_code == 200, enrolled.get_json()
    token = enrolled.get_json()
    assert token["user"]["username"] == "insp" and token["device_id"] == PHONE["id"]
    assert client.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 200

    # Once only.
    again = _enrol(client, body["code"], {**PHONE, "id": str(uuid.uuid4())})
    assert again.status_code == 401 and again.mimetype == PROBLEM
    session.rollback()
    events = [e.action for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.occurred_at))]
    assert "auth.enrolment_issued" in events and events.count("auth.enrolled") == 1


def test_a_code_lapses_and_a_new_one_voids_the_old(client, world, clock, supervisor):
    inspector = world["inspector"]
    lapsing = _issue(client, supervisor, inspector.id).get_json()["code"]
    clock.advance(dt.timedelta(minutes=15, seconds=1))
    assert _enrol(client, lapsing).status_code == 401
    first = _issue(client, supervisor, inspector.id).get_json()["code"]
    second = _issue(client, supervisor, inspector.id).get_json()["code"]
    assert _enrol(client, first).status_code == 401
    assert _enrol(client, second).status_code == 200


def test_who_may_issue_and_for_whom(client, world, session, hasher, clock, supervisor):
    inspector = login(client, "insp").get_json()["token"]
    assert _issue(client, inspector, world["liaison"].id).status_code == 403
    assert _issue(client, supervisor, world["supervisor"].id).status_code == 403  # staff type their password
    other = factories.user(session, hasher, factories.Role.INSPECTOR, campaign=factories.campaign(session, name="别处"),
                           username="elsewhere")
    session.commit()
    assert _issue(client, supervisor, other.id).status_code == 404  # another campaign's
    admin = login(client, "admin").get_json()["token"]
    assert _issue(client, admin, other.id).status_code == 201
    code = _issue(client, admin, world["liaison"].id).get_json()["code"]
    assert client.post(f"/api/v1/users/{world['liaison'].id}/disable", json={"reason": "离职"},
                       headers=bearer(admin)).status_code == 200
    assert _enrol(client, code).status_code == 401
    assert _enrol(client, "xe_guessed").status_code == 401
    bad = client.post("/api/v1/auth/enrol", json={"code": ""})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM


def test_the_command_writes_the_qr_code(run_cli, world, session, tmp_path):
    target = tmp_path / "qr.png"
    result = run_cli("enrol", "insp", "--server", "https://xuncha.example.gov.cn", "-o", str(target))
    assert result.exit_code == 0, result.output
    with Image.open(target) as image:
        assert image.format == "PNG"
    assert "valid once" in result.output
    refused = run_cli("enrol", "admin", "--server", "https://xuncha.example.gov.cn", "-o", str(target))
    assert refused.exit_code != 0 and "staff log in with their password" in refused.output
