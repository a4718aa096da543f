"""常见问题: members ask (/问, @ the bot, or just ask in the group); organizers teach (/faq).

The knowledge base, the ranker and the rules for answering live in bot.faq; this plugin turns
messages into calls and results into replies. A plain group message reaches the FAQ only when
`_wants` (run on every chatter message, so it must stay cheap) sees a question or a number
answering candidates the bot offered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from loguru import logger
from nonebot import require
from nonebot.adapters.onebot.v11 import GroupMessageEvent, MessageEvent
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.faq.entry import FaqEntry
from bot.faq.reply import Answer, Cannot, Mode, Noted, Repeat, SlowDown, Suggest, Usage
from bot.faq.service import FaqService
from bot.messages.parts import Image, Mention, Part, Quote, Target, Text
from bot.runtime import Runtime, current
from bot.units.roles import Need
from plugins.router import OneBotTransport, Request, command, command_group, listen

__plugin_meta__ = PluginMetadata(
    name="常见问题",
    description="回答群里关于写博客、发微博和大赛规则的常见问题；组织者可在群里维护问答库",
    usage="/问 博客怎么插图片 | @机器人 提问 | /faq 列表",
)

# --- members ---------------------------------------------------------------------------------

ASK_USAGE = "请在 /问 后面写上您的问题，例如：/问 博客怎么插入图片"
MENTION_USAGE = "您好！请直接用文字写出问题，例如：@{nickname} 博客怎么插入图片"
TOO_LONG = "问题太长了，请用一两句话说明想问什么。"
SUGGEST_HEAD = "您想问的是哪一个？回复序号即可："
SUGGEST_LINE = "{number}. {question}"
CANNOT = "抱歉，这个问题我还答不上来，已记下转给组织者。{contacts}"
ANSWER_HEAD = "您问的是：{question}\n"
REPEATED = "刚刚已回答过这个问题，请看引用的这条回复。"
REPEATED_NO_QUOTE = "刚刚已回答过这个问题，请往上翻看我的回复。"
SLOW_DOWN = "您问得有点快，请稍后再问。"
MEDIA_ONLY = "请用文字描述问题，例如：@{nickname} 博客怎么插入图片"
REPHRASE = "抱歉，请用文字重新描述一下您的问题，例如：/问 博客怎么插入图片"
NOTED = "抱歉答得不对，已记下您的问题，转给组织者补充。{contacts}"
NOT_READY = "问答库暂时不可用，请稍后再试或联系组织者。"

# --- organizers ------------------------------------------------------------------------------

LIST_HEAD = "共 {count} 条问答（编号 问题）："
LIST_LINE = "{id} {question}{mark}"
CHAT_MARK = "（群里改过）"
UNREVIEWED_MARK = "（步骤待核对）"
SHOW = "【{id}】{question}\n其他问法：{phrasings}\n答案：\n{answer}"
SHOW_SOURCE_CHAT = "\n（在群里添加或修改过，/faq 撤销 可恢复）"
SHOW_USAGE = "请写明编号"
NOT_FOUND = "没有编号为“{id}”的问答；发送 /faq 列表 可查看全部编号。"
ADD_USAGE = (
    "请按格式写：/faq 添加 编号 问题 | 答案\n"
    "例如：/faq 添加 party-fee 党费怎么交 | 请联系本单位党务干事。"
)
EDIT_USAGE = (
    "请按格式写：/faq 修改 编号 新问题 | 新答案（不改的一边留空，如：/faq 修改 blog-link | 新答案）"
)
ADDED = "已添加问答“{id}”：{question}"
EDITED = "已修改问答“{id}”：{question}"
DELETED = "已删除问答“{id}”：{question}（/faq 撤销 可恢复）"
DELETE_USAGE = "请写明要删除的编号"
UNANSWERED_EMPTY = "暂无未解决的问题。"
UNANSWERED_HEAD = "未解决的问题（问得多的在前；用 /faq 学习 编号 条目编号 教给机器人）："
UNANSWERED_LINE = "{id}. {text}（{count}次，最近 {last}）{mark}"
UNANSWERED_MARKS = {"suggested": "【给了候选未选】", "wrong": "【答错：{entry}】"}
# Under a line whose question has alike ones (学习 teaches them together).
UNANSWERED_ALIKE = "\n  另有 {n} 种相近问法，如：{texts}"
LEARN_USAGE = "请写明未解决问题的编号和条目编号"
LEARNED = "学会了：以后问“{text}”会回答“{id}”（{question}）。"
LEARNED_MANY = "学会了：以后问“{text}”等 {n} 种问法会回答“{id}”（{question}）。"
RELOADED = "已重新读取问答库，共 {count} 条。"
RELOAD_PROBLEMS = "有 {count} 处问题（有问题的条目未启用）："
UNDONE = "已撤销 {who} 在 {when} 的{action}（{id}）。"
NOTHING_TO_UNDO = "没有可以撤销的修改。"
TEST_USAGE = "请写上要测试的问题"
TEST_HEAD = "匹配结果（前三名，分数 0~1）："
TEST_NONE = "无匹配"
# Under each `<id> <score>` line (tools read those lines; they stay as they are).
TEST_HIT = "  ↳ 命中：{words}"
TEST_MEANING = "无相同词语（按意思相近）"
ACTIONS = {"add": "添加", "edit": "修改", "delete": "删除", "learn": "学习"}

SHOWN_PROBLEMS = 5
UNANSWERED_SHOWN = 10
_CARDS = frozenset({"json", "xml", "share"})
_MEDIA = frozenset({"record", "image", "video", "face", "mface"})


# How much of a quoted message is read as the question (a long post quoted whole says little).
QUOTED_MAX = 200


def _at_bot(event: MessageEvent) -> bool:
    """Whether the member @-ed the bot (or called it by name), not merely quoted its message."""
    if not event.to_me:
        return False
    if event.reply is None:
        return True
    self_id = str(event.self_id)
    return any(s.type == "at" and str(s.data.get("qq")) == self_id for s in event.original_message)


def _wants(event: MessageEvent, runtime: Runtime) -> Mode | None:
    """Cheap, runs on every non-command message: is this for the FAQ, and in which mode?"""
    faq = runtime.faq
    if faq is None:
        return None
    return faq.claim(
        event.get_plaintext(),
        group_id=event.group_id if isinstance(event, GroupMessageEvent) else None,
        user_id=event.user_id,
        at_bot=_at_bot(event),
        has_card=any(s.type in _CARDS for s in event.original_message),
        has_media=any(s.type in _MEDIA for s in event.original_message),
        reply_to_bot=_reply_to_bot(event),
        now=runtime.clock(),
    )


def _reply_to_bot(event: MessageEvent) -> int | None:
    """The id of the bot's message this one quotes, if it quotes one."""
    reply = event.reply
    if reply is None or str(reply.sender.user_id) != str(event.self_id):
        return None
    return reply.message_id


