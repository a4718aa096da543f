"""/评奖: organizers preview the results, publish a version (announced in the groups), and get
the award lists and certificates as files (bot/judging/results.py, outputs.py)."""

from __future__ import annotations

import base64
from functools import partial

from nonebot import require
from nonebot.adapters.onebot.v11 import ActionFailed, NetworkError
from nonebot.exception import ApiNotAvailable
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.judging.outputs import result_files
from bot.judging.results import ResultsBook, ResultSet, compute
from bot.runtime import Runtime, announce_results
from bot.units.roles import Need
from plugins.router import Request, command_group, deliver

__plugin_meta__ = PluginMetadata(
    name="评奖",
    description="预览评审结果、发布获奖名单（群内公告）、导出获奖名单和证书",
    usage="/评奖 预览 | 发布 [备注] | 导出",
)

NOTHING_JUDGED = "还没有任何作品完成评分，暂不能发布。"
PUBLISHED = "已发布评审结果第 {version} 版，并在群里公告。导出获奖名单和证书请发送 /评奖 导出。"
NOT_PUBLISHED = "还没有发布评审结果；请先发送 /评奖 预览 核对，再 /评奖 发布。"
SENT = "已私聊发送第 {version} 版的获奖名单和证书表格。"
SEND_FAILED = "文件发送失败（{why}），文件在服务器上：{path}"
MAX_NOTE = 100

awards = command_group(
    "评奖",
    "awards",
    need=Need.ORGANIZER,
    summary="预览评审结果、发布获奖名单（群内公告）、导出获奖名单和证书",
    example="/评奖 预览",
    order=89,
)


def _counts(result: ResultSet, runtime: Runtime) -> list[str]:
    contest = runtime.contest
    counts = result.award_counts()
    lines = [f"已评完 {result.judged}/{len(result.entries)} 篇作品。"]
    tiers = [f"{t.name} {counts.get(t.name, 0)} 人" for t in contest.judging.tiers]
    if tiers:
        lines.append("个人奖：" + "、".join(tiers) + "。")
    for award in contest.judging.unit_awards:
        units = [u.unit for u in result.awarded_units if u.award == award.name]
        lines.append(f"{award.name}：" + ("、".join(units) if units else "暂无") + "。")
    if result.unnamed:
        shown = "、".join(f"#{r}" for r in result.unnamed[:10])
        more = f" 等 {len(result.unnamed)} 篇" if len(result.unnamed) > 10 else ""
        lines.append(f"未署名作品 {shown}{more} 不参加个人奖，可用 /改作者 补上作者。")
    return lines


@awards.sub(
    "预览", "preview", need=Need.ORGANIZER, summary="按目前的评分预览结果", example="/评奖 预览"
)
async def _preview(request: Request) -> None:
    runtime = request.runtime
    result = await compute(runtime.sessions, runtime.entries, runtime.contest, runtime.clock())
    lines = ["评审结果预览（尚未发布）：", *_counts(result, runtime)]
    lines.append("名单和每篇的得分说明请在后台“评奖”页查看；核对无误后发送 /评奖 发布。")
    await request.reply_list("\n".join(lines))


@awards.sub(
    "发布", "publish", need=Need.ORGANIZER, summary="发布获奖名单并在群里公告", example="/评奖 发布"
)
async def _publish(request: Request) -> None:
    runtime = request.runtime
    result = await compute(runtime.sessions, runtime.entries, runtime.contest, runtime.clock())
    if not result.judged:
        await request.reply(NOTHING_JUDGED)
        return
    note = " ".join(request.args.split())[:MAX_NOTE] or None
    published = await ResultsBook(runtime.sessions).publish(
        result, actor=request.identity.user_id, now=runtime.clock(), note=note
    )
    await announce_results(runtime, partial(deliver, runtime), published)
    await request.reply(PUBLISHED.format(version=published.version))


@awards.sub(
    "导出",
    "export",
    need=Need.ORGANIZER,
    summary="私聊发送获奖名单和证书表格",
    example="/评奖 导出",
)
async def _export(request: Request) -> None:
    published = await ResultsBook(request.runtime.sessions).current()
    if published is None:
        await request.reply(NOT_PUBLISHED)
        return
    failures: list[str] = []
    runtime = request.runtime
    for path in result_files(published, runtime.contest, runtime.deployment.data_dir):
        try:
            await request.bot.call_api(
                "upload_private_file",
                user_id=request.identity.user_id,
                file="base64://" + base64.b64encode(path.read_bytes()).decode(),
                name=path.name,
            )
        except (ActionFailed, NetworkError, ApiNotAvailable) as error:
            why = (
                getattr(error, "info", {}).get("wording")
                if isinstance(error, ActionFailed)
                else None
            )
            failures.append(SEND_FAILED.format(why=why or "QQ 端不支持发送文件", path=path))
    await request.reply("\n".join(failures) if failures else SENT.format(version=published.version))
