"""The curated knowledge base: config/faq.yaml and config/synonyms.txt, read and checked.

Answers are Jinja2 templates rendered from the `Contest`, so the rule answers (quotas, deadline,
minimum characters, platforms) always say what contest.toml says. Every problem an organizer can
fix is collected as a `Problem(file, key, message)` instead of stopping at the first one; keys look
like `entries[3].answer`, counting entries from 1 as an organizer counts the blocks in the file
(the message also names the entry's id and line).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from loguru import logger

from bot.faq.entry import FaqEntry
from bot.settings.contest import Contest
from bot.settings.values import Problem
from bot.submissions.links import matching_suffix, platform_name

FILE_KEY = "(整个文件)"

# Every shipped base must answer these; a missing one is a Problem.
REQUIRED_IDS: tuple[str, ...] = (
    "blog-register",
    "blog-login",
    "blog-publish",
    "blog-image",
    "blog-format",
    "blog-edit",
    "blog-link",
    "blog-category",
    "blog-review",
    "weibo-register",
    "weibo-post",
    "weibo-repost",
    "weibo-follow",
    "phone-post",
    "account-name",
    "rule-word-count",
    "rule-quota",
    "rule-deadline",
    "rule-topic",
    "rule-judging",
    "rule-awards",
    "rule-platform",
    "rule-original",
    "rule-who",
    "bot-submit",
    "bot-withdraw",
    "bot-progress",
    "bot-bind",
    "human-help",
)

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_MAX = 40
# A phone screen holds about this much; longer answers are reported, still used.
MAX_ANSWER_CHARS = 600
IMAGES_DIR = "faq-images"
SUPPORTED_VERSION = 1

TOP_KEYS = ("version", "entries")
ENTRY_KEYS = ("id", "question", "phrasings", "keywords", "answer", "tags", "images", "reviewed")

# Command names as the chat layer registers them; templates write {{ commands.submit }}.
BOT_COMMANDS: Mapping[str, str] = {
    "help": "/帮助",
    "ask": "/问",
    "submit": "/提交",
    "withdraw": "/撤回",
    "author": "/改作者",
    "progress": "/进度",
    "mine": "/我的提交",
    "rank": "/排行",
    "verify": "/核验",
    "myunit": "/我的单位",
    "bind": "/单位 绑定",
}

# Display names of platform host suffixes; suffixes not listed are shown as written.
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_CHINA_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})
_SPACES = re.compile(r"[\s\u3000\u00a0]+")


# --------------------------------------------------------------------------------------------
# The values answer templates can use.


def display_day(moment: datetime) -> str:
    """`6月24日（周四）` — how members read a date."""
    return f"{moment.month}月{moment.day}日（{_WEEKDAYS[moment.weekday()]}）"


def display_time(moment: datetime) -> str:
    """`6月24日（周四）00:00`."""
    return f"{display_day(moment)}{moment:%H:%M}"


def _host_allowed(suffixes: tuple[str, ...]) -> Callable[[str], bool]:
    def allows(address: str) -> bool:
        """Whether a link or host name is on one of the contest's platforms."""
        host = re.sub(r"^[a-z]+://", "", address.strip().lower()).split("/", 1)[0]
        return matching_suffix(host.split(":", 1)[0], suffixes) is not None

    return allows


def _platforms(suffixes: tuple[str, ...]) -> list[dict[str, Any]]:
    """Platforms grouped by display name, in config order."""
    grouped: dict[str, list[str]] = {}
    for suffix in suffixes:
        grouped.setdefault(platform_name(suffix, suffix), []).append(suffix)
    return [{"name": name, "suffixes": hosts} for name, hosts in grouped.items()]


