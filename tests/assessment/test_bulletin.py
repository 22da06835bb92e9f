"""The bulletin (快报): its counts equal the database's for a generated period, its documents
carry the charts, and the CLI writes the same documents."""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from docx import Document as read_docx

from server.findings.models import FindingStatus
from server.orders.models import Escalation, Order, OrderStatus
from tests.assessment.conftest import add_finding
from tests.factories import PASSWORD

ZONE = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 10, 5), dt.date(2026, 10, 15)
CATEGORIES = ("杂物乱堆", "占道经营", "野广告", "卫生死角")


def _local(value: dt.datetime | None) -> dt.date | None:
    return value.astimezone(ZONE).date() if value is not None else None


def _when(rng: random.Random) -> dt.datetime:
    return dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=rng.randrange(0, 25 * 24 * 60))


@pytest.fixture
def period_data(session, clock, world):  # type: ignore[no-untyped-def]
    """Findings, orders and escalations spread over October, some inside the period, some not."""
    rng = random.Random(4)
    now = clock.now()
    expected = {m: {"category": Counter(), "unit": Counter()} for m in ("found", "rectified", "overdue", "escalated")}
    names = {u.id: u.name for u in world.units}

    def count(measure: str, category: str, unit_id: int | None) -> None:
        expected[measure]["category"][category] += 1
        expected[measure]["unit"][names.get(unit_id, "待分派")] += 1

    for _ in range(80):
        unit_id = rng.choice([*names, None])
        category = rng.choice(CATEGORIES)
        status = FindingStatus.VOIDED if rng.random() < 0.1 else FindingStatus.COMPLETE
        observed = _when(rng)
        finding = add_finding(session, campaign_id=world.campaign.id, unit_id=unit_id, category=category,
                              reporter_id=world.users["alice"].id, at=observed, status=status)
        if status is not FindingStatus.VOIDED and START <= _local(observed) <= END:
            count("found", category, unit_id)
        if unit_id is None or rng.random() < 0.3:
            continue
        order_status = rng.choice([OrderStatus.ISSUED, OrderStatus.CLOSED, OrderStatus.RESPONDED])
        due = _when(rng)
        closed = _when(rng) if order_status is OrderStatus.CLOSED else None
        order = Order(id=uuid.uuid4(), finding_id=finding.id, unit_id=unit_id, level=1, status=order_status,
                      issued_at=observed, due_at=due, closed_at=closed)
        session.add(order)
        session.flush()
        if closed and START <= _local(closed) <= END:
            count("rectified", category, unit_id)
        missed = None
        if rng.random() < 0.4:
            missed, by_person = _when(rng), rng.random() < 0.3
            stepped = missed + dt.timedelta(hours=1)
            order.level = 2
            session.add(Escalation(order_id=order.id, level=2, escalated_at=stepped, previous_due_at=missed,
                                   due_at=due, escalated_by=world.users["sup"].id if by_person else None))
            if START <= _local(stepped) <= END:
                count("escalated", category, unit_id)
            if by_person:
                missed = None
        open_late = order_status is OrderStatus.ISSUED and START <= _local(due) <= END and due < now
        if open_late or (missed is not None and START <= _local(missed) <= END):
            count("overdue", category, unit_id)
    session.commit()
    return expected


@pytest.fixture
def cjk_font() -> str:
    """Charts need a font with Chinese glyphs installed on the machine; say plainly when it lacks one."""
    from server.reports.charts import find_cjk_font

    found = find_cjk_font()
    if found is None:
        pytest.skip("no font with Chinese glyphs installed (apt-get install fonts-noto-cjk or fonts-wqy-microhei)")
    return found


def _query(**extra: str) -> str:
    return "&".join(f"{k}={v}" for k, v in {"start": START.isoformat(), "end": END.isoformat(), **extra}.items())


def test_the_counts_equal_the_databases(client, bearer, period_data):
    response = client.get(f"/api/v1/bulletins?{_query()}", headers=bearer("sup", PASSWORD))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    for measure, tallies in period_data.items():
        assert body["totals"][measure] == sum(tallies["category"].values()), measure
        assert {r["name"]: r[measure] for r in body["by_category"] if r[measure]} == dict(tallies["category"])
        assert {r["name"]: r[measure] for r in body["by_unit"] if r[measure]} == dict(tallies["unit"])
    assert all(body["totals"][m] > 0 for m in period_data), "the generated period should exercise every count"
    assert sum(r["escalated"] for r in body["by_level"]) == body["totals"]["escalated"]


