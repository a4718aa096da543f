from __future__ import annotations

import asyncio
import base64
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest
from loguru import logger

from bot.messages.cq import clean_text, cq_escape, cq_unescape, parse_cq_string, to_cq_string
from bot.messages.outbox import Delivery, Outbox, SendFailed, TokenBucket
from bot.messages.parts import Image, Mention, Quote, Target, Text
from bot.messages.render import forward_nodes, render
from bot.settings.contest import MessagePolicy

GROUP = Target.group(123456789)
OTHER_GROUP = Target.group(987654321)
POLICY = MessagePolicy(burst=3, interval=1.5, max_length=1500, max_mentions=20)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


def at(user_id: int) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(user_id)}}


def texts(message: list[dict[str, Any]]) -> str:
    return "".join(s["data"]["text"] for s in message if s["type"] == "text")


# ---------------------------------------------------------------------------------------------
# Virtual time: sleeping tasks wake in deadline order while the test drives the clock.


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (self.now + seconds, next(self._order), future))
        await future

    async def run(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        """Run `coros` concurrently, jumping the clock to the next deadline when all wait."""
        tasks = [asyncio.ensure_future(c) for c in coros]
        while True:
            for _ in range(20):
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            assert self._waiting, "tasks are stuck without a pending sleep"
            deadline, _, future = heapq.heappop(self._waiting)
            self.now = max(self.now, deadline)
            future.set_result(None)


class FakeTransport:
    """Records what was sent, when; fails the sends whose numbers are in `fail_on` (1-based)."""

    def __init__(self, time: FakeTime, fail_on: set[int] | None = None) -> None:
        self.time = time
        self.fail_on = fail_on or set()
        self.calls: list[tuple[float, Target, list[dict[str, Any]]]] = []
        self.attempts = 0

    async def send(self, target: Target, message: list[dict[str, Any]]) -> int | None:
        self.attempts += 1
        await asyncio.sleep(0)  # a real transport yields to the loop while it waits
        if self.attempts in self.fail_on:
            raise SendFailed(100, "SEND_MSG_API_ERROR")
        self.calls.append((self.time.now, target, message))
        return 1000 + self.attempts

    def times(self, target: Target) -> list[float]:
        return [when for when, to, _ in self.calls if to == target]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_outbox(fake_time: FakeTime, policy: MessagePolicy = POLICY, **kwargs: Any) -> Outbox:
    return Outbox(policy, clock=fake_time.clock, sleep=fake_time.sleep, **kwargs)


# ---------------------------------------------------------------------------------------------
# Parts


def test_cq_code_text_stays_a_text_segment():
    assert render("[CQ:at,qq=all] [CQ:image,file=x]", POLICY) == [
        [text("[CQ:at,qq=all] [CQ:image,file=x]")]
    ]


def test_at_all_written_as_text_never_becomes_a_mention():
    messages = render([Text("@全体成员 "), Text("[CQ:at,qq=all]")], POLICY)
    assert messages == [[text("@全体成员 [CQ:at,qq=all]")]]
    assert all(s["type"] == "text" for m in messages for s in m)


@pytest.mark.parametrize("user_id", ["all", 0, -1, True, 10001.0, "10001"])
def test_mention_of_anything_but_a_positive_int_is_refused(user_id: Any):
    with pytest.raises(ValueError, match="positive QQ id"):
        Mention(user_id)


def test_mention_renders_as_at_segment_with_string_id():
    assert render([Mention(10001), Text(" 你好")], POLICY) == [[at(10001), text(" 你好")]]


def test_image_renders_as_base64_file():
    assert render([Image(b"\x89PNG")], POLICY) == [
        [{"type": "image", "data": {"file": "base64://" + base64.b64encode(b"\x89PNG").decode()}}]
    ]


def test_quote_goes_first_as_reply_segment():
    assert render([Text("收到"), Quote(42)], POLICY) == [
        [{"type": "reply", "data": {"id": "42"}}, text("收到")]
    ]


def test_adjacent_text_parts_merge():
    assert render([Text("a"), Text("b"), Mention(1), Text("c")], POLICY) == [
        [text("ab"), at(1), text("c")]
    ]


def test_plain_string_is_one_text():
    assert render("你好", POLICY) == render([Text("你好")], POLICY) == [[text("你好")]]


def test_empty_text_segments_are_dropped():
    assert render([Mention(1), Text(""), Mention(2)], POLICY) == [[at(1), at(2)]]


@pytest.mark.parametrize("parts", ["", [], [Text("")], [Text("\x00\u200b")], [Quote(1)], "\n \n"])
def test_nothing_to_say_gives_no_message(parts: Any):
    assert render(parts, POLICY) == []


def test_target_constructors():
    assert Target.group(5) == Target("group", 5)
    assert Target.private(5) == Target("private", 5)
    assert Target.group(5) != Target.private(5)


# ---------------------------------------------------------------------------------------------
# clean_text


def test_control_characters_are_stripped_but_newline_and_tab_kept():
    assert clean_text("a\x00b\x07c\x1bd\x7fe\x85f\tg\nh") == "abcdef\tg\nh"


def test_carriage_returns_become_newlines():
    assert clean_text("a\r\nb\rc\u2028d") == "a\nb\nc\nd"


def test_zero_width_and_bidi_override_characters_are_stripped():
    assert clean_text("南\u200b湖\u202e街\u2066道\ufeff\u200f") == "南湖街道"


def test_emoji_joiner_is_kept_and_lone_joiner_removed():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family
    assert clean_text("管\u200d理员") == "管理员"


def test_clean_text_leaves_cq_like_text_and_ordinary_text_alone():
    s = "[CQ:at,qq=all] @全体成员 &amp; 全角，标点！😀"
    assert clean_text(s) == s


def test_render_cleans_text():
    assert render("好\x00的\u202e", POLICY) == [[text("好的")]]


# ---------------------------------------------------------------------------------------------
# CQ strings


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("[CQ:at,qq=all]", "&#91;CQ:at,qq=all&#93;"),
        ("a & b", "a &amp; b"),
        ("&#91;", "&amp;#91;"),
        ("普通文本", "普通文本"),
    ],
)
def test_cq_escape_text(raw: str, escaped: str):
    assert cq_escape(raw) == escaped
    assert cq_unescape(escaped) == raw


