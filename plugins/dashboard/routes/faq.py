"""The FAQ page (most answered entries, unanswered questions) and teaching one to an entry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import plain_int
from bot.refusal import Refusal
from plugins.dashboard.deps import LiveOrganizerChange, LivePageDep
from plugins.dashboard.pages import DONE, MSG_FAQ_OFF, PREFIX, redirect

router = APIRouter()


@router.get(f"{PREFIX}/faq")
async def faq(request: Request, page: LivePageDep) -> Response:
    view = await page.d.views.faq()
    done = DONE.get(request.query_params.get("done", ""))
    return page.render("faq.html", page="faq", faq=view, done=done)


@router.post(f"{PREFIX}/faq/learn")
async def learn(change: LiveOrganizerChange) -> Response:
    service = change.d.runtime.faq
    if service is None:
        raise Refusal(MSG_FAQ_OFF)
    question = plain_int(change.form.get("unanswered", ""))
    entry_id = change.form.get("entry", "")
    if question is None or not entry_id:
        raise Refusal("请选择要归入的常见问题条目。")
    await service.learn(question, entry_id, actor=change.viewer.user_id, now=change.d.now())
    return redirect(f"{PREFIX}/faq?done=learned")
