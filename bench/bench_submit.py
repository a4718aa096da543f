"""Submission benchmark: /提交 and the organizer's /进度 table through the real app, over
WebSocket, with 1,000 units and 100,000 entries already stored (issue #3, Performance).

Run by hand from the repository root:

    .venv/bin/python bench/bench_submit.py             # prints the figures (about 30 s)
    .venv/bin/python bench/bench_submit.py --json      # also writes bench/results/submit.json

What it does:
1. A temporary data dir and contest.toml: one served group, the contest window around the
   real clock (the app runs with its real clock), two categories, one configured unit
   (南湖街道) with the benchmark's secretary bound to it; `[submission] verify = false` (the
   fetch runs after the reply anyway, and must not touch the internet here) and
   `[messages] burst` high (the token bucket that keeps QQ from muting the bot would otherwise
   pace the sequential round trips: this measures the bot, not its pacing).
2. `python -m bot migrate` creates the SQLite database; then 999 more units (origin
   "import", as `python -m bot import-units` would leave them) and 100,000 entries spread over
   all 1,000 units are bulk-inserted (bench/filling.py: SQLAlchemy Core, i.e. `executemany`,
   5,000 rows a statement batch), the receipt counter is set to 100,000 so new receipts
   follow on, and `ANALYZE` runs.
3. `python -m bot` starts (LOG_LEVEL=INFO, as deployed) and the fake OneBot of the e2e tests
   (bot/demo/onebot.py) connects over the reverse WebSocket.
4. Timed, each from posting the event to receiving the bot's send_group_msg that quotes it:
   - `/提交 <new link>` by the secretary, 300 times in sequence (after 20 warm-up rounds);
     every reply is checked to be a receipt. Target: p99 ≤ 50 ms.
   - `/进度` by the organizer (the table of all 1,000 units, behind first), 50 times
     (after 5 warm-up rounds). The progress query itself has a target of ≤ 100 ms
     (bench/bench_entries.py times it without the chat around it).
The fake OneBot runs in this process, so its own cost is inside every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import psutil

from bench.filling import populate
from bench.timing import percentile
from bot.demo.onebot import FakeOneBot, SentMessage
from bot.storage.db import make_engine
from tests.e2e.conftest import AppProcess, app_env, free_port, write_contest

SELF_ID = 2_000_000_001
TOKEN = "bench-token"
GROUP_ID = 700_000_001
ORGANIZER_ID = 10_000
SECRETARY_ID = 10_001
TZ = ZoneInfo("Asia/Shanghai")


def contest(now: dt.datetime) -> dict[str, Any]:
    local = now.astimezone(TZ).replace(tzinfo=None, microsecond=0)
    return {
        "contest": {
            "name": "基准大赛",
            "timezone": "Asia/Shanghai",
            "start": local - dt.timedelta(days=1),
            "deadline": local + dt.timedelta(days=7),
            "groups": [GROUP_ID],
            "organizers": [ORGANIZER_ID],
            "judges": [],
            "group_admins_are_organizers": True,
        },
        "categories": [
            {"id": "town", "name": "镇、街道", "quota": 50},
            {"id": "dept", "name": "部门、单位", "quota": 5},
        ],
        "units": [
            {"name": "南湖街道", "category": "town", "secretaries": [SECRETARY_ID]},
        ],
        "messages": {"burst": 1_000_000, "interval": 0.001},
        "submission": {"verify": False},
        "faq": {"passive": False},
    }


async def fill(db: Path, units: int, entries: int, rng: random.Random) -> float:
    """Bulk-insert `units - 1` more units and `entries` entries; seconds taken."""
    started = time.perf_counter()
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await populate(
            engine,
            units - 1,
            entries,
            rng,
            now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=12),
            first=1,
            seconds_apart=0.1,
            late=0.0,
        )
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.50), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
        "mean_ms": round(sum(samples) / len(samples), 2),
    }


async def round_trip(onebot: FakeOneBot, user_id: int, command: str) -> tuple[float, SentMessage]:
    event = onebot.group_message(GROUP_ID, user_id, command)
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    started = time.perf_counter()
    await onebot.post(event)
    answer = await onebot.wait_sent(
        group_id=GROUP_ID,
        predicate=lambda m: bool(m.segments) and m.segments[0] == quoted,
        timeout=30,
    )
    return (time.perf_counter() - started) * 1000, answer


def prepare(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, str], float]:
    """The app's environment, with its database migrated and filled; seconds the fill took."""
    data_dir = workdir / "data"
    data_dir.mkdir()
    config = workdir / "contest.toml"
    write_contest(config, contest(dt.datetime.now(TZ)), from_shipped=False)
    env = app_env(port=free_port(), data_dir=data_dir, config=config, token=TOKEN, log_level="INFO")
    migrate = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if migrate.returncode != 0:
        raise SystemExit(f"python -m bot migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    fill_seconds = asyncio.run(
        fill(data_dir / "bot.db", args.units, args.entries, random.Random(20270624))
    )
    print(
        f"database: {args.units} units, {args.entries} entries, filled in {fill_seconds:.1f} s "
        f"({(data_dir / 'bot.db').stat().st_size / 1e6:.0f} MB)"
    )
    return env, fill_seconds


