"""What the dashboard answers to numbers and forms nobody meant to send: never a 5xx, always a
short Chinese reason with 400, 404 or 413 — and a fuzz test over every changing and reading
route that proves the requests reached the handlers (a fuzz test that only ever meets the
sign-in page proves nothing)."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.onebot import FakeOneBot

from .conftest import ORGANIZER_ID, AppProcess, AppStarter, ContestWriter
from .test_dashboard import (
    JUDGE_ID,
    base,
    csrf_of,
    first_accepted,
    login_link,
    seeded_app,
    sign_in,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
async def web() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def signed_in(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
    user_id: int,
) -> tuple[AppProcess, str]:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    async with await sign_in(web, await login_link(onebot, user_id)) as signed:
        assert signed.status == 303
    return app, await csrf_of(web, app)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("action", ["withdraw", "restore"])
async def test_a_receipt_number_past_int64_is_not_found(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
    action: str,
) -> None:
    app, csrf = await signed_in(start_app, contest_config, tmp_path, onebot, web, ORGANIZER_ID)

    for number in ("99999999999999999999", "9223372036854775808", "²", "١٢", "-1", "1e3"):
        url = f"{base(app)}/dashboard/entries/{urllib.parse.quote(number)}/{action}"
        async with web.post(url, data={"csrf": csrf}, allow_redirects=False) as answer:
            assert answer.status == 404, number
            assert "没有找到回执" in await answer.text()


async def test_a_score_that_is_not_a_plain_number_is_refused_in_chinese(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
) -> None:
    app, csrf = await signed_in(start_app, contest_config, tmp_path, onebot, web, JUDGE_ID)
    receipt = await first_accepted(app)
    url = f"{base(app)}/dashboard/entries/{receipt}/score"

    for quality in ("²", "١٠", "１０", "99999999999999999999999", "-3", ""):
        async with web.post(
            url, data={"csrf": csrf, "quality": quality}, allow_redirects=False
        ) as answer:
            assert answer.status == 400, quality
            assert "质量分应为 1 到 10 的整数" in await answer.text()


async def test_page_numbers_that_are_not_plain_digits_are_ignored(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
) -> None:
    app, _ = await signed_in(start_app, contest_config, tmp_path, onebot, web, ORGANIZER_ID)

    for value in ("²", "١٢", "９", "99999999999999999999"):
        for path in ("/dashboard/entries", "/dashboard/api/entries"):
            query = urllib.parse.urlencode({"page": value, "per_page": value, "unit": value})
            async with web.get(f"{base(app)}{path}?{query}") as answer:
                assert answer.status == 200, (path, value)


# ------------------------------------------------------------------ sizes


async def test_an_oversized_form_is_refused_as_too_large_not_as_a_stale_page(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
) -> None:
    app, csrf = await signed_in(start_app, contest_config, tmp_path, onebot, web, ORGANIZER_ID)
    receipt = await first_accepted(app)

    async with web.post(
        f"{base(app)}/dashboard/entries/{receipt}/withdraw",
        data={"csrf": csrf, "back": "/dashboard/entries?q=" + "x" * 40_000},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 413
        text = await answer.text()
    assert "太大" in text
    assert "页面已过期" not in text


async def test_a_comment_over_the_limit_is_refused_as_too_long(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
) -> None:
    app, csrf = await signed_in(start_app, contest_config, tmp_path, onebot, web, JUDGE_ID)
    receipt = await first_accepted(app)
    url = f"{base(app)}/dashboard/entries/{receipt}/score"

    for comment, status in (("好" * 501, 400), ("好" * 6_000, 413)):
        async with web.post(
            url, data={"csrf": csrf, "quality": "8", "comment": comment}, allow_redirects=False
        ) as answer:
            assert answer.status == status, len(comment)
            assert "评语过长" in await answer.text()


# ------------------------------------------------------------------ fuzz

# Anything a browser, a script or a person might put where a number or a word goes.
_WEIRD = st.sampled_from(
    ["", "0", "-1", "+1", "1.5", "1e3", "²", "١٢", "１２", "٣", "Ⅻ", "0x10", " 7 ", "\u200b1",
     "9" * 19, "9" * 30, "%00", "<script>", "' OR 1=1 --", "#1", "null", "NaN", "一"]
)  # fmt: skip
_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)
_VALUE = _WEIRD | _TEXT
_SEGMENT = (
    _WEIRD.filter(bool)
    | st.integers(min_value=1, max_value=70).map(str)  # entries that exist
    | st.integers(min_value=0, max_value=2**70).map(str)
    | st.text(alphabet="0123456789abcXYZ²١_-~", min_size=1, max_size=25)
).filter(lambda s: s not in (".", "..") and "/" not in s)


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "{}" stands for one path segment
    fields: tuple[str, ...] = ()  # query (GET) or form (POST) fields


ENTRY_FILTERS = ("q", "unit", "platform", "status", "flagged", "from", "to", "sort", "order")
ENTRY_FILTERS += ("page", "per_page", "done", "r")
READ_ROUTES = (
    Route("GET", "/dashboard/"),
    Route("GET", "/dashboard/units"),
    Route("GET", "/dashboard/entries", ENTRY_FILTERS),
    Route("GET", "/dashboard/faq", ("done",)),
    Route("GET", "/dashboard/downloads"),
    Route("GET", "/dashboard/downloads/{}"),
    Route("GET", "/dashboard/api/units"),
    Route("GET", "/dashboard/api/entries", ("q", "unit", "page", "per_page", "sort", "from")),
    Route("GET", "/dashboard/api/faq"),
    Route("GET", "/dashboard/static/{}"),
    Route("GET", "/dashboard/metrics", ("page", "done", "r")),
    Route("GET", "/dashboard/results", ("v", "tab", "page", "preview", "done")),
    Route("GET", "/dashboard/results/{}.xlsx", ("v",)),
    Route("GET", "/dashboard/judge", ("e", "done", "r")),
)
ORGANIZER_ROUTES = (
    *READ_ROUTES,
    Route("POST", "/dashboard/entries/{}/withdraw", ("back",)),
    Route("POST", "/dashboard/entries/{}/restore", ("back",)),
    Route("POST", "/dashboard/faq/learn", ("unanswered", "entry")),
    Route("GET", "/dashboard/sessions", ("u", "n")),
    Route("POST", "/dashboard/sessions/{}/end"),
    Route("GET", "/dashboard/accounts"),
    Route("GET", "/dashboard/recheck", ("done", "r")),
    Route("POST", "/dashboard/recheck/{}/keep"),
    Route("POST", "/dashboard/recheck/{}/withdraw"),
    Route("POST", "/dashboard/metrics", ("receipt", "metric", "value", "date", "note")),
    Route("GET", "/dashboard/results/certificates", ("v", "top", "left", "size")),
    Route("GET", "/dashboard/results/certificates.css", ("top", "left", "size")),
    Route("GET", "/dashboard/authors", ("page", "done", "n", "name", "r")),
    Route("POST", "/dashboard/authors/merge", ("unit", "source", "target")),
    Route("POST", "/dashboard/entries/{}/author", ("author",)),
    Route("POST", "/dashboard/judge/open"),
    Route("POST", "/dashboard/judge/drop", ("judge", "reason")),
)
JUDGE_ROUTES = (
    *READ_ROUTES,
    Route("POST", "/dashboard/entries/{}/score", ("quality", "comment", "back")),
    Route("POST", "/dashboard/judge/{}/score", ("quality", "comment")),
)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _send(url: str, method: str, cookie: str, body: bytes | None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Cookie", cookie)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _OPENER.open(request, timeout=30) as answer:
            return (
                answer.status,
                answer.headers.get("Location", ""),
                answer.read().decode(errors="replace"),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")


def _reached(status: int, location: str, body: str) -> bool:
    """Whether the route's own code answered (not the sign-in, CSRF or role checks, and not
    the framework's "no such route")."""
    if status in (401, 403, 405, 422) or "/dashboard/login" in location:
        return False
    return not (status == 404 and body.startswith('{"detail"'))


