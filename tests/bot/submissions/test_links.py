from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bot.settings.contest import DEFAULT_PLATFORMS
from bot.submissions.links import (
    MAX_URL_LENGTH,
    Candidate,
    base62_to_mid,
    check_link,
    extract_candidates,
    mid_to_base62,
    normalize,
    split_links,
)
from bot.submissions.shapes import known_post, link_flags
from bot.submissions.states import Flag

PLATFORMS = DEFAULT_PLATFORMS
WEIBO_POST = "https://m.weibo.cn/status/3501756485200075"
SINA_BLOG = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


def json_card(card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json", "data": {"data": json.dumps(card, ensure_ascii=False)}}


def xml_card(xml: str) -> dict[str, Any]:
    return {"type": "xml", "data": {"data": xml}}


def links_in(*segments: dict[str, Any]) -> list[str]:
    return [c.given for c in extract_candidates(list(segments))]


def authors_in(*segments: dict[str, Any]) -> list[str | None]:
    return [c.author for c in extract_candidates(list(segments))]


# ---------------------------------------------------------------------------------------------
# Weibo base62 <-> mid


def test_known_mid_encodes_to_its_base62_id() -> None:
    """Worked by hand: 35 | 0175648 | 5200075 → z | 0JH2 | lOMb."""
    assert mid_to_base62("3501756485200075") == "z0JH2lOMb"
    assert base62_to_mid("z0JH2lOMb") == "3501756485200075"


@pytest.mark.parametrize(
    "mid",
    [
        "3501756485200075",
        "4567890123456789",
        "4000000000000000",  # all-zero groups pad to 0000
        "4700000000000001",
        "9999999999999999",
        "1",
        "10000000",  # a second group of zeros
        "12345678901234567890",
    ],
)
def test_mid_survives_a_round_trip_through_base62(mid: str) -> None:
    assert base62_to_mid(mid_to_base62(mid)) == mid


def test_random_mids_survive_round_trips() -> None:
    rng = random.Random(20110701)
    for _ in range(2000):
        mid = str(rng.randrange(3_000_000_000_000_000, 5_500_000_000_000_000))
        assert base62_to_mid(mid_to_base62(mid)) == mid


@pytest.mark.parametrize("base62", ["z0JH2lOMb", "Ks3ZbwxTf", "KxYz12345", "Abc123", "1"])
def test_base62_id_survives_a_round_trip_through_mid(base62: str) -> None:
    assert mid_to_base62(base62_to_mid(base62)) == base62


@pytest.mark.parametrize("mid", ["", "0123", "12a4", "-5", "１２３"])
def test_malformed_mid_is_rejected(mid: str) -> None:
    with pytest.raises(ValueError, match="mid"):
        mid_to_base62(mid)


@pytest.mark.parametrize("base62", ["", "0abc", "ZZZZ", "ab-c", "abc_d"])
def test_string_no_mid_encodes_to_is_rejected(base62: str) -> None:
    """ZZZZ" decodes to 14776335, more than a 7-digit group can hold."""
    with pytest.raises(ValueError, match="base62"):
        base62_to_mid(base62)


# ---------------------------------------------------------------------------------------------
# Extracting candidates from text


def test_links_and_authors_from_the_issue_example() -> None:
    found = extract_candidates(
        [
            text(
                "/提交 张三 https://weibo.com/1234567890/Abc123 "
                "李四 https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"
            )
        ]
    )
    assert found == [
        Candidate("https://weibo.com/1234567890/Abc123", "张三"),
        Candidate(SINA_BLOG, "李四"),
    ]


def test_link_without_a_name_has_no_author() -> None:
    assert extract_candidates([text("/提交 https://weibo.com/1/Abc123")]) == [
        Candidate("https://weibo.com/1/Abc123", None)
    ]


def test_no_link_in_plain_text() -> None:
    assert extract_candidates([text("/提交 张三 的微博我明天发")]) == []


def test_empty_message_has_no_candidates() -> None:
    assert extract_candidates([]) == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("张三\u3000https://weibo.com/1/Abc123\u3000李四\u3000https://t.cn/A6x", ["张三", "李四"]),
        ("张三：https://weibo.com/1/Abc123", ["张三"]),
        ("张三: https://weibo.com/1/Abc123", ["张三"]),
        ("张三 https://weibo.com/1/Abc123，李四 https://t.cn/A6x", ["张三", "李四"]),
        ("张三 https://weibo.com/1/Abc123；李四：https://t.cn/A6x", ["张三", "李四"]),
        ("作者：张三 https://weibo.com/1/Abc123", ["张三"]),
        ("/提交 单位：南湖街道 王小明 https://weibo.com/1/Abc123", ["王小明"]),
        ("阿依古丽·买买提 https://weibo.com/1/Abc123", ["阿依古丽·买买提"]),
        ("Alice https://weibo.com/1/Abc123", ["Alice"]),
        ("欧阳娜娜\n https://weibo.com/1/Abc123", ["欧阳娜娜"]),
    ],
)
def test_name_before_a_link_is_its_author(message: str, expected: list[str]) -> None:
    assert authors_in(text(message)) == expected


@pytest.mark.parametrize(
    "message",
    [
        "【张三的微博】今天学习了党史… https://weibo.com/1/Abc123 复制链接打开",
        "【张三的微博】 https://weibo.com/1/Abc123",
        "【张三的微博】张三 https://weibo.com/1/Abc123",
        "《学党史 悟思想》 张三 https://weibo.com/1/Abc123",
        "#建党百年# 收获满满 https://weibo.com/1/Abc123",
        "今天学习了党史 https://weibo.com/1/Abc123",
        "分享自新浪微博 https://weibo.com/1/Abc123",
        "张三https://weibo.com/1/Abc123",  # glued: not separated from the link
        "单位：南湖街道 https://weibo.com/1/Abc123",
        "链接：https://weibo.com/1/Abc123",
        "详见：https://weibo.com/1/Abc123",
        "/提交 https://weibo.com/1/Abc123",
        "大家好请看这个很长很长的句子 https://weibo.com/1/Abc123",
        "link: https://weibo.com/1/Abc123",
        "张三的 https://weibo.com/1/Abc123",
    ],
)
def test_share_text_and_sentences_give_no_author(message: str) -> None:
    assert authors_in(text(message)) == [None]


