#!/usr/bin/env python
"""Sync push and pull through real HTTP, on SQLite (default) or PostgreSQL.

    python benchmarks/sync_bench.py --quick        # CI: small sizes, well under a minute
    python benchmarks/sync_bench.py                # full: a few minutes on 2 cores
    python benchmarks/sync_bench.py --postgres postgresql://postgres@127.0.0.1:5432

The database is built by the real migrations: a temporary SQLite file (WAL), or a throwaway
PostgreSQL database ``xuncha_bench_<pid>`` created from the base URL and dropped at the end.
The app (``server.create_app``) is served by a real WSGI server in a subprocess: gunicorn with
two sync workers, as docs/operations.md runs it in production (``--server werkzeug``: werkzeug's
threaded development server, which ``--profile`` uses), and the benchmark talks to it with plain
``http.client`` keep-alive connections (both servers close each connection after a response).

Measured:

- push: finding creates pushed to ``POST /api/v1/sync/push`` in batches of 500, against the
  same number of ~500-byte rows inserted with plain ``sqlite3`` executemany (one transaction,
  WAL, synchronous=NORMAL) in a fresh temporary file: ``push_ratio`` = push / raw. Then the
  rows the push added are written again as plain bulk copies (:mod:`benchmarks.floors`): their
  database's part gives ``push_floor_mutations_per_s`` and ``push_ceiling_ratio`` (floor / raw),
  the best ratio the schema allows;
  The same findings are then edited by a push of updates (one field each, batches of 500 from a
  second device): ``push_updates_per_s``, the path that locks every record before reading it;
- pull: the first sync (no cursor) of a device whose scope holds N findings and orders, in
  pages of 1000, by a separate client process that decodes every page with ``json.loads``.
  ``pull_rows_per_s`` counts the time spent waiting on HTTP (request sent to body read, as a
  load generator sees it); the rate including the client's decoding is printed beside it.
  ``pull_peak_mb`` is that process's peak RSS growth (VmHWM after the sync minus VmRSS before
  it). The rows are made beforehand through the ORM in large transactions, so the real
  publishing hook fills the feed. A second device then makes the same first sync asking for
  gzip: ``pull_bytes_per_row`` and ``pull_gzip_bytes_per_row`` are the bytes on the wire,
  ``pull_gzip_rows_per_s`` its rate (on warm caches, printed, not a goal);
- incremental pull: the time of a pull returning 10 new changes with 10,000 and with
  1,000,000 rows in ``sync_rows`` (filled with SQLAlchemy Core executemany, the counter kept
  at the highest sequence), median of several runs.

Order: incremental pull at 10,000 rows, first sync, push (into a database that already holds
the first sync's 50,000 findings, as in steady use), raw insert, incremental pull at 1,000,000.
Sizes: full pushes 5,000 (10 batches; the endpoint ran at 100-450 mutations/s when this was
written), pulls 100,000, incremental at 10,000 and 1,000,000;
``--quick`` pushes 1,000, pulls 5,000 and uses 20,000 rows instead of 1,000,000 (the key stays
``incremental_pull_ms_1m``; the printed text says how many rows were stored). ``--profile DIR``
writes a cProfile of the server per endpoint.

The last line printed is one JSON object. Nothing here asserts a timing: the figures are
printed next to the baseline of docs (perf-measurements, sections b, c and d) and the goals.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Measured on this machine (perf-measurements.md); the figures here are compared with them.
BASELINE = {
    "raw_sqlite_executemany": 165_000,  # b1: rows/s, 100k rows of ~500 B, one transaction
    "push_prototype": 27_100,  # d4: records/s, validate + SA Core DO NOTHING, 100-record batches
    "pull_prototype": 126_000,  # d6: records/s, SA Core + jsonify, 100-record pages
    "pull_core_sqlite": 430_000,  # b14: SA Core cursor pull, rows/s (no HTTP)
    "pull_core_pg": 288_000,  # c11
}
GOALS = {"push_ratio": 0.15, "pull_rows_per_s": 200_000, "incremental_growth": 1.5, "pull_peak_mb": 150}

FULL = {"push": 5_000, "pull": 100_000, "small": 10_000, "large": 1_000_000, "runs": 15}
QUICK = {"push": 1_000, "pull": 5_000, "small": 10_000, "large": 20_000, "runs": 5}
BATCH = 500
PAGE = 1000
NEW_CHANGES = 10
WARM_UP = 6  # untimed incremental pulls before each measurement: a few for each server worker

FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}
PASSWORD = "correct-horse-9"  # tests.factories.PASSWORD
DESCRIPTION = "办公楼西侧杂物堆积墙边，楼道内堆放纸箱和废旧桌椅，消防通道被占用"
LOCATION = "市府大院3号楼西侧通道"


def say(line: str = "") -> None:
    print(line, flush=True)


def fmt(n: float) -> str:
    return f"{n:,.0f}"


# -- databases ----------------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'bench.sqlite3'}"


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A database of our own on the server at ``base_url``, dropped whatever happens."""
    import psycopg
    import sqlalchemy as sa
    from psycopg import sql

    from server.settings import database_url

    url = sa.engine.make_url(database_url(base_url))
    name = f"xuncha_bench_{os.getpid()}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        say(f"dropped database {name}")


