"""Command line: run the bot, check the configuration, import a roster, migrate the database,
move it to another database.

`python -m bot` validates .env and config/contest.toml and migrates the database before
NoneBot starts, so a bad configuration or a too-new database never half-starts the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from loguru import logger

from bot.clock import utc_now
from bot.settings.check import check, exit_code, format_report
from bot.settings.contest import Contest
from bot.settings.contests import OtherContest
from bot.settings.deployment import Deployment
from bot.storage.db import SchemaTooNew, open_storage


class _ChineseHelp(argparse.HelpFormatter):
    """argparse's own words in Chinese: "用法：" instead of "usage: "."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with its error messages said in Chinese."""

    def error(self, message: str) -> NoReturn:
        if "invalid choice" in message:
            message = (
                "没有这个指令；可用：run、check、migrate、migrate-to、import-units、"
                "import-submissions、import-metrics、showcase、round、demo"
            )
        elif "the following arguments are required" in message:
            message = "缺少参数：" + message.split(":", 1)[-1].strip()
        elif "unrecognized arguments" in message:
            message = "多余的参数：" + message.split(":", 1)[-1].strip()
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}\n")


def _chinese(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser._positionals.title = "参数"
    parser._optionals.title = "选项"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = "显示本帮助并退出"
    return parser


def _contest_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--contest",
        default="",
        metavar="编号",
        help="另一个大赛（config/contests/编号.toml）；默认是 config/contest.toml 的大赛",
    )


def _choose_contest(
    deployment: Deployment, contest: Contest, others: tuple[OtherContest, ...], wanted: str
) -> tuple[Deployment, Contest] | None:
    """The deployment and settings of contest `wanted` ("" : the first); None (said) if unknown."""
    if not wanted:
        return deployment, contest
    from bot.runtime import other_deployment

    for other in others:
        if other.id == wanted:
            return other_deployment(deployment, other), other.contest
    known = "、".join(o.id for o in others) or "无（config/contests/ 下没有文件）"
    print(f"没有编号为「{wanted[:40]}」的大赛；现有：{known}。")
    return None


def _parser() -> argparse.ArgumentParser:
    def new(**options: Any) -> argparse.ArgumentParser:
        return _Parser(formatter_class=_ChineseHelp, **options)

    parser = _chinese(new(prog="python -m bot", description="学习博客大赛助手"))
    commands = parser.add_subparsers(
        dest="command", title="可用指令", metavar="指令", parser_class=_Parser
    )

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return _chinese(
            commands.add_parser(name, help=help, description=help, formatter_class=_ChineseHelp)
        )

    add("run", "启动机器人（默认）")
    add("check", "检查 .env 与 config/contest.toml")
    add("migrate", "把数据库升级到当前版本")
    migrate_to = add(
        "migrate-to", "把全部数据复制到另一个空数据库（如从 SQLite 换到 PostgreSQL），先停机器人"
    )
    migrate_to.add_argument(
        "url",
        metavar="地址",
        help="目标数据库，如 postgresql+asyncpg://用户:密码@主机/库名（须是新建的空库）",
    )
    rounds = add("round", "大赛轮次（每年一轮）：查看，或开始新的一轮")
    round_commands = rounds.add_subparsers(
        dest="round_command", title="可用指令", metavar="指令", parser_class=_Parser
    )
    round_commands.required = True
    list_rounds = _chinese(
        round_commands.add_parser(
            "list", help="列出各轮", description="列出各轮", formatter_class=_ChineseHelp
        )
    )
    new_round = _chinese(
        round_commands.add_parser(
            "new",
            help="开始新的一轮：本轮归档（只读，后台可查看、导出），单位、联络员、问答沿用",
            description="开始新的一轮：本轮归档（只读，后台可查看、导出），单位、联络员、问答沿用",
            formatter_class=_ChineseHelp,
        )
    )
    new_round.add_argument(
        "--label", default="", metavar="名称", help="新一轮的名称，默认如「2027年」"
    )
    new_round.add_argument("--yes", action="store_true", help="不再询问，直接开始")
    for parser_ in (new_round, list_rounds):
        _contest_option(parser_)
    importer = add("import-units", "从 CSV/XLSX 导入单位名单")
    importer.add_argument("file", type=Path, metavar="文件", help="CSV 或 XLSX 文件")
    _contest_option(importer)
    submissions = add(
        "import-submissions", "从 CSV/XLSX 导入已收集的作品链接（规则与群里提交相同）"
    )
    submissions.add_argument("file", type=Path, metavar="文件", help="CSV 或 XLSX 文件")
    _contest_option(submissions)
    submissions.add_argument(
        "--historical",
        action="store_true",
        help="补录：不检查大赛时间，按表中日期登记，不算逾期（如往年名单、纸质登记）",
    )
    metrics = add("import-metrics", "从 CSV/XLSX 导入作品的阅读、转发、评论、点赞数（评审用）")
    metrics.add_argument("file", type=Path, metavar="文件", help="CSV 或 XLSX 文件")
    _contest_option(metrics)
    showcase = add("showcase", "生成优秀作品展示网页（静态文件，可上传到区里的网站）")
    showcase.add_argument(
        "--out", type=Path, required=True, metavar="文件夹", help="输出到这个文件夹"
    )
    showcase.add_argument(
        "--version", type=int, metavar="版本", help="用第几版评审结果（默认最新发布的一版）"
    )
    showcase.add_argument(
        "--include", default="", metavar="编号", help="另外展示的作品编号，用逗号隔开，如 17,23"
    )
    showcase.add_argument("--scores", action="store_true", help="同时显示综合分")
    _contest_option(showcase)
    demo = add("demo", "演示：不用 QQ，在浏览器里试用机器人（演示大赛、临时数据库，只在本机）")
    demo.add_argument(
        "--port",
        type=int,
        metavar="端口",
        help="演示页面的端口（默认 8081；机器人用 .env 的 PORT）",
    )
    demo.add_argument(
        "--config", type=Path, metavar="文件", help="用自己的 contest.toml 练习（数据库仍是临时的）"
    )
    demo.add_argument(
        "--data", type=Path, metavar="文件夹", help="把演示数据保存在这个文件夹，下次接着用"
    )
    return parser


