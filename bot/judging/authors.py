"""Who is an individual, before judging: authors as awards see them, possible duplicates, and
the fixes organizers make (merge two spellings, rename one entry, sign an unsigned one).

A person is (unit, author name folded by `bot.names.name_key`): "张 三" and "张三" of one unit are
already one. What folding cannot know — "张三" and "张山" (same sound, a typing slip), "李晓明"
and "李小明" — is offered as "可能是同一人" when two names of one unit sound alike (pypinyin,
tones ignored) or nearly match (rapidfuzz); an organizer merges them, or leaves them apart.
Merging renames every accepted entry of one name in the unit to the other (each change logged
like `/改作者`); splitting is renaming single entries. Entries without an author are listed to
be signed: they can win nothing until they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from bot.judging.awards import is_unnamed
from bot.names import name_key
from bot.refusal import NotFound, Refusal
from bot.submissions.book import EntryBook, EntryView
from bot.submissions.states import EntryStatus

NEAR = 80  # rapidfuzz ratio from which two names of one unit are offered as one person


@dataclass(frozen=True)
class Author:
    unit_id: int
    unit: str
    name: str  # as written on the first of their entries
    key: str
    receipts: tuple[int, ...]


@dataclass(frozen=True)
class Alike:
    """Two authors of one unit that may be one person, and why."""

    first: Author
    second: Author
    reason: str


def authors(entries: Iterable[EntryView]) -> tuple[list[Author], list[EntryView]]:
    """The authors of the accepted entries, by unit and name; and the unsigned entries."""
    found: dict[tuple[int, str], list[EntryView]] = defaultdict(list)
    unsigned: list[EntryView] = []
    for entry in entries:
        if entry.status is not EntryStatus.ACCEPTED:
            continue
        if entry.author is None or is_unnamed(entry.author):
            unsigned.append(entry)
            continue
        found[(entry.unit_id, name_key(entry.author))].append(entry)
    result = [
        Author(
            unit_id,
            mine[0].unit_name,
            mine[0].author or "",
            key,
            tuple(sorted(e.receipt for e in mine)),
        )
        for (unit_id, key), mine in found.items()
    ]
    result.sort(key=lambda a: (a.unit, a.key))
    unsigned.sort(key=lambda e: e.receipt)
    return result, unsigned


def _sound(name: str) -> str:
    return " ".join(lazy_pinyin(name))


def alike(found: Sequence[Author]) -> list[Alike]:
    """Pairs of authors of one unit whose names sound the same or nearly match."""
    by_unit: dict[int, list[Author]] = defaultdict(list)
    for author in found:
        by_unit[author.unit_id].append(author)
    pairs: list[Alike] = []
    for mine in by_unit.values():
        sounds = [_sound(a.key) for a in mine]
        for i, first in enumerate(mine):
            for j in range(i + 1, len(mine)):
                second = mine[j]
                if sounds[i] == sounds[j]:
                    pairs.append(Alike(first, second, "读音相同"))
                elif min(len(first.key), len(second.key)) >= 3 and (
                    fuzz.ratio(first.key, second.key) >= NEAR
                ):
                    pairs.append(Alike(first, second, "写法相近"))
    return pairs


class NoSuchAuthor(NotFound):
    def __init__(self, name: str, unit: str) -> None:
        super().__init__(f"「{unit}」没有作者「{name[:20]}」的作品。")


async def merge(
    book: EntryBook,
    unit_id: int,
    source: str,
    target: str,
    *,
    actor: int | None,
    now: datetime,
) -> list[int]:
    """Rename every accepted entry of `source` in the unit to `target`; the receipts changed."""
    if name_key(source) == name_key(target):
        raise Refusal("两个名字是同一个人，不需要合并。")
    entries = [e for e in await book.all_entries() if e.unit_id == unit_id]
    if not entries:
        raise NotFound("没有这个单位的作品。")
    mine = [
        e
        for e in entries
        if e.status is EntryStatus.ACCEPTED and e.author and name_key(e.author) == name_key(source)
    ]
    if not mine:
        raise NoSuchAuthor(source, entries[0].unit_name)
    changed = []
    for entry in mine:
        await book.set_author(entry.receipt, target, actor=actor, unit_id=None, now=now)
        changed.append(entry.receipt)
    return changed
