"""Flags for supervisors: photos that look reused, were taken before the order, or far away."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image, ImageDraw

import media
from server.attachments.flags import FlagRules
from server.attachments.models import FlagKind, PhotoFlag
from server.attachments.services import receive_photo
from tests.media.conftest import encode, photo_like
from tests.test_auth import bearer
from tests.world import finding_fields

#: 市审计局's front door, and a spot about 50 m east of it.
SPOT = (32.6900, 109.0250)
NEARBY = (32.6900, 109.02553)
#: Across the river: 2.22 km north and 0.47 km east, 2.27 km in all.
ELSEWHERE = (32.7100, 109.0300)


def exif(*, at: dt.datetime | None = None, where: tuple[float, float] | None = None) -> Image.Exif:
    """A phone's EXIF: capture time in Beijing time with its offset, GPS in degrees/minutes/seconds."""
    tags = Image.Exif()
    if at is not None:
        local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
        tags[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: local.strftime("%Y:%m:%d %H:%M:%S"),
                                   ExifTags.Base.OffsetTimeOriginal: "+08:00"}
    if where is not None:
        tags[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: _dms(where[0]),
            ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: _dms(where[1])}
    return tags


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def with_rubbish(scene: Image.Image, seed: int) -> Image.Image:
    """The scene with a pile of boxes and junk in the lower middle: the finding (杂物堆积)."""
    img = scene.copy()
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    w, h = img.size
    for _ in range(12):
        x, y = int(rng.integers(w * 0.2, w * 0.6)), int(rng.integers(h * 0.45, h * 0.75))
        draw.rectangle((x, y, x + int(rng.integers(w * 0.08, w * 0.2)), y + int(rng.integers(h * 0.08, h * 0.2))),
                       fill=tuple(int(c) for c in rng.integers(0, 120, 3)))
    return img