def render_context(contest: Contest, commands: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything an answer template may use, computed from the contest alone (pure)."""
    start = contest.local(contest.start)
    deadline = contest.local(contest.deadline)
    zone = contest.timezone.key
    units_by_category: dict[str, list[str]] = {c.id: [] for c in contest.categories}
    for unit in contest.units:
        units_by_category.setdefault(unit.category, []).append(unit.name)
    return {
        "contest": {
            "name": contest.name,
            "year": start.year,
            "start": display_time(start),
            "deadline": display_time(deadline),
            "start_day": display_day(start),
            "deadline_day": display_day(deadline),
            "timezone": zone,
            "timezone_label": "北京时间" if zone in _CHINA_ZONES else zone,
        },
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "quota": c.quota,
                "units": list(units_by_category.get(c.id, [])),
            }
            for c in contest.categories
        ],
        "units_by_category": {cid: len(names) for cid, names in units_by_category.items()},
        "units_with_own_quota": [
            {"name": u.name, "quota": u.quota} for u in contest.units if u.quota is not None
        ],
        "min_chars": contest.submission.min_chars,
        "verify": contest.submission.verify,
        "platforms": _platforms(contest.submission.platforms),
        "allows": _host_allowed(contest.submission.platforms),
        "commands": dict(BOT_COMMANDS if commands is None else commands),
        "bot": {"nickname": contest.bot.nickname},
        "contacts": contest.faq.contacts,
    }


_ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    autoescape=False,
)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def render_answer(template: str, context: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(rendered answer, None) or (None, why it cannot be rendered — Chinese, for the operator).

    The environment is sandboxed, so an answer added from chat cannot reach Python internals.
    """
    try:
        text = _ENVIRONMENT.from_string(template).render(**context)
    except TemplateSyntaxError as error:
        return None, f"答案模板写法有误（答案第 {error.lineno} 行）：{error.message}"
    except UndefinedError as error:
        return None, f"答案里用了不存在的变量：{error.message}"
    except (TemplateError, TypeError, ValueError, AttributeError) as error:
        return None, f"答案模板无法生成：{error}"
    return _tidy(text), None


# --------------------------------------------------------------------------------------------
# faq.yaml


@dataclass
class _Check:
    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))


