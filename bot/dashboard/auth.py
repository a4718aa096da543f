"""Signing in to the dashboard without passwords: one-time links, signed session cookies.

- `/后台` in private chat makes a one-time link (`LoginLinks.issue`): a random token of which
  only the SHA-256 is stored, valid for ten minutes. QQ's link scanner opens every link before
  the person does, so opening it (GET) must not use it: `peek` only looks. Pressing the sign-in
  button (POST) calls `redeem`, one conditional UPDATE: of two presses — or a press after
  expiry — at most one ever gets a grant, whatever the race.
- A session lives in the database (`SessionBook`); the cookie holds only a random token, the
  database its SHA-256. Signing out ends it for every copy of the cookie; roles come from the
  current config on every request. Forms carry a CSRF token derived from the cookie.
- The CSRF key is DASHBOARD_SECRET, or else a random key generated once and kept in
  `<data dir>/dashboard.secret` (0600).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from loguru import logger
from sqlmodel import col, select

from bot.clock import require_aware
from bot.dashboard.store import DashboardSession, LoginToken
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment
from bot.storage.db import Sessions, write_transaction
from bot.units.group_roles import GroupRoles
from bot.units.roles import Identity

LOGIN_TTL = timedelta(minutes=10)
# Used and expired links are kept a day (for the log of who signed in), then deleted.
KEEP_USED = timedelta(days=1)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
SECRET_FILE = "dashboard.secret"


@dataclass(frozen=True)
class Grant:
    """Who may use the dashboard, and as what (`province`: every contest, read-only)."""

    user_id: int
    organizer: bool
    judge: bool
    province: bool = False

    @property
    def role_name(self) -> str:
        if self.organizer and self.judge:
            return "组织者、评委"
        if not (self.organizer or self.judge):
            return "省级查看" if self.province else "无权限"
        return "组织者" if self.organizer else "评委"


PROVINCE_KEY = "province"


def grant_for(identity: Identity) -> Grant | None:
    """Organizers and judges get a sign-in link; nobody else does."""
    if not (identity.organizer or identity.judge):
        return None
    return Grant(identity.user_id, identity.organizer, identity.judge)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLinks:
    """One-time sign-in tokens in the database."""

    def __init__(self, sessions: Sessions, ttl: timedelta = LOGIN_TTL, prefix: str = "") -> None:
        self._sessions = sessions
        self.ttl = ttl
        # Starts every token: which contest of the deployment it signs in to ("xihu--").
        self.prefix = prefix

    async def issue(self, grant: Grant, now: datetime) -> str:
        """A new token for `grant`, valid for `ttl` from `now`; shown once, stored hashed."""
        require_aware(now)
        token = self.prefix + secrets.token_urlsafe(TOKEN_BYTES)
        async with write_transaction(self._sessions) as session:
            await session.exec(
                sa.delete(LoginToken).where(col(LoginToken.expires_at) < now - KEEP_USED)
            )
            session.add(
                LoginToken(
                    token_hash=token_hash(token),
                    user_id=grant.user_id,
                    organizer=grant.organizer,
                    judge=grant.judge,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        logger.info("为 {} 生成了后台登录链接（{}）", grant.user_id, grant.role_name)
        return token

    async def peek(self, token: str, now: datetime) -> bool:
        """Whether `token` could still be redeemed; changes nothing."""
        require_aware(now)
        if not _plausible(token):
            return False
        async with self._sessions() as session:
            found = (
                await session.exec(select(col(LoginToken.id)).where(*_usable(token, now)))
            ).first()
        return found is not None

    async def redeem(self, token: str, now: datetime) -> Grant | None:
        """Use `token`: its grant, once; None for an unknown, used or expired token."""
        require_aware(now)
        if not _plausible(token):
            return None
        async with write_transaction(self._sessions) as session:
            row = (
                await session.exec(
                    sa.update(LoginToken)
                    .where(*_usable(token, now))
                    .values(used_at=now)
                    .returning(
                        col(LoginToken.user_id), col(LoginToken.organizer), col(LoginToken.judge)
                    )
                )
            ).first()
        if row is None:
            logger.info("后台登录链接无效、已用过或已过期")
            return None
        grant = Grant(int(row[0]), bool(row[1]), bool(row[2]))
        logger.info("{} 登录了后台（{}）", grant.user_id, grant.role_name)
        return grant


def _plausible(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LENGTH and token.isascii()


# Between a contest's id and the random part of its tokens: only letters, digits, "-" and "_"
# in a link, so that whatever picks links out of a QQ message takes the whole token.
KEY_MARK = "--"


def contest_key(token: str) -> str:
    """Which contest a link's token or a cookie names: the id before the first "--" ("" for
    the first contest's, which carry no prefix)."""
    head, mark, _ = token.partition(KEY_MARK)
    return head if mark and 0 < len(head) <= 30 and head.isascii() else ""


