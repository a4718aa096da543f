"""/提交 /撤回 /改作者 /核验 /我的提交 /进度 /排行 /导出 through the router, as users see them."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from typing import Any

import nonebot.message
import openpyxl
import pytest
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    GroupMessageEvent,
    Message,
    MessageSegment,
    NetworkError,
    PrivateMessageEvent,
)
from nonebot.adapters.onebot.v11.event import Reply, Sender
from nonebot.exception import ApiNotAvailable
from nonebug import App
from nonebug.mixin.process import MatcherContext

from bot.messages.parts import Mention, Text
from bot.messages.render import render
from bot.runtime import Runtime, current
from bot.submissions.book import EntryView, NewLink
from bot.submissions.verify.assess import PageFacts
from bot.units.directory import UnitView
from tests.fake import (
    GROUP,
    MEMBER,
    ORGANIZER,
    SECRETARY,
    SELF_ID,
    TZ,
    AnyNodes,
    ForwardOf,
    NoMentions,
    expect_reply,
    group_message,
    make_contest,
    private_message,
    reply_starting,
    reply_to,
    text_message,
)

NOW = datetime(2027, 6, 25, 10, 30, tzinfo=TZ)
BEFORE_START = datetime(2027, 6, 23, 9, 0, tzinfo=TZ)
AFTER_DEADLINE = datetime(2027, 7, 1, 18, 1, tzinfo=TZ)
OTHER_SECRETARY = 10002  # bound to 新嘉街道 by the `other_secretary` fixture

BLOG = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"
BLOG_SHOWN = "blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"
WEIBO = "https://weibo.com/1234567890/Abc123"
WEIBO_STORED = "https://m.weibo.cn/status/22432863907"

SUBMIT_USAGE = (
    "没有找到链接。用法：/提交 [作者] 链接，可一次提交多个，例如：\n/提交 张三 https://weibo.com/…"
)
NOT_BOUND = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"
PLATFORMS = "新浪博客、新浪微博、腾讯、新华网、人民网"


def blog(n: int) -> str:
    return f"https://blog.sina.com.cn/s/blog_{n}.html"


@pytest.fixture
def book(runtime: Runtime) -> Runtime:
    """The runtime inside the submission window, verification off."""
    runtime.clock = lambda: NOW
    runtime.verifier = None
    return runtime


@pytest.fixture
async def other_secretary(book: Runtime) -> int:
    await book.units.bind(OTHER_SECRETARY, "新嘉街道", ORGANIZER, NOW)
    return OTHER_SECRETARY


_expect = partial(expect_reply, user_id=SECRETARY)


def _not_a_group_admin(ctx: MatcherContext, user_id: int) -> None:
    """In private chat the router asks whether the sender administers a served group."""
    ctx.should_call_api(
        "get_group_member_info", {"group_id": GROUP, "user_id": user_id}, result={"role": "member"}
    )


async def _entry(runtime: Runtime, receipt: int) -> EntryView:
    entry = await runtime.entries.get(receipt)
    assert entry is not None, receipt
    return entry


def _unit(runtime: Runtime, name: str) -> UnitView:
    found = runtime.units.find(name).unit
    assert found is not None, name
    return found


async def _count(runtime: Runtime, name: str) -> int:
    return (await runtime.entries.progress(_unit(runtime, name))).accepted


async def _store(
    runtime: Runtime, unit: str, urls: Iterable[str], author: str | None = None
) -> None:
    """Entries put straight into the book (the chat is not what these tests are about)."""
    links = [NewLink(u, u, "blog.sina.com.cn", "blog", author, "新浪博客") for u in urls]
    await runtime.entries.submit(
        _unit(runtime, unit), links, submitted_by=SECRETARY, now=NOW, late=False
    )


# --- /提交: accepted ---------------------------------------------------------------------------


async def test_one_link_gets_a_receipt_and_the_unit_progress(app: App, book: Runtime) -> None:
    await _expect(app, f"/提交 {BLOG}", "#1 已登记\n南湖街道 已提交 1/50")
    entry = await _entry(book, 1)
    assert (entry.url, entry.unit_name, entry.submitted_by) == (BLOG, "南湖街道", SECRETARY)
    assert entry.source_group == GROUP


async def test_several_links_with_their_authors(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 张三 {WEIBO} 李四 {BLOG}",
        "#1 已登记（张三）\n#2 已登记（李四）\n南湖街道 已提交 2/50",
    )
    first, second = await _entry(book, 1), await _entry(book, 2)
    assert (first.url, first.author, first.platform_name) == (WEIBO_STORED, "张三", "新浪微博")
    assert (second.url, second.author) == (BLOG, "李四")


async def test_english_command_and_chinese_punctuation_around_links(
    app: App, book: Runtime
) -> None:
    await _expect(
        app,
        f"/submit 张三：{BLOG}，李四：{WEIBO}。",
        "#1 已登记（张三）\n#2 已登记（李四）\n南湖街道 已提交 2/50",
    )


async def test_secretary_submits_in_private_chat(app: App, book: Runtime) -> None:
    event = private_message(f"/提交 {BLOG}", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        _not_a_group_admin(ctx, SECRETARY)
        ctx.should_call_api(*reply_to(event, "#1 已登记\n南湖街道 已提交 1/50"), result={})
    assert (await _entry(book, 1)).source_group is None


# --- /提交: duplicates -------------------------------------------------------------------------


async def test_link_already_submitted_by_the_same_unit(app: App, book: Runtime) -> None:
    await _expect(app, f"/提交 {BLOG}", "#1 已登记\n南湖街道 已提交 1/50")
    # Another form of the same post: http, www, tracking parameters, a fragment.
    await _expect(
        app,
        "/提交 http://www.blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html?utm_source=qq#top",
        f"重复：{BLOG_SHOWN} 本单位已提交（#1）\n南湖街道 已提交 1/50",
    )
    assert await book.entries.get(2) is None


async def test_link_already_submitted_by_another_unit_names_it(
    app: App, book: Runtime, other_secretary: int
) -> None:
    await _expect(app, f"/提交 {BLOG}", "#1 已登记\n南湖街道 已提交 1/50")
    await _expect(
        app,
        f"/提交 {BLOG}",
        f"重复：{BLOG_SHOWN} 已由「南湖街道」提交（#1）\n新嘉街道 已提交 0/50",
        user_id=other_secretary,
    )
    assert (await _entry(book, 1)).unit_name == "南湖街道"


async def test_same_link_twice_in_one_message_counts_once(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 {BLOG} {BLOG}",
        f"#1 已登记\n重复：{BLOG_SHOWN} 本单位已提交（#1）\n南湖街道 已提交 1/50",
    )


async def test_withdrawn_link_resubmitted_by_its_unit_keeps_its_receipt(
    app: App, book: Runtime
) -> None:
    await _expect(app, f"/提交 {blog(1)} {BLOG}", "#1 已登记\n#2 已登记\n南湖街道 已提交 2/50")
    await _expect(app, "/撤回 2", "#2 已撤回。\n南湖街道 已提交 1/50")
    await _expect(app, f"/提交 王五 {BLOG}", "#2 已恢复（原编号）（王五）\n南湖街道 已提交 2/50")
    entry = await _entry(book, 2)
    assert (entry.status, entry.author, entry.withdrawn_by) == ("accepted", "王五", None)
    assert await book.entries.get(3) is None


async def test_link_withdrawn_by_another_unit_is_not_taken_over(
    app: App, book: Runtime, other_secretary: int
) -> None:
    await _expect(app, f"/提交 {BLOG}", "#1 已登记\n南湖街道 已提交 1/50")
    await _expect(app, "/撤回 1", "#1 已撤回。\n南湖街道 已提交 0/50")
    await _expect(
        app,
        f"/提交 {BLOG}",
        f"重复：{BLOG_SHOWN} 曾由「南湖街道」提交后撤回（#1），如需转交请联系组织者\n"
        "新嘉街道 已提交 0/50",
        user_id=other_secretary,
    )


# --- /提交: refused, and nothing changes ---------------------------------------------------------


async def test_link_off_the_platform_list_is_refused_with_the_list(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 https://www.zhihu.com/p/1 {BLOG}",
        f"未登记：www.zhihu.com/p/1 —— 不是大赛指定的平台（可用：{PLATFORMS}）\n"
        "#1 已登记\n南湖街道 已提交 1/50",
    )
    assert await book.entries.get(2) is None


async def test_each_link_is_answered_in_the_order_it_was_written(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 {BLOG} https://www.zhihu.com/p/1 {blog(2)}",
        "#1 已登记\n"
        f"未登记：www.zhihu.com/p/1 —— 不是大赛指定的平台（可用：{PLATFORMS}）\n"
        "#2 已登记\n南湖街道 已提交 2/50",
    )


async def test_hostile_links_are_refused_each_with_its_reason(app: App, book: Runtime) -> None:
    await _expect(
        app,
        "/提交 javascript:alert(1) file:///etc/passwd http://127.0.0.1/admin "
        "http://localhost/x https://blog.sina.com.cn@evil.example/x",
        "未登记：javascript:alert(1) —— "
        "只收 http:// 或 https:// 开头的网页链接（这是 javascript: 链接）\n"
        "未登记：file:///etc/passwd —— 只收 http:// 或 https:// 开头的网页链接（这是 file: 链接）\n"
        "未登记：127.0.0.1/admin —— 不能用 IP 地址，请发网站域名的链接\n"
        "未登记：localhost/x —— 不能用本机或内网地址\n"
        "未登记：blog.sina.com.cn@evil.example/x —— "
        "链接里带有用户名或密码（@ 前的部分），请发原始链接\n"
        "南湖街道 已提交 0/50",
    )
    assert await book.entries.all_entries() == []


async def test_link_with_a_control_character_is_refused(app: App, book: Runtime) -> None:
    await _expect(
        app,
        text_message("/提交 https://blog.sina.com.cn/s/a\x07b.html"),
        "未登记：blog.sina.com.cn/s/ab.html —— 链接里有空格或控制字符\n南湖街道 已提交 0/50",
    )
    assert await book.entries.all_entries() == []


async def test_profile_login_and_search_pages_are_refused_and_nothing_changes(
    app: App, book: Runtime
) -> None:
    await _expect(
        app,
        "/提交 https://weibo.com/u/1234567890 https://weibo.com/1234567890 "
        "https://weibo.com/login.php https://weibo.com/search?q=x",
        "未登记：weibo.com/u/1234567890 —— 这是个人主页，不是某一篇作品的链接\n"
        "未登记：weibo.com/1234567890 —— 这是个人主页，不是某一篇作品的链接\n"
        "未登记：weibo.com/login.php —— 这是登录页面，不是某一篇作品的链接\n"
        "未登记：weibo.com/search?q=x —— 这是搜索页面，不是某一篇作品的链接\n"
        "南湖街道 已提交 0/50",
    )
    assert await book.entries.all_entries() == []


async def test_a_zero_width_space_inside_a_post_link_still_gives_the_post(
    app: App, book: Runtime
) -> None:
    await _expect(
        app,
        text_message("/提交 https://wei\u200bbo.com/1234567890/\u200bAbc123"),
        "#1 已登记\n南湖街道 已提交 1/50",
    )
    entry = await book.entries.get(1)
    assert entry is not None
    assert entry.url == WEIBO_STORED


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("=1+1", "=1+1"), ("张\x07三", "张?三"), ("[CQ:at,qq=all]", "[CQ:at,qq=all]")],
)
async def test_an_author_name_that_cannot_be_read_is_reported_in_the_receipt_line(
    app: App, book: Runtime, typed: str, shown: str
) -> None:
    await _expect(
        app,
        text_message(f"/提交 {typed} {BLOG}"),
        f"#1 已登记（作者“{shown}”无法识别，已按未署名登记；可用 /改作者 1 姓名 更正）\n"
        "南湖街道 已提交 1/50",
    )
    entry = await book.entries.get(1)
    assert entry is not None
    assert entry.author is None


async def test_no_link_gets_the_usage(app: App, book: Runtime) -> None:
    await _expect(app, "/提交", SUBMIT_USAGE)


async def test_only_text_gets_the_usage(app: App, book: Runtime) -> None:
    await _expect(app, "/提交 张三 李四 今天学习了党史，体会很深 weibo.com", SUBMIT_USAGE)
    assert await book.entries.all_entries() == []


async def test_two_thousand_links_are_capped_and_the_reply_says_so(app: App, book: Runtime) -> None:
    links = " ".join(blog(n) for n in range(1, 2_001))
    receipts = "\n".join(f"#{n} 已登记" for n in range(1, 21))
    await _expect(
        app,
        text_message(f"/提交 {links}"),
        f"{receipts}\n一次最多处理 20 个链接，其余 1980 个未处理，请分开发送。\n"
        "南湖街道 已提交 20/50",
    )
    assert len(await book.entries.all_entries()) == 20


async def test_cq_codes_and_mention_all_never_become_mentions(app: App, book: Runtime) -> None:
    message = Message(
        [
            MessageSegment.text(
                f"/提交 [CQ:at,qq=all]@全体成员 {BLOG}[CQ:at,qq=all] 王五 {blog(7)}"
            ),
            MessageSegment.at("all"),
        ]
    )
    event = group_message(message, user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(
                event,
                "未登记：blog.sina.com.cn/…/1d0102e5f6.html[CQ:at,qq=all] —— 链接里混有 CQ 码\n"
                "#1 已登记（王五）\n南湖街道 已提交 1/50",
            ),
            result={},
        )
    [entry] = await book.entries.all_entries()
    assert (entry.url, entry.author) == (blog(7), "王五")


async def test_cq_code_reply_has_no_at_segment(app: App, book: Runtime) -> None:
    event = group_message(text_message(f"/提交 {BLOG}[CQ:at,qq=all]"), user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": NoMentions()})


# --- /提交: who, for which unit, when ----------------------------------------------------------


async def test_organizer_submits_for_a_named_unit(app: App, book: Runtime) -> None:
    await _expect(
        app, f"/提交 单位:新嘉街道 {BLOG}", "#1 已登记\n新嘉街道 已提交 1/50", user_id=ORGANIZER
    )
    assert (await _entry(book, 1)).submitted_by == ORGANIZER


async def test_organizer_names_the_unit_with_a_full_width_colon_and_an_alias(
    app: App, book: Runtime
) -> None:
    await _expect(
        app,
        f"/提交 单位：财政局 张三 {BLOG}",
        "#1 已登记（张三）\n区财政局 已提交 1/5",
        user_id=ORGANIZER,
    )
    assert (await _entry(book, 1)).author == "张三"


async def test_organizer_without_a_unit_is_asked_for_one(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 {BLOG}",
        "请写明为哪个单位提交，例如：/提交 单位:南湖街道 链接",
        user_id=ORGANIZER,
    )


async def test_organizer_naming_an_unknown_unit(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 单位:火星办 {BLOG}",
        "没有找到单位「火星办」，请核对单位全称。",
        user_id=ORGANIZER,
    )
    assert await book.entries.all_entries() == []


async def test_secretary_cannot_submit_for_another_unit(app: App, book: Runtime) -> None:
    await _expect(
        app,
        f"/提交 单位:新嘉街道 {BLOG}",
        "您只能为本单位（南湖街道）提交；为其他单位提交请联系组织者。",
    )
    assert await book.entries.all_entries() == []


async def test_secretary_may_name_their_own_unit(app: App, book: Runtime) -> None:
    await _expect(app, f"/提交 单位:南湖 {BLOG}", "#1 已登记\n南湖街道 已提交 1/50")


async def test_member_without_a_unit_gets_the_bind_hint(app: App, book: Runtime) -> None:
    await _expect(app, f"/提交 {BLOG}", NOT_BOUND, user_id=MEMBER)
    assert await book.entries.all_entries() == []


async def test_before_start_says_when_submissions_open(app: App, book: Runtime) -> None:
    book.clock = lambda: BEFORE_START
    await _expect(app, f"/提交 {BLOG}", "大赛于 6月24日 00:00 开始接受提交，请届时再提交。")
    await _expect(
        app,
        f"/提交 单位:南湖街道 {BLOG}",
        "大赛于 6月24日 00:00 开始接受提交，请届时再提交。",
        user_id=ORGANIZER,
    )
    assert await book.entries.all_entries() == []


async def test_after_deadline_secretary_is_refused(app: App, book: Runtime) -> None:
    book.clock = lambda: AFTER_DEADLINE
    await _expect(app, f"/提交 {BLOG}", "已过截止时间（7月1日 18:00），如需补交请联系组织者。")
    assert await book.entries.all_entries() == []


async def test_after_deadline_organizer_adds_a_late_entry(app: App, book: Runtime) -> None:
    book.clock = lambda: AFTER_DEADLINE
    await _expect(
        app,
        f"/提交 单位:南湖街道 张三 {BLOG}",
        "#1 已登记（张三）（逾期补交）\n南湖街道 已提交 1/50（含逾期 1，存疑 0）",
        user_id=ORGANIZER,
    )
    assert (await _entry(book, 1)).late


def _replying_to_member(text: str, quoted: str, *, card: str) -> GroupMessageEvent:
    """The secretary replies to a member's message, as the OneBot adapter hands it on: `reply`
    filled in from get_msg (nonebug does not run the adapter's own look-up)."""
    event = group_message(text, user_id=SECRETARY)
    event.reply = Reply(
        time=1782000000,
        message_type="group",
        message_id=555,
        real_id=555,
        sender=Sender(user_id=MEMBER, nickname="wangwu88", card=card),
        message=text_message(quoted),
    )
    return event


async def test_reply_to_a_member_takes_the_links_and_the_card_as_author(
    app: App, book: Runtime
) -> None:
    event = _replying_to_member(
        "/提交", f"我今天的学习心得，请大家指正 {BLOG} 还有微博 {WEIBO}", card="王五"
    )
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(event, "#1 已登记（王五）\n#2 已登记（王五）\n南湖街道 已提交 2/50"),
            result={},
        )
    assert [(await _entry(book, n)).author for n in (1, 2)] == ["王五", "王五"]
    assert (await _entry(book, 1)).submitted_by == SECRETARY


