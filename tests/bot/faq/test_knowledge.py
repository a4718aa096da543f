from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.faq.entry import FaqEntry
from bot.faq.knowledge import (
    MAX_ANSWER_CHARS,
    REQUIRED_IDS,
    display_time,
    load_knowledge,
    load_synonyms,
    parse_synonyms,
    render_answer,
    render_context,
    synonyms_path,
)
from bot.settings.contest import Category, Contest
from bot.settings.loader import load_contest_or_raise
from bot.settings.values import Problem

CONFIG = Path(__file__).parents[3] / "config"


@pytest.fixture(scope="module")
def shipped() -> Contest:
    return load_contest_or_raise(CONFIG / "contest.toml")


def answers(contest: Contest) -> dict[str, str]:
    entries, problems = load_knowledge(contest)
    assert problems == []
    return {e.id: e.answer for e in entries}


# --------------------------------------------------------------------------------------------
# The shipped knowledge base


def test_shipped_base_loads_without_problems(shipped: Contest) -> None:
    entries, problems = load_knowledge(shipped)
    assert [str(p) for p in problems] == []
    assert len(entries) >= len(REQUIRED_IDS)


def test_shipped_base_covers_every_required_id(shipped: Contest) -> None:
    entries, _ = load_knowledge(shipped)
    assert set(REQUIRED_IDS) <= {e.id for e in entries}


def test_shipped_answers_are_non_empty_and_fit_a_phone_screen(shipped: Contest) -> None:
    entries, _ = load_knowledge(shipped)
    for entry in entries:
        assert entry.answer.strip(), entry.id
        assert len(entry.answer) <= MAX_ANSWER_CHARS, entry.id
        assert "{{" not in entry.answer, entry.id
        assert "{%" not in entry.answer, entry.id


def test_shipped_entries_have_several_phrasings_and_a_question(shipped: Contest) -> None:
    entries, _ = load_knowledge(shipped)
    for entry in entries:
        assert entry.question, entry.id
        assert len(entry.phrasings) >= 5, entry.id
        assert entry.source == "file"


def test_shipped_answers_use_no_markdown(shipped: Contest) -> None:
    """Answers go to QQ as plain text: markdown markers would show up literally."""
    for entry_id, answer in answers(shipped).items():
        assert "**" not in answer, entry_id
        assert "```" not in answer, entry_id
        assert not any(line.startswith(("#", "- ", "* ")) for line in answer.splitlines()), entry_id


def test_shipped_rule_answers_state_the_shipped_contest(shipped: Contest) -> None:
    text = answers(shipped)
    assert "镇、街道：每个单位至少 50 篇" in text["rule-quota"]
    assert "部门、单位：每个单位至少 5 篇" in text["rule-quota"]
    assert "7月1日（周四）18:00" in text["rule-deadline"]
    assert "6月24日（周四）00:00" in text["rule-deadline"]
    assert "至少 600 字" in text["rule-word-count"]
    assert "新浪博客" in text["rule-platform"]
    assert "人民网" in text["rule-platform"]
    for criterion in ("数量", "质量", "点击率", "转播率", "影响力"):
        assert criterion in text["rule-judging"]


# --------------------------------------------------------------------------------------------
# Rule answers follow the contest config


def test_quota_answer_follows_a_changed_category_quota(shipped: Contest) -> None:
    categories = tuple(replace(c, quota=60) if c.id == "town" else c for c in shipped.categories)
    text = answers(replace(shipped, categories=categories))["rule-quota"]
    assert "镇、街道：每个单位至少 60 篇" in text
    assert "镇、街道：每个单位至少 50 篇" not in text


def test_quota_answer_lists_an_added_category(shipped: Contest) -> None:
    categories = (*shipped.categories, Category("school", "学校", 8))
    text = answers(replace(shipped, categories=categories))["rule-quota"]
    assert "学校：每个单位至少 8 篇" in text


