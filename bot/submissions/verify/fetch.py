"""Verification of submitted links: fetch each page politely and say what it shows.

Two halves, kept apart (a function that decides does not fetch):

- `Verifier` fetches: one lazily created aiohttp session, a global concurrency bound and a
  per-host bound (politeness), a total timeout per request, a size cap (the body is streamed
  and reading stops at `max_bytes`; the part read is still assessed, and `detail` says so),
  redirects followed by hand within `max_redirects`, every hop checked again.
  Users' links never reach private, loopback, link-local, multicast, reserved or unspecified
  addresses (IPv4 and IPv6, IPv4 embedded in IPv6 too) unless
  `SubmissionPolicy.verify_allow_private` is on (tests): IP-literal and localhost URLs are
  refused before any connection, and every hostname is filtered by `PublicOnlyResolver` at
  connection time, so a DNS answer that changes between a check and the connect (rebinding)
  cannot sneak through.
- `page_facts_from_html`, `decode_page` and `assess` are pure: HTML in, facts out; facts and
  the contest in, flags out.

Decoding and parsing run in a worker thread (`asyncio.to_thread`): a 2 MB page takes tens of
milliseconds in lxml, which must not stall the bot's event loop.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal, NamedTuple

import aiohttp
import lxml.etree
import lxml.html
from aiohttp.abc import AbstractResolver, ResolveResult
from loguru import logger
from yarl import URL

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

    from bot.settings.contest import Contest, SubmissionPolicy

Status = Literal["ok", "unreachable", "not_verifiable", "blocked"]

USER_AGENT = (
    "Mozilla/5.0 (compatible; BlogContestBot/1.0; +learning-blog contest helper) "
    "checks links submitted to a learning-blog contest: reachability, title, length, date; "
    "one request per link"
)

# Where a visitor without a login is sent instead of the post: not a failure, just unknowable.
LOGIN_HOSTS: tuple[str, ...] = (
    "passport.weibo.com",
    "passport.weibo.cn",
    "visitor.passport.weibo.cn",
    "login.sina.com.cn",
    "ptlogin2.qq.com",
    "xui.ptlogin2.qq.com",
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})


@dataclass(frozen=True)
class PageFacts:
    """What fetching a link found. `detail` is short Chinese, for logs and replies.

    status: "ok" (page read), "unreachable" (error, timeout, HTTP error status, redirect
    trouble), "not_verifiable" (a login wall or not a web page: not a failure),
    "blocked" (we refused to fetch it: private address, IP literal, localhost).
    """

    status: Status
    http_status: int | None
    final_url: str | None
    title: str | None
    text_length: int | None
    published: date | None
    detail: str


class HtmlFacts(NamedTuple):
    """What a page's HTML shows; `text_length` counts non-whitespace characters of the body."""

    title: str | None
    text_length: int
    published: date | None
    login_wall: bool


# --------------------------------------------------------------------------- addresses


