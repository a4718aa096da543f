"""Grouping unanswered questions: near-identical wording or close meaning, most asked leads."""

from __future__ import annotations

import numpy as np

from bot.faq.grouping import group_alike


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_nearly_the_same_wording_is_one_group() -> None:
    assert group_alike(["党费怎么交", "食堂几点开饭", "党费怎么交呀"]) == [[0, 2], [1]]


def test_close_meaning_joins_a_group_only_with_vectors() -> None:
    texts = ["党费怎么交", "党费交给谁", "食堂几点开饭"]
    vectors = np.stack([_unit(1, 0.1, 0), _unit(1, 0.12, 0), _unit(0, 1, 0)])
    assert group_alike(texts) == [[0], [1], [2]]
    assert group_alike(texts, vectors) == [[0, 1], [2]]


def test_a_question_joins_the_first_group_whose_lead_it_is_like() -> None:
    texts = ["博客密码忘了", "微博密码忘了怎么办", "博客密码忘了咋办"]
    groups = group_alike(texts)
    assert groups[0][0] == 0
    assert sorted(i for g in groups for i in g) == [0, 1, 2]
