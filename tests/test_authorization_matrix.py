"""The authorization matrix (issue 13): every operation of the OpenAPI document, for every role,
against every kind of foreign object, and every push mutation kind likewise.

What is asserted is written here, not derived from the server's rules: which role sees which
object (VISIBLE), which roles an operation admits at all (the rows of MATRIX). For each call:

- anonymous: 401; a role the operation does not admit: 403;
- an object the role may not see: 404, and nothing written (the fingerprint of the domain
  tables and the feed is unchanged);
- an object it may see: an answer, not 404 and never a server error;
- a list: the objects the role sees, and none it does not; a pull: none it does not.

An operation of the OpenAPI document without a row fails the test, so a new endpoint cannot
arrive without its row.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from server.auth.models import Role
from sync_protocol.version import PROTOCOL_VERSION
from tests import factories
from tests.attachments.test_photos import jpeg, store  # noqa: F401 (a fixture)
from tests.test_auth import bearer, login
from tests.world import finding_fields

ROLES = ("anonymous", "inspector", "other_inspector", "secret_member", "liaison", "other_liaison",
         "supervisor", "other_supervisor", "admin")
USERNAMES = {"inspector": "alice", "other_inspector": "bob", "secret_member": "dave", "liaison": "liaison",
             "other_liaison": "liaison2", "supervisor": "sup", "other_supervisor": "sup2", "admin": "root"}
ALL = frozenset(ROLES) - {"anonymous"}
STAFF = frozenset({"supervisor", "other_supervisor", "admin"})
ADMIN = frozenset({"admin"})

#: Who sees which object. inspector: team A (units 0, 1); other_inspector: team B (unit 2);
#: secret_member: the 暗访 team of unit 0; liaison: unit 0; other_liaison: unit 1;
#: other_supervisor: the supervisor of the other campaign, whose objects are the "foreign" ones.
_UNIT0 = {"inspector", "secret_member", "liaison", "supervisor", "admin"}
_SECRET = {"secret_member", "supervisor", "admin"}
_OTHER_CAMPAIGN = {"other_supervisor", "admin"}
VISIBLE: dict[str, set[str]] = {
    "own_order": _UNIT0,  # an open round's order on unit 0
    "other_unit_order": {"other_inspector", "supervisor", "admin"},  # unit 2's
    "secret_order": {"secret_member", "supervisor", "admin"},  # 暗访, findings not issued
    "triage_order": {"inspector", "supervisor", "admin"},  # no unit: its reporter and supervisors
    "foreign_order": {"other_supervisor", "admin"},  # another campaign's
    "own_finding": _UNIT0, "other_unit_finding": {"other_inspector", "supervisor", "admin"},
    "secret_finding": _SECRET, "triage_finding": {"inspector", "supervisor", "admin"},
    "foreign_finding": _OTHER_CAMPAIGN,
    "own_photo": _UNIT0, "secret_photo": _SECRET, "foreign_photo": _OTHER_CAMPAIGN,
    "own_request": _UNIT0, "secret_request": _SECRET, "foreign_request": _OTHER_CAMPAIGN,
    "own_unit": _UNIT0, "other_unit": {"other_inspector", "supervisor", "admin"}, "foreign_unit": _OTHER_CAMPAIGN,
    "open_round": {"inspector", "other_inspector", "liaison", "other_liaison", "supervisor", "admin"},
    "secret_round": {"secret_member", "supervisor", "admin"}, "foreign_round": {"other_supervisor", "admin"},
    # visits and answers: the inspectors' work, never a liaison's
    "own_work": {"inspector", "secret_member", "supervisor", "admin"}, "secret_work": _SECRET,
    "own_item": {"supervisor", "admin"}, "foreign_item": {"other_supervisor", "admin"},
    "liaison_notice": {"liaison"},
    # the office's setup of a campaign: its supervisors and admins, never the field or a liaison
    "own_campaign": STAFF - {"other_supervisor"}, "foreign_campaign": _OTHER_CAMPAIGN,
    "own_standard": STAFF - {"other_supervisor"}, "foreign_standard": _OTHER_CAMPAIGN,
    # a release only from the phone itself, by its owner
    "inspector_device": {"inspector"}, "nobodys_device": set(),
    "spare_token": ADMIN, "spare_user": ADMIN, "spare_device": ADMIN,
    # accounts: the same inspector, managed by their campaign's supervisors and admins; a fellow
    # supervisor of the campaign, whom a supervisor sees (403 to manage) but only admins manage;
    # the other campaign's inspector; an admin's account, which no supervisor sees
    "campaign_user": STAFF - {"other_supervisor"}, "campaign_staff": STAFF - {"other_supervisor"},
    "foreign_user": _OTHER_CAMPAIGN, "spare_admin": ADMIN,
    # a partial photo upload (tus): only the device and user that began it, not even an admin;
    # the one ended is the admin's, the last role walked, so the others try it while it exists
    "inspector_upload": {"inspector"}, "admin_upload": {"admin"},
    "none": set(),  # an id that exists nowhere
    "no_uuid": set(),  # a record id that exists nowhere
}


@dataclass(frozen=True)
class Row:
    #: The roles the operation admits at all (403 for the others).
    roles: frozenset[str]
    #: Parameter → the kinds of object to try in it: a path parameter, a field of the body (a
    #: dict), or else a query parameter (no body); path parameters not named take FIXED.
    objects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    body: Any = None
    #: The body is sent as a form (multipart), not JSON: the imports.
    form: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    #: For a list: object kinds whose ids must appear exactly where visible.
    lists: tuple[str, ...] = ()
    #: No token needed.
    public: bool = False


ORDERS = ("own_order", "other_unit_order", "secret_order", "triage_order", "foreign_order")
FINDINGS = ("own_finding", "other_unit_finding", "secret_finding", "triage_finding", "foreign_finding")
PHOTOS = ("own_photo", "secret_photo", "foreign_photo")
ROUNDS = ("open_round", "secret_round", "foreign_round")
REQUESTS = ("own_request", "secret_request", "foreign_request")
CAMPAIGNS = ("own_campaign", "foreign_campaign")
STANDARDS = ("own_standard", "foreign_standard")
ACCOUNTS = ("campaign_user", "campaign_staff", "foreign_user", "spare_admin")
_REASON = {"reason": "核查"}
_TUS = {"Tus-Resumable": "1.0.0"}
#: A ten-byte photo's upload begun (its bytes never come: nothing is stored).
_TUS_BEGIN = {**_TUS, "Upload-Length": "10", "Upload-Metadata": "sha256 " + base64.b64encode(b"ab" * 32).decode()}
#: An upload's first (empty) chunk: no byte changes, the offset is checked against the upload's.
_TUS_CHUNK = {**_TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(ALL, public=True),
    ("GET", "/api/v1/version"): Row(ALL, public=True),
    ("POST", "/api/v1/auth/login"): Row(ALL, public=True),
    ("POST", "/api/v1/auth/logout"): Row(frozenset()),  # run apart: it ends the token
    ("GET", "/api/v1/auth/me"): Row(ALL),
    ("POST", "/api/v1/auth/tokens/{token_id}/revoke"): Row(ADMIN, {"token_id": ("spare_token",)}, _REASON),
    ("POST", "/api/v1/users/{user_id}/revoke-tokens"): Row(ADMIN, {"user_id": ("spare_user",)}, _REASON),
    ("POST", "/api/v1/devices/{device_id}/revoke"): Row(ADMIN, {"device_id": ("spare_device",)}, _REASON),
    # a release the server refuses (outbox not drained) for the owner: nothing ends
    ("POST", "/api/v1/devices/{device_id}/release"): Row(ALL, {"device_id": ("inspector_device", "nobodys_device")},
                                                         {"last_seq": 10**9}),
    ("POST", "/api/v1/auth/password"): Row(ALL, body={"old_password": "x", "new_password": ""}),  # refused: no write
    ("POST", "/api/v1/auth/enrol"): Row(ALL, body={"code": "no such code"}, public=True),
    # accounts: each object is a spare account, never one whose token the walk uses (a reset and a
    # disable revoke them); a supervisor changes their campaign's inspectors' only (403 on a fellow
    # supervisor, 404 on an admin's or another campaign's), in the order disable, enable, enrol, reset
    ("GET", "/api/v1/users"): Row(STAFF, lists=ACCOUNTS),
    # the accounts a supervisor manages, of a campaign named in the query (tests/office/test_exports.py
    # reads the files: no admin and no other campaign's people in a supervisor's)
    ("GET", "/api/v1/users/export"): Row(STAFF, {"campaign_id": CAMPAIGNS}, query={"format": "csv"}),
    ("POST", "/api/v1/users"): Row(STAFF, {"campaign_id": CAMPAIGNS}, "new_user"),
    # into a campaign named in the form; no file: refused after the campaign is found
    ("POST", "/api/v1/users/import"): Row(STAFF, {"campaign_id": CAMPAIGNS}, {"dry_run": "true"}, form=True),
    ("POST", "/api/v1/users/{user_id}/enrolment"): Row(STAFF, {"user_id": (*ACCOUNTS, "none")}),
    ("POST", "/api/v1/users/{user_id}/password"): Row(STAFF, {"user_id": (*ACCOUNTS, "none")},
                                                      {"password": "巡查矩阵-Wq7#vLp2-重设", **_REASON}),
    ("POST", "/api/v1/users/{user_id}/disable"): Row(STAFF, {"user_id": (*ACCOUNTS, "none")}, _REASON),
    ("POST", "/api/v1/users/{user_id}/enable"): Row(STAFF, {"user_id": (*ACCOUNTS, "none")}, _REASON),
    ("GET", "/api/v1/units"): Row(ALL, lists=("own_unit", "other_unit", "foreign_unit")),
    ("GET", "/api/v1/units/{unit_id}"): Row(ALL, {"unit_id": ("own_unit", "other_unit", "foreign_unit")}),
    ("GET", "/api/v1/units/{unit_id}/zones"): Row(ALL, {"unit_id": ("own_unit", "other_unit", "foreign_unit")}),
    ("GET", "/api/v1/rounds"): Row(ALL, lists=ROUNDS),
    ("GET", "/api/v1/rounds/{round_id}"): Row(ALL, {"round_id": ROUNDS}),
    ("GET", "/api/v1/findings"): Row(ALL, lists=FINDINGS),
    ("GET", "/api/v1/findings/{finding_id}"): Row(ALL, {"finding_id": FINDINGS}),
    ("GET", "/api/v1/visits"): Row(ALL),
    ("GET", "/api/v1/visits/{visit_id}"): Row(ALL, {"visit_id": ("no_uuid",)}),
    ("GET", "/api/v1/orders"): Row(ALL, lists=ORDERS),
    ("GET", "/api/v1/orders/{order_id}"): Row(ALL, {"order_id": ORDERS}),
    ("GET", "/api/v1/orders/export/{fmt}"): Row(ALL),
    ("POST", "/api/v1/orders/{order_id}/comments"): Row(ALL, {"order_id": ORDERS}, {"text": "请尽快整改"}),
    # the other campaign's order, at a state verify refuses: answered per item, nothing written
    ("POST", "/api/v1/orders/bulk/{action}"): Row(ALL, body="bulk"),
    ("POST", "/api/v1/orders/{order_id}/assign"): Row(ALL, {"order_id": ORDERS}, "assign"),
    ("POST", "/api/v1/orders/{order_id}/respond"): Row(ALL, {"order_id": ORDERS}, {"measures": "已整改"}),
    ("POST", "/api/v1/orders/{order_id}/verify"): Row(ALL, {"order_id": ORDERS}, {"note": ""}),
    ("POST", "/api/v1/orders/{order_id}/reject"): Row(ALL, {"order_id": ORDERS}, _REASON),
    ("POST", "/api/v1/orders/{order_id}/extend"): Row(ALL, {"order_id": ORDERS}, {"extra": "1wd", **_REASON}),
    ("POST", "/api/v1/orders/{order_id}/escalate"): Row(ALL, {"order_id": ORDERS}, {"reason": "督办"}),
    ("POST", "/api/v1/orders/{order_id}/park"): Row(ALL, {"order_id": ORDERS},
                                                    {"review_at": "2027-01-04T09:00:00+08:00", **_REASON}),
    ("POST", "/api/v1/orders/{order_id}/resume"): Row(ALL, {"order_id": ORDERS}, _REASON),
    ("POST", "/api/v1/orders/{order_id}/void"): Row(ALL, {"order_id": ORDERS}, _REASON),
    ("POST", "/api/v1/orders/{order_id}/requests"): Row(ALL, {"order_id": ORDERS},
                                                        {"kind": "extension", "extra": "2wd", **_REASON}),
    ("GET", "/api/v1/order-requests"): Row(ALL, lists=REQUESTS),
    ("POST", "/api/v1/order-requests/{request_id}/decision"): Row(ALL, {"request_id": REQUESTS},
                                                                  {"approve": False, "note": "不同意"}),
    ("POST", "/api/v1/rounds/{round_id}/findings/issue"): Row(ALL, {"round_id": ("foreign_round",)}),
    ("GET", "/api/v1/escalation-policy"): Row(ALL),
    ("PUT", "/api/v1/escalation-policy"): Row(ADMIN, body={"name": "x"}),
    ("GET", "/api/v1/escalation-policy/{version}"): Row(ALL),
    ("POST", "/api/v1/sync/push"): Row(ALL),  # the push matrix below
    ("GET", "/api/v1/sync/pull"): Row(ALL, query={"protocol": PROTOCOL_VERSION}),
    ("GET", "/api/v1/sync/quarantine"): Row(STAFF, lists=("own_item", "foreign_item")),
    ("POST", "/api/v1/sync/quarantine/{item_id}/replay"): Row(STAFF, {"item_id": ("foreign_item",)}),
    ("POST", "/api/v1/sync/quarantine/{item_id}/dismiss"): Row(STAFF, {"item_id": ("own_item", "foreign_item")},
                                                              {"reason": "核实无误"}),
    ("GET", "/api/v1/sync/conflicts"): Row(STAFF),
    ("GET", "/api/v1/sync/devices"): Row(STAFF),
    ("GET", "/api/v1/photos/{sha256}"): Row(ALL, {"sha256": PHOTOS}),
    ("HEAD", "/api/v1/photos/{sha256}"): Row(ALL, {"sha256": PHOTOS}),
    ("GET", "/api/v1/photos/{sha256}/{variant}"): Row(ALL, {"sha256": PHOTOS}),
    ("HEAD", "/api/v1/photos/{sha256}/{variant}"): Row(ALL, {"sha256": PHOTOS}),
    ("GET", "/api/v1/photos/{sha256}/metadata"): Row(ALL, {"sha256": PHOTOS}),
    ("GET", "/api/v1/photo-flags"): Row(STAFF),
    ("POST", "/api/v1/uploads/"): Row(ALL, headers=_TUS_BEGIN),
    ("HEAD", "/api/v1/uploads/{upload_id}"): Row(ALL, {"upload_id": ("inspector_upload", "none")}, headers=_TUS),
    ("PATCH", "/api/v1/uploads/{upload_id}"): Row(ALL, {"upload_id": ("inspector_upload", "none")},
                                                  headers=_TUS_CHUNK),
    ("DELETE", "/api/v1/uploads/{upload_id}"): Row(ALL, {"upload_id": ("admin_upload", "none")},
                                                   headers=_TUS),
    ("GET", "/api/v1/notifications"): Row(ALL),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Row(ALL, {"notification_id": ("liaison_notice",)}),
    ("POST", "/api/v1/notifications/read-all"): Row(ALL),
    ("GET", "/api/v1/admin/deliveries"): Row(ADMIN),
    ("POST", "/api/v1/admin/deliveries/{delivery_id}/resend"): Row(ADMIN, {"delivery_id": ("none",)}),
    ("GET", "/api/v1/holidays/{year}"): Row(ALL),
    ("PUT", "/api/v1/holidays/{year}"): Row(ADMIN, body={"days": "not a list"}),
    ("GET", "/api/v1/rounds/{round_id}/assessment"): Row(STAFF, {"round_id": ROUNDS}),
    ("PUT", "/api/v1/rounds/{round_id}/assessment"): Row(STAFF, {"round_id": ("foreign_round",)}, "assessment"),
    ("GET", "/api/v1/rounds/{round_id}/scores"): Row(STAFF, {"round_id": ROUNDS}),
    ("GET", "/api/v1/rounds/{round_id}/score-sheet"): Row(STAFF, {"round_id": ROUNDS}),
    ("POST", "/api/v1/rounds/{round_id}/circulars"): Row(STAFF, {"round_id": ("foreign_round",)}, body={}),
    ("GET", "/api/v1/rounds/{round_id}/circulars"): Row(ALL, {"round_id": ROUNDS}),
    ("GET", "/api/v1/circulars/{circular_id}"): Row(ALL, {"circular_id": ("none",)}),
    ("PUT", "/api/v1/circulars/{circular_id}"): Row(STAFF, {"circular_id": ("none",)}, "circular"),
    ("POST", "/api/v1/circulars/{circular_id}/publish"): Row(STAFF, {"circular_id": ("none",)}),
    ("GET", "/api/v1/circulars/{circular_id}/docx"): Row(ALL, {"circular_id": ("none",)}),
    ("GET", "/api/v1/circulars/{circular_id}/html"): Row(ALL, {"circular_id": ("none",)}),
    ("GET", "/api/v1/circulars/{circular_id}/score-sheet"): Row(STAFF, {"circular_id": ("none",)}),
    # the office: campaigns, standards, setting rounds up, results entered without phones
    ("GET", "/api/v1/campaigns"): Row(STAFF, lists=CAMPAIGNS),
    ("POST", "/api/v1/campaigns"): Row(ADMIN, body={"name": "矩阵新建双创"}),
    ("GET", "/api/v1/campaigns/{campaign_id}"): Row(STAFF, {"campaign_id": CAMPAIGNS}),
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): Row(STAFF, {"campaign_id": CAMPAIGNS}, {"office": "市双创办"}),
    ("GET", "/api/v1/standards"): Row(STAFF, lists=STANDARDS),
    ("GET", "/api/v1/standards/{standard_id}"): Row(STAFF, {"standard_id": STANDARDS}),
    ("GET", "/api/v1/standards/{standard_id}/export"): Row(STAFF, {"standard_id": STANDARDS}, query={"format": "csv"}),
    ("POST", "/api/v1/standards/{standard_id}/publish"): Row(STAFF, {"standard_id": STANDARDS}),
    # into a campaign named in the form; no file: refused after the campaign is found
    ("POST", "/api/v1/standards/import"): Row(STAFF, {"campaign_id": CAMPAIGNS}, {"code": "STDX", "name": "细则"},
                                              form=True),
    ("POST", "/api/v1/units/import"): Row(STAFF, {"campaign_id": CAMPAIGNS}, {"dry_run": "true"}, form=True),
    ("GET", "/api/v1/units/export"): Row(STAFF, {"campaign_id": CAMPAIGNS}, query={"format": "xlsx"}),
    ("POST", "/api/v1/zones/import"): Row(STAFF, {"campaign_id": CAMPAIGNS}, {"dry_run": "true"}, form=True),
    ("POST", "/api/v1/rounds"): Row(STAFF, {"campaign_id": CAMPAIGNS}, "new_round"),
    ("PATCH", "/api/v1/rounds/{round_id}"): Row(STAFF, {"round_id": ROUNDS}, {"ends_on": "2026-10-31"}),
    ("POST", "/api/v1/rounds/{round_id}/teams/import"): Row(STAFF, {"round_id": ROUNDS}, {"dry_run": "true"},
                                                            form=True),
    ("POST", "/api/v1/rounds/{round_id}/assignments/import"): Row(STAFF, {"round_id": ROUNDS}, {"dry_run": "true"},
                                                                  form=True),
    ("POST", "/api/v1/rounds/{round_id}/results/import"): Row(STAFF, {"round_id": ROUNDS}, {"dry_run": "true"},
                                                              form=True),
    ("PUT", "/api/v1/rounds/{round_id}/results"): Row(STAFF, {"round_id": ROUNDS}, {"results": []}),
    ("GET", "/api/v1/rounds/{round_id}/teams/export"): Row(STAFF, {"round_id": ROUNDS}, query={"format": "csv"}),
    ("GET", "/api/v1/rounds/{round_id}/assignments/export"): Row(STAFF, {"round_id": ROUNDS},
                                                                 query={"format": "csv"}),
    ("GET", "/api/v1/rounds/{round_id}/results/export"): Row(STAFF, {"round_id": ROUNDS}, query={"format": "csv"}),
    ("POST", "/api/v1/bulletins/issue"): Row(STAFF, query={"start": "2026-10-01", "end": "2026-10-31"}),
    ("GET", "/api/v1/bulletins"): Row(STAFF, query={"start": "2026-10-01", "end": "2026-10-31"}),
    ("GET", "/api/v1/bulletins/docx"): Row(STAFF, query={"start": "2026-10-01", "end": "2026-10-31"}),
    ("GET", "/api/v1/bulletins/html"): Row(STAFF, query={"start": "2026-10-01", "end": "2026-10-31"}),
}

FIXED = {"version": "1", "year": "2026", "variant": "thumb", "fmt": "csv", "action": "verify"}


@dataclass
class Scene:
    ids: dict[str, str]
    tokens: dict[str, str]
    devices: dict[str, str]
    world: Any
    bodies: dict[str, Callable[[], Any]] = field(default_factory=dict)


def _push(client, token, device_id, seq, mutation, now):  # type: ignore[no-untyped-def]
    answer = client.post("/api/v1/sync/push", headers=bearer(token), json={
        "protocol": PROTOCOL_VERSION, "device_id": device_id, "sent_at": now.isoformat(), "telemetry": {},
        "mutations": [{"seq": seq, "base_version": 1, "device_time": now.isoformat(), "fields": {}, **mutation}]})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"][0]


@pytest.fixture
def scene(world, session, hasher, client, clock, store):  # type: ignore[no-untyped-def]  # noqa: F811
    users = world.users
    dave = factories.user(session, hasher, Role.INSPECTOR, campaign=world.campaign, username="dave")
    factories.user(session, hasher, Role.ADMIN, username="root")
    spare_admin = factories.user(session, hasher, Role.ADMIN, username="root2")
    spare = factories.user(session, hasher, Role.INSPECTOR, campaign=world.campaign, username="spare")
    fellow = factories.user(session, hasher, Role.SUPERVISOR, campaign=world.campaign, username="sup_spare")
    secret = factories.round_(session, world.campaign, world.standard, name="暗访", mode=factories.RoundMode.UNANNOUNCED)
    secret_team = factories.team(session, secret, members=[dave], units=[world.units[0]], name="暗访组")
    other = factories.campaign(session)
    foreign_unit = factories.unit(session, other)
    carol = factories.user(session, hasher, Role.INSPECTOR, campaign=other, username="carol")
    factories.user(session, hasher, Role.SUPERVISOR, campaign=other, username="sup2")
    foreign_standard = factories.standard(session, other, code=world.standard.code)
    foreign_round = factories.round_(session, other, foreign_standard)
    factories.team(session, foreign_round, members=[carol], units=[foreign_unit])
    ids = {"own_unit": str(world.units[0].id), "other_unit": str(world.units[2].id),
           "foreign_unit": str(foreign_unit.id), "open_round": str(world.round.id), "secret_round": str(secret.id),
           "foreign_round": str(foreign_round.id), "spare_user": str(spare.id),
           "campaign_user": str(spare.id), "campaign_staff": str(fellow.id), "foreign_user": str(carol.id),
           "spare_admin": str(spare_admin.id), "none": "987654",
           "secret_team": str(secret_team.id), "team_a": str(world.team_a.id),
           "own_campaign": str(world.campaign.id), "foreign_campaign": str(other.id),
           "own_standard": str(world.standard.id), "foreign_standard": str(foreign_standard.id),
           "no_uuid": str(uuid.uuid4())}
    session.commit()
    del users

    tokens, devices = {}, {}
    for role, name in {**USERNAMES, "carol": "carol", "spare": "spare"}.items():
        body = login(client, name, device_id=uuid.uuid4()).get_json()
        tokens[role], devices[role] = body["token"], body["device_id"]
    ids["spare_token"] = str(login(client, "spare", device_id=uuid.uuid4()).get_json()["token_id"])
    ids["spare_device"], ids["inspector_device"] = devices["spare"], devices["inspector"]
    ids["nobodys_device"] = devices["spare"]
    now = clock.now()
    seqs: dict[str, int] = {}

    def push(role: str, mutation: dict[str, Any]) -> dict[str, Any]:
        seqs[role] = seqs.get(role, 0) + 1
        return _push(client, tokens[role], devices[role], seqs[role], mutation, now)

    def finding(role: str, fields: dict[str, Any], photo: bytes | None = None) -> str:
        record_id = str(uuid.uuid4())
        sha = hashlib.sha256(photo).hexdigest() if photo else None
        answer = push(role, {"entity": "finding", "id": record_id, "op": "create",
                             "fields": {**fields, "photos": [sha] if sha else []}})
        assert answer["outcome"] == "applied", answer
        if photo:
            session.rollback()
            store(photo)
        return record_id

    images = {name: jpeg(colour=colour) for name, colour in
              (("own", (200, 10, 10)), ("secret", (10, 200, 10)), ("foreign", (10, 10, 200)))}
    own = finding("inspector", finding_fields(world.units[0].id), images["own"])
    other_unit = finding("other_inspector", finding_fields(world.units[2].id))
    secret_finding = finding("secret_member", {**finding_fields(world.units[0].id, description="暗访：后院垃圾"),
                                               "round_id": secret.id}, images["secret"])
    triage = finding("inspector", {"category": "市容秩序", "description": "路边野广告", "unit_id": None})
    foreign = finding("carol", finding_fields(foreign_unit.id), images["foreign"])
    session.rollback()
    for name, record_id in (("own", own), ("other_unit", other_unit), ("secret", secret_finding),
                            ("triage", triage), ("foreign", foreign)):
        ids[f"{name}_finding"] = record_id
        ids[f"{name}_order"] = session.scalar(sa.text("SELECT CAST(id AS VARCHAR(36)) FROM orders WHERE "
                                                      "CAST(finding_id AS VARCHAR(36)) IN (:a, :b)"),
                                              {"a": record_id, "b": record_id.replace("-", "")})
    session.rollback()
    for name, data in images.items():
        ids[f"{name}_photo"] = hashlib.sha256(data).hexdigest()
    # ids as the API writes them
    ids = {k: (str(uuid.UUID(v)) if k.endswith(("_order", "_finding")) else v) for k, v in ids.items()}
    for name, role in (("own", "liaison"), ("secret", "supervisor"), ("foreign", "other_supervisor")):
        made = client.post(f"/api/v1/orders/{ids[name + '_order']}/requests", headers=bearer(tokens[role]),
                           json={"kind": "extension", "extra": "2wd", "reason": "需要时间"})
        assert made.status_code == 201, made.get_json()
        ids[f"{name}_request"] = made.get_json()["id"]
    # one quarantined mutation in each campaign
    assert push("inspector", {"entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                              "fields": finding_fields(foreign_unit.id)})["outcome"] == "rejected"
    assert push("carol", {"entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                          "fields": finding_fields(world.units[0].id)})["outcome"] == "rejected"
    session.rollback()  # a fresh snapshot: the pushes committed elsewhere
    items = {row.user_id: str(row.id) for row in session.execute(sa.text("SELECT id, user_id FROM sync_quarantine"))}
    assert len(items) == 2, items
    ids["own_item"] = str(uuid.UUID(str(items[world.users["alice"].id])))
    ids["foreign_item"] = str(uuid.UUID(str(items[carol.id])))
    notice = session.scalar(sa.text("SELECT id FROM notifications WHERE user_id = :u"),
                            {"u": world.users["liaison"].id})
    ids["liaison_notice"] = str(notice) if notice is not None else "987655"
    # the default policy is stored on first read: before, not during, the walk
    assert client.get("/api/v1/escalation-policy", headers=bearer(tokens["admin"])).status_code == 200
    session.rollback()
    # work (visits) in the open and the unannounced round, and a response to unit 2's order
    for name, role, round_id, team in (("own_visit", "inspector", world.round.id, ids["team_a"]),
                                       ("secret_visit", "secret_member", secret.id, ids["secret_team"])):
        ids[name] = str(uuid.uuid4())
        assert push(role, {"entity": "visit", "id": ids[name], "op": "create", "fields": {
            "round_id": round_id, "unit_id": world.units[0].id, "team_id": int(team),
            "started_at": "2026-10-24T09:00:00+08:00"}})["outcome"] == "applied"
    # (a supervisor responds for unit 2: unit 0's order keeps its pending request)
    responded = client.post(f"/api/v1/orders/{ids['other_unit_order']}/respond",
                            headers=bearer(tokens["supervisor"]), json={"measures": "已清理"})
    assert responded.status_code == 200, responded.get_json()
    ids["other_unit_response"] = responded.get_json()["responses"][0]["id"]
    ids["item"] = str(session.scalar(sa.text("SELECT id FROM standard_items WHERE standard_id = :s"),
                                     {"s": world.standard.id}))
    session.rollback()
    for role in ("inspector", "admin"):
        begun = client.post("/api/v1/uploads/", headers={**bearer(tokens[role]), **_TUS_BEGIN})
        assert begun.status_code == 201, begun.get_data(as_text=True)
        ids[f"{role}_upload"] = begun.headers["Location"].rsplit("/", 1)[1]
    scene = Scene(ids, tokens, devices, world)
    scene.bodies = {
        # to the other campaign's unit: refused for this campaign's orders, and the other's
        # order is at that unit already: the walk moves no order
        "assign": lambda: {"unit_id": int(ids["foreign_unit"]), "reason": "改派"},
        "assessment": lambda: {"closing": "特此通报。"},
        # in the campaign the case names, scoring against the newest version of a code both have
        "new_round": lambda: {"name": "矩阵复查", "mode": "recheck", "starts_on": "2026-11-02",
                              "ends_on": "2026-11-06", "standard_code": world.standard.code},
        "bulk": lambda: {"order_ids": [ids["foreign_order"]], "note": ""},
        # an inspector without a password (set up by a code); the second role to try it finds it taken
        "new_user": lambda: {"username": "matrix_new", "display_name": "矩阵新人", "role": "inspector"},
        "circular": lambda: {"version": 1, "document": {"title": "通报", "sections": [{"heading": "基本情况"}]}},
    }
    return scene


#: What a call may change without being a write (a token's and device's last use, a pull's
#: bookkeeping) is left out: the rest of the domain and the feed.
_FINGERPRINT = sa.text("""SELECT
  (SELECT COUNT(*) FROM findings), (SELECT COALESCE(SUM(version), 0) FROM findings),
  (SELECT COUNT(*) FROM orders), (SELECT COALESCE(SUM(version), 0) FROM orders),
  (SELECT COUNT(*) FROM responses), (SELECT COUNT(*) FROM order_requests),
  (SELECT COUNT(*) FROM order_requests WHERE status = 'pending'),
  (SELECT COUNT(*) FROM photo_refs), (SELECT COUNT(*) FROM visits), (SELECT COUNT(*) FROM answers),
  (SELECT COUNT(*) FROM sync_quarantine WHERE status = 'open'), (SELECT COUNT(*) FROM audit_events),
  (SELECT COALESCE(MAX(seq), 0) FROM sync_rows), (SELECT COUNT(*) FROM devices WHERE released_at IS NOT NULL
   OR revoked_at IS NOT NULL), (SELECT COUNT(*) FROM auth_tokens WHERE revoked_at IS NOT NULL),
  (SELECT COUNT(*) FROM notifications WHERE read_at IS NOT NULL),
  (SELECT COUNT(*) FROM campaigns), (SELECT COUNT(*) FROM assessment_groups), (SELECT COUNT(*) FROM rounds),
  (SELECT COUNT(*) FROM standards), (SELECT COUNT(*) FROM standards WHERE published_at IS NOT NULL),
  (SELECT COUNT(*) FROM standard_items), (SELECT COUNT(*) FROM teams), (SELECT COUNT(*) FROM team_members),
  (SELECT COUNT(*) FROM assignments), (SELECT COUNT(*) FROM entered_results),
  (SELECT COUNT(*) FROM users WHERE active)""")


def fingerprint(session) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    found = tuple(session.execute(_FINGERPRINT).one())
    session.rollback()
    return found


def operations(client) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops
            if method in ("get", "head", "post", "put", "patch", "delete")}


def test_every_operation_has_a_row(client):
    documented = operations(client)
    assert documented - MATRIX.keys() == set(), "operations without a row in the authorization matrix"
    assert MATRIX.keys() - documented == set(), "rows for operations the API does not have"


def _call(client, method, path, token, body=None, query=None, form=False, more=None):  # type: ignore[no-untyped-def]
    headers = {**(bearer(token) if token else {}), **(more or {})}
    sent = {} if body is None else {"data": body, "content_type": "multipart/form-data"} if form else {"json": body}
    response = client.open(path, method=method, headers=headers, query_string=query or {}, **sent)
    response.get_data()
    response.close()
    return response


def _ids_in(body: Any) -> set[str]:
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    return {str(item["id"]) for item in items} if isinstance(items, list) else set()


def test_the_matrix(client, session, scene):
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    for (method, template), row in sorted(MATRIX.items()):
        if not row.roles:
            continue
        body = scene.bodies[row.body]() if isinstance(row.body, str) else row.body
        cases: list[tuple[str | None, str, Any, dict[str, Any]]] = [(None, template, body, row.query)]
        if row.objects:
            cases = []
            for param, kinds in row.objects.items():
                for kind in kinds:
                    if "{" + param + "}" in template:
                        cases.append((kind, template.replace("{" + param + "}", scene.ids[kind]), body, row.query))
                    elif body is not None:
                        cases.append((kind, template, {**body, param: scene.ids[kind]}, row.query))
                    else:
                        cases.append((kind, template, body, {**row.query, param: scene.ids[kind]}))
        cases = [(kind, _fixed(path), sent, query) for kind, path, sent, query in cases]
        for role in ROLES:
            token = scene.tokens.get(role)
            for kind, path, sent, query in cases:
                what = f"{role} {method} {path} ({kind})"
                before = fingerprint(session) if kind is not None else None
                response = _call(client, method, path, token, sent, query, row.form, row.headers)
                status = response.status_code
                if row.public:
                    expect(status < 500, f"{what}: {status}")
                    continue
                if role == "anonymous":
                    expect(status == 401, f"{what}: {status}, expected 401")
                elif role not in row.roles:
                    expect(status == 403, f"{what}: {status}, expected 403")
                elif kind is not None and role not in VISIBLE[kind]:
                    expect(status == 404, f"{what}: {status}, expected 404")
                else:
                    expect(status < 500 and status != 404, f"{what}: {status}")
                if kind is not None and (role not in VISIBLE[kind] or role not in row.roles):
                    expect(fingerprint(session) == before, f"{what}: wrote something")
                if row.lists and role in row.roles and status == 200:
                    seen = _ids_in(response.get_json())
                    for listed in row.lists:
                        expect((scene.ids[listed] in seen) == (role in VISIBLE[listed]),
                               f"{what}: {listed} {'missing' if role in VISIBLE[listed] else 'listed'}")
    assert failures == [], "\n".join(failures)


def _fixed(path: str) -> str:
    for param, value in FIXED.items():
        path = path.replace("{" + param + "}", value)
    return path


def test_a_pull_brings_nothing_out_of_scope(client, scene):
    secret_kinds = [k for k in VISIBLE if k.endswith(("_order", "_photo"))]
    for role in ALL:
        text, cursor = "", ""
        while True:
            page = client.get("/api/v1/sync/pull", headers=bearer(scene.tokens[role]),
                              query_string={"protocol": PROTOCOL_VERSION, "cursor": cursor, "limit": 1000})
            assert page.status_code == 200
            text += page.get_data(as_text=True)
            body = json.loads(page.get_data())
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        for kind in secret_kinds:
            if role not in VISIBLE[kind]:
                assert scene.ids[kind] not in text, f"{role} pulled {kind}"
        assert "暗访：后院垃圾" not in text or role in VISIBLE["secret_order"], role
        assert "device_id\": \"" + scene.devices["inspector"] not in text


# -- the push ----------------------------------------------------------------------------------

#: Each push mutation kind, on each kind of foreign record: (mutation, the object it names).
def _mutations(scene: Scene) -> list[tuple[str, dict[str, Any]]]:
    ids, world = scene.ids, scene.world
    out: list[tuple[str, dict[str, Any]]] = []
    for name in ("own", "other_unit", "secret", "triage", "foreign"):
        finding, order = ids[f"{name}_finding"], ids[f"{name}_order"]
        out += [
            (f"{name}_order", {"entity": "finding", "id": finding, "op": "update", "fields": {"description": "改"}}),
            (f"{name}_order", {"entity": "finding", "id": finding, "op": "delete"}),
            (f"{name}_order", {"entity": "photo", "id": str(uuid.uuid4()), "op": "create",
                               "fields": {"finding_id": finding, "sha256": "ef" * 32, "role": "before"}}),
            (f"{name}_order", {"entity": "order", "id": order, "op": "command", "command": "respond",
                               "fields": {"response_id": str(uuid.uuid4()), "measures": "已整改"}}),
            (f"{name}_order", {"entity": "order", "id": order, "op": "command", "command": "verify",
                               "fields": {"note": ""}}),
            (f"{name}_order", {"entity": "order", "id": order, "op": "command", "command": "reject",
                               "fields": {"reason": "未整改"}}),
            (f"{name}_order", {"entity": "order", "id": order, "op": "command", "command": "request",
                               "fields": {"request_id": str(uuid.uuid4()), "kind": "extension", "extra": "2wd",
                                          "reason": "需要时间"}}),
        ]
    for kind, visit in (("own_work", ids["own_visit"]), ("secret_work", ids["secret_visit"])):
        out += [(kind, {"entity": "visit", "id": visit, "op": "update", "fields": {"notes": "改"}}),
                (kind, {"entity": "answer", "id": str(uuid.uuid4()), "op": "create",
                        "fields": {"visit_id": visit, "item_id": int(ids["item"]), "result": "fail"}})]
    out.append(("other_unit_order", {"entity": "photo", "id": str(uuid.uuid4()), "op": "create", "fields": {
        "response_id": ids["other_unit_response"], "sha256": "ab" * 32, "role": "after"}}))
    # creates into a unit (and round) the role does not work on
    for kind, unit, round_ in (("own_unit", world.units[0].id, None), ("other_unit", world.units[2].id, None),
                               ("foreign_unit", int(ids["foreign_unit"]), None),
                               ("secret_order", world.units[0].id, int(ids["secret_round"]))):
        out.append((kind, {"entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                           "fields": {**finding_fields(unit), "round_id": round_}}))
        out.append((kind, {"entity": "visit", "id": str(uuid.uuid4()), "op": "create",
                           "fields": {"round_id": round_ or (int(ids["foreign_round"]) if kind == "foreign_unit"
                                                             else world.round.id),
                                      "unit_id": unit, "started_at": "2026-10-24T09:00:00+08:00"}}))
    return out


def test_the_push_matrix(client, session, scene, clock):
    """A role that may not see the record (or work on the unit) gets not_in_scope, or forbidden
    where it sees the record, never a copy of what it may not see, and nothing is written."""
    failures: list[str] = []
    seqs = dict.fromkeys(ALL, 1000)
    for kind, mutation in _mutations(scene):
        for role in sorted(ALL):
            # liaisons create nothing in the field: refused even where they see the unit
            creates = mutation["op"] == "create" and mutation["entity"] in ("finding", "visit")
            refused_role = creates and role in ("liaison", "other_liaison")
            if role in VISIBLE[kind] and not refused_role:
                continue
            seqs[role] += 1
            before = fingerprint(session)
            result = _push(client, scene.tokens[role], scene.devices[role], seqs[role], mutation, clock.now())
            what = f"{role} {mutation['entity']}.{mutation.get('command') or mutation['op']} on {kind}"
            code = (result.get("problem") or {}).get("code")
            allowed_codes = {"not_in_scope"} if role not in VISIBLE[kind] else {"forbidden", "not_in_scope"}
            if result["outcome"] != "rejected" or code not in allowed_codes:
                failures.append(f"{what}: {result['outcome']} {code}")
            if role not in VISIBLE[kind] and ("server" in result or "deleted" in result):
                failures.append(f"{what}: carries a record")
            after = fingerprint(session)
            # a refusal is kept in quarantine (one more open entry), nothing else
            if after[:10] != before[:10] or after[12:] != before[12:]:
                failures.append(f"{what}: wrote something")
    assert failures == [], "\n".join(failures)


def test_the_docs_table_is_the_rules():
    from pathlib import Path

    from server.auth.scope import rules_markdown

    text = (Path(__file__).parent.parent / "docs" / "api.md").read_text("utf-8")
    table = text.split("<!-- who-may-do-what:start -->\n", 1)[1].split("<!-- who-may-do-what:end -->", 1)[0]
    assert table == rules_markdown(), "docs/api.md 'Who may do what' is not the rules: regenerate it"