def test_share_text_after_a_link_is_not_the_next_links_author() -> None:
    message = (
        "【张三的微博】今天学习了党史… https://weibo.com/1/Abc123 复制链接打开"
        "https://weibo.com/2/Def456"
    )
    assert authors_in(text(message)) == [None, None]


def test_name_after_share_text_belongs_to_the_next_link() -> None:
    message = "【张三的微博】今天… https://weibo.com/1/Abc123 复制链接打开 李四 https://t.cn/A6x"
    assert authors_in(text(message)) == [None, "李四"]


@pytest.mark.parametrize(
    ("message", "link"),
    [
        ("看这个：https://weibo.com/1/Abc123。", "https://weibo.com/1/Abc123"),
        ("（https://weibo.com/1/Abc123）", "https://weibo.com/1/Abc123"),
        ("“https://weibo.com/1/Abc123”", "https://weibo.com/1/Abc123"),
        ("【https://weibo.com/1/Abc123】", "https://weibo.com/1/Abc123"),
        ("《https://weibo.com/1/Abc123》", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123、https://t.cn/x", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123！", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123？", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123.", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123,", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123;", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123:", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123?!", "https://weibo.com/1/Abc123"),
        ("(https://weibo.com/1/Abc123)", "https://weibo.com/1/Abc123"),
        ("(see https://weibo.com/1/Abc123).", "https://weibo.com/1/Abc123"),
        ("<https://weibo.com/1/Abc123>", "https://weibo.com/1/Abc123"),
        ('"https://weibo.com/1/Abc123"', "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123😀", "https://weibo.com/1/Abc123"),
        ("https://weibo.com/1/Abc123…", "https://weibo.com/1/Abc123"),
        (
            "https://people.com.cn/n1/2021/0701/c1.html收到",
            "https://people.com.cn/n1/2021/0701/c1.html",
        ),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("https：//weibo.com/1/Abc123", "https://weibo.com/1/Abc123"),
        ("HTTPS://WEIBO.COM/1/Abc123", "HTTPS://WEIBO.COM/1/Abc123"),
    ],
)
def test_link_is_cut_from_surrounding_punctuation(message: str, link: str) -> None:
    assert links_in(text(message))[0] == link


@pytest.mark.parametrize(
    ("message", "link"),
    [
        ("www.people.com.cn/n1/2021/0701/c1.html", "www.people.com.cn/n1/2021/0701/c1.html"),
        ("张三 www.xinhuanet.com", "www.xinhuanet.com"),
        ("张三 weibo.com/1234567890/Abc123", "weibo.com/1234567890/Abc123"),
        ("发在了m.weibo.cn/status/4567890123456789里", "m.weibo.cn/status/4567890123456789"),
        (
            "blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html",
            "blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html",
        ),
    ],
)
def test_link_without_scheme_is_found_when_clearly_a_link(message: str, link: str) -> None:
    assert links_in(text(message)) == [link]


@pytest.mark.parametrize(
    "message",
    [
        "我在weibo.com上发了",
        "我的邮箱 zhangsan@weibo.com/x",
        "版本 v1.2.3 已发布",
        "时间 12:30 开会",
        "file.txt 在群文件里",
    ],
)
def test_host_names_in_sentences_are_not_links(message: str) -> None:
    assert links_in(text(message)) == []


@pytest.mark.parametrize(
    ("message", "link"),
    [
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("file:///etc/passwd", "file:///etc/passwd"),
        ("ftp://weibo.com/x", "ftp://weibo.com/x"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data:text/html;base64,PHNjcmlwdD4="),
        ("https://weibo.com/1/[CQ:face,id=1]", "https://weibo.com/1/[CQ:face,id=1]"),
        ("https://weibo.com/<script>", "https://weibo.com/<script>"),
        ("https://weibo.com/\x00x", "https://weibo.com/\x00x"),
    ],
)
def test_hostile_links_are_found_whole_so_they_can_be_refused(message: str, link: str) -> None:
    """A hostile link is not cut down into a harmless-looking one."""
    assert links_in(text(message)) == [link]
    assert not check_link(link, PLATFORMS).ok


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202a", "\u202b",
                  "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)  # fmt: skip
def test_invisible_and_direction_characters_inside_a_link_are_removed(invisible: str) -> None:
    assert links_in(text(f"https://wei{invisible}bo.com/1234567890/{invisible}z0JH2lOMb")) == [
        "https://weibo.com/1234567890/z0JH2lOMb"
    ]


def test_invisible_characters_around_a_name_and_a_link_are_removed() -> None:
    found = extract_candidates(
        [text("\u202e张\u200b三 \u2066https://blog.sina.com.cn/s/blog_4b3c\ufeff2a1d0102e5f6.html")]
    )
    assert found == [Candidate(SINA_BLOG, "张三")]


def test_invisible_characters_in_a_share_card_link_are_removed() -> None:
    card = json_card(
        {"meta": {"news": {"jumpUrl": "https://weibo.com/1234567890/z0JH\u200b2lOMb"}}}
    )
    assert links_in(card) == ["https://weibo.com/1234567890/z0JH2lOMb"]


@pytest.mark.parametrize(
    ("message", "unread"),
    [
        ("=1+1 https://weibo.com/1/Abc123", "=1+1"),
        ("张\x07三 https://weibo.com/1/Abc123", "张\x07三"),
        ("[CQ:at,qq=all] https://weibo.com/1/Abc123", "[CQ:at,qq=all]"),
        ("作者：@张三 https://weibo.com/1/Abc123", "@张三"),
        ("张三 https://weibo.com/1/Abc123 李四123 https://weibo.com/1/Abc124", "李四123"),
    ],
)
def test_a_word_in_the_authors_place_that_is_no_name_is_kept_to_be_reported(
    message: str, unread: str
) -> None:
    found = extract_candidates([text(message)])
    assert (found[-1].author, found[-1].unread_author) == (None, unread)


@pytest.mark.parametrize(
    "message",
    [
        "张三 https://weibo.com/1/Abc123",
        "https://weibo.com/1/Abc123",
        "今天学习了党史 https://weibo.com/1/Abc123",
        "分享 https://weibo.com/1/Abc123",
        "链接： https://weibo.com/1/Abc123",
        "1. https://weibo.com/1/Abc123",
        "（2） https://weibo.com/1/Abc123",
        "《红船精神永放光芒》 https://weibo.com/1/Abc123",
        "【张三的微博】 https://weibo.com/1/Abc123",
        "请看这篇文章，写得很好 https://weibo.com/1/Abc123",
    ],
)
def test_no_unread_author_without_an_attempt_at_one(message: str) -> None:
    assert extract_candidates([text(message)])[0].unread_author is None


def test_links_spread_over_text_segments_and_other_segments() -> None:
    found = extract_candidates(
        [
            {"type": "reply", "data": {"id": "123"}},
            text("/提交 张三 "),
            {"type": "face", "data": {"id": "1"}},
            text(" https://weibo.com/1/Abc123 "),
            {"type": "at", "data": {"qq": "10001"}},
            text(" 李四 https://t.cn/A6x"),
            {"type": "image", "data": {"file": "x.jpg", "url": "https://qq.com/img.jpg"}},
        ]
    )
    assert found == [
        Candidate("https://weibo.com/1/Abc123", None),
        Candidate("https://t.cn/A6x", "李四"),
    ]


def test_name_in_one_text_segment_before_a_link_in_the_next() -> None:
    assert authors_in(text("张三 "), text("https://weibo.com/1/Abc123")) == ["张三"]


def test_two_thousand_links_in_one_message_are_all_found() -> None:
    message = " ".join(f"作者{i} https://weibo.com/1/Abc{i:05d}" for i in range(2000))
    found = extract_candidates([text(message)])
    assert len(found) == 2000
    assert found[-1].given == "https://weibo.com/1/Abc01999"


@pytest.mark.parametrize(
    "segment",
    [
        {"type": "text"},
        {"type": "text", "data": None},
        {"type": "text", "data": {"text": 5}},
        {"type": "json", "data": {"data": "{not json"}},
        {"type": "json", "data": {"data": "[" * 100_000 + "]" * 100_000}},
        {"type": "json", "data": {"data": 7}},
        {"type": "xml", "data": {"data": "<msg no url here/>"}},
        {"data": {"text": "https://weibo.com/1/Abc123"}},
    ],
)
def test_malformed_segments_are_skipped(segment: dict[str, Any]) -> None:
    assert extract_candidates([segment]) == []


def test_author_search_over_a_long_run_of_spaces_finishes() -> None:
    """An end-anchored regex over this gap took seconds (quadratic); walking back is linear."""
    message = "\u3000" * 200_000 + "x https://t.cn/A6x"
    # "x" stands where a name goes but is none: kept to be reported.
    assert extract_candidates([text(message)]) == [Candidate("https://t.cn/A6x", None, "x")]


def test_hostile_run_of_brackets_is_trimmed_in_linear_time() -> None:
    assert links_in(text("https://weibo.com/1/Abc123" + ")" * 200_000)) == [
        "https://weibo.com/1/Abc123"
    ]


# ---------------------------------------------------------------------------------------------
# Share cards

NEWS_CARD = {
    "app": "com.tencent.structmsg",
    "desc": "新闻",
    "view": "news",
    "ver": "0.0.0.1",
    "prompt": "[分享]学党史 悟思想",
    "meta": {
        "news": {
            "title": "学党史 悟思想",
            "desc": "张三的微博",
            "preview": "https://wx1.sinaimg.cn/large/abc.jpg",
            "tag": "微博",
            "jumpUrl": "https://weibo.com/1234567890/z0JH2lOMb?from=qq&amp;wfr=spider",
            "appid": 100446242,
            "app_type": 1,
            "action": "",
            "source_url": "",
            "source_icon": "",
            "android_pkg_name": "",
        }
    },
    "config": {"ctime": 1625097600, "forward": True, "type": "normal"},
}

MINIAPP_CARD = {
    "app": "com.tencent.miniapp_01",
    "desc": "",
    "view": "view_8C8E89B49BE609866298ADDFF2DBABA4",
    "meta": {
        "detail_1": {
            "appid": "1109937557",
            "desc": "学党史",
            "icon": "https://miniapp.gtimg.cn/public/appicon/icon.png",
            "preview": "https://pubminishare-30161.picsz.qpic.cn/abc",
            "qqdocurl": "https://mp.weixin.qq.com/s/AbCdEf123?share_source=qq",
            "title": "腾讯",
            "url": "m.q.qq.com/a/s/0123456789abcdef",
        }
    },
}


def test_news_card_gives_its_jump_url_unescaped() -> None:
    assert links_in(json_card(NEWS_CARD)) == [
        "https://weibo.com/1234567890/z0JH2lOMb?from=qq&wfr=spider"
    ]


def test_miniapp_card_gives_its_doc_url_not_the_miniapp_path() -> None:
    assert links_in(json_card(MINIAPP_CARD)) == [
        "https://mp.weixin.qq.com/s/AbCdEf123?share_source=qq"
    ]


def test_card_with_only_a_url_key() -> None:
    card = {"app": "com.tencent.web", "meta": {"page": {"url": "https://www.people.com.cn/a"}}}
    assert links_in(json_card(card)) == ["https://www.people.com.cn/a"]


def test_card_whose_url_is_not_a_web_link_gives_nothing() -> None:
    card = {"app": "com.tencent.miniapp", "meta": {"detail": {"url": "m.q.qq.com/a/s/x"}}}
    assert links_in(json_card(card)) == []


def test_cq_escaped_card_json_is_read() -> None:
    raw = json.dumps(NEWS_CARD, ensure_ascii=False)
    escaped = raw.replace("&", "&amp;").replace(",", "&#44;").replace("[", "&#91;")
    escaped = escaped.replace("]", "&#93;")
    assert links_in({"type": "json", "data": {"data": escaped}}) == [
        "https://weibo.com/1234567890/z0JH2lOMb?from=qq&wfr=spider"
    ]


def test_card_with_json_nested_in_a_string_is_read() -> None:
    inner = json.dumps({"news": {"jumpUrl": "https://xinhuanet.com/a.htm"}})
    assert links_in(json_card({"app": "x", "meta": inner})) == ["https://xinhuanet.com/a.htm"]


def test_author_before_a_card() -> None:
    assert extract_candidates([text("/提交 张三 "), json_card(NEWS_CARD)]) == [
        Candidate("https://weibo.com/1234567890/z0JH2lOMb?from=qq&wfr=spider", "张三")
    ]


def test_card_and_text_links_in_one_message_keep_their_order() -> None:
    found = links_in(text("https://t.cn/A6x "), json_card(NEWS_CARD), text(" https://t.cn/B7y"))
    assert found == [
        "https://t.cn/A6x",
        "https://weibo.com/1234567890/z0JH2lOMb?from=qq&wfr=spider",
        "https://t.cn/B7y",
    ]


XML_CARD = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
    '<msg serviceID="1" templateID="1" action="web" brief="[分享]学党史" sourceMsgId="0" '
    'url="https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html?tj=1&amp;vt=4" flag="0" '
    'adverSign="0" multiMsgFlag="0"><item layout="2"><picture cover="https://x.cn/a.jpg" w="0" '
    'h="0" /><title>学党史</title><summary>张三的博客</summary></item>'
    '<source name="新浪博客" icon="" url="https://blog.sina.com.cn/" action="app" a_actionData="" '
    'i_actionData="" appid="-1" /></msg>'
)


def test_xml_card_gives_the_msg_url_attribute() -> None:
    assert links_in(xml_card(XML_CARD)) == [
        "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html?tj=1&vt=4"
    ]


def test_cq_escaped_xml_card_is_read() -> None:
    escaped = XML_CARD.replace("&", "&amp;").replace(",", "&#44;").replace("[", "&#91;")
    assert links_in(xml_card(escaped.replace("]", "&#93;"))) == [
        "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html?tj=1&vt=4"
    ]


def test_share_card_link_normalises_like_the_typed_link() -> None:
    (given,) = links_in(json_card(NEWS_CARD))
    assert check_link(given, PLATFORMS).url == WEIBO_POST


# ---------------------------------------------------------------------------------------------
# Cap


def test_split_links_keeps_the_first_and_counts_the_rest() -> None:
    candidates = [Candidate(f"https://t.cn/{i}") for i in range(2000)]
    kept, dropped = split_links(candidates, 20)
    assert kept == candidates[:20]
    assert dropped == 1980


def test_split_links_under_the_cap_drops_nothing() -> None:
    candidates = [Candidate("https://t.cn/a"), Candidate("https://t.cn/b")]
    assert split_links(candidates, 20) == (candidates, 0)


def test_split_links_needs_a_positive_cap() -> None:
    with pytest.raises(ValueError, match="max_links"):
        split_links([], 0)


# ---------------------------------------------------------------------------------------------
# Checking: refusals


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("javascript:alert(1)", "http"),
        ("JavaScript:alert(document.cookie)", "http"),
        ("vbscript:msgbox", "http"),
        ("file:///etc/passwd", "http"),
        ("data:text/html;base64,PHNjcmlwdD4=", "http"),
        ("ftp://weibo.com/x", "http"),
        ("mailto:a@weibo.com", "http"),
        ("张三", "不是网页链接"),
        ("", "没有链接"),
        ("   ", "没有链接"),
        ("https://", "域名"),
        ("https:///", "域名"),
        ("https://weibo.com/" + "a" * MAX_URL_LENGTH, "太长"),
        ("https://weibo.com/1/Abc 123", "空格"),
        ("https://weibo.com/1/Abc\t123", "空格"),
        ("https://weibo.com/1/Abc\x00", "控制字符"),
        ("https://weibo.com/1/Abc\x1b[0m", "控制字符"),
        ("https://weibo.com/1/\u202eAbc", "控制字符"),
        ("https://weibo.com/1/\u200bAbc", "控制字符"),
        ("https://weibo.com/1/Abc\u3000def", "空格"),
        ("https://weibo.com/[CQ:at,qq=all]", "CQ 码"),
        ("https://weibo.com/&#91;CQ:at,qq=all&#93;", "CQ 码"),
        ("https://weibo.com/a]b", "方括号"),
        ("https://weibo.com\\@evil.com/", "不该出现的字符 \\"),
        ("https://evil.com\\.weibo.com/", "不该出现的字符 \\"),
        ("https://weibo.com/<script>alert(1)</script>", "不该出现的字符 <"),
        ('https://weibo.com/1" onmouseover="x', "空格"),
        ('https://weibo.com/1"onmouseover="x', '不该出现的字符 "'),
        ("https://weibo.com/{a}", "不该出现的字符 {"),
        ("https://user:pass@weibo.com/1/Abc123", "用户名或密码"),
        ("https://weibo.com@evil.com/", "用户名或密码"),
        ("https://weibo.com:443@evil.com/", "用户名或密码"),
        ("https://@weibo.com/", "用户名或密码"),
        ("http://127.0.0.1/", "IP 地址"),
        ("http://127.1/", "IP 地址"),
        ("http://2130706433/", "IP 地址"),
        ("http://0x7f000001/", "IP 地址"),
        ("http://0x7f.1/", "IP 地址"),
        ("http://0177.0.0.1/", "IP 地址"),
        ("http://10.0.0.1/admin", "IP 地址"),
        ("http://169.254.169.254/latest/meta-data/", "IP 地址"),
        ("http://[::1]/", "IP 地址"),
        ("http://[::ffff:127.0.0.1]/", "IP 地址"),
        ("http://[fe80::1%25eth0]/", "IP 地址"),
        ("http://127.0.0.1.:80/", "IP 地址"),
        ("127.0.0.1/x", "IP 地址"),
        ("http://localhost/", "本机或内网"),
        ("http://LOCALHOST./", "本机或内网"),
        ("http://weibo.localhost/", "本机或内网"),
        ("http://printer.local/", "本机或内网"),
        ("http://metadata.google.internal/", "本机或内网"),
        ("http://intranet/", "本机或内网"),
        ("https://weibo.com:8080/1/Abc123", ":8080"),
        ("https://weibo.com:22/", ":22"),
        ("https://weibo.com:99999999999999999999/", ":99999999999999999999"),
        ("https://weibo.com:http/", "端口"),
        ("https://we_ibo.com/x", "域名写法"),
        ("https://weibo..com/x", "域名写法"),
        ("https://-weibo.com/x", "域名写法"),
        ("https://%77eibo.com/x", "域名写法"),
        ("https://evil.com/weibo.com", "不是大赛指定的平台"),
        ("https://weibo.com.evil.com/1/Abc123", "不是大赛指定的平台"),
        ("https://evilweibo.com/1/Abc123", "不是大赛指定的平台"),
        ("https://blog.sina.cn/u/123", "不是大赛指定的平台"),
        ("https://weibo.com/", "首页"),
        ("https://www.xinhuanet.com", "首页"),
        ("https://xinhuanet.com/?utm_source=qq#top", "首页"),
    ],
)
def test_bad_link_is_refused_with_its_reason(given: str, reason: str) -> None:
    result = check_link(given, PLATFORMS)
    assert not result.ok
    assert result.url is None
    assert result.reason is not None
    assert reason in result.reason
    assert result.given == given


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        # Weibo
        ("https://weibo.com/u/1234567890", "个人主页"),
        ("https://weibo.com/1234567890", "个人主页"),
        ("https://www.weibo.com/1234567890?is_all=1", "个人主页"),
        ("https://weibo.com/rmrb", "个人主页"),
        ("https://weibo.com/n/张三", "个人主页"),
        ("https://weibo.com/1234567890/profile", "个人主页"),
        ("https://weibo.com/1234567890/follow", "个人主页"),
        ("https://weibo.com/u/1234567890/home", "个人主页"),
        ("https://m.weibo.cn/u/1234567890?luicode=10000011", "个人主页"),
        ("https://m.weibo.cn/profile/1234567890", "个人主页"),
        ("https://m.weibo.cn/1234567890", "个人主页"),
        ("https://weibo.cn/u/1234567890", "个人主页"),
        ("https://weibo.com/login.php", "登录"),
        ("https://weibo.com/newlogin?tabtype=weibo", "登录"),
        ("https://passport.weibo.com/signin/login", "登录"),
        ("https://passport.weibo.cn/signin/login?entry=mweibo", "登录"),
        ("https://weibo.com/search?q=x", "搜索"),
        ("https://s.weibo.com/weibo?q=%E5%85%9A%E5%8F%B2", "搜索"),
        ("https://m.weibo.cn/search?containerid=100103", "搜索"),
        ("https://weibo.com/hot/search", "搜索"),
        ("https://m.weibo.cn/p/index?containerid=1076031234567890", "列表"),
        # Sina blog
        ("https://blog.sina.com.cn/u/1234567890", "个人主页"),
        ("http://blog.sina.com.cn/1234567890", "个人主页"),
        ("http://blog.sina.com.cn/rmrb", "个人主页"),
        ("http://blog.sina.com.cn/s/profile_1234567890.html", "个人主页"),
        ("http://blog.sina.com.cn/s/articlelist_1234567890_0_1.html", "列表"),
        ("https://search.sina.com.cn/?q=x&c=blog", "搜索"),
        ("https://login.sina.com.cn/signup/signin.php", "登录"),
        # Tencent
        ("https://user.qzone.qq.com/10001", "个人主页"),
        ("https://user.qzone.qq.com/10001/main", "个人主页"),
        ("https://user.qzone.qq.com/10001/blog", "列表"),
        ("https://t.qq.com/zhangsan", "个人主页"),
        ("https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzA5", "个人主页"),
        ("https://mp.weixin.qq.com/cgi-bin/loginpage", "登录"),
        ("https://xui.ptlogin2.qq.com/cgi-bin/xlogin?appid=1", "登录"),
        # Xinhua, People's Daily
        ("http://www.xinhuanet.com/politics/", "列表"),
        ("http://www.xinhuanet.com/politics/index.htm", "列表"),
        ("http://www.news.cn/politics/index.html", "列表"),
        ("http://so.news.cn/#search/0/%E5%85%9A%E5%8F%B2/1/", "搜索"),
        ("http://politics.people.com.cn/GB/1024/index.html", "列表"),
        ("http://t.people.com.cn/zhangsan", "个人主页"),
    ],
)
def test_a_page_that_is_not_one_post_is_refused_with_what_it_is(given: str, reason: str) -> None:
    result = check_link(given, [*PLATFORMS, "sina.com.cn"])
    assert not result.ok
    assert result.url is None
    assert result.reason is not None
    assert reason in result.reason
    assert "不是某一篇作品的链接" in result.reason


