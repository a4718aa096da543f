from __future__ import annotations

import asyncio
import hashlib
import stat
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.dashboard.auth import (
    SECRET_FILE,
    CsrfTokens,
    Grant,
    LoginLinks,
    SessionBook,
    bearer_matches,
    grant_for,
    load_secret,
)
from bot.dashboard.store import DashboardSession, LoginToken
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment
from bot.storage.db import Sessions
from bot.units.group_roles import GroupRoles
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


# ------------------------------------------------------------------ sessions

GROUP_ADMIN = Grant(30001, organizer=True, judge=False)


@pytest.fixture
def book(sessions: Sessions, contest: Contest) -> SessionBook:
    return SessionBook(sessions, replace(contest, judges=frozenset({20001})), frozenset({10009}))


async def test_a_session_is_found_by_its_token_until_it_expires(
    book: SessionBook, now: datetime
) -> None:
    session, token = await book.start(JUDGE, now, hours=12)

    assert await book.find(token, now + timedelta(hours=11)) == session
    assert session.expires_at == now + timedelta(hours=12)
    assert session.grant == JUDGE
    assert await book.find(token, now + timedelta(hours=12)) is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
        lambda v: v + "x",
        lambda v: "",
        lambda v: "10000.o.9999999999.signature",  # the old signed-cookie form
        lambda v: "好" * 20,
        lambda v: "x" * 500,
    ],
)
async def test_an_unknown_or_forged_token_finds_nothing(
    book: SessionBook, now: datetime, forge: object
) -> None:
    _, token = await book.start(ORGANIZER, now, hours=12)
    assert callable(forge)
    assert await book.find(forge(token), now) is None


async def test_only_the_hash_of_a_session_token_is_stored(
    book: SessionBook, sessions: Sessions, now: datetime
) -> None:
    _, token = await book.start(ORGANIZER, now, hours=12)
    async with sessions() as db:
        row = (await db.exec(select(DashboardSession))).one()
    assert token not in row.token_hash
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(
    book: SessionBook, now: datetime
) -> None:
    _, token = await book.start(ORGANIZER, now, hours=12)
    _, other = await book.start(ORGANIZER, now, hours=12)

    assert await book.end(token, now)
    assert await book.find(token, now) is None
    assert not await book.end(token, now)  # already ended
    assert await book.find(other, now) is not None  # another browser stays signed in


async def test_every_session_of_a_person_can_be_ended_at_once(
    book: SessionBook, now: datetime
) -> None:
    tokens = [(await book.start(JUDGE, now, hours=12))[1] for _ in range(3)]
    _, organizer = await book.start(ORGANIZER, now, hours=12)

    assert await book.end_all(JUDGE.user_id, now) == 3
    assert [await book.find(t, now) for t in tokens] == [None, None, None]
    assert await book.find(organizer, now) is not None


async def test_roles_come_from_the_current_config_not_the_sign_in(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    signed_in = SessionBook(sessions, replace(contest, judges=frozenset({20001})), frozenset())
    _, judge = await signed_in.start(JUDGE, now, hours=12)
    _, organizer = await signed_in.start(Grant(10000, True, True), now, hours=12)

    restarted = SessionBook(sessions, replace(contest, organizers=frozenset()), frozenset())
    assert await restarted.find(judge, now) is None  # no longer a judge: no session
    assert await restarted.find(organizer, now) is None

    promoted = SessionBook(sessions, replace(contest, organizers=frozenset({20001})), frozenset())
    found = await promoted.find(judge, now)
    assert found is not None
    assert (found.organizer, found.judge) == (True, False)


async def test_a_group_admin_stays_an_organizer_only_while_admins_count(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    _, token = await SessionBook(sessions, contest, frozenset()).start(GROUP_ADMIN, now, 12)

    still = await SessionBook(sessions, contest, frozenset()).find(token, now)
    assert still is not None
    assert still.organizer
    switched_off = replace(contest, group_admins_are_organizers=False)
    assert await SessionBook(sessions, switched_off, frozenset()).find(token, now) is None


async def test_a_group_admin_heard_demoted_in_every_served_group_loses_the_session(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    roles = GroupRoles()
    book = SessionBook(sessions, contest, frozenset(), roles)
    _, token = await book.start(GROUP_ADMIN, now, 12)
    [group] = sorted(contest.groups)

    unknown = await book.find(token, now)  # nothing heard since start: trusted
    roles.note(group, GROUP_ADMIN.user_id, "admin")
    admin = await book.find(token, now)
    roles.note(group, GROUP_ADMIN.user_id, "member")
    demoted = await book.find(token, now)

    assert unknown is not None
    assert unknown.organizer
    assert admin is not None
    assert demoted is None


async def test_open_sessions_are_listed_per_person_with_their_role_now(
    book: SessionBook, now: datetime
) -> None:
    await book.start(JUDGE, now - timedelta(hours=2), hours=12)
    await book.start(JUDGE, now - timedelta(hours=1), hours=12)
    _, ended = await book.start(ORGANIZER, now, hours=12)
    await book.end(ended, now)
    await book.start(Grant(55555, organizer=False, judge=True), now, hours=12)  # not a judge now

    listed = await book.open_sessions(now)

    assert [(o.user_id, o.count, o.role_name) for o in listed] == [
        (55555, 1, ""),
        (JUDGE.user_id, 2, "评委"),
    ]
    assert listed[1].last_started == now - timedelta(hours=1)


def test_group_roles_say_admin_if_any_group_does_and_not_only_when_all_are_known() -> None:
    roles = GroupRoles()
    roles.note(1, 7, "member")
    roles.note(2, 7, "superuser")  # not a QQ role: ignored

    assert roles.admin(7, [1, 2]) is None  # group 2 unknown
    roles.note(2, 7, "owner")
    assert roles.admin(7, [1, 2]) is True
    roles.left(2, 7)
    assert roles.admin(7, [1, 2]) is False
    assert roles.role(2, 7) == "member"


async def test_old_sessions_are_cleaned_up_when_new_ones_start(
    book: SessionBook, sessions: Sessions, now: datetime
) -> None:
    await book.start(JUDGE, now - timedelta(days=3), hours=12)
    await book.start(JUDGE, now, hours=12)
    async with sessions() as db:
        assert len((await db.exec(select(DashboardSession))).all()) == 1


def test_csrf_token_belongs_to_its_session() -> None:
    tokens = CsrfTokens(SECRET)

    assert tokens.csrf_ok("mine", tokens.csrf("mine"))
    assert not tokens.csrf_ok("mine", tokens.csrf("other"))
    assert not tokens.csrf_ok("mine", CsrfTokens(b"o" * 32).csrf("mine"))
    assert not tokens.csrf_ok("mine", None)
    assert not tokens.csrf_ok("mine", "")


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