# --- answering --------------------------------------------------------------------------------


def _images(entry: FaqEntry) -> list[Part]:
    parts: list[Part] = []
    for path in entry.images:
        try:
            parts.append(Image(data=path.read_bytes()))
        except (OSError, ValueError) as error:
            logger.warning("FAQ: image {} of {} not sent: {}", path, entry.id, error)
    return parts


def _quoted_question(event: MessageEvent) -> str:
    """The text of another member's message this one quotes ("@大赛助手" under somebody's
    question, or "/问" in reply to it); empty when it quotes nothing, or the bot itself."""
    reply = event.reply
    if reply is None or str(reply.sender.user_id) == str(event.self_id):
        return ""
    return reply.message.extract_plain_text().strip()[:QUOTED_MAX]


def _with_quote(request: Request, question: str, mode: Mode) -> str:
    """An explicit question (`/问`, @) asked under someone's message is asked about it: the
    quoted text first, then whatever the asker added ("这个怎么弄")."""
    if mode not in ("command", "mention"):
        return question
    quoted = _quoted_question(request.event)
    if not quoted:
        return question
    return f"{quoted}\n{question}" if question.strip() else quoted


async def _ask(request: Request, question: str, *, mode: Mode) -> None:
    """Ask the FAQ what to say, and say it."""
    faq = request.runtime.faq
    if faq is None:
        if mode != "passive":
            await request.reply(NOT_READY)
        return
    question = _with_quote(request, question, mode)
    group_id = request.group_id
    reply = await faq.respond(
        question,
        mode=mode,
        group_id=group_id,
        user_id=request.event.user_id,
        now=request.runtime.clock(),
        at_bot=_at_bot(request.event),
        reply_to_bot=_reply_to_bot(request.event),
    )
    if isinstance(reply, Answer):
        head = ANSWER_HEAD.format(question=reply.entry.question)
        delivery = await request.reply([Text(head + reply.entry.answer), *_images(reply.entry)])
        await faq.delivered(
            reply,
            group_id=group_id,
            sent=delivery.ok or bool(delivery.message_ids),
            message_id=delivery.message_ids[0] if delivery.message_ids else None,
            now=request.runtime.clock(),
        )
    elif isinstance(reply, Repeat):
        if reply.message_id is None or group_id is None:
            await request.reply(REPEATED_NO_QUOTE)
            return
        await request.runtime.outbox.send(
            OneBotTransport(request.bot),
            Target.group(group_id),
            [Quote(reply.message_id), Mention(request.event.user_id), Text(REPEATED)],
        )
    elif isinstance(reply, Suggest):
        lines = [SUGGEST_HEAD]
        lines += [
            SUGGEST_LINE.format(number=n, question=e.question)
            for n, e in enumerate(reply.entries, start=1)
        ]
        await request.reply("\n".join(lines))
    elif isinstance(reply, Cannot):
        await request.reply(CANNOT.format(contacts=reply.contacts))
    elif isinstance(reply, Noted):
        await request.reply(NOTED.format(contacts=reply.contacts))
    elif isinstance(reply, SlowDown):
        await request.reply(SLOW_DOWN)
    elif isinstance(reply, Usage):
        await request.reply(_usage(request, reply, mode))


