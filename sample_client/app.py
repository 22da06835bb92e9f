"""What a person does with the phone, on top of the device, the photo queue and the sync engine.

Every capture is written locally first (the record, its mutation and the photos it names, in
one transaction) and works with no network at all; :meth:`FieldApp.sync` sends it later.
The app's state lives in one folder (``home``): its SQLite store and copies of its photos.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import uuid6

from sample_client.device import Device
from sample_client.engine import Backoff, SyncEngine, SyncReport
from sample_client.errors import ClientError, LoginRequired
from sample_client.store import Store
from sample_client.transport import HttpTransport, Transport
from sample_client.uploads import PhotoQueue

STORE_FILE = "client.sqlite3"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: A decimal as the protocol sends it (docs/sync-protocol.md, "Decimals").
_DECIMAL = re.compile(r"-?\d{1,4}(\.\d{1,2})?")


class NotFoundLocally(ClientError):
    """The phone holds no such unit, item, order or visit: pull first, or check the id."""


class FieldApp:
    def __init__(self, home: str | Path, *, server: str | None = None, transport: Transport | None = None,
                 clock: Callable[[], dt.datetime] = _now, sleep: Callable[[float], None] = time.sleep,
                 backoff: Backoff | None = None, attempts: int = 8, page_size: int = 1000,
                 batch_size: int = 500, chunk_bytes: int | None = None, password: str | None = None) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.store = Store(str(self.home / STORE_FILE))
        if server:
            self.store.put("server", server)
        server = self.store.get("server")
        if transport is None:
            if not server:
                raise ClientError("no server known: log in with --server URL first")
            transport = HttpTransport(server)
        self.transport = transport
        self.clock = clock
        self.device = Device(transport, store=self.store, clock=clock, page_size=page_size, batch_size=batch_size)
        self.photos = PhotoQueue(self.store, transport, lambda: self.store.get("token"), folder=self.home / "photos",
                                 **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}))
        #: Kept in memory only, to log in again when a token lapses in the middle of a sync.
        self._password = password
        self.engine = SyncEngine(self.device, self.photos, backoff=backoff, attempts=attempts, sleep=sleep,
                                 relogin=self._relogin, clock=clock)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> FieldApp:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # -- session -------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> dict[str, Any]:
        body = self.engine.retrying(lambda: self.device.login(username, password), may_log_in=False)
        self._password = password
        return body

    def _relogin(self) -> None:
        username = self.store.get("username")
        if not username or self._password is None:
            raise LoginRequired("the server asks to log in again: run `xuncha-client login`")
        self.device.login(username, self._password)

    # -- what the phone holds ------------------------------------------------------------------
    def records(self, entity: str) -> list[dict[str, Any]]:
        return list(self.store.records(entity).values())

    def my_units(self) -> list[dict[str, Any]]:
        """Units this inspector works on: those with an assignment in a round the phone holds."""
        assigned = {a["unit_id"] for a in self.records("assignment")}
        return sorted((u for u in self.records("unit") if u["id"] in assigned), key=lambda u: u["id"])

    def _assignment(self, unit_id: int, round_id: int | None) -> dict[str, Any]:
        for assignment in sorted(self.records("assignment"), key=lambda a: -a["round_id"]):
            if assignment["unit_id"] == unit_id and round_id in (None, assignment["round_id"]):
                return assignment
        raise NotFoundLocally(f"unit {unit_id} is not assigned to this phone's teams (pull first?)")

    # -- capture (offline) ---------------------------------------------------------------------
    def start_visit(self, unit_id: int, *, round_id: int | None = None, methods: str = "实地查看") -> str:
        assignment = self._assignment(unit_id, round_id)
        visit_id = self.device.create("visit", {
            "round_id": assignment["round_id"], "unit_id": unit_id, "team_id": assignment["team_id"],
            "started_at": self.clock().isoformat(), "methods": methods}, record_id=_new_id())
        self.store.put("current_visit", visit_id)
        return visit_id

    def current_visit(self) -> str:
        visit_id = self.store.get("current_visit")
        if not visit_id:
            raise NotFoundLocally("no visit open: `visit start UNIT` first")
        return visit_id

    def end_visit(self, notes: str = "") -> str:
        visit_id = self.current_visit()
        fields: dict[str, Any] = {"ended_at": self.clock().isoformat(), "status": "submitted"}
        if notes:
            fields["notes"] = notes
        with self.store.transaction():
            self.device.update("visit", visit_id, fields)
            self.store.put("current_visit", None)
        return visit_id

    def answer(self, item_id: int, result: str, *, instances: int = 0, score: str | None = None,
               note: str = "") -> str:
        """``score`` is the points a fail takes off; a signed value would count as none taken."""
        if score is not None and (not _DECIMAL.fullmatch(score) or float(score) < 0):
            raise ClientError(f"score {score!r}: the points a fail takes off, e.g. 1.00, never negative")
        return self.device.create("answer", {"visit_id": self.current_visit(), "item_id": item_id, "result": result,
                                             "instances": instances, "score": score, "note": note},
                                  record_id=_new_id())

    def add_finding(self, category: str, description: str, *, photos: Iterable[str | Path] = (),
                    severity: str = "normal", latitude: float | None = None, longitude: float | None = None,
                    location_text: str = "", item_id: int | None = None, in_visit: bool = True) -> str:
        """A finding in the open visit (or, with ``in_visit=False``, on patrol), with its photos."""
        fields: dict[str, Any] = {"category": category, "description": description, "severity": severity,
                                  "latitude": latitude, "longitude": longitude, "location_text": location_text,
                                  "item_id": item_id}
        if in_visit:
            fields["visit_id"] = self.current_visit()
        with self.store.transaction():
            fields["photos"] = [self.photos.keep(p) for p in photos]
            return self.device.create("finding", fields, record_id=_new_id())

    def patrol_finding(self, latitude: float, longitude: float, category: str, description: str, **kw: Any) -> str:
        """A street finding outside any visit: the server routes it to the unit whose zone holds it."""
        return self.add_finding(category, description, latitude=latitude, longitude=longitude, in_visit=False, **kw)

    def respond(self, order_id: str, measures: str, *, photos: Iterable[str | Path] = ()) -> str:
        """The unit's answer to an order, with after-photos (整改后)."""
        response_id = _new_id()
        with self.store.transaction():
            shas = [self.photos.keep(p) for p in photos]
            self.device.command("order", order_id, "respond",
                                {"response_id": response_id, "measures": measures, "photos": shas})
        return response_id

    # -- sync ----------------------------------------------------------------------------------
    def sync(self, **progress: Any) -> SyncReport:
        return self.engine.sync(**progress)

    def pull(self, on_page: Callable[[dict[str, Any]], None] | None = None) -> int:
        return self.engine.pull(on_page)[0]

    def status(self) -> dict[str, Any]:
        return {"server": self.store.get("server"), "username": self.store.get("username"),
                "device_id": self.device.device_id, "outbox": self.store.outbox_depth(),
                "oldest_unsynced": self.store.oldest_unsynced_at(),
                "photos_pending": len(self.photos.pending()), "photo_bytes_pending": self.photos.pending_bytes(),
                "photos_failed": len(self.store.photos("failed")), "last_sync": self.store.get("last_sync"),
                "conflicts": len(self.store.rejected()), "handed_over": len(self.store.handed_over()),
                "current_visit": self.store.get("current_visit"),
                "stopped": self.store.get("stopped")}

    def conflicts(self) -> list[dict[str, Any]]:
        return self.store.rejected()

    def handed_over(self) -> list[dict[str, Any]]:
        """This phone's reports the server took but routed where the phone's pulls do not reach."""
        return self.store.handed_over()


def _new_id() -> str:
    """Ids made on the phone are time-ordered UUIDv7s (the design's rule for offline records)."""
    return str(uuid6.uuid7())
