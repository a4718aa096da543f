"""`python -m bot demo` from the command to a working conversation, as a newcomer sees it.

Each run starts the demo in a fresh temporary directory (throwaway data, seeded contest), and
times: the page answering, the demo ready (bot started, seeded, the OneBot stand-in connected),
the first reply in the group (a secretary's /提交, its receipt), and a member's question
answered. Then "跳到截止前 3 天" until the reminder arrives. The issue's target: a working group
conversation within 15 s of the command.

    .venv/bin/python bench/bench_demo.py            # 3 runs
    .venv/bin/python bench/bench_demo.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def post(url: str, body: dict) -> dict:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=90) as response:
        return json.load(response)


def wait_for(check, timeout: float = 90.0) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        try:
            if check():
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError


def bot_said(api: str, words: str) -> bool:
    items = get(api + "events?after=0&wait=0")["items"]
    return any(i["bot"] and words in "".join(p.get("text", "") for p in i["parts"]) for i in items)


def one_run() -> dict[str, float]:
    page_port, bot_port = free_port(), free_port()
    api = f"http://127.0.0.1:{page_port}/try/api/"
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    env.update({"PORT": str(bot_port), "LOG_LEVEL": "WARNING"})
    with tempfile.TemporaryDirectory() as cwd:
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", str(page_port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            page = wait_for(lambda: get(api + "state") is not None)
            ready = wait_for(lambda: get(api + "state")["ready"])
            post(api + "say", {"as": "secretary", "text": "/提交 张三 https://weibo.com/123/Qx1"})
            receipt = wait_for(lambda: bot_said(api, "已登记（张三）"))
            post(api + "say", {"as": "member", "text": "博客密码忘了怎么办"})
            answer = wait_for(lambda: bot_said(api, "忘记密码"))
            jumped = time.perf_counter()
            post(api + "jump", {})
            reminder = wait_for(lambda: bot_said(api, "距截止还有 3 天"))
        finally:
            process.terminate()
            process.wait(20)
    return {
        "page": page - began,
        "ready": ready - began,
        "first_receipt": receipt - began,
        "answer": answer - began,
        "jump_to_reminder": reminder - jumped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    print(
        f"python -m bot demo, {args.runs} runs on {os.cpu_count()} cores (seconds from the command)"
    )
    for key in runs[0]:
        values = sorted(run[key] for run in runs)
        median = values[len(values) // 2]
        print(f"  {key:18} min {values[0]:5.1f}  median {median:5.1f}  max {values[-1]:5.1f}")


if __name__ == "__main__":
    main()
