"""Seed 002's round reproduced: its 115 units, the four tiers in the order the seed prints them,
the two units left unranked with their reasons, and the circular, score sheet and publication."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from docx import Document as read_docx
from docx.oxml.ns import qn
from openpyxl import load_workbook

from server.auth.models import User
from server.demo import load_demo
from server.demo.data import DEMO_CREDENTIALS, ROUND
from server.rounds.models import Assignment, Round
from server.units.models import Unit
from tests.assessment.conftest import add_finding, add_visit, deduction_answers, items_of
from tests.assessment.seed_002 import EXAMPLE, TIERS, UNRANKED

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
RANKED = [name for _tier, names in TIERS for name in names]
#: Unit i of the seed's order loses i × 0.5 points, so the seed's order is the score order.
THRESHOLDS = {"好": "94.5", "较好": "67", "一般": "49.5"}
REQUIREMENTS = ("为确保全年目标任务如期完成，市双创办要求：一是要进一步加强领导，提高对双创工作重要性的认识。\n"
                "二是要进一步加强对档案资料的收集和管理。\n三是片区牵头单位要认真履行牵头部门责任。")
CLOSING = "本次检查结果作为部门、单位年终考评依据之一。"


def password(username: str) -> str:
    return next(c[2] for c in DEMO_CREDENTIALS if c[1] == username)


@pytest.fixture
def seed_round(session, clock, hasher):  # type: ignore[no-untyped-def]
    load_demo(session, clock, hasher)
    rnd = session.scalar(sa.select(Round).where(Round.name == ROUND["name"]))
    units = {u.name: u for u in session.scalars(
        sa.select(Unit).join(Assignment, Assignment.unit_id == Unit.id).where(Assignment.round_id == rnd.id))}
    inspector = session.scalar(sa.select(User).where(User.username == "inspector"))
    items = items_of(session, rnd.standard_id)
    day = dt.datetime(2008, 10, 23, 9, 0, tzinfo=SHANGHAI)
    for index, name in enumerate(RANKED):
        add_visit(session, round_id=rnd.id, unit_id=units[name].id, inspector_id=inspector.id,
                  at=day + dt.timedelta(minutes=index),
                  answers=deduction_answers(items, Decimal(index) * Decimal("0.5")),
                  methods="实地查看、座谈汇报、查阅资料、暗访询问")
    for name, _reason in UNRANKED:
        add_visit(session, round_id=rnd.id, unit_id=units[name].id, inspector_id=inspector.id, at=day, answers={})
    unit, category, description = EXAMPLE
    add_finding(session, campaign_id=rnd.campaign_id, unit_id=units[unit].id, reporter_id=inspector.id,
                at=day, category=category, description=description, round_id=rnd.id)
    for name, text in (("广电网络安康分公司", "办公室档案柜顶堆放杂物"), ("市乡企局", "办公楼后院杂物堆放混乱")):
        add_finding(session, campaign_id=rnd.campaign_id, unit_id=units[name].id, reporter_id=inspector.id,
                    at=day + dt.timedelta(hours=1), category="环境卫生", description=text, round_id=rnd.id)
    add_finding(session, campaign_id=rnd.campaign_id, unit_id=units["市社保中心"].id, reporter_id=inspector.id,
                at=day, category="档案台帐", description="未按要求建立双创工作台帐", round_id=rnd.id)
    session.commit()
    return rnd, units


@pytest.fixture
def configured(client, bearer, seed_round):  # type: ignore[no-untyped-def]
    rnd, units = seed_round
    headers = bearer("supervisor", password("supervisor"))
    labels = {name: f"{name}的部门、单位" for name, _ in TIERS}
    response = client.put(f"/api/v1/rounds/{rnd.id}/assessment", headers=headers, json={
        "tier_method": "thresholds", "rank_by_group": False, "requirements": REQUIREMENTS, "closing": CLOSING,
        "tiers": [{"name": name, "label": labels[name], "min_score": THRESHOLDS.get(name)} for name, _ in TIERS],
        "exclusions": [{"unit_id": units[name].id, "reason": reason} for name, reason in UNRANKED]})
    assert response.status_code == 200, response.get_json()
    return rnd, units, headers


def test_the_round_holds_the_seeds_units(seed_round):
    _rnd, units = seed_round
    assert set(units) == set(RANKED) | {name for name, _ in UNRANKED}
    assert len(units) == 115


def test_scores_rank_into_the_seeds_tiers(client, configured):
    rnd, units, headers = configured
    body = client.get(f"/api/v1/rounds/{rnd.id}/scores", headers=headers).get_json()
    by_name = {u["name"]: u for u in body["units"]}
    order = [next(u["name"] for u in body["units"] if u["unit_id"] == i) for i in body["ranking"][0]["unit_ids"]]
    assert order == RANKED
    for tier, names in TIERS:
        assert {by_name[n]["tier"] for n in names} == {tier}
    assert by_name["市人大办"]["score"] == "100.00" and by_name["市人大办"]["rank"] == 1
    assert by_name["网通安康分公司"]["score"] == "44.00" and by_name["网通安康分公司"]["rank"] == 113
    for name, reason in UNRANKED:
        assert by_name[name]["status"] == "excluded" and by_name[name]["reason"] == reason
        assert by_name[name]["rank"] is None and by_name[name]["tier"] is None


def _paragraphs(docx_bytes: bytes) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in read_docx(io.BytesIO(docx_bytes)).paragraphs]


def test_the_circular_docx_lists_each_tier_in_the_seeds_order(client, configured):
    rnd, _units, headers = configured
    created = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={})
    assert created.status_code == 201, created.get_json()
    circular = created.get_json()
    response = client.get(f"/api/v1/circulars/{circular['id']}/docx", headers=headers)
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    paragraphs = _paragraphs(response.data)
    texts = [t for _s, t in paragraphs]

    assert [t for s, t in paragraphs if s == "公文标题"] == ["关于2008年下半年双创目标任务检查情况的通报"]
    assert [t for s, t in paragraphs if s == "公文一级标题"] == [
        "一、基本情况", "二、存在的主要问题", "三、结果排序", "四、工作要求"]
    listed = {}
    for text in texts:
        match = re.fullmatch(r"(\d)、(.+?)的部门、单位：(.+)。", text)
        if match:
            listed[match.group(2)] = (int(match.group(1)), match.group(3).split("、"))
    assert listed == {tier: (n, list(names)) for n, (tier, names) in enumerate(TIERS, start=1)}
    assert any("（西铁安康办因体制问题未解决、化龙山管理局因正在建设中暂未排序）：" in t for t in texts)
    assert any("新华书店办公楼西侧杂物堆积墙边" in t and t.startswith("一是环境卫生方面问题3个") for t in texts)
    assert any(t.startswith("二是档案台帐方面问题1个") for t in texts)
    body = [t for s, t in paragraphs if s == "公文正文" and t]
    assert "10月23—30日，市双创办组成5个检查组，对115个单位" in body[0]
    assert "二是要进一步加强对档案资料的收集和管理。" in texts and CLOSING in texts
    assert [t for s, t in paragraphs if s == "公文落款"] == ["市双创办", "2026年10月23日"]


def test_the_docx_follows_official_document_conventions(client, configured):
    rnd, _units, headers = configured
    circular = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={}).get_json()
    doc = read_docx(io.BytesIO(client.get(f"/api/v1/circulars/{circular['id']}/docx", headers=headers).data))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    # Word keeps margins in twips, so compare to the tenth of a millimetre.
    assert [round(m.cm, 2) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                     section.right_margin)] == [3.7, 3.5, 2.8, 2.6]
    fonts = {}
    for name in ("公文标题", "公文一级标题", "公文二级标题", "公文正文"):
        fonts[name] = doc.styles[name].element.rPr.rFonts.get(qn("w:eastAsia"))
    assert fonts == {"公文标题": "方正小标宋简体", "公文一级标题": "黑体", "公文二级标题": "楷体_GB2312",
                     "公文正文": "仿宋_GB2312"}


def test_the_html_preview_has_every_section(client, configured):
    rnd, _units, headers = configured
    circular = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={}).get_json()
    page = client.get(f"/api/v1/circulars/{circular['id']}/html", headers=headers)
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for heading in ("一、基本情况", "二、存在的主要问题", "三、结果排序", "四、工作要求"):
        assert f"<h2>{heading}</h2>" in html
    assert "1、好的部门、单位：市人大办、市纪委监察局、" in html


def test_the_score_sheet_totals_equal_the_apis_scores(client, configured):
    rnd, _units, headers = configured
    scores = client.get(f"/api/v1/rounds/{rnd.id}/scores", headers=headers).get_json()
    response = client.get(f"/api/v1/rounds/{rnd.id}/score-sheet", headers=headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}116"
    assert len(header) == 4 + len(scores["items"]) + 5
    rows = {row[1]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 115
    for unit in scores["units"]:
        row = rows[unit["name"]]
        assert Decimal(str(row["总分"])) == Decimal(unit["score"])
        assert row["排名"] == unit["rank"] and row["等次"] == unit["tier"]
    assert rows["西铁安康办"]["说明"] == "暂未排序：因体制问题未解决"


def test_published_circular_is_frozen_and_readable_by_liaisons(client, bearer, session, configured):
    rnd, units, headers = configured
    circular = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={}).get_json()
    liaison = bearer("liaison", password("liaison"))
    assert client.get(f"/api/v1/circulars/{circular['id']}", headers=liaison).status_code == 404

    document = circular["document"]
    document["sections"][3]["paragraphs"].append("五是各单位要于11月30日前报送整改情况。")
    edited = client.put(f"/api/v1/circulars/{circular['id']}", headers=headers,
                        json={"version": circular["version"], "document": document})
    assert edited.status_code == 200, edited.get_json()
    stale = client.put(f"/api/v1/circulars/{circular['id']}", headers=headers,
                       json={"version": circular["version"], "document": document})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"

    published = client.post(f"/api/v1/circulars/{circular['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    again = client.put(f"/api/v1/circulars/{circular['id']}", headers=headers,
                       json={"version": published.get_json()["version"], "document": document})
    assert again.status_code == 409

    # The data moves on; the published circular's score sheet does not.
    inspector = session.scalar(sa.select(User).where(User.username == "inspector"))
    items = items_of(session, rnd.standard_id)
    add_visit(session, round_id=rnd.id, unit_id=units["市人大办"].id, inspector_id=inspector.id,
              at=dt.datetime(2008, 10, 30, 9, 0, tzinfo=SHANGHAI), answers={items[0].id: ("fail", 5, None)})
    session.commit()
    live = client.get(f"/api/v1/rounds/{rnd.id}/scores", headers=headers).get_json()
    assert next(u for u in live["units"] if u["name"] == "市人大办")["score"] == "95.00"
    frozen = load_workbook(io.BytesIO(client.get(f"/api/v1/circulars/{circular['id']}/score-sheet",
                                                 headers=headers).data)).active
    header = [c.value for c in frozen[1]]
    row = next(dict(zip(header, r)) for r in frozen.iter_rows(min_row=2, values_only=True) if r[1] == "市人大办")
    assert Decimal(str(row["总分"])) == 100

    readable = client.get(f"/api/v1/circulars/{circular['id']}/docx", headers=liaison)
    assert readable.status_code == 200
    assert "五是各单位要于11月30日前报送整改情况。" in [t for _s, t in _paragraphs(readable.data)]
    assert client.get(f"/api/v1/circulars/{circular['id']}/score-sheet", headers=liaison).status_code == 403