@pytest.mark.parametrize(
    "given",
    [
        "https://weibo.com/1234567890/z0JH2lOMb",
        "https://m.weibo.cn/status/3501756485200075",
        "https://weibo.com/ttarticle/p/show?id=2309404654321",
        "https://card.weibo.com/article/m/show/id/2309404654321",
        SINA_BLOG,
        "https://blog.sina.cn/dpool/blog/s/blog_4b3c2a1d0102e5f6.html",
        "https://mp.weixin.qq.com/s/AbCdEf123",
        "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2650&idx=1&sn=abc",
        "https://user.qzone.qq.com/10001/blog/1625097600",
        "https://new.qq.com/rain/a/20210701A0ABCD00",
        "http://www.xinhuanet.com/politics/2021-07/01/c_1127615334.htm",
        "http://www.news.cn/politics/20230701/0a1b2c3d4e5f/c.html",
        "http://cpc.people.com.cn/n1/2021/0701/c64094-32146278.html",
        "http://blog.people.com.cn/article/1625097600.html",
        "https://t.cn/A6abcXYZ",
    ],
)
def test_post_links_of_every_platform_are_not_taken_for_other_pages(given: str) -> None:
    result = check_link(given, PLATFORMS)
    assert result.ok, result.reason


def test_link_whose_normalised_form_is_too_long_is_refused() -> None:
    """Percent-encoding turns each Chinese character into nine."""
    given = "https://people.com.cn/" + "党" * 1000
    assert len(given) < MAX_URL_LENGTH
    assert "太长" in (check_link(given, PLATFORMS).reason or "")


