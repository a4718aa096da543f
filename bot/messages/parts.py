"""What a message is made of: `Text`, `Mention`, `Image`, `Quote`, and where it goes (`Target`).

User-supplied text only ever travels inside a `Text`; a `Mention` exists only for a positive QQ
id, so an @全体成员 cannot be built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

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
