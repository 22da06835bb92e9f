"""A report the server routes where the phone's pulls do not reach (another team's unit, triage)
leaves the phone as a fresh install would have it, and the phone says where it went."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from sample_client import WSGITransport
from sample_client.app import STORE_FILE, FieldApp
from sample_client.cli import cli
from tests.factories import PASSWORD
from tests.sync.test_routed_away import SOUTH, WEST, _zone


def _alice(app, home):  # type: ignore[no-untyped-def]
    phone = FieldApp(home, transport=WSGITransport(app), sleep=lambda _s: None)
    phone.login("alice", PASSWORD)
    return phone


def _cli(home, *args: str):  # type: ignore[no-untyped-def]
    # Both commands read the store only: the server named is never asked.
    return CliRunner().invoke(cli, ["--home", str(home), "--server", "http://127.0.0.1:9", *args],
                              catch_exceptions=False)


def test_a_patrol_finding_routed_to_another_teams_unit_is_said_handed_over(app, world, session, tmp_path):
    routed_to = _zone(session, world)
    phone = _alice(app, tmp_path / "phone")
    phone.pull()
    street = phone.patrol_finding(SOUTH + 0.004, WEST + 0.004, "占道经营", "门前占道摆摊")
    triage = phone.patrol_finding(30.0, 100.0, "环境卫生", "无主垃圾堆")
    report = phone.sync()

    assert not report.rejected
    assert [(n["id"], n["unit_id"]) for n in report.handed_over] == [(street, routed_to.id), (triage, None)]
    assert phone.store.record("finding", street) is None and phone.store.record("finding", triage) is None
    assert phone.store.record("unit", str(routed_to.id)) is None  # another team's: never pulled here
    notes = {n["id"]: n for n in phone.handed_over()}
    assert notes[street]["to"] == f"单位 {routed_to.id}"
    assert notes[street]["description"] == "门前占道摆摊" and notes[street]["at"]
    assert notes[triage]["to"] == "待分派"
    assert phone.status()["handed_over"] == 2
    phone.close()

    status = _cli(tmp_path / "phone", "status", "--json")
    assert '"handed_over": 2' in status.output
    listed = _cli(tmp_path / "phone", "handed-over")
    assert "门前占道摆摊" in listed.output and "待分派" in listed.output


def test_a_hand_over_names_the_unit_when_the_phone_holds_it(app, world, session, tmp_path):
    routed_to = _zone(session, world)
    phone = _alice(app, tmp_path / "phone")
    # A phone that held the unit from earlier work (say, before the team changed).
    phone.store.save("unit", str(routed_to.id), {"id": routed_to.id, "name": routed_to.name})
    street = phone.patrol_finding(SOUTH + 0.004, WEST + 0.004, "占道经营", "门前占道摆摊")
    phone.sync()
    (note,) = phone.handed_over()
    assert (note["id"], note["to"]) == (street, routed_to.name)


def test_a_store_from_before_hand_overs_opens_and_keeps_working(app, world, session, tmp_path):
    routed_to = _zone(session, world)
    home = tmp_path / "phone"
    phone = _alice(app, home)
    phone.pull()
    unsent = phone.patrol_finding(SOUTH + 0.004, WEST + 0.004, "占道经营", "门前占道摆摊")
    held = phone.store.records()
    phone.close()
    with sqlite3.connect(home / STORE_FILE) as old:  # the store as the previous version left it
        old.execute("DROP TABLE handed_over")

    phone = FieldApp(home, transport=WSGITransport(app), sleep=lambda _s: None)
    assert phone.store.records() == held and phone.status()["outbox"] == 1 and phone.handed_over() == []
    report = phone.sync()
    assert [(n["id"], n["unit_id"]) for n in report.handed_over] == [(unsent, routed_to.id)]
    assert phone.status()["handed_over"] == 1


def test_the_next_user_of_a_shared_phone_does_not_see_the_previous_ones_hand_overs(app, world, session, tmp_path):
    _zone(session, world)
    phone = _alice(app, tmp_path / "phone")
    phone.patrol_finding(30.0, 100.0, "环境卫生", "无主垃圾堆")
    phone.sync()
    assert phone.status()["handed_over"] == 1
    phone.login("bob", PASSWORD)
    assert phone.handed_over() == []
