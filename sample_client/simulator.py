"""The patrol simulator: N inspectors' phones working through their units on a weak link.

Each phone (a thread with its own store, device id and :class:`FaultyLink`) logs in, pulls its
scope, then until time is up: visits one of its units (answers, findings with generated JPEG
photos), now and then records a street finding inside one of its units' zones, drops out of
coverage and comes back, and syncs when it has a signal. Requests and answers are lost at
random and every request is delayed, both ways.

At the end every phone comes back online and syncs until nothing is left, pulls once more, and
the run checks, as a supervisor, that the server holds exactly what the phones captured (no
capture lost, none twice, none it did not make), that every photo is there byte for byte, and
that every phone holds what a fresh install of the same user pulls (convergence).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click
from PIL import Image, ImageDraw

from sample_client.app import FieldApp
from sample_client.engine import Backoff
from sample_client.errors import ClientError, GaveUp
from sample_client.faults import FaultyLink
from sample_client.transport import HttpTransport

#: The demo campaign's inspectors and supervisor (``xuncha demo`` prints them).
DEMO_INSPECTORS = tuple(("inspector" if n == 1 else f"inspector{n}", "xuncha-insp-1") for n in range(1, 6)) + tuple(
    (f"member{n}", "xuncha-insp-1") for n in range(1, 6))
DEMO_SUPERVISOR = ("supervisor", "xuncha-super-1")

CATEGORIES = ("环境卫生", "市容秩序", "公共设施", "占道经营", "野广告")
DESCRIPTIONS = ("办公楼西侧杂物堆积墙边", "门前垃圾未及时清运", "楼道内乱贴小广告", "绿化带内有白色垃圾", "门前占道摆摊")


#: Comparisons of a phone with a fresh install before it counts as diverged.
CONVERGE_ATTEMPTS = 3


@dataclass
class Phone:
    number: int
    username: str
    password: str
    app: FieldApp
    link: FaultyLink
    rng: random.Random
    visits: set[str] = field(default_factory=set)
    answers: set[str] = field(default_factory=set)
    findings: set[str] = field(default_factory=set)
    #: (finding id, sha256) of every photo named on a finding.
    photos: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    devices: int
    seconds: float
    mutations: int
    photos: int
    lost: int
    duplicated: int
    photos_missing: int
    diverged: int
    push_ms: list[float]
    pull_ms: list[float]
    bytes_sent: int
    retries: int
    lost_messages: int
    problems: list[str]

    def figures(self) -> dict[str, Any]:
        return {"devices": self.devices, "seconds": round(self.seconds, 1), "mutations": self.mutations,
                "mutations_per_s": round(self.mutations / self.seconds, 1) if self.seconds else 0.0,
                "photos": self.photos, "photos_per_s": round(self.photos / self.seconds, 2) if self.seconds else 0.0,
                **{f"push_p{p}_ms": _percentile(self.push_ms, p) for p in (50, 95, 99)},
                **{f"pull_p{p}_ms": _percentile(self.pull_ms, p) for p in (50, 95, 99)},
                "bytes_sent": self.bytes_sent, "retries": self.retries, "messages_lost": self.lost_messages,
                "lost": self.lost, "duplicated": self.duplicated, "photos_unverified": self.photos_missing,
                "diverged": self.diverged}

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.photos_missing or self.diverged or self.problems)


def _percentile(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)


def make_photo(rng: random.Random, size: int = 480) -> bytes:
    """A JPEG no other phone will take: random blocks over a gradient."""
    image = Image.new("RGB", (size, size * 3 // 4), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size), rng.randrange(size * 3 // 4)
        draw.rectangle((x, y, x + rng.randrange(20, size // 2), y + rng.randrange(20, size // 2)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Simulation:
    def __init__(self, server: str, *, devices: int, seconds: float, loss: float, latency_ms: float,
                 accounts: list[tuple[str, str]], supervisor: tuple[str, str], home: Path, seed: int = 1,
                 photo_px: int = 480, offline_chance: float = 0.15, say: Callable[[str], None] = lambda _m: None
                 ) -> None:
        self.server = server.rstrip("/")
        self.devices, self.seconds, self.loss, self.latency_ms = devices, seconds, loss, latency_ms
        self.accounts, self.supervisor, self.home = accounts, supervisor, home
        self.seed, self.photo_px, self.offline_chance, self.say = seed, photo_px, offline_chance, say
        self.phones: list[Phone] = []
        self._before: dict[str, set[Any]] = {}

    def _phone(self, number: int) -> Phone:
        username, password = self.accounts[number % len(self.accounts)]
        rng = random.Random(self.seed * 1000 + number)
        link = FaultyLink(HttpTransport(self.server, timeout=30), loss=self.loss, latency_ms=self.latency_ms,
                          rng=random.Random(rng.random()))
        app = FieldApp(self.home / f"phone{number}", transport=link, password=password, attempts=6,
                       backoff=Backoff(base=0.05, cap=2.0, rng=random.Random(rng.random())), page_size=1000,
                       batch_size=200)
        app.store.put("server", self.server)
        return Phone(number, username, password, app, link, rng)

    # -- one phone's day -------------------------------------------------------------------------
    def _work(self, phone: Phone, until: float) -> None:
        app, rng = phone.app, phone.rng
        try:
            app.sync()
        except GaveUp:
            pass
        units = app.my_units()
        items = [i["id"] for i in app.records("item")]
        zones = {z["unit_id"]: z for z in app.records("zone")}
        if not units:
            phone.errors.append(f"{phone.username} holds no units: nothing to inspect")
            return
        turn = 0
        while time.monotonic() < until:
            unit = units[turn % len(units)]
            turn += 1
            phone.visits.add(app.start_visit(unit["id"]))
            for item in rng.sample(items, min(len(items), rng.randint(1, 3))):
                result = rng.choice(("pass", "pass", "fail", "na"))
                phone.answers.add(app.answer(item, result, instances=int(result == "fail"),
                                             score="1.00" if result == "fail" else None))
            for _ in range(rng.randint(0, 2)):
                self._finding(phone, lambda paths: app.add_finding(
                    rng.choice(CATEGORIES), rng.choice(DESCRIPTIONS), photos=paths))
            app.end_visit()
            zone = zones.get(unit["id"])
            if zone and rng.random() < 0.3:  # a street finding in front of the unit (门前四包)
                lat = rng.uniform(zone["min_lat"], zone["max_lat"])
                lon = rng.uniform(zone["min_lon"], zone["max_lon"])
                self._finding(phone, lambda paths: app.patrol_finding(
                    lat, lon, rng.choice(CATEGORIES), rng.choice(DESCRIPTIONS), photos=paths))
            if rng.random() < self.offline_chance:
                phone.link.online = not phone.link.online
            if phone.link.online:
                try:
                    app.sync()
                except GaveUp:
                    pass
            time.sleep(rng.uniform(0.05, 0.3))

    def _finding(self, phone: Phone, capture: Callable[[list[Path]], str]) -> None:
        folder = self.home / f"camera{phone.number}"
        folder.mkdir(exist_ok=True)
        paths = []
        for _ in range(phone.rng.randint(1, 2)):
            data = make_photo(phone.rng, self.photo_px)
            path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.jpg"
            path.write_bytes(data)
            paths.append(path)
        finding_id = capture(paths)
        phone.findings.add(finding_id)
        phone.photos |= {(finding_id, hashlib.sha256(p.read_bytes()).hexdigest()) for p in paths}

    def _drain(self, phone: Phone) -> None:
        """Back in coverage for good: sync until the outbox and the photo queue are empty."""
        phone.link.online = True
        for _ in range(50):
            try:
                phone.app.sync()
            except GaveUp:
                continue
            if not phone.app.device.unsent():
                return
        phone.errors.append(f"phone {phone.number} could not send everything")

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> Outcome:
        self.phones = [self._phone(n) for n in range(self.devices)]
        self._each(lambda phone: phone.app.login(phone.username, phone.password))
        if any(phone.errors for phone in self.phones):
            raise ClientError("; ".join(e for phone in self.phones for e in phone.errors))
        # What the server held before: the check counts only what is new (a demo's earlier work
        # by the same accounts is not this run's).
        self._before = {entity: set(records) for entity, records in self._held(self._fresh(*self.supervisor)).items()}
        self.say(f"{self.devices} phones logged in; working for {self.seconds:.0f} s")
        started = time.monotonic()
        self._each(lambda phone: self._work(phone, started + self.seconds))
        self._each(self._drain)
        self._each(lambda phone: phone.app.pull())  # everyone's last changes, everywhere
        elapsed = time.monotonic() - started
        self.say("checking the server")
        return self._check(elapsed)

    def _each(self, action: Callable[[Phone], None]) -> None:
        def guarded(phone: Phone) -> None:
            try:
                action(phone)
            except (ClientError, OSError) as error:  # reported, never hidden: the run fails
                phone.errors.append(f"phone {phone.number}: {type(error).__name__}: {error}")

        threads = [threading.Thread(target=guarded, args=(phone,)) for phone in self.phones]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _fresh(self, username: str, password: str) -> FieldApp:
        app = FieldApp(Path(tempfile.mkdtemp(dir=self.home, prefix="verify-")), server=self.server,
                       page_size=5000)
        app.login(username, password)
        app.pull()
        return app

    @staticmethod
    def _held(app: FieldApp) -> dict[str, dict[Any, dict[str, Any]]]:
        return {entity: app.store.records(entity) for entity in ("visit", "answer", "finding", "photo")}

    def _check(self, elapsed: float) -> Outcome:
        problems = [e for phone in self.phones for e in phone.errors]
        boss = self._fresh(*self.supervisor)
        # Pulled findings and photos carry no device id (a unit's liaison shares their feed
        # rows): they are told apart by their reporter, and photos by the finding naming them.
        ours = {phone.app.device.device_id for phone in self.phones}
        users = {(phone.app.store.get("user") or {}).get("id") for phone in self.phones}
        held = {entity: {key: record for key, record in records.items() if key not in self._before[entity]}
                for entity, records in self._held(boss).items()}
        visits = {i for (_e, i), v in held["visit"].items() if v.get("device_id") in ours}
        findings = {i for (_e, i), f in held["finding"].items() if f.get("reported_by") in users}
        captured_visits = set().union(*(p.visits for p in self.phones))
        captured_findings = set().union(*(p.findings for p in self.phones))
        answers = {i for (_e, i), a in held["answer"].items() if a.get("visit_id") in visits | captured_visits}
        photo_refs = [(p["finding_id"], p["sha256"]) for p in held["photo"].values()
                      if p.get("finding_id") in findings | captured_findings]
        captured = {"visit": captured_visits, "answer": set().union(*(p.answers for p in self.phones)),
                    "finding": captured_findings}
        on_server = {"visit": visits, "answer": answers, "finding": findings}
        lost = sum(len(captured[k] - on_server[k]) for k in captured)
        duplicated = sum(len(on_server[k] - captured[k]) for k in captured)
        captured_photos = set().union(*(p.photos for p in self.phones))
        lost += len(captured_photos - set(photo_refs))
        duplicated += len(photo_refs) - len(set(photo_refs)) + len(set(photo_refs) - captured_photos)
        with ThreadPoolExecutor(max_workers=8) as pool:  # one request per photo: not one after another
            intact = pool.map(lambda sha: self._photo_intact(boss, sha), {sha for _f, sha in captured_photos})
            photos_missing = sum(not ok for ok in intact)
        incomplete = [f for f in findings if held["finding"][("finding", f)].get("status") != "complete"]
        if incomplete:
            problems.append(f"{len(incomplete)} findings still wait for their photos")
        boss.close()
        converged: list[bool] = []

        def compare(phone: Phone) -> None:
            if phone.errors:  # already reported
                return
            for attempt in range(CONVERGE_ATTEMPTS):
                if attempt:
                    # The scheduler may have moved an order since the phone's last pull. Pulling
                    # again hides no real divergence: a change the feed skipped stays missing,
                    # and a local copy that disagrees with the server's is never pulled over.
                    phone.app.pull()
                with self._fresh(phone.username, phone.password) as fresh:
                    theirs, ours = fresh.store.records(), phone.app.store.records()
                if theirs == ours:
                    converged.append(True)
                    return
                self.say(f"phone {phone.number} behind a fresh install ({_difference(ours, theirs)}); pulling again")
            converged.append(False)
            problems.append(f"phone {phone.number} ({phone.username}) did not converge: {_difference(ours, theirs)}")

        self._each(compare)
        diverged = converged.count(False)
        problems += [e for phone in self.phones for e in phone.errors if e not in problems]
        stats = [phone.app.engine.stats for phone in self.phones]
        return Outcome(
            devices=self.devices, seconds=elapsed, mutations=sum(s.pushed for s in stats),
            photos=sum(s.photos for s in stats), lost=lost, duplicated=duplicated, photos_missing=photos_missing,
            diverged=diverged, push_ms=[m for s in stats for m in s.push_ms],
            pull_ms=[m for s in stats for m in s.pull_ms],
            bytes_sent=sum(p.link.sent_bytes + p.app.photos.sent_bytes for p in self.phones),
            retries=sum(s.retries for s in stats), lost_messages=sum(p.link.lost for p in self.phones),
            problems=problems)

    def _photo_intact(self, viewer: FieldApp, sha256: str) -> bool:
        status, _headers, body = viewer.transport.send(
            "GET", f"/api/v1/photos/{sha256}", headers={"Authorization": f"Bearer {viewer.store.get('token')}"})
        return status == 200 and hashlib.sha256(body).hexdigest() == sha256


def _difference(phone: dict[Any, dict[str, Any]], fresh: dict[Any, dict[str, Any]], shown: int = 5) -> str:
    """What a phone holds that a fresh install of its user does not, and the reverse."""
    parts = [f"only on the phone {key}" for key in sorted(phone.keys() - fresh.keys())[:shown]]
    parts += [f"missing on the phone {key}" for key in sorted(fresh.keys() - phone.keys())[:shown]]
    for key in sorted(k for k in phone.keys() & fresh.keys() if phone[k] != fresh[k])[:shown]:
        fields = sorted(f for f in phone[key].keys() | fresh[key].keys() if phone[key].get(f) != fresh[key].get(f))
        parts.append(f"{key} differs in " + ", ".join(
            f"{f} (phone {phone[key].get(f)!r}, server {fresh[key].get(f)!r})" for f in fields))
    return "; ".join(parts)


def _account(value: str) -> tuple[str, str]:
    username, sep, password = value.partition(":")
    if not sep or not username:
        raise click.BadParameter("USER:PASSWORD")
    return username, password


@click.command("simulate")
@click.option("--server", required=True, help="Server URL, e.g. http://127.0.0.1:5000")
@click.option("--devices", default=5, show_default=True)
@click.option("--minutes", default=1.0, show_default=True)
@click.option("--loss", default=0.05, show_default=True, help="Chance that a request or its answer is lost.")
@click.option("--latency", "latency_ms", default=50.0, show_default=True, help="One-way latency (ms, jittered).")
@click.option("--account", "accounts", multiple=True, help="USER:PASSWORD of an inspector (repeat); default: "
              "the demo's inspectors.")
@click.option("--supervisor", default=":".join(DEMO_SUPERVISOR), show_default=True,
              help="USER:PASSWORD seeing the whole campaign, to check the server's side.")
@click.option("--seed", default=1, show_default=True)
@click.option("--photo-px", default=480, show_default=True, help="Width of the generated photos.")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the phones keep state "
              "(default: a new temporary folder).")
@click.option("--json", "as_json", is_flag=True, help="Print only the figures, as one JSON line.")
def simulate_command(server: str, devices: int, minutes: float, loss: float, latency_ms: float,
                     accounts: tuple[str, ...], supervisor: str, seed: int, photo_px: int, work_dir: Path | None,
                     as_json: bool) -> None:
    """N inspectors on patrol against SERVER, with loss and latency; then verify it all arrived once."""
    home = work_dir or Path(tempfile.mkdtemp(prefix="xuncha-sim-"))
    home.mkdir(parents=True, exist_ok=True)
    simulation = Simulation(server, devices=devices, seconds=minutes * 60, loss=loss, latency_ms=latency_ms,
                            accounts=[_account(a) for a in accounts] or list(DEMO_INSPECTORS),
                            supervisor=_account(supervisor), home=home, seed=seed, photo_px=photo_px,
                            say=(lambda _m: None) if as_json else (lambda m: click.echo(m, err=True)))
    outcome = simulation.run()
    figures = outcome.figures()
    if not as_json:
        for problem in outcome.problems:
            click.echo(f"problem: {problem}", err=True)
        for key, value in figures.items():
            click.echo(f"{key:>18}: {value}")
    click.echo(json.dumps(figures, ensure_ascii=False))
    if not outcome.ok:
        raise SystemExit(1)
