from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.names import name_key
from bot.settings.contest import Contest, UnitSpec
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions
from bot.units.directory import (
    InvalidQuota,
    UnitDirectory,
    UnitExists,
    UnitNotFound,
    UnknownCategory,
)
from bot.units.models import Secretary, Unit

ORGANIZER = 10000


async def _synced(sessions: Sessions, contest: Contest, now: datetime) -> UnitDirectory:
    directory = await UnitDirectory.load(sessions, contest)
    await directory.sync_from_config(contest, now)
    return directory


async def _changes(sessions: Sessions) -> list[ChangeLog]:
    async with sessions() as session:
        return list((await session.exec(select(ChangeLog).order_by(col(ChangeLog.id)))).all())


async def _unit_rows(sessions: Sessions) -> list[Unit]:
    async with sessions() as session:
        return list((await session.exec(select(Unit))).all())


# ------------------------------------------------------------------ config sync and reload


async def test_config_units_are_stored_with_their_secretaries(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    assert [u.name for u in directory.list_units()] == ["南湖街道", "新兴街道", "区教文体局"]
    nanhu = directory.find("南湖街道").unit
    assert nanhu is not None
    assert (nanhu.category, nanhu.aliases, nanhu.origin) == ("town", ("南湖",), "config")
    assert directory.unit_of(10001) == nanhu
    assert directory.secretaries_of("南湖街道") == [10001]


async def test_units_persist_across_a_restart(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    first = await _synced(sessions, contest, now)
    await first.add("嘉兴科技城", "town", None, ORGANIZER, now)
    await first.bind(20001, "嘉兴科技城", ORGANIZER, now)

    restarted = await _synced(sessions, contest, now + timedelta(days=1))

    unit = restarted.unit_of(20001)
    assert unit is not None
    assert (unit.name, unit.origin) == ("嘉兴科技城", "chat")
    assert restarted.list_units() == first.list_units()


async def test_second_sync_of_the_same_config_changes_nothing(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    logged = len(await _changes(sessions))

    result = await directory.sync_from_config(contest, now + timedelta(hours=1))

    assert not result.changed
    assert len(await _changes(sessions)) == logged


async def test_chat_added_unit_survives_a_config_sync(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.add("凤桥镇", "town", 40, ORGANIZER, now)

    await directory.sync_from_config(contest, now + timedelta(hours=1))

    unit = directory.find("凤桥镇").unit
    assert unit is not None
    assert unit.quota == 40


async def test_unit_removed_from_config_is_kept(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    smaller = replace(contest, units=contest.units[1:])

    result = await directory.sync_from_config(smaller, now + timedelta(hours=1))

    assert result.orphaned == ("南湖街道",)
    assert directory.find("南湖街道").unit is not None
    assert directory.unit_of(10001) is None, "its config binding went with the config entry"


async def test_config_unit_changes_are_applied(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    changed = replace(
        contest,
        units=(
            UnitSpec(name="南湖街道", category="town", secretaries=(10003,), aliases=("南湖区",)),
            *contest.units[1:],
        ),
    )

    result = await directory.sync_from_config(changed, now + timedelta(hours=1))

    assert result.updated == ("南湖街道",)
    assert directory.unit_of(10001) is None
    nanhu = directory.unit_of(10003)
    assert nanhu is not None
    assert nanhu.aliases == ("南湖区",)


async def test_chat_unbind_is_not_undone_by_a_restart(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.unbind(10001, ORGANIZER, now)

    restarted = await _synced(sessions, contest, now + timedelta(days=1))

    assert restarted.unit_of(10001) is None


async def test_chat_binding_wins_over_config(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.bind(10001, "新兴街道", ORGANIZER, now)

    restarted = await _synced(sessions, contest, now + timedelta(days=1))

    unit = restarted.unit_of(10001)
    assert unit is not None
    assert unit.name == "新兴街道"


async def test_another_process_change_is_seen_after_reload(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    bot = await _synced(sessions, contest, now)
    cli = await UnitDirectory.load(sessions, contest)
    await cli.add("凤桥镇", "town", None, ORGANIZER, now)

    await bot.reload()

    assert bot.find("凤桥镇").unit is not None


# ------------------------------------------------------------------ quota


async def test_quota_comes_from_the_category_by_default(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    unit = directory.find("新兴街道").unit
    assert unit is not None
    assert (unit.quota, unit.quota_source) == (50, "category")


async def test_unit_quota_in_config_beats_the_category(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    unit = directory.find("区教文体局").unit
    assert unit is not None
    assert (unit.quota, unit.quota_source) == (50, "unit")


async def test_chat_quota_beats_config_and_survives_a_restart(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.set_quota("区教文体局", 30, ORGANIZER, now)

    restarted = await _synced(sessions, contest, now + timedelta(days=1))

    unit = restarted.find("区教文体局").unit
    assert unit is not None
    assert (unit.quota, unit.quota_source) == (30, "override")


async def test_clearing_the_chat_quota_returns_to_config(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.set_quota("新兴街道", 10, ORGANIZER, now)

    unit = await directory.set_quota("新兴街道", None, ORGANIZER, now)

    assert (unit.quota, unit.quota_source) == (50, "category")


async def test_category_quota_change_in_config_applies(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    town, dept = contest.categories
    raised = replace(contest, categories=(replace(town, quota=60), dept))

    await directory.sync_from_config(raised, now)

    unit = directory.find("新兴街道").unit
    assert unit is not None
    assert unit.quota == 60


async def test_negative_quota_is_refused(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    with pytest.raises(InvalidQuota, match="配额"):
        await directory.set_quota("新兴街道", -1, ORGANIZER, now)


# ------------------------------------------------------------------ lenient find


async def test_find_by_alias(sessions: Sessions, contest: Contest, now: datetime) -> None:
    directory = await _synced(sessions, contest, now)

    unit = directory.find("南湖").unit
    assert unit is not None
    assert unit.name == "南湖街道"


async def test_find_by_unique_prefix(sessions: Sessions, contest: Contest, now: datetime) -> None:
    directory = await _synced(sessions, contest, now)

    unit = directory.find("新兴").unit
    assert unit is not None
    assert unit.name == "新兴街道"


async def test_find_by_a_longer_name_containing_the_unit(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    unit = directory.find("新兴街道办事处").unit
    assert unit is not None
    assert unit.name == "新兴街道"


async def test_find_ignores_spaces_width_and_case(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await directory.add("JX科技城", "town", None, ORGANIZER, now)

    assert directory.find(" 南湖\u3000街道 ").unit == directory.find("南湖街道").unit
    unit = directory.find("ｊｘ科技城").unit
    assert unit is not None
    assert unit.name == "JX科技城"


async def test_ambiguous_name_gives_candidates_not_a_guess(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    match = directory.find("街道")

    assert match.unit is None
    assert sorted(match.candidates) == ["南湖街道", "新兴街道"]


async def test_unknown_name_gives_close_names(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    match = directory.find("北湖街道")

    assert match.unit is None
    assert match.candidates[0] == "南湖街道"


async def test_unrelated_name_gives_no_candidates(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    assert directory.find("火星基地") == directory.find("")
    assert directory.find("火星基地").candidates == []


async def test_single_character_does_not_match_by_substring(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    assert directory.find("湖").unit is None


# ------------------------------------------------------------------ add, bind, unbind


async def test_added_unit_is_listed_by_category_then_name(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    unit = await directory.add("区公安分局", "部门、单位", 50, ORGANIZER, now)

    assert (unit.category, unit.quota, unit.origin) == ("dept", 50, "chat")
    assert [u.category for u in directory.list_units()] == ["town", "town", "dept", "dept"]


async def test_adding_an_existing_name_is_refused(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    with pytest.raises(UnitExists, match="已存在"):
        await directory.add("南湖 街道", "town", None, ORGANIZER, now)
    assert len(await _unit_rows(sessions)) == 3


async def test_adding_a_name_that_is_another_units_alias_is_refused(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    with pytest.raises(UnitExists, match="别名"):
        await directory.add("南湖", "town", None, ORGANIZER, now)


async def test_unknown_category_lists_the_valid_ones(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    with pytest.raises(UnknownCategory) as refused:
        await directory.add("凤桥镇", "village", None, ORGANIZER, now)

    assert refused.value.valid == ("town", "dept")
    assert "town" in str(refused.value)


async def test_concurrent_adds_of_one_name_make_one_unit(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    """Two bot processes (two directories) add the same unit at the same moment."""
    first = await _synced(sessions, contest, now)
    second = await UnitDirectory.load(sessions, contest)

    results = await asyncio.gather(
        first.add("凤桥镇", "town", None, ORGANIZER, now),
        second.add("凤桥镇", "town", None, 10009, now),
        return_exceptions=True,
    )

    assert sum(isinstance(r, UnitExists) for r in results) == 1
    rows = [u for u in await _unit_rows(sessions) if u.name == "凤桥镇"]
    assert len(rows) == 1


async def test_many_concurrent_adds_in_one_process_all_land(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    names = [f"测试单位{i}" for i in range(10)]

    await asyncio.gather(*(directory.add(n, "dept", None, ORGANIZER, now) for n in names))

    assert all(directory.find(n).unit is not None for n in names)
    assert len(await _unit_rows(sessions)) == 13


async def test_bind_moves_a_secretary_and_returns_the_old_unit(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    previous = await directory.bind(10001, "新兴", ORGANIZER, now)

    assert previous is not None
    assert previous.name == "南湖街道"
    assert directory.secretaries_of("南湖街道") == []
    assert directory.secretaries_of("新兴街道") == [10001, 10002]


async def test_bind_to_an_unknown_unit_offers_candidates(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    with pytest.raises(UnitNotFound) as refused:
        await directory.bind(20001, "北湖街道", ORGANIZER, now)

    assert "南湖街道" in refused.value.candidates
    assert directory.unit_of(20001) is None


async def test_unbind_returns_the_unit_and_forgets_the_secretary(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    previous = await directory.unbind(10002, ORGANIZER, now)

    assert previous is not None
    assert previous.name == "新兴街道"
    assert directory.unit_of(10002) is None
    assert await directory.unbind(10002, ORGANIZER, now) is None


async def test_changes_are_logged_with_actor_and_time(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    later = now + timedelta(minutes=5)

    await directory.bind(20001, "南湖", ORGANIZER, later)

    last = (await _changes(sessions))[-1]
    assert (last.action, last.actor, last.at) == ("unit.bind", ORGANIZER, later)
    assert last.detail == {"user_id": 20001, "unit": "南湖街道", "previous": None}


async def test_tombstone_is_stored_as_an_unbound_row(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    await directory.unbind(10001, ORGANIZER, now)

    async with sessions() as session:
        row = await session.get(Secretary, 10001)
    assert row is not None
    assert (row.unit_id, row.origin, row.updated_by) == (None, "chat", ORGANIZER)


async def test_naive_time_is_refused(sessions: Sessions, contest: Contest) -> None:
    directory = await UnitDirectory.load(sessions, contest)

    with pytest.raises(ValueError, match="timezone"):
        await directory.sync_from_config(contest, datetime(2027, 6, 20, 9, 30))


def test_name_key_folds_width_space_and_case() -> None:
    assert name_key("ＡＢＣ\u3000南湖 街道") == name_key("abc南湖街道")
