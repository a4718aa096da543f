from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings.contest import Contest, ReminderPolicy
from bot.settings.loader import ContestConfigError, load_contest, load_contest_or_raise
from bot.settings.values import Problem

SHIPPED = Path(__file__).parents[3] / "config" / "contest.toml"

CONTEST = """\
[contest]
name = "测试大赛"
timezone = "Asia/Shanghai"
start = 2027-06-24T00:00:00
deadline = 2027-07-01T18:00:00
groups = [123456789]
organizers = [10000]
"""

CATEGORIES = """
[[categories]]
id = "town"
name = "镇、街道"
quota = 50

[[categories]]
id = "dept"
name = "部门、单位"
quota = 5
"""

UNITS = """
[[units]]
name = "南湖街道"
category = "town"
secretaries = [10001]
aliases = ["南湖"]

[[units]]
name = "区财政局"
category = "dept"
secretaries = [10002]
"""

VALID = CONTEST + CATEGORIES + UNITS


def load(tmp_path: Path, text: str) -> tuple[Contest | None, list[Problem]]:
    path = tmp_path / "contest.toml"
    path.write_text(text, encoding="utf-8")
    return load_contest(path)


def problems_for(tmp_path: Path, text: str) -> dict[str, str]:
    contest, problems = load(tmp_path, text)
    assert contest is None
    assert problems
    return {p.key: p.message for p in problems}


def test_valid_config_loads_with_no_problems(tmp_path: Path) -> None:
    contest, problems = load(tmp_path, VALID)
    assert problems == []
    assert contest is not None
    assert contest.name == "测试大赛"
    assert contest.groups == frozenset({123456789})
    assert [u.name for u in contest.units] == ["南湖街道", "区财政局"]
    assert contest.units[0].aliases == ("南湖",)


def test_local_datetimes_are_read_in_the_contest_timezone(tmp_path: Path) -> None:
    contest, _ = load(tmp_path, VALID)
    assert contest is not None
    assert contest.deadline == datetime(2027, 7, 1, 18, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert contest.deadline.utcoffset() == timedelta(hours=8)


def test_offset_datetimes_are_accepted(tmp_path: Path) -> None:
    text = VALID.replace("deadline = 2027-07-01T18:00:00", "deadline = 2027-07-01T10:00:00Z")
    contest, problems = load(tmp_path, text)
    assert problems == []
    assert contest is not None
    assert contest.local(contest.deadline).hour == 18


def test_missing_optional_sections_get_defaults(tmp_path: Path) -> None:
    contest, _ = load(tmp_path, VALID)
    assert contest is not None
    assert contest.messages.burst == 3
    assert contest.bot.nickname == "大赛助手"
    assert contest.group_admins_are_organizers is True
    assert contest.judges == frozenset()


def test_bot_and_messages_sections_are_read(tmp_path: Path) -> None:
    text = VALID + (
        '\n[bot]\nnickname = "小助手"\nwelcome = false\nignore_users = [2854196310]\n'
        "\n[messages]\nburst = 5\ninterval = 2\nmax_length = 3000\nmax_mentions = 10\n"
    )
    contest, problems = load(tmp_path, text)
    assert problems == []
    assert contest is not None
    assert contest.bot.nickname == "小助手"
    assert contest.bot.welcome is False
    assert contest.bot.ignore_users == frozenset({2854196310})
    assert contest.messages.interval == 2.0
    assert contest.messages.max_length == 3000


# ---- the file itself --------------------------------------------------------------------------


def test_missing_file_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    contest, problems = load_contest(path)
    assert contest is None
    assert len(problems) == 1
    assert problems[0].file == str(path)
    assert "找不到" in problems[0].message


def test_directory_instead_of_file_is_a_problem(tmp_path: Path) -> None:
    contest, problems = load_contest(tmp_path)
    assert contest is None
    assert "无法读取" in problems[0].message


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, CONTEST.replace('name = "测试大赛"', "name = 测试大赛"))
    assert list(keys) == ["第 2 行"]
    assert keys["第 2 行"] == '文字要加英文双引号，例如 name = "测试大赛"。'


