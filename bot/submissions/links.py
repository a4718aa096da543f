"""Submitted links: find them in a chat message, check them, and normalise them.

Three pure steps, no I/O:

1. `extract_candidates` finds link candidates (with the author's name when it stands right
   before a link) in a OneBot v11 segment array: plain text, QQ share cards (`json` and `xml`
   segments) included.
   Invisible characters (zero-width spaces, joiners, BOMs) and bidirectional controls are
   removed first: pasted from a phone they would cut a link in two or hide part of it.
2. `check_link` refuses what must not be stored or fetched (other schemes, IP and loopback
   hosts, userinfo tricks, CQ codes, odd ports, hosts off the contest's platform list) and
   pages that are not one post (profiles, login, search, lists: `shapes.py`), each with its
   own short Chinese reason, and returns the normalised URL of an acceptable link.
3. `normalize` gives one canonical string per post, so a post submitted twice in different
   forms (mobile/desktop, with tracking parameters, ...) is recognised as the same entry.

Canonical Weibo post: `https://m.weibo.cn/status/<numeric mid>`. Every form of a post maps to
it: `weibo.com/<uid>/<base62>`, `weibo.com/<uid>/<mid>`, `m.weibo.cn/status/<mid|base62>`,
`m.weibo.cn/detail/<mid>`, `m.weibo.cn/<uid>/<mid>`, `weibo.cn/comment/<base62>` ...
It is the only form that needs neither the author's uid (which `m.weibo.cn/status/<mid>` does
not carry) nor a lookup, and it opens on phones and desktops alike.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.messages.cq import cq_unescape
from bot.submissions.shapes import page_kind
from bot.submissions.states import EntryKind

MAX_URL_LENGTH = 2048


# ---------------------------------------------------------------------------------------------
# Weibo ids: the numeric mid and its base62 form (public algorithm)

_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BASE62_INDEX = {ch: i for i, ch in enumerate(_BASE62)}
_MID = re.compile(r"[1-9][0-9]*")
_BASE62_ID = re.compile(r"[1-9a-zA-Z][0-9a-zA-Z]*")


def _to_base62(number: int) -> str:
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)) or "0"


def mid_to_base62(mid: str) -> str:
    """The base62 id of a Weibo post from its numeric mid: `3501756485200075` → `z0JH2lOMb`.

    The mid is cut into 7-digit groups from the right; each group is written in base62
    (alphabet 0-9a-zA-Z), every group but the first padded to 4 characters.
    """
    if not _MID.fullmatch(mid):
        raise ValueError(f"not a Weibo mid: {mid!r}")
    groups: list[str] = []
    end = len(mid)
    while end > 0:
        groups.append(mid[max(0, end - 7) : end])
        end -= 7
    groups.reverse()
    encoded = [_to_base62(int(g)) for g in groups]
    return encoded[0] + "".join(e.rjust(4, "0") for e in encoded[1:])


def base62_to_mid(base62: str) -> str:
    """The numeric mid of a Weibo post from its base62 id (inverse of `mid_to_base62`).

    Raises ValueError for strings that no mid encodes to (so the round trip always holds).
    """
    if not _BASE62_ID.fullmatch(base62):
        raise ValueError(f"not a Weibo base62 id: {base62!r}")
    groups: list[str] = []
    end = len(base62)
    while end > 0:
        groups.append(base62[max(0, end - 4) : end])
        end -= 4
    groups.reverse()
    parts: list[str] = []
    for i, group in enumerate(groups):
        value = 0
        for ch in group:
            value = value * 62 + _BASE62_INDEX[ch]
        if value >= 10_000_000:
            raise ValueError(f"not a Weibo base62 id: {base62!r}")
        parts.append(str(value) if i == 0 else str(value).zfill(7))
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Candidates in a chat message


@dataclass(frozen=True)
class Candidate:
    """A link as found in a message (trimmed of surrounding punctuation) and its author's name.

    `unread_author`: the word standing where the author's name goes (alone right before the
    link, or after `作者：`) when it cannot be taken as a name (`=1+1`, a control character, a
    CQ code): the entry is stored unsigned and the reply says so, instead of dropping the
    name in silence.
    """

    given: str
    author: str | None = None
    unread_author: str | None = None


# A link runs until whitespace, general punctuation (“ ” … ‘ ’) or any CJK / full-width /
# non-BMP character (Chinese text, full-width punctuation, emoji). Anything else stays in the
# candidate, so hostile characters (< > " control characters) reach `check_link` and are
# refused there instead of being quietly cut off into a harmless-looking link.
_BODY = r"[^\s\u2000-\u206f\u2e80-\U0010ffff]"
_LINK = re.compile(
    # any scheme://…, so ftp:// and friends are found and refused with a reason
    rf"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{{0,15}}://{_BODY}*"
    # dangerous schemes that do without //
    rf"|(?<![A-Za-z0-9+.\-])(?i:javascript|vbscript|data|file):{_BODY}+"
    # www.host…, no scheme
    rf"|(?<![A-Za-z0-9.@/_\-])(?i:www)\.[A-Za-z0-9\-]+\.[A-Za-z]{{2,}}{_BODY}*"
    # a bare host with a common TLD and a path ("weibo.com/123/Abc"), no scheme
    rf"|(?<![A-Za-z0-9.@/_\-])(?:[A-Za-z0-9\-]+\.)+(?i:com|cn|net|org|gov|edu|info|top)"
    rf"(?::[0-9]{{1,5}})?/{_BODY}+"
)
# Zero-width characters, word joiner, BOM, and the bidirectional marks, embeddings, overrides
# and isolates: invisible in chat, they are removed before links are looked for.
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
# "https：//" (full-width colon, a common phone IME slip) is read as "https://".
_FULLWIDTH_COLON_SCHEME = re.compile(r"(?<![A-Za-z])((?i:https?))：//")
_TRAILING = set(".,;:!?'\"")
_PAIRS = {")": "(", "]": "[", ">": "<"}

_NAME_CHAR = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·•・]")
_LIST_SEPARATORS = " \t\r\n\u3000\xa0,，、;；。.!！?？"
# Share text ("【张三的微博】今天…", "《标题》", "#话题#") before a link gives no author.
_SHARE_MARKS = re.compile(r"[【】\[\]《》「」『』“”\"（）()…#]")
_AUTHOR_LABEL = re.compile(r"(?:作者|姓名|名字|作者名)\s*[:：]\s*$")
# Characters and words no personal name contains, but sentences and share text do.
_NOT_IN_NAMES = set("的了是在我你他她们这那和与请吗呢吧啊")
_NOT_NAMES = (
    "学习", "今天", "分享", "链接", "微博", "博客", "文章", "复制", "打开", "查看", "点击",
    "来自", "转发", "原文", "全文", "提交", "报送", "作品", "单位", "网址", "地址", "作者",
    "浏览器", "客户端", "人民网", "新华网", "新浪", "腾讯", "详见", "如下", "阅读", "欢迎",
    "进入", "附件", "原创", "转载", "首发", "图文", "视频", "长文", "置顶", "更新", "修改",
    "补交", "重发", "手机", "电脑", "已改", "新版", "旧版", "草稿", "推荐", "优秀", "党员",
)  # fmt: skip
_NOT_ASCII_NAMES = frozenset(
    {"link", "url", "http", "https", "www", "submit", "see", "here", "blog", "weibo", "share"}
    | {"from", "via", "source", "author", "name", "and", "or"}
)


def extract_candidates(segments: Iterable[Mapping[str, Any]]) -> list[Candidate]:
    """Link candidates in a OneBot v11 segment array, in message order.

    Reads `text` segments (several links, each optionally preceded by its author's name) and
    QQ share cards (`json`: jumpUrl / qqdocurl / url anywhere in the card; `xml`: the `url`
    attribute), one link per card. Other segments (at, reply, image, face ...) are skipped and
    separate names from links. Links without a scheme are taken only when they clearly are
    links: `www.` + host, or a host with a common TLD followed by a path
    (`weibo.com/123/Abc`); a bare `weibo.com` inside a sentence is not a link.

    An author is a short word (2–6 Chinese characters, up to 10 with `·`, or 2–10 letters)
    standing right before the link, separated from it by whitespace or a colon, and itself
    standing alone: at the start, after whitespace, after the previous link, or after
    `作者：`. Text inside share text (【…】, 《…》, “…”, #…#, …) never gives a name, nor do
    words of a sentence (`今天学习了党史 https://…`).

    Not deduplicated: the caller compares normalised URLs.
    """
    found: list[Candidate] = []
    gap = ""  # text since the previous link (or the last non-text segment)
    for segment in segments:
        kind = segment.get("type")
        data = segment.get("data")
        if not isinstance(data, Mapping):
            data = {}
        if kind == "text":
            text = data.get("text")
            if isinstance(text, str):
                gap = _scan_text(gap, text, found)
            continue
        if kind in ("json", "xml"):
            raw = data.get("data")
            url = None
            if isinstance(raw, str):
                url = _json_card_url(raw) if kind == "json" else _xml_card_url(raw)
            if url:
                found.append(_candidate(url, gap))
        gap = ""
    return found


def strip_invisible(text: str) -> str:
    """`text` without zero-width characters and bidirectional controls."""
    return _INVISIBLE.sub("", text)


def _scan_text(gap: str, text: str, found: list[Candidate]) -> str:
    text = _FULLWIDTH_COLON_SCHEME.sub(r"\1://", strip_invisible(text))
    position = 0
    for match in _LINK.finditer(text):
        link = _trim(match.group())
        if not link:
            continue
        end = match.start() + len(link)
        after = _author_after(text, end)
        found.append(
            _candidate(link, gap + text[position : match.start()], after[0] if after else None)
        )
        gap = ""
        position = after[1] if after else end
    return gap + text[position:]


def _trim(link: str) -> str:
    """Drop trailing punctuation that belongs to the sentence, not to the link.

    A closing bracket stays when it closes one opened inside the link
    (`https://zh.wikipedia.org/wiki/Foo_(bar)`). Counts are kept incrementally: a hostile
    run of thousands of `)` costs linear time.
    """
    opened = {close: link.count(open_) for close, open_ in _PAIRS.items()}
    closed = {close: link.count(close) for close in _PAIRS}
    end = len(link)
    while end:
        last = link[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in _PAIRS and closed[last] > opened[last]:
            closed[last] -= 1
            end -= 1
        else:
            break
    return link[:end]


def _candidate(link: str, gap: str, after: str | None = None) -> Candidate:
    """A link with the author written before it (`张三 链接`, `【张三】链接`, `张三（链接）`) or,
    in brackets, right after it (`链接（张三）`: `after`)."""
    author = after or _author_before(_unbracket(gap))
    return Candidate(link, author, None if author is not None else _unread_author(gap))


# Brackets people put around a name or a link: （）()【】[]「」『』.
_OPENERS = {"）": "（", ")": "(", "】": "【", "]": "[", "」": "「", "』": "『"}
_BRACKETED_AFTER = re.compile(
    r"[ \t\u3000]?[（(【\[「『]([^（）()【】\[\]「」『』\s:：]{1,12})[）)】\]」』]"
)


def _unbracket(gap: str) -> str:
    """The text before a link with the brackets around the author (or the link) taken off:
    `赵六（` and `【赵六】` read as `赵六 `."""
    text = gap.rstrip(" \t\u3000:：")
    if text and text[-1] in _OPENERS.values():
        return text[:-1].rstrip() + " "  # 赵六（https://…）
    if text and text[-1] in _OPENERS:
        start = text.rfind(_OPENERS[text[-1]])
        inner = text[start + 1 : -1].strip() if start >= 0 else ""
        if inner and _looks_like_name(inner):
            return text[:start] + inner + " "  # 【赵六】https://…
    return gap


def _author_after(text: str, position: int) -> tuple[str, int] | None:
    """A name in brackets right after a link (`https://…（赵六）`) and where it ends."""
    found = _BRACKETED_AFTER.match(text, position)
    if found is None or not _looks_like_name(found.group(1)):
        return None
    return found.group(1), found.end()


# Numbering of a list of links ("1.", "（2）", "③"), not an author.
_LIST_NUMBER = re.compile(
    r"[(（]?(?:[0-9０-９]{1,3}|[一二三四五六七八九十]{1,2})[.、．)）:：]?|[①-⑳]"
)
_UNREAD_MAX = 30
_LEADING_LABEL = re.compile(r"(?:作者名?|姓名|名字)\s*[:：]\s*")


def _unread_author(gap: str) -> str | None:
    """The word in the author's place when `_author_before` found no name in it (see
    `Candidate.unread_author`); None when nothing there looks like an attempt at a name."""
    text = gap.rstrip()
    if text == gap:
        return None  # glued to the link, or nothing before it
    text = text.rstrip(":：").rstrip()
    if not text:
        return None
    word = text.rsplit(None, 1)[-1]
    prefix = text[: len(text) - len(word)]
    label = _LEADING_LABEL.match(word)
    if label is not None:  # "作者：=1+1", written without a space
        prefix, word = prefix + word[: label.end()], word[label.end() :]
    alone = not prefix.strip(_LIST_SEPARATORS) or _AUTHOR_LABEL.search(prefix[-20:])
    if not alone or len(word) > _UNREAD_MAX or _LIST_NUMBER.fullmatch(word):
        return None
    if word.startswith(("《", "【", "“", "「", "『", "#", "http")) or _AUTHOR_LABEL.search(word):
        return None  # a title, share text, a topic, a label without a name
    if _NOT_IN_NAMES.intersection(word) or any(w in word for w in _NOT_NAMES):
        return None  # a sentence or a word about the link
    if word.lower().strip(":：") in _NOT_ASCII_NAMES or "，" in word or "。" in word:
        return None
    return word


def _author_before(gap: str) -> str | None:
    # Walk back from the link by hand: an end-anchored regex search over a long gap would
    # retry from every position (quadratic on a hostile message).
    end = len(gap)
    while end and (gap[end - 1].isspace() or gap[end - 1] in ":："):
        end -= 1
    if end == len(gap):
        return None  # glued to the link, or nothing before it
    start = end
    while start and _NAME_CHAR.fullmatch(gap[start - 1]) and end - start <= 10:
        start -= 1
    if start and _NAME_CHAR.fullmatch(gap[start - 1]):
        return None  # a longer run of letters: part of a sentence
    name = gap[start:end]
    if not name or not _looks_like_name(name):
        return None
    prefix = gap[:start]
    if not prefix.strip(_LIST_SEPARATORS):
        return name  # alone since the previous link: "张三 https://a，李四 https://b"
    if _SHARE_MARKS.search(prefix):
        return None
    if prefix[-1].isspace() or _AUTHOR_LABEL.search(prefix[-20:]):
        return name
    return None


def _looks_like_name(name: str) -> bool:
    if name[0] in "·•・" or name[-1] in "·•・":
        return False
    if name.isascii():
        return 2 <= len(name) <= 10 and name.lower() not in _NOT_ASCII_NAMES
    if any(ch.isascii() for ch in name):
        return False  # "张三abc": a word glued to something else
    dotted = any(ch in "·•・" for ch in name)
    if not 2 <= len(name) <= (10 if dotted else 6):
        return False
    return not (_NOT_IN_NAMES.intersection(name) or any(w in name for w in _NOT_NAMES))


# QQ share cards. The keys that hold the shared page, best first: a card also carries image
# and icon URLs (`preview`, `icon`) and mini-program paths, which are not the shared page.
_CARD_KEYS = ("jumpurl", "jump_url", "qqdocurl", "url")
_XML_URL = re.compile(r"""<msg\b[^>]*?\burl\s*=\s*(["'])(.*?)\1|\burl\s*=\s*(["'])(.*?)\3""", re.S)


def _json_card_url(raw: str) -> str | None:
    card = _load_json(raw)
    if card is None:
        return None
    found: dict[str, str] = {}
    stack: list[Any] = [card]
    seen = 0
    while stack and seen < 10_000:
        seen += 1
        node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                lowered = str(key).lower()
                if isinstance(value, str) and lowered in _CARD_KEYS and value.strip():
                    found.setdefault(lowered, value)
                elif isinstance(value, str) and value.lstrip().startswith("{"):
                    nested = _load_json(value)  # some cards carry JSON inside a string
                    if nested is not None:
                        stack.append(nested)
                elif isinstance(value, Mapping | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    for key in _CARD_KEYS:
        value = found.get(key)
        if value is None:
            continue
        url = html.unescape(value).strip()
        # `url` is also used for mini-program paths; only a web link counts there.
        if key != "url" or re.match(r"(?i)https?://", url):
            return strip_invisible(url)
    return None


def _load_json(raw: str) -> Any:
    for text in (raw, cq_unescape(raw)):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            continue
    return None


def _xml_card_url(raw: str) -> str | None:
    if any(escape in raw for escape in ("&#44;", "&#91;", "&#93;")):
        raw = cq_unescape(raw)
    match = _XML_URL.search(raw)
    if match is None:
        return None
    value = match.group(2) if match.group(2) is not None else match.group(4)
    return strip_invisible(html.unescape(value)).strip() or None


T = TypeVar("T")


def split_links(candidates: Sequence[T], max_links: int) -> tuple[list[T], int]:
    """The first `max_links` candidates, and how many were dropped beyond the cap."""
    if max_links < 1:
        raise ValueError("max_links must be at least 1")
    kept = list(candidates[:max_links])
    return kept, len(candidates) - len(kept)


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class LinkCheck:
    """The verdict on one link.

    `kind` decides which rules apply later: `min_chars` (the blog post length rule) applies to
    "blog" only; microblogs are short by nature and "article" pages are not blog posts.
    """

    given: str
    url: str | None
    platform: str | None
    platform_name: str
    kind: EntryKind
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None and self.url is not None


# Chinese names by host suffix (longest suffix wins). Platforms not listed show their suffix.
PLATFORM_NAMES: dict[str, str] = {
    "blog.sina.com.cn": "新浪博客",
    "blog.sina.cn": "新浪博客",
    "weibo.com": "新浪微博",
    "weibo.cn": "新浪微博",
    "t.cn": "新浪微博",
    "sina.com.cn": "新浪",
    "sina.cn": "新浪",
    "t.qq.com": "腾讯微博",
    "mp.weixin.qq.com": "微信公众号",
    "qq.com": "腾讯",
    "xinhuanet.com": "新华网",
    "news.cn": "新华网",
    "t.home.news.cn": "新华微博",
    "people.com.cn": "人民网",
    "t.people.com.cn": "人民微博",
    "xuexi.cn": "学习强国",
    "toutiao.com": "今日头条",
    "163.com": "网易",
    "thepaper.cn": "澎湃新闻",
}
_MICROBLOG_HOSTS = (
    "weibo.com",
    "weibo.cn",
    "t.cn",
    "t.qq.com",
    "t.people.com.cn",
    "t.home.news.cn",
)
_WEIBO_POST_HOSTS = frozenset({"weibo.com", "m.weibo.com", "weibo.cn", "m.weibo.cn"})
_LOCAL_SUFFIXES = (
    "localhost", "local", "internal", "intranet", "lan", "home", "corp", "localdomain",
    "arpa", "test", "invalid", "onion",
)  # fmt: skip
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?![0-9])")
_SCHEMELESS = re.compile(r"(?://)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?:[:/?#]|$)")
# Never in a real link (browsers escape them); a backslash reads as "/" to browsers but not to
# every URL parser, the classic trick to make a checker and a fetcher see different hosts.
_FORBIDDEN = re.compile(r'[\\<>"`{}|^]')
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


@dataclass(frozen=True)
class _Parsed:
    host: str  # lowercase ASCII (IDNA), no trailing dot, "www." kept
    path: str
    query: str
    fragment: str


_TOO_LONG = f"链接太长（超过 {MAX_URL_LENGTH} 个字符）"


class _Refused(ValueError):
    pass


def check_link(given: str, platforms: Sequence[str]) -> LinkCheck:
    """Whether `given` may be stored as an entry, and its normalised form if so.

    `platforms` are allowed host suffixes (`[submission] platforms`): a host is allowed when it
    equals a suffix or ends with "." + suffix, compared after IDNA, lowercasing and dropping a
    trailing dot. Either the link's own host or its normalised host may match, so a mobile
    form (blog.sina.cn) is accepted when its desktop form (blog.sina.com.cn) is allowed; a
    Weibo post is accepted when either weibo.com or weibo.cn is listed.

    The checks only read the string: they never resolve the host, so whoever fetches the
    link must still refuse private addresses a listed host resolves to.
    """
    try:
        parsed = _parse(given)
    except _Refused as refused:
        return LinkCheck(given, None, None, "", EntryKind.ARTICLE, str(refused))
    url = _canonical(parsed)
    if len(url) > MAX_URL_LENGTH:  # percent-encoding Chinese text triples its length
        return LinkCheck(given, None, None, "", EntryKind.ARTICLE, _TOO_LONG)
    host = _host_of(url)
    kind = _kind(host, url)
    allowed = [p.strip().lower().strip(".") for p in platforms]
    hosts = [host, parsed.host]
    if url.startswith(_WEIBO_CANONICAL):
        hosts += ["weibo.com", "weibo.cn"]  # a post is the same on the desktop and mobile sites
    platform = next(filter(None, (matching_suffix(h, allowed) for h in hosts)), None)
    if platform is None:
        names = list(dict.fromkeys(platform_name(p, p) for p in allowed))
        listed = "、".join(names[:5]) + ("等" if len(names) > 5 else "")
        return LinkCheck(
            given,
            None,
            None,
            platform_name(host, host),
            kind,
            f"不是大赛指定的平台（可用：{listed}）",
        )
    name = platform_name(host, platform)
    other_page = page_kind(url)
    if other_page is not None:
        return LinkCheck(given, None, platform, name, kind, other_page.reason)
    if url == f"https://{host}/":
        return LinkCheck(given, None, platform, name, kind, "这是网站首页，请发具体文章的链接")
    return LinkCheck(given, url, platform, name, kind, None)


def normalize(url: str) -> str:
    """The canonical form of an acceptable link (raises ValueError with the reason otherwise).

    https scheme, lowercase host without `www.` and default port, no fragment (hash-routed
    pages `#/…` and `#!…` keep theirs), tracking parameters dropped and the rest sorted, no
    trailing slash, non-ASCII characters percent-encoded (upper-case hex); Weibo posts become
    `https://m.weibo.cn/status/<mid>`, Sina blog posts `https://blog.sina.com.cn/s/blog_<id>.html`,
    t.cn short links keep their path and query as given. The platform list is not consulted:
    use `check_link` for that.
    """
    return _canonical(_parse(url))


def _parse(given: str) -> _Parsed:
    text = given.strip()
    if not text:
        raise _Refused("没有链接")
    if len(text) > MAX_URL_LENGTH:
        raise _Refused(_TOO_LONG)
    scheme = _SCHEME.match(text)
    if scheme is not None:
        name = scheme.group(1).lower()
        if name not in ("http", "https"):
            shown = f"（这是 {name}: 链接）" if len(name) <= 12 else ""
            raise _Refused(f"只收 http:// 或 https:// 开头的网页链接{shown}")
        rest = text[scheme.end() :]
    elif _SCHEMELESS.match(text):
        rest = text
    else:
        raise _Refused("不是网页链接")
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text):
        raise _Refused("链接里有空格或控制字符")
    lowered = text.lower()
    if "[cq:" in lowered or "&#91;cq:" in lowered:
        raise _Refused("链接里混有 CQ 码")
    odd = _FORBIDDEN.search(text)
    if odd is not None:
        raise _Refused(f"链接里有不该出现的字符 {odd.group()}")
    rest = rest.lstrip("/")  # browsers read https:weibo.com and https:///weibo.com alike
    end = next((i for i, ch in enumerate(rest) if ch in "/?#"), len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise _Refused("链接里带有用户名或密码（@ 前的部分），请发原始链接")
    if authority.startswith("["):
        raise _Refused("不能用 IP 地址，请发网站域名的链接")
    if "[" in text or "]" in text:
        raise _Refused("链接里有方括号（可能混进了 CQ 码）")
    host, colon, port = authority.partition(":")
    if not host:
        raise _Refused("链接里没有网站域名")
    if colon and port and not (port.isascii() and port.isdigit()):
        raise _Refused("网址的端口写法不正确")
    if colon and port and int(port) not in (80, 443):
        raise _Refused(f"不能带端口号 :{port}，请发普通网页链接")
    host = _ascii_host(host)
    path, _, fragment = tail.partition("#")
    path, _, query = path.partition("?")
    return _Parsed(host, path, query, fragment)


def _ascii_host(host: str) -> str:
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _Refused("网站域名写法不正确") from None
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]) or _is_ip(host):
        raise _Refused("不能用 IP 地址，请发网站域名的链接")
    if len(labels) == 1 or labels[-1] in _LOCAL_SUFFIXES:
        raise _Refused("不能用本机或内网地址")
    if not _HOST.fullmatch(host) or len(host) > 253:
        raise _Refused("网站域名写法不正确")
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Query parameters that say where a link was shared from, never which page it is.
_TRACKING = frozenset(
    {
        "spm", "from", "sharer", "wfr", "_t", "luicode", "lfid", "refer_flag", "ssr",
        "isappinstalled", "scene", "subscene", "ascene", "clicktime", "enterid", "sessionid",
        "chksm", "srcid", "exportkey", "pass_ticket", "wx_header", "devicetype", "nettype",
        "abtest_cookie", "vt", "tj", "sudaref", "jumpfrom", "s_trans", "s_channel",
        "sourcetype", "shareto", "ref", "fbclid", "gclid", "sinainternalbrowser", "weibo_id",
    }
)  # fmt: skip
_PUBLIC_SUFFIXES = frozenset({"com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn"})
_TRACKING_PREFIXES = ("utm_", "share_", "sharer_")
_UNSAFE = re.compile(r"""[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]|%(?![0-9A-Fa-f]{2})""")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_SINA_BLOG = re.compile(r"(?i)/s/(blog_[0-9a-f]+)\.html?")
_SINA_BLOG_MOBILE = re.compile(r"(?i)/dpool/blog/s/(blog_[0-9a-f]+)\.html?")
_WEIBO_CANONICAL = "https://m.weibo.cn/status/"
_WEIBO_POST_PATHS = frozenset({"status", "detail", "comment", "repost", "attitude"})
_WEIBO_WORDS = frozenset({"profile", "follow", "fans", "info", "home", "album", "photos", "likes"})


def _canonical(parsed: _Parsed) -> str:
    host = parsed.host
    if host.startswith("www.") and host.count(".") >= 2 and host[4:] not in _PUBLIC_SUFFIXES:
        host = host[4:]
    if host == "t.cn":  # short link: the path is the key and is case-sensitive
        query = f"?{_encode(parsed.query)}" if parsed.query else ""
        return f"https://t.cn{_encode(parsed.path) or '/'}{query}"
    path = _encode(parsed.path).rstrip("/") or "/"
    if host in _WEIBO_POST_HOSTS:
        mid = _weibo_mid(path)
        if mid is not None:
            return f"{_WEIBO_CANONICAL}{mid}"
    if host in ("blog.sina.com.cn", "blog.sina.cn"):
        post = (_SINA_BLOG if host == "blog.sina.com.cn" else _SINA_BLOG_MOBILE).fullmatch(path)
        if post is not None:
            return f"https://blog.sina.com.cn/s/{post.group(1).lower()}.html"
    url = f"https://{host}{path}"
    query = _clean_query(parsed.query)
    if query:
        url += f"?{query}"
    if parsed.fragment.startswith(("/", "!")):
        url += f"#{_encode(parsed.fragment)}"
    return url


def _encode(part: str) -> str:
    """Percent-encode what must not appear raw in a URL (non-ASCII, quotes, < >), upper-hex."""
    part = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), part)
    return _ESCAPE.sub(lambda m: m.group().upper(), part)