def _entry_lines(text: str) -> list[int]:
    """The 1-based line where each item of `entries` starts, for messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "entries" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _unknown_key(check: _Check, key: str, name: object, allowed: tuple[str, ...]) -> None:
    hint = difflib.get_close_matches(str(name), list(allowed), n=1, cutoff=0.6)
    if hint:
        check.problem(key, f"未知的键“{name}”，是否想写“{hint[0]}”？")
    else:
        check.problem(key, f"未知的键“{name}”；条目里可用的键：{'、'.join(allowed)}")


def _text(check: _Check, key: str, value: object, where: str) -> str | None:
    """A required, non-empty piece of text."""
    if value is None:
        check.problem(key, f"{where}缺少此项或为空；请填写")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        check.problem(key, f"{where}应为一段文字")
        return None
    text = str(value).strip()
    if not text:
        check.problem(key, f"{where}不能为空；请填写")
        return None
    return text


def _texts(check: _Check, key: str, value: object, where: str) -> tuple[str, ...]:
    """An optional list of short texts (phrasings, keywords, tags, images)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        check.problem(key, f"{where}应为列表：每项一行，以“- ”开头，或写成 [甲, 乙]")
        return ()
    seen: dict[str, None] = {}
    for index, item in enumerate(value, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            check.problem(f"{key}[{index}]", f"{where}第 {index} 项应为文字")
            continue
        text = str(item).strip()
        if not text:
            check.problem(f"{key}[{index}]", f"{where}第 {index} 项是空的；请删去这一项")
            continue
        seen.setdefault(text, None)
    return tuple(seen)


def _images(
    check: _Check, key: str, names: tuple[str, ...], config_dir: Path, where: str
) -> tuple[Path, ...]:
    folder = (config_dir / IMAGES_DIR).resolve()
    found: list[Path] = []
    for index, name in enumerate(names, start=1):
        path = (folder / name).resolve()
        if not path.is_relative_to(folder):
            check.problem(
                f"{key}[{index}]", f"{where}图片“{name}”应放在 {IMAGES_DIR}/ 目录里，只写文件名"
            )
        elif not path.is_file():
            check.problem(
                f"{key}[{index}]",
                f"{where}找不到图片文件 {config_dir / IMAGES_DIR / name}；"
                "请把图片放进去或删去这一项",
            )
        else:
            found.append(path)
    return tuple(found)


def _entry(
    check: _Check,
    index: int,
    raw: object,
    line: int | None,
    context: Mapping[str, Any],
    config_dir: Path,
    seen_ids: dict[str, int],
) -> FaqEntry | None:
    prefix = f"entries[{index}]"
    at = f"（第 {line} 行）" if line else ""
    if not isinstance(raw, dict):
        check.problem(prefix, f"应为一个条目（以“- id: ”开头的一段）{at}")
        return None
    for name in raw:
        if name not in ENTRY_KEYS:
            _unknown_key(check, f"{prefix}.{name}", name, ENTRY_KEYS)

    entry_id = _text(check, f"{prefix}.id", raw.get("id"), f"条目{at}的 id ")
    if entry_id is not None:
        if not ID_PATTERN.fullmatch(entry_id) or len(entry_id) > ID_MAX:
            check.problem(
                f"{prefix}.id",
                f"id“{entry_id}”{at}只能用小写英文字母、数字和连字符（-），"
                f"不超过 {ID_MAX} 个字符，如 blog-link",
            )
            entry_id = None
        elif entry_id in seen_ids:
            check.problem(
                f"{prefix}.id",
                f"id“{entry_id}”{at}与第 {seen_ids[entry_id]} 个条目重复；每个 id 只能用一次",
            )
            return None
        else:
            seen_ids[entry_id] = index
    where = f"条目“{entry_id}”{at}" if entry_id else f"第 {index} 个条目{at}"

    question = _text(check, f"{prefix}.question", raw.get("question"), f"{where}的 question ")
    template = _text(check, f"{prefix}.answer", raw.get("answer"), f"{where}的 answer ")
    phrasings = _texts(check, f"{prefix}.phrasings", raw.get("phrasings"), f"{where}的 phrasings ")
    keywords = _texts(check, f"{prefix}.keywords", raw.get("keywords"), f"{where}的 keywords ")
    tags = _texts(check, f"{prefix}.tags", raw.get("tags"), f"{where}的 tags ")
    image_names = _texts(check, f"{prefix}.images", raw.get("images"), f"{where}的 images ")
    images = _images(check, f"{prefix}.images", image_names, config_dir, f"{where}的 ")
    reviewed = raw.get("reviewed", True)
    if not isinstance(reviewed, bool):
        check.problem(f"{prefix}.reviewed", f"{where}的 reviewed 应为 true 或 false（不加引号）")
        reviewed = True

    answer: str | None = None
    if template is not None:
        answer, error = render_answer(template, context)
        if error is not None:
            check.problem(f"{prefix}.answer", f"{where}：{error}")
        elif not answer:
            check.problem(f"{prefix}.answer", f"{where}的答案生成后是空的；请检查模板")
            answer = None
        elif len(answer) > MAX_ANSWER_CHARS:
            check.problem(
                f"{prefix}.answer",
                f"{where}的答案有 {len(answer)} 字，超过 {MAX_ANSWER_CHARS} 字，"
                "手机上要翻好几屏；请精简（仍会照常使用）",
            )
    if entry_id is None or question is None or answer is None:
        return None
    return FaqEntry(
        id=entry_id,
        question=question,
        phrasings=phrasings,
        keywords=keywords,
        answer=answer,
        tags=tags,
        images=images,
        source="file",
        reviewed=reviewed,
    )


def parse_knowledge(
    text: str,
    *,
    file: str,
    contest: Contest,
    commands: Mapping[str, str] | None = None,
) -> tuple[list[FaqEntry], list[Problem]]:
    """Entries of a faq.yaml text that are usable, and every problem found.

    An entry with a problem in its id, question or answer is left out; one whose answer is only
    too long, or whose image is missing, is kept (without that image).
    """
    check = _Check(file)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark is not None else "某处"
        reason = getattr(error, "problem", None) or str(error)
        check.problem(FILE_KEY, f"YAML 格式错误（{where}）：{reason}；请检查缩进、冒号和引号")
        return [], check.problems
    if not isinstance(data, dict):
        check.problem(FILE_KEY, "文件应以 version: 1 和 entries: 开头")
        return [], check.problems
    for name in data:
        if name not in TOP_KEYS:
            _unknown_key(check, str(name), name, TOP_KEYS)
    version = data.get("version", SUPPORTED_VERSION)
    if version != SUPPORTED_VERSION:
        check.problem("version", f"不支持的版本 {version!r}；请写 version: {SUPPORTED_VERSION}")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        check.problem(
            "entries", "缺少条目列表；请写 entries: 并在下面列出条目（每条以“- id: ”开头）"
        )
        return [], check.problems

    context = render_context(contest, commands)
    lines = _entry_lines(text)
    seen_ids: dict[str, int] = {}
    entries: list[FaqEntry] = []
    for index, raw in enumerate(raw_entries, start=1):
        line = lines[index - 1] if index - 1 < len(lines) else None
        entry = _entry(check, index, raw, line, context, contest.config_dir, seen_ids)
        if entry is not None:
            entries.append(entry)

    missing = [entry_id for entry_id in REQUIRED_IDS if entry_id not in seen_ids]
    if missing:
        check.problem("entries", f"缺少必需的条目：{'、'.join(missing)}")
    return entries, check.problems


def faq_path(contest: Contest) -> Path:
    return contest.config_dir / contest.faq.file


def synonyms_path(contest: Contest) -> Path:
    return contest.config_dir / contest.faq.synonyms


def load_knowledge(
    contest: Contest, commands: Mapping[str, str] | None = None
) -> tuple[list[FaqEntry], list[Problem]]:
    """Read contest.config_dir / contest.faq.file: the usable entries, and every problem."""
    path = faq_path(contest)
    text, problem = _read_text(path)
    if text is None:
        return [], [Problem(str(path), FILE_KEY, problem or "无法读取")]
    entries, problems = parse_knowledge(text, file=str(path), contest=contest, commands=commands)
    logger.debug("FAQ: {} entries from {}, {} problems", len(entries), path, len(problems))
    return entries, problems


def _read_text(path: Path) -> tuple[str | None, str | None]:
    try:
        return path.read_text(encoding="utf-8-sig"), None
    except FileNotFoundError:
        return None, f"找不到文件 {path}"
    except UnicodeDecodeError:
        return None, "文件不是 UTF-8 编码；请用记事本“另存为”UTF-8 后再试"
    except OSError as error:
        return None, f"无法读取文件：{error.strerror or error}"


# --------------------------------------------------------------------------------------------
# synonyms.txt


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def parse_synonyms(text: str, *, file: str) -> tuple[list[tuple[str, ...]], list[Problem]]:
    """Synonym groups (first word canonical) and the problems of malformed lines.

    A word may belong to one group only: a word seen again is reported and left out of the
    later group, and a group left with fewer than two words is dropped.
    """
    check = _Check(file)
    groups: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        words = _SPACES.split(raw_line.split("#", 1)[0].strip())
        words = [w for w in words if w]
        if not words:
            continue
        key = f"第 {number} 行"
        kept: list[str] = []
        for word in words:
            folded = _fold(word)
            if folded in {_fold(k) for k in kept}:
                check.problem(key, f"“{word}”在这一行写了两次；请删去一个")
            elif folded in owner:
                check.problem(
                    key,
                    f"“{word}”已经在第 {owner[folded]} 行的一组里；一个词只能属于一组，请删去一处",
                )
            else:
                kept.append(word)
        if len(words) == 1:
            check.problem(key, f"只有一个词“{words[0]}”；一行至少写两个意思相同的词，用空格隔开")
            continue
        if len(kept) < 2:
            continue
        for word in kept:
            owner[_fold(word)] = number
        groups.append(tuple(kept))
    return groups, check.problems


def load_synonyms(path: Path) -> tuple[list[tuple[str, ...]], list[Problem]]:
    """Read a synonyms file (one group per line, space-separated, '#' comments)."""
    text, problem = _read_text(path)
    if text is None:
        return [], [Problem(str(path), FILE_KEY, problem or "无法读取")]
    return parse_synonyms(text, file=str(path))
