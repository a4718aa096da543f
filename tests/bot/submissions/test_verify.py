"""Link verification: fetching a local aiohttp server, refusing private addresses, and the
pure page assessment."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.typedefs import Handler

import bot.submissions.verify.fetch
from bot.settings.contest import Contest, SubmissionPolicy
from bot.submissions.states import VerifyStatus
from bot.submissions.verify.assess import PageFacts, assess
from bot.submissions.verify.fetch import PublicOnlyResolver, Verifier, is_public_address
from bot.submissions.verify.page import decode_page, page_facts_from_html
from tests.fake import PLAIN, make_contest

SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = "学习贯彻落实新时代思想推动基层工作高质量发展为民服务办实事社区治理乡村振兴"
LOCAL = SubmissionPolicy(verify_allow_private=True, verify_timeout=3)
PUBLIC_ONLY = SubmissionPolicy(verify_allow_private=False, verify_timeout=0.5)
UNHURRIED = SubmissionPolicy(verify_allow_private=True, verify_timeout=10)


def cjk(n: int) -> str:
    return (CJK * (n // len(CJK) + 1))[:n]


def sina_page(body_chars: int = 800, published: str = "(2027-06-25 10:12:33)") -> str:
    body = cjk(body_chars)
    paragraphs = "".join(
        f"<p>&nbsp;&nbsp;{body[i : i + 100]}</p>\n" for i in range(0, body_chars, 100)
    )
    return f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>学习心得体会_张三_新浪博客</title>
<script>var words = "{cjk(300)}";</script><style>.x {{ color: red }}</style>
</head><body>
<div id="top"><nav>首页 博文目录 图片 关于我 登录 注册</nav></div>
<div class="articalTitle"><h2 class="titName SG_txta">学习心得体会</h2>
<span class="time SG_txtc">{published}</span></div>
<div id="sina_keyword_ad_area2" class="articalContent  ">
{paragraphs}<script>document.write("{cjk(40)}");</script><style>p {{ margin: 0 }}</style>
<!-- {cjk(30)} --></div>
<div class="comments">网友评论：写得很好，值得学习，向作者致敬！</div>
<footer>新浪公司 版权所有 2027-01-01</footer>
</body></html>"""


