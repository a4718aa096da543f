"""Match a member's question to FAQ entries, with scores that mean the same at any base size.

How a question is scored against one phrasing (an entry's question or one of its phrasings;
an entry scores the best of its phrasings):

- both texts are normalised (`bot.faq.normalize`): fillers gone, typos fixed, synonyms mapped;
- every token gets a weight: 1.0 for a word, 0.6 for a one-character word, 0.2 for a
  function word (怎么, 的, 在, 我 …: a list plus the part of speech), and a content word
  shared by many entries is damped: `w / (1 + 0.15 * ln(min(entries using it, 8)))`
  (博客 in a blog FAQ says less than 字体). The cap keeps a big base from pushing shared
  words further down, so the damping is bounded and nearly size-independent;
- words: weighted overlap, measured both ways — how much of the phrasing the question
  covers (`cover_p`) and how much of the question the phrasing explains (`cover_q`),
  combined as `cover_p ** 0.6 * cover_q ** 0.4`: a question may carry extra words
  (我们单位的老同志…), but it must contain what the phrasing is about. An entry's keywords
  count as part of every phrasing when the question has them;
- character bigrams of the whole normalised text, weighted by the words they come from,
  combined the same way: they catch what segmentation splits differently (插图片 / 插入图片);
- edit similarity (rapidfuzz Indel) of the normalised texts, for near-identical wording.

`raw = 0.45 * words + 0.35 * bigrams + 0.20 * edit`, in [0, 1]; 1 for a question that
normalises to a phrasing.

Calibration: `score = calibrate(raw)`, a logistic curve pinned to 0 → 0 and 1 → 1 (midpoint
0.50, slope 12; `CALIBRATION_*`). Midpoint and slope are the maximum-likelihood fit, on
tests/faq_eval, of "the top entry is the right one" (questions) against "it is not"
(wrong top entries, and every chatter message), so a score reads roughly as the chance that
the entry is what was asked: the defaults 0.6 / 0.35 / 0.7 (answer / suggest / passive)
keep their meaning. The score of a question against an entry depends on the two texts and
on the bounded damping only — no BM25 length or corpus statistics, no normalising by the
best score — so 2,000 unrelated entries move a matching score by < 0.05
(tests/bot/faq/test_ranker.py, bench/bench_faq.py).

Speed: inverted indexes from content words and content bigrams to phrasings; only phrasings
sharing one are scored, function words are added for those only, and the edit similarity is
computed for the best `SHORTLIST`.

Pure: no I/O; bot/faq/knowledge.py loads the entries and the synonyms.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import rjieba
from loguru import logger
from rapidfuzz.distance import Indel

from bot.faq.entry import FaqEntry
from bot.faq.normalize import Normalizer, looks_like_question, word_list
from bot.settings.contest import FaqPolicy

# Words that say how a thing is asked, not what about; they still count, a little.
FUNCTION_WORDS: frozenset[str] = word_list(
    """
    怎么 什么 哪里 为什么 能不能 多少 几 是 的 了 在 我 我们 你 你们 他 她 它 他们 有 没有 要
    会 和 与 及 或 把 被 给 对 都 也 还 就 这 那 个 一 一个 上 下 里 中 内 到 去 来 用 让 得 地
    着 过 吗 么 呢 还是 或者 可 该 应该 需要 必须 才 再 又 很 最 太 更 比较 非常 已经 已 自己
    咱 咱们 本 其 之 啊 吧 怎 哪个 哪些 这里 那里 这么 那么 时 时候 现在 不 没 别 先
    有没有 是不是 要不要 会不会 有人 人家 某 每 每个 各 各个 这些 那些 一些 一点 点 啥 吗
    些 又 能 可以 想 如果 但是 但 因为 所以 然后 还有 以及 之类 等 等等 好 行 呀 嘛 吧
    """
)
_FUNCTION_POS = ("r", "y", "u", "p", "c", "e", "o", "zg", "x", "w")

WORD_WEIGHT, SHORT_WORD_WEIGHT, FUNCTION_WEIGHT = 1.0, 0.6, 0.2
# Damping for words many entries share (博客 in a blog FAQ): weight / (1 + d * ln(spread)),
# spread = entries using the word, counted up to SPREAD_CAP so that a big base of unrelated
# entries cannot push a shared word much further down.
SPREAD_DAMPING, SPREAD_CAP = 0.15, 8
COVER_EXPONENT = 0.6  # weight of "covers the phrasing" against "explains the question"
MIX_WORDS, MIX_BIGRAMS, MIX_EDIT = 0.45, 0.35, 0.20
SHORTLIST = 40  # phrasings that get the (costlier) edit similarity

# score = (s(raw) - s(0)) / (s(1) - s(0)), s(x) = 1 / (1 + exp(-SLOPE * (x - MIDPOINT)))
CALIBRATION_MIDPOINT = 0.50
CALIBRATION_SLOPE = 12.0

# decide(): two candidates closer than this are ambiguous — ask, do not guess.
MARGIN = 0.05


_TAGGER = rjieba.Jieba()


@lru_cache(maxsize=65536)
def prior_weight(token: str, canonical: bool = False) -> float:
    """A token's weight before damping: function words light, other words by length.

    `canonical`: the token heads a synonym group, so it is one of the contest's own words.
    """
    if token in FUNCTION_WORDS:
        return FUNCTION_WEIGHT
    if not canonical:
        tags = _TAGGER.tag(token)
        if len(tags) == 1 and tags[0][1].startswith(_FUNCTION_POS):
            return FUNCTION_WEIGHT
    return SHORT_WORD_WEIGHT if len(token) == 1 else WORD_WEIGHT


# Parts of speech of a thing asked about (a card, an app, a tax office), as jieba tags them;
# person and place names are context (老张, 凤桥镇), not the subject.
_THING_POS = ("n", "nz", "nt", "eng")


# Who and where a member is (学校, 居委, 财政局, 老婆, 工作人员) is context, not what they ask
# about; nor are nouns that name no particular thing (办法, 地方, 原因).
_CONTEXT_SUFFIXES = tuple(
    word_list(
        """
        局 委 院 校 学 处 科 室 所 村 镇 乡 街道 社区 居委 单位 部门 支部 公司
        人 员 生 子 婆 公 妈 爸 师 长 记 友 姐 哥 弟 妹 同志 干部 书记 领导 家里
        """
    )
)
_GENERIC_NOUNS: frozenset[str] = word_list(
    """
    办法 方法 地方 原因 范围 质量 情况 问题 东西 事情 事 时间 内容 样子 意思 结果 效果 数据 数字
    体会 活动 工作 大家 别人 自己 今年 去年 明年 今天 昨天 明天 上午 下午 晚上 时候
    """
)


@lru_cache(maxsize=65536)
def _is_thing(token: str) -> bool:
    if token in _GENERIC_NOUNS or token.endswith(_CONTEXT_SUFFIXES):
        return False
    tags = _TAGGER.tag(token)
    return len(tags) == 1 and tags[0][1] in _THING_POS


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-CALIBRATION_SLOPE * (x - CALIBRATION_MIDPOINT)))


_S0, _S1 = _sigmoid(0.0), _sigmoid(1.0)


def calibrate(raw: float) -> float:
    """Map a raw similarity in [0, 1] to a score in [0, 1]; fixed, monotone, 0 → 0, 1 → 1."""
    if raw <= 0.0:
        return 0.0
    return max(0.0, min(1.0, (_sigmoid(min(raw, 1.0)) - _S0) / (_S1 - _S0)))


@dataclass(frozen=True)
class Match:
    id: str
    score: float

    def __str__(self) -> str:
        """The `/faq 测试` line: `blog-link 0.87`."""
        return f"{self.id} {self.score:.2f}"


@dataclass(frozen=True)
class Decision:
    kind: Literal["answer", "suggest", "none"]
    entry_ids: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()


@dataclass(frozen=True)
class _Text:
    """A question or a phrasing, ready to compare: weighted words and weighted bigrams."""

    words: dict[str, float]
    content: frozenset[str]  # the words that are not function words
    word_total: float
    bigrams: dict[str, float]  # character bigrams of the whole text, weighted by their words
    bigram_total: float
    full: str  # the normalised text
    # An entry's keywords missing from this phrasing: they count when the question has them.
    extra: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        tokens: Sequence[str],
        weigh: Callable[[str], tuple[float, bool]],
        extra: Iterable[str] = (),
    ) -> _Text:
        words: dict[str, float] = {}
        content: set[str] = set()
        char_weights: list[float] = []
        for token in tokens:
            weight, is_content = weigh(token)
            words[token] = weight
            if is_content:
                content.add(token)
            char_weights.extend([weight] * len(token))
        full = "".join(tokens)
        bigrams: dict[str, float] = {}
        if len(full) == 1:
            bigrams[full] = char_weights[0]
        for i in range(len(full) - 1):
            weight = (char_weights[i] + char_weights[i + 1]) / 2
            bigram = full[i : i + 2]
            if weight > bigrams.get(bigram, 0.0):
                bigrams[bigram] = weight
        more = {t: weigh(t)[0] for t in extra if t not in words}
        return cls(
            words,
            frozenset(content),
            sum(words.values()),
            bigrams,
            sum(bigrams.values()),
            full,
            more,
        )


def _combine(covered_p: float, total_p: float, covered_q: float, total_q: float) -> float:
    """cover_p ** 0.6 * cover_q ** 0.4: the question must contain what the phrasing is about."""
    if covered_p <= 0.0 or covered_q <= 0.0 or total_p <= 0.0 or total_q <= 0.0:
        return 0.0
    cover_p = min(1.0, covered_p / total_p)
    cover_q = min(1.0, covered_q / total_q)
    return cover_p**COVER_EXPONENT * cover_q ** (1.0 - COVER_EXPONENT)


@dataclass
class Ranker:
    normalizer: Normalizer
    entry_ids: list[str] = field(default_factory=list)
    phrasings: list[_Text] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # phrasing index → entry index
    # Inverted indexes over content only: function words and function-only bigrams (怎么)
    # would make every phrasing a candidate.
    by_word: dict[str, list[int]] = field(default_factory=dict)
    by_extra: dict[str, list[int]] = field(default_factory=dict)
    by_bigram: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    spread: dict[str, int] = field(default_factory=dict)  # word → entries using it
    build_seconds: float = 0.0
    _weights: dict[str, tuple[float, bool]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        entries: Sequence[FaqEntry],
        synonyms: Sequence[tuple[str, ...]] = (),
        nickname: str = "",
    ) -> Ranker:
        """Index `entries` (their question and phrasings; keywords as optional words)."""
        started = time.perf_counter()
        texts = [[e.question, *e.phrasings] for e in entries]
        vocabulary = [t for group in texts for t in group] + [
            k for e in entries for k in e.keywords
        ]
        ranker = cls(Normalizer.build(vocabulary, synonyms, nickname))
        tokens_of = ranker.normalizer.tokens
        segmented: list[list[tuple[str, ...]]] = []
        keywords: list[set[str]] = []
        for entry, group in zip(entries, texts, strict=True):
            unique = list(dict.fromkeys(t for t in map(tokens_of, group) if t))
            segmented.append(unique)
            keywords.append({t for k in entry.keywords for t in tokens_of(k)})
            for token in {t for tokens in unique for t in tokens} | keywords[-1]:
                ranker.spread[token] = ranker.spread.get(token, 0) + 1
        for index, entry in enumerate(entries):
            ranker.entry_ids.append(entry.id)
            extra = [t for t in keywords[index] if ranker.weigh(t)[1]]
            for tokens in segmented[index]:
                ranker._add(index, _Text.of(tokens, ranker.weigh, extra))
        ranker.build_seconds = time.perf_counter() - started
        logger.debug(
            "FAQ index: {} entries, {} phrasings, built in {:.0f} ms",
            len(entries),
            len(ranker.phrasings),
            ranker.build_seconds * 1000,
        )
        return ranker

    def weigh(self, token: str) -> tuple[float, bool]:
        """(weight, is a content word) of a token in this knowledge base."""
        known = self._weights.get(token)
        if known is not None:
            return known
        prior = prior_weight(token, token in self.normalizer.heads)
        is_content = prior > FUNCTION_WEIGHT
        spread = min(self.spread.get(token, 1), SPREAD_CAP)
        weight = prior / (1.0 + SPREAD_DAMPING * math.log(spread)) if is_content else prior
        self._weights[token] = (weight, is_content)
        return weight, is_content

    def _add(self, entry_index: int, text: _Text) -> None:
        pid = len(self.phrasings)
        self.phrasings.append(text)
        self.owner.append(entry_index)
        for token in text.content:
            self.by_word.setdefault(token, []).append(pid)
        for token in text.extra:
            self.by_extra.setdefault(token, []).append(pid)
        for bigram, weight in text.bigrams.items():
            if weight > FUNCTION_WEIGHT:
                self.by_bigram.setdefault(bigram, []).append((pid, weight))

    def tokens(self, question: str) -> tuple[str, ...]:
        """What the ranker makes of a question (for debugging a match)."""
        return self.normalizer.tokens(question)

    def rank(self, question: str, k: int = 3) -> list[Match]:
        """The best `k` entries for `question`, best first; entries scoring 0 are left out."""
        query = _Text.of(self.normalizer.tokens(question), self.weigh)
        if not query.content:
            return []
        # Stage 1: accumulate content overlaps through the indexes.
        words: dict[int, float] = {}
        extra: dict[int, float] = {}
        for token in query.content:
            weight = query.words[token]
            for pid in self.by_word.get(token, ()):
                words[pid] = words.get(pid, 0.0) + weight
            for pid in self.by_extra.get(token, ()):
                extra[pid] = extra.get(pid, 0.0) + weight
        bigrams_p: dict[int, float] = {}
        bigrams_q: dict[int, float] = {}
        light: list[tuple[str, float]] = []
        for bigram, weight_q in query.bigrams.items():
            if weight_q <= FUNCTION_WEIGHT:
                light.append((bigram, weight_q))
                continue
            for pid, weight_p in self.by_bigram.get(bigram, ()):
                bigrams_p[pid] = bigrams_p.get(pid, 0.0) + weight_p
                bigrams_q[pid] = bigrams_q.get(pid, 0.0) + weight_q
        candidates = words.keys() | extra.keys() | bigrams_p.keys()
        if not candidates:
            return []

        # Stage 2: add function words and function bigrams, combine.
        functions = [(t, w) for t, w in query.words.items() if t not in query.content]
        rough: list[tuple[float, int]] = []
        for pid in candidates:
            text = self.phrasings[pid]
            more = extra.get(pid, 0.0)
            covered = words.get(pid, 0.0) + more
            covered += sum(w for t, w in functions if t in text.words)
            word_score = _combine(covered, text.word_total + more, covered, query.word_total)
            covered_p = bigrams_p.get(pid, 0.0)
            covered_q = bigrams_q.get(pid, 0.0)
            for bigram, weight_q in light:
                weight_p = text.bigrams.get(bigram)
                if weight_p is not None:
                    covered_p += weight_p
                    covered_q += weight_q
            bigram_score = _combine(covered_p, text.bigram_total, covered_q, query.bigram_total)
            rough.append((MIX_WORDS * word_score + MIX_BIGRAMS * bigram_score, pid))
        rough.sort(reverse=True)

        # Stage 3: edit similarity for the best few; an entry scores its best phrasing.
        best: dict[int, float] = {}
        for partial, pid in rough[:SHORTLIST]:
            edit = Indel.normalized_similarity(query.full, self.phrasings[pid].full)
            raw = partial + MIX_EDIT * edit
            entry = self.owner[pid]
            if raw > best.get(entry, 0.0):
                best[entry] = raw
        ranked = sorted(best.items(), key=lambda item: (-item[1], self.entry_ids[item[0]]))
        matches = [Match(self.entry_ids[e], calibrate(raw)) for e, raw in ranked[:k]]
        return [m for m in matches if m.score > 0.0]

    def shared_words(self, question: str, entry_id: str) -> list[str]:
        """The content words of `question` (as normalised: synonyms mapped, typos fixed) that
        the entry's question, phrasings or keywords also use — why it matched."""
        mine = {pid for pid, owner in enumerate(self.owner) if self.entry_ids[owner] == entry_id}
        return [
            token
            for token in dict.fromkeys(self.normalizer.tokens(question))
            if self.weigh(token)[1]
            and any(
                pid in mine for pid in [*self.by_word.get(token, ()), *self.by_extra.get(token, ())]
            )
        ]

    def has_content(self, question: str) -> bool:
        """Whether `question` has any word beyond function words (怎么办？ has none)."""
        return any(self.weigh(t)[1] for t in self.normalizer.tokens(question))

    def unknown_words(self, question: str) -> list[str]:
        """Content words of `question` that no entry uses: what it asks about may not be here
        at all (医保卡密码 against a blog password entry)."""
        query = self.normalizer.tokens(question)
        return [
            t
            for t in dict.fromkeys(query)
            if len(t) >= 2
            and t not in self.spread
            and self.weigh(t)[1]
            and not t.isdigit()
            and _is_thing(t)
        ]

    def consider(self, question: str, policy: FaqPolicy, *, passive: bool) -> Decision:
        """Rank and decide in one call, with the passive-mode question check included."""
        matches = self.rank(question, k=3)
        asked = looks_like_question(question, self.normalizer.nickname)
        return decide(matches, policy, passive=passive, question_like=asked)


