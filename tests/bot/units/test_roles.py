from __future__ import annotations

import pytest

from bot.judging.config import Judge
from bot.units.roles import Need, identify
from tests.fake import JUDGE, ORGANIZER, SECRETARY, make_contest

CONTEST = make_contest()


def _who(user_id: int, *, unit: str | None = None, group_role: str | None = None):
    return identify(
        user_id, contest=CONTEST, superusers=frozenset({10009}), unit=unit, group_role=group_role
    )


@pytest.mark.parametrize(
    ("user_id", "group_role"),
    [(ORGANIZER, None), (10009, None), (30001, "owner"), (30001, "admin")],
)
def test_organizers_come_from_config_superusers_and_group_admins(
    user_id: int, group_role: str | None
) -> None:
    assert _who(user_id, group_role=group_role).organizer


def test_group_admins_are_not_organizers_when_switched_off() -> None:
    from dataclasses import replace

    contest = replace(CONTEST, group_admins_are_organizers=False)
    who = identify(30001, contest=contest, superusers=frozenset(), unit=None, group_role="admin")
    assert not who.organizer


def test_a_member_may_use_member_commands_only() -> None:
    member = _who(30001, group_role="member")
    assert member.allows(Need.MEMBER)
    assert not any(member.allows(n) for n in (Need.SECRETARY, Need.JUDGE, Need.ORGANIZER))
    assert not member.privileged


def test_a_secretary_acts_only_for_their_unit() -> None:
    secretary = _who(SECRETARY, unit="南湖街道")
    assert secretary.allows(Need.SECRETARY)
    assert not secretary.allows(Need.ORGANIZER)
    assert secretary.acts_for("南湖街道")
    assert not secretary.acts_for("新嘉街道")
    assert secretary.unit_scope == "南湖街道"


def test_an_organizer_acts_for_every_unit() -> None:
    organizer = _who(ORGANIZER)
    assert all(organizer.allows(n) for n in Need)
    assert organizer.acts_for("新嘉街道")
    assert organizer.unit_scope is None


def test_a_judge_may_use_judge_commands_but_not_secretary_ones() -> None:
    judge = _who(JUDGE)
    assert judge.allows(Need.JUDGE)
    assert not judge.allows(Need.SECRETARY)
    assert judge.privileged


def test_a_judge_written_as_judges_table_is_a_judge() -> None:
    contest = make_contest(judges=frozenset(), named_judges=(Judge(20005, "沈老师", ("南湖",)),))
    who = identify(20005, contest=contest, superusers=frozenset(), unit=None)
    assert who.allows(Need.JUDGE)
    assert not identify(30001, contest=contest, superusers=frozenset(), unit=None).judge
