"""The order API over HTTP: the queue, an order's file, steps, requests and the policy."""

from __future__ import annotations

import copy
from pathlib import Path
import datetime as dt

import pytest

from server.auth.models import Role
from server.orders.policy import default_document
from tests import factories
from server.scheduling import JOBS, run_job
from tests.orders.conftest import local, notices
from tests.test_auth import bearer, login


@pytest.fixture
def as_user(client, world):  # type: ignore[no-untyped-def]
    tokens: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            response = login(client, username)
            assert response.status_code == 200, response.get_json()
            tokens[username] = bearer(response.get_json()["token"])
        return tokens[username]

    return headers


def test_the_queue_puts_the_most_urgent_first_and_pages_through_everything(client, clock, world, as_user,
                                                                          raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    slow = raise_order(category="违法搭建")
    fast = raise_order(category="暴露垃圾")
    triage = raise_order(unit=None)
    clock.set(fast.due_at + dt.timedelta(minutes=5))

    seen, after = [], None
    while True:
        query = {"limit": 1, **({"after": after} if after else {})}
        page = client.get("/api/v1/orders", query_string=query, headers=as_user("sup")).get_json()
        seen += [item["id"] for item in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [str(fast.id), str(slow.id), str(triage.id)]  # no deadline (triage) comes last

    overdue = client.get("/api/v1/orders?overdue=true", headers=as_user("sup")).get_json()["items"]
    assert [(o["id"], o["level_name"], o["colour"], o["unit_name"]) for o in overdue] == [
        (str(fast.id), "整改通知", "yellow", world.units[0].name)]
    assert client.get("/api/v1/orders?status=triage", headers=as_user("sup")).get_json()["items"][0]["id"] == \
        str(triage.id)
    bad = client.get("/api/v1/orders?after=nonsense", headers=as_user("sup"))
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"


def test_a_unit_sees_its_own_orders_only(client, world, as_user, raise_order):
    mine = raise_order(unit=0)
    theirs = raise_order(unit=1)
    listed = client.get("/api/v1/orders", headers=as_user("liaison")).get_json()["items"]
    assert [o["id"] for o in listed] == [str(mine.id)]
    assert client.get(f"/api/v1/orders/{theirs.id}", headers=as_user("liaison")).status_code == 404
    response = client.post(f"/api/v1/orders/{theirs.id}/respond", json={"measures": "已清理"},
                           headers=as_user("liaison"))
    assert response.status_code == 404


def test_respond_verify_and_an_illegal_step_over_http(client, world, as_user, raise_order):
    order = raise_order()
    answered = client.post(f"/api/v1/orders/{order.id}/respond", json={"measures": "已清理杂物"},
                           headers=as_user("liaison"))
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "responded" and answered.get_json()["responses"][0]["late"] is False
    closed = client.post(f"/api/v1/orders/{order.id}/verify", json={"note": "复查合格"}, headers=as_user("alice"))
    assert closed.get_json()["status"] == "closed", closed.get_json()
    again = client.post(f"/api/v1/orders/{order.id}/reject", json={"reason": "x"}, headers=as_user("alice"))
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert again.get_json()["code"] == "illegal_transition" and again.get_json()["status_now"] == "closed"
    history = client.get(f"/api/v1/orders/{order.id}", headers=as_user("sup")).get_json()["history"]
    assert [h["action"] for h in history] == ["order.raised", "order.responded", "order.closed"]
    assert history[1]["device_id"] is not None  # the step names the device it came from


def test_a_request_is_made_by_the_unit_and_decided_by_a_supervisor(client, world, as_user, raise_order):
    order = raise_order()
    made = client.post(f"/api/v1/orders/{order.id}/requests",
                       json={"kind": "park", "reason": "需结合道路改造", "review_at": "2026-12-31T09:00:00+08:00"},
                       headers=as_user("liaison"))
    assert made.status_code == 201, made.get_json()
    missing = client.post(f"/api/v1/orders/{order.id}/requests", json={"kind": "extension", "reason": "缺材料"},
                          headers=as_user("liaison"))
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "extra"
    pending = client.get("/api/v1/order-requests", headers=as_user("sup")).get_json()["items"]
    assert [r["id"] for r in pending] == [made.get_json()["id"]]
    refused = client.post(f"/api/v1/order-requests/{made.get_json()['id']}/decision", json={"approve": True},
                          headers=as_user("liaison"))
    assert refused.status_code == 403
    decided = client.post(f"/api/v1/order-requests/{made.get_json()['id']}/decision",
                          json={"approve": True, "note": "同意挂账"}, headers=as_user("sup"))
    assert decided.status_code == 200 and decided.get_json()["status"] == "parked"
    assert decided.get_json()["requests"][0]["status"] == "approved"


def test_the_policy_is_validated_whole_and_orders_keep_the_version_they_began_under(client, session, hasher,
                                                                                     world, as_user, raise_order):
    factories.user(session, hasher, Role.ADMIN, username="root")
    session.commit()
    before = raise_order()
    current = client.get("/api/v1/escalation-policy", headers=as_user("sup")).get_json()
    assert current["version"] == 1 and [lv["name"] for lv in current["levels"]] == ["整改通知", "督办单", "通报/问责"]

    broken = copy.deepcopy(default_document())
    broken["levels"][1]["colour"] = "plaid"
    broken["limits"][0]["limit"] = "4 hours"
    broken["reminders"][0]["at"] = 1.5
    response = client.put("/api/v1/escalation-policy", json=broken, headers=as_user("root"))
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"levels.1.colour", "limits.0.limit", "reminders.0.at"}
    assert client.put("/api/v1/escalation-policy", json=default_document(), headers=as_user("sup")).status_code == 403
    assert client.get("/api/v1/escalation-policy", headers=as_user("sup")).get_json()["version"] == 1

    quicker = copy.deepcopy(default_document())
    quicker["limits"][-1]["limit"] = "1wd"
    assert client.put("/api/v1/escalation-policy", json=quicker, headers=as_user("root")).get_json()["version"] == 2
    after = raise_order()
    assert (before.policy_version, before.time_limit) == (1, "5wd")
    assert (after.policy_version, after.time_limit) == (2, "1wd")


def test_a_phone_holding_unsynced_work_too_long_is_reported_to_supervisors(app, session, clock, world, phone):
    synced = phone("alice")
    synced.create("finding", {"unit_id": world.units[0].id, "category": "环境卫生", "description": "杂物"})
    synced.sync()  # everything went: never flagged, however long it then stays quiet
    stuck = phone("bob", batch_size=1)
    for text in ("垃圾", "积水", "占道经营"):
        stuck.create("finding", {"unit_id": world.units[2].id, "category": "环境卫生", "description": text})
    clock.advance(dt.timedelta(hours=3))  # captured three hours ago, offline since
    stuck.push(max_batches=1)  # one bar of signal: one batch goes, two changes stay on the phone
    job = next(job for job in JOBS if job.id == "devices.flag_stale")
    clock.advance(dt.timedelta(hours=20))
    assert run_job(app, job) == 0  # 23 hours: not yet
    clock.advance(dt.timedelta(hours=2))
    assert run_job(app, job) == 1
    assert run_job(app, job) == 1  # found again, but told once a day
    session.expire_all()
    flagged = notices(session, world.users["sup"].id, "device.stale")
    assert len(flagged) == 1 and "bob" in flagged[0].body and flagged[0].data["outbox_depth"] == 2


def test_the_policy_loads_from_a_toml_file_and_a_bad_one_is_refused_whole(run_cli, tmp_path):
    good = tmp_path / "policy.toml"
    text = Path(__file__).resolve().parents[2].joinpath("server/orders/default_policy.toml").read_text("utf-8")
    good.write_text(text.replace('limit = "5wd"', 'limit = "6wd"'), "utf-8")
    shown = run_cli("policy", "show")
    assert shown.exit_code == 0 and "version 1" in shown.output and "limit 5wd: anything else" in shown.output
    loaded = run_cli("policy", "load", str(good))
    assert loaded.exit_code == 0, loaded.output
    assert "limit 6wd: anything else" in run_cli("policy", "show").output
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('colour = "orange"', 'colour = "plaid"').replace('at = 0.5', 'at = 2'), "utf-8")
    refused = run_cli("policy", "load", str(bad))
    assert refused.exit_code != 0
    assert "levels.1.colour" in refused.output and "reminders.0.at" in refused.output
    assert "version 2" in run_cli("policy", "show").output  # nothing stored


