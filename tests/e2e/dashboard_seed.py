"""Realistic contest data written straight into a database, for the dashboard's tests.

Units are named like Nanhu's (towns, streets, villages, schools, bureaus); entries are spread
over the days since the contest opened, a third of the units behind, a few entries withdrawn,
late or flagged, a few scored by judges. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.dashboard.store import EntryScore
from bot.names import name_key
from bot.storage.db import make_engine, migrate
from bot.submissions.models import Entry
from bot.units.models import Unit

TOWNS = (
    "南湖",
    "新兴",
    "建设",
    "解放",
    "新嘉",
    "东栅",
    "城南",
    "长水",
    "七星",
    "大桥",
    "凤桥",
    "余新",
)
KINDS = ("街道", "社区", "村", "镇")
DEPARTMENTS = (
    "区教文体局",
    "区公安分局",
    "嘉兴科技城",
    "区卫健局",
    "区财政局",
    "区民政局",
    "区人社局",
    "区住建局",
    "区农业农村局",
    "区市场监管局",
    "区统计局",
    "区司法局",
)
# (platform, name, kind, post link by receipt): each in the shape its platform's posts have
# (bot/submissions/shapes.py), so no seeded entry is flagged for its link.
PLATFORMS = (
    ("blog.sina.com.cn", "新浪博客", "blog", "blog.sina.com.cn/s/blog_{n:016x}.html"),
    ("weibo.com", "新浪微博", "microblog", "m.weibo.cn/status/{n:016d}"),
    ("qq.com", "腾讯", "microblog", "user.qzone.qq.com/{qq}/blog/{n:010d}"),
    ("people.com.cn", "人民网", "article", "cpc.people.com.cn/n1/2027/0625/c64387-{n:08d}.html"),
    ("xinhuanet.com", "新华网", "article", "xinhuanet.com/politics/2027-06/25/c_{n:010d}.htm"),
)
TITLES = (
    "重温党史感悟初心",
    "五彩南湖学习心得",
    "读《论语》有感",
    "红船精神永放光芒",
    "我身边的共产党员",
    "学习型党组织建设体会",
    "七一读书周随笔",
    "基层治理一线见闻",
)


@dataclass(frozen=True)
class Seeded:
    units: list[str]
    entries: int


async def seed(
    url: str,
    *,
    units: int,
    entries: int,
    opened: dt.datetime,
    now: dt.datetime,
    judges: tuple[int, ...] = (),
    seed_value: int = 20270701,
) -> Seeded:
    """Migrate the database at `url` and fill it; entries submitted between `opened` and `now`."""
    rng = random.Random(seed_value)
    engine = make_engine(url)
    try:
        await migrate(engine)
        names = _unit_names(units)
        rows = [
            {
                "name": name,
                "name_key": name_key(name),
                "category": "dept" if name.startswith("区") or "局" in name else "town",
                "aliases": [],
                "origin": "import",
                "created_at": opened,
                "updated_at": opened,
            }
            for name in names
        ]
        async with engine.begin() as conn:
            await conn.execute(sa.insert(Unit), rows)
            ids = [r[0] for r in (await conn.execute(sa.select(col(Unit.id)))).all()]
        weights = [0.15 if i % 3 == 0 else 1.0 + (i % 5) for i in range(len(ids))]
        owners = rng.choices(ids, weights=weights, k=entries)
        span = max(1.0, (now - opened).total_seconds())
        # More submissions as the deadline nears: squares skew times towards `now`.
        times = sorted(opened + dt.timedelta(seconds=span * rng.random() ** 0.6) for _ in owners)
        batch = []
        for receipt, (owner, at) in enumerate(zip(owners, times, strict=True), start=1):
            host, platform_name, kind, shape = rng.choice(PLATFORMS)
            flagged = rng.random() < 0.06
            withdrawn = rng.random() < 0.03
            link = shape.format(n=receipt, qq=30000 + owner)
            batch.append(
                {
                    "receipt": receipt,
                    "url": f"https://{link}",
                    "given_url": link,
                    "platform": host,
                    "platform_name": platform_name,
                    "kind": kind,
                    "unit_id": owner,
                    "author": rng.choice("张王李赵陈刘杨黄周吴")
                    + rng.choice("伟芳娜敏静丽强磊军洋"),
                    "submitted_by": 30000 + owner,
                    "submitted_at": at,
                    "late": False,
                    "status": "withdrawn" if withdrawn else "accepted",
                    "withdrawn_by": 10000 if withdrawn else None,
                    "withdrawn_at": at if withdrawn else None,
                    "verify_status": "ok",
                    "title": f"{rng.choice(TITLES)}（{receipt}）",
                    "text_length": rng.randint(300, 599) if flagged else rng.randint(600, 3000),
                    "flags": ["short"] if flagged else [],
                    "flagged": flagged,
                }
            )
            if len(batch) == 5_000:
                await _insert(engine, batch)
                batch = []
        if batch:
            await _insert(engine, batch)
        scores = [
            {
                "receipt": receipt,
                "judge_id": judge,
                "quality": rng.randint(5, 10),
                "comment": None,
                "updated_at": now,
            }
            for judge in judges
            for receipt in range(1, min(entries, 40) + 1, 3)
        ]
        async with engine.begin() as conn:
            if scores:
                await conn.execute(sa.insert(EntryScore), scores)
            await conn.execute(sa.text("UPDATE receipt_counter SET value = :v"), {"v": entries})
        return Seeded(names, entries)
    finally:
        await engine.dispose()


async def _insert(engine: AsyncEngine, rows: list[dict[str, object]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(Entry), rows)


def _unit_names(count: int) -> list[str]:
    names = list(DEPARTMENTS)
    for town in TOWNS:
        for kind in KINDS:
            names.append(f"{town}{kind}")
    n = 1
    while len(names) < count:
        names.append(f"{TOWNS[n % len(TOWNS)]}第{n}社区")
        n += 1
    return names[:count]
