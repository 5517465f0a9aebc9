"""The fleet page (admin): every kiosk with its state and why, silent ones at the top; enrol a new kiosk (its
one-time code and QR on screen, printable) and revoke one."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from server import admin
from server.card import qr_png
from server.console import venue_texts  # noqa: F401  (the words of these pages)
from server.console.accounts import ConsoleUser
from server.console.station_form import FormProblem
from server.console.web import CheckedForm, now_utc, render, request_language, require_console_user
from server.fleet import fleet_state
from server.models import venues
from server.routes.deps import EngineDep
from server.token_admin import revoke_kiosk
from sync.protocol_pull import enrollment_qr_payload

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[ConsoleUser, Depends(require_console_user("admin"))]
KioskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DEFAULT_CODE_HOURS = 7 * 24


def age_text(seconds: float | None, lang: str) -> str:
    """A duration as people say it: "45 s", "12 phút", "3 giờ", "2 ngày"; "–" when unknown."""
    if seconds is None:
        return "–"
    units = (("ngày", "d", 86_400), ("giờ", "h", 3_600), ("phút", "min", 60))
    for vi, en, size in units:
        if seconds >= size:
            return f"{int(seconds // size)} {vi if lang == 'vi' else en}"
    return f"{int(seconds)} s"


def offset_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:+.0f} s" if abs(seconds) < 120 else f"{seconds / 60:+.0f} min"


def _venue_choices(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(venues.c.id, venues.c.name).order_by(venues.c.id)))


def _fleet_page(request: Request, engine: Any, status_code: int = 200, **extra: Any) -> HTMLResponse:
    lang = request_language(request)
    with engine.connect() as conn:
        kiosks = fleet_state(conn, now_utc(request))
    return render(
        request,
        "fleet.html",
        status_code=status_code,
        kiosks=kiosks,
        venues=_venue_choices(engine),
        age=lambda seconds: age_text(seconds, lang),
        offset=offset_text,
        server_url=str(request.base_url).rstrip("/"),
        default_hours=DEFAULT_CODE_HOURS,
        **extra,
    )


@router.get("/console/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, user: AdminUser, engine: EngineDep) -> HTMLResponse:
    revoked = request.query_params.get("revoked", "")
    return _fleet_page(request, engine, revoked=revoked if revoked.isdigit() else "")


def _enrol_request(form: dict[str, str]) -> tuple[int, str, int, str]:
    venue = form.get("venue_id", "")
    hours = form.get("valid_hours", "").strip() or str(DEFAULT_CODE_HOURS)
    if not venue.isdigit():
        raise FormProblem("Chọn địa điểm.", "Choose a venue.")
    if not hours.isdigit() or not 1 <= int(hours) <= 24 * 90:
        raise FormProblem("Thời hạn mã: từ 1 đến 2160 giờ.", "Code valid for: 1 to 2160 hours.")
    name = " ".join(form.get("name", "").split())[:200]
    url = form.get("server_url", "").strip()
    if url and not url.startswith(("https://", "http://")):
        raise FormProblem("Địa chỉ máy chủ phải bắt đầu bằng https://", "The server address must start with https://")
    return int(venue), name, int(hours), url[:500]


@router.post("/console/fleet/enrol", response_class=HTMLResponse)
def enrol_kiosk(request: Request, user: AdminUser, form: CheckedForm, engine: EngineDep) -> Response:
    lang = request_language(request)
    try:
        venue_id, name, hours, url = _enrol_request(form)
        kiosk_id, code = admin.add_kiosk(engine, venue_id, name, timedelta(hours=hours))
    except FormProblem as problem:
        return _fleet_page(request, engine, status_code=422, enrol_error=problem.text(lang))
    except admin.NotFound:
        missing = FormProblem("Không có địa điểm này.", "No such venue.")
        return _fleet_page(request, engine, status_code=422, enrol_error=missing.text(lang))
    payload = enrollment_qr_payload(code, url or None)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(payload, box_size=8)).decode()
    venue_name = next((v.name for v in _venue_choices(engine) if v.id == venue_id), "")
    expires = now_utc(request) + timedelta(hours=hours)
    return render(
        request,
        "enrolled.html",
        kiosk_id=kiosk_id,
        name=name,
        venue_name=venue_name,
        code="-".join(code[i : i + 4] for i in range(0, len(code), 4)),  # read aloud in fours; dashes are ignored
        qr=qr,
        server_url=url,
        expires=expires,
    )


@router.post("/console/fleet/{kiosk_id}/revoke", response_class=HTMLResponse)
def revoke(request: Request, kiosk_id: KioskId, user: AdminUser, form: CheckedForm, engine: EngineDep) -> Response:
    """First the question (which kiosk, which venue), then, with `confirm=yes`, the revocation: a door's station
    stops syncing until it is enrolled again, so one stray tap must not do it."""
    with engine.connect() as conn:
        kiosk = next((k for k in fleet_state(conn, now_utc(request)) if k.kiosk_id == kiosk_id), None)
    if kiosk is None:
        return _fleet_page(request, engine, status_code=404)
    if form.get("confirm") != "yes":
        return render(request, "revoke.html", kiosk=kiosk)
    revoke_kiosk(engine, kiosk_id, now_utc(request))
    return RedirectResponse(f"/console/fleet?revoked={kiosk_id}", status_code=303)
