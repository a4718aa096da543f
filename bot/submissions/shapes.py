"""Pages on the contest's platforms that are not one post: profiles, login, search and lists.

A secretary copying a link from a phone easily gets the author's home page, the search page
they found the post on, or a login page instead of the post. Such a link must not get a receipt
or count toward the quota: `page_kind` says what a normalised link (`links.normalize`) is when
it matches one of the shapes below, and `links.check_link` refuses it with that kind's reason.

The shapes are data: a maintainer who meets a new kind of non-post page adds a row to
`NOT_POSTS` (and a case to tests/bot/submissions/test_links.py). Rows are tried in order and the
first match wins; each is a regular expression over the normalised host (lowercase, no `www.`)
and one over the path (percent-encoded, no trailing slash, `/` for the root). A link matching
no row is taken as a post: an unusual post shape is accepted rather than refused.

Post shapes the rows must leave alone, per platform (tests hold one of each): Sina blog
`blog.sina.com.cn/s/blog_<hex>.html`; Weibo `m.weibo.cn/status/<mid>` (every post form is
normalised to it), `weibo.com/ttarticle/p/show?id=…`, `card.weibo.com/article/…`; WeChat
`mp.weixin.qq.com/s/<id>` and `/s?__biz=…&mid=…&idx=…&sn=…`; QQ空间日志
`user.qzone.qq.com/<qq>/blog/<id>`; Xinhua `…/<channel>/<date>/c_<id>.htm` and
`news.cn/<channel>/<date>/<id>/c.html`; People's Daily `…/n1/<yyyy>/<mmdd>/c<id>-<id>.html`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from bot.submissions.states import Flag


class PageKind(Enum):
    """What a link is when it is not one post; `reason` is what the secretary is told."""

    PROFILE = "profile"
    LOGIN = "login"
    SEARCH = "search"
    LIST = "list"

    @property
    def reason(self) -> str:
        return _REASONS[self]


_REASONS = {
    PageKind.PROFILE: "这是个人主页，不是某一篇作品的链接",
    PageKind.LOGIN: "这是登录页面，不是某一篇作品的链接",
    PageKind.SEARCH: "这是搜索页面，不是某一篇作品的链接",
    PageKind.LIST: "这是文章列表或栏目页面，不是某一篇作品的链接",
}


@dataclass(frozen=True)
class Shape:
    """One kind of non-post page: `host` and `path` are regular expressions matched in full."""

    kind: PageKind
    host: str
    path: str = r"/.*"


_ANY = r"[a-z0-9.-]+"
_WEIBO = r"(?:m\.)?weibo\.(?:com|cn)"
_SINA_BLOG = r"blog\.sina\.(?:com\.)?cn"
_NEWS = r"(?:[a-z0-9-]+\.)*(?:xinhuanet\.com|news\.cn|people\.com\.cn)"
# A path segment that is a sign-in or sign-up page on any site (`/login.php`, `/newlogin`).
_LOGIN_SEGMENT = r"(?:new)?(?:login|signin|signup|register|reg|loginpage)(?:\.(?:php|html?|jsp))?"

NOT_POSTS: tuple[Shape, ...] = (
    # Any platform: sign-in hosts and pages, search hosts and pages, index pages.
    Shape(PageKind.LOGIN, r"(?:passport|login|sso|xui\.ptlogin2|ptlogin2)\." + _ANY),
    Shape(PageKind.LOGIN, _ANY, rf"(?:/[^/]+)*/{_LOGIN_SEGMENT}(?:/.*)?"),
    Shape(PageKind.SEARCH, r"(?:search|so)\." + _ANY + r"|s\.weibo\.com"),
    Shape(PageKind.SEARCH, _ANY, r"(?:/[^/]+)?/search(?:\.(?:php|html?))?(?:/.*)?"),
    Shape(PageKind.LIST, _ANY, r"(?:/[^/]+)*/index\.(?:s?html?|php|jsp|aspx?)"),
    # Weibo: profiles by uid, nickname or personal domain; topic and channel pages.
    Shape(PageKind.PROFILE, _WEIBO, r"/(?:u|n|profile)(?:/.*)?"),
    Shape(PageKind.PROFILE, _WEIBO, r"/p/100505[0-9]+(?:/.*)?"),
    Shape(
        PageKind.PROFILE,
        _WEIBO,
        r"/[^/]+/(?:profile|follow|fans|info|home|album|photos|likes)",
    ),
    Shape(PageKind.LIST, _WEIBO, r"/p/index|/(?:hot|tv|discover|explore)(?:/.*)?"),
    Shape(PageKind.PROFILE, _WEIBO, r"/[^/]+"),
    # Sina blog: a blogger's home page (by uid or personal domain) and their list of posts.
    Shape(PageKind.PROFILE, _SINA_BLOG, r"/u/.*|/dpool/blog/u/.*|/s/profile_[^/]+\.html?"),
    Shape(PageKind.LIST, _SINA_BLOG, r"/s/articlelist_[^/]+\.html?"),
    Shape(PageKind.PROFILE, _SINA_BLOG, r"/[^/.]+"),
    # Tencent: a QQ空间 home page and its list of 日志, a 公众号's page, Tencent Weibo profiles.
    Shape(PageKind.LIST, r"user\.qzone\.qq\.com", r"/[0-9]+/blog"),
    Shape(PageKind.PROFILE, r"user\.qzone\.qq\.com", r"/[0-9]+(?:/[a-z0-9_]+)?"),
    Shape(PageKind.PROFILE, r"mp\.weixin\.qq\.com", r"/mp/profile_ext"),
    Shape(PageKind.LIST, r"mp\.weixin\.qq\.com", r"/mp/homepage|/mp/appmsgalbum"),
    Shape(PageKind.PROFILE, r"t\.qq\.com|t\.people\.com\.cn|t\.home\.news\.cn", r"/[^/]+"),
    # Xinhua and People's Daily: a channel (a path without a page name) is a list of articles.
    Shape(PageKind.LIST, _NEWS, r"(?:/[^/.]+)+"),
)

_COMPILED = tuple((re.compile(s.host), re.compile(s.path), s.kind) for s in NOT_POSTS)


# Post shapes of the default platforms: a link on one of these hosts matching none of its
# platform's post shapes still counts, but carries the flag "链接形式少见" for organizers.
# (host, path, query) regular expressions, matched in full; query None: any query.
_XINHUA = r"(?:[a-z0-9-]+\.)*(?:xinhuanet\.com|news\.cn)"
_PEOPLE = r"(?:[a-z0-9-]+\.)*people\.com\.cn"
POSTS: tuple[tuple[str, str, str | None], ...] = (
    (_SINA_BLOG, r"/s/blog_[0-9a-z]+\.html?", None),
    (r"m\.weibo\.cn", r"/(?:status|detail)/[0-9a-z]+", None),
    (_WEIBO, r"/ttarticle/p/show", r".*id=.+"),
    (r"card\.weibo\.com", r"/article/.+", None),
    (_WEIBO, r"/[0-9]+/[0-9a-z]+", None),
    (r"mp\.weixin\.qq\.com", r"/s/[0-9a-z_-]+", None),
    (r"mp\.weixin\.qq\.com", r"/s", r".*__biz=.+"),
    (r"user\.qzone\.qq\.com", r"/[0-9]+/blog/[0-9]+", None),
    (_XINHUA, r"(?:/[^/]+)*/c_[0-9]+\.html?|(?:/[^/]+)*/c\.html?", None),
    (_PEOPLE, r"(?:/[^/]+)*/c[0-9]+-[0-9]+\.html?", None),
)
# The hosts whose post shapes are known (a host of another platform is never "unusual").
_KNOWN = re.compile(
    "|".join(
        (
            _SINA_BLOG,
            _WEIBO,
            r"card\.weibo\.com",
            r"mp\.weixin\.qq\.com",
            r"user\.qzone\.qq\.com",
            _XINHUA,
            _PEOPLE,
        )
    )
)
_POSTS = tuple(
    (re.compile(h), re.compile(p, re.IGNORECASE), re.compile(q) if q else None) for h, p, q in POSTS
)


def known_post(url: str) -> bool | None:
    """Whether the normalised `url` has a known post shape of its platform; None when its
    host is not one whose shapes are known."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not _KNOWN.fullmatch(host):
        return None
    path = parts.path or "/"
    return any(
        h.fullmatch(host) and p.fullmatch(path) and (q is None or q.fullmatch(parts.query))
        for h, p, q in _POSTS
    )


def page_kind(url: str) -> PageKind | None:
    """What the normalised `url` is if it is a known kind of non-post page, else None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path or "/"
    for host_shape, path_shape, kind in _COMPILED:
        if host_shape.fullmatch(host) and path_shape.fullmatch(path):
            return kind
    return None


def link_flags(url: str) -> list[Flag]:
    """The flags a stored link earns by its shape alone: a known non-post page (entries stored
    before the shapes existed), or a post shape its platform does not use."""
    if page_kind(url) is not None:
        return [Flag.NOT_A_POST]
    if known_post(url) is False:
        return [Flag.UNUSUAL_LINK]
    return []