async def measure(
    args: argparse.Namespace, workdir: Path, env: dict[str, str], fill_seconds: float
) -> dict[str, Any]:
    app = AppProcess(env, log_path=workdir / "app.log")
    await app.start(timeout=60)
    onebot = FakeOneBot(SELF_ID, TOKEN)
    try:
        await onebot.connect(app.ws_url)
        process = psutil.Process(app.pid)

        submit: list[float] = []
        for n in range(args.warmup + args.rounds):
            link = f"https://blog.sina.com.cn/s/blog_bench{n:06d}.html"
            took, answer = await round_trip(onebot, SECRETARY_ID, f"/提交 张三 {link}")
            if not answer.text.startswith(f"#{args.entries + n + 1} 已登记"):
                raise SystemExit(f"unexpected reply to /提交: {answer.text!r}")
            if n >= args.warmup:
                submit.append(took)
            onebot.clear()

        table: list[float] = []
        table_lines = 0
        for n in range(5 + args.table_rounds):
            took, answer = await round_trip(onebot, ORGANIZER_ID, "/进度")
            if not answer.text.startswith(f"各单位进度（未完成的在前，共 {args.units} 个单位"):
                raise SystemExit(f"unexpected reply to /进度: {answer.text[:80]!r}")
            table_lines = len(answer.text.splitlines())
            if n >= 5:
                table.append(took)
            onebot.clear()
        rss = process.memory_info().rss
    finally:
        await onebot.close()
        await app.stop()

    return {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "units": args.units,
        "entries": args.entries,
        "fill_seconds": round(fill_seconds, 1),
        "submit": summary(submit),
        "progress_table": {**summary(table), "lines": table_lines},
        "rss_mb": round(rss / 1e6),
    }


def report(results: dict[str, Any]) -> None:
    submit, table = results["submit"], results["progress_table"]
    print()
    print(f"{'round trip (ms)':<34}{'n':>5}{'p50':>9}{'p99':>9}{'max':>9}{'mean':>9}")
    for label, row in (
        ("/提交 one new link (secretary)", submit),
        (f"/进度 table of {results['units']} units", table),
    ):
        print(
            f"{label:<34}{row['n']:>5}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row['max_ms']:>9.2f}{row['mean_ms']:>9.2f}"
        )
    verdict = "met" if submit["p99_ms"] <= 50 else "MISSED"
    print(f"\n/提交 p99 target ≤ 50 ms: {verdict}")
    print(f"/进度 reply: one message of {table['lines']} lines")
    print(f"bot RSS after the run: {results['rss_mb']} MB")
    print(
        f"{results['entries']} entries stored; {results['cores']} cores, "
        f"Python {results['python']}, {results['date']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300, help="timed /提交 round trips")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--table-rounds", type=int, default=50, help="timed /进度 round trips")
    parser.add_argument("--json", action="store_true", help="write bench/results/submit.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        try:
            env, fill_seconds = prepare(args, Path(tmp))
            results = asyncio.run(measure(args, Path(tmp), env, fill_seconds))
        except BaseException:
            log = Path(tmp) / "app.log"
            if log.exists():
                print("--- tail of the app's log ---", file=sys.stderr)
                print(
                    "\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr
                )
            raise
    report(results)
    if args.json:
        out = REPO_ROOT / "bench" / "results" / "submit.json"
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