def test_documents_carry_the_counts_and_the_charts(client, bearer, period_data, cjk_font):
    headers = bearer("sup", PASSWORD)
    totals = client.get(f"/api/v1/bulletins?{_query()}", headers=headers).get_json()["totals"]
    doc = read_docx(io.BytesIO(client.get(f"/api/v1/bulletins/docx?{_query()}", headers=headers).data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].endswith("巡查快报（10月5—15日）")
    summary = next(t for t in texts if t.startswith("10月5—15日，共发现问题"))
    assert f"共发现问题{totals['found']}起" in summary and f"逾期未整改{totals['overdue']}起" in summary
    top = max(period_data["found"]["category"].items(), key=lambda kv: kv[1])
    assert f"{top[0]}{top[1]}起" in summary
    assert len(doc.inline_shapes) == 2
    html = client.get(f"/api/v1/bulletins/html?{_query()}", headers=headers).get_data(as_text=True)
    assert html.count("data:image/png;base64,") == 2


def test_a_period_that_cannot_be_is_refused(client, bearer, world):
    headers = bearer("sup", PASSWORD)
    for query in ("start=2026-10-15&end=2026-10-05", "start=2025-01-01&end=2026-10-05", "start=2026-10-05"):
        response = client.get(f"/api/v1/bulletins?{query}", headers=headers)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/bulletins?{_query()}", headers=bearer("liaison", PASSWORD)).status_code == 403


def test_without_a_chinese_font_the_bulletin_says_so(client, bearer, period_data, app, monkeypatch):
    # The search is the system's; pointing matplotlib's font list and file search at nothing is
    # how a server without CJK fonts looks to it.
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    doc = read_docx(io.BytesIO(client.get(f"/api/v1/bulletins/docx?{_query()}",
                                          headers=bearer("sup", PASSWORD)).data))
    assert len(doc.inline_shapes) == 0
    assert any("图表从略" in p.text for p in doc.paragraphs)


def test_cli_writes_circulars_score_sheets_and_bulletins(run_cli, session, world, period_data, tmp_path, cjk_font):
    result = run_cli("report", "generate", str(world.round.id))
    assert result.exit_code == 0, result.output
    circular_id = result.output.split()[2]
    preview = run_cli("report", "preview", circular_id)
    assert "一、基本情况" in preview.output and "三、结果排序" in preview.output
    assert run_cli("report", "publish", circular_id).exit_code == 0
    assert "published and frozen" in run_cli("report", "publish", circular_id).output
    for fmt in ("docx", "html", "xlsx"):
        target = tmp_path / f"circular.{fmt}"
        assert run_cli("report", "download", circular_id, "--format", fmt, "-o", str(target)).exit_code == 0
        assert target.stat().st_size > 0
    assert run_cli("report", "score-sheet", str(world.round.id), "-o", str(tmp_path / "s.xlsx")).exit_code == 0
    out = run_cli("report", "bulletin", "--start", START.isoformat(), "--end", END.isoformat(),
                  "--campaign", world.campaign.name, "-o", str(tmp_path / "b.docx"))
    assert out.exit_code == 0, out.output
    assert f"found {sum(period_data['found']['category'].values())}," in out.output
    assert len(read_docx(str(tmp_path / "b.docx")).inline_shapes) == 2


def test_issued_bulletins_count_on_per_campaign(client, bearer, run_cli, session, world, tmp_path):
    headers = bearer("sup", PASSWORD)
    periods = [("2026-10-05", "2026-10-11"), ("2026-10-12", "2026-10-18")]
    assert client.get(f"/api/v1/bulletins?start={periods[0][0]}&end={periods[0][1]}",
                      headers=headers).get_json()["number"] is None
    numbers = [client.post(f"/api/v1/bulletins/issue?start={a}&end={b}", headers=headers).get_json()["number"]
               for a, b in periods]
    assert numbers == [1, 2]
    # Issuing a period again keeps its number; reading it shows the number.
    again = client.post(f"/api/v1/bulletins/issue?start={periods[0][0]}&end={periods[0][1]}", headers=headers)
    assert again.status_code == 200 and again.get_json()["number"] == 1
    page = client.get(f"/api/v1/bulletins/html?start={periods[1][0]}&end={periods[1][1]}", headers=headers)
    assert '<p class="number">第2期</p>' in page.get_data(as_text=True)
    bad = client.post("/api/v1/bulletins/issue?start=2026-10-20&end=2026-10-19", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"

    session.rollback()
    out = run_cli("report", "bulletin", "--start", "2026-10-19", "--end", "2026-10-25", "--issue",
                  "--campaign", world.campaign.name, "-o", str(tmp_path / "b.docx"))
    assert out.exit_code == 0, out.output
    assert out.output.startswith("第3期: ")
    doc = read_docx(str(tmp_path / "b.docx"))
    assert [p.text for p in doc.paragraphs if p.style.name == "发文字号"] == ["第3期"]
