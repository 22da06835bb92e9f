"""The reference client against a live server over real HTTP: the CLI as a person uses it,
killed in the middle of syncs, and the patrol simulator with loss."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from sample_client.app import FieldApp
from sample_client.cli import cli
from sample_client.simulator import Simulation
from server.attachments.models import Photo
from server.findings.models import Finding
from server.orders.models import Order
from server.sync.models import SyncReceipt
from tests.client.conftest import free_port
from tests.factories import PASSWORD

pytestmark = pytest.mark.slow


def _client(home: Path, *args: str, server: str | None = None) -> tuple[int, str]:
    options = ["--home", str(home)] + (["--server", server] if server else [])
    result = CliRunner().invoke(cli, [*options, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_a_visit_recorded_offline_becomes_orders_that_escalate_to_the_phone(
        live_server, world, session, clock, run_cli, tmp_path, camera):
    home = tmp_path / "phone"
    assert _client(home, "login", "alice", "--password", PASSWORD, server=live_server)[0] == 0
    code, output = _client(home, "pull")
    assert code == 0 and "pulled" in output
    assert str(world.units[0].id) in _client(home, "units")[1]

    # Out of coverage: everything is captured locally, and a sync gives up keeping it all.
    offline = f"http://127.0.0.1:{free_port()}"
    assert _client(home, "visit", "start", str(world.units[0].id))[0] == 0
    with FieldApp(home) as phone:
        item = str(min(i["id"] for i in phone.records("item")))
    assert _client(home, "answer", item, "--result", "fail", "--instances", "1", "--score", "1.00")[0] == 0
    for n in range(3):
        code, output = _client(home, "finding", "add", "--category", "环境卫生", "--description", f"墙边杂物堆积{n}",
                               "--photo", str(camera()))
        assert code == 0, output
    assert _client(home, "visit", "end")[0] == 0
    code, _ = _client(home, "--attempts", "2", "sync", server=offline)
    assert code == 2
    status = json.loads(_client(home, "status", "--json")[1])
    assert status["outbox"] == 6 and status["photos_pending"] == 3 and status["last_sync"] is None

    # Back online: the same captures go, once, with their photos.
    code, output = _client(home, "sync", server=live_server)
    assert code == 0, output
    assert "pushed 6" in output and "photos sent 3" in output
    status = json.loads(_client(home, "status", "--json")[1])
    assert status["outbox"] == 0 and status["photos_pending"] == 0 and status["last_sync"]
    session.rollback()
    orders = session.scalars(sa.select(Order)).all()
    assert len(orders) == 3 and {o.level for o in orders} == {1}
    assert {f.status.value for f in session.scalars(sa.select(Finding))} == {"complete"}

    # The server's clock moves past every deadline; the scheduler escalates to 督办单.
    clock.set(max(o.due_at for o in orders).astimezone(dt.timezone.utc) + dt.timedelta(days=1))
    result = run_cli("scheduler", "--once")
    assert result.exit_code == 0, result.output
    session.rollback()
    assert {o.level for o in session.scalars(sa.select(Order))} == {2}

    assert _client(home, "pull")[0] == 0
    with FieldApp(home) as phone:
        assert sorted(o["level"] for o in phone.records("order")) == [2, 2, 2]
    listed = _client(home, "orders")[1]
    assert all(str(o.id)[:8] in listed for o in orders)


def test_a_sync_killed_at_random_points_twenty_times_leaves_each_capture_once(
        live_server, world, session, tmp_path, camera):
    home = tmp_path / "phone"
    rng = random.Random(18)
    findings: set[str] = set()
    shas: set[str] = set()

    def capture(count: int) -> None:
        with FieldApp(home) as phone:
            for _ in range(count):
                photo = camera()
                findings.add(phone.add_finding("环境卫生", f"杂物堆积{len(findings)}", photos=[photo]))
                shas.add(phone.store.photos()[-1]["sha256"])

    with FieldApp(home, server=live_server) as phone:
        phone.login("alice", PASSWORD)
        phone.pull()
        phone.start_visit(world.units[0].id)
    command = [sys.executable, "-m", "sample_client.cli", "--home", str(home), "--batch-size", "2", "sync"]
    killed = 0
    for _ in range(20):
        capture(3)  # the inspector keeps working between the cut-off syncs
        depth, done, pending = _progress(home)
        # A random point of the sync, counted in what it has done: mutations acknowledged and
        # photos stored (0: while it starts), then a moment more to land inside a request.
        target = rng.randrange(depth + pending)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None:
            now_depth, now_done, _pending = _progress(home)
            if (depth - now_depth) + (now_done - done) >= target:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.02))
        process.send_signal(signal.SIGKILL)
        killed += process.wait(timeout=10) == -signal.SIGKILL
    assert killed >= 15  # cut off, not finished: each run had more to do than its target

    with FieldApp(home) as phone:
        assert phone.store.outbox_depth() < len(findings) / 2  # the cut-off runs sent most
        phone.sync()
        assert phone.device.unsent() == 0
        device_id, sent = uuid.UUID(phone.device.device_id), phone.store.get("next_seq") - 1
    session.rollback()
    held = [str(i) for i in session.scalars(sa.select(Finding.id).where(Finding.device_id == device_id))]
    assert sorted(held) == sorted(findings)  # each capture once: none lost, none twice
    receipts = session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)
                              .where(SyncReceipt.device_id == device_id))
    assert receipts == sent == len(findings) + 1  # the visit, then the findings
    assert set(session.scalars(sa.select(Photo.sha256))) == shas


def test_a_short_patrol_with_loss_arrives_whole_and_converges(live_server, world, tmp_path):
    simulation = Simulation(live_server, devices=3, seconds=8, loss=0.1, latency_ms=5,
                            accounts=[("alice", PASSWORD), ("bob", PASSWORD)], supervisor=("sup", PASSWORD),
                            home=tmp_path / "sim", seed=5, photo_px=240)
    outcome = simulation.run()
    figures = outcome.figures()
    assert outcome.problems == []
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["diverged"] == 0
    assert figures["photos_unverified"] == 0
    assert figures["mutations"] > 0 and figures["photos"] > 0
    assert figures["messages_lost"] > 0 and figures["retries"] > 0  # the link really lost some
    assert sum(len(p.findings) for p in simulation.phones) > 0


def _progress(home: Path) -> tuple[int, int, int]:
    """Outbox depth, photos stored and photos pending, read beside the running client."""
    with contextlib.closing(sqlite3.connect(f"file:{home / 'client.sqlite3'}?mode=ro", uri=True, timeout=10)) as db:
        depth = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        done = db.execute("SELECT count(*) FROM photos WHERE status = 'done'").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM photos WHERE status = 'pending'").fetchone()[0]
    return depth, done, pending


def test_a_liaison_answers_an_order_with_after_photos_and_a_refusal_is_shown(live_server, world, session, tmp_path,
                                                                               camera):
    inspector, liaison = tmp_path / "inspector", tmp_path / "liaison"
    assert _client(inspector, "login", "alice", "--password", PASSWORD, server=live_server)[0] == 0
    code, output = _client(inspector, "patrol-finding", "--lat", "32.6843", "--lon", "109.0290",
                           "--category", "占道经营", "--description", "门前占道摆摊", "--photo", str(camera()))
    assert code == 0, output
    assert _client(inspector, "pull")[0] == 0
    assert _client(inspector, "visit", "start", str(world.units[0].id))[0] == 0
    assert _client(inspector, "finding", "add", "--category", "环境卫生", "--description", "墙边杂物")[0] == 0
    assert _client(inspector, "sync")[0] == 0
    session.rollback()
    patrol, visited = sorted(session.scalars(sa.select(Finding)), key=lambda f: f.unit_id is not None)
    assert patrol.unit_id is None and visited.unit_id == world.units[0].id  # no zone holds the point: triage
    order = session.scalars(sa.select(Order).where(Order.finding_id == visited.id)).one()

    assert _client(liaison, "login", "liaison", "--password", PASSWORD, server=live_server)[0] == 0
    assert _client(liaison, "pull")[0] == 0
    assert str(order.id) in _client(liaison, "orders")[1]
    code, output = _client(liaison, "respond", str(order.id), "--measures", "已清理", "--photo", str(camera()))
    assert code == 0, output
    # The inspector tries to answer for the unit: the server refuses, the phone shows why.
    assert _client(inspector, "respond", str(order.id), "--measures", "代为整改")[0] == 0
    assert "pushed 1" in _client(inspector, "sync")[1]
    refused = json.loads(_client(inspector, "conflicts", "--json")[1])
    assert [(r["entity"], r["outcome"]) for r in refused] == [("order", "rejected")]
    assert refused[0]["problem"]["code"] == "forbidden"
    code, output = _client(liaison, "sync")
    assert code == 0 and "photos sent 1" in output, output
    session.rollback()
    assert session.get(Order, order.id).status.value == "responded"
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 2  # before and after
