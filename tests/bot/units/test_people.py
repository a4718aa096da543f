"""Names as the groups show them: cleaned, kept in memory, written only when they change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.storage.db import Sessions
from bot.units.people import NAME_MAX, People, Person, clean_person_name

NOW = datetime(2027, 6, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("张三", "张三"),
        ("  南湖街道  张三 ", "南湖街道 张三"),
        ("张\u202e三\u200b", "张三"),
        ("\x07\x1b", None),
        ("", None),
        (None, None),
        ("[CQ:at,qq=all]", "[CQ:at,qq=all]"),  # only ever shown as text
    ],
)
def test_names_are_cleaned(given: str | None, shown: str | None) -> None:
    assert clean_person_name(given) == shown


def test_a_long_name_is_capped() -> None:
    name = clean_person_name("长" * 1000)
    assert name is not None
    assert len(name) == NAME_MAX
    assert name.endswith("…")


async def test_the_card_wins_over_the_nickname_and_only_changes_are_written(
    sessions: Sessions, engine
) -> None:
    people = People(sessions)
    await people.load()
    writes: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        first = people.heard(10003, "张三", "zhangsan88")
        assert first is not None
        await first(NOW)
        assert people.heard(10003, "张三", "zhangsan88") is None  # unchanged: no write
        renamed = people.heard(10003, "", "老张")
        assert renamed is not None
        await renamed(NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert len(writes) == 2
    reloaded = People(sessions)
    await reloaded.load()
    assert reloaded.name(10003) == "老张"
    assert reloaded.shown(10003) == "老张"
    assert reloaded.labelled(10003) == "老张（10003）"
    assert reloaded.shown(20002) == "QQ 20002"
    assert reloaded.labelled(20002) == "20002"
    async with sessions() as session:
        assert len((await session.exec(select(Person))).all()) == 1


async def test_nothing_visible_keeps_the_name_heard_before(sessions: Sessions) -> None:
    people = People(sessions)
    save = people.heard(10003, "张三", None)
    assert save is not None
    await save(NOW)

    assert people.heard(10003, "\u200b", "") is None
    assert people.name(10003) == "张三"


async def test_a_judge_named_in_the_config_is_shown_by_that_name(sessions: Sessions) -> None:
    people = People(sessions, known={20001: "沈老师"})
    await people.load()
    save = people.heard(20001, "沈建国-区教育局", None)
    assert save is not None
    await save(NOW)

    assert people.shown(20001) == "沈老师"
    assert people.labelled(20001) == "沈老师（20001）"
    assert People(sessions).name(20001) is None  # the config name is not stored
    reloaded = People(sessions)
    await reloaded.load()
    assert reloaded.name(20001) == "沈建国-区教育局"  # what the group showed still is


def test_a_known_name_is_cleaned_like_any_other() -> None:
    people = People(known={20001: "沈\u202e老师", 20002: "\u200b"})
    assert people.shown(20001) == "沈老师"
    assert people.shown(20002) == "QQ 20002"
