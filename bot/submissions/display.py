"""How an entry's link is shown to people: the part that tells one post from another.

Posts of one blog share everything but the end (`blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html`
and `…/blog_4b3c2a1d0102e5f7.html`), so a link cut short from the end reads the same for every
post. `short_link` keeps the host and the end and drops the middle; `entry_label` prefers the
page's verified title. Both return plain text: whoever shows it escapes it (HTML) or sends it as
a text segment (chat), like any other text that came from outside.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
TITLE_CHARS = 30


def _visible(text: str) -> str:
    """Control, format (bidi, zero-width) and line-break characters removed."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def short_link(url: str, limit: int = 48) -> str:
    """`url` without its scheme, at most `limit` characters: the host, then "…", then as much of
    the end as fits (`blog.sina.com.cn/…/blog_4b3c2a1d0102e5f6.html`)."""
    shown = _visible(url).removeprefix("https://").removeprefix("http://")
    limit = max(limit, 12)
    if len(shown) <= limit:
        return shown
    host, _, rest = shown.partition("/")
    host = host if len(host) <= limit // 2 else host[: limit // 2 - 1] + ELLIPSIS
    room = limit - len(host) - len("/…/")
    end = rest.rsplit("/", 1)[-1] if "/" in rest else rest
    if not end or len(end) > room:
        end = rest[-room:] if room > 0 else ""
    return f"{host}/{ELLIPSIS}/{end}"


def entry_label(title: str | None, url: str, limit: int = 48) -> str:
    """A post as people recognise it: its verified title (shortened), else `short_link`."""
    if title:
        cleaned = " ".join(_visible(title).split())
        if cleaned:
            return cleaned if len(cleaned) <= TITLE_CHARS else cleaned[: TITLE_CHARS - 1] + ELLIPSIS
    return short_link(url, limit)
