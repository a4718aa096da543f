"""/复核 in the running app: posts verified at submission, then one rewritten and one deleted on
the (local HTTPS) blog; an organizer re-checks, reads the flags, keeps one and withdraws one.
Nothing is withdrawn without the organizer, and wrong input gets a clear answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, AppStarter, ContestWriter
from .test_dashboard import base, csrf_of, login_link, sign_in
from .test_submissions import (
    BLOG_HOST,
    MEMBER_ID,
    NANHU,
    TZ,
    BlogServer,
    _overrides,
    _page,
    _say,
    blog,
    blog_server,
    certificates,
)

__all__ = ["blog_server", "certificates"]  # fixtures used by name below


async def test_recheck_flags_changes_and_the_organizer_decides(
    start_app: AppStarter,
    contest_config: ContestWriter,
    onebot: FakeOneBot,
    blog_server: BlogServer,
    certificates: tuple[Path, Path, Path],
) -> None:
    today = dt.datetime.now(TZ).date()
    blog_server.pages["/s/blog_kept.html"] = _page("长文", 12, today)
    blog_server.pages["/s/blog_gone.html"] = _page("删掉的文章", 12, today)
    config = contest_config(
        _overrides(
            verify=True,
            verify_allow_private=True,
            verify_resolve={BLOG_HOST: blog_server.address},
        )
    )
    ca, _certificate, _key = certificates
    app = await start_app(config=config, env={"SSL_CERT_FILE": str(ca)})
    await onebot.connect(app.ws_url)

    # Before any run, and as somebody who may not.
    assert "还没有复核过" in (await _say(onebot, ORGANIZER_ID, "/复核 结果")).text
    assert "组织者" in (await _say(onebot, MEMBER_ID, "/复核 开始")).text

    for post in ("long", "kept", "gone"):
        receipt = await _say(onebot, NANHU, f"/提交 张三 {blog(post)}")
        assert "已登记" in receipt.text, receipt.text
        await blog_server.wait_hit(f"/s/blog_{post}.html")
    await onebot.expect_silence(1.0, group_id=GROUP_ID)  # verified, nothing to say

    # Between submission and judging: #2 rewritten (title and length), #3 deleted.
    blog_server.pages["/s/blog_kept.html"] = _page("改过的标题", 5, today)
    del blog_server.pages["/s/blog_gone.html"]

    started = await _say(onebot, ORGANIZER_ID, "/复核 开始")
    assert started.text == "已开始复核 3 篇作品（逐篇重新打开链接），完成后在这里告诉您。"
    summary = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: "复核完成" in m.text, timeout=30
    )
    assert "共 3 篇；已删除 1、不再公开 0、内容有变 1、无法检查 0、正常 1" in summary.text
    assert "/复核 结果" in summary.text

    results = await _say(onebot, ORGANIZER_ID, "/复核 结果")
    lines = results.text.splitlines()
    assert "#2 内容有变：标题「长文」→「改过的标题」" in results.text, lines
    assert "#3 已删除：页面不存在（404）" in results.text, lines
    assert "#1" not in results.text

    # Nothing was withdrawn by the run itself.
    mine = await _say(onebot, NANHU, "/我的提交")
    assert "已撤回" not in mine.text

    assert (await _say(onebot, ORGANIZER_ID, "/复核 保留 2")).text == "#2 已保留。"
    assert (await _say(onebot, ORGANIZER_ID, "/复核 撤回 #3")).text == "#3 已撤回。"
    mine = await _say(onebot, NANHU, "/我的提交")
    assert "#3" in mine.text
    assert "已撤回" in mine.text
    again = await _say(onebot, ORGANIZER_ID, "/复核 结果")
    assert "#2 内容有变" in again.text
    assert "【已保留】" in again.text
    assert "【已撤回】" in again.text

    # Wrong, empty, oversized and hostile input: a clear answer, nothing changed.
    for text, words in (
        ("/复核 保留", "请写明作品编号"),
        ("/复核 保留 abc", "请写明作品编号"),
        ("/复核 撤回 1", "没有问题，不需要决定"),
        ("/复核 撤回 99999999999999999999", "请写明作品编号"),
        ("/复核 撤回 999999999", "不需要决定"),
        ("/复核 撤回 1 2", "请写明作品编号"),
        ("/复核 撤回 [CQ:at,qq=all]", "请写明作品编号"),
        ("/复核 " + "撤" * 3000, "没有"),
    ):
        reply = await _say(onebot, ORGANIZER_ID, text)
        assert words in reply.text, (text, reply.text)
        assert reply.mentions == []
    mine = await _say(onebot, NANHU, "/我的提交")
    assert mine.text.count("【已撤回】") == 1

    # The same on the dashboard, and the reach figures typed there.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with await sign_in(web, await login_link(onebot, ORGANIZER_ID)) as signed:
            assert signed.status == 303
        csrf = await csrf_of(web, app)
        async with web.get(f"{base(app)}/dashboard/recheck") as page:
            html = await page.text()
        assert "共 3 篇；已删除 1、不再公开 0、内容有变 1" in html
        assert 'id="recheck-2"' in html
        assert "已保留" in html
        assert "已撤回，可在“作品”页恢复" in html
        async with web.post(
            f"{base(app)}/dashboard/recheck/3/keep", data={"csrf": csrf}, allow_redirects=False
        ) as refused:
            assert refused.status == 400
            assert "恢复" in await refused.text()
        async with web.post(
            f"{base(app)}/dashboard/recheck/2/withdraw", data={"csrf": csrf}, allow_redirects=False
        ) as done:
            assert done.status == 303
            assert "done=withdraw" in done.headers["Location"]
        async with web.post(
            f"{base(app)}/dashboard/recheck/1/withdraw", data={"csrf": csrf}, allow_redirects=False
        ) as nothing:
            assert nothing.status == 404
            assert "不需要决定" in await nothing.text()

        today_text = dt.datetime.now(TZ).date().isoformat()
        figure = {"csrf": csrf, "receipt": "#1", "metric": "views", "value": "1.2万"}
        async with web.post(
            f"{base(app)}/dashboard/metrics",
            data={**figure, "date": today_text, "note": "新浪后台截图"},
            allow_redirects=False,
        ) as saved:
            assert saved.status == 303
        async with web.get(f"{base(app)}/dashboard/metrics") as page:
            html = await page.text()
        assert "12,000" in html
        assert "新浪后台截图" in html
        for field, value, words in (
            ("value", "-5", "不是数字"),
            ("value", "9" * 40, "太大"),
            ("metric", "shares", "只能记录"),
            ("receipt", "99999999999999999999", "没有找到"),
            ("receipt", "3", "已撤回"),
            ("date", "2999-01-01", "今天之后"),
            ("date", "昨天", "日期"),
        ):
            async with web.post(
                f"{base(app)}/dashboard/metrics",
                data={**figure, field: value},
                allow_redirects=False,
            ) as bad:
                assert bad.status in (400, 404), (field, value, bad.status)
                assert words in await bad.text(), (field, value)