def reused_copy(img: Image.Image, crop: float, **params: Any) -> bytes:
    """What a unit might hand in again: cropped per side, halved, re-encoded at quality 60."""
    w, h = img.size
    cut = img.crop((int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop))))
    return encode(cut.resize((cut.width // 2, cut.height // 2), Image.Resampling.BILINEAR), quality=60, **params)


SCENE = photo_like(25)
BEFORE = with_rubbish(SCENE, 25)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(app, session, clock):  # type: ignore[no-untyped-def]
    def receive(data: bytes) -> None:
        receive_photo(session, clock, app.extensions["xuncha.media"], data, limits=media.Limits(),
                      timezone="Asia/Shanghai")
        session.commit()

    return receive


@pytest.fixture
def case(world, phone, clock):  # type: ignore[no-untyped-def]
    """A finding at SPOT with a before-photo, its order, and the liaison who will respond."""

    class Case:
        alice = phone("alice")
        liaison = phone("liaison")
        before = encode(BEFORE, quality=90, exif=exif(at=clock.now() - dt.timedelta(minutes=5), where=SPOT))
        finding_id = ""
        order_id = ""

        def report(self, **fields: Any) -> None:
            self.finding_id = self.alice.create("finding", finding_fields(
                world.units[0].id, photos=[sha(self.before)], latitude=SPOT[0], longitude=SPOT[1], **fields))
            self.alice.sync()
            self.liaison.pull()
            self.order_id = next(i for (_, i) in self.liaison.store.records("order"))

        def respond(self, *photos: bytes) -> None:
            self.liaison.command("order", self.order_id, "respond", {
                "response_id": str(uuid.uuid4()), "measures": "已清理", "photos": [sha(p) for p in photos]})
            assert self.liaison.push()[0]["outcome"] == "applied"

    return Case()


def flags(session, **where: Any) -> list[PhotoFlag]:  # type: ignore[no-untyped-def]
    session.rollback()
    stmt = sa.select(PhotoFlag).order_by(PhotoFlag.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(PhotoFlag, name) == value)
    return list(session.scalars(stmt))


def test_a_reencoded_resized_cropped_copy_of_the_before_photo_is_flagged(case, store, session, clock):
    case.report()
    store(case.before)
    clock.advance(dt.timedelta(days=1))
    copy = reused_copy(BEFORE, 0.02, exif=exif(at=clock.now(), where=SPOT))
    case.respond(copy)
    store(copy)  # the photo arrives after the response naming it

    [flag] = flags(session)
    assert flag.kind is FlagKind.REUSED_BEFORE_PHOTO and flag.sha256 == sha(copy)
    assert str(flag.finding_id) == case.finding_id and str(flag.order_id) == case.order_id
    [match] = flag.details["matches"]
    assert match["sha256"] == sha(case.before) and match["distance"] <= flag.details["max_bits"] == 12


def test_a_genuinely_different_photo_of_the_same_place_is_not_flagged(case, store, session, clock):
    case.report()
    store(case.before)
    clock.advance(dt.timedelta(days=1))
    # The rubbish cleared, shot again from a step to the side, a little nearer.
    w, h = SCENE.size
    cleared = SCENE.crop((int(w * 0.03), int(h * 0.01), int(w * 0.99), int(h * 0.97)))
    after = encode(cleared, quality=88, exif=exif(at=clock.now(), where=NEARBY))
    store(after)  # this time the photo is there before the response names it
    case.respond(after)

    assert flags(session) == []


@pytest.mark.parametrize("crop", [0.0, 0.05])
def test_reuse_survives_a_crop_of_up_to_five_percent(case, store, session, crop):
    case.report()
    store(case.before)
    copy = reused_copy(BEFORE, crop)
    case.respond(copy)
    store(copy)

    assert [f.kind for f in flags(session)] == [FlagKind.REUSED_BEFORE_PHOTO]


def test_a_photo_handed_in_for_another_finding_is_flagged(case, store, session, world, phone):
    case.report()
    store(case.before)
    # bob, on another unit, hands in a copy of alice's photo as his own finding.
    bob = phone("bob")
    copy = reused_copy(BEFORE, 0.02)
    other = bob.create("finding", finding_fields(world.units[2].id, photos=[sha(copy)]))
    bob.push()
    store(copy)

    [flag] = flags(session)
    assert flag.kind is FlagKind.REUSED_ELSEWHERE and str(flag.finding_id) == other and flag.order_id is None
    [match] = flag.details["matches"]
    assert match == {"sha256": sha(case.before), "distance": match["distance"], "finding_id": case.finding_id,
                     "unit_id": world.units[0].id}


def test_an_after_photo_taken_before_the_order_was_issued_is_flagged(case, store, session, clock):
    case.report()
    store(case.before)
    issued = clock.now()
    clock.advance(dt.timedelta(days=2))
    early = encode(photo_like(40), exif=exif(at=issued - dt.timedelta(hours=3), where=SPOT))
    on_time = encode(photo_like(41), exif=exif(at=issued + dt.timedelta(days=1), where=SPOT))
    store(early)
    store(on_time)
    case.respond(early, on_time)

    [flag] = flags(session)
    assert flag.kind is FlagKind.TAKEN_BEFORE_ORDER and flag.sha256 == sha(early)
    assert dt.datetime.fromisoformat(flag.details["captured_at"]) == issued - dt.timedelta(hours=3)
    assert dt.datetime.fromisoformat(flag.details["order_issued_at"]) == issued


def test_a_photo_far_from_the_finding_is_flagged(app, case, store, session):
    far = encode(photo_like(42), exif=exif(where=ELSEWHERE))
    near = encode(photo_like(43), exif=exif(where=NEARBY))
    case.before = far
    case.report()
    store(far)
    case.respond(near)
    store(near)

    [flag] = flags(session)
    assert flag.kind is FlagKind.FAR_FROM_FINDING and flag.sha256 == sha(far)
    assert 2260 < flag.details["metres"] < 2285 and flag.details["max_metres"] == app.config["PHOTO_MAX_DISTANCE_M"]


def test_the_limits_are_settings(case, store, session, clock, app):
    app.config["PHOTO_MAX_DISTANCE_M"] = 10
    app.config["PHOTO_REUSE_MAX_BITS"] = 1
    case.report()
    with app.app_context():
        assert FlagRules.current() == FlagRules(max_distance_m=10, reuse_max_bits=1)
    store(case.before)
    copy = reused_copy(BEFORE, 0.05, exif=exif(where=NEARBY))
    case.respond(copy)
    with app.app_context():  # the upload's request has the app's settings, as here
        store(copy)

    assert [f.kind for f in flags(session)] == [FlagKind.FAR_FROM_FINDING]


def test_supervisors_read_the_flags_within_scope(case, store, session, client, phone, world):
    case.report()
    store(case.before)
    copy = reused_copy(BEFORE, 0.02)
    case.respond(copy)
    store(copy)
    supervisor = bearer(phone("sup").store.get("token"))

    for query in (f"finding_id={case.finding_id}", f"order_id={case.order_id}", f"unit_id={world.units[0].id}", ""):
        page = client.get(f"/api/v1/photo-flags?{query}", headers=supervisor)
        assert page.status_code == 200, page.get_json()
        [item] = page.get_json()["items"]
        assert item["kind"] == "reused_before_photo" and item["sha256"] == sha(copy)
    none = client.get(f"/api/v1/photo-flags?unit_id={world.units[1].id}", headers=supervisor)
    assert none.get_json()["items"] == []

    liaison = bearer(case.liaison.store.get("token"))
    assert client.get("/api/v1/photo-flags", headers=liaison).status_code == 403
    bad = client.get("/api/v1/photo-flags?finding_id=not-a-uuid", headers=supervisor)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
