"""The issue queue over HTTP: every filter, the sorts, paging, counts per status, and the 422 for
a filter the API does not know; the requests awaiting a decision, paged with their order."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.attachments.models import FlagKind, PhotoFlag, PhotoRef, PhotoRole
from server.findings.models import Finding
from tests import factories
from tests.orders.conftest import local
from tests.orders.test_api import as_user  # noqa: F401


@pytest.fixture
def listed(client, as_user):  # type: ignore[no-untyped-def]
    def get(query: dict[str, Any] | list[tuple[str, Any]], user: str = "sup") -> dict[str, Any]:
        response = client.get("/api/v1/orders", query_string=query, headers=as_user(user))
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    return get


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def _finding(session, order) -> Finding:  # type: ignore[no-untyped-def]
    return session.get(Finding, order.finding_id)


def test_each_filter_narrows_the_queue_and_the_counts_follow_the_other_filters(
        session, clock, world, listed, raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    heap = raise_order(0, category="杂物乱堆", round_id=world.round.id)
    stall = raise_order(1, category="占道经营", severity="serious")
    clock.set(local(2026, 11, 25, 9, 0))
    ad = raise_order(2, category="野广告")
    _finding(session, stall).description = "菜市场门口占道经营，约 50% 路面"
    _finding(session, ad).location_text = "江北大道"
    _finding(session, ad).description = "护栏上张贴小广告"
    _finding(session, ad).reported_by = world.users["bob"].id
    group = factories.group(session, world.campaign)
    world.units[1].group_id = group.id
    session.commit()

    assert ids(listed({"category": "杂物乱堆"})) == [str(heap.id)]  # no longer ignored (issue 16)
    assert ids(listed({"round_id": world.round.id})) == [str(heap.id)]
    assert ids(listed({"group_id": group.id})) == [str(stall.id)]
    assert set(ids(listed([("unit_id", world.units[0].id), ("unit_id", world.units[2].id)]))) == {str(heap.id),
                                                                                                  str(ad.id)}
    assert ids(listed({"inspector_id": world.users["bob"].id})) == [str(ad.id)]
    assert ids(listed({"issued_from": "2026-11-24"})) == [str(ad.id)]
    assert set(ids(listed({"issued_to": "2026-11-23"}))) == {str(heap.id), str(stall.id)}
    # Chinese substrings anywhere in description, place or unit name; every word must match.
    assert ids(listed({"q": "江北"})) == [str(ad.id)]
    assert ids(listed({"q": "杂物 西侧"})) == [str(heap.id)]
    assert ids(listed({"q": world.units[1].name})) == [str(stall.id)]
    assert ids(listed({"q": "50%"})) == [str(stall.id)]  # the % is a character, not a wildcard
    assert ids(listed({"q": "5_%"})) == []
    assert ids(listed({"q": "不存在的词"})) == []

    clock.set(heap.due_at + dt.timedelta(hours=1))
    overdue = listed({"overdue": "true"})
    assert str(heap.id) in ids(overdue) and str(ad.id) not in ids(overdue)
    whole = listed({"status": "responded"})
    assert whole["items"] == [] and whole["total"] == 0
    assert whole["counts"]["issued"] == 3 and whole["counts"]["closed"] == 0  # the tab counts ignore status
    narrowed = listed({"category": "杂物乱堆", "status": "issued"})
    assert narrowed["total"] == 1 and narrowed["counts"]["issued"] == 1


def test_an_unknown_or_malformed_filter_is_a_422_and_changes_nothing(client, as_user, raise_order):
    raise_order()
    for query in ({"categroy": "杂物乱堆"}, {"sort": "colour"}, {"level": "0"}, {"flag": "blurry"},
                  {"issued_from": "2026-12-01", "issued_to": "2026-11-01"}, {"after": "nonsense"},
                  {"q": "词" * 201}):
        response = client.get("/api/v1/orders", query_string=query, headers=as_user("sup"))
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"
    unknown = client.get("/api/v1/orders?categroy=x", headers=as_user("sup")).get_json()
    assert any("categroy" in str(e.get("field")) for e in unknown["errors"]), unknown


@pytest.mark.parametrize("sort", ["deadline", "age", "level"])
def test_every_sort_pages_through_every_order_once_in_its_order(session, clock, listed, raise_order, sort):
    made = []
    for i, (category, severity) in enumerate([("违法搭建", "minor"), ("暴露垃圾", "urgent"), ("杂物乱堆", "normal"),
                                              ("占道经营", "serious"), ("野广告", "normal")]):
        clock.set(local(2026, 11, 23, 9, 0) + dt.timedelta(hours=i))
        made.append(raise_order(i % 3, category=category, severity=severity))
    made.append(raise_order(None))  # triage: no deadline
    made[2].level = 3
    made[4].level = 2
    session.commit()

    seen, after = [], None
    while True:
        page = listed({"sort": sort, "limit": 2, **({"after": after} if after else {})})
        seen += ids(page)
        after = page["next_after"]
        if after is None:
            break
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    key = {"deadline": lambda o: (o.due_at or far, o.id), "age": lambda o: (o.issued_at, o.id),
           "level": lambda o: (-o.level, o.due_at or far, o.id)}[sort]
    assert seen == [str(o.id) for o in sorted(made, key=key)]
    assert len(set(seen)) == len(made)


def test_a_page_token_of_another_sort_is_refused_not_misread(client, as_user, listed, raise_order):
    for _ in range(3):
        raise_order()
    token = listed({"sort": "level", "limit": 1})["next_after"]
    response = client.get("/api/v1/orders", query_string={"sort": "deadline", "after": token},
                          headers=as_user("sup"))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "query.after"


def test_evidence_filters_find_flagged_photos_and_missing_after_photos(session, clock, client, world, as_user,
                                                                       listed, raise_order):
    flagged, plain, answered = raise_order(0), raise_order(0), raise_order(0)
    ref = PhotoRef(id=uuid.uuid4(), sha256="a" * 64, finding_id=flagged.finding_id, role=PhotoRole.BEFORE,
                   created_at=clock.now())
    session.add(ref)
    session.flush()
    session.add(PhotoFlag(ref_id=ref.id, sha256=ref.sha256, finding_id=flagged.finding_id,
                          kind=FlagKind.REUSED_ELSEWHERE, details={}, created_at=clock.now()))
    session.commit()
    response = client.post(f"/api/v1/orders/{answered.id}/respond", json={"measures": "已清理", "photos": ["b" * 64]},
                           headers=as_user("liaison"))
    assert response.status_code == 200, response.get_json()

    assert ids(listed({"flag": "reused_elsewhere"})) == [str(flagged.id)]
    assert ids(listed({"flag": "far_from_finding"})) == []
    assert set(ids(listed({"flagged": "false"}))) == {str(plain.id), str(answered.id)}
    assert ids(listed({"has_after_photo": "true"})) == [str(answered.id)]
    row = next(r for r in listed({})["items"] if r["id"] == str(flagged.id))
    assert row["flags"] == ["reused_elsewhere"] and row["before_photo"] == "a" * 64


def test_a_unit_sees_only_its_orders_in_the_queue_whatever_it_filters(world, listed, raise_order):
    mine, theirs = raise_order(0), raise_order(1)
    assert ids(listed({"unit_id": world.units[1].id}, "liaison")) == []
    page = listed({}, "liaison")
    assert ids(page) == [str(mine.id)] and page["counts"]["issued"] == 1 and str(theirs.id) not in ids(page)


def test_requests_awaiting_a_decision_are_paged_with_their_order(client, clock, world, as_user, raise_order):
    orders = [raise_order(0, category=f"类别{i}") for i in range(3)]
    other = raise_order(1)
    for order in orders:
        clock.advance(dt.timedelta(minutes=1))
        made = client.post(f"/api/v1/orders/{order.id}/requests", json={"kind": "extension", "extra": "2wd",
                                                                         "reason": "材料未到"},
                           headers=as_user("liaison"))
        assert made.status_code == 201
    clock.advance(dt.timedelta(minutes=1))
    made = client.post(f"/api/v1/orders/{other.id}/requests", json={"kind": "return", "reason": "不归我单位管"},
                       headers=as_user("liaison2"))
    assert made.status_code == 201

    first = client.get("/api/v1/order-requests?limit=2", headers=as_user("sup")).get_json()
    second = client.get("/api/v1/order-requests", query_string={"limit": 2, "after": first["next_after"]},
                        headers=as_user("sup")).get_json()
    assert first["total"] == 4 and second["next_after"] is None
    rows = first["items"] + second["items"]
    assert [r["order"]["id"] for r in rows] == [str(o.id) for o in orders + [other]]  # oldest first
    assert rows[0]["order"]["unit_name"] == world.units[0].name and rows[0]["order"]["category"] == "类别0"
    assert rows[0]["order"]["due_at"] is not None and rows[0]["kind"] == "extension"
    returns = client.get("/api/v1/order-requests?kind=return", headers=as_user("sup")).get_json()
    assert [r["order"]["id"] for r in returns["items"]] == [str(other.id)]
    assert client.get("/api/v1/order-requests?unit=1", headers=as_user("sup")).status_code == 422
    assert client.get("/api/v1/order-requests", headers=as_user("liaison")).get_json()["total"] == 3