async def test_reply_to_a_member_whose_card_cannot_be_a_name_still_submits(
    app: App, book: Runtime
) -> None:
    """Cards like "南湖街道/王五" are common; the link is accepted, under the nickname."""
    event = _replying_to_member("/提交", f"学习心得 {BLOG}", card="南湖街道/王五")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(event, "#1 已登记（wangwu88）\n南湖街道 已提交 1/50"), result={}
        )


async def test_reply_to_a_message_without_links_says_the_quote_had_none(
    app: App, book: Runtime
) -> None:
    event = _replying_to_member("/提交", "收到，谢谢", card="王五")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(
                event,
                "引用的这条消息里没有链接。请引用含有作品链接的消息再发 /提交，"
                "或直接写：/提交 [作者] 链接",
            ),
            result={},
        )
    # Without a quote, the usage.
    await _expect(app, "/提交", SUBMIT_USAGE)


# --- /撤回 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["1", "#1", "＃1", "http://www.blog.sina.com.cn/s/blog_1.html"])
async def test_withdraw_by_receipt_or_link(app: App, book: Runtime, ref: str) -> None:
    await _store(book, "南湖街道", [blog(1)])
    await _expect(app, f"/撤回 {ref}", "#1 已撤回。\n南湖街道 已提交 0/50")
    entry = await _entry(book, 1)
    assert (entry.status, entry.withdrawn_by, entry.withdrawn_at) == ("withdrawn", SECRETARY, NOW)


