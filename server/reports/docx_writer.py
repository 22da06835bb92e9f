"""A :class:`Document` as DOCX in the manner of Chinese official documents (党政机关公文格式,
GB/T 9704): A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right; title in 小标宋 二号;
level-one headings in 黑体 三号, level-two in 楷体 三号, text in 仿宋 三号 with a two-character
first-line indent and a fixed 28 pt line pitch.

Word picks the font of Chinese characters from the East Asian slot (w:eastAsia) of a run's
fonts, not from the Latin name python-docx sets, so every style sets both.
"""

from __future__ import annotations

import io
from typing import Mapping

from docx import Document as new_docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.styles.style import ParagraphStyle

from server.reports.document import Document, walk

TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
#: 三号 and 二号 in points.
SIZE_3, SIZE_2 = Pt(16), Pt(22)

#: Style names, also what tests and other readers look paragraphs up by.
STYLES = {"title": "公文标题", "heading1": "公文一级标题", "heading2": "公文二级标题",
          "paragraph": "公文正文", "addressees": "公文主送", "signature": "公文落款", "figure": "公文图"}


def _style(doc, name: str, font: str, size: Pt, *, bold: bool = False, indent: bool = True,  # type: ignore[no-untyped-def]
           align: int | None = None) -> ParagraphStyle:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.name = font
    style.font.size = size
    style.font.bold = bold
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28) if size == SIZE_3 else Pt(36)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(32) if indent else None
    if align is not None:
        fmt.alignment = align
    return style


def write_docx(document: Document, figures: Mapping[str, bytes] | None = None) -> bytes:
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

    figures = figures or {}
    for kind, value in walk(document):
        if kind == "figure":
            if value in figures:
                paragraph = doc.add_paragraph(style=STYLES["figure"])
                paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                paragraph.add_run().add_picture(io.BytesIO(figures[value]), width=Cm(15))
            continue
        if kind == "title":
            doc.add_paragraph(value, style=STYLES["title"])
            doc.add_paragraph("", style=STYLES["paragraph"])  # 标题与正文间空一行
            continue
        doc.add_paragraph(value, style=STYLES[kind])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
