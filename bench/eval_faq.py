"""Evaluate the FAQ the way members meet it: what the bot decides to say to each question.

    .venv/bin/python bench/eval_faq.py [--half dev|test|both] [-v] [--write-ratchet]

Two halves, written independently by annotators who saw only the list of topics
(tests/faq_eval/TOPICS.md), never the knowledge base or the ranker's output:
- the **dev half** (tests/faq_eval/dev_half.yaml) is what the ranker is tuned on; `-v` lists its
  misses;
- the **test half** (tests/faq_eval/test_half.yaml) is frozen (its SHA-256 is in
  tests/faq_eval/FROZEN) and only measured: `-v` never lists its misses. CI asserts its last
  measured figures (tests/faq_eval/RATCHET.json) minus one point; `--write-ratchet` records, for
  each figure, the better of the recorded and the new one.

Each question goes through the real `FaqService` (on a throwaway database): explicitly as `/问`
(`respond(mode="command")`) and as a plain group message (`claim`, then `respond` in the mode
it claims). Fresh guards for every question, so repeats and flood limits do not interfere.
The older, tuned-on set (tests/faq_eval/questions.yaml) is reported as "legacy top-1".
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.faq.entry import FaqEntry
from bot.faq.guard import FaqGuards
from bot.faq.reply import Answer, Suggest
from bot.faq.service import FaqService
from bot.settings.contest import Contest

EVAL_DIR = ROOT / "tests" / "faq_eval"
FROZEN = EVAL_DIR / "FROZEN"
RATCHET = EVAL_DIR / "RATCHET.json"
HALVES = {"dev": EVAL_DIR / "dev_half.yaml", "test": EVAL_DIR / "test_half.yaml"}
GROUP, USER = 123456789, 20001
# Metrics where more is better; the others (wrong answers) want less.
HIGHER_IS_BETTER = ("explicit_right", "explicit_right_or_list", "passive_right")
LOWER_IS_BETTER = (
    "explicit_wrong",
    "out_of_scope_answered",
    "passive_wrong_or_off_topic",
    "chatter_answered",
)
GOALS = {
    "explicit_right": ("≥", 0.80),
    "explicit_right_or_list": ("≥", 0.95),
    "explicit_wrong": ("≤", 0.02),
    "out_of_scope_answered": ("≤", 1 / 36),
    "passive_right": ("≥", 0.60),
    "passive_wrong_or_off_topic": ("≤", 0.005),
    "chatter_answered": ("≤", 0.01),
}
LABELS = {
    "explicit_right": "/问: right answer at once",
    "explicit_right_or_list": "/问: right answer or a list with it",
    "explicit_wrong": "/问: a wrong answer",
    "out_of_scope_answered": "/问 out of scope answered anyway",
    "passive_right": "plain question answered right",
    "passive_wrong_or_off_topic": "plain message answered wrongly/off-topic",
    "chatter_answered": "chatter answered",
}


@dataclass(frozen=True)
class Question:
    id: str
    style: str
    text: str


@dataclass(frozen=True)
class Half:
    name: str
    in_scope: list[Question]
    out_of_scope: list[Question]
    chatter: list[str]


def load_half(name: str) -> Half:
    data = yaml.safe_load(HALVES[name].read_text(encoding="utf-8"))
    return Half(
        name,
        [Question(str(q["id"]), str(q["style"]), str(q["text"])) for q in data["in_scope"]],
        [Question("", str(q["style"]), str(q["text"])) for q in data["out_of_scope"]],
        [str(line) for line in data["chatter"]],
    )


def frozen_digest() -> str:
    """The test half's SHA-256 as recorded in tests/faq_eval/FROZEN."""
    return FROZEN.read_text(encoding="utf-8").split()[0]


def sha256_of_test_half() -> str:
    return hashlib.sha256(HALVES["test"].read_bytes()).hexdigest()


def load_legacy() -> list[tuple[str, str]]:
    """(entry id, question) pairs of the older set the ranker was tuned on (issue 4)."""
    data = yaml.safe_load((EVAL_DIR / "questions.yaml").read_text(encoding="utf-8"))
    return [(entry_id, str(q)) for entry_id, qs in data.items() for q in qs]