def test_each_kind_of_refusal_has_its_own_reason() -> None:
    hostile = [
        "javascript:alert(1)",
        "https://weibo.com/" + "a" * MAX_URL_LENGTH,
        "https://weibo.com/a b",
        "https://weibo.com/[CQ:face,id=1]",
        "https://",
        "http://2130706433/",
        "http://localhost/",
        "https://u:p@weibo.com/",
        "https://weibo.com:8080/",
        "https://evil.com/x",
        "https://weibo.com\\@evil.com/",
    ]
    reasons = [check_link(g, PLATFORMS).reason for g in hostile]
    assert len(set(reasons)) == len(hostile)


def test_refusal_for_an_unlisted_platform_names_allowed_platforms() -> None:
    result = check_link("https://www.zhihu.com/question/1", PLATFORMS)
    assert result.reason is not None
    for name in ("新浪博客", "新浪微博", "腾讯", "新华网", "人民网"):
        assert name in result.reason


def test_refusal_lists_unknown_platforms_by_their_suffix() -> None:
    result = check_link("https://evil.com/x", ["example.org"])
    assert result.reason == "不是大赛指定的平台（可用：example.org）"


def test_refusal_names_the_scheme_it_saw() -> None:
    assert "javascript:" in (check_link("javascript:alert(1)", PLATFORMS).reason or "")


