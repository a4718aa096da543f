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
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from loguru import logger
from yarl import URL

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

    from bot.settings.contest import SubmissionPolicy

from bot.submissions.states import VerifyStatus
from bot.submissions.verify.assess import PageFacts
from bot.submissions.verify.page import HtmlFacts, decode_page, is_login_host, page_facts_from_html

USER_AGENT = (
    "Mozilla/5.0 (compatible; BlogContestBot/1.0; +learning-blog contest helper) "
    "checks links submitted to a learning-blog contest: reachability, title, length, date; "
    "one request per link"
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})


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
            facts = _failed(VerifyStatus.UNREACHABLE, "核验时出错，请稍后重试")
        logger.debug("verify: {} -> {} ({})", url, facts.status, facts.detail)
        return facts

    async def _fetch(self, url: str) -> PageFacts:
        try:
            current = URL(url)
        except (ValueError, TypeError):
            return _failed(VerifyStatus.UNREACHABLE, "链接格式不正确")
        seen: set[str] = set()
        for hop in range(self.max_redirects + 1):
            reason = refusal_reason(current, allow_private=self.policy.verify_allow_private)
            if reason:
                return _failed(VerifyStatus.BLOCKED, reason, final_url=str(current))
            host = (current.raw_host or "").rstrip(".").lower()
            if hop and is_login_host(host):
                return _failed(
                    VerifyStatus.NOT_VERIFIABLE, "需要登录才能查看，无法自动核验", str(current)
                )
            seen.add(str(current))
            async with self._hosts.hold(host), self._global:
                following = await self._request(current)
            if isinstance(following, PageFacts):
                return following
            if str(following) in seen:
                return _failed(
                    VerifyStatus.UNREACHABLE, "页面跳转形成循环，无法打开", str(following)
                )
            current = following
        return _failed(
            VerifyStatus.UNREACHABLE,
            f"页面跳转超过 {self.max_redirects} 次，无法打开",
            str(current),
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
                        return _failed(
                            VerifyStatus.UNREACHABLE, f"页面返回 {status} 但没有跳转地址", final
                        )
                    try:
                        return url.join(URL(location))
                    except ValueError:
                        return _failed(
                            VerifyStatus.UNREACHABLE, "页面跳转地址不正确", final, status
                        )
                failure = _status_failure(status, final)
                if failure is not None:
                    return failure
                # No Content-Type at all: assume HTML, as browsers do on these sites.
                declared = "Content-Type" in response.headers
                if declared and response.content_type not in _PAGE_TYPES:
                    return _failed(
                        VerifyStatus.NOT_VERIFIABLE, "链接不是网页，无法核验字数", final, status
                    )
                body, truncated = await self._read_capped(response)
                charset = response.charset
        except TimeoutError:  # not the builtin TimeoutError before Python 3.11
            return _failed(
                VerifyStatus.UNREACHABLE, f"访问超时（{self.policy.verify_timeout:g} 秒）", final
            )
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddressError):
                return _failed(VerifyStatus.BLOCKED, "链接指向内网或本机地址，不予访问", final)
            if isinstance(exc, aiohttp.ClientConnectorCertificateError):
                return _failed(VerifyStatus.UNREACHABLE, "网站证书无效，无法安全访问", final)
            if isinstance(exc, aiohttp.ClientConnectorDNSError):
                return _failed(VerifyStatus.UNREACHABLE, "找不到该网站（域名解析失败）", final)
            return _failed(VerifyStatus.UNREACHABLE, "无法连接到网站", final)
        except aiohttp.InvalidURL:
            return _failed(VerifyStatus.UNREACHABLE, "链接格式不正确", final)
        except aiohttp.ClientError as exc:
            logger.debug("verify: {} failed: {!r}", final, exc)
            return _failed(VerifyStatus.UNREACHABLE, "无法打开页面", final)

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


def _status_failure(status: int, final: str) -> PageFacts | None:
    """What a final answer's HTTP status says, when it is not a page to read."""
    if status == 401:
        return _failed(VerifyStatus.NOT_VERIFIABLE, "需要登录才能查看，无法自动核验", final, 401)
    if status in (404, 410):
        return _failed(
            VerifyStatus.UNREACHABLE, f"页面不存在（{status}）", final, status, gone=True
        )
    if status >= 400:
        return _failed(VerifyStatus.UNREACHABLE, f"页面返回错误 {status}", final, status)
    if status >= 300:
        return _failed(VerifyStatus.UNREACHABLE, f"页面返回 {status}", final, status)
    return None


def _read_page(body: bytes, charset: str | None, url: str) -> HtmlFacts:
    return page_facts_from_html(decode_page(body, charset), url)


def _page_facts(
    facts: HtmlFacts, status: int, final_url: str, truncated: bool, max_bytes: int
) -> PageFacts:
    if facts.login_wall:
        return PageFacts(
            VerifyStatus.NOT_VERIFIABLE,
            status,
            final_url,
            facts.title,
            None,
            None,
            "需要登录才能查看，无法自动核验",
        )
    if facts.gone_notice:
        return PageFacts(
            VerifyStatus.UNREACHABLE,
            status,
            final_url,
            None,
            None,
            None,
            "页面显示该内容已删除或不存在",
            gone=True,
        )
    detail = f"可以打开，正文 {facts.text_length} 字"
    if truncated:
        detail += f"（页面超过 {_size(max_bytes)}，只检查了前 {_size(max_bytes)}）"
    return PageFacts(
        VerifyStatus.OK,
        status,
        final_url,
        facts.title,
        facts.text_length,
        facts.published,
        detail,
        fingerprint=facts.fingerprint,
        excerpt=facts.excerpt,
        images=facts.images,
    )


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} KB"


def _failed(
    status: VerifyStatus,
    detail: str,
    final_url: str | None = None,
    http_status: int | None = None,
    *,
    gone: bool = False,
) -> PageFacts:
    return PageFacts(status, http_status, final_url, None, None, None, detail, gone=gone)