class BlockedAddressError(OSError):
    """A hostname resolved only to addresses we never connect to."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True if `ip` is a globally routable unicast address we may connect to.

    IPv4 carried inside IPv6 (mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64 64:ff9b::/96) is
    judged by the IPv4 address it leads to.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _ip_literal(host: str) -> bool:
    """True for any host that the socket layer would read as an address, not a name.

    Besides dotted quads and IPv6 this catches the legacy forms `127.1`, `2130706433` and
    `0x7f000001`, which inet_aton accepts.
    """
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return True
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):
        return False
    return True


def refusal_reason(url: URL, *, allow_private: bool) -> str | None:
    """Why `url` must not be fetched at all (Chinese), or None if it may be tried."""
    if url.scheme not in ("http", "https"):
        return "只核验 http(s) 链接"
    host = (url.raw_host or "").rstrip(".").lower()
    if not host:
        return "链接缺少网站地址"
    if allow_private:
        return None
    if _ip_literal(host):
        return "链接直接使用 IP 地址，不予访问"
    if host == "localhost" or host.endswith(".localhost"):
        return "链接指向本机，不予访问"
    return None


class PublicOnlyResolver(AbstractResolver):
    """Wraps a resolver and drops every address that `is_public_address` refuses.

    Used by the connector itself, so the address checked is the address connected to.
    """

    def __init__(self, inner: AbstractResolver, *, own_inner: bool = True) -> None:
        self._inner = inner
        self._own_inner = own_inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if _result_is_public(r)]
        if results and not allowed:
            logger.warning("verify: refused {} (resolves only to private addresses)", host)
            raise BlockedAddressError(f"{host} resolves only to non-public addresses")
        return allowed

    async def close(self) -> None:
        if self._own_inner:
            await self._inner.close()


class StaticResolver(AbstractResolver):
    """Answers fixed addresses for some names (curl's --resolve) and asks `inner` otherwise."""

    def __init__(self, table: dict[str, str], inner: AbstractResolver | None = None) -> None:
        self._table = {host.lower(): address for host, address in table.items()}
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self._table.get(host.lower())
        if address is None:
            return await self._inner.resolve(host, port, family)
        ip = ipaddress.ip_address(address)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        await self._inner.close()


def _result_is_public(result: ResolveResult) -> bool:
    try:
        ip = ipaddress.ip_address(result["host"].split("%", 1)[0])
    except ValueError:
        return False
    return is_public_address(ip)


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
    on_login_host = _is_login_host(host)
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
    return HtmlFacts(title, text_length, published, login_wall)


def _is_login_host(host: str) -> bool:
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


# --------------------------------------------------------------------------- assessment


def assess(facts: PageFacts, *, kind: str, contest: Contest) -> tuple[str, ...]:
    """Flags for a verified entry, in a fixed order; empty when nothing is wrong.

    "unreachable": the page could not be fetched. "short": a blog post (`kind == "blog"`)
    whose body is below `contest.submission.min_chars` (microblogs are short by nature).
    "outside_window": the page's publication date lies outside the contest's start and
    deadline, compared as local dates in the contest's timezone. "not_verifiable" and
    "blocked" raise no flag: they are not the author's failure.
    """
    flags: list[str] = []
    if facts.status == "unreachable":
        flags.append("unreachable")
    if (
        kind == "blog"
        and facts.status == "ok"
        and facts.text_length is not None
        and facts.text_length < contest.submission.min_chars
    ):
        flags.append("short")
    if facts.published is not None:
        first = contest.start.astimezone(contest.timezone).date()
        last = contest.deadline.astimezone(contest.timezone).date()
        if not first <= facts.published <= last:
            flags.append("outside_window")
    return tuple(flags)


# --------------------------------------------------------------------------- fetching


class _HostSlots:
    """One semaphore per host, created on demand and dropped when nobody holds or waits."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.setdefault(host, (asyncio.Semaphore(self._per_host), [0]))
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]


class Verifier:
    """Fetches submitted links and reports `PageFacts`. Create once, `close()` at shutdown.

    `resolver` replaces the DNS resolver (tests and benchmarks map names to 127.0.0.1);
    it is still wrapped in `PublicOnlyResolver` unless the policy allows private addresses.
    """

    def __init__(
        self,
        policy: SubmissionPolicy,
        *,
        concurrency: int = 20,
        per_host: int = 2,
        max_bytes: int = 2_000_000,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        resolver: AbstractResolver | None = None,
    ) -> None:
        if concurrency < 1 or per_host < 1 or max_bytes < 1 or max_redirects < 0:
            raise ValueError("concurrency, per_host and max_bytes must be positive")
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._concurrency = concurrency
        self._resolver = resolver
        self._global = asyncio.Semaphore(concurrency)
        self._hosts = _HostSlots(per_host)
        self._session: aiohttp.ClientSession | None = None
        self._connector_resolver: AbstractResolver | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # The connector does not close a resolver it was given; `close()` does.
            own_inner = self._resolver is None
            inner = self._resolver or aiohttp.ThreadedResolver()
            resolver: AbstractResolver = (
                inner
                if self.policy.verify_allow_private
                else PublicOnlyResolver(inner, own_inner=own_inner)
            )
            self._connector_resolver = resolver if resolver is not self._resolver else None
            connector = aiohttp.TCPConnector(
                resolver=resolver, limit=self._concurrency, limit_per_host=0
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={
                    "User-Agent": self.user_agent,
                    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                },
                timeout=aiohttp.ClientTimeout(total=self.policy.verify_timeout),
                # No cookies kept between links: we never log in anywhere.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # a proxy would resolve names out of our resolver's reach
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._connector_resolver is not None:
            await self._connector_resolver.close()
            self._connector_resolver = None

    async def fetch_many(self, urls: Iterable[str]) -> dict[str, PageFacts]:
        """Facts for every distinct URL, fetched concurrently within the limits."""
        unique = list(dict.fromkeys(urls))
        results = await asyncio.gather(*(self.fetch(url) for url in unique))
        return dict(zip(unique, results, strict=True))

    async def fetch(self, url: str) -> PageFacts:
        """Facts for one URL. Never raises for anything the page or network does."""
        try:
            facts = await self._fetch(url)
        except Exception:
            logger.exception("verify: unexpected error on {}", url)
            facts = _failed("unreachable", "核验时出错，请稍后重试")
        logger.debug("verify: {} -> {} ({})", url, facts.status, facts.detail)
        return facts

    async def _fetch(self, url: str) -> PageFacts:
        try:
            current = URL(url)
        except (ValueError, TypeError):
            return _failed("unreachable", "链接格式不正确")
        seen: set[str] = set()
        for hop in range(self.max_redirects + 1):
            reason = refusal_reason(current, allow_private=self.policy.verify_allow_private)
            if reason:
                return _failed("blocked", reason, final_url=str(current))
            host = (current.raw_host or "").rstrip(".").lower()
            if hop and _is_login_host(host):
                return _failed("not_verifiable", "需要登录才能查看，无法自动核验", str(current))
            seen.add(str(current))
            async with self._hosts.hold(host), self._global:
                following = await self._request(current)
            if isinstance(following, PageFacts):
                return following
            if str(following) in seen:
                return _failed("unreachable", "页面跳转形成循环，无法打开", str(following))
            current = following
        return _failed(
            "unreachable", f"页面跳转超过 {self.max_redirects} 次，无法打开", str(current)
        )

    async def _request(self, url: URL) -> PageFacts | URL:
        """One hop: the facts of a final page, or where a redirect points."""
        session = self._get_session()
        final = str(url)
        try:
            async with session.get(url, allow_redirects=False) as response:
                status = response.status
                if status in _REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        return _failed("unreachable", f"页面返回 {status} 但没有跳转地址", final)
                    try:
                        return url.join(URL(location))
                    except ValueError:
                        return _failed("unreachable", "页面跳转地址不正确", final, status)
                if status == 401:
                    return _failed("not_verifiable", "需要登录才能查看，无法自动核验", final, 401)
                if status >= 400:
                    return _failed("unreachable", f"页面返回错误 {status}", final, status)
                if status >= 300:
                    return _failed("unreachable", f"页面返回 {status}", final, status)
                # No Content-Type at all: assume HTML, as browsers do on these sites.
                declared = "Content-Type" in response.headers
                if declared and response.content_type not in _PAGE_TYPES:
                    return _failed("not_verifiable", "链接不是网页，无法核验字数", final, status)
                body, truncated = await self._read_capped(response)
                charset = response.charset
        except TimeoutError:  # not the builtin TimeoutError before Python 3.11
            return _failed("unreachable", f"访问超时（{self.policy.verify_timeout:g} 秒）", final)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddressError):
                return _failed("blocked", "链接指向内网或本机地址，不予访问", final)
            if isinstance(exc, aiohttp.ClientConnectorCertificateError):
                return _failed("unreachable", "网站证书无效，无法安全访问", final)
            if isinstance(exc, aiohttp.ClientConnectorDNSError):
                return _failed("unreachable", "找不到该网站（域名解析失败）", final)
            return _failed("unreachable", "无法连接到网站", final)
        except aiohttp.InvalidURL:
            return _failed("unreachable", "链接格式不正确", final)
        except aiohttp.ClientError as exc:
            logger.debug("verify: {} failed: {!r}", final, exc)
            return _failed("unreachable", "无法打开页面", final)

        facts = await asyncio.to_thread(_read_page, body, charset, final)
        return _page_facts(facts, status, final, truncated, self.max_bytes)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
        """The body up to `max_bytes`; True if there was more (the connection is then dropped)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            room = self.max_bytes - size
            if len(chunk) > room:
                chunks.append(chunk[:room])
                response.close()
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), False


def _read_page(body: bytes, charset: str | None, url: str) -> HtmlFacts:
    return page_facts_from_html(decode_page(body, charset), url)


def _page_facts(
    facts: HtmlFacts, status: int, final_url: str, truncated: bool, max_bytes: int
) -> PageFacts:
    if facts.login_wall:
        return PageFacts(
            "not_verifiable",
            status,
            final_url,
            facts.title,
            None,
            None,
            "需要登录才能查看，无法自动核验",
        )
    detail = f"可以打开，正文 {facts.text_length} 字"
    if truncated:
        detail += f"（页面超过 {_size(max_bytes)}，只检查了前 {_size(max_bytes)}）"
    return PageFacts(
        "ok", status, final_url, facts.title, facts.text_length, facts.published, detail
    )


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} KB"


def _failed(
    status: Status, detail: str, final_url: str | None = None, http_status: int | None = None
) -> PageFacts:
    return PageFacts(status, http_status, final_url, None, None, None, detail)
