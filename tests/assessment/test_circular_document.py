"""The circular as a complete official document (GB/T 9704), read back with python-docx: 发文机关
标志, 文号, 主送, 附件说明 and the score table on an attachment page, 落款 with the date the clerk
set (publishing keeps it), page numbers as a PAGE field, 版记, and zh-CN document properties."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from docx import Document as read_docx
from docx.oxml.ns import qn

from server.auth.models import User
from tests.assessment.conftest import add_finding
from tests.assessment.seed_002 import TIERS, UNRANKED
from tests.assessment.test_seed_002 import SHANGHAI, configured, seed_round  # noqa: F401  (fixtures)

NUMBER = "安双创办发〔2008〕19号"
ADDRESSEES = "市级各部门，中省驻安各单位"
COPIES = "市委办公室，市人大办公室，市政府办公室，市政协办公室"


def _read(client, headers, circular_id: int):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/circulars/{circular_id}/docx", headers=headers)
    assert response.status_code == 200
    return read_docx(io.BytesIO(response.data))


def _styled(doc, style: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in doc.paragraphs if p.style.name == style]


def test_the_published_docx_is_a_complete_official_document(client, configured):  # noqa: F811
    rnd, units, headers = configured
    created = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers,
                          json={"number": NUMBER, "copies": COPIES})
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()
    document = {**draft["document"], "addressees": ADDRESSEES, "dated": "2008年11月29日"}
    edited = client.put(f"/api/v1/circulars/{draft['id']}", headers=headers,
                        json={"version": draft["version"], "document": document})
    assert edited.status_code == 200, edited.get_json()
    published = client.post(f"/api/v1/circulars/{draft['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["document"]["dated"] == "2008年11月29日"

    doc = _read(client, headers, draft["id"])
    texts = [p.text for p in doc.paragraphs]
    assert _styled(doc, "发文机关标志") == ["市双创办文件"]
    assert _styled(doc, "发文字号") == [NUMBER]
    # The red rule under the 文号 separates the 版头 from the text.
    rule = doc.paragraphs[1]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "E60012"
    assert texts.index(NUMBER) < texts.index("关于2008年下半年双创目标任务检查情况的通报")
    assert _styled(doc, "公文主送") == [ADDRESSEES + "："]
    assert _styled(doc, "附件说明") == ["附件：2008年下半年双创目标任务检查得分表"]
    # The date the clerk set, not the day it was published.
    assert _styled(doc, "公文落款") == ["市双创办", "2008年11月29日"]

    # The attachment on a page of its own, after the 落款, with every unit once.
    assert _styled(doc, "附件标识") == ["附件"]
    assert _styled(doc, "附件标题") == ["2008年下半年双创目标任务检查得分表"]
    marked = texts.index("附件")
    assert texts.index("2008年11月29日") < marked
    breaks = doc.paragraphs[marked - 1]._p.findall(".//" + qn("w:br"))
    assert [b.get(qn("w:type")) for b in breaks] == ["page"]
    [table] = doc.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "单位", "考核组别", "得分", "等次", "说明"]
    ranked = [name for _tier, names in TIERS for name in names]
    assert [r[1] for r in rows[1:1 + len(ranked)]] == ranked
    assert rows[1] == ["1", "市人大办", units["市人大办"].group.name, "100", "好", ""]
    notes = {r[1]: r[5] for r in rows[1:]}
    assert {name: notes[name] for name, _ in UNRANKED} == {name: f"暂未排序：{reason}" for name, reason in UNRANKED}
    assert len(rows) == 1 + 115

    # 版记: 抄送 and 印发 lines last, between rules.
    imprint = doc.paragraphs[-2:]
    assert [p.style.name for p in imprint] == ["版记", "版记"]
    assert imprint[0].text == f"抄送：{COPIES}。"
    assert imprint[1].text == "市双创办\t2008年11月29日印发"
    assert imprint[0]._p.pPr.find(qn("w:pBdr")).find(qn("w:top")) is not None
    assert imprint[1]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")) is not None

    # — 1 — in the footer, the number a PAGE field, odd and even pages apart.
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        paragraph = footer.paragraphs[0]
        codes = [t.text.strip() for t in paragraph._p.iter(qn("w:instrText"))]
        assert codes == ["PAGE"]
        assert paragraph.text == "— 1 —"

    props = doc.core_properties
    assert (props.author, props.last_modified_by, props.language) == ("市双创办", "市双创办", "zh-CN")
    assert props.title == "关于2008年下半年双创目标任务检查情况的通报" and props.subject == NUMBER
    published_at = dt.datetime.fromisoformat(published.get_json()["published_at"])
    assert props.created == published_at.replace(microsecond=0) and props.created.year != 2013
    lang = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert (lang.get(qn("w:val")), lang.get(qn("w:eastAsia"))) == ("zh-CN", "zh-CN")


def test_regenerating_keeps_the_clerks_header_and_publishing_without_a_date_dates_it_today(client, configured):  # noqa: F811
    rnd, units, headers = configured
    first = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers,
                        json={"number": NUMBER, "dated": "2008年11月29日"}).get_json()
    groups = list(dict.fromkeys(u.group.name for u in sorted(units.values(), key=lambda u: u.code) if u.group))
    assert first["document"]["addressees"] == f"{'、'.join(groups)}各成员单位"
    again = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={}).get_json()
    assert again["id"] == first["id"] and again["version"] == first["version"] + 1
    assert (again["document"]["number"], again["document"]["dated"]) == (NUMBER, "2008年11月29日")

    document = {**again["document"], "dated": ""}
    cleared = client.put(f"/api/v1/circulars/{again['id']}", headers=headers,
                         json={"version": again["version"], "document": document}).get_json()
    published = client.post(f"/api/v1/circulars/{cleared['id']}/publish", headers=headers).get_json()
    today = dt.datetime.fromisoformat(published["published_at"]).astimezone(SHANGHAI).date()
    assert published["document"]["dated"] == f"{today.year}年{today.month}月{today.day}日"


def test_a_bad_header_is_refused_and_changes_nothing(client, configured):  # noqa: F811
    rnd, _units, headers = configured
    response = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={"number": "号" * 101})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers).get_json() == []


def test_the_same_problem_names_its_units_together(client, session, configured):  # noqa: F811
    rnd, units, headers = configured
    inspector = session.scalar(sa.select(User).where(User.username == "inspector"))
    day = dt.datetime(2008, 10, 24, 9, 0, tzinfo=SHANGHAI)
    for minute, name in enumerate(("武警支队", "新华书店", "信合安康办")):
        add_finding(session, campaign_id=rnd.campaign_id, unit_id=units[name].id, reporter_id=inspector.id,
                    at=day + dt.timedelta(minutes=minute), category="档案台帐",
                    description="未按要求建立双创工作台帐。", round_id=rnd.id)
    session.commit()
    named = ["市社保中心", "武警支队", "新华书店", "信合安康办"]
    circular = client.post(f"/api/v1/rounds/{rnd.id}/circulars", headers=headers, json={}).get_json()
    [problems] = [s["paragraphs"] for s in circular["document"]["sections"] if s["heading"] == "存在的主要问题"]
    [archives] = [p for p in problems if "档案台帐方面" in p]
    # In the order found: 市社保中心's finding (fixture) came on the first day.
    assert f"如{'、'.join(named)}等单位未按要求建立双创工作台帐。" in archives
    assert archives.count("未按要求建立双创工作台帐") == 1