async def test_withdraw_receipt_seventeen(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(n) for n in range(1, 18)])
    await _expect(app, "/withdraw #17", "#17 已撤回。\n南湖街道 已提交 16/50")


async def test_withdraw_another_units_receipt_is_refused_unchanged(app: App, book: Runtime) -> None:
    await _store(book, "新嘉街道", [blog(1)])
    await _expect(app, "/撤回 1", "#1 是其他单位的作品，不能撤回。请核对回执编号。")
    assert (await _entry(book, 1)).status == "accepted"
    assert await _count(book, "新嘉街道") == 1


async def test_organizer_withdraws_any_units_entry(app: App, book: Runtime) -> None:
    await _store(book, "新嘉街道", [blog(1)])
    await _expect(app, "/撤回 1", "#1 已撤回。\n新嘉街道 已提交 0/50", user_id=ORGANIZER)
    assert (await _entry(book, 1)).withdrawn_by == ORGANIZER


async def test_withdraw_twice_unknown_and_without_argument(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)])
    await _expect(app, "/撤回 1", "#1 已撤回。\n南湖街道 已提交 0/50")
    await _expect(app, "/撤回 1", "#1 已经撤回，无需重复操作。")
    await _expect(app, "/撤回 99", "没有找到回执 #99，请核对编号。")
    await _expect(app, "/撤回", "请写明要撤回的编号或链接，例如：/撤回 17")
    await _expect(app, "/撤回 1 2", "请写明要撤回的编号或链接，例如：/撤回 17")
    await _expect(
        app,
        f"/撤回 {blog(2)}",
        "没有找到这个链接的提交记录，请核对链接，或改用回执编号。",
    )


