"""Accounts over the API on a real database: who creates, imports, disables and resets whose
account (server.auth.scope.manages_account), and that each refusal writes nothing."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.auth.models import Role, User
from tests import factories
from tests.test_auth import PROBLEM, bearer, login
from tests.test_bad_input import row_counts
from tests.test_imports import USER_HEADER, write_xlsx

STRONG = "巡查-lantern-orchard-47"


@pytest.fixture
def office(session, hasher):  # type: ignore[no-untyped-def]
    """Two campaigns: ours (a supervisor, a fellow supervisor, an inspector, a liaison on a unit)
    and another (its inspector and unit); an admin over both."""
    ours, theirs = factories.campaign(session, name="安康市双创工作"), factories.campaign(session, name="别处双创")
    unit, foreign_unit = (factories.unit(session, ours, code="SJ", name="市审计局"),
                          factories.unit(session, theirs, code="XX", name="别处单位"))
    people = {
        "admin": factories.user(session, hasher, Role.ADMIN, username="root"),
        "sup": factories.user(session, hasher, Role.SUPERVISOR, campaign=ours, username="sup"),
        "fellow": factories.user(session, hasher, Role.SUPERVISOR, campaign=ours, username="fellow"),
        "insp": factories.user(session, hasher, Role.INSPECTOR, campaign=ours, username="insp"),
        "liai": factories.user(session, hasher, Role.LIAISON, campaign=ours, unit=unit, username="liai"),
        "carol": factories.user(session, hasher, Role.INSPECTOR, campaign=theirs, username="carol"),
    }
    session.commit()
    return {"ours": ours, "theirs": theirs, "unit": unit, "foreign_unit": foreign_unit,
            **{name: user.id for name, user in people.items()}}


def _token(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    answer = login(client, username, device_id=uuid.uuid4())
    assert answer.status_code == 200, answer.get_json()
    return bearer(answer.get_json()["token"])


def test_an_admin_creates_staff_and_field_accounts(client, session, office):
    admin = _token(client, "root")
    made = client.post("/api/v1/users", headers=admin, json={
        "username": "wang", "display_name": "王科长", "role": "supervisor", "campaign_id": office["ours"].id,
        "password": STRONG, "phone": "0915-3212345"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["role"] == "supervisor" and "password" not in made.get_json()
    assert login(client, "wang", STRONG).status_code == 200
    liaison = client.post("/api/v1/users", headers=admin, json={
        "username": "lily", "display_name": "李联络", "role": "liaison", "campaign_id": office["ours"].id,
        "unit_id": office["unit"].id})
    assert liaison.status_code == 201 and liaison.get_json()["unit_id"] == office["unit"].id
    root2 = client.post("/api/v1/users", headers=admin, json={
        "username": "root2", "display_name": "二号管理员", "role": "admin", "password": STRONG,
        "campaign_id": office["ours"].id})
    assert root2.status_code == 201 and root2.get_json()["campaign_id"] is None  # admins belong to no campaign
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.created",
                                                          AuditEvent.entity_id == str(liaison.get_json()["id"])))
    assert event.actor_id == office["admin"] and event.data["with_password"] is False


def test_an_account_made_without_a_password_is_set_up_by_its_code(client, session, office):
    sup = _token(client, "sup")
    made = client.post("/api/v1/users", headers=sup, json={"username": "xiaoli", "display_name": "小李",
                                                           "role": "inspector"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["campaign_id"] == office["ours"].id  # the supervisor's own
    for guess in ("", "xiaoli", "correct-horse-9"):
        assert login(client, "xiaoli", guess or "x").status_code in (401, 422)
    code = client.post(f"/api/v1/users/{made.get_json()['id']}/enrolment", headers=sup).get_json()["code"]
    enrolled = client.post("/api/v1/auth/enrol", json={"code": code, "device": {"id": str(uuid.uuid4())}})
    assert enrolled.status_code == 200 and enrolled.get_json()["user"]["username"] == "xiaoli"


@pytest.mark.parametrize("body, status, field", [
    ({"role": "admin", "password": STRONG}, 403, None),  # a supervisor makes no staff account
    ({"role": "supervisor", "password": STRONG}, 403, None),
    ({"role": "inspector", "campaign_id": "theirs"}, 404, None),  # another campaign: as if none
    ({"role": "liaison", "unit_id": "foreign_unit"}, 422, "unit_id"),
    ({"role": "liaison"}, 422, "unit"),
    ({"role": "inspector", "unit_id": "unit"}, 422, "unit"),
    ({"role": "inspector", "password": "password1"}, 422, "password"),
    ({"role": "inspector", "username": "insp"}, 409, None),  # taken
    ({"role": "inspector", "username": "two words"}, 422, "username"),
    ({"role": "inspector", "email": "not-an-address"}, 422, "email"),
    ({"role": "boss"}, 422, "role"),
])
def test_what_a_supervisor_may_not_create_writes_nothing(client, session, office, body, status, field):
    sup = _token(client, "sup")
    ids = {"theirs": office["theirs"].id, "foreign_unit": office["foreign_unit"].id, "unit": office["unit"].id}
    sent = {"username": "newbie", "display_name": "新人",
            **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}}
    before = row_counts(session)
    refused = client.post("/api/v1/users", headers=sup, json=sent)
    assert refused.status_code == status and refused.mimetype == PROBLEM, refused.get_json()
    if field:
        assert field in {e["field"] for e in refused.get_json()["errors"]}, refused.get_json()
    assert row_counts(session) == before


def test_staff_need_a_password(client, office):
    refused = client.post("/api/v1/users", headers=_token(client, "root"), json={
        "username": "boss", "display_name": "领导", "role": "supervisor", "campaign_id": office["ours"].id})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "password"


def test_a_supervisor_manages_their_campaigns_field_accounts_only(client, session, office):
    sup = _token(client, "sup")
    victim = _token(client, "insp")
    # their own inspector: disable (the token stops), enable, reset, set up a phone
    disabled = client.post(f"/api/v1/users/{office['insp']}/disable", headers=sup, json={"reason": "调离"})
    assert disabled.status_code == 200 and disabled.get_json()["revoked"] == 1
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401
    assert client.post(f"/api/v1/users/{office['insp']}/enable", headers=sup, json={}).status_code == 200
    assert client.post(f"/api/v1/users/{office['liai']}/password", headers=sup,
                       json={"password": STRONG}).status_code == 200
    assert login(client, "liai", STRONG).status_code == 200
    # a fellow supervisor: seen, not theirs (403); an admin's or another campaign's: not seen (404)
    before = row_counts(session)
    for target, status in (("fellow", 403), ("admin", 404), ("carol", 404), ("sup", 403)):
        for action, body in (("disable", {}), ("enable", {}), ("password", {"password": STRONG}),
                             ("enrolment", None)):
            answer = client.post(f"/api/v1/users/{office[target]}/{action}", headers=sup, json=body)
            assert answer.status_code == status, (target, action, answer.get_json())
    assert row_counts(session) == before
    listed = {u["username"] for u in client.get("/api/v1/users", headers=sup).get_json()["items"]}
    assert listed == {"sup", "fellow", "insp", "liai"}


def test_an_admin_cannot_disable_themselves_nor_a_supervisor_anyone_of_theirs(client, office):
    admin = _token(client, "root")
    assert client.post(f"/api/v1/users/{office['admin']}/disable", headers=admin, json={}).status_code == 409
    assert client.post(f"/api/v1/users/{office['fellow']}/disable", headers=admin, json={}).status_code == 200
    assert login(client, "fellow").status_code == 401


# -- importing --------------------------------------------------------------------------------

def _upload(client, headers, rows, *, dry_run: bool = False, name: str = "人员.xlsx", campaign_id=None,
            tmp_path):  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(write_xlsx(tmp_path / name, rows).read_bytes()), name)}
    if dry_run:
        data["dry_run"] = "true"
    if campaign_id is not None:
        data["campaign_id"] = str(campaign_id)
    return client.post("/api/v1/users/import", headers=headers, data=data, content_type="multipart/form-data")


def test_a_supervisors_bad_file_lists_every_row_and_writes_nothing(client, session, office, tmp_path):
    sup = _token(client, "sup")
    rows = [USER_HEADER,
            ["zhaoyi", "赵一", "检查员", "", "13800000001", "", ""],  # fine
            ["boss", "老板", "管理员", "", "", "", STRONG],  # staff: an admin's to create
            ["carol", "卡罗", "检查员", "", "", "", ""],  # another campaign's account
            ["fellow", "同事", "检查员", "", "", "", ""],  # a fellow supervisor's account
            ["ghost", "幽灵", "联络员", "NOPE", "", "", ""],  # no such unit
            ["insp", "检查员甲", "督查员", "", "", "", ""]]  # their inspector made a supervisor
    before = row_counts(session)
    refused = _upload(client, sup, rows, tmp_path=tmp_path)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    errors = [(e["line"], e["column"], e["message"]) for e in refused.get_json()["errors"]]
    assert errors == [
        (3, "role", "admin: only an admin creates staff accounts"),
        (4, "username", "is taken by an account you do not manage"),
        (5, "username", "is taken by an account you do not manage"),
        (6, "unit", errors[3][2]),
        (7, "role", "supervisor: only an admin creates staff accounts"),
    ]
    assert errors[3][2].startswith("no unit with code 'NOPE'")
    assert row_counts(session) == before


def test_a_supervisor_imports_their_people_checked_first(client, session, office, tmp_path):
    sup = _token(client, "sup")
    rows = [USER_HEADER,
            ["zhaoyi", "赵一", "检查员", "", "13800000001", "", ""],
            ["qianer", "钱二", "联络员", "SJ", "", "qian@example.cn", STRONG],
            ["insp", "检查员甲（改名）", "检查员", "", "", "", ""]]
    before = row_counts(session)
    checked = _upload(client, sup, rows, dry_run=True, tmp_path=tmp_path)
    assert checked.status_code == 200, checked.get_json()
    report = checked.get_json()
    assert (report["created"], report["updated"], report["dry_run"]) == (2, 1, True)
    assert report["generated_passwords"] == {}
    assert row_counts(session) == before

    done = _upload(client, sup, rows, tmp_path=tmp_path)
    assert done.status_code == 200, done.get_json()
    generated = done.get_json()["generated_passwords"]
    assert list(generated) == ["zhaoyi"]
    assert login(client, "zhaoyi", generated["zhaoyi"]).status_code == 200
    assert login(client, "qianer", STRONG).status_code == 200
    session.rollback()
    made = session.scalar(sa.select(User).where(User.username == "qianer"))
    assert (made.campaign_id, made.unit_id, made.role) == (office["ours"].id, office["unit"].id, Role.LIAISON)
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import.users"))
    assert event.actor_id == office["sup"] and event.data["created"] == 2


def test_an_import_into_another_campaign_is_404_and_no_file_is_422(client, session, office, tmp_path):
    sup = _token(client, "sup")
    rows = [USER_HEADER, ["zhaoyi", "赵一", "检查员", "", "", "", ""]]
    assert _upload(client, sup, rows, campaign_id=office["theirs"].id, tmp_path=tmp_path).status_code == 404
    missing = client.post("/api/v1/users/import", headers=sup, data={"dry_run": "true"},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "file"
    assert client.post("/api/v1/users/import", headers=_token(client, "insp"), data={},
                       content_type="multipart/form-data").status_code == 403


def test_a_reset_lifts_a_lockout(app_config, clock, office):
    from server import create_app

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per hour"}, clock=clock)
    try:  # its own engine, closed even when an assertion fails: PostgreSQL empties tables after
        client = app.test_client()
        for _ in range(3):
            assert login(client, "insp", "wrong-password1").status_code == 401
        assert login(client, "insp").status_code == 429  # locked out: even the right password waits
        reset = client.post(f"/api/v1/users/{office['insp']}/password", headers=_token(client, "sup"),
                            json={"password": STRONG, "reason": "锁定"})
        assert reset.status_code == 200, reset.get_json()
        assert login(client, "insp", STRONG).status_code == 200
    finally:
        app.extensions["xuncha.db"].dispose()