def test_cq_escape_comma_only_for_params():
    assert cq_escape("a,b") == "a,b"
    assert cq_escape("a,[b]", escape_comma=True) == "a&#44;&#91;b&#93;"


def test_to_cq_string_renders_segments():
    message = [{"type": "reply", "data": {"id": "7"}}, at(10001), text(" 你好 [x]")]
    assert to_cq_string(message) == "[CQ:reply,id=7][CQ:at,qq=10001] 你好 &#91;x&#93;"


def test_user_text_never_becomes_a_cq_code_in_the_cq_string():
    message = [text("[CQ:at,qq=all]"), text("&#91;CQ:at,qq=all&#93;")]
    assert parse_cq_string(to_cq_string(message)) == [text("[CQ:at,qq=all]&#91;CQ:at,qq=all&#93;")]


@pytest.mark.parametrize(
    "message",
    [
        [text("plain")],
        [at(10001), text(" 请看 [规则], & 公告")],
        [{"type": "reply", "data": {"id": "-5"}}, text("ok")],
        [{"type": "image", "data": {"file": "a,b]&[c.png"}}],
        [text("x"), at(1), text("y"), at(2)],
    ],
)
def test_cq_string_round_trip(message: list[dict[str, Any]]):
    assert parse_cq_string(to_cq_string(message)) == message


# ---------------------------------------------------------------------------------------------
# Splitting


def test_long_text_splits_at_line_breaks_under_max_length():
    policy = MessagePolicy(max_length=50)
    lines = [f"第{i:02d}行" + "字" * 15 for i in range(20)]  # 20 lines of 19 characters
    messages = render("\n".join(lines), policy)
    assert len(messages) > 1
    for message in messages:
        assert len(texts(message)) <= 50
        assert all(line in lines for line in texts(message).split("\n"))
    assert "\n".join(texts(m) for m in messages) == "\n".join(lines)


def test_single_line_of_10000_characters_splits_at_character_boundaries():
    line = "".join(chr(0x4E00 + i % 500) for i in range(10_000))
    messages = render(line, POLICY)
    assert [len(texts(m)) for m in messages] == [1500] * 6 + [1000]
    assert "".join(texts(m) for m in messages) == line


def test_line_that_does_not_fit_starts_a_new_message_rather_than_being_cut():
    policy = MessagePolicy(max_length=10)
    messages = render([Mention(1), Text(" 123456789")], policy)
    assert messages == [[at(1), text(" 123456789")]]
    messages = render([Text("12345"), Mention(1), Text("1234567890")], policy)
    assert messages == [[text("12345"), at(1)], [text("1234567890")]]


