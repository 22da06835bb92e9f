#!/usr/bin/env python
"""Field load: the patrol simulator against gunicorn + PostgreSQL, as production runs it.

    python benchmarks/patrol_bench.py --quick            # CI: 4 phones for 15 s
    python benchmarks/patrol_bench.py                    # 50 phones for 5 minutes
    python benchmarks/patrol_bench.py --kill-worker      # ... and one worker SIGKILLed halfway
    benchmarks/scale_out.sh                              # both, with four workers (docs/operations.md)

A throwaway PostgreSQL database ``xuncha_bench_<pid>`` is built by the real migrations and
filled with the demo campaign (``xuncha demo``: its ten inspectors and its supervisor); the app
is served by gunicorn (``--workers`` sync workers, two by default) with media on the filesystem, and the scheduler runs as its
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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.sync_bench import ServerProcess, app_settings, postgres_database  # noqa: E402
from sample_client.simulator import DEMO_INSPECTORS, DEMO_SUPERVISOR, Simulation  # noqa: E402

_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with postgres_database(args.postgres) as url:
        settings = {**app_settings(url, workdir / "instance"), "MEDIA_ROOT": str(workdir / "media")}
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")},
               **{f"XUNCHA_{k}": str(v) for k, v in settings.items()}, "PYTHONPATH": str(ROOT)}
        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run([sys.executable, "-m", "server.cli", *command], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        say("database migrated, demo campaign loaded")
        server = ServerProcess(settings, "gunicorn", None, workers=args.workers)
        scheduler = subprocess.Popen([sys.executable, "-m", "server.cli", "scheduler"], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            say(f"gunicorn ({args.workers} workers) and the scheduler; {args.devices} phones for {args.minutes} min, "
                f"loss {args.loss}, latency {args.latency} ms")
            killed: list[int] = []
            if args.kill_worker:
                def kill_one() -> None:
                    worker = server.pids()[0]
                    os.kill(worker, signal.SIGKILL)
                    killed.append(worker)
                    say(f"worker {worker} killed (SIGKILL)")

                threading.Timer(args.minutes * 60 / 2, kill_one).start()
            simulation = Simulation(f"http://127.0.0.1:{server.port}", devices=args.devices,
                                    seconds=args.minutes * 60, loss=args.loss, latency_ms=args.latency,
                                    accounts=list(DEMO_INSPECTORS), supervisor=DEMO_SUPERVISOR,
                                    home=workdir / "phones", seed=args.seed, say=say)
            outcome = simulation.run()
        finally:
            scheduler.send_signal(signal.SIGTERM)
            server.stop()
            scheduler.wait(timeout=30)
        for problem in outcome.problems:
            say(f"problem: {problem}")
        return {**outcome.figures(), "worker_killed": bool(killed), "ok": outcome.ok}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 phones for 15 s (CI)")
    parser.add_argument("--postgres",
                        default=os.environ.get("XUNCHA_CI_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
                        help="PostgreSQL base URL; a throwaway database is made there (default: %(default)s)")
    parser.add_argument("--devices", type=int, help="phones (default 50; quick 4)")
    parser.add_argument("--minutes", type=float, help="how long they work (default 5; quick 0.25)")
    parser.add_argument("--loss", type=float, default=0.05, help="chance a request or its answer is lost")
    parser.add_argument("--latency", type=float, default=50, help="one-way latency in ms (jittered)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default %(default)s)")
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
