"""Long organizer lists as one merged-forward card (send_group_forward_msg), over the real
WebSocket: the shipped FAQ's `/faq 列表` is well over the 800-character threshold."""

from __future__ import annotations

from bot.demo.onebot import FakeOneBot, SentMessage

from .conftest import GROUP_ID, ORGANIZER_ID, AppStarter, ContestWriter

MEMBER = 30_001


async def _started(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=contest_config())
    await onebot.connect(app.ws_url)


def _lists(onebot: FakeOneBot) -> list[SentMessage]:
    return [m for m in onebot.sent(group_id=GROUP_ID) if not m.failed]


async def test_an_organizers_long_list_is_one_forward_card(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _started(start_app, contest_config, onebot)

    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/faq 列表")
    card = await onebot.wait_sent(group_id=GROUP_ID, timeout=10)
    await onebot.expect_silence(1.5, group_id=GROUP_ID)

    assert card.forward
    assert len(_lists(onebot)) == 1
    texts = card.node_texts
    assert "条问答（编号 问题）" in texts[0]
    assert sum(len(t) for t in texts) > 800
    assert all(len(t) <= 600 for t in texts)
    nodes = card.segments
    assert {n["data"]["uin"] for n in nodes} == {str(onebot.self_id)}
    assert all(s["type"] == "text" for n in nodes for s in n["data"]["content"])


async def test_an_organizers_list_in_private_chat_is_a_private_forward_card(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _started(start_app, contest_config, onebot)

    await onebot.post_private_message(ORGANIZER_ID, "/faq 列表")
    card = await onebot.wait_sent(user_id=ORGANIZER_ID, timeout=10)

    assert card.action == "send_private_forward_msg"


async def test_a_refused_forward_falls_back_to_plain_messages(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _started(start_app, contest_config, onebot)
    onebot.fail_next("send_group_forward_msg", retcode=1404, msg="API_NOT_FOUND", wording="")

    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/faq 列表")
    await onebot.wait_sent(
        group_id=GROUP_ID,
        predicate=lambda m: not m.forward and "条问答（编号 问题）" in m.text,
        timeout=10,
    )

    assert onebot.sent(group_id=GROUP_ID)[0].forward  # tried first


async def test_an_unanswered_forward_is_not_sent_again(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _started(start_app, contest_config, onebot)
    onebot.never_answer("send_group_forward_msg")

    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/faq 列表")
    await onebot.wait_sent(group_id=GROUP_ID, timeout=10)
    await onebot.expect_silence(4.0, group_id=GROUP_ID)

    assert len(onebot.sent(group_id=GROUP_ID)) == 1


async def test_members_answers_are_never_forward_cards(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _started(start_app, contest_config, onebot)

    await onebot.post_group_message(GROUP_ID, MEMBER, "/帮助")
    await onebot.post_group_message(GROUP_ID, MEMBER, "/排行")
    await onebot.post_group_message(GROUP_ID, MEMBER, "/进度")
    for _ in range(3):
        await onebot.wait_sent(group_id=GROUP_ID, timeout=10)

    assert not any(m.forward for m in onebot.sent(group_id=GROUP_ID))