def _usage(request: Request, usage: Usage, mode: Mode) -> str:
    if usage.why == "too_long":
        return TOO_LONG
    if usage.why == "media":
        return MEDIA_ONLY.format(nickname=request.runtime.contest.bot.nickname)
    if usage.why == "rephrase":
        return REPHRASE
    if mode == "command":
        return ASK_USAGE
    return MENTION_USAGE.format(nickname=request.runtime.contest.bot.nickname)


@command(
    "问",
    "ask",
    "提问",
    need=Need.MEMBER,
    summary="向机器人提问（也可以直接 @ 机器人或在群里问）",
    example="/问 博客怎么插入图片",
    order=5,
)
async def _ask_command(request: Request) -> None:
    await _ask(request, request.args, mode="command")


@listen(_wants)
async def _listen(request: Request) -> None:
    assert request.claim in ("choice", "mention", "passive", "wrong", "media")
    await _ask(request, request.args, mode=request.claim)  # type: ignore[arg-type]


# --- organizers: /faq -------------------------------------------------------------------------

FaqHandler = Callable[[Request, FaqService, str], Awaitable[None]]

faq_group = command_group(
    "faq",
    need=Need.ORGANIZER,
    summary="维护问答库：列表、添加、修改、删除、学习未解决问题、测试匹配",
    example="/faq 测试 博客链接怎么复制",
    order=85,
)


