"""Writes that arrive together all succeed: on SQLite a writing request takes the write lock
when it begins (BEGIN IMMEDIATE) and waits for the others, instead of failing with "database
is locked" when it upgrades a read transaction (issue 14)."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from server.auth.models import Device
from tests.factories import PASSWORD


def test_four_logins_at_the_same_instant_all_register_their_device(world, app, session):
    start = threading.Barrier(4)
    answers: list[int] = []
    errors: list[BaseException] = []
    devices = [str(uuid.uuid4()) for _ in range(4)]

    def login(device_id: str, username: str) -> None:
        client = app.test_client()
        try:
            start.wait(timeout=30)
            # Each login reads the user, then writes the device and its token.
            response = client.post("/api/v1/auth/login", json={
                "username": username, "password": PASSWORD, "device": {"id": device_id, "platform": "sample"}})
            answers.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(device_id, name))
               for device_id, name in zip(devices, ["alice", "bob", "sup", "alice"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert answers == [200] * 4
    session.rollback()
    stored = set(session.scalars(sa.select(Device.id).where(Device.id.in_([uuid.UUID(d) for d in devices]))))
    assert stored == {uuid.UUID(d) for d in devices}
