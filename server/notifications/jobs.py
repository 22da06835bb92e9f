"""The scheduler's notification job."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from server.clock import Clock
from server.db import database
from server.notifications.services import DeliveryReport, deliver_due


def deliver_notifications(_session: Session, clock: Clock) -> DeliveryReport:
    # The job's own session stays unused: delivery commits its claim before sending and
    # records the results in a second transaction, so it needs sessions of its own.
    return deliver_due(database().sessionmaker, clock, current_app.config)
