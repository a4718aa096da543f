"""A OneBot v11 stand-in that behaves like NapCat / go-cqhttp on the wire.

The e2e tests play QQ with it, and `python -m bot demo` (bot/demo/server.py) puts it behind the
QQ-like page at /try/: the bot never knows the difference.

The bot under test talks to it over a real WebSocket, in either direction:

- `FakeOneBot` is a reverse-WebSocket client (the usual NapCat set-up): it connects to the
  bot's `/onebot/v11/ws` with `X-Self-ID`, `X-Client-Role: Universal` and the bearer token,
  and sends the lifecycle `connect` event at once.
- `FakeOneBotServer` is a forward-WebSocket server (`ONEBOT_WS_URLS`): the bot connects to
  it; it checks the bot's token and then behaves the same way.

Both build events exactly as OneBot v11 posts them (segment arrays plus the CQ-string
`raw_message`), record every API call the bot makes, answer with realistic data, and can be
told to fail an action the way go-cqhttp does (`retcode` 100, `SEND_MSG_API_ERROR`).

They can also show a message and never answer the call (`never_answer`: the group sees it,
the bot's request times out), and answer `get_group_msg_history` the way NapCat does
(`message_seq`, `count`: the newest messages), the way Lagrange.OneBot does (`message_id`,
`count`: back from that message; no `message_id` is an error), or fail it (`history_style`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

Segment = dict[str, Any]
MessageInput = str | Segment | Sequence[Segment]
ActionHandler = Callable[[dict[str, Any]], Any]

FORWARD_ACTIONS = frozenset({"send_group_forward_msg", "send_private_forward_msg"})
SEND_ACTIONS = frozenset({"send_group_msg", "send_private_msg", "send_msg"}) | FORWARD_ACTIONS
HISTORY_STYLES = frozenset({"napcat", "lagrange", "error", "missing"})
ROLES = frozenset({"owner", "admin", "member"})


# --- message segments and CQ strings ----------------------------------------------------------


def text(content: str) -> Segment:
    return {"type": "text", "data": {"text": content}}


def at(qq: int | str) -> Segment:
    """A mention; `at("all")` is @全体成员."""
    return {"type": "at", "data": {"qq": str(qq)}}


def reply(message_id: int) -> Segment:
    return {"type": "reply", "data": {"id": str(message_id)}}


def image(file: str = "E1A7C5E0B3D9A1F2.jpg", url: str | None = None) -> Segment:
    url = url or f"https://gchat.qpic.cn/gchatpic_new/0/0-0-{file.split('.')[0]}/0?term=2"
    return {"type": "image", "data": {"file": file, "subType": "0", "url": url}}


def face(face_id: int) -> Segment:
    return {"type": "face", "data": {"id": str(face_id)}}


def json_card(data: dict[str, Any] | str) -> Segment:
    """A mini-program / link card as QQ sends it: the card's JSON as a string."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return {"type": "json", "data": {"data": payload}}


def escape_text(content: str) -> str:
    """CQ escaping of plain text (go-cqhttp `EscapeText`): & [ ] only."""
    return content.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")


def escape_value(content: str) -> str:
    """CQ escaping of a CQ-code parameter value (go-cqhttp `EscapeValue`): also the comma."""
    return escape_text(content).replace(",", "&#44;")


def unescape(content: str) -> str:
    return (
        content.replace("&#44;", ",")
        .replace("&#91;", "[")
        .replace("&#93;", "]")
        .replace("&amp;", "&")
    )


def to_segments(message: MessageInput) -> list[Segment]:
    """Plain text becomes one text segment; a segment or a list of segments is copied."""
    if isinstance(message, str):
        return [text(message)]
    if isinstance(message, dict):
        return [_copy_segment(message)]
    return [_copy_segment(segment) for segment in message]


def _copy_segment(segment: Segment) -> Segment:
    return {"type": segment["type"], "data": dict(segment.get("data") or {})}


def to_cq_string(segments: Iterable[Segment]) -> str:
    """The `raw_message` OneBot v11 sends alongside the segment array."""
    parts: list[str] = []
    for segment in segments:
        if segment["type"] == "text":
            parts.append(escape_text(str(segment["data"].get("text", ""))))
            continue
        params = "".join(
            f",{key}={escape_value(str(value))}"
            for key, value in segment["data"].items()
            if value is not None
        )
        parts.append(f"[CQ:{segment['type']}{params}]")
    return "".join(parts)


