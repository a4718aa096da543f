"""`python -m bot check`: validate `.env` and the contest config, and summarise them on one screen.

Pure apart from reading the two files, so the CLI and the start-up check share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.faq.knowledge import load_knowledge, load_synonyms, synonyms_path
from bot.judging.config import JudgingPolicy, Normalization, Tier, UnitAward
from bot.names import name_key
from bot.settings.contest import Contest
from bot.settings.contests import OtherContest, load_other_contests
from bot.settings.deployment import Deployment, config_path_from, load_deployment, redact_url
from bot.settings.loader import load_contest
from bot.settings.values import Problem, close_match

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class CheckReport:
    """Every problem found; on success also the loaded values and their summary."""

    problems: tuple[Problem, ...]
    deployment: Deployment | None = None
    contest: Contest | None = None
    summary: str = ""
    # Things that work but are probably not meant (the shipped example's placeholder numbers).
    warnings: tuple[str, ...] = ()
    # The contests of config/contests/ (none: a single-contest install).
    others: tuple[OtherContest, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    deployment_environ: Mapping[str, str] | None,
    env_file: Path,
    config_path_override: Path | None = None,
) -> CheckReport:
    """Load both files; the contest config is checked even when `.env` has problems."""
    deployment, problems = load_deployment(deployment_environ, env_file)
    if config_path_override is not None:
        config_path = config_path_override
    elif deployment is not None:
        config_path = deployment.config_path
    else:
        config_path = config_path_from(deployment_environ, env_file)
    contest, contest_problems = load_contest(config_path)
    problems = [*problems, *contest_problems]
    if contest is not None:
        problems += _faq_problems(contest)
    others, other_problems = load_other_contests(config_path, contest)
    problems += other_problems
    for other in others:
        problems += _faq_problems(other.contest)
    if problems or deployment is None or contest is None:
        return CheckReport(problems=tuple(problems), deployment=deployment, contest=contest)
    summary = summarize(deployment, contest, config_path)
    for other in others:
        summary += (
            f"\n另一个大赛（{other.path}）：{other.contest.name}；"
            f"服务的群：{'、'.join(str(g) for g in sorted(other.contest.groups))}；"
            f"单位 {len(other.contest.units)} 个（配置文件中）"
        )
    return CheckReport(
        problems=(),
        deployment=deployment,
        contest=contest,
        summary=summary,
        warnings=(*placeholder_warnings(contest), *judging_warnings(contest)),
        others=others,
    )


# The numbers the shipped config/contest.toml uses as examples.
PLACEHOLDER_GROUPS = frozenset({123456789})
PLACEHOLDER_QQ = frozenset({*range(10000, 10024), 20001, 20002, 20003})


def placeholder_warnings(contest: Contest) -> tuple[str, ...]:
    """The example's placeholder group and QQ numbers still in the config: a warning each."""
    found: list[str] = []
    groups = sorted(contest.groups & PLACEHOLDER_GROUPS)
    if groups:
        found.append(
            f"群号 {groups[0]} 是示例里的占位数字，请在 [contest] groups 里换成大赛 QQ 群的群号。"
        )
    people = sorted(
        (contest.organizers | contest.judges | {q for u in contest.units for q in u.secretaries})
        & PLACEHOLDER_QQ
    )
    if people:
        shown = "、".join(str(q) for q in people[:3]) + ("等" if len(people) > 3 else "")
        found.append(
            f"QQ {shown}（共 {len(people)} 个）是示例里的占位号码，"
            "请把组织者、评委和联络员换成真实的 QQ 号。"
        )
    return tuple(found)


def judging_warnings(contest: Contest) -> tuple[str, ...]:
    """A judge's unit [[units]] does not list (it may be in the database only: not refused), and
    fewer judges than each entry needs."""
    known = {name_key(n): n for u in contest.units for n in (u.name, *u.aliases)}
    found: list[str] = []
    for judge in contest.panel:
        for unit in judge.units:
            if name_key(unit) in known:
                continue
            hint = close_match(unit, known.values())
            guess = f"（是否想写“{hint}”？）" if hint else ""
            found.append(
                f"评委 {judge.label} 所在的单位“{unit}”不在配置文件的单位名单里{guess}；"
                "若是在群里添加或从表格导入的单位可以不管，否则请改正，以免评委分到本单位的作品。"
            )
    needed = contest.judging.judges_per_entry
    if contest.panel and len(contest.panel) < needed:
        found.append(
            f"评委只有 {len(contest.panel)} 位，少于每篇作品要分给的评委数"
            f"（[judging] judges_per_entry = {needed}）；请增加评委或调小 judges_per_entry。"
        )
    return tuple(found)


def _faq_problems(contest: Contest) -> list[Problem]:
    """The FAQ's files (faq.yaml, synonyms.txt) are the organizers' too: check them here."""
    _entries, problems = load_knowledge(contest)
    _groups, synonym_problems = load_synonyms(synonyms_path(contest))
    return [*problems, *synonym_problems]