# --- /改作者 -------------------------------------------------------------------------------------


async def test_correct_an_author(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)], author="张三")
    await _expect(app, "/改作者 1 张珊", "#1 的作者已改为 张珊。")
    assert (await _entry(book, 1)).author == "张珊"


async def test_correct_another_units_author_is_refused_unchanged(app: App, book: Runtime) -> None:
    await _store(book, "新嘉街道", [blog(1)], author="张三")
    await _expect(app, "/改作者 #1 李四", "#1 是其他单位的作品，不能修改。请核对回执编号。")
    assert (await _entry(book, 1)).author == "张三"


async def test_author_that_is_markup_is_refused(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)], author="张三")
    await _expect(
        app,
        text_message("/改作者 1 [CQ:at,qq=all]"),
        "作者姓名只能包含文字和常用标点，不能含 [ ] & < > @ # / 等符号。",
    )
    await _expect(app, "/author 1", "请写明编号和作者姓名，例如：/改作者 17 张三")
    assert (await _entry(book, 1)).author == "张三"


# --- /我的提交 -----------------------------------------------------------------------------------


async def test_mine_pages_newest_first(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(n) for n in range(1, 13)])
    await _store(book, "新嘉街道", [blog(99)])
    await book.entries.withdraw(12, actor=SECRETARY, unit_id=None, now=NOW)
    lines = [f"#{n} 未署名 新浪博客 blog.sina.com.cn/s/blog_{n}.html" for n in range(11, 2, -1)]
    await _expect(
        app,
        "/我的提交",
        # The count /进度 gives, the withdrawn one said apart.
        "「南湖街道」的作品（第 1/2 页，共 11 篇，另有 1 篇已撤回）：\n"
        "#12 未署名 新浪博客 blog.sina.com.cn/s/blog_12.html【已撤回】\n"
        + "\n".join(lines)
        + "\n发送 /我的提交 2 查看下一页。",
    )
    await _expect(
        app,
        "/mine 2",
        "「南湖街道」的作品（第 2/2 页，共 11 篇，另有 1 篇已撤回）：\n"
        "#2 未署名 新浪博客 blog.sina.com.cn/s/blog_2.html\n"
        "#1 未署名 新浪博客 blog.sina.com.cn/s/blog_1.html",
    )


