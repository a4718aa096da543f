"""FAQ matching speed: latency per question and index build time.

    .venv/bin/python bench/bench_faq.py [--extra 2000] [--rounds 5]

Matches every question of tests/faq_eval (questions and chatter) against the shipped knowledge
base, then against the base plus `--extra` synthetic entries (plausible questions about
other services a district office answers: 社保, 党费, 会议室 …, from templates), and prints
p50 / p99 / max latency per question and the build time of each index; then the whole match with
the semantic layer (the question embedded, then fused), over the legacy and dev-half questions.
Target: p99 ≤ 10 ms with the semantic layer.
It also prints how far the synthetic entries move the eval questions' top scores (scores are
meant not to depend on the base's size).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loguru import logger

from bench.eval_faq import load_base, load_half, load_legacy, load_legacy_chatter
from bench.timing import percentile
from bot.faq.entry import FaqEntry
from bot.faq.ranker import Ranker
from bot.faq.semantic import (
    CACHE_FILE,
    PassageCache,
    SemanticIndex,
    load_embedder,
    match,
    passage_texts,
)

_THINGS = (
    "社保卡",
    "医保",
    "公积金",
    "党费",
    "组织关系",
    "志愿者证",
    "会议室",
    "停车证",
    "食堂饭卡",
    "门禁卡",
    "工资条",
    "年假",
    "加班调休",
    "差旅报销",
    "办公用品",
    "打印机",
    "内网账号",
    "邮箱",
    "考勤",
    "体检",
    "培训学分",
    "职称评审",
    "档案",
    "户口迁移",
    "居住证",
    "退休手续",
    "困难补助",
    "慰问金",
    "工会会员",
    "入党申请书",
    "思想汇报",
    "党员积分",
    "主题党日",
    "三会一课",
    "民主生活会",
    "学习强国积分",
    "防疫登记",
    "垃圾分类",
    "消防检查",
    "安全生产",
    "网格员",
    "老年卡",
    "残疾证",
    "低保",
    "廉租房",
    "就业登记",
    "创业补贴",
    "营业执照",
    "食品许可证",
    "税务登记",
    "发票",
    "车辆年检",
    "驾照换证",
    "身份证补办",
    "出生证明",
    "疫苗接种",
    "义务兵优待",
    "退役军人登记",
    "选民登记",
    "人大代表联系",
    "信访",
    "12345热线",
)
_TEMPLATES = (
    "{x}怎么办理",
    "{x}在哪里办",
    "{x}需要带什么材料",
    "{x}多久能办好",
    "{x}可以网上办吗",
    "{x}丢了怎么补办",
    "{x}怎么查询",
    "{x}信息填错了怎么修改",
    "{x}找谁负责",
    "{x}的流程是什么",
    "{x}每年什么时候办",
    "{x}要交多少钱",
    "{x}办不下来怎么办",
    "{x}过期了还能用吗",
    "{x}能不能代办",
    "怎么预约{x}",
    "{x}有什么要求",
)
_ANSWER = "1. 带身份证到办事大厅窗口。\n2. 填写申请表。\n3. 等短信通知领取。"


def synthetic_entries(count: int, seed: int = 7) -> list[FaqEntry]:
    """`count` plausible entries about other services, each with a question and 4 phrasings."""
    rng = random.Random(seed)
    pairs = [(x, t) for x in _THINGS for t in _TEMPLATES]
    rng.shuffle(pairs)
    entries: list[FaqEntry] = []
    for n in range(count):
        thing, template = pairs[n % len(pairs)]
        others = rng.sample([t for t in _TEMPLATES if t != template], 4)
        entries.append(
            FaqEntry(
                id=f"extra-{n}",
                question=template.format(x=thing),
                phrasings=tuple(t.format(x=thing) for t in others),
                keywords=(thing,),
                answer=_ANSWER,
            )
        )
    return entries


def measure(ranker: Ranker, questions: list[str], rounds: int) -> list[float]:
    for question in questions:  # warm the caches a long-running bot would have
        ranker.rank(question)
    timings: list[float] = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            ranker.rank(question)
            timings.append(time.perf_counter() - started)
    return timings


def cold(ranker: Ranker, questions: list[str]) -> list[float]:
    """First sight of each question: the normaliser's cache of questions is emptied first."""
    ranker.normalizer.clear_cache()
    timings: list[float] = []
    for question in questions:
        started = time.perf_counter()
        ranker.rank(question)
        timings.append(time.perf_counter() - started)
    return timings


