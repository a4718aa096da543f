"""Several contests in one deployment (issue 15, part 4): `config/contests/<id>.toml` beside
`config/contest.toml`.

`config/contest.toml` is the deployment's first contest, kept exactly as a single-contest
install has it (its data in the database's default schema or file). Every
`config/contests/<id>.toml` (same format) is another contest — a district, or a district-level
department — with its own groups, organizers, judges, units, FAQ additions and rounds, its data
in a schema of its own (PostgreSQL: `contest_<id>`) or a file of its own (SQLite:
`<database>.<id>.db`), so no query of one contest can reach another's rows. A group belongs to
exactly one contest. Files a contest names (`[faq] file`, `synonyms`) are read relative to
`config/`, as contest.toml's are: a copy of contest.toml works unchanged in `config/contests/`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from bot.settings.contest import Contest
from bot.settings.loader import load_contest
from bot.settings.values import Problem

FOLDER = "contests"
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,29}")
# Words the dashboard uses for itself: a province viewer's links, the first contest.
RESERVED = frozenset({"province", "main"})


@dataclass(frozen=True)
class OtherContest:
    """A contest beside the first: its id (the file's name), file and settings."""

    id: str
    path: Path
    contest: Contest


def contest_files(config_path: Path) -> list[Path]:
    folder = config_path.parent / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())


def load_other_contests(
    config_path: Path, first: Contest | None
) -> tuple[tuple[OtherContest, ...], list[Problem]]:
    """The contests in `config/contests/`, and the problems with them (a bad id, a file's own
    problems, a group that two contests both claim)."""
    others: list[OtherContest] = []
    problems: list[Problem] = []
    for path in contest_files(config_path):
        if path.stem in RESERVED:
            problems.append(
                Problem(str(path), "文件名", f"「{path.stem}」是保留字，请给这个大赛换一个编号")
            )
            continue
        if not ID_PATTERN.fullmatch(path.stem):
            problems.append(
                Problem(
                    str(path),
                    "文件名",
                    "大赛编号（文件名）只能用小写字母、数字和下划线，以字母开头，"
                    "最多 30 个字符，例如 xihu.toml",
                )
            )
            continue
        contest, found = load_contest(path)
        problems += found
        if contest is not None:
            # Files it names (the FAQ's) are found where contest.toml's are: config/.
            contest = dataclasses.replace(contest, config_dir=config_path.parent)
            others.append(OtherContest(path.stem, path, contest))
    problems += _shared_groups(config_path, first, others)
    return tuple(others), problems


def _shared_groups(
    config_path: Path, first: Contest | None, others: list[OtherContest]
) -> list[Problem]:
    owner: dict[int, str] = {}
    if first is not None:
        owner = {group: str(config_path) for group in first.groups}
    problems = []
    for other in others:
        for group in sorted(other.contest.groups):
            if group in owner:
                problems.append(
                    Problem(
                        str(other.path),
                        "[contest] groups",
                        f"群 {group} 已属于 {owner[group]}；一个群只能属于一个大赛",
                    )
                )
            else:
                owner[group] = str(other.path)
    return problems


def schema_of(contest_id: str) -> str:
    """The PostgreSQL schema holding a contest's data."""
    return f"contest_{contest_id}"
