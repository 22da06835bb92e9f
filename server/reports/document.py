"""The shape every generated document takes before it is written out as DOCX or HTML.

It is plain JSON so a supervisor can edit a draft circular through the API and the edit is
stored as it is. Headings carry no numbers: 一、二、 and (一)(二) are added when writing, so
moving or deleting a section never leaves the numbering wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NotRequired, TypedDict

_DIGITS = "零一二三四五六七八九"


class Section(TypedDict, total=False):
    heading: str
    paragraphs: list[str]
    subsections: list["Section"]
    #: Names of charts (PNG) shown after the paragraphs.
    figures: list[str]


class Attachment(TypedDict):
    """A table printed on a page of its own after the text (附件), named in the 附件说明."""

    title: str
    headers: list[str]
    rows: list[list[str]]


class Document(TypedDict):
    #: 发文机关标志, e.g. 安康市双创办文件, printed in red above the 文号; empty: none.
    issuer: NotRequired[str]
    #: 发文字号, e.g. 安双创办发〔2008〕19号.
    number: NotRequired[str]
    title: str
    #: 主送机关, e.g. 各县区双创指挥部, ...; printed flush left before the opening.
    addressees: str
    opening: list[str]
    sections: list[Section]
    closing: list[str]
    #: The issuing office and the date printed under the text.
    office: str
    dated: str
    attachments: NotRequired[list[Attachment]]
    #: 版记: 抄送机关, 印发机关 and 印发日期 (empty: the 落款's office and date).
    copies: NotRequired[str]
    printer: NotRequired[str]
    printed: NotRequired[str]


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
    issuer, number, title, addressees, paragraph, heading1, heading2, figure, attachment_note,
    signature, attachment (an :class:`Attachment`), imprint (抄送, 印发机关, 印发日期)."""
    out: list[tuple[str, Any]] = [(kind, document[kind]) for kind in ("issuer", "number")  # type: ignore[literal-required]
                                  if document.get(kind)]
    out.append(("title", document["title"]))
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
    out += [("attachment_note", line) for line in attachment_notes(document)]
    for line in (document.get("office", ""), document.get("dated", "")):
        if line:
            out.append(("signature", line))
    out += [("attachment", a) for a in document.get("attachments", [])]
    if document.get("copies") or document.get("printer") or document.get("office"):
        out.append(("imprint", imprint(document)))
    return out


def attachment_notes(document: Document) -> list[str]:
    """附件说明: 附件：title, or 附件：1．title then 2．title … under it when there are several."""
    titles = [a["title"] for a in document.get("attachments", [])]
    if len(titles) == 1:
        return [f"附件：{titles[0]}"]
    return [f"{'附件：' if i == 1 else '　　　'}{i}．{t}" for i, t in enumerate(titles, start=1)]


def attachment_heading(document: Document, attachment: Attachment) -> str:
    """附件 or 附件2, as the attachment's page is marked at its top left."""
    attachments = document.get("attachments", [])
    return "附件" if len(attachments) == 1 else f"附件{attachments.index(attachment) + 1}"


def imprint(document: Document) -> tuple[str, str, str]:
    """(抄送 line or "", 印发机关, 印发日期 + 印发) as the 版记 prints them."""
    copies = document.get("copies", "").strip().rstrip("。")
    printer = document.get("printer") or document.get("office", "")
    printed = document.get("printed") or document.get("dated", "")
    return (f"抄送：{copies}。" if copies else "", printer, f"{printed}印发" if printed else "")


def _body(section: Section) -> list[tuple[str, Any]]:
    return [("paragraph", p) for p in section.get("paragraphs", []) or []] + \
        [("figure", f) for f in section.get("figures", []) or []]


def text_length(document: Document) -> int:
    return sum(len(value) for kind, value in walk(document) if isinstance(value, str))

