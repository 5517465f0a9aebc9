"""Venue pages (a manager sees their own venue, an admin all): occupancy and who is inside, the printable
evacuation list, entries per hour and per day (server-drawn SVG), the station settings form and the COVID safety
self-assessment. Views of who is inside are audited (they show names)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine, select

from kiosk.privacy import mask_id
from kiosk.vocabulary import CapacityAction, CredentialKind, QuestionnairePolicy, StationMode, words
from server import admin, station_settings
from server.console import venue_texts  # noqa: F401  (the words of these pages)
from server.console.accounts import ConsoleUser
from server.console.audit import record_audit
from server.console.charts import bar_chart
from server.console.station_form import FormProblem, safety_answers, station_changes
from server.console.web import CheckedForm, ConsoleForbidden, now_utc, render, request_language, require_console_user
from server.fleet import fleet_state
from server.models import venues
from server.occupancy import entries_per_day, entries_per_hour, inside_now, occupancy
from server.routes.deps import EngineDep, client_key, get_settings
from server.safety import CRITERIA, latest_assessment, record_assessment

router = APIRouter(include_in_schema=False)
VenueUser = Annotated[ConsoleUser, Depends(require_console_user("manager", "admin"))]
VenueId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CHOICES = {
    "mode": words(StationMode),
    "capacity_action": words(CapacityAction),
    "questionnaire_policy": words(QuestionnairePolicy),
    "credentials": words(CredentialKind),
}


def _allowed(user: ConsoleUser, engine: Engine, venue_id: int) -> Any:
    """The venue's row, if this user may see it; a 403 page otherwise (also for a venue that does not exist,
    so a manager cannot probe which ids exist)."""
    if not user.may_read_venue(venue_id):
        raise ConsoleForbidden()
    with engine.connect() as conn:
        try:
            return admin.venue_row(conn, venue_id)
        except admin.NotFound:
            raise ConsoleForbidden() from None


@router.get("/console/venues", response_class=HTMLResponse)
def venue_list(request: Request, user: VenueUser, engine: EngineDep) -> Response:
    if user.role == "manager" and user.venue_id is not None:
        return RedirectResponse(f"/console/venues/{user.venue_id}", status_code=303)
    now = now_utc(request)
    with engine.connect() as conn:
        rows = conn.execute(select(venues.c.id, venues.c.name, venues.c.safety_level).order_by(venues.c.id)).all()
        listed = [
            {"id": r.id, "name": r.name, "safety": r.safety_level, "inside": occupancy(conn, r.id, now)} for r in rows
        ]
    return render(request, "venues.html", venues=listed)


def _charts(conn: Connection, venue_id: int, now: datetime, zone: Any, lang: str) -> dict[str, Any]:
    local_now = now.astimezone(zone)
    hours = entries_per_hour(conn, venue_id, local_now.date(), zone)
    week = entries_per_day(conn, venue_id, local_now.date(), zone)
    hour_title = "Lượt vào theo giờ hôm nay" if lang == "vi" else "Entries per hour today"
    day_title = "Lượt vào 7 ngày qua" if lang == "vi" else "Entries over the last 7 days"
    return {
        "hours_chart": bar_chart(
            hours, [f"{h:02d}" for h in range(24)], title=hour_title, label_every=3, highlight=local_now.hour
        ),
        "week_chart": bar_chart(
            [n for _, n in week], [d.strftime("%d/%m") for d, _ in week], title=day_title, highlight=len(week) - 1
        ),
        "entries_today": sum(hours),
        "entries_week": sum(n for _, n in week),
    }


def _venue_context(request: Request, conn: Connection, venue: Any, user: ConsoleUser) -> dict[str, Any]:
    now = now_utc(request)
    zone = get_settings(request).zone
    stored = json.loads(venue.station_config or "{}")
    inside = inside_now(conn, venue.id, now)
    record_audit(conn, user, "presence_view", {"venue_id": venue.id}, len(inside), at=now, client=client_key(request))
    return {
        "venue": venue,
        "inside": inside,
        "mask_id": mask_id,
        "settings": station_settings.effective(stored),
        "choices": CHOICES,
        "criteria": CRITERIA,
        "assessment": latest_assessment(conn, venue.id),
        "kiosks": fleet_state(conn, now, venue.id),
        **_charts(conn, venue.id, now, zone, request_language(request)),
    }


def _venue_page(request: Request, engine: Engine, venue: Any, user: ConsoleUser, **extra: Any) -> HTMLResponse:
    status_code = extra.pop("status_code", 200)
    with engine.begin() as conn:  # the audit line is written with the read
        context = _venue_context(request, conn, venue, user)
    return render(request, "venue.html", status_code=status_code, **context, **extra)


@router.get("/console/venues/{venue_id}", response_class=HTMLResponse)
def venue_page(request: Request, venue_id: VenueId, user: VenueUser, engine: EngineDep) -> HTMLResponse:
    venue = _allowed(user, engine, venue_id)
    saved = request.query_params.get("saved", "")
    return _venue_page(request, engine, venue, user, saved=saved if saved in ("settings", "safety") else "")


@router.get("/console/venues/{venue_id}/evacuation", response_class=HTMLResponse)
def evacuation_list(request: Request, venue_id: VenueId, user: VenueUser, engine: EngineDep) -> HTMLResponse:
    """Everyone inside now, full names and phones, for a roll-call at the assembly point: made to be printed."""
    venue = _allowed(user, engine, venue_id)
    now = now_utc(request)
    with engine.begin() as conn:
        inside = inside_now(conn, venue.id, now)
        record_audit(
            conn, user, "presence_print", {"venue_id": venue.id}, len(inside), at=now, client=client_key(request)
        )
    return render(request, "evacuation.html", venue=venue, inside=inside, mask_id=mask_id, printed_at=now)


@router.post("/console/venues/{venue_id}/settings", response_class=HTMLResponse)
def save_settings(
    request: Request, venue_id: VenueId, user: VenueUser, form: CheckedForm, engine: EngineDep
) -> Response:
    venue = _allowed(user, engine, venue_id)
    lang = request_language(request)
    try:
        admin.update_station_config(engine, venue_id, station_changes(form))
    except FormProblem as problem:
        return _venue_page(request, engine, venue, user, settings_error=problem.text(lang), status_code=422)
    except admin.Invalid as exc:  # a value the form cannot produce (a hand-made request): the server's words
        return _venue_page(request, engine, venue, user, settings_error=str(exc), status_code=422)
    return RedirectResponse(f"/console/venues/{venue_id}?saved=settings#settings", status_code=303)


@router.post("/console/venues/{venue_id}/safety", response_class=HTMLResponse)
def save_safety(request: Request, venue_id: VenueId, user: VenueUser, form: CheckedForm, engine: EngineDep) -> Response:
    venue = _allowed(user, engine, venue_id)
    lang = request_language(request)
    now = now_utc(request)
    try:
        answers = safety_answers(form)
    except FormProblem as problem:
        return _venue_page(request, engine, venue, user, safety_error=problem.text(lang), status_code=422)
    local_day = now.astimezone(get_settings(request).zone).date()
    record_assessment(engine, venue_id, answers, f"console:{user.username}", now, local_day)
    return RedirectResponse(f"/console/venues/{venue_id}?saved=safety#safety", status_code=303)