def _load() -> tuple[Deployment, Contest, tuple[OtherContest, ...]] | None:
    report = check(os.environ, Path(".env"))
    if report.problems or report.deployment is None or report.contest is None:
        print(format_report(report))
        return None
    return report.deployment, report.contest, report.others


async def _migrate(url: str) -> str:
    storage = await open_storage(url)
    await storage.close()
    return storage.revision


def _migrate_or_explain(deployment: Deployment) -> bool:
    try:
        asyncio.run(_migrate(deployment.database_url))
    except SchemaTooNew as error:
        print(error)
        return False
    return True


async def _import_units(deployment: Deployment, contest: Contest, file: Path) -> int:
    from bot.units.directory import UnitDirectory
    from bot.units.roster import import_units, read_roster

    specs, problems = read_roster(file, contest)  # with the contest, a bad category names its row
    storage = await open_storage(deployment.database_url, deployment.database_schema)
    try:
        now = utc_now()
        # As at start-up: units from contest.toml must be known as such before a roster may
        # touch them (otherwise, on a fresh database, they would be imported as new units).
        directory = await UnitDirectory.open(storage.sessions, contest, now)
        result = await import_units(
            directory, specs, contest, actor=None, now=now, source=file.name
        )
    finally:
        await storage.close()
    problems = [*problems, *result.problems]
    print(
        f"导入完成：新增 {len(result.added)} 个，更新 {len(result.updated)} 个，"
        f"未变 {len(result.skipped)} 个，问题 {len(problems)} 个。"
    )
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


async def _import_submissions(
    deployment: Deployment, contest: Contest, file: Path, *, historical: bool = False
) -> int:
    from bot.submissions.book import EntryBook
    from bot.submissions.import_ import import_submissions, read_submissions
    from bot.units.directory import UnitDirectory

    rows, problems = read_submissions(file)
    storage = await open_storage(deployment.database_url, deployment.database_schema)
    try:
        now = utc_now()
        directory = await UnitDirectory.open(storage.sessions, contest, now)
        report = await import_submissions(
            EntryBook(storage.sessions, directory),
            directory,
            rows,
            contest,
            actor=None,
            now=now,
            historical=historical,
        )
    finally:
        await storage.close()
    print(
        ("补录" if historical else "")
        + f"导入完成：登记 {len(report.accepted)} 条，重复 {len(report.duplicates)} 条，"
        f"未登记 {len(report.refused)} 条，文件问题 {len(problems)} 个。"
    )
    for problem in problems:
        print(f"  {problem}")
    for row, duplicate in report.duplicates:
        print(f"  第 {row.line} 行：已由「{duplicate.unit_name}」提交（#{duplicate.receipt}）")
    for row, reason in report.refused:
        print(f"  第 {row.line} 行：{reason}")
    return 1 if problems or report.refused else 0


