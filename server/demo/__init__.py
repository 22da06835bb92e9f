"""Demo data built from the seed circulars: ``xuncha demo`` and ``xuncha dev`` load it.

- Campaign 安康市双创工作 (市双创办, Asia/Shanghai) with the four assessment groups of seed 000
  (区域创建组, 片区创建组, 重点任务组, 共性任务组).
- Units (``units.csv``): every name printed in seed 000's 考核结果 and in seed 002's 结果排序
  (the four tiers and the two units 暂未排序), 186 in all.
- Standard (``standard_sections.csv``, ``standard_items.csv``): a 考核细则 in the deduction model,
  full score 100, whose items are the problems seed 002 names.
- Round 2008年下半年双创目标任务检查 (明查, closed, 2008-10-23 to 10-30) with five teams and the 115
  units of seed 002 (``round_2008_assignments.csv``: round-robin over the teams in the order 002
  prints them).
- Zones (``zones.csv``): a few 门前四包 frontages, a 家属院 and a 包抓片区 in 安康 city.
- One account per role (:data:`DEMO_CREDENTIALS`).
- A fortnight of patrol work ending today, in an active round of the same teams and units
  (:func:`load_demo_work`, :mod:`server.demo.fortnight`), made once.

Unit spellings. The same body is often printed differently in the two seeds, eleven years apart
(市纪委监察局 in 2008, 市纪委监委 later; 新华书店 / 市新华书店; 市卫生局 / 市卫计局). Circulars are
matched by exact name, so the rule is:

1. Every distinct name printed in a result list of seed 000 or seed 002 is one unit, spelled
   exactly as printed (stray whitespace stripped). Two seeds printing the same string share the
   unit; two spellings of one body are two units.
2. A unit of seed 000 is in the group 000 lists it under.
3. A seed-002 spelling not printed in seed 000 names in ``same_as`` the 000 spelling of the same
   body, where the renaming or merger is clear (市卫生局 → 市卫计局, 新华书店 → 市新华书店), and takes
   that unit's group; with no clear counterpart (市乡企局, 武警支队, 化龙山管理局 ...) it goes to
   共性任务组, the group of 000's 市直 and 中省驻安 bodies.
4. Spellings found only in the running text of a seed (人行安康分行 beside the ranked 人行安康支行,
   安康武警支队 / 市武警支队, 安康消防支队, 市党史研究室) are not units; ``units.csv`` lists them as
   ``aliases`` of the ranked unit (see :func:`unit_aliases`).

Codes are ``G<group position>-<number>`` (e.g. G4-001 市审计局), written into ``units.csv`` once and
never renumbered: they are the keys imports and devices use.
"""

from server.demo.data import DEMO_CREDENTIALS, unit_aliases
from server.demo.loader import credentials_table, load_demo, load_demo_work, print_credentials

__all__ = ["DEMO_CREDENTIALS", "credentials_table", "load_demo", "load_demo_work", "print_credentials",
           "unit_aliases"]
