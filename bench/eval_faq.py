"""Evaluate the FAQ ranker on the shipped knowledge base.

    .venv/bin/python bench/eval_faq.py [-v] [--config config/contest.toml]

Prints top-1 accuracy and top-3 recall on tests/faq_eval/questions.yaml, what the bot would do
with those questions when asked explicitly (/问, @) and passively, and the passive
false-answer rate on tests/faq_eval/chatter.yaml. `-v` lists every miss.
Targets (issue #4): top-1 ≥ 90 %, top-3 ≥ 97 %, passive false answers ≤ 2 %.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from loguru import logger

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.faq.entry import FaqEntry
from bot.faq.ranker import Ranker
from bot.settings.contest import Contest, FaqPolicy

EVAL_DIR = ROOT / "tests" / "faq_eval"
TOP1_TARGET, TOP3_TARGET, PASSIVE_FALSE_TARGET = 0.90, 0.97, 0.02


def load_questions(path: Path = EVAL_DIR / "questions.yaml") -> list[tuple[str, str]]:
    """(entry id, question) pairs."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(entry_id, str(q)) for entry_id, qs in data.items() for q in qs]


def load_chatter(path: Path = EVAL_DIR / "chatter.yaml") -> list[str]:
    return [str(m) for m in yaml.safe_load(path.read_text(encoding="utf-8"))]


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
    questions: int = 0
    top1: int = 0
    top3: int = 0
    explicit: Counter[str] = field(default_factory=Counter)  # answer-right/-wrong, suggest…
    passive_answered: int = 0
    passive_wrong: int = 0
    chatter: int = 0
    chatter_answered: int = 0
    misses: list[str] = field(default_factory=list)
    false_answers: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.questions

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.questions

    @property
    def passive_false_rate(self) -> float:
        return self.chatter_answered / self.chatter

    @property
    def passive_answer_rate(self) -> float:
        return self.passive_answered / self.questions


def evaluate(
    ranker: Ranker,
    questions: list[tuple[str, str]],
    chatter: list[str],
    policy: FaqPolicy,
) -> Report:
    report = Report()
    for expected, question in questions:
        report.questions += 1
        matches = ranker.rank(question, k=3)
        ids = [m.id for m in matches]
        if ids[:1] == [expected]:
            report.top1 += 1
        if expected in ids:
            report.top3 += 1
        if ids[:1] != [expected]:
            shown = " ".join(str(m) for m in matches) or "无匹配"
            report.misses.append(f"{expected:22} {question}  →  {shown}")
        explicit = ranker.consider(question, policy, passive=False)
        if explicit.kind == "answer":
            right = explicit.entry_ids[0] == expected
            report.explicit["answer-right" if right else "answer-wrong"] += 1
        elif explicit.kind == "suggest":
            inside = expected in explicit.entry_ids
            report.explicit["suggest-with-right" if inside else "suggest-without-right"] += 1
        else:
            report.explicit["none"] += 1
        passive = ranker.consider(question, policy, passive=True)
        if passive.kind == "answer":
            report.passive_answered += 1
            if passive.entry_ids[0] != expected:
                report.passive_wrong += 1
    for message in chatter:
        report.chatter += 1
        decision = ranker.consider(message, policy, passive=True)
        if decision.kind == "answer":
            report.chatter_answered += 1
            shown = " ".join(str(m) for m in decision.matches)
            report.false_answers.append(f"{message}  →  {shown}")
    return report


def _pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "contest.toml")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    logger.remove()

    contest, entries, synonyms = load_base(args.config)
    ranker = Ranker.build(entries, synonyms, contest.bot.nickname)
    questions, chatter = load_questions(), load_chatter()
    policy = contest.faq
    report = evaluate(ranker, questions, chatter, policy)

    covered = {q for q, _ in questions}
    print(
        f"knowledge base: {len(entries)} entries; eval: {report.questions} questions"
        f" covering {len(covered)} ids, {report.chatter} chatter messages"
    )
    print(
        f"thresholds: answer {policy.answer_threshold}, suggest {policy.suggest_threshold},"
        f" passive {policy.passive_threshold}"
    )
    print(f"top-1 accuracy          {_pct(report.top1_rate)}   (target ≥ 90 %)")
    print(f"top-3 recall            {_pct(report.top3_rate)}   (target ≥ 97 %)")
    print(f"passive false answers   {_pct(report.passive_false_rate)}   (target ≤ 2 %)")
    print(
        f"passive answer rate     {_pct(report.passive_answer_rate)}   on real questions"
        f" ({report.passive_wrong} wrong)"
    )
    n = report.questions
    print("explicit (/问, @):")
    for kind in ("answer-right", "answer-wrong", "suggest-with-right", "suggest-without-right"):
        print(f"  {kind:22} {_pct(report.explicit[kind] / n)}")
    print(f"  {'none':22} {_pct(report.explicit['none'] / n)}")
    if args.verbose:
        print("\nmisses (expected, question → top 3):")
        for line in report.misses:
            print("  " + line)
        print("\npassive answers to chatter:")
        for line in report.false_answers:
            print("  " + line)


if __name__ == "__main__":
    main()