def _moment(contest: Contest, moment: datetime) -> str:
    local = contest.local(moment)
    return f"{local:%Y-%m-%d}（{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def _people(ids: frozenset[int]) -> str:
    return f"{len(ids)} 人" if ids else "未设置"


SHOWN_JUDGES = 10


def _judges(contest: Contest) -> list[str]:
    """The judges with a name, and their units: "  沈老师 20001（区教文体局）、…"."""
    named = [j for j in contest.panel if j.name]
    if not named:
        return []
    shown = [
        f"{j.name} {j.qq}" + (f"（{'、'.join(j.units)}）" if j.units else "")
        for j in named[:SHOWN_JUDGES]
    ]
    more = f" 等 {len(named)} 位" if len(named) > SHOWN_JUDGES else ""
    return [f"  {'、'.join(shown)}{more}"]


def _percent(share: float) -> str:
    """0.05 -> "5%", 0.125 -> "12.5%"."""
    return f"{round(share * 100, 2):g}%"


def _tier(tier: Tier) -> str:
    if tier.count is not None:
        return f"{tier.name} {tier.count} 人"
    return f"{tier.name} 参评人数的 {_percent(tier.share or 0)}"


def _unit_award(award: UnitAward) -> str:
    rules = [f"完成率 ≥ {_percent(award.min_completion)}"]
    if award.min_mean > 0:
        rules.append(f"平均分 ≥ {award.min_mean:g}")
    if award.count is not None:
        rules.append(f"至多 {award.count} 个")
    return f"{award.name}（{'，'.join(rules)}）"


def judging_summary(policy: JudgingPolicy) -> list[str]:
    """[judging] in a few lines: who judges how, what counts how much, who wins what."""
    total = sum(c.weight for c in policy.criteria)
    criteria = "、".join(
        f"{c.name} {_percent(c.weight / total)}（{c.source.label}"
        + (f"，{c.scale.label}" if c.source.is_reach else "")
        + "）"
        for c in policy.criteria
    )
    method = policy.normalization.label
    if policy.normalization is Normalization.TRIM:
        method += f"（满 {policy.trim_from} 位评委时）"
    tiers = "、".join(_tier(t) for t in policy.tiers) or "未设置"
    unit_awards = "、".join(_unit_award(a) for a in policy.unit_awards) or "未设置"
    return [
        f"评审：每篇作品 {policy.judges_per_entry} 位评委，"
        f"{'匿名评审' if policy.blind else '评委可见单位和作者'}，{method}",
        f"  评分标准：{criteria}；综合满分 100",
        f"  个人奖（按{policy.aggregate.label}排名）：{tiers}",
        f"  并列：{policy.ties.label}",
        f"  单位奖：{unit_awards}",
    ]


def summarize(deployment: Deployment, contest: Contest, config_path: Path) -> str:
    """A one-screen Chinese summary of a valid deployment and contest."""
    lines = [
        f"大赛：{contest.name}",
        f"读书周：{_moment(contest, contest.start)} 至 {_moment(contest, contest.deadline)}"
        f"（{contest.timezone.key}）",
        f"服务的群：{'、'.join(str(g) for g in sorted(contest.groups))}",
        f"组织者：{_people(contest.organizers)}"
        f"（另有 SUPERUSERS {len(deployment.superusers)} 人"
        f"{'，群主和管理员也算' if contest.group_admins_are_organizers else ''}）",
        f"评委：{_people(contest.judges)}",
        *_judges(contest),
        f"单位：共 {len(contest.units)} 个（配置文件中）",
    ]
    for category in contest.categories:
        count = sum(1 for u in contest.units if u.category == category.id)
        lines.append(f"  {category.name}（{category.id}）：{count} 个，每个配额 {category.quota}")
    overrides = [u for u in contest.units if u.quota is not None]
    if overrides:
        lines.append("  单独配额：" + "、".join(f"{u.name} {u.quota}" for u in overrides))
    lines += judging_summary(contest.judging)
    listen = f"{deployment.host}:{deployment.port}"
    if ":" in deployment.host:
        listen = f"[{deployment.host}]:{deployment.port}"
    lines.append(f"监听：{listen}，访问令牌{'已设置' if deployment.access_token else '未设置'}")
    lines.append(f"反向 WebSocket 地址（填到 QQ 端）：{deployment.reverse_ws_url}")
    if deployment.host in ("0.0.0.0", "::"):
        lines.append(f"  （{deployment.host} 表示所有网卡，QQ 端请把它换成本机 IP）")
    if deployment.ws_urls:
        lines.append(f"正向 WebSocket：{'、'.join(deployment.ws_urls)}")
    lines.append(f"数据库：{redact_url(deployment.database_url)}")
    lines.append(f"配置文件：{config_path}；数据目录：{deployment.data_dir}")
    return "\n".join(lines)


def format_report(report: CheckReport) -> str:
    if report.ok:
        notes = "".join(f"\n注意：{w}" for w in report.warnings)
        return f"OK\n{report.summary}{notes}"
    lines = [f"发现 {len(report.problems)} 个问题："]
    lines += [str(problem) for problem in report.problems]
    return "\n".join(lines)


def exit_code(report: CheckReport) -> int:
    return 0 if report.ok else 1