def _sub(*names: str, summary: str, example: str) -> Callable[[FaqHandler], FaqHandler]:
    """A /faq subcommand; the handler gets the FAQ service and the text after the word."""

    def register(handler: FaqHandler) -> FaqHandler:
        async def run(request: Request) -> None:
            faq = request.runtime.faq
            if faq is None:
                await request.reply(NOT_READY)
                return
            await handler(request, faq, request.args)

        faq_group.sub(*names, need=Need.ORGANIZER, summary=summary, example=example)(run)
        return handler

    return register


_HEAD = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


def _split_head(text: str) -> tuple[str, str]:
    """The first word and the rest, keeping the rest's line breaks (answers have steps)."""
    found = _HEAD.fullmatch(text)
    return (found.group(1), found.group(2).strip()) if found else ("", "")


def _split_pipe(text: str) -> tuple[str, str] | None:
    """`问题 | 答案` (ASCII or full-width bar); None without a bar."""
    for bar in ("|", "｜"):
        if bar in text:
            question, answer = text.split(bar, 1)
            return question.strip(), answer.strip()
    return None


def _who(user_id: int | None) -> str:
    """A person by name (the QQ number only when no name is known)."""
    return current().people.shown(user_id) if user_id else "系统"


@_sub("列表", "list", summary="查看全部问答的编号", example="/faq 列表")
async def _list(request: Request, faq: FaqService, _rest: str) -> None:
    entries = faq.list_entries()
    lines = [LIST_HEAD.format(count=len(entries))]
    lines += [LIST_LINE.format(id=e.id, question=e.question, mark=_mark(e)) for e in entries]
    await request.reply_list("\n".join(lines))


def _mark(entry: FaqEntry) -> str:
    mark = CHAT_MARK if entry.source == "chat" else ""
    return mark + ("" if entry.reviewed else UNREVIEWED_MARK)


@_sub("查看", "show", summary="查看一条问答", example="/faq 查看 blog-link")
async def _show(request: Request, faq: FaqService, rest: str) -> None:
    entry_id, _ = _split_head(rest)
    if not entry_id:
        await request.ask_for(SHOW_USAGE)
        return
    entry = faq.get(entry_id)
    if entry is None:
        await request.reply(NOT_FOUND.format(id=entry_id[:45]))
        return
    text = SHOW.format(
        id=entry.id,
        question=entry.question,
        phrasings="；".join(entry.phrasings) or "无",
        answer=entry.answer,
    )
    if entry.source == "chat":
        text += SHOW_SOURCE_CHAT
    await request.reply([Text(text), *_images(entry)])


@_sub("添加", "add", summary="添加问答", example="/faq 添加 编号 问题 | 答案")
async def _add(request: Request, faq: FaqService, rest: str) -> None:
    entry_id, body = _split_head(rest)
    parts = _split_pipe(body)
    if not entry_id or parts is None or not parts[0] or not parts[1]:
        await request.reply(ADD_USAGE)
        return
    entry = await faq.add(
        entry_id,
        parts[0],
        parts[1],
        actor=request.identity.user_id,
        now=request.runtime.clock(),
    )
    await request.reply(ADDED.format(id=entry.id, question=entry.question))


@_sub(
    "修改", "edit", summary="修改问答（不改的一边留空）", example="/faq 修改 编号 新问题 | 新答案"
)
async def _edit(request: Request, faq: FaqService, rest: str) -> None:
    entry_id, body = _split_head(rest)
    parts = _split_pipe(body)
    if not entry_id or parts is None:
        await request.reply(EDIT_USAGE)
        return
    entry = await faq.edit(
        entry_id,
        parts[0] or None,
        parts[1] or None,
        actor=request.identity.user_id,
        now=request.runtime.clock(),
    )
    await request.reply(EDITED.format(id=entry.id, question=entry.question))


