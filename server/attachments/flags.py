"""Flags on photos that supervisors should look at: looks reused, taken too early, taken elsewhere.

A flag is data shown to a person, never a rejection: a legitimate after-photo is shot from the
spot of the before-photo and looks alike, phone clocks drift, GPS wanders in narrow streets.

A naming of a photo (a PhotoRef) is checked once, when it is both named and present: by
``attach`` if the photo had arrived, else by ``receive_photo`` when it arrives.

Look-alikes are searched within the campaign through the indexed segments of the perceptual
hash (multi-index hashing, ``media.phash_index``): one query returns the few photos that can
be within PHOTO_REUSE_MAX_BITS, whose exact distance is then computed here.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import media
from media import phash_index
from media.geo import distance_m
from server.attachments.models import PHASH_SEGMENTS, FlagKind, Photo, PhotoFlag, PhotoRef, PhotoRole
from server.auth.scope import Reach, findings_condition
from server.clock import Clock
from server.findings.models import Finding
from server.orders.models import Order, Response

#: Most look-alikes one flag lists, closest first.
MAX_MATCHES = 5


@dataclasses.dataclass(frozen=True)
class FlagRules:
    """The limits, from the settings PHOTO_MAX_DISTANCE_M and PHOTO_REUSE_MAX_BITS."""

    max_distance_m: int = 200
    reuse_max_bits: int = media.SIMILAR_MAX_DISTANCE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlagRules:
        return cls(max_distance_m=config["PHOTO_MAX_DISTANCE_M"], reuse_max_bits=config["PHOTO_REUSE_MAX_BITS"])

    @classmethod
    def current(cls) -> FlagRules:
        """The app's rules inside an app context (requests, jobs, CLI), else the defaults."""
        from flask import current_app, has_app_context

        return cls.from_config(current_app.config) if has_app_context() else cls()


@dataclasses.dataclass(frozen=True)
class _Evidence:
    """What a naming of a photo is evidence for."""

    finding: Finding
    #: The order an after-photo answers, if any.
    order: Order | None


def flag_ref(session: Session, clock: Clock, ref: PhotoRef, photo: Photo, rules: FlagRules) -> list[PhotoFlag]:
    """Check one naming of a present photo; add and return the flags it earns."""
    evidence = _evidence(session, ref)
    if evidence is None:
        return []
    found: dict[FlagKind, dict[str, Any]] = {}
    if photo.phash:
        found.update(_look_alikes(session, ref, photo, evidence.finding, rules))
    order = evidence.order
    if (ref.role is PhotoRole.AFTER and order is not None and photo.captured_at is not None
            and photo.captured_at < order.issued_at):
        found[FlagKind.TAKEN_BEFORE_ORDER] = {
            "captured_at": photo.captured_at.isoformat(), "order_issued_at": order.issued_at.isoformat()}
    metres = _distance_m(photo, evidence.finding)
    if metres is not None and metres > rules.max_distance_m:
        found[FlagKind.FAR_FROM_FINDING] = {
            "metres": round(metres), "max_metres": rules.max_distance_m,
            "photo": [photo.latitude, photo.longitude],
            "finding": [evidence.finding.latitude, evidence.finding.longitude]}
    already = set(session.scalars(sa.select(PhotoFlag.kind).where(PhotoFlag.ref_id == ref.id)))
    flags = [PhotoFlag(ref_id=ref.id, sha256=photo.sha256, finding_id=evidence.finding.id,
                       order_id=order.id if order is not None else None, kind=kind, details=details,
                       created_at=clock.now())
             for kind, details in found.items() if kind not in already]
    session.add_all(flags)
    session.flush()
    return flags


def flag_photo(session: Session, clock: Clock, photo: Photo, rules: FlagRules) -> list[PhotoFlag]:
    """Check every naming of a photo that has just arrived."""
    flags: list[PhotoFlag] = []
    for ref in session.scalars(sa.select(PhotoRef).where(PhotoRef.sha256 == photo.sha256).order_by(PhotoRef.id)):
        flags += flag_ref(session, clock, ref, photo, rules)
    return flags


