"""The FAQ ranker on a small knowledge base of its own: normalisation, scores, decisions."""

from __future__ import annotations

import pytest

from bot.faq.entry import FaqEntry
from bot.faq.normalize import AT_WORD, Normalizer, fold, looks_like_question
from bot.faq.ranker import Decision, Match, Ranker, calibrate, decide
from bot.settings.contest import FaqPolicy

NICK = "大赛助手"
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("发", "发表", "发布", "发帖", "写"),
    ("链接", "网址", "地址"),
    ("图片", "照片", "配图", "插图"),
    ("注册", "开通", "申请"),
    ("删除", "删掉", "删"),
    ("截止", "结束", "最后期限"),
)
ENTRIES = (
    FaqEntry(
        "blog-register",
        "怎么开通新浪博客？",
        ("博客在哪里注册", "没有博客账号怎么办"),
        ("注册",),
    ),
    FaqEntry("blog-publish", "新浪博客怎么发表博文？", ("写好的文章怎么发到博客上",)),
    FaqEntry("blog-image", "博文里怎么插入图片？", ("照片怎么放到博文里",)),
    FaqEntry("blog-link", "怎么复制博文的链接？", ("博客网址在哪里看",)),
    FaqEntry("blog-delete", "博文怎么删除？", ("发错了怎么删掉",)),
    FaqEntry("weibo-post", "怎么发微博？", ("微博在哪里发",)),
    FaqEntry("blog-login", "新浪博客怎么登录？", ("用什么账号登博客",)),
    FaqEntry(
        "rule-deadline",
        "大赛什么时候截止？",
        ("最晚几号交",),
        ("读书周",),
    ),
    FaqEntry("rule-word-count", "博文要写多少字？", ("字数有要求吗",)),
)
POLICY = FaqPolicy()


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return Ranker.build(ENTRIES, SYNONYMS, NICK)


def top(ranker: Ranker, question: str) -> Match:
    matches = ranker.rank(question)
    assert matches, f"no match for {question}"
    return matches[0]


# -- normalisation ---------------------------------------------------------------------------


def test_fold_turns_full_width_into_half_width_and_lower_case() -> None:
    assert fold("ＢＬＯＧ１２３") == "blog123"


def test_fold_turns_traditional_into_simplified() -> None:
    assert fold("請問怎麼發表") == "请问怎么发表"


def test_fillers_and_punctuation_are_dropped(ranker: Ranker) -> None:
    assert ranker.tokens("请问老师，一下子，博客呢？？～😀") == ("博客",)


def test_a_filler_character_inside_a_word_stays(ranker: Ranker) -> None:
    assert "吗啡" in ranker.tokens("吗啡")


def test_the_bots_nickname_and_mentions_are_dropped(ranker: Ranker) -> None:
    assert ranker.tokens("@大赛助手 博客") == ("博客",)
    assert ranker.tokens("@张三 博客") == ("博客",)


@pytest.mark.parametrize("text", ["微博怎么@人", "微博里怎么@张三", "就是@那个", "提到（@）别人"])
def test_an_at_sign_used_as_a_verb_is_a_word(ranker: Ranker, text: str) -> None:
    """怎么@人 asks how to mention someone: the "@" is the question, not a mention."""
    assert AT_WORD in ranker.tokens(text)
    assert AT_WORD not in ranker.tokens("@张三 博客")


def test_synonyms_become_the_first_word_of_their_group(ranker: Ranker) -> None:
    assert ranker.tokens("网址") == ("链接",)
    assert ranker.tokens("发布") == ("发",)


def test_colloquial_question_words_are_one_word(ranker: Ranker) -> None:
    assert ranker.tokens("咋") == ranker.tokens("如何") == ("怎么",)


def test_a_homophone_typo_becomes_the_known_word() -> None:
    norm = Normalizer.build(["博客的链接", "微博", "登录"], nickname=NICK, words=["微博"])
    assert norm.tokens("博课") == ("博客",)
    assert norm.tokens("连接") == ("链接",)
    assert norm.tokens("微薄") == ("微博",)
    assert norm.tokens("登陆") == ("登录",)