async def test_mine_past_the_last_page_says_so_and_shows_the_last_page(
    app: App, book: Runtime
) -> None:
    await _store(book, "南湖街道", [blog(1)], author="张三")
    await _expect(
        app,
        "/我的提交 9",
        "共 1 页，没有第 9 页；下面是第 1 页。\n"
        "「南湖街道」的作品（第 1/1 页，共 1 篇）：\n"
        "#1 张三 新浪博客 blog.sina.com.cn/s/blog_1.html",
    )


async def test_mine_when_nothing_was_submitted(app: App, book: Runtime) -> None:
    await _expect(app, "/我的提交", "「南湖街道」还没有提交作品。")


# --- /进度 and /排行 ------------------------------------------------------------------------------


async def test_progress_of_the_secretarys_own_unit(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1), blog(2)])
    await _expect(app, "/进度", "南湖街道 已提交 2/50")


async def test_progress_of_a_named_unit_by_alias(app: App, book: Runtime) -> None:
    await _store(book, "区财政局", [blog(1)])
    await _expect(app, "/进度 财政局", "区财政局 已提交 1/5", user_id=MEMBER)
    await _expect(app, "/progress 南湖", "南湖街道 已提交 0/50", user_id=MEMBER)


async def test_progress_of_an_unknown_unit(app: App, book: Runtime) -> None:
    await _expect(app, "/进度 火星办", "没有找到单位「火星办」，请核对单位全称。", user_id=MEMBER)


