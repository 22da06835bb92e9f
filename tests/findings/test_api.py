"""Findings and visits read by id and listed, within scope; an order's file with its evidence."""

from __future__ import annotations

import datetime as dt
import uuid

from server.visits.models import Visit
from tests.attachments.test_flags import BEFORE, ELSEWHERE, SCENE, SPOT, case, exif, sha, store  # noqa: F401
from tests.media.conftest import encode
from tests.orders.test_api import as_user  # noqa: F401


def test_an_orders_file_carries_its_finding_and_both_photos_with_exif_and_flags(client, world, clock, case,
                                                                                store, as_user):
    case.report(round_id=world.round.id, location_text="办公楼西侧")
    store(case.before)
    clock.advance(dt.timedelta(days=1))
    # Shot the day before the order and across the river: both flags, neither a refusal.
    after = encode(SCENE, quality=85, exif=exif(at=clock.now() - dt.timedelta(days=3), where=ELSEWHERE))
    store(after)
    case.respond(after)

    file = client.get(f"/api/v1/orders/{case.order_id}", headers=as_user("sup")).get_json()
    finding = file["finding"]
    assert (finding["id"], finding["location_text"], finding["latitude"], finding["longitude"]) == (
        case.finding_id, "办公楼西侧", SPOT[0], SPOT[1])
    assert (finding["round_id"], finding["round_name"]) == (world.round.id, world.round.name)
    assert (finding["reported_by"], finding["reporter_name"]) == (world.users["alice"].id,
                                                                  world.users["alice"].display_name)
    [before] = file["before_photos"]
    assert before["sha256"] == sha(case.before) and before["role"] == "before" and before["present"]
    assert abs(before["latitude"] - SPOT[0]) < 1e-4 and abs(before["longitude"] - SPOT[1]) < 1e-4
    assert dt.datetime.fromisoformat(before["captured_at"]) == clock.now() - dt.timedelta(days=1, minutes=5)
    [photo] = file["after_photos"]
    assert photo["sha256"] == sha(after) and photo["response_id"] == file["responses"][0]["id"]
    assert {f["kind"] for f in photo["flags"]} == {"taken_before_order", "far_from_finding"}
    assert [h["action"] for h in file["history"]] == ["order.raised", "order.responded"]


def test_a_finding_is_read_by_id_within_scope_only(client, world, case, as_user):
    case.report()
    own = client.get(f"/api/v1/findings/{case.finding_id}", headers=as_user("liaison"))
    assert own.status_code == 200, own.get_json()
    body = own.get_json()
    assert body["unit_name"] == world.units[0].name and body["photos"][0]["present"] is False  # not uploaded yet
    assert body["orders"] == [{"id": case.order_id, "status": "issued"}]
    for outsider in ("liaison2", "bob"):
        answer = client.get(f"/api/v1/findings/{case.finding_id}", headers=as_user(outsider))
        assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    assert client.get(f"/api/v1/findings/{uuid.uuid4()}", headers=as_user("sup")).status_code == 404


def test_findings_are_listed_with_filters_paged_and_an_unknown_filter_is_refused(client, world, phone, as_user):
    alice, bob = phone("alice"), phone("bob")
    made = [alice.create("finding", {"unit_id": world.units[0].id, "category": c, "description": "门前杂物"})
            for c in ("杂物乱堆", "占道经营", "杂物乱堆")]
    bob.create("finding", {"unit_id": world.units[2].id, "category": "杂物乱堆", "description": "绿化带垃圾"})
    alice.sync()
    bob.sync()

    def ids(query: dict[str, object], user: str = "sup") -> list[str]:
        response = client.get("/api/v1/findings", query_string=query, headers=as_user(user))
        assert response.status_code == 200, response.get_json()
        return [f["id"] for f in response.get_json()["items"]]

    assert set(ids({"category": "杂物乱堆", "unit_id": world.units[0].id})) == {made[2], made[0]}
    assert ids({"inspector_id": world.users["bob"].id}) != [] and made[0] not in ids({"inspector_id":
                                                                                       world.users["bob"].id})
    assert set(ids({}, "liaison")) == set(made)  # their unit only
    first = client.get("/api/v1/findings", query_string={"limit": 2}, headers=as_user("sup")).get_json()
    second = client.get("/api/v1/findings", query_string={"limit": 2, "after": first["next_after"]},
                        headers=as_user("sup")).get_json()
    assert len({f["id"] for f in first["items"] + second["items"]}) == 4 and second["next_after"] is None
    unknown = client.get("/api/v1/findings", query_string={"categroy": "杂物乱堆"}, headers=as_user("sup"))
    assert unknown.status_code == 422 and unknown.content_type == "application/problem+json"
    assert "categroy" in str(unknown.get_json()["errors"])


def test_visits_are_read_within_scope_and_never_by_a_unit(client, session, clock, world, as_user):
    def visit(unit: int, inspector: str) -> Visit:
        made = Visit(id=uuid.uuid4(), round_id=world.round.id, unit_id=world.units[unit].id,
                     inspector_id=world.users[inspector].id, started_at=clock.now(), methods="实地查看",
                     version=1, field_meta={})
        session.add(made)
        return made

    mine, theirs = visit(0, "alice"), visit(2, "bob")
    session.commit()
    read = client.get(f"/api/v1/visits/{mine.id}", headers=as_user("alice"))
    assert read.status_code == 200 and read.get_json()["unit_name"] == world.units[0].name
    assert read.get_json()["inspector_name"] == world.users["alice"].display_name
    assert client.get(f"/api/v1/visits/{theirs.id}", headers=as_user("alice")).status_code == 404
    assert client.get(f"/api/v1/visits/{mine.id}", headers=as_user("liaison")).status_code == 404
    assert client.get("/api/v1/visits", headers=as_user("liaison")).get_json()["items"] == []
    listed = client.get("/api/v1/visits", query_string={"round_id": world.round.id, "unit_id": world.units[2].id},
                        headers=as_user("sup")).get_json()["items"]
    assert [v["id"] for v in listed] == [str(theirs.id)]
    assert client.get("/api/v1/visits?team=1", headers=as_user("sup")).status_code == 422