def test_a_typo_half_made_of_a_filler_is_corrected_before_fillers_go() -> None:
    norm = Normalizer.build(["博客密码忘了怎么办"], nickname=NICK)
    assert "密码" in norm.tokens("博客密吗忘了")  # 吗 alone would be dropped as a filler


def test_a_real_word_with_a_different_sound_is_not_corrected() -> None:
    norm = Normalizer.build(["博客的链接"], nickname=NICK)
    assert norm.tokens("开会") == ("开会",)


def test_a_compound_is_split_into_the_words_the_base_uses() -> None:
    norm = Normalizer.build(["字体怎么调"], nickname=NICK)
    assert "字体" in norm.tokens("字体大小")


def test_any_character_count_means_word_count(ranker: Ranker) -> None:
    assert "字数" in ranker.tokens("写五百字可以吗")
    assert "字数" in ranker.tokens("600字够不够")


@pytest.mark.parametrize("text", ["怎么发博客", "博客发不出去", "能用手机发吗", "请问截止时间"])
def test_questions_look_like_questions(text: str) -> None:
    assert looks_like_question(text, NICK)


@pytest.mark.parametrize(
    "text",
    [
        "谁可以参加",
        "手机阿好发",
        "验证码一直收不到",
        "旧文章删不掉",
        "账号被封了",
        "boke zenme zhuce",
        "博客密码忘了",
        "登录口令记不起来",
        "网页进不去",
        "照片弄勿来",
        "写了一半勿见脱了",
    ],
)
def test_dialect_problems_and_pinyin_read_as_questions(text: str) -> None:
    assert looks_like_question(text, NICK)


def test_a_thing_the_base_never_mentions_is_noticed(ranker: Ranker) -> None:
    assert "社保卡" in ranker.unknown_words("社保卡密码忘了怎么办")


def test_an_action_is_not_a_thing_the_base_never_mentions(ranker: Ranker) -> None:
    assert not {"调整", "设置"} & set(ranker.unknown_words("格式乱了要怎么调整设置"))


def test_who_and_where_the_asker_is_are_context_not_things(ranker: Ranker) -> None:
    unknown = ranker.unknown_words("我们小学办公室的王老师问博客怎么加图片，办法有吗")
    assert not {"小学", "办公室", "老师", "办法"} & set(unknown)


@pytest.mark.parametrize("text", ["收到", "我刚发了一篇博客", "好的谢谢", "👍", "链接已经发群里了"])
def test_statements_do_not_look_like_questions(text: str) -> None:
    assert not looks_like_question(text, NICK)


# -- scores ------------------------------------------------------------------------------------


def test_a_phrasing_itself_scores_one(ranker: Ranker) -> None:
    assert top(ranker, "博客在哪里注册") == Match("blog-register", 1.0)


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("@大赛助手 請問老師，博文裡怎麼插入圖片呀？？", "blog-image"),
        ("请问一下 怎么复制博文的网址啊", "blog-link"),
        ("老师 微博在哪里发布呢", "weibo-post"),
    ],
)
def test_a_perfect_paraphrase_scores_at_least_0_9(
    ranker: Ranker, question: str, entry: str
) -> None:
    match = top(ranker, question)
    assert match.id == entry
    assert match.score >= 0.9


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("博文咋配图", "blog-image"),
        ("博课的连接怎么复制", "blog-link"),
        ("发错的博文能删吗", "blog-delete"),
        ("截止日期是哪天", "rule-deadline"),
        ("新浪博客登陆不上", "blog-login"),
    ],
)
def test_colloquial_questions_find_their_entry(ranker: Ranker, question: str, entry: str) -> None:
    assert top(ranker, question).id == entry


@pytest.mark.parametrize("chatter", ["收到", "好的谢谢", "今天开会吗", "明天几点集合", "辛苦了"])
def test_chatter_scores_at_most_0_3(ranker: Ranker, chatter: str) -> None:
    assert all(m.score <= 0.3 for m in ranker.rank(chatter))


def test_a_keyword_alone_finds_its_entry(ranker: Ranker) -> None:
    assert top(ranker, "读书周哪天").id == "rule-deadline"


def test_matches_are_best_first_in_zero_to_one_and_at_most_k(ranker: Ranker) -> None:
    matches = ranker.rank("博客怎么发图片", k=2)
    assert len(matches) == 2
    assert matches[0].score >= matches[1].score
    assert all(0.0 < m.score <= 1.0 for m in matches)


