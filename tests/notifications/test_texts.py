from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.notifications.texts import case_text, format_datetime, format_deadline, message_text

UTC = dt.timezone.utc


@dataclass
class _Notice:
    title: str
    body: str


def test_deadlines_read_as_a_circular_writes_them_in_the_campaign_zone():
    assert format_deadline(dt.datetime(2026, 11, 27, 9, 30, tzinfo=UTC), "Asia/Shanghai") == "11月27日（周五）17:30"
    # Past midnight in Shanghai is the next day, a Saturday.
    assert format_deadline(dt.datetime(2026, 11, 27, 16, 5, tzinfo=UTC), "Asia/Shanghai") == "11月28日（周六）00:05"
    assert format_datetime(dt.datetime(2026, 1, 2, 1, 0, tzinfo=UTC), "Asia/Shanghai") == "2026年1月2日 09:00"


def test_a_case_names_the_unit_finding_level_and_deadline():
    text = case_text(unit="江北大道片区", finding="占道经营", level="橙色（督办单）",
                     deadline=dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC), tz="Asia/Shanghai", lead="已逾期，升级督办。")
    assert text.splitlines() == ["已逾期，升级督办。", "责任单位：江北大道片区", "问题：占道经营", "级别：橙色（督办单）",
                                 "整改期限：11月23日（周一）10:00"]
    assert case_text(unit="市审计局", finding="x", level="黄色", deadline=None, tz="Asia/Shanghai").endswith("整改期限：未定")


def test_one_notice_is_itself_and_several_are_one_digest():
    one = message_text([_Notice("市审计局整改提醒", "请整改")])
    assert (one.subject, one.body) == ("市审计局整改提醒", "请整改")
    digest = message_text([_Notice("甲", "第一行\n第二行"), _Notice("乙", "第三行"), _Notice("丙", "")])
    assert digest.subject == "您有 3 条待办提醒"
    assert digest.body.splitlines() == ["您有 3 条待办提醒：", "", "1. 甲", "   第一行", "   第二行", "", "2. 乙",
                                        "   第三行", "", "3. 丙"]
