"""/单位 and /我的单位: what organizers can change from chat, and what is refused unchanged."""

from __future__ import annotations

from functools import partial

import pytest
from nonebug import App

from bot.runtime import Runtime
from bot.units.directory import UnitView
from tests.fake import (
    JUDGE,
    MEMBER,
    ORGANIZER,
    SECRETARY,
    SELF_ID,
    expect_reply,
    text_message,
    with_mention,
)

USAGE = (
    "用法：\n"
    "/单位 列表 — 查看全部单位及配额\n"
    "/单位 绑定 南湖街道 @张三 — 绑定联络员（@ 他，或写 QQ 号）\n"
    "/单位 解绑 @张三 — 解除联络员的绑定\n"
    "/单位 添加 某某社区 镇、街道 [配额] — 添加单位（配额可省，省略时按类别）\n"
    "/单位 配额 南湖街道 60 — 修改配额（写“默认”恢复类别配额）"
)
NEED_UNIT_AND_MENTION = "请写明单位并 @ 联络员，例如：/单位 绑定 南湖街道 @张三"
BAD_NAME = "单位名称只能包含文字、数字和常用标点，不能含 [ ] & < > @ # / 等符号。"
BAD_QUOTA = "配额应为 0 到 100000 之间的整数，例如 50；写“默认”恢复类别配额。"
ORGANIZERS_ONLY = "抱歉，/单位 仅限组织者使用。"
NOT_A_SECRETARY = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"


_expect_reply = partial(expect_reply, user_id=ORGANIZER)


def _units(runtime: Runtime) -> list[UnitView]:
    return runtime.units.list_units()


def _unit(runtime: Runtime, name: str) -> UnitView:
    found = runtime.units.find(name).unit
    assert found is not None, name
    return found


# --- 列表 and usage ---------------------------------------------------------------------------


async def test_organizer_lists_units_by_category(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        "/单位 列表",
        "共 3 个单位：\n"
        "【镇、街道】\n"
        "南湖街道 配额50 联络员1人\n"
        "新嘉街道 配额50 联络员0人\n"
        "【部门、单位】\n"
        "区财政局 配额5 联络员0人",
    )