@_sub("删除", "delete", summary="删除问答（可撤销）", example="/faq 删除 party-fee")
async def _delete(request: Request, faq: FaqService, rest: str) -> None:
    entry_id, _ = _split_head(rest)
    if not entry_id:
        await request.ask_for(DELETE_USAGE)
        return
    entry = await faq.delete(entry_id, actor=request.identity.user_id, now=request.runtime.clock())
    await request.reply(DELETED.format(id=entry.id, question=entry.question))


@_sub("未解决", "unanswered", summary="查看没答上的问题", example="/faq 未解决")
async def _unanswered(request: Request, faq: FaqService, _rest: str) -> None:
    rows = await faq.unanswered_groups(UNANSWERED_SHOWN, now=request.runtime.clock())
    if not rows:
        await request.reply(UNANSWERED_EMPTY)
        return
    contest = request.runtime.contest
    lines = [UNANSWERED_HEAD]
    lines += [
        UNANSWERED_LINE.format(
            id=r.id,
            text=r.text[:60],
            count=r.count,
            last=f"{contest.local(r.last_at):%m-%d %H:%M}",
            mark=UNANSWERED_MARKS.get(r.lead.kind, "").format(entry=r.lead.wrong_entry),
        )
        + (
            UNANSWERED_ALIKE.format(n=len(r.others), texts="；".join(t[:20] for t in r.others[:2]))
            if r.others
            else ""
        )
        for r in rows
    ]
    await request.reply_list("\n".join(lines))


@_sub("学习", "learn", summary="把没答上的问题教给机器人", example="/faq 学习 3 blog-link")
async def _learn(request: Request, faq: FaqService, rest: str) -> None:
    number, entry_id = _split_head(rest)
    number = number.lstrip("#＃")
    if not number.isascii() or not number.isdigit() or len(number) > 9 or not entry_id:
        await request.ask_for(LEARN_USAGE)
        return
    taught, entry = await faq.learn(
        int(number),
        entry_id.split()[0],
        actor=request.identity.user_id,
        now=request.runtime.clock(),
    )
    first = taught[0]
    if len(taught) == 1:
        reply = LEARNED.format(text=first.text[:60], id=entry.id, question=entry.question)
    else:
        reply = LEARNED_MANY.format(
            text=first.text[:60], n=len(taught), id=entry.id, question=entry.question
        )
    await request.reply(reply)


@_sub("重载", "reload", summary="重新读取 config/faq.yaml", example="/faq 重载")
async def _reload(request: Request, faq: FaqService, _rest: str) -> None:
    problems = await faq.reload()
    lines = [RELOADED.format(count=len(faq.list_entries()))]
    if problems:
        lines.append(RELOAD_PROBLEMS.format(count=len(problems)))
        lines += [f"{p.file} {p.key}：{p.message}" for p in problems[:SHOWN_PROBLEMS]]
    await request.reply("\n".join(lines))


@_sub("撤销", "undo", summary="撤销最近一次修改", example="/faq 撤销")
async def _undo(request: Request, faq: FaqService, _rest: str) -> None:
    undone = await faq.undo(actor=request.identity.user_id, now=request.runtime.clock())
    if undone is None:
        await request.reply(NOTHING_TO_UNDO)
        return
    when = f"{request.runtime.contest.local(undone.at):%m-%d %H:%M}"
    action = ACTIONS.get(undone.action, undone.action)
    await request.reply(
        UNDONE.format(who=_who(undone.actor), when=when, action=action, id=undone.entry_id)
    )


@_sub("测试", "test", summary="查看一个问题的匹配分数", example="/faq 测试 博客链接怎么复制")
async def _test(request: Request, faq: FaqService, rest: str) -> None:
    if not rest.strip():
        await request.ask_for(TEST_USAGE)
        return
    matches = await faq.test(rest)
    if not matches:
        await request.reply(TEST_NONE)
        return
    lines = [TEST_HEAD]
    for match in matches:
        words = faq.shared_words(rest, match.id)
        lines += [str(match), TEST_HIT.format(words="、".join(words) if words else TEST_MEANING)]
    await request.reply("\n".join(lines))
