"""Exports of the filtered queue, comments in an order's timeline, and bulk verify/reject/assign."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook

from server.audit.models import AuditEvent
from tests.orders.test_api import as_user  # noqa: F401


def _respond(client, as_user, order, user="liaison"):  # type: ignore[no-untyped-def]
    answer = client.post(f"/api/v1/orders/{order.id}/respond", json={"measures": "已清理"}, headers=as_user(user))
    assert answer.status_code == 200, answer.get_json()


def test_the_csv_and_xlsx_exports_hold_exactly_the_filtered_queue_in_chinese(client, world, as_user, raise_order):
    heaps = [raise_order(0, category="杂物乱堆"), raise_order(1, category="杂物乱堆")]
    raise_order(2, category="野广告")

    response = client.get("/api/v1/orders/export/csv", query_string={"category": "杂物乱堆", "sort": "age"},
                          headers=as_user("sup"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # zh-CN Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["编号", "责任单位", "问题类别", "问题描述"]
    assert [r[0] for r in rows[1:]] == [str(o.id) for o in heaps]
    assert {r[1] for r in rows[1:]} == {world.units[0].name, world.units[1].name} and rows[1][6] == "整改中"

    book = client.get("/api/v1/orders/export/xlsx", query_string={"category": "杂物乱堆", "sort": "age"},
                      headers=as_user("sup"))
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.get_data()), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == rows[0] and [r[0] for r in values[1:]] == [str(o.id) for o in heaps]

    mine = client.get("/api/v1/orders/export/csv", headers=as_user("liaison")).get_data().decode("utf-8")
    assert str(heaps[1].id) not in mine and str(heaps[0].id) in mine  # a unit exports its own only
    assert client.get("/api/v1/orders/export/csv?colour=red", headers=as_user("sup")).status_code == 422


def test_an_export_larger_than_the_bound_is_refused(app, client, as_user, raise_order):
    for _ in range(3):
        raise_order()
    app.config["QUEUE_EXPORT_MAX_ROWS"] = 2
    refused = client.get("/api/v1/orders/export/xlsx", headers=as_user("sup"))
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    narrowed = client.get("/api/v1/orders/export/csv", query_string={"status": "responded"}, headers=as_user("sup"))
    assert narrowed.status_code == 200


def test_comments_join_the_timeline_append_only_and_within_scope(client, session, world, as_user, raise_order):
    order = raise_order(0)
    said = client.post(f"/api/v1/orders/{order.id}/comments", json={"text": "请先清理西侧杂物"},
                       headers=as_user("sup"))
    assert said.status_code == 201, said.get_json()
    assert said.get_json()["action"] == "order.commented" and said.get_json()["reason"] == "请先清理西侧杂物"
    _respond(client, as_user, order)
    assert client.post(f"/api/v1/orders/{order.id}/comments", json={"text": "已安排人员"},
                       headers=as_user("liaison")).status_code == 201
    history = client.get(f"/api/v1/orders/{order.id}", headers=as_user("sup")).get_json()["history"]
    assert [(h["action"], h["reason"]) for h in history][1:] == [
        ("order.commented", "请先清理西侧杂物"), ("order.responded", ""), ("order.commented", "已安排人员")]
    outside = client.post(f"/api/v1/orders/{order.id}/comments", json={"text": "看看"}, headers=as_user("liaison2"))
    assert outside.status_code == 404
    empty = client.post(f"/api/v1/orders/{order.id}/comments", json={"text": ""}, headers=as_user("sup"))
    assert empty.status_code == 422
    session.rollback()
    assert session.query(AuditEvent).filter_by(action="order.commented").count() == 2
    # no route edits or removes one
    assert client.delete(f"/api/v1/orders/{order.id}/comments", headers=as_user("sup")).status_code == 405


def test_bulk_verify_answers_each_item_and_one_refusal_undoes_nothing(client, world, as_user, raise_order):
    answered = [raise_order(0), raise_order(0)]
    for order in answered:
        _respond(client, as_user, order)
    not_answered = raise_order(0)
    elsewhere = raise_order(2)  # alice reported it, but is not on unit 2's team: she reads, may not verify
    _respond(client, as_user, elsewhere, "sup")
    missing = uuid.uuid4()
    ids = [str(answered[0].id), str(not_answered.id), str(missing), str(elsewhere.id), str(answered[1].id),
           str(answered[0].id)]

    result = client.post("/api/v1/orders/bulk/verify", json={"order_ids": ids, "note": "复查合格"},
                         headers=as_user("alice"))
    assert result.status_code == 200, result.get_json()
    body = result.get_json()
    outcome = {(r["id"], r["ok"], r.get("code"), r.get("status")) for r in body["results"]}
    assert outcome == {(str(answered[0].id), True, None, "closed"), (str(answered[1].id), True, None, "closed"),
                       (str(not_answered.id), False, "illegal_transition", "issued"),
                       (str(missing), False, "not_found", None), (str(elsewhere.id), False, "forbidden", None)}
    assert (body["done"], body["refused"]) == (2, 3)
    for order in answered:
        history = client.get(f"/api/v1/orders/{order.id}", headers=as_user("sup")).get_json()["history"]
        assert history[-1]["action"] == "order.closed"  # one audit event per item
    assert client.get(f"/api/v1/orders/{not_answered.id}", headers=as_user("sup")).get_json()["status"] == "issued"


def test_bulk_reject_and_assign_check_their_arguments_and_each_order(client, world, as_user, raise_order):
    order, triage = raise_order(0), raise_order(None)
    _respond(client, as_user, order)
    no_reason = client.post("/api/v1/orders/bulk/reject", json={"order_ids": [str(order.id)]},
                            headers=as_user("sup"))
    assert no_reason.status_code == 422
    assert client.get(f"/api/v1/orders/{order.id}", headers=as_user("sup")).get_json()["status"] == "responded"
    rejected = client.post("/api/v1/orders/bulk/reject", json={"order_ids": [str(order.id)], "reason": "仍有杂物"},
                           headers=as_user("sup")).get_json()
    assert rejected["results"][0]["ok"] and rejected["results"][0]["status"] == "issued"

    assigned = client.post("/api/v1/orders/bulk/assign",
                           json={"order_ids": [str(triage.id), str(order.id)], "unit_id": world.units[1].id,
                                 "reason": "属地管理"}, headers=as_user("sup")).get_json()
    assert [r["ok"] for r in assigned["results"]] == [True, True]
    by_liaison = client.post("/api/v1/orders/bulk/assign",
                             json={"order_ids": [str(order.id)], "unit_id": world.units[0].id},
                             headers=as_user("liaison2"))
    assert by_liaison.status_code == 200 and by_liaison.get_json()["results"][0]["code"] == "forbidden"


def test_a_bulk_request_over_the_bound_is_refused_whole(app, client, as_user, raise_order):
    orders = [raise_order() for _ in range(3)]
    app.config["BULK_MAX_ITEMS"] = 2
    response = client.post("/api/v1/orders/bulk/verify", json={"order_ids": [str(o.id) for o in orders]},
                           headers=as_user("sup"))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "order_ids"


@pytest.mark.parametrize("action", ["verify", "reject", "assign"])
def test_bulk_needs_at_least_one_id(client, as_user, action):
    response = client.post(f"/api/v1/orders/bulk/{action}", json={"order_ids": []}, headers=as_user("sup"))
    assert response.status_code == 422
