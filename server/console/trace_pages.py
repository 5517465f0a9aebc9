"""The trace pages (health authority): the form, its results with a timeline, and CSV / XLSX exports.

Both are POSTs (CSRF-checked): ID numbers and phone numbers stay out of URLs, browser history and access
logs. Every trace and every export is written to the audit log in the transaction that read the data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from server.console.accounts import ConsoleUser
from server.console.audit import record_audit
from server.console.exports import csv_chunks, trace_xlsx
from server.console.timeline import visit_timeline
from server.console.trace_search import (
    CERTAINTY,
    DEFAULT_AHEAD,
    DEFAULT_WINDOW,
    SearchError,
    TraceQuery,
    TraceResult,
    parse_query,
    run_query,
)
from server.console.web import CheckedForm, now_utc, render, request_language, require_console_user
from server.models import venues
from server.routes.deps import EngineDep, client_key, get_settings

router = APIRouter(include_in_schema=False)
AuthorityUser = Annotated[ConsoleUser, Depends(require_console_user("authority"))]
FORM_FIELDS = ("id_number", "phone", "full_name", "date_of_birth", "venue_id", "from", "to", "second_degree")


MAX_VENUE_CHOICES = 300  # more venues than this: the form asks for the venue's id instead of a list


def _venues(engine: Engine) -> list[Any]:
    """The venues for the form's list (one more than the list shows: the template then asks for an id)."""
    query = select(venues.c.id, venues.c.name).order_by(venues.c.name, venues.c.id).limit(MAX_VENUE_CHOICES + 1)
    with engine.connect() as conn:
        return list(conn.execute(query))


def _default_window(request: Request) -> dict[str, str]:
    zone, now = get_settings(request).zone, now_utc(request)
    fmt = "%Y-%m-%dT%H:%M"
    start, end = now - DEFAULT_WINDOW, now + DEFAULT_AHEAD
    return {"from": start.astimezone(zone).strftime(fmt), "to": end.astimezone(zone).strftime(fmt)}


def _page(request: Request, engine: Engine, form: dict[str, str], status_code: int = 200, **extra: Any) -> HTMLResponse:
    return render(
        request,
        "trace.html",
        status_code,
        form=form,
        venues=_venues(engine),
        certainty=CERTAINTY,
        **extra,
    )


@router.get("/console/trace", response_class=HTMLResponse)
def trace_form(request: Request, _user: AuthorityUser, engine: EngineDep) -> HTMLResponse:
    return _page(request, engine, _default_window(request))


def _traced(engine: Engine, query: TraceQuery, request: Request, user: ConsoleUser, action: str) -> TraceResult:
    settings = get_settings(request)
    with engine.begin() as conn:
        result = run_query(conn, query, settings.trace)
        audit = query.audit_json()
        record_audit(conn, user, action, audit, result.people_count, at=now_utc(request), client=client_key(request))
    return result


def _query(request: Request, form: dict[str, str]) -> TraceQuery:
    return parse_query(form, get_settings(request).zone, now_utc(request))


@router.post("/console/trace", response_class=HTMLResponse)
async def trace_results(request: Request, user: AuthorityUser, engine: EngineDep, form: CheckedForm) -> HTMLResponse:
    kept = {key: form.get(key, "") for key in FORM_FIELDS}
    try:
        query = _query(request, form)
    except SearchError as exc:
        error = exc.vi if request_language(request) == "vi" else exc.en
        return await run_in_threadpool(_page, request, engine, kept, 422, error=error)
    result = await run_in_threadpool(_traced, engine, query, request, user, "trace")
    zone = get_settings(request).zone
    timelines = [visit_timeline(visit, zone) for visit in result.visits if visit.contacts or query.mode != "venue"]
    return await run_in_threadpool(_page, request, engine, kept, result=result, timelines=timelines)


@router.post("/console/trace/export")
async def trace_export(request: Request, user: AuthorityUser, engine: EngineDep, form: CheckedForm) -> Response:
    try:
        query = _query(request, form)
    except SearchError as exc:
        return Response(exc.en, status_code=422, media_type="text/plain; charset=utf-8")
    result = await run_in_threadpool(_traced, engine, query, request, user, "trace_export")
    zone = get_settings(request).zone
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if form.get("format") == "xlsx":
        headers["Content-Disposition"] = f'attachment; filename="truy-vet-{stamp}.xlsx"'
        body = await run_in_threadpool(trace_xlsx, result, zone)
        return Response(
            body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers=headers
        )
    headers["Content-Disposition"] = f'attachment; filename="truy-vet-{stamp}.csv"'
    return Response(b"".join(csv_chunks(result, zone)), media_type="text/csv; charset=utf-8", headers=headers)
