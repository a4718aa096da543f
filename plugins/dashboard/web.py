"""The dashboard's HTTP side: FastAPI routes under /dashboard, assembled from routes/.

plugins/dashboard mounts `build_router(current)` on NoneBot's FastAPI app and installs the one
set of error handlers (errors.py). Every page, download and JSON answer checks the session
first (JSON also accepts the read-only API token) through the typed dependencies in deps.py;
changes (withdraw, restore, score, FAQ) are POSTs carrying the session's CSRF token; judges may
score, only organizers may change entries or the FAQ (403 otherwise).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from fastapi import APIRouter

from bot.runtime import Runtime
from plugins.dashboard.deps import states
from plugins.dashboard.pages import COOKIE, make_pages
from plugins.dashboard.routes import (
    accounts,
    api,
    authors,
    downloads,
    entries,
    faq,
    judge,
    metrics,
    overview,
    province,
    recheck,
    results,
    rounds,
    sessions,
    showcase,
    signin,
)

__all__ = ["COOKIE", "build_router", "make_pages", "redact_access_log"]

_TOKEN_IN_URL = re.compile(r"([?&]t=)[^&\s\"]+")


class _RedactLoginTokens(logging.Filter):
    """Keeps one-time tokens out of the HTTP access log (`GET /dashboard/login?t=***`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def redact_access_log() -> None:
    """Install the token filter on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactLoginTokens) for f in access.filters):
        access.addFilter(_RedactLoginTokens())


def build_router(runtime: Callable[[], Runtime]) -> APIRouter:
    """The dashboard's routes; `runtime()` gives the open runtime at request time."""
    states.runtime = runtime
    router = APIRouter()
    for module in (
        signin,
        overview,
        entries,
        faq,
        downloads,
        sessions,
        accounts,
        rounds,
        province,
        recheck,
        metrics,
        results,
        authors,
        judge,
        showcase,
        api,
    ):
        router.include_router(module.router)
    return router
