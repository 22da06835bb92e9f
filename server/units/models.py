"""Assessed units (被考核单位), their contacts, and the zones they answer for (责任区)."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.campaigns.models import AssessmentGroup
from server.db import Base, IntPrimaryKey, Timestamps, str_enum


class Unit(IntPrimaryKey, Timestamps, Base):
    """An organisation or district that is inspected, ranked and receives orders."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code"),
                      sa.UniqueConstraint("campaign_id", "name"))

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: Short stable code used by imports and on devices (e.g. SJ-AUDIT); names get renamed, codes do not.
    code: Mapped[str] = mapped_column(sa.String(64))
    #: The name exactly as circulars print it, e.g. 市审计局.
    name: Mapped[str] = mapped_column(sa.String(200))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessment_groups.id", ondelete="SET NULL"), index=True)
    #: A 片区 led by a 牵头单位, or a department's subordinate unit.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)

    group: Mapped[AssessmentGroup | None] = relationship()
    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")
    contacts: Mapped[list[UnitContact]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitContact.id")


class ContactRole(enum.Enum):
    LIAISON = "liaison"  # 联络员: answers orders day to day
    HEAD = "head"  # 分管领导 / 一把手: notified when an order escalates


class UnitContact(IntPrimaryKey, Timestamps, Base):
    """A person to notify about a unit's orders; may or may not have a login."""

    __tablename__ = "unit_contacts"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole), default=ContactRole.LIAISON)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship(back_populates="contacts")


class ZoneKind(enum.Enum):
    FRONTAGE = "frontage"  # 门前四包 / 门前三包 责任区
    PATROL_AREA = "patrol_area"  # 包抓片区
    ROAD = "road"  # 包抓路段
    COMPOUND = "compound"  # 家属院
    OTHER = "other"


class Zone(IntPrimaryKey, Timestamps, Base):
    """An area a unit answers for; patrol findings inside it are routed to that unit."""

    __tablename__ = "zones"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ZoneKind] = mapped_column(str_enum(ZoneKind))
    #: GeoJSON Polygon or MultiPolygon in WGS-84 longitude/latitude.
    geometry: Mapped[dict[str, Any]]
    #: Bounding box, so routing a point only tests the polygons that can contain it.
    min_lon: Mapped[float]
    min_lat: Mapped[float]
    max_lon: Mapped[float]
    max_lat: Mapped[float]

    unit: Mapped[Unit] = relationship()
