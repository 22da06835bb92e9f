"""A phone: captures offline into its store and outbox, and syncs when asked."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

from sample_client.errors import ServerRefused
from sample_client.store import Store
from sample_client.transport import Transport
from sync_protocol.version import PROTOCOL_VERSION


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Device:
    def __init__(self, transport: Transport, *, store: Store | None = None, device_id: uuid.UUID | None = None,
                 clock: Callable[[], dt.datetime] = _now, batch_size: int = 500, page_size: int = 1000) -> None:
        self.transport = transport
        self.store = store or Store()
        self.clock = clock
        self.batch_size = batch_size
        self.page_size = page_size
        if self.store.get("device_id") is None:
            self.store.put("device_id", str(device_id or uuid.uuid4()))
        self.device_id = self.store.get("device_id")

    # -- session -------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> dict[str, Any]:
        """Log in. An id the server says is another user's (``device_taken``) is replaced by a new
        one, if nothing captured here waits to be sent: an outbox is only ever sent by its user."""
        status, body = self._login(username, password)
        if status == 409 and isinstance(body, dict) and body.get("code") == "device_taken" \
                and not self.store.outbox_depth():
            self.device_id = str(uuid.uuid4())
            self.store.put("device_id", self.device_id)
            status, body = self._login(username, password)
        if status != 200:
            raise ServerRefused(status, body)
        self.store.put("token", body["token"])
        return body

    def _login(self, username: str, password: str) -> tuple[int, Any]:
        return self.transport.request("POST", "/api/v1/auth/login", body={
            "username": username, "password": password, "device": {"id": self.device_id, "platform": "sample"}})

    def release(self) -> None:
        """Hand the phone to a colleague (docs/sync-protocol.md, 'A shared phone'): send the outbox,
        have the server confirm it took every mutation made here, then forget the owner's data.
        Raises ServerRefused (``outbox_not_drained``) if the outbox could not be emptied."""
        self.push()
        self._call("POST", f"/api/v1/devices/{self.device_id}/release",
                   body={"last_seq": self.store.get("next_seq", 1) - 1})
        with self.store.transaction():
            for entity, record_id in self.store.records():
                self.store.remove(entity, record_id)
            self.store.put("cursor", "")
            self.store.put("token", None)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = self.transport.request(method, path, token=self.store.get("token"), **kwargs)
        if status != 200:
            raise ServerRefused(status, body)
        return body

    # -- capture (offline) ---------------------------------------------------------------------
    def _enqueue(self, entity: str, record_id: str, op: str, fields: dict[str, Any], *,
                 command: str | None = None) -> int:
        seq = self.store.get("next_seq", 1)
        current = self.store.record(entity, record_id) or {}
        mutation = {"seq": seq, "entity": entity, "id": record_id, "op": op, "fields": fields,
                    "base_version": current.get("version", 0), "device_time": self.clock().isoformat()}
        if command:
            mutation["command"] = command
        with self.store.transaction():
            self.store.enqueue(mutation)
            self.store.put("next_seq", seq + 1)
        return seq

    def create(self, entity: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or str(uuid.uuid4())
        self._enqueue(entity, record_id, "create", fields)
        self.store.save(entity, record_id, {**fields, "id": record_id, "pending": True})
        return record_id

    def update(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        self._enqueue(entity, record_id, "update", fields)
        self.store.save(entity, record_id, {**(self.store.record(entity, record_id) or {}), **fields})

    def delete(self, entity: str, record_id: str) -> None:
        self._enqueue(entity, record_id, "delete", {})
        self.store.remove(entity, record_id)

    def command(self, entity: str, record_id: str, command: str, fields: dict[str, Any]) -> None:
        self._enqueue(entity, record_id, "command", fields, command=command)

    # -- sync ----------------------------------------------------------------------------------
    def push(self, max_batches: int | None = None) -> list[dict[str, Any]]:
        """Send the outbox in batches until it is empty (or ``max_batches`` were sent). A lost answer
        raises; calling again re-sends the same batch, which the server answers again without
        applying anything twice."""
        answered: list[dict[str, Any]] = []
        sent = 0
        while max_batches is None or sent < max_batches:
            batch = self.store.outbox(self.batch_size)
            if not batch:
                return answered
            body = self._call("POST", "/api/v1/sync/push", body={
                "protocol": PROTOCOL_VERSION, "device_id": self.device_id, "sent_at": self.clock().isoformat(),
                "telemetry": self._telemetry(), "mutations": batch})
            sent += 1
            with self.store.transaction():  # the answers and the outbox change together, or neither
                for result in body["results"]:
                    self._settle(result)
                self.store.acknowledge(body["acknowledged_seq"], body["results"])
            answered += body["results"]
        return answered

    def _telemetry(self) -> dict[str, Any]:
        """The outbox as it stands when the batch is sent (the batch included)."""
        oldest = self.store.oldest_unsynced_at()
        age = (self.clock() - dt.datetime.fromisoformat(oldest)).total_seconds() if oldest else 0
        return {"outbox_depth": self.store.outbox_depth(), "oldest_unsynced_age_s": max(0, int(age)),
                "app_version": "sample"}

    def _settle(self, result: dict[str, Any]) -> None:
        """Replace the optimistic local copy with what the server decided, where it said."""
        problem = result.get("problem") or {}
        deleted_here = result.get("op") == "delete" and result["outcome"] in ("applied", "duplicate")
        deleted_there = result["outcome"] == "conflict" and problem.get("code") == "record_missing"
        refused_create = result["outcome"] == "rejected" and result.get("op") == "create"
        if deleted_here or deleted_there or refused_create or result.get("deleted"):
            self.store.remove(result["entity"], result["id"])
        elif result.get("server") is not None:
            self.store.save(result["entity"], result["id"], result["server"])

    def pull(self) -> int:
        """Pull pages until caught up; returns the number of changes applied.

        A pull with no cursor is a snapshot of the device's scope: once it is complete, records
        it did not bring (say, one this phone created and pushed before its first pull, since
        deleted on another phone) are dropped, unless a change of them is still unsent.
        """
        applied = 0
        if not self.store.get("cursor", ""):
            with self.store.transaction():
                self.store.begin_snapshot()
        while True:
            body = self._call("GET", "/api/v1/sync/pull",
                              params={"protocol": PROTOCOL_VERSION, "cursor": self.store.get("cursor", ""),
                                      "limit": self.page_size})
            snapshot = self.store.in_snapshot()
            with self.store.transaction():
                for change in body["changes"]:
                    if change["op"] == "delete":
                        self.store.remove(change["entity"], change["id"])
                    else:
                        self.store.save(change["entity"], change["id"], change["data"])
                        if snapshot:
                            self.store.saw(change["entity"], change["id"])
                self.store.put("cursor", body["cursor"])
                if snapshot and not body["has_more"]:
                    self.store.end_snapshot()
            applied += len(body["changes"])
            if not body["has_more"]:
                return applied

    def sync(self) -> None:
        self.push()
        self.pull()
