"""Which account serves a group, sends there and takes on an event — seen from two processes on
one database (two registries with different owners), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.accounts.registry import STALE, BotRegistry, event_key
from bot.accounts.relay import Relay
from bot.storage.db import Sessions

GROUP = 123_456_789
OTHER_GROUP = 987_654_321
A = 3_000_000_001
B = 3_000_000_002
C = 3_000_000_003


async def _pair(sessions: Sessions) -> tuple[BotRegistry, BotRegistry]:
    first, second = (
        BotRegistry(sessions, owner="host:1:aaaa"),
        BotRegistry(sessions, owner="host:2:bbbb"),
    )
    await first.load()
    await second.load()
    return first, second


async def test_one_account_alone_serves_and_pays_no_claim(
    sessions: Sessions, now: datetime
) -> None:
    first, _second = await _pair(sessions)
    await first.connected(A, "大赛助手", {GROUP: None}, now)

    assert first.serving(GROUP, now) == A
    assert not first.shared(GROUP, now)
    assert first.sender_for(GROUP, now) == A


async def test_the_account_seen_first_serves_in_every_process(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "大赛助手", {GROUP: None}, now)
    await second.connected(B, "大赛助手2", {GROUP: None}, now + timedelta(seconds=5))
    await first.load()

    assert first.serving(GROUP, now) == A
    assert second.serving(GROUP, now) == A
    assert first.shared(GROUP, now)
    assert second.shared(GROUP, now)
    # Each process sends with its own account; the second only because it has one there.
    assert first.sender_for(GROUP, now) == A
    assert second.sender_for(GROUP, now) == B


async def test_a_muted_account_hands_the_group_to_the_next(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None, OTHER_GROUP: None}, now)
    await second.connected(B, "乙", {GROUP: None}, now + timedelta(seconds=5))

    await first.mute(A, GROUP, now + timedelta(minutes=10), now)
    await second.load()

    assert second.serving(GROUP, now) == B
    assert second.serving(OTHER_GROUP, now) == A  # muted in one group only
    assert first.sender_for(GROUP, now) is None  # A cannot speak there; B's process sends
    assert not first.deliverable(GROUP, now)
    # The mute runs out: A serves again.
    later = now + timedelta(minutes=11)
    await first.beat(later)
    await second.load()
    assert second.serving(GROUP, later) == A

    await first.mute(A, GROUP, None, now)  # lifted early
    await second.load()
    assert second.serving(GROUP, now) == A


async def test_a_disconnected_account_is_replaced_at_once(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.connected(B, "乙", {GROUP: None}, now)
    await first.disconnected(A, now + timedelta(seconds=1))
    await second.load()

    assert second.serving(GROUP, now + timedelta(seconds=1)) == B
    assert first.serving(GROUP, now) == B
    assert first.sender_for(GROUP, now) is None
    assert first.deliverable(GROUP, now) is False


async def test_an_account_whose_process_died_is_replaced_when_its_heartbeat_is_stale(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.connected(B, "乙", {GROUP: None}, now + timedelta(seconds=1))
    await second.beat(now + timedelta(seconds=10))

    assert second.serving(GROUP, now + timedelta(seconds=10)) == A
    later = now + STALE + timedelta(seconds=1)
    await second.beat(later)  # B's process keeps beating; A's never does again
    assert second.serving(GROUP, later) == B


async def test_a_heartbeat_keeps_an_account_serving(sessions: Sessions, now: datetime) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.connected(B, "乙", {GROUP: None}, now + timedelta(seconds=1))
    for seconds in (10, 20, 30, 40, 50):
        await first.beat(now + timedelta(seconds=seconds))
    await second.load()

    assert second.serving(GROUP, now + timedelta(seconds=55)) == A


async def test_accounts_with_unknown_groups_come_after_known_members(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", None, now)  # get_group_list failed
    await second.connected(B, "乙", {GROUP: None}, now + timedelta(seconds=5))
    await first.load()

    assert first.serving(GROUP, now) == B
    assert first.serving(OTHER_GROUP, now) == A  # may be in it: the only one that might


async def test_a_group_nobody_is_in_is_deliverable_by_any_process(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.load()

    assert second.deliverable(OTHER_GROUP, now)  # claims, fails and retries, as with one bot
    assert not second.deliverable(GROUP, now)  # A's process sends there
    assert first.sender_for(OTHER_GROUP, now) == A  # nobody can: try with what we have


async def test_joining_and_leaving_a_group_change_who_serves(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.connected(B, "乙", {}, now + timedelta(seconds=1))

    await second.joined(B, OTHER_GROUP, now)
    await first.left(A, GROUP, now)
    await second.load()

    assert second.serving(OTHER_GROUP, now) == B
    assert second.serving(GROUP, now) is None


async def test_an_event_is_claimed_once_whatever_the_race(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    key = event_key("message", GROUP, 10_001, 1_781_000_000, "/提交 张三 https://weibo.com/1/Qq1")

    results = await asyncio.gather(
        *(registry.claim(key, self_id, now) for registry, self_id in [(first, A), (second, B)] * 4)
    )

    assert sum(results) == 1
    assert await first.claim(event_key("message", GROUP, 10_001, 1_781_000_000, "别的"), A, now)


async def test_every_accounts_copy_of_an_event_has_one_key() -> None:
    one = event_key("message", GROUP, 10_001, 1_781_000_000, "/问 博客怎么发图片|[]")
    assert one == event_key("message", GROUP, 10_001, 1_781_000_000, "/问 博客怎么发图片|[]")
    assert one != event_key("message", GROUP, 10_001, 1_781_000_001, "/问 博客怎么发图片|[]")
    assert one != event_key("notice", GROUP, 10_001, 1_781_000_000, "/问 博客怎么发图片|[]")


async def test_old_claims_are_forgotten(sessions: Sessions, now: datetime) -> None:
    first, _second = await _pair(sessions)
    await first.claim("old", A, now - timedelta(days=2))
    await first.claim("new", A, now)

    assert await first.forget_claims(now) == 1
    assert not await first.claim("new", B, now)
    assert await first.claim("old", B, now)


async def test_the_dashboard_view_names_state_groups_and_who_serves(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None, OTHER_GROUP: None, 555: None}, now)
    await second.connected(B, "乙", {GROUP: now + timedelta(hours=1)}, now + timedelta(seconds=1))
    await second.disconnected(B, now + timedelta(seconds=2))
    await first.load()

    views = {v.self_id: v for v in first.views(frozenset({GROUP, OTHER_GROUP}), now)}

    assert views[A].state == "connected"
    assert views[A].local
    assert [(g, serving) for g, _until, serving in views[A].groups] == [
        (GROUP, True),
        (OTHER_GROUP, True),
    ]  # 555 is not a contest group: not shown
    assert views[B].state == "gone"
    assert not views[B].local
    assert views[B].nickname == "乙"


async def test_a_relayed_message_is_taken_by_exactly_one_process(
    sessions: Sessions, now: datetime
) -> None:
    posted = await Relay(sessions, "host:1:aaaa").post(GROUP, "评奖结果已发布", now)
    takers = [Relay(sessions, f"host:{n}:cccc") for n in range(2, 6)]

    batches = await asyncio.gather(*(t.take(lambda group: group == GROUP) for t in takers))

    taken = [m for batch in batches for m in batch]
    assert [(m.id, m.text) for m in taken] == [(posted, "评奖结果已发布")]
    await takers[0].finish(posted, now)
    assert await takers[0].status(posted) == "sent"


async def test_a_relayed_message_waits_for_a_process_that_can_send_it(
    sessions: Sessions, now: datetime
) -> None:
    relay = Relay(sessions, "host:2:bbbb")
    posted = await relay.post(OTHER_GROUP, "通知", now)

    assert await relay.take(lambda group: group == GROUP) == []
    assert await relay.status(posted) == "pending"
    assert [m.id for m in await relay.take(lambda group: group == OTHER_GROUP)] == [posted]


async def test_a_third_process_learns_the_registry_from_the_database(
    sessions: Sessions, now: datetime
) -> None:
    first, second = await _pair(sessions)
    await first.connected(A, "甲", {GROUP: None}, now)
    await second.connected(C, "丙", {GROUP: None}, now - timedelta(days=1))  # seen long ago
    await second.beat(now)
    third = BotRegistry(sessions, owner="host:3:cccc")
    await third.load()

    assert third.serving(GROUP, now) == C
    assert third.candidates(GROUP, now) == [C, A]
    assert not third.deliverable(GROUP, now)