def test_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_bytes(VALID.encode("gbk"))
    _, problems = load_contest(path)
    assert "UTF-8" in problems[0].message


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    contest, problems = load_contest(path)
    assert problems == []
    assert contest is not None


# ---- [contest] --------------------------------------------------------------------------------


def test_missing_contest_section_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, CATEGORIES + UNITS)
    assert "contest" in keys


@pytest.mark.parametrize("key", ["name", "timezone", "start", "deadline", "groups"])
def test_missing_required_contest_key_is_a_problem(tmp_path: Path, key: str) -> None:
    lines = [line for line in CONTEST.splitlines() if not line.startswith(f"{key} =")]
    keys = problems_for(tmp_path, "\n".join(lines) + CATEGORIES)
    assert f"contest.{key}" in keys
    assert "缺少" in keys[f"contest.{key}"]


def test_empty_name_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('name = "测试大赛"', 'name = "  "'))
    assert "contest.name" in keys


def test_name_that_is_not_text_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('name = "测试大赛"', "name = 2027"))
    assert "文字" in keys["contest.name"]


def test_unknown_timezone_is_a_problem_with_a_suggestion(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("Asia/Shanghai", "Asia/Shanghia"))
    assert "Asia/Shanghai" in keys["contest.timezone"]


def test_deadline_before_start_is_a_problem(tmp_path: Path) -> None:
    text = VALID.replace("deadline = 2027-07-01T18:00:00", "deadline = 2027-06-01T18:00:00")
    keys = problems_for(tmp_path, text)
    assert "晚于" in keys["contest.deadline"]


def test_date_without_time_is_a_problem(tmp_path: Path) -> None:
    text = VALID.replace("deadline = 2027-07-01T18:00:00", "deadline = 2027-07-01")
    keys = problems_for(tmp_path, text)
    assert "时刻" in keys["contest.deadline"]


def test_quoted_datetime_is_a_problem(tmp_path: Path) -> None:
    text = VALID.replace("start = 2027-06-24T00:00:00", 'start = "2027-06-24 00:00"')
    keys = problems_for(tmp_path, text)
    assert "引号" in keys["contest.start"]


def test_empty_groups_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("groups = [123456789]", "groups = []"))
    assert "不能为空" in keys["contest.groups"]


def test_quoted_group_id_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("groups = [123456789]", 'groups = ["123456789"]'))
    assert "去掉引号" in keys["contest.groups"]


def test_negative_qq_id_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("organizers = [10000]", "organizers = [-5]"))
    assert "contest.organizers" in keys


def test_qq_ids_not_in_a_list_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("organizers = [10000]", "organizers = 10000"))
    assert "列表" in keys["contest.organizers"]


def test_boolean_written_as_text_is_a_problem(tmp_path: Path) -> None:
    text = VALID.replace(
        "organizers = [10000]", 'organizers = [10000]\ngroup_admins_are_organizers = "yes"'
    )
    keys = problems_for(tmp_path, text)
    assert "true" in keys["contest.group_admins_are_organizers"]


def test_misspelt_contest_key_names_the_intended_key(tmp_path: Path) -> None:
    text = VALID.replace("deadline = ", "dedline = ")
    keys = problems_for(tmp_path, text)
    assert "deadline" in keys["contest.dedline"]
    assert "contest.deadline" in keys  # and the real one is missing


def test_misspelt_section_names_the_intended_section(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + "\n[mesages]\nburst = 2\n")
    assert "[messages]" in keys["mesages"]


def test_top_level_key_outside_any_section_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, "judges = [1]\n" + VALID)
    assert "[contest]" in keys["judges"]


# ---- [[categories]] ---------------------------------------------------------------------------


def test_no_category_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, CONTEST)
    assert "categories" in keys


def test_categories_written_with_single_brackets_is_a_problem(tmp_path: Path) -> None:
    text = CONTEST + '\n[categories]\nid = "town"\nname = "镇"\nquota = 1\n'
    keys = problems_for(tmp_path, text)
    assert "[[categories]]" in keys["categories"]


