"""Dashboard sessions that end when they should: revoked by an organizer (dashboard and chat),
a demoted group admin at the next click, and never by someone without the right."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.demo.onebot import FakeOneBot, at, text
from tests.e2e.conftest import GROUP_ID, ORGANIZER_ID, AppProcess, AppStarter, ContestWriter
from tests.e2e.test_dashboard import (
    JUDGE_ID,
    base,
    client,  # noqa: F401 (fixture)
    csrf_of,
    login_link,
    seeded_app,
    sign_in,
)

GROUP_ADMIN_ID = 30_005


async def signed_in(app: AppProcess, onebot: FakeOneBot, user_id: int) -> aiohttp.ClientSession:
    """A browser of its own, signed in as `user_id` (caller closes it)."""
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with await sign_in(browser, await login_link(onebot, user_id)) as answer:
        assert answer.status == 303, await answer.text()
    return browser


async def opens(browser: aiohttp.ClientSession, app: AppProcess) -> bool:
    """Whether the browser's session still opens a page (not sent to the sign-in page)."""
    async with browser.get(f"{base(app)}/dashboard/", allow_redirects=False) as page:
        return page.status == 200


async def eventually_closed(browser: aiohttp.ClientSession, app: AppProcess) -> bool:
    """The notice is handled in its own task: allow it a moment."""
    for _ in range(30):
        if not await opens(browser, app):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_an_organizer_ends_a_judges_sessions_from_the_dashboard(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,  # noqa: F811
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    judge_phone = await signed_in(app, onebot, JUDGE_ID)
    judge_laptop = await signed_in(app, onebot, JUDGE_ID)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    try:
        async with client.get(f"{base(app)}/dashboard/sessions") as listing:
            before = await listing.text()
        csrf = await csrf_of(client, app)
        async with client.post(
            f"{base(app)}/dashboard/sessions/{JUDGE_ID}/end",
            data={"csrf": csrf},
            allow_redirects=False,
        ) as ended:
            assert ended.status == 303
            after_url = ended.headers["Location"]
        async with client.get(f"{base(app)}{after_url}") as listing:
            after = await listing.text()

        assert f"{JUDGE_ID}" in before
        assert "已注销 20001 的 2 个后台登录" in after
        assert f'id="end-{JUDGE_ID}"' not in after
        assert not await opens(judge_phone, app)
        assert not await opens(judge_laptop, app)
        assert await opens(client, app)  # the organizer's own session is untouched
    finally:
        await judge_phone.close()
        await judge_laptop.close()


async def test_a_judge_may_not_list_or_end_sessions(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,  # noqa: F811
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    organizer = await signed_in(app, onebot, ORGANIZER_ID)
    async with await sign_in(client, await login_link(onebot, JUDGE_ID)):
        pass
    try:
        csrf = await csrf_of(client, app)
        async with client.get(f"{base(app)}/dashboard/sessions") as listing:
            assert listing.status == 403
        async with client.post(
            f"{base(app)}/dashboard/sessions/{ORGANIZER_ID}/end",
            data={"csrf": csrf},
            allow_redirects=False,
        ) as refused:
            assert refused.status == 403
        assert await opens(organizer, app)
    finally:
        await organizer.close()


async def test_hostile_person_numbers_get_404_never_5xx(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,  # noqa: F811
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    csrf = await csrf_of(client, app)

    statuses = []
    for who in ("²", "99999999999999999999", "-1", "0", "abc", "１２３", "4294967296"):
        async with client.post(
            f"{base(app)}/dashboard/sessions/{who}/end",
            data={"csrf": csrf},
            allow_redirects=False,
        ) as answer:
            statuses.append(answer.status)
    async with client.get(f"{base(app)}/dashboard/sessions?u=<b>x</b>&n=99999999999") as page:
        listing = await page.text()

    assert statuses == [404] * 7
    assert page.status == 200
    assert "<b>x</b>" not in listing
    assert await opens(client, app)


async def test_an_organizer_ends_sessions_from_the_group_and_a_judge_may_not(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    judge = await signed_in(app, onebot, JUDGE_ID)
    organizer = await signed_in(app, onebot, ORGANIZER_ID)
    try:
        await onebot.post_group_message(GROUP_ID, JUDGE_ID, [text("/后台 注销 "), at(ORGANIZER_ID)])
        refused = await onebot.wait_sent(group_id=GROUP_ID)
        assert "仅限组织者" in refused.text
        assert await opens(organizer, app)

        await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, [text("/后台 注销 "), at(JUDGE_ID)])
        done = await onebot.wait_sent(group_id=GROUP_ID)
        assert "已注销" in done.text
        assert "1 个后台登录" in done.text
        assert done.mentions == []
        assert not await opens(judge, app)

        await onebot.post_private_message(ORGANIZER_ID, "/后台 注销")
        own = await onebot.wait_sent(user_id=ORGANIZER_ID)
        assert own.text.startswith("已注销您的 1 个后台登录")
        assert not await opens(organizer, app)

        await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/后台 注销 [CQ:at,qq=all]")
        hostile = await onebot.wait_sent(group_id=GROUP_ID)
        assert "请 @ 要注销的人" in hostile.text
        assert "all" not in hostile.mentions
    finally:
        await judge.close()
        await organizer.close()


async def test_a_demoted_group_admin_loses_the_dashboard_at_the_next_click(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
) -> None:
    # The minimal contest makes served groups' admins organizers.
    onebot.set_member(GROUP_ID, GROUP_ADMIN_ID, role="admin", nickname="群管理员")
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    admin = await signed_in(app, onebot, GROUP_ADMIN_ID)
    try:
        assert await opens(admin, app)
        async with admin.get(f"{base(app)}/dashboard/sessions") as listing:
            assert listing.status == 200  # an organizer while an admin

        await onebot.post(onebot.admin_changed(GROUP_ID, GROUP_ADMIN_ID, admin=False))

        assert await eventually_closed(admin, app)
        async with admin.get(f"{base(app)}/dashboard/api/units") as data:
            assert data.status == 401
        await onebot.post_private_message(GROUP_ADMIN_ID, "/后台")
        await onebot.expect_silence(2.0, user_id=GROUP_ADMIN_ID)  # no new link either
    finally:
        await admin.close()
