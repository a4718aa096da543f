"""The FAQ in the real app (`python -m bot`) with the shipped knowledge base, against the fake
OneBot: asking three ways, choosing a candidate by number, silence on chatter, the repeat guard,
and an organizer's additions and lessons surviving a restart.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from typing import Any

import pytest

from bot.demo.onebot import FakeOneBot, SentMessage, at, reply, text
from bot.faq.entry import FaqEntry
from bot.faq.knowledge import load_knowledge
from bot.settings.loader import load_contest_or_raise

from .conftest import (
    GROUP_ID,
    ORGANIZER_ID,
    SELF_ID,
    TOKEN,
    AppProcess,
    AppStarter,
    ContestWriter,
)

MEMBER_ID = 30_001
OTHER_MEMBER_ID = 30_002
CHATTER = ["收到", "好的谢谢", "今天开会吗", "明天几点集合", "辛苦了", "我刚插入了图片", "1"]
# Asked of the shipped base: "改" could be the post or the account name, so it asks which.
AMBIGUOUS = "怎么改"
UNANSWERABLE = "会议室怎么预约"


@pytest.fixture
def entries(contest_config: ContestWriter) -> dict[str, FaqEntry]:
    """The shipped knowledge base as the app renders it for the test's contest.toml."""
    contest = load_contest_or_raise(contest_config())
    found, problems = load_knowledge(contest)
    assert problems == []
    return {entry.id: entry for entry in found}


@pytest.fixture
async def app(start_app: AppStarter) -> AppProcess:
    return await start_app()


@pytest.fixture
def sent_ids(onebot: FakeOneBot) -> list[int]:
    """The message ids the fake OneBot hands back for the bot's group messages, in order."""
    ids: list[int] = []
    counter = itertools.count(900_001)

    def send(_params: dict[str, Any]) -> dict[str, Any]:
        ids.append(next(counter))
        return {"message_id": ids[-1]}

    onebot.on_action("send_group_msg", send)
    return ids


def _answer(entry: FaqEntry) -> str:
    """An answer as the bot sends it: naming the question it answers first."""
    return f"您问的是：{entry.question}\n{entry.answer}"


def _quoted(message: SentMessage) -> int | None:
    first = message.segments[0] if message.segments else {}
    return int(first["data"]["id"]) if first.get("type") == "reply" else None


async def _ask(onebot: FakeOneBot, user_id: int, message: Any) -> tuple[int, SentMessage]:
    """Post a group message; its id and the bot's next message to the group."""
    posted = await onebot.post_group_message(GROUP_ID, user_id, message)
    return posted["message_id"], await onebot.wait_sent(group_id=GROUP_ID)


async def test_three_ways_of_asking_are_answered_quoting_the_question(
    app: AppProcess, onebot: FakeOneBot, entries: dict[str, FaqEntry]
) -> None:
    await onebot.connect(app.ws_url)

    asked, command = await _ask(onebot, MEMBER_ID, "/问 博客链接怎么复制")
    assert (command.text, _quoted(command)) == (_answer(entries["blog-link"]), asked)

    asked, mention = await _ask(onebot, MEMBER_ID, [at(SELF_ID), text(" 博客怎么插入图片")])
    assert (mention.text, _quoted(mention)) == (_answer(entries["blog-image"]), asked)

    asked, passive = await _ask(onebot, MEMBER_ID, "请问截止时间是什么时候？")
    assert (passive.text, _quoted(passive)) == (_answer(entries["rule-deadline"]), asked)
    assert "7月1日" in passive.text  # rendered from contest.toml


async def test_a_number_reply_answers_the_chosen_candidate(
    app: AppProcess, onebot: FakeOneBot, entries: dict[str, FaqEntry]
) -> None:
    await onebot.connect(app.ws_url)

    _, offer = await _ask(onebot, MEMBER_ID, f"/问 {AMBIGUOUS}")
    head, *lines = offer.text.split("\n")
    assert head == "您想问的是哪一个？回复序号即可："
    assert 2 <= len(lines) <= 3
    assert lines[1].startswith("2. ")
    second = next(e for e in entries.values() if e.question == lines[1][3:])

    await onebot.post_group_message(GROUP_ID, OTHER_MEMBER_ID, "2")  # not theirs to choose
    asked, chosen = await _ask(onebot, MEMBER_ID, "２")

    assert (chosen.text, _quoted(chosen)) == (_answer(second), asked)
    await onebot.expect_silence(0.5, group_id=GROUP_ID)


async def test_chatter_gets_no_answer(app: AppProcess, onebot: FakeOneBot) -> None:
    await onebot.connect(app.ws_url)

    for index, chatter in enumerate(CHATTER):
        await onebot.post_group_message(GROUP_ID, MEMBER_ID + index, chatter)
    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    await onebot.wait_sent(group_id=GROUP_ID, predicate=lambda m: "可用指令" in m.text)
    await onebot.expect_silence(0.5, group_id=GROUP_ID)

    assert len(onebot.sent(group_id=GROUP_ID)) == 1


async def test_a_repeated_question_points_to_the_earlier_answer(
    app: AppProcess, onebot: FakeOneBot, sent_ids: list[int], entries: dict[str, FaqEntry]
) -> None:
    await onebot.connect(app.ws_url)

    _, answer = await _ask(onebot, MEMBER_ID, "/问 博客链接怎么复制")
    assert answer.text == _answer(entries["blog-link"])
    _, pointer = await _ask(onebot, OTHER_MEMBER_ID, "博客链接怎么复制啊？")

    assert pointer.text == "刚刚已回答过这个问题，请看引用的这条回复。"
    assert _quoted(pointer) == sent_ids[0]
    assert pointer.mentions == [str(OTHER_MEMBER_ID)]


