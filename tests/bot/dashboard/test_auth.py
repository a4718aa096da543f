from __future__ import annotations

import asyncio
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.dashboard.auth import (
    SECRET_FILE,
    Grant,
    LoginLinks,
    Session,
    SessionCodec,
    bearer_matches,
    grant_for,
    load_secret,
)
from bot.dashboard.store import LoginToken
from bot.settings.deployment import Deployment
from bot.storage.db import Sessions
from bot.units.roles import Identity

ORGANIZER = Grant(10000, organizer=True, judge=False)
JUDGE = Grant(20001, organizer=False, judge=True)
SECRET = b"s" * 32


@pytest.fixture
def links(sessions: Sessions) -> LoginLinks:
    return LoginLinks(sessions)


# ------------------------------------------------------------------ who gets a link


def test_organizers_and_judges_get_a_grant_others_do_not() -> None:
    assert grant_for(Identity(1, organizer=True)) == Grant(1, True, False)
    assert grant_for(Identity(2, judge=True)) == Grant(2, False, True)
    assert grant_for(Identity(3, unit="南湖街道")) is None
    assert grant_for(Identity(4)) is None


# ------------------------------------------------------------------ one-time links


async def test_a_link_signs_in_once(links: LoginLinks, now: datetime) -> None:
    token = await links.issue(JUDGE, now)

    assert await links.redeem(token, now + timedelta(minutes=1)) == JUDGE
    assert await links.redeem(token, now + timedelta(minutes=2)) is None


async def test_an_expired_link_gives_nothing(links: LoginLinks, now: datetime) -> None:
    token = await links.issue(ORGANIZER, now)
    assert await links.redeem(token, now + timedelta(minutes=10)) is None


async def test_a_link_works_until_just_before_ten_minutes(links: LoginLinks, now: datetime) -> None:
    token = await links.issue(ORGANIZER, now)
    assert await links.redeem(token, now + timedelta(minutes=9, seconds=59)) == ORGANIZER


async def test_peeking_does_not_use_the_link(links: LoginLinks, now: datetime) -> None:
    """QQ's link scanner opens the link first: that must leave it usable."""
    token = await links.issue(ORGANIZER, now)

    assert await links.peek(token, now)
    assert await links.peek(token, now)
    assert await links.redeem(token, now) == ORGANIZER
    assert not await links.peek(token, now)


async def test_unknown_and_malformed_tokens_give_nothing(links: LoginLinks, now: datetime) -> None:
    await links.issue(ORGANIZER, now)
    assert await links.redeem("not-a-token", now) is None
    assert await links.redeem("", now) is None
    assert await links.redeem("x" * 5000, now) is None
    assert await links.redeem("令牌", now) is None


async def test_only_the_hash_of_a_token_is_stored(
    links: LoginLinks, sessions: Sessions, now: datetime
) -> None:
    token = await links.issue(ORGANIZER, now)
    async with sessions() as session:
        row = (await session.exec(select(LoginToken))).one()
    assert token not in row.token_hash
    assert len(row.token_hash) == 64
    assert row.expires_at == now + timedelta(minutes=10)


async def test_two_presses_at_once_sign_in_once(links: LoginLinks, now: datetime) -> None:
    token = await links.issue(ORGANIZER, now)
    results = await asyncio.gather(*(links.redeem(token, now) for _ in range(5)))
    assert [r for r in results if r is not None] == [ORGANIZER]


async def test_old_links_are_cleaned_up_when_new_ones_are_made(
    links: LoginLinks, sessions: Sessions, now: datetime
) -> None:
    await links.issue(ORGANIZER, now)
    await links.issue(JUDGE, now + timedelta(days=2))
    async with sessions() as session:
        rows = (await session.exec(select(LoginToken))).all()
    assert [r.user_id for r in rows] == [JUDGE.user_id]


async def test_naive_time_is_refused(links: LoginLinks) -> None:
    with pytest.raises(ValueError, match="aware"):
        await links.issue(ORGANIZER, datetime(2027, 6, 20, 9, 30))


# ------------------------------------------------------------------ session cookies


def test_a_session_cookie_round_trips(now: datetime) -> None:
    codec = SessionCodec(SECRET)
    session, value = codec.start(JUDGE, now, hours=12)

    assert codec.decode(value, now + timedelta(hours=11)) == session
    assert session.expires_at == now + timedelta(hours=12)
    assert session.grant == JUDGE


def test_an_expired_session_is_refused(now: datetime) -> None:
    codec = SessionCodec(SECRET)
    _, value = codec.start(ORGANIZER, now, hours=12)
    assert codec.decode(value, now + timedelta(hours=12)) is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda v: v.replace("20001.j.", "20001.oj.", 1),  # promote oneself to organizer
        lambda v: v.replace("20001.", "10000.", 1),  # become someone else
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # tamper the signature
        lambda v: v.rpartition(".")[0],  # no signature
        lambda v: "",
    ],
)
def test_a_forged_cookie_is_refused(now: datetime, forge: object) -> None:
    codec = SessionCodec(SECRET)
    _, value = codec.start(JUDGE, now, hours=12)
    assert callable(forge)
    assert codec.decode(forge(value), now) is None


def test_a_cookie_signed_with_another_secret_is_refused(now: datetime) -> None:
    _, value = SessionCodec(b"o" * 32).start(ORGANIZER, now, hours=12)
    assert SessionCodec(SECRET).decode(value, now) is None


def test_a_session_without_a_role_is_refused(now: datetime) -> None:
    codec = SessionCodec(SECRET)
    value = codec.encode(Session(5, False, False, now + timedelta(hours=1)))
    assert codec.decode(value, now) is None


def test_csrf_token_belongs_to_its_session(now: datetime) -> None:
    codec = SessionCodec(SECRET)
    _, mine = codec.start(ORGANIZER, now, hours=12)
    _, other = codec.start(JUDGE, now, hours=12)

    assert codec.csrf_ok(mine, codec.csrf(mine))
    assert not codec.csrf_ok(mine, codec.csrf(other))
    assert not codec.csrf_ok(mine, None)
    assert not codec.csrf_ok(mine, "")


# ------------------------------------------------------------------ API token, secret


def test_bearer_token_must_match_the_configured_one() -> None:
    token = "api-token-0123456789abcdef"
    assert bearer_matches(f"Bearer {token}", token)
    assert bearer_matches(f"bearer {token}", token)
    assert not bearer_matches(f"Bearer {token}x", token)
    assert not bearer_matches(f"Basic {token}", token)
    assert not bearer_matches(None, token)
    assert not bearer_matches("Bearer ", None)
    assert not bearer_matches("Bearer None", None)


def test_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    deployment = Deployment(data_dir=tmp_path / "data")

    first = load_secret(deployment)
    second = load_secret(deployment)

    path = tmp_path / "data" / SECRET_FILE
    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    path.write_text("z" * 43 + "\n")
    path.chmod(0o644)
    assert load_secret(Deployment(data_dir=tmp_path)) == b"z" * 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_configured_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    deployment = Deployment(data_dir=tmp_path, dashboard_secret="c" * 40)
    assert load_secret(deployment) == b"c" * 40
    assert not (tmp_path / SECRET_FILE).exists()
