from __future__ import annotations

import pytest

from bot.messages.commands import CommandCall, CommandTable, segments_after, split_args


def _table() -> CommandTable:
    table = CommandTable()
    table.add("帮助", ("帮助", "help"))
    table.add("单位", ("单位", "units"))
    table.add("我的单位", ("我的单位", "myunit"))
    return table


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("/帮助", CommandCall("帮助", "")),
        ("／帮助", CommandCall("帮助", "")),
        ("  /HELP  ", CommandCall("帮助", "")),
        ("/单位 列表", CommandCall("单位", "列表")),
        ("/单位\u3000绑定　南湖", CommandCall("单位", "绑定　南湖")),
        ("/单位列表", CommandCall("单位", "列表")),
        ("/我的单位", CommandCall("我的单位", "")),
        ("/ 帮助", CommandCall("帮助", "")),
    ],
)
def test_commands_are_recognised_leniently(text: str, call: CommandCall) -> None:
    assert _table().resolve(text) == call


@pytest.mark.parametrize("text", ["帮助", "/签到", "/", "", "请看 /帮助", "/helpme"])
def test_other_text_is_not_a_command(text: str) -> None:
    assert _table().resolve(text) is None


def test_a_near_miss_is_suggested_and_a_far_one_is_not() -> None:
    table = _table()
    assert table.suggest("/帮组") == "帮助"
    assert table.suggest("/签到打卡") is None


def test_two_commands_cannot_share_a_name() -> None:
    table = _table()
    with pytest.raises(ValueError, match="help"):
        table.add("其他", ("help",))


def test_arguments_split_on_any_kind_of_space() -> None:
    assert split_args(" 南湖街道\u3000 60\u00a0默认 ") == ["南湖街道", "60", "默认"]


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("/提交 张三 https://weibo.com/1/A", " 张三 https://weibo.com/1/A"),
        ("  ／ 提交张三 https://weibo.com/1/A", "张三 https://weibo.com/1/A"),
        ("/SUBMIT https://weibo.com/1/A", " https://weibo.com/1/A"),
    ],
)
def test_the_command_word_is_cut_from_the_segments(text: str, left: str) -> None:
    table = CommandTable()
    table.add("提交", ("提交", "submit"))
    call = table.resolve(text)
    assert call is not None
    segments = [{"type": "text", "data": {"text": text}}, {"type": "image", "data": {"file": "x"}}]
    assert segments_after(segments, call.head) == [
        {"type": "text", "data": {"text": left}},
        {"type": "image", "data": {"file": "x"}},
    ]


def test_cutting_spans_text_segments_and_keeps_others() -> None:
    segments = [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": "/提"}},
        {"type": "text", "data": {"text": "交 链接"}},
    ]
    assert segments_after(segments, 3) == [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": " 链接"}},
    ]
    assert segments[1]["data"]["text"] == "/提"  # the event's own message is left alone
