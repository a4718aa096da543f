"""/问, @ the bot, passive answers, number replies, the repeat guard and /faq (nonebug).

A small knowledge base of its own (not config/faq.yaml) keeps these tests about the chat side:
which question matches which entry is the ranker's business (tests/bot/faq/test_ranker.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent, Message, MessageSegment
from nonebot.adapters.onebot.v11.event import Reply, Sender
from nonebug import App

from bot.messages.parts import Image, Mention, Part, Quote, Text
from bot.messages.render import render
from bot.runtime import Runtime, install, open_runtime
from bot.settings.deployment import Deployment
from tests.fake import (
    GROUP,
    MEMBER,
    ORGANIZER,
    SELF_ID,
    NoMentions,
    exchange,
    group_message,
    make_contest,
    mention_message,
    message_text,
    quoting_bot,
    reply_starting,
    reply_to,
    text_message,
)

FAQ_YAML = """\
version: 1
entries:
  - id: blog-image
    question: 博文里怎么插入图片？
    phrasings: [博客怎么加图片, 照片怎么放到博文里, 图片传不上去]
    keywords: [图片, 插入]
    answer: |
      1. 在编辑页把光标放在要插图的位置。
      2. 点“图片”按钮上传。
    images: [guide.png]
  - id: blog-link
    question: 博客链接怎么复制？
    phrasings: [怎么找到博文的网址, 博文地址在哪里看]
    keywords: [链接, 复制]
    answer: 打开博文，复制地址栏里的网址。
  - id: rule-deadline
    question: 截止时间是什么时候？
    phrasings: [什么时候截止, 最晚哪天交]
    answer: "{{ contest.deadline }} 截止。"
  - id: weibo-repost
    question: 微博怎么转发？
    phrasings: [怎么转发别人的微博]
    answer: 点微博下方的“转发”。
  - id: weibo-follow
    question: 微博怎么关注别人？
    phrasings: [怎么关注别人的微博]
    answer: 打开对方主页，点“关注”。
"""
SYNONYMS = "链接 网址 地址\n图片 照片 配图\n"
IMAGE = b"\x89PNG\r\n\x1a\n-a-tiny-test-image"
IMAGE_ANSWER = "1. 在编辑页把光标放在要插图的位置。\n2. 点“图片”按钮上传。"
LINK_ANSWER = "打开博文，复制地址栏里的网址。"
# Two entries equally close: the bot must ask which one is meant.
UNCLEAR = "别人的微博"
SUGGESTION = "您想问的是哪一个？回复序号即可：\n1. 微博怎么关注别人？\n2. 微博怎么转发？"
CONTACTS = "请在群里 @ 组织者，或联系区委组织部。"
CANNOT = f"抱歉，这个问题我还答不上来，已记下转给组织者。{CONTACTS}"
REPEATED_TEXT = "刚刚已回答过这个问题，请看引用的这条回复。"
T0 = datetime(2027, 6, 25, 9, 0, tzinfo=UTC)
OTHER_MEMBER = 20002


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock) -> AsyncIterator[Runtime]:
    """The fake contest with the small knowledge base above, on a new SQLite database."""
    config = tmp_path / "config"
    (config / "faq-images").mkdir(parents=True)
    (config / "faq.yaml").write_text(FAQ_YAML, encoding="utf-8")
    (config / "synonyms.txt").write_text(SYNONYMS, encoding="utf-8")
    (config / "faq-images" / "guide.png").write_bytes(IMAGE)
    deployment = Deployment(
        superusers=frozenset({10009}),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=tmp_path,
        reminders_autorun=False,
    )
    opened = await open_runtime(deployment, make_contest(config_dir=config), clock=clock)
    yield opened
    await opened.close()
    install(None)


def _group_send(event: GroupMessageEvent, parts: list[Part]) -> tuple[str, dict[str, Any]]:
    [message] = render(parts, make_contest().messages)
    return "send_group_msg", {"group_id": event.group_id, "message": message}


# Each answer of FAQ_YAML (rendered as the bot renders it) → the question it answers.
QUESTIONS = {
    "1. 在编辑页把光标放在要插图的位置。\n2. 点“图片”按钮上传。": "博文里怎么插入图片？",
    LINK_ANSWER: "博客链接怎么复制？",
    "7月1日（周四）18:00 截止。": "截止时间是什么时候？",
    "点微博下方的“转发”。": "微博怎么转发？",
    "打开对方主页，点“关注”。": "微博怎么关注别人？",
}


def _answer(
    event: GroupMessageEvent, text: str, *images: bytes, question: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The bot's answer: quoting the question, naming the entry's question, the answer text,
    then the entry's images."""
    head = f"您问的是：{question or QUESTIONS[text]}\n"
    return _group_send(event, [Quote(event.message_id), Text(head + text), *map(Image, images)])


