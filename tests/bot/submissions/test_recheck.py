"""Re-verification (复核) on SQLite and PostgreSQL against a local web server whose pages change:
deleted, made private, rewritten, unreadable — and an organizer's decisions, never automatic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiohttp import web

from bot.settings.contest import Contest, SubmissionPolicy
from bot.storage.db import Sessions
from bot.submissions.book import Accepted, EntryBook, EntryView, NewLink
from bot.submissions.recheck import (
    Decision,
    NothingToDecide,
    Outcome,
    RecheckBook,
    RecheckBusy,
    classify,
    recheck_all,
)
from bot.submissions.states import EntryStatus, VerifyStatus
from bot.submissions.verify.assess import PageFacts
from bot.submissions.verify.fetch import Verifier
from bot.submissions.verify.run import verify_entries
from bot.units.directory import UnitDirectory

LOCAL = SubmissionPolicy(verify_allow_private=True, verify_timeout=3)
BODY = "七一前夕，社区党员重温入党誓词，回顾红船精神，" * 40


def page(title: str, body: str = BODY, image: str = "/img/1.jpg") -> str:
    return (
        f"<html><head><title>{title}</title></head><body>"
        f"<article><p>{body}</p><img src='{image}'></article></body></html>"
    )


class Pages:
    """A local site: path -> (HTTP status, HTML); tests change it between runs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str]] = {}
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        status, html = self.pages.get(request.path, (404, "<html><body>404</body></html>"))
        return web.Response(status=status, text=html, content_type="text/html")


@pytest.fixture
async def site() -> AsyncIterator[Pages]:
    pages = Pages()
    app = web.Application()
    app.router.add_get("/{tail:.*}", pages.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    pages.port = runner.addresses[0][1]
    yield pages
    await runner.cleanup()


def link(url: str, n: int) -> NewLink:
    return NewLink(url=url, given=url, platform="blog.sina.com.cn", kind="blog", author=f"作者{n}")


def entry_view(**changes: object) -> EntryView:
    base = EntryView(
        receipt=1,
        unit_id=1,
        unit_name="南湖街道",
        author="张三",
        url="https://blog.sina.com.cn/s/blog_1.html",
        given_url="https://blog.sina.com.cn/s/blog_1.html",
        platform="blog.sina.com.cn",
        platform_name="新浪博客",
        kind="blog",  # type: ignore[arg-type]
        status=EntryStatus.ACCEPTED,
        late=False,
        submitted_by=10001,
        submitted_at=datetime(2027, 6, 25),
        withdrawn_by=None,
        withdrawn_at=None,
        source_group=None,
        source_message_id=None,
        verify_status=VerifyStatus.OK,
        title="重温党史",
        text_length=800,
        published_on=None,
        verified_at=None,
        flags=(),
        fingerprint="a" * 64,
        snapshot={"title": "重温党史", "excerpt": "七一", "images": ["x"]},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(status: str = "ok", http: int | None = 200, **more: object) -> PageFacts:
    values: dict[str, object] = {
        "status": VerifyStatus(status),
        "http_status": http,
        "final_url": "u",
        "title": "重温党史",
        "text_length": 800,
        "published": None,
        "detail": "可以打开",
        "fingerprint": "a" * 64,
        "excerpt": "七一",
        "images": ("x",),
    }
    values.update(more)
    return PageFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "found", "outcome"),
    [
        ({}, {}, Outcome.OK),
        ({"fingerprint": None}, {}, Outcome.OK),
        ({}, {"fingerprint": "b" * 64, "title": "新标题"}, Outcome.CHANGED),
        (
            {},
            {"status": "unreachable", "http": 404, "gone": True, "detail": "页面不存在（404）"},
            Outcome.GONE,
        ),
        (
            {},
            {"status": "unreachable", "http": 200, "gone": True, "detail": "已删除"},
            Outcome.GONE,
        ),
        (
            {},
            {"status": "not_verifiable", "detail": "需要登录才能查看，无法自动核验"},
            Outcome.PRIVATE,
        ),
        ({}, {"status": "unreachable", "http": 403, "detail": "页面返回错误 403"}, Outcome.PRIVATE),
        # Weibo: never readable without a login, so never "gone" or "private": unknown.
        (
            {"verify_status": VerifyStatus.NOT_VERIFIABLE, "fingerprint": None},
            {"status": "not_verifiable", "detail": "需要登录才能查看，无法自动核验"},
            Outcome.CANNOT_CHECK,
        ),
        (
            {},
            {"status": "unreachable", "http": None, "detail": "访问超时（3 秒）"},
            Outcome.CANNOT_CHECK,
        ),
        (
            {},
            {"status": "unreachable", "http": 502, "detail": "页面返回错误 502"},
            Outcome.CANNOT_CHECK,
        ),
        ({}, {"status": "blocked", "http": None, "detail": "不予访问"}, Outcome.CANNOT_CHECK),
    ],
)
def test_what_a_page_read_again_means(
    entry: dict[str, object], found: dict[str, object], outcome: Outcome
) -> None:
    http = found.pop("http", 200)
    got, detail = classify(entry_view(**entry), facts(http=http, **found))  # type: ignore[arg-type]
    assert got is outcome, detail
    assert detail


