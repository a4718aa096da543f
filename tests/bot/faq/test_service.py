"""FaqService on SQLite and PostgreSQL: the file and the database combined, changes from chat."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.faq.service import FaqError, FaqService, question_key
from bot.faq.store import FaqEntryRow
from bot.settings.contest import Contest
from bot.storage.db import Sessions, write_transaction

FAQ_YAML = """\
version: 1
entries:
  - id: blog-link
    question: 博客链接怎么复制？
    phrasings: [怎么找到博文的网址, 博文地址在哪里看]
    answer: 打开博文，复制地址栏里的网址。
  - id: blog-image
    question: 博文里怎么插入图片？
    phrasings: [博客怎么加图片, 照片怎么放到博文里]
    answer: 点编辑框上方的“图片”按钮上传。
  - id: rule-deadline
    question: 截止时间是什么时候？
    phrasings: [什么时候截止, 最晚哪天交]
    answer: "{{ contest.deadline }} 截止。"
"""
SYNONYMS = "链接 网址 地址\n图片 照片\n"
ORGANIZER = 10000
OTHER_ORGANIZER = 10009


@pytest.fixture
def faq_contest(contest: Contest, tmp_path: Path) -> Contest:
    config = tmp_path / "config"
    config.mkdir()
    (config / "faq.yaml").write_text(FAQ_YAML, encoding="utf-8")
    (config / "synonyms.txt").write_text(SYNONYMS, encoding="utf-8")
    return dataclasses.replace(contest, config_dir=config)


@pytest.fixture
async def faq(sessions: Sessions, faq_contest: Contest) -> FaqService:
    service = FaqService(sessions, faq_contest)
    await service.load()
    return service


async def _fresh(sessions: Sessions, contest: Contest) -> FaqService:
    """A new service on the same database, as after a restart."""
    service = FaqService(sessions, contest)
    await service.load()
    return service


def _answered(faq: FaqService, question: str) -> str | None:
    asked = faq.ask(question, passive=False)
    return asked.entries[0].id if asked.decision.kind == "answer" else None


# --- the file and the database ----------------------------------------------------------------


async def test_file_entries_are_loaded_with_rendered_answers(faq: FaqService) -> None:
    assert [e.id for e in faq.list_entries()] == ["blog-link", "blog-image", "rule-deadline"]
    deadline = faq.get("rule-deadline")
    assert deadline is not None
    assert deadline.answer == "7月1日（周四）18:00 截止。"
    assert _answered(faq, "博客链接怎么复制") == "blog-link"


async def test_a_database_row_changes_a_file_entry_field_by_field(
    faq: FaqService, now: datetime
) -> None:
    await faq.edit("blog-link", "博文网址怎么复制？", None, actor=ORGANIZER, now=now)

    entry = faq.get("blog-link")
    assert entry is not None
    assert entry.question == "博文网址怎么复制？"
    assert entry.answer == "打开博文，复制地址栏里的网址。"  # the file's, untouched
    assert entry.source == "chat"


async def test_a_deleted_file_entry_stays_hidden_after_reload(
    faq: FaqService, now: datetime
) -> None:
    await faq.delete("blog-image", actor=ORGANIZER, now=now)
    await faq.reload()

    assert faq.get("blog-image") is None
    assert _answered(faq, "博文里怎么插入图片") is None


async def test_an_entry_added_in_chat_is_answered(faq: FaqService, now: datetime) -> None:
    added = await faq.add(
        "party-fee", "党费怎么交？", "请联系本单位党务干事。", actor=ORGANIZER, now=now
    )

    assert (added.id, added.source, added.answer) == ("party-fee", "chat", "请联系本单位党务干事。")
    assert _answered(faq, "党费怎么交") == "party-fee"


async def test_an_existing_id_cannot_be_added_again(faq: FaqService, now: datetime) -> None:
    with pytest.raises(FaqError, match="已经有了"):
        await faq.add("blog-link", "另一个问题？", "另一个答案", actor=ORGANIZER, now=now)
    entry = faq.get("blog-link")
    assert entry is not None
    assert entry.question == "博客链接怎么复制？"


async def test_a_deleted_id_can_be_added_again(faq: FaqService, now: datetime) -> None:
    await faq.delete("blog-image", actor=ORGANIZER, now=now)

    added = await faq.add(
        "blog-image", "照片怎么上传？", "用“图片”按钮。", actor=ORGANIZER, now=now
    )

    assert added.answer == "用“图片”按钮。"


@pytest.mark.parametrize("entry_id", ["Blog-Link", "博客", "blog_link", "-x", "a" * 41, "a b"])
async def test_malformed_ids_are_refused(faq: FaqService, now: datetime, entry_id: str) -> None:
    with pytest.raises(FaqError, match="编号"):
        await faq.add(entry_id, "党费怎么交？", "问党务干事。", actor=ORGANIZER, now=now)
    assert len(faq.list_entries()) == 3


async def test_too_long_or_empty_questions_and_answers_are_refused(
    faq: FaqService, now: datetime
) -> None:
    with pytest.raises(FaqError, match="问题不能超过"):
        await faq.add("x-long", "问" * 101, "答", actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="问题太短"):
        await faq.add("x-short", "？", "答", actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="答案不能超过"):
        await faq.add("x-answer", "党费怎么交？", "答" * 601, actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="不能为空"):
        await faq.add("x-empty", "党费怎么交？", " \n ", actor=ORGANIZER, now=now)
    assert len(faq.list_entries()) == 3


async def test_editing_one_side_keeps_the_other(faq: FaqService, now: datetime) -> None:
    await faq.edit("blog-link", None, "新的答案。", actor=ORGANIZER, now=now)
    entry = faq.get("blog-link")
    assert entry is not None
    assert (entry.question, entry.answer) == ("博客链接怎么复制？", "新的答案。")


async def test_editing_nothing_or_an_unknown_entry_is_refused(
    faq: FaqService, now: datetime
) -> None:
    with pytest.raises(FaqError, match="请写明新的问题或答案"):
        await faq.edit("blog-link", " ", None, actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="没有编号"):
        await faq.edit("no-such", "问题？", None, actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="没有编号"):
        await faq.delete("no-such", actor=ORGANIZER, now=now)


# --- template safety --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ nope }}",
        "{{ contest.nope }}",
        "{% for i in range(9) %}x{% endfor %}",
        "{{ 'a' * 999999999 }}",
        "{{ contest.deadline",
        "{# comment #}",
    ],
)
async def test_unsafe_or_broken_chat_templates_are_refused(
    faq: FaqService, now: datetime, template: str
) -> None:
    with pytest.raises(FaqError):
        await faq.add("x-template", "模板测试问题？", template, actor=ORGANIZER, now=now)
    assert faq.get("x-template") is None


async def test_chat_answers_may_name_contest_values(faq: FaqService, now: datetime) -> None:
    added = await faq.add(
        "x-deadline", "最晚几号交？", "{{ contest.deadline }}前交。", actor=ORGANIZER, now=now
    )
    assert added.answer == "7月1日（周四）18:00前交。"


async def test_a_stored_answer_that_no_longer_renders_keeps_the_file_answer(
    sessions: Sessions, faq_contest: Contest, now: datetime
) -> None:
    async with write_transaction(sessions) as session:
        session.add(FaqEntryRow(id="blog-link", answer="{{ removed_value }}", updated_at=now))

    faq = await _fresh(sessions, faq_contest)

    entry = faq.get("blog-link")
    assert entry is not None
    assert entry.answer == "打开博文，复制地址栏里的网址。"
    assert any(p.key == "blog-link.answer" for p in faq.problems)


# --- who, when, undo --------------------------------------------------------------------------


async def test_every_change_records_who_and_when(faq: FaqService, now: datetime) -> None:
    await faq.add("party-fee", "党费怎么交？", "问党务干事。", actor=ORGANIZER, now=now)
    later = now + timedelta(minutes=5)
    await faq.delete("blog-link", actor=OTHER_ORGANIZER, now=later)

    history = await faq.history()

    assert [(c.action, c.entry_id, c.actor, c.at) for c in history] == [
        ("delete", "blog-link", OTHER_ORGANIZER, later),
        ("add", "party-fee", ORGANIZER, now),
    ]


async def test_undo_reverts_the_latest_change_then_the_one_before(
    faq: FaqService, now: datetime
) -> None:
    await faq.add("party-fee", "党费怎么交？", "问党务干事。", actor=ORGANIZER, now=now)
    await faq.edit("blog-link", None, "新的答案。", actor=ORGANIZER, now=now)

    first = await faq.undo(actor=OTHER_ORGANIZER, now=now)
    link = faq.get("blog-link")
    assert link is not None
    assert link.answer == "打开博文，复制地址栏里的网址。"
    assert faq.get("party-fee") is not None

    second = await faq.undo(actor=OTHER_ORGANIZER, now=now)
    assert faq.get("party-fee") is None
    assert first is not None
    assert second is not None
    assert (first.action, first.entry_id, second.action, second.entry_id) == (
        "edit",
        "blog-link",
        "add",
        "party-fee",
    )
    assert await faq.undo(actor=OTHER_ORGANIZER, now=now) is None


async def test_undo_brings_a_deleted_entry_back(faq: FaqService, now: datetime) -> None:
    await faq.delete("blog-image", actor=ORGANIZER, now=now)
    await faq.undo(actor=ORGANIZER, now=now)

    assert _answered(faq, "博文里怎么插入图片") == "blog-image"


async def test_the_undo_itself_is_logged(faq: FaqService, now: datetime) -> None:
    await faq.delete("blog-image", actor=ORGANIZER, now=now)
    await faq.undo(actor=OTHER_ORGANIZER, now=now)

    latest = (await faq.history())[0]
    assert (latest.action, latest.entry_id, latest.actor) == ("undo", "blog-image", OTHER_ORGANIZER)


async def test_changes_survive_a_restart(
    faq: FaqService, sessions: Sessions, faq_contest: Contest, now: datetime
) -> None:
    await faq.add("party-fee", "党费怎么交？", "问党务干事。", actor=ORGANIZER, now=now)
    await faq.edit("blog-link", None, "新的答案。", actor=ORGANIZER, now=now)
    await faq.delete("blog-image", actor=ORGANIZER, now=now)

    again = await _fresh(sessions, faq_contest)

    assert [e.id for e in again.list_entries()] == ["blog-link", "rule-deadline", "party-fee"]
    link = again.get("blog-link")
    assert link is not None
    assert link.answer == "新的答案。"
    assert _answered(again, "党费怎么交") == "party-fee"
    await again.undo(actor=ORGANIZER, now=now)  # the log survives too
    assert again.get("blog-image") is not None


# --- unanswered questions ---------------------------------------------------------------------


async def test_the_same_question_typed_differently_is_counted_once(
    faq: FaqService, now: datetime
) -> None:
    await faq.record_unanswered("党费怎么交？", group=1, user=11, now=now)
    later = now + timedelta(hours=1)
    await faq.record_unanswered("党费 怎么交", group=2, user=22, now=later)

    [row] = await faq.unanswered()

    assert (row.text, row.count, row.first_at, row.last_at) == ("党费 怎么交", 2, now, later)
    assert (row.last_group, row.last_user) == (2, 22)


async def test_unanswered_questions_are_listed_most_frequent_first(
    faq: FaqService, now: datetime
) -> None:
    for question, times in (("党费怎么交", 1), ("几点开会", 3), ("发票怎么开", 2)):
        for _ in range(times):
            await faq.record_unanswered(question, group=1, user=11, now=now)

    rows = await faq.unanswered()

    assert [(r.text, r.count) for r in rows] == [
        ("几点开会", 3),
        ("发票怎么开", 2),
        ("党费怎么交", 1),
    ]
    assert len(await faq.unanswered(limit=2)) == 2


async def test_punctuation_only_questions_are_not_recorded(faq: FaqService, now: datetime) -> None:
    assert await faq.record_unanswered("？？？", group=1, user=11, now=now) is None
    assert await faq.unanswered() == []


async def test_learning_attaches_the_question_to_an_entry(faq: FaqService, now: datetime) -> None:
    row = await faq.record_unanswered("博客网址从哪儿弄", group=1, user=11, now=now)
    assert row is not None

    [taught], entry = await faq.learn(row.id, "blog-link", actor=ORGANIZER, now=now)

    assert taught.learned_entry == "blog-link"
    assert "博客网址从哪儿弄" in entry.phrasings
    assert _answered(faq, "博客网址从哪儿弄") == "blog-link"
    assert await faq.unanswered() == []


async def test_undoing_a_lesson_puts_the_question_back_on_the_list(
    faq: FaqService, now: datetime
) -> None:
    row = await faq.record_unanswered("博客网址从哪儿弄", group=1, user=11, now=now)
    assert row is not None
    await faq.learn(row.id, "blog-link", actor=ORGANIZER, now=now)

    await faq.undo(actor=ORGANIZER, now=now)

    entry = faq.get("blog-link")
    assert entry is not None
    assert "博客网址从哪儿弄" not in entry.phrasings
    assert [r.id for r in await faq.unanswered()] == [row.id]


async def test_learning_refuses_unknown_numbers_and_repeats(faq: FaqService, now: datetime) -> None:
    row = await faq.record_unanswered("博客网址从哪儿弄", group=1, user=11, now=now)
    assert row is not None
    with pytest.raises(FaqError, match="没有编号为 999"):
        await faq.learn(999, "blog-link", actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="没有编号"):
        await faq.learn(row.id, "no-such", actor=ORGANIZER, now=now)
    await faq.learn(row.id, "blog-link", actor=ORGANIZER, now=now)
    with pytest.raises(FaqError, match="已经学习"):
        await faq.learn(row.id, "blog-image", actor=ORGANIZER, now=now)


async def test_alike_unanswered_questions_are_one_line_and_taught_together(
    faq: FaqService, now: datetime
) -> None:
    first = await faq.record_unanswered("党费怎么交", group=1, user=11, now=now)
    await faq.record_unanswered("党费怎么交", group=1, user=12, now=now)
    alike = await faq.record_unanswered("党费交给谁", group=1, user=13, now=now)
    other = await faq.record_unanswered("食堂几点开饭", group=1, user=14, now=now)
    assert first is not None
    assert alike is not None
    assert other is not None

    groups = await faq.unanswered_groups()

    assert [(g.id, g.count, g.others) for g in groups] == [
        (first.id, 3, ("党费交给谁",)),
        (other.id, 1, ()),
    ]
    taught, entry = await faq.learn(first.id, "rule-deadline", actor=ORGANIZER, now=now)
    assert [t.id for t in taught] == [first.id, alike.id]
    assert {"党费怎么交", "党费交给谁"} <= set(entry.phrasings)
    assert [g.id for g in await faq.unanswered_groups()] == [other.id]

    await faq.undo(actor=ORGANIZER, now=now)
    assert [(g.id, g.count) for g in await faq.unanswered_groups()] == [
        (first.id, 3),
        (other.id, 1),
    ]


async def test_a_lesson_survives_a_restart(
    faq: FaqService, sessions: Sessions, faq_contest: Contest, now: datetime
) -> None:
    row = await faq.record_unanswered("博客网址从哪儿弄", group=1, user=11, now=now)
    assert row is not None
    await faq.learn(row.id, "blog-link", actor=ORGANIZER, now=now)

    again = await _fresh(sessions, faq_contest)

    assert _answered(again, "博客网址从哪儿弄") == "blog-link"


# --- answers given ----------------------------------------------------------------------------


async def test_answers_are_counted_per_entry_most_asked_first(
    faq: FaqService, now: datetime
) -> None:
    later = now + timedelta(hours=2)
    for entry_id, at in (
        ("blog-image", now),
        ("blog-link", now),
        ("blog-link", later),
        ("rule-deadline", now),
        ("blog-link", now + timedelta(hours=1)),
        ("rule-deadline", now),
    ):
        await faq.count_answer(entry_id, at)

    rows = await faq.most_asked()

    assert [(r.entry_id, r.question, r.count) for r in rows] == [
        ("blog-link", "博客链接怎么复制？", 3),
        ("rule-deadline", "截止时间是什么时候？", 2),
        ("blog-image", "博文里怎么插入图片？", 1),
    ]
    assert rows[1].last_at == now
    assert [r.entry_id for r in await faq.most_asked(limit=1)] == ["blog-link"]


async def test_the_last_answer_time_is_the_latest_count(faq: FaqService, now: datetime) -> None:
    later = now + timedelta(days=1)
    await faq.count_answer("blog-link", now)
    await faq.count_answer("blog-link", later)

    [row] = await faq.most_asked()

    assert (row.count, row.last_at) == (2, later)


async def test_answers_counted_at_the_same_moment_are_all_counted(
    faq: FaqService, sessions: Sessions, faq_contest: Contest, now: datetime
) -> None:
    """Two bot processes answering at once (two services, one database) lose no count."""
    other = await _fresh(sessions, faq_contest)

    await asyncio.gather(*(service.count_answer("blog-link", now) for service in (faq, other) * 10))

    [row] = await faq.most_asked()
    assert row.count == 20


async def test_counts_survive_a_restart_and_outlive_a_deleted_entry(
    faq: FaqService, sessions: Sessions, faq_contest: Contest, now: datetime
) -> None:
    await faq.count_answer("blog-image", now)
    await faq.delete("blog-image", actor=ORGANIZER, now=now)

    [row] = await (await _fresh(sessions, faq_contest)).most_asked()

    assert (row.entry_id, row.question, row.count) == ("blog-image", None, 1)


async def test_nothing_answered_yet_lists_nothing(faq: FaqService) -> None:
    assert await faq.most_asked() == []


# --- asking -----------------------------------------------------------------------------------


async def test_passive_mode_answers_only_clear_questions(faq: FaqService) -> None:
    assert faq.ask("博客怎么加图片", passive=True).decision.kind == "answer"
    assert faq.ask("我刚加了图片", passive=True).decision.kind == "none"
    assert faq.ask("收到", passive=True).decision.kind == "none"


async def test_an_answer_for_another_platform_is_not_given_with_confidence(
    faq: FaqService,
) -> None:
    """The blog-image steps are wrong for 抖音: explicitly listed, passively left alone."""
    assert faq.ask("博文里怎么插入图片？", passive=False).decision.kind == "answer"
    assert faq.ask("抖音里怎么插入图片？", passive=False).decision.kind == "suggest"
    assert faq.ask("抖音里怎么插入图片？", passive=True).decision.kind == "none"


@pytest.mark.parametrize("elsewhere", ["QQ邮箱", "企业微信", "电子税务局", "医保"])
async def test_other_apps_and_systems_count_as_somewhere_else(
    faq: FaqService, elsewhere: str
) -> None:
    """QQ密码, 医保卡密码: the blog's steps are not for them."""
    assert faq.ask(f"{elsewhere}里怎么插入图片？", passive=False).decision.kind == "suggest"


@pytest.mark.parametrize(
    "text", ["[CQ:at,qq=all] 博文里怎么插入图片？", "QQ群里问：博文里怎么插入图片？"]
)
async def test_the_contests_own_qq_group_is_not_somewhere_else(faq: FaqService, text: str) -> None:
    """The contest lives in a QQ group, and a typed CQ code names qq: neither is another app."""
    assert faq.ask(text, passive=False).decision.kind == "answer"
    assert faq.ask(text, passive=True).decision.kind == "answer"


async def test_a_huge_question_is_ranked_without_error(faq: FaqService) -> None:
    asked = faq.ask("图片" * 5_000, passive=False)
    assert asked.decision.kind in ("answer", "suggest", "none")
    assert len(await faq.test("字" * 10_000)) <= 3


def test_question_key_ignores_width_case_spaces_and_punctuation() -> None:
    assert question_key("Ｂｌｏｇ 怎么发？！") == question_key("blog怎么发")
