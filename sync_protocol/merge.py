"""Merge rules as pure functions: no clock, no database, the same on server and client.

Concurrent edits of one field are decided by the time each was made, read from the device's
clock **corrected by that device's measured offset** (server receive time minus the device's
``sent_at``), and never later than the server's own clock. A phone whose clock is a day off
therefore neither wins nor loses every comparison; ties go to the edit the server received
first. An edit made on a version that already included the other edit (``base_version``) is not
concurrent with it and simply applies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping


def clock_offset(server_received: dt.datetime, device_sent: dt.datetime) -> dt.timedelta:
    """How far the device's clock is behind the server's (negative when it runs ahead)."""
    return server_received - device_sent


def effective_time(device_time: dt.datetime, offset: dt.timedelta, server_now: dt.datetime) -> dt.datetime:
    """When a change was made, in server time; never in the future."""
    return min(device_time + offset, server_now)


@dataclass
class FieldMerge:
    #: Fields that take the incoming value.
    taken: dict[str, Any] = field(default_factory=dict)
    #: Fields where a newer concurrent edit on the server wins: field → the incoming value that lost.
    lost: dict[str, Any] = field(default_factory=dict)
    #: Fields where the incoming edit beat a concurrent one: field → the server value it replaced.
    overwritten: dict[str, Any] = field(default_factory=dict)

    @property
    def concurrent(self) -> bool:
        return bool(self.lost or self.overwritten)


def merge_fields(current: Mapping[str, Any], meta: Mapping[str, Mapping[str, Any]],
                 incoming: Mapping[str, Any], *, base_version: int, at: dt.datetime, device: str) -> FieldMerge:
    """Last-writer-wins per field.

    ``meta[field]`` holds ``{"version": record version, "at": ISO time, "device": id}`` of the
    field's last write. A device's own earlier write is never concurrent with its later one:
    its outbox is applied in order.
    """
    result = FieldMerge()
    for name, value in incoming.items():
        stamp = meta.get(name)
        if stamp is None or stamp["version"] <= base_version or stamp.get("device") == device:
            result.taken[name] = value
        elif current.get(name) == value:
            continue  # both sides wrote the same thing: nothing to decide
        elif at > dt.datetime.fromisoformat(stamp["at"]):
            result.taken[name] = value
            result.overwritten[name] = current.get(name)
        else:
            result.lost[name] = value
    return result


def stamp_fields(meta: Mapping[str, Mapping[str, Any]], names: Any, *, version: int,
                 at: dt.datetime, device: str) -> dict[str, dict[str, Any]]:
    updated = {k: dict(v) for k, v in meta.items()}
    for name in names:
        updated[name] = {"version": version, "at": at.isoformat(), "device": device}
    return updated


def union(existing: set[str], incoming: list[str]) -> list[str]:
    """Append-only sets (photos, answers): what is new, in the order it came."""
    seen = set(existing)
    added = []
    for item in incoming:
        if item not in seen:
            seen.add(item)
            added.append(item)
    return added