async def test_an_organizer_adds_and_teaches_and_both_survive_a_restart(
    app: AppProcess, onebot: FakeOneBot, entries: dict[str, FaqEntry]
) -> None:
    await onebot.connect(app.ws_url)
    _, added = await _ask(
        onebot, ORGANIZER_ID, "/faq 添加 party-fee 党费怎么交 | 请找本单位党务干事。"
    )
    assert added.text == "已添加问答“party-fee”：党费怎么交"
    _, sorry = await _ask(onebot, MEMBER_ID, f"/问 {UNANSWERABLE}")
    assert sorry.text.startswith("抱歉，这个问题我还答不上来")
    _, listing = await _ask(onebot, ORGANIZER_ID, "/faq 未解决")
    found = re.search(rf"^(\d+)\. {UNANSWERABLE}（1次", listing.text, re.MULTILINE)
    assert found is not None, listing.text
    _, taught = await _ask(onebot, ORGANIZER_ID, f"/faq 学习 {found.group(1)} human-help")
    assert taught.text.startswith("学会了")

    await onebot.close()
    await app.restart()
    fresh = FakeOneBot(SELF_ID, TOKEN)
    try:
        await fresh.connect(app.ws_url)
        _, fee = await _ask(fresh, MEMBER_ID, "/问 党费怎么交")
        assert fee.text == "您问的是：党费怎么交\n请找本单位党务干事。"
        _, returned = await _ask(fresh, MEMBER_ID, f"/问 {UNANSWERABLE}")
        assert returned.text == _answer(entries["human-help"])
    finally:
        await fresh.close()


# --- issue 10: explicit questions always answered; misses recorded as they happen ------------


async def test_an_explicit_question_is_answered_during_a_flood_of_passive_ones(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=contest_config({"faq": {"flood_per_minute": 1}}))
    await onebot.connect(app.ws_url)

    _, first = await _ask(onebot, MEMBER_ID, "请问截止时间是什么时候？")
    assert first.text.startswith("您问的是：")
    await onebot.post_group_message(GROUP_ID, OTHER_MEMBER_ID, "请问博客链接怎么复制？")
    await onebot.expect_silence(0.5, group_id=GROUP_ID)  # passive, over the group's limit

    asked, answer = await _ask(onebot, OTHER_MEMBER_ID, "/问 博客怎么插入图片")
    assert answer.text.startswith("您问的是：")
    assert _quoted(answer) == asked


def _unanswered_rows(app: AppProcess) -> list[tuple[str, str, int]]:
    """(text, kind, count) of faq_unanswered, read straight from the app's SQLite file."""
    path = app.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT text, kind, count FROM faq_unanswered ORDER BY id").fetchall()


async def test_a_suggestion_is_recorded_and_a_pick_resolves_it(
    app: AppProcess, onebot: FakeOneBot
) -> None:
    await onebot.connect(app.ws_url)

    _, offer = await _ask(onebot, MEMBER_ID, f"/问 {AMBIGUOUS}")
    assert offer.text.startswith("您想问的是哪一个？")
    assert _unanswered_rows(app) == [(AMBIGUOUS, "suggested", 1)]
    _, chosen = await _ask(onebot, MEMBER_ID, "1")
    assert chosen.text.startswith("您问的是：")
    assert _unanswered_rows(app) == []

    await _ask(onebot, OTHER_MEMBER_ID, f"/问 {AMBIGUOUS}")  # offered, never picked
    assert _unanswered_rows(app) == [(AMBIGUOUS, "suggested", 1)]


async def test_saying_wrong_to_an_answer_records_a_miss(
    app: AppProcess, onebot: FakeOneBot, sent_ids: list[int]
) -> None:
    await onebot.connect(app.ws_url)

    _, answer = await _ask(onebot, MEMBER_ID, "/问 博客链接怎么复制")
    assert answer.text.startswith("您问的是：")
    _, noted = await _ask(onebot, MEMBER_ID, [reply(sent_ids[-1]), text("不对")])
    assert noted.text.startswith("抱歉答得不对，已记下您的问题")

    _, listing = await _ask(onebot, ORGANIZER_ID, "/faq 未解决")
    assert "博客链接怎么复制" in listing.text
    assert "【答错：blog-link】" in listing.text


# --- the semantic layer in the running bot -------------------------------------------------


async def test_a_question_sharing_no_word_with_the_entry_is_answered_by_meaning(
    app: AppProcess, onebot: FakeOneBot, entries: dict[str, FaqEntry]
) -> None:
    """口令 / 记不起来 share no word with 密码 / 忘: by words alone this gets a list (the bot
    starts with the embeddings a first run leaves in its data dir, see conftest)."""
    await onebot.connect(app.ws_url)
    _, answer = await _ask(onebot, MEMBER_ID, "/问 博客的口令记不起来了")
    assert answer.text == _answer(entries["blog-password-forgot"])


async def test_a_long_message_with_context_is_answered_from_its_question(
    app: AppProcess, onebot: FakeOneBot, entries: dict[str, FaqEntry]
) -> None:
    await onebot.connect(app.ws_url)
    _, answer = await _ask(
        onebot,
        MEMBER_ID,
        "/问 各位老师好，我是城南社区负责报送的，今天下午开完会回来，"
        "社区里一位老同志写好了文章，想问一下博客里面怎么插入照片",
    )
    assert answer.text == _answer(entries["blog-image"])
