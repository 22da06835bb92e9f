"""Bar charts as PNG for the bulletin, drawn with matplotlib's object API (no pyplot state, so
it is safe in a threaded web worker) and imported only when a chart is drawn.

Chinese labels need a font with CJK glyphs. XUNCHA_CHART_FONT names one; otherwise the system's
fonts are searched. Without one there are no charts, and the documents say so, rather than
printing boxes where the names should be.
"""

from __future__ import annotations

import io
import logging
import os
from typing import Sequence

log = logging.getLogger(__name__)

#: Families known to carry simplified Chinese, and file names they ship under.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
                "Droid Sans Fallback", "AR PL UMing CN")
CJK_FILES = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy-microhei", "wqy-zenhei", "simhei", "msyh",
             "pingfang", "droidsansfallback", "uming")

NO_FONT_NOTE = "（图表从略：服务器未安装中文字体，安装 fonts-noto-cjk 或设置 XUNCHA_CHART_FONT 后重新生成。）"


def find_cjk_font(configured: str = "") -> str | None:
    """The path of a font file with Chinese glyphs, or None."""
    if configured:
        if os.path.isfile(configured):
            return configured
        log.warning("XUNCHA_CHART_FONT=%s is not a file; searching the system fonts", configured)
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if entry.name in CJK_FAMILIES:
            return str(entry.fname)
    # The font list matplotlib cached may predate a font installed since; look at the files too.
    for path in sorted(font_manager.findSystemFonts()):
        if any(key in os.path.basename(path).lower().replace(" ", "") for key in CJK_FILES):
            return str(path)
    log.warning("no font with Chinese glyphs found; bulletins are written without charts")
    return None


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], font_path: str, *,
              horizontal: bool = False) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=font_path, size=11)
    height = max(3.0, 0.45 * len(labels) + 1.2) if horizontal else 4.0
    figure = Figure(figsize=(8, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    if horizontal:
        # Largest at the top, as people read a ranking.
        bars = axes.barh(positions, values, color="#c0392b")
        axes.set_yticks(positions, list(labels), fontproperties=font)
        axes.invert_yaxis()
    else:
        bars = axes.bar(positions, values, color="#2c6fbb")
        axes.set_xticks(positions, list(labels), fontproperties=font, rotation=30 if len(labels) > 6 else 0,
                        ha="right" if len(labels) > 6 else "center")
    axes.bar_label(bars, labels=[str(v) for v in values], fontproperties=font, padding=2)
    axes.set_title(title, fontproperties=FontProperties(fname=font_path, size=14))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
