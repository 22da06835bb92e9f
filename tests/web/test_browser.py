"""The console's story in a real browser (tests/web/conftest.py): the queue, an issue rejected,
answered from a phone over a dropped connection and verified, the map and the dashboard."""

from __future__ import annotations

import hashlib
import io
import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from server.attachments.models import PhotoRef
from server.orders.models import Order
from server.units.models import Zone, ZoneKind
from server.web.text import text
from tests.test_auth import bearer
from tests.web.conftest import CHROMIUM, DESKTOP, PHONE, log_in, shoot
from tests.world import finding_fields

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system chromium (apt-get install chromium)")]

CHUNK = 64 * 1024


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "CONSOLE_UPLOAD_CHUNK_BYTES": CHUNK}


@pytest.fixture
def live(served, world) -> str:  # type: ignore[no-untyped-def]
    return served


def _photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG of noise: big enough (several upload chunks) and unlike any other photo."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _upload(base: str, token: str, data: bytes) -> str:
    from tusclient.client import TusClient

    sha = hashlib.sha256(data).hexdigest()
    TusClient(f"{base}/api/v1/uploads/", headers=bearer(token)).uploader(
        file_stream=io.BytesIO(data), metadata={"sha256": sha}).upload()
    return sha


def _seed(live: str, world: Any, phone: Any, session: Any) -> dict[str, Any]:
    """Findings on two units in two categories, each with a before-photo on the live server; the
    liaison answers the one the supervisor will reject."""
    alice = phone("alice")
    token = alice.store.get("token")
    unit, other = world.units[0], world.units[1]
    for zone_unit, code, (west, south) in ((unit, "Z1", (109.020, 32.680)), (other, "Z2", (109.031, 32.682))):
        ring = [[west, south], [west + 0.009, south], [west + 0.009, south + 0.008], [west, south + 0.008],
                [west, south]]
        session.add(Zone(campaign_id=world.campaign.id, unit_id=zone_unit.id, code=code, name=f"{zone_unit.name}责任区",
                         kind=ZoneKind.FRONTAGE, geometry={"type": "Polygon", "coordinates": [ring]},
                         min_lon=west, min_lat=south, max_lon=west + 0.009, max_lat=south + 0.008))
    session.commit()
    made = {}
    for key, unit_id, category, description, seed, (lon, lat) in (
            ("target", unit.id, "杂物乱堆", "办公楼西侧杂物堆积墙边", 1, (109.0235, 32.6849)),
            ("late", unit.id, "杂物乱堆", "楼道堆放纸箱", 4, (109.0262, 32.6831)),
            ("other_category", unit.id, "占道经营", "门前占道摆摊", 2, (109.0248, 32.6866)),
            ("other_unit", other.id, "杂物乱堆", "书店后院杂物", 3, (109.0352, 32.6861))):
        sha = _upload(live, token, _photo(seed))
        made[key] = alice.create("finding", finding_fields(unit_id, category=category, description=description,
                                                          latitude=lat, longitude=lon, photos=[sha]))
    alice.sync()
    orders = {key: session.scalar(sa.select(Order.id).where(Order.finding_id == uuid.UUID(fid)))
              for key, fid in made.items()}
    liaison = phone("liaison")
    liaison.pull()
    liaison.command("order", str(orders["target"]), "respond", {"response_id": str(uuid.uuid4()),
                                                                "measures": "已通知物业清理"})
    liaison.push()
    return orders


