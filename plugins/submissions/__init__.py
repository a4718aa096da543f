"""/提交 /撤回 /改作者 /核验 /我的提交 /进度 /排行 /导出: the contest's bookkeeping in chat."""

from __future__ import annotations

import base64
import re
import unicodedata
from typing import Any

from loguru import logger
from nonebot import require
from nonebot.adapters.onebot.v11 import ActionFailed, GroupMessageEvent, NetworkError
from nonebot.exception import ApiNotAvailable
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.commands import split_args
from bot.messages.parts import Mention, Part, Target, Text
from bot.runtime import export_now
from bot.submissions.book import (
    Accepted,
    Duplicate,
    EntryError,
    EntryView,
    InvalidAuthor,
    Outcome,
    Progress,
    clean_author,
)
from bot.submissions.display import entry_label, short_link
from bot.submissions.links import Candidate, extract_candidates, normalize
from bot.submissions.states import Flag, flag_reason
from bot.submissions.submit import submit_links
from bot.submissions.verify.run import verify_entries
from bot.submissions.window import submission_window
from bot.units.roles import Need
from plugins.router import OneBotTransport, Request, command

__plugin_meta__ = PluginMetadata(
    name="作品报送",
    description="联络员在群里提交作品链接，查看进度、撤回、导出",
    usage="/提交 [作者] 链接 … | /撤回 编号 | /我的提交 | /进度 | /排行 | /导出",
)

SUBMIT_USAGE = (
    "没有找到链接。用法：/提交 [作者] 链接，可一次提交多个，例如：\n/提交 张三 https://weibo.com/…"
)
QUOTED_NO_LINK = (
    "引用的这条消息里没有链接。请引用含有作品链接的消息再发 /提交，或直接写：/提交 [作者] 链接"
)
NEED_UNIT = "请写明为哪个单位提交，例如：/提交 单位:南湖街道 链接"
OWN_UNIT_ONLY = "您只能为本单位（{unit}）提交；为其他单位提交请联系组织者。"
ACCEPTED = "#{receipt} 已登记{extra}"
RESTORED = "#{receipt} 已恢复（原编号）{extra}"
DUPLICATE = "重复：{url} 已由「{unit}」提交（#{receipt}）"
DUPLICATE_OWN = "重复：{url} 本单位已提交（#{receipt}）"
DUPLICATE_WITHDRAWN = "重复：{url} 曾由「{unit}」提交后撤回（#{receipt}），如需转交请联系组织者"
REFUSED = "未登记：{url} —— {reason}"
CAPPED = "一次最多处理 {limit} 个链接，其余 {dropped} 个未处理，请分开发送。"
LATE_MARK = "（逾期补交）"
UNREAD_AUTHOR = "（作者“{name}”无法识别，已按未署名登记；可用 /改作者 {receipt} 姓名 更正）"
UNREAD_SHOWN = 20
PROGRESS = "{unit} 已提交 {accepted}/{quota}"
PROGRESS_MARKS = "（含逾期 {late}，存疑 {flagged}）"
FOLLOWUP_HEAD = "以下作品已登记，但请留意："
WITHDRAW_USAGE = "请写明要撤回的编号或链接"
WITHDRAWN = "#{receipt} 已撤回。"
AUTHOR_USAGE = "请写明编号和作者姓名"
AUTHOR_SET = "#{receipt} 的作者已改为 {author}。"
VERIFY_USAGE = "请写明要核验的编号"
VERIFY_OFF = "核验功能未开启（config/contest.toml 的 [submission] verify）。"
MINE_EMPTY = "「{unit}」还没有提交作品。"
MINE_HEAD = "「{unit}」的作品（第 {page}/{pages} 页，共 {total} 篇）："
MINE_HEAD_WITHDRAWN = (
    "「{unit}」的作品（第 {page}/{pages} 页，共 {total} 篇，另有 {withdrawn} 篇已撤回）："
)
MINE_PAST_END = "共 {pages} 页，没有第 {asked} 页；下面是第 {last} 页。"
MINE_MORE = "发送 /我的提交 {next} 查看下一页。"
PROGRESS_OVERALL = (
    "全区共 {count} 个单位，已完成 {done} 个，还有 {behind} 个未完成；已登记作品 {accepted} 篇。"
    "查看某个单位请发送：/进度 单位名"
)
PROGRESS_TABLE_HEAD = "各单位进度（未完成的在前，共 {count} 个单位，完成 {done} 个）："
PROGRESS_TABLE_MORE = "……另有 {more} 个单位未列出，完整进度请用 /导出 查看。"
RANK_HEAD = "单位完成率排行："
RANK_AUTHORS = "作品最多的作者："
RANK_EMPTY = "还没有作品。"
EXPORT_DONE = "导出完成，文件已私聊发送给您。"
EXPORT_SENT_PRIVATE = "导出文件：{name}"
EXPORT_FAILED = "文件发送失败（{why}）。文件已保存在服务器：{path}"
NO_RECEIPT = "没有编号为 #{receipt} 的作品。"

