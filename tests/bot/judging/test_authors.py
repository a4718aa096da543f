"""Authors before judging: who the awards will count as one person, and the names that may be."""

from __future__ import annotations

from bot.judging.authors import Author, alike


def author(name: str, unit_id: int = 1, *receipts: int) -> Author:
    return Author(unit_id, f"单位{unit_id}", name, name, receipts or (1,))


def test_names_that_sound_alike_or_nearly_match_in_one_unit_are_offered() -> None:
    pairs = alike(
        [
            author("张三"),
            author("张叁"),  # same sound
            author("李晓明"),
            author("李小明"),  # same sound (tones ignored)
            author("欧阳明华"),
            author("欧阳明"),  # nearly the same writing
            author("王五"),
            author("张叁", 2),  # another unit: never the same person
        ]
    )
    found = {(p.first.name, p.second.name, p.reason) for p in pairs}
    assert found == {
        ("张三", "张叁", "读音相同"),
        ("李晓明", "李小明", "读音相同"),
        ("欧阳明华", "欧阳明", "写法相近"),
    }


def test_short_names_that_merely_share_a_character_are_left_apart() -> None:
    assert alike([author("张三"), author("张四"), author("李三")]) == []