def test_refusal_does_not_echo_a_very_long_scheme() -> None:
    reason = check_link("a" * 500 + ":x", PLATFORMS).reason or ""
    assert "aaaa" not in reason


# ---------------------------------------------------------------------------------------------
# Checking: accepted links


@pytest.mark.parametrize(
    ("given", "platform", "name", "kind"),
    [
        ("https://weibo.com/1234567890/z0JH2lOMb", "weibo.cn", "新浪微博", "microblog"),
        ("https://t.cn/A6abcXYZ", "t.cn", "新浪微博", "microblog"),
        (SINA_BLOG, "blog.sina.com.cn", "新浪博客", "blog"),
        ("https://new.qq.com/rain/a/20210701A0ABCD00", "qq.com", "腾讯", "article"),
        ("https://mp.weixin.qq.com/s/AbCdEf123", "qq.com", "微信公众号", "article"),
        ("https://user.qzone.qq.com/10001/blog/1625097600", "qq.com", "腾讯", "blog"),
        ("https://t.qq.com/p/t/123456789012345", "qq.com", "腾讯微博", "microblog"),
        (
            "http://www.xinhuanet.com/politics/2021-07/01/c_1127615334.htm",
            "xinhuanet.com",
            "新华网",
            "article",
        ),
        ("http://www.news.cn/politics/2021-07/01/c_1127615334.htm", "news.cn", "新华网", "article"),
        ("http://blog.people.com.cn/article/1625097600.html", "people.com.cn", "人民网", "blog"),
        (
            "http://cpc.people.com.cn/n1/2021/0701/c64094-32146278.html",
            "people.com.cn",
            "人民网",
            "article",
        ),
        ("https://weibo.com/ttarticle/p/show?id=2309404654321", "weibo.com", "新浪微博", "article"),
    ],
)
def test_link_on_an_allowed_platform_is_accepted(
    given: str, platform: str, name: str, kind: str
) -> None:
    result = check_link(given, PLATFORMS)
    assert result.ok, result.reason
    assert (result.platform, result.platform_name, result.kind) == (platform, name, kind)


