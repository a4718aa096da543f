"""One FAQ entry as the ranker and the chat see it (from config/faq.yaml or added in chat)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    phrasings: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # Rendered: rule answers already carry the contest's own quotas, deadline and platforms.
    answer: str = ""
    tags: tuple[str, ...] = ()
    images: tuple[Path, ...] = ()
    source: Literal["file", "chat"] = "file"
    # False: its steps through an app's menus were written without checking them on the app
    # (`reviewed: false` in faq.yaml); /faq 列表 and the dashboard mark it for an organizer.
    reviewed: bool = True
