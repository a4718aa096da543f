from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.faq.guard import FloodLimit, PendingChoices, RepeatGuard, parse_choice
from bot.settings.contest import FaqPolicy

T0 = datetime(2027, 6, 25, 9, 0, tzinfo=UTC)
GROUP, OTHER_GROUP = 111, 222
POLICY = FaqPolicy(repeat_minutes=5, followup_minutes=3, flood_per_minute=3)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# --- RepeatGuard ------------------------------------------------------------------------------


def test_an_answer_is_remembered_with_its_message_within_the_window() -> None:
    guard = RepeatGuard(POLICY)
    guard.answered(GROUP, "blog-link", T0, message_id=555)

    earlier = guard.earlier(GROUP, "blog-link", minutes(4.9))

    assert earlier is not None
    assert earlier.message_id == 555


def test_the_same_entry_may_be_answered_again_after_the_window() -> None:
    guard = RepeatGuard(POLICY)
    guard.answered(GROUP, "blog-link", T0, message_id=555)

    assert guard.earlier(GROUP, "blog-link", minutes(5)) is None


def test_the_repeat_window_is_per_group_and_per_entry() -> None:
    guard = RepeatGuard(POLICY)
    guard.answered(GROUP, "blog-link", T0, message_id=555)

    assert guard.earlier(OTHER_GROUP, "blog-link", minutes(1)) is None
    assert guard.earlier(GROUP, "blog-image", minutes(1)) is None


def test_a_failed_answer_is_forgotten() -> None:
    guard = RepeatGuard(POLICY)
    guard.answered(GROUP, "blog-link", T0)
    guard.forget(GROUP, "blog-link")

    assert guard.earlier(GROUP, "blog-link", minutes(1)) is None


# --- FloodLimit -------------------------------------------------------------------------------


def test_flood_limit_allows_the_configured_replies_per_minute() -> None:
    flood = FloodLimit(POLICY)

    allowed = [flood.allow(GROUP, T0 + timedelta(seconds=s)) for s in (0, 10, 20, 30)]

    assert allowed == [True, True, True, False]


def test_flood_limit_frees_a_slot_a_minute_after_a_reply() -> None:
    flood = FloodLimit(POLICY)
    for s in (0, 10, 20):
        flood.allow(GROUP, T0 + timedelta(seconds=s))

    assert not flood.allow(GROUP, T0 + timedelta(seconds=59))
    assert flood.allow(GROUP, T0 + timedelta(seconds=60))


def test_flood_limit_is_per_group() -> None:
    flood = FloodLimit(POLICY)
    for s in (0, 1, 2):
        flood.allow(GROUP, T0 + timedelta(seconds=s))

    assert flood.allow(OTHER_GROUP, T0 + timedelta(seconds=3))


def test_the_slow_down_notice_is_given_at_most_once_a_minute() -> None:
    flood = FloodLimit(POLICY)

    warned = [flood.warn(GROUP, T0 + timedelta(seconds=s)) for s in (0, 30, 59, 60)]

    assert warned == [True, False, False, True]


# --- PendingChoices ---------------------------------------------------------------------------


def test_a_number_reply_picks_the_offered_entry_once() -> None:
    pending = PendingChoices(POLICY)
    pending.offer(GROUP, 1, ("blog-link", "blog-image", "blog-edit"), T0)

    assert pending.take(GROUP, 1, "2", minutes(1)) == "blog-image"
    assert pending.take(GROUP, 1, "2", minutes(1)) is None


def test_the_offer_expires_after_the_followup_window() -> None:
    pending = PendingChoices(POLICY)
    pending.offer(GROUP, 1, ("blog-link", "blog-image"), T0)

    assert pending.waiting(GROUP, 1, minutes(2.9))
    assert not pending.waiting(GROUP, 1, minutes(3))
    assert pending.take(GROUP, 1, "1", minutes(3)) is None


def test_only_the_asker_can_choose() -> None:
    pending = PendingChoices(POLICY)
    pending.offer(GROUP, 1, ("blog-link", "blog-image"), T0)

    assert not pending.waiting(GROUP, 2, minutes(1))
    assert pending.take(GROUP, 2, "1", minutes(1)) is None
    assert pending.take(OTHER_GROUP, 1, "1", minutes(1)) is None
    assert pending.take(GROUP, 1, "1", minutes(1)) == "blog-link"


def test_a_number_beyond_the_offer_or_other_text_keeps_the_offer() -> None:
    pending = PendingChoices(POLICY)
    pending.offer(GROUP, 1, ("blog-link", "blog-image"), T0)

    assert pending.take(GROUP, 1, "3", minutes(1)) is None
    assert pending.take(GROUP, 1, "好的", minutes(1)) is None
    assert pending.take(GROUP, 1, "2", minutes(1)) == "blog-image"


def test_asking_something_else_drops_the_offer() -> None:
    pending = PendingChoices(POLICY)
    pending.offer(GROUP, 1, ("blog-link", "blog-image"), T0)
    pending.drop(GROUP, 1)

    assert pending.take(GROUP, 1, "1", minutes(1)) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        ("２", 2),
        (" 3 ", 3),
        ("第2个", 2),
        ("2号", 2),
        ("第二个", 2),
        ("选3", 3),
        ("1.", 1),
        ("３。", 3),
    ],
)
def test_number_replies_are_understood(text: str, number: int) -> None:
    assert parse_choice(text) == number


@pytest.mark.parametrize("text", ["", "0", "12", "好的", "1和2", "第2个问题怎么办", "2027年"])
def test_other_text_is_not_a_number_reply(text: str) -> None:
    assert parse_choice(text) is None
