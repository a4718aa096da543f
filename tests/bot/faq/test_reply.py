"""FaqService.claim / respond / delivered: what the FAQ decides to say, whatever the adapter."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.faq.reply import Answer, Cannot, Noted, Repeat, Silent, SlowDown, Suggest, Usage
from bot.faq.service import FaqService
from bot.settings.contest import Contest
from bot.storage.db import Sessions

FAQ_YAML = """\
version: 1
entries:
  - id: blog-link
    question: 博客链接怎么复制？
    phrasings: [怎么找到博文的网址]
    answer: 打开博文，复制地址栏里的网址。
  - id: blog-image
    question: 博文里怎么插入图片？
    phrasings: [博客怎么加图片]
    answer: 点编辑框上方的“图片”按钮上传。
  - id: weibo-image
    question: 微博里怎么插入图片？
    phrasings: [微博怎么加图片]
    answer: 点发微博框下方的图片图标。
"""
GROUP = 123456789
MEMBER = 20001


@pytest.fixture
async def faq(sessions: Sessions, contest: Contest, tmp_path: Path) -> FaqService:
    config = tmp_path / "config"
    config.mkdir()
    (config / "faq.yaml").write_text(FAQ_YAML, encoding="utf-8")
    (config / "synonyms.txt").write_text("链接 网址\n", encoding="utf-8")
    policy = dataclasses.replace(contest.faq, flood_per_minute=2)
    service = FaqService(sessions, dataclasses.replace(contest, config_dir=config, faq=policy))
    await service.load()
    return service


async def ask(faq: FaqService, text: str, now: datetime, mode: str = "command", **kw: object):
    return await faq.respond(text, mode=mode, group_id=GROUP, user_id=MEMBER, now=now, **kw)  # type: ignore[arg-type]


async def test_a_clear_question_is_answered(faq: FaqService, now: datetime) -> None:
    reply = await ask(faq, "博客链接怎么复制", now)
    assert isinstance(reply, Answer)
    assert reply.entry.id == "blog-link"


async def test_the_same_answer_soon_after_points_to_the_first(
    faq: FaqService, now: datetime
) -> None:
    first = await ask(faq, "博客链接怎么复制", now)
    assert isinstance(first, Answer)
    await faq.delivered(first, group_id=GROUP, sent=True, message_id=555, now=now)
    again = await ask(faq, "怎么找到博文的网址", now + timedelta(minutes=1))
    assert again == Repeat(555)


async def test_an_answer_that_was_not_sent_is_not_a_repeat(faq: FaqService, now: datetime) -> None:
    first = await ask(faq, "博客链接怎么复制", now)
    assert isinstance(first, Answer)
    await faq.delivered(first, group_id=GROUP, sent=False, message_id=None, now=now)
    assert isinstance(await ask(faq, "博客链接怎么复制", now), Answer)


async def test_an_unsure_question_gets_candidates_and_a_number_picks_one(
    faq: FaqService, now: datetime
) -> None:
    reply = await ask(faq, "怎么插入图片", now)
    assert isinstance(reply, Suggest)
    ids = [e.id for e in reply.entries]
    assert set(ids) == {"blog-image", "weibo-image"}
    mode = faq.claim("2", group_id=GROUP, user_id=MEMBER, at_bot=False, has_card=False, now=now)
    assert mode == "choice"
    chosen = await ask(faq, "2", now, mode="choice")
    assert isinstance(chosen, Answer)
    assert chosen.entry.id == ids[1]


async def test_passive_mode_never_suggests_or_apologises(faq: FaqService, now: datetime) -> None:
    assert await ask(faq, "怎么插入图片", now, mode="passive") == Silent()
    assert await ask(faq, "今天食堂吃什么呢？", now, mode="passive") == Silent()
    assert await faq.unanswered() == []


async def test_an_unknown_question_is_recorded_and_answered_politely(
    faq: FaqService, now: datetime
) -> None:
    reply = await ask(faq, "党费怎么交到支部", now)
    assert isinstance(reply, Cannot)
    assert [u.text for u in await faq.unanswered()] == ["党费怎么交到支部"]


async def test_empty_and_overlong_questions_get_usage(faq: FaqService, now: datetime) -> None:
    assert await ask(faq, "  ", now) == Usage("empty")
    assert await ask(faq, "问" * 500, now) == Usage("too_long")


async def test_the_flood_limit_binds_passive_answers_only(faq: FaqService, now: datetime) -> None:
    assert isinstance(await ask(faq, "博客链接怎么复制？", now, mode="passive"), Answer)
    assert isinstance(await ask(faq, "博文里怎么插入图片？", now, mode="passive"), Answer)
    assert await ask(faq, "微博里怎么插入图片？", now, mode="passive") == Silent()
    assert isinstance(await ask(faq, "微博里怎么插入图片", now), Answer)


async def test_a_sixth_explicit_question_in_a_minute_is_refused_once(
    faq: FaqService, now: datetime
) -> None:
    for _ in range(5):
        assert not isinstance(await ask(faq, "党费怎么交", now), SlowDown | Silent)
    assert await ask(faq, "党费怎么交", now) == SlowDown()
    assert await ask(faq, "党费怎么交", now) == Silent()
    assert isinstance(await ask(faq, "党费怎么交", now + timedelta(minutes=1)), Cannot)


async def test_a_pick_resolves_the_recorded_suggestion(faq: FaqService, now: datetime) -> None:
    assert isinstance(await ask(faq, "怎么插入图片", now), Suggest)
    later = now + timedelta(minutes=10)
    assert [(u.text, u.kind) for u in await faq.unanswered(now=later)] == [
        ("怎么插入图片", "suggested")
    ]
    assert await faq.unanswered(now=now) == []  # still time to pick
    await ask(faq, "怎么插入图片", now)
    assert isinstance(await ask(faq, "1", now, mode="choice"), Answer)
    assert [u.count for u in await faq.unanswered(now=later)] == [1]


async def test_wrong_after_an_answer_records_the_question(faq: FaqService, now: datetime) -> None:
    answer = await ask(faq, "博客链接怎么复制", now)
    assert isinstance(answer, Answer)
    await faq.delivered(answer, group_id=GROUP, sent=True, message_id=77, now=now)
    assert (
        faq.claim(
            "不对！",
            group_id=GROUP,
            user_id=MEMBER,
            at_bot=False,
            has_card=False,
            now=now,
            reply_to_bot=77,
        )
        == "wrong"
    )
    noted = await ask(faq, "不对！", now, mode="wrong", reply_to_bot=77)
    assert isinstance(noted, Noted)
    [miss] = await faq.unanswered()
    assert (miss.text, miss.kind, miss.wrong_entry) == ("博客链接怎么复制", "wrong", "blog-link")
    assert await ask(faq, "不对", now, mode="wrong", reply_to_bot=78) == Usage("rephrase")


def test_links_and_cards_are_not_questions(faq: FaqService, now: datetime) -> None:
    def claim(text: str, **kw: bool) -> str | None:
        args = {"at_bot": False, "has_card": False} | kw
        return faq.claim(text, group_id=GROUP, user_id=MEMBER, now=now, **args)

    assert claim("请问博客链接怎么复制？") == "passive"
    assert claim("请问博客链接怎么复制？", at_bot=True) == "mention"
    assert claim("https://weibo.com/1/A 这个怎么样？") is None
    assert claim("看看这个？", at_bot=True, has_card=True) is None
    assert claim("哈哈") is None
