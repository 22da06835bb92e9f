"""A :class:`Document` as an HTML page for the console: every text escaped, charts inlined."""

from __future__ import annotations

import base64
from html import escape
from typing import Mapping

from server.reports.document import Attachment, Document, attachment_heading, walk

_CSS = """
body { margin: 0; background: #f4f4f4; }
article { max-width: 46em; margin: 2em auto; padding: 3em 3.5em; background: #fff;
  font: 16pt/1.75 "仿宋_GB2312", FangSong, "STFangsong", "Noto Serif CJK SC", serif; }
h1 { font: 22pt/1.5 "方正小标宋简体", "STZhongsong", "Noto Serif CJK SC", serif; text-align: center;
  margin: 0 0 1em; }
h2 { font: 16pt/1.75 "黑体", SimHei, "Noto Sans CJK SC", sans-serif; margin: 0; text-indent: 2em; }
h3 { font: 16pt/1.75 "楷体_GB2312", KaiTi, "STKaiti", serif; margin: 0; text-indent: 2em; font-weight: normal; }
p { margin: 0; text-indent: 2em; text-align: justify; }
p.addressees { text-indent: 0; }
p.signature { text-align: right; }
figure { margin: 1em 0; text-align: center; }
figure img { max-width: 100%; }
p.issuer { color: #e60012; font: 36pt/1.5 "方正小标宋简体", "STZhongsong", serif; text-align: center; text-indent: 0; }
p.number { text-align: center; text-indent: 0; border-bottom: 2px solid #e60012; margin-bottom: 1em; }
section.attachment { margin-top: 3em; }
section.attachment > p { text-indent: 0; font-family: "黑体", SimHei, sans-serif; }
table { border-collapse: collapse; width: 100%; font-size: 12pt; }
th, td { border: 1px solid #000; padding: 0 .3em; }
footer.imprint { margin-top: 2em; border-top: 2px solid #000; border-bottom: 2px solid #000; font-size: 14pt; }
footer.imprint p { text-indent: 0; }
"""

_TAGS = {"heading1": "h2", "heading2": "h3", "paragraph": "p", "addressees": "p", "signature": "p",
         "issuer": "p", "number": "p", "attachment_note": "p"}
_CLASSED = ("addressees", "signature", "issuer", "number")


def _attachment(document: Document, attachment: Attachment) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in attachment["headers"])
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in attachment["rows"])
    return (f'<section class="attachment"><p>{escape(attachment_heading(document, attachment))}</p>'
            f"<h1>{escape(attachment['title'])}</h1><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def write_html(document: Document, figures: Mapping[str, bytes] | None = None, *,
               missing_figure: str = "") -> str:
    figures = figures or {}
    parts = []
    for kind, value in walk(document):
        if kind == "title":
            parts.append(f"<h1>{escape(value)}</h1>")
        elif kind == "figure":
            if value in figures:
                data = base64.b64encode(figures[value]).decode("ascii")
                parts.append(f'<figure><img alt="{escape(value)}" src="data:image/png;base64,{data}"></figure>')
            elif missing_figure:
                parts.append(f'<p class="missing-figure">{escape(missing_figure)}</p>')
        elif kind == "attachment":
            parts.append(_attachment(document, value))
        elif kind == "imprint":
            lines = "".join(f"<p>{escape(line)}</p>" for line in value if line)
            parts.append(f'<footer class="imprint">{lines}</footer>')
        else:
            tag = _TAGS[kind]
            css = f' class="{kind}"' if kind in _CLASSED else ""
            parts.append(f"<{tag}{css}>{escape(value)}</{tag}>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{escape(document['title'])}</title><style>{_CSS}</style></head>"
            f"<body><article>\n{body}\n</article></body></html>\n")