def _fuzz_route(app_base: str, cookie: str, csrf: str, route: Route) -> tuple[int, int]:
    """Generated requests to one route; how many were sent and how many reached its code."""
    tally: Counter[str] = Counter()

    @settings(
        max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        segment = urllib.parse.quote(data.draw(_SEGMENT, "segment"), safe="")
        if segment == str(ORGANIZER_ID):
            segment = "1"  # ending the fuzzer's own session would end the fuzzing
        path = route.template.replace("{}", segment)
        names = st.sampled_from(route.fields) if route.fields else st.nothing()
        fields = data.draw(st.dictionaries(names, _VALUE), "fields")
        if route.fields and data.draw(st.booleans(), "unknown field"):
            fields["unknown"] = data.draw(_VALUE)
        encoded = urllib.parse.urlencode(fields)
        if route.method == "GET":
            url = f"{app_base}{path}" + (f"?{encoded}" if encoded else "")
            status, location, body = _send(url, "GET", cookie, None)
        else:
            form = urllib.parse.urlencode({"csrf": csrf, **fields}).encode()
            status, location, body = _send(f"{app_base}{path}", "POST", cookie, form)
        tally["sent"] += 1
        tally["reached"] += _reached(status, location, body)
        assert status < 500, (route.method, path, fields, status, body[:300])
        if status in (400, 404, 413) and not body.startswith('{"detail"'):
            assert CJK.search(body), (route.method, path, fields, status, body[:300])

    one_request()
    return tally["sent"], tally["reached"]


@pytest.mark.parametrize(
    ("user_id", "routes"),
    [(ORGANIZER_ID, ORGANIZER_ROUTES), (JUDGE_ID, JUDGE_ROUTES)],
    ids=["organizer", "judge"],
)
async def test_generated_requests_to_every_route_reach_it_and_never_get_a_5xx(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    web: aiohttp.ClientSession,
    user_id: int,
    routes: tuple[Route, ...],
) -> None:
    app, csrf = await signed_in(start_app, contest_config, tmp_path, onebot, web, user_id)
    cookie = "; ".join(f"{c.key}={c.value}" for c in web.cookie_jar)
    app_base = base(app)

    results = {}
    for route in routes:
        results[route.template] = await asyncio.to_thread(
            _fuzz_route, app_base, cookie, csrf, route
        )

    too_few = {t: (sent, reached) for t, (sent, reached) in results.items() if reached < 0.8 * sent}
    assert too_few == {}, "routes the generated requests mostly did not reach (sent, reached)"
