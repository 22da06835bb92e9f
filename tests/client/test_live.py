"""The reference client against a live server over real HTTP: the CLI as a person uses it,
killed in the middle of syncs, and the patrol simulator with loss."""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import subprocess
import sys
import time
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
    assert _client(home, "answer", item, "--result", "fail", "--instances", "1", "--score", "-1.00")[0] == 0
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