def load_legacy_chatter() -> list[str]:
    return [str(m) for m in yaml.safe_load((EVAL_DIR / "chatter.yaml").read_text("utf-8"))]


def load_base(
    config: Path = ROOT / "config" / "contest.toml",
) -> tuple[Contest, list[FaqEntry], list[tuple[str, ...]]]:
    """The shipped contest, knowledge base and synonyms, loaded as the bot loads them."""
    from bot.faq.knowledge import load_knowledge, load_synonyms, synonyms_path
    from bot.settings.loader import load_contest

    contest, problems = load_contest(config)
    if contest is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    entries, problems = load_knowledge(contest)
    synonyms, more = load_synonyms(synonyms_path(contest))
    if problems or more:
        raise SystemExit("\n".join(str(p) for p in [*problems, *more]))
    return contest, entries, synonyms


@dataclass
class Report:
    half: str
    counts: Counter[str] = field(default_factory=Counter)
    by_style: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    misses: list[str] = field(default_factory=list)

    def denominator(self, metric: str) -> int:
        c = self.counts
        denominators = {
            "explicit_right": c["in_scope"],
            "explicit_right_or_list": c["in_scope"],
            "explicit_wrong": c["in_scope"],
            "out_of_scope_answered": c["out_of_scope"],
            "passive_right": c["in_scope"],
            "passive_wrong_or_off_topic": c["in_scope"] + c["out_of_scope"],
            "chatter_answered": c["chatter"],
        }
        return max(1, denominators[metric])

    def rate(self, metric: str) -> float:
        return self.counts[metric] / self.denominator(metric)

    def figures(self) -> dict[str, float]:
        return {m: round(self.rate(m), 4) for m in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER)}


async def _explicit(faq: FaqService, text: str) -> Any:
    faq.guards = FaqGuards.for_policy(faq.policy)
    return await faq.respond(text, mode="command", group_id=GROUP, user_id=USER, now=_now())


async def _passive(faq: FaqService, text: str) -> Any:
    faq.guards = FaqGuards.for_policy(faq.policy)
    now = _now()
    mode = faq.claim(text, group_id=GROUP, user_id=USER, at_bot=False, has_card=False, now=now)
    if mode is None:
        return None
    return await faq.respond(text, mode=mode, group_id=GROUP, user_id=USER, now=now)


def _now() -> Any:
    from bot.clock import utc_now

    return utc_now()


def _shown(reply: Any) -> str:
    if isinstance(reply, Answer):
        return f"answer {reply.entry.id}"
    if isinstance(reply, Suggest):
        return "list " + ",".join(e.id for e in reply.entries)
    return type(reply).__name__ if reply is not None else "silent"


async def evaluate_half(faq: FaqService, half: Half) -> Report:
    report = Report(half.name)
    c = report.counts
    for q in half.in_scope:
        c["in_scope"] += 1
        style = report.by_style[q.style]
        style["in_scope"] += 1
        explicit = await _explicit(faq, q.text)
        right = isinstance(explicit, Answer) and explicit.entry.id == q.id
        listed = isinstance(explicit, Suggest) and q.id in [e.id for e in explicit.entries]
        if right:
            c["explicit_right"] += 1
            style["explicit_right"] += 1
        if right or listed:
            c["explicit_right_or_list"] += 1
            style["explicit_right_or_list"] += 1
        if isinstance(explicit, Answer) and not right:
            c["explicit_wrong"] += 1
        passive = await _passive(faq, q.text)
        if isinstance(passive, Answer):
            if passive.entry.id == q.id:
                c["passive_right"] += 1
                style["passive_right"] += 1
            else:
                c["passive_wrong_or_off_topic"] += 1
        if not right:
            report.misses.append(f"{q.id:22} [{q.style}] {q.text}  →  {_shown(explicit)}")
    for q in half.out_of_scope:
        c["out_of_scope"] += 1
        explicit = await _explicit(faq, q.text)
        if isinstance(explicit, Answer):
            c["out_of_scope_answered"] += 1
            report.misses.append(f"{'(out of scope)':22} {q.text}  →  {_shown(explicit)}")
        if isinstance(await _passive(faq, q.text), Answer):
            c["passive_wrong_or_off_topic"] += 1
    for line in half.chatter:
        c["chatter"] += 1
        passive = await _passive(faq, line)
        if isinstance(passive, Answer):
            c["chatter_answered"] += 1
            report.misses.append(f"{'(chatter)':22} {line}  →  {_shown(passive)}")
    return report