def test_duplicate_category_id_is_a_problem(tmp_path: Path) -> None:
    text = VALID + '\n[[categories]]\nid = "town"\nname = "镇"\nquota = 1\n'
    keys = problems_for(tmp_path, text)
    assert "重复" in keys["categories[3].id"]


def test_negative_category_quota_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("quota = 5\n", "quota = -1\n"))
    assert "categories[2].quota" in keys


def test_category_quota_as_decimal_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("quota = 5\n", "quota = 5.5\n"))
    assert "整数" in keys["categories[2].quota"]


def test_category_quota_in_quotes_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("quota = 5\n", 'quota = "5"\n'))
    assert "去掉引号" in keys["categories[2].quota"]


def test_category_without_quota_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("quota = 5\n", ""))
    assert "categories[2].quota" in keys


# ---- [[units]] --------------------------------------------------------------------------------


def test_unit_with_unknown_category_lists_the_valid_ids(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('category = "dept"', 'category = "depts"'))
    message = keys["units[2].category"]
    assert "town" in message
    assert "dept" in message
    assert "区财政局" in message


def test_unit_without_name_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('name = "区财政局"\n', ""))
    assert "units[2].name" in keys


def test_duplicate_unit_name_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("区财政局", "南湖街道"))
    assert "units[2].name" in keys


def test_unit_names_differing_only_in_width_or_spaces_are_duplicates(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('"区财政局"', '"南湖 街道"'))
    assert "units[2].name" in keys


def test_alias_equal_to_another_units_name_is_ambiguous(tmp_path: Path) -> None:
    text = VALID.replace("secretaries = [10002]", 'secretaries = [10002]\naliases = ["南湖街道"]')
    keys = problems_for(tmp_path, text)
    assert "无法判断" in keys["units[2].aliases"]


def test_alias_equal_to_another_units_alias_is_ambiguous(tmp_path: Path) -> None:
    text = VALID.replace("secretaries = [10002]", 'secretaries = [10002]\naliases = ["南湖"]')
    keys = problems_for(tmp_path, text)
    assert "南湖街道" in keys["units[2].aliases"]


def test_alias_equal_to_its_own_name_is_harmless(tmp_path: Path) -> None:
    contest, problems = load(tmp_path, VALID.replace('["南湖"]', '["南湖", "南湖街道"]'))
    assert problems == []
    assert contest is not None
    assert contest.units[0].aliases == ("南湖",)


def test_secretary_of_two_units_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("secretaries = [10002]", "secretaries = [10001]"))
    assert "南湖街道" in keys["units[2].secretaries"]


def test_negative_unit_quota_is_a_problem(tmp_path: Path) -> None:
    text = VALID.replace("secretaries = [10002]", "secretaries = [10002]\nquota = -3")
    keys = problems_for(tmp_path, text)
    assert "units[2].quota" in keys


def test_unit_quota_override_is_read(tmp_path: Path) -> None:
    text = VALID.replace("secretaries = [10002]", "secretaries = [10002]\nquota = 8")
    contest, _ = load(tmp_path, text)
    assert contest is not None
    assert contest.units[1].quota == 8
    assert contest.units[0].quota is None


def test_misspelt_unit_key_names_the_intended_key(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("secretaries = [10002]", "secretary = [10002]"))
    assert "secretaries" in keys["units[2].secretary"]


def test_empty_alias_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('["南湖"]', '["南湖", ""]'))
    assert "units[1].aliases" in keys


