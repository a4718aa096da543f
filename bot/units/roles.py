"""Who may do what: organizer, judge, unit secretary, member.

Pure decisions over plain values; the plugin layer supplies the facts it knows
(the sender's group role, the unit the QQ id is bound to).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.settings.contest import Contest


class Need(Enum):
    """The least a user must be to use a command."""

    MEMBER = "member"
    SECRETARY = "secretary"
    JUDGE = "judge"
    ORGANIZER = "organizer"


@dataclass(frozen=True)
class Identity:
    user_id: int
    organizer: bool = False
    judge: bool = False
    unit: str | None = None
    # PROVINCE_VIEWERS: may ask for a dashboard link in private chat (and nothing else).
    province: bool = False

    @property
    def privileged(self) -> bool:
        """Organizers, judges, secretaries (and province viewers) may talk to the bot in private
        chat."""
        return self.organizer or self.judge or self.unit is not None or self.province

    @property
    def grant_only(self) -> bool:
        """No role in this contest (a province viewer, if privileged at all)."""
        return not (self.organizer or self.judge or self.unit is not None)

    def acts_for(self, unit: str) -> bool:
        """Whether this user may submit, withdraw or correct entries of `unit`."""
        return self.organizer or self.unit == unit

    @property
    def unit_scope(self) -> str | None:
        """The only unit this user's entry changes may touch, or None for every unit."""
        return None if self.organizer else self.unit

    def allows(self, need: Need) -> bool:
        if self.organizer:
            return True
        if need is Need.MEMBER:
            return True
        if need is Need.SECRETARY:
            return self.unit is not None
        if need is Need.JUDGE:
            return self.judge
        return False


MSG_NEED_ORGANIZER = "抱歉，/{name} 仅限组织者使用。"
MSG_NEED_JUDGE = "抱歉，/{name} 仅限评委和组织者使用。"
MSG_NEED_SECRETARY = "抱歉，/{name} 仅限联络员和组织者使用。"
MSG_NOT_BOUND = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"


def refusal(need: Need, name: str, identity: Identity) -> str:
    """Why `identity` may not use `/name` (a command, or a command and its subcommand).

    Says which role the command is for; only a member without a role who uses a secretary's
    command is told how to get bound, since they are most likely a secretary not yet bound. A
    judge is never told to get bound: judging and submitting are different jobs.
    """
    if need is Need.SECRETARY:
        return MSG_NEED_SECRETARY.format(name=name) if identity.judge else MSG_NOT_BOUND
    if need is Need.JUDGE:
        return MSG_NEED_JUDGE.format(name=name)
    return MSG_NEED_ORGANIZER.format(name=name)


def is_organizer(
    user_id: int, *, contest: Contest, superusers: frozenset[int], group_role: str | None
) -> bool:
    if user_id in superusers or user_id in contest.organizers:
        return True
    return contest.group_admins_are_organizers and group_role in ("owner", "admin")


def identify(
    user_id: int,
    *,
    contest: Contest,
    superusers: frozenset[int],
    unit: str | None,
    group_role: str | None = None,
) -> Identity:
    """`group_role`: the sender's role in a served group ("owner", "admin", "member"), if known."""
    return Identity(
        user_id=user_id,
        organizer=is_organizer(
            user_id, contest=contest, superusers=superusers, group_role=group_role
        ),
        judge=user_id in contest.judges,
        unit=unit,
    )