def test_unknown_allowed_platform_is_shown_by_its_suffix() -> None:
    result = check_link("https://www.example.org/post/1", ["example.org"])
    assert (result.ok, result.platform_name) == (True, "example.org")


@pytest.mark.parametrize(
    "given",
    [
        "https://WEIBO.COM/1/Abc123",
        "https://weibo.com./1/Abc123",
        "https://weibo.com:443/1/Abc123",
        "http://weibo.com:80/1/Abc123",
        "https://weibo.com:/1/Abc123",
        "https:weibo.com/1/Abc123",
        "weibo.com/1/Abc123",
        "//weibo.com/1/Abc123",
        "  https://weibo.com/1/Abc123  ",
    ],
)
def test_harmless_variations_of_a_link_are_accepted(given: str) -> None:
    assert check_link(given, PLATFORMS).url == "https://m.weibo.cn/status/22432863907"


def test_host_matches_a_platform_only_as_a_whole_label() -> None:
    assert check_link("https://news.qq.com/a/1", ["qq.com"]).ok
    assert not check_link("https://newsqq.com/a/1", ["qq.com"]).ok


def test_platform_list_is_compared_case_and_dot_insensitively() -> None:
    assert check_link("https://news.qq.com/a/1", [" QQ.com. "]).ok


def test_internationalised_host_is_compared_in_its_ascii_form() -> None:
    result = check_link("https://例子.中国/文章/1", ["xn--fsqu00a.xn--fiqs8s"])
    assert result.url == "https://xn--fsqu00a.xn--fiqs8s/%E6%96%87%E7%AB%A0/1"