_UNIT_PREFIX = re.compile(r"单位\s*[:：]\s*(\S+)")
_RECEIPT = re.compile(r"^[#＃]?(\d{1,9})$")
MINE_PER_PAGE = 10
PROGRESS_TABLE_LIMIT = 60


def _progress_line(progress: Progress) -> str:
    line = PROGRESS.format(unit=progress.unit, accepted=progress.accepted, quota=progress.quota)
    if progress.late or progress.flagged:
        line += PROGRESS_MARKS.format(late=progress.late, flagged=progress.flagged)
    return line


def _short(url: str, limit: int = 48) -> str:
    return short_link(url, limit)


def _usable_name(name: str | None) -> str | None:
    """A group card or nickname as an author, or None when it cannot be one ("南湖街道/张三",
    "[小王]"): a name the secretary did not type must not get the link refused."""
    if not name:
        return None
    try:
        return clean_author(name)
    except InvalidAuthor:
        return None


def _segments(message: Any) -> list[dict[str, Any]]:
    return [{"type": s.type, "data": dict(s.data)} for s in message]


def _without_unit_prefix(segments: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """Remove the organizer's `单位:名称` from the text so it is not read as an author."""
    unit: str | None = None
    cleaned: list[dict[str, Any]] = []
    for segment in segments:
        if segment["type"] == "text" and unit is None:
            text = str(segment["data"].get("text", ""))
            found = _UNIT_PREFIX.search(text)
            if found:
                unit = found[1]
                text = text[: found.start()] + " " + text[found.end() :]
            cleaned.append({"type": "text", "data": {"text": text}})
        else:
            cleaned.append(segment)
    return cleaned, unit


@command(
    "提交",
    "submit",
    need=Need.SECRETARY,
    summary="提交作品链接，可带作者、可一次多个",
    example="/提交 张三 https://weibo.com/…",
    order=30,
)
async def _submit(request: Request) -> None:
    runtime = request.runtime
    identity = request.identity
    segments, unit_name = _without_unit_prefix(request.segments)
    if unit_name is not None:
        unit = runtime.units.require(unit_name)
        if not identity.acts_for(unit.name):
            await request.reply(OWN_UNIT_ONLY.format(unit=identity.unit))
            return
    elif request.unit is not None:
        unit = request.unit
    else:
        await request.reply(NEED_UNIT)
        return

    now = runtime.clock()
    window = submission_window(runtime.contest, now, organizer=identity.organizer)
    if not window.open:
        await request.reply(window.reason or "现在不接受提交。")
        return

    candidates = extract_candidates(segments)
    reply = request.event.reply
    if not candidates and reply is not None:
        author = _usable_name(reply.sender.card) or _usable_name(reply.sender.nickname)
        candidates = [
            Candidate(c.given, c.author or author)
            for c in extract_candidates(_segments(reply.message))
        ]
    if not candidates:
        await request.reply(QUOTED_NO_LINK if reply is not None else SUBMIT_USAGE)
        return
    done = await submit_links(
        runtime.entries,
        runtime.contest,
        unit,
        candidates,
        by=identity.user_id,
        at=now,
        late=window.late,
        source_group=request.group_id,
        source_message_id=request.event.message_id,
    )
    # One line per link, in the order the links were written.
    lines = [
        _outcome_line(r.outcome, r.author, late=done.late, unread=r.unread_author)
        for r in done.results
    ]
    if done.dropped:
        limit = runtime.contest.submission.max_links
        lines.append(CAPPED.format(limit=limit, dropped=done.dropped))
    lines.append(_progress_line(done.progress))
    await request.reply("\n".join(lines))
    if done.accepted and runtime.verifier is not None:
        runtime.spawn(_verify_and_follow_up(request, done.accepted))


def _outcome_line(
    outcome: Outcome, author: str | None, *, late: bool, unread: str | None = None
) -> str:
    if isinstance(outcome, Accepted):
        extra = f"（{author}）" if author else ""
        if late:
            extra += LATE_MARK
        if unread:
            extra += UNREAD_AUTHOR.format(name=_shown_name(unread), receipt=outcome.receipt)
        template = RESTORED if outcome.restored else ACCEPTED
        return template.format(receipt=outcome.receipt, extra=extra)
    if isinstance(outcome, Duplicate):
        template = DUPLICATE
        if outcome.withdrawn:
            template = DUPLICATE_WITHDRAWN
        elif outcome.same_unit:
            template = DUPLICATE_OWN
        return template.format(
            url=_short(outcome.url), unit=outcome.unit_name, receipt=outcome.receipt
        )
    return REFUSED.format(url=_short(outcome.url), reason=outcome.reason)


def _shown_name(text: str) -> str:
    """A word the secretary typed, shown back: control characters as "?", cut short."""
    shown = "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return shown if len(shown) <= UNREAD_SHOWN else shown[:UNREAD_SHOWN] + "…"


async def _verify_and_follow_up(request: Request, receipts: list[int]) -> None:
    """Fetch the new entries' pages; tell the submitter once about anything worth a look."""
    runtime = request.runtime
    if runtime.verifier is None:
        return
    try:
        flagged = await verify_entries(
            runtime.entries, runtime.verifier, runtime.contest, receipts, runtime.clock
        )
    except Exception:
        logger.exception("verification failed")
        return
    if not flagged:
        return
    min_chars = request.runtime.contest.submission.min_chars
    lines = [FOLLOWUP_HEAD]
    for entry in flagged:
        reasons = [_reason(flag, entry, min_chars) for flag in entry.flags]
        lines.append(f"#{entry.receipt} {'；'.join(reasons)}")
    parts: list[Part] = [Text("\n".join(lines))]
    if request.group_id is not None:
        parts = [Mention(request.identity.user_id), Text(" "), *parts]
        target = Target.group(request.group_id)
    else:
        target = Target.private(request.identity.user_id)
    await request.runtime.outbox.send(OneBotTransport(request.bot), target, parts)


def _scope(request: Request) -> int | None:
    """The id of the unit whose entries this user may change (None: an organizer, any unit)."""
    if request.identity.unit_scope is None:
        return None
    unit = request.runtime.units.unit_of(request.identity.user_id)
    assert unit is not None, "the router lets only bound secretaries change entries"
    return unit.id


def _receipt_or_link(text: str) -> int | str | None:
    found = _RECEIPT.match(text.strip())
    if found:
        return int(found[1])
    try:
        return normalize(text.strip())
    except ValueError:
        return None


@command(
    "撤回",
    "withdraw",
    need=Need.SECRETARY,
    summary="撤回本单位的一篇作品",
    example="/撤回 17",
    order=31,
)
async def _withdraw(request: Request) -> None:
    words = split_args(request.args)
    ref = _receipt_or_link(words[0]) if len(words) == 1 else None
    if ref is None:
        await request.ask_for(WITHDRAW_USAGE)
        return
    runtime = request.runtime
    scope = _scope(request)
    try:
        done = await runtime.entries.withdraw(
            ref,
            actor=request.identity.user_id,
            unit_id=scope,
            now=runtime.clock(),
        )
    except EntryError as error:
        await request.reply(str(error))
        return
    await request.reply(
        "\n".join([WITHDRAWN.format(receipt=done.entry.receipt), _progress_line(done.progress)])
    )


@command(
    "改作者",
    "author",
    need=Need.SECRETARY,
    summary="更正作品的作者姓名",
    example="/改作者 17 张三",
    order=32,
)
async def _author(request: Request) -> None:
    words = split_args(request.args)
    found = _RECEIPT.match(words[0]) if len(words) == 2 else None
    if found is None:
        await request.ask_for(AUTHOR_USAGE)
        return
    runtime = request.runtime
    scope = _scope(request)
    try:
        entry = await runtime.entries.set_author(
            int(found[1]),
            words[1],
            actor=request.identity.user_id,
            unit_id=scope,
            now=runtime.clock(),
        )
    except EntryError as error:
        await request.reply(str(error))
        return
    await request.reply(AUTHOR_SET.format(receipt=entry.receipt, author=entry.author))


@command(
    "核验",
    "verify",
    need=Need.ORGANIZER,
    summary="重新核验一篇作品（能否打开、字数、日期）",
    example="/核验 17",
    order=85,
)
async def _reverify(request: Request) -> None:
    words = split_args(request.args)
    found = _RECEIPT.match(words[0]) if len(words) == 1 else None
    if found is None:
        await request.ask_for(VERIFY_USAGE)
        return
    runtime = request.runtime
    if runtime.verifier is None:
        await request.reply(VERIFY_OFF)
        return
    receipt = int(found[1])
    if await runtime.entries.get(receipt) is None:
        await request.reply(NO_RECEIPT.format(receipt=receipt))
        return
    await verify_entries(
        runtime.entries, runtime.verifier, runtime.contest, [receipt], runtime.clock
    )
    entry = await runtime.entries.get(receipt)
    if entry is not None:
        await request.reply(_describe(entry, runtime.contest.submission.min_chars))


@command(
    "我的提交",
    "mine",
    need=Need.SECRETARY,
    summary="查看本单位已提交的作品",
    example="/我的提交",
    order=33,
)
async def _mine(request: Request) -> None:
    runtime = request.runtime
    unit = runtime.units.unit_of(request.identity.user_id)
    if unit is None:
        await request.reply(NEED_UNIT)
        return
    words = split_args(request.args)
    page = int(words[0]) if words and words[0].isdecimal() and len(words[0]) < 5 else 1
    entries, total = await runtime.entries.entries_of(unit.id, page=page, per_page=MINE_PER_PAGE)
    if total == 0:
        await request.reply(MINE_EMPTY.format(unit=unit.name))
        return
    pages = max(1, -(-total // MINE_PER_PAGE))
    lines = []
    if page > pages:  # past the end: say so, and show the last page rather than an empty one
        lines.append(MINE_PAST_END.format(pages=pages, asked=words[0], last=pages))
        page = pages
        entries, total = await runtime.entries.entries_of(
            unit.id, page=page, per_page=MINE_PER_PAGE
        )
    page = max(page, 1)
    # The same count as /进度: withdrawn entries are listed (marked) but said apart.
    counted = (await runtime.entries.progress(unit)).accepted
    withdrawn = total - counted
    head = MINE_HEAD_WITHDRAWN if withdrawn > 0 else MINE_HEAD
    lines.append(
        head.format(unit=unit.name, page=page, pages=pages, total=counted, withdrawn=withdrawn)
    )
    lines += [_line(entry) for entry in entries]
    if page < pages:
        lines.append(MINE_MORE.format(next=page + 1))
    await request.reply("\n".join(lines))


@command(
    "进度",
    "progress",
    need=Need.MEMBER,
    summary="查看单位进度（组织者不写单位时看全部）",
    example="/进度 南湖街道",
    order=10,
)
async def _progress(request: Request) -> None:
    runtime = request.runtime
    name = request.args.strip()
    if name:
        unit = runtime.units.require(name)
        await request.reply(_progress_line(await runtime.entries.progress(unit)))
        return
    own = runtime.units.unit_of(request.identity.user_id)
    if own is not None and not request.identity.organizer:
        await request.reply(_progress_line(await runtime.entries.progress(own)))
        return
    table = await runtime.entries.progress_all()
    done = sum(1 for p in table if not p.behind)
    if not request.identity.organizer:
        # A member gets the overall picture, naming nobody (and @-ing nobody).
        await request.reply(
            PROGRESS_OVERALL.format(
                count=len(table),
                done=done,
                behind=len(table) - done,
                accepted=sum(p.accepted for p in table),
            )
        )
        return
    head = PROGRESS_TABLE_HEAD.format(count=len(table), done=done)
    rows = [f"{p.unit} {p.accepted}/{p.quota}" for p in table]
    # Every unit in one merged-forward card; where OneBot cannot send one, a busy group gets
    # one message, not pages of it: the units furthest behind, then a pointer.
    short = [head, *rows[:PROGRESS_TABLE_LIMIT]]
    if len(table) > PROGRESS_TABLE_LIMIT:
        short.append(PROGRESS_TABLE_MORE.format(more=len(table) - PROGRESS_TABLE_LIMIT))
    await request.reply_list("\n".join([head, *rows]), fallback="\n".join(short))


@command(
    "排行",
    "rank",
    need=Need.MEMBER,
    summary="单位完成率与作者作品数排行",
    example="/排行",
    order=11,
)
async def _rank(request: Request) -> None:
    ranking = await request.runtime.entries.rank(top_authors=10)
    units, authors = ranking.units, ranking.authors
    if not authors and all(p.accepted == 0 for p in units):
        await request.reply(RANK_EMPTY)
        return
    lines = [RANK_HEAD]
    lines += [
        f"{i}. {p.unit} {p.accepted}/{p.quota}（{p.completion:.0%}）"
        for i, p in enumerate(units[:10], start=1)
    ]
    if authors:
        lines.append(RANK_AUTHORS)
        lines += [
            f"{i}. {a.author}（{a.unit}）{a.count} 篇" for i, a in enumerate(authors, start=1)
        ]
    await request.reply("\n".join(lines))


@command(
    "导出",
    "export",
    need=Need.ORGANIZER,
    summary="导出全部作品（Excel 与 CSV，私聊发送）",
    example="/导出",
    order=86,
)
async def _export(request: Request) -> None:
    files = await export_now(request.runtime)
    user_id = request.identity.user_id
    failures: list[str] = []
    for path in (files.xlsx, files.csv):
        try:
            await request.bot.call_api(
                "upload_private_file",
                user_id=user_id,
                file="base64://" + base64.b64encode(path.read_bytes()).decode(),
                name=path.name,
            )
        except (ActionFailed, NetworkError, ApiNotAvailable) as error:
            why = (
                getattr(error, "info", {}).get("wording")
                if isinstance(error, ActionFailed)
                else None
            )
            failures.append(EXPORT_FAILED.format(why=why or "QQ 端不支持发送文件", path=path))
    if failures:
        await request.reply("\n".join(failures))
    elif isinstance(request.event, GroupMessageEvent):
        await request.reply(EXPORT_DONE)
    else:
        await request.reply(EXPORT_SENT_PRIVATE.format(name=files.xlsx.name))


def _line(entry: EntryView) -> str:
    """One entry in /我的提交: receipt, author, platform, marks."""
    marks = []
    if entry.withdrawn:
        marks.append("已撤回")
    if entry.late:
        marks.append("逾期")
    if entry.flags:
        marks.append("存疑")
    author = entry.author or "未署名"
    tail = f"【{'、'.join(marks)}】" if marks else ""
    shown = entry_label(entry.title, entry.given_url or entry.url, 36)
    return f"#{entry.receipt} {author} {entry.platform_name} {shown}{tail}"


def _describe(entry: EntryView, min_chars: int) -> str:
    """The verification result of one entry, for /核验."""
    lines = [f"#{entry.receipt} {entry.verify_status.label}"]
    if entry.title:
        lines.append(f"标题：{entry.title[:40]}")
    if entry.text_length is not None:
        lines.append(f"正文约 {entry.text_length} 字")
    if entry.published_on is not None:
        lines.append(f"发布日期：{entry.published_on:%Y-%m-%d}")
    lines += ["存疑：" + _reason(flag, entry, min_chars) for flag in entry.flags]
    return "\n".join(lines)


def _reason(flag: Flag, entry: EntryView, min_chars: int) -> str:
    return flag_reason(
        flag, text_length=entry.text_length, min_chars=min_chars, published_on=entry.published_on
    )
