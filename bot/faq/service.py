"""The FAQ as the chat uses it: the knowledge base (file + database), asking, and changing it.

How the two sources combine: config/faq.yaml is the curated base; the database (bot.faq.store)
holds what organizers did in chat. A database row with the id of a file entry changes that
entry field by field — its question and answer when set, its learned phrasings added to the
file's — and a deleted row (a tombstone) hides it; a row with a new id is an entry of its own.
So editing the file and sending /faq 重载 still changes every entry the chat did not override.

Every change runs in one transaction with its `faq_change` row (who, when, the row before and
after), then the entries are merged again and the ranker rebuilt (tens of milliseconds).
Answers added from chat are templates like the file's, but limited to `{{ name }}`
placeholders (no statements, no operators) and rendered in the sandbox before being stored, so
nothing typed into a group can break an answer or reach Python internals.

Asking uses the word ranker (bot.faq.ranker) and, when it loaded, the semantic layer
(bot.faq.semantic) fused with it. Passage embeddings come from the on-disk cache; texts not yet
embedded (a fresh install, a reload that added many) are embedded in a worker thread while the
word ranker alone answers, and the fused index takes over when they are ready.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from loguru import logger
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select

from bot.faq import knowledge
from bot.faq.entry import FaqEntry
from bot.faq.grouping import group_alike
from bot.faq.guard import FaqGuards, parse_choice
from bot.faq.normalize import fold, looks_like_question, strip_mentions, word_list
from bot.faq.ranker import MARGIN, Decision, Match, Ranker, decide, unsure
from bot.faq.reply import (
    CHOICE_MAX,
    PASSIVE_MAX,
    PASSIVE_MIN,
    Answer,
    Cannot,
    Mode,
    Noted,
    Repeat,
    Reply,
    Silent,
    SlowDown,
    Suggest,
    Usage,
    carries_link,
    is_wrong_answer_reply,
)
from bot.faq.semantic import (
    CACHE_FILE,
    SEED_FILE,
    Embedder,
    PassageCache,
    SemanticIndex,
    load_embedder,
    match,
    passage_texts,
    text_key,
)
from bot.faq.store import (
    QUESTION_MAX,
    TEMPLATE_MAX,
    UNANSWERED_KEY_MAX,
    UNANSWERED_TEXT_MAX,
    FaqAsked,
    FaqChange,
    FaqEntryRow,
    FaqUnanswered,
)
from bot.refusal import NotFound, Refusal
from bot.settings.contest import Contest
from bot.settings.values import Problem
from bot.storage.db import Sessions, write_transaction

DB_SOURCE = "数据库 faq_entry"
# Only this much of a question is matched (a 10,000-character "question" is not one).
QUERY_MAX = 200
# An explicit answer scoring under this whose question names a thing the knowledge base never
# mentions becomes a list. Fixed here rather than tied to `passive_threshold`: an organizer who
# lets the bot speak up more often in the group does not make /问 any less careful.
SURE_DESPITE_UNKNOWN = 0.75
QUESTION_MIN = 2
# Up to this many new texts are embedded before a change returns; more go to the background.
EMBED_INLINE_MAX = 64
EMBED_BATCH = 32
# Platforms and apps outside the contest's own (folded: lower case, simplified). A question
# naming one is about that platform; an answer that never mentions it is for somewhere else.
OTHER_PLATFORMS: frozenset[str] = word_list(
    """
    抖音 快手 今日头条 头条号 小红书 学习强国 知乎 b站 哔哩哔哩 视频号 百家号 网易号 搜狐号 qq空间
    钉钉 淘宝 支付宝 美团 拼多多 京东 浙里办 随申办 粤省事 个人所得税 12306 腾讯会议 微信支付
    qq密码 qq邮箱 企业微信 飞书 学习通 志愿汇 医保 社保 税务 公积金 网银 手机银行 银行卡 云闪付
    健康码 邮箱 网盘 百度 苹果id icloud 华为账号 电子税务局 党员e家 智慧党建 党建云
    """
)
# Chat answers may only name values: {{ contest.deadline }}, {{ min_chars }}.
_PLACEHOLDER = re.compile(r"\{\{-?\s*[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\s*-?\}\}")
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")

ERR_ID = (
    "编号“{id}”不合规：只能用小写英文字母、数字和连字符（-），"
    f"不超过 {knowledge.ID_MAX} 个字符，例如 blog-link。"
)
ERR_EXISTS = "编号“{id}”已经有了；要改它请用 /faq 修改 {id} 问题 | 答案。"
ERR_NOT_FOUND = "没有编号为“{id}”的问答；发送 /faq 列表 可查看全部编号。"
ERR_QUESTION_SHORT = "问题太短了，请写完整，例如：博客怎么插入图片？"
ERR_QUESTION_LONG = f"问题不能超过 {QUESTION_MAX} 个字，请精简。"
ERR_ANSWER_EMPTY = "答案不能为空。"
ERR_ANSWER_LONG = f"答案不能超过 {knowledge.MAX_ANSWER_CHARS} 个字（手机上要一屏看完），请精简。"
ERR_TEMPLATE_LONG = f"答案不能超过 {TEMPLATE_MAX} 个字符，请精简。"
ERR_TEMPLATE_SYNTAX = (
    "答案里的 {{ }} 只能填配置里的名称，例如 {{ contest.deadline }}、{{ min_chars }}；"
    "不能写运算、函数或 {% %} 语句。"
)
ERR_TEMPLATE = "答案无法使用：{why}"
ERR_NOTHING_TO_EDIT = "请写明新的问题或答案，例如：/faq 修改 {id} | 新的答案"
ERR_UNANSWERED = "没有编号为 {number} 的未解决问题；发送 /faq 未解决 查看编号。"
ERR_LEARNED = "第 {number} 个未解决问题已经学习到“{entry}”了。"
# Unanswered questions looked at when grouping them (the most asked first).
GROUP_SCAN = 200


class FaqError(Refusal):
    """A change refused; the message is short Chinese for the organizer who asked for it."""


class FaqNotFound(FaqError, NotFound):
    """No FAQ entry (or unanswered question) by that id."""


@dataclass(frozen=True)
class Asked:
    """What the FAQ makes of one question."""

    decision: Decision
    # The entries of decision.entry_ids, in that order.
    entries: tuple[FaqEntry, ...]
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Unanswered:
    id: int
    text: str
    count: int
    first_at: datetime
    last_at: datetime
    last_group: int | None
    last_user: int | None
    learned_entry: str | None
    # "unanswered", "suggested" (candidates offered, none picked) or "wrong" (不对 to an answer)
    kind: str = "unanswered"
    offered: tuple[str, ...] = ()
    wrong_entry: str | None = None


@dataclass(frozen=True)
class UnansweredGroup:
    """Unanswered questions alike (bot.faq.grouping), the most asked first: one line for the
    organizer, taught in one step."""

    members: tuple[Unanswered, ...]

    @property
    def lead(self) -> Unanswered:
        return self.members[0]

    @property
    def id(self) -> int:
        return self.lead.id

    @property
    def text(self) -> str:
        return self.lead.text

    @property
    def count(self) -> int:
        return sum(m.count for m in self.members)

    @property
    def first_at(self) -> datetime:
        return min(m.first_at for m in self.members)

    @property
    def last_at(self) -> datetime:
        return max(m.last_at for m in self.members)

    @property
    def others(self) -> tuple[str, ...]:
        """The other wordings, most asked first."""
        return tuple(m.text for m in self.members[1:])


@dataclass(frozen=True)
class AnswerCount:
    """How often the bot sent an entry's answer."""

    entry_id: str
    # None: the entry has left the knowledge base since (deleted, or gone from the file).
    question: str | None
    count: int
    last_at: datetime


