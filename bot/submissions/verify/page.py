"""What a fetched page shows: its text decoded (charset sniffing) and the facts in its HTML.

Pure: bytes or HTML in, facts out. Callers run it in a worker thread (a 2 MB page takes tens of
milliseconds in lxml).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import lxml.etree
import lxml.html
from yarl import URL

if TYPE_CHECKING:
    pass


# Where a visitor without a login is sent instead of the post: not a failure, just unknowable.
LOGIN_HOSTS: tuple[str, ...] = (
    "passport.weibo.com",
    "passport.weibo.cn",
    "visitor.passport.weibo.cn",
    "login.sina.com.cn",
    "ptlogin2.qq.com",
    "xui.ptlogin2.qq.com",
)


class HtmlFacts(NamedTuple):
    """What a page's HTML shows; `text_length` counts non-whitespace characters of the body.

    `fingerprint` (SHA-256 of the body text with all whitespace removed, hex), `excerpt` (its
    first characters) and `images` (the body's first image addresses) let a later re-check
    tell whether the post changed (bot/submissions/recheck.py). `gone_notice`: the page is a
    platform's "this content was deleted / does not exist" notice, not a post.
    """

    title: str | None
    text_length: int
    published: date | None
    login_wall: bool
    fingerprint: str | None = None
    excerpt: str = ""
    images: tuple[str, ...] = ()
    gone_notice: bool = False


# --------------------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_LATIN1_NAMES = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
_GB_NAMES = frozenset({"gb2312", "gbk", "gb18030", "hz", "cp936"})


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # GBK and GB2312 pages routinely carry GB18030 characters; GB18030 decodes all three.
    return "gb18030" if codec in _GB_NAMES else codec


def decode_page(body: bytes, header_charset: str | None = None) -> str:
    """Bytes of an HTML page as text.

    Order: a byte-order mark, the charset from the Content-Type header, the `<meta>` charset,
    then UTF-8, then GB18030 (Chinese portals serve GBK without saying so). A header that
    claims Latin-1 while the page's `<meta>` names another charset loses to the `<meta>`:
    servers default to Latin-1, authors do not. A body cut off by the size cap may end in
    half a character; that tail is dropped rather than failing the whole decode.
    """
    if body.startswith(codecs.BOM_UTF8):
        return _decode(body[3:], "utf-8") or ""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace")
    declared = _codec(header_charset)
    match = _META_CHARSET.search(body[:4096])
    meta = _codec(match.group(1).decode("ascii", "replace")) if match else None
    if declared in _LATIN1_NAMES and meta:
        declared = meta
    for candidate in dict.fromkeys(c for c in (declared, meta, "utf-8", "gb18030") if c):
        text = _decode(body, candidate)
        if text is not None:
            return text
    return body.decode("utf-8", errors="replace")


def _decode(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 4:
            return None
        try:  # only the last few bytes are broken: a multibyte character cut in half
            return body[: exc.start].decode(encoding)
        except UnicodeDecodeError:
            return None


# --------------------------------------------------------------------------- HTML

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")


def _has_class(name: str, tag: str = "*") -> str:
    return f"//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


# The article body on the seed's portals and on common blog engines, most specific first
# (XPath, so that no CSS-selector package is needed).
_BODY_XPATHS: tuple[lxml.etree.XPath, ...] = tuple(
    lxml.etree.XPath(path)
    for path in (
        _has_class("articalContent", "div"),  # Sina blog
        "//*[@id='sina_keyword_ad_area2']",  # Sina blog
        "//*[@itemprop='articleBody']",
        "//article",
        _has_class("article-content"),
        _has_class("article_content"),
        _has_class("rich_media_content"),  # WeChat articles
        _has_class("content-article"),  # Tencent news
        "//*[@id='detail']",  # Xinhua
        _has_class("rm_txt_con"),  # People's Daily
        _has_class("TRS_Editor"),  # government portals (TRS CMS)
        _has_class("post-content"),
        _has_class("entry-content"),
        _has_class("article"),
        "//*[@id='article']",
        "//*[@id='content']",
    )
)
_SINA_HEADING = lxml.etree.XPath(
    "//*[self::h1 or self::h2][contains(concat(' ', normalize-space(@class), ' '), ' titName ')]"
)
_BLOCK_TAGS = frozenset({"div", "section", "td", "main", "article", "blockquote", "body"})
_INLINE_TAGS = frozenset(
    {"p", "span", "font", "b", "strong", "em", "i", "u", "a", "br", "sub", "sup", "small", "big"}
)

_TITLE_SUFFIX = re.compile(
    r"\s*[_|\-–—]+\s*(新浪博客|新浪网|新浪新闻|新浪|微博|新浪微博|腾讯网|腾讯新闻|新华网|"
    r"人民网|央视网|中国政府网|澎湃新闻|今日头条|微信公众平台)\s*$"
)
_SINA_BLOG_TITLE = re.compile(r"^(.+?)_[^_]+_新浪博客$")

_DATE_META_KEYS = frozenset(
    {
        "article:published_time",
        "og:article:published_time",
        "og:release_date",
        "pubdate",
        "publishdate",
        "publish_date",
        "publishtime",
        "publish-date",
        "datepublished",
        "dc.date.issued",
        "dc.date",
        "date",
    }
)
_DATE_TEXT = re.compile(
    r"((?:19|20)\d{2})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
)
_DATE_HINT = re.compile(r"time|date|pub|日期|时间", re.I)

_VISITOR_TITLES = ("sina visitor system", "新浪通行证", "微博-随时随地发现新鲜事")
_LOGIN_WORDS = re.compile(r"登录|登錄|log\s*in|sign\s*in", re.I)
_LOGIN_ACTION = re.compile(r"login|passport|signin|sign_in", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
ALMOST_NO_TEXT = 100  # below this many characters a page with a login form is a login wall
EXCERPT_CHARS = 120
SNAPSHOT_IMAGES = 5
# A platform's notice that a post is gone: short, and saying so.
GONE_NOTICE_MAX = 400
_GONE_WORDS = re.compile(
    r"已被删除|已被作者删除|已删除|被发布者删除|页面不存在|内容不存在|文章不存在|博文不存在|"
    r"该内容已被|此内容因违规|无法查看该内容|找不到该页面|您访问的页面不存在|抱歉，页面"
)


def _count_text(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _squash(text: str) -> str:
    return " ".join(text.split())


def page_facts_from_html(html: str, url: str) -> HtmlFacts:
    """Title, body length, publication date and whether the page is a login wall.

    - Script, style, nav, header, footer and aside are removed before anything is counted.
    - The body is the first article container found (`_BODY_XPATHS`, the longest match
      of that path), else the block with the most text of its own and its block children's.
    - `text_length` counts the body's non-whitespace characters: a CJK character counts 1,
      and so do an ASCII letter, a digit and a punctuation mark. (`min_chars` is meant for
      Chinese posts, where a character is a 字.)
    - The title is og:title, else Sina's post heading, else `<title>` without the site's
      suffix ("_新浪博客" and the blogger's name before it, "_新华网", …), else the first h1.
    - The publication date is the date as written on the page (the publisher's local date):
      from date `<meta>`, `<time datetime>`, an element whose class or id speaks of
      time/date, the body text, then the page text ("(2011-06-28 10:12:33)", "2011年6月28日").
    - A login wall is Weibo's "Sina Visitor System", a page on a login host, or a page with
      almost no text that asks to log in (a password field, a login form, or the word).
    """
    host = (URL(url).raw_host or "").lower() if url else ""
    on_login_host = is_login_host(host)
    html = _XML_DECLARATION.sub("", html, count=1)
    if not html.strip():
        return HtmlFacts(None, 0, None, on_login_host)
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return HtmlFacts(None, 0, None, on_login_host)

    raw_title = _squash(root.findtext(".//title") or "")
    published = _published_from_markup(root)
    has_login_form = bool(
        root.xpath(".//input[@type='password']")
        or any(_LOGIN_ACTION.search(form.get("action") or "") for form in root.iter("form"))
    )
    for element in list(root.iter(*_DROP_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    for comment in list(root.iter(lxml.etree.Comment)):
        if comment.getparent() is not None:
            comment.drop_tree()

    body = _body_element(root)
    body_text = body.text_content() if body is not None else ""
    text_length = _count_text(body_text)
    title = _title(root, raw_title)
    if published is None:
        published = _published_from_text(root, body_text)

    page_text_length = _count_text(root.text_content())
    login_wall = (
        on_login_host
        or raw_title.lower().startswith(_VISITOR_TITLES)
        or (
            page_text_length < ALMOST_NO_TEXT
            and (has_login_form or bool(_LOGIN_WORDS.search(root.text_content())))
        )
    )
    squashed = "".join(body_text.split())
    return HtmlFacts(
        title,
        text_length,
        published,
        login_wall,
        fingerprint=hashlib.sha256(squashed.encode("utf-8")).hexdigest() if squashed else None,
        excerpt=_squash(body_text)[:EXCERPT_CHARS],
        images=_images(body, url),
        gone_notice=page_text_length < GONE_NOTICE_MAX
        and bool(_GONE_WORDS.search(root.text_content())),
    )


def _images(body: lxml.html.HtmlElement | None, url: str) -> tuple[str, ...]:
    """The body's first image addresses, absolute (lazy-loading attributes first)."""
    if body is None:
        return ()
    found: list[str] = []
    for image in body.iter("img"):
        source = image.get("data-src") or image.get("real_src") or image.get("src") or ""
        source = source.strip()
        if not source or source.startswith("data:"):
            continue
        try:
            absolute = str(URL(url).join(URL(source))) if url else source
        except ValueError:
            continue
        if absolute not in found:
            found.append(absolute[:300])
        if len(found) == SNAPSHOT_IMAGES:
            break
    return tuple(found)


def is_login_host(host: str) -> bool:
    host = host.rstrip(".")
    return any(host == h or host.endswith("." + h) for h in LOGIN_HOSTS)


def _body_element(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for xpath in _BODY_XPATHS:
        found = [el for el in xpath(root) if _count_text(el.text_content()) > 0]
        if found:
            return max(found, key=lambda el: _count_text(el.text_content()))
    # A block's score is its own text plus its block children's own text: a post written as
    # many <div>s of one paragraph each scores on their parent; on a tie the deeper block
    # (more text of its own, fewer neighbours such as comments) wins.
    own = {element: _own_text(element) for element in root.iter(*_BLOCK_TAGS)}
    best: lxml.html.HtmlElement | None = None
    best_key = (0, 0)
    for element, own_text in own.items():
        score = own_text + sum(own.get(child, 0) for child in element)
        if (score, own_text) > best_key:
            best, best_key = element, (score, own_text)
    if best is None:
        bodies = root.xpath("//body")
        return bodies[0] if bodies else root
    return best


def _own_text(element: lxml.html.HtmlElement) -> int:
    """Characters of text that sit directly in `element` or in its inline/paragraph children."""
    total = _count_text(element.text or "")
    for child in element:
        if isinstance(child.tag, str) and child.tag in _INLINE_TAGS:
            total += _count_text(child.text_content())
        total += _count_text(child.tail or "")
    return total


def _title(root: lxml.html.HtmlElement, raw_title: str) -> str | None:
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:title":
            content = _squash(meta.get("content") or "")
            if content:
                return _trim_title(content)
    for heading in _SINA_HEADING(root):  # Sina blog
        text = _squash(heading.text_content())
        if text:
            return text
    if raw_title:
        return _trim_title(raw_title)
    for heading in root.iter("h1"):
        text = _squash(heading.text_content())
        if text:
            return text
    return None


def _trim_title(title: str) -> str:
    sina = _SINA_BLOG_TITLE.match(title)
    if sina:
        return sina.group(1).strip()
    trimmed = title
    while (shorter := _TITLE_SUFFIX.sub("", trimmed)) != trimmed:
        trimmed = shorter
    return (trimmed.strip() or title.strip())[:200]


def _published_from_markup(root: lxml.html.HtmlElement) -> date | None:
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _DATE_META_KEYS:
            found = _first_date(meta.get("content") or "")
            if found:
                return found
    for element in root.iter("time"):
        found = _first_date(element.get("datetime") or "") or _first_date(element.text_content())
        if found:
            return found
    return None


def _published_from_text(root: lxml.html.HtmlElement, body_text: str) -> date | None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        hint = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _DATE_HINT.search(hint):
            found = _first_date(element.text_content())
            if found:
                return found
    return _first_date(body_text) or _first_date(root.text_content())


def _first_date(text: str) -> date | None:
    for match in _DATE_TEXT.finditer(text):
        year = int(match.group(1))
        month = int(match.group(2) or match.group(4))
        day = int(match.group(3) or match.group(5))
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None
