"""What a published version of the results becomes: award lists, certificates, an announcement.

- `award_workbook`: XLSX with 个人奖, 单位奖, 单位汇总 (a row per unit for the yearly assessment:
  entries against quota, mean score, individual awards by tier, its unit award) and 全部作品
  (every judged entry with its total and the line explaining it);
- `certificates`: one row per award for mail merge (证书编号, 姓名, 单位, 奖项, 大赛, 日期), in
  a fixed order, with numbers that stay the same for the same version;
- `announcement`: a short message for the group (counts, the units awarded, where to look).

Cells are written as the exports write them (`sheet_cells`): a name that starts like a formula
(= + - @) stays text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from bot.judging.results import Published, ResultSet
from bot.settings.contest import Contest
from bot.submissions.export import sheet_cells


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _sheet(
    workbook: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(sheet_cells(sheet, row))
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2, *(len(str(r[index - 1] or "")) * 2 for r in rows[:200])])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)


def _awards_in_order(contest: Contest) -> list[str]:
    return [t.name for t in contest.judging.tiers]


def award_workbook(published: Published, contest: Contest, path: Path) -> Path:
    """Write the award lists of `published` to `path` (written aside, then moved into place)."""
    result = published.results
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    _sheet(
        workbook,
        "个人奖",
        ("名次", "奖项", "单位", "作者", "得分", "作品编号"),
        [
            (p.rank, p.award, p.unit, p.author, p.score, "、".join(f"#{r}" for r in p.entries))
            for p in result.winners
        ],
    )
    _sheet(
        workbook,
        "单位奖",
        ("名次", "奖项", "单位", "完成率", "作品平均分", "评审作品数"),
        [
            (u.rank, u.award, u.unit, _percent(u.completion), u.mean, u.judged)
            for u in result.awarded_units
        ],
    )
    tiers = _awards_in_order(contest)
    by_unit: dict[str, dict[str, int]] = {}
    for p in result.winners:
        assert p.award is not None
        counts = by_unit.setdefault(p.unit, {})
        counts[p.award] = counts.get(p.award, 0) + 1
    _sheet(
        workbook,
        "单位汇总",
        ("单位", "已推荐", "配额", "完成率", "评审作品数", "作品平均分", *tiers, "单位奖项"),
        [
            (
                u.unit,
                u.accepted,
                u.quota,
                _percent(u.completion),
                u.judged,
                u.mean,
                *(by_unit.get(u.unit, {}).get(t, 0) for t in tiers),
                u.award or "",
            )
            for u in sorted(result.units, key=lambda u: u.unit)
        ],
    )
    _sheet(
        workbook,
        "全部作品",
        ("编号", "单位", "作者", "标题", "链接", "综合", "得分说明"),
        [(e.receipt, e.unit, e.author, e.title, e.url, e.total, e.line) for e in result.entries],
    )
    info = workbook.create_sheet("说明")
    info.append(["大赛", contest.name])
    info.append(["版本", f"第 {published.version} 版"])
    info.append(["发布时间", f"{contest.local(published.published_at):%Y-%m-%d %H:%M}"])
    info.append(["计算方法", result.formula])
    return _save(workbook, path)


@dataclass(frozen=True)
class Certificate:
    number: str
    name: str
    unit: str
    award: str


def certificates(published: Published, contest: Contest) -> list[Certificate]:
    """One certificate per individual award, then per unit award; numbered in that order:
    "2027-1-0003" = the contest's year, the award's place among the tiers, a running number."""
    year = contest.local(contest.deadline).year
    tiers = _awards_in_order(contest)
    unit_awards = [a.name for a in contest.judging.unit_awards]
    found: list[Certificate] = []
    serial = 0
    for index, tier in enumerate(tiers, start=1):
        for person in (p for p in published.results.winners if p.award == tier):
            serial += 1
            found.append(
                Certificate(f"{year}-{index}-{serial:04d}", person.author, person.unit, tier)
            )
    for offset, award in enumerate(unit_awards, start=len(tiers) + 1):
        for unit in (u for u in published.results.awarded_units if u.award == award):
            serial += 1
            found.append(Certificate(f"{year}-{offset}-{serial:04d}", unit.unit, unit.unit, award))
    return found


def certificate_workbook(published: Published, contest: Contest, path: Path) -> Path:
    issued = f"{contest.local(published.published_at):%Y年%m月%d日}"
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    _sheet(
        workbook,
        "证书",
        ("证书编号", "姓名", "单位", "奖项", "大赛", "日期"),
        [
            (c.number, c.name, c.unit, c.award, contest.name, issued)
            for c in certificates(published, contest)
        ],
    )
    return _save(workbook, path)


def _save(workbook: Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        temporary = Path(handle.name)
    try:
        workbook.save(temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def announcement(published: Published, contest: Contest, link: str | None) -> str:
    """The message to the group when a version is published."""
    result: ResultSet = published.results
    counts = result.award_counts()
    lines = [f"【{contest.name}】评审结果已发布（第 {published.version} 版）。"]
    lines.append(f"共评审作品 {result.judged} 篇。")
    individual = [
        f"{t.name} {counts[t.name]} 人" for t in contest.judging.tiers if counts.get(t.name)
    ]
    if individual:
        lines.append("个人奖：" + "、".join(individual) + "。")
    for award in contest.judging.unit_awards:
        units = [u.unit for u in result.awarded_units if u.award == award.name]
        if units:
            shown = "、".join(units[:10]) + (f" 等 {len(units)} 个单位" if len(units) > 10 else "")
            lines.append(f"{award.name}：{shown}。")
    if link:
        lines.append(f"获奖名单详见：{link}")
    lines.append("感谢各单位的组织和各位党员的参与！")
    return "\n".join(lines)


def stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%d-%H%M%S}"


def result_files(published: Published, contest: Contest, data_dir: Path) -> tuple[Path, Path]:
    """The award lists and the certificates of a version, in the data dir's exports folder
    (written once per version: a published version never changes)."""
    folder = data_dir / "exports"
    when = stamp(contest.local(published.published_at))
    awards_path = folder / f"获奖名单-第{published.version}版-{when}.xlsx"
    certificates_path = folder / f"证书-第{published.version}版-{when}.xlsx"
    if not awards_path.exists():
        award_workbook(published, contest, awards_path)
    if not certificates_path.exists():
        certificate_workbook(published, contest, certificates_path)
    return awards_path, certificates_path