def test_deadline_answer_follows_a_changed_deadline(shipped: Contest) -> None:
    deadline = datetime(2027, 7, 3, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    text = answers(replace(shipped, deadline=deadline))
    assert "7月3日（周六）12:00" in text["rule-deadline"]
    assert "7月1日" not in text["rule-deadline"]
    assert "7月3日（周六）12:00" in text["rule-late"]


def test_word_count_answer_follows_a_changed_min_chars(shipped: Contest) -> None:
    submission = replace(shipped.submission, min_chars=800)
    text = answers(replace(shipped, submission=submission))
    assert "至少 800 字" in text["rule-word-count"]
    assert "600" not in text["rule-word-count"]


def test_platform_answer_follows_the_configured_platforms(shipped: Contest) -> None:
    submission = replace(shipped.submission, platforms=("blog.sina.com.cn", "xuexi.cn"))
    text = answers(replace(shipped, submission=submission))
    assert "学习强国" in text["rule-platform"]
    assert "人民网" not in text["rule-platform"]
    assert "可以报送" not in text["wechat-article"]


def test_help_answer_names_the_configured_contacts(shipped: Contest) -> None:
    faq = replace(shipped.faq, contacts="请找王老师，电话 0573-1234567。")
    text = answers(replace(shipped, faq=faq))
    assert text["human-help"].startswith("请找王老师，电话 0573-1234567。")


def test_times_are_shown_in_the_contest_timezone(shipped: Contest) -> None:
    utc_deadline = datetime(2027, 7, 1, 10, 0, tzinfo=ZoneInfo("UTC"))
    context = render_context(replace(shipped, deadline=utc_deadline))
    assert context["contest"]["deadline"] == "7月1日（周四）18:00"
    assert context["contest"]["timezone_label"] == "北京时间"


def test_display_time_reads_like_a_chinese_calendar() -> None:
    moment = datetime(2027, 6, 27, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert display_time(moment) == "6月27日（周日）09:05"


def test_context_knows_which_hosts_the_contest_allows(shipped: Contest) -> None:
    allows = render_context(shipped)["allows"]
    assert allows("https://mp.weixin.qq.com/s/abc")
    assert allows("blog.sina.com.cn")
    assert not allows("https://www.douyin.com/video/1")
    assert not allows("evilqq.com")


def test_context_commands_can_be_renamed(shipped: Contest) -> None:
    context = render_context(shipped, {"submit": "/交作品"})
    rendered, error = render_answer("发 {{ commands.submit }} 链接", context)
    assert error is None
    assert rendered == "发 /交作品 链接"


def test_answer_templates_cannot_reach_python_internals(shipped: Contest) -> None:
    rendered, error = render_answer("{{ ''.__class__.__mro__ }}", render_context(shipped))
    assert rendered is None
    assert error


# --------------------------------------------------------------------------------------------
# Validation: every problem names file and key


def entry_yaml(entry_id: str, answer: str = "答案", question: str = "问题？") -> str:
    return f"  - id: {entry_id}\n    question: {question}\n    answer: {answer}\n"


BASE = "version: 1\nentries:\n" + "".join(entry_yaml(i) for i in REQUIRED_IDS)


def load_text(shipped: Contest, tmp_path: Path, text: str) -> tuple[list[FaqEntry], list[Problem]]:
    (tmp_path / "faq.yaml").write_text(text, encoding="utf-8")
    return load_knowledge(replace(shipped, config_dir=tmp_path))


def problem_keys(problems: list[Problem]) -> dict[str, str]:
    return {p.key: p.message for p in problems}


N = len(REQUIRED_IDS)


def test_minimal_base_has_no_problems(shipped: Contest, tmp_path: Path) -> None:
    entries, problems = load_text(shipped, tmp_path, BASE)
    assert problems == []
    assert len(entries) == N


def test_yaml_syntax_error_names_the_broken_line(shipped: Contest, tmp_path: Path) -> None:
    text = "version: 1\nentries:\n  - id: a\n  question: 缩进错了\n    answer: 答案\n"
    entries, problems = load_text(shipped, tmp_path, text)
    assert entries == []
    assert [(p.file, p.key) for p in problems] == [(str(tmp_path / "faq.yaml"), "(整个文件)")]
    assert "YAML" in problems[0].message
    assert "第 4 行" in problems[0].message


def test_missing_file_is_a_problem(shipped: Contest, tmp_path: Path) -> None:
    entries, problems = load_knowledge(replace(shipped, config_dir=tmp_path))
    assert entries == []
    assert problems[0].file == str(tmp_path / "faq.yaml")
    assert "找不到" in problems[0].message


def test_missing_required_ids_are_listed(shipped: Contest, tmp_path: Path) -> None:
    text = "version: 1\nentries:\n" + "".join(entry_yaml(i) for i in REQUIRED_IDS[2:])
    _, problems = load_text(shipped, tmp_path, text)
    keys = problem_keys(problems)
    assert REQUIRED_IDS[0] in keys["entries"]
    assert REQUIRED_IDS[1] in keys["entries"]
    assert REQUIRED_IDS[2] not in keys["entries"]


def test_entries_must_be_a_list(shipped: Contest, tmp_path: Path) -> None:
    _, problems = load_text(shipped, tmp_path, "version: 1\nentries: 没有\n")
    assert "entries" in problem_keys(problems)


def test_duplicate_id_is_reported_and_the_first_entry_kept(
    shipped: Contest, tmp_path: Path
) -> None:
    text = BASE + entry_yaml("blog-link", answer="第二个答案")
    entries, problems = load_text(shipped, tmp_path, text)
    keys = problem_keys(problems)
    assert f"entries[{N + 1}].id" in keys
    assert "重复" in keys[f"entries[{N + 1}].id"]
    assert [e.answer for e in entries if e.id == "blog-link"] == ["答案"]


def test_bad_id_format_is_reported(shipped: Contest, tmp_path: Path) -> None:
    entries, problems = load_text(shipped, tmp_path, BASE + entry_yaml("Blog_Link 2"))
    keys = problem_keys(problems)
    assert f"entries[{N + 1}].id" in keys
    assert "小写英文字母" in keys[f"entries[{N + 1}].id"]
    assert len(entries) == N


def test_empty_question_is_reported(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + "  - id: extra\n    question: ''\n    answer: 答案\n"
    entries, problems = load_text(shipped, tmp_path, text)
    assert f"entries[{N + 1}].question" in problem_keys(problems)
    assert "extra" not in {e.id for e in entries}


def test_empty_answer_is_reported(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + "  - id: extra\n    question: 问题\n    answer:\n"
    entries, problems = load_text(shipped, tmp_path, text)
    message = problem_keys(problems)[f"entries[{N + 1}].answer"]
    assert "extra" in message
    assert "extra" not in {e.id for e in entries}


def test_answer_template_syntax_error_is_reported(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra", answer="'截止 {{ contest.deadline '")
    _, problems = load_text(shipped, tmp_path, text)
    assert "模板" in problem_keys(problems)[f"entries[{N + 1}].answer"]


def test_answer_with_an_undefined_variable_is_reported(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra", answer="'截止 {{ contest.dedline }}'")
    entries, problems = load_text(shipped, tmp_path, text)
    message = problem_keys(problems)[f"entries[{N + 1}].answer"]
    assert "dedline" in message
    assert "extra" not in {e.id for e in entries}


def test_too_long_answer_is_reported_but_kept(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra", answer="长" * (MAX_ANSWER_CHARS + 1))
    entries, problems = load_text(shipped, tmp_path, text)
    assert str(MAX_ANSWER_CHARS + 1) in problem_keys(problems)[f"entries[{N + 1}].answer"]
    assert "extra" in {e.id for e in entries}


def test_too_long_is_measured_after_rendering(shipped: Contest, tmp_path: Path) -> None:
    loop = "{% for i in range(300) %}长长长{% endfor %}"
    text = BASE + entry_yaml("extra", answer=f"'{loop}'")
    _, problems = load_text(shipped, tmp_path, text)
    assert f"entries[{N + 1}].answer" in problem_keys(problems)


def test_missing_image_is_reported(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra") + "    images: [link.png]\n"
    entries, problems = load_text(shipped, tmp_path, text)
    assert "link.png" in problem_keys(problems)[f"entries[{N + 1}].images[1]"]
    assert [e.images for e in entries if e.id == "extra"] == [()]


def test_present_image_resolves_under_the_images_folder(shipped: Contest, tmp_path: Path) -> None:
    (tmp_path / "faq-images").mkdir()
    (tmp_path / "faq-images" / "link.png").write_bytes(b"\x89PNG")
    text = BASE + entry_yaml("extra") + "    images: [link.png]\n"
    entries, problems = load_text(shipped, tmp_path, text)
    assert problems == []
    (extra,) = [e for e in entries if e.id == "extra"]
    assert extra.images == ((tmp_path / "faq-images" / "link.png").resolve(),)


def test_image_outside_the_images_folder_is_refused(shipped: Contest, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"x")
    text = BASE + entry_yaml("extra") + "    images: [../secret.png]\n"
    entries, problems = load_text(shipped, tmp_path, text)
    assert f"entries[{N + 1}].images[1]" in problem_keys(problems)
    assert [e.images for e in entries if e.id == "extra"] == [()]


def test_unknown_entry_key_is_reported_with_a_hint(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra") + "    phrasing: [怎么办]\n"
    _, problems = load_text(shipped, tmp_path, text)
    assert "phrasings" in problem_keys(problems)[f"entries[{N + 1}].phrasing"]


def test_phrasings_must_be_a_list(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra") + "    phrasings: 怎么办\n"
    _, problems = load_text(shipped, tmp_path, text)
    assert f"entries[{N + 1}].phrasings" in problem_keys(problems)


def test_problem_message_names_the_entry_line(shipped: Contest, tmp_path: Path) -> None:
    text = BASE + entry_yaml("extra", answer="''")
    _, problems = load_text(shipped, tmp_path, text)
    assert f"第 {3 + N * 3} 行" in problem_keys(problems)[f"entries[{N + 1}].answer"]


# --------------------------------------------------------------------------------------------
# Synonyms


def test_shipped_synonyms_parse_without_problems(shipped: Contest) -> None:
    groups, problems = load_synonyms(synonyms_path(shipped))
    assert [str(p) for p in problems] == []
    by_head = {g[0]: set(g) for g in groups}
    assert {"发", "发表", "发布", "发帖", "发文"} <= by_head["发"]
    assert "写" not in by_head["发"]  # 写 a post is not 发 it (写完了怎么发出去)
    assert {"博客", "博文", "blog", "日志"} <= by_head["博客"]
    assert {"微博", "围脖", "weibo"} <= by_head["微博"]
    assert {"链接", "网址", "地址", "链接地址", "url"} <= by_head["链接"]
    assert {"图片", "照片", "配图", "图"} <= by_head["图片"]


def test_synonyms_skip_comments_and_accept_full_width_spaces() -> None:
    text = "# 注释\n\n发\u3000发表  发布 # 行尾注释\n"
    groups, problems = parse_synonyms(text, file="synonyms.txt")
    assert problems == []
    assert groups == [("发", "发表", "发布")]


def test_synonym_line_with_one_word_is_reported() -> None:
    groups, problems = parse_synonyms("发 发表\n孤单\n", file="synonyms.txt")
    assert groups == [("发", "发表")]
    assert [(p.file, p.key) for p in problems] == [("synonyms.txt", "第 2 行")]


def test_word_in_two_synonym_groups_is_reported() -> None:
    groups, problems = parse_synonyms("发 发表 写\n写 撰写 编写\n", file="synonyms.txt")
    assert groups == [("发", "发表", "写"), ("撰写", "编写")]
    assert problems[0].key == "第 2 行"
    assert "第 1 行" in problems[0].message


def test_word_repeated_in_one_line_is_reported() -> None:
    groups, problems = parse_synonyms("发 发表 发\n", file="synonyms.txt")
    assert groups == [("发", "发表")]
    assert problems[0].key == "第 1 行"


def test_missing_synonyms_file_is_a_problem(tmp_path: Path) -> None:
    groups, problems = load_synonyms(tmp_path / "synonyms.txt")
    assert groups == []
    assert "找不到" in problems[0].message