def app_settings(url: str, instance: Path) -> dict[str, Any]:
    return {"DATABASE_URL": url, "INSTANCE_DIR": str(instance), "SECRET_KEY": "bench-" + "k" * 40,
            "SYNC_MAX_BATCH": 5000, "LOG_LEVEL": "WARNING", **FAST_ARGON2}


# -- the server process -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """The app served on 127.0.0.1 in a subprocess: werkzeug (threaded) or gunicorn."""

    def __init__(self, settings: dict[str, Any], kind: str, profile_dir: str | None, *, workers: int = 2) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
        env.update({f"XUNCHA_{k}": str(v) for k, v in settings.items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.port = _free_port()
        if kind == "gunicorn":
            cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "server:create_app()"]
        else:
            cmd = [sys.executable, __file__, "--_serve", str(self.port)]
            if profile_dir:
                cmd += ["--profile", profile_dir]
        self.kind = kind
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited at start (code {self.proc.returncode})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 60 s")
            time.sleep(0.1)

    def pids(self) -> list[int]:
        """The processes serving requests: the server, or gunicorn's workers."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] or [self.proc.pid]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _status_kb(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (all their threads)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _reset_peak(pid: int | str) -> bool:
    """Reset VmHWM (peak RSS) to the current RSS; Linux only."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def serve_main(port: int, profile_dir: str | None) -> None:
    """``--_serve``: the app from XUNCHA_* variables on a threaded werkzeug server."""
    import logging

    from werkzeug.serving import WSGIRequestHandler, make_server

    from server import create_app

    app = create_app()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log, as under gunicorn

    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            # As gunicorn does: werkzeug sends headers and body separately, so do not let
            # Nagle's algorithm hold back the second send.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    wsgi = _profiled(app, profile_dir) if profile_dir else app
    server = make_server("127.0.0.1", port, wsgi, threaded=True, request_handler=Handler)

    def stop(*_: Any) -> None:
        if profile_dir:
            _dump_profiles(profile_dir)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


_PROFILES: dict[str, Any] = {}
_PROFILE_LOCK = threading.Lock()


def _profiled(app: Any, profile_dir: str) -> Any:
    """Profile each request with cProfile, one profile per path (requests are sequential here)."""
    import cProfile

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        name = environ.get("PATH_INFO", "/").strip("/").replace("/", "_") or "root"
        with _PROFILE_LOCK:
            profile = _PROFILES.setdefault(name, cProfile.Profile())
            profile.enable()
            try:
                return list(app(environ, start_response))
            finally:
                profile.disable()

    return wsgi


def _dump_profiles(profile_dir: str) -> None:
    Path(profile_dir).mkdir(parents=True, exist_ok=True)
    with _PROFILE_LOCK:
        for name, profile in _PROFILES.items():
            profile.dump_stats(str(Path(profile_dir) / f"{name}.pstats"))


# -- HTTP ---------------------------------------------------------------------------------------

class Http:
    """One keep-alive connection (http.client reopens it when the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.encoding: str | None = None

    def call(self, method: str, path: str, body: bytes | None = None, token: str | None = None,
             accept_encoding: str | None = None) -> tuple[int, bytes]:
        """The status and the body as it came over the wire; ``encoding`` is then its
        Content-Encoding (None: not encoded)."""
        headers = {"Accept": "application/json"}
        if accept_encoding:
            headers["Accept-Encoding"] = accept_encoding
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                self.encoding = response.getheader("Content-Encoding")
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # an idle keep-alive connection closed by the server
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        status, data = self.call(method, path, raw, token)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:500]!r}")
        return json.loads(data)

    def login(self, username: str, device_id: str) -> str:
        body = self.json("POST", "/api/v1/auth/login", {
            "username": username, "password": PASSWORD, "device": {"id": device_id, "platform": "bench"}})
        return body["token"]

    def close(self) -> None:
        self.conn.close()


def pull_path(cursor: str, limit: int) -> str:
    return "/api/v1/sync/pull?" + urllib.parse.urlencode({"cursor": cursor, "limit": limit})


def pull_client_main(port: int, token: str, limit: int, accept_encoding: str | None) -> None:
    """``--_pull-client``: a device's first sync, every page decoded (and inflated, when it asked
    for ``accept_encoding``); prints one JSON line."""
    import gzip

    http_ = Http(port)
    wire_bytes = 0
    rss_before = _status_kb("self", "VmRSS")
    peak_reset = _reset_peak("self")
    rows = pages = 0
    cursor = ""
    page_ms: list[float] = []
    decode_s = 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    while True:
        path = pull_path(cursor, limit)
        t0 = time.perf_counter()
        status, data = http_.call("GET", path, token=token, accept_encoding=accept_encoding)
        t1 = time.perf_counter()
        if status != 200:
            raise SystemExit(f"pull: HTTP {status}: {data[:500]!r}")
        wire_bytes += len(data)
        if http_.encoding == "gzip":
            data = gzip.decompress(data)
        elif http_.encoding:
            raise SystemExit(f"pull: answered in {http_.encoding}, asked for {accept_encoding}")
        body = json.loads(data)
        page_ms.append((t1 - t0) * 1000)
        rows += len(body["changes"])
        pages += 1
        cursor = body["cursor"]
        more = body["has_more"]
        del body, data
        # Freeing a decoded page (a thousand dicts) is part of decoding it, not of the HTTP wait.
        decode_s += time.perf_counter() - t1
        if not more:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "seconds": seconds, "decode_s": decode_s, "wire_bytes": wire_bytes,
                      "http_s": sum(page_ms) / 1000,
                      "client_cpu_s": time.process_time() - cpu, "rss_before_kb": rss_before,
                      "peak_kb": _status_kb("self", "VmHWM"), "peak_reset": peak_reset,
                      "first_page_ms": page_ms[0], "last_page_ms": page_ms[-1],
                      "median_page_ms": statistics.median(page_ms)}))


# -- data -----------------------------------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def finding_fields(unit_id: int, round_id: int, i: int) -> dict[str, Any]:
    return {"unit_id": unit_id, "round_id": round_id, "category": "环境卫生", "description": f"{DESCRIPTION}（{i}）",
            "severity": "normal", "latitude": 32.0415 + i * 1e-6, "longitude": 118.7845 + i * 1e-6,
            "location_text": LOCATION}


def feed_payload_template(campaign_id: int, round_id: int) -> str:
    """A finding as the feed stores it (keys and sizes as feed.payload makes them); @ID@ per row."""
    now = _now().replace(tzinfo=None).isoformat() + "+00:00"
    return json.dumps({
        "campaign_id": campaign_id, "category": "环境卫生", "created_at": now, "description": DESCRIPTION,
        "device_id": None, "id": "@ID@", "item_id": None, "latitude": 32.0415, "location_text": LOCATION,
        "longitude": 118.7845, "observed_at": now, "reported_by": 1, "round_id": round_id, "severity": "normal",
        "status": "complete", "unit_id": 1_000_001, "updated_at": now, "version": 1, "visit_id": None,
    }, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def raw_rows(n: int) -> list[tuple[str, str, str, str, str, str]]:
    """Rows like the baseline's (common_rows.py): UUID id, device, kind, timestamps, JSON payload."""
    device = str(uuid.uuid4())
    now = _now().isoformat()
    rows = []
    for i in range(n):
        rid = str(uuid.uuid4())
        payload = json.dumps({"id": rid, **finding_fields(17, 3, i), "observed_at": now, "version": 1,
                              "status": "complete", "reported_by": 5}, ensure_ascii=False, separators=(",", ":"))
        rows.append((rid, device, "finding", now, now, payload))
    return rows