_CQ_CODE = re.compile(r"\[CQ:([A-Za-z0-9_.\-]+)((?:,[^,\]]*)*)\]")


def parse_cq_string(message: str) -> list[Segment]:
    """Segments of a CQ string, as an implementation parses a string `message` parameter."""
    segments: list[Segment] = []
    position = 0
    for match in _CQ_CODE.finditer(message):
        if match.start() > position:
            segments.append(text(unescape(message[position : match.start()])))
        data: dict[str, Any] = {}
        for pair in filter(None, match.group(2).split(",")):
            key, _, value = pair.partition("=")
            data[key] = unescape(value)
        segments.append({"type": match.group(1), "data": data})
        position = match.end()
    if position < len(message):
        segments.append(text(unescape(message[position:])))
    return segments


# --- what the bot did -----------------------------------------------------------------------


class MessageNotFound(LookupError):
    """get_msg for a message this implementation never saw (go-cqhttp: retcode 100)."""


@dataclass
class ApiCall:
    """One API request from the bot, as received."""

    action: str
    params: dict[str, Any]
    echo: Any
    at: float = field(default_factory=time.monotonic)
    failed: bool = False  # answered with status "failed"


@dataclass
class SentMessage:
    """A message the bot sent (send_group_msg / send_private_msg / send_msg), normalised."""

    action: str
    group_id: int | None
    user_id: int | None
    segments: list[Segment]
    params: dict[str, Any]
    failed: bool = False

    @property
    def text(self) -> str:
        """The concatenated text segments (mentions, images, … left out)."""
        return "".join(str(s["data"].get("text", "")) for s in self.segments if s["type"] == "text")

    @property
    def mentions(self) -> list[str]:
        """The `qq` of every at segment, as strings ("all" for @全体成员)."""
        return [str(s["data"].get("qq")) for s in self.segments if s["type"] == "at"]

    @property
    def cq(self) -> str:
        return to_cq_string(self.segments)

    @property
    def forward(self) -> bool:
        """A merged-forward message (`segments` are its nodes)."""
        return self.action in FORWARD_ACTIONS

    @property
    def node_texts(self) -> list[str]:
        """The text of each node of a merged-forward message."""
        return [
            "".join(
                str(s["data"].get("text", ""))
                for s in to_segments(node["data"].get("content", []))
                if s["type"] == "text"
            )
            for node in self.segments
            if node["type"] == "node"
        ]


def sent_message(call: ApiCall) -> SentMessage:
    params = call.params
    message = params.get("messages" if call.action in FORWARD_ACTIONS else "message", "")
    if isinstance(message, str):
        auto_escape = params.get("auto_escape") in (True, "true", 1)
        segments = [text(message)] if auto_escape else parse_cq_string(message)
    elif isinstance(message, dict):
        segments = [_copy_segment(message)]
    else:
        segments = [_copy_segment(s) for s in message]
    group_id = params.get("group_id")
    user_id = params.get("user_id")
    if call.action in ("send_private_msg", "send_private_forward_msg") or (
        call.action == "send_msg" and params.get("message_type") == "private"
    ):
        group_id = None
    elif call.action in ("send_group_msg", "send_group_forward_msg") or (
        params.get("message_type") == "group"
    ):
        user_id = None
    return SentMessage(
        action=call.action,
        group_id=int(group_id) if group_id is not None else None,
        user_id=int(user_id) if user_id is not None else None,
        segments=segments,
        params=params,
        failed=call.failed,
    )