async def _import_metrics(deployment: Deployment, contest: Contest, file: Path) -> int:
    from bot.judging.metrics import METRIC_LABELS, MetricBook, import_metrics, read_metrics
    from bot.submissions.book import EntryBook
    from bot.units.directory import UnitDirectory

    rows, problems = read_metrics(file)
    storage = await open_storage(deployment.database_url, deployment.database_schema)
    try:
        now = utc_now()
        directory = await UnitDirectory.open(storage.sessions, contest, now)
        report = await import_metrics(
            MetricBook(storage.sessions),
            EntryBook(storage.sessions, directory),
            rows,
            contest,
            file=file.name,
            actor=None,
            now=now,
        )
    finally:
        await storage.close()
    print(
        f"导入完成：记录 {len(report.recorded)} 行，与已有数据相同 {len(report.unchanged)} 行，"
        f"未记录 {len(report.refused) + len(problems)} 行。"
    )
    said: list[tuple[int, str]] = []
    for row, receipt in report.recorded:
        figures = "、".join(f"{METRIC_LABELS[m]} {v:,}" for m, v in row.figures.items())
        said.append((row.line, f"第 {row.line} 行：#{receipt} {figures}"))
    for row, receipt in report.unchanged:
        said.append((row.line, f"第 {row.line} 行：#{receipt} 已记录过，未重复记录"))
    for row, reason in report.refused:
        said.append((row.line, f"第 {row.line} 行：{reason}"))
    for problem in problems:
        line = int(problem.key.strip("第 行")) if problem.key.startswith("第") else 0
        said.append((line, f"{problem.key}：{problem.message}"))
    for _line, text in sorted(said, key=lambda item: item[0]):
        print(f"  {text}")
    return 1 if problems or report.refused else 0


async def _showcase(deployment: Deployment, contest: Contest, args: argparse.Namespace) -> int:
    from bot.judging.results import ResultsBook
    from bot.judging.showcase import write_showcase
    from bot.submissions.book import EntryBook
    from bot.units.directory import UnitDirectory

    words = [w for w in re.split(r"[,，\s]+", args.include.strip()) if w]
    bad = [w for w in words if not re.fullmatch(r"[#＃]?\d{1,9}", w)]
    if bad:
        print(f"--include 里的「{bad[0][:20]}」不是作品编号；请写成 17,23 的样子。")
        return 2
    include = [int(w.lstrip("#＃")) for w in words]
    storage = await open_storage(deployment.database_url, deployment.database_schema)
    try:
        published = await ResultsBook(storage.sessions).version(args.version)
        if published is None:
            which = f"第 {args.version} 版" if args.version else "已发布的"
            print(f"没有{which}评审结果；请先在群里发送 /评奖 发布。")
            return 1
        directory = await UnitDirectory.open(storage.sessions, contest, utc_now())
        entries = {e.receipt: e for e in await EntryBook(storage.sessions, directory).all_entries()}
        unknown = [r for r in include if r not in entries]
        count = write_showcase(
            args.out, published, entries, contest, include=include, scores=args.scores
        )
    finally:
        await storage.close()
    print(
        f"已生成展示网页：{args.out / 'index.html'}（第 {published.version} 版，共 {count} 篇）。"
    )
    if unknown:
        print("  没有这些编号的作品，已略过：" + "、".join(f"#{r}" for r in unknown))
    return 0


