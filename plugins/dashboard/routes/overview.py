"""The overview (progress of every unit, entries per day) and the units table."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from plugins.dashboard.deps import PageDep
from plugins.dashboard.pages import PREFIX

router = APIRouter()


@router.get(f"{PREFIX}/")
async def overview(page: PageDep, big: str = "") -> Response:
    """`?big=1`: the projector's view (the same page, type sized for the back of a room)."""
    data = await page.d.views.overview(page.d.now())
    return page.render("overview.html", page="overview", o=data, big=big == "1")


@router.get(f"{PREFIX}/units")
async def units(page: PageDep) -> Response:
    rows = await page.d.views.unit_rows()
    return page.render("units.html", page="units", rows=rows)
