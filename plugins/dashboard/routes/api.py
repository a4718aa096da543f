"""Read-only JSON for the district's own systems: units, entries, the FAQ.

Open to a signed-in session or `Authorization: Bearer DASHBOARD_API_TOKEN` (see docs/dashboard.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.views import EntryFilter, EntryRow, UnitRow
from plugins.dashboard.deps import ApiDep
from plugins.dashboard.pages import PREFIX, json

router = APIRouter()


@router.get(f"{PREFIX}/api/units")
async def api_units(d: ApiDep) -> Response:
    rows = await d.views.unit_rows()
    return json({"contest": d.runtime.contest.name, "units": [_unit(r) for r in rows]})


@router.get(f"{PREFIX}/api/entries")
async def api_entries(request: Request, d: ApiDep) -> Response:
    found = await d.views.entry_page(EntryFilter.from_params(request.query_params))
    return json(
        {
            "total": found.total,
            "page": found.filter.page,
            "pages": found.pages,
            "per_page": found.filter.per_page,
            "entries": [_entry(r) for r in found.rows],
        }
    )


@router.get(f"{PREFIX}/api/faq")
async def api_faq(d: ApiDep) -> Response:
    view = await d.views.faq()
    most_asked = [
        {
            "id": a.entry_id,
            "question": a.question,
            "count": a.count,
            "last_at": a.last_at.isoformat(),
        }
        for a in view.most_asked
    ]
    unanswered = [
        {
            "id": u.id,
            "text": u.text,
            "count": u.count,
            "first_at": u.first_at.isoformat(),
            "last_at": u.last_at.isoformat(),
            "alike": list(u.others),
        }
        for u in view.unanswered
    ]
    return json(
        {
            "available": view.available,
            "counts_answers": view.counts_answers,
            "entries": len(view.entries),
            "most_asked": most_asked,
            "unanswered": unanswered,
        }
    )


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def _unit(row: UnitRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "category": row.category,
        "category_name": row.category_name,
        "quota": row.quota,
        "accepted": row.accepted,
        "late": row.late,
        "flagged": row.flagged,
        "completion": round(row.completion, 4) if row.quota else None,
        "status": row.status,
        "avg_quality": _rounded(row.avg_quality),
        "scored_entries": row.scored,
    }


def _entry(row: EntryRow) -> dict[str, Any]:
    return {
        "receipt": row.receipt,
        "unit_id": row.unit_id,
        "unit": row.unit_name,
        "author": row.author,
        "url": row.url,
        "platform": row.platform,
        "platform_name": row.platform_name,
        "title": row.title,
        "text_length": row.text_length,
        "verify_status": row.verify_status,
        "flags": list(row.flags),
        "status": row.status,
        "late": row.late,
        "submitted_at": row.submitted_at.isoformat(),
        "avg_quality": _rounded(row.avg_quality),
        "scores": row.scores,
        "given_url": row.given_url,
    }