# ---- [bot] and [messages] ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("burst = 0", "messages.burst"),
        ("interval = 0", "messages.interval"),
        ("interval = -1.5", "messages.interval"),
        ('interval = "1.5"', "messages.interval"),
        ("max_length = 100", "messages.max_length"),
        ("max_length = 5000", "messages.max_length"),
        ("max_mentions = 0", "messages.max_mentions"),
        ("max_mentions = 51", "messages.max_mentions"),
        ("max_mentions = true", "messages.max_mentions"),
    ],
)
def test_bad_message_policy_value_is_a_problem(tmp_path: Path, line: str, key: str) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[messages]\n{line}\n")
    assert list(keys) == [key]


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('nickname = ""', "bot.nickname"),
        ("welcome = 1", "bot.welcome"),
        ("rules_hint = 3", "bot.rules_hint"),
        ('ignore_users = ["bot"]', "bot.ignore_users"),
        ('nick = "助手"', "bot.nick"),
    ],
)
def test_bad_bot_value_is_a_problem(tmp_path: Path, line: str, key: str) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[bot]\n{line}\n")
    assert list(keys) == [key]


# ---- all at once ------------------------------------------------------------------------------


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = (
        VALID.replace("Asia/Shanghai", "Beijing")
        .replace("groups = [123456789]", "groups = []")
        .replace('category = "dept"', 'category = "x"')
    ) + "\n[messages]\nburst = 0\n"
    keys = problems_for(tmp_path, text)
    assert {"contest.timezone", "contest.groups", "units[2].category", "messages.burst"} <= set(
        keys
    )


def test_problems_name_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_text(VALID.replace("groups = [123456789]", "groups = []"), encoding="utf-8")
    _, problems = load_contest(path)
    assert {p.file for p in problems} == {str(path)}


def test_load_or_raise_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_text(VALID.replace("groups = [123456789]", "groups = []") + "[x]\n", "utf-8")
    with pytest.raises(ContestConfigError) as caught:
        load_contest_or_raise(path)
    assert {p.key for p in caught.value.problems} == {"contest.groups", "x"}
    assert "contest.groups" in str(caught.value)


