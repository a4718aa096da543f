"""The contest's sections as values: what code that builds or changes them can rely on."""

from dataclasses import FrozenInstanceError, replace

import pytest

from bot.settings.contest import MessagePolicy, ReminderPolicy


def test_a_section_built_in_code_is_taken_as_given() -> None:
    # Only contest.toml is validated; tests build policies far below the file's bounds.
    assert MessagePolicy(max_length=10, max_mentions=3).max_length == 10


def test_sections_are_immutable_and_replaced_whole() -> None:
    policy = ReminderPolicy()
    with pytest.raises(FrozenInstanceError):
        policy.private = True  # type: ignore[misc]
    assert replace(policy, private=True).private is True
    assert replace(policy, private=True) != policy
