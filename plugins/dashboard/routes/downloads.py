"""The downloads page and the export files themselves (the same as /导出 in chat)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from loguru import logger

from bot.runtime import export_now
from plugins.dashboard.deps import PageDep
from plugins.dashboard.pages import MSG_NOT_FOUND, PREFIX, secure

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

router = APIRouter()


@router.get(f"{PREFIX}/downloads")
async def downloads(page: PageDep) -> Response:
    return page.render("downloads.html", page="downloads")


@router.get(f"{PREFIX}/downloads/{{kind}}")
async def download(kind: str, page: PageDep) -> Response:
    d = page.d
    if kind not in MEDIA:
        return d.message(MSG_NOT_FOUND, 404, page.viewer)
    files = await export_now(d.runtime)
    path = files.xlsx if kind == "xlsx" else files.csv
    logger.info("{} 从后台下载了 {}", page.viewer.user_id, path.name)
    response = FileResponse(path, media_type=MEDIA[kind], filename=path.name)
    response.headers["Cache-Control"] = "no-store"
    return secure(response)