async def test_member_without_a_unit_gets_the_overall_picture_naming_nobody(
    app: App, book: Runtime
) -> None:
    await _store(book, "区财政局", [blog(n) for n in range(2, 7)])
    await _store(book, "南湖街道", [blog(1)])
    await _expect(
        app,
        "/进度",
        "全区共 3 个单位，已完成 1 个，还有 2 个未完成；已登记作品 6 篇。"
        "查看某个单位请发送：/进度 单位名",
        user_id=MEMBER,
    )


async def test_organizer_gets_the_table_behind_first(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)])
    await _store(book, "区财政局", [blog(n) for n in range(2, 7)])
    await _expect(
        app,
        "/进度",
        "各单位进度（未完成的在前，共 3 个单位，完成 1 个）：\n"
        "新嘉街道 0/50\n南湖街道 1/50\n区财政局 5/5",
        user_id=ORGANIZER,
    )


TABLE_HEAD = "各单位进度（未完成的在前，共 73 个单位，完成 0 个）：\n区财政局 0/5\n新嘉街道 0/50\n"


async def _many_units(book: Runtime) -> None:
    for n in range(10, 80):
        await book.units.add(f"第{n}社区", "town", None, ORGANIZER, NOW)
    await _store(book, "南湖街道", [blog(1)])


async def test_organizer_table_of_many_units_is_one_merged_forward_card(
    app: App, book: Runtime
) -> None:
    await _many_units(book)
    every = [*(f"第{n}社区 0/50" for n in range(10, 80)), "南湖街道 1/50"]
    event = group_message("/进度", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_forward_msg",
            {"group_id": GROUP, "messages": ForwardOf(TABLE_HEAD + "\n".join(every))},
            result={"message_id": 5, "forward_id": "abc"},
        )


async def test_where_forwards_are_refused_the_table_stays_one_message(
    app: App, book: Runtime
) -> None:
    await _many_units(book)
    shown = [f"第{n}社区 0/50" for n in range(10, 68)]
    event = group_message("/进度", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_forward_msg",
            {"group_id": GROUP, "messages": AnyNodes()},
            exception=ActionFailed(status="failed", retcode=1404, msg="API_NOT_FOUND"),
        )
        ctx.should_call_api(
            *reply_to(
                event,
                TABLE_HEAD
                + "\n".join(shown)
                + "\n……另有 13 个单位未列出，完整进度请用 /导出 查看。",
            ),
            result={"message_id": 6},
        )


async def test_an_unanswered_forward_is_not_sent_again_as_text(app: App, book: Runtime) -> None:
    await _many_units(book)
    event = group_message("/进度", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_forward_msg",
            {"group_id": GROUP, "messages": AnyNodes()},
            exception=NetworkError("WebSocket call api send_group_forward_msg timeout"),
        )


async def test_rank_units_and_authors(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1), blog(2)], author="张三")
    await _store(book, "区财政局", [blog(3)], author="李四")
    await _expect(
        app,
        "/排行",
        "单位完成率排行：\n"
        "1. 区财政局 1/5（20%）\n"
        "2. 南湖街道 2/50（4%）\n"
        "3. 新嘉街道 0/50（0%）\n"
        "作品最多的作者：\n"
        "1. 张三（南湖街道）2 篇\n"
        "2. 李四（区财政局）1 篇",
        user_id=MEMBER,
    )


