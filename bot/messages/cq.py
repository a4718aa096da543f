"""CQ strings (OneBot v11's text form of a message) and the hygiene of text we show.

Outgoing messages are always segment arrays; CQ strings are only read (`raw_message`, share
cards) and written for logs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.messages.parts import Segment

# ---------------------------------------------------------------------------------------------
# Text hygiene and CQ strings

_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
# C0/C1 controls except \t and \n; lone surrogates (they cannot be encoded to UTF-8);
# invisible and direction-changing characters that can make text look like something else.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
    "\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff]"
)
# A zero-width joiner is kept only where it glues an emoji sequence (👨‍👩‍👧).
_LONE_ZWJ = re.compile("(?<![\u2600-\u27bf\ufe0f\U0001f000-\U0001faff])\u200d")


def clean_text(s: str) -> str:
    """Text safe to show: no control characters, no invisible or bidi-override characters.

    Line breaks become "\\n"; tabs stay. Everything else is left alone, including text such as
    "[CQ:at,qq=all]" or "@全体成员", which is harmless inside a text segment.
    """
    s = _LINE_BREAKS.sub("\n", s)
    s = _INVISIBLE.sub("", s)
    return _LONE_ZWJ.sub("", s)


def cq_escape(text: str, *, escape_comma: bool = False) -> str:
    """Escape text for a CQ string (OneBot v11): & [ ] always, "," inside CQ code params."""
    text = text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    if escape_comma:
        text = text.replace(",", "&#44;")
    return text


def cq_unescape(text: str) -> str:
    """Inverse of `cq_escape` (either flavour)."""
    return (
        text.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")
    )


def to_cq_string(segments: Sequence[Segment]) -> str:
    """The CQ string form of a segment array (for logs and raw_message)."""
    out: list[str] = []
    for segment in segments:
        kind = str(segment["type"])
        data: dict[str, Any] = segment.get("data") or {}
        if kind == "text":
            out.append(cq_escape(str(data.get("text", ""))))
            continue
        params = "".join(
            f",{cq_escape(str(key), escape_comma=True)}={cq_escape(str(value), escape_comma=True)}"
            for key, value in data.items()
            if value is not None
        )
        out.append(f"[CQ:{cq_escape(kind, escape_comma=True)}{params}]")
    return "".join(out)


_CQ_CODE = re.compile(r"\[CQ:([^,\[\]]+)((?:,[^,\[\]]*)*)\]")


def parse_cq_string(message: str) -> list[Segment]:
    """Parse a CQ string into a segment array, as a OneBot implementation does."""
    segments: list[Segment] = []

    def add_text(text: str) -> None:
        if text:
            segments.append({"type": "text", "data": {"text": cq_unescape(text)}})

    position = 0
    for match in _CQ_CODE.finditer(message):
        add_text(message[position : match.start()])
        data: dict[str, str] = {}
        for param in match.group(2).split(",")[1:]:
            key, _, value = param.partition("=")
            data[cq_unescape(key)] = cq_unescape(value)
        segments.append({"type": cq_unescape(match.group(1)), "data": data})
        position = match.end()
    add_text(message[position:])
    return segments
