"""The showcase (集中展示): a static site of the best posts, to upload to the district's site.

`write_showcase` takes a published version of the results and writes `index.html` and
`style.css` into a folder: the entries of everyone awarded, grouped by award, then the posts the
organizers picked (`include`), each with its title, author, unit, platform and a link to the
original. No QQ numbers, no scripts, nothing fetched from the network; scores only when asked
(`scores=True`). Text is escaped (Jinja2 autoescape): a title cannot inject markup.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.judging.awards import UNNAMED
from bot.judging.results import Published
from bot.settings.contest import Contest
from bot.submissions.book import EntryView
from bot.submissions.display import entry_label

FILES = Path(__file__).resolve().parent / "showcase_files"
PICKED = "优秀作品"


@dataclass(frozen=True)
class Item:
    receipt: int
    title: str
    author: str
    unit: str
    platform: str
    url: str
    score: float | None


@dataclass(frozen=True)
class Group:
    title: str
    items: tuple[Item, ...]


def _item(entry: EntryView, total: float | None, scores: bool) -> Item:
    return Item(
        entry.receipt,
        entry_label(entry.title, entry.given_url or entry.url),
        entry.author or UNNAMED,
        entry.unit_name,
        entry.platform_name,
        entry.url,
        total if scores else None,
    )


def showcase_groups(
    published: Published,
    entries: Mapping[int, EntryView],
    contest: Contest,
    *,
    include: Iterable[int] = (),
    scores: bool = False,
) -> list[Group]:
    """The posts to show, by award in the order of `[[judging.tiers]]`, then the picked ones.
    Withdrawn entries are left out; each post appears once."""
    totals = {e.receipt: e.total for e in published.results.entries}
    shown: set[int] = set()
    groups: list[Group] = []

    def take(receipts: Iterable[int]) -> tuple[Item, ...]:
        items = []
        for receipt in receipts:
            entry = entries.get(receipt)
            if entry is None or entry.withdrawn or receipt in shown:
                continue
            shown.add(receipt)
            items.append(_item(entry, totals.get(receipt), scores))
        return tuple(items)

    for tier in contest.judging.tiers:
        winners = [p for p in published.results.winners if p.award == tier.name]
        items = take(r for person in winners for r in person.entries)
        if items:
            groups.append(Group(tier.name, items))
    picked = take(sorted(set(include)))
    if picked:
        groups.append(Group(PICKED, picked))
    return groups


def render_showcase(
    published: Published,
    entries: Mapping[int, EntryView],
    contest: Contest,
    *,
    include: Iterable[int] = (),
    scores: bool = False,
) -> tuple[str, int]:
    """The showcase page's HTML (it links `style.css` next to it) and how many posts it shows."""
    groups = showcase_groups(published, entries, contest, include=include, scores=scores)
    environment = Environment(
        loader=FileSystemLoader(FILES), autoescape=select_autoescape(default=True)
    )
    total = sum(len(g.items) for g in groups)
    page = environment.get_template("index.html").render(
        contest_name=contest.name,
        groups=groups,
        total=total,
        issued=f"{contest.local(published.published_at):%Y年%m月%d日}",
    )
    return page, total


def write_showcase(
    out: Path,
    published: Published,
    entries: Mapping[int, EntryView],
    contest: Contest,
    *,
    include: Iterable[int] = (),
    scores: bool = False,
) -> int:
    """Write the site into `out` (created if needed); how many posts it shows."""
    page, total = render_showcase(published, entries, contest, include=include, scores=scores)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "index.html", page)
    shutil.copyfile(FILES / "style.css", out / "style.css")
    return total


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
    ) as handle:
        handle.write(text)
        temporary = Path(handle.name)
    temporary.replace(path)
