"""A :class:`Document` as an HTML page for the console: every text escaped, charts inlined."""

from __future__ import annotations

import base64
from html import escape
from typing import Mapping

from server.reports.document import Document, walk

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
"""

_TAGS = {"heading1": "h2", "heading2": "h3", "paragraph": "p", "addressees": "p", "signature": "p"}


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
        else:
            tag = _TAGS[kind]
            css = f' class="{kind}"' if kind in ("addressees", "signature") else ""
            parts.append(f"<{tag}{css}>{escape(value)}</{tag}>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{escape(document['title'])}</title><style>{_CSS}</style></head>"
            f"<body><article>\n{body}\n</article></body></html>\n")
