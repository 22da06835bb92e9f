"""The shape every generated document takes before it is written out as DOCX or HTML.

It is plain JSON so a supervisor can edit a draft circular through the API and the edit is
stored as it is. Headings carry no numbers: 一、二、 and (一)(二) are added when writing, so
moving or deleting a section never leaves the numbering wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

_DIGITS = "零一二三四五六七八九"


class Section(TypedDict, total=False):
    heading: str
    paragraphs: list[str]
    subsections: list["Section"]
    #: Names of charts (PNG) shown after the paragraphs.
    figures: list[str]


class Document(TypedDict):
    title: str
    #: 主送机关, e.g. 各县区双创指挥部, ...; printed flush left before the opening.
    addressees: str
    opening: list[str]
    sections: list[Section]
    closing: list[str]
    #: The issuing office and the date printed under the text.
    office: str
    dated: str


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (headings and 一是/二是 never pass 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def date_span(start: dt.date, end: dt.date) -> str:
    """As circulars write a period: 10月23—30日, 10月23日—11月2日, 2008年12月30日—2009年1月5日."""
    if start == end:
        return f"{start.month}月{start.day}日"
    if start.year != end.year:
        return f"{chinese_date(start)}—{chinese_date(end)}"
    if start.month != end.month:
        return f"{start.month}月{start.day}日—{end.month}月{end.day}日"
    return f"{start.month}月{start.day}—{end.day}日"


def numbered_heading(level: int, index: int, heading: str) -> str:
    return f"{chinese_number(index)}、{heading}" if level == 1 else f"（{chinese_number(index)}）{heading}"


def walk(document: Document) -> list[tuple[str, Any]]:
    """The document as a flat list of (kind, value) in reading order, for the writers:
    title, addressees, paragraph, heading1, heading2, figure, signature."""
    out: list[tuple[str, Any]] = [("title", document["title"])]
    if document.get("addressees"):
        out.append(("addressees", document["addressees"] + "："))
    out += [("paragraph", p) for p in document.get("opening", [])]
    for i, section in enumerate(document.get("sections", []), start=1):
        out.append(("heading1", numbered_heading(1, i, section["heading"])))
        out += _body(section)
        for j, sub in enumerate(section.get("subsections", []) or [], start=1):
            out.append(("heading2", numbered_heading(2, j, sub["heading"])))
            out += _body(sub)
    out += [("paragraph", p) for p in document.get("closing", [])]
    for line in (document.get("office", ""), document.get("dated", "")):
        if line:
            out.append(("signature", line))
    return out


def _body(section: Section) -> list[tuple[str, Any]]:
    return [("paragraph", p) for p in section.get("paragraphs", []) or []] + \
        [("figure", f) for f in section.get("figures", []) or []]


def text_length(document: Document) -> int:
    return sum(len(value) for kind, value in walk(document) if isinstance(value, str))