def test_a_change_says_what_changed() -> None:
    _, detail = classify(
        entry_view(), facts(fingerprint="c" * 64, title="新的标题", text_length=650, images=())
    )
    assert detail == "标题「重温党史」→「新的标题」；正文 800 字 → 650 字；图片有变"


async def test_a_run_flags_and_organizers_decide(
    sessions: Sessions,
    book: EntryBook,
    units: UnitDirectory,
    contest: Contest,
    now: datetime,
    site: Pages,
) -> None:
    names = ("same", "deleted", "notice", "rewritten", "private", "old")
    for name in names:
        site.pages[f"/{name}"] = (200, page(f"文章 {name}"))
    nanhu = units.find("南湖街道").unit
    assert nanhu is not None
    outcomes = await book.submit(
        nanhu,
        [link(site.url(f"/{name}"), n) for n, name in enumerate(names)],
        submitted_by=10001,
        now=now,
        late=False,
    )
    receipts = dict(
        zip(names, [o.receipt for o in outcomes if isinstance(o, Accepted)], strict=True)
    )
    clock = iter(now + timedelta(minutes=i) for i in range(1000)).__next__
    async with Verifier(LOCAL) as verifier:
        # Verified at submission (keeps fingerprints) — except "old", verified before they were.
        await verify_entries(
            book, verifier, contest, [r for n, r in receipts.items() if n != "old"], clock
        )
        assert (await book.get(receipts["same"])).fingerprint is not None  # type: ignore[union-attr]
        assert (await book.get(receipts["old"])).fingerprint is None  # type: ignore[union-attr]

        site.pages.pop("/deleted")
        site.pages["/notice"] = (200, "<html><body><p>抱歉，该博文已被删除。</p></body></html>")
        site.pages["/rewritten"] = (200, page("改过的标题", BODY[:300]))
        site.pages["/private"] = (403, "<html><body>Forbidden</body></html>")
        store = RecheckBook(sessions)
        run = await recheck_all(book, verifier, store, clock, actor=10000)

    assert run.finished
    assert run.total == len(names)
    assert run.counts == {"ok": 2, "gone": 2, "changed": 1, "private": 1}
    flagged = {v.receipt: v for v in await store.outcomes()}
    assert {v.outcome for v in flagged.values()} == {
        Outcome.GONE,
        Outcome.CHANGED,
        Outcome.PRIVATE,
    }
    assert flagged[receipts["deleted"]].detail == "页面不存在（404）"
    assert flagged[receipts["notice"]].outcome is Outcome.GONE
    assert "标题「文章 rewritten」→「改过的标题」" in flagged[receipts["rewritten"]].detail
    assert flagged[receipts["rewritten"]].before is not None
    # The entry verified before fingerprints existed got one now, and nothing was withdrawn.
    assert (await book.get(receipts["old"])).fingerprint is not None  # type: ignore[union-attr]
    assert all(e.status is EntryStatus.ACCEPTED for e in await book.all_entries())
    assert "已删除 2、不再公开 1、内容有变 1、无法检查 0、正常 2" in run.summary()

    # Organizers decide; withdrawing goes through the book.
    kept = await store.decide(
        receipts["rewritten"], Decision.KEEP, entries=book, actor=10000, now=now
    )
    assert kept.decision is Decision.KEEP
    gone = await store.decide(
        receipts["deleted"], Decision.WITHDRAW, entries=book, actor=10000, now=now
    )
    assert gone.line.endswith("【已撤回】")
    assert (await book.get(receipts["deleted"])).withdrawn  # type: ignore[union-attr]
    # Deciding again replaces the decision; withdrawing twice is not an error.
    await store.decide(receipts["deleted"], Decision.WITHDRAW, entries=book, actor=1, now=now)
    with pytest.raises(NothingToDecide):
        await store.decide(receipts["same"], Decision.KEEP, entries=book, actor=1, now=now)
    with pytest.raises(NothingToDecide):
        await store.decide(10**12, Decision.KEEP, entries=book, actor=1, now=now)


async def test_one_run_at_a_time_until_it_is_stale(sessions: Sessions, now: datetime) -> None:
    store = RecheckBook(sessions)
    await store.start_run(3, 10000, now)
    with pytest.raises(RecheckBusy):
        await store.start_run(3, 10000, now + timedelta(minutes=5))
    later = await store.start_run(3, 10000, now + timedelta(hours=2))  # the first was cut short
    assert later.id == 2