async def test_rank_without_entries(app: App, book: Runtime) -> None:
    await _expect(app, "/rank", "还没有作品。", user_id=MEMBER)


# --- /导出 ---------------------------------------------------------------------------------------


class Workbook:
    """Equals a `base64://` file that is an XLSX workbook with these sheets and entry urls."""

    def __init__(self, sheets: list[str], urls: list[str]) -> None:
        self.sheets = sheets
        self.urls = urls

    def __eq__(self, value: object) -> bool:
        if not isinstance(value, str) or not value.startswith("base64://"):
            return False
        data = base64.b64decode(value.removeprefix("base64://"))
        if not data.startswith(b"PK"):
            return False
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        rows = list(workbook[self.sheets[1]].iter_rows(min_row=2, values_only=True))
        return workbook.sheetnames == self.sheets and [r[3] for r in rows] == self.urls

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<base64 workbook {self.sheets} with {self.urls}>"


class Csv:
    """Equals a `base64://` UTF-8 CSV file whose text contains every one of `needles`."""

    def __init__(self, *needles: str) -> None:
        self.needles = needles

    def __eq__(self, value: object) -> bool:
        if not isinstance(value, str) or not value.startswith("base64://"):
            return False
        text = base64.b64decode(value.removeprefix("base64://")).decode("utf-8-sig")
        return all(needle in text for needle in self.needles)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<base64 csv with {self.needles}>"


class Matches:
    """Equals a string matching the regular expression `pattern` in full."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern, re.S)

    def __eq__(self, value: object) -> bool:
        return isinstance(value, str) and self.pattern.fullmatch(value) is not None

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<string matching {self.pattern.pattern!r}>"


STEM = r"submissions-20270625-103000"


async def test_export_sends_workbook_and_csv_privately(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)], author="张三")
    await _store(book, "区财政局", [blog(2)])
    event = group_message("/导出", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "upload_private_file",
            {
                "user_id": ORGANIZER,
                "file": Workbook(["单位进度", "全部作品"], [blog(1), blog(2)]),
                "name": f"{STEM}.xlsx",
            },
            result=None,
        )
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": ORGANIZER, "file": Csv("张三", blog(1), blog(2)), "name": f"{STEM}.csv"},
            result=None,
        )
        ctx.should_call_api(*reply_to(event, "导出完成，文件已私聊发送给您。"), result={})
    assert (book.deployment.data_dir / "exports" / f"{STEM}.xlsx").is_file()


async def test_export_upload_failure_gives_the_files_path(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)])
    event = group_message("/export", user_id=ORGANIZER)
    folder = re.escape(str(book.deployment.data_dir / "exports"))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        failed = ActionFailed(status="failed", retcode=1200, wording="文件上传失败")
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": ORGANIZER, "file": Matches("base64://.+"), "name": f"{STEM}.xlsx"},
            exception=failed,
        )
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": ORGANIZER, "file": Matches("base64://.+"), "name": f"{STEM}.csv"},
            exception=ApiNotAvailable("OneBot V11"),
        )
        ctx.should_call_api(
            "send_group_msg",
            {
                "group_id": GROUP,
                "message": [
                    {"type": "reply", "data": {"id": str(event.message_id)}},
                    {
                        "type": "text",
                        "data": {
                            "text": Matches(
                                f"文件发送失败（文件上传失败）。"
                                f"文件已保存在服务器：{folder}/{STEM}\\.xlsx\n"
                                f"文件发送失败（QQ 端不支持发送文件）。"
                                f"文件已保存在服务器：{folder}/{STEM}\\.csv"
                            )
                        },
                    },
                ],
            },
            result={},
        )


async def test_export_is_for_organizers_only(app: App, book: Runtime) -> None:
    await _expect(app, "/导出", "抱歉，/导出 仅限组织者使用。")


# --- verification ------------------------------------------------------------------------------


def _facts(status: str, length: int | None = None, published: date | None = None) -> PageFacts:
    return PageFacts(status, 200, None, "学习心得", length, published, "")  # type: ignore[arg-type]


class FakeVerifier:
    """Answers canned facts per URL, and records what it was asked."""

    def __init__(self, facts: dict[str, PageFacts]) -> None:
        self.facts = facts
        self.asked: list[list[str]] = []

    async def fetch_many(self, urls: Iterable[str]) -> dict[str, PageFacts]:
        asked = list(urls)
        self.asked.append(asked)
        await asyncio.sleep(0)
        return {url: self.facts[url] for url in asked}

    async def close(self) -> None:
        return None


@pytest.fixture
def settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the runtime's background work (verification, its follow-up) finish inside the test
    context, so nonebug sees the follow-up message it sends."""
    original = nonebot.message.handle_event

    async def handle_and_settle(bot: Any, event: Any) -> None:
        await original(bot=bot, event=event)
        background = current().background
        while background:
            await asyncio.gather(*list(background))

    monkeypatch.setattr(nonebot.message, "handle_event", handle_and_settle)


