#!/usr/bin/env python
"""Field load: the patrol simulator against gunicorn + PostgreSQL, as production runs it.

    python benchmarks/patrol_bench.py --quick            # CI: 4 phones for 15 s
    python benchmarks/patrol_bench.py                    # 50 phones for 5 minutes
    python benchmarks/patrol_bench.py --kill-worker      # ... and one worker SIGKILLed halfway

A throwaway PostgreSQL database ``xuncha_patrol_<pid>`` is built by the real migrations and
filled with the demo campaign (``xuncha demo``: its ten inspectors and its supervisor); the app
is served by gunicorn (sync workers) with media on the filesystem, and the scheduler runs as its
own process beside it. The phones (``sample_client.simulator``, one thread each, in this
process) lose requests and answers at ``--loss`` and wait ``--latency`` ms each way, then the
run checks that the server holds exactly what they captured, every photo byte for byte, and
that every phone converged.

The last line is one JSON object: ``devices``, ``mutations_per_s``, ``push_p95_ms``,
``pull_p95_ms``, ``photos_per_s``, ``lost``, ``duplicated`` (the last two must be 0), and the
rest of the simulator's figures. The exit status is 1 when anything was lost, duplicated,
unverified or diverged.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_client.simulator import DEMO_INSPECTORS, DEMO_SUPERVISOR, Simulation  # noqa: E402


_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin(base: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"the server stopped at start:\n{log.read_text()}")
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    name = f"xuncha_patrol_{os.getpid()}"
    base = args.postgres.rstrip("/")
    url = f"{base}/{name}"
    _admin(base, f'CREATE DATABASE "{name}"')
    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    try:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")},
               "XUNCHA_DATABASE_URL": url, "XUNCHA_INSTANCE_DIR": str(workdir / "instance"),
               "XUNCHA_MEDIA_ROOT": str(workdir / "media"), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "server.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        say("database migrated")
        subprocess.run([sys.executable, "-m", "server.cli", "demo"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        say("demo campaign loaded")
        port = _free_port()
        server_url = f"http://127.0.0.1:{port}"
        log = workdir / "gunicorn.log"
        with log.open("w") as out:
            gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
                 "--timeout", "60", "--log-level", "warning", "server:create_app()"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            processes.append(gunicorn)
            processes.append(subprocess.Popen([sys.executable, "-m", "server.cli", "scheduler"], env=env, cwd=ROOT,
                                              stdout=out, stderr=subprocess.STDOUT))
        _wait_until_up(server_url, gunicorn, log)
        say(f"gunicorn ({args.workers} workers) and the scheduler on {name}; "
            f"{args.devices} phones for {args.minutes} min, loss {args.loss}, latency {args.latency} ms")
        killed: list[int] = []
        if args.kill_worker:
            def kill_one() -> None:
                workers = _workers(gunicorn.pid)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.append(workers[0])
                    say(f"worker {workers[0]} killed (SIGKILL)")

            threading.Timer(args.minutes * 60 / 2, kill_one).start()
        simulation = Simulation(server_url, devices=args.devices, seconds=args.minutes * 60, loss=args.loss,
                                latency_ms=args.latency, accounts=list(DEMO_INSPECTORS), supervisor=DEMO_SUPERVISOR,
                                home=workdir / "phones", seed=args.seed, say=say)
        outcome = simulation.run()
        for problem in outcome.problems:
            say(f"problem: {problem}")
        return {**outcome.figures(), "workers": args.workers, "worker_killed": bool(killed), "ok": outcome.ok}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 phones for 15 s (CI)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL base URL; a throwaway database is made there (default: %(default)s)")
    parser.add_argument("--devices", type=int, help="phones (default 50; quick 4)")
    parser.add_argument("--minutes", type=float, help="how long they work (default 5; quick 0.25)")
    parser.add_argument("--loss", type=float, default=0.05, help="chance a request or its answer is lost")
    parser.add_argument("--latency", type=float, default=50, help="one-way latency in ms (jittered)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one worker halfway through")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.devices = args.devices or (4 if args.quick else 50)
    args.minutes = args.minutes or (0.25 if args.quick else 5.0)
    with tempfile.TemporaryDirectory(prefix="xuncha-patrol-") as workdir:
        figures = run(args, Path(workdir))
    print(json.dumps(figures, ensure_ascii=False))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