def test_an_unannounced_rounds_findings_are_issued_over_http(client, session, world, as_user, raise_order):
    from tests.world import make_secret_round

    secret = make_secret_round(session, world)
    order = raise_order(round_id=secret.id)
    assert client.get(f"/api/v1/orders/{order.id}", headers=as_user("liaison")).status_code == 404
    refused = client.post(f"/api/v1/rounds/{secret.id}/findings/issue", headers=as_user("liaison"))
    assert refused.status_code == 404  # a liaison does not even see the unannounced round
    issued = client.post(f"/api/v1/rounds/{secret.id}/findings/issue", headers=as_user("sup"))
    assert issued.status_code == 200 and issued.get_json() == {"orders_started": 1}
    seen = client.get(f"/api/v1/orders/{order.id}", headers=as_user("liaison")).get_json()
    assert seen["due_at"] is not None and seen["status"] == "issued"
    again = client.post(f"/api/v1/rounds/{secret.id}/findings/issue", headers=as_user("sup"))
    assert again.status_code == 409


def test_a_liaison_asks_from_the_phone_and_learns_the_decision_by_sync(client, world, phone, as_user, raise_order):
    import uuid

    order = raise_order()
    liaison = phone("liaison")
    liaison.pull()
    request_id = str(uuid.uuid4())
    fields = {"request_id": request_id, "kind": "extension", "reason": "需采购材料", "extra": "2wd"}
    liaison.command("order", str(order.id), "request", fields)
    liaison.command("order", str(order.id), "request", fields)  # sent twice (a retry after a crash)
    assert [r["outcome"] for r in liaison.push()] == ["applied", "duplicate"]
    bad = dict(fields, request_id=str(uuid.uuid4()), kind="park")  # parking needs a review date
    liaison.command("order", str(order.id), "request", bad)
    assert liaison.push()[0]["outcome"] == "rejected"

    decided = client.post(f"/api/v1/order-requests/{request_id}/decision", json={"approve": True},
                          headers=as_user("sup"))
    assert decided.status_code == 200
    liaison.pull()
    held = liaison.store.record("order_request", request_id)
    assert held["status"] == "approved" and held["kind"] == "extension"
    assert liaison.store.record("order", str(order.id))["due_at"] == decided.get_json()["due_at"].replace("Z", "+00:00")
