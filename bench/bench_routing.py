"""Routing benchmark: the real app against a bare NoneBot echo bot, over the same fake OneBot.

Run by hand from the repository root (see bench/README.md):

    .venv/bin/python bench/bench_routing.py            # both bots, prints a table
    .venv/bin/python bench/bench_routing.py --json     # also writes bench/results/routing.json

Each bot runs as a subprocess (one at a time, LOG_LEVEL=WARNING) and is driven by
bot/demo/onebot.FakeOneBot over a reverse WebSocket, exactly as in the e2e tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from typing import Self

import psutil

from bench.timing import percentile
from bot.demo.onebot import FakeOneBot, HandshakeRejected, SentMessage, image, reply, text
from tests.e2e.conftest import AppProcess, AppStartError, app_env, free_port, write_contest

SELF_ID = 2_000_000_001
TOKEN = "bench-token"
GROUP_ID = 700_000_001
ORGANIZER_ID = 10_000
COMMANDER_ID = 29_999  # a plain member sends the timed commands
CHATTER_USERS = range(20_000, 20_300)

CHATTER = [
    "收到",
    "好的谢谢",
    "明天几点开会",
    "好的，我马上转发给单位同事",
    "辛苦了",
    "谢谢老师",
    "了解",
    "收到，马上落实",
    "我们单位已经在准备了",
    "今天下午有空吗",
    "哈哈哈",
    "👍",
    "大家早上好",
    "明白",
    "我这边网络有点卡",
    "群公告看到了",
    "好滴",
    "周末愉快",
    "晚上八点之前发给你",
    "嗯嗯",
    "稍等，我问一下领导",
    "OK",
    "已经转到工作群了",
    "今天天气不错",
    "材料已经发邮箱了，请查收",
    "麻烦了",
    "我们镇里有三个人报名",
    "刚才开会没看到消息",
    "这个我也不太清楚",
    "[表情]",
]


@dataclass
class Target:
    name: str
    command: list[str]
    command_text: str  # the timed command
    final_text: str  # the command that closes the chatter burst
    expect: str | None  # the reply's text must contain this (None: any reply in the group)
    contest: bool  # needs a contest.toml


def chatter_events(ob: FakeOneBot, count: int, seed: int = 2027) -> list[dict[str, Any]]:
    """Everyday group chatter from many members: mostly text, some images and quotes."""
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        user = rng.choice(CHATTER_USERS)
        words = rng.choice(CHATTER)
        roll = rng.random()
        if roll < 0.05:
            message = [image()]
        elif roll < 0.10:
            message = [reply(rng.randint(1001, 1500)), text(words)]
        else:
            message = [text(words)]
        events.append(ob.group_message(GROUP_ID, user, message, nickname=f"群友{user % 1000}"))
    return events


class RssSampler:
    """Peak resident memory of a process and its children, sampled every `interval` s."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            processes = [self.process, *self.process.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in processes))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def __enter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()


def warm_faq_cache(config: Path, data_dir: Path) -> int:
    """Put the knowledge base's passage embeddings in `data_dir`, as a bot that has run before
    has them (start-up is measured with a warm cache); the number of texts."""
    from bot.faq.knowledge import load_knowledge
    from bot.faq.semantic import CACHE_FILE, load_embedder, prepare_cache
    from bot.settings.loader import load_contest

    contest, problems = load_contest(config)
    embedder = load_embedder()
    if contest is None or embedder is None:
        raise SystemExit(f"cannot warm the FAQ cache: {problems or 'no semantic layer'}")
    entries, _ = load_knowledge(contest)
    return prepare_cache(entries, data_dir / CACHE_FILE, embedder)