def test_load_or_raise_returns_the_contest(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_text(VALID, encoding="utf-8")
    assert load_contest_or_raise(path).name == "测试大赛"


# ---- the shipped example ----------------------------------------------------------------------


def test_shipped_config_loads_without_problems() -> None:
    contest, problems = load_contest(SHIPPED)
    assert problems == []
    assert contest is not None


def test_shipped_config_is_the_coming_reading_week() -> None:
    contest = load_contest_or_raise(SHIPPED)
    start, deadline = contest.local(contest.start), contest.local(contest.deadline)
    assert (start.year, start.month, start.day) == (2027, 6, 24)
    assert (deadline.month, deadline.day, deadline.hour) == (7, 1, 18)
    assert contest.timezone.key == "Asia/Shanghai"


def test_shipped_config_has_the_seed_quotas() -> None:
    """Towns, streets, 区教文体局, 区公安分局 and 嘉兴科技城 recommend 50; other units 5."""
    contest = load_contest_or_raise(SHIPPED)

    def quota(name: str) -> int:
        unit = next(u for u in contest.units if u.name == name)
        category = contest.category(unit.category)
        assert category is not None
        return unit.quota if unit.quota is not None else category.quota

    for name in ("南湖街道", "大桥镇", "区教文体局", "区公安分局", "嘉兴科技城"):
        assert quota(name) == 50
    assert quota("区委组织部") == 5
    towns = [u for u in contest.units if u.category == "town"]
    assert len(towns) >= 10


def test_shipped_config_resolves_common_short_names() -> None:
    contest = load_contest_or_raise(SHIPPED)
    aliases = {alias: u.name for u in contest.units for alias in u.aliases}
    assert aliases["南湖"] == "南湖街道"
    assert aliases["教文体局"] == "区教文体局"


# ---- [reminders] ------------------------------------------------------------------------------


def reminders_of(tmp_path: Path, body: str) -> ReminderPolicy:
    contest, problems = load(tmp_path, VALID + f"\n[reminders]\n{body}\n")
    assert problems == []
    assert contest is not None
    return contest.reminders


def test_reminders_default_to_the_documented_example(tmp_path: Path) -> None:
    contest, _ = load(tmp_path, VALID)
    assert contest is not None
    policy = contest.reminders
    assert policy.offset_labels == ("7d", "3d", "1d", "3h")
    assert policy.daily_at == time(9, 0)
    assert policy.quiet_hours == (time(22, 0), time(8, 0))
    assert policy.private is False
    assert policy.catch_up_grace == timedelta(hours=2)


def test_reminders_section_is_read(tmp_path: Path) -> None:
    policy = reminders_of(
        tmp_path,
        'offsets = ["2d", "90m", "30s"]\ndaily_at = "18:30"\nquiet_hours = ["12:00", "14:00"]\n'
        'private = true\ncatch_up_grace = "45m"',
    )
    assert policy.offsets == (timedelta(days=2), timedelta(minutes=90), timedelta(seconds=30))
    assert policy.daily_at == time(18, 30)
    assert policy.quiet_hours == (time(12), time(14))
    assert policy.private is True
    assert policy.catch_up_grace == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("written", "span"),
    [
        ("45s", timedelta(seconds=45)),
        ("10m", timedelta(minutes=10)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("3D", timedelta(days=3)),
        (" 3 h ", timedelta(hours=3)),
    ],
)
def test_offset_units(tmp_path: Path, written: str, span: timedelta) -> None:
    assert reminders_of(tmp_path, f'offsets = ["{written}"]').offsets == (span,)


def test_offsets_are_kept_longest_first(tmp_path: Path) -> None:
    policy = reminders_of(tmp_path, 'offsets = ["3h", "7d", "1d"]')
    assert policy.offset_labels == ("7d", "1d", "3h")


def test_offsets_in_another_unit_get_the_canonical_label(tmp_path: Path) -> None:
    assert reminders_of(tmp_path, 'offsets = ["72h", "90m"]').offset_labels == ("3d", "90m")


def test_empty_offsets_turn_offset_reminders_off(tmp_path: Path) -> None:
    assert reminders_of(tmp_path, "offsets = []").offsets == ()


def test_empty_daily_at_turns_the_digest_off(tmp_path: Path) -> None:
    assert reminders_of(tmp_path, 'daily_at = ""').daily_at is None


def test_daily_at_as_a_toml_time_is_accepted(tmp_path: Path) -> None:
    assert reminders_of(tmp_path, "daily_at = 09:30:00").daily_at == time(9, 30)


def test_empty_quiet_hours_turn_them_off(tmp_path: Path) -> None:
    assert reminders_of(tmp_path, "quiet_hours = []").quiet_hours is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('offsets = ["3"]', "reminders.offsets"),
        ('offsets = ["3w"]', "reminders.offsets"),
        ('offsets = ["0h"]', "reminders.offsets"),
        ('offsets = ["-3h"]', "reminders.offsets"),
        ('offsets = ["1d2h"]', "reminders.offsets"),
        ("offsets = [3]", "reminders.offsets"),
        ('offsets = "3d"', "reminders.offsets"),
        ('offsets = ["3d", "3d"]', "reminders.offsets"),
        ('offsets = ["1d", "24h"]', "reminders.offsets"),
        ('daily_at = "9"', "reminders.daily_at"),
        ('daily_at = "24:00"', "reminders.daily_at"),
        ('daily_at = "09:60"', "reminders.daily_at"),
        ("daily_at = 9", "reminders.daily_at"),
        ("daily_at = 09:00:30", "reminders.daily_at"),
        ('quiet_hours = ["22:00"]', "reminders.quiet_hours"),
        ('quiet_hours = ["22:00", "08:00", "12:00"]', "reminders.quiet_hours"),
        ('quiet_hours = ["22:00", "8点"]', "reminders.quiet_hours"),
        ('quiet_hours = ["08:00", "08:00"]', "reminders.quiet_hours"),
        ('quiet_hours = "22:00-08:00"', "reminders.quiet_hours"),
        ('private = "false"', "reminders.private"),
        ('catch_up_grace = "0m"', "reminders.catch_up_grace"),
        ('catch_up_grace = "2"', "reminders.catch_up_grace"),
        ("catch_up_grace = 2", "reminders.catch_up_grace"),
        ('offset = ["3d"]', "reminders.offset"),
    ],
)
def test_bad_reminder_value_is_a_problem(tmp_path: Path, line: str, key: str) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[reminders]\n{line}\n")
    assert list(keys) == [key]