# --- the three ways of asking ------------------------------------------------------------------


async def test_ask_command_answers_quoting_the_question_with_the_entry_images(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/问 博客怎么插入图片")
    await exchange(app, event, _answer(event, IMAGE_ANSWER, IMAGE))


async def test_english_alias_and_glued_question_work(app: App, runtime: Runtime) -> None:
    event = group_message("/ask 博客链接怎么复制")
    await exchange(app, event, _answer(event, LINK_ANSWER))
    glued = group_message("/问截止时间是什么时候")
    await exchange(app, glued, _answer(glued, "7月1日（周四）18:00 截止。"))


async def test_mentioning_the_bot_is_asking(app: App, runtime: Runtime) -> None:
    event = mention_message(" 博客链接怎么复制")
    await exchange(app, event, _answer(event, LINK_ANSWER))


def _under_members_message(
    text: str, quoted: str, *, at_bot: bool, quoted_from: int = OTHER_MEMBER
) -> GroupMessageEvent:
    """`text` sent in reply to another member's message `quoted` (with an explicit @ of the bot
    when `at_bot`), as the adapter hands it on: `reply` filled in from get_msg."""
    event = group_message(text.strip(), to_me=at_bot)
    event.reply = Reply(
        time=1782000000,
        message_type="group",
        message_id=777,
        real_id=777,
        sender=Sender(user_id=quoted_from, nickname="王五"),
        message=Message(quoted),
    )
    segments = [MessageSegment.reply(777)]
    if at_bot:
        segments.append(MessageSegment.at(SELF_ID))
    event.original_message = Message([*segments, MessageSegment.text(text)])
    return event


async def test_ask_under_a_members_message_asks_about_it(app: App, runtime: Runtime) -> None:
    event = _under_members_message("/问", "老师，图片传不上去", at_bot=False)
    await exchange(app, event, _answer(event, IMAGE_ANSWER, IMAGE))


async def test_at_the_bot_under_a_members_question_answers_that_question(
    app: App, runtime: Runtime
) -> None:
    event = _under_members_message(" 帮忙看看这个", "博文地址在哪里看呀", at_bot=True)
    await exchange(app, event, _answer(event, LINK_ANSWER))


async def test_ask_under_the_bots_own_message_is_not_about_that_message(
    app: App, runtime: Runtime
) -> None:
    event = _under_members_message("/问", "博文地址在哪里看", at_bot=False, quoted_from=SELF_ID)
    await exchange(
        app, event, reply_to(event, "请在 /问 后面写上您的问题，例如：/问 博客怎么插入图片")
    )


async def test_a_question_in_the_group_is_answered_passively(app: App, runtime: Runtime) -> None:
    event = group_message("请问老师，博客链接怎么复制啊？")
    await exchange(app, event, _answer(event, LINK_ANSWER))


async def test_an_empty_ask_gets_an_example(app: App, runtime: Runtime) -> None:
    event = group_message("/问")
    await exchange(
        app, event, reply_to(event, "请在 /问 后面写上您的问题，例如：/问 博客怎么插入图片")
    )
    bare = mention_message(" ")
    await exchange(app, bare, reply_starting(bare, "您好！请直接用文字写出问题"))


# --- suggestions and number replies ------------------------------------------------------------


async def test_an_unclear_question_gets_numbered_candidates(app: App, runtime: Runtime) -> None:
    event = group_message(f"/问 {UNCLEAR}")
    await exchange(app, event, reply_to(event, SUGGESTION))


async def test_replying_with_a_number_answers_that_candidate(app: App, runtime: Runtime) -> None:
    await exchange(app, event := group_message(f"/问 {UNCLEAR}"), reply_to(event, SUGGESTION))

    choice = group_message("２")
    await exchange(app, choice, _answer(choice, "点微博下方的“转发”。"))
    again = group_message("2")  # the offer is used up: "2" is chatter again
    await exchange(app, again)


async def test_a_number_from_someone_else_is_not_a_choice(app: App, runtime: Runtime) -> None:
    await exchange(app, event := mention_message(UNCLEAR), reply_to(event, SUGGESTION))

    await exchange(app, group_message("1", user_id=OTHER_MEMBER))
    choice = group_message("第1个")
    await exchange(app, choice, _answer(choice, "打开对方主页，点“关注”。"))


async def test_a_number_after_the_followup_window_is_chatter(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    await exchange(app, event := group_message(f"/问 {UNCLEAR}"), reply_to(event, SUGGESTION))
    clock.advance(minutes=3)

    await exchange(app, group_message("1"))


# --- answers counted for the dashboard ---------------------------------------------------------


async def _counts(runtime: Runtime) -> list[tuple[str, int]]:
    assert runtime.faq is not None
    return [(a.entry_id, a.count) for a in await runtime.faq.most_asked()]


async def test_an_answer_is_counted_and_a_suggestion_is_not(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    await exchange(app, event := group_message("/问 博客链接怎么复制"), _answer(event, LINK_ANSWER))
    await exchange(app, event := group_message(f"/问 {UNCLEAR}"), reply_to(event, SUGGESTION))

    assert await _counts(runtime) == [("blog-link", 1)]
    assert runtime.faq is not None
    [counted] = await runtime.faq.most_asked()
    assert counted.last_at == clock.now


async def test_mentions_passive_answers_and_number_replies_are_counted(
    app: App, runtime: Runtime
) -> None:
    await exchange(app, event := mention_message(" 博客链接怎么复制"), _answer(event, LINK_ANSWER))
    passive = group_message("请问博客怎么加图片呢？")
    await exchange(app, passive, _answer(passive, IMAGE_ANSWER, IMAGE))
    await exchange(app, event := group_message(f"/问 {UNCLEAR}"), reply_to(event, SUGGESTION))
    choice = group_message("2")
    await exchange(app, choice, _answer(choice, "点微博下方的“转发”。"))

    assert sorted(await _counts(runtime)) == [
        ("blog-image", 1),
        ("blog-link", 1),
        ("weibo-repost", 1),
    ]


async def test_pointing_to_an_earlier_answer_is_not_counted(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    first = group_message("/问 博客链接怎么复制")
    await exchange(app, first, _answer(first, LINK_ANSWER), message_id=4242)
    clock.advance(minutes=2)
    second = group_message("博客链接怎么复制？", user_id=OTHER_MEMBER)
    pointer = _group_send(
        second,
        [Quote(4242), Mention(OTHER_MEMBER), Text("刚刚已回答过这个问题，请看引用的这条回复。")],
    )
    await exchange(app, second, pointer)

    assert await _counts(runtime) == [("blog-link", 1)]


# --- cannot answer -----------------------------------------------------------------------------


async def test_an_unanswerable_question_is_recorded_and_contacts_named(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/问 今天食堂几点开饭")
    await exchange(app, event, reply_to(event, CANNOT))
    mention = mention_message("今天食堂几点开饭？")
    await exchange(app, mention, reply_starting(mention, "抱歉"))

    assert runtime.faq is not None
    [row] = await runtime.faq.unanswered()
    assert (row.text, row.count, row.last_user) == ("今天食堂几点开饭？", 2, MEMBER)


async def test_thanks_to_the_bot_is_not_recorded_as_a_question(app: App, runtime: Runtime) -> None:
    event = mention_message(" 谢谢")
    await exchange(app, event, reply_to(event, CANNOT))
    assert runtime.faq is not None
    assert await runtime.faq.unanswered() == []


# --- passive mode stays quiet ------------------------------------------------------------------


@pytest.mark.parametrize(
    "chatter",
    ["收到", "好的谢谢", "今天开会吗", "明天几点集合", "我刚插入了图片", "辛苦了", "1"],
)
async def test_chatter_gets_no_answer(app: App, runtime: Runtime, chatter: str) -> None:
    await exchange(app, group_message(chatter))


async def test_passive_mode_never_suggests_nor_apologises_nor_records(
    app: App, runtime: Runtime
) -> None:
    await exchange(app, group_message("别人的微博怎么弄呢"))
    await exchange(app, group_message("今天食堂几点开饭？"))
    assert runtime.faq is not None
    assert await runtime.faq.unanswered() == []


async def test_passive_mode_can_be_turned_off_for_a_group(
    app: App, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    assert runtime.faq is not None
    policy = replace(runtime.faq.policy, passive_off_groups=frozenset({GROUP}))
    monkeypatch.setattr(runtime.faq, "policy", policy)

    await exchange(app, group_message("博客链接怎么复制？"))
    event = mention_message("博客链接怎么复制？")
    await exchange(app, event, _answer(event, LINK_ANSWER))


async def test_quoting_the_bot_to_say_thanks_is_not_a_question(app: App, runtime: Runtime) -> None:
    await exchange(app, quoting_bot("好的谢谢", quoted_id=4242))


async def test_messages_with_links_are_left_to_the_submissions(app: App, runtime: Runtime) -> None:
    await exchange(app, group_message("怎么提交 https://blog.sina.com.cn/s/blog_1.html 呢"))


# --- not spamming ------------------------------------------------------------------------------


async def test_a_repeated_question_points_to_the_earlier_answer(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    first = group_message("/问 博客链接怎么复制")
    await exchange(app, first, _answer(first, LINK_ANSWER), message_id=4242)
    clock.advance(minutes=2)

    second = group_message("博客链接怎么复制？", user_id=OTHER_MEMBER)
    pointer = _group_send(
        second,
        [Quote(4242), Mention(OTHER_MEMBER), Text("刚刚已回答过这个问题，请看引用的这条回复。")],
    )
    await exchange(app, second, pointer)

    clock.advance(minutes=4)  # six minutes after the answer: answered again
    third = group_message("/问 博客链接怎么复制")
    await exchange(app, third, _answer(third, LINK_ANSWER))


async def test_the_flood_limit_silences_passive_answers_but_never_an_explicit_question(
    app: App, runtime: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.faq is not None
    monkeypatch.setattr(runtime.faq.guards.floods, "per_minute", 1)
    passive = group_message("请问博客链接怎么复制？")
    await exchange(app, passive, _answer(passive, LINK_ANSWER))
    await exchange(app, group_message("截止时间是什么时候？"))  # passive, over the limit: silent

    asked = group_message("/问 截止时间是什么时候")
    await exchange(app, asked, _answer(asked, "7月1日（周四）18:00 截止。"))
    unclear = group_message(f"/问 {UNCLEAR}")
    await exchange(app, unclear, reply_to(unclear, SUGGESTION))


async def test_one_member_asking_six_times_a_minute_is_asked_to_wait_once(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    questions = ["博客链接怎么复制", "截止时间是什么时候", "微博怎么转发", "微博怎么关注别人"]
    answers = [LINK_ANSWER, "7月1日（周四）18:00 截止。", "点微博下方的“转发”。"]
    answers.append("打开对方主页，点“关注”。")
    for question, answer in zip(questions, answers, strict=True):
        event = group_message(f"/问 {question}")
        await exchange(app, event, _answer(event, answer))
    image = group_message("/问 博文里怎么插入图片")
    await exchange(app, image, _answer(image, IMAGE_ANSWER, IMAGE))

    sixth = group_message("/问 博客链接怎么复制")
    await exchange(app, sixth, reply_to(sixth, "您问得有点快，请稍后再问。"))
    await exchange(app, group_message("/问 博客链接怎么复制"))  # said once, then quiet
    other = group_message("/问 截止时间是什么时候", user_id=OTHER_MEMBER)
    await exchange(app, other, _pointer(OTHER_MEMBER))  # a repeat points to the answer

    clock.advance(minutes=1)
    await exchange(app, group_message("/问 微博怎么转发"), _pointer(MEMBER))


def _pointer(user_id: int) -> tuple[str, dict[str, Any]]:
    """Pointing to the earlier answer (message 1 in these exchanges), @-ing the asker."""
    earlier = group_message("")
    return _group_send(earlier, [Quote(1), Mention(user_id), Text(REPEATED_TEXT)])


# --- hostile input -----------------------------------------------------------------------------


async def test_cq_code_in_a_question_stays_text(app: App, runtime: Runtime) -> None:
    event = group_message(text_message("/问 [CQ:at,qq=all] 今天食堂几点开饭"))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg", {"group_id": event.group_id, "message": NoMentions()}, result={}
        )


async def test_an_at_all_question_is_answered_without_mentioning_anyone(
    app: App, runtime: Runtime
) -> None:
    event = group_message(
        Message([MessageSegment.at("all"), MessageSegment.text(" 博客链接怎么复制？")])
    )
    await exchange(app, event, _answer(event, LINK_ANSWER))


async def test_a_ten_thousand_character_question_gets_a_short_reply(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/问 " + "图片" * 5_000)
    await exchange(app, event, reply_to(event, "问题太长了，请用一两句话说明想问什么。"))
    await exchange(app, group_message("怎么" * 5_000))


# --- /faq for organizers -----------------------------------------------------------------------


class ScoreLines:
    """Equals a OneBot message whose text is a heading, then lines `<id> <score>`, each
    followed by a line `  ↳ 命中：<words>`."""

    LINE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)* (?:0\.\d\d|1\.00)")
    HIT = re.compile(r"  ↳ 命中：\S.*")

    def __init__(self, first_id: str) -> None:
        self.first_id = first_id
        self.lines: list[str] = []

    def __eq__(self, message: object) -> bool:
        if not isinstance(message, list):
            return False
        lines = message_text(message).split("\n")
        self.lines = lines
        scored, hits = lines[1::2], lines[2::2]
        scores = [float(line.split()[1]) for line in scored if self.LINE.fullmatch(line)]
        return (
            1 <= len(scored) <= 3
            and len(scores) == len(scored) == len(hits)
            and all(self.HIT.fullmatch(line) for line in hits)
            and lines[1].startswith(self.first_id + " ")
            and scores == sorted(scores, reverse=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<heading + id/score lines, first {self.first_id}>"


async def test_faq_test_lists_the_top_three_with_two_decimal_scores(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/faq 测试 博客链接怎么复制", user_id=ORGANIZER)
    expected = ScoreLines("blog-link")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg", {"group_id": event.group_id, "message": expected}, result={}
        )
    assert expected.lines[1] == "blog-link 1.00"
    assert expected.lines[2] == "  ↳ 命中：博客、链接、复制"


async def test_faq_test_says_no_match_when_nothing_scores(app: App, runtime: Runtime) -> None:
    event = group_message("/faq test 。。。？", user_id=ORGANIZER)
    await exchange(app, event, reply_to(event, "无匹配"))


async def test_members_cannot_change_the_knowledge_base(app: App, runtime: Runtime) -> None:
    event = group_message("/faq 添加 party-fee 党费怎么交 | 问党务干事。")
    await exchange(app, event, reply_to(event, "抱歉，/faq 仅限组织者使用。"))
    assert runtime.faq is not None
    assert runtime.faq.get("party-fee") is None


async def test_an_organizer_adds_an_entry_that_is_then_answered(app: App, runtime: Runtime) -> None:
    add = group_message(
        text_message("/faq 添加 party-fee 党费怎么交 | 1. 找本单位党务干事。\n2. 现金或转账。"),
        user_id=ORGANIZER,
    )
    await exchange(app, add, reply_to(add, "已添加问答“party-fee”：党费怎么交"))

    ask = group_message("/问 党费怎么交")
    await exchange(
        app, ask, _answer(ask, "1. 找本单位党务干事。\n2. 现金或转账。", question="党费怎么交")
    )


async def test_a_refused_change_is_explained(app: App, runtime: Runtime) -> None:
    event = group_message(
        text_message("/faq 添加 x-bad 模板问题 | {{ ''.__class__ }}"), user_id=ORGANIZER
    )
    await exchange(app, event, reply_starting(event, "答案里的 {{ }} 只能填配置里的名称"))
    missing_bar = group_message("/faq 添加 party-fee 党费怎么交", user_id=ORGANIZER)
    await exchange(app, missing_bar, reply_starting(missing_bar, "请按格式写：/faq 添加"))


async def test_an_organizer_teaches_an_unanswered_question(app: App, runtime: Runtime) -> None:
    ask = group_message("/问 党员证丢了怎么补办")
    await exchange(app, ask, reply_to(ask, CANNOT))
    assert runtime.faq is not None
    [row] = await runtime.faq.unanswered()

    listing = group_message("/faq 未解决", user_id=ORGANIZER)
    await exchange(
        app,
        listing,
        reply_to(
            listing,
            "未解决的问题（问得多的在前；用 /faq 学习 编号 条目编号 教给机器人）：\n"
            f"{row.id}. 党员证丢了怎么补办（1次，最近 06-25 17:00）",
        ),
    )
    teach = group_message(f"/faq 学习 {row.id} blog-link", user_id=ORGANIZER)
    await exchange(
        app,
        teach,
        reply_to(
            teach, "学会了：以后问“党员证丢了怎么补办”会回答“blog-link”（博客链接怎么复制？）。"
        ),
    )
    again = group_message("/问 党员证丢了怎么补办")
    await exchange(app, again, _answer(again, LINK_ANSWER))


async def test_alike_unanswered_questions_are_listed_once_and_taught_together(
    app: App, runtime: Runtime
) -> None:
    for text in ("/问 党员证丢了怎么补办", "/问 党员证丢了怎么补办？", "/问 党员证丢了怎么补办呀"):
        ask = group_message(text)
        await exchange(app, ask, reply_to(ask, CANNOT))
    assert runtime.faq is not None
    [group] = await runtime.faq.unanswered_groups()
    assert group.count == 3

    listing = group_message("/faq 未解决", user_id=ORGANIZER)
    await exchange(
        app,
        listing,
        reply_to(
            listing,
            "未解决的问题（问得多的在前；用 /faq 学习 编号 条目编号 教给机器人）：\n"
            f"{group.id}. 党员证丢了怎么补办？（3次，最近 06-25 17:00）\n"
            "  另有 1 种相近问法，如：党员证丢了怎么补办呀",
        ),
    )
    teach = group_message(f"/faq 学习 {group.id} rule-deadline", user_id=ORGANIZER)
    await exchange(
        app,
        teach,
        reply_starting(
            teach, "学会了：以后问“党员证丢了怎么补办？”等 2 种问法会回答“rule-deadline”"
        ),
    )
    assert await runtime.faq.unanswered_groups() == []


async def test_an_organizer_undoes_a_deletion(app: App, runtime: Runtime) -> None:
    delete = group_message("/faq 删除 blog-link", user_id=ORGANIZER)
    await exchange(
        app,
        delete,
        reply_to(delete, "已删除问答“blog-link”：博客链接怎么复制？（/faq 撤销 可恢复）"),
    )
    undo = group_message("/faq 撤销", user_id=ORGANIZER)
    # The organizer is named as the group shows them (the fake's nickname), not by QQ number.
    await exchange(
        app, undo, reply_to(undo, f"已撤销 用户{ORGANIZER} 在 06-25 17:00 的删除（blog-link）。")
    )
    nothing = group_message("/faq undo", user_id=ORGANIZER)
    await exchange(app, nothing, reply_to(nothing, "没有可以撤销的修改。"))
    ask = group_message("/问 博客链接怎么复制")
    await exchange(app, ask, _answer(ask, LINK_ANSWER))


async def test_an_organizer_edits_only_the_answer(app: App, runtime: Runtime) -> None:
    edit = group_message(text_message("/faq 修改 blog-link | 长按地址栏复制。"), user_id=ORGANIZER)
    await exchange(app, edit, reply_to(edit, "已修改问答“blog-link”：博客链接怎么复制？"))
    show = group_message("/faq 查看 blog-link", user_id=ORGANIZER)
    await exchange(
        app,
        show,
        reply_to(
            show,
            "【blog-link】博客链接怎么复制？\n其他问法：怎么找到博文的网址；博文地址在哪里看\n"
            "答案：\n长按地址栏复制。\n（在群里添加或修改过，/faq 撤销 可恢复）",
        ),
    )


async def test_faq_list_and_usage(app: App, runtime: Runtime) -> None:
    listing = group_message("/faq 列表", user_id=ORGANIZER)
    await exchange(
        app,
        listing,
        reply_to(
            listing,
            "共 5 条问答（编号 问题）：\nblog-image 博文里怎么插入图片？\n"
            "blog-link 博客链接怎么复制？\nrule-deadline 截止时间是什么时候？\n"
            "weibo-repost 微博怎么转发？\nweibo-follow 微博怎么关注别人？",
        ),
    )
    usage = group_message("/faq 乱写", user_id=ORGANIZER)
    await exchange(app, usage, reply_starting(usage, "没有“乱写”这个操作。\n用法："))


async def test_faq_reload_rereads_the_file(app: App, runtime: Runtime) -> None:
    faq_file = runtime.contest.config_dir / "faq.yaml"
    faq_file.write_text(FAQ_YAML.replace(LINK_ANSWER, "新写的链接答案。"), encoding="utf-8")
    reload = group_message("/faq 重载", user_id=ORGANIZER)
    await exchange(app, reload, reply_starting(reload, "已重新读取问答库，共 5 条。"))
    ask = group_message("/问 博客链接怎么复制")
    await exchange(app, ask, _answer(ask, "新写的链接答案。", question="博客链接怎么复制？"))


# --- misses recorded as they happen (issue 10) -------------------------------------------------


async def _listed(app: App) -> str:
    """What /faq 未解决 shows an organizer."""
    event = group_message("/faq 未解决", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": event.group_id, "message": Captured.into(captured := [])},
            result={"message_id": 1},
        )
    return message_text(captured[0])


class Captured:
    """Equals any message, keeping it (nonebug compares with ==)."""

    def __init__(self, into: list) -> None:
        self.into_list = into

    @classmethod
    def into(cls, into: list) -> Captured:
        return cls(into)

    def __eq__(self, message: object) -> bool:
        self.into_list.append(message)
        return True

    __hash__ = None  # type: ignore[assignment]


async def test_a_suggestion_is_listed_once_the_pick_window_passes(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    ask = group_message(f"/问 {UNCLEAR}")
    await exchange(app, ask, reply_to(ask, SUGGESTION))
    assert "暂无未解决的问题" in await _listed(app)  # still time to pick

    clock.advance(minutes=4)
    listed = await _listed(app)
    assert UNCLEAR in listed
    assert "【给了候选未选】" in listed


async def test_picking_a_candidate_resolves_the_suggestion(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    ask = group_message(f"/问 {UNCLEAR}")
    await exchange(app, ask, reply_to(ask, SUGGESTION))
    choice = group_message("2")
    await exchange(app, choice, _answer(choice, "点微博下方的“转发”。"))
    clock.advance(minutes=4)
    assert "暂无未解决的问题" in await _listed(app)


async def test_saying_wrong_to_an_answer_records_the_question(
    app: App, runtime: Runtime, clock: Clock
) -> None:
    ask = group_message("/问 博客链接怎么复制")
    await exchange(app, ask, _answer(ask, LINK_ANSWER), message_id=5151)
    wrong = quoting_bot("不对", quoted_id=5151)
    await exchange(
        app, wrong, reply_to(wrong, f"抱歉答得不对，已记下您的问题，转给组织者补充。{CONTACTS}")
    )
    listed = await _listed(app)
    assert "博客链接怎么复制" in listed
    assert "【答错：blog-link】" in listed


async def test_a_voice_message_to_the_bot_is_asked_for_words(app: App, runtime: Runtime) -> None:
    event = group_message(Message(MessageSegment.record("voice.amr")), to_me=True)
    event.original_message = Message(
        [MessageSegment.at(SELF_ID), MessageSegment.record("voice.amr")]
    )
    await exchange(
        app, event, reply_to(event, "请用文字描述问题，例如：@大赛助手 博客怎么插入图片")
    )
