"""Every message the bot sends goes through here.

A message is built from parts (`Text`, `Mention`, `Image`, `Quote`) and rendered to OneBot v11
segment arrays. User-supplied text only ever travels inside a `text` segment of an array
message, so it can never turn into a CQ code or an @全体成员; a `Mention` exists only for a
positive QQ id. Long text is split at line breaks, mentions are capped per message, and an
`Outbox` paces sends per target with a token bucket (QQ mutes bots that burst) and reports a
failed send in a `Delivery` instead of dropping it.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from loguru import logger

from bot.settings.contest import MessagePolicy

Segment: TypeAlias = dict[str, Any]
"""One OneBot v11 message segment: {"type": ..., "data": {...}}."""

# ---------------------------------------------------------------------------------------------
# Parts


@dataclass(frozen=True)
class Text:
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ValueError(f"Text needs a str, got {type(self.text).__name__}")


@dataclass(frozen=True)
class Mention:
    """@ one QQ user. Only a positive int id is accepted: an @全体成员 cannot be built."""

    user_id: int

    def __post_init__(self) -> None:
        # bool is an int subclass; "all", 0 and negatives are what @全体成员 looks like.
        if type(self.user_id) is not int or self.user_id <= 0:
            raise ValueError(f"Mention needs a positive QQ id, got {self.user_id!r}")


@dataclass(frozen=True)
class Image:
    """An image sent inline (OneBot `image` segment with file="base64://…")."""

    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes) or not self.data:
            raise ValueError("Image needs non-empty bytes")


@dataclass(frozen=True)
class Quote:
    """Reply to a message (OneBot `reply` segment); always the first segment of a message."""

    message_id: int

    def __post_init__(self) -> None:
        # go-cqhttp style message ids may be negative; only the type is checked.
        if type(self.message_id) is not int:
            raise ValueError(f"Quote needs an int message id, got {self.message_id!r}")


Part: TypeAlias = Text | Mention | Image | Quote

# ---------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    """Where a message goes: a QQ group or a private chat with one user."""

    kind: Literal["group", "private"]
    id: int

    def __post_init__(self) -> None:
        if self.kind not in ("group", "private"):
            raise ValueError(f"unknown target kind {self.kind!r}")
        if type(self.id) is not int or self.id <= 0:
            raise ValueError(f"target id must be a positive int, got {self.id!r}")

    @classmethod
    def group(cls, id: int) -> Target:
        return cls("group", id)

    @classmethod
    def private(cls, id: int) -> Target:
        return cls("private", id)

    def __str__(self) -> str:
        return f"{'群' if self.kind == 'group' else '私聊'} {self.id}"


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


# ---------------------------------------------------------------------------------------------
# Pacing


class TokenBucket:
    """`capacity` messages may go at once; after that one token comes back every `interval` s.

    `take` always succeeds and may leave the bucket in debt, which later `delay`s pay back, so
    a caller that slept a little less than asked still cannot exceed the rate.
    """

    def __init__(
        self, capacity: int, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._capacity = 1
        self._interval = 0.0
        self._tokens = 0.0
        self._updated = clock()
        self.configure(capacity, interval)
        self._tokens = float(self._capacity)

    def configure(self, capacity: int, interval: float) -> None:
        """New limits; tokens already saved up are kept as far as the new capacity allows."""
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if interval < 0:
            raise ValueError(f"interval must not be negative, got {interval}")
        self._refill(self._clock())
        self._capacity = capacity
        self._interval = float(interval)
        self._tokens = min(self._tokens, float(capacity))

    def _refill(self, now: float) -> None:
        if now <= self._updated:
            return
        if self._interval == 0:
            self._tokens = float(self._capacity)
        else:
            gained = (now - self._updated) / self._interval
            self._tokens = min(float(self._capacity), self._tokens + gained)
        self._updated = now

    def delay(self, now: float | None = None) -> float:
        """Seconds from `now` until a token is free (0 when one is free now)."""
        self._refill(self._clock() if now is None else now)
        if self._tokens >= 1 or self._interval == 0:
            return 0.0
        return (1 - self._tokens) * self._interval

    def take(self, now: float | None = None) -> None:
        """Use a token (call when `delay` has run out)."""
        self._refill(self._clock() if now is None else now)
        self._tokens -= 1


# ---------------------------------------------------------------------------------------------
# Sending


class SendFailed(Exception):
    """A send the OneBot side refused (`retcode`) or that never got there (retcode None)."""

    def __init__(self, retcode: int | None, message: str) -> None:
        super().__init__(retcode, message)
        self.retcode = retcode
        self.message = message

    def __str__(self) -> str:
        where = "no connection" if self.retcode is None else f"retcode={self.retcode}"
        return f"{where}: {self.message}"


class Transport(Protocol):
    """Sends one message; implemented by the plugin layer over NoneBot's `Bot.call_api`."""

    async def send(self, target: Target, message: list[Segment]) -> int | None:
        """Send one segment array; returns its message_id. Raises SendFailed."""
        ...


