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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from loguru import logger

from bot.messages.cq import to_cq_string
from bot.messages.parts import Part, Segment, Target
from bot.messages.render import render
from bot.settings.contest import MessagePolicy

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
    """A send the OneBot side refused (`retcode`) or that never got there (retcode None).

    `unanswered`: the request went out but no answer came (the API call timed out), so the
    message may well have been shown. `since` is the wall-clock time (epoch seconds) just
    before the request, `segments` the message that went unanswered and `left` how many
    messages of the same send were not attempted after it: what a history lookup needs to
    tell "shown" from "lost".
    """

    def __init__(
        self,
        retcode: int | None,
        message: str,
        *,
        unanswered: bool = False,
        since: float | None = None,
    ) -> None:
        super().__init__(retcode, message)
        self.retcode = retcode
        self.message = message
        self.unanswered = unanswered
        self.since = since
        self.segments: list[Segment] = []
        self.left = 0

    def __str__(self) -> str:
        if self.unanswered:
            return f"no answer: {self.message}"
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
                    error.segments = message
                    error.left = len(messages) - index - 1
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