def test_mentions_are_capped_per_message():
    policy = MessagePolicy(max_mentions=3)
    messages = render([Mention(i) for i in range(1, 8)], policy)
    assert [[s["data"]["qq"] for s in m] for m in messages] == [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7"],
    ]


def test_quote_stays_on_first_piece_only():
    policy = MessagePolicy(max_length=5)
    messages = render([Quote(9), Text("12345\n67890\nabc")], policy)
    assert messages == [
        [{"type": "reply", "data": {"id": "9"}}, text("12345")],
        [text("67890")],
        [text("abc")],
    ]


def test_two_quotes_are_refused():
    with pytest.raises(ValueError, match="quote"):
        render([Quote(1), Quote(2), Text("x")], POLICY)


# ---------------------------------------------------------------------------------------------
# Token bucket


def test_token_bucket_allows_a_burst_then_one_per_interval():
    bucket = TokenBucket(3, 1.5, clock=lambda: 0.0)
    for _ in range(3):
        assert bucket.delay(0.0) == 0
        bucket.take(0.0)
    assert bucket.delay(0.0) == pytest.approx(1.5)
    assert bucket.delay(1.0) == pytest.approx(0.5)
    assert bucket.delay(1.5) == 0
    bucket.take(1.5)
    assert bucket.delay(1.5) == pytest.approx(1.5)
    assert bucket.delay(100.0) == 0


# ---------------------------------------------------------------------------------------------
# Outbox