VISITOR_WALL = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Sina Visitor System</title>
<script src="/js/visitor/mini_original.js"></script>
<script>var url = url || {}; incarnate();</script></head><body></body></html>"""

LOGIN_SHELL = """<html><head><title>微博</title><script src="/app.js"></script></head>
<body><div id="app"></div><form action="https://passport.example.com/login" method="post">
<input name="username"><input type="password" name="pw"><button>登录</button></form>
</body></html>"""


# --------------------------------------------------------------------------- local server


@dataclasses.dataclass
class Site:
    """A local aiohttp server and what it saw."""

    port: int
    requests: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    active: Counter[str] = dataclasses.field(default_factory=Counter)
    peak_per_host: Counter[str] = dataclasses.field(default_factory=Counter)
    peak_total: int = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def make_app(site: Site) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0]
        site.requests.append((host, request.path))
        site.active[host] += 1
        site.peak_per_host[host] = max(site.peak_per_host[host], site.active[host])
        site.peak_total = max(site.peak_total, sum(site.active.values()))
        try:
            return await handler(request)
        finally:
            site.active[host] -= 1

    async def sina(request: web.Request) -> web.Response:
        return web.Response(body=sina_page().encode("gbk"), content_type="text/html")

    async def short(request: web.Request) -> web.Response:
        html = f"<html><head><title>短文</title></head><body><article>{cjk(120)}</article></body>"
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def redirect(request: web.Request) -> web.Response:
        step = int(request.match_info["n"])
        target = "/sina" if step <= 1 else f"/chain/{step - 1}"
        raise web.HTTPFound(target)

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop/b" if request.path == "/loop/a" else "/loop/a")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late", content_type="text/html")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await response.prepare(request)
        await response.write(b"<html><head><title>\xe5\xa4\xa7</title></head><body><article>")
        block = ("<p>" + cjk(1000) + "</p>").encode()
        try:
            for _ in range(2000):  # about 6 MB
                await response.write(block)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def visitor(request: web.Request) -> web.Response:
        return web.Response(text=VISITOR_WALL, content_type="text/html")

    async def to_passport(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://passport.weibo.com/visitor/visitor?entry=miniblog")

    async def to_private(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://evil.example:{site.port}/sina")

    async def to_ip(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.1.2.3/admin")

    async def paced(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.Response(
            text=f"<html><body><p>{cjk(50)}</p></body></html>", content_type="text/html"
        )

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")

    app = web.Application(middlewares=[record])
    app.router.add_get("/sina", sina)
    app.router.add_get("/short", short)
    app.router.add_get("/chain/{n}", redirect)
    app.router.add_get("/loop/{x}", loop)
    app.router.add_get("/slow", slow)
    app.router.add_get("/huge", huge)
    app.router.add_get("/visitor", visitor)
    app.router.add_get("/to-passport", to_passport)
    app.router.add_get("/to-private", to_private)
    app.router.add_get("/to-ip", to_ip)
    app.router.add_get("/paced/{n}", paced)
    app.router.add_get("/image.png", image)
    return app


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site(port=0)
    runner = web.AppRunner(make_app(site), shutdown_timeout=0.1)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    site.port = runner.addresses[0][1]
    yield site
    await runner.cleanup()


class FakeResolver(AbstractResolver):
    """Maps host names to fixed addresses, as a DNS server under our control would."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.rstrip(".")
        self.asked.append(name)
        if name not in self.table:
            raise OSError(f"unknown host {name}")
        return [
            ResolveResult(
                hostname=name,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[name]
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def verifier() -> AsyncIterator[Verifier]:
    async with Verifier(LOCAL) as v:
        yield v


# --------------------------------------------------------------------------- fetching


async def test_sina_blog_page_in_gbk_is_read_with_title_length_and_date(
    site: Site, verifier: Verifier
) -> None:
    facts = await verifier.fetch(site.url("/sina"))
    assert facts.status == "ok"
    assert facts.http_status == 200
    assert facts.title == "学习心得体会"
    assert facts.text_length == 800
    assert facts.published == date(2027, 6, 25)
    assert "800" in facts.detail


async def test_short_page_reports_its_length(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/short"))
    assert (facts.status, facts.text_length, facts.title) == ("ok", 120, "短文")


async def test_redirect_chain_is_followed_to_the_final_page(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/chain/3"))
    assert facts.status == "ok"
    assert facts.final_url == site.url("/sina")
    assert [path for _, path in site.requests] == ["/chain/3", "/chain/2", "/chain/1", "/sina"]


async def test_redirect_loop_is_unreachable(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/loop/a"))
    assert facts.status == "unreachable"
    assert "循环" in facts.detail
    assert len(site.requests) == 2


async def test_too_many_redirects_are_unreachable(site: Site) -> None:
    async with Verifier(LOCAL, max_redirects=2) as verifier:
        facts = await verifier.fetch(site.url("/chain/5"))
    assert facts.status == "unreachable"
    assert "2 次" in facts.detail
    assert len(site.requests) == 3


async def test_not_found_is_unreachable_with_its_status(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/no-such-post"))
    assert (facts.status, facts.http_status) == ("unreachable", 404)
    assert "404" in facts.detail


async def test_slow_page_times_out(site: Site) -> None:
    policy = dataclasses.replace(LOCAL, verify_timeout=0.2)
    started = time.monotonic()
    async with Verifier(policy) as verifier:
        facts = await verifier.fetch(site.url("/slow"))
    assert facts.status == "unreachable"
    assert "超时" in facts.detail
    assert time.monotonic() - started < 1.0


async def test_huge_page_is_read_only_up_to_the_size_cap(site: Site) -> None:
    async with Verifier(LOCAL, max_bytes=300_000) as verifier:
        facts = await verifier.fetch(site.url("/huge"))
    assert facts.status == "ok"
    assert "300 KB" in facts.detail
    assert facts.text_length is not None
    # 3 bytes per character in UTF-8: what was counted fits in what was read.
    assert 90_000 < facts.text_length <= 100_000


async def test_weibo_visitor_wall_is_not_verifiable(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/visitor"))
    assert facts.status == "not_verifiable"
    assert assess(facts, kind="microblog", contest=contest_with()) == ()


async def test_redirect_to_weibo_passport_is_not_verifiable_without_fetching_it(
    site: Site, verifier: Verifier
) -> None:
    facts = await verifier.fetch(site.url("/to-passport"))
    assert facts.status == "not_verifiable"
    assert facts.final_url is not None
    assert facts.final_url.startswith("https://passport.weibo.com/")


async def test_link_to_an_image_is_not_verifiable(site: Site, verifier: Verifier) -> None:
    facts = await verifier.fetch(site.url("/image.png"))
    assert (facts.status, facts.http_status) == ("not_verifiable", 200)
    assert assess(facts, kind="blog", contest=contest_with()) == ()


async def test_unknown_host_is_unreachable(site: Site) -> None:
    async with Verifier(LOCAL, resolver=FakeResolver({})) as verifier:
        facts = await verifier.fetch(f"http://gone.example:{site.port}/sina")
    assert facts.status == "unreachable"
    assert site.requests == []


async def test_fetch_many_answers_every_distinct_url(site: Site, verifier: Verifier) -> None:
    urls = [site.url("/sina"), site.url("/short"), site.url("/sina"), site.url("/missing")]
    results = await verifier.fetch_many(urls)
    assert list(results) == [site.url("/sina"), site.url("/short"), site.url("/missing")]
    assert [f.status for f in results.values()] == ["ok", "ok", "unreachable"]
    assert [path for _, path in site.requests].count("/sina") == 1


async def test_per_host_concurrency_is_limited(site: Site) -> None:
    resolver = FakeResolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    urls = [site.url(f"/paced/{i}", host=h) for h in ("a.test", "b.test") for i in range(8)]
    # A generous timeout: a request the client abandons keeps running on the server and would
    # be counted there while the client already starts the next one.
    async with Verifier(UNHURRIED, per_host=2, concurrency=10, resolver=resolver) as verifier:
        results = await verifier.fetch_many(urls)
    assert {f.status for f in results.values()} == {"ok"}
    assert site.peak_per_host == Counter({"a.test": 2, "b.test": 2})


async def test_global_concurrency_is_limited(site: Site) -> None:
    hosts = [f"h{i}.test" for i in range(6)]
    resolver = FakeResolver({h: ["127.0.0.1"] for h in hosts})
    urls = [site.url(f"/paced/{i}", host=h) for h in hosts for i in range(3)]
    async with Verifier(UNHURRIED, per_host=3, concurrency=4, resolver=resolver) as verifier:
        results = await verifier.fetch_many(urls)
    assert {f.status for f in results.values()} == {"ok"}
    assert site.peak_total == 4


# --------------------------------------------------------------------------- refusing addresses


async def test_local_urls_are_blocked_by_default_and_never_requested(site: Site) -> None:
    async with Verifier(PUBLIC_ONLY) as verifier:
        results = await verifier.fetch_many([site.url("/sina"), site.url("/visitor")])
    assert {f.status for f in results.values()} == {"blocked"}
    assert site.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/sina",
        "http://[::1]:{port}/sina",
        "http://[::ffff:127.0.0.1]:{port}/sina",
        "http://localhost:{port}/sina",
        "http://blog.localhost:{port}/sina",
        "http://2130706433:{port}/sina",
        "http://127.1:{port}/sina",
        "http://0x7f000001:{port}/sina",
        "http://10.0.0.1/",
        "http://8.8.8.8/",
    ],
)
async def test_ip_literals_and_localhost_are_refused_up_front(site: Site, url: str) -> None:
    resolver = FakeResolver({})
    async with Verifier(PUBLIC_ONLY, resolver=resolver) as verifier:
        facts = await verifier.fetch(url.format(port=site.port))
    assert facts.status == "blocked"
    assert resolver.asked == []
    assert site.requests == []


async def test_non_http_scheme_is_refused(verifier: Verifier) -> None:
    facts = await verifier.fetch("file:///etc/passwd")
    assert facts.status == "blocked"


async def test_hostname_resolving_to_loopback_is_blocked_at_connection_time(site: Site) -> None:
    resolver = FakeResolver({"evil.example": ["127.0.0.1"]})
    async with Verifier(PUBLIC_ONLY, resolver=resolver) as verifier:
        facts = await verifier.fetch(site.url("/sina", host="evil.example"))
    assert facts.status == "blocked"
    assert resolver.asked == ["evil.example"]
    assert site.requests == []


async def test_every_redirect_hop_is_checked_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only 127.0.0.1 counts as public here; a redirect to a name on 127.0.0.2 is refused."""
    monkeypatch.setattr(
        bot.submissions.verify.fetch, "is_public_address", lambda ip: str(ip) == "127.0.0.1"
    )
    resolver = FakeResolver({"good.example": ["127.0.0.1"], "evil.example": ["127.0.0.2"]})
    async with Verifier(PUBLIC_ONLY, resolver=resolver) as verifier:
        to_name = await verifier.fetch(site.url("/to-private", host="good.example"))
        to_ip = await verifier.fetch(site.url("/to-ip", host="good.example"))
    assert (to_name.status, to_ip.status) == ("blocked", "blocked")
    assert site.requests == [("good.example", "/to-private"), ("good.example", "/to-ip")]


async def test_public_only_resolver_keeps_only_public_addresses() -> None:
    inner = FakeResolver({"mixed.example": ["10.0.0.5", "93.184.216.34", "::ffff:192.168.1.1"]})
    results = await PublicOnlyResolver(inner).resolve("mixed.example.", 80)
    assert [r["host"] for r in results] == ["93.184.216.34"]


async def test_public_only_resolver_refuses_a_name_with_only_private_addresses() -> None:
    inner = FakeResolver({"rebind.example": ["169.254.169.254", "fd00::1"]})
    with pytest.raises(bot.submissions.verify.fetch.BlockedAddressError):
        await PublicOnlyResolver(inner).resolve("rebind.example", 80)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "202.108.22.5", "2606:2800:220:1::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


# --------------------------------------------------------------------------- assessment


def contest_with(min_chars: int = 600) -> Contest:
    return make_contest(
        **PLAIN,
        timezone=SHANGHAI,
        start=datetime(2027, 6, 24, tzinfo=SHANGHAI),
        deadline=datetime(2027, 7, 1, 18, tzinfo=SHANGHAI),
        groups=frozenset({1}),
        organizers=frozenset({2}),
        submission=SubmissionPolicy(min_chars=min_chars),
    )


def page(
    status: VerifyStatus = VerifyStatus.OK,
    text_length: int | None = 800,
    published: date | None = None,
) -> PageFacts:
    return PageFacts(
        status, 200, "https://blog.sina.com.cn/s/x.html", "t", text_length, published, ""
    )


def test_good_blog_post_has_no_flags() -> None:
    assert assess(page(published=date(2027, 6, 25)), kind="blog", contest=contest_with()) == ()


def test_unreachable_page_is_flagged() -> None:
    facts = page("unreachable", text_length=None)
    assert assess(facts, kind="blog", contest=contest_with()) == ("unreachable",)


def test_short_blog_post_is_flagged() -> None:
    assert assess(page(text_length=599), kind="blog", contest=contest_with()) == ("short",)


def test_blog_post_of_exactly_min_chars_is_not_short() -> None:
    assert assess(page(text_length=600), kind="blog", contest=contest_with()) == ()


def test_short_microblog_is_not_flagged() -> None:
    assert assess(page(text_length=40), kind="microblog", contest=contest_with()) == ()


def test_not_verifiable_page_is_not_a_failure() -> None:
    facts = page("not_verifiable", text_length=None)
    assert assess(facts, kind="blog", contest=contest_with()) == ()


def test_post_published_before_the_start_is_outside_the_window() -> None:
    facts = page(published=date(2027, 6, 23))
    assert assess(facts, kind="blog", contest=contest_with()) == ("outside_window",)


def test_post_published_after_the_deadline_date_is_outside_the_window() -> None:
    facts = page(text_length=100, published=date(2027, 7, 2))
    assert assess(facts, kind="blog", contest=contest_with()) == ("short", "outside_window")


def test_window_is_compared_by_local_date() -> None:
    """The deadline is 18:00 on 1 July; a post dated 1 July (time unknown) is inside."""
    contest = dataclasses.replace(
        contest_with(), start=datetime(2027, 6, 23, 16, 30, tzinfo=ZoneInfo("UTC"))
    )  # 24 June 00:30 in Shanghai
    assert assess(page(published=date(2027, 7, 1)), kind="blog", contest=contest) == ()
    assert assess(page(published=date(2027, 6, 24)), kind="blog", contest=contest) == ()
    assert assess(page(published=date(2027, 6, 23)), kind="blog", contest=contest) == (
        "outside_window",
    )


# --------------------------------------------------------------------------- parsing


URL = "https://blog.sina.com.cn/s/blog_1.html"


def test_sina_blog_body_excludes_scripts_navigation_comments_and_footer() -> None:
    facts = page_facts_from_html(sina_page(650), URL)
    assert facts.text_length == 650
    assert facts.title == "学习心得体会"
    assert not facts.login_wall


def test_title_suffix_of_the_site_is_trimmed() -> None:
    html = (
        "<html><head><title>基层治理的新探索_新华网</title></head><body><p>正文</p></body></html>"
    )
    assert page_facts_from_html(html, URL).title == "基层治理的新探索"


def test_sina_title_loses_blogger_name_and_site() -> None:
    html = "<html><head><title>我的读书笔记_李四_新浪博客</title></head><body>x</body></html>"
    assert page_facts_from_html(html, URL).title == "我的读书笔记"


def test_og_title_is_preferred() -> None:
    html = """<html><head><meta property="og:title" content="真正的标题">
    <title>首页 - 某某网</title></head><body><p>正文</p></body></html>"""
    assert page_facts_from_html(html, URL).title == "真正的标题"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '<meta property="article:published_time" content="2027-06-26T08:00:00+08:00">',
            date(2027, 6, 26),
        ),
        ('<meta name="pubdate" content="2027/06/27">', date(2027, 6, 27)),
        ('<time datetime="2027-06-28">六月二十八日</time>', date(2027, 6, 28)),
        ('<span class="pubtime">发布时间：2027年6月29日 09:00</span>', date(2027, 6, 29)),
        ('<span class="time">(2011-06-28 10:12:33)</span>', date(2011, 6, 28)),
        ("<div>作者 王五 2027年7月1日</div>", date(2027, 7, 1)),
        ("<div>没有日期 2027-13-45</div>", None),
    ],
)
def test_publication_date_is_found(snippet: str, expected: date | None) -> None:
    head, body = (snippet, "") if snippet.startswith("<meta") else ("", snippet)
    html = f"<html><head>{head}</head><body>{body}<article><p>{cjk(50)}</p></article></body></html>"
    assert page_facts_from_html(html, URL).published == expected


def test_largest_text_block_is_the_body_without_a_known_container() -> None:
    html = f"""<html><body>
    <div class="menu"><a href="/">首页</a> <a href="/a">关于</a></div>
    <div class="main"><div class="x">{cjk(300)}<br>{cjk(200)}</div></div>
    <div class="side"><p>{cjk(40)}</p></div></body></html>"""
    assert page_facts_from_html(html, URL).text_length == 500


def test_post_split_over_many_blocks_is_counted_whole() -> None:
    posts = "".join(f"<div class='para'><p>{cjk(150)}</p></div>" for _ in range(5))
    html = f"""<html><body><div class="post">{posts}</div>
    <div class="side"><p>{cjk(100)}</p></div></body></html>"""
    assert page_facts_from_html(html, URL).text_length == 750


def test_ascii_letters_and_punctuation_count_one_each_whitespace_not() -> None:
    html = "<html><body><article>学习 Python，很好！\n\t　abc</article></body></html>"
    assert page_facts_from_html(html, URL).text_length == len("学习Python，很好！abc")


def test_sina_visitor_system_is_a_login_wall() -> None:
    assert page_facts_from_html(VISITOR_WALL, "https://weibo.com/1234567890/Abc").login_wall


def test_script_shell_with_login_form_is_a_login_wall() -> None:
    assert page_facts_from_html(LOGIN_SHELL, "https://weibo.com/1234567890/Abc").login_wall


def test_long_page_with_a_login_link_is_not_a_login_wall() -> None:
    html = f"<html><body><a href='/login'>登录</a><article>{cjk(700)}</article></body></html>"
    assert not page_facts_from_html(html, URL).login_wall


def test_page_on_passport_host_is_a_login_wall() -> None:
    html = "<html><head><title>微博通行证</title></head><body>请先登录后继续</body></html>"
    assert page_facts_from_html(html, "https://passport.weibo.com/visitor/visitor").login_wall


def test_empty_and_broken_html_give_no_facts() -> None:
    assert page_facts_from_html("", URL) == (None, 0, None, False, None, "", (), False)
    assert (
        page_facts_from_html("<?xml version='1.0' encoding='gbk'?><html></html>", URL).title is None
    )


def test_gbk_declared_in_meta_is_decoded() -> None:
    assert "学习心得体会" in decode_page(sina_page().encode("gbk"))


def test_undeclared_gbk_falls_back_to_gb18030() -> None:
    html = "<html><body>学习博客大赛</body></html>"
    assert decode_page(html.encode("gbk")) == html


def test_latin1_header_loses_to_meta_charset() -> None:
    assert "学习心得体会" in decode_page(sina_page().encode("gbk"), "ISO-8859-1")


def test_utf8_cut_in_the_middle_of_a_character_is_decoded() -> None:
    data = "<p>学习博客</p>".encode()[:-5]  # "</p>" gone and half of 客
    assert decode_page(data) == "<p>学习博"
