"""Parts rendered to OneBot v11 segment arrays: cleaned text, split at line breaks, capped @s."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from bot.messages.cq import clean_text
from bot.messages.parts import Image, Mention, Part, Quote, Segment, Text
from bot.settings.contest import MessagePolicy

# ---------------------------------------------------------------------------------------------
# Rendering


def _segment(part: Mention | Image) -> Segment:
    if isinstance(part, Mention):
        return {"type": "at", "data": {"qq": str(part.user_id)}}
    return {"type": "image", "data": {"file": "base64://" + base64.b64encode(part.data).decode()}}


def _as_parts(parts: Sequence[Part] | Part | str) -> Sequence[Part]:
    if isinstance(parts, str):
        return [Text(parts)]
    if isinstance(parts, Text | Mention | Image | Quote):
        return [parts]
    return parts


class _Packer:
    """Fills messages up to the length and mention limits."""

    def __init__(self, max_length: int, max_mentions: int) -> None:
        self.max_length = max_length
        self.max_mentions = max_mentions
        self.messages: list[list[Segment]] = []
        self.current: list[Segment] = []
        self.length = 0
        self.mentions = 0

    def flush(self) -> None:
        if self.current:
            self.messages.append(self.current)
        self.current, self.length, self.mentions = [], 0, 0

    def add_segment(self, segment: Segment) -> None:
        if segment["type"] == "at":
            if self.mentions >= self.max_mentions:
                self.flush()
            self.mentions += 1
        self.current.append(segment)

    def add_text(self, text: str) -> None:
        while text:
            room = self.max_length - self.length
            if len(text) <= room:
                self._append_text(text)
                return
            cut = text.rfind("\n", 0, room + 1)
            if cut >= 0:
                self._append_text(text[:cut].rstrip("\n"))
                text = text[cut + 1 :].lstrip("\n")
            elif self.current:
                pass  # start a fresh message rather than break a line that might fit there
            else:
                self._append_text(text[:room])
                text = text[room:]
            self.flush()

    def _append_text(self, text: str) -> None:
        if not text:
            return
        if self.current and self.current[-1]["type"] == "text":
            self.current[-1]["data"]["text"] += text
        else:
            self.current.append({"type": "text", "data": {"text": text}})
        self.length += len(text)


def _is_blank(message: list[Segment]) -> bool:
    return all(s["type"] == "text" and not s["data"]["text"].strip() for s in message)


def render(parts: Sequence[Part] | Part | str, policy: MessagePolicy) -> list[list[Segment]]:
    """Parts as OneBot v11 segment arrays, one array per message to send.

    Text is cleaned (`clean_text`) and adjacent Text parts merge. A message holds at most
    `policy.max_length` characters of text (split at a line break when there is one, else at a
    character boundary; other segments are never split) and at most `policy.max_mentions`
    mentions. A Quote goes first on the first message only. Blank messages are never produced:
    nothing to say gives an empty list.
    """
    items = _as_parts(parts)
    quotes = [p for p in items if isinstance(p, Quote)]
    if len(quotes) > 1:
        raise ValueError("a message can quote only one message")
    packer = _Packer(max(1, policy.max_length), max(1, policy.max_mentions))
    pending_text: list[str] = []
    for part in items:
        if isinstance(part, Text):
            pending_text.append(clean_text(part.text))
            continue
        if isinstance(part, Quote):
            continue
        packer.add_text("".join(pending_text))
        pending_text.clear()
        packer.add_segment(_segment(part))
    packer.add_text("".join(pending_text))
    packer.flush()
    messages = [m for m in packer.messages if not _is_blank(m)]
    if messages and quotes:
        messages[0].insert(0, {"type": "reply", "data": {"id": str(quotes[0].message_id)}})
    return messages


# Lines per node of a merged-forward message: a phone shows each node as one bubble.
FORWARD_NODE_CHARS = 600


def forward_nodes(text: str, name: str, self_id: int | str, policy: MessagePolicy) -> list[Segment]:
    """`text` as the nodes of one merged-forward message (go-cqhttp's `send_*_forward_msg`,
    which NapCat and Lagrange.OneBot answer): bubbles of whole lines, each cleaned like any
    other text, sent as the bot itself. Text only: no mention can travel in a node."""
    limit = min(FORWARD_NODE_CHARS, max(1, policy.max_length))
    bubble = MessagePolicy(max_length=max(200, limit), max_mentions=1)
    return [
        {
            "type": "node",
            "data": {"name": name, "uin": str(self_id), "content": message},
        }
        for message in render([Text(text)], bubble)
    ]