@dataclass
class Delivery:
    """What became of one `Outbox.send` call."""

    target: Target
    ok: bool
    message_ids: list[int] = field(default_factory=list)
    sent: int = 0
    failed: SendFailed | None = None


_PREVIEW_CHARS = 100


def _preview(message: list[Segment]) -> str:
    """A log-safe glimpse of a message: CQ form, images abbreviated, at most ~100 characters."""
    shown = [
        {"type": "image", "data": {"file": "…"}} if s["type"] == "image" else s for s in message
    ]
    text = to_cq_string(shown).replace("\n", " ")
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


class Outbox:
    """The one way out: renders, paces per target, sends in order, reports failures."""

    def __init__(
        self,
        policy: MessagePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_failure: Callable[[Target, SendFailed], Awaitable[None]] | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._on_failure = on_failure
        self._buckets: dict[Target, TokenBucket] = {}
        self._locks: dict[Target, asyncio.Lock] = {}
        self._sent_total = 0
        self._failed_total = 0

    @property
    def policy(self) -> MessagePolicy:
        return self._policy

    @property
    def sent_total(self) -> int:
        """Messages (pieces) sent successfully since start."""
        return self._sent_total

    @property
    def failed_total(self) -> int:
        """Sends that failed since start (one per failed `send` call)."""
        return self._failed_total

    def update_policy(self, policy: MessagePolicy) -> None:
        """Apply new settings; pacing state already built up is kept."""
        self._policy = policy
        for bucket in self._buckets.values():
            bucket.configure(policy.burst, policy.interval)

    def _bucket(self, target: Target) -> TokenBucket:
        bucket = self._buckets.get(target)
        if bucket is None:
            bucket = TokenBucket(self._policy.burst, self._policy.interval, self._clock)
            self._buckets[target] = bucket
        return bucket

    def _lock(self, target: Target) -> asyncio.Lock:
        return self._locks.setdefault(target, asyncio.Lock())

    async def send(
        self, transport: Transport, target: Target, parts: Sequence[Part] | Part | str
    ) -> Delivery:
        """Send `parts` to `target`, split into as many messages as needed.

        Never raises for a failed send: the failure is logged, passed to `on_failure` and
        returned in the Delivery, and the pieces after it are not sent.
        """
        messages = render(parts, self._policy)
        delivery = Delivery(target, ok=True)
        if not messages:
            logger.debug("Nothing to send to {}: the message is empty", target)
            return delivery
        async with self._lock(target):
            bucket = self._bucket(target)
            for index, message in enumerate(messages):
                wait = bucket.delay(self._clock())
                if wait > 0:
                    await self._sleep(wait)
                bucket.take(self._clock())
                try:
                    message_id = await transport.send(target, message)
                except SendFailed as error:
                    self._failed_total += 1
                    delivery.ok = False
                    delivery.failed = error
                    logger.warning(
                        "消息发送失败：{}，{}；未发出 {} 条（共 {} 条）。内容：{}",
                        target,
                        error,
                        len(messages) - index,
                        len(messages),
                        _preview(message),
                    )
                    break
                self._sent_total += 1
                delivery.sent += 1
                if message_id is not None:
                    delivery.message_ids.append(message_id)
        if delivery.failed is not None and self._on_failure is not None:
            try:
                await self._on_failure(target, delivery.failed)
            except Exception:
                logger.exception("on_failure handler raised for {}", target)
        return delivery