async def legacy_top1(faq: FaqService) -> float:
    questions = load_legacy()
    hits = 0
    for expected, q in questions:
        top = await faq.test(q)
        hits += bool(top) and top[0].id == expected
    return hits / len(questions)


async def open_service(
    config: Path = ROOT / "config" / "contest.toml", *, semantic: bool = True
) -> tuple[FaqService, Any]:
    """The real FaqService on the shipped knowledge base and a throwaway SQLite database
    (passage embeddings cached in data/, as the bot keeps them); `semantic`: with the
    semantic layer (it must load) or with the word ranker alone."""
    from bot.settings.loader import load_contest
    from bot.storage.db import open_storage

    contest, problems = load_contest(config)
    if contest is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    folder = Path(tempfile.mkdtemp(prefix="eval-faq-"))
    storage = await open_storage(f"sqlite+aiosqlite:///{folder / 'eval.db'}")
    faq = FaqService(storage.sessions, contest, data_dir=ROOT / "data", semantic=semantic)
    await faq.load()
    if semantic and not await faq.semantic_ready():
        raise SystemExit("the semantic layer did not load (see the warning above)")
    return faq, storage


def _pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def print_report(report: Report, *, verbose: bool) -> None:
    c = report.counts
    print(
        f"\n== {report.half} half: {c['in_scope']} questions, {c['out_of_scope']} out of scope,"
        f" {c['chatter']} chatter"
    )
    for metric in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        sign, goal = GOALS[metric]
        count = c[metric]
        shown = f"{_pct(report.rate(metric))} ({count})"
        print(f"  {LABELS[metric]:42} {shown:14} goal {sign} {_pct(goal)}")
    print("  by style (/问 right · right or listed · plain right):")
    for style, s in sorted(report.by_style.items()):
        n = max(1, s["in_scope"])
        print(
            f"    {style:12} n={s['in_scope']:3}  {_pct(s['explicit_right'] / n)}"
            f"  {_pct(s['explicit_right_or_list'] / n)}  {_pct(s['passive_right'] / n)}"
        )
    if verbose and report.half != "test":
        print("  misses:")
        for line in report.misses:
            print("    " + line)


async def run(args: argparse.Namespace) -> None:
    semantic = args.semantic == "on"
    faq, storage = await open_service(args.config, semantic=semantic)
    try:
        halves = ["dev", "test"] if args.half == "both" else [args.half]
        reports = {name: await evaluate_half(faq, load_half(name)) for name in halves}
        legacy = _pct(await legacy_top1(faq))
    finally:
        await storage.close()
    if sha256_of_test_half() != frozen_digest():
        print("WARNING: tests/faq_eval/test_half.yaml does not match tests/faq_eval/FROZEN")
    entries = faq.list_entries()
    layer = "word ranker + semantic layer" if semantic else "word ranker only"
    print(f"knowledge base: {len(entries)} entries; {layer}; legacy (tuned-on) set top-1 {legacy}")
    for report in reports.values():
        print_report(report, verbose=args.verbose)
    if args.write_ratchet:
        if not semantic:
            raise SystemExit("the ratchet records the bot as shipped: --semantic on")
        if "test" not in reports:
            raise SystemExit("--write-ratchet needs the test half (--half test or both)")
        # A ratchet: each figure keeps the better of what was recorded and what was measured.
        recorded = json.loads(RATCHET.read_text("utf-8")) if RATCHET.exists() else {}
        figures = reports["test"].figures()
        for metric, value in recorded.items():
            if metric in figures:
                better = max if metric in HIGHER_IS_BETTER else min
                figures[metric] = better(figures[metric], value)
        RATCHET.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", "utf-8")
        print(f"\nwrote {RATCHET.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "contest.toml")
    parser.add_argument("--half", choices=("dev", "test", "both"), default="both")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the dev half's misses")
    parser.add_argument("--write-ratchet", action="store_true", help="record the test half")
    parser.add_argument(
        "--semantic", choices=("on", "off"), default="on", help="with or without the layer"
    )
    args = parser.parse_args()
    logger.remove()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
