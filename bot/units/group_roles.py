"""What the bot last heard about people's roles in the served groups (owner, admin, member).

Filled from what arrives anyway — every group message carries `sender.role`, QQ posts a
`group_admin` notice when an admin is set or unset, a member who leaves is no longer anything
there, and the router's occasional `get_group_member_info` answers — so nothing asks QQ per
dashboard click. In memory only: after a restart nothing is known until people speak.
"""

from __future__ import annotations

from collections.abc import Iterable

ADMIN_ROLES = frozenset({"owner", "admin"})
KNOWN_ROLES = ADMIN_ROLES | {"member"}


class GroupRoles:
    """Roles per (group, person), as last heard."""

    def __init__(self) -> None:
        self._roles: dict[tuple[int, int], str] = {}

    def note(self, group_id: int, user_id: int, role: str | None) -> None:
        """Remember `role` ("owner", "admin", "member"); anything else is ignored."""
        if role in KNOWN_ROLES:
            self._roles[(group_id, user_id)] = role

    def left(self, group_id: int, user_id: int) -> None:
        """The person left (or was removed from) the group: no role there any more."""
        self._roles[(group_id, user_id)] = "member"

    def role(self, group_id: int, user_id: int) -> str | None:
        return self._roles.get((group_id, user_id))

    def admin(self, user_id: int, groups: Iterable[int]) -> bool | None:
        """Whether `user_id` is an owner or admin of one of `groups`.

        True when any of them is known to say so; False only when every group is known and
        none does; None (cannot tell) otherwise.
        """
        unknown = False
        for group_id in groups:
            role = self._roles.get((group_id, user_id))
            if role in ADMIN_ROLES:
                return True
            if role is None:
                unknown = True
        return None if unknown else False
