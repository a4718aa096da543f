"""Scale benchmark (issue 15, part 5, as far as one contest goes): three bot processes, each
with its own QQ account, 100 served groups, on one PostgreSQL database holding 1,000 units and
1,000,000 entries.

Run by hand from the repository root (needs a PostgreSQL server it may create databases on):

    .venv/bin/python bench/bench_scale.py --url postgresql+asyncpg://postgres@127.0.0.1:5439/postgres
    .venv/bin/python bench/bench_scale.py --url … --entries 200000     # a quicker run

What it does:
1. A fresh database on the server; `python -m bot migrate`; 999 more units and the entries,
   bulk-inserted (bench/filling.py), spread over all 1,000 units; ANALYZE.
2. Three `python -m bot` processes on that database (LOG_LEVEL=INFO), one fake OneBot account
   each (bot/demo/onebot.py over the reverse WebSocket). Account A is in groups 0–49 and 99,
   B in 50–99, C (the standby) in all 100. Every group event is delivered to every account in
   the group, as QQ does; the serving account answers (A in 0–49, B in 50–98).
3. Timed, from posting the event to the first reply quoting it:
   - `/提交 <new link>` by a secretary in group 0, `--rounds` times (after 20 warm-up rounds);
     target p99 ≤ 50 ms;
   - `/进度` by the organizer (the table of all 1,000 units), `--table-rounds` times; target
     ≤ 100 ms;
   - coherence: an organizer binds a new secretary through A (group 0); the time until that
     secretary's `/提交` in group 50 — answered by B's process — is accepted, `--binds` times;
     target p99 ≤ 2 s.
The fakes run in this process, so their own cost is inside every figure. Building one reminder
for 1,000 units at this size is bench/bench_reminders.py (`--url … --entries 1000000`).
With `--contests 20`: twenty contests in the deployment (config/contests/c01.toml …), each
with `--units` units (20,000 in all) in its own schema, the entries shared out among them, the
100 groups dealt out so that groups n and n + 50 share a contest; the probes run in the first
contest. Last, the 全省 page over HTTP as a province viewer (PROVINCE_VIEWERS) sees it, after
signing in through /后台: target ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


from bench.bench_submit import ORGANIZER_ID, SECRETARY_ID, TOKEN, contest, summary
from bench.filling import database, populate
from bench.timing import percentile
from bot.demo.onebot import FakeOneBot, SentMessage
from bot.settings.contests import schema_of
from bot.storage.db import make_engine, open_storage
from tests.e2e.conftest import AppProcess, app_env, free_port, write_contest

GROUPS = [800_000_000 + n for n in range(100)]
ACCOUNTS = {
    2_000_000_001: GROUPS[:50] + GROUPS[99:],
    2_000_000_002: GROUPS[50:],
    2_000_000_003: GROUPS,
}
NEW_SECRETARIES = 3_900_000_000


PROVINCE_ID = 60_000


def contest_of(index: int, contests: int) -> int:
    """Which contest serves group GROUPS[index]: groups n and n + 50 are always in the same
    contest (A serves one, B the other: the coherence probe goes from 0 to 50)."""
    return (index % 50) % contests


def contest_id(k: int) -> str:
    return f"c{k:02d}"


def scale_contest(contests: int = 1, k: int = 0) -> dict[str, Any]:
    config = contest(dt.datetime.now(dt.UTC))
    config["contest"]["groups"] = [g for i, g in enumerate(GROUPS) if contest_of(i, contests) == k]
    if k:
        config["contest"]["name"] = f"基准大赛{k:02d}"
        config["units"] = []
    return config


async def fill(url: str, units: int, entries: int, contests: int = 1) -> float:
    """The first contest (already migrated): `units` − 1 more units, `entries` / `contests`
    entries; every other contest: its schema migrated, `units` units, as many entries."""
    started = time.perf_counter()
    share = entries // contests
    for k in range(contests):
        if k:
            storage = await open_storage(url, schema_of(contest_id(k)))
            engine = storage.engine
        else:
            engine = make_engine(url)
        try:
            await populate(
                engine,
                units - (0 if k else 1),
                share,
                random.Random(20270624 + k),
                now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=12),
                first=0 if k else 1,
                seconds_apart=0.01,
                late=0.0,
                secretaries=bool(k),
            )
        finally:
            await engine.dispose()
    return time.perf_counter() - started


def _quotes(message_id: int) -> Callable[[SentMessage], bool]:
    quote = {"type": "reply", "data": {"id": str(message_id)}}
    return lambda m: bool(m.segments) and m.segments[0] == quote


def _table(_message_id: int) -> Callable[[SentMessage], bool]:
    # A long table comes as a merged-forward card, which cannot quote.
    return lambda m: any("各单位进度" in t for t in [m.text, *m.node_texts])


async def round_trip(
    accounts: list[FakeOneBot],
    group: int,
    user_id: int,
    text: str,
    answer: Callable[[int], Callable[[SentMessage], bool]] = _quotes,
) -> tuple[float, SentMessage]:
    """Post one group message to every account in the group, as QQ delivers it; the time
    until the serving account (the first of them: A in 0–49, B in 50–98) answers."""
    members = [a for a in accounts if group in a.groups]
    event = members[0].group_message(group, user_id, text)
    copies = []
    for account in members:
        copy = {**event, "self_id": account.self_id}
        copy["message_id"] = copy["real_id"] = copy["message_seq"] = account.next_message_id()
        copies.append((account, copy))
    serving, first = copies[0]
    started = time.perf_counter()
    for account, copy in copies:
        await account.post(copy)
    reply = await serving.wait_sent(
        group_id=group, predicate=answer(first["message_id"]), timeout=30
    )
    took = (time.perf_counter() - started) * 1000
    for account, _copy in copies:
        account.clear()
    return took, reply


async def _idle(apps: list[AppProcess], timeout: float = 120) -> None:
    """Until every process has finished its start-up work (the FAQ's semantic layer is built in
    the background, seconds of CPU each): the figures are for a bot at work, not starting."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        logs = [app.log() for app in apps]
        if all("in the background" not in log or "semantic layer ready" in log for log in logs):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)


