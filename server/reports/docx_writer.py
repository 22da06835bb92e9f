"""A :class:`Document` as DOCX in the manner of Chinese official documents (党政机关公文格式,
GB/T 9704): A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right; title in 小标宋 二号;
level-one headings in 黑体 三号, level-two in 楷体 三号, text in 仿宋 三号 with a two-character
first-line indent and a fixed 28 pt line pitch. Above the title, the 发文机关标志 in red and the
文号 over a red rule; after the text, the 附件说明 and the 落款; each 附件 on a page of its own;
last, the 版记 (抄送, 印发机关 and 印发日期 between rules). Page numbers as "— 1 —" in 宋体 四号,
odd pages on the right, even pages on the left.

Word picks the font of Chinese characters from the East Asian slot (w:eastAsia) of a run's
fonts, not from the Latin name python-docx sets, so every style sets both.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Mapping

from docx import Document as new_docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle

from server.reports.document import Attachment, Document, attachment_heading, walk

TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
PAGE_FONT = "宋体"
#: 三号, 二号 and 四号 in points; the 发文机关标志 is larger than the title.
SIZE_3, SIZE_2, SIZE_4, SIZE_ISSUER = Pt(16), Pt(22), Pt(14), Pt(36)
RED = RGBColor(0xE6, 0x00, 0x12)
LANGUAGE = "zh-CN"

#: Style names, also what tests and other readers look paragraphs up by.
STYLES = {"title": "公文标题", "heading1": "公文一级标题", "heading2": "公文二级标题",
          "paragraph": "公文正文", "addressees": "公文主送", "signature": "公文落款", "figure": "公文图",
          "issuer": "发文机关标志", "number": "发文字号", "attachment_note": "附件说明",
          "attachment_mark": "附件标识", "attachment_title": "附件标题", "imprint": "版记", "page": "页码"}


def _style(doc, name: str, font: str, size: Pt, *, bold: bool = False, indent: bool = True,  # type: ignore[no-untyped-def]
           align: int | None = None, color: RGBColor | None = None) -> ParagraphStyle:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.name = font
    style.font.size = size
    style.font.bold = bold
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if color is not None:
        style.font.color.rgb = color
    fmt.line_spacing = Pt(28) if size <= SIZE_3 else Pt(36) if size == SIZE_2 else Pt(size.pt + 8)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(32) if indent else None
    if align is not None:
        fmt.alignment = align
    return style


def _border(paragraph, *sides: tuple[str, int, str]) -> None:  # type: ignore[no-untyped-def]
    """Rules drawn as paragraph borders: (side, width in eighths of a point, colour)."""
    borders = OxmlElement("w:pBdr")
    for side, size, color in sides:
        line = OxmlElement(f"w:{side}")
        for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
            line.set(qn(f"w:{key}"), value)
        borders.append(line)
    paragraph._p.get_or_add_pPr().append(borders)


def _field(paragraph, instruction: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    """A field Word computes as it lays the pages out (PAGE: this page's number)."""
    def char(kind: str) -> Any:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    paragraph.add_run()._r.append(char("begin"))
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    paragraph.add_run()._r.append(char("separate"))
    paragraph.add_run(shown)
    paragraph.add_run()._r.append(char("end"))


def _page_numbers(doc, section) -> None:  # type: ignore[no-untyped-def]
    """— 1 — a character in from the right edge on odd pages, from the left on even ones."""
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        paragraph.style = STYLES["page"]
        paragraph.alignment = align
        paragraph.add_run("— ")
        _field(paragraph, "PAGE", "1")
        paragraph.add_run(" —")


def _properties(doc, document: Document, created: dt.datetime | None) -> None:  # type: ignore[no-untyped-def]
    props = doc.core_properties
    office = document.get("printer") or document.get("office", "")
    props.author = props.last_modified_by = office
    props.title = document["title"]
    props.subject = document.get("number", "")
    props.keywords = props.comments = props.category = ""
    props.language = LANGUAGE
    props.revision = 1
    if created is not None:
        props.created = props.modified = created.astimezone(dt.timezone.utc).replace(tzinfo=None)
    # The template's own default language (en-US) would make Word spell-check the text as English.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = run_defaults.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        run_defaults.append(lang)
    for key in ("val", "eastAsia"):
        lang.set(qn(f"w:{key}"), LANGUAGE)


def _attachment(doc, document: Document, attachment: Attachment) -> None:  # type: ignore[no-untyped-def]
    doc.add_paragraph(style=STYLES["paragraph"]).add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph(attachment_heading(document, attachment), style=STYLES["attachment_mark"])
    doc.add_paragraph(attachment["title"], style=STYLES["attachment_title"])
    table = doc.add_table(rows=1, cols=len(attachment["headers"]))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, attachment["headers"]):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in attachment["rows"]:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text