def raw_insert(n: int, workdir: Path, runs: int = 3) -> tuple[float, float]:
    """Plain sqlite3 executemany of n rows into a fresh table, one transaction: (rows/s, bytes/row)."""
    rows = raw_rows(n)
    size = statistics.mean(sum(len(v.encode()) for v in row) for row in rows)
    rates = []
    for run in range(runs):
        path = workdir / f"raw_{run}.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE sync_rows (id TEXT PRIMARY KEY, device TEXT NOT NULL, kind TEXT NOT NULL, "
                     "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, payload TEXT NOT NULL)")
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO sync_rows VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        rates.append(n / (time.perf_counter() - started))
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return statistics.median(rates), size


def _field_meta(now: dt.datetime) -> dict[str, Any]:
    """The per-field stamps a created finding carries (whatever stamp_fields takes today)."""
    import inspect

    from sync_protocol.entities import MUTABLE
    from sync_protocol.merge import stamp_fields

    extra = {"device": ""} if "device" in inspect.signature(stamp_fields).parameters else {}
    return stamp_fields({}, MUTABLE["finding"], version=1, at=now, **extra)


class World:
    """A campaign, a round with a standard, and one inspector per job, each on a unit of their own:
    alice pushes, carol's first sync is the pull benchmark, dave pulls the incremental changes."""

    def __init__(self, app: Any) -> None:
        from server.auth.models import Role
        from tests import factories

        hasher = app.extensions["xuncha.hasher"]
        with app.extensions["xuncha.db"].session() as s:
            campaign = factories.campaign(s)
            standard = factories.standard(s, campaign)
            rnd = factories.round_(s, campaign, standard)
            self.units = {}
            self.users = {}
            for username, unit_name in (("alice", "市审计局"), ("carol", "市新华书店"), ("dave", "市财政局")):
                unit = factories.unit(s, campaign, name=unit_name)
                user = factories.user(s, hasher, Role.INSPECTOR, campaign=campaign, username=username)
                factories.team(s, rnd, members=[user], units=[unit], name=f"{username}检查组")
                self.units[username], self.users[username] = unit.id, user.id
            s.commit()
            self.campaign_id, self.round_id = campaign.id, rnd.id


