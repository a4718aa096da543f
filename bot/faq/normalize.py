"""Normalise short colloquial Chinese questions before matching.

A member types `@大赛助手 請問老師 博课咋插图片呀？？` on a phone; the ranker should see the
tokens `博客 怎么 插入 图片`. The steps, in order:

1. fold: NFKC (full-width → half-width), traditional → simplified (zhconv), lower case;
2. drop the bot's nickname and @ mentions; any character count (600字, 五百字) → 字数;
3. split on everything that is not a letter or digit (punctuation, emoji, spaces);
4. segment with rjieba's dictionary only (no HMM guessing, which glues 交了 or 刚发
   together), with the synonyms, keywords and fillers added to the dictionary; a compound
   of 3+ characters is split into the two-character words the knowledge base uses
   (字体大小 → 字体 大小), the same way for questions and phrasings;
5. drop filler tokens (请问 老师 一下 啊 呢 …) — by token, so 吗 inside a word stays;
6. fix homophone typos (博课 → 博客, 连接 → 链接): a token that is not a known word — or two
   one-character tokens (博 课) — whose toneless pinyin is that of exactly one
   knowledge-base word (two or more characters) becomes that word;
7. map synonyms to their group's first word (发布 → 发表), from config/synonyms.txt plus the
   colloquial question words below (咋 → 怎么).

Pure: no I/O. The ranker builds one `Normalizer` per knowledge base.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import rjieba
import zhconv
from pypinyin import Style, lazy_pinyin


def word_list(text: str) -> frozenset[str]:
    """Words separated by white space (a long list reads better as a block of text)."""
    return frozenset(text.split())


# Tokens that carry no meaning in a question typed into a QQ group. Matched as whole tokens,
# after segmentation (so 吗 in 吗啡 and 老师 in 老师傅 are not touched).
FILLERS: frozenset[str] = word_list(
    """
    请问 请教 问下 问一下 问问 想问 想问下 想问一下 我想问 请问下 请问一下 咨询 咨询一下
    老师 老师们 领导 各位 大家 大家好 各位好 您好 你好 你们好 哈喽 在吗 在不在 亲 同志 同志们
    一下 一下子 下下 麻烦 麻烦您 麻烦你 打扰 打扰一下 不好意思 谢谢 谢谢您 谢了 多谢 感谢 辛苦
    啊 呀 呢 吧 吗 嘛 呐 哦 噢 喔 哟 嗯 嗯嗯 呃 额 哎 唉 哈 哈哈 哈哈哈 啦 咯 嘞 哇 诶 欸 么
    那个 这个 就是 就是说 然后 那么 这样 的话 话说 其实 到底 究竟 具体 一般
    请 帮忙 帮帮忙 帮我 帮 求 求助 急 急急急 在线等 谁知道 有人知道 知道
    """
)

# Colloquial and regional variants that are the same word for matching purposes. The
# organizers' synonyms.txt is for the contest's own words; these are Chinese itself.
BUILTIN_SYNONYMS: tuple[tuple[str, ...], ...] = (
    (
        "怎么",
        "咋",
        "咋样",
        "怎样",
        "怎么样",
        "如何",
        "怎么办",
        "咋办",
        "咋整",
        "怎么弄",
        "咋弄",
        "怎么搞",
        "咋搞",
        "怎么整",
        "怎办",
        "要怎么",
        "该怎么",
        "怎么才能",
        "如何才能",
        "怎么去",
    ),
    ("什么", "啥", "什么样", "啥样", "哪些", "啥子"),
    ("哪里", "哪儿", "在哪", "在哪里", "在哪儿", "哪"),
    ("为什么", "为啥", "怎么回事", "咋回事", "为何"),
    ("能不能", "能否", "可不可以", "可以不", "行不行", "能", "可以", "可否"),
    ("多少", "几个", "多少个"),
    ("博客", "部落格", "blog", "博文", "博客文章"),
    ("没有", "没", "木有"),
    # Colloquial short forms; they join the organizers' group if it has the long form.
    ("转发", "转", "转给", "转一转"),
)

# Words that make a message look like a question or a request for help (checked on the folded
# raw text, before filler removal, since 请问 and 吗 are exactly such cues).
QUESTION_CUES: tuple[str, ...] = (
    "?",
    "怎么",
    "怎样",
    "如何",
    "咋",
    "哪",
    "什么",
    "啥",
    "多少",
    "几",
    "吗",
    "么",
    "能不能",
    "能否",
    "可不可以",
    "可以不",
    "是不是",
    "是否",
    "有没有",
    "要不要",
    "会不会",
    "行不行",
    "求助",
    "求教",
    "请教",
    "请问",
    "问下",
    "问一下",
    "想问",
    "咨询",
    "为什么",
    "为啥",
    "不会",
    "不懂",
    "不知道",
    "不了",
    "不上",
    "不出",
    "不进",
    "不行",
    "不能",
    "失败",
    "报错",
    "出错",
    "错误",
    "没反应",
    "没显示",
    "找不到",
    "看不到",
    "打不开",
    "没有了",
    # counts or not, will it do (算不算 / 行伐 / 阿是): asking, though no 吗
    "算不算",
    "算不",
    "伐",
    "阿是",
    "好不好",
    "对不对",
    # a stated problem is a plea for help
    "不成功",
    "不显示",
    "不见了",
    "没法",
    "没办法",
    "搞不定",
    "弄不好",
    "卡住",
    "忘了",
    "忘记",
    "想不起",
    "记不得",
    "记不起",
    "进不去",
    "没权限",
    "没有权限",
    # the same in Wu, where 勿 is 不 (弄勿来 / 寻勿着 / 发勿出去 / 勿见脱了)
    "勿来",
    "勿着",
    "勿出",
    "勿上",
    "勿进",
    "勿见",
    "勿懂",
    "勿会",
    "帮帮",
    "帮忙",
    "教教",
    "急死",
    "谁",
    # Wu yes-no questions: 阿 before the verb (阿好发 / 阿有办法 / 阿算数 / 阿来三)
    "阿好",
    "阿有",
    "阿要",
    "阿算",
    "阿能",
    "阿可以",
    "阿来三",
    "阿会",
    "阿行",
    # more stated problems: …不到 (搜不到, 收不到), …不掉, 被封, 不让
    "不到",
    "不掉",
    "没收到",
    "被封",
    "封号",
    "不让",
    "乱了",
    "全没了",
    # pinyin and English question words, as typed on a phone without a Chinese keyboard
    "zenme",
    "zenyang",
    "shenme",
    "nali",
    "how ",
    "how to",
    "where",
    "what",
    "why",
)

# "600字" / "五百字" / "一千五百字": a character count, whatever the number.
_CHAR_COUNT = re.compile(
    r"(?:\d+|[一二两三四五六七八九十]+[百千][一二三四五六七八九十百]*)字(?!号|体)"
)
CHAR_COUNT_WORD = "字数"
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_MENTION = re.compile(r"@\S{1,24}?(?=\s|$)|\[cq:at,[^\]]*\]|\[at:[^\]]*\]")
# "@" typed right after a Chinese character is the verb (怎么@人, 想@一下书记), not a mention;
# so is an "@" on its own (提到（@）某人, 就是@).
_AT_VERB = re.compile(r"(?<=[\u3400-\u4dbf\u4e00-\u9fff])@|@(?=[^\w]|$)")
AT_WORD = "艾特"


def fold(text: str) -> str:
    """Full-width → half-width, traditional → simplified, lower case. Nothing is removed."""
    text = unicodedata.normalize("NFKC", text)
    return zhconv.convert(text, "zh-cn").lower()


def strip_mentions(text: str, nickname: str = "") -> str:
    """Remove the bot's nickname (with or without @) and other @name mentions from folded text;
    an "@" used as a verb (怎么@人) becomes the word 艾特."""
    nick = fold(nickname).strip() if nickname else ""
    if nick:
        text = text.replace("@" + nick, " ").replace(nick, " ")
    return _MENTION.sub(" ", _AT_VERB.sub(f" {AT_WORD} ", text))


# Where a long message breaks into clauses: punctuation, spaces, line breaks.
_CLAUSE_BREAK = re.compile(r"[，,。．.！!？?；;：:、…~～\s]+")
CLAUSE_MIN = 4  # shorter pieces (好的, 请问) say nothing alone
CLAUSES_MAX = 4


def clauses(text: str) -> list[str]:
    """The pieces of a long message worth ranking on their own: each clause of at least
    `CLAUSE_MIN` characters and each pair of neighbouring clauses (a question often spans
    two: 文章写好了，不会把链接发给我), at most `CLAUSES_MAX` clauses; [] for a message of
    one clause."""
    parts = [p for p in _CLAUSE_BREAK.split(text) if p]
    if len(parts) < 2:
        return []
    parts = parts[-CLAUSES_MAX:]  # the question is usually at the end, after the context
    pieces = [p for p in parts if len(p) >= CLAUSE_MIN]
    pieces += [a + b for a, b in itertools.pairwise(parts) if len(a + b) >= CLAUSE_MIN]
    return list(dict.fromkeys(pieces))


def looks_like_question(text: str, nickname: str = "") -> bool:
    """Whether a group message reads as a question or a plea for help (used by passive mode).

    Statements such as 我刚发了一篇博客 or 收到 have no cue and stay unanswered however well
    their words match an entry; 怎么发博客 / 博客发不出去 / 能用手机发吗 do.
    """
    folded = strip_mentions(fold(text), nickname)
    return any(cue in folded for cue in QUESTION_CUES)


def toneless_pinyin(word: str) -> str:
    return "-".join(lazy_pinyin(word, style=Style.NORMAL))


@lru_cache(maxsize=65536)
def _cached_pinyin(word: str) -> str:
    return toneless_pinyin(word)


def _is_cjk(word: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" for ch in word)


@dataclass
class Normalizer:
    """Turns a question into canonical tokens; built once per knowledge base (see `build`)."""

    nickname: str = ""
    # word (folded) → canonical word
    canonical: dict[str, str] = field(default_factory=dict)
    # toneless pinyin → the one known word with that sound
    homophones: dict[str, str] = field(default_factory=dict)
    known: frozenset[str] = frozenset()
    heads: frozenset[str] = frozenset()  # canonical words of the organizers' synonym groups
    atoms: frozenset[str] = frozenset()
    fillers: frozenset[str] = FILLERS
    _jieba: rjieba.Jieba = field(default_factory=rjieba.Jieba, repr=False)
    _cache: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        vocabulary: Iterable[str],
        synonyms: Sequence[Sequence[str]] = (),
        nickname: str = "",
        words: Iterable[str] = (),
    ) -> Normalizer:
        """`vocabulary`: the knowledge base's texts (questions, phrasings, keywords);
        `words`: words to keep whole when segmenting (the entries' keywords).

        Synonym groups: the first word is canonical; a word already in an earlier group keeps
        its first group. The organizers' groups come before the built-in ones.
        """
        norm = cls(nickname=nickname)
        canonical: dict[str, str] = {}
        groups = [tuple(fold(w).strip() for w in g) for g in (*synonyms, *BUILTIN_SYNONYMS)]
        for group in groups:
            members = [w for w in group if w]
            if not members:
                continue
            for word in members:
                canonical.setdefault(word, canonical.get(members[0], members[0]))
        norm.canonical = canonical
        norm.heads = frozenset(canonical[fold(g[0]).strip()] for g in synonyms if g)
        for word in {*canonical, *(fold(w).strip() for w in words), AT_WORD}:
            if len(word) >= 2:
                norm._jieba.add_word(word, max(norm._jieba.suggest_freq(word), 2000), None)
        for filler in FILLERS:
            if len(filler) >= 2:
                norm._jieba.add_word(filler, max(norm._jieba.suggest_freq(filler), 2000), None)

        # Atoms: the two-character words the knowledge base uses, and the synonyms. A longer
        # token made of atoms is split into them (字体大小 → 字体 大小), on both sides.
        texts = list(vocabulary)
        first = [norm._segment(text) for text in texts]
        atoms = {t for tokens in first for t in tokens if len(t) == 2 and _is_cjk(t)}
        norm.atoms = frozenset((atoms | set(canonical)) - FILLERS)

        # Known words: what the knowledge base itself says, after segmentation.
        known: set[str] = set(canonical)
        for text in texts:
            known.update(norm._segment(text))
        known -= FILLERS
        norm.known = frozenset(known)

        by_sound: dict[str, set[str]] = {}
        for word in known:
            if len(word) >= 2 and _is_cjk(word):
                target = canonical.get(word, word)
                by_sound.setdefault(_cached_pinyin(word), set()).add(target)
        norm.homophones = {sound: next(iter(ws)) for sound, ws in by_sound.items() if len(ws) == 1}
        return norm

    def _segment(self, text: str) -> list[str]:
        folded = _CHAR_COUNT.sub(
            " " + CHAR_COUNT_WORD + " ", strip_mentions(fold(text), self.nickname)
        )
        tokens: list[str] = []
        for chunk in _NON_WORD.split(folded):
            if chunk:
                for token in self._jieba.cut(chunk, False):
                    tokens.extend(self._split(token))
        return tokens

    def _split(self, token: str) -> list[str]:
        """A compound of 3+ characters into the atoms it contains, the rest kept together."""
        if len(token) < 3 or token in self.atoms or not self.atoms:
            return [token]
        pieces: list[str] = []
        rest = ""
        i = 0
        while i < len(token):
            for size in range(min(4, len(token) - i), 1, -1):
                if token[i : i + size] in self.atoms:
                    if rest:
                        pieces.append(rest)
                        rest = ""
                    pieces.append(token[i : i + size])
                    i += size
                    break
            else:
                rest += token[i]
                i += 1
        if rest:
            pieces.append(rest)
        return pieces if len(pieces) > 1 else [token]

    def _correct(self, tokens: list[str]) -> list[str]:
        """Replace homophone typos: a whole unknown token, or two single-character tokens."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if (
                len(token) == 1
                and i + 1 < len(tokens)
                and len(tokens[i + 1]) == 1
                and _is_cjk(token + tokens[i + 1])
            ):
                pair = token + tokens[i + 1]
                fixed = self.homophones.get(_cached_pinyin(pair))
                if fixed is not None and pair not in self.known:
                    out.append(fixed)
                    i += 2
                    continue
            if len(token) >= 2 and token not in self.known and _is_cjk(token):
                fixed = self.homophones.get(_cached_pinyin(token))
                if fixed is not None:
                    token = fixed
            out.append(token)
            i += 1
        return out

    def tokens(self, text: str) -> tuple[str, ...]:
        """Canonical content tokens of `text`, in order (fillers removed, typos fixed)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        # Typos first: a filler character may be half of a mistyped word (密马 → 密码).
        raw = [t for t in self._correct(self._segment(text)) if t not in self.fillers]
        result = tuple(self.canonical.get(t, t) for t in raw)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[text] = result
        return result

    def clear_cache(self) -> None:
        self._cache.clear()

    def normalize(self, text: str) -> str:
        """The canonical form as one string (tokens joined without spaces)."""
        return "".join(self.tokens(text))