def test_nothing_in_common_gives_no_matches(ranker: Ranker) -> None:
    assert ranker.rank("中午吃什么") == []
    assert ranker.rank("") == []


def test_a_match_prints_as_id_and_two_decimals() -> None:
    assert str(Match("blog-link", 0.8666)) == "blog-link 0.87"


def test_calibration_is_monotone_and_pinned_at_both_ends() -> None:
    assert calibrate(0.0) == 0.0
    assert calibrate(1.0) == pytest.approx(1.0)
    values = [calibrate(x / 100) for x in range(101)]
    assert values == sorted(values)


def _unrelated(count: int) -> list[FaqEntry]:
    things = ["社保卡", "公积金", "党费", "会议室", "停车证", "饭卡", "门禁卡", "年假", "报销"]
    forms = ["{}怎么办理", "{}在哪里办", "{}丢了怎么补办", "{}要带什么材料", "{}多久能办好"]
    return [
        FaqEntry(
            f"extra-{n}",
            forms[n % len(forms)].format(things[n % len(things)] + str(n)),
            tuple(f.format(things[n % len(things)]) for f in forms),
        )
        for n in range(count)
    ]


def test_two_thousand_unrelated_entries_barely_move_a_score(ranker: Ranker) -> None:
    big = Ranker.build([*ENTRIES, *_unrelated(2000)], SYNONYMS, NICK)
    for question in ("博文咋配图", "截止日期是哪天", "怎么开个博客"):
        small_top, big_top = top(ranker, question), top(big, question)
        assert big_top.id == small_top.id
        assert abs(big_top.score - small_top.score) <= 0.05


def test_the_build_time_is_reported(ranker: Ranker) -> None:
    assert ranker.build_seconds > 0.0


# -- decisions ---------------------------------------------------------------------------------


def test_a_clear_top_match_is_answered() -> None:
    matches = [Match("a", 0.8), Match("b", 0.4)]
    assert decide(matches, POLICY, passive=False) == Decision("answer", ("a",), tuple(matches))


def test_two_close_strong_matches_are_suggested_not_guessed() -> None:
    matches = [Match("a", 0.8), Match("b", 0.78), Match("c", 0.1)]
    assert decide(matches, POLICY, passive=False).kind == "suggest"
    assert decide(matches, POLICY, passive=False).entry_ids == ("a", "b")


def test_a_middling_match_is_suggested_with_up_to_three() -> None:
    matches = [Match("a", 0.5), Match("b", 0.45), Match("c", 0.4), Match("d", 0.39)]
    assert decide(matches, POLICY, passive=False).entry_ids == ("a", "b", "c")


def test_a_weak_match_gets_nothing() -> None:
    assert decide([Match("a", 0.2)], POLICY, passive=False).kind == "none"
    assert decide([], POLICY, passive=False).kind == "none"


def test_passive_mode_answers_only_above_its_own_threshold() -> None:
    assert decide([Match("a", 0.65)], POLICY, passive=True).kind == "none"
    assert decide([Match("a", 0.7)], POLICY, passive=True).entry_ids == ("a",)
    assert decide([Match("a", 0.8)], POLICY, passive=True).entry_ids == ("a",)


def test_passive_mode_never_suggests() -> None:
    matches = [Match("a", 0.9), Match("b", 0.88)]
    assert decide(matches, POLICY, passive=True).kind == "none"


def test_passive_mode_ignores_what_is_not_a_question() -> None:
    assert decide([Match("a", 0.95)], POLICY, passive=True, question_like=False).kind == "none"


def test_a_statement_using_the_entrys_words_gets_no_passive_answer(ranker: Ranker) -> None:
    assert ranker.consider("博客在哪里注册", POLICY, passive=True).kind == "answer"
    assert ranker.consider("我刚在博客注册好了", POLICY, passive=True).kind == "none"


@pytest.mark.parametrize("chatter", ["收到", "好的谢谢", "今天开会吗", "明天几点集合", "已完成"])
def test_chatter_is_not_answered_passively(ranker: Ranker, chatter: str) -> None:
    assert ranker.consider(chatter, POLICY, passive=True).kind == "none"