async def measure(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    config = workdir / "contest.toml"
    write_contest(config, scale_contest(args.contests), from_shipped=False)
    if args.contests > 1:
        (workdir / "contests").mkdir()
        for k in range(1, args.contests):
            path = workdir / "contests" / f"{contest_id(k)}.toml"
            write_contest(path, scale_contest(args.contests, k), from_shipped=False)
    apps = []
    for n in range(3):
        data_dir = workdir / f"data-{n}"
        data_dir.mkdir()
        env = app_env(
            port=free_port(),
            data_dir=data_dir,
            config=config,
            token=TOKEN,
            log_level="INFO",
            extra={
                "DATABASE_URL": url,
                "PROVINCE_VIEWERS": f'["{PROVINCE_ID}"]',
                **dict(pair.split("=", 1) for pair in args.app_env),
            },
        )
        apps.append(AppProcess(env, log_path=workdir / f"app-{n}.log"))
    migrated = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "migrate"],
        cwd=REPO_ROOT,
        env=apps[0].env,
        capture_output=True,
        check=False,
    )
    if migrated.returncode:
        raise SystemExit(f"python -m bot migrate failed:\n{migrated.stdout}{migrated.stderr}")
    fill_seconds = await fill(url, args.units, args.entries, args.contests)
    print(
        f"database: {args.contests} contest(s) of {args.units} units, {args.entries} entries "
        f"in all, filled in {fill_seconds:.0f} s"
    )
    accounts: list[FakeOneBot] = []
    try:
        for app in apps:
            await app.start(timeout=300)
        for (self_id, groups), app in zip(ACCOUNTS.items(), apps, strict=True):
            account = FakeOneBot(self_id, TOKEN)
            for group in groups:
                account.groups[group] = f"大赛群{group}"
            await account.connect(app.ws_url, timeout=60)
            accounts.append(account)
            await asyncio.sleep(1.5)  # connected in this order: A serves first, then B
        await _idle(apps)
        submit: list[float] = []
        for n in range(args.warmup + args.rounds):
            link = f"https://blog.sina.com.cn/s/blog_scale{n:06d}.html"
            took, answer = await round_trip(accounts, GROUPS[0], SECRETARY_ID, f"/提交 张三 {link}")
            if "已登记" not in answer.text:
                raise SystemExit(f"unexpected reply to /提交: {answer.text!r}")
            if n >= args.warmup:
                submit.append(took)
        table: list[float] = []
        for n in range(3 + args.table_rounds):
            # QQ stamps messages to the second, and two accounts' copies of one message are told
            # apart from a double tap only by that: one /进度 a second, as a person would.
            await asyncio.sleep(1.0)
            took, answer = await round_trip(accounts, GROUPS[0], ORGANIZER_ID, "/进度", _table)
            if not any("各单位进度" in t for t in [answer.text, *answer.node_texts]):
                raise SystemExit(f"unexpected reply to /进度: {answer.text[:80]!r}")
            if n >= 3:
                table.append(took)
        visible: list[float] = []
        for n in range(args.binds):
            secretary = NEW_SECRETARIES + n
            unit = f"单位{n + 1:04d}"
            _took, bound = await round_trip(
                accounts, GROUPS[0], ORGANIZER_ID, f"/单位 绑定 {unit} {secretary}"
            )
            if "绑定" not in bound.text:
                raise SystemExit(f"unexpected reply to /单位 绑定: {bound.text!r}")
            began = time.perf_counter()
            for attempt in range(200):
                link = f"https://blog.sina.com.cn/s/blog_bind{n:03d}{attempt:03d}.html"
                _t, answer = await round_trip(accounts, GROUPS[50], secretary, f"/提交 李四 {link}")
                if "已登记" in answer.text:
                    break
            else:
                raise SystemExit("a binding never became visible to B's process")
            visible.append((time.perf_counter() - began) * 1000)
        province = await _province_page(accounts[0], apps[0], args.table_rounds)
    finally:
        for account in accounts:
            await account.close()
        for app in apps:
            await app.stop()
    return {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "processes": len(apps),
        "groups": len(GROUPS),
        "units": args.units,
        "entries": args.entries,
        "fill_seconds": round(fill_seconds),
        "submit": summary(submit),
        "progress_table": summary(table),
        "coherence": {
            "n": len(visible),
            "p50_ms": round(percentile(visible, 0.5), 1),
            "p99_ms": round(percentile(visible, 0.99), 1),
            "max_ms": round(max(visible), 1),
        },
        "contests": args.contests,
        "province": summary(province),
    }