def test_the_console_story_in_a_browser(live, world, phone, session, browser, clock):
    orders = _seed(live, world, phone, session)
    clock.advance(dt.timedelta(days=14))  # every deadline has passed
    target = str(orders["target"])

    # -- the supervisor filters the queue to one unit's late issues of one category, and rejects one
    sup = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = sup.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    log_in(page, live, "sup")
    assert "/console/queue" in page.url
    page.select_option("select[name=unit_id]", str(world.units[0].id))
    page.select_option("select[name=category]", "杂物乱堆")
    page.check("input[name=overdue]")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert f"unit_id={world.units[0].id}" in page.url and "overdue=true" in page.url  # bookmarkable
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1 and "楼道堆放纸箱" in rows.first.inner_text()  # issued and past its deadline
    assert page.locator("nav.counts a[data-status=responded] b").inner_text() == "0"
    page.uncheck("input[name=overdue]")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    page.click("nav.counts a[data-status=responded]")  # the unit answered this one: 待复查
    page.wait_for_load_state()
    assert "status=responded" in page.url and "category=" in page.url
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1 and "办公楼西侧杂物堆积墙边" in rows.first.inner_text()
    shoot(page, "queue-desktop")
    rows.first.locator("a").click()
    page.wait_for_url(f"**/console/orders/{target}")
    page.fill("#reject-form textarea[name=reason]", "墙角仍有杂物，未清理干净")
    page.click("#reject-form button[type=submit]")
    page.wait_for_url(f"**/console/orders/{target}")
    rejected = page.locator("#timeline li.order-rejected")
    assert "墙角仍有杂物，未清理干净" in rejected.inner_text() and "新期限" in rejected.inner_text()
    assert page.locator("#order-status").inner_text() == "整改中"

    # -- the liaison, on a phone, answers with an after-photo; the connection drops halfway
    unit = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    phone_page = unit.new_page()
    log_in(phone_page, live, "liaison")
    assert "墙角仍有杂物" in phone_page.locator("#notices li.order-rejected").first.inner_text()
    phone_page.click(f"a[href='/console/orders/{target}']")
    phone_page.wait_for_url(f"**/console/orders/{target}")  # its scripts, not the list's, before evaluating
    offsets: list[int] = []
    cut = {"done": False}

    def drop_the_second_chunk(route: Any) -> None:
        req = route.request
        if req.method == "PATCH":
            offsets.append(int(req.headers["upload-offset"]))
            if len(offsets) == 2 and not cut["done"]:
                cut["done"] = True
                route.abort("connectionreset")
                return
        route.continue_()

    phone_page.route("**/api/v1/uploads/**", drop_the_second_chunk)
    # The hash used off a secure context (plain-HTTP intranet) agrees with the server's.
    probe = _photo(7, (64, 48))
    assert phone_page.evaluate("b => sha256(new Uint8Array(b).buffer)", list(probe)) == hashlib.sha256(probe).hexdigest()
    after = _photo(99)
    phone_page.fill("#respond-form textarea[name=measures]", "已清理墙角杂物并建立巡查台账")
    phone_page.set_input_files("#photo-input", files=[{"name": "after.jpg", "mimeType": "image/jpeg",
                                                        "buffer": after}])
    phone_page.wait_for_selector("#upload-list li.done", timeout=30000)
    assert cut["done"] and offsets[1] == CHUNK and offsets[2] == CHUNK  # resumed at the server's offset
    assert offsets.count(0) == 1 and max(offsets) + CHUNK >= len(after)
    phone_page.click("#respond-form button[type=submit]")
    phone_page.wait_for_url(f"**/console/orders/{target}")
    assert phone_page.locator("#order-status").inner_text() == "待复查"

    # -- the supervisor sees it beside the before-photo and verifies
    page.goto(f"{live}/console/orders/{target}")
    after_sha = hashlib.sha256(after).hexdigest()
    assert page.locator(f".evidence .after img[src*='{after_sha}']").count() == 1
    assert page.locator(".evidence .before img").count() == 1
    assert page.locator(".evidence .after img").evaluate("img => img.naturalWidth") > 0
    shoot(page, "issue-desktop")
    page.click("#verify-form button[type=submit]")
    page.wait_for_url(f"**/console/orders/{target}")
    assert page.locator("#order-status").inner_text() == "已销号"

    # -- the unit sees the 销号 notice, and the closing step on the order's page
    phone_page.goto(f"{live}/console/orders/{target}")
    assert "复查通过，销号" in phone_page.locator("#timeline").inner_text()
    shoot(phone_page, "issue-phone")
    phone_page.goto(f"{live}/console/unit/orders")
    assert phone_page.title() == f"{text('orders.title')} · {text('app.name')}"
    assert "已销号" in phone_page.locator("#notices li.order-closed").first.inner_text()
    assert "办公楼西侧杂物堆积墙边" in phone_page.locator("#history").inner_text()  # the unit's history
    shoot(phone_page, "unit-orders-phone")

    # -- another unit's order and photo are 404 by URL, and a form without its token is refused
    other = str(orders["other_unit"])
    assert phone_page.goto(f"{live}/console/orders/{other}").status == 404
    other_photo = session.scalar(sa.select(PhotoRef.sha256).join(Order, Order.finding_id == PhotoRef.finding_id)
                                 .where(Order.id == orders["other_unit"]))
    assert phone_page.goto(f"{live}/api/v1/photos/{other_photo}/thumb").status == 404
    phone_page.goto(f"{live}/console/unit/orders")
    answer = phone_page.evaluate("""async (url) => {
        const r = await fetch(url, {method: 'POST', body: new URLSearchParams({measures: '伪造'})});
        return r.status; }""", f"{live}/console/orders/{str(orders['other_category'])}/respond")
    assert answer == 400

    # -- map and dashboard, at desktop and phone width, then the phone view of the queue
    page.goto(f"{live}/console/map")
    assert page.locator("svg.big-map circle.point").count() == 3  # the open orders with a place
    shoot(page, "map-desktop")
    page.goto(f"{live}/console/dashboard")
    assert page.locator(".tile.ok b").inner_text() == "1"  # the order verified above
    shoot(page, "dashboard-desktop")
    page.set_viewport_size(PHONE)
    for name in ("dashboard", "map", "queue"):
        page.goto(f"{live}/console/{name}")
        shoot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)
    assert not [m for m in blocked if "Content Security Policy" in m], blocked

    # -- logout: the back button brings nothing back
    page.click("form.logout button")
    page.wait_for_url("**/console/login**")
    page.go_back()
    page.wait_for_load_state()
    assert "/console/login" in page.url and page.locator("#timeline").count() == 0
    sup.close()
    unit.close()