async def test_single_reply_goes_out_at_once(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    [delivery] = await fake_time.run(outbox.send(transport, GROUP, "你好"))
    assert delivery == Delivery(GROUP, ok=True, message_ids=[1001], sent=1)
    assert fake_time.sleeps == []
    assert transport.calls == [(0.0, GROUP, [text("你好")])]


async def test_burst_of_ten_is_spread_one_per_interval(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    await fake_time.run(*(outbox.send(transport, GROUP, f"消息{i}") for i in range(10)))
    assert transport.times(GROUP) == pytest.approx([0, 0, 0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5])
    assert fake_time.sleeps == pytest.approx([1.5] * 7)


async def test_pieces_of_one_long_message_are_paced_too(fake_time: FakeTime):
    outbox = make_outbox(fake_time, MessagePolicy(burst=2, interval=2.0, max_length=3))
    transport = FakeTransport(fake_time)
    [delivery] = await fake_time.run(outbox.send(transport, GROUP, "aaa\nbbb\nccc\nddd"))
    assert delivery.sent == 4
    assert [texts(m) for _, _, m in transport.calls] == ["aaa", "bbb", "ccc", "ddd"]
    assert transport.times(GROUP) == pytest.approx([0, 0, 2, 4])


async def test_pacing_recovers_after_a_quiet_spell(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    await fake_time.run(*(outbox.send(transport, GROUP, "x") for _ in range(3)))
    fake_time.now = 60.0
    await fake_time.run(outbox.send(transport, GROUP, "y"))
    assert transport.times(GROUP)[-1] == 60.0
    assert fake_time.sleeps == []


async def test_two_targets_do_not_wait_for_each_other(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    burst = [outbox.send(transport, GROUP, f"消息{i}") for i in range(10)]
    late = outbox.send(transport, OTHER_GROUP, "另一个群")
    await fake_time.run(*burst, late)
    assert transport.times(OTHER_GROUP) == [0.0]
    assert transport.times(GROUP)[-1] == pytest.approx(10.5)


async def test_concurrent_sends_to_one_target_do_not_interleave(fake_time: FakeTime):
    outbox = make_outbox(fake_time, MessagePolicy(burst=1, interval=1.0, max_length=2))
    transport = FakeTransport(fake_time)
    await fake_time.run(
        outbox.send(transport, GROUP, "A1\nA2\nA3"), outbox.send(transport, GROUP, "B1\nB2\nB3")
    )
    assert [texts(m) for _, _, m in transport.calls] == ["A1", "A2", "A3", "B1", "B2", "B3"]


async def test_failed_send_is_reported_and_rest_of_the_call_is_not_sent(fake_time: FakeTime):
    failures: list[tuple[Target, SendFailed]] = []

    async def on_failure(target: Target, error: SendFailed) -> None:
        failures.append((target, error))

    outbox = make_outbox(fake_time, MessagePolicy(max_length=3), on_failure=on_failure)
    transport = FakeTransport(fake_time, fail_on={2})
    [delivery] = await fake_time.run(outbox.send(transport, GROUP, "aaa\nbbb\nccc"))
    assert delivery.ok is False
    assert delivery.sent == 1
    assert delivery.message_ids == [1001]
    assert delivery.failed is not None
    assert (delivery.failed.retcode, delivery.failed.message) == (100, "SEND_MSG_API_ERROR")
    assert failures == [(GROUP, delivery.failed)]
    assert [texts(m) for _, _, m in transport.calls] == ["aaa"]
    assert (outbox.sent_total, outbox.failed_total) == (1, 1)


async def test_outbox_keeps_working_after_a_failure(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time, fail_on={1})
    [failed] = await fake_time.run(outbox.send(transport, GROUP, "第一条"))
    [delivered] = await fake_time.run(outbox.send(transport, GROUP, "第二条"))
    assert failed.ok is False
    assert delivered == Delivery(GROUP, ok=True, message_ids=[1002], sent=1)


async def test_failure_is_logged_with_a_short_preview(fake_time: FakeTime):
    records: list[str] = []
    sink = logger.add(lambda m: records.append(str(m)), level="WARNING", format="{message}")
    try:
        outbox = make_outbox(fake_time)
        transport = FakeTransport(fake_time, fail_on={1})
        await fake_time.run(outbox.send(transport, GROUP, "机密" * 500))
    finally:
        logger.remove(sink)
    [record] = records
    assert "retcode=100" in record
    assert "SEND_MSG_API_ERROR" in record
    assert "123456789" in record
    assert "机密" in record
    assert record.count("机密") < 60


async def test_failing_on_failure_handler_does_not_break_the_send(fake_time: FakeTime):
    async def broken(target: Target, error: SendFailed) -> None:
        raise RuntimeError("boom")

    outbox = make_outbox(fake_time, on_failure=broken)
    transport = FakeTransport(fake_time, fail_on={1})
    [delivery] = await fake_time.run(outbox.send(transport, GROUP, "x"))
    assert delivery.ok is False


async def test_empty_message_sends_nothing(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    [delivery] = await fake_time.run(outbox.send(transport, GROUP, "\u200b"))
    assert delivery == Delivery(GROUP, ok=True, message_ids=[], sent=0)
    assert transport.calls == []


async def test_update_policy_applies_new_pacing(fake_time: FakeTime):
    outbox = make_outbox(fake_time)
    transport = FakeTransport(fake_time)
    await fake_time.run(outbox.send(transport, GROUP, "warm up"))
    outbox.update_policy(MessagePolicy(burst=1, interval=5.0))
    await fake_time.run(*(outbox.send(transport, GROUP, "x") for _ in range(3)))
    assert transport.times(GROUP) == pytest.approx([0, 0, 5, 10])


async def test_counters_count_sent_messages(fake_time: FakeTime):
    outbox = make_outbox(fake_time, MessagePolicy(max_length=1))
    transport = FakeTransport(fake_time)
    await fake_time.run(outbox.send(transport, GROUP, "a\nb"), outbox.send(transport, GROUP, "c"))
    assert (outbox.sent_total, outbox.failed_total) == (3, 0)


# --- merged-forward nodes ------------------------------------------------------------------------


def test_forward_nodes_are_text_bubbles_of_whole_lines_sent_as_the_bot() -> None:
    lines = [f"第{n}社区 {n}/50" for n in range(200)]
    policy = MessagePolicy()

    nodes = forward_nodes("\n".join(lines), "大赛助手", 2_000_000_001, policy)

    assert len(nodes) > 1
    assert {n["type"] for n in nodes} == {"node"}
    assert {(n["data"]["name"], n["data"]["uin"]) for n in nodes} == {("大赛助手", "2000000001")}
    texts = [n["data"]["content"][0]["data"]["text"] for n in nodes]
    assert all(len(n["data"]["content"]) == 1 for n in nodes)
    assert all(len(t) <= 600 for t in texts)
    assert "\n".join(texts).split("\n") == lines  # nothing lost, no line cut in two


def test_forward_nodes_clean_control_characters_and_carry_no_cq_code() -> None:
    nodes = forward_nodes("名单\x07[CQ:at,qq=all]\u202e", "助手", 1, MessagePolicy())

    [node] = nodes
    [segment] = node["data"]["content"]
    assert segment["type"] == "text"
    assert "\x07" not in segment["data"]["text"]