def _imprint(doc, lines: tuple[str, str, str]) -> None:  # type: ignore[no-untyped-def]
    """版记 at the end: 抄送 between a thick and a thin rule, then 印发机关 left and 印发日期 right,
    closed by a thick rule."""
    copies, printer, printed = lines
    doc.add_paragraph("", style=STYLES["paragraph"])
    if copies:
        paragraph = doc.add_paragraph(copies, style=STYLES["imprint"])
        _border(paragraph, ("top", 8, "000000"), ("bottom", 4, "000000"))
    paragraph = doc.add_paragraph(style=STYLES["imprint"])
    paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(15.6), alignment=2)  # 2: right
    paragraph.add_run(f"{printer}\t{printed}")
    _border(paragraph, *([] if copies else [("top", 8, "000000")]), ("bottom", 8, "000000"))


def write_docx(document: Document, figures: Mapping[str, bytes] | None = None, *,
               created: dt.datetime | None = None) -> bytes:
    """``created``: the file's creation time in its properties (the draft's, or the publication's)."""
    doc = new_docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    _style(doc, STYLES["title"], TITLE_FONT, SIZE_2, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, STYLES["heading1"], HEADING1_FONT, SIZE_3)
    _style(doc, STYLES["heading2"], HEADING2_FONT, SIZE_3)
    _style(doc, STYLES["paragraph"], BODY_FONT, SIZE_3, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, STYLES["addressees"], BODY_FONT, SIZE_3, indent=False)
    _style(doc, STYLES["signature"], BODY_FONT, SIZE_3, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, STYLES["figure"], BODY_FONT, SIZE_3, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, STYLES["issuer"], TITLE_FONT, SIZE_ISSUER, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    _style(doc, STYLES["number"], BODY_FONT, SIZE_3, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, STYLES["attachment_note"], BODY_FONT, SIZE_3)
    _style(doc, STYLES["attachment_mark"], HEADING1_FONT, SIZE_3, indent=False)
    _style(doc, STYLES["attachment_title"], TITLE_FONT, SIZE_2, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, STYLES["imprint"], BODY_FONT, SIZE_4, indent=False)
    _style(doc, STYLES["page"], PAGE_FONT, SIZE_4, indent=False)
    _properties(doc, document, created)
    _page_numbers(doc, section)

    figures = figures or {}
    for kind, value in walk(document):
        if kind == "figure":
            if value in figures:
                paragraph = doc.add_paragraph(style=STYLES["figure"])
                paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                paragraph.add_run().add_picture(io.BytesIO(figures[value]), width=Cm(15))
            continue
        if kind == "number":
            paragraph = doc.add_paragraph(value, style=STYLES["number"])
            _border(paragraph, ("bottom", 18, "E60012"))  # 版头中的分隔线
            doc.add_paragraph("", style=STYLES["paragraph"])
            continue
        if kind == "attachment_note":
            if doc.paragraphs[-1].style.name != STYLES["attachment_note"]:
                doc.add_paragraph("", style=STYLES["paragraph"])  # 正文与附件说明间空一行
            doc.add_paragraph(value, style=STYLES["attachment_note"])
            continue
        if kind == "attachment":
            _attachment(doc, document, value)
            continue
        if kind == "imprint":
            _imprint(doc, value)
            continue
        if kind == "title":
            doc.add_paragraph(value, style=STYLES["title"])
            doc.add_paragraph("", style=STYLES["paragraph"])  # 标题与正文间空一行
            continue
        doc.add_paragraph(value, style=STYLES[kind])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