def _evidence(session: Session, ref: PhotoRef) -> _Evidence | None:
    if ref.response_id is not None:
        row = session.execute(sa.select(Finding, Order).join(Order, Order.finding_id == Finding.id)
                              .join(Response, Response.order_id == Order.id)
                              .where(Response.id == ref.response_id)).first()
        return _Evidence(row[0], row[1]) if row is not None else None
    finding = session.get(Finding, ref.finding_id)
    if finding is None:
        return None
    order = None
    if ref.role is PhotoRole.AFTER:
        # An after-photo named on the finding itself: measured against the first order.
        order = session.scalar(sa.select(Order).where(Order.finding_id == finding.id)
                               .order_by(Order.issued_at).limit(1))
    return _Evidence(finding, order)


def _look_alikes(session: Session, ref: PhotoRef, photo: Photo, finding: Finding,
                 rules: FlagRules) -> dict[FlagKind, dict[str, Any]]:
    owner = sa.func.coalesce(PhotoRef.finding_id, Order.finding_id)
    rows = session.execute(
        sa.select(PhotoRef.sha256, PhotoRef.role, Photo.phash, Finding.id, Finding.unit_id)
        .join(Photo, Photo.sha256 == PhotoRef.sha256)
        .outerjoin(Response, Response.id == PhotoRef.response_id)
        .outerjoin(Order, Order.id == Response.order_id)
        .join(Finding, Finding.id == owner)
        .where(Finding.campaign_id == finding.campaign_id, PhotoRef.id != ref.id, Photo.phash.is_not(None),
               _candidates(photo.phash, rules.reuse_max_bits)))
    before: list[dict[str, Any]] = []
    elsewhere: list[dict[str, Any]] = []
    for sha256, role, phash, finding_id, unit_id in rows:
        distance = media.hamming(photo.phash, phash)
        if distance > rules.reuse_max_bits:
            continue
        match = {"sha256": sha256, "distance": distance, "finding_id": str(finding_id), "unit_id": unit_id}
        if finding_id != finding.id:
            elsewhere.append(match)
        elif role is PhotoRole.BEFORE and ref.role is PhotoRole.AFTER:
            before.append(match)
    found = {}
    for kind, matches in ((FlagKind.REUSED_BEFORE_PHOTO, before), (FlagKind.REUSED_ELSEWHERE, elsewhere)):
        if matches:
            matches.sort(key=lambda m: (m["distance"], m["sha256"]))
            found[kind] = {"matches": _unique(matches)[:MAX_MATCHES], "max_bits": rules.reuse_max_bits}
    return found


def _candidates(phash: str, max_bits: int) -> sa.ColumnElement[bool]:
    """Photos that may lie within ``max_bits`` of ``phash``: some segment close enough."""
    if not phash_index.searchable(max_bits):
        return sa.true()  # so wide a search reads everything anyway
    radius = phash_index.segment_radius(max_bits)
    return sa.or_(*(column.in_(phash_index.neighbours(segment, radius))
                    for column, segment in zip(PHASH_SEGMENTS, phash_index.segments(phash))))


def _unique(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per photo and finding (a photo named twice on a finding is one match)."""
    seen: set[tuple[str, str]] = set()
    result = []
    for match in matches:
        key = (match["sha256"], match["finding_id"])
        if key not in seen:
            seen.add(key)
            result.append(match)
    return result


def _distance_m(photo: Photo, finding: Finding) -> float | None:
    points = (photo.latitude, photo.longitude, finding.latitude, finding.longitude)
    if any(value is None for value in points):
        return None
    return distance_m(*points)  # type: ignore[arg-type]


def flags_query(reach: Reach, *, finding_id: uuid.UUID | None = None, order_id: uuid.UUID | None = None,
                unit_id: int | None = None) -> sa.Select[tuple[PhotoFlag]]:
    """The flags the caller may see (those of findings it may read), narrowed to a finding, an
    order (its finding's flags included: they are the evidence the order rests on) or a unit."""
    stmt = sa.select(PhotoFlag).join(Finding, Finding.id == PhotoFlag.finding_id).where(findings_condition(reach))
    if finding_id is not None:
        stmt = stmt.where(PhotoFlag.finding_id == finding_id)
    if order_id is not None:
        stmt = stmt.where(PhotoFlag.finding_id == sa.select(Order.finding_id).where(Order.id == order_id)
                          .scalar_subquery(),
                          sa.or_(PhotoFlag.order_id == order_id, PhotoFlag.order_id.is_(None)))
    if unit_id is not None:
        stmt = stmt.where(Finding.unit_id == unit_id)
    return stmt