def decide(
    matches: Sequence[Match],
    policy: FaqPolicy,
    *,
    passive: bool,
    question_like: bool = True,
    margin: float = MARGIN,
) -> Decision:
    """What to do with ranked matches.

    Explicit (/问, @): answer the top entry when it reaches `answer_threshold` and no
    runner-up above `suggest_threshold` is within `margin` (`MARGIN`) of it; otherwise list the
    entries reaching `suggest_threshold` (up to three); otherwise nothing.
    Passive (a plain group message): answer only a message that reads as a question
    (`question_like`, see `looks_like_question`) whose top entry reaches `passive_threshold`
    with a clear margin; never suggest.
    """
    kept = tuple(matches[:3])
    if not kept:
        return Decision("none", (), kept)
    top = kept[0]
    runner_up = kept[1].score if len(kept) > 1 else 0.0
    clear = top.score - runner_up >= margin or runner_up < policy.suggest_threshold
    if passive:
        if question_like and top.score >= policy.passive_threshold and clear:
            return Decision("answer", (top.id,), kept)
        return Decision("none", (), kept)
    if top.score >= policy.answer_threshold and clear:
        return Decision("answer", (top.id,), kept)
    suggested = tuple(m.id for m in kept if m.score >= policy.suggest_threshold)
    if suggested:
        return Decision("suggest", suggested, kept)
    return Decision("none", (), kept)


def unsure(decision: Decision, policy: FaqPolicy, *, passive: bool) -> Decision:
    """An answer made less sure (the question has words the knowledge base does not know):
    explicitly asked, the candidates are listed instead; passively, nothing is said."""
    if passive or decision.kind != "answer":
        return Decision("none", (), decision.matches) if passive else decision
    listed = tuple(m.id for m in decision.matches if m.score >= policy.suggest_threshold)
    return Decision("suggest", listed, decision.matches)