def test_duplicate_offset_problem_names_the_offset(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + '\n[reminders]\noffsets = ["1d", "24h"]\n')
    assert "24h" in keys["reminders.offsets"]
    assert "重复" in keys["reminders.offsets"]


def test_misspelt_reminder_key_names_the_intended_key(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + "\n[reminders]\nquiet_hour = []\n")
    assert "quiet_hours" in keys["reminders.quiet_hour"]


def test_shipped_config_has_the_documented_reminders() -> None:
    contest = load_contest_or_raise(SHIPPED)
    assert contest.reminders == ReminderPolicy()


# ---- messages word for word (the sections' declarations, worded for the organizer) -----------


def test_every_missing_required_key_says_how_to_write_it(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, "[contest]\n[[categories]]\n[[units]]\n")
    assert keys == {
        "contest.name": '缺少此项；请写 name = "2027年……学习博客大赛"',
        "contest.timezone": '缺少此项；请写 timezone = "Asia/Shanghai"',
        "contest.start": "缺少此项；请写 start = 2027-06-24T00:00:00",
        "contest.deadline": "缺少此项；请写 deadline = 2027-07-01T18:00:00",
        "contest.groups": "缺少此项；请写 groups = [123456789]（服务的 QQ 群号）",
        "categories[1].id": '缺少此项；请写 id = "town"',
        "categories[1].name": '缺少此项；请写 name = "镇、街道"',
        "categories[1].quota": "缺少此项；请写 quota = 50",
        "units[1].name": '缺少此项；请写 name = "南湖街道"',
        "units[1].category": '缺少此项；请写 category = "town"',
    }


@pytest.mark.parametrize(
    ("section", "line", "key", "message"),
    [
        ("submission", "max_links = 500", "max_links", "应在 1 到 200 之间，现在是 500"),
        ("messages", "burst = 0", "burst", "不能小于 1，现在是 0"),
        ("messages", "interval = 0", "interval", "应大于 0，现在是 0"),
        (
            "submission",
            "verify_timeout = 121.5",
            "verify_timeout",
            "应大于 0，且不超过 120，现在是 121.5",
        ),
        ("faq", "answer_threshold = 1.5", "answer_threshold", "应大于 0，且不超过 1，现在是 1.5"),
        ("messages", 'burst = "5"', "burst", "应为整数；请去掉引号：burst = 5"),
        ("messages", "burst = 2.5", "burst", "应为整数，现在是小数"),
        ("messages", 'interval = "1.5"', "interval", "应为数字（如 1.5），现在是文字"),
        ("bot", "welcome = 1", "welcome", "应为 true 或 false（不加引号），现在是整数"),
        ("bot", "nickname = 3", "nickname", "应为文字（加英文双引号），现在是整数"),
        ("bot", 'nickname = " "', "nickname", "不能为空；请填写内容"),
        ("bot", "ignore_users = 5", "ignore_users", "应为列表（如 [1, 2]），现在是整数"),
        ("bot", 'ignore_users = ["5"]', "ignore_users", "QQ 号应为整数；请去掉引号：5"),
        ("bot", 'nick = "x"', "nick", "未知的键“nick”，是否想写“nickname”？"),
        (
            "bot",
            "zzz = 1",
            "zzz",
            "未知的键“zzz”；这里可用的键：nickname、welcome、rules_hint、ignore_users",
        ),
        (
            "submission",
            'platforms = ["qq.com", "https://weibo.com/"]',
            "platforms",
            '“https://weibo.com/”不是网站域名；请只写域名后缀，例如 "weibo.com"'
            "（不要写 https:// 或路径）",
        ),
        (
            "reminders",
            'daily_at = "9"',
            "daily_at",
            '时刻“9”写法不对；请写 24 小时制的时:分，例如 "09:00"（不要每日进度请写 ""）',
        ),
        (
            "reminders",
            "catch_up_grace = 2",
            "catch_up_grace",
            '应为带引号的时长，如 "2h"，现在是整数 2',
        ),
    ],
)
def test_problem_messages_word_for_word(
    tmp_path: Path, section: str, line: str, key: str, message: str
) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[{section}]\n{line}\n")
    assert keys[f"{section}.{key}"] == message


