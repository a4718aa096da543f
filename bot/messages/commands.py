"""Recognising a command in a message: `/帮助`, `／help`, `/单位列表` …

Pure text work. The table of known commands is built by the chat layer from what the
plugins register; this module only knows prefixes, names and how to split arguments.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.names import name_key

PREFIXES = ("/", "／")

# Spaces people type on phones: ASCII, full-width (U+3000), no-break.
SPACES = " \t\r\n\u3000\u00a0"
_SPACE = re.compile(r"[\s\u3000\u00a0]+")


@dataclass(frozen=True)
class CommandCall:
    key: str
    args: str
    # How many characters of the message's text the command word took (prefix and spaces
    # included): `segments_after` removes exactly these from the message's segments.
    head: int = field(default=0, compare=False)


def segments_after(segments: Sequence[Mapping[str, Any]], head: int) -> list[dict[str, Any]]:
    """The message's segments without the first `head` characters of its text (the command).

    Only text segments are cut (an @ or a share card before the command word stays); the
    result is a copy, so the event's message is not changed.
    """
    left = head
    kept: list[dict[str, Any]] = []
    for segment in segments:
        copy = {"type": segment["type"], "data": dict(segment.get("data") or {})}
        if left > 0 and copy["type"] == "text":
            text = str(copy["data"].get("text", ""))
            copy["data"]["text"] = text[left:]
            left = max(0, left - len(text))
            if not copy["data"]["text"]:
                continue
        kept.append(copy)
    return kept


def has_prefix(text: str) -> bool:
    return text.lstrip().startswith(PREFIXES)


def split_args(args: str) -> list[str]:
    """Words of an argument string; full-width and repeated spaces separate words too."""
    return [word for word in _SPACE.split(args.strip()) if word]


def sound(text: str) -> str:
    """How a Chinese word sounds, tones dropped (`提叫` and `提交` → "tijiao"): what a phone's
    pinyin keyboard confuses."""
    from pypinyin import lazy_pinyin  # a large table: loaded at the first mistyped command

    return "".join(lazy_pinyin(text))


class CommandTable:
    """Maps every name and alias to a command key."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._sounds: dict[str, str] | None = None

    def add(self, key: str, names: Iterable[str]) -> None:
        for name in names:
            folded = name_key(name)
            owner = self._names.get(folded)
            if owner is not None and owner != key:
                raise ValueError(f"command name {name!r} is used by {owner!r} and {key!r}")
            self._names[folded] = key
        self._sounds = None

    def _by_sound(self) -> dict[str, str]:
        if self._sounds is None:
            self._sounds = {sound(n): k for n, k in self._names.items() if not n.isascii()}
        return self._sounds

    def key_of(self, name: str) -> str | None:
        """The key a name or alias stands for (`help`, `/帮助` → `帮助`), or None."""
        return self._names.get(name_key(name.lstrip("".join(PREFIXES))))

    def resolve(self, text: str) -> CommandCall | None:
        """The command at the start of `text`, or None if it does not name one.

        `/单位 列表`, `/单位列表` (no space after a Chinese name) and `／HELP` all resolve.
        """
        body = text.lstrip()
        if not body.startswith(PREFIXES):
            return None
        body = body[1:].lstrip()
        return self.resolve_word(body, before=len(text) - len(body))

    def resolve_word(self, text: str, *, before: int = 0) -> CommandCall | None:
        """The name `text` starts with (no prefix: a subcommand word such as `绑定`), or None.

        `args` keeps its line breaks (an FAQ answer has steps); `head` counts `before` (what
        came earlier in the message) plus the spaces and the name itself.
        """
        body = text.lstrip(SPACES)
        before += len(text) - len(body)
        parts = _SPACE.split(body, maxsplit=1)
        head = parts[0] if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        key = self._names.get(name_key(head))
        if key is not None:
            return CommandCall(key, rest.strip(), before + len(head))
        # A Chinese name glued to its arguments: take the longest known name it starts with.
        folded = name_key(head)
        for name in sorted(self._names, key=len, reverse=True):
            if folded.startswith(name) and not name.isascii():
                glued = head[len(name) :]
                return CommandCall(self._names[name], f"{glued} {rest}".strip(), before + len(name))
        return None

    def suggest(self, text: str) -> str | None:
        """The key of the command closest to a mistyped one (`/帮组` → `帮助`), if any is close."""
        return self.suggest_word(text.lstrip()[1:])

    def suggest_word(self, text: str) -> str | None:
        """The key whose name is closest to the first word of `text` (`帮定` → `绑定`)."""
        body = text.lstrip(SPACES)
        head = _SPACE.split(body, maxsplit=1)[0] if body else ""
        if not head:
            return None
        folded = name_key(head)[:20]
        if not folded.isascii():
            # Same sound first: a pinyin keyboard picks the wrong character, not a wrong word.
            sounds = self._by_sound()
            heard = sound(folded)
            if heard in sounds:
                return sounds[heard]
            close = difflib.get_close_matches(heard, sounds, n=1, cutoff=0.8)
            if close:
                return sounds[close[0]]
        close = difflib.get_close_matches(folded, self._names, n=1, cutoff=0.5)
        return self._names[close[0]] if close else None
