"""A phone: captures offline into its store and outbox, and syncs when asked."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

from sample_client.errors import HandOverRefused, ServerRefused
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
        """Log in with this phone's device id (registering it on its first login).

        A phone changes hands only once the previous user's captures are all sent (they are
        applied as the user whose token pushes them): until then another user's login is
        refused here, before asking the server. A device id the server has bound to another
        user is refused there (``device_taken``); the phone then takes a new id, which restarts
        its sequence, its cursor and its pulled data, and logs in with that.
        """
        previous = self.store.get("username")
        if previous not in (None, username) and self.unsent():
            raise HandOverRefused(f"{previous}'s captures are not all sent yet: sync before {username} logs in")
        try:
            body = self._login(username, password)
        except ServerRefused as refused:
            if refused.code != "device_taken":
                raise
            if self.unsent():  # their numbers belong to the old id: never renumber them
                raise
            self.new_identity()
            body = self._login(username, password)
        with self.store.transaction():
            if previous not in (None, username):
                self.store.forget_pulled()  # the previous user's scope is not this one's
                self.store.forget_answers()
                self.store.put("current_visit", None)
            self.store.put("token", body["token"])
            self.store.put("username", username)
            self.store.put("user", body.get("user"))
        return body

    def release(self) -> None:
        """Hand the phone to a colleague (docs/sync-protocol.md, 'A shared phone'): send the outbox,
        have the server confirm it took every mutation made here, then forget the owner's data.
        Raises ServerRefused (``outbox_not_drained``) if the outbox could not be emptied."""
        self.push()
        self._call("POST", f"/api/v1/devices/{self.device_id}/release",
                   body={"last_seq": self.store.get("next_seq", 1) - 1})
        with self.store.transaction():
            self.store.forget_pulled()
            self.store.forget_answers()
            self.store.put("current_visit", None)
            self.store.put("token", None)
            self.store.put("username", None)
            self.store.put("user", None)

    def _login(self, username: str, password: str) -> dict[str, Any]:
        status, body, headers = self.transport.exchange("POST", "/api/v1/auth/login", body={
            "username": username, "password": password, "device": {"id": self.device_id, "platform": "sample"}})
        if status != 200:
            raise ServerRefused(status, body, _retry_after(headers))
        return body

    def unsent(self) -> int:
        """Captures this phone still has to send: mutations and photos not yet on the server."""
        return self.store.outbox_depth() + len(self.store.photos("pending"))

    def new_identity(self) -> None:
        """A new device id: its sequence starts at 1 and its cursor and uploads are its own."""
        with self.store.transaction():
            self.store.put("device_id", str(uuid.uuid4()))
            self.store.put("next_seq", 1)
            self.store.put("token", None)
            self.store.forget_pulled()
            self.store.db.execute("UPDATE photos SET upload_url = NULL, \"offset\" = 0 WHERE status = 'pending'")
        self.device_id = self.store.get("device_id")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body, headers = self.transport.exchange(method, path, token=self.store.get("token"), **kwargs)
        if status != 200:
            raise ServerRefused(status, body, _retry_after(headers))
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
        self.store.enqueue(mutation)
        self.store.put("next_seq", seq + 1)
        return seq

    # Each capture writes its local copy, its mutation and the next sequence number in one
    # local transaction (protocol §11.1): a phone killed at any point has all of it or none.
    def create(self, entity: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or str(uuid.uuid4())
        with self.store.transaction():
            self._enqueue(entity, record_id, "create", fields)
            self.store.save(entity, record_id, {**fields, "id": record_id, "pending": True})
        return record_id

    def update(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        with self.store.transaction():
            self._enqueue(entity, record_id, "update", fields)
            self.store.save(entity, record_id, {**(self.store.record(entity, record_id) or {}), **fields})

    def delete(self, entity: str, record_id: str) -> None:
        with self.store.transaction():
            self._enqueue(entity, record_id, "delete", {})
            self.store.remove(entity, record_id)

    def command(self, entity: str, record_id: str, command: str, fields: dict[str, Any]) -> None:
        with self.store.transaction():
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
            if handed_over(result):
                self.store.hand_over(result["id"], result["server"], self.clock().isoformat())
        elif result.get("server") is not None:
            self.store.save(result["entity"], result["id"], result["server"])

    def pull(self, on_page: Callable[[dict[str, Any]], None] | None = None) -> int:
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
            if on_page is not None:
                on_page(body)
            if not body["has_more"]:
                return applied

    def sync(self) -> None:
        self.push()
        self.pull()


def handed_over(result: dict[str, Any]) -> bool:
    """Whether a push answer is this phone's create applied where its pulls do not reach (a patrol
    finding routed to another team's unit or to triage, a late capture; docs/sync-protocol.md
    §6.3): the record leaves the phone like a tombstone, but its author is to be told where."""
    return (result.get("op") == "create" and result["outcome"] in ("applied", "duplicate")
            and bool(result.get("deleted")) and result.get("server") is not None)


def _retry_after(headers: dict[str, str]) -> float | None:
    """Retry-After in seconds (the API sends delta-seconds, never a date)."""
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