def _clean_query(query: str) -> str:
    kept: list[str] = []
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        name = _unescape_name(key).lower()
        if name in _TRACKING or name.startswith(_TRACKING_PREFIXES):
            continue
        if name == "type" and value == "comment":
            continue
        kept.append(_encode(pair))
    return "&".join(sorted(kept))


def _unescape_name(key: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group()[1:], 16)), key.replace("+", " "))


def _weibo_mid(path: str) -> str | None:
    """The numeric mid when `path` names one Weibo post, else None."""
    parts = path.strip("/").split("/")
    if len(parts) != 2:
        return None
    first, post = parts
    if not (first in _WEIBO_POST_PATHS or (first.isascii() and first.isdigit())):
        return None
    if not post.isascii():
        return None
    if post.isdigit() and len(post) >= 10:
        return post.lstrip("0") or None
    if not (5 <= len(post) <= 12) or post.lower() in _WEIBO_WORDS:
        return None
    if not any(ch.isdigit() or ch.isupper() for ch in post):
        return None  # a word such as "profile", not an id
    try:
        return base62_to_mid(post)
    except ValueError:
        return None


def _host_of(url: str) -> str:
    return url.split("/", 3)[2]


def matching_suffix(host: str, platforms: Sequence[str]) -> str | None:
    """The longest allowed suffix `host` falls under (`m.weibo.cn` → `weibo.cn`), if any."""
    matches = [p for p in platforms if p and (host == p or host.endswith("." + p))]
    return max(matches, key=len) if matches else None


def platform_name(host: str, default: str) -> str:
    """The Chinese name of the platform a host or suffix belongs to (`default` if unknown)."""
    for suffix in sorted(PLATFORM_NAMES, key=len, reverse=True):
        if host == suffix or host.endswith("." + suffix):
            return PLATFORM_NAMES[suffix]
    return default


def _kind(host: str, url: str) -> EntryKind:
    path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    if any(host == h or host.endswith("." + h) for h in _MICROBLOG_HOSTS):
        return EntryKind.ARTICLE if path.startswith("ttarticle/") else EntryKind.MICROBLOG
    if "blog" in host.split(".") or "blog" in path.split("?")[0].split("/"):
        return EntryKind.BLOG
    return EntryKind.ARTICLE