async def test_units_without_arguments_shows_usage(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/单位", USAGE)


async def test_unknown_sub_command_is_named_with_usage(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/单位 删除 南湖街道", "没有“删除”这个操作。\n" + USAGE)


async def test_a_mistyped_sub_command_gets_did_you_mean(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/单位 帮定 南湖街道", "没有“帮定”这个操作。您是不是要用 /单位 绑定？")


async def test_a_sub_command_glued_to_its_argument_is_understood(
    app: App, runtime: Runtime
) -> None:
    await _expect_reply(app, "/单位 配额南湖街道 60", "「南湖街道」的配额已改为 60。")


async def test_ten_thousand_character_sub_command_gets_a_short_reply(
    app: App, runtime: Runtime
) -> None:
    reply = "没有“" + "啊" * 10 + "”这个操作。\n" + USAGE
    await _expect_reply(app, "/单位 " + "啊" * 10_000, reply)
    assert len(reply) < 200


# --- 绑定 -------------------------------------------------------------------------------------


async def test_bind_by_alias_and_mention(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 绑定 南湖 ", MEMBER),
        f"已将 QQ {MEMBER} 绑定为「南湖街道」的联络员。",
    )
    bound = runtime.units.unit_of(MEMBER)
    assert bound is not None
    assert bound.name == "南湖街道"


async def test_bound_member_sees_their_unit(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 绑定 南湖 ", MEMBER),
        f"已将 QQ {MEMBER} 绑定为「南湖街道」的联络员。",
    )
    await _expect_reply(
        app,
        "/我的单位",
        # Named as the group shows them once they have spoken (the number until then).
        f"您是「南湖街道」的联络员（镇、街道，配额50）。本单位联络员：{SECRETARY}、用户{MEMBER}。",
        user_id=MEMBER,
    )


async def test_binding_moves_a_secretary_from_their_old_unit(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 绑定 新嘉街道 ", SECRETARY),
        f"已将 QQ {SECRETARY} 绑定为「新嘉街道」的联络员。（原属「南湖街道」）",
    )
    assert _unit(runtime, "新嘉街道").secretaries == (SECRETARY,)
    assert _unit(runtime, "南湖街道").secretaries == ()


async def test_bind_with_a_typed_qq_number(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        f"/单位 绑定 区财政局 {MEMBER}",
        f"已将 QQ {MEMBER} 绑定为「区财政局」的联络员。",
    )
    assert _unit(runtime, "区财政局").secretaries == (MEMBER,)


async def test_bind_without_a_unit_gets_a_hint(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, with_mention("/单位 绑定 ", MEMBER), NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before


async def test_bind_without_a_mention_gets_a_hint(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 绑定 南湖街道", NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before


@pytest.mark.parametrize("number", ["0", "2027", "²³⁴⁵⁶"])
async def test_a_typed_number_that_is_no_qq_id_is_not_bound(
    app: App, runtime: Runtime, number: str
) -> None:
    """QQ ids have 5 to 12 digits; "0" or a year is a typo, not a person to bind."""
    before = _units(runtime)
    await _expect_reply(app, f"/单位 绑定 南湖街道 {number}", NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before


async def test_bind_to_an_unknown_unit_offers_close_names(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(
        app,
        with_mention("/单位 绑定 南胡街道 ", MEMBER),
        "没有找到单位「南胡街道」，您是不是要找：南湖街道、新嘉街道？",
    )
    assert _units(runtime) == before
    assert runtime.units.unit_of(MEMBER) is None


async def test_bind_to_an_unrelated_name_says_how_to_see_the_units(
    app: App, runtime: Runtime
) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 绑定 火星基地 ", MEMBER),
        "没有找到单位「火星基地」，请核对单位全称。",
    )
    assert runtime.units.unit_of(MEMBER) is None


async def test_ambiguous_unit_name_asks_for_the_full_name(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(
        app,
        with_mention("/单位 绑定 街道 ", MEMBER),
        "「街道」对应多个单位：南湖街道、新嘉街道，请写全称。",
    )
    assert _units(runtime) == before
    assert runtime.units.unit_of(MEMBER) is None


async def test_mention_of_everyone_is_not_a_user_to_bind(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, with_mention("/单位 绑定 南湖 ", "all"), NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before


async def test_mention_of_everyone_next_to_a_member_binds_only_the_member(
    app: App, runtime: Runtime
) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 绑定 南湖 ", "all", MEMBER),
        f"已将 QQ {MEMBER} 绑定为「南湖街道」的联络员。",
    )
    assert _unit(runtime, "南湖街道").secretaries == (SECRETARY, MEMBER)


async def test_mention_of_the_bot_is_not_a_user_to_bind(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, with_mention("/单位 绑定 南湖 ", SELF_ID), NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before
    assert runtime.units.unit_of(SELF_ID) is None


async def test_the_bots_own_qq_number_typed_is_not_bound(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, f"/单位 绑定 南湖 {SELF_ID}", NEED_UNIT_AND_MENTION)
    assert _units(runtime) == before


# --- 解绑 -------------------------------------------------------------------------------------


async def test_unbind_a_secretary(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 解绑 ", SECRETARY),
        f"已解除 QQ {SECRETARY} 与「南湖街道」的绑定。",
    )
    assert runtime.units.unit_of(SECRETARY) is None
    assert _unit(runtime, "南湖街道").secretaries == ()


async def test_unbound_secretary_is_refused_my_unit(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app,
        with_mention("/单位 解绑 ", SECRETARY),
        f"已解除 QQ {SECRETARY} 与「南湖街道」的绑定。",
    )
    await _expect_reply(app, "/我的单位", NOT_A_SECRETARY, user_id=SECRETARY)


async def test_unbind_of_someone_not_bound_says_so(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, with_mention("/单位 解绑 ", MEMBER), f"QQ {MEMBER} 没有绑定任何单位。")
    assert _units(runtime) == before


async def test_unbind_without_a_mention_gets_a_hint(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 解绑", "请 @ 要解绑的联络员，例如：/单位 解绑 @张三")
    assert _units(runtime) == before


# --- 添加 -------------------------------------------------------------------------------------


async def test_add_a_unit_with_category_name_and_quota(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app, "/单位 添加 凤桥镇 镇、街道 30", "已添加单位「凤桥镇」（镇、街道，配额30）。"
    )
    added = _unit(runtime, "凤桥镇")
    assert (added.category, added.quota) == ("town", 30)


async def test_added_unit_without_quota_gets_the_category_quota(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app, "/单位 添加 区统计局 dept", "已添加单位「区统计局」（部门、单位，配额5）。"
    )
    assert _unit(runtime, "区统计局").quota == 5


async def test_add_of_an_existing_name_is_refused(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 添加 南湖街道 town", "单位「南湖街道」已存在。")
    assert _units(runtime) == before


async def test_add_of_another_units_alias_is_refused(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(
        app, "/单位 添加 财政局 dept", "「财政局」已是单位「区财政局」的别名，请换一个名称。"
    )
    assert _units(runtime) == before


async def test_add_with_an_unknown_category_lists_the_valid_ones(
    app: App, runtime: Runtime
) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 添加 凤桥镇 乡镇", "没有类别「乡镇」。可用的类别：town、dept")
    assert _units(runtime) == before


async def test_add_without_a_category_gets_a_hint(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(
        app, "/单位 添加 凤桥镇", "请写明名称和类别，例如：/单位 添加 某某社区 镇、街道 [配额]"
    )
    assert _units(runtime) == before


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("[CQ:at,qq=all]", BAD_NAME),
        ("［CQ:at,qq=all］", BAD_NAME),
        ("@全体成员", BAD_NAME),
        ("＠全体成员", BAD_NAME),
        ("凤桥\x07镇", BAD_NAME),
        ("凤桥\u202e镇", BAD_NAME),
        ("长" * 10_000, "单位名称不能超过 40 个字。"),
    ],
    ids=["cq-code", "full-width-cq-code", "at-all", "full-width-at-all", "bell", "rtl", "long"],
)
async def test_hostile_unit_names_are_refused(
    app: App, runtime: Runtime, name: str, reply: str
) -> None:
    before = _units(runtime)
    await _expect_reply(app, text_message(f"/单位 添加 {name} town"), reply)
    assert _units(runtime) == before


@pytest.mark.parametrize("quota", ["-1", "abc", "99999999", "100001", "²"])
async def test_add_with_a_bad_quota_is_refused(app: App, runtime: Runtime, quota: str) -> None:
    before = _units(runtime)
    await _expect_reply(app, f"/单位 添加 凤桥镇 town {quota}", BAD_QUOTA)
    assert _units(runtime) == before


# --- 配额 -------------------------------------------------------------------------------------


async def test_quota_override_then_back_to_the_default(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/单位 配额 南湖街道 60", "「南湖街道」的配额已改为 60。")
    assert _unit(runtime, "南湖街道").quota == 60
    await _expect_reply(app, "/单位 配额 南湖 默认", "「南湖街道」的配额已恢复为默认 50。")
    assert _unit(runtime, "南湖街道").quota == 50


async def test_quota_for_an_unknown_unit_is_refused(app: App, runtime: Runtime) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 配额 火星基地 10", "没有找到单位「火星基地」，请核对单位全称。")
    assert _units(runtime) == before


@pytest.mark.parametrize("quota", ["-1", "abc", "99999999"])
async def test_bad_quota_is_refused(app: App, runtime: Runtime, quota: str) -> None:
    before = _units(runtime)
    await _expect_reply(app, f"/单位 配额 南湖街道 {quota}", BAD_QUOTA)
    assert _units(runtime) == before


async def test_quota_without_a_number_gets_a_hint(app: App, runtime: Runtime) -> None:
    await _expect_reply(
        app, "/单位 配额 南湖街道", "请写明单位和配额，例如：/单位 配额 南湖街道 60"
    )


# --- who may use /单位 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_id", [MEMBER, SECRETARY, JUDGE], ids=["member", "secretary", "judge"]
)
async def test_only_organizers_may_change_units(app: App, runtime: Runtime, user_id: int) -> None:
    before = _units(runtime)
    await _expect_reply(app, "/单位 添加 凤桥镇 town", ORGANIZERS_ONLY, user_id=user_id)
    await _expect_reply(
        app, with_mention("/单位 绑定 新嘉街道 ", user_id), ORGANIZERS_ONLY, user_id=user_id
    )
    assert _units(runtime) == before