@dataclass(frozen=True)
class Change:
    id: int
    at: datetime
    actor: int | None
    action: str
    entry_id: str


def question_key(text: str, nickname: str = "") -> str:
    """A question folded for counting: same characters, whatever the width, case, punctuation."""
    folded = strip_mentions(fold(text[: QUERY_MAX * 2]), nickname)
    return _NON_WORD.sub("", folded)[:UNANSWERED_KEY_MAX]


def clean_text(text: str) -> str:
    """A question or answer as stored: control characters gone, each line trimmed."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    lines = [line.strip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


# Building a ranker takes a fifth of a second (most of it a fresh segmenter); the same
# knowledge base (a reload of an unchanged file, an undo, every test's runtime) reuses one.
_RANKERS: dict[tuple[Any, ...], Ranker] = {}
_RANKERS_KEPT = 4


def _ranker_for(
    entries: Sequence[FaqEntry], synonyms: Sequence[tuple[str, ...]], nickname: str
) -> Ranker:
    key = (tuple(entries), tuple(synonyms), nickname)
    ranker = _RANKERS.get(key)
    if ranker is None:
        ranker = Ranker.build(entries, synonyms, nickname)
        while len(_RANKERS) >= _RANKERS_KEPT:
            del _RANKERS[next(iter(_RANKERS))]
        _RANKERS[key] = ranker
    return ranker


def _phrasing(text: str) -> str:
    """An asked question as a phrasing: one line, at most `QUESTION_MAX` characters."""
    return clean_text(text).replace("\n", " ")[:QUESTION_MAX]


def _unanswered(row: FaqUnanswered) -> Unanswered:
    assert row.id is not None
    return Unanswered(
        row.id,
        row.text,
        row.count,
        row.first_at,
        row.last_at,
        row.last_group,
        row.last_user,
        row.learned_entry,
        row.kind,
        tuple(row.offered),
        row.wrong_entry,
    )


def _restore(row: FaqEntryRow, snapshot: Mapping[str, Any]) -> None:
    row.question = snapshot.get("question")
    row.phrasings = list(snapshot.get("phrasings") or [])
    row.keywords = list(snapshot.get("keywords") or [])
    row.answer = snapshot.get("answer")
    row.tags = list(snapshot.get("tags") or [])
    row.deleted = bool(snapshot.get("deleted"))


class FaqService:
    """The knowledge base, the ranker over it, and the chat's changes (see the module doc)."""

    def __init__(
        self,
        sessions: Sessions,
        contest: Contest,
        commands: Mapping[str, str] | None = None,
        *,
        data_dir: Path | None = None,
        semantic: bool = True,
    ) -> None:
        """`data_dir`: where the embedding cache lives (None: in memory only); `semantic`:
        use the semantic layer if it loads."""
        self.sessions = sessions
        self.contest = contest
        self.policy = contest.faq
        self.commands = commands
        self.guards = FaqGuards.for_policy(contest.faq)
        self.problems: list[Problem] = []
        self._context = knowledge.render_context(contest, commands)
        self._file: list[FaqEntry] = []
        self._synonyms: list[tuple[str, ...]] = []
        self._entries: dict[str, FaqEntry] = {}
        self._ranker: Ranker | None = None
        self._lock = asyncio.Lock()
        self._embedder: Embedder | None = load_embedder() if semantic else None
        if not semantic:
            logger.info("FAQ: semantic layer switched off (FAQ_SEMANTIC=off)")
        self._cache = PassageCache.open(data_dir / CACHE_FILE if data_dir else None, SEED_FILE)
        self._semantic: SemanticIndex | None = None
        self._embedding: asyncio.Task[None] | None = None
        self._generation = 0

    @property
    def semantic(self) -> bool:
        """Whether questions are being matched with the semantic layer right now."""
        return self._semantic is not None

    async def semantic_ready(self) -> bool:
        """Wait for background embedding, if any; whether the semantic layer is in use."""
        while self._embedding is not None and not self._embedding.done():
            await asyncio.shield(self._embedding)
        return self._semantic is not None

    # --- loading ------------------------------------------------------------------------------

    async def load(self) -> list[Problem]:
        """Read the file, the synonyms and the database; build the ranker. The problems found."""
        file_entries, problems = knowledge.load_knowledge(self.contest, self.commands)
        synonyms, synonym_problems = knowledge.load_synonyms(knowledge.synonyms_path(self.contest))
        self._file = file_entries
        self._synonyms = synonyms
        self.problems = [*problems, *synonym_problems]
        await self._rebuild()
        for problem in self.problems:
            logger.warning("FAQ: {}", problem)
        logger.info("FAQ: {} entries ({} from the file)", len(self._entries), len(file_entries))
        return self.problems

    async def reload(self) -> list[Problem]:
        """Re-read config/faq.yaml and synonyms.txt (after an organizer edited them)."""
        async with self._lock:
            return await self.load()

    async def refresh(self) -> None:
        """Rebuild from the database alone (another process changed the chat-added entries;
        the files are this machine's own and unchanged)."""
        async with self._lock:
            await self._rebuild()

    async def _rebuild(self) -> None:
        async with self.sessions() as session:
            rows = list((await session.exec(select(FaqEntryRow))).all())
        entries, problems = self._merge(rows)
        self._entries = {e.id: e for e in entries}
        self._ranker = _ranker_for(entries, self._synonyms, self.contest.bot.nickname)
        self.problems = [p for p in self.problems if p.file != DB_SOURCE] + problems
        await self._attach_semantic(entries)

    async def _attach_semantic(self, entries: Sequence[FaqEntry]) -> None:
        """Build the semantic index for `entries`: now if their texts are (nearly) all
        embedded, else in the background while the word ranker answers alone."""
        embedder = self._embedder
        if embedder is None:
            return
        self._generation += 1
        generation = self._generation
        texts = [t for e in entries for t in passage_texts(e)]
        missing = self._cache.missing(embedder.name, texts)
        if len(missing) <= EMBED_INLINE_MAX:
            await self._embed(embedder, missing)
            self._install(entries, texts, generation)
            return
        self._semantic = None
        logger.info("FAQ: embedding {} texts in the background", len(missing))

        async def embed_then_install() -> None:
            started = time.perf_counter()
            try:
                await self._embed(embedder, missing)
            except Exception:
                logger.exception("FAQ: embedding failed; answering with the word ranker only")
                return
            self._install(entries, texts, generation)
            seconds = time.perf_counter() - started
            logger.info("FAQ: semantic layer ready ({} texts in {:.1f} s)", len(missing), seconds)

        self._embedding = asyncio.create_task(embed_then_install())

    async def _embed(self, embedder: Embedder, texts: Sequence[str]) -> None:
        """Embed `texts` in a worker thread, a batch at a time (bounded memory; a reply
        waiting for the engine waits for one batch at most)."""
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start : start + EMBED_BATCH]
            matrix = await asyncio.to_thread(embedder.passages, batch)
            self._cache.add(embedder.name, batch, matrix)

    def _install(self, entries: Sequence[FaqEntry], texts: Sequence[str], generation: int) -> None:
        embedder = self._embedder
        if embedder is None or generation != self._generation:
            return  # a later rebuild owns the index now
        self._semantic = SemanticIndex.build(entries, embedder.name, self._cache)
        # The file keeps what the knowledge base uses now: it cannot grow without bound.
        self._cache.save(keep=[text_key(embedder.name, t) for t in texts])

    async def question_vector(self, question: str) -> np.ndarray | None:
        """The question's embedding, computed off the event loop (None without the layer)."""
        query = question[:QUERY_MAX]
        if self._semantic is None or self._embedder is None or self._ranker is None:
            return None
        if not self._ranker.has_content(query):
            return None  # 怎么办？ has nothing to match on
        return await asyncio.to_thread(self._embedder.query, query)

    def _merge(self, rows: Sequence[FaqEntryRow]) -> tuple[list[FaqEntry], list[Problem]]:
        by_id = {row.id: row for row in rows}
        problems: list[Problem] = []
        merged: list[FaqEntry] = []

        def answer_of(row: FaqEntryRow) -> str | None:
            if row.answer is None:
                return None
            rendered, why = knowledge.render_answer(row.answer, self._context)
            if rendered is None:
                problems.append(Problem(DB_SOURCE, f"{row.id}.answer", why or "无法生成"))
            return rendered or None

        for entry in self._file:
            row = by_id.pop(entry.id, None)
            if row is None:
                merged.append(entry)
                continue
            if row.deleted:
                continue
            answer = answer_of(row)
            changed = row.question is not None or answer is not None
            merged.append(
                replace(
                    entry,
                    question=row.question or entry.question,
                    phrasings=tuple(dict.fromkeys([*entry.phrasings, *row.phrasings])),
                    keywords=tuple(dict.fromkeys([*entry.keywords, *row.keywords])),
                    answer=answer or entry.answer,
                    tags=tuple(row.tags) or entry.tags,
                    source="chat" if changed else entry.source,
                )
            )
        for row in by_id.values():
            if row.deleted:
                continue
            answer = answer_of(row)
            if row.question is None or answer is None:
                # Phrasings taught to a file entry that has since left the file.
                logger.debug("FAQ: database row {} has no entry to attach to", row.id)
                continue
            merged.append(
                FaqEntry(
                    id=row.id,
                    question=row.question,
                    phrasings=tuple(row.phrasings),
                    keywords=tuple(row.keywords),
                    answer=answer,
                    tags=tuple(row.tags),
                    source="chat",
                )
            )
        return merged, problems

    # --- asking -------------------------------------------------------------------------------

    def looks_like_question(self, text: str) -> bool:
        return looks_like_question(text[:QUERY_MAX], self.contest.bot.nickname)

    def ask(self, question: str, *, passive: bool, vector: np.ndarray | None = None) -> Asked:
        """Rank `question` and decide: answer, suggest (never in passive mode) or nothing.

        `vector`: the question's embedding from `question_vector` (computed here, on the
        calling thread, when the semantic layer is on and it is not given)."""
        query = question[:QUERY_MAX]
        matches, margin = self._rank(query, vector)
        asked = self.looks_like_question(query) if passive else True
        decision = decide(matches, self.policy, passive=passive, question_like=asked, margin=margin)
        # An answer whose question names a thing the knowledge base never mentions (医保卡密码,
        # 电子税务局) may well be about something else. Passively: say nothing.
        # Explicitly asked, it is answered only as surely as a passive answer would be;
        # otherwise the candidates are listed.
        if decision.kind == "answer" and (passive or matches[0].score < SURE_DESPITE_UNKNOWN):
            unknown = self._ranker.unknown_words(query) if self._ranker else []
            if unknown:
                decision = unsure(decision, self.policy, passive=passive)
        # 抖音密码忘了: the blog-password answer is about another platform's password.
        if decision.kind == "answer" and self._names_another_platform(query, decision.entry_ids[0]):
            decision = unsure(decision, self.policy, passive=passive)
        entries = tuple(self._entries[i] for i in decision.entry_ids if i in self._entries)
        return Asked(decision, entries, tuple(matches))

    def _names_another_platform(self, query: str, entry_id: str) -> bool:
        """The question names a platform or app (`OTHER_PLATFORMS`) that the entry's question,
        phrasings, keywords and answer never mention: its steps are for somewhere else."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return False
        folded = strip_mentions(fold(query), self.contest.bot.nickname)  # not [CQ:at,qq=…]
        named = [p for p in OTHER_PLATFORMS if p in folded]
        if not named:
            return False
        told = fold(" ".join([entry.question, *entry.phrasings, *entry.keywords, entry.answer]))
        return any(p not in told for p in named)

    def _rank(self, query: str, vector: np.ndarray | None) -> tuple[list[Match], float]:
        """The best three entries and the margin that counts as "clearly ahead" for them
        (see bot.faq.semantic.match); embeds the question here if `vector` is not given."""
        if self._ranker is None:
            return [], MARGIN
        index, embedder = self._semantic, self._embedder
        wanted = index is not None and embedder is not None and vector is None
        if wanted and embedder is not None and self._ranker.has_content(query):
            vector = embedder.query(query)
        return match(self._ranker, index, query, vector)

    # --- talking (see bot.faq.reply) -----------------------------------------------------------

    def claim(
        self,
        text: str,
        *,
        group_id: int | None,
        user_id: int,
        at_bot: bool,
        has_card: bool,
        now: datetime,
        has_media: bool = False,
        reply_to_bot: int | None = None,
    ) -> Mode | None:
        """Whether a plain chat message (not a command) is for the FAQ, and in which mode.

        Cheap: runs on every chatter message of a served group. `at_bot`: the member @-ed the
        bot (or called it by name); `has_card`: the message carries a share card (a
        submission); `has_media`: a voice message or a picture; `reply_to_bot`: the id of the
        bot's message it quotes, if any.
        """
        if reply_to_bot is not None and is_wrong_answer_reply(text):
            return "wrong"
        if (
            len(text) <= CHOICE_MAX
            and self.guards.pending.waiting(group_id, user_id, now)
            and parse_choice(text) is not None
        ):
            return "choice"
        if group_id is None:
            return None
        if at_bot:
            if has_media and not text.strip():
                return "media"
            return None if has_card or carries_link(text) else "mention"
        if has_card or not self._passive_wanted(text, group_id):
            return None
        return "passive"

    def _passive_wanted(self, text: str, group_id: int) -> bool:
        policy = self.policy
        if not policy.passive or group_id in policy.passive_off_groups:
            return False
        if not PASSIVE_MIN <= len(text.strip()) <= PASSIVE_MAX:
            return False
        return self.looks_like_question(text) and not carries_link(text)

    async def respond(
        self,
        question: str,
        *,
        mode: Mode,
        group_id: int | None,
        user_id: int,
        now: datetime,
        at_bot: bool = False,
        reply_to_bot: int | None = None,
    ) -> Reply:
        """What to say to `question` asked in `mode`.

        An explicit question (/问, @, a number reply, 不对) always gets its own outcome: an
        answer, a list, or "cannot answer" with the question recorded — unless the same member
        asked more than `ASKS_PER_MINUTE` times this minute. Only passive answers count
        against the group's flood limit. `at_bot` matters for "choice", `reply_to_bot` for
        "wrong".
        """
        question = question.strip()
        if mode == "media":
            return Usage("media")
        if mode == "wrong":
            return await self._wrong(group_id, user_id, reply_to_bot, now)
        if mode != "passive" and not self.guards.askers.allow(group_id, user_id, now):
            warn = self.guards.askers.warn(group_id, user_id, now)
            return SlowDown() if warn else Silent()
        if mode == "choice":
            picked = self.guards.pending.pick(group_id, user_id, question, now)
            if picked is not None:
                chosen, offer = picked
                await self.resolve_suggestion(offer.question)
                entry = self.get(chosen)
                if entry is None:
                    return Silent()
                return self._answer(entry, offer.question, group_id, now, passive=False)
            if group_id is None:
                return Silent()
            if at_bot:
                mode = "mention"
            elif self._passive_wanted(question, group_id):
                mode = "passive"
            else:
                return Silent()
        return await self._asked(question, mode, group_id, user_id, now)

    async def _asked(
        self, question: str, mode: Mode, group_id: int | None, user_id: int, now: datetime
    ) -> Reply:
        passive = mode == "passive"
        if not question or len(question) > QUERY_MAX:
            return Silent() if passive else Usage("empty" if not question else "too_long")
        vector = await self.question_vector(question)
        asked = self.ask(question, passive=passive, vector=vector)
        kind = asked.decision.kind
        if kind == "answer" and asked.entries:
            if not passive:
                self.guards.pending.drop(group_id, user_id)
            return self._answer(asked.entries[0], question, group_id, now, passive=passive)
        if passive:
            return Silent()  # passive mode never suggests and never says it cannot answer
        self.guards.pending.drop(group_id, user_id)
        if kind == "suggest" and asked.entries:
            ids = tuple(e.id for e in asked.entries)
            self.guards.pending.offer(group_id, user_id, ids, now, question)
            await self.record_unanswered(
                question, group=group_id, user=user_id, now=now, kind="suggested", offered=ids
            )
            return Suggest(asked.entries)
        # "@机器人 谢谢" is not a question worth an organizer's time; /问 always is.
        if mode == "command" or self.looks_like_question(question):
            await self.record_unanswered(question, group=group_id, user=user_id, now=now)
        return Cannot(self.policy.contacts)

    def _answer(
        self, entry: FaqEntry, question: str, group_id: int | None, now: datetime, *, passive: bool
    ) -> Reply:
        """The entry's answer, or a pointer to the same answer given a few minutes ago."""
        repeats = self.guards.repeats
        if group_id is not None:
            earlier = repeats.earlier(group_id, entry.id, now)
            if earlier is not None:
                if passive and not self.guards.floods.allow(group_id, now):
                    return Silent()
                return Repeat(earlier.message_id)
            if passive and not self.guards.floods.allow(group_id, now):
                logger.info("FAQ: flood limit reached in group {}", group_id)
                return Silent()
            repeats.answered(group_id, entry.id, now)  # before sending: a second asker waits
        return Answer(entry, question)

    async def _wrong(
        self, group_id: int | None, user_id: int, reply_to_bot: int | None, now: datetime
    ) -> Reply:
        """The asker said 不对 to an answer: record their question as unanswered."""
        sent = (
            self.guards.answers.of(group_id, reply_to_bot, now)
            if reply_to_bot is not None
            else None
        )
        if sent is None:
            return Usage("rephrase")
        await self.record_unanswered(
            sent.question,
            group=group_id,
            user=user_id,
            now=now,
            kind="wrong",
            wrong_entry=sent.entry_id,
        )
        return Noted(self.policy.contacts)

    async def delivered(
        self,
        answer: Answer,
        *,
        group_id: int | None,
        sent: bool,
        message_id: int | None,
        now: datetime,
    ) -> None:
        """After an `Answer` was sent (or not): remember it against repeats and for a 不对
        reply, count it."""
        entry = answer.entry
        if group_id is not None:
            if not sent:
                self.guards.repeats.forget(group_id, entry.id)  # the next asker may have it
            elif message_id is not None:
                self.guards.repeats.answered(group_id, entry.id, now, message_id)
        if message_id is not None and sent:
            self.guards.answers.remember(group_id, message_id, answer.question, entry.id, now)
        if not sent:
            return
        try:
            await self.count_answer(entry.id, now)
        except Exception:
            # The answer is out; a lost count must not become an error reply to the asker.
            logger.exception("FAQ: answer to {} not counted", entry.id)

    async def test(self, question: str) -> list[Match]:
        """The best three entries with their scores (for /faq 测试), as `ask` sees them."""
        vector = await self.question_vector(question)
        return self._rank(question[:QUERY_MAX], vector)[0]

    def shared_words(self, question: str, entry_id: str) -> list[str]:
        """The words `question` shares with the entry (for /faq 测试's "命中" lines)."""
        if self._ranker is None:
            return []
        return self._ranker.shared_words(question[:QUERY_MAX], entry_id)

    def list_entries(self) -> list[FaqEntry]:
        return list(self._entries.values())

    def get(self, entry_id: str) -> FaqEntry | None:
        return self._entries.get(entry_id.strip().lower())

    # --- checking what organizers type --------------------------------------------------------

    def _check_id(self, entry_id: str) -> str:
        entry_id = entry_id.strip()
        if not knowledge.ID_PATTERN.fullmatch(entry_id) or len(entry_id) > knowledge.ID_MAX:
            raise FaqError(ERR_ID.format(id=entry_id[: knowledge.ID_MAX + 5]))
        return entry_id

    def _existing(self, entry_id: str) -> FaqEntry:
        entry = self._entries.get(entry_id.strip().lower())
        if entry is None:
            raise FaqNotFound(ERR_NOT_FOUND.format(id=entry_id.strip()[: knowledge.ID_MAX + 5]))
        return entry

    @staticmethod
    def _check_question(question: str) -> str:
        text = clean_text(question).replace("\n", " ")
        if len(text) > QUESTION_MAX:
            raise FaqError(ERR_QUESTION_LONG)
        if len(_NON_WORD.sub("", fold(text))) < QUESTION_MIN:
            raise FaqError(ERR_QUESTION_SHORT)
        return text

    def _check_answer(self, template: str) -> str:
        text = clean_text(template)
        if not text:
            raise FaqError(ERR_ANSWER_EMPTY)
        if len(text) > TEMPLATE_MAX:
            raise FaqError(ERR_TEMPLATE_LONG)
        bare = _PLACEHOLDER.sub("", text)
        if any(mark in bare for mark in ("{{", "}}", "{%", "%}", "{#", "#}")):
            raise FaqError(ERR_TEMPLATE_SYNTAX)
        rendered, why = knowledge.render_answer(text, self._context)
        if rendered is None:
            raise FaqError(ERR_TEMPLATE.format(why=why))
        if not rendered:
            raise FaqError(ERR_ANSWER_EMPTY)
        if len(rendered) > knowledge.MAX_ANSWER_CHARS:
            raise FaqError(ERR_ANSWER_LONG)
        return text

    # --- changes ------------------------------------------------------------------------------

    async def add(
        self, entry_id: str, question: str, answer: str, *, actor: int | None, now: datetime
    ) -> FaqEntry:
        """A new entry (or one that reuses the id of a deleted entry)."""
        entry_id = self._check_id(entry_id)
        question = self._check_question(question)
        answer = self._check_answer(answer)
        async with self._lock:
            if entry_id in self._entries:
                raise FaqError(ERR_EXISTS.format(id=entry_id))
            async with write_transaction(self.sessions) as session:
                row = await session.get(FaqEntryRow, entry_id)
                before = row.snapshot() if row is not None else None
                if row is None:
                    row = FaqEntryRow(id=entry_id, updated_at=now)
                row.question, row.answer, row.deleted = question, answer, False
                row.updated_by, row.updated_at = actor, now
                session.add(row)
                session.add(self._change(now, actor, "add", entry_id, before, row.snapshot()))
            await self._rebuild()
        return self._entries[entry_id]

    async def edit(
        self,
        entry_id: str,
        question: str | None,
        answer: str | None,
        *,
        actor: int | None,
        now: datetime,
    ) -> FaqEntry:
        """Change an entry's question and/or answer (None or blank: keep it)."""
        new_question = self._check_question(question) if question and question.strip() else None
        new_answer = self._check_answer(answer) if answer and answer.strip() else None
        if new_question is None and new_answer is None:
            raise FaqError(ERR_NOTHING_TO_EDIT.format(id=entry_id.strip()[: knowledge.ID_MAX]))
        async with self._lock:
            entry = self._existing(entry_id)
            async with write_transaction(self.sessions) as session:
                row = await session.get(FaqEntryRow, entry.id)
                before = row.snapshot() if row is not None else None
                if row is None:
                    row = FaqEntryRow(id=entry.id, updated_at=now)
                if new_question is not None:
                    row.question = new_question
                if new_answer is not None:
                    row.answer = new_answer
                row.updated_by, row.updated_at = actor, now
                session.add(row)
                session.add(self._change(now, actor, "edit", entry.id, before, row.snapshot()))
            await self._rebuild()
        return self._entries[entry.id]

    async def delete(self, entry_id: str, *, actor: int | None, now: datetime) -> FaqEntry:
        """Hide an entry (a tombstone, so a file entry stays hidden after /faq 重载)."""
        async with self._lock:
            entry = self._existing(entry_id)
            async with write_transaction(self.sessions) as session:
                row = await session.get(FaqEntryRow, entry.id)
                before = row.snapshot() if row is not None else None
                if row is None:
                    row = FaqEntryRow(id=entry.id, updated_at=now)
                row.deleted = True
                row.updated_by, row.updated_at = actor, now
                session.add(row)
                session.add(self._change(now, actor, "delete", entry.id, before, row.snapshot()))
            await self._rebuild()
        return entry

    async def learn(
        self, unanswered_id: int, entry_id: str, *, actor: int | None, now: datetime
    ) -> tuple[list[Unanswered], FaqEntry]:
        """Teach an unanswered question, and the questions grouped with it (see
        `unanswered_groups`), to an entry: each wording becomes a new phrasing. The questions
        taught, the one named first."""
        group = [q.id for q in await self._group_of(unanswered_id)]
        async with self._lock:
            entry = self._existing(entry_id)
            async with write_transaction(self.sessions) as session:
                asked = await session.get(FaqUnanswered, unanswered_id)
                if asked is None:
                    raise FaqNotFound(ERR_UNANSWERED.format(number=unanswered_id))
                if asked.learned_entry is not None:
                    raise FaqError(
                        ERR_LEARNED.format(number=unanswered_id, entry=asked.learned_entry)
                    )
                others = [await session.get(FaqUnanswered, i) for i in group if i != asked.id]
                rows = [asked, *(o for o in others if o is not None and o.learned_entry is None)]
                row = await session.get(FaqEntryRow, entry.id)
                before = row.snapshot() if row is not None else None
                if row is None:
                    row = FaqEntryRow(id=entry.id, updated_at=now)
                for taught_row in rows:
                    phrasing = _phrasing(taught_row.text)
                    if phrasing not in row.phrasings:
                        row.phrasings = [*row.phrasings, phrasing]
                    taught_row.learned_entry = entry.id
                    session.add(taught_row)
                row.updated_by, row.updated_at = actor, now
                session.add(row)
                change = self._change(now, actor, "learn", entry.id, before, row.snapshot())
                change.unanswered_id = asked.id
                session.add(change)
                taught = [_unanswered(r) for r in rows]
            await self._rebuild()
        return taught, self._entries[entry.id]

    async def _group_of(self, unanswered_id: int) -> tuple[Unanswered, ...]:
        for group in await self.unanswered_groups(GROUP_SCAN):
            if any(m.id == unanswered_id for m in group.members):
                return group.members
        return ()

    async def undo(self, *, actor: int | None, now: datetime) -> Change | None:
        """Revert the most recent change not yet undone; None if there is nothing to undo.

        The undo is itself logged (action "undo", before/after swapped); sending /faq 撤销
        again walks further back.
        """
        async with self._lock:
            async with write_transaction(self.sessions) as session:
                last = (
                    await session.exec(
                        select(FaqChange)
                        .where(col(FaqChange.action) != "undo", col(FaqChange.undone).is_(False))
                        .order_by(col(FaqChange.id).desc())
                        .limit(1)
                    )
                ).first()
                if last is None:
                    return None
                row = await session.get(FaqEntryRow, last.entry_id)
                if last.before is None:
                    if row is not None:
                        await session.delete(row)
                else:
                    if row is None:
                        row = FaqEntryRow(id=last.entry_id, updated_at=now)
                    _restore(row, last.before)
                    row.updated_by, row.updated_at = actor, now
                    session.add(row)
                if last.unanswered_id is not None:
                    await self._unlearn(session, last)
                last.undone = True
                session.add(last)
                session.add(
                    self._change(now, actor, "undo", last.entry_id, last.after, last.before)
                )
                assert last.id is not None
                undone = Change(last.id, last.at, last.actor, last.action, last.entry_id)
            await self._rebuild()
        return undone

    @staticmethod
    async def _unlearn(session: Any, change: FaqChange) -> None:
        """The questions a "learn" change taught are unanswered again: the one named and
        those of its group, whose wordings the change added."""
        added = set((change.after or {}).get("phrasings") or []) - set(
            (change.before or {}).get("phrasings") or []
        )
        taught = (
            await session.exec(
                select(FaqUnanswered).where(col(FaqUnanswered.learned_entry) == change.entry_id)
            )
        ).all()
        for asked in taught:
            if asked.id == change.unanswered_id or _phrasing(asked.text) in added:
                asked.learned_entry = None
                session.add(asked)

    @staticmethod
    def _change(
        now: datetime,
        actor: int | None,
        action: str,
        entry_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> FaqChange:
        return FaqChange(
            at=now, actor=actor, action=action, entry_id=entry_id, before=before, after=after
        )

    async def history(self, limit: int = 20) -> list[Change]:
        """The latest changes, newest first (undos included)."""
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(FaqChange).order_by(col(FaqChange.id).desc()).limit(limit)
                )
            ).all()
        return [Change(r.id or 0, r.at, r.actor, r.action, r.entry_id) for r in rows]

    # --- unanswered questions -----------------------------------------------------------------

    async def record_unanswered(
        self,
        question: str,
        *,
        group: int | None,
        user: int | None,
        now: datetime,
        kind: str = "unanswered",
        offered: Sequence[str] = (),
        wrong_entry: str | None = None,
    ) -> Unanswered | None:
        """Count a question the bot could not answer (the same wording is one row).

        `kind` "suggested": candidates were offered (`offered`); a pick resolves it again
        (`resolve_suggestion`). "wrong": the asker said 不对 to the answer of `wrong_entry`.
        The latest kind wins: a question once suggested and now unanswered is unanswered.
        """
        key = question_key(question, self.contest.bot.nickname)
        if not key:
            return None
        text = clean_text(question).replace("\n", " ")[:UNANSWERED_TEXT_MAX]
        for attempt in range(2):
            try:
                async with write_transaction(self.sessions) as session:
                    row = (
                        await session.exec(select(FaqUnanswered).where(FaqUnanswered.key == key))
                    ).first()
                    if row is None:
                        row = FaqUnanswered(key=key, text=text, count=0, first_at=now, last_at=now)
                    row.count += 1
                    row.text, row.last_at, row.last_group, row.last_user = text, now, group, user
                    row.kind, row.offered, row.wrong_entry = kind, list(offered), wrong_entry
                    # Taught, yet asked again and still not answered: back on the list.
                    row.learned_entry = None
                    session.add(row)
                    await session.flush()
                    return _unanswered(row)
            except IntegrityError:
                if attempt:
                    raise
                # Another process recorded the same question at the same moment: count again.
        return None  # pragma: no cover - the loop returns or raises

    async def resolve_suggestion(self, question: str) -> None:
        """The asker picked one of the candidates offered for `question`: one offer fewer to
        follow up (the row goes when none is left)."""
        key = question_key(question, self.contest.bot.nickname)
        if not key:
            return
        async with write_transaction(self.sessions) as session:
            row = (
                await session.exec(select(FaqUnanswered).where(FaqUnanswered.key == key))
            ).first()
            if row is None or row.kind != "suggested":
                return
            row.count -= 1
            if row.count <= 0:
                await session.delete(row)
            else:
                session.add(row)

    async def unanswered(self, limit: int = 10, now: datetime | None = None) -> list[Unanswered]:
        """Questions still unanswered, most often asked first.

        With `now`, questions offered candidates a moment ago are left out until the asker has
        had `followup_minutes` to pick one.
        """
        query = select(FaqUnanswered).where(col(FaqUnanswered.learned_entry).is_(None))
        if now is not None:
            settled = now - timedelta(minutes=self.policy.followup_minutes)
            query = query.where(
                sa.or_(
                    col(FaqUnanswered.kind) != "suggested", col(FaqUnanswered.last_at) <= settled
                )
            )
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    query.order_by(
                        col(FaqUnanswered.count).desc(),
                        col(FaqUnanswered.last_at).desc(),
                        col(FaqUnanswered.id),
                    ).limit(limit)
                )
            ).all()
        return [_unanswered(r) for r in rows]

    async def unanswered_groups(
        self, limit: int = 10, now: datetime | None = None
    ) -> list[UnansweredGroup]:
        """Unanswered questions (as `unanswered`), alike ones grouped; the most asked first."""
        rows = await self.unanswered(GROUP_SCAN, now)
        # The most asked leads its group; among equals, the one asked first.
        rows.sort(key=lambda r: (-r.count, r.first_at, r.id))
        keys = [question_key(r.text, self.contest.bot.nickname) for r in rows]
        vectors = None
        if self._embedder is not None and rows:
            texts = [_phrasing(r.text) for r in rows]
            await self._embed(self._embedder, self._cache.missing(self._embedder.name, texts))
            vectors = np.stack([self._cache.get(self._embedder.name, t) for t in texts])
        groups = [
            UnansweredGroup(tuple(rows[i] for i in members))
            for members in group_alike(keys, vectors)
        ]
        groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp(), g.id))
        return groups[:limit]

    # --- answers given ------------------------------------------------------------------------

    async def count_answer(self, entry_id: str, now: datetime) -> None:
        """Count one answer of `entry_id` actually sent (not a suggestion, not a pointer).

        One INSERT … ON CONFLICT DO UPDATE: atomic on SQLite and PostgreSQL alike, so bot
        processes answering at the same moment lose no count.
        """
        table = SQLModel.metadata.tables[FaqAsked.__tablename__]
        async with write_transaction(self.sessions) as session:
            connection = await session.connection()
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(table).values(entry_id=entry_id, count=1, last_at=now)
            await connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[table.c.entry_id],
                    set_={"count": table.c.count + 1, "last_at": insert.excluded.last_at},
                )
            )

    async def most_asked(self, limit: int = 20) -> list[AnswerCount]:
        """The entries answered most often, most first (one query)."""
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(FaqAsked)
                    .order_by(
                        col(FaqAsked.count).desc(),
                        col(FaqAsked.last_at).desc(),
                        col(FaqAsked.entry_id),
                    )
                    .limit(limit)
                )
            ).all()
        return [
            AnswerCount(
                r.entry_id,
                entry.question if (entry := self._entries.get(r.entry_id)) else None,
                r.count,
                r.last_at,
            )
            for r in rows
        ]