class HandshakeRejected(Exception):
    """The bot refused the WebSocket handshake (HTTP 403 for a wrong token)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(f"WebSocket handshake rejected with HTTP {status} {message}".strip())
        self.status = status


@dataclass
class _Failure:
    retcode: int
    msg: str
    wording: str

    def answer(self, echo: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "status": "failed",
            "retcode": self.retcode,
            "data": None,
            "msg": self.msg,
            "wording": self.wording,
            "echo": echo,
        }
        if self.retcode == 1200:
            answer["message"] = self.wording  # NapCat names the text `message`
        return answer


# --- the implementation ---------------------------------------------------------------------


class OneBotImplementation:
    """Events, API answers and assertions; the transport is left to the subclasses."""

    def __init__(self, self_id: int = 2_000_000_001, token: str | None = None) -> None:
        self.self_id = self_id
        self.token = token
        self.nickname = "大赛助手"
        self.calls: list[ApiCall] = []
        self.events: list[dict[str, Any]] = []
        # message id → (action, params, time) of what the bot sent, for get_msg
        self._sent_by_id: dict[int, tuple[str, dict[str, Any], int]] = {}
        # Tables answering get_* actions; tests fill them.
        self.groups: dict[int, str] = {}
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self.friends: dict[int, str] = {}
        self.handlers: dict[str, ActionHandler] = {}
        self._message_ids = itertools.count(1001)
        self._one_shot_failures: dict[str, list[_Failure]] = {}
        self._persistent_failures: dict[str, _Failure] = {}
        self._consumed: set[int] = set()
        self._changed = asyncio.Event()
        self._ws: Any = None
        # Calls shown but never answered, per action (see never_answer).
        self._unanswered: dict[str, int] = {}
        # How get_group_msg_history behaves: "napcat", "lagrange", "error" or "missing".
        self.history_style = "napcat"
        # Called with every call once it is answered, and the answer's data (None if it
        # failed): the demo page shows what the bot sent as it arrives.
        self.listeners: list[Callable[[ApiCall, Any], None]] = []

    # -- transport hooks

    async def post(self, event: dict[str, Any]) -> dict[str, Any]:
        """Send one event to the bot."""
        if self._ws is None or self._ws.closed:
            raise ConnectionError("the bot is not connected")
        self.events.append(event)
        await self._ws.send_str(json.dumps(event, ensure_ascii=False))
        return event

    async def post_many(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            await self.post(event)

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def _serve(self, ws: Any) -> None:
        """Read the bot's API requests until the socket closes."""
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            request = json.loads(frame.data)
            answer = self.answer(request)
            if answer is not None:
                await ws.send_str(json.dumps(answer, ensure_ascii=False))

    # -- tables

    def set_member(
        self,
        group_id: int,
        user_id: int,
        *,
        role: str = "member",
        nickname: str | None = None,
        card: str = "",
    ) -> None:
        """Who is in a group and with which role (get_group_member_info answers from this)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}")
        self.groups.setdefault(group_id, f"测试群{group_id}")
        self.members[(group_id, user_id)] = {
            "role": role,
            "nickname": nickname or f"用户{user_id}",
            "card": card,
        }

    def set_role(self, group_id: int, user_id: int, role: str) -> None:
        member = self.members.get((group_id, user_id), {})
        self.set_member(
            group_id,
            user_id,
            role=role,
            nickname=member.get("nickname"),
            card=member.get("card", ""),
        )

    def on_action(self, action: str, handler: ActionHandler) -> None:
        """Answer `action` with `handler(params)`; raising `LookupError` answers 1404."""
        self.handlers[action] = handler

    # -- events

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def _base(self, post_type: str) -> dict[str, Any]:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": post_type}

    def lifecycle(self, sub_type: str = "connect") -> dict[str, Any]:
        return {**self._base("meta_event"), "meta_event_type": "lifecycle", "sub_type": sub_type}

    def heartbeat(self, interval_ms: int = 5000) -> dict[str, Any]:
        return {
            **self._base("meta_event"),
            "meta_event_type": "heartbeat",
            "status": {"online": True, "good": True},
            "interval": interval_ms,
        }

    def group_message(
        self,
        group_id: int,
        user_id: int,
        message: MessageInput,
        *,
        role: str | None = None,
        nickname: str | None = None,
        card: str | None = None,
    ) -> dict[str, Any]:
        """A group message event; sender role/nickname/card default to the member table."""
        member = self.members.get((group_id, user_id), {})
        role = role or member.get("role", "member")
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}")
        self.groups.setdefault(group_id, f"测试群{group_id}")
        segments = to_segments(message)
        message_id = self.next_message_id()
        return {
            **self._base("message"),
            "message_type": "group",
            "sub_type": "normal",
            "message_id": message_id,
            "real_id": message_id,
            "message_seq": message_id,
            "group_id": group_id,
            "user_id": user_id,
            "anonymous": None,
            "message": segments,
            "message_format": "array",
            "raw_message": to_cq_string(segments),
            "font": 0,
            "sender": {
                "user_id": user_id,
                "nickname": nickname or member.get("nickname") or f"用户{user_id}",
                "card": card if card is not None else member.get("card", ""),
                "sex": "unknown",
                "age": 0,
                "area": "",
                "level": "1",
                "role": role,
                "title": "",
            },
        }

    def private_message(
        self, user_id: int, message: MessageInput, *, nickname: str | None = None
    ) -> dict[str, Any]:
        """A private (friend) message event."""
        segments = to_segments(message)
        message_id = self.next_message_id()
        return {
            **self._base("message"),
            "message_type": "private",
            "sub_type": "friend",
            "message_id": message_id,
            "real_id": message_id,
            "user_id": user_id,
            "target_id": self.self_id,
            "message": segments,
            "message_format": "array",
            "raw_message": to_cq_string(segments),
            "font": 0,
            "sender": {
                "user_id": user_id,
                "nickname": nickname or self.friends.get(user_id) or f"用户{user_id}",
                "sex": "unknown",
                "age": 0,
            },
        }

    def _notice(self, notice_type: str, **fields: Any) -> dict[str, Any]:
        return {**self._base("notice"), "notice_type": notice_type, **fields}

    def member_joined(
        self, group_id: int, user_id: int, *, operator_id: int = 0, sub_type: str = "approve"
    ) -> dict[str, Any]:
        """group_increase: somebody joined (sub_type approve or invite)."""
        self.members.setdefault(
            (group_id, user_id), {"role": "member", "nickname": f"用户{user_id}", "card": ""}
        )
        return self._notice(
            "group_increase",
            sub_type=sub_type,
            group_id=group_id,
            user_id=user_id,
            operator_id=operator_id,
        )

    def group_ban(
        self,
        group_id: int,
        *,
        user_id: int | None = None,
        operator_id: int = 10_000,
        duration: int = 600,
        sub_type: str = "ban",
    ) -> dict[str, Any]:
        """group_ban; by default the bot itself is muted (user_id == self_id)."""
        return self._notice(
            "group_ban",
            sub_type=sub_type,
            group_id=group_id,
            user_id=self.self_id if user_id is None else user_id,
            operator_id=operator_id,
            duration=duration if sub_type == "ban" else 0,
        )

    def admin_changed(self, group_id: int, user_id: int, *, admin: bool) -> dict[str, Any]:
        """group_admin: `user_id` made an admin (set) or no longer one (unset)."""
        self.set_role(group_id, user_id, "admin" if admin else "member")
        return self._notice(
            "group_admin",
            sub_type="set" if admin else "unset",
            group_id=group_id,
            user_id=user_id,
        )

    def group_decrease(
        self,
        group_id: int,
        *,
        user_id: int | None = None,
        operator_id: int = 10_000,
        sub_type: str = "kick_me",
    ) -> dict[str, Any]:
        """group_decrease; by default the bot was removed (sub_type kick_me)."""
        return self._notice(
            "group_decrease",
            sub_type=sub_type,
            group_id=group_id,
            user_id=self.self_id if user_id is None else user_id,
            operator_id=operator_id,
        )

    async def post_group_message(
        self, group_id: int, user_id: int, message: MessageInput, **sender: Any
    ) -> dict[str, Any]:
        return await self.post(self.group_message(group_id, user_id, message, **sender))

    async def post_private_message(
        self, user_id: int, message: MessageInput, **sender: Any
    ) -> dict[str, Any]:
        return await self.post(self.private_message(user_id, message, **sender))

    # -- API answers

    def fail_next(
        self,
        action: str,
        *,
        retcode: int = 100,
        msg: str = "SEND_MSG_API_ERROR",
        wording: str = "请参考 go-cqhttp 端输出",
    ) -> None:
        """The next call of `action` fails as go-cqhttp answers a failed send."""
        self._one_shot_failures.setdefault(action, []).append(_Failure(retcode, msg, wording))

    def fail_all(
        self,
        action: str,
        *,
        retcode: int = 100,
        msg: str = "SEND_MSG_API_ERROR",
        wording: str = "请参考 go-cqhttp 端输出",
    ) -> None:
        """Every call of `action` fails until `recover()`."""
        self._persistent_failures[action] = _Failure(retcode, msg, wording)

    def never_answer(self, action: str, times: int = 1) -> None:
        """The next `times` calls of `action` take effect (a message is shown in the group and
        kept in its history) but are never answered: the bot's call times out."""
        self._unanswered[action] = self._unanswered.get(action, 0) + times

    def recover(self, action: str | None = None) -> None:
        """Stop failing `action` (or every action)."""
        if action is None:
            self._persistent_failures.clear()
            self._one_shot_failures.clear()
        else:
            self._persistent_failures.pop(action, None)
            self._one_shot_failures.pop(action, None)

    def answer(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Record an API request and build the response frame (None: never answered)."""
        action = str(request.get("action", ""))
        params = request.get("params") or {}
        echo = request.get("echo")
        call = ApiCall(action, params, echo)
        self.calls.append(call)
        self._changed.set()
        self._changed = asyncio.Event()

        queued = self._one_shot_failures.get(action)
        failure = queued.pop(0) if queued else self._persistent_failures.get(action)
        if failure is not None:
            call.failed = True
            return failure.answer(echo)
        try:
            data = self._data(action, params)
        except MessageNotFound:
            call.failed = True
            return {
                "status": "failed",
                "retcode": 100,
                "data": None,
                "msg": "MSG_NOT_FOUND",
                "wording": "消息不存在",
                "echo": echo,
            }
        except LookupError:
            call.failed = True
            return {
                "status": "failed",
                "retcode": 1404,
                "data": None,
                "msg": "API_NOT_FOUND",
                "wording": "API不存在",
                "echo": echo,
            }
        if action in SEND_ACTIONS and isinstance(data, dict) and "message_id" in data:
            # Like NapCat and go-cqhttp, get_msg also finds the messages the bot sent.
            self._sent_by_id[int(data["message_id"])] = (action, params, int(time.time()))
        for listener in self.listeners:
            listener(call, data)
        if self._unanswered.get(action):
            self._unanswered[action] -= 1
            return None
        return {"status": "ok", "retcode": 0, "data": data, "echo": echo}

    def _data(self, action: str, params: dict[str, Any]) -> Any:
        if action in self.handlers:
            return self.handlers[action](params)
        if action in FORWARD_ACTIONS:
            nodes = params.get("messages")
            if not isinstance(nodes, list) or not nodes:
                raise MessageNotFound(0)  # NapCat: retcode 100 for an empty forward
            return {"message_id": self.next_message_id(), "res_id": f"res-{len(self.calls)}"}
        if action in SEND_ACTIONS:
            return {"message_id": self.next_message_id()}
        if action == "get_login_info":
            return {"user_id": self.self_id, "nickname": self.nickname}
        if action == "get_msg":
            return self._message(int(params["message_id"]))
        if action == "get_group_member_info":
            return self._member_info(int(params["group_id"]), int(params["user_id"]))
        if action == "get_group_member_list":
            group_id = int(params["group_id"])
            return [self._member_info(g, u) for (g, u) in self.members if g == group_id]
        if action == "get_group_list":
            return [self._group_info(group_id) for group_id in self.groups]
        if action == "get_group_info":
            return self._group_info(int(params["group_id"]))
        if action == "get_group_msg_history":
            return self._history(params)
        if action == "get_stranger_info":
            user_id = int(params["user_id"])
            return {
                "user_id": user_id,
                "nickname": self.friends.get(user_id) or f"用户{user_id}",
                "sex": "unknown",
                "age": 0,
            }
        if action == "get_friend_list":
            return [
                {"user_id": user_id, "nickname": nickname, "remark": ""}
                for user_id, nickname in self.friends.items()
            ]
        if action == "get_status":
            return {"online": True, "good": True}
        if action == "get_version_info":
            return {"app_name": "NapCat.Onebot", "app_version": "4.0.0", "protocol_version": "v11"}
        if action in ("can_send_image", "can_send_record"):
            return {"yes": True}
        raise LookupError(action)

    def _message(self, message_id: int) -> dict[str, Any]:
        """get_msg: a message event this implementation posted, as go-cqhttp returns it."""
        for event in reversed(self.events):
            if event.get("post_type") == "message" and event.get("message_id") == message_id:
                return {
                    "time": event["time"],
                    "message_type": event["message_type"],
                    "message_id": message_id,
                    "real_id": message_id,
                    "sender": event["sender"],
                    "message": event["message"],
                    "raw_message": event["raw_message"],
                    "group": event["message_type"] == "group",
                    "group_id": event.get("group_id"),
                }
        if message_id in self._sent_by_id:
            action, params, at = self._sent_by_id[message_id]
            segments = to_segments(params.get("message", ""))
            group = action == "send_group_msg" or params.get("message_type") == "group"
            return {
                "time": at,
                "message_type": "group" if group else "private",
                "message_id": message_id,
                "real_id": message_id,
                "sender": {"user_id": self.self_id, "nickname": self.nickname},
                "message": segments,
                "raw_message": to_cq_string(segments),
                "group": group,
                "group_id": params.get("group_id"),
            }
        raise MessageNotFound(message_id)

    def _timeline(self, group_id: int) -> list[dict[str, Any]]:
        """A group's messages, oldest first: members' events and what the bot sent there."""
        ids = [
            e["message_id"]
            for e in self.events
            if e.get("message_type") == "group" and e.get("group_id") == group_id
        ]
        ids += [
            message_id
            for message_id, (action, params, _at) in self._sent_by_id.items()
            if action != "send_private_msg" and int(params.get("group_id") or 0) == group_id
        ]
        messages = [self._message(message_id) for message_id in ids]
        return sorted(messages, key=lambda m: (m["time"], m["message_id"]))

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """get_group_msg_history as NapCat or Lagrange.OneBot answers it (`history_style`)."""
        if self.history_style == "missing":
            raise LookupError("get_group_msg_history")
        if self.history_style == "error":
            raise MessageNotFound(0)
        timeline = self._timeline(int(params["group_id"]))
        count = max(1, min(int(params.get("count") or 20), 100))
        if self.history_style == "lagrange":
            if "message_id" not in params:
                raise MessageNotFound(0)  # Lagrange reads back from a message it must find
            anchor = int(params["message_id"])
            positions = [i for i, m in enumerate(timeline) if m["message_id"] == anchor]
            if not positions:
                raise MessageNotFound(anchor)
            return {"messages": timeline[max(0, positions[0] + 1 - count) : positions[0] + 1]}
        seq = int(params.get("message_seq") or 0)
        if seq:
            timeline = [m for m in timeline if m["message_id"] <= seq]
        return {"messages": timeline[-count:]}

    def _member_info(self, group_id: int, user_id: int) -> dict[str, Any]:
        member = self.members.get((group_id, user_id)) or {
            "role": "member",
            "nickname": f"用户{user_id}",
            "card": "",
        }
        now = int(time.time())
        return {
            "group_id": group_id,
            "user_id": user_id,
            "nickname": member["nickname"],
            "card": member["card"],
            "sex": "unknown",
            "age": 0,
            "area": "",
            "join_time": now - 86_400,
            "last_sent_time": now,
            "level": "1",
            "role": member["role"],
            "unfriendly": False,
            "title": "",
            "title_expire_time": 0,
            "card_changeable": member["role"] != "member",
        }

    def _group_info(self, group_id: int) -> dict[str, Any]:
        count = sum(1 for (g, _) in self.members if g == group_id)
        return {
            "group_id": group_id,
            "group_name": self.groups.get(group_id, f"测试群{group_id}"),
            "member_count": max(count, 1),
            "max_member_count": 500,
        }

    # -- assertions

    def calls_of(self, action: str) -> list[ApiCall]:
        return [call for call in self.calls if call.action == action]

    def sent(self, group_id: int | None = None, user_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (including failed attempts), optionally to one group/user."""
        messages = [sent_message(call) for call in self.calls if call.action in SEND_ACTIONS]
        return [
            m
            for m in messages
            if (group_id is None or m.group_id == group_id)
            and (user_id is None or m.user_id == user_id)
        ]

    def sent_texts(self, group_id: int | None = None, user_id: int | None = None) -> list[str]:
        return [m.text for m in self.sent(group_id=group_id, user_id=user_id)]

    async def wait_call(
        self,
        action: str | Iterable[str],
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """The params of the earliest not yet awaited call of `action` matching `predicate`.

        Each call is handed out once, so two waits for the same action see two calls.
        """
        call = await self._wait(action, lambda c: predicate is None or predicate(c.params), timeout)
        return call.params

    async def wait_sent(
        self,
        group_id: int | None = None,
        user_id: int | None = None,
        *,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The next message the bot sends (any send action) to the group/user."""

        def matches(call: ApiCall) -> bool:
            message = sent_message(call)
            return (
                (group_id is None or message.group_id == group_id)
                and (user_id is None or message.user_id == user_id)
                and (predicate is None or predicate(message))
            )

        call = await self._wait(SEND_ACTIONS, matches, timeout)
        return sent_message(call)

    async def _wait(
        self, action: str | Iterable[str], matches: Callable[[ApiCall], bool], timeout: float
    ) -> ApiCall:
        actions = {action} if isinstance(action, str) else set(action)
        deadline = time.monotonic() + timeout
        while True:
            for index, call in enumerate(self.calls):
                if index not in self._consumed and call.action in actions and matches(call):
                    self._consumed.add(index)
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [
                    f"{c.action} {json.dumps(c.params, ensure_ascii=False)}" for c in self.calls
                ]
                raise AssertionError(
                    f"no matching {sorted(actions)} call within {timeout} s; calls so far:\n  "
                    + "\n  ".join(seen or ["(none)"])
                )
            changed = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def expect_silence(
        self, seconds: float = 1.0, group_id: int | None = None, user_id: int | None = None
    ) -> None:
        """Assert the bot sends nothing (to the group/user, if given) for `seconds`."""
        before = len(self.sent(group_id=group_id, user_id=user_id))
        await asyncio.sleep(seconds)
        after = self.sent(group_id=group_id, user_id=user_id)
        if len(after) > before:
            texts = [m.cq for m in after[before:]]
            raise AssertionError(f"expected silence, but the bot sent: {texts}")

    def clear(self) -> None:
        """Forget recorded calls and events (tables and failure settings stay)."""
        self.calls.clear()
        self.events.clear()
        self._consumed.clear()


class FakeOneBot(OneBotImplementation):
    """Reverse WebSocket: the implementation connects to the bot (`ws://host:port/onebot/v11/ws`)."""

    def __init__(self, self_id: int = 2_000_000_001, token: str | None = None) -> None:
        super().__init__(self_id, token)
        self._session: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def connect(
        self, url: str, *, heartbeat: float | None = None, timeout: float = 10
    ) -> None:
        """Open the WebSocket and send the lifecycle event; `HandshakeRejected` on 401/403."""
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": "Universal"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        session = aiohttp.ClientSession()
        try:
            ws = await asyncio.wait_for(session.ws_connect(url, headers=headers), timeout)
        except aiohttp.WSServerHandshakeError as error:
            await session.close()
            raise HandshakeRejected(error.status, error.message) from error
        except BaseException:
            await session.close()
            raise
        self._session, self._ws = session, ws
        self._reader = asyncio.create_task(self._serve(ws))
        await self.post(self.lifecycle("connect"))
        if heartbeat:
            self._heartbeat = asyncio.create_task(self._beat(heartbeat))

    async def _beat(self, interval: float) -> None:
        while self.connected:
            await asyncio.sleep(interval)
            with contextlib.suppress(ConnectionError, ConnectionResetError):
                await self.post(self.heartbeat(int(interval * 1000)))

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until the bot closes the connection."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)

    async def close(self) -> None:
        for task in (self._heartbeat,):
            if task is not None:
                task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 5)
        if self._session is not None:
            await self._session.close()
        self._ws = self._session = self._reader = self._heartbeat = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class FakeOneBotServer(OneBotImplementation):
    """Forward WebSocket: the bot connects to us (`ONEBOT_WS_URLS=["<srv.url>"]`)."""

    def __init__(
        self, self_id: int = 2_000_000_001, token: str | None = None, host: str = "127.0.0.1"
    ) -> None:
        super().__init__(self_id, token)
        self.host = host
        self.port = 0
        self.rejected: list[int] = []  # HTTP statuses of refused handshakes
        self.connections = 0
        self._runner: web.AppRunner | None = None
        self._connected = asyncio.Event()
        self._rejected = asyncio.Event()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/", self._handle)
        app.router.add_get("/ws", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.token:
            given = request.headers.get("Authorization", "")
            given = given.removeprefix("Bearer ").removeprefix("Token ").strip()
            given = given or request.query.get("access_token", "")
            status = 401 if not given else 403 if given != self.token else 0
            if status:
                self.rejected.append(status)
                self._rejected.set()
                return web.Response(status=status, text="invalid access token")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.connections += 1
        await self.post(self.lifecycle("connect"))
        self._connected.set()
        try:
            await self._serve(ws)
        finally:
            self._connected = asyncio.Event()
        return ws

    async def wait_connected(self, timeout: float = 15.0) -> None:
        """Wait until the bot has connected (NoneBot retries every 3 s)."""
        if not self.connected:
            await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_rejected(self, timeout: float = 15.0) -> int:
        """Wait until a handshake was refused; its HTTP status (401 missing, 403 wrong token)."""
        await asyncio.wait_for(self._rejected.wait(), timeout)
        return self.rejected[0]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._ws = self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