async def run_target(target: Target, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / target.name / "data"
    data_dir.mkdir(parents=True)
    config = None
    if target.contest:
        config = workdir / target.name / "contest.toml"
        write_contest(
            config,
            {
                "contest": {"groups": [GROUP_ID], "organizers": [ORGANIZER_ID]},
                # No pacing: the benchmark times routing, not the anti-mute token bucket.
                "messages": {"burst": 1_000_000, "interval": 0.001},
            },
        )
        warm = warm_faq_cache(config, data_dir)
        print(f"  FAQ embedding cache warmed: {warm} texts", flush=True)
    env = app_env(
        port=free_port(),
        data_dir=data_dir,
        config=config,
        token=TOKEN,
        log_level="WARNING",
    )
    app = AppProcess(env, workdir / target.name / "bot.log", command=target.command)
    ob = FakeOneBot(SELF_ID, TOKEN)

    def is_reply(message: SentMessage) -> bool:
        return target.expect is None or target.expect in message.text

    parts = 1  # messages per reply (a long help text may be split); measured in the warm-up

    async def round_trip(content: str, timeout: float = 30.0) -> float:
        started = time.perf_counter()
        await ob.post_group_message(GROUP_ID, COMMANDER_ID, content)
        await ob.wait_sent(group_id=GROUP_ID, predicate=is_reply, timeout=timeout)
        for _ in range(parts - 1):
            await ob.wait_sent(group_id=GROUP_ID, timeout=timeout)
        return time.perf_counter() - started

    app.spawn()
    assert app.started_at is not None
    try:
        with RssSampler(app.pid) as rss:
            await app.wait_listening(args.start_timeout)
            await ob.connect(app.ws_url)
            startup = time.perf_counter() - app.started_at
            await asyncio.sleep(0.5)  # let on-connect work (login info, notices) settle
            ob.clear()

            await round_trip(target.command_text)
            await asyncio.sleep(0.5)
            parts = len(ob.sent(group_id=GROUP_ID))
            ob.clear()
            for _ in range(args.warmup):
                await round_trip(target.command_text)
            round_trips = [await round_trip(target.command_text) for _ in range(args.rounds)]

            ob.clear()
            events = chatter_events(ob, args.messages)
            started = time.perf_counter()
            await ob.post_many(events)
            posted = time.perf_counter() - started
            await ob.post_group_message(GROUP_ID, COMMANDER_ID, target.final_text)
            await ob.wait_sent(group_id=GROUP_ID, predicate=is_reply, timeout=args.burst_timeout)
            for _ in range(parts - 1):
                await ob.wait_sent(group_id=GROUP_ID, timeout=args.burst_timeout)
            burst = time.perf_counter() - started
            chatter_replies = len(ob.sent(group_id=GROUP_ID)) - parts
            rss.sample()
            peak = rss.peak
    finally:
        await ob.close()
        await app.stop()

    return {
        "command": shlex.join(target.command),
        "startup_s": startup,
        "burst_s": burst,
        "burst_post_s": posted,
        "chatter_replies": chatter_replies,
        "reply_parts": parts,
        "rtt_p50_ms": statistics.median(round_trips) * 1000,
        "rtt_p99_ms": percentile(round_trips, 0.99) * 1000,
        "rtt_max_ms": max(round_trips) * 1000,
        "peak_rss_mib": peak / 2**20,
    }


def print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    bare, app = results.get("bare"), results.get("app")
    rows = [
        ("start-up to connected (s)", "startup_s", "{:.2f}", None),
        (f"chatter burst, {args.messages} msgs (s)", "burst_s", "{:.2f}", "≤ 1.25× bare"),
        ("  of which posting (s)", "burst_post_s", "{:.2f}", None),
        ("  replies to chatter", "chatter_replies", "{:d}", "0"),
        (f"command round trip p50, n={args.rounds} (ms)", "rtt_p50_ms", "{:.1f}", None),
        ("command round trip p99 (ms)", "rtt_p99_ms", "{:.1f}", "≤ 10 ms (app)"),
        ("command round trip max (ms)", "rtt_max_ms", "{:.1f}", None),
        ("peak RSS (MiB)", "peak_rss_mib", "{:.0f}", None),
    ]

    def cell(result: Any, key: str, fmt: str) -> str:
        if not isinstance(result, dict) or key not in result:
            return "-"
        return fmt.format(result[key])

    print(f"\n{'figure':<40} {'bare':>9} {'app':>9} {'app/bare':>9}  target")
    for label, key, fmt, target in rows:
        ratio = "-"
        if isinstance(bare, dict) and isinstance(app, dict) and key in app and bare.get(key):
            ratio = f"{app[key] / bare[key]:.2f}×"
        print(
            f"{label:<40} {cell(bare, key, fmt):>9} {cell(app, key, fmt):>9} {ratio:>9}"
            f"  {target or ''}"
        )
    for name in ("bare", "app"):
        if isinstance(results.get(name), str):
            print(f"\n{name}: skipped: {results[name]}")
    print(f"\n{os.cpu_count()} cores, Python {platform.python_version()}, {results['date']}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the app against a bare NoneBot echo bot over a fake OneBot v11."
    )
    parser.add_argument("--app-cmd", default=f"{shlex.quote(sys.executable)} -m bot")
    parser.add_argument("--help-cmd", default="/帮助", help="the app command to time")
    parser.add_argument(
        "--app-expect", default=None, help="text the app's help reply contains (default: any)"
    )
    parser.add_argument(
        "--bare-cmd", default=f"{shlex.quote(sys.executable)} {REPO_ROOT / 'bench' / 'echo_bot.py'}"
    )
    parser.add_argument("--only", choices=("bare", "app"))
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument("--burst-timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="write bench/results/routing.json")
    parser.add_argument(
        "--pairs",
        type=int,
        default=1,
        help="run bare and app alternately this many times; report every ratio and the median",
    )
    return parser.parse_args()


async def main() -> None:
    args = parse_args()
    targets = []
    if args.only in (None, "bare"):
        targets.append(
            Target("bare", shlex.split(args.bare_cmd), "/echo x", "/echo done", None, False)
        )
    if args.only in (None, "app"):
        targets.append(
            Target(
                "app",
                shlex.split(args.app_cmd),
                args.help_cmd,
                args.help_cmd,
                args.app_expect,
                True,
            )
        )
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "messages": args.messages,
        "rounds": args.rounds,
    }
    ratios: list[float] = []
    for pair in range(args.pairs):
        if args.pairs > 1:
            print(f"pair {pair + 1} of {args.pairs}", flush=True)
        await run_pair(targets, args, results)
        bare, app = results.get("bare"), results.get("app")
        if isinstance(bare, dict) and isinstance(app, dict):
            ratios.append(app["burst_s"] / bare["burst_s"])
            results["burst_ratio"] = ratios[-1]
        if args.pairs > 1 or pair == args.pairs - 1:
            print_table(results, args)
    if len(ratios) > 1:
        shown = ", ".join(f"{r:.2f}×" for r in ratios)
        print(f"\nchatter ratio app/bare over {len(ratios)} alternating pairs: {shown}")
        print(f"median {statistics.median(ratios):.2f}×")
        results["burst_ratios"] = ratios
    if args.json:
        out = REPO_ROOT / "bench" / "results" / "routing.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(REPO_ROOT)}")


async def run_pair(
    targets: list[Target], args: argparse.Namespace, results: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        for target in targets:
            if target.name == "app" and not (REPO_ROOT / "bot" / "__main__.py").exists():
                results["app"] = "bot/__main__.py does not exist yet (`python -m bot` not runnable)"
                continue
            print(f"running {target.name}: {shlex.join(target.command)} …", flush=True)
            try:
                results[target.name] = await run_target(target, args, Path(tmp))
            except (
                AppStartError,
                HandshakeRejected,
                AssertionError,
                TimeoutError,
                OSError,
            ) as error:
                log = Path(tmp) / target.name / "bot.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                first_line = str(error).splitlines()[0] if str(error) else ""
                results[target.name] = f"{type(error).__name__}: {first_line} (log above)"
                print(f"{target.name} failed; its log ends:\n{tail}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
