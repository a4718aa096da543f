"""The entries a demo contest starts with, submitted through the bot's own import rules.

Before the demo's bot starts, its empty database gets what a reading week's first three days
would have brought: some units done, most behind, two with nothing yet; every entry through
`import_submissions` (the same checks as `/提交` and `python -m bot import-submissions`), then
a verification result recorded as the bot's verifier would have found it — a title and a length,
and for a few a flag (too short, published before the contest, unreachable) — since the demo
never fetches a page. One entry is withdrawn. The reminders of the days past are recorded as
sent. Deterministic for a given contest and day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.reminders.plan import plan
from bot.reminders.store import ReminderStore, group_target
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment
from bot.storage.db import Sessions, open_storage
from bot.submissions.book import Accepted, EntryBook
from bot.submissions.import_ import SubmissionRow, import_submissions
from bot.submissions.states import Flag, VerifyStatus
from bot.units.directory import UnitDirectory, effective_quota

# How far along each unit of the shipped demo is, as a share of its quota.
DEMO_PROGRESS: Mapping[str, float] = {
    "南湖街道": 0.36,
    "新兴街道": 1.0,
    "建设街道": 0.62,
    "解放街道": 0.18,
    "七星街道": 0.0,
    "凤桥镇": 0.48,
    "余新镇": 0.1,
    "区教文体局": 0.44,
    "区卫生健康局": 1.0,
    "区财政局": 0.6,
    "区人力社保局": 1.2,
    "区市场监管局": 0.0,
}
MAX_PER_UNIT = 60
MAX_ENTRIES = 600

# (link pattern by number) in the shape each platform's posts have (bot/submissions/shapes.py).
LINKS = (
    "https://blog.sina.com.cn/s/blog_{n:016x}.html",
    "https://weibo.com/{qq}/{code}",
    "https://mp.weixin.qq.com/s/{code}Ab3xYz9Kq2Lm",
    "http://cpc.people.com.cn/n1/2027/0625/c64387-{n:08d}.html",
    "http://www.xinhuanet.com/politics/2027-06/25/c_{n:010d}.htm",
)
AUTHORS = (
    "张建华", "李桂英", "王志刚", "刘秀兰", "陈国庆", "杨淑珍", "赵德明", "黄美玲", "周建军",
    "吴晓燕", "徐长林", "孙丽华", "马振东", "朱红梅", "胡永强", "郭素芬", "沈一鸣", "钱嘉禾",
)  # fmt: skip
TITLES = (
    "重温党史感悟初心",
    "五彩南湖学习心得",
    "读《论语》有感",
    "红船精神永放光芒",
    "我身边的共产党员",
    "学习型党组织建设体会",
    "七一读书周随笔",
    "基层治理一线见闻",
    "从南湖红船到新时代",
    "社区里的老党员",
)


@dataclass(frozen=True)
class Seeded:
    entries: int
    flagged: int
    withdrawn: int


def plan_rows(
    contest: Contest, now: dt.datetime, rng: random.Random
) -> list[tuple[SubmissionRow, str]]:
    """The rows to import (with the title each post has), in submission order."""
    zone = contest.timezone
    start = contest.start.astimezone(zone).replace(tzinfo=None)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    span = max((local_now - start).total_seconds() - 600, 60.0)
    planned: list[tuple[SubmissionRow, str]] = []
    serial = 0
    for unit in contest.units:
        quota, _source = effective_quota(None, unit.quota, contest.category(unit.category))
        quota = quota or 0
        share = DEMO_PROGRESS.get(unit.name)
        if share is None:
            share = rng.choice((0.0, 0.1, 0.3, 0.5, 0.8, 1.0))
        count = min(round(quota * share), MAX_PER_UNIT)
        secretary = min(unit.secretaries) if unit.secretaries else None
        for _ in range(count):
            serial += 1
            qq = secretary or 10_000
            link = rng.choice(LINKS).format(n=7_000_000 + serial, qq=qq, code=f"Q{serial:07d}")
            moment = start + dt.timedelta(seconds=rng.uniform(0, span))
            row = SubmissionRow(
                line=serial,
                unit=unit.name,
                link=link,
                author=rng.choice(AUTHORS),
                submitter=secretary,
                time=moment.replace(microsecond=0),
            )
            planned.append((row, rng.choice(TITLES)))
    planned.sort(key=lambda item: item[0].time or local_now)
    return planned[:MAX_ENTRIES]


async def seed(deployment: Deployment, contest: Contest, now: dt.datetime) -> Seeded:
    """Fill an empty demo database (migrating it first); nothing if it already has entries."""
    storage = await open_storage(deployment.database_url)
    try:
        units = await UnitDirectory.open(storage.sessions, contest, now)
        book = EntryBook(storage.sessions, units)
        if any(p.accepted for p in await book.progress_all()):
            return Seeded(0, 0, 0)
        rng = random.Random(f"{contest.name}/{now.date()}")
        planned = plan_rows(contest, now, rng)
        rows = [row for row, _title in planned]
        report = await import_submissions(
            book, units, rows, contest, actor=None, now=now, source="演示数据"
        )
        titles = {row.line: title for row, title in planned}
        flagged = await _verify(book, report.accepted, titles, contest, now, rng)
        withdrawn = 0
        if report.accepted:
            _row, first = report.accepted[len(report.accepted) // 2]
            await book.withdraw(first.receipt, actor=None, unit_id=None, now=now)
            withdrawn = 1
        await _reminders_sent(storage.sessions, contest, now)
        return Seeded(len(report.accepted), flagged, withdrawn)
    finally:
        await storage.engine.dispose()


async def _verify(
    book: EntryBook,
    accepted: Sequence[tuple[SubmissionRow, Accepted]],
    titles: Mapping[int, str],
    contest: Contest,
    now: dt.datetime,
    rng: random.Random,
) -> int:
    """Record what the verifier would have found: a few flagged, the rest fine."""
    zone = contest.timezone
    before_start = (contest.start.astimezone(zone) - dt.timedelta(days=40)).date()
    odd = dict(zip(range(5, len(accepted), 23), _FLAG_CYCLE, strict=False))
    for index, (row, outcome) in enumerate(accepted):
        flag = odd.get(index)
        published = (row.time or now.replace(tzinfo=None)).date()
        length = rng.randint(700, 3200)
        status = VerifyStatus.OK
        if flag is Flag.SHORT:
            length = rng.randint(180, 450)
        elif flag is Flag.OUTSIDE_WINDOW:
            published = before_start
        elif flag is Flag.UNREACHABLE:
            status = VerifyStatus.UNREACHABLE
        await book.record_verification(
            outcome.receipt,
            status=status,
            title=None if status is VerifyStatus.UNREACHABLE else titles.get(row.line),
            text_length=None if status is VerifyStatus.UNREACHABLE else length,
            published_on=None if status is VerifyStatus.UNREACHABLE else published,
            flags=[flag] if flag else [],
            now=now,
        )
    return len(odd)


async def _reminders_sent(sessions: Sessions, contest: Contest, now: dt.datetime) -> None:
    """The reminders and digests of the days already past went out on time, as they would have
    in a real contest: recorded as sent, so the bot's first start does not catch one up."""
    store = ReminderStore(sessions)
    for slot in plan(contest, contest.reminders):
        if slot.due < now:
            for group in contest.groups:
                await store.record(
                    group_target(group),
                    slot.key,
                    kind=slot.kind,
                    due=slot.due,
                    now=now,
                    status="sent",
                    reason="演示数据",
                )


_FLAG_CYCLE = (Flag.SHORT, Flag.OUTSIDE_WINDOW, Flag.SHORT, Flag.UNREACHABLE, Flag.SHORT)