async def _province_page(account: FakeOneBot, app: AppProcess, rounds: int) -> list[float]:
    """The 全省 page over HTTP, as a province viewer signed in through /后台 sees it."""
    await account.post(account.private_message(PROVINCE_ID, "/后台"))
    reply = await account.wait_sent(user_id=PROVINCE_ID, timeout=30)
    found = re.search(r"https?://\S+/dashboard/login\?t=[\w-]+", reply.text)
    if found is None:
        raise SystemExit(f"no sign-in link for the province viewer: {reply.text!r}")
    link = found.group(0)
    base = f"http://{app.host}:{app.port}"
    took: list[float] = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        token = link.partition("?t=")[2]
        async with client.post(f"{base}/dashboard/login", data={"t": token}) as signed:
            if signed.status != 200:
                raise SystemExit(f"province sign-in failed: {signed.status}")
        for n in range(3 + rounds):
            began = time.perf_counter()
            async with client.get(f"{base}/dashboard/province") as page:
                text = await page.text()
            if page.status != 200 or "全省总览" not in text:
                raise SystemExit(f"the province page failed: {page.status}")
            if n >= 3:
                took.append((time.perf_counter() - began) * 1000)
    return took


def report(results: dict[str, Any]) -> None:
    print()
    print(f"{'round trip (ms)':<40}{'n':>5}{'p50':>10}{'p99':>10}{'max':>10}  target")
    rows = (
        ("/提交 one new link", results["submit"], "p99 ≤ 50"),
        (f"/进度 table of {results['units']} units", results["progress_table"], "≤ 100"),
        ("binding via A visible to B", results["coherence"], "p99 ≤ 2000"),
        (f"全省 page, {results['contests']} contest(s)", results["province"], "≤ 500"),
    )
    for label, row, target in rows:
        print(
            f"{label:<40}{row['n']:>5}{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}"
            f"{row['max_ms']:>10.1f}  {target}"
        )
    print(
        f"{results['processes']} processes, {results['groups']} groups, {results['entries']} "
        f"entries on PostgreSQL; {results['cores']} cores, Python {results['python']}, "
        f"{results['date']}"
    )


def _print_logs(workdir: Path) -> None:
    for log in sorted(workdir.glob("app-*.log")):
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print(f"--- {log.name} ---", *tail, sep="\n", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--table-rounds", type=int, default=30)
    parser.add_argument("--binds", type=int, default=20)
    parser.add_argument(
        "--contests", type=int, default=1, help="contests in the deployment (each --units units)"
    )
    parser.add_argument("--json", action="store_true", help="write bench/results/scale.json")
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another .env setting for the three bots (e.g. REMINDERS_HEARTBEAT=60)",
    )
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("需要 PostgreSQL：--url postgresql+asyncpg://…（或 TEST_POSTGRES_URL）")

    async def run() -> dict[str, Any]:
        async with database(args.url, "bench_scale") as url:
            with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
                try:
                    return await measure(args, url, Path(tmp))
                except BaseException:
                    _print_logs(Path(tmp))
                    raise

    results = asyncio.run(run())
    report(results)
    if args.json:
        out = REPO_ROOT / "bench" / "results" / "scale.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