@pytest.fixture
def verifying(book: Runtime, settle: None) -> FakeVerifier:
    verifier = FakeVerifier(
        {
            blog(1): _facts("ok", 1_200, date(2027, 6, 25)),
            blog(2): _facts("ok", 180),
            blog(3): _facts("unreachable"),
            blog(4): _facts("ok", 900, date(2027, 5, 1)),
            WEIBO_STORED: _facts("not_verifiable"),
        }
    )
    book.verifier = verifier  # type: ignore[assignment]
    return verifier


def _follow_up(user_id: int, text: str) -> list[dict[str, Any]]:
    [message] = render([Mention(user_id), Text(" "), Text(text)], make_contest().messages)
    return message


async def test_verification_problems_come_in_one_grouped_message(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    event = group_message(
        f"/提交 {blog(1)} {blog(2)} {blog(3)} {blog(4)} {WEIBO}", user_id=SECRETARY
    )
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(
                event,
                "#1 已登记\n#2 已登记\n#3 已登记\n#4 已登记\n#5 已登记\n南湖街道 已提交 5/50",
            ),
            result={},
        )
        ctx.should_call_api(
            "send_group_msg",
            {
                "group_id": GROUP,
                "message": _follow_up(
                    SECRETARY,
                    "以下作品已登记，但请留意：\n"
                    "#2 正文约 180 字，少于 600 字\n"
                    "#3 链接暂时打不开，请确认链接正确且文章公开\n"
                    "#4 发布日期 2027-05-01 不在读书周内",
                ),
            },
            result={},
        )
    assert verifying.asked == [[blog(1), blog(2), blog(3), blog(4), WEIBO_STORED]]
    short, fine, login = await _entry(book, 2), await _entry(book, 1), await _entry(book, 5)
    assert (short.flags, short.text_length, short.verify_status) == (("short",), 180, "ok")
    assert (fine.flags, fine.published_on) == ((), date(2027, 6, 25))
    assert (login.flags, login.verify_status) == ((), "not_verifiable")
    assert (await book.entries.progress(_unit(book, "南湖街道"))).flagged == 3


async def test_no_follow_up_when_every_page_is_fine(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    await _expect(app, f"/提交 {blog(1)}", "#1 已登记\n南湖街道 已提交 1/50")
    assert verifying.asked == [[blog(1)]]
    assert (await _entry(book, 1)).verify_status == "ok"


async def test_duplicates_are_not_verified_again(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    await _store(book, "南湖街道", [blog(2)])
    await _expect(
        app,
        f"/提交 {blog(2)}",
        "重复：blog.sina.com.cn/s/blog_2.html 本单位已提交（#1）\n南湖街道 已提交 1/50",
    )
    assert verifying.asked == []


async def test_reverify_shows_what_was_found(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    await _store(book, "南湖街道", [blog(2)])
    await _expect(
        app,
        "/核验 #1",
        "#1 已核验\n标题：学习心得\n正文约 180 字\n存疑：正文约 180 字，少于 600 字",
        user_id=ORGANIZER,
    )
    assert (await _entry(book, 1)).flags == ("short",)


async def test_reverify_an_unknown_receipt_and_without_argument(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    await _expect(app, "/核验 7", "没有编号为 #7 的作品。", user_id=ORGANIZER)
    await _expect(app, "/verify", "请写明要核验的编号，例如：/核验 17", user_id=ORGANIZER)
    assert verifying.asked == []


async def test_reverify_when_verification_is_off(app: App, book: Runtime) -> None:
    await _store(book, "南湖街道", [blog(1)])
    await _expect(
        app,
        "/核验 1",
        "核验功能未开启（config/contest.toml 的 [submission] verify）。",
        user_id=ORGANIZER,
    )


async def test_reverify_is_for_organizers_only(app: App, book: Runtime) -> None:
    await _expect(app, "/核验 1", "抱歉，/核验 仅限组织者使用。")


async def test_private_submission_gets_its_follow_up_privately(
    app: App, book: Runtime, verifying: FakeVerifier
) -> None:
    event: PrivateMessageEvent = private_message(f"/提交 {blog(2)}", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        _not_a_group_admin(ctx, SECRETARY)
        ctx.should_call_api(*reply_starting(event, "#1 已登记"), result={})
        [message] = render(
            [Text("以下作品已登记，但请留意：\n#1 正文约 180 字，少于 600 字")],
            make_contest().messages,
        )
        ctx.should_call_api(
            "send_private_msg", {"user_id": SECRETARY, "message": message}, result={}
        )
