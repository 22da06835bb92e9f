"""The in-app feed: over REST, and in the phones' sync pulls, each person seeing only their own."""

from __future__ import annotations

import datetime as dt

from server.notifications.services import notify
from tests.notifications.conftest import login


def tell(app, session, clock, user, title):  # type: ignore[no-untyped-def]
    [notice] = notify(session, clock, user_ids=[user.id], kind="order.reminder", title=title, body="请按期整改。",
                      data={"unit": "市审计局"}, config=app.config)
    session.commit()
    clock.advance(dt.timedelta(minutes=1))
    return notice


def test_the_feed_lists_the_callers_own_notices_newest_first(app, client, session, clock, people):
    mine = [tell(app, session, clock, people["alice"], f"提醒{n}") for n in range(3)]
    theirs = tell(app, session, clock, people["bob"], "别人的提醒")
    alice = login(client, "alice")

    page = client.get("/api/v1/notifications?limit=2", headers=alice).get_json()
    assert [n["title"] for n in page["items"]] == ["提醒2", "提醒1"]
    rest = client.get(f"/api/v1/notifications?limit=2&after={page['next_after']}", headers=alice).get_json()
    assert [n["title"] for n in rest["items"]] == ["提醒0"] and rest["next_after"] is None
    assert page["items"][0]["data"] == {"unit": "市审计局"} and page["items"][0]["read_at"] is None

    read = client.post(f"/api/v1/notifications/{mine[1].id}/read", headers=alice)
    assert read.status_code == 200 and read.get_json()["read_at"] == clock.now().isoformat()
    clock.advance(dt.timedelta(minutes=5))
    again = client.post(f"/api/v1/notifications/{mine[1].id}/read", headers=alice)
    assert again.get_json()["read_at"] == read.get_json()["read_at"]  # the first reading counts
    unread = client.get("/api/v1/notifications?unread=true", headers=alice).get_json()
    assert [n["id"] for n in unread["items"]] == [mine[2].id, mine[0].id]

    other = client.post(f"/api/v1/notifications/{theirs.id}/read", headers=alice)
    assert other.status_code == 404 and other.content_type == "application/problem+json"
    assert client.post("/api/v1/notifications/999999/read", headers=alice).status_code == 404

    marked = client.post("/api/v1/notifications/read-all", headers=alice)
    assert marked.get_json() == {"marked": 2}
    assert client.get("/api/v1/notifications?unread=true", headers=alice).get_json()["items"] == []
    # Bob's notice was not touched by alice's read-all.
    bob = login(client, "bob")
    assert client.get("/api/v1/notifications?unread=true", headers=bob).get_json()["items"][0]["id"] == theirs.id


def test_the_feed_needs_a_login_and_valid_arguments(client, people):
    assert client.get("/api/v1/notifications").status_code == 401
    bad = client.get("/api/v1/notifications?unread=maybe", headers=login(client, "alice"))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "query.unread"


def test_a_phone_pulls_its_users_notices_and_no_one_elses(app, session, clock, people, phone):
    alices_phone, sups_phone = phone("alice"), phone("sup")
    alices_phone.pull()
    sups_phone.pull()
    for_alice = tell(app, session, clock, people["alice"], "市审计局整改提醒")
    tell(app, session, clock, people["bob"], "市财政局整改提醒")
    for_sup = tell(app, session, clock, people["sup"], "督办日报")

    alices_phone.pull()
    sups_phone.pull()

    got = alices_phone.store.records("notification")
    assert set(got) == {("notification", str(for_alice.id))}
    assert got[("notification", str(for_alice.id))]["title"] == "市审计局整改提醒"
    assert "dedupe_key" not in got[("notification", str(for_alice.id))]
    # A supervisor receives their whole campaign, but not other people's notices.
    assert set(sups_phone.store.records("notification")) == {("notification", str(for_sup.id))}

    # Reading it elsewhere reaches the phone with its next pull.
    from server.notifications.services import mark_read

    mark_read(session, clock, people["alice"], for_alice.id)
    session.commit()
    alices_phone.pull()
    assert alices_phone.store.record("notification", str(for_alice.id))["read_at"] is not None


def test_a_new_phone_receives_the_notices_already_there(app, session, clock, people, phone):
    notice = tell(app, session, clock, people["liaison"], "市审计局整改通知")
    liaisons_phone = phone("liaison")
    liaisons_phone.pull()
    assert set(liaisons_phone.store.records("notification")) == {("notification", str(notice.id))}