async def _migrate_to(deployment: Deployment, url: str) -> int:
    from sqlalchemy.engine import make_url

    from bot.settings.deployment import redact_url
    from bot.storage.transfer import TransferError, transfer

    try:
        done = await transfer(deployment.database_url, url)
    except TransferError as error:
        print(error)
        return 1
    print(
        f"已复制 {len(done.rows)} 张表、{done.total:,} 行，用时 {done.seconds:.1f} 秒；"
        "两边逐表核对，行数一致。"
    )
    for archived in done.archives:
        print(
            f"已复制「{archived.label}」的归档：{len(archived.rows)} 张表、{archived.total:,} 行。"
        )
    print("下一步：把 .env 里的 DATABASE_URL 改成下面这行，再启动机器人。")
    print(f"  DATABASE_URL={redact_url(url)}")
    if make_url(url).password:
        print("  （*** 处写真实密码。）")
    return 0


async def _rounds(deployment: Deployment, contest: Contest, args: argparse.Namespace) -> int:
    from bot.refusal import Refusal
    from bot.rounds.book import RoundBook
    from bot.rounds.service import describe, start_round

    storage = await open_storage(deployment.database_url, deployment.database_schema)
    try:
        book = RoundBook(storage.sessions, storage.engine, deployment.database_url)
        rounds = await book.load()
        if args.round_command == "list":
            for found in rounds:
                print(describe(found, contest))
            return 0
        try:
            started = await start_round(book, deployment, contest, label=args.label, actor=None)
        except Refusal as error:
            print(error)
            return 1
    finally:
        await storage.close()
    print(f"已开始「{started.opened.label}」。")
    closed = started.closed
    print(f"「{closed.label}」已归档（{closed.entries} 篇作品），后台可查看、导出。")
    print("单位、联络员、问答已沿用。")
    print("请在 contest.toml 里改好新一轮的时间（start、deadline），再重启机器人。")
    return 0


def _confirm_round(yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("开始新一轮会把本轮归档、清空本轮作品；确认无误请加 --yes 再运行。")
        return False
    answer = input("将把本轮归档（只读）并开始新的一轮；输入“是”确认：")
    if answer.strip() not in ("是", "y", "yes"):
        print("已取消，未做任何改动。")
        return False
    return True


def _migrate_to_once(deployment: Deployment, others: tuple[OtherContest, ...], url: str) -> int:
    if others:
        print(
            "这个部署有多个大赛（config/contests/）：migrate-to 目前只能搬运单个大赛的部署，"
            "没有做任何改动。请先只保留 config/contest.toml 的大赛再搬，或直接在 PostgreSQL 上"
            "开始多个大赛。"
        )
        return 1
    return asyncio.run(_migrate_to(deployment, url))


def _quiet_logs() -> None:
    """The one-shot commands print their own report; only warnings from the log belong there."""
    logger.remove()
    logger.add(sys.stderr, level="WARNING", format="{level}: {message}")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command != "run":
        _quiet_logs()
    else:
        # NoneBot's log format and level from the first line on (the check and the migration
        # log before NoneBot starts).
        import nonebot.log  # noqa: F401
    if command == "demo":
        from bot.demo.server import run as run_demo

        return run_demo(args.port, args.config, args.data)
    if command == "check":
        report = check(os.environ, Path(".env"))
        print(format_report(report))
        return exit_code(report)
    loaded = _load()
    if loaded is None:
        return 1
    deployment, contest, others = loaded
    if not _migrate_or_explain(deployment):
        return 2
    if command == "migrate":
        print("数据库已是最新版本。")
        return 0
    if command == "migrate-to":
        return _migrate_to_once(deployment, others, args.url)
    chosen = _choose_contest(deployment, contest, others, getattr(args, "contest", ""))
    if chosen is None:
        return 1
    deployment, contest = chosen
    if command == "round":
        if args.round_command == "new" and not _confirm_round(args.yes):
            return 2
        return asyncio.run(_rounds(deployment, contest, args))
    if command == "import-units":
        return asyncio.run(_import_units(deployment, contest, args.file))
    if command == "showcase":
        return asyncio.run(_showcase(deployment, contest, args))
    if command == "import-metrics":
        return asyncio.run(_import_metrics(deployment, contest, args.file))
    if command == "import-submissions":
        return asyncio.run(
            _import_submissions(deployment, contest, args.file, historical=args.historical)
        )

    from bot.app import run

    run(deployment, contest, deployment.log_level, others)
    return 0
