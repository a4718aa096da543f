"""Verification benchmark: 500 links over 50 hosts of a slow local server.

Run by hand from the repository root:

    .venv/bin/python bench/bench_verify.py                    # the issue's scenario
    .venv/bin/python bench/bench_verify.py --concurrency 100  # what the politeness bound allows

A local aiohttp server (its own process, so that the RSS measured is the verifier's) answers
every request after 300 ms with a ~5 KB Chinese page. It is reachable under 50 host names
(host-00.bench … host-49.bench, mapped to 127.0.0.1 by a resolver the benchmark passes to
`Verifier`; the policy allows private addresses, as in the tests) and counts the requests in
flight per Host header. The verifier checks 500 links spread round-robin over the hosts with
`per_host=2` (`--order grouped` puts each host's links together instead).
Target (issue #3): done in ≤ 15 s, memory bounded.

Printed: total time, pages/s, statuses, the most requests in flight per host and overall as
the server saw them, the event loop's worst lag while verifying (a blocked loop shows here),
and the verifier process's RSS before and at its peak (psutil, sampled every 10 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import socket
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import aiohttp
import psutil
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from loguru import logger

from bot.settings.contest import SubmissionPolicy
from bot.submissions.verify.fetch import Verifier

STATS_HOST = "stats.bench"
DELAY = 0.3
PARAGRAPH = (
    "学习贯彻党的创新理论，要坚持学思用贯通、知信行统一。我们社区组织党员干部开展读书活动，"
    "结合基层治理实际，撰写学习心得，交流工作体会，推动各项任务落地见效。"
)


def page_html(n: int) -> bytes:
    body = "".join(f"<p>{PARAGRAPH}</p>\n" for _ in range(20))
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>学习心得第{n}篇_新浪博客</title></head><body><nav>首页 博文目录</nav>"
        f"<div class='articalContent'><span class='time'>(2027-06-25 10:12:33)</span>{body}"
        "</div><footer>版权所有</footer></body></html>"
    )
    return html.encode()


def serve(conn: Connection) -> None:
    """The server process: reports its port through `conn`, runs until killed."""
    active: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    state = {"in_flight": 0, "peak_total": 0, "requests": 0}
    body = page_html(0)

    async def handle(request: web.Request) -> web.Response:
        host = request.host.rsplit(":", 1)[0]
        if host == STATS_HOST:
            return web.json_response(
                {"peak_per_host": dict(peak), "requests": state["requests"], **state}
            )
        state["requests"] += 1
        active[host] += 1
        state["in_flight"] += 1
        peak[host] = max(peak[host], active[host])
        state["peak_total"] = max(state["peak_total"], state["in_flight"])
        try:
            await asyncio.sleep(DELAY)
            return web.Response(body=body, content_type="text/html")
        finally:
            active[host] -= 1
            state["in_flight"] -= 1

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class BenchResolver(AbstractResolver):
    """Every name ending in .bench is 127.0.0.1."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.rstrip(".")
        if not name.endswith(".bench"):
            raise OSError(f"unknown host {name}")
        return [
            ResolveResult(
                hostname=name,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass


async def sample_rss(peak: list[int], stop: asyncio.Event) -> None:
    process = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        await asyncio.sleep(0.01)


async def watch_lag(worst: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], loop.time() - before - 0.005)


async def run(args: argparse.Namespace, port: int) -> dict[str, object]:
    hosts = [f"host-{i:02d}.bench" for i in range(args.hosts)]
    if args.order == "grouped":  # all of one host's links together: no slot may idle behind them
        urls = [
            f"http://{hosts[i * args.hosts // args.links]}:{port}/s/blog_{i:04d}.html"
            for i in range(args.links)
        ]
    else:
        urls = [
            f"http://{hosts[i % args.hosts]}:{port}/s/blog_{i:04d}.html" for i in range(args.links)
        ]
    policy = SubmissionPolicy(verify_allow_private=True, verify_timeout=10.0)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    peak_rss = [rss_before]
    worst_lag = [0.0]
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(sample_rss(peak_rss, stop)),
        asyncio.create_task(watch_lag(worst_lag, stop)),
    ]
    async with Verifier(
        policy, concurrency=args.concurrency, per_host=args.per_host, resolver=BenchResolver()
    ) as verifier:
        started = time.perf_counter()
        results = await verifier.fetch_many(urls)
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*watchers)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/", headers={"Host": STATS_HOST}) as response,
    ):
        stats = await response.json()
    statuses = Counter(f.status for f in results.values())
    lengths = Counter(f.text_length for f in results.values())
    return {
        "links": args.links,
        "hosts": args.hosts,
        "per_host": args.per_host,
        "concurrency": args.concurrency,
        "server_delay_s": DELAY,
        "page_bytes": len(page_html(0)),
        "total_s": round(elapsed, 3),
        "pages_per_s": round(args.links / elapsed, 1),
        "statuses": dict(statuses),
        "text_lengths": {str(k): v for k, v in lengths.items()},
        "server_requests": stats["requests"],
        "max_in_flight_per_host": max(stats["peak_per_host"].values()),
        "max_in_flight_total": stats["peak_total"],
        "worst_loop_lag_ms": round(worst_lag[0] * 1000, 1),
        "rss_before_mb": round(rss_before / 2**20, 1),
        "peak_rss_mb": round(peak_rss[0] / 2**20, 1),
        "target_total_s": 15.0,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": dt.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Verification benchmark: 500 links over 50 hosts of a slow local server."
    )
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--order", choices=("round-robin", "grouped"), default="round-robin")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    logger.remove()

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(sender,), daemon=True)
    server.start()
    try:
        if not receiver.poll(10):
            raise SystemExit("the bench server did not start")
        port = receiver.recv()
        figures = asyncio.run(run(args, port))
    finally:
        server.kill()
        server.join()

    print(f"verify: {figures['links']} links over {figures['hosts']} hosts, server answers after")
    print(f"  {DELAY * 1000:.0f} ms with a {figures['page_bytes']} byte page")
    print(f"  per_host={figures['per_host']}, concurrency={figures['concurrency']}, {args.order}")
    print(f"total time            {figures['total_s']:.2f} s   (target ≤ 15 s)")
    print(f"pages/s               {figures['pages_per_s']}")
    print(f"statuses              {figures['statuses']}   text lengths {figures['text_lengths']}")
    print(f"server requests       {figures['server_requests']}")
    print(f"max in flight / host  {figures['max_in_flight_per_host']}   (limit {args.per_host})")
    print(f"max in flight total   {figures['max_in_flight_total']}   (limit {args.concurrency})")
    print(f"worst event-loop lag  {figures['worst_loop_lag_ms']} ms")
    print(f"RSS before / peak     {figures['rss_before_mb']} / {figures['peak_rss_mb']} MB")
    print(f"{figures['date']}, {figures['cores']} cores, Python {figures['python']}")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
