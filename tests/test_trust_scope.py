"""One scope for every path (issue 13): 暗访, triage findings and campaign boundaries, on REST
reads, photo reads, REST steps and every push mutation kind."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from server.attachments.models import PhotoRef
from server.auth.models import Role
from server.findings.models import Finding, FindingStatus
from server.orders.models import Order, OrderStatus, Response
from server.standards.models import StandardItem
from server.visits.models import Answer
from tests import factories
from tests.attachments.test_photos import fetch, jpeg, store  # noqa: F401 (a fixture)
from tests.test_auth import bearer
from tests.world import finding_fields, make_secret_round


@pytest.fixture
def other(session, hasher, world):  # type: ignore[no-untyped-def]
    """A second campaign with its own supervisor."""
    campaign = factories.campaign(session)
    factories.unit(session, campaign)
    sup2 = factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username="sup2")
    session.commit()
    return sup2


def token(phone, username):  # type: ignore[no-untyped-def]
    device = phone(username)
    return device, bearer(device.store.get("token"))


def only(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(results) == 1, results
    return results[0]


def refused(result: dict[str, Any], code: str = "not_in_scope") -> None:
    assert result["outcome"] == "rejected" and result["problem"]["code"] == code, result
    assert "server" not in result and "deleted" not in result


@pytest.fixture
def secret(world, session, phone, store):  # type: ignore[no-untyped-def]  # noqa: F811
    """bob, on the 暗访 team of unit 0, records a visit and a finding with a photo there; alice
    works on unit 0 in the open round but is not on the 暗访 team."""
    rnd = make_secret_round(session, world)
    data = jpeg(colour=(10, 120, 60))
    sha = hashlib.sha256(data).hexdigest()
    team_id = rnd.teams[0].id
    session.rollback()
    bob = phone("bob")
    visit = bob.create("visit", {"round_id": rnd.id, "unit_id": world.units[0].id, "team_id": team_id,
                                 "started_at": "2026-10-24T09:00:00+08:00"})
    finding = bob.create("finding", {**finding_fields(world.units[0].id, description="暗访：后院垃圾未清"),
                                     "visit_id": visit, "photos": [sha]})
    assert [r["outcome"] for r in bob.push()] == ["applied", "applied"]
    session.rollback()
    store(data, uuid.UUID(bob.device_id))
    order = session.scalar(sa.select(Order.id).where(Order.finding_id == uuid.UUID(finding)))
    return {"round": rnd, "visit": visit, "finding": finding, "order": str(order), "sha": sha, "bob": bob}


def test_an_open_rounds_inspector_sees_nothing_of_the_secret_round_on_rest(client, phone, secret):
    _, alice = token(phone, "alice")
    assert secret["order"] not in {o["id"] for o in client.get("/api/v1/orders", headers=alice).get_json()["items"]}
    assert client.get(f"/api/v1/orders/{secret['order']}", headers=alice).status_code == 404
    # 404 as for a record that does not exist, not 409 with the order's state
    step = client.post(f"/api/v1/orders/{secret['order']}/verify", json={"note": ""}, headers=alice)
    assert step.status_code == 404 and "status_now" not in step.get_json()
    assert fetch(client, f"/api/v1/photos/{secret['sha']}", alice).status_code == 404


def test_the_liaison_sees_a_secret_case_only_once_its_findings_are_issued(client, phone, secret):
    _, liaison = token(phone, "liaison")
    _, sup = token(phone, "sup")
    _, alice = token(phone, "alice")
    assert client.get(f"/api/v1/orders/{secret['order']}", headers=liaison).status_code == 404
    assert fetch(client, f"/api/v1/photos/{secret['sha']}", liaison).status_code == 404
    assert fetch(client, f"/api/v1/photos/{secret['sha']}/thumb", liaison).status_code == 404
    assert client.get(f"/api/v1/orders/{secret['order']}", headers=sup).status_code == 200
    assert fetch(client, f"/api/v1/photos/{secret['sha']}", sup).status_code == 200

    issued = client.post(f"/api/v1/rounds/{secret['round'].id}/findings/issue", headers=sup)
    assert issued.status_code == 200
    assert client.get(f"/api/v1/orders/{secret['order']}", headers=liaison).status_code == 200
    assert fetch(client, f"/api/v1/photos/{secret['sha']}", liaison).status_code == 200
    # the other inspectors of the unit still do not: the secret round was never theirs
    assert client.get(f"/api/v1/orders/{secret['order']}", headers=alice).status_code == 404


def test_the_liaison_writes_nothing_into_a_secret_case_on_push(world, phone, session, secret):
    liaison = phone("liaison")
    liaison.update("finding", secret["finding"], {"description": "已知悉"})
    refused(only(liaison.push()))
    liaison.command("order", secret["order"], "respond", {"response_id": str(uuid.uuid4()), "measures": "已整改"})
    refused(only(liaison.push()))
    item = session.scalar(sa.select(StandardItem.id).where(StandardItem.standard_id == world.standard.id))
    liaison.create("answer", {"visit_id": secret["visit"], "item_id": item, "result": "pass"})
    refused(only(liaison.push()))
    session.rollback()
    finding = session.get(Finding, uuid.UUID(secret["finding"]))
    assert finding.description == "暗访：后院垃圾未清" and finding.version == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_an_inspector_off_the_secret_team_writes_nothing_into_it(world, phone, session, secret):
    alice = phone("alice")
    alice.update("finding", secret["finding"], {"description": "改"})
    alice.update("visit", secret["visit"], {"notes": "改"})
    alice.create("photo", {"finding_id": secret["finding"], "sha256": "ab" * 32, "role": "before"})
    alice.delete("finding", secret["finding"])
    for result in alice.push():
        refused(result)
    # nor can she file a finding of her own under the secret round, with a unit or without
    alice.create("finding", {**finding_fields(world.units[0].id), "round_id": secret["round"].id})
    refused(only(alice.push()))
    alice.create("finding", {**finding_fields(None), "round_id": secret["round"].id})
    refused(only(alice.push()))
    session.rollback()
    assert session.get(Finding, uuid.UUID(secret["finding"])).version == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(PhotoRef)) == 1
    # the 暗访 team member may
    secret["bob"].update("finding", secret["finding"], {"description": "暗访：后院垃圾堆积"})
    assert only(secret["bob"].push())["outcome"] == "applied"


def test_a_liaison_creates_no_field_records_and_edits_no_finding(world, phone, session):
    alice = phone("alice")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.push()
    liaison = phone("liaison")
    liaison.create("finding", finding_fields(world.units[0].id))
    refused(only(liaison.push()), "forbidden")
    liaison.update("finding", finding, {"description": "不是问题"})
    answer = only(liaison.push())
    # the liaison may read this finding of its unit: it is told what the server holds
    assert answer["outcome"] == "rejected" and answer["problem"]["code"] == "forbidden"
    assert answer["server"]["description"] == "办公楼西侧杂物堆积墙边"
    liaison.create("visit", {"round_id": world.round.id, "unit_id": world.units[0].id,
                             "team_id": world.team_a.id, "started_at": "2026-10-24T09:00:00+08:00"})
    refused(only(liaison.push()))  # visits are the inspectors' work: liaisons never see them
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 1


def triage_finding(phone) -> tuple[Any, str]:  # type: ignore[no-untyped-def]
    alice = phone("alice")
    finding = alice.create("finding", {"category": "市容秩序", "description": "路边野广告", "unit_id": None})
    assert only(alice.push())["outcome"] == "applied"
    return alice, finding


def test_a_triage_finding_is_its_reporters_and_the_supervisors(world, phone, session, other):
    alice, finding = triage_finding(phone)
    session.rollback()
    assert session.get(Finding, uuid.UUID(finding)).unit_id is None
    for name in ("bob", "liaison", "sup2"):
        intruder = phone(name)
        intruder.update("finding", finding, {"description": "改"})
        intruder.create("photo", {"finding_id": finding, "sha256": "cd" * 32, "role": "before"})
        intruder.delete("finding", finding)
        for result in intruder.push():
            refused(result)
    session.rollback()
    found = session.get(Finding, uuid.UUID(finding))
    assert found.status is not FindingStatus.VOIDED and found.version == 1
    assert session.scalar(sa.select(Order.status).where(Order.finding_id == found.id)) is OrderStatus.TRIAGE
    assert session.scalar(sa.select(sa.func.count()).select_from(PhotoRef)) == 0

    alice.update("finding", finding, {"description": "路边野广告（两处）"})
    assert only(alice.push())["outcome"] == "applied"
    sup = phone("sup")
    sup.update("finding", finding, {"severity": "minor"})
    assert only(sup.push())["outcome"] in ("applied", "merged")


def test_a_supervisor_of_another_campaign_touches_nothing_of_this_one(world, phone, client, session, other):
    alice = phone("alice")
    finding = alice.create("finding", finding_fields(world.units[0].id))
    alice.push()
    order = str(session.scalar(sa.select(Order.id).where(Order.finding_id == uuid.UUID(finding))))
    sup2, headers = token(phone, "sup2")
    assert client.get(f"/api/v1/orders/{order}", headers=headers).status_code == 404
    assert order not in {o["id"] for o in client.get("/api/v1/orders", headers=headers).get_json()["items"]}
    assert client.post(f"/api/v1/orders/{order}/void", json={"reason": "x"}, headers=headers).status_code == 404
    sup2.delete("finding", finding)
    sup2.command("order", order, "verify", {"note": ""})
    sup2.update("finding", finding, {"description": "改"})
    for result in sup2.push():
        refused(result)
    session.rollback()
    assert session.get(Finding, uuid.UUID(finding)).status is not FindingStatus.VOIDED
    assert session.get(Order, uuid.UUID(order)).status is OrderStatus.ISSUED


def test_a_stored_answer_resent_after_the_unit_left_carries_no_copy(world, phone, session):
    """A receipt re-sent to a phone whose user no longer sees the record says it is gone, as a
    pull would, instead of handing over the record as it is now."""
    from sample_client.errors import NetworkError
    from server.rounds.models import Assignment

    losses = {"left": 0}

    def lose(method: str, path: str) -> bool:
        if path.endswith("/sync/push") and losses["left"]:
            losses["left"] -= 1
            return True
        return False

    sup, first, second = phone("sup"), phone("alice"), phone("alice", drop=lose)
    finding = sup.create("finding", finding_fields(world.units[1].id))  # not alice's own
    sup.sync()
    first.pull()
    second.pull()
    first.update("finding", finding, {"description": "甲"})
    first.push()
    second.update("finding", finding, {"description": "乙"})
    losses["left"] = 1
    with pytest.raises(NetworkError):
        second.push()  # merged, with the server's copy: the answer is lost
    session.execute(sa.update(Assignment).where(Assignment.unit_id == world.units[1].id)
                    .values(team_id=world.team_b.id))
    session.commit()
    [again] = second.push()
    assert again["outcome"] == "merged" and again.get("deleted") is True and "server" not in again, again
