"""Links and titles as people see them: the end that tells one post from another."""

from __future__ import annotations

import pytest

from bot.submissions.display import entry_label, short_link
from bot.submissions.states import VerifyStatus, verify_label


def test_two_posts_of_one_blog_stay_distinguishable_when_shortened() -> None:
    a = short_link("https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html", 36)
    b = short_link("https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f7.html", 36)

    assert a != b
    assert a.startswith("blog.sina.com.cn/…/")
    assert a.endswith("f6.html")
    assert len(a) <= 36


@pytest.mark.parametrize(
    "url",
    [
        "https://m.weibo.cn/status/4890123456789012",
        "blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html",
    ],
)
def test_a_short_enough_link_is_shown_whole_without_its_scheme(url: str) -> None:
    assert short_link(url) == url.removeprefix("https://")


@pytest.mark.parametrize("limit", [12, 20, 36, 48])
def test_no_link_is_longer_than_asked(limit: int) -> None:
    for url in (
        "https://" + "h" * 80 + ".com/p/1",
        "https://a.b/" + "x" * 200,
        "https://mp.weixin.qq.com/s?__biz=MzA5ODg0MjQ2MA==&mid=2650&idx=1&sn=abcdef0123456789",
        "https://xinhuanet.com/politics/2027-06/25/c_1127599016.htm",
    ):
        assert len(short_link(url, limit)) <= limit, (url, limit)


def test_a_title_wins_over_the_link_and_is_cleaned_and_capped() -> None:
    url = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"

    assert entry_label("重温党史 感悟初心", url) == "重温党史 感悟初心"
    assert entry_label(None, url) == short_link(url)
    assert entry_label("  \u202e\u200b ", url) == short_link(url)  # nothing visible: the link
    long = entry_label("学" * 100, url)
    assert len(long) == 30
    assert long.endswith("…")
    assert "\u202e" not in entry_label("标题\u202e反转", url)


def test_waiting_for_a_check_that_is_off_reads_not_verified() -> None:
    assert verify_label(VerifyStatus.PENDING, verifying=True) == "待核验"
    assert verify_label(VerifyStatus.PENDING, verifying=False) == "未核验"
    assert verify_label("ok", verifying=False) == "已核验"
