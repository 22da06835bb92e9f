"""Official holiday schedules (放假安排) loaded by an administrator; they override the package."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, new_id


class HolidayYear(Base):
    """A year whose official schedule was loaded; its days are :class:`OfficialDay` rows."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Where the schedule comes from, e.g. 国务院办公厅关于2027年部分节假日安排的通知, or the file name.
    source: Mapped[str] = mapped_column(sa.String(200))
    loaded_at: Mapped[dt.datetime]
    loaded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: New at every load: processes compare revisions to know their cached calendar is stale.
    revision: Mapped[uuid.UUID] = mapped_column(default=new_id)


class OfficialDay(Base):
    """An exception to the Monday–Friday week in a loaded year: a day off or a make-up working day."""

    __tablename__ = "official_days"

    date: Mapped[dt.date] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.ForeignKey("holiday_years.year", ondelete="CASCADE"), index=True)
    #: True for a weekend day worked in exchange (调休上班), False for a day off.
    working: Mapped[bool]
    name: Mapped[str] = mapped_column(sa.String(100), default="")