def test_moment_without_a_time_shows_the_example(tmp_path: Path) -> None:
    text = VALID.replace("deadline = 2027-07-01T18:00:00", "deadline = 2027-07-01")
    keys = problems_for(tmp_path, text)
    assert keys["contest.deadline"] == "只写了日期，还要写时刻；例如 deadline = 2027-07-01T18:00:00"


def test_empty_groups_shows_the_example(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("groups = [123456789]", "groups = []"))
    assert keys["contest.groups"] == "不能为空；请写 groups = [123456789]（服务的 QQ 群号）"


def test_every_bad_qq_id_in_a_list_is_a_problem(tmp_path: Path) -> None:
    _, problems = load(tmp_path, VALID.replace("organizers = [10000]", 'organizers = ["7", 0]'))
    assert [(p.key, p.message) for p in problems] == [
        ("contest.organizers", "QQ 号应为整数；请去掉引号：7"),
        ("contest.organizers", "QQ 号应为正整数，现在是 0"),
    ]


def test_a_timezone_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("Asia/Shanghai", "Asia"))
    assert "无效的时区“Asia”" in keys["contest.timezone"]


def test_a_category_with_a_problem_is_still_one_units_may_refer_to(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace("quota = 5\n", "quota = -5\n"))
    assert list(keys) == ["categories[2].quota"]


def test_unit_name_with_forbidden_characters_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID.replace('"区财政局"', '"区财政局/办公室"'))
    assert keys["units[2].name"].startswith("单位名称“区财政局/办公室”不可用：")


# ---- [submission] and [faq] -------------------------------------------------------------------


def test_submission_section_is_read(tmp_path: Path) -> None:
    text = VALID + (
        '\n[submission]\nplatforms = [".Weibo.com", "qq.com"]\nverify = false\nmin_chars = 300\n'
        'verify_allow_private = true\nverify_resolve = { "Weibo.com" = "127.0.0.1" }\n'
    )
    contest, problems = load(tmp_path, text)
    assert problems == []
    assert contest is not None
    assert contest.submission.platforms == ("weibo.com", "qq.com")
    assert contest.submission.verify is False
    assert contest.submission.min_chars == 300
    assert contest.submission.verify_resolve == (("weibo.com", "127.0.0.1"),)


def test_verify_resolve_needs_verify_allow_private(tmp_path: Path) -> None:
    text = VALID + '\n[submission]\nverify_resolve = { "weibo.com" = "127.0.0.1" }\n'
    keys = problems_for(tmp_path, text)
    assert keys == {
        "submission.verify_resolve": "只能与 verify_allow_private = true 一起使用（仅供测试）"
    }


def test_faq_thresholds_out_of_order_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + "\n[faq]\nsuggest_threshold = 0.7\n")
    assert keys == {
        "faq.answer_threshold": "阈值应满足 suggest_threshold < answer_threshold ≤ "
        "passive_threshold（现在是 0.7 / 0.6 / 0.7）"
    }


def test_faq_section_is_read(tmp_path: Path) -> None:
    text = VALID + "\n[faq]\npassive = false\nanswer_threshold = 0.5\npassive_off_groups = [1]\n"
    contest, problems = load(tmp_path, text)
    assert problems == []
    assert contest is not None
    assert contest.faq.passive is False
    assert contest.faq.answer_threshold == 0.5
    assert contest.faq.passive_off_groups == frozenset({1})


def test_a_unit_may_name_its_category_by_name(tmp_path: Path) -> None:
    path = tmp_path / "contest.toml"
    path.write_text(
        VALID.replace('category = "town"', 'category = "镇、街道"', 1), encoding="utf-8"
    )
    contest, problems = load_contest(path)
    assert problems == []
    assert contest is not None
    assert {u.category for u in contest.units} <= {c.id for c in contest.categories}