def test_mobile_post_is_accepted_when_only_the_desktop_site_is_listed() -> None:
    assert check_link("https://m.weibo.cn/status/3501756485200075", ["weibo.com"]).ok
    assert check_link("https://weibo.com/1/z0JH2lOMb", ["weibo.cn"]).ok


def test_mobile_sina_blog_is_accepted_as_the_desktop_blog() -> None:
    result = check_link(
        "https://blog.sina.cn/dpool/blog/s/blog_4b3c2a1d0102e5f6.html?vt=4", ["blog.sina.com.cn"]
    )
    assert (result.url, result.platform, result.kind) == (SINA_BLOG, "blog.sina.com.cn", "blog")


def test_url_of_maximum_length_is_accepted() -> None:
    given = "https://weibo.com/ttarticle/p/show?id=" + "1" * (MAX_URL_LENGTH - 38)
    assert len(given) == MAX_URL_LENGTH
    assert check_link(given, PLATFORMS).ok


# ---------------------------------------------------------------------------------------------
# Normalising


@pytest.mark.parametrize(
    "form",
    [
        "https://weibo.com/1234567890/z0JH2lOMb",
        "http://www.weibo.com/1234567890/z0JH2lOMb/",
        "https://weibo.com/1234567890/z0JH2lOMb?type=comment#_rnd1625097600",
        "https://weibo.com/1234567890/z0JH2lOMb?refer_flag=1001030103_&from=page_100505",
        "https://weibo.com/1234567890/3501756485200075",
        "https://m.weibo.cn/status/3501756485200075",
        "https://m.weibo.cn/status/z0JH2lOMb",
        "https://m.weibo.cn/status/3501756485200075?wm=3333_2001&from=10B6293010&sourcetype=qq",
        "https://m.weibo.cn/detail/3501756485200075",
        "https://m.weibo.cn/1234567890/3501756485200075",
        "https://m.weibo.cn/1234567890/z0JH2lOMb",
        "https://weibo.cn/comment/z0JH2lOMb?uid=1234567890",
        "https://weibo.cn/status/z0JH2lOMb",
        "https://m.weibo.com/status/3501756485200075",
        "weibo.com/1234567890/z0JH2lOMb",
    ],
)
def test_every_form_of_a_weibo_post_normalises_to_one_string(form: str) -> None:
    assert normalize(form) == WEIBO_POST


def test_different_weibo_posts_stay_different() -> None:
    assert normalize("https://weibo.com/1/z0JH2lOMb") != normalize("https://weibo.com/1/z0JH2lOMc")


@pytest.mark.parametrize(
    "given",
    [
        "https://weibo.com/u/1234567890",
        "https://weibo.com/1234567890/profile",
        "https://weibo.com/1234567890/follow",
        "https://m.weibo.cn/u/1234567890?luicode=10000011",
    ],
)
def test_weibo_pages_that_are_not_posts_keep_their_path(given: str) -> None:
    assert not normalize(given).startswith("https://m.weibo.cn/status/")