def _usable(token: str, now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(LoginToken.token_hash) == token_hash(token),
        col(LoginToken.used_at).is_(None),
        col(LoginToken.expires_at) > now,
    )


# ------------------------------------------------------------------------ sessions


@dataclass(frozen=True)
class Session:
    """A signed-in person as of this request: roles from the current config."""

    user_id: int
    organizer: bool
    judge: bool
    expires_at: datetime
    province: bool = False

    @property
    def grant(self) -> Grant:
        return Grant(self.user_id, self.organizer, self.judge, self.province)


@dataclass(frozen=True)
class OpenSessions:
    """One person's open sessions (signed in, not expired, not signed out)."""

    user_id: int
    count: int
    last_started: datetime
    expires_at: datetime
    # Their role as of now ("" when they are no longer an organizer or judge).
    role_name: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SessionBook:
    """Sessions kept in the database (table `dashboard_session`).

    The cookie holds a random token; only its SHA-256 is stored. `find` answers a request:
    the session must exist, be unexpired and not signed out, and its person must still be an
    organizer or judge by the config the bot runs with — roles are never read from the cookie
    or the row, so a person removed from `organizers` or `judges` loses access at the restart
    that loads the change. An organizer only by being a served group's owner or admin stays
    one while `group_admins_are_organizers` holds and the bot has not since heard (from the
    groups' messages and admin notices, `GroupRoles`; QQ is never asked per click) that they
    are an admin of none of the served groups: a demoted admin loses access at the next click.
    `end` signs one session out everywhere, `end_all` every session of a person.
    """

    def __init__(
        self,
        sessions: Sessions,
        contest: Contest,
        superusers: frozenset[int],
        group_roles: GroupRoles | None = None,
        prefix: str = "",
        province: frozenset[int] = frozenset(),
    ) -> None:
        self._sessions = sessions
        self._contest = contest
        self._superusers = superusers
        self._group_roles = group_roles or GroupRoles()
        # Province viewers (PROVINCE_VIEWERS): a session of theirs reads every contest; only
        # the province book (prefix "province--") is given them.
        self._province = province
        # Starts every cookie: which contest of the deployment it belongs to ("xihu--").
        self.prefix = prefix

    def _configured_organizer(self, user_id: int) -> bool:
        return user_id in self._superusers or user_id in self._contest.organizers

    def _now_as(self, row: DashboardSession) -> Session | None:
        organizer = self._configured_organizer(row.user_id) or (
            row.group_admin
            and self._contest.group_admins_are_organizers
            and self._group_roles.admin(row.user_id, self._contest.groups) is not False
        )
        judge = row.user_id in self._contest.judges
        if row.user_id in self._province:
            return Session(row.user_id, False, False, row.expires_at, province=True)
        if not (organizer or judge):
            return None
        return Session(row.user_id, organizer, judge, row.expires_at)

    async def start(self, grant: Grant, now: datetime, hours: int) -> tuple[Session, str]:
        """A new session for `grant` lasting `hours`, and the token for its cookie."""
        require_aware(now)
        token = self.prefix + secrets.token_urlsafe(TOKEN_BYTES)
        row = DashboardSession(
            token_hash=token_hash(token),
            user_id=grant.user_id,
            group_admin=grant.organizer and not self._configured_organizer(grant.user_id),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        async with write_transaction(self._sessions) as session:
            await session.exec(
                sa.delete(DashboardSession).where(
                    col(DashboardSession.expires_at) < now - KEEP_USED
                )
            )
            session.add(row)
        found = Session(grant.user_id, grant.organizer, grant.judge, row.expires_at, grant.province)
        return found, token

    async def find(self, token: str | None, now: datetime) -> Session | None:
        """The session of a cookie's token as of now; None if unknown, expired, signed out,
        or its person is no longer an organizer or judge."""
        require_aware(now)
        if not token or not _plausible(token):
            return None
        async with self._sessions() as session:
            row = (
                await session.exec(
                    select(DashboardSession).where(
                        col(DashboardSession.token_hash) == token_hash(token),
                        col(DashboardSession.revoked_at).is_(None),
                        col(DashboardSession.expires_at) > now,
                    )
                )
            ).first()
        return None if row is None else self._now_as(row)

    async def open_sessions(self, now: datetime) -> list[OpenSessions]:
        """Everyone with an open session, most recently signed in first."""
        require_aware(now)
        async with self._sessions() as session:
            rows = (
                await session.exec(
                    select(DashboardSession).where(
                        col(DashboardSession.revoked_at).is_(None),
                        col(DashboardSession.expires_at) > now,
                    )
                )
            ).all()
        people: dict[int, list[DashboardSession]] = {}
        for row in rows:
            people.setdefault(row.user_id, []).append(row)
        found: list[OpenSessions] = []
        for user_id, own in people.items():
            as_now = [s for s in (self._now_as(r) for r in own) if s is not None]
            found.append(
                OpenSessions(
                    user_id=user_id,
                    count=len(own),
                    last_started=max(r.created_at for r in own),
                    expires_at=max(r.expires_at for r in own),
                    role_name=as_now[0].grant.role_name if as_now else "",
                )
            )
        return sorted(found, key=lambda o: (o.last_started, o.user_id), reverse=True)

    async def end(self, token: str, now: datetime) -> bool:
        """Sign this session out (everywhere its cookie was copied to); whether it was open."""
        require_aware(now)
        if not _plausible(token):
            return False
        return await self._revoke(col(DashboardSession.token_hash) == token_hash(token), now) > 0

    async def end_all(self, user_id: int, now: datetime) -> int:
        """Sign out every open session of `user_id`; how many there were."""
        require_aware(now)
        return await self._revoke(col(DashboardSession.user_id) == user_id, now)

    async def _revoke(self, which: sa.ColumnElement[bool], now: datetime) -> int:
        async with write_transaction(self._sessions) as session:
            ended = await session.exec(
                sa.update(DashboardSession)
                .where(which, col(DashboardSession.revoked_at).is_(None))
                .values(revoked_at=now)
            )
        return ended.rowcount or 0


class CsrfTokens:
    """The token a session's forms carry: HMAC-SHA256 of its cookie under the secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the CSRF secret is too short")
        self._secret = secret

    def csrf(self, cookie_value: str) -> str:
        mac = hmac.new(self._secret, f"csrf|{cookie_value}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def csrf_ok(self, cookie_value: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(
            (token or "").encode(), self.csrf(cookie_value).encode()
        )


def bearer_matches(header: str | None, api_token: str | None) -> bool:
    """`Authorization: Bearer <DASHBOARD_API_TOKEN>`; never true without a configured token."""
    if not api_token or not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), api_token.encode())


def load_secret(deployment: Deployment) -> bytes:
    """DASHBOARD_SECRET, or the key in `<data dir>/dashboard.secret` (made once, 0600)."""
    if deployment.dashboard_secret:
        return deployment.dashboard_secret.encode()
    path = deployment.data_dir / SECRET_FILE
    existing = _read_secret(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        found = _read_secret(path)
        if found is None:
            raise
        return found
    with os.fdopen(fd, "w", encoding="ascii") as stream:
        stream.write(value + "\n")
    logger.info("已生成后台会话密钥文件 {}（权限 0600）", path)
    return value.encode()


def _read_secret(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        logger.warning("后台会话密钥文件 {} 权限过宽（{:o}），已改为 0600", path, mode)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise ValueError(f"{path}: 后台会话密钥文件内容不完整；删除该文件后重启即可重新生成")
    return value.encode()