class Bench:
    def __init__(self, url: str, workdir: Path, server_kind: str, profile_dir: str | None) -> None:
        from server import create_app
        from server.db import make_engine

        self.url = url
        self.is_pg = url.startswith("postgresql")
        self.workdir = workdir
        self.settings = app_settings(url, workdir / "instance")
        self.app = create_app(self.settings)
        self.db = self.app.extensions["xuncha.db"]
        self.world = World(self.app)
        self.bulk_engine = make_engine(url)
        if not self.is_pg:
            from sqlalchemy import event

            # A bigger page cache for the bulk loads only (setup, not measured).
            event.listen(self.bulk_engine, "connect",
                         lambda conn, _: conn.execute("PRAGMA cache_size=-262144"))
        self.server = ServerProcess(self.settings, server_kind, profile_dir)
        self.http = Http(self.server.port)
        self.dave_token = self.http.login("dave", str(uuid.uuid4()))
        self.dave_cursor = ""

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.bulk_engine.dispose()
        self.db.dispose()

    # -- helpers
    def feed_rows(self) -> int:
        import sqlalchemy as sa

        with self.bulk_engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM sync_rows")).scalar_one()

    def analyze(self) -> None:
        """PostgreSQL: refresh planner statistics after a bulk load, as autovacuum soon would."""
        if self.is_pg:
            import sqlalchemy as sa

            with self.bulk_engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))

    def make_findings(self, owner: str, count: int, chunk: int = 5000) -> None:
        """``count`` findings and their orders (2 feed rows each) through the ORM, in large
        transactions: the publishing hook writes the feed rows at each commit.

        PostgreSQL caches the plan of a foreign-key check per connection, made from the
        statistics of the moment: planned on a nearly empty ``findings``, each order's check
        scans the whole table, so one big load into a small, analyzed table turns quadratic.
        Large loads therefore grow their transactions from 500 rows, doubling, with an ANALYZE
        after each (what autovacuum does over time)."""
        from server.findings.models import Finding, FindingStatus, Severity
        from server.orders.models import Order, OrderStatus
        from server.rounds.models import Round

        unit_id, user_id = self.world.units[owner], self.world.users[owner]
        bulk = self.is_pg and count >= 1000
        made = 0
        while made < count:
            n = min(chunk, count - made, max(500, made) if bulk else chunk)
            now = _now()
            meta = _field_meta(now)
            with self.db.session() as s:
                # Held for the whole transaction: the identity map keeps only referenced objects, and
                # the publishing hook looks the round up for every finding and order it publishes.
                round_ = s.get(Round, self.world.round_id)  # noqa: F841
                findings = [Finding(id=uuid.uuid4(), round_id=self.world.round_id, campaign_id=self.world.campaign_id,
                                    unit_id=unit_id, category="环境卫生", description=f"{DESCRIPTION}（{made + i}）",
                                    severity=Severity.NORMAL, status=FindingStatus.COMPLETE, latitude=32.0415,
                                    longitude=118.7845, location_text=LOCATION, reported_by=user_id,
                                    observed_at=now, version=1, field_meta=meta) for i in range(n)]
                s.add_all(findings)
                s.flush()
                s.add_all([Order(id=uuid.uuid4(), finding_id=f.id, unit_id=unit_id, level=1,
                                 status=OrderStatus.ISSUED, issued_at=now, issued_by=user_id) for f in findings])
                s.commit()
            made += n
            if bulk:
                self.analyze()

    def fill_feed(self, count: int, visible_key: str, chunk: int = 20_000) -> None:
        """``count`` feed rows straight into sync_rows (SA Core executemany), sequences taken from
        the counter in the same transaction, so the counter stays at the highest sequence.
        Most rows belong to 997 other units; 1 in 200 to ``visible_key``; 1 in 50 is a tombstone."""
        import sqlalchemy as sa

        from server.sync.models import SyncCounter, SyncRow

        template = feed_payload_template(self.world.campaign_id, self.world.round_id)
        table = SyncRow.__table__
        done = 0
        while done < count:
            n = min(chunk, count - done)
            now = _now()
            with self.bulk_engine.begin() as conn:
                last = conn.execute(sa.update(SyncCounter).where(SyncCounter.id == 1)
                                    .values(value=SyncCounter.value + n).returning(SyncCounter.value)).scalar_one()
                rows = []
                for i in range(n):
                    k = done + i
                    entity_id = str(uuid.uuid4())
                    deleted = k % 50 == 7
                    rows.append({"entity": "finding" if k % 2 == 0 else "order", "entity_id": entity_id,
                                 "scope_key": visible_key if k % 200 == 0 else f"o:{1_000_000 + k % 997}",
                                 "seq": last - n + 1 + i, "deleted": deleted,
                                 "payload": "" if deleted else template.replace("@ID@", entity_id),
                                 "campaign_id": self.world.campaign_id, "changed_at": now})
                conn.execute(sa.insert(table), rows)
            done += n

    def keys_by_table(self) -> dict[str, set[tuple[Any, ...]]]:
        """The primary keys of every table's rows (not timed): what was there before a push."""
        import sqlalchemy as sa

        from server.db import Base

        with self.bulk_engine.connect() as conn:
            return {table.name: {tuple(row) for row in conn.execute(sa.select(*table.primary_key.columns))}
                    for table in Base.metadata.sorted_tables}

    def rewrite_floor(self, before: dict[str, set[tuple[Any, ...]]]) -> list[Any]:
        """The rows the push added, every table, written again as plain copies with the project's
        fastest bulk insert (``server.db.insert_rows``: COPY on PostgreSQL, the driver's
        executemany on SQLite) in one transaction, then rolled back: what the push's records cost
        with no HTTP, validation, merging or workflow around them, on this schema with its
        indexes and foreign keys. The rows are deleted first in the same transaction (not
        timed) so the copies take their places. Rows the push only updated (the device's state,
        the sequence counter) are left out, which makes this a floor, not an estimate."""
        import sqlalchemy as sa
        from sqlalchemy.orm import Session

        from benchmarks.floors import insert_copies
        from server.db import Base

        added: list[tuple[sa.Table, list[dict[str, Any]]]] = []
        with self.bulk_engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                known = before[table.name]
                key = [table.c[c.key] for c in table.primary_key.columns]
                rows = [dict(row._mapping) for row in conn.execute(sa.select(table))
                        if tuple(row._mapping[c] for c in key) not in known]
                if rows:
                    added.append((table, rows))
            with Session(bind=conn) as session:
                for table, rows in reversed(added):
                    key = list(table.primary_key.columns)
                    for start in range(0, len(rows), 500):
                        chunk = rows[start:start + 500]
                        condition = sa.tuple_(*key).in_([tuple(r[c.key] for c in key) for r in chunk])
                        session.execute(sa.delete(table).where(condition))
                session.flush()
                written = insert_copies(session, added)
                session.rollback()
        return written

    # -- phases
    def incremental(self, target: int, runs: int) -> dict[str, Any]:
        """Median time of a pull that returns 10 new changes with about ``target`` feed rows stored."""
        started = time.perf_counter()
        before = self.feed_rows()
        if target > before:
            self.fill_feed(target - before, f"o:{self.world.units['dave']}")
        self.analyze()
        fill_s = time.perf_counter() - started
        stored = self.feed_rows()
        started = time.perf_counter()
        caught_up = 0
        while True:  # the device catches up first (pages of 5000)
            body = self.http.json("GET", pull_path(self.dave_cursor, 5000), token=self.dave_token)
            caught_up += len(body["changes"])
            self.dave_cursor = body["cursor"]
            if not body["has_more"]:
                break
        catch_up_s = time.perf_counter() - started
        times, odd = [], 0
        for run in range(WARM_UP + runs):
            self.make_findings("dave", NEW_CHANGES // 2)
            t0 = time.perf_counter()
            status, data = self.http.call("GET", pull_path(self.dave_cursor, PAGE), token=self.dave_token)
            body = json.loads(data)
            elapsed = (time.perf_counter() - t0) * 1000
            if status != 200:
                raise RuntimeError(f"pull: HTTP {status}: {data[:300]!r}")
            odd += len(body["changes"]) != NEW_CHANGES or body["has_more"]
            self.dave_cursor = body["cursor"]
            if run >= WARM_UP:
                times.append(elapsed)
        return {"ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "stored": stored,
                "fill_s": fill_s, "catch_up_s": catch_up_s, "caught_up": caught_up, "odd": odd, "runs": runs}

    def push(self, count: int) -> dict[str, Any]:
        from sync_protocol.version import PROTOCOL_VERSION

        unit_id, round_id = self.world.units["alice"], self.world.round_id

        def batches(device: str, n: int) -> list[list[dict[str, Any]]]:
            now = _now().isoformat()
            mutations = [{"seq": i + 1, "entity": "finding", "id": str(uuid.uuid4()), "op": "create",
                          "fields": finding_fields(unit_id, round_id, i), "base_version": 0, "device_time": now}
                         for i in range(n)]
            return [mutations[i:i + BATCH] for i in range(0, n, BATCH)]

        def send(device: str, token: str, batch: list[dict[str, Any]], left: int) -> tuple[int, float]:
            t0 = time.perf_counter()
            body = json.dumps({"protocol": PROTOCOL_VERSION, "device_id": device, "sent_at": _now().isoformat(),
                               "telemetry": {"outbox_depth": left, "app_version": "bench"},
                               "mutations": batch}, ensure_ascii=False).encode()
            encode = time.perf_counter() - t0
            status, data = self.http.call("POST", "/api/v1/sync/push", body, token)
            if status != 200:
                raise RuntimeError(f"push: HTTP {status}: {data[:300]!r}")
            answer = json.loads(data)
            return sum(r["outcome"] == "applied" for r in answer["results"]), encode

        warm = str(uuid.uuid4())  # a small untimed push first: the server's first request is cold
        warm_token = self.http.login("alice", warm)
        send(warm, warm_token, batches(warm, 50)[0], 50)

        device = str(uuid.uuid4())
        token = self.http.login("alice", device)
        todo = batches(device, count)
        before = self.keys_by_table()
        applied, encode_s, latencies = 0, 0.0, []
        pids = self.server.pids()
        cpu = _cpu_s(pids)
        started = time.perf_counter()
        for i, batch in enumerate(todo):
            t0 = time.perf_counter()
            ok, encode = send(device, token, batch, count - i * BATCH)
            latencies.append(time.perf_counter() - t0)
            applied += ok
            encode_s += encode
        seconds = time.perf_counter() - started
        cpu = _cpu_s(pids) - cpu
        written = self.rewrite_floor(before)
        self.pushed = [m["id"] for batch in todo for m in batch]
        return {"count": count, "applied": applied, "seconds": seconds, "rate": count / seconds, "server_cpu_s": cpu,
                "floor_s": sum(w.seconds for w in written), "floor_db_s": sum(w.database for w in written),
                "written": written, "rows_written": sum(w.rows for w in written),
                "batch_ms": statistics.median(latencies) * 1000, "first_ms": latencies[0] * 1000,
                "last_ms": latencies[-1] * 1000, "encode_s": encode_s, "batches": len(todo)}

    def push_updates(self) -> dict[str, Any]:
        """Edits of the findings the create push made, one field each, in batches of BATCH from
        a second device of the same inspector: the path that locks each record before reading it."""
        from sync_protocol.version import PROTOCOL_VERSION

        device = str(uuid.uuid4())
        token = self.http.login("alice", device)
        now = _now().isoformat()
        mutations = [{"seq": i + 1, "entity": "finding", "id": finding_id, "op": "update",
                      "fields": {"description": f"门前杂物已清理{i}"}, "base_version": 1, "device_time": now}
                     for i, finding_id in enumerate(self.pushed)]
        applied, started = 0, time.perf_counter()
        for i in range(0, len(mutations), BATCH):
            body = json.dumps({"protocol": PROTOCOL_VERSION, "device_id": device, "sent_at": _now().isoformat(),
                               "telemetry": {}, "mutations": mutations[i:i + BATCH]}, ensure_ascii=False).encode()
            status, data = self.http.call("POST", "/api/v1/sync/push", body, token)
            if status != 200:
                raise RuntimeError(f"push: HTTP {status}: {data[:300]!r}")
            applied += sum(r["outcome"] == "applied" for r in json.loads(data)["results"])
        seconds = time.perf_counter() - started
        return {"count": len(mutations), "applied": applied, "seconds": seconds, "rate": len(mutations) / seconds}

    def pull(self, rows: int) -> dict[str, Any]:
        import sqlalchemy as sa

        started = time.perf_counter()
        self.make_findings("carol", rows // 2)
        self.analyze()
        build_s = time.perf_counter() - started
        with self.bulk_engine.connect() as conn:
            visible = conn.execute(sa.text("SELECT count(*) FROM sync_rows WHERE scope_key = :k"),
                                   {"k": f"o:{self.world.units['carol']}"}).scalar_one()
        plain = self.first_sync(None)
        # A second device of the same user, asking for gzip: the bytes a phone on a slow link
        # receives. It runs after the first, on warm caches; its rate is printed, not a goal.
        packed = self.first_sync("gzip")
        return {**plain, "build_s": build_s, "made": visible, "gzip": packed}

    def first_sync(self, accept_encoding: str | None) -> dict[str, Any]:
        """carol's first sync on a new device by the pull client process, and the server's CPU."""
        token = self.http.login("carol", str(uuid.uuid4()))
        server_pids = self.server.pids()
        server_before = {pid: _status_kb(pid, "VmRSS") for pid in server_pids}
        server_reset = all(_reset_peak(pid) for pid in server_pids)
        cpu = _cpu_s(server_pids)
        env = {**os.environ, "BENCH_TOKEN": token}
        if accept_encoding:
            env["BENCH_ACCEPT_ENCODING"] = accept_encoding
        done = subprocess.run([sys.executable, __file__, "--_pull-client", str(self.server.port), str(PAGE)],
                              env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"pull client failed: {done.stderr[-2000:]}")
        client = json.loads(done.stdout.strip().splitlines()[-1])
        cpu = _cpu_s(server_pids) - cpu
        server_growth = max(_status_kb(pid, "VmHWM") - server_before[pid] for pid in server_pids)
        return {**client, "rate": client["rows"] / (client["seconds"] - client["decode_s"]),
                "rate_decoded": client["rows"] / client["seconds"],
                "peak_mb": (client["peak_kb"] - client["rss_before_kb"]) / 1024,
                "server_peak_mb": server_growth / 1024, "server_reset": server_reset, "server_cpu_s": cpu}


# -- main ---------------------------------------------------------------------------------------

def run(url: str, workdir: Path, sizes: dict[str, int], args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.floors import describe
    from server.cli import upgrade_database

    started = time.perf_counter()
    upgrade_database(url)
    say(f"schema built by the migrations in {time.perf_counter() - started:.1f} s")
    bench = Bench(url, workdir, args.server, args.profile)
    try:
        say(f"server: {bench.server.kind} on 127.0.0.1:{bench.server.port} (pid {bench.server.proc.pid}); "
            f"client: http.client keep-alive")

        say(f"\n[1/5] incremental pull, ~{fmt(sizes['small'])} feed rows stored")
        small = bench.incremental(sizes["small"], sizes["runs"])
        _say_incremental(small)

        say(f"\n[2/5] first sync of {fmt(sizes['pull'])} findings+orders, pages of {PAGE}")
        pull = bench.pull(sizes["pull"])
        say(f"  built {fmt(pull['made'])} feed rows through the ORM and the publishing hook in {pull['build_s']:.1f} s")
        say(f"  pulled {fmt(pull['rows'])} changes in {pull['pages']} pages: {pull['seconds']:.2f} s, of which "
            f"{pull['decode_s']:.2f} s the client's json.loads of the pages")
        say(f"  → {fmt(pull['rate'])} rows/s waiting on HTTP (the figure reported), {fmt(pull['rate_decoded'])} rows/s "
            f"with the client's decoding; HTTP page times: first {pull['first_page_ms']:.0f} ms, median "
            f"{pull['median_page_ms']:.0f} ms, last {pull['last_page_ms']:.0f} ms")
        say(f"  server CPU {pull['server_cpu_s']:.2f} s = {1000 * pull['server_cpu_s'] / pull['pages']:.1f} ms "
            f"per page; client CPU {pull['client_cpu_s']:.2f} s")
        packed = pull["gzip"]
        say(f"  the same first sync on a second device asking for gzip: {packed['wire_bytes'] / packed['rows']:,.0f} "
            f"bytes a row on the wire instead of {pull['wire_bytes'] / pull['rows']:,.0f} "
            f"({pull['wire_bytes'] / packed['wire_bytes']:.1f}× smaller); {fmt(packed['rate'])} rows/s waiting on "
            f"HTTP, server CPU {1000 * packed['server_cpu_s'] / packed['pages']:.1f} ms per page")

        say(f"\n[3/5] push {fmt(sizes['push'])} finding creates in batches of {BATCH}")
        push = bench.push(sizes["push"])
        say(f"  {fmt(push['count'])} mutations ({fmt(push['applied'])} applied) in {push['seconds']:.2f} s → "
            f"{fmt(push['rate'])} mutations/s; batches: first {push['first_ms']:.0f} ms, median "
            f"{push['batch_ms']:.0f} ms, last {push['last_ms']:.0f} ms (client JSON encoding "
            f"{push['encode_s']:.2f} s in all)")
        say(f"  server CPU {push['server_cpu_s']:.1f} s = {1000 * push['server_cpu_s'] / push['count']:.2f} ms "
            f"per mutation ({100 * push['server_cpu_s'] / push['seconds']:.0f} % of one core)")
        say(f"  floor: the {fmt(push['rows_written'])} rows it added ({push['rows_written'] / push['count']:.1f} per "
            f"mutation), written again as plain copies in bulk: {push['floor_s']:.2f} s, of which "
            f"{push['floor_db_s']:.2f} s the database's → at most {fmt(push['count'] / push['floor_db_s'])} "
            f"mutations/s on this schema; {describe(push['written'])}")

        updates = bench.push_updates()
        say(f"  then {fmt(updates['count'])} updates of those findings (one field each, {fmt(updates['applied'])} "
            f"applied) in {updates['seconds']:.2f} s → {fmt(updates['rate'])} mutations/s")
        push["updates"] = updates

        say(f"\n[4/5] raw sqlite3 executemany of {fmt(sizes['push'])} rows, one transaction, fresh temp file")
        raw, row_bytes = raw_insert(sizes["push"], workdir)
        say(f"  {fmt(raw)} rows/s (median of 3; rows of {row_bytes:.0f} B)")

        say(f"\n[5/5] incremental pull, ~{fmt(sizes['large'])} feed rows stored")
        large = bench.incremental(sizes["large"], sizes["runs"])
        _say_incremental(large)
    finally:
        bench.close()
    return {"push": push, "raw": raw, "pull": pull, "small": small, "large": large}


def _say_incremental(r: dict[str, Any]) -> None:
    say(f"  feed filled to {fmt(r['stored'])} rows in {r['fill_s']:.1f} s; device caught up "
        f"({fmt(r['caught_up'])} changes) in {r['catch_up_s']:.2f} s")
    odd = f"; {r['odd']} pulls did not return exactly {NEW_CHANGES} changes!" if r["odd"] else ""
    say(f"  pull of {NEW_CHANGES} new changes: median {r['ms']:.1f} ms (min {r['min_ms']:.1f}, "
        f"max {r['max_ms']:.1f}, {r['runs']} runs after {WARM_UP} warm-up pulls){odd}")


def report(r: dict[str, Any], sizes: dict[str, int], is_pg: bool) -> dict[str, Any]:
    push, raw, pull, small, large = r["push"], r["raw"], r["pull"], r["small"], r["large"]
    ratio = push["rate"] / raw
    floor_rate = push["count"] / push["floor_db_s"]
    growth = large["ms"] / small["ms"]
    say("\n== summary (no timing is asserted; goals from perf-measurements.md)")
    say(f"push      {fmt(push['rate']):>9} mutations/s (batches of {BATCH}); baseline d4 prototype "
        f"{fmt(BASELINE['push_prototype'])}/s (100-record batches) → {push['rate'] / BASELINE['push_prototype']:.2f}×")
    say(f"raw       {fmt(raw):>9} rows/s sqlite3 executemany; baseline b1 {fmt(BASELINE['raw_sqlite_executemany'])}/s "
        f"→ {raw / BASELINE['raw_sqlite_executemany']:.2f}×")
    say(f"ratio     {ratio:9.3f} push/raw; goal ≥ {GOALS['push_ratio']} → {ratio / GOALS['push_ratio']:.2f}× the goal")
    say(f"ceiling   {floor_rate / raw:9.3f} push/raw if the push cost nothing but the database's writing of its "
        f"{push['rows_written'] / push['count']:.1f} rows per mutation ({fmt(floor_rate)} mutations/s); "
        f"the push reaches {push['rate'] / floor_rate:.2f}× of it")
    core = BASELINE["pull_core_pg" if is_pg else "pull_core_sqlite"]
    say(f"pull      {fmt(pull['rate']):>9} rows/s first sync, pages of {PAGE}, time waiting on HTTP "
        f"({fmt(pull['rate_decoded'])}/s with the client's json.loads); baseline d6 prototype "
        f"{fmt(BASELINE['pull_prototype'])}/s → {pull['rate'] / BASELINE['pull_prototype']:.2f}×; "
        f"goal {fmt(GOALS['pull_rows_per_s'])}/s → {pull['rate'] / GOALS['pull_rows_per_s']:.2f}×; "
        f"SA Core in-process ({'c11' if is_pg else 'b14'}) {fmt(core)}/s")
    say(f"memory    {pull['peak_mb']:9.1f} MB peak RSS growth of the pulling client process (VmHWM − VmRSS "
        f"before the first page{'' if pull['peak_reset'] else ', peak not resettable'}); "
        f"server process: {pull['server_peak_mb']:.1f} MB; goal ≤ {GOALS['pull_peak_mb']} MB")
    say(f"increment {small['ms']:9.1f} ms with {fmt(small['stored'])} rows, {large['ms']:.1f} ms with "
        f"{fmt(large['stored'])} rows → {growth:.2f}× (goal ≤ {GOALS['incremental_growth']}×)")
    if sizes["large"] != 1_000_000:
        say(f"          (incremental_pull_ms_1m below is measured with {fmt(large['stored'])} rows, not 1M)")
    return {
        "push_mutations_per_s": round(push["rate"], 1),
        "push_updates_per_s": round(push["updates"]["rate"], 1),
        "raw_insert_rows_per_s": round(raw, 1),
        "push_ratio": round(ratio, 4),
        "push_floor_mutations_per_s": round(floor_rate, 1),
        "push_ceiling_ratio": round(floor_rate / raw, 4),
        "push_rows_per_mutation": round(push["rows_written"] / push["count"], 2),
        "pull_rows_per_s": round(pull["rate"], 1),
        "pull_peak_mb": round(pull["peak_mb"], 1),
        "pull_bytes_per_row": round(pull["wire_bytes"] / pull["rows"], 1),
        "pull_gzip_bytes_per_row": round(pull["gzip"]["wire_bytes"] / pull["gzip"]["rows"], 1),
        "pull_gzip_rows_per_s": round(pull["gzip"]["rate"], 1),
        "incremental_pull_ms_10k": round(small["ms"], 2),
        "incremental_pull_ms_1m": round(large["ms"], 2),
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return f"{head or 'unknown'}" + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI): well under a minute")
    parser.add_argument("--postgres", metavar="URL",
                        help="PostgreSQL base URL (e.g. postgresql://postgres@127.0.0.1:5432); a database "
                             "xuncha_bench_<pid> is created there and dropped at the end")
    parser.add_argument("--server", choices=["werkzeug", "gunicorn"],
                        help="WSGI server (default: gunicorn with 2 sync workers, as in production; werkzeug "
                             "with --profile)")
    parser.add_argument("--push", type=int, help="mutations to push")
    parser.add_argument("--pull", type=int, help="rows for the first-sync pull")
    parser.add_argument("--large", type=int, help="feed rows for the second incremental measurement")
    parser.add_argument("--runs", type=int, help="incremental pulls per measurement (median)")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the werkzeug server: one .pstats per path")
    parser.add_argument("--_serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_pull-client", dest="pull_client", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._serve is not None:
        serve_main(args._serve, args.profile)
        return 0
    if args.pull_client:
        pull_client_main(args.pull_client[0], os.environ["BENCH_TOKEN"], args.pull_client[1],
                         os.environ.get("BENCH_ACCEPT_ENCODING"))
        return 0

    sizes = dict(QUICK if args.quick else FULL)
    for key in ("push", "pull", "large", "runs"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    if args.server == "gunicorn" and args.profile:
        parser.error("--profile needs the werkzeug server")
    args.server = args.server or ("werkzeug" if args.profile else "gunicorn")

    def terminate(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, terminate)
    say(f"sync benchmark ({'quick' if args.quick else 'full'}): push {fmt(sizes['push'])}, pull {fmt(sizes['pull'])}, "
        f"incremental at {fmt(sizes['small'])} and {fmt(sizes['large'])} feed rows; "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    say(f"code: {_revision()}; load average {_load()} (other work on the machine skews every figure)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xuncha_bench_") as tmp:
        workdir = Path(tmp)
        if args.postgres:
            database = postgres_database(args.postgres)
        else:
            database = sqlite_database(workdir)
        with database as url:
            say("database: " + (f"PostgreSQL {url.rsplit('/', 1)[-1]} (throwaway)" if args.postgres
                                else f"SQLite file {url.removeprefix('sqlite:///')} (WAL, synchronous=NORMAL)"))
            results = run(url, workdir, sizes, args)
    summary = report(results, sizes, bool(args.postgres))
    say(f"total time {time.perf_counter() - started:.0f} s; load average now {_load()}")
    say(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