@pytest.mark.parametrize(
    "form",
    [
        SINA_BLOG,
        "http://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html?tj=1",
        "https://blog.sina.com.cn/s/blog_4B3C2A1D0102E5F6.html#comment",
        "https://blog.sina.cn/dpool/blog/s/blog_4b3c2a1d0102e5f6.html",
        "https://blog.sina.cn/dpool/blog/s/blog_4b3c2a1d0102e5f6.html?vt=4&type=-1",
    ],
)
def test_every_form_of_a_sina_blog_post_normalises_to_one_string(form: str) -> None:
    assert normalize(form) == SINA_BLOG


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://t.cn/A6abcXYZ", "https://t.cn/A6abcXYZ"),
        ("HTTP://T.CN/A6abcXYZ#x", "https://t.cn/A6abcXYZ"),
        ("https://t.cn/A6abcXYZ/", "https://t.cn/A6abcXYZ/"),
    ],
)
def test_short_link_is_stored_as_given(given: str, expected: str) -> None:
    assert normalize(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://new.qq.com/rain/a/X?utm_source=wechat&utm_medium=social&spm=a.b.c",
            "https://new.qq.com/rain/a/X",
        ),
        ("https://new.qq.com/rain/a/X?share_token=abc&shareto=wx", "https://new.qq.com/rain/a/X"),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=265&idx=1&sn=abc&chksm=ef&scene=21"
            "&sharer_sharetime=1&sharer_shareid=x&pass_ticket=SECRET&clicktime=1#rd",
            "https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=265&sn=abc",
        ),
        (
            "https://xinhuanet.com/a.htm?from=singlemessage&isappinstalled=0",
            "https://xinhuanet.com/a.htm",
        ),
        (
            "https://weibo.com/ttarticle/p/show?id=2309&luicode=1&lfid=2&wfr=x&_t=1",
            "https://weibo.com/ttarticle/p/show?id=2309",
        ),
        ("https://people.com.cn/a.html?b=2&a=1", "https://people.com.cn/a.html?a=1&b=2"),
        ("https://people.com.cn/a.html?UTM_Source=x&Utm_Medium=y", "https://people.com.cn/a.html"),
        ("https://people.com.cn/a.html?type=comment&x=1", "https://people.com.cn/a.html?x=1"),
        ("https://people.com.cn/a.html?type=news", "https://people.com.cn/a.html?type=news"),
        ("https://people.com.cn/a.html?&&", "https://people.com.cn/a.html"),
        ("https://people.com.cn/read?id=7", "https://people.com.cn/read?id=7"),
    ],
)
def test_tracking_parameters_are_dropped_and_the_rest_sorted(given: str, expected: str) -> None:
    assert normalize(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTP://WWW.People.COM.cn/N1/A.html", "https://people.com.cn/N1/A.html"),
        ("https://people.com.cn/n1/a/", "https://people.com.cn/n1/a"),
        ("https://people.com.cn/n1/a//", "https://people.com.cn/n1/a"),
        ("https://people.com.cn/", "https://people.com.cn/"),
        ("https://people.com.cn", "https://people.com.cn/"),
        ("https://people.com.cn:443/a", "https://people.com.cn/a"),
        ("https://people.com.cn/a#section-2", "https://people.com.cn/a"),
        ("https://h5.people.com.cn/#/article/123", "https://h5.people.com.cn/#/article/123"),
        ("https://h5.people.com.cn/#!/article/1", "https://h5.people.com.cn/#!/article/1"),
        ("https://www.com.cn/a", "https://www.com.cn/a"),
        ("https://people.com.cn/a%2fb", "https://people.com.cn/a%2Fb"),
        (
            "https://people.com.cn/学习/党史",
            "https://people.com.cn/%E5%AD%A6%E4%B9%A0/%E5%85%9A%E5%8F%B2",
        ),
        ("https://people.com.cn/a'b", "https://people.com.cn/a'b"),
        ("https://people.com.cn/100%", "https://people.com.cn/100%25"),
    ],
)
def test_generic_normalisation(given: str, expected: str) -> None:
    assert normalize(given) == expected


def test_normalised_link_normalises_to_itself() -> None:
    for given in (WEIBO_POST, SINA_BLOG, "https://people.com.cn/read?b=2&id=7"):
        assert normalize(normalize(given)) == normalize(given)


def test_checked_link_carries_the_normalised_form() -> None:
    result = check_link("http://www.weibo.com/1234567890/z0JH2lOMb?from=qq#x", PLATFORMS)
    assert result.url == WEIBO_POST


def test_normalize_refuses_a_bad_link_with_the_reason() -> None:
    with pytest.raises(ValueError, match="IP 地址"):
        normalize("http://127.0.0.1/")


# --- post shapes: a known platform's link that matches none is "unusual" ----------------------


@pytest.mark.parametrize(
    "given",
    [
        "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html",
        "https://weibo.com/1234567890/Mx8aBcdEf",
        "https://m.weibo.cn/detail/4890123456789012",
        "https://weibo.com/ttarticle/p/show?id=2309404650123",
        "https://mp.weixin.qq.com/s/AbC-dEf_123",
        "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2650&idx=1&sn=abc",
        "https://user.qzone.qq.com/12345/blog/1624512345",
        "http://www.xinhuanet.com/politics/2021-06/25/c_1127599016.htm",
        "https://www.news.cn/politics/20240625/abcdef0123/c.html",
        "http://cpc.people.com.cn/n1/2021/0625/c64387-32140573.html",
    ],
)
def test_posts_of_the_default_platforms_have_known_shapes(given: str) -> None:
    url = normalize(given)
    assert known_post(url) is True
    assert link_flags(url) == []


@pytest.mark.parametrize(
    "given",
    [
        "https://blog.sina.com.cn/s/reader_4b3c2a1d.html",
        "https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?x=1",
        "http://cpc.people.com.cn/GB/64162/index2.html",
        "https://www.news.cn/politics/leaders/xijinping.htm",
    ],
)
def test_other_pages_on_those_platforms_are_unusual(given: str) -> None:
    assert link_flags(normalize(given)) == [Flag.UNUSUAL_LINK]


def test_stored_non_post_pages_earn_their_own_flag_and_other_hosts_none() -> None:
    assert link_flags("https://weibo.com/u/1234567890") == [Flag.NOT_A_POST]
    assert link_flags("https://example.gov.cn/a/b.html") == []
    assert known_post("https://t.cn/A6abc") is None


# --- authors in brackets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "author"),
    [
        (f"赵六（{SINA_BLOG}）", "赵六"),
        (f"赵六 ({SINA_BLOG})", "赵六"),
        (f"【赵六】{SINA_BLOG}", "赵六"),
        (f"「赵六」 {SINA_BLOG}", "赵六"),
        (f"赵六：{SINA_BLOG}", "赵六"),
        (f"{SINA_BLOG}（赵六）", "赵六"),
        (f"{SINA_BLOG}【欧阳修】", "欧阳修"),
        (f"{SINA_BLOG}（原创）", None),
        (f"《我的入党故事》{SINA_BLOG}", None),
        (f"1、{SINA_BLOG}【转发】", None),
    ],
)
def test_an_author_in_brackets_before_or_after_the_link_is_read(
    typed: str, author: str | None
) -> None:
    [candidate] = extract_candidates([text(typed)])
    assert candidate.given == SINA_BLOG
    assert candidate.author == author


def test_bracketed_authors_after_each_of_several_links_stay_with_their_link() -> None:
    first, second = extract_candidates([text(f"{SINA_BLOG}（张三） {WEIBO_POST}（李四）")])
    assert (first.author, second.author) == ("张三", "李四")
