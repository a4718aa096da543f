"""One place that turns refusals into responses, for every dashboard route.

- `SignInNeeded` → the sign-in page (303); `ApiSignInNeeded` → 401 JSON with WWW-Authenticate;
  `ApiContestUnknown` → 404 JSON;
- `Forbidden` (a stale form, the wrong role) → 403 with the reason;
- `FormTooLarge` → 413 with the reason;
- the contest's own refusals (`bot.refusal`): `NotFound` → 404, any other `Refusal` → 400,
  with the Chinese text the domain wrote once.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from bot.refusal import NotFound, Refusal
from plugins.dashboard.deps import (
    ApiContestUnknown,
    ApiSignInNeeded,
    Forbidden,
    FormTooLarge,
    SignInNeeded,
    dashboard,
)
from plugins.dashboard.pages import MSG_NO_CONTEST, MSG_SIGN_IN, PREFIX, json, redirect, secure


async def _sign_in(request: Request, error: Exception) -> Response:
    return redirect(f"{PREFIX}/login")


async def _api_sign_in(request: Request, error: Exception) -> Response:
    response = json({"error": "unauthorized", "message": MSG_SIGN_IN}, 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return secure(response)


async def _api_no_contest(request: Request, error: Exception) -> Response:
    return secure(json({"error": "unknown_contest", "message": MSG_NO_CONTEST}, 404))


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, Forbidden)
    return dashboard(request).message(error.text, 403, error.viewer)


async def _too_large(request: Request, error: Exception) -> Response:
    assert isinstance(error, FormTooLarge)
    d = dashboard(request)
    viewer, _ = await d.viewer(request)
    return d.message(error.text, 413, viewer)


async def _refused(request: Request, error: Exception) -> Response:
    d = dashboard(request)
    viewer, _ = await d.viewer(request)
    return d.message(str(error), 404 if isinstance(error, NotFound) else 400, viewer)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers on the app the dashboard's routes are mounted on."""
    app.add_exception_handler(SignInNeeded, _sign_in)
    app.add_exception_handler(ApiSignInNeeded, _api_sign_in)
    app.add_exception_handler(ApiContestUnknown, _api_no_contest)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(FormTooLarge, _too_large)
    app.add_exception_handler(Refusal, _refused)