def semantic_timings(base: list[FaqEntry], ranker: Ranker, questions: list[str]) -> None:
    """The whole match as the service runs it for a question: embed it, then
    `bot.faq.semantic.match` (word ranker over the message and its clauses, fused). Passages
    are embedded once (cached in data/, as the bot caches them) and not timed."""
    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("the semantic layer did not load")
    # Its own file: the bot's (data/faq-embeddings.npz) keeps only the shipped entries.
    cache = PassageCache.open(ROOT / "data" / f"bench-{CACHE_FILE}")
    texts = [t for e in base for t in passage_texts(e)]
    missing = cache.missing(embedder.name, texts)
    started = time.perf_counter()
    for i in range(0, len(missing), 256):
        chunk = missing[i : i + 256]
        cache.add(embedder.name, chunk, embedder.passages(chunk))
    cache.save()
    embedded = time.perf_counter() - started
    index = SemanticIndex.build(base, embedder.name, cache)
    assert index is not None
    for question in questions[:20]:
        match(ranker, index, question, embedder.query(question))
    timings: list[float] = []
    embeds: list[float] = []
    for question in questions:
        started = time.perf_counter()
        vector = embedder.query(question)
        embeds.append(time.perf_counter() - started)
        match(ranker, index, question, vector)
        timings.append(time.perf_counter() - started)
    print(
        f"{'':28} with semantic layer ({len(questions)} questions, {len(missing)} passages "
        f"embedded in {embedded:.1f} s): p50 {_ms(statistics.median(timings))}  "
        f"p99 {_ms(percentile(timings, 0.99))}  max {_ms(max(timings))}; embedding alone "
        f"p50 {_ms(statistics.median(embeds))}  p99 {_ms(percentile(embeds, 0.99))}"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--extra", type=int, default=2000, help="synthetic entries to add")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions")
    parser.add_argument(
        "--semantic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the full match with the semantic layer (embedding + fusion)",
    )
    args = parser.parse_args()
    logger.remove()

    contest, entries, synonyms = load_base()
    labelled = load_legacy()
    questions = [q for _, q in labelled] + load_legacy_chatter()
    nickname = contest.bot.nickname
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; ")
    print(f"{len(questions)} questions (eval + chatter) x {args.rounds} rounds")

    bases = {
        "shipped": entries,
        f"shipped + {args.extra} synthetic": [*entries, *synthetic_entries(args.extra)],
    }
    top: dict[str, list[float]] = {}
    semantic_questions = [q for _, q in labelled] + [q.text for q in load_half("dev").in_scope]
    for name, base in bases.items():
        ranker = Ranker.build(base, synonyms, nickname)
        timings = measure(ranker, questions, args.rounds)
        first = cold(ranker, questions)
        print(
            f"{name:28} {len(base):5} entries {len(ranker.phrasings):6} phrasings  "
            f"build {_ms(ranker.build_seconds)}"
        )
        print(
            f"{'':28} warm p50 {_ms(statistics.median(timings))}  "
            f"p99 {_ms(percentile(timings, 0.99))}  max {_ms(max(timings))}"
        )
        print(
            f"{'':28} uncached p50 {_ms(statistics.median(first))}  "
            f"p99 {_ms(percentile(first, 0.99))}  max {_ms(max(first))}"
        )
        top[name] = [
            next((m.score for m in ranker.rank(q, k=50) if m.id == expected), 0.0)
            for expected, q in labelled
        ]
        if args.semantic:
            semantic_timings(base, ranker, semantic_questions)
    small, big = top.values()
    moves = [abs(a - b) for a, b in zip(small, big, strict=True)]
    print(
        "score of the right entry, shipped vs with synthetic: "
        f"mean move {statistics.mean(moves):.3f}, max {max(moves):.3f}"
    )


if __name__ == "__main__":
    main()
