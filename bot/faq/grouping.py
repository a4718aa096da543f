"""Group similar unanswered questions, so an organizer reads (and teaches) each topic once.

Two questions are alike when their normalised texts are nearly the same (`TEXT_ALIKE`, Indel
similarity: 党费怎么交 / 党费怎么交啊) or, with the semantic layer, when their meanings are
close (`MEANING_ALIKE`, cosine of their embeddings: 党费怎么交 / 党费交给谁). Grouping is
greedy and keeps the given order: each question joins the first group whose first question it
is like, so the most asked question leads its group. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Indel

TEXT_ALIKE = 0.75
MEANING_ALIKE = 0.95


def group_alike(texts: Sequence[str], vectors: np.ndarray | None = None) -> list[list[int]]:
    """Indices of `texts`, grouped; `vectors`: their embeddings (rows L2-normalised)."""
    groups: list[list[int]] = []
    for index, text in enumerate(texts):
        for members in groups:
            lead = members[0]
            close = Indel.normalized_similarity(text, texts[lead]) >= TEXT_ALIKE
            if not close and vectors is not None:
                close = float(vectors[index] @ vectors[lead]) >= MEANING_ALIKE
            if close:
                members.append(index)
                break
        else:
            groups.append([index])
    return groups
